"""Config paths, collected config errors with did-you-mean, and runtime error types."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from singer_sdk.exceptions import ConfigValidationError, FatalAPIError

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """Render a path as ``config['resources'][2]['endpoint']``."""
    return "config" + "".join(f"[{part!r}]" for part in path)


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest valid name, or ``""``."""
    close = difflib.get_close_matches(str(name), list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def one_of(valid: Sequence[str]) -> str:
    """Render a list of valid names for an "expected" clause."""
    return "one of " + ", ".join(repr(v) for v in valid)


class ConfigErrors:
    """Collects config problems, each with its path, to raise them all at once."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._moved: Mapping[Path, Path] = {}

    @contextmanager
    def moved(self, origins: Mapping[Path, Path]) -> Iterator[None]:
        """Report problems under a path prefix at another path (where the user wrote it)."""
        self._moved = origins
        try:
            yield
        finally:
            self._moved = {}

    def _origin(self, path: Path) -> Path:
        for n in range(len(path), 0, -1):
            moved = self._moved.get(path[:n])
            if moved is not None:
                return (*moved, *path[n:])
        return path

    def add(self, path: Path, problem: str, expected: str | None = None) -> None:
        """Record one problem: ``<problem>; expected <expected> at <path>`` (once)."""
        text = problem if expected is None else f"{problem}; expected {expected}"
        line = f"{text} at {format_path(self._origin(path))}"
        if line not in self.lines:
            self.lines.append(line)

    def unknown_name(self, path: Path, kind: str, name: object, valid: Sequence[str]) -> None:
        """Record an unknown type or key name with the valid names and a suggestion."""
        hint = did_you_mean(str(name), valid) if isinstance(name, str) else ""
        self.add(
            path,
            f"unknown {kind} {name!r}{hint}",
            one_of(valid) if valid else "no options for this type",
        )

    def __bool__(self) -> bool:
        return bool(self.lines)

    def raise_if_any(self) -> None:
        """Raise one ConfigValidationError carrying every collected line."""
        if self.lines:
            raise ConfigValidationError("Config validation failed", errors=list(self.lines))


class StreamRequestError(FatalAPIError):
    """A request failed for good: the message names the stream, redacted URL and status."""
