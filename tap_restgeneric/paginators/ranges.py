"""Range paginators: ``page_number`` and ``offset``, with dlt's stop rules and no lost records."""

from __future__ import annotations

import json
import logging
import math
import re
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.config.fields import REQUIRED, Field
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.paginators.base import (
    PAGINATORS,
    STOP_CONDITION,
    Page,
    PaginationError,
    Paginator,
    Recovery,
    Stop,
    has_more,
    read_path,
    set_body_path,
)
from tap_restgeneric.records.selectors import compile_path, first_value

logger = logging.getLogger(__name__)
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
FIRST_PAGE_KEYS = ("base_page", "page", "start_from_page")
RANGE_FIELDS = {
    "total_path": Field("string", "total"),
    "total_header": Field("name"),
    "stop_after_empty_page": Field("boolean", True, nullable=False),
    "has_more_path": Field("string"),
    "limit_param": Field("name"),
    "limit_body_path": Field("name"),
    **STOP_CONDITION,
}


class RangePaginator(Paginator):
    """Shared logic: a number sent as a query param or body path, stopped by dlt's rules."""

    value_key: ClassVar[str]
    param_key: ClassVar[str]
    body_key: ClassVar[str]
    maximum_key: ClassVar[str]

    @classmethod
    def normalize(
        cls, options: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Check param/body exclusivity and the termination guarantee; default the param name."""
        super().normalize(options, raw, path, errors)
        others = (cls.maximum_key, "has_more_path", "stop_condition")
        no_other_stop = not any(options.get(k) for k in others)
        only_total = not options["stop_after_empty_page"] and no_other_stop
        # The default total_path is optional, unless it is the only way pagination can end.
        header = options.get("total_header")
        written = raw.get("total_path") is not None
        options["total_required"] = written or only_total or bool(header)
        # With total_header, a written total_path is read in the header's JSON value.
        options["total_in_header_json"] = written
        if header and not HEADER_NAME.fullmatch(header):
            errors.add(
                (*path, "total_header"),
                f"{header!r} is not a header name",
                "a name like X-Total-Count",
            )
        for param, body in ((cls.param_key, cls.body_key), ("limit_param", "limit_body_path")):
            if options.get(param) and options.get(body):
                errors.add(path, f"{param!r} and {body!r} are both set", "only one of them")
        if not options.get(cls.body_key) and not options.get(cls.param_key):
            options[cls.param_key] = cls.fields[cls.param_key].default or cls.value_key
        if options.get("limit") is not None and not options.get("limit_body_path"):
            options["limit_param"] = options.get("limit_param") or "limit"
        stops = ("total_path", cls.maximum_key, "has_more_path", "stop_condition")
        if not options["stop_after_empty_page"] and not any(options.get(k) for k in stops):
            errors.add(
                path,
                "pagination could never end",
                f"one of total_path, {cls.maximum_key}, has_more_path, stop_condition "
                "or stop_after_empty_page: true",
            )

    def apply(self, request: HTTPRequest, token: Any) -> None:
        """Write the page/offset number and the page size into the query or body."""
        self._write(request, self.options[self.param_key], self.options[self.body_key], token)
        limit = self.options.get("limit")
        if limit is not None:
            self._write(
                request, self.options["limit_param"], self.options["limit_body_path"], limit
            )

    @staticmethod
    def _write(request: HTTPRequest, param: str | None, body_path: str | None, value: Any) -> None:
        if body_path:
            set_body_path(request, body_path, value)
        elif param:
            request.params[param] = value

    def total_source(self) -> str:
        """Where the total is read: ``total_path 'total'``, ``total_header 'X-Total-Count'``,
        ``total_path 'total_pages' in total_header 'X-Pagination'``."""
        header, path = self.options.get("total_header"), self.options["total_path"]
        if not header:
            return f"total_path {path!r}"
        if self.options["total_in_header_json"]:
            return f"total_path {path!r} in total_header {header!r}"
        return f"total_header {header!r}"

    def _total(self, page: Page) -> int | None:
        header, path = self.options.get("total_header"), self.options["total_path"]
        if header:
            value = self._header_total(page, header)
        elif not path:
            return None
        else:
            value = read_path(page, path)
        if value is None:
            if self.options["total_required"]:
                msg = f"{self.total_source()} was not found in the response"
                raise PaginationError(msg)
            return None
        try:
            total = int(value)
        except (TypeError, ValueError):
            msg = f"{self.total_source()} is {value!r} in the response; expected a number"
            if isinstance(value, str) and value.lstrip().startswith("{"):
                msg += " (the header holds JSON: total_path names the key to read in it)"
            raise PaginationError(msg) from None
        self._last_total = total
        return total

    def _header_total(self, page: Page, header: str) -> Any:
        """The header's value; with a written total_path, the value at it in the header's JSON."""
        text = page.response.headers.get(header)
        if text is None or not self.options["total_in_header_json"]:
            return text
        try:
            parsed = json.loads(text)
        except ValueError:
            msg = f"total_header {header!r} is not JSON: {text[:200]!r}"
            raise PaginationError(msg) from None
        return first_value(compile_path(self.options["total_path"]), parsed)

    def total_words(self, total: int) -> str:
        """The total as the response gave it: ``14 pages, total_path 'total_pages' in …``."""
        return f"{total}, {self.total_source()}"

    def explain(self, token: Any) -> str:
        """``page=3: the next page number`` (or the offset plus the records received)."""
        where = self.options[self.param_key] or self.options[self.body_key]
        if self._last_total is None:
            return f"{where}={token}: {self.meaning}"
        total = self.total_words(self._last_total)
        return f"{where}={token}: {self.meaning} (the response's total: {total})"

    meaning: ClassVar[str]
    _last_total: int | None = None

    @abstractmethod
    def step(self, page: Page) -> int:
        """How far the next request moves from this one."""

    @abstractmethod
    def end(self, total: int, page: Page) -> int:
        """The first value past the end, given the response's total (``page``: a full page)."""

    def past_total(self, total: int, page: Page, nxt: int) -> bool:
        """Whether the next value ``nxt`` lies past the end the response's total sets."""
        return nxt >= self.end(total, page)

    def predict(self, page: Page, token: Any, ahead: int) -> Any:
        """Tokens ahead are known from a non-empty page (offsets: a page of exactly ``limit``).

        None past the end the response's total or the maximum sets: nothing is fetched beyond.
        """
        if not self.predictable(page):
            return None
        nxt = token + self.step(page) * ahead
        try:
            total = self._total(page)
        except PaginationError:  # said by next_token, once this page is done
            return None
        ends = (
            self.options.get(self.maximum_key),
            None if total is None else self.end(total, page),
        )
        return nxt if all(end is None or nxt < end for end in ends) else None

    def predictable(self, page: Page) -> bool:
        """Whether the next tokens follow from this page alone."""
        return bool(page.records)

    def next_token(self, page: Page, token: Any) -> Any:
        """dlt's range rule: empty page, total, maximum, then has_more; short pages continue."""
        if self.options["stop_after_empty_page"] and not page.records:
            return Stop("the page was empty")
        total = self._total(page)
        nxt = token + self.step(page)
        if total is not None and self.past_total(total, page, nxt):
            return Stop(f"the response's total ({self.total_words(total)}) was reached")
        maximum = self.options.get(self.maximum_key)
        if maximum is not None and nxt >= maximum:
            return Stop(f"{self.maximum_key} ({maximum}) was reached")
        path = self.options.get("has_more_path")
        if path and not has_more(page, path):
            return Stop(f"has_more_path {path!r} is false")
        return nxt


@PAGINATORS.register("page_number")
class PageNumberPaginator(RangePaginator):
    """``page_number``: page=base, base+1, …; the seeds' start_from_page and limit accepted."""

    value_key = "page"
    param_key = "page_param"
    body_key = "page_body_path"
    maximum_key = "maximum_page"
    fields: ClassVar[dict[str, Field]] = {
        "base_page": Field("integer", 0, nullable=False),
        "page": Field("integer"),
        "page_param": Field("name"),
        "page_body_path": Field("name"),
        "maximum_page": Field("integer"),
        "start_from_page": Field("integer"),
        "limit": Field("integer"),
        "total_counts": Field("string", "pages", nullable=False, choices=("pages", "records")),
        **RANGE_FIELDS,
    }

    meaning = "the next page number"

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.base_page: int = options["base_page"]
        self.received = 0  # records on the pages taken so far (a records total is met by them)

    @classmethod
    def normalize(
        cls, options: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Map the seeds' start_from_page to dlt's base_page and page."""
        options["base_defaulted"] = not any(raw.get(k) is not None for k in FIRST_PAGE_KEYS)
        start = options.pop("start_from_page", None)
        if start is not None:
            options["base_page"] = start
            options["page"] = start if options.get("page") is None else options["page"]
        super().normalize(options, raw, path, errors)
        if options["total_counts"] == "records" and not (
            options["total_path"] or options.get("total_header")
        ):
            errors.add(
                (*path, "total_counts"),
                "total_counts 'records' has no total to count",
                "total_path or total_header",
            )

    def first_token(self) -> Any:
        """The first page: ``page`` if given, else ``base_page``."""
        page = self.options.get("page")
        return self.base_page if page is None else page

    def recover(self, repeated: Page, token: Any) -> Recovery | None:
        """Pages 0 and 1 alike with base_page left at 0: the API counts from 1 (heal, say so)."""
        if not (self.options["base_defaulted"] and repeated.number == 2 and token == 1):
            return None
        self.base_page = 1
        note = (
            "pages 0 and 1 came back the same: the API counts pages from 1; continuing with "
            'page 2 (write "base_page": 1 in the paginator to say so)'
        )
        return Recovery(token + 1, note)

    def step(self, page: Page) -> int:
        """One page at a time."""
        return 1

    def next_token(self, page: Page, token: Any) -> Any:
        """Count the page's records, then dlt's range rule."""
        self.received += len(page.records)
        why = self._empty_page_0(page, token)
        if why:
            self.base_page = 1
            logger.info(
                "%s: asking for page 1, as an API counting pages from 1 serves page 0 empty "
                '(write "base_page": 1, or 0, in the paginator to say which)',
                why,
            )
            return 1
        return super().next_token(page, token)

    def _empty_page_0(self, page: Page, token: Any) -> str | None:
        """With base_page left at dlt's 0, an empty page 0 is no proven end unless the response
        says there is nothing (a total of 0): an API counting from 1 may serve page 0 empty
        (Litestar's ClassicPagination, any ``items[(page - 1) * size:page * size]``). Why page 1
        is asked for, or None. Page 1 empty too is then the end."""
        if page.records or page.number != 1 or token != 0 or not self.options["base_defaulted"]:
            return None
        try:
            total = self._total(page)
        except PaginationError:  # said by the range rule
            return None
        if total is None:
            return "page 0 came back empty"
        if total <= 0:
            return None
        words = self.total_words(total)
        return f"page 0 came back empty while the response's total ({words}) says there is more"

    def end(self, total: int, page: Page) -> int:
        """``total`` counts pages numbered from ``base_page`` (or records, pages as full as
        ``page``)."""
        if self.options["total_counts"] == "records":
            return self.base_page + math.ceil(total / max(len(page.records), 1))
        return int(total + self.base_page)

    def past_total(self, total: int, page: Page, nxt: int) -> bool:
        """A records total is reached by the records received, whatever the page size."""
        if self.options["total_counts"] == "records":
            return self.received >= total
        return super().past_total(total, page, nxt)

    def total_words(self, total: int) -> str:
        """``137 records, total_path 'count'; 137 received`` or ``14 pages, …``."""
        if self.options["total_counts"] == "records":
            return f"{total} records, {self.total_source()}; {self.received} received"
        return f"{total} pages, {self.total_source()}"


@PAGINATORS.register("offset")
class OffsetPaginator(RangePaginator):
    """``offset``: moves by the records actually received, so capped pages lose nothing."""

    value_key = "offset"
    param_key = "offset_param"
    body_key = "offset_body_path"
    maximum_key = "maximum_offset"
    fields: ClassVar[dict[str, Field]] = {
        "limit": Field("integer", REQUIRED, nullable=False),
        "offset": Field("integer", 0, nullable=False),
        "offset_param": Field("name"),
        "offset_body_path": Field("name"),
        "maximum_offset": Field("integer"),
        **RANGE_FIELDS,
    }

    meaning = "the offset plus the records received"

    def first_token(self) -> Any:
        """The first offset."""
        return self.options["offset"]

    def step(self, page: Page) -> int:
        """The number of records received (a server may cap the page below ``limit``)."""
        return len(page.records) or int(self.options["limit"])

    def predictable(self, page: Page) -> bool:
        """Offsets ahead are known only while the server returns exactly ``limit`` records."""
        return len(page.records) == int(self.options["limit"])

    def end(self, total: int, page: Page) -> int:
        """``total`` counts records."""
        return total

    def total_words(self, total: int) -> str:
        """``137 records, total_path 'count'``."""
        return f"{total} records, {self.total_source()}"
