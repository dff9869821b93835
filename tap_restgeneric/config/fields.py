"""Declared options of a config component: types, defaults, and checking with config paths."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tap_restgeneric.config.secrets import MissingSecret
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.redaction import REDACT


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


KINDS: dict[str, tuple[str, Callable[[object], bool]]] = {
    "string": ("a string", lambda v: isinstance(v, str)),
    "name": ("a non-empty string", lambda v: isinstance(v, str) and v != ""),
    "integer": ("an integer", _is_int),
    "number": ("a number", _is_number),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "object": ("an object", lambda v: isinstance(v, dict)),
    "list": ("a list", lambda v: isinstance(v, list)),
    "integer list": (
        "a list of integers",
        lambda v: isinstance(v, list) and all(_is_int(i) for i in v),
    ),
    "string list": (
        "a list of strings",
        lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    ),
    "any": ("any value", lambda v: True),
}

MAX_DEPTH = 100
"""Levels of objects and lists a config may nest (the config object itself is level 1)."""
MAX_NODES = 100_000
"""Nodes a config may hold: objects, lists, keys and scalar values (YAML aliases expanded)."""

MAX_LINE = 2000
"""Longest error line printed: a longer one (a megabyte-long key name) keeps its two ends."""

REQUIRED = object()
"""Marker default: the option must be given."""


@dataclass(frozen=True)
class Field:
    """One option: its kind (a key of KINDS), default, whether null is allowed, and its range.

    Every number (also each item of an integer list) must be finite and not negative;
    ``minimum`` and ``maximum`` bound it inclusively, ``above`` exclusively from below.
    """

    kind: str
    default: Any = None
    nullable: bool = True
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None

    def allowed(self) -> str:
        """The allowed values in words: ``an integer from 1 to 64``, ``a number above 0 …``."""
        label = "a list of integers" if self.kind == "integer list" else KINDS[self.kind][0]
        low, high = self.minimum, self.maximum
        if self.above is not None:
            above = f"{label} above {number_text(self.above)}"
            return above if high is None else f"{above} and at most {number_text(high)}"
        if low is not None and high is not None:
            return f"{label} from {number_text(low)} to {number_text(high)}"
        if high is not None:
            return f"{label} from 0 to {number_text(high)}"
        if low is not None:
            return f"{label} of at least {number_text(low)}"
        return f"{label} (0 or more)"

    def in_range(self, number: float) -> bool:
        """Whether a finite number lies inside the declared range (0 or more by default)."""
        low = 0 if self.minimum is None else self.minimum
        return (
            number >= low
            and (self.maximum is None or number <= self.maximum)
            and (self.above is None or number > self.above)
        )


def json_type(value: object) -> str:
    """Name a config value's type as JSON does: object, list, string, integer, number …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    names = {str: "string", int: "integer", float: "number", list: "list", dict: "object"}
    return names.get(type(value), type(value).__name__)


SECRET_MARGIN = 20_000
"""Text kept beyond a cut while redacting, so that a secret (up to this long) that the cut
would split is still seen whole and masked; redacting megabytes would take minutes."""


def clip(text: str, size: int) -> str:
    """``text`` redacted and, if longer than ``size``, cut in the middle (`` … ``)."""
    if len(text) <= size:
        return REDACT(text)
    keep = size * 2 // 3
    head = REDACT(text[: keep + SECRET_MARGIN])[:keep]
    tail = REDACT(text[-(size - keep + SECRET_MARGIN) :])[-(size - keep - 3) :]
    return f"{head} … {tail}"


def shorten(line: str) -> str:
    """A line of at most about MAX_LINE characters, redacted.

    The problem and the config path are each cut in the middle (a megabyte-long key name
    keeps both ends of the line: what is wrong and where).
    """
    if len(line) <= MAX_LINE:
        return line
    at = max(line.rfind(" at config"), line.rfind(" in config["))
    if at < 0:
        return clip(line, MAX_LINE)
    return clip(line[:at], MAX_LINE * 2 // 3) + clip(line[at:], MAX_LINE // 3)


def number_text(number: float) -> str:
    """A number for an error line, short however large: ``60``, ``0.5``, ``nan``, ``1e+308``."""
    if isinstance(number, int) and abs(number).bit_length() > 64:
        return f"{'-' if number < 0 else ''}about 1e{int(abs(number).bit_length() * 0.30103)}"
    if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number) if isinstance(number, float) else str(number)


def describe(value: object) -> str:
    """Describe a config value briefly for an error message."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    kind = json_type(value)
    shown = number_text(value) if isinstance(value, int | float) else repr(value)
    return f"{kind} {shown}" if len(shown) <= 40 else kind


def check_value(value: object, field: Field, path: Path, errors: ConfigErrors) -> bool:
    """Check one value against its field; record a problem and return False if wrong."""
    if isinstance(value, MissingSecret):
        return False  # already reported where the secret was looked up
    if value is None:
        if field.nullable:
            return True
        errors.add(path, "null is not allowed", KINDS[field.kind][0])
        return False
    label, ok = KINDS[field.kind]
    if not ok(value):
        errors.add(path, f"wrong type: got {describe(value)}", label)
        return False
    if field.choices is not None and value not in field.choices:
        errors.unknown_name(path, "value", value, field.choices)
        return False
    if field.kind in ("integer", "number", "integer list"):
        return _check_numbers(value if isinstance(value, list) else [value], field, path, errors)
    return True


def _check_numbers(numbers: list[Any], field: Field, path: Path, errors: ConfigErrors) -> bool:
    """Check numbers: finite, not negative, inside the field's range.

    Every numeric option is a count, size, page, delay or status code; a number that would
    overflow or hang a run (NaN, 1e308, a million threads) is a config error instead.
    """
    for number in numbers:
        if isinstance(number, float) and not math.isfinite(number):
            errors.add(path, f"not a finite number: got {number_text(number)}", field.allowed())
            return False
        if number < 0 and field.minimum is None and field.above is None:
            errors.add(path, f"negative value {number_text(number)}", field.allowed())
            return False
        if not field.in_range(number):
            errors.add(path, f"out of range: got {number_text(number)}", field.allowed())
            return False
    return True


def check_options(
    raw: Mapping[str, Any],
    fields: Mapping[str, Field],
    path: Path,
    errors: ConfigErrors,
    ignore: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Validate ``raw`` against ``fields``; return the options with defaults filled in."""
    for key in raw:
        if key not in fields and key not in ignore:
            errors.unknown_name((*path, key), "key", key, sorted(fields))
    options: dict[str, Any] = {}
    for name, field in fields.items():
        if name in raw:
            value = raw[name]
            options[name] = value if check_value(value, field, (*path, name), errors) else None
        elif field.default is REQUIRED:
            errors.add(path, f"missing required key {name!r}", f"{name!r}: {KINDS[field.kind][0]}")
            options[name] = None
        else:
            options[name] = field.default
    return options


def _children(node: dict[Any, Any] | list[Any]) -> Iterator[tuple[Any, Any]]:
    return iter(node.items()) if isinstance(node, dict) else enumerate(node)


def nested_beyond(value: object, levels: int = MAX_DEPTH) -> Path | None:
    """The path (from ``value``) of the first object or list below ``levels`` levels, or None.

    ``value`` itself is level 1. The walk uses no recursion and stops at the first container
    too deep, so it is safe on any input (a cycle is simply too deep).
    """
    if not isinstance(value, dict | list):
        return None
    stack = [_children(value)]
    keys: list[str | int] = []
    while stack:
        for key, child in stack[-1]:
            if isinstance(child, dict | list):
                if len(stack) >= levels:
                    return (*keys, key)
                keys.append(key)
                stack.append(_children(child))
                break
        else:
            stack.pop()
            if keys:
                keys.pop()
    return None


def count_nodes(value: object, limit: int = MAX_NODES) -> int:
    """Objects, lists, keys and scalars in ``value``, counted up to ``limit + 1`` (no recursion)."""
    count = 0
    stack = [value]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            count += len(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return min(count, limit + 1)
