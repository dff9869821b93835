"""Range paginators: dlt's range rule (a number moved each page, totals, stops) and ``offset``."""

from __future__ import annotations

import json
import logging
import re
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.config.fields import REQUIRED
from tap_restgeneric.config.options import derived, option
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.paginators.base import (
    PAGINATORS,
    Page,
    PaginationError,
    Paginator,
    Stop,
    StopOptions,
    has_more,
    read_path,
    write_value,
)
from tap_restgeneric.records.selectors import compile_path, first_value

logger = logging.getLogger(__name__)
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True, eq=False)
class RangeOptions(StopOptions):
    """Shared by the range styles: where the total is read, the other stops, the page size.

    Built with where the number is sent (``value_param``/``value_body_path``, from the style's
    own option names), its maximum, and whether a total must be found (``total_required``).
    """

    total_path: str | None = option("string", "total", jsonpath=True)
    total_header: str | None = option("name")
    stop_after_empty_page: bool = option("boolean", True, nullable=False)
    has_more_path: str | None = option("string", jsonpath=True)
    limit_param: str | None = option("name")
    limit_body_path: str | None = option("name")
    limit: int | None = option("integer")
    total_required: bool = derived(False)
    total_in_header_json: bool = derived(False)
    value_param: str | None = derived()
    value_body_path: str | None = derived()
    maximum: int | None = derived()

    value_key: ClassVar[str]
    param_key: ClassVar[str]
    body_key: ClassVar[str]
    maximum_key: ClassVar[str]

    @classmethod
    def normalize(
        cls, values: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Check param/body exclusivity and the termination guarantee; default the param name."""
        super().normalize(values, raw, path, errors)
        others = (cls.maximum_key, "has_more_path", "stop_condition")
        no_other_stop = not any(values.get(k) for k in others)
        only_total = not values["stop_after_empty_page"] and no_other_stop
        # The default total_path is optional, unless it is the only way pagination can end.
        header = values.get("total_header")
        written = raw.get("total_path") is not None
        values["total_required"] = written or only_total or bool(header)
        # With total_header, a written total_path is read in the header's JSON value.
        values["total_in_header_json"] = written
        if header and not HEADER_NAME.fullmatch(header):
            errors.add(
                (*path, "total_header"),
                f"{header!r} is not a header name",
                "a name like X-Total-Count",
            )
        for param, body in ((cls.param_key, cls.body_key), ("limit_param", "limit_body_path")):
            if values.get(param) and values.get(body):
                errors.add(path, f"{param!r} and {body!r} are both set", "only one of them")
        if not values.get(cls.body_key) and not values.get(cls.param_key):
            values[cls.param_key] = cls.fields()[cls.param_key].default or cls.value_key
        if values.get("limit") is not None and not values.get("limit_body_path"):
            values["limit_param"] = values.get("limit_param") or "limit"
        stops = ("total_path", cls.maximum_key, "has_more_path", "stop_condition")
        if not values["stop_after_empty_page"] and not any(values.get(k) for k in stops):
            errors.add(
                path,
                "pagination could never end",
                f"one of total_path, {cls.maximum_key}, has_more_path, stop_condition "
                "or stop_after_empty_page: true",
            )
        values["value_param"] = values.get(cls.param_key)
        values["value_body_path"] = values.get(cls.body_key)
        values["maximum"] = values.get(cls.maximum_key)


class RangePaginator(Paginator):
    """Shared logic: a number sent as a query param or body path, stopped by dlt's rules."""

    options: RangeOptions

    def apply(self, request: HTTPRequest, token: Any) -> None:
        """Write the page/offset number and the page size into the query or body."""
        options = self.options
        write_value(request, options.value_param, options.value_body_path, token)
        if options.limit is not None:
            write_value(request, options.limit_param, options.limit_body_path, options.limit)

    def ends_on_empty_page(self) -> bool:
        """With stop_after_empty_page (the default)."""
        return self.options.stop_after_empty_page

    def total_source(self) -> str:
        """Where the total is read: ``total_path 'total'``, ``total_header 'X-Total-Count'``,
        ``total_path 'total_pages' in total_header 'X-Pagination'``."""
        header, path = self.options.total_header, self.options.total_path
        if not header:
            return f"total_path {path!r}"
        if self.options.total_in_header_json:
            return f"total_path {path!r} in total_header {header!r}"
        return f"total_header {header!r}"

    def _total(self, page: Page) -> int | None:
        header, path = self.options.total_header, self.options.total_path
        if header:
            value = self._header_total(page, header)
        elif not path:
            return None
        else:
            value = read_path(page, path)
        if value is None:
            if self.options.total_required:
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
        if text is None or not self.options.total_in_header_json:
            return text
        try:
            parsed = json.loads(text)
        except ValueError:
            msg = f"total_header {header!r} is not JSON: {text[:200]!r}"
            raise PaginationError(msg) from None
        return first_value(compile_path(self.options.total_path or ""), parsed)

    def total_words(self, total: int) -> str:
        """The total as the response gave it: ``14 pages, total_path 'total_pages' in …``."""
        return f"{total}, {self.total_source()}"

    def explain(self, token: Any) -> str:
        """``page=3: the next page number`` (or the offset plus the records received)."""
        where = self.options.value_param or self.options.value_body_path
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
            self.options.maximum,
            None if total is None else self.end(total, page),
        )
        return nxt if all(end is None or nxt < end for end in ends) else None

    def predictable(self, page: Page) -> bool:
        """Whether the next tokens follow from this page alone."""
        return bool(page.records)

    def next_token(self, page: Page, token: Any) -> Any:
        """dlt's range rule: empty page, total, maximum, then has_more; short pages continue."""
        if self.options.stop_after_empty_page and not page.records:
            return Stop("the page was empty")
        total = self._total(page)
        nxt = token + self.step(page)
        if total is not None and self.past_total(total, page, nxt):
            return Stop(f"the response's total ({self.total_words(total)}) was reached")
        maximum = self.options.maximum
        if maximum is not None and nxt >= maximum:
            return Stop(f"{self.options.maximum_key} ({maximum}) was reached")
        path = self.options.has_more_path
        if path and not has_more(page, path):
            return Stop(f"has_more_path {path!r} is false")
        return nxt


@dataclass(frozen=True, eq=False)
class OffsetOptions(RangeOptions):
    """``offset``: the page size (required), the first offset and where it is sent."""

    limit: int = option("integer", REQUIRED, nullable=False)
    offset: int = option("integer", 0, nullable=False)
    offset_param: str | None = option("name")
    offset_body_path: str | None = option("name")
    maximum_offset: int | None = option("integer")

    value_key = "offset"
    param_key = "offset_param"
    body_key = "offset_body_path"
    maximum_key = "maximum_offset"


@PAGINATORS.register("offset")
class OffsetPaginator(RangePaginator):
    """``offset``: moves by the records actually received, so capped pages lose nothing."""

    options_type = OffsetOptions
    options: OffsetOptions
    meaning = "the offset plus the records received"

    def first_token(self) -> Any:
        """The first offset."""
        return self.options.offset

    def step(self, page: Page) -> int:
        """The number of records received (a server may cap the page below ``limit``)."""
        return len(page.records) or int(self.options.limit)

    def predictable(self, page: Page) -> bool:
        """Offsets ahead are known only while the server returns exactly ``limit`` records."""
        return len(page.records) == int(self.options.limit)

    def end(self, total: int, page: Page) -> int:
        """``total`` counts records."""
        return total

    def total_words(self, total: int) -> str:
        """``137 records, total_path 'count'``."""
        return f"{total} records, {self.total_source()}"
