"""Record selection from a parsed body: compiled JSONPaths, dotted fast paths, auto-detect.

A body too large to hold (a spooled response) is parsed once with ijson, record chunk by record
chunk, along a plain dotted data path (``ChunkedParse``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any, overload

import ijson
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse as jsonpath_parse

logger = logging.getLogger(__name__)

WHOLE_BODY = "$"
DATA_KEYS = (
    "data",
    "items",
    "results",
    "entries",
    "records",
    "rows",
    "entities",
    "payload",
    "content",
    "objects",
    "values",
)
_DOTTED = re.compile(r"^(?:\$\.)?[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)*$")
_MISSING = object()

Finder = Callable[[Any], list[Any]]


def check_jsonpath(path: str) -> str | None:
    """Return a parse error message for a JSONPath, or None when it compiles."""
    try:
        jsonpath_parse(path)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def compile_path(path: str) -> Finder:
    """Compile a JSONPath into a function returning all its matches in a document."""
    if path in (WHOLE_BODY, ""):
        return lambda doc: [doc]
    if _DOTTED.match(path):
        keys = tuple(path.removeprefix("$.").split("."))

        def find_dotted(doc: Any) -> list[Any]:
            for key in keys:
                if not isinstance(doc, dict):
                    return []
                doc = doc.get(key, _MISSING)
                if doc is _MISSING:
                    return []
            return [doc]

        return find_dotted
    expr = jsonpath_parse(path)
    return lambda doc: [match.value for match in expr.find(doc)]


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def static_prefix(path: str) -> tuple[str, ...]:
    """The plain keys a JSONPath starts with, up to its first wildcard, index or filter."""
    keys: list[str] = []
    for part in path.removeprefix("$").removeprefix(".").split("."):
        if not _PLAIN_KEY.match(part):
            break
        keys.append(part)
    return tuple(keys)


def has_keys(doc: Any, keys: tuple[str, ...]) -> bool:
    """Whether ``doc`` has the nested keys (an empty tuple: whether there is a document)."""
    for key in keys:
        if not isinstance(doc, dict) or key not in doc:
            return False
        doc = doc[key]
    return bool(keys) or doc is not None


def first_value(finder: Finder, doc: Any) -> Any:
    """Return the first match of a compiled path, or None."""
    found = finder(doc)
    return found[0] if found else None


def as_records(found: list[Any]) -> list[dict[str, Any]]:
    """Turn selector matches into records: lists are flattened, scalars wrapped as ``value``."""
    if len(found) == 1 and found[0] is None:
        return []
    items: list[Any] = []
    for value in found:
        if isinstance(value, list):
            items.extend(value)
        elif value is not None:
            items.append(value)
    return [item if isinstance(item, dict) else {"value": item} for item in items]


def detect_selector(body: Any) -> str:
    """Guess the records path as dlt does: a data-like list (3 keys deep), any list, else $."""
    if not isinstance(body, dict):
        return WHOLE_BODY
    lists: list[tuple[str, ...]] = []

    def walk(node: dict[str, Any], trail: tuple[str, ...]) -> None:
        for key, value in node.items():
            if isinstance(value, list):
                lists.append((*trail, key))
            elif isinstance(value, dict) and len(trail) < 2:
                walk(value, (*trail, key))

    walk(body, ())
    for keys in lists:
        if keys[-1] in DATA_KEYS:
            return ".".join(keys)
    return ".".join(lists[0]) if lists else WHOLE_BODY


class RecordSelector:
    """Extracts the records of one page; the path is compiled once, or detected on page one."""

    def __init__(self, path: str | None, stream_name: str) -> None:
        self.path = path
        self.stream_name = stream_name
        self._finder: Finder | None = None
        self._prefix: tuple[str, ...] = ()
        if path is not None:
            self._compile(path)

    def _compile(self, path: str) -> None:
        self._finder = compile_path(path)
        self._prefix = static_prefix(path) if path != WHOLE_BODY else ()

    def select(self, body: Any) -> list[dict[str, Any]]:
        """Return the records in a parsed body."""
        return self.select_page(body)[0]

    def adopt(self, path: str) -> None:
        """Use ``path``, guessed from the first response (logged once)."""
        self.path = path
        logger.info(
            "Stream '%s': no data_selector configured; guessed %r from the first response "
            "(set data_selector to make this explicit)",
            self.stream_name,
            path,
        )
        self._compile(path)

    def select_page(self, body: Any) -> tuple[list[dict[str, Any]], bool]:
        """The records in a parsed body, and whether the data path was there at all.

        The data path is there when the keys it starts with are (up to a wildcard, so a
        ``items[*].data`` over an empty ``items`` is there, with no records); null at the path
        counts as there; an empty body has nothing.
        """
        if self._finder is None:
            self.adopt(detect_selector(body))
        assert self._finder is not None
        found = self._finder(body)
        there = has_keys(body, self._prefix) or any(value is not None for value in found)
        return as_records(found), there


# --------------------------------------------------------------------------- large bodies

CHUNK_RECORDS = 5000
"""Records per chunk of a body parsed in chunks."""
_BOM = b"\xef\xbb\xbf"


def chunk_keys(path: str) -> tuple[str, ...] | None:
    """The keys of a data path along which a large body can be parsed in chunks: () for the
    whole body (a top-level array), None for a path that is not a plain dotted one."""
    if path in (WHOLE_BODY, ""):
        return ()
    if _DOTTED.match(path):
        return tuple(path.removeprefix("$.").split("."))
    return None


_LEADING_KEY = re.compile(
    r"""\.?(?:([A-Za-z_][A-Za-z0-9_\-]*)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\])"""
)


def _leading_keys(path: str) -> tuple[tuple[str, ...], bool]:
    """The object keys a JSONPath starts with (``.a``, ``['a.b']``), and whether that is all."""
    rest = path.strip().removeprefix("$")
    keys: list[str] = []
    while rest and (match := _LEADING_KEY.match(rest)):
        keys.append(next(group for group in match.groups() if group is not None))
        rest = rest[match.end() :]
    return tuple(keys), not rest


def reads_into(path: str, keys: tuple[str, ...]) -> bool:
    """Whether a JSONPath (a paginator's) may read into the records array at ``keys``: a path
    of object keys only never does; another does unless it leaves that array's keys."""
    leading, only_keys = _leading_keys(path)
    if only_keys:
        return False
    shared = min(len(leading), len(keys))
    return leading[:shared] == keys[:shared]


def guess_path(head: bytes) -> str | None:
    """``detect_selector``'s answer read from the start of a body, when the start decides it: a
    top-level array, or the first list up to three keys deep named like data (None: undecided).
    """
    text = head.removeprefix(_BOM).lstrip()
    if text[:1] == b"[":
        return WHOLE_BODY
    if text[:1] != b"{":
        return None
    kinds: list[str] = []
    try:
        for prefix, event, _ in ijson.parse(io.BytesIO(text)):
            if event == "start_array":
                keys = prefix.split(".")
                if 1 <= len(kinds) <= 3 and all(kind == "map" for kind in kinds):
                    plain = all(_PLAIN_KEY.match(key) for key in keys)
                    if keys[-1] in DATA_KEYS and plain and len(keys) == len(kinds):
                        return ".".join(keys)
                kinds.append("array")
            elif event == "start_map":
                kinds.append("map")
            elif event in ("end_map", "end_array"):
                kinds.pop()
    except ijson.JSONError:  # the head ends inside the document
        pass
    return None


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
