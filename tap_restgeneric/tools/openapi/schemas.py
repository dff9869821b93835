"""OpenAPI / Swagger schemas → plain JSON Schema for ``schema`` (types, formats, nullability)."""

from __future__ import annotations

from typing import Any

from tap_restgeneric.tools.openapi.refs import Node

MAX_DEPTH = 3
"""Nested objects deeper than this are declared as any JSON value (the tap still checks drift)."""
KEPT_FORMATS = ("date-time", "date", "time")
TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")


def kinds(node: Node) -> list[str]:
    """The JSON types a schema allows (``type`` string or 3.1 list; ``nullable``/``x-nullable``)."""
    declared = node.raw("type")
    found = [declared] if isinstance(declared, str) else list(declared or [])
    found = [k for k in found if k in TYPES]
    if found and (node.raw("nullable") is True or node.raw("x-nullable") is True):
        found.append("null")
    return list(dict.fromkeys(found))


def alternatives(node: Node) -> list[Node]:
    """The ``anyOf`` / ``oneOf`` branches of a schema (empty when it has none)."""
    branches: list[Node] = []
    for key in ("anyOf", "oneOf"):
        branch = node.get(key)
        if branch is not None:
            branches += branch.elements()
    return branches


def non_null(node: Node) -> tuple[Node, bool]:
    """A schema without its ``null`` alternative: ``anyOf: [X, {type: null}]`` → (X, True)."""
    branches = alternatives(node)
    if branches:
        others = [b for b in branches if kinds(b) != ["null"]]
        if len(others) == 1:
            return others[0], len(others) < len(branches)
    return node, "null" in kinds(node)


def properties(node: Node, seen: frozenset[str] = frozenset()) -> dict[str, Node]:
    """An object schema's properties, ``allOf`` parts merged (later parts win); cycle-safe."""
    if node.ref in seen:
        return {}
    seen = seen | {node.ref} if node.ref else seen
    found: dict[str, Node] = {}
    parts = node.get("allOf")
    for part in parts.elements() if parts is not None else []:
        found |= properties(part, seen)
    props = node.get("properties")
    if props is not None:
        found |= dict(props.items())
    if not found:
        plain, _ = non_null(node)
        if plain is not node:
            return properties(plain, seen)
        for branch in alternatives(node):  # a union of object shapes: every field of each
            found = properties(branch, seen) | found
    return found


def item_schema(node: Node) -> Node | None:
    """The schema of an array's elements (null allowed around the array), else None."""
    plain, _ = non_null(node)
    if "array" in kinds(plain) or plain.raw("items") is not None:
        return plain.get("items")
    return None


def is_object(node: Node) -> bool:
    """A schema describing an object (by type, properties or allOf)."""
    plain, _ = non_null(node)
    return "object" in kinds(plain) or bool(properties(plain))


Memo = dict[tuple[str, int], dict[str, Any]]


def json_schema(node: Node, max_depth: int = MAX_DEPTH, memo: Memo | None = None) -> dict[str, Any]:
    """The JSON Schema for a node; a recursive ``$ref`` or a level deeper than ``max_depth``
    becomes ``{}`` (any value). ``memo`` (one per import and ``max_depth``) converts each
    referenced schema once per depth; schemas from one memo share parts: do not change them."""
    return _convert(node, 0, (), max_depth, {} if memo is None else memo)


def _convert(
    node: Node, depth: int, stack: tuple[str, ...], max_depth: int, memo: Memo
) -> dict[str, Any]:
    """``json_schema`` at ``depth``; each referenced schema is converted once per depth (the
    depth bound ends every recursion; the stack only cuts cycles early)."""
    if (node.ref and node.ref in stack) or depth > max_depth:
        return {}
    key = (node.ref, depth)
    if node.ref and key in memo:
        return memo[key]
    stack = (*stack, node.ref) if node.ref else stack
    plain, nullable = non_null(node)
    branches = alternatives(node)
    if plain is not node:
        inner = _convert(plain, depth, stack, max_depth, memo)
        result = _with_null(inner) if nullable else inner
    elif branches and not all(is_object(b) for b in branches):  # keep a union of other shapes
        result = {"anyOf": [_convert(b, depth + 1, stack, max_depth, memo) for b in branches]}
    else:  # one shape; a union of objects is one object with the fields of each
        result = _shape(node, depth, stack, max_depth, memo)
    if node.ref:
        memo[key] = result
    return result


def _shape(
    node: Node, depth: int, stack: tuple[str, ...], max_depth: int, memo: Memo
) -> dict[str, Any]:
    """Type, format, properties and items of one (non-union) schema."""
    result: dict[str, Any] = {}
    found = kinds(node)
    props = properties(node)
    if props and not found:
        found = ["object"]
    if found:
        result["type"] = found[0] if len(found) == 1 else found
    fmt = node.raw("format")
    if fmt in KEPT_FORMATS and "string" in found:
        result["format"] = fmt
    if props:
        result["properties"] = {
            name: _convert(prop, depth + 1, stack, max_depth, memo) for name, prop in props.items()
        }
    items = node.get("items")
    if items is not None and "array" in found:
        result["items"] = _convert(items, depth + 1, stack, max_depth, memo)
    return result


def _with_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` that also allows null."""
    if not schema:
        return schema
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**schema, "type": [*kind, "null"] if "null" not in kind else kind}
    return {"anyOf": [schema, {"type": "null"}]}


def describe(node: Node) -> str:
    """A short name for a schema in the report: its component name or its type."""
    if node.ref:
        return node.ref.rsplit("/", 1)[-1]
    return "an inline schema"
