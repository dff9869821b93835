"""Fetching pages ahead on worker threads while the page loop still consumes them in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import requests

from tap_restgeneric.requester import Fetched, Requester

Key = tuple[Any, ...]
SLOW_RESPONSE = 0.005
"""Seconds a response takes before fetching ahead pays: below that, threads cost more than
the wait they save (a fast API is fastest one page at a time)."""


def request_key(request: requests.PreparedRequest) -> Key:
    """What makes two requests the same: method, URL with query, body."""
    return (request.method, request.url, request.body)


class Prefetcher:
    """Keeps predicted requests in flight (up to ``width`` - 1); asked-for ones are awaited."""

    def __init__(
        self, requester: Requester, width: int, new_session: Callable[[], requests.Session]
    ) -> None:
        self.requester = requester
        self.width = max(1, width)
        self._new_session = new_session
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[Key, Future[Fetched | None]] = {}
        self._throttled_at = requester.limiter.throttled_seconds
        self._furthest = 0  # the last page number a request was started for
        self._slow = False  # a response took SLOW_RESPONSE or longer

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._new_session()
        return session

    def _fetch_in_worker(self, request: requests.PreparedRequest) -> Fetched | None:
        return self.requester.fetch(request, session=self._session())

    def fetch(self, request: requests.PreparedRequest) -> Fetched | None:
        """The response to ``request``: from a prefetch when one was started, else sent now."""
        started = time.monotonic()
        future = self._pending.pop(request_key(request), None)
        fetched = self.requester.fetch(request) if future is None else future.result()
        self._slow |= time.monotonic() - started >= SLOW_RESPONSE
        return fetched

    def ahead(self, number: int, predict: Callable[[int], requests.PreparedRequest | None]) -> None:
        """Start the requests for the pages after page ``number`` that are not yet in flight.

        ``predict(k)`` is the request ``k`` pages after it (None: not known); each is built once.
        Nothing starts until a response was slow (``SLOW_RESPONSE``).
        """
        if self.requester.limiter.throttled_seconds > self._throttled_at:
            self.width = 1  # the API pushed back: no more speculation for this sequence
        if self.width <= 1 or not self._slow:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.width - 1)
        for ahead in range(max(1, self._furthest - number + 1), self.width):
            if len(self._pending) >= self.width - 1:
                return
            request = predict(ahead)
            if request is None:
                return
            self._furthest = number + ahead
            key = request_key(request)
            if key not in self._pending:
                self._pending[key] = self._pool.submit(self._fetch_in_worker, request)

    def close(self) -> None:
        """Drop what was fetched beyond the end (the responses are discarded)."""
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
