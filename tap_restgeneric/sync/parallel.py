"""Independent top-level streams synced side by side; STATE written from a consistent snapshot."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

import msgspec

from tap_restgeneric.sdk import StateWriter

if TYPE_CHECKING:
    from singer_sdk.helpers.types import TapState
    from singer_sdk.singerlib.encoding.base import GenericSingerWriter
    from singer_sdk.streams import Stream

    from tap_restgeneric.sync.shared import Halt

logger = logging.getLogger(__name__)
_json = msgspec.json.Encoder()


class SnapshotStateWriter(StateWriter):
    """Writes STATE from a copy taken in one step, one message at a time.

    The tap's state is one dict shared by every stream; copying it with msgspec (C code, no
    Python step in between) sees it in one consistent moment even while other threads update
    their streams' entries. The copy is taken under the lock that orders the writes, so a
    STATE line is never older than the one before it (bookmarks only move forward).
    """

    def __init__(self, message_writer: GenericSingerWriter[Any, Any]) -> None:
        super().__init__(message_writer)
        self._lock = threading.Lock()

    def write_state(self, state: TapState) -> None:
        """Write STATE if it changed since the last one written."""
        with self._lock:
            super().write_state(msgspec.json.decode(_json.encode(state)))


class Halted(Exception):
    """The run was stopped before its end (``signum``: by that signal; None: stdout closed)."""

    def __init__(self, signum: int | None = None) -> None:
        self.signum = signum
        why = "stdout closing" if signum is None else signal.Signals(signum).name
        super().__init__(
            f"stopped by {why} before the end: each stream stopped at its next page; the last "
            "STATE holds what was written, and the next run resumes there"
        )


def sync_side_by_side(roots: Sequence[Stream], width: int, halt: Halt) -> None:
    """Sync each top-level stream (its children with it) on up to ``width`` threads.

    A stream that fails does not stop the others: they are independent, so each runs to its
    own end and stores its bookmark (a resume then repeats nothing of theirs). The first
    failure, in stream order, is raised once every stream is done; the others are logged. A
    signal sets ``halt``: each stream stops once its current page is written, and ``Halted``
    is raised when they all did.
    """

    def sync_one(stream: Stream) -> None:
        try:
            stream.sync()
        except BrokenPipeError:  # stdout's reader is gone: nothing more can be delivered
            halt.set()
            raise
        stream.finalize_state_progress_markers()

    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="stream")
    futures = [pool.submit(sync_one, stream) for stream in roots]
    try:
        # Wake up now and then: a signal caught by a worker thread is handled only when the
        # main thread runs Python code again.
        while wait(futures, timeout=0.1).not_done:
            pass
    except BaseException:  # a second signal: stop every stream before its next page
        halt.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    failures = [f.exception() for f in futures]
    failed = [exc for exc in failures if exc is not None and not isinstance(exc, Halted)]
    broken: list[BaseException] = [e for e in failed if isinstance(e, BrokenPipeError)]
    failed = broken[:1] or failed  # a closed stdout is the one thing to say
    for extra in failed[1:]:
        logger.error("%s", extra)
    if failed:
        raise failed[0]
    halted = [exc for exc in failures if isinstance(exc, Halted)]
    if halted:
        raise halted[0]
