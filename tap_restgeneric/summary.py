"""What a run did, per stream: progress lines during long streams and a summary at the end."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

logger = logging.getLogger("tap-restgeneric.summary")
PROGRESS_EVERY = 30.0


@dataclass
class StreamStats:
    """Counters one stream keeps while it syncs."""

    name: str
    pages: int = 0
    records: int = 0
    retries: int = 0
    throttled: float = 0.0
    schema_changes: int = 0
    bookmark: object = None
    started: float = field(default_factory=time.monotonic)
    _last_progress: float = field(default_factory=time.monotonic)

    def page(self, records: int) -> None:
        """Count one page; say how far the stream got every PROGRESS_EVERY seconds."""
        self.pages += 1
        self.records += records
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_EVERY:
            self._last_progress = now
            logger.info(
                "Stream %r: %d records from %d pages so far (%.0f s)",
                self.name,
                self.records,
                self.pages,
                now - self.started,
            )

    def line(self) -> str:
        """The summary line for this stream."""
        bookmark = "none" if self.bookmark is None else repr(self.bookmark)
        return (
            f"Stream {self.name!r}: {self.records} records, {self.pages} pages, "
            f"{self.retries} retries, {self.throttled:.1f} s throttled, "
            f"{self.schema_changes} schema changes, bookmark {bookmark}"
        )
