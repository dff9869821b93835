"""A total deadline for the status line and headers of a response, however slowly they come.

A socket timeout bounds each read, so a server sending one header byte at a time could hold a
request for ever. Connections made through ``DeadlineAdapter`` give the header phase the
socket's timeout (the time the request has left) as one budget: a watchdog thread shuts the
socket down when it runs out, and the request fails as a read timeout (retried as one).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ReadTimeoutError


class HeadTimeout(ReadTimeoutError):
    """The response head did not arrive within the request's time (a read timeout)."""

    def __init__(self, budget: float) -> None:
        message = f"no complete response headers within {budget:g} s (request_timeout)"
        super().__init__(None, "", message)  # type: ignore[arg-type]  # no pool at hand
        self.message = message

    def __str__(self) -> str:
        return self.message


class _Watch:
    """One armed deadline: the socket to shut down, and whether that happened."""

    __slots__ = ("fired", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock: socket.socket | None = sock
        self.fired = False


class Watchdog:
    """One daemon thread that shuts sockets down once their deadline has passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, sock: socket.socket) -> _Watch:
        """Watch ``sock`` until ``disarm`` or ``deadline`` (a ``time.monotonic`` reading)."""
        watch = _Watch(sock)
        with self._wake:
            heapq.heappush(self._heap, (deadline, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadline", daemon=True)
                self._thread.start()
            self._wake.notify()
        return watch

    def disarm(self, watch: _Watch) -> None:
        """Stop watching (the entry is dropped when its deadline comes up)."""
        with self._wake:
            watch.sock = None

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._heap and self._heap[0][2].sock is None:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, _, watch = self._heap[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                heapq.heappop(self._heap)
                self._shut(watch)

    @staticmethod
    def _shut(watch: _Watch) -> None:
        sock, watch.sock = watch.sock, None
        if sock is None:
            return
        watch.fired = True
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


WATCHDOG = Watchdog()
SLACK = 0.1
"""Seconds past the budget before the watchdog acts."""


class _HeaderDeadline:
    """Mixin for urllib3 connections: the status line and headers within one budget."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        """Read the response head, shutting the socket down once its timeout has passed."""
        sock = self.sock
        budget = sock.gettimeout() if sock is not None else None
        if sock is None or budget is None:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        # A little slack: a silent server meets the socket's own timeout first, as it always
        # did; only one that keeps trickling bytes is cut off here.
        watch = WATCHDOG.arm(time.monotonic() + budget + SLACK, sock)
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        except Exception:
            if watch.fired:
                raise HeadTimeout(budget) from None
            raise
        finally:
            WATCHDOG.disarm(watch)


class DeadlineHTTPConnection(_HeaderDeadline, HTTPConnection):
    """An HTTP connection whose response head has a total deadline."""


class DeadlineHTTPSConnection(_HeaderDeadline, HTTPSConnection):
    """An HTTPS connection whose response head has a total deadline."""


class DeadlineHTTPConnectionPool(HTTPConnectionPool):
    """A pool of ``DeadlineHTTPConnection``."""

    ConnectionCls = DeadlineHTTPConnection


class DeadlineHTTPSConnectionPool(HTTPSConnectionPool):
    """A pool of ``DeadlineHTTPSConnection``."""

    ConnectionCls = DeadlineHTTPSConnection


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with connections whose response head has a total deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The usual pool manager, with the deadline pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": DeadlineHTTPConnectionPool,
            "https": DeadlineHTTPSConnectionPool,
        }


def mount_deadlines(session: requests.Session) -> None:
    """Send the session's HTTP and HTTPS requests through ``DeadlineAdapter``."""
    adapter = DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
