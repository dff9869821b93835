"""One request sequence, page by page, that ends only for a reason it can prove.

The sync, schema sampling and ``restgeneric preview`` all walk pages through this loop, so end
reasons, guards and explanations cannot drift apart. A large page (a body the requester spooled
to a file) takes its own step, in ``large_pages.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.http.prefetch import Prefetcher
from tap_restgeneric.http.requester import Fetched
from tap_restgeneric.paginators import Page, PaginationError, Paginator, Stop
from tap_restgeneric.paginators.base import MoreData
from tap_restgeneric.redaction import REDACT
from tap_restgeneric.sync.guards import Guards
from tap_restgeneric.sync.large_pages import Chunks, LargeBodies, large_step
from tap_restgeneric.sync.parallel import Halted
from tap_restgeneric.sync.steps import End, PageStep, UnprovenEnd

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_restgeneric.sync.bookmarks import IncrementalRun, Window
    from tap_restgeneric.sync.streams import RestGenericStream

logger = logging.getLogger(__name__)
__all__ = ["End", "PageSequence", "PageStep", "UnprovenEnd"]  # steps.py's, re-exported


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
        chunked: bool = False,
        session: Callable[[], requests.Session] | None = None,
    ) -> None:
        self.stream = stream
        self.chunked = chunked
        self.context = context
        self.run = run
        self.window = window
        self.max_pages = max_pages
        self.paginator: Paginator = stream.get_new_paginator()
        width = stream.api.max_concurrency if fetch_ahead else 1
        # ``session``: the sequence runs on a worker thread; every request it sends uses a
        # session from there, never the stream's own
        self._prefetch = Prefetcher(
            stream.requester, width, session or stream._new_session, own_session=bool(session)
        )
        self.end: End | None = None
        self.guards = Guards()
        self.large = LargeBodies(stream.name, chunked)
        self._large: Chunks | None = None  # the chunks of the large page being handed out
        self._token: Any = None
        self._pending: tuple[HTTPRequest, requests.PreparedRequest]
        self._previous_size = -1

    def fetch_ahead(self) -> None:
        """From now on fetch pages ahead as far as ``max_concurrency`` (and the host) allow."""
        self._prefetch.width = max(1, self.stream.api.max_concurrency)

    def __iter__(self) -> Generator[PageStep]:
        """Each page in order; the last one carries ``end``."""
        try:
            yield from self._walk()
        finally:
            if self._large is not None:  # stop its parse, delete its file
                self._large.close()
            self._prefetch.close()

    def _walk(self) -> Iterator[PageStep]:
        self._filled = self.stream._start_sequence(self.context, self.run, self.window)
        include = self._filled.include
        self._token = self.paginator.first_token()
        self._pending = self._request(self._token, 1)
        number = 1
        while True:
            step = self._step(number, include)
            if step is None:  # the paginator recovered: the same page again, asked anew
                continue
            self.end = step.end
            yield step
            if step.chunks is not None:  # a large page: judged once its chunks were handed out
                for _ in step.chunks:
                    pass
                self.end = step.end
            if step.end is not None:
                if step.end.failure is not None:
                    raise UnprovenEnd(step.end.failure)
                return
            number += 1

    def _step(self, number: int, include: dict[str, Any]) -> PageStep | None:
        """Fetch page ``number`` and judge it (None: ask for it again, as recovered)."""
        if (halt := self.stream.shared.halt).is_set():
            raise Halted(halt.signum)
        request, prepared = self._pending
        requester = self.stream.requester
        before = requester.retries
        fetched = self._prefetch.fetch(prepared)
        step = PageStep(number, request, prepared, None if fetched is None else fetched.response)
        step.retries = requester.retries - before
        if fetched is None:
            step.end = End("response_actions ignored the response")
            return step
        digest = fetched.digest
        if fetched.spooled is not None:
            keys = self.large.keys(fetched, self.stream.selector, self.paginator)
            if keys is not None:
                return large_step(self, step, fetched, digest, keys, include=include)
            fetched = Fetched(fetched.response, requester.parse_spooled(prepared, fetched))
        records, found = self.stream.selector.select_page(fetched.body)
        page = Page(request, fetched.response, fetched.body, records, number)
        return self._judge(
            step, page, fetched, records, digest=digest, found=found, include=include
        )

    def _judge(
        self,
        step: PageStep,
        page: Page,
        fetched: Fetched,
        records: list[dict[str, Any]],
        *,
        digest: bytes,
        found: bool,
        include: dict[str, Any],
    ) -> PageStep | None:
        """Take a whole page (``records``: its records) as data, or end on it (None: ask for it
        again, as recovered)."""
        doubt = self.guards.suspicion(fetched, found, self.stream.selector.path)
        empty_ends = self.paginator.ends_on_empty_page()
        if doubt is None and (repeat := self.guards.repeat(page, digest, empty_ends)) is not None:
            return self._repeated(step, page, repeat)
        if doubt is not None:
            step.end = self._unproven(page, doubt)
            return step
        self._note(page, found, digest, records)
        step.records = records
        step.kept = self.stream._kept(self.run, self.window, records, include)
        self._advance(step, page)
        return step

    def _note(self, page: Page, found: bool, digest: bytes, first: list[dict[str, Any]]) -> None:
        """Take a page as new data: remember its content, that data was seen, page 1's
        records (``first``: a large page's first chunk), and count it."""
        self.guards.taken(page.number, found, digest, first)
        self.stream.stats.page(len(page.records))

    def _advance(self, step: PageStep, page: Page) -> None:
        """After a page's records: the next request, or a proven end."""
        token = self._token
        try:
            following = self.paginator.advance(page, token)
        except MoreData as exc:
            step.end = self._unproven(page, str(exc))
            return
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
        earlier = self.guards.first_requested(prepared, page.number + 1)
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
        request, prepared = self.stream._request_for(self._filled, self.paginator, token)
        self.guards.requested(prepared, number)
        return request, prepared

    def _repeated(self, step: PageStep, page: Page, reason: str) -> PageStep | None:
        """A repeated page: asked for anew the paginator's way (None; its note logged once), or
        an unproven end (``reason``, or why the paginator has no way on)."""
        try:
            recovery = self.paginator.recover(page, self._token)
        except PaginationError as exc:
            step.end = self._unproven(page, str(exc) or reason)
            return step
        if recovery is None:
            step.end = self._unproven(page, reason)
            return step
        logger.info("Stream %r: %s", self.stream.name, recovery.note)
        self._token = recovery.token
        self._pending = self._request(self._token, page.number)
        return None

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
        last = [page.records[-1]] if page.records else []  # all past_range reads
        if run is not None and window is not None and run.past_range(last, window):
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
            return self.stream._request_for(self._filled, self.paginator, nxt)[1]

        return predict
