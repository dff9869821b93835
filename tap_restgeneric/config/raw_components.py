"""Raw paginator and auth configs as users write them: TypedDicts per ``type``, after dlt's.

Re-exported by config/raw.py (import them from there). Each TypedDict holds its class's
``fields`` plus ``type``; tests/test_config_raw.py checks that they agree.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict


class SecretRef(TypedDict):
    """Our dialect: ``{"secret": "NAME"}``, read from the ``secrets`` setting or the environment."""

    secret: str


Secret = str | SecretRef
"""A credential: the value itself or a reference to a named secret."""

JsonPath = str
"""A JSONPath such as ``data``, ``items[*].data`` or ``['@odata.nextLink']``."""

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
