"""The stream's page sequence for ``preview``: one report per page, and why paging goes on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.sync.bookmarks import IncrementalError, IncrementalRun, Window, utc_now
from tap_restgeneric.sync.sequence import PageSequence, PageStep, UnprovenEnd
from tap_restgeneric.sync.streams import RestGenericStream


@dataclass
class PageReport:
    """One page: the request sent, the response status, its records, and what comes next."""

    number: int
    request: requests.PreparedRequest
    status: str = ""
    retries: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    next_reason: str = ""
    stop: str | None = None


def report(step: PageStep) -> PageReport:
    """What preview shows of one page of the sequence."""
    response = step.response
    status = "ignored by response_actions"
    if response is not None:
        status = f"{response.status_code} {response.reason or ''}".rstrip()
    page = PageReport(step.number, step.prepared, status, step.retries, step.records, step.kept)
    page.next_reason = step.next_reason
    if step.end is not None and step.next_request is None:
        unproven = "" if step.end.proven else " — not a proven end: a run fails here"
        page.stop = step.end.reason + unproven
    return page


class PageLoop:
    """One request sequence of a stream, exactly as a sync runs it, one request at a time."""

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
            self.run = IncrementalRun(spec, state or {}, utc_now())
            self.window = next(iter(self.run.windows()))
        self.detected: dict[str, Any] | None = None

    def pages(self, max_pages: int) -> Iterator[PageReport]:
        """Fetch up to ``max_pages`` pages; the last report says why paging ended or goes on."""
        run = self.run
        sequence = PageSequence(
            self.stream, self.context, run, self.window, max_pages=max_pages, fetch_ahead=False
        )
        try:
            for step in sequence:
                if run is not None:
                    try:
                        for record in step.kept:
                            run.observe(record, run.spec.primary_key or ())
                    except IncrementalError as exc:
                        raise StreamRequestError(f"stream {self.stream.name!r}: {exc}") from None
                yield report(step)
        except UnprovenEnd:
            pass  # the last report says why
        finally:
            self.detected = sequence.paginator.detection()
