"""Warnings for settings that are valid but have no effect (or a surprising one) in this tap."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from tap_restgeneric.config.endpoints import SINGLE_ENTITY
from tap_restgeneric.config.resolve import expand_resource, merge_defaults
from tap_restgeneric.config.spec import RestApiSpec
from tap_restgeneric.errors import ConfigErrors, Path, format_path
from tap_restgeneric.paginators import PAGINATORS

LOADING_HINTS = (
    "merge_key",
    "table_format",
    "file_format",
    "references",
    "parent_table_name",
    "nested_hints",
    "max_table_nesting",
)
CLIENT_OVERRIDABLE = ("paginator", "auth", "error_handler")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Hints:
    """Collects warning lines ``<text> at config[...]`` once each, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, path: Path, text: str) -> None:
        """Record one warning."""
        line = f"{text} at {format_path(path)}"
        if line not in self.lines:
            self.lines.append(line)


def config_warnings(config: Mapping[str, Any], spec: RestApiSpec | None) -> list[str]:
    """Every warning for a raw config (``spec``: its resolution, None when it has errors)."""
    hints = Hints()
    defaults = _dict(config.get("resource_defaults"))
    raw = config.get("resources")
    resources = list(enumerate(raw)) if isinstance(raw, list) else []
    expanded = [(i, expand_resource(r, ("resources", i), ConfigErrors())) for i, r in resources]
    own = [(i, r) for i, r in expanded if r is not None]
    merged = [(i, merge_defaults(r, defaults)) for i, r in own]
    _loading_hints(hints, ("resource_defaults",), defaults)
    for i, resource in resources:
        _loading_hints(hints, ("resources", i), _dict(resource))
    _overridden_defaults(hints, defaults, [r for _, r in own])
    _overridden_client(hints, _dict(config.get("client")), [r for _, r in merged])
    for where, paginator in _paginators(config, resources):
        _idle_paginator_options(hints, where, paginator)
    for i, resource in merged:
        _single_entity_selector(hints, ("resources", i), resource, _dict(resources[i][1]))
    if spec is not None:
        _spec_warnings(hints, spec, merged)
    _unused_secrets(hints, config)
    return hints.lines


def _loading_hints(hints: Hints, path: Path, resource: Mapping[str, Any]) -> None:
    if "write_disposition" in resource:
        hints.add(
            (*path, "write_disposition"),
            "'write_disposition' has no effect in a Singer tap: the target decides how records "
            "are loaded",
        )
    for key in LOADING_HINTS:
        if key in resource:
            hints.add((*path, key), f"{key!r} is a dlt loading hint with no effect in this tap")
    if "parallelized" in resource:
        hints.add(
            (*path, "parallelized"),
            "'parallelized' has no effect: top-level streams run side by side up to "
            "max_concurrency anyway; a child's requests follow its parent's records one by one",
        )


def _overridden_defaults(
    hints: Hints, defaults: Mapping[str, Any], resources: list[dict[str, Any]]
) -> None:
    if not resources:
        return
    text = "resource_defaults {!r} has no effect: every resource sets its own"
    for key in defaults:
        if key != "endpoint" and all(key in r for r in resources):
            hints.add(("resource_defaults", key), text.format(key))
    endpoints = [_dict(r.get("endpoint")) for r in resources]
    for key, value in _dict(defaults.get("endpoint")).items():
        path: Path = ("resource_defaults", "endpoint", key)
        if key in ("params", "json") and isinstance(value, dict):
            for inner in value:
                if all(inner in _dict(e.get(key)) for e in endpoints):
                    hints.add((*path, inner), text.format(f"endpoint.{key}.{inner}"))
        elif all(key in e for e in endpoints):
            hints.add(path, text.format(f"endpoint.{key}"))


def _overridden_client(
    hints: Hints, client: Mapping[str, Any], merged: list[dict[str, Any]]
) -> None:
    endpoints = [_dict(r.get("endpoint")) for r in merged]
    for key in CLIENT_OVERRIDABLE:
        overridden = endpoints and all(e.get(key) is not None for e in endpoints)
        if client.get(key) is not None and overridden:
            hints.add(("client", key), f"client {key!r} has no effect: every resource sets its own")


def _paginators(
    config: Mapping[str, Any], resources: list[tuple[int, Any]]
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every paginator written as an object, with its path."""
    yield ("client", "paginator"), _dict(_dict(config.get("client")).get("paginator"))
    endpoint = _dict(_dict(config.get("resource_defaults")).get("endpoint"))
    yield ("resource_defaults", "endpoint", "paginator"), _dict(endpoint.get("paginator"))
    for i, resource in resources:
        endpoint = _dict(_dict(resource).get("endpoint"))
        yield ("resources", i, "endpoint", "paginator"), _dict(endpoint.get("paginator"))


def _idle_paginator_options(hints: Hints, path: Path, paginator: Mapping[str, Any]) -> None:
    name = paginator.get("type")
    cls = PAGINATORS.get(name) if isinstance(name, str) else None
    if cls is not None:
        for key, text in cls.idle_options(paginator):
            hints.add((*path, key), text)


def _single_entity_selector(
    hints: Hints, path: Path, merged: Mapping[str, Any], raw: Mapping[str, Any]
) -> None:
    endpoint = _dict(merged.get("endpoint"))
    entity_path, selector = endpoint.get("path"), endpoint.get("data_selector")
    if not isinstance(entity_path, str) or not SINGLE_ENTITY.search(entity_path):
        return
    if selector in (None, "", "$", []):
        return
    where: Path = (*path, "endpoint")
    if "data_selector" in _dict(raw.get("endpoint")):
        where = (*where, "data_selector")
    hints.add(
        where,
        f"data_selector {selector!r} on the single-entity path {entity_path!r}: such a response "
        "is usually the record itself, which the default '$' selects",
    )


def _spec_warnings(
    hints: Hints, spec: RestApiSpec, merged: list[tuple[int, dict[str, Any]]]
) -> None:
    parents = {r.parent for r in spec.resources if r.parent}
    by_name = {r.name: r for r in spec.resources}
    for i, raw in merged:
        resource = by_name.get(str(raw.get("name")))
        if resource is None:
            continue
        if not resource.selected and resource.name not in parents:
            hints.add(
                ("resources", i, "selected"),
                "selected: false on a resource no other resource depends on: its stream is not "
                "extracted unless a catalog selects it",
            )
        incremental = resource.endpoint.incremental
        sent = "{incremental." in json.dumps(raw.get("endpoint"), default=str)
        if incremental and not (incremental.start_param or incremental.end_param or sent):
            hints.add(
                ("resources", i, "endpoint", "incremental"),
                "the incremental cursor is never sent to the API (no start_param, end_param "
                "or {incremental.start_value} placeholder): every run requests every page "
                "and the tap filters the records",
            )


def _secret_names(node: Any, found: set[str]) -> bool:
    """Collect ``{"secret": name}`` names; True if an auth is a bare type string."""
    shorthand = False
    if isinstance(node, dict):
        if set(node) == {"secret"} and isinstance(node["secret"], str):
            found.add(node["secret"])
        shorthand = isinstance(node.get("auth"), str)
        for value in node.values():
            shorthand |= _secret_names(value, found)
    elif isinstance(node, list):
        for value in node:
            shorthand |= _secret_names(value, found)
    return shorthand


def _unused_secrets(hints: Hints, config: Mapping[str, Any]) -> None:
    used: set[str] = set()
    rest = {k: v for k, v in config.items() if k != "secrets"}
    if _secret_names(rest, used):  # a bare auth type reads secrets by field name
        return
    for name in _dict(config.get("secrets")):
        if name not in used:
            hints.add(
                ("secrets", name),
                f"secret {name!r} is never used (reference it as {json.dumps({'secret': name})})",
            )
