"""Map config paths back to line:column in the JSON or YAML file they were read from."""

from __future__ import annotations

import ast
import bisect
import json
import re
from typing import Any

import yaml

from tap_restgeneric.errors import Path

Position = tuple[int, int]
_WS = re.compile(r"[ \t\n\r]*")
_PATH_AT = re.compile(
    r" (?:at|in) config((?:\[(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+)\])*)$"
)
_PART = re.compile(r"\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+)\]")


def error_path(line: str) -> Path | None:
    """The config path an error or warning line ends with (``at config[...]``), if any."""
    found = _PATH_AT.search(line)
    if found is None:
        return None
    return tuple(ast.literal_eval(part) for part in _PART.findall(found.group(1)))


class PositionIndex:
    """Config path → (line, column), both 1-based; a path not in the file maps to its parent."""

    def __init__(self, positions: dict[Path, Position]) -> None:
        self.positions = positions

    def find(self, path: Path) -> Position | None:
        """The position of the deepest part of ``path`` present in the file (None for root)."""
        for n in range(len(path), 0, -1):
            found = self.positions.get(path[:n])
            if found is not None:
                return found
        return None

    @classmethod
    def for_file(cls, name: str, text: str) -> PositionIndex:
        """Index a config file by its name: YAML for .yml/.yaml, else JSON."""
        try:
            if name.lower().endswith((".yml", ".yaml")):
                return cls(_yaml_positions(text))
            return cls(_json_positions(text))
        except (ValueError, IndexError, yaml.YAMLError):
            return cls({})


def _yaml_positions(text: str) -> dict[Path, Position]:
    positions: dict[Path, Position] = {}

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in _members(node):
                where = (*path, _key(key))
                positions[where] = (key.start_mark.line + 1, key.start_mark.column + 1)
                walk(value, where)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                positions[(*path, i)] = (item.start_mark.line + 1, item.start_mark.column + 1)
                walk(item, (*path, i))

    walk(yaml.compose(text, Loader=yaml.SafeLoader), ())
    return positions


def _members(node: yaml.MappingNode) -> list[tuple[Any, Any]]:
    """A mapping's key/value nodes, merge keys (``<<: *anchor``) expanded before own keys."""
    merged: list[tuple[Any, Any]] = []
    own = []
    for key, value in node.value:
        if key.tag == "tag:yaml.org,2002:merge":
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    merged.extend(_members(source))
        else:
            own.append((key, value))
    return merged + own


def _key(node: Any) -> str | int:
    value = node.value if isinstance(node, yaml.ScalarNode) else str(node.value)
    return str(value)


def _json_positions(text: str) -> dict[Path, Position]:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(offset: int) -> Position:
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    positions: dict[Path, Position] = {}
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        found = _WS.match(text, i)
        return found.end() if found else i

    def value(i: int, path: Path) -> int:
        i = skip(i)
        if text[i] == "{":
            i = skip(i + 1)
            while text[i] != "}":
                key, end = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
                positions[(*path, key)] = at(i)
                i = skip(value(skip(end) + 1, (*path, key)))
                i = skip(i + 1) if text[i] == "," else i
            return i + 1
        if text[i] == "[":
            i, n = skip(i + 1), 0
            while text[i] != "]":
                positions[(*path, n)] = at(i)
                i = skip(value(i, (*path, n)))
                i, n = (skip(i + 1) if text[i] == "," else i), n + 1
            return i + 1
        return int(decoder.raw_decode(text, i)[1])

    value(0, ())
    return positions
