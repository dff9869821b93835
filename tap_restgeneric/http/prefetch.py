"""Fetching pages ahead on worker threads while the page loop still consumes them in order.

How many pages are ahead follows the host's adaptive level (``http.limiter``): as many as it
allows in flight, at most ``width`` (``max_concurrency``), none while the API answers quickly.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import requests

from tap_restgeneric.http.adaptive import SLOW_RESPONSE
from tap_restgeneric.http.requester import Fetched, Requester

Key = tuple[Any, ...]
RECENT = 3
"""Responses that must each take ``SLOW_RESPONSE`` before fetching ahead pays: below that,
threads cost more than the wait they save (a fast API is fastest one page at a time)."""
__all__ = ["SLOW_RESPONSE", "Prefetcher", "request_key"]


def request_key(request: requests.PreparedRequest) -> Key:
    """What makes two requests the same: method, URL with query, body."""
    return (request.method, request.url, request.body)


class Prefetcher:
    """Keeps predicted requests in flight (as many as the host's level, up to ``width``);
    asked-for ones are awaited."""

    def __init__(
        self,
        requester: Requester,
        width: int,
        new_session: Callable[[], requests.Session],
        *,
        own_session: bool = False,
    ) -> None:
        self.requester = requester
        self.width = max(1, width)
        """Pages kept in flight at most; may change between pages (a window coming to front)."""
        self._new_session = new_session
        self._own_session = own_session  # used from a worker thread: never the stream's session
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[Key, Future[Fetched | None]] = {}
        self._url = ""  # of the requests: its host's level says how many go ahead
        self._furthest = 0  # the last page number a request was started for
        self._durations: deque[float] = deque(maxlen=RECENT)  # of the latest requests

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._new_session()
        return session

    def _timed(
        self, request: requests.PreparedRequest, session: requests.Session | None = None
    ) -> Fetched | None:
        started = time.monotonic()
        try:
            return self.requester.fetch(request, session=session)
        finally:
            self._durations.append(time.monotonic() - started)

    def _fetch_in_worker(self, request: requests.PreparedRequest) -> Fetched | None:
        return self._timed(request, self._session())

    def fetch(self, request: requests.PreparedRequest) -> Fetched | None:
        """The response to ``request``: from a prefetch when one was started, else sent now."""
        self._url = request.url or self._url
        future = self._pending.pop(request_key(request), None)
        if future is not None:
            return future.result()
        return self._timed(request, self._session() if self._own_session else None)

    @property
    def slow(self) -> bool:
        """Whether even the quickest of the latest responses took ``SLOW_RESPONSE``."""
        return bool(self._durations) and min(self._durations) >= SLOW_RESPONSE

    def ahead(self, number: int, predict: Callable[[int], requests.PreparedRequest | None]) -> None:
        """Start the requests for the pages after page ``number`` that are not yet in flight.

        ``predict(k)`` is the request ``k`` pages after it (None: not known); each is built once.
        Nothing starts while the API answers quickly (``slow``). Up to the host's level are
        pending (fetched or in flight): when the level is reached and the responses stay quick
        enough, the limiter raises it; after a 429 it cuts it, and fewer go ahead.
        """
        if self.width <= 1 or not self.slow:
            return
        level = min(self.width, self.requester.limiter.level(self._url))
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.width)
        for ahead in range(max(1, self._furthest - number + 1), level + 1):
            if len(self._pending) >= level:
                return
            request = predict(ahead)
            if request is None:
                return
            self._furthest = number + ahead
            key = request_key(request)
            if key not in self._pending:
                self._pending[key] = self._pool.submit(self._fetch_in_worker, request)

    def close(self) -> None:
        """Drop what was fetched beyond the end (responses discarded, spooled files deleted)."""
        for future in self._pending.values():
            future.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for future in self._pending.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                fetched = future.result()
                if fetched is not None:
                    fetched.close()
        self._pending.clear()
