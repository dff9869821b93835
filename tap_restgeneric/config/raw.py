"""The raw config as users write it (JSON/YAML), typed as TypedDicts named after dlt's.

Names and shapes follow dlt's ``dlt/sources/rest_api/typing.py`` (``RESTAPIConfig``,
``ClientConfig``, ``Endpoint``, ``EndpointResource`` …); our dialect's additions (the tap's own
settings, ``secrets``, ``error_handler``, the seed aliases such as ``stop_condition`` or auth
``basic``) are marked. These types describe what a config *claims* to be: resolve checks every
value anyway and reports what does not fit. Any value may also be written as a secret reference
``{"secret": "NAME"}`` (resolved before anything else); ``Secret`` marks the usual places.

The validator's field tables (``CLIENT_FIELDS``, ``RESOURCE_FIELDS``, ``ENDPOINT_FIELDS``,
``INCREMENTAL_FIELDS``, each paginator's and authenticator's ``fields`` …) hold the same keys;
tests/test_config_raw.py fails when one gains a key the other lacks.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict

# ----------------------------------------------------------------------------------------------
# Values


class SecretRef(TypedDict):
    """Our dialect: ``{"secret": "NAME"}``, read from the ``secrets`` setting or the environment."""

    secret: str


Secret = str | SecretRef
"""A credential: the value itself or a reference to a named secret."""

JsonPath = str
"""A JSONPath such as ``data``, ``items[*].data`` or ``['@odata.nextLink']``."""

HTTPMethodBasic = Literal["GET", "POST"]
WriteDispositionName = Literal["append", "replace", "merge"]
ColumnSchema = dict[str, Any]
"""dlt's ``TColumnSchema``; resolve reads ``name``, ``data_type``, ``nullable``, ``description``."""
AnySchemaColumns = dict[str, ColumnSchema] | list[ColumnSchema]
"""dlt's ``columns``: hints by column name, or a list of hints with ``name``."""

# ----------------------------------------------------------------------------------------------
# Paginators (one TypedDict per ``type``; a registered type without one here is still accepted)

PaginatorType = Literal[
    "json_link",
    "json_response",  # dlt's deprecated alias of json_link
    "header_link",
    "header_cursor",
    "auto",
    "single_page",
    "cursor",
    "offset",
    "page_number",
]


class PaginatorTypeConfig(TypedDict, total=False):
    """A registered type with no TypedDict here (``next_page``): ``type`` and its class's options.

    Adding a paginator takes its class and registry line only; a TypedDict here is optional.
    """

    type: Required[str]


class SinglePagePaginatorConfig(TypedDict):
    """``single_page``: one request."""

    type: Literal["single_page"]


class AutoPaginatorConfig(TypedDict):
    """``auto``: detect the style from the first response (the default)."""

    type: Literal["auto"]


class RangePaginatorConfig(TypedDict, total=False):
    """Options shared by ``page_number`` and ``offset``."""

    total_path: JsonPath | None
    total_header: str | None  # our dialect: the total in a response header
    stop_after_empty_page: bool
    has_more_path: JsonPath | None
    limit_param: str | None
    limit_body_path: str | None
    stop_condition: str | None  # our dialect (seeds): a template that stops paging when true


class PageNumberPaginatorConfig(RangePaginatorConfig, total=False):
    """``page_number``: a page number in a query param or a JSON body path."""

    type: Required[Literal["page_number"]]
    base_page: int
    page: int | None
    page_param: str | None
    page_body_path: str | None
    maximum_page: int | None
    start_from_page: int | None  # our dialect (seeds): base_page and page
    limit: int | None  # our dialect (seeds): the page size, sent as limit_param
    total_counts: Literal["pages", "records"]  # our dialect: what total_path counts


class OffsetPaginatorConfig(RangePaginatorConfig, total=False):
    """``offset``: an item offset and a page size (``limit``)."""

    type: Required[Literal["offset"]]
    limit: Required[int]
    offset: int
    offset_param: str | None
    offset_body_path: str | None
    maximum_offset: int | None


class JSONResponseCursorPaginatorConfig(TypedDict, total=False):
    """``cursor``: a value read from the body, sent back as a query param or body path."""

    type: Required[Literal["cursor"]]
    cursor_path: JsonPath
    cursor_param: str | None
    cursor_body_path: str | None
    stop_after_empty_page: bool
    has_more_path: JsonPath | None
    limit: int | None  # our dialect (seeds): the page size, sent as limit_param
    limit_param: str | None  # our dialect (seeds)
    stop_condition: str | None  # our dialect (seeds)


class HeaderCursorPaginatorConfig(TypedDict, total=False):
    """``header_cursor``: a response header's value sent back as a query param."""

    type: Required[Literal["header_cursor"]]
    cursor_key: str
    cursor_param: str
    stop_condition: str | None  # our dialect (seeds)


class JSONLinkPaginatorConfig(TypedDict, total=False):
    """``json_link`` (dlt's deprecated ``json_response``): the next URL read from the body."""

    type: Required[Literal["json_link", "json_response"]]
    next_url_path: JsonPath
    relative_to: Literal["url", "base_url"]  # our dialect: what a relative link is joined to
    stop_condition: str | None  # our dialect (seeds)


class HeaderLinkPaginatorConfig(TypedDict, total=False):
    """``header_link``: the next URL from the RFC 8288 ``Link`` header."""

    type: Required[Literal["header_link"]]
    links_next_key: str
    stop_condition: str | None  # our dialect (seeds)


PaginatorConfig = (
    PaginatorType
    | SinglePagePaginatorConfig
    | AutoPaginatorConfig
    | PageNumberPaginatorConfig
    | OffsetPaginatorConfig
    | JSONResponseCursorPaginatorConfig
    | HeaderCursorPaginatorConfig
    | JSONLinkPaginatorConfig
    | HeaderLinkPaginatorConfig
    | PaginatorTypeConfig
)
"""A paginator: a type name (defaults for the rest), or an object with ``type``."""

# ----------------------------------------------------------------------------------------------
# Auth

AuthType = Literal["bearer", "api_key", "http_basic", "basic", "oauth2_client_credentials"]


class BearerTokenAuthConfig(TypedDict, total=False):
    """``bearer``: ``Authorization: Bearer <token>``; ``type`` may be left out."""

    type: Literal["bearer"]
    token: Required[Secret]


class ApiKeyAuthConfig(TypedDict, total=False):
    """``api_key``: the key in a header (no prefix), a query parameter or a cookie."""

    type: Required[Literal["api_key"]]
    name: str
    api_key: Required[Secret]
    location: Literal["header", "query", "param", "cookie"]


class HttpBasicAuthConfig(TypedDict, total=False):
    """``http_basic`` (our dialect also ``basic``, and a missing password is empty)."""

    type: Required[Literal["http_basic", "basic"]]
    username: Required[Secret]
    password: Secret


class OAuth2ClientCredentialsConfig(TypedDict, total=False):
    """``oauth2_client_credentials``: a token fetched from ``access_token_url`` and refreshed."""

    type: Required[Literal["oauth2_client_credentials"]]
    access_token_url: Required[str]
    client_id: Required[Secret]
    client_secret: Required[Secret]
    access_token_request_data: dict[str, Any]
    default_token_expiration: int
    access_token: Secret | None


AuthConfig = (
    AuthType
    | BearerTokenAuthConfig
    | ApiKeyAuthConfig
    | HttpBasicAuthConfig
    | OAuth2ClientCredentialsConfig
)
"""Auth: a type name (its fields read from secrets), or an object (``type`` defaults to bearer)."""

# ----------------------------------------------------------------------------------------------
# Endpoint parts


class ErrorHandlerConfig(TypedDict, total=False):
    """Our dialect (seeds): retries for a client or an endpoint."""

    retry_on_status_codes: list[int] | None
    max_retries: int
    backoff_factor: float
    max_retry_delay: float


class ResponseActionConfig(TypedDict, total=False):
    """dlt's ``ResponseActionDict`` (dicts only: callables cannot be written in JSON)."""

    status_code: int | None
    content: str | None
    action: Literal["ignore", "retry", "fail"]  # retry and fail: our dialect


class IncrementalArgs(TypedDict, total=False):
    """The incremental options shared by ``endpoint.incremental`` and a param-level one."""

    cursor_path: JsonPath
    initial_value: Any
    end_value: Any
    lag: float
    on_cursor_value_missing: Literal["raise", "include", "exclude"]
    row_order: Literal["asc", "desc"] | None
    range_start: Literal["closed", "open"]
    range_end: Literal["open", "closed"]
    convert: str | None  # dlt: a callable; ours: a format name such as 'epoch' or '%Y-%m-%d'
    window_size: str | None  # our dialect: an ISO 8601 duration ('P7D')
    primary_key: str | list[str] | None
    last_value_func: Literal["max"]
    allow_external_schedulers: bool | None
    per_parent: bool  # our dialect: one bookmark per parent record


class IncrementalConfig(IncrementalArgs, total=False):
    """``endpoint.incremental``: the cursor and the params that receive its window."""

    start_param: str | None
    end_param: str | None


class IncrementalParamConfig(IncrementalArgs, total=False):
    """A param-level incremental: ``params: {"since": {"type": "incremental", ...}}``."""

    type: Required[Literal["incremental"]]


class ResolveParamConfig(TypedDict):
    """dlt's legacy dependent param: a parent ``resource``'s ``field``, bound in the path."""

    type: Literal["resolve"]
    resource: str
    field: JsonPath


ParamValue = (
    str | int | float | bool | list[Any] | ResolveParamConfig | IncrementalParamConfig | None
)


class EndpointConfig(TypedDict, total=False):
    """dlt's ``Endpoint``: one request sequence (``path`` defaults to the resource name)."""

    path: str | None
    method: HTTPMethodBasic
    params: dict[str, ParamValue]
    json: dict[str, Any] | None
    data: Any
    headers: dict[str, str]
    paginator: PaginatorConfig | None
    data_selector: JsonPath | list[Any] | None  # our dialect (seeds): [] for the whole body
    response_actions: list[ResponseActionConfig]
    incremental: IncrementalConfig | None
    auth: AuthConfig | None
    error_handler: ErrorHandlerConfig | None  # our dialect (seeds)
    on_unproven_end: Literal["fail", "stop"]  # our dialect: a last page paging cannot prove


# ----------------------------------------------------------------------------------------------
# Resources


class SeedFieldConfig(TypedDict, total=False):
    """Our dialect (seeds): one field of a ``{"fields": [...]}`` schema."""

    name: Required[str]
    type: Required[str]
    nullable: bool
    format: str | None
    description: str | None


class SeedSchemaConfig(TypedDict, total=False):
    """Our dialect (seeds): a schema declared as a list of fields."""

    fields: Required[list[SeedFieldConfig]]
    additional_properties: bool


SchemaConfig = SeedSchemaConfig | dict[str, Any] | str
"""Our dialect: a JSON Schema object, seed-style fields, or a JSON/YAML schema file path."""


class ResourceBase(TypedDict, total=False):
    """dlt's ``EndpointResourceBase``: every resource key but ``name`` (``resource_defaults``)."""

    endpoint: str | EndpointConfig | None
    primary_key: str | list[str] | None
    selected: bool
    schema: SchemaConfig | None  # our dialect
    schema_drift: Literal["evolve", "freeze", "fail"] | None  # our dialect
    table_name: str | None
    write_disposition: WriteDispositionName | dict[str, Any] | None
    include_from_parent: list[str] | None
    processing_steps: list[dict[str, Any]] | None  # Python only: rejected with a hint
    # dlt resource hints, accepted for compatibility (they describe dlt's loading)
    merge_key: str | list[str] | None
    columns: AnySchemaColumns | None
    schema_contract: str | dict[str, Any] | None
    table_format: str | None
    file_format: str | None
    references: list[dict[str, Any]] | None
    parent_table_name: str | None
    nested_hints: dict[str, Any] | None
    max_table_nesting: int | None
    parallelized: bool | None


class ResourceConfig(ResourceBase, total=False):
    """dlt's ``EndpointResource``: a named resource (a bare string is its name)."""

    name: Required[str]


# ----------------------------------------------------------------------------------------------
# The whole config


class ClientConfig(TypedDict, total=False):
    """dlt's ``ClientConfig``: the API's base URL and what every endpoint inherits."""

    base_url: Required[str]
    headers: dict[str, str]
    auth: AuthConfig | None
    paginator: PaginatorConfig | None
    error_handler: ErrorHandlerConfig | None  # our dialect (seeds)
    session: object  # Python only: rejected with a hint


class TapSettings(TypedDict, total=False):
    """Our dialect: the tap's own scalar settings."""

    start_date: str | None
    request_timeout: float
    schema_drift: Literal["evolve", "freeze", "fail"]
    schema_sample_pages: int
    schema_sample_records: int
    ca_bundle: str | None
    max_concurrency: int


class RestApiConfig(TapSettings, total=False):
    """dlt's ``RESTAPIConfig`` plus our settings and ``secrets`` (the SDK adds its built-ins)."""

    client: Required[ClientConfig]
    resources: Required[list[str | ResourceConfig]]
    resource_defaults: ResourceBase | None
    secrets: dict[str, Any]  # our dialect: values for {"secret": "NAME"} references
