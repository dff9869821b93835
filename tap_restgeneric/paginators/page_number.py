"""``page_number``: page numbers from base_page, totals counting pages or records, base healing."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tap_restgeneric.config.options import derived, option
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.paginators.base import (
    PAGINATORS,
    Page,
    PaginationError,
    PaginatorOptions,
    Recovery,
)
from tap_restgeneric.paginators.ranges import RangeOptions, RangePaginator

logger = logging.getLogger(__name__)
FIRST_PAGE_KEYS = ("base_page", "page", "start_from_page")


@dataclass(frozen=True, eq=False)
class PageNumberOptions(RangeOptions):
    """``page_number``: the first page, where the number is sent, and what the total counts."""

    base_page: int = option("integer", 0, nullable=False)
    page: int | None = option("integer")
    page_param: str | None = option("name")
    page_body_path: str | None = option("name")
    maximum_page: int | None = option("integer")
    start_from_page: int | None = option("integer", alias=True)
    limit: int | None = option("integer")
    total_counts: str = option("string", "pages", nullable=False, choices=("pages", "records"))
    base_defaulted: bool = derived(False)
    """No first page was written: dlt's 0, which an API counting from 1 heals (see recover)."""

    value_key = "page"
    param_key = "page_param"
    body_key = "page_body_path"
    maximum_key = "maximum_page"

    @classmethod
    def normalize(
        cls, values: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Map the seeds' start_from_page to dlt's base_page and page."""
        values["base_defaulted"] = not any(raw.get(k) is not None for k in FIRST_PAGE_KEYS)
        start = values.get("start_from_page")
        if start is not None:
            values["base_page"] = start
            values["page"] = start if values.get("page") is None else values["page"]
        super().normalize(values, raw, path, errors)
        if values["total_counts"] == "records" and not (
            values["total_path"] or values.get("total_header")
        ):
            errors.add(
                (*path, "total_counts"),
                "total_counts 'records' has no total to count",
                "total_path or total_header",
            )

    @property
    def counts_records(self) -> bool:
        """Whether the total counts records (else pages)."""
        return self.total_counts == "records"


@PAGINATORS.register("page_number")
class PageNumberPaginator(RangePaginator):
    """``page_number``: page=base, base+1, …; the seeds' start_from_page and limit accepted."""

    options_type = PageNumberOptions
    options: PageNumberOptions
    meaning = "the next page number"

    def __init__(self, options: PaginatorOptions, *, base_url: str = "") -> None:
        super().__init__(options, base_url=base_url)
        self.base_page: int = self.options.base_page
        self.received = 0  # records on the pages taken so far (a records total is met by them)

    def first_token(self) -> Any:
        """The first page: ``page`` if given, else ``base_page``."""
        page = self.options.page
        return self.base_page if page is None else page

    def recover(self, repeated: Page, token: Any) -> Recovery | None:
        """Pages 0 and 1 alike with base_page left at 0: the API counts from 1 (heal, say so)."""
        if not (self.options.base_defaulted and repeated.number == 2 and token == 1):
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
        if page.records or page.number != 1 or token != 0 or not self.options.base_defaulted:
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
        if self.options.counts_records:
            return self.base_page + math.ceil(total / max(len(page.records), 1))
        return int(total + self.base_page)

    def past_total(self, total: int, page: Page, nxt: int) -> bool:
        """A records total is reached by the records received, whatever the page size."""
        if self.options.counts_records:
            return self.received >= total
        return super().past_total(total, page, nxt)

    def total_words(self, total: int) -> str:
        """``137 records, total_path 'count'; 137 received`` or ``14 pages, …``."""
        if self.options.counts_records:
            return f"{total} records, {self.total_source()}; {self.received} received"
        return f"{total} pages, {self.total_source()}"
