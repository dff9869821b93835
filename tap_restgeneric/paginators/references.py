"""Reference paginators: single_page, cursor, header_cursor, json_link and header_link."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urljoin

from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.config.options import option
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.paginators.base import (
    PAGINATORS,
    Page,
    Paginator,
    Stop,
    StopOptions,
    has_more,
    read_path,
    set_body_path,
)


@PAGINATORS.register("single_page")
class SinglePagePaginator(Paginator):
    """``single_page``: one request, whatever the response says."""

    def next_token(self, page: Page, token: Any) -> Any:
        """Never continue."""
        return Stop("the endpoint is single_page")


@dataclass(frozen=True, eq=False)
class CursorOptions(StopOptions):
    """``cursor``: where the cursor is read, where it is sent, and the page size."""

    cursor_path: str = option("name", "cursors.next", nullable=False, jsonpath=True)
    cursor_param: str | None = option("name")
    cursor_body_path: str | None = option("name")
    stop_after_empty_page: bool = option("boolean", False, nullable=False)
    has_more_path: str | None = option("string", jsonpath=True)
    limit: int | None = option("integer")
    limit_param: str = option("name")

    @classmethod
    def normalize(
        cls, values: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Default cursor_param to ``cursor`` unless the cursor goes into the body."""
        super().normalize(values, raw, path, errors)
        if values.get("cursor_param") and values.get("cursor_body_path"):
            errors.add(
                path, "'cursor_param' and 'cursor_body_path' are both set", "only one of them"
            )
        if not values.get("cursor_body_path"):
            values["cursor_param"] = values.get("cursor_param") or "cursor"
        values["limit_param"] = values.get("limit_param") or "limit"


@PAGINATORS.register("cursor")
class CursorPaginator(Paginator):
    """``cursor``: a value read from the body is sent back as a query param or body path."""

    options_type = CursorOptions
    options: CursorOptions

    def apply(self, request: HTTPRequest, token: Any) -> None:
        """Send the page size (if configured) and the cursor (after the first page)."""
        options = self.options
        if options.limit is not None:
            request.params[options.limit_param] = options.limit
        if token is None:
            return
        if options.cursor_body_path:
            set_body_path(request, options.cursor_body_path, token)
        elif options.cursor_param:
            request.params[options.cursor_param] = token

    def explain(self, token: Any) -> str:
        """``next=abc: the cursor at 'cursors.next'``."""
        where = self.options.cursor_param or self.options.cursor_body_path
        return f"{where}={token}: the cursor at {self.options.cursor_path!r}"

    def ends_on_empty_page(self) -> bool:
        """With stop_after_empty_page."""
        return self.options.stop_after_empty_page

    def next_token(self, page: Page, token: Any) -> Any:
        """Stop on an empty page (if asked), has_more false, or a missing/empty cursor."""
        if self.options.stop_after_empty_page and not page.records:
            return Stop("the page was empty")
        path = self.options.has_more_path
        if path and not has_more(page, path):
            return Stop(f"has_more_path {path!r} is false")
        cursor = read_path(page, self.options.cursor_path)
        if not cursor:
            return Stop(f"no next cursor at {self.options.cursor_path!r}")
        return cursor


@dataclass(frozen=True, eq=False)
class HeaderCursorOptions(StopOptions):
    """``header_cursor``: the response header read and the query param sent."""

    cursor_key: str = option("name", "next", nullable=False)
    cursor_param: str = option("name", "cursor", nullable=False)


@PAGINATORS.register("header_cursor")
class HeaderCursorPaginator(Paginator):
    """``header_cursor``: a response header's value is sent back as a query param."""

    options_type = HeaderCursorOptions
    options: HeaderCursorOptions

    def apply(self, request: HTTPRequest, token: Any) -> None:
        """Send the cursor after the first page."""
        if token is not None:
            request.params[self.options.cursor_param] = token

    def explain(self, token: Any) -> str:
        """``cursor=abc: the 'next' response header``."""
        key = self.options.cursor_key
        return f"{self.options.cursor_param}={token}: the {key!r} response header"

    def next_token(self, page: Page, token: Any) -> Any:
        """Stop when the header is absent or empty."""
        value = page.response.headers.get(self.options.cursor_key)
        return value or Stop(f"no {self.options.cursor_key!r} header")


class LinkPaginator(Paginator):
    """Next-URL paginators: the next request goes to the link, without the original params."""

    def apply(self, request: HTTPRequest, token: Any) -> None:
        """Replace the URL by the link; its query string carries the params."""
        if token is not None:
            request.url = token
            request.params = {}

    def next_token(self, page: Page, token: Any) -> Any:
        """Resolve the link against the current URL (or base_url), or stop when there is none."""
        link = self.link(page)
        if link is None:
            return Stop(self.missing)
        return urljoin(self.resolve_against(page), str(link))

    def resolve_against(self, page: Page) -> str:
        """The URL a relative link is resolved against: the current one."""
        return page.response.url or page.request.url

    missing: ClassVar[str]

    @abstractmethod
    def link(self, page: Page) -> Any:
        """Read the raw next link from the page."""


@dataclass(frozen=True, eq=False)
class JSONLinkOptions(StopOptions):
    """``json_link``: where the next URL is read, and what a relative one is relative to."""

    next_url_path: str = option("name", "next", nullable=False, jsonpath=True)
    relative_to: str = option("string", "url", nullable=False, choices=("url", "base_url"))


@PAGINATORS.register("json_link", "json_response")
class JSONLinkPaginator(LinkPaginator):
    """``json_link``: the next URL is read from the body (``next_url_path``)."""

    options_type = JSONLinkOptions
    options: JSONLinkOptions
    missing = "no next URL in the response"

    def explain(self, token: Any) -> str:
        """``<url>: the next URL at 'next'``."""
        return f"{token}: the next URL at {self.options.next_url_path!r}"

    def resolve_against(self, page: Page) -> str:
        """The current URL, or the client's base_url with ``relative_to: base_url``."""
        if self.options.relative_to == "base_url":
            return self.base_url.rstrip("/") + "/"
        return super().resolve_against(page)

    def link(self, page: Page) -> Any:
        """The value at next_url_path."""
        return read_path(page, self.options.next_url_path)


@dataclass(frozen=True, eq=False)
class HeaderLinkOptions(StopOptions):
    """``header_link``: the rel of the ``Link`` header entry to follow."""

    links_next_key: str = option("name", "next", nullable=False)


@PAGINATORS.register("header_link")
class HeaderLinkPaginator(LinkPaginator):
    """``header_link``: the next URL is the RFC 8288 ``Link`` header entry with rel=next."""

    options_type = HeaderLinkOptions
    options: HeaderLinkOptions
    missing = "no next link in the Link header"

    def explain(self, token: Any) -> str:
        """``<url>: the Link header's rel='next'``."""
        return f"{token}: the Link header's rel={self.options.links_next_key!r}"

    def link(self, page: Page) -> Any:
        """The URL of the configured rel in the Link header."""
        return page.response.links.get(self.options.links_next_key, {}).get("url")
