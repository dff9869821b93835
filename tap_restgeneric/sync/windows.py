"""Date windows side by side: several windows fetched at once, written one after another.

An incremental resource with ``window_size`` asks for its range window by window. Each window
is its own request sequence, paginated in order (cursor and link APIs too), so windows can be
fetched at the same time: as many as the host's adaptive level allows (``http.limiter``), at
most ``max_concurrency``, one while the API answers quickly. The stream still writes window 1's
records, then window 2's, and stores a bookmark only after a window's last record, so the
bookmark never passes a window that is not complete: a crash repeats at most the windows that
were in flight. A window fetched ahead of its turn keeps going, its pages spooled to a
temporary file (``window_feed.py``), so memory stays bounded however far ahead it gets.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import requests

from tap_restgeneric.sync.parallel import Halted
from tap_restgeneric.sync.sequence import PageSequence, PageStep
from tap_restgeneric.sync.window_feed import Batch, Feed, Finished

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_restgeneric.sync.bookmarks import IncrementalRun, Window
    from tap_restgeneric.sync.streams import RestGenericStream

POLL_SECONDS = 0.1
AHEAD = 4
"""Windows fetched or spooled but not yet written, at most, per ``max_concurrency``."""


class WindowPages:
    """Each window of an incremental run with an iterator of its kept pages, in window order.

    Iterate for ``(window, pages)`` and exhaust ``pages`` before taking the next window; call
    ``close`` when done (an error or a halt in between stops the windows still in flight).
    """

    def __init__(
        self, stream: RestGenericStream, context: Context | None, run: IncrementalRun
    ) -> None:
        self.stream = stream
        self.context = context
        self.run = run
        self.width = max(1, stream.api.max_concurrency)
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._feeds: deque[Feed] = deque()
        self._windows = run.windows()
        self._more = True  # windows left to start
        self._sessions = threading.local()  # one per worker thread, kept from window to window
        self._warn_once = threading.Lock()
        self._warned = False

    def __iter__(self) -> Iterator[tuple[Window, Iterable[Batch]]]:
        """Each window and its pages; side by side only when there are several windows."""
        first = list(itertools.islice(self._windows, 2))
        self._windows = itertools.chain(first, self._windows)
        if len(first) < 2 or self.width <= 1:
            for window in self._windows:
                yield window, self.stream.pages(self.context, self.run, window)
            return
        self._pool = ThreadPoolExecutor(self.width, thread_name_prefix="window")
        self._start_more()
        while self._feeds:
            feed = self._feeds[0]
            yield feed.window, self._drain(feed)
            self._feeds.popleft().close()
            self._start_more()

    def _start_more(self) -> None:
        """Start windows while fewer are being fetched than the host's level allows (and not
        too many wait for their turn)."""
        level = self.stream.shared.limiter.level(self.stream.endpoint_requests.url)
        running = sum(feed.running for feed in self._feeds)
        while self._more and running < min(self.width, level):
            if len(self._feeds) >= AHEAD * self.width:
                return
            window = next(self._windows, None)
            if window is None:
                self._more = False
                return
            feed = Feed(window, self._spool_full)
            if not self._feeds:
                feed.front.set()
            self._feeds.append(feed)
            running += 1
            assert self._pool is not None
            self._pool.submit(self._fetch, feed)

    def _drain(self, feed: Feed) -> Iterator[Batch]:
        """A window's pages as its thread hands them over; then why it ended."""
        feed.front.set()
        if feed.sequence is not None:
            feed.sequence.fetch_ahead()
        stats, selected = self.stream.stats, self.stream.selected
        while True:
            item = self._take(feed)
            if isinstance(item, Finished):
                stats.ended(item.end)
                if item.error is not None:
                    raise item.error
                return
            yield item
            if selected:
                stats.written += len(item)
            self._start_more()

    def _take(self, feed: Feed) -> Batch | Finished:
        """The next item of ``feed``, waiting for it (a halted run stops waiting)."""
        while True:
            item = feed.take(POLL_SECONDS)
            if item is not None:
                return item
            if (halt := self.stream.shared.halt).is_set():
                raise Halted(halt.signum)
            self._start_more()  # windows ahead may have finished, or the level risen

    def _fetch(self, feed: Feed) -> None:
        """On a worker thread: walk one window's pages into its feed."""
        if self._stop.is_set():
            return
        sequence: PageSequence | None = None
        steps: Generator[PageStep] | None = None
        try:
            sequence = PageSequence(
                self.stream,
                self.context,
                self.run,
                feed.window,
                chunked=True,
                fetch_ahead=feed.front.is_set(),
                session=self._session,
            )
            feed.sequence = sequence
            if feed.front.is_set():  # it came to the front while being set up
                sequence.fetch_ahead()
            steps = iter(sequence)
            for step in steps:
                for kept in step.batches():
                    if self._stop.is_set():
                        return
                    feed.put(kept)
            feed.finish(Finished(sequence.end))
        except BaseException as exc:  # handed to the stream, raised there in window order
            feed.finish(Finished(None if sequence is None else sequence.end, exc))
        finally:
            if steps is not None:  # an early stop: drop pages fetched ahead, spooled bodies
                steps.close()

    def _spool_full(self, exc: OSError) -> None:
        """Say once that windows ahead of their turn wait instead of spooling (nothing lost)."""
        with self._warn_once:
            if self._warned:
                return
            self._warned = True
        self.stream.logger.warning(
            "stream %r: no room to keep the pages of date windows fetched ahead of their turn "
            "in a temporary file in %s (%s): they wait for their turn instead (slower, nothing "
            "lost); free space there or set TMPDIR",
            self.stream.name,
            tempfile.gettempdir(),
            exc.strerror or exc,
        )

    def _session(self) -> requests.Session:
        """This worker thread's session (its connections reused by the windows it fetches)."""
        session: requests.Session | None = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = self.stream._new_session()
        return session

    def close(self) -> None:
        """Stop the windows still in flight (each after its current request) and let go."""
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        for feed in self._feeds:
            feed.close()
        self._feeds.clear()
