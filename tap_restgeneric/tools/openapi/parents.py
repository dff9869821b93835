"""Dependent resources: a path parameter filled from a field of a list endpoint's records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from tap_restgeneric.tools.openapi.operations import Operation, is_placeholder, segments
from tap_restgeneric.tools.openapi.refs import Node
from tap_restgeneric.tools.openapi.schemas import properties

HANDLES = ("login", "username", "handle", "slug")
"""A ``{username}`` / ``{org}`` parameter is a record's handle (GitHub's ``login``), not its
display ``name``."""


@dataclass(frozen=True)
class Parent:
    """``param`` in the child's path takes ``field`` of each record of ``resource``.

    For a path with earlier parameters (``/orgs/{org}/repos/{repo}/issues`` under
    ``/orgs/{org}/repos``), ``inherited`` maps each earlier one to the field of the parent's
    records that carries it (``_orgs_login``: the tap adds ``_<parent>_<field>`` to records of
    a resource with ``include_from_parent``), and ``includes`` are the fields the parent must
    take from its own parent for that.
    """

    resource: str
    param: str
    field: str
    why: str
    inherited: dict[str, str] = dataclass_field(default_factory=dict)
    includes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListEndpoint:
    """A list resource a child can hang from: its records, and how its own parameters are
    filled (parameter → (its parent resource, field of that parent's records))."""

    name: str
    path: str
    item: Node | None
    resolves: dict[str, tuple[str, str]]


def singular(word: str) -> str:
    """``users`` → ``user``, ``categories`` → ``category`` (good enough for key names)."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


KEY_WORDS = ("id", "name", "login", "slug", "key", "number", "uuid", "username", "handle")


def parent_field(
    param: str, collection: str, item: Node | None, description: str = ""
) -> str | None:
    """The parent record's field for ``{param}``: itself, or ``id`` for ``{user_id}``/``{id}``.

    ``description`` (the parameter's) decides for an instance named after its collection:
    GitHub's ``{repo}`` is "The name of the repository", Stripe's ``{customer}`` its id.
    """
    props = set(properties(item)) if item is not None else set()
    if param in props:
        return param
    stem = re.sub(r"[^a-z0-9]", "", singular(collection).lower())
    bare = re.sub(r"[^a-z0-9]", "", param.lower())
    lower = {p.lower(): p for p in props}
    handle = next((lower[h] for h in HANDLES if h in lower), None)
    if handle and (bare in HANDLES or bare.removeprefix(stem) in HANDLES):
        return handle
    for prefix in (stem, ""):
        rest = bare.removeprefix(prefix) if prefix else bare
        if rest in ("id", "uuid", "key", "slug", "number", "name") and rest in lower:
            return lower[rest]
    if bare.endswith("id") and "id" in props:  # {user_id}, {userId}
        return "id"
    if len(bare) > 2 and stem.endswith(bare):  # the instance named after its collection
        words = re.findall(r"[a-z]+", description.lower())
        named = [lower[w] for w in words if w in KEY_WORDS and w in lower]
        if named:
            return named[0]
        return handle or ("id" if "id" in props else None)
    return None


def find_parent(op: Operation, lists: list[ListEndpoint]) -> Parent | str:
    """The list endpoint whose records fill ``op``'s last path parameter (and carry the earlier
    ones), or why there is none."""
    params = op.path_params
    parts = segments(op.path)
    for param in params:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", param):
            return f"path parameter {{{param}}}: a name the tap's paths cannot hold"
        if "{" + param + "}" not in parts:
            inside = next(part for part in parts if "{" + param + "}" in part)
            return f"path parameter {{{param}}} inside segment {inside!r}: not generated yet"
    param = params[-1]
    prefix = parts[: parts.index("{" + param + "}")]
    for endpoint in lists:
        if segments(endpoint.path) != prefix:
            continue
        literal = [part for part in prefix if not is_placeholder(part)]
        text = next((p.description for p in op.params if p.name == param), "")
        field = parent_field(param, literal[-1] if literal else endpoint.name, endpoint.item, text)
        if field is None:
            return f"no field of '{endpoint.name}' records matches path parameter {{{param}}}"
        why = f"{{{param}}} from field '{field}' of each '{endpoint.name}' record ({endpoint.path})"
        inherited, includes = {}, []
        for earlier in params[:-1]:
            grandparent, carried = endpoint.resolves[earlier]
            inherited[earlier] = f"_{grandparent}_{carried}"
            includes.append(carried)
            why += f"; {{{earlier}}} from '{inherited[earlier]}' (include_from_parent)"
        return Parent(endpoint.name, param, field, why, inherited, tuple(includes))
    where = "/" + "/".join(prefix)
    return f"path parameter {{{param}}}: no list endpoint at {where} to take its values from"
