"""Reference paginators: single_page, cursor, header_cursor, json_link and header_link."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urljoin

from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.config.fields import Field
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.paginators.base import (
    PAGINATORS,
    STOP_CONDITION,
    Page,
    Paginator,
    Stop,
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


@PAGINATORS.register("cursor")
class CursorPaginator(Paginator):
    """``cursor``: a value read from the body is sent back as a query param or body path."""

    fields: ClassVar[dict[str, Field]] = {
        "cursor_path": Field("name", "cursors.next", nullable=False),
        "cursor_param": Field("name"),
        "cursor_body_path": Field("name"),
        "stop_after_empty_page": Field("boolean", False, nullable=False),
        "has_more_path": Field("string"),
        "limit": Field("integer"),
        "limit_param": Field("name"),
        **STOP_CONDITION,
    }

    @classmethod
    def normalize(
        cls, options: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Default cursor_param to ``cursor`` unless the cursor goes into the body."""
        super().normalize(options, raw, path, errors)
        if options.get("cursor_param") and options.get("cursor_body_path"):
            errors.add(
                path, "'cursor_param' and 'cursor_body_path' are both set", "only one of them"
            )
        if not options.get("cursor_body_path"):
            options["cursor_param"] = options.get("cursor_param") or "cursor"
        options["limit_param"] = options.get("limit_param") or "limit"

    def apply(self, request: HTTPRequest, token: Any) -> None:
        """Send the page size (if configured) and the cursor (after the first page)."""
        if self.options.get("limit") is not None:
            request.params[self.options["limit_param"]] = self.options["limit"]
        if token is None:
            return
        if self.options.get("cursor_body_path"):
            set_body_path(request, self.options["cursor_body_path"], token)
        else:
            request.params[self.options["cursor_param"]] = token

    def explain(self, token: Any) -> str:
        """``next=abc: the cursor at 'cursors.next'``."""
        where = self.options.get("cursor_param") or self.options.get("cursor_body_path")
        return f"{where}={token}: the cursor at {self.options['cursor_path']!r}"

    def next_token(self, page: Page, token: Any) -> Any:
        """Stop on an empty page (if asked), has_more false, or a missing/empty cursor."""
        if self.options["stop_after_empty_page"] and not page.records:
            return Stop("the page was empty")
        path = self.options.get("has_more_path")
        if path and not has_more(page, path):
            return Stop(f"has_more_path {path!r} is false")
        cursor = read_path(page, self.options["cursor_path"])
        if not cursor:
            return Stop(f"no next cursor at {self.options['cursor_path']!r}")
        return cursor


@PAGINATORS.register("header_cursor")
class HeaderCursorPaginator(Paginator):
    """``header_cursor``: a response header's value is sent back as a query param."""

    fields: ClassVar[dict[str, Field]] = {
        "cursor_key": Field("name", "next", nullable=False),
        "cursor_param": Field("name", "cursor", nullable=False),
        **STOP_CONDITION,
    }

    def apply(self, request: HTTPRequest, token: Any) -> None:
        """Send the cursor after the first page."""
        if token is not None:
            request.params[self.options["cursor_param"]] = token

    def explain(self, token: Any) -> str:
        """``cursor=abc: the 'next' response header``."""
        key = self.options["cursor_key"]
        return f"{self.options['cursor_param']}={token}: the {key!r} response header"

    def next_token(self, page: Page, token: Any) -> Any:
        """Stop when the header is absent or empty."""
        value = page.response.headers.get(self.options["cursor_key"])
        return value or Stop(f"no {self.options['cursor_key']!r} header")


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
        base = page.response.url or page.request.url
        if self.options.get("relative_to") == "base_url":
            base = self.options["base_url"].rstrip("/") + "/"
        return urljoin(base, str(link))

    missing: ClassVar[str]

    @abstractmethod
    def link(self, page: Page) -> Any:
        """Read the raw next link from the page."""


@PAGINATORS.register("json_link", "json_response")
class JSONLinkPaginator(LinkPaginator):
    """``json_link``: the next URL is read from the body (``next_url_path``)."""

    fields: ClassVar[dict[str, Field]] = {
        "next_url_path": Field("name", "next", nullable=False),
        "relative_to": Field("string", "url", nullable=False, choices=("url", "base_url")),
        **STOP_CONDITION,
    }
    missing = "no next URL in the response"

    def explain(self, token: Any) -> str:
        """``<url>: the next URL at 'next'``."""
        return f"{token}: the next URL at {self.options['next_url_path']!r}"

    def link(self, page: Page) -> Any:
        """The value at next_url_path."""
        return read_path(page, self.options["next_url_path"])


@PAGINATORS.register("header_link")
class HeaderLinkPaginator(LinkPaginator):
    """``header_link``: the next URL is the RFC 8288 ``Link`` header entry with rel=next."""

    fields: ClassVar[dict[str, Field]] = {
        "links_next_key": Field("name", "next", nullable=False),
        **STOP_CONDITION,
    }
    missing = "no next link in the Link header"

    def explain(self, token: Any) -> str:
        """``<url>: the Link header's rel='next'``."""
        return f"{token}: the Link header's rel={self.options['links_next_key']!r}"

    def link(self, page: Page) -> Any:
        """The URL of the configured rel in the Link header."""
        return page.response.links.get(self.options["links_next_key"], {}).get("url")
