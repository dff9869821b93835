"""Record selection from a parsed body: compiled JSONPaths, dotted fast paths, auto-detect."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

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

    def select_page(self, body: Any) -> tuple[list[dict[str, Any]], bool]:
        """The records in a parsed body, and whether the data path was there at all.

        The data path is there when the keys it starts with are (up to a wildcard, so a
        ``items[*].data`` over an empty ``items`` is there, with no records); null at the path
        counts as there; an empty body has nothing.
        """
        if self._finder is None:
            self.path = detect_selector(body)
            logger.info(
                "Stream '%s': no data_selector configured; guessed %r from the first response "
                "(set data_selector to make this explicit)",
                self.stream_name,
                self.path,
            )
            self._compile(self.path)
        assert self._finder is not None
        found = self._finder(body)
        there = has_keys(body, self._prefix) or any(value is not None for value in found)
        return as_records(found), there
