"""Limits shared by every stream: a per-host pause after a 429, and the requests in flight.

Each host has its own adaptive level of requests in flight (``http.adaptive``: from 1 up to
``max_concurrency``) and, when the API documents one or a 429 taught it, a pace; the run as a
whole never has more than ``max_concurrency`` requests on the wire.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tap_restgeneric.http import adaptive
from tap_restgeneric.http.adaptive import HostControl, Ticket
from tap_restgeneric.http.urls import origin

sleep = time.sleep


class HostLimiter:
    """Remembers until when each host asked to be left alone; hands out request slots.

    ``slots``: the most requests in flight over the run (``max_concurrency``), also each
    host's ceiling. ``adaptive``: each host starts at one request in flight and finds its level
    (False: every host may use all ``slots`` at once). ``requests_per_second``: each host's
    budget, a token bucket of one token (None: no budget unless a 429 teaches one).
    """

    def __init__(
        self,
        slots: int = 1,
        *,
        adaptive: bool = True,
        requests_per_second: float | None = None,
    ) -> None:
        self._ready: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._free = threading.Condition(self._lock)
        self.throttled_seconds = 0.0
        self.slots = max(1, slots)
        self.adaptive = adaptive
        self.requests_per_second = requests_per_second
        self._hosts: dict[tuple[str, str], HostControl] = {}
        self._in_flight = 0

    def delay(self, url: str) -> float:
        """Seconds to wait before the next request to ``url``'s host (0 when none)."""
        with self._lock:
            ready = self._ready.get(origin(url), 0.0)
        return max(0.0, ready - time.monotonic())

    def hold(self, url: str, seconds: float) -> None:
        """Pause the host for ``seconds`` (a longer pause already set is kept)."""
        key = origin(url)
        with self._lock:
            self._ready[key] = max(self._ready.get(key, 0.0), time.monotonic() + seconds)
            self.throttled_seconds += seconds

    def _host(self, key: tuple[str, str]) -> HostControl:
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = HostControl(
                self.slots, self.adaptive, self.requests_per_second
            )
        return host

    def level(self, url: str) -> int:
        """Requests ``url``'s host may have in flight now (its adaptive level)."""
        with self._lock:
            return self._host(origin(url)).allowed

    @contextmanager
    def sending(self, url: str) -> Iterator[Ticket]:
        """Hold a slot for one request to ``url`` (waiting for one, then for the host's pace).

        Tell the ticket the response's status (``ticket.answered``); an exception out of the
        block counts as a failed request.
        """
        with self._free:
            host = self._host(origin(url))
            host.waiting += 1
            try:
                while self._in_flight >= self.slots or host.in_flight >= host.allowed:
                    self._free.wait()
            finally:
                host.waiting -= 1
            self._in_flight += 1
            ticket = host.admit(adaptive.monotonic())
            wait = host.pace(ticket, adaptive.monotonic())
        failed = True
        try:
            if wait > 0:
                sleep(wait)
            with self._lock:
                host.sent(ticket, adaptive.monotonic())
            yield ticket
            failed = False
        finally:
            with self._free:
                self._in_flight -= 1
                host.release(ticket, adaptive.monotonic(), failed=failed)
                self._free.notify_all()

    def report(self, url: str) -> str:
        """``url``'s host and what its requests did: the level reached, cuts, pace ('' when
        nothing was sent to it)."""
        key = origin(url)
        with self._lock:
            host = self._hosts.get(key)
            return "" if host is None else f"{key[0]}://{key[1]}: {host.report()}"
