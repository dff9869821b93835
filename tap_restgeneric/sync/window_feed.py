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
from collections.abc import Callable
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

    def __init__(self, window: Window, spool_full: Callable[[OSError], None] | None = None) -> None:
        self.window = window
        self.spool_full = spool_full  # told when the spool cannot be written
        self.front = threading.Event()  # its pages are the ones being written now
        self.sequence: PageSequence | None = None
        self.finished: Finished | None = None
        self._ready = threading.Condition()
        self._memory: deque[Batch] = deque()
        self._spool: IO[bytes] | None = None  # unbuffered: a failed write leaves nothing behind
        self._ends: deque[int] = deque()  # where each batch in the spool not read yet ends
        self._read_at = 0
        self._written_to = 0  # the spool's end after its last whole batch
        self._spool_failed = False  # no room for it: wait for the reader instead
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether its sequence is still being fetched."""
        return self.finished is None

    def put(self, batch: Batch) -> None:
        """Hand over a batch: into memory while there is room and nothing is spooled, else to
        the end of the spool; when the spool cannot be written (a full disk), wait until the
        reader has taken everything before it (the fetching thread waits, nothing is lost)."""
        with self._ready:
            if self._closed:
                return
            if not self._room() and not self._spool_failed and self._spooled_batch(batch):
                self._ready.notify_all()
                return
            while not self._room():  # only once the spool failed: batches stay in order
                self._ready.wait(1.0)
                if self._closed:
                    return
            self._memory.append(batch)
            self._ready.notify_all()

    def _room(self) -> bool:
        """Whether a batch may go to memory: nothing spooled before it and room left."""
        return not self._ends and len(self._memory) < IN_MEMORY

    def _spooled_batch(self, batch: Batch) -> bool:
        """Append ``batch`` to the spool; False (and no more spooling) when that fails."""
        data = memoryview(_encode(batch) + b"\n")
        try:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile(prefix="tap-restgeneric-window-", buffering=0)  # noqa: SIM115 (closed by close)
            self._spool.seek(self._written_to)
            done = 0
            while done < len(data):  # an unbuffered write may take part of it
                wrote = self._spool.write(data[done:])
                if not wrote:
                    raise OSError("the temporary file took no more bytes")
                done += wrote
        except OSError as exc:
            self._spool_failed = True
            if self.spool_full is not None:
                self.spool_full(exc)
            return False
        self._written_to += len(data)
        self._ends.append(self._written_to)
        return True

    def finish(self, finished: Finished) -> None:
        """The sequence ended (after its last batch)."""
        with self._ready:
            self.finished = finished
            self._ready.notify()

    def take(self, timeout: float) -> Batch | Finished | None:
        """The next batch, else how it finished once everything was taken (None: nothing yet
        after ``timeout`` seconds)."""
        with self._ready:
            if not self._memory and not self._ends and self.finished is None:
                self._ready.wait(timeout)
            if self._memory:
                self._ready.notify_all()  # a waiting writer may have room now
                return self._memory.popleft()
            if not self._ends:
                return self.finished
            assert self._spool is not None
            end = self._ends.popleft()
            self._spool.seek(self._read_at)
            line = b""
            while len(line) < end - self._read_at:  # an unbuffered read may return part
                piece = self._spool.read(end - self._read_at - len(line))
                if not piece:
                    raise OSError(f"the temporary file of a date window ended at {len(line)}")
                line += piece
            self._read_at = end
            if not self._ends:  # read to its end: start it afresh
                self._spool.truncate(0)
                self._read_at = self._written_to = 0
                self._ready.notify_all()
        return _decode(line)

    def close(self) -> None:
        """Delete the spool (the batches not taken are dropped)."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()  # a writer waiting for room gives up
            if self._spool is not None:
                self._spool.close()
                self._spool = None
            self._memory.clear()
            self._ends.clear()
