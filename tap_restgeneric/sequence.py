"""One request sequence, page by page, that ends only for a reason it can prove.

The sync, schema sampling and ``restgeneric preview`` all walk pages through this loop, so end
reasons, guards and explanations cannot drift apart.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.paginators import Page, PaginationError, Paginator, Stop
from tap_restgeneric.paginators.base import Recovery
from tap_restgeneric.parallel import Halted
from tap_restgeneric.prefetch import Prefetcher, request_key
from tap_restgeneric.redaction import REDACT, excerpt
from tap_restgeneric.requester import Fetched

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_restgeneric.bookmarks import IncrementalRun, Window
    from tap_restgeneric.streams import RestGenericStream

logger = logging.getLogger(__name__)
ERROR_KEYS = ("error", "errors", "fault")
"""Top-level keys of an error-shaped body (when the data path is missing)."""
REMEMBERED = 100_000
"""Pages and requests a sequence remembers to spot a repeat (a few MB at most)."""


class UnprovenEnd(StreamRequestError):
    """A stream stopped where it cannot prove the data ended: the run fails (SPEC §8)."""


@dataclass(frozen=True)
class End:
    """Why a request sequence ended; an unproven end carries the error line it fails with."""

    reason: str
    proven: bool = True
    failure: str | None = None


@dataclass
class PageStep:
    """One page of a sequence: what was sent and received, its records, and what comes next."""

    number: int
    request: HTTPRequest
    prepared: requests.PreparedRequest
    response: requests.Response | None
    records: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    next_request: requests.PreparedRequest | None = None
    next_reason: str = ""
    end: End | None = None


def _digest(content: bytes) -> bytes:
    return hashlib.blake2b(content, digest_size=16).digest()


def _request_digest(prepared: requests.PreparedRequest) -> bytes:
    return _digest(repr(request_key(prepared)).encode())


def _remember(seen: dict[bytes, int], key: bytes, number: int) -> None:
    """Note the first page ``key`` was seen on, forgetting the oldest past ``REMEMBERED``."""
    seen.setdefault(key, number)
    if len(seen) > REMEMBERED:
        del seen[next(iter(seen))]


class PageSequence:
    """Walks one request sequence of a stream; iterate it for its pages in order.

    A page ends the sequence only for a proven reason (the paginator's stop, a configured
    maximum, ``max_pages``, the incremental range passed, a response ignored by
    ``response_actions``). A repeated request, a page identical to an earlier one, an empty body
    or a missing data path after pages that had data, or an error-shaped body is not an end: it
    raises ``UnprovenEnd`` (after the pages before it were handed out), unless the endpoint says
    ``on_unproven_end: stop``. Where the paginator can tell what the API meant (a repeated first
    page), it recovers and says so once.
    """

    def __init__(
        self,
        stream: RestGenericStream,
        context: Context | None,
        run: IncrementalRun | None = None,
        window: Window | None = None,
        *,
        max_pages: int | None = None,
        fetch_ahead: bool = True,
    ) -> None:
        self.stream = stream
        self.context = context
        self.run = run
        self.window = window
        self.max_pages = max_pages
        self.paginator: Paginator = stream.get_new_paginator()
        width = stream.api.max_concurrency if fetch_ahead else 1
        self._prefetch = Prefetcher(stream.requester, width, stream._new_session)
        self.end: End | None = None
        self._requests: dict[bytes, int] = {}
        self._contents: dict[bytes, int] = {}
        self._had_data = False
        self._first: Page | None = None
        self._token: Any = None
        self._pending: tuple[HTTPRequest, requests.PreparedRequest]
        self._previous_size = -1

    def __iter__(self) -> Iterator[PageStep]:
        """Each page in order; the last one carries ``end``."""
        try:
            yield from self._walk()
        finally:
            self._prefetch.close()

    def _walk(self) -> Iterator[PageStep]:
        include = self.stream._start_sequence(self.context, self.run, self.window)
        self._token = self.paginator.first_token()
        self._pending = self._request(self._token, 1)
        number = 1
        while True:
            step = self._step(number, include)
            if step is None:  # the paginator recovered: the same page again, asked anew
                continue
            self.end = step.end
            yield step
            if step.end is not None:
                if step.end.failure is not None:
                    raise UnprovenEnd(step.end.failure)
                return
            number += 1

    def _step(self, number: int, include: dict[str, Any]) -> PageStep | None:
        """Fetch page ``number`` and judge it (None: ask for it again, as recovered)."""
        if self.stream.rest_tap.halt.is_set():
            raise Halted
        request, prepared = self._pending
        requester = self.stream.requester
        before = requester.retries
        fetched = self._prefetch.fetch(prepared)
        step = PageStep(number, request, prepared, None if fetched is None else fetched.response)
        step.retries = requester.retries - before
        if fetched is None:
            step.end = End("response_actions ignored the response")
            return step
        records, found = self.stream.selector.select_page(fetched.body)
        page = Page(request, fetched.response, fetched.body, records, number)
        doubt = self._suspicion(fetched, found)
        if doubt is None and (repeat := self._repeat(page)) is not None:
            recovery = self._recover(page)
            if isinstance(recovery, Recovery):
                self._token = recovery.token
                self._pending = self._request(self._token, number)
                return None
            doubt = recovery or repeat
        if doubt is not None:
            step.end = self._unproven(page, doubt)
            return step
        self._accept(step, page, found, include)
        return step

    def _accept(self, step: PageStep, page: Page, found: bool, include: dict[str, Any]) -> None:
        """Take a page as new data: its records, and the next request or a proven end."""
        _remember(self._contents, _digest(page.response.content), page.number)
        self._had_data |= found
        self._first = self._first or page
        self.stream.stats.page(len(page.records))
        step.records = page.records
        step.kept = self.stream._kept(self.run, self.window, page.records, include)
        token = self._token
        try:
            following = self.paginator.advance(page, token)
        except PaginationError as exc:
            failure = f"{self.stream.requester.describe(step.prepared)}: {exc}"
            step.end = End(str(exc), proven=False, failure=failure)
            return
        step.end = self._proven_end(following, page)
        if step.end is None:
            self._token = following
            self._pending = self._request(following, page.number + 1)
            step.next_request = self._pending[1]
            step.next_reason = self.paginator.explain(following)
            step.end = self._next_end(page, token)
        self._previous_size = len(page.records)

    def _next_end(self, page: Page, token: Any) -> End | None:
        """An end found before the next request is sent: it repeats one, or sampling is done.

        Otherwise fetch ahead once two full pages came back alike.
        """
        prepared = self._pending[1]
        earlier = self._requests.get(_request_digest(prepared), page.number + 1)
        if earlier <= page.number:
            url = REDACT(prepared.url or "")
            return self._unproven(page, f"its next request ({url}) repeats page {earlier}'s")
        if self.max_pages is not None and page.number >= self.max_pages:
            return End(f"the first {self.max_pages} pages were sampled")
        if len(page.records) == self._previous_size > 0:
            self._prefetch.ahead(page.number, self._predictor(page, token))
        return None

    def _request(self, token: Any, number: int) -> tuple[HTTPRequest, requests.PreparedRequest]:
        """The request for page ``number`` (the page a request was first made for is kept)."""
        request, prepared = self.stream._request_for(self.context, self.paginator, token)
        _remember(self._requests, _request_digest(prepared), number)
        return request, prepared

    def _suspicion(self, fetched: Fetched, found: bool) -> str | None:
        """Why this response cannot be trusted as data or as an end (None: it can)."""
        body = fetched.body
        if not found and isinstance(body, dict) and any(body.get(k) for k in ERROR_KEYS):
            return f"the response looks like an error: {excerpt(fetched.response.text, 200)}"
        if found or not self._had_data:
            return None
        if body is None:
            return "the response body is empty, while earlier pages had data"
        path = self.stream.selector.path
        shown = excerpt(fetched.response.text, 200)
        return (
            f"the response has nothing at data_selector {path!r}, while earlier pages had: {shown}"
        )

    def _repeat(self, page: Page) -> str | None:
        """Why this page is not new data: identical to an earlier page, or page 1's records."""
        earlier = self._contents.get(_digest(page.response.content))
        if earlier is not None:
            return f"the page is identical to page {earlier}"
        first = self._first
        if page.number == 2 and first is not None and page.records == first.records != []:
            return "the page repeats the records of page 1"
        return None

    def _recover(self, page: Page) -> Recovery | str | None:
        """The paginator's way on from a repeated page (logged once), or why it has none."""
        try:
            recovery = self.paginator.recover(page, self._token)
        except PaginationError as exc:
            return str(exc)
        if recovery is not None:
            logger.info("Stream %r: %s", self.stream.name, recovery.note)
        return recovery

    def _unproven(self, page: Page, reason: str) -> End:
        """An unproven end: the run fails with one line, unless the endpoint opted to stop."""
        method, url = page.request.method, REDACT(page.response.url or page.request.url)
        line = f"stream {self.stream.name!r}: page {page.number} ({method} {url}): {reason}"
        if self.stream.resource.endpoint.on_unproven_end == "stop":
            logger.warning("%s; stopping as on_unproven_end 'stop' allows", line)
            return End(reason, proven=False)
        return End(reason, proven=False, failure=f"{line}; not a proven end")

    def _proven_end(self, following: Any, page: Page) -> End | None:
        """The proven end this page reached (None: the sequence goes on)."""
        if isinstance(following, Stop):
            return End(following.reason)
        run, window = self.run, self.window
        if run is not None and window is not None and run.past_range(page.records, window):
            return End("the page passed the incremental range (row_order)")
        return None

    def _predictor(
        self, page: Page, token: Any
    ) -> Callable[[int], requests.PreparedRequest | None]:
        """The request ``k`` pages after this one, when its token is known without responses."""

        def predict(ahead: int) -> requests.PreparedRequest | None:
            nxt = self.paginator.predict(page, token, ahead)
            if nxt is None:
                return None
            return self.stream._request_for(self.context, self.paginator, nxt)[1]

        return predict
