"""Dependent resources: resolve params, the parent named by placeholders, cycles, parents first."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tap_restgeneric.config.placeholders import collect, fields_in
from tap_restgeneric.config.raw import EndpointConfig
from tap_restgeneric.config.spec import ResourceSpec
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.records.selectors import check_jsonpath

RESOLVE_KEYS = frozenset({"type", "resource", "field"})
PLACES = ("path", "params", "json", "data", "headers")


def context_key(parent: str, field: str) -> str:
    """The child-context (and record) field for a parent field: ``_<parent>_<field>``, as dlt."""
    return "_" + "_".join(p for p in re.split(r"[^A-Za-z0-9_]+", f"{parent}_{field}") if p)


def rewrite_resolve_params(
    endpoint: EndpointConfig, path: Path, errors: ConfigErrors
) -> dict[str, Any]:
    """Turn legacy ``{"type": "resolve", …}`` params into ``{resources.<r>.<f>}`` in the path."""
    result: dict[str, Any] = dict(endpoint)
    params = endpoint.get("params")
    if not isinstance(params, dict):
        return result
    resolve = {
        k: v for k, v in params.items() if isinstance(v, dict) and v.get("type") == "resolve"
    }
    if not resolve:
        return result
    raw_path = endpoint.get("path")
    text = raw_path if isinstance(raw_path, str) else ""
    try:
        in_path = set(fields_in(text))
    except ValueError:
        in_path = set()
    unbound = sorted(k for k in resolve if k not in in_path)
    if unbound:
        errors.add(
            (*path, "path"),
            f"resolve params {unbound} are not used in path {text!r}",
            "each resolve param as a {name} in the path",
        )
    for name, spec in resolve.items():
        where = (*path, "params", name)
        for key in spec:
            if key not in RESOLVE_KEYS:
                errors.unknown_name((*where, key), "key", key, sorted(RESOLVE_KEYS))
        resource, field = spec.get("resource"), spec.get("field")
        if not isinstance(resource, str) or not isinstance(field, str) or not resource or not field:
            errors.add(where, "a resolve param needs 'resource' and 'field'", "two strings")
            text = text.replace("{" + name + "}", "")  # reported here, not again by the path check
            continue
        text = text.replace("{" + name + "}", "{resources." + resource + "." + field + "}")
    result["path"] = text
    result["params"] = {k: v for k, v in params.items() if k not in resolve}
    return result


def find_parent(
    endpoint: Mapping[str, Any], names: Sequence[str], own: str, path: Path, errors: ConfigErrors
) -> tuple[str | None, tuple[str, ...]]:
    """The single parent referenced by ``{resources.<parent>.<field>}`` and the fields used."""
    used: list[tuple[str, str, Path]] = []
    for place in PLACES:
        try:
            found = collect(endpoint.get(place))
        except ValueError:
            continue  # reported with the placeholders' own check
        used += [(name, place, (*path, place)) for name in found if name.startswith("resources.")]
    parents: dict[str, list[str]] = {}
    for name, _, where in used:
        parts = name.split(".", 2)
        if len(parts) < 3 or not parts[1] or not parts[2]:
            errors.add(where, f"invalid placeholder {{{name}}}", "{resources.<parent>.<field>}")
            continue
        if problem := check_jsonpath(parts[2]):
            errors.add(where, f"invalid field path in {{{name}}}: {problem}", "a JSONPath")
        parents.setdefault(parts[1], []).append(parts[2])
    if len(parents) > 1:
        errors.add(
            path,
            f"placeholders reference several parent resources: {sorted(parents)}",
            "a single parent resource",
        )
        return None, ()
    if not parents:
        return None, ()
    parent, fields = next(iter(parents.items()))
    if parent == own:
        errors.add(path, f"resource {own!r} references itself as its parent", "another resource")
        return None, ()
    if parent not in names:
        errors.unknown_name(path, "parent resource", parent, sorted(names))
        return None, ()
    return parent, tuple(dict.fromkeys(fields))


def parents_first(
    specs: Iterable[tuple[ResourceSpec, Path]], errors: ConfigErrors
) -> list[ResourceSpec]:
    """Order resources so that every parent precedes its children; report cycles."""
    by_name = {spec.name: (spec, path) for spec, path in specs}
    ordered: list[ResourceSpec] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        spec, path = by_name[name]
        if state.get(name) == "active":
            cycle = " → ".join([*trail[trail.index(name) :], name])
            errors.add(
                path,
                f"resources form a cycle: {cycle}",
                "parents that do not depend on their children",
            )
            return
        state[name] = "active"
        if spec.parent is not None and spec.parent in by_name:
            visit(spec.parent, [*trail, name])
        state[name] = "done"
        ordered.append(spec)

    for name in by_name:
        visit(name, [])
    return ordered
