"""Dependent resources: a path parameter filled from a field of a list endpoint's records."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tap_restgeneric.tools.openapi.operations import Operation, is_placeholder, segments
from tap_restgeneric.tools.openapi.refs import Node
from tap_restgeneric.tools.openapi.schemas import properties

HANDLES = ("login", "username", "handle", "slug")
"""A ``{username}`` / ``{org}`` parameter is a record's handle (GitHub's ``login``), not its
display ``name``."""


@dataclass(frozen=True)
class Parent:
    """``param`` in the child's path takes ``field`` of each record of ``resource``."""

    resource: str
    param: str
    field: str
    why: str


def singular(word: str) -> str:
    """``users`` → ``user``, ``categories`` → ``category`` (good enough for key names)."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def parent_field(param: str, collection: str, item: Node | None) -> str | None:
    """The parent record's field for ``{param}``: itself, or ``id`` for ``{user_id}``/``{id}``."""
    props = set(properties(item)) if item is not None else set()
    if param in props:
        return param
    stem = re.sub(r"[^a-z0-9]", "", singular(collection).lower())
    bare = re.sub(r"[^a-z0-9]", "", param.lower())
    lower = {p.lower(): p for p in props}
    if bare in HANDLES or bare.removeprefix(stem) in HANDLES:
        handle = next((lower[h] for h in HANDLES if h in lower), None)
        if handle:
            return handle
    for prefix in (stem, ""):
        rest = bare.removeprefix(prefix) if prefix else bare
        if rest in ("id", "uuid", "key", "slug", "number", "name") and rest in lower:
            return lower[rest]
    # {user_id}; Stripe's {customer} under /customers, {report} under /verification_reports
    if (bare.endswith("id") or (len(bare) > 2 and stem.endswith(bare))) and "id" in props:
        return "id"
    return None


def find_parent(op: Operation, lists: list[tuple[str, str, Node | None]]) -> Parent | str:
    """The list endpoint whose records fill ``op``'s one path parameter, or why there is none."""
    params = op.path_params
    if len(params) > 1:
        names = ", ".join("{" + p + "}" for p in params)
        return f"several path parameters ({names}): not generated yet, add it by hand"
    parts = segments(op.path)
    index = next(i for i, part in enumerate(parts) if is_placeholder(part))
    prefix = parts[:index]
    param = params[0]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", param):
        return f"path parameter {{{param}}}: a name the tap's paths cannot hold"
    if parts[index] != "{" + param + "}":
        return f"path parameter {{{param}}} inside segment {parts[index]!r}: not generated yet"
    for name, path, item in lists:
        if segments(path) != prefix:
            continue
        field = parent_field(param, prefix[-1] if prefix else name, item)
        if field is None:
            return f"no field of '{name}' records matches path parameter {{{param}}}"
        why = f"{{{param}}} from field '{field}' of each '{name}' record ({path})"
        return Parent(name, param, field, why)
    where = "/" + "/".join(prefix)
    return f"path parameter {{{param}}}: no list endpoint at {where} to take its values from"
