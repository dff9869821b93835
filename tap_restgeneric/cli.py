"""CLI edges: read --config files (JSON or YAML) within limits; end failed runs with one line each.

A config file is hostile input until read: its size, its nesting, its YAML aliases are bounded
and every read, decode or parse problem is one line naming the file (and line and column where
known). Anything that still escapes ends the run with one redacted line, the traceback only at
DEBUG.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NoReturn

import click
import yaml
from singer_sdk.exceptions import ConfigValidationError, MapExpressionError, StreamMapConfigError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tap_restgeneric.config.fields import (
    MAX_DEPTH,
    MAX_LINE,
    MAX_NODES,
    clip,
    count_nodes,
    json_type,
    nested_beyond,
    shorten,
)
from tap_restgeneric.errors import StreamRequestError, format_path
from tap_restgeneric.records.drift import SchemaDriftError
from tap_restgeneric.redaction import excerpt, install_log_redaction

MAX_CONFIG_BYTES = 10 * 1024 * 1024
"""Largest JSON config file read (10 MB)."""
MAX_YAML_BYTES = 1024 * 1024
"""Largest YAML config file read (1 MB: the pure-Python YAML parser is far slower than JSON)."""
_YAML_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str", "seq", "map")
)
"""The YAML types a config may hold: JSON's (no timestamps, sets, binary or ordered maps)."""


CLOSED_STDOUT = (
    "stdout was closed by its reader (the target stopped reading; its own error says why): the "
    "run stops here, and resumes from the last STATE the target received"
)


def _fail(logger: logging.Logger, lines: list[str]) -> NoReturn:
    for line in lines:
        logger.error("%s", shorten(line))
    sys.exit(1)


class LimitError(yaml.MarkedYAMLError):
    """A YAML config breaks a limit (nesting, aliases); the message names the limit."""

    def __init__(self, problem: str, expected: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.expected = expected


class _ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader with JSON's data model and hard limits.

    Nesting and nodes are counted while composing, before anything is built: the composer
    recurses, so nesting is refused past MAX_DEPTH; an alias counts as every node it expands
    to (a 400-byte "billion laughs" would be 10⁹ nodes), and one that refers to a node that
    contains it is refused. Keys are the text written (``on:`` is the key "on", not true);
    only JSON's types are built (a timestamp stays a string).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._levels = 0
        self._open: set[str] = set()
        self._nodes = 0
        self._expanded: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose one node within the nesting and alias limits."""
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise LimitError(
                    f"the alias *{event.anchor} refers to a node that contains it",
                    "aliases to nodes that do not contain them (no recursive aliases)",
                    event.start_mark,
                )
            node = super().compose_node(parent, index)
            if node is None:
                return None
            nodes, levels = self._expand(node)
            self._count(nodes, event.start_mark, f" (*{event.anchor} expands to {nodes:,})")
            if self._levels + levels > MAX_DEPTH:
                raise _too_deep(event.start_mark)
            return node
        self._count(1, event.start_mark)
        container = isinstance(event, yaml.CollectionStartEvent)
        if container and self._levels >= MAX_DEPTH:
            raise _too_deep(event.start_mark)
        anchor = event.anchor if container else None
        self._levels += container
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._levels -= container
            if anchor is not None:
                self._open.discard(anchor)

    def _count(self, nodes: int, mark: Any, how: str = "") -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise LimitError(
                f"more than {MAX_NODES:,} nodes{how}",
                f"at most {MAX_NODES:,} nodes (objects, lists, keys and values, aliases expanded)",
                mark,
            )

    def _expand(self, root: Node) -> tuple[int, int]:
        """(nodes, levels of containers) of a composed node with its aliases expanded."""
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if id(node) in self._expanded:
                continue
            kids = _node_children(node)
            if not children_done:
                stack.append((node, True))
                stack.extend((kid, False) for kid in kids if id(kid) not in self._expanded)
                continue
            sizes = [self._expanded[id(kid)] for kid in kids]
            nodes = 1 + sum(n for n, _ in sizes)
            deepest = max((levels for _, levels in sizes), default=0)
            levels = 0 if isinstance(node, ScalarNode) else 1 + deepest
            self._expanded[id(node)] = (min(nodes, MAX_NODES + 1), levels)
        return self._expanded[id(root)]

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        """A mapping whose keys are the scalars as written (JSON keys are strings)."""
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found a list or an object as a key (keys are strings)",
                    key_node.start_mark,
                )
            mapping[str(key_node.value)] = self.construct_object(value_node, deep=deep)
        return mapping


def _refuse_tag(loader: yaml.SafeLoader, node: Node) -> Any:
    raise ConstructorError(
        None,
        None,
        f"the tag {node.tag!r} is not allowed in a config (only JSON's types: null, true/false, "
        "numbers, strings, lists and objects)",
        node.start_mark,
    )


_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag in _YAML_TAGS or tag.endswith(":merge")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ConfigLoader.yaml_constructors = {
    tag: construct
    for tag, construct in yaml.SafeLoader.yaml_constructors.items()
    if tag in _YAML_TAGS
}
_ConfigLoader.add_constructor(None, _refuse_tag)


def _node_children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _too_deep(mark: Any) -> LimitError:
    return LimitError(
        f"nested more than {MAX_DEPTH} levels deep",
        f"at most {MAX_DEPTH} levels of objects and lists",
        mark,
    )


def _where(mark: Any) -> str:
    return f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """One line for a YAML error: the problem (or its context) and where."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return f"character #x{exc.character:04x} is not allowed at line {line} column {column}"
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [
            f"{text} at {_where(mark)}" if mark is not None else text
            for text, mark in ((exc.context, exc.context_mark), (exc.problem, exc.problem_mark))
            if text
        ]
        return " ".join(", ".join(parts or [type(exc).__name__]).split())
    return " ".join(str(exc).split())


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
"""A JSON string (skipped whole) or a bracket: enough to find where nesting gets too deep."""


def _json_too_deep_at(text: str) -> str:
    """``line L column C`` of the first bracket that opens level MAX_DEPTH + 1, or ""."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                start = match.start()
                line = text.count("\n", 0, start) + 1
                return f"line {line} column {start - (text.rfind(chr(10), 0, start) + 1) + 1}"
        elif token in "]}":
            depth -= 1
    return ""


def _read_text(file: Path, path: str, limit: int, kind: str) -> str:
    """The file's text: at most ``limit`` bytes, UTF-8, else a ValueError naming the file."""
    try:
        with file.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        msg = f"cannot read config file {path}: {exc.strerror or exc}"
        raise ValueError(msg) from None
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MB"
        msg = (
            f"config file {path} is larger than {size}; expected a {kind} config file of at "
            f"most {size} ({limit:,} bytes)"
        )
        raise ValueError(msg)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        before = data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start]
        column = len(before.decode("utf-8", errors="replace")) + 1
        msg = (
            f"config file {path} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} "
            f"column {column} (byte {exc.start}) cannot be decoded ({exc.reason}); expected a "
            "file saved as UTF-8"
        )
        raise ValueError(msg) from None


def _number_problem(exc: ValueError) -> str:
    """A ValueError from a parser as one line (Python refuses integers of over 4,300 digits)."""
    if "integer string conversion" in str(exc):
        return f"a number has more than {sys.get_int_max_str_digits():,} digits"
    return " ".join(str(exc).split())


def _load_yaml(text: str, path: str) -> Any:
    loader = None
    try:
        loader = _ConfigLoader(text)  # checks every character at once
        return loader.get_single_data()
    except LimitError as exc:
        where = _where(exc.problem_mark)
        msg = f"config file {path}: {exc.problem} at {where}; expected {exc.expected}"
        raise ValueError(msg) from None
    except yaml.YAMLError as exc:
        msg = f"config file {path} is not valid YAML: {_yaml_problem(exc, text)}"
        raise ValueError(msg) from None
    except ValueError as exc:
        msg = f"config file {path} is not valid YAML: {_number_problem(exc)}"
        raise ValueError(msg) from None
    finally:
        if loader is not None:
            loader.dispose()


def _load_json(text: str, path: str, kind: str = "config") -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        msg = f"{kind} file {path} is not valid JSON: {exc.msg} at {where}"
        raise ValueError(msg) from None
    except RecursionError:
        data, too_deep = None, True
    except ValueError as exc:
        msg = f"{kind} file {path} is not valid JSON: {_number_problem(exc)}"
        raise ValueError(msg) from None
    else:
        too_deep = nested_beyond(data) is not None
        if not too_deep and kind == "config" and count_nodes(data) > MAX_NODES:
            msg = (
                f"config file {path}: more than {MAX_NODES:,} nodes; expected at most "
                f"{MAX_NODES:,} nodes (objects, lists, keys and values)"
            )
            raise ValueError(msg)
    if too_deep:
        where = _json_too_deep_at(text)
        msg = (
            f"{kind} file {path}: nested more than {MAX_DEPTH} levels deep"
            f"{f' at {where}' if where else ''}; expected at most {MAX_DEPTH} levels of objects "
            "and lists"
        )
        raise ValueError(msg)
    return data


def read_config_file(path: str) -> dict[str, Any]:
    """Read one config file: JSON, or YAML for .yml/.yaml; raise ValueError with a clear line.

    Bounded: JSON files up to MAX_CONFIG_BYTES, YAML up to MAX_YAML_BYTES, at most MAX_NODES
    nodes (YAML aliases expanded, none recursive) nested at most MAX_DEPTH levels.
    """
    file = Path(path)
    if file.suffix.lower() in (".yml", ".yaml"):
        data = _load_yaml(_read_text(file, path, MAX_YAML_BYTES, "YAML"), path)
    else:
        data = _load_json(_read_text(file, path, MAX_CONFIG_BYTES, "JSON"), path)
    if not isinstance(data, dict):
        msg = f"config file {path} must hold an object of settings, not {json_type(data)}"
        raise ValueError(msg)
    return data


class InputFileError(ValueError):
    """A --state or --catalog file that cannot be used: the message names it."""


def read_json_input(handle: IO[str], kind: str) -> IO[str]:
    """A --state or --catalog file checked like a config file (one line naming it if not).

    Returns the text as a fresh handle for the SDK to read.
    """
    path = getattr(handle, "name", "-")
    try:
        text = handle.read()
    except UnicodeDecodeError as exc:
        msg = f"{kind} file {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise InputFileError(msg) from None
    try:
        data = _load_json(text, path, kind)
    except ValueError as exc:
        raise InputFileError(str(exc)) from None
    if not isinstance(data, dict):
        msg = f"{kind} file {path} must hold a JSON object, not {json_type(data)}"
        raise InputFileError(msg)
    return io.StringIO(text)


def read_config_files(
    paths: tuple[str, ...], logger: logging.Logger
) -> tuple[dict[str, Any], bool]:
    """Merge the --config files in order; ``ENV`` means parse environment settings too."""
    config: dict[str, Any] = {}
    problems: list[str] = []
    for path in paths:
        if path == "ENV":
            continue
        try:
            config |= read_config_file(path)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        _fail(logger, problems)
    return config, "ENV" in paths


class _DropSdkFailureEcho(logging.Filter):
    """The SDK logs "An unhandled error occurred while syncing" before the tap's own line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("An unhandled error occurred while syncing")


def one_line_failures() -> None:
    """Keep a failed run to the tap's single error line (the SDK's echo is dropped)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _DropSdkFailureEcho) for f in handler.filters):
            handler.addFilter(_DropSdkFailureEcho())


def _one_line(exc: BaseException) -> str:
    """The exception as one short redacted line: ``TypeName: message``."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return excerpt(clip(text, MAX_LINE))


@contextmanager
def clean_failures(logger: logging.Logger) -> Iterator[None]:
    """Turn config errors and failed requests into error lines and exit status 1.

    The last resort: anything unforeseen is one redacted line (the traceback, redacted, only
    at DEBUG) and exit status 1. Click's own exits and usage errors pass through.
    """
    install_log_redaction()
    one_line_failures()
    try:
        yield
    except ConfigValidationError as exc:
        _fail(logger, [*exc.errors, "Config validation failed"])
    except (StreamRequestError, SchemaDriftError, InputFileError) as exc:
        _fail(logger, [str(exc)])
    except (MapExpressionError, StreamMapConfigError) as exc:
        where = format_path(("stream_maps",))
        _fail(
            logger, [f"stream map failed: {_one_line(exc)}; expected a valid stream map at {where}"]
        )
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        _fail(logger, [CLOSED_STDOUT])
    except Exception as exc:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s", clip("".join(traceback.format_exception(exc)), 100_000))
        line = f"unexpected error: {_one_line(exc)} (log level DEBUG shows the traceback)"
        _fail(logger, [line])
