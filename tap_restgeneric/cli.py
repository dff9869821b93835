"""CLI edges: read --config files (JSON or YAML); end failed runs with clear lines, no traceback."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import yaml
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.drift import SchemaDriftError
from tap_restgeneric.errors import StreamRequestError


def _fail(logger: logging.Logger, lines: list[str]) -> NoReturn:
    for line in lines:
        logger.error("%s", line)
    sys.exit(1)


def read_config_file(path: str) -> dict[str, Any]:
    """Read one config file: JSON, or YAML for .yml/.yaml; raise ValueError with a clear line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read config file {path}: {exc.strerror or exc}"
        raise ValueError(msg) from None
    try:
        if file.suffix.lower() in (".yml", ".yaml"):
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        msg = f"config file {path} is not valid JSON: {exc.msg} at {where}"
        raise ValueError(msg) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        msg = f"config file {path} is not valid YAML: {getattr(exc, 'problem', exc)}{where}"
        raise ValueError(msg) from None
    if not isinstance(data, dict):
        msg = f"config file {path} must hold an object of settings, not {type(data).__name__}"
        raise ValueError(msg)
    return data


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


@contextmanager
def clean_failures(logger: logging.Logger) -> Iterator[None]:
    """Turn config errors and failed requests into error lines and exit status 1."""
    one_line_failures()
    try:
        yield
    except ConfigValidationError as exc:
        _fail(logger, [*exc.errors, "Config validation failed"])
    except (StreamRequestError, SchemaDriftError) as exc:
        _fail(logger, [str(exc)])
