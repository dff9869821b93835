"""JSON Schema inference from sample records: conservative, deterministic, widened by merging."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# Inference conventions:
# * "type" is always a list in TYPE_ORDER order with "null" last, e.g. ["integer", "null"];
#   only the top level of infer_schema uses the string "object".
# * A property missing from some records, or null in some, gets "null"; "required" is never emitted.
# * integer and number together are just "number"; bool is "boolean", never "integer".
# * A string gets a "format" ("date-time" or "date") only when every value of it has that format.
# * A property only ever null is guessed as ["string", "null"]; drift handling widens it later.
# * An array only ever seen empty gets "items": {} (anything).
# merge_schemas also takes "type" as a string (kept a string only when both sides are strings
# and the result is one type), treats a schema without "type" ({}, true) as anything, and keeps
# other keywords only where both sides agree.
TYPE_ORDER = ("boolean", "integer", "number", "string", "object", "array", "null")
_RANK = {name: index for index, name in enumerate(TYPE_ORDER)}
_SPECIAL = frozenset({"type", "format", "properties", "additionalProperties", "items"})

# "Accepts nothing": the items of an array seen only empty, the identity of merging.
_NOTHING: dict[str, Any] = {"not": {}}
_NULL: dict[str, Any] = {"type": ["null"]}
_BOOLEAN: dict[str, Any] = {"type": ["boolean"]}
_INTEGER: dict[str, Any] = {"type": ["integer"]}
_NUMBER: dict[str, Any] = {"type": ["number"]}
_STRING: dict[str, Any] = {"type": ["string"]}
_DATE_TIME: dict[str, Any] = {"type": ["string"], "format": "date-time"}
_DATE: dict[str, Any] = {"type": ["string"], "format": "date"}

_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATE_TIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(Z|[+-]([0-9]{2}):([0-9]{2}))?"
)


def _valid(*parts: str) -> bool:
    """Whether year, month, day[, hour, minute, second] form a real calendar date/time."""
    numbers = [int(part) for part in parts] + [0, 0, 0]
    try:
        datetime(numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])
    except ValueError:
        return False
    return True


def _string_format(value: str) -> str | None:
    """The format of a string: "date-time", "date", or None for a plain string."""
    match = _DATE_TIME_RE.fullmatch(value)
    if match is not None:
        offset_ok = match[9] is None or (int(match[9]) <= 23 and int(match[10]) <= 59)
        return "date-time" if offset_ok and _valid(*match.groups()[:6]) else None
    match = _DATE_RE.fullmatch(value)
    return "date" if match is not None and _valid(*match.groups()) else None


def _exact(value: Any) -> dict[str, Any]:
    """The precise schema of one value; shared constants, never mutated."""
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return _BOOLEAN
    if isinstance(value, int):
        return _INTEGER
    if isinstance(value, float | Decimal):
        return _NUMBER
    if isinstance(value, str):
        kind = _string_format(value)
        return _DATE_TIME if kind == "date-time" else _DATE if kind == "date" else _STRING
    if isinstance(value, datetime):
        return _DATE_TIME
    if isinstance(value, date):
        return _DATE
    if isinstance(value, Mapping):
        properties = {str(key): _exact(item) for key, item in value.items()}
        return {"type": ["object"], "properties": properties, "additionalProperties": True}
    if isinstance(value, list | tuple):
        items = _NOTHING
        for element in value:
            items = _merge(items, _exact(element))
        return {"type": ["array"], "items": items}
    return {}


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema["type"]
    return {kind} if isinstance(kind, str) else set(kind)


def _as_schema(schema: Any) -> dict[str, Any]:
    """A dict schema for boolean schemas too: true accepts anything, false nothing."""
    if schema is False:
        return _NOTHING
    return schema if isinstance(schema, dict) else {}


def _merge_format(a: Mapping[str, Any], b: Mapping[str, Any], sa: bool, sb: bool) -> Any:
    """The format kept: the string sides' common one, else the common one, else None."""
    if sa != sb:
        return a.get("format") if sa else b.get("format")
    return a.get("format") if a.get("format") == b.get("format") else None


def _merge_properties(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Properties of both objects merged; one missing on either side becomes nullable."""
    merged: dict[str, Any] = {}
    for key, schema in a.items():
        merged[key] = _merge(schema, b.get(key, _NULL))
    for key, schema in b.items():
        if key not in a:
            merged[key] = _merge(schema, _NULL)
    return merged


def _merge(left: Any, right: Any) -> dict[str, Any]:
    """Merge without copying: the result may share parts with its arguments."""
    a, b = _as_schema(left), _as_schema(right)
    if a == _NOTHING or a is b:
        return b
    if b == _NOTHING:
        return a
    if "type" not in a or "type" not in b:
        return {}
    if a == b:
        return a
    ta, tb = _types(a), _types(b)
    kinds = ta | tb
    if "number" in kinds:
        kinds.discard("integer")
    ordered = sorted(kinds, key=lambda name: _RANK.get(name, len(_RANK)))
    single = isinstance(a["type"], str) and isinstance(b["type"], str) and len(ordered) == 1
    out: dict[str, Any] = {"type": ordered[0] if single else ordered}
    kind_format = _merge_format(a, b, "string" in ta, "string" in tb)
    if kind_format is not None:
        out["format"] = kind_format
    for kind, keys in (("object", ("properties", "additionalProperties")), ("array", ("items",))):
        sides = [side for side, types in ((a, ta), (b, tb)) if kind in types]
        for key in keys:
            if not any(key in side for side in sides):
                continue
            if len(sides) == 1:
                out[key] = sides[0][key]
            elif key == "properties":
                out[key] = _merge_properties(a.get(key) or {}, b.get(key) or {})
            elif key == "items":
                out[key] = _merge(a.get(key, {}), b.get(key, {}))
            else:  # additionalProperties: absent means true; differing values widen to true
                same = a.get(key, True) == b.get(key, True)
                out[key] = a.get(key, True) if same else True
    for key, value in a.items():
        if key not in _SPECIAL and key in b and b[key] == value:
            out[key] = value
    return out


def _finalize(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A fresh copy applying the conventions: null-only is a string guess, no-items is anything."""
    if schema == _NOTHING:
        return {}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and value == ["null"]:
            out[key] = ["string", "null"]
        elif key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _finalize(_as_schema(item)) for name, item in value.items()}
        elif key == "items" and isinstance(value, Mapping):
            out[key] = _finalize(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def schema_of_value(value: Any) -> dict[str, Any]:
    """The schema inferred from one value."""
    return _finalize(_exact(value))


def widen(schema: dict[str, Any], value: Any) -> dict[str, Any]:
    """The schema widened just enough to accept one more value (a null adds only "null")."""
    return _finalize(_merge(schema, _exact(value)))


def merge_schemas(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The narrowest schema accepting everything either accepts (used to widen on drift)."""
    return copy.deepcopy(_merge(a, b))


def infer_schema(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A JSON Schema object for the records, properties in first-seen order."""
    merged: dict[str, Any] = _NOTHING
    for record in records:
        merged = _merge(merged, _exact(record))
    properties = _finalize(merged).get("properties", {})
    return {"type": "object", "properties": properties, "additionalProperties": True}
