"""Large bodies parsed once with ijson, record chunk by record chunk, along a dotted data path.

``ChunkedParse`` hands out the chunks; ``StreamedRecords`` is what a paginator sees of such a page.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import IO, Any, overload

import ijson

CHUNK_RECORDS = 5000
"""Records per chunk of a body parsed in chunks."""


class StreamedRecords(Sequence[dict[str, Any]]):
    """The records of a page handed out in chunks, as its paginator and stop_condition see them:
    how many there were, the first chunk and the last record. Nothing else is held, so reading
    another record (or iterating) fails loudly instead of seeing a partial page."""

    def __init__(self, count: int, first: list[dict[str, Any]], last: dict[str, Any]) -> None:
        self._count = count
        self.first = first
        self.last = last

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        if isinstance(index, int):
            position = index + self._count if index < 0 else index
            if 0 <= position < len(self.first):
                return self.first[position]
            if position == self._count - 1:
                return self.last
        raise IndexError(self._not_held(f"record {index!r}"))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        raise TypeError(self._not_held("iterating over its records"))

    def __repr__(self) -> str:
        return f"<{self._count} records parsed in chunks>"

    def _not_held(self, what: str) -> str:
        return (
            f"{what} is not available: this large page's {self._count:,} records were parsed "
            f"and written in chunks; only len(), the first {len(self.first):,} and the last "
            "can be read"
        )


class ChunkedParseError(ValueError):
    """A large body that is not valid JSON where the chunked parse reached."""


class _Stopped(Exception):
    """The consumer of a chunked parse went away."""


class ChunkedParse:
    """One pass of ijson over a large JSON body, handing out the records at a dotted data path
    in chunks of ``CHUNK_RECORDS``, in order, while the rest of the document is built.

    Iterate it for the chunks; afterwards ``body`` is the document with the records array left
    empty (``streamed``: the path held an array whose items were the records; otherwise ``body``
    is the whole document and no chunk was handed out), and ``records`` counts them.

    Objects are parsed by ijson's C backend on a worker thread, straight into the document
    (the first object built is the root): between two reads of the file the worker moves the
    finished items of the array at the data path into the next chunk (all but the last, which
    may still be filling). A bounded queue keeps at most two chunks ahead of the consumer.
    A top-level array (no keys) is read with ijson's ``items`` in the consumer's thread.

    Numbers come out as msgspec's parse gives them (ints int, others float): ijson's fast
    numbers, or, when the body holds an integer past 64 bits, exact numbers from a second pass
    (decimals made floats) that skips the records already handed out.
    """

    def __init__(self, file: IO[bytes], keys: tuple[str, ...], chunk: int | None = None) -> None:
        self.file = file
        self.keys = keys
        self.chunk = CHUNK_RECORDS if chunk is None else chunk
        self.body: Any = None
        self.streamed = False
        self.records = 0
        self._start = file.tell()
        self._exact = False
        self._skip = 0
        self._root: dict[str, Any] | None = None
        self._pending: list[Any] = []
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        try:
            if not self.keys:
                yield from self._array()
                return
            self._worker = threading.Thread(
                target=self._work, name="restgeneric-chunked-parse", daemon=True
            )
            self._worker.start()
            while True:
                kind, value = self._next()
                if kind == "chunk":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    self.body = value
                    return
        except ijson.JSONError as exc:
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ChunkedParseError(problem) from None
        finally:
            self.close()

    def close(self) -> None:
        """Stop the worker (at its next read of the file) and wait for it."""
        self._stop.set()
        worker, self._worker = self._worker, None
        if worker is not None:
            while worker.is_alive():
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    worker.join(0.05)

    def _restart(self, exc: ijson.JSONError) -> bool:
        """After a parse error: whether it was an integer past 64 bits, and if so go back to the
        start for the exact pass (skipping the records handed out)."""
        if self._exact or "integer overflow" not in str(exc):
            return False
        self._exact = True
        self._skip = self.records
        self._root = None
        self._pending = []
        self.file.seek(self._start)
        return True

    def _records(self, items: list[Any]) -> list[dict[str, Any]]:
        """Items as records (non-objects wrapped as ``value``), counted; exact numbers made
        floats; items handed out before a restart dropped."""
        if self._skip:
            dropped = min(self._skip, len(items))
            self._skip -= dropped
            items = items[dropped:]
        if self._exact:
            items = [_floats(item) for item in items]
        self.records += len(items)
        return [item if isinstance(item, dict) else {"value": item} for item in items]

    def _array(self) -> Iterator[list[dict[str, Any]]]:
        """A top-level array: its items are the records; the body is the array."""
        self.streamed = True
        while True:
            pending: list[Any] = []
            try:
                for item in ijson.items(self.file, "item", use_float=not self._exact):
                    pending.append(item)
                    if len(pending) >= self.chunk:
                        if chunk := self._records(pending):
                            yield chunk
                        pending = []
            except ijson.JSONError as exc:
                if self._restart(exc):
                    continue
                raise
            break
        if pending and (chunk := self._records(pending)):
            yield chunk
        self.body = []

    def _next(self) -> tuple[str, Any]:
        while True:
            try:
                return self._queue.get(timeout=1.0)
            except queue.Empty:
                worker = self._worker
                if worker is None or not worker.is_alive():
                    return "error", ChunkedParseError("the parse stopped without a result")

    # the worker's side

    def _work(self) -> None:
        try:
            while True:
                try:
                    items = ijson.items(self, "", map_type=self._map, use_float=not self._exact)
                    bodies = list(items)
                except ijson.JSONError as exc:
                    if self._restart(exc):
                        continue
                    raise
                break
            self._harvest(final=True)
            if self._pending and (chunk := self._records(self._pending)):
                self._put("chunk", chunk)
            body = bodies[-1] if bodies else None
            self._put("done", _floats(body) if self._exact else body)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the consumer, raised there
            with contextlib.suppress(_Stopped):
                self._put("error", exc)

    def _map(self) -> dict[str, Any]:
        made: dict[str, Any] = {}
        if self._root is None:
            self._root = made
        return made

    def read(self, size: int = -1) -> bytes:
        """ijson reads the body through this: between two reads, hand out finished records."""
        if self._stop.is_set():
            raise _Stopped
        self._harvest(final=False)
        return self.file.read(size)

    def _harvest(self, *, final: bool) -> None:
        node: Any = self._root
        for key in self.keys:
            if not isinstance(node, dict):
                return
            node = node.get(key)
        if not isinstance(node, list):
            return
        self.streamed = True
        done = len(node) if final else len(node) - 1
        if done > 0:
            self._pending.extend(node[:done])
            del node[:done]
        while len(self._pending) >= self.chunk:
            chunk = self._pending[: self.chunk]
            del self._pending[: self.chunk]
            if chunk := self._records(chunk):
                self._put("chunk", chunk)

    def _put(self, kind: str, value: Any) -> None:
        while True:
            if self._stop.is_set():
                raise _Stopped
            try:
                self._queue.put((kind, value), timeout=0.1)
                return
            except queue.Full:
                continue


def _floats(value: Any) -> Any:
    """``value`` with every Decimal (ijson's exact non-integer numbers) made a float, in place."""
    if isinstance(value, Decimal):
        return float(value)
    stack = [value]
    while stack:
        node = stack.pop()
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in list(pairs):
            if isinstance(item, Decimal):
                node[key] = float(item)
            elif isinstance(item, dict | list):
                stack.append(item)
    return value
