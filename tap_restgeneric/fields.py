"""Declared options of a config component: types, defaults, and checking with config paths."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.secrets import MissingSecret


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

REQUIRED = object()
"""Marker default: the option must be given."""


@dataclass(frozen=True)
class Field:
    """One option: its kind (a key of KINDS), default, and whether null is allowed."""

    kind: str
    default: Any = None
    nullable: bool = True
    choices: tuple[str, ...] | None = None


def json_type(value: object) -> str:
    """Name a config value's type as JSON does: object, list, string, integer, number …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    names = {str: "string", int: "integer", float: "number", list: "list", dict: "object"}
    return names.get(type(value), type(value).__name__)


def describe(value: object) -> str:
    """Describe a config value briefly for an error message."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    kind = json_type(value)
    shown = repr(value)
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
    # Every numeric option is a count, size, page, delay or status code: none may be negative.
    numbers = value if isinstance(value, list) else [value]
    if field.kind in ("integer", "number", "integer list") and any(
        isinstance(n, int | float) and n < 0 for n in numbers
    ):
        errors.add(path, f"negative value {value!r}", f"{label} (0 or more)")
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
