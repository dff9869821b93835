"""A whole page checked against the schema in msgspec's C code: the drift checker's fast lane.

The schema becomes msgspec types (objects with properties become Structs that forbid unknown
fields, every field optional), and ``msgspec.convert`` either accepts the page, in which case
every record fits, or rejects it, in which case the exact per-record checker decides. A schema
this cannot mirror exactly builds no type at all, so the fast lane never accepts what the exact
checker would refuse.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Union

import msgspec

_SCALARS: dict[str, Any] = {
    "null": None,
    "boolean": bool,
    "integer": int,
    "number": float,  # msgspec's float accepts ints and Decimals, as the checker does
    "string": str,
}
_names = itertools.count()


class Unsupported(Exception):
    """The schema uses something the msgspec types would not check exactly like the checker."""


def _property_type(prop: Any) -> Any:
    """The msgspec type accepting exactly the values the checker accepts for ``prop``."""
    if not isinstance(prop, Mapping):
        return Any
    kinds = prop.get("type")
    if kinds is None or "anyOf" in prop or "oneOf" in prop:
        if prop.get("properties") or prop.get("items"):
            raise Unsupported
        return Any
    names = [kinds] if isinstance(kinds, str) else list(kinds)
    members: list[Any] = []
    for name in names:
        if name in _SCALARS:
            members.append(_SCALARS[name])
        elif name == "object":
            members.append(_struct(prop) if prop.get("properties") else dict)
        elif name == "array":
            members.append(_array_type(prop.get("items")))
        else:
            raise Unsupported
    if not members:
        raise Unsupported
    return Union[tuple(members)]  # noqa: UP007 (a runtime union of types built here)


def _array_type(items: Any) -> Any:
    """``list`` of the item type when the items are described, else any list."""
    if isinstance(items, Mapping) and (items.get("type") or items.get("properties")):
        return list[_property_type(items)]  # type: ignore[misc]
    return list


def _struct(schema: Mapping[str, Any]) -> type[msgspec.Struct]:
    """A Struct with one optional field per property (JSON names kept) and no other fields."""
    properties = schema.get("properties") or {}
    fields = [(f"f{i}", _property_type(prop), None) for i, prop in enumerate(properties.values())]
    return msgspec.defstruct(
        f"Record{next(_names)}",
        fields,
        rename={f"f{i}": name for i, name in enumerate(properties)},
        forbid_unknown_fields=True,
    )


class PageCheck:
    """``fits(records)``: True only when every record fits the schema (False: check each)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        try:
            self._type: Any = list[_struct(schema)]  # type: ignore[misc]
            msgspec.convert([], self._type)  # msgspec rejects unsupported unions here
        except (Unsupported, TypeError):
            self._type = None

    @property
    def available(self) -> bool:
        """Whether the schema could be mirrored (else every page goes to the exact checker)."""
        return self._type is not None

    def fits(self, records: list[dict[str, Any]]) -> bool:
        """True when msgspec accepts the whole page."""
        if self._type is None:
            return False
        try:
            msgspec.convert(records, self._type)
        except msgspec.ValidationError:
            return False
        return True
