"""Date windows side by side: several windows fetched at once, written one after another.

An incremental resource with ``window_size`` asks for its range window by window. Each window
is its own request sequence, paginated in order (cursor and link APIs too), so windows can be
fetched at the same time: as many as the host's adaptive level allows (``http.limiter``), at
most ``max_concurrency``, one while the API answers quickly. The stream still writes window 1's
records, then window 2's, and stores a bookmark only after a window's last record, so the
bookmark never passes a window that is not complete: a crash repeats at most the windows that
were in flight. Each window waiting its turn holds at most ``QUEUED_BATCHES`` pages.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from tap_restgeneric.sync.parallel import Halted
from tap_restgeneric.sync.sequence import End, PageSequence, PageStep

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_restgeneric.sync.bookmarks import IncrementalRun, Window
    from tap_restgeneric.sync.streams import RestGenericStream

QUEUED_BATCHES = 4
"""Pages (or chunks of a large page) a window fetched ahead of its turn holds at most."""
POLL_SECONDS = 0.1
Batch = list[dict[str, Any]]


@dataclass(frozen=True)
class _Finished:
    """A window's sequence ended: how, and the error it ended with (None: it completed)."""

    end: End | None
    error: BaseException | None = None


class _Feed:
    """One window's pages, from the thread that fetches them to the stream that writes them."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.queue: queue.Queue[Batch | _Finished] = queue.Queue(QUEUED_BATCHES)
        self.sequence: PageSequence | None = None
        self.front = threading.Event()  # its pages are the ones being written now


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
        self._feeds: deque[_Feed] = deque()
        self._windows = run.windows()
        self._more = True  # windows left to start
        self._sessions = threading.local()  # one per worker thread, kept from window to window

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
            self._feeds.popleft()
            self._start_more()

    def _start_more(self) -> None:
        """Start windows until as many are in flight as the host's level allows."""
        level = self.stream.shared.limiter.level(self.stream.endpoint_requests.url)
        while self._more and len(self._feeds) < min(self.width, level):
            window = next(self._windows, None)
            if window is None:
                self._more = False
                return
            feed = _Feed(window)
            if not self._feeds:
                feed.front.set()
            self._feeds.append(feed)
            assert self._pool is not None
            self._pool.submit(self._fetch, feed)

    def _drain(self, feed: _Feed) -> Iterator[Batch]:
        """A window's pages as its thread hands them over; then why it ended."""
        feed.front.set()
        if feed.sequence is not None:
            feed.sequence.fetch_ahead()
        stats, selected = self.stream.stats, self.stream.selected
        while True:
            item = self._take(feed)
            if isinstance(item, _Finished):
                stats.ended(item.end)
                if item.error is not None:
                    raise item.error
                return
            yield item
            if selected:
                stats.written += len(item)
            self._start_more()

    def _take(self, feed: _Feed) -> Batch | _Finished:
        """The next item of ``feed``, waiting for it (a halted run stops waiting)."""
        while True:
            try:
                return feed.queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if (halt := self.stream.shared.halt).is_set():
                    raise Halted(halt.signum) from None

    def _fetch(self, feed: _Feed) -> None:
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
                    if not self._put(feed, kept):
                        return
            self._put(feed, _Finished(sequence.end))
        except BaseException as exc:  # handed to the stream, raised there in window order
            self._put(feed, _Finished(None if sequence is None else sequence.end, exc))
        finally:
            if steps is not None:  # an early stop: drop pages fetched ahead, spooled bodies
                steps.close()

    def _session(self) -> requests.Session:
        """This worker thread's session (its connections reused by the windows it fetches)."""
        session: requests.Session | None = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = self.stream._new_session()
        return session

    def _put(self, feed: _Feed, item: Batch | _Finished) -> bool:
        """Hand ``item`` over once there is room; False when the windows were stopped."""
        while not self._stop.is_set():
            try:
                feed.queue.put(item, timeout=POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def close(self) -> None:
        """Stop the windows still in flight (each after its current request) and let go."""
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self._feeds.clear()
