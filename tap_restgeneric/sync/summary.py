"""What a run did, per stream: progress lines during long streams and a summary at the end."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tap_restgeneric.sync.sequence import End

logger = logging.getLogger("tap-restgeneric.summary")
PROGRESS_EVERY = 30.0


@dataclass
class StreamStats:
    """Counters one stream keeps while it syncs."""

    name: str
    pages: int = 0
    records: int = 0
    written: int = 0
    end: str | None = None
    reported: bool = False
    retries: int = 0
    throttled: float = 0.0
    schema_changes: int = 0
    bookmark: object = None
    host: str = ""
    """Its host's concurrency over the run (``HostLimiter.report``)."""
    started: float = field(default_factory=time.monotonic)
    _last_progress: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Date windows fetched side by side count their pages from several threads."""

    def page(self, records: int) -> None:
        """Count one page; say how far the stream got every PROGRESS_EVERY seconds."""
        now = time.monotonic()
        with self._lock:
            self.pages += 1
            self.records += records
            if now - self._last_progress < PROGRESS_EVERY:
                return
            self._last_progress = now
            logger.info(
                "Stream %r: %d records from %d pages so far (%.0f s)",
                self.name,
                self.records,
                self.pages,
                now - self.started,
            )

    def ended(self, end: End | None) -> None:
        """Note why the latest request sequence ended (None: it did not finish)."""
        if end is None:
            self.end = "did not finish (the run failed)"
        else:
            self.end = end.reason if end.proven else f"failed without a proven end: {end.reason}"

    def line(self) -> str:
        """The summary line for this stream: records written, pages read, why it ended."""
        bookmark = "none" if self.bookmark is None else repr(self.bookmark)
        ended = f", ended: {self.end or 'did not start (the run failed)'}"
        return (
            f"Stream {self.name!r}: {self.written} records written, {self.pages} pages "
            f"({self.records} records read), {self.retries} retries, "
            f"{self.throttled:.1f} s throttled, {self.schema_changes} schema changes, "
            f"bookmark {bookmark}{ended}"
        )

    def host_line(self) -> str:
        """Its host's concurrency so far: the level reached, cuts, pace ('' when none)."""
        return f"Stream {self.name!r}: host {self.host}" if self.host else ""
