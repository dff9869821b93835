"""The stream's page loop, one page at a time, reporting what was sent and why it continues."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from tap_restgeneric.bookmarks import IncrementalError, IncrementalRun, Window, utc_now
from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.paginators import Page, PaginationError, Paginator, Stop
from tap_restgeneric.paginators.auto import AutoPaginator
from tap_restgeneric.paginators.ranges import OffsetPaginator, RangePaginator
from tap_restgeneric.paginators.references import (
    CursorPaginator,
    HeaderCursorPaginator,
    HeaderLinkPaginator,
    JSONLinkPaginator,
)
from tap_restgeneric.prefetch import request_key
from tap_restgeneric.redaction import REDACT
from tap_restgeneric.streams import RestGenericStream


@dataclass
class PageReport:
    """One page: the request sent, the response status, its records, and what comes next."""

    number: int
    request: requests.PreparedRequest
    status: str = ""
    retries: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    next_request: requests.PreparedRequest | None = None
    next_reason: str = ""
    stop: str | None = None


class PageLoop:
    """One request sequence of a stream, as ``RestGenericStream._pages`` runs it."""

    def __init__(
        self,
        stream: RestGenericStream,
        context: dict[str, Any] | None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.stream = stream
        self.context = context
        self.run: IncrementalRun | None = None
        self.window: Window | None = None
        spec = stream.resource.endpoint.incremental
        if spec is not None:
            start_date = stream.config.get("start_date")
            self.run = IncrementalRun(spec, state or {}, start_date, utc_now())
            self.window = next(iter(self.run.windows()))
        self.paginator: Paginator = stream.get_new_paginator()

    def pages(self, max_pages: int) -> Iterator[PageReport]:
        """Fetch up to ``max_pages`` pages; the last report says why paging ended or goes on."""
        stream, run, window = self.stream, self.run, self.window
        include = stream._start_sequence(self.context, run, window)
        token = self.paginator.first_token()
        request, prepared = stream._request_for(self.context, self.paginator, token)
        seen = {request_key(prepared)}
        last_content: bytes | None = None
        for number in range(1, max_pages + 1):
            report = PageReport(number, prepared)
            before = stream.requester.retries
            fetched = stream.requester.fetch(prepared)
            report.retries = stream.requester.retries - before
            if fetched is None:
                report.status = "ignored by response_actions"
                report.stop = "response_actions ignored the response (no records, no error)"
                yield report
                return
            response = fetched.response
            report.status = f"{response.status_code} {response.reason or ''}".rstrip()
            if response.content == last_content:
                report.stop = f"page {number} is identical to the previous one (not written)"
                yield report
                return
            last_content = response.content
            report.records = stream.selector.select(fetched.body)
            page = Page(request, response, fetched.body, report.records, number)
            report.kept = stream._kept(run, window, [dict(r) for r in report.records], include)
            if run is not None and window is not None:
                try:
                    for record in report.kept:
                        run.observe(record, run.spec.primary_key or ())
                except IncrementalError as exc:
                    raise StreamRequestError(f"stream {stream.name!r}: {exc}") from None
                if run.past_range(report.records, window):
                    report.stop = "the page passed the incremental range (row_order)"
                    yield report
                    return
            try:
                token = self.paginator.advance(page, token)
            except PaginationError as exc:
                raise StreamRequestError(f"{stream.requester.describe(prepared)}: {exc}") from None
            if isinstance(token, Stop):
                report.stop = token.reason
                yield report
                return
            request, prepared = stream._request_for(self.context, self.paginator, token)
            if request_key(prepared) in seen:
                url = REDACT(prepared.url or "")
                report.stop = f"the next request ({url}) repeats an earlier one"
                yield report
                return
            seen.add(request_key(prepared))
            report.next_request = prepared
            report.next_reason = continue_reason(self.paginator, page, token)
            yield report

    @property
    def detected(self) -> dict[str, Any] | None:
        """The paginator config detected from the first response when none was configured."""
        return self.paginator.detected if isinstance(self.paginator, AutoPaginator) else None


def continue_reason(paginator: Paginator, page: Page, token: Any) -> str:
    """Why the paginator asks for another page, in the words of its config."""
    if isinstance(paginator, AutoPaginator) and paginator.inner is not None:
        paginator = paginator.inner
    options = paginator.options
    if isinstance(paginator, OffsetPaginator):
        where = options.get("offset_param") or options.get("offset_body_path")
        return f"{where}={token}: the offset plus the {len(page.records)} records received"
    if isinstance(paginator, RangePaginator):
        where = options.get("page_param") or options.get("page_body_path")
        return f"{where}={token}: the next page number"
    if isinstance(paginator, CursorPaginator):
        where = options.get("cursor_param") or options.get("cursor_body_path")
        return f"{where}={token}: the cursor at {options['cursor_path']!r}"
    if isinstance(paginator, HeaderCursorPaginator):
        key = options["cursor_key"]
        return f"{options['cursor_param']}={token}: the {key!r} response header"
    if isinstance(paginator, JSONLinkPaginator):
        return f"{token}: the next URL at {options['next_url_path']!r}"
    if isinstance(paginator, HeaderLinkPaginator):
        return f"{token}: the Link header's rel={options['links_next_key']!r}"
    return f"{token!r}"
