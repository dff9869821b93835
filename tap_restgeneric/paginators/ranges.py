"""Range paginators: ``page_number`` and ``offset``, with dlt's stop rules and no lost records."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.fields import REQUIRED, Field
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

FIRST_PAGE_KEYS = ("base_page", "page", "start_from_page")
RANGE_FIELDS = {
    "total_path": Field("string", "total"),
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
        options["total_required"] = raw.get("total_path") is not None or only_total
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

    def _total(self, page: Page) -> int | None:
        path = self.options["total_path"]
        if not path:
            return None
        value = read_path(page, path)
        if value is None:
            if self.options["total_required"]:
                msg = f"total_path {path!r} was not found in the response"
                raise PaginationError(msg)
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            msg = f"total_path {path!r} is {value!r} in the response; expected a number"
            raise PaginationError(msg) from None

    def explain(self, token: Any) -> str:
        """``page=3: the next page number`` (or the offset plus the records received)."""
        where = self.options[self.param_key] or self.options[self.body_key]
        return f"{where}={token}: {self.meaning}"

    meaning: ClassVar[str]

    @abstractmethod
    def step(self, page: Page) -> int:
        """How far the next request moves from this one."""

    @abstractmethod
    def end(self, total: int) -> int:
        """The first value past the end, given the response's total."""

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
        ends = (self.options.get(self.maximum_key), None if total is None else self.end(total))
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
        if total is not None and nxt >= self.end(total):
            return Stop(f"the response's total ({total}) was reached")
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
        **RANGE_FIELDS,
    }

    meaning = "the next page number"

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.base_page: int = options["base_page"]

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

    def end(self, total: int) -> int:
        """``total`` counts pages, numbered from ``base_page``."""
        return int(total + self.base_page)


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

    def end(self, total: int) -> int:
        """``total`` counts records."""
        return total
