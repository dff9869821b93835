"""Shared by the tools: reading config files, redacted printing, quiet SDK logging."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tap_restgeneric.cli import read_config_file
from tap_restgeneric.redaction import REDACT, install_log_redaction
from tap_restgeneric.tools.positions import PositionIndex, error_path


class ToolError(Exception):
    """A failure the tool reports as its own lines, then exits with status 1."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0] if lines else "")
        self.lines = list(lines)


def out(text: str = "", stream: TextIO | None = None) -> None:
    """Print redacted text (stdout unless another stream is given)."""
    print(REDACT(text), file=stream or sys.stdout)


def err(text: str) -> None:
    """Print redacted text on stderr."""
    out(text, sys.stderr)


def short_json(value: Any, limit: int = 200) -> str:
    """Compact one-line JSON, cut to ``limit`` characters with an ellipsis."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class ConfigFiles:
    """Config files merged in order (as ``--config`` does), with a position index per file."""

    names: Sequence[str]
    config: dict[str, Any] = field(default_factory=dict)
    indexes: list[tuple[str, dict[str, Any], PositionIndex]] = field(default_factory=list)

    @classmethod
    def read(cls, names: Sequence[str]) -> ConfigFiles:
        """Read and merge the files; raise ToolError with one line per unreadable file."""
        files = cls(names)
        problems = []
        for name in names:
            try:
                data = read_config_file(name)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            files.config |= data
            index = PositionIndex.for_file(name, Path(name).read_text(encoding="utf-8"))
            files.indexes.append((name, data, index))
        if problems:
            raise ToolError(*problems)
        return files

    def locate(self, line: str) -> str:
        """``file:LINE:COL: line`` for the file the line's config path was last set in."""
        path = error_path(line)
        if not self.indexes:
            return line
        name, _, index = self.indexes[-1]
        if path:
            name, _, index = next(
                (f for f in reversed(self.indexes) if path[0] in f[1]), self.indexes[-1]
            )
            where = index.find(path)
            if where is not None:
                return f"{name}:{where[0]}:{where[1]}: {line}"
        return f"{name}: {line}"


@contextmanager
def quiet_logs(level: int = logging.WARNING) -> Iterator[None]:
    """Keep the SDK's info lines out of the tool's output; redact every log line."""
    install_log_redaction()
    names = ("tap-restgeneric", "singer_sdk", "tap_restgeneric")
    loggers = [logging.getLogger(name) for name in names]
    before = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, old in zip(loggers, before, strict=True):
            logger.setLevel(old)
