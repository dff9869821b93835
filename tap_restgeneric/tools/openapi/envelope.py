"""Where an operation's records are: a bare array, or the one array of objects in an object."""

from __future__ import annotations

from dataclasses import dataclass

from tap_restgeneric.records.selectors import DATA_KEYS
from tap_restgeneric.tools.openapi.names import json_path
from tap_restgeneric.tools.openapi.refs import Node
from tap_restgeneric.tools.openapi.schemas import describe, is_object, item_schema, properties

WHOLE_BODY = "$"


@dataclass
class Envelope:
    """``kind``: ``list`` (records at ``selector``), ``object`` (one record) or ``none``."""

    kind: str
    selector: str | None = None
    item: Node | None = None
    why: str = ""


def _arrays(node: Node, trail: tuple[str, ...]) -> list[tuple[tuple[str, ...], Node]]:
    """Array-of-object properties of ``node`` (and of its object properties, one level down)."""
    found = []
    for name, prop in properties(node).items():
        items = item_schema(prop)
        if items is not None and (is_object(items) or not items.value):
            found.append(((*trail, name), items))
        elif not trail and is_object(prop) and item_schema(prop) is None:
            found += _arrays(prop, (*trail, name))
    return found


def envelope(body: Node | None, single: bool = False) -> Envelope:
    """Classify a response schema; ``why`` says what decided it (for the report).

    An object is one record rather than an envelope when ``single`` (the path ends with a
    parameter, as the tap reads such paths) or when it has an ``id`` of its own.
    """
    if body is None:
        return Envelope("none", why="no JSON response schema for a 2xx status")
    name = describe(body)
    items = item_schema(body)
    if items is not None:
        if is_object(items) or not items.value:
            return Envelope("list", WHOLE_BODY, items, f"the response ({name}) is an array")
        return Envelope("none", why=f"the response ({name}) is an array of scalars")
    if not is_object(body):
        return Envelope("none", why=f"the response ({name}) is not an object or an array")
    if single or "id" in properties(body):
        why = "a path ending in a parameter" if single else "it has an 'id'"
        return Envelope("object", item=body, why=f"the response ({name}) is one record ({why})")
    arrays = _arrays(body, ())
    top = [a for a in arrays if len(a[0]) == 1] or arrays
    if len(top) == 1:
        path, item = top[0]
        why = f"the one array of objects in {name}"
        return Envelope("list", json_path(path), item, why)
    if len(top) > 1:
        named = [a for a in top if a[0][-1] in DATA_KEYS]
        if len(named) == 1:
            path, item = named[0]
            others = ", ".join(json_path(p) for p, _ in top if p != path)
            why = f"the data-named array of {name} (others: {others})"
            return Envelope("list", json_path(path), item, why)
        listed = ", ".join(json_path(p) for p, _ in top)
        return Envelope("object", item=body, why=f"{name} has several arrays ({listed})")
    return Envelope("object", item=body, why=f"the response ({name}) is one object")
