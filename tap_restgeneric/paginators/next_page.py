"""``next_page``: the response names the next page number (body path or header); sent back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.config.options import option
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.paginators.base import (
    PAGINATORS,
    Page,
    PaginationError,
    Paginator,
    PaginatorOptions,
    Stop,
    StopOptions,
    read_path,
    write_value,
)
from tap_restgeneric.paginators.ranges import HEADER_NAME
from tap_restgeneric.records.selectors import compile_path, first_value


@dataclass(frozen=True, eq=False)
class NextPageOptions(StopOptions):
    """Where the next page number is read, where it is sent, the first page and the page size."""

    next_page_path: str = option("name", "next_page", nullable=False, jsonpath=True)
    next_page_header: str | None = option("name")
    page_param: str | None = option("name")
    page_body_path: str | None = option("name")
    page: int | None = option("integer")
    limit: int | None = option("integer")
    limit_param: str | None = option("name")
    limit_body_path: str | None = option("name")

    @classmethod
    def normalize(
        cls, values: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Check the header name and param/body exclusivity; default the param names."""
        super().normalize(values, raw, path, errors)
        header = values.get("next_page_header")
        if header and not HEADER_NAME.fullmatch(header):
            errors.add(
                (*path, "next_page_header"),
                f"{header!r} is not a header name",
                "a name like X-Pagination",
            )
        for param, body in (("page_param", "page_body_path"), ("limit_param", "limit_body_path")):
            if values.get(param) and values.get(body):
                errors.add(path, f"{param!r} and {body!r} are both set", "only one of them")
        if not values.get("page_body_path"):
            values["page_param"] = values.get("page_param") or "page"
        if values.get("limit") is not None and not values.get("limit_body_path"):
            values["limit_param"] = values.get("limit_param") or "limit"

    def source(self) -> str:
        """Where the number is read: ``next_page_path 'meta.next_page'``, or ``next_page_header
        'X-Pagination', next_page_path 'next_page'`` (the path read in a JSON header value)."""
        path = f"next_page_path {self.next_page_path!r}"
        header = self.next_page_header
        return path if header is None else f"next_page_header {header!r}, {path}"


@PAGINATORS.register("next_page")
class NextPageNumberPaginator(Paginator):
    """``next_page``: the response says the next page number (Kaminari/Pagy ``meta.next_page``,
    Flask-Smorest's ``X-Pagination`` header, GitLab's ``X-Next-Page``); it is sent back as
    ``page_param``. No next page (absent, null or empty) is the end the server states; a next
    page that does not move forward is an error, never a loop."""

    options_type = NextPageOptions
    options: NextPageOptions

    def __init__(self, options: PaginatorOptions, *, base_url: str = "") -> None:
        super().__init__(options, base_url=base_url)
        self._highest: int | None = None  # the highest page number requested or announced

    def first_token(self) -> Any:
        """``page`` if given (None: the first request is sent as configured)."""
        return self.options.page

    def apply(self, request: HTTPRequest, token: Any) -> None:
        """Send the page number (once known) and the page size (if configured)."""
        options = self.options
        if token is not None:
            write_value(request, options.page_param, options.page_body_path, token)
        if options.limit is not None:
            write_value(request, options.limit_param, options.limit_body_path, options.limit)

    def explain(self, token: Any) -> str:
        """``page=3: the next page number in next_page_path 'meta.next_page'``."""
        where = self.options.page_param or self.options.page_body_path
        return f"{where}={token}: the next page number in {self.options.source()}"

    def next_token(self, page: Page, token: Any) -> Any:
        """The announced next page; Stop when there is none; an error when it does not grow."""
        value = self._read(page)
        if value is None or value == "":
            return Stop(f"no next page in {self.options.source()}")
        number = self._number(value)
        floor = max((n for n in (token, self._highest) if isinstance(n, int)), default=None)
        if floor is not None and number <= floor:
            msg = (
                f"{self.options.source()} is {number} after page {floor}: the next page must "
                "be higher (it would ask for a page again)"
            )
            raise PaginationError(msg)
        self._highest = number
        return number

    def _read(self, page: Page) -> Any:
        """The raw next page: in the body, in the header's JSON, or the header's plain value."""
        header = self.options.next_page_header
        if header is None:
            return read_path(page, self.options.next_page_path)
        text = page.response.headers.get(header)
        if text is None or not text.lstrip().startswith("{"):
            return None if text is None else text.strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            msg = f"next_page_header {header!r} is not JSON: {text[:200]!r}"
            raise PaginationError(msg) from None
        return first_value(compile_path(self.options.next_page_path), parsed)

    def _number(self, value: Any) -> int:
        """The value as a page number (an integer, or a string of digits)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        msg = f"{self.options.source()} is {value!r} in the response; expected a page number"
        raise PaginationError(msg)
