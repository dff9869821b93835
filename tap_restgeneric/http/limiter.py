"""Limits shared by every stream: a per-host pause after a 429, and the requests in flight."""

from __future__ import annotations

import threading
import time

from tap_restgeneric.http.urls import origin


class HostLimiter:
    """Remembers until when each host asked to be left alone; hands out request slots."""

    def __init__(self, slots: int = 1) -> None:
        self._ready: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self.throttled_seconds = 0.0
        self.slot = threading.BoundedSemaphore(max(1, slots))
        """Held while a request is on the wire (``with limiter.slot:``)."""

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
