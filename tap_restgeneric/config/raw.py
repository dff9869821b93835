"""The raw config as users write it (JSON/YAML), typed as TypedDicts named after dlt's.

Names and shapes follow dlt's ``dlt/sources/rest_api/typing.py`` (``RESTAPIConfig``,
``ClientConfig``, ``Endpoint``, ``EndpointResource`` …); our dialect's additions (the tap's own
settings, ``secrets``, ``error_handler``, the seed aliases such as ``stop_condition`` or auth
``basic``) are marked. These types describe what a config *claims* to be: resolve checks every
value anyway and reports what does not fit. Any value may also be written as a secret reference
``{"secret": "NAME"}`` (resolved before anything else); ``Secret`` marks the usual places.

The validator's field tables (``CLIENT_FIELDS``, ``RESOURCE_FIELDS``, ``ENDPOINT_FIELDS``,
``INCREMENTAL_FIELDS``, each paginator's and authenticator's ``fields`` …) hold the same keys;
tests/test_config_raw.py fails when one gains a key the other lacks. The paginator and auth
TypedDicts live in raw_components.py and are re-exported here.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict

from tap_restgeneric.config.raw_components import (
    ApiKeyAuthConfig,
    AuthConfig,
    AuthType,
    AutoPaginatorConfig,
    BearerTokenAuthConfig,
    HeaderCursorPaginatorConfig,
    HeaderLinkPaginatorConfig,
    HttpBasicAuthConfig,
    JSONLinkPaginatorConfig,
    JsonPath,
    JSONResponseCursorPaginatorConfig,
    OAuth2ClientCredentialsConfig,
    OffsetPaginatorConfig,
    PageNumberPaginatorConfig,
    PaginatorConfig,
    PaginatorType,
    PaginatorTypeConfig,
    RangePaginatorConfig,
    Secret,
    SecretRef,
    SinglePagePaginatorConfig,
)

__all__ = [  # with the paginator and auth types from raw_components
    "AnySchemaColumns",
    "ApiKeyAuthConfig",
    "AuthConfig",
    "AuthType",
    "AutoPaginatorConfig",
    "BearerTokenAuthConfig",
    "ClientConfig",
    "ColumnSchema",
    "EndpointConfig",
    "ErrorHandlerConfig",
    "HTTPMethodBasic",
    "HeaderCursorPaginatorConfig",
    "HeaderLinkPaginatorConfig",
    "HttpBasicAuthConfig",
    "IncrementalArgs",
    "IncrementalConfig",
    "IncrementalParamConfig",
    "JSONLinkPaginatorConfig",
    "JSONResponseCursorPaginatorConfig",
    "JsonPath",
    "OAuth2ClientCredentialsConfig",
    "OffsetPaginatorConfig",
    "PageNumberPaginatorConfig",
    "PaginatorConfig",
    "PaginatorType",
    "PaginatorTypeConfig",
    "ParamValue",
    "RangePaginatorConfig",
    "ResolveParamConfig",
    "ResourceBase",
    "ResourceConfig",
    "ResponseActionConfig",
    "RestApiConfig",
    "SchemaConfig",
    "Secret",
    "SecretRef",
    "SeedFieldConfig",
    "SeedSchemaConfig",
    "SinglePagePaginatorConfig",
    "TapSettings",
    "WriteDispositionName",
]

# ----------------------------------------------------------------------------------------------
# Values (SecretRef, Secret and JsonPath live in raw_components)

HTTPMethodBasic = Literal["GET", "POST"]
WriteDispositionName = Literal["append", "replace", "merge"]
ColumnSchema = dict[str, Any]
"""dlt's ``TColumnSchema``; resolve reads ``name``, ``data_type``, ``nullable``, ``description``."""
AnySchemaColumns = dict[str, ColumnSchema] | list[ColumnSchema]
"""dlt's ``columns``: hints by column name, or a list of hints with ``name``."""

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
    requests_per_second: float | None


class RestApiConfig(TapSettings, total=False):
    """dlt's ``RESTAPIConfig`` plus our settings and ``secrets`` (the SDK adds its built-ins)."""

    client: Required[ClientConfig]
    resources: Required[list[str | ResourceConfig]]
    resource_defaults: ResourceBase | None
    secrets: dict[str, Any]  # our dialect: values for {"secret": "NAME"} references
