"""One window's pages, from the thread that fetches them to the stream that writes them.

A window fetched ahead of its turn must not wait for it (that would make windows side by side
no faster than one after another), nor hold its pages in memory (a year of windows could fill
it). So a feed keeps its first ``IN_MEMORY`` batches in memory and appends later ones to a
temporary file (JSON lines), read back in order when the window's turn comes; the file is
emptied each time it has been read to its end and deleted with the feed.
"""

from __future__ import annotations

import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from tap_restgeneric.sync.bookmarks import Window
    from tap_restgeneric.sync.sequence import End, PageSequence

IN_MEMORY = 1
"""Batches (pages, or chunks of a large page) a feed keeps in memory before spooling."""
Batch = list[dict[str, Any]]
_encode = msgspec.json.Encoder(decimal_format="number").encode
_decode = msgspec.json.Decoder(list[dict[str, Any]]).decode


@dataclass(frozen=True)
class Finished:
    """A window's sequence ended: how, and the error it ended with (None: it completed)."""

    end: End | None
    error: BaseException | None = None


class Feed:
    """A window's batches in the order fetched, then how it finished; one writer, one reader."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.front = threading.Event()  # its pages are the ones being written now
        self.sequence: PageSequence | None = None
        self.finished: Finished | None = None
        self._ready = threading.Condition()
        self._memory: deque[Batch] = deque()
        self._spool: IO[bytes] | None = None
        self._spooled = 0  # batches in the spool not read yet (all newer than those in memory)
        self._read_at = 0
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether its sequence is still being fetched."""
        return self.finished is None

    def put(self, batch: Batch) -> None:
        """Hand over a batch: into memory while there is room and nothing is spooled, else to
        the end of the spool."""
        with self._ready:
            if self._closed:
                return
            if not self._spooled and len(self._memory) < IN_MEMORY:
                self._memory.append(batch)
            else:
                if self._spool is None:
                    self._spool = tempfile.TemporaryFile(prefix="tap-restgeneric-window-")  # noqa: SIM115 (closed by close)
                self._spool.seek(0, 2)
                self._spool.write(_encode(batch) + b"\n")
                self._spooled += 1
            self._ready.notify()

    def finish(self, finished: Finished) -> None:
        """The sequence ended (after its last batch)."""
        with self._ready:
            self.finished = finished
            self._ready.notify()

    def take(self, timeout: float) -> Batch | Finished | None:
        """The next batch, else how it finished once everything was taken (None: nothing yet
        after ``timeout`` seconds)."""
        with self._ready:
            if not self._memory and not self._spooled and self.finished is None:
                self._ready.wait(timeout)
            if self._memory:
                return self._memory.popleft()
            if not self._spooled:
                return self.finished
            assert self._spool is not None
            self._spool.seek(self._read_at)
            line = self._spool.readline()
            self._spooled -= 1
            self._read_at = self._spool.tell()
            if not self._spooled:  # read to its end: start it afresh
                self._spool.seek(0)
                self._spool.truncate()
                self._read_at = 0
        return _decode(line)

    def close(self) -> None:
        """Delete the spool (the batches not taken are dropped)."""
        with self._ready:
            self._closed = True
            if self._spool is not None:
                self._spool.close()
                self._spool = None
            self._memory.clear()
            self._spooled = 0
