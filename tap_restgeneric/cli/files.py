"""Config, state and catalog files read within limits (size, UTF-8, nesting, nodes), or one line."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from pathlib import Path
from typing import IO, Any

import yaml

from tap_restgeneric.cli.failures import InputFileError, fail
from tap_restgeneric.cli.yaml_loader import ConfigLoader, LimitError, at_mark, yaml_problem
from tap_restgeneric.config.fields import (
    MAX_DEPTH,
    MAX_NODES,
    count_nodes,
    json_type,
    nested_beyond,
)

MAX_CONFIG_BYTES = 10 * 1024 * 1024
"""Largest JSON config file read (10 MB)."""
MAX_YAML_BYTES = 1024 * 1024
"""Largest YAML config file read (1 MB: the pure-Python YAML parser is far slower than JSON)."""


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


def read_text(file: Path, path: str, limit: int, kind: str, what: str = "config") -> str:
    """The text of a ``kind`` ``what`` file (``JSON config``): at most ``limit`` bytes, UTF-8,
    else a ValueError naming the file."""
    try:
        with file.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        msg = f"cannot read {what} file {path}: {exc.strerror or exc}"
        raise ValueError(msg) from None
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MB"
        msg = (
            f"{what} file {path} is larger than {size}; expected a {kind} {what} file of at "
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
            f"{what} file {path} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} "
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
        loader = ConfigLoader(text)  # checks every character at once
        return loader.get_single_data()
    except LimitError as exc:
        where = at_mark(exc.problem_mark)
        msg = f"config file {path}: {exc.problem} at {where}; expected {exc.expected}"
        raise ValueError(msg) from None
    except yaml.YAMLError as exc:
        msg = f"config file {path} is not valid YAML: {yaml_problem(exc, text)}"
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
        data = _load_yaml(read_text(file, path, MAX_YAML_BYTES, "YAML"), path)
    else:
        data = _load_json(read_text(file, path, MAX_CONFIG_BYTES, "JSON"), path)
    if not isinstance(data, dict):
        msg = f"config file {path} must hold an object of settings, not {json_type(data)}"
        raise ValueError(msg)
    return data


def read_json_file(path: str, kind: str) -> Any:
    """A JSON ``kind`` file (``state``) within a config file's limits (size, UTF-8, nesting);
    a ValueError naming it otherwise."""
    return _load_json(read_text(Path(path), path, MAX_CONFIG_BYTES, "JSON", kind), path, kind)


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
        fail(logger, problems)
    return config, "ENV" in paths
