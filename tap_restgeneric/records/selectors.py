"""Record selection from a parsed body: compiled JSONPaths, dotted fast paths, auto-detect.

A body too large to hold (a spooled response) is parsed once with ijson, record chunk by record
chunk, along a plain dotted data path (``records.chunked``); the paths that allow it are told here.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from collections.abc import Callable
from typing import Any

import ijson
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse as jsonpath_parse

from tap_restgeneric.records.chunked import (
    CHUNK_RECORDS,
    ChunkedParse,
    ChunkedParseError,
    StreamedRecords,
)

__all__ = [
    "CHUNK_RECORDS",
    "DATA_KEYS",
    "WHOLE_BODY",
    "ChunkedParse",
    "ChunkedParseError",
    "Finder",
    "RecordSelector",
    "StreamedRecords",
    "as_records",
    "check_jsonpath",
    "chunk_keys",
    "compile_path",
    "detect_selector",
    "first_value",
    "guess_path",
    "has_keys",
    "reads_into",
    "static_prefix",
]

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


@functools.lru_cache(maxsize=1024)
def check_jsonpath(path: str) -> str | None:
    """Return a parse error message for a JSONPath, or None when it compiles.

    Cached: jsonpath_ng builds its parser for every parse (about 1 ms), and a config is
    checked more than once (and ``restgeneric partitions`` checks one per partition).
    """
    if _DOTTED.match(path):
        return None  # plain keys always parse
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


# ------------------------------------------------ large bodies: the paths a chunked parse takes

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
