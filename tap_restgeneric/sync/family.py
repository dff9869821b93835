"""Parent and child streams: what a child needs from each parent record, and what it adds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tap_restgeneric.config.dependencies import context_key
from tap_restgeneric.config.spec import ResourceSpec
from tap_restgeneric.records.selectors import Finder, compile_path


class MissingParentField(Exception):
    """A parent record lacks a field a child needs."""


def fields_for_children(resources: Iterable[ResourceSpec]) -> dict[str, dict[str, str]]:
    """Per parent resource: context key → field path, for every field any child uses."""
    needed: dict[str, dict[str, str]] = {}
    for child in resources:
        if child.parent is None:
            continue
        for field in (*child.parent_fields, *child.include_from_parent):
            needed.setdefault(child.parent, {})[context_key(child.parent, field)] = field
    return needed


class ChildContext:
    """Builds the small context a parent record hands to its children (never the whole record)."""

    def __init__(self, parent: str, fields: Mapping[str, str]) -> None:
        self.parent = parent
        self._finders: dict[str, tuple[str, Finder]] = {
            key: (field, compile_path(field)) for key, field in fields.items()
        }

    def __bool__(self) -> bool:
        return bool(self._finders)

    def __call__(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The context for one parent record; a missing field is None (its child then fails)."""
        context = {}
        for key, (_, find) in self._finders.items():
            found = find(record)
            context[key] = found[0] if found else None
        return context


def placeholder_values(resource: ResourceSpec, context: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{resources.<parent>.<field>}`` values for a child request, read from its context."""
    if resource.parent is None or context is None:
        return {}
    values = {}
    for field in (*resource.parent_fields, *resource.include_from_parent):
        value = context.get(context_key(resource.parent, field))
        if value is None:
            msg = (
                f"a record of {resource.parent!r} has no field {field!r}, "
                f"which {resource.name!r} needs"
            )
            raise MissingParentField(msg)
        values[f"resources.{resource.parent}.{field}"] = value
    return values


def included_fields(resource: ResourceSpec, context: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``include_from_parent`` fields added to each child record as ``_<parent>_<field>``."""
    if resource.parent is None or context is None:
        return {}
    keys = (context_key(resource.parent, f) for f in resource.include_from_parent)
    return {key: context[key] for key in keys}


def parent_context_fields(resource: ResourceSpec) -> list[str]:
    """The ``_<parent>_<field>`` fields child records carry (included, or state partition keys)."""
    if resource.parent is None:
        return []
    keys = [context_key(resource.parent, f) for f in resource.include_from_parent]
    return keys + [k for k in partition_keys(resource) or [] if k not in keys]


def partition_keys(resource: ResourceSpec) -> list[str] | None:
    """State partitions: one per parent key for per-parent bookmarks, else none (one state)."""
    if resource.parent is None:
        return None
    incremental = resource.endpoint.incremental
    if incremental is not None and incremental.per_parent:
        return [context_key(resource.parent, f) for f in resource.parent_fields]
    return []
