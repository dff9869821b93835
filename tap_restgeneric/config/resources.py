"""Resources: shorthands expanded, resource_defaults merged as dlt does, each resolved to a spec."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from tap_restgeneric.config.dependencies import find_parent, parents_first, rewrite_resolve_params
from tap_restgeneric.config.endpoints import ENDPOINT_FIELDS, ClientDefaults, endpoint_spec
from tap_restgeneric.config.fields import REQUIRED, Field, check_options, check_value, json_type
from tap_restgeneric.config.raw import EndpointConfig, ResourceBase, ResourceConfig, RestApiConfig
from tap_restgeneric.config.settings import PYTHON_ONLY, REQUIRED_SETTINGS
from tap_restgeneric.config.spec import ResourceSpec
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.records.drift import POLICIES
from tap_restgeneric.records.schemas import drift_policy, resource_schema

MAX_RESOURCES = 1000
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
"""What a stream name may not hold: target-jsonl and others write files named after it."""
RESOURCE_FIELDS = {
    "name": Field("name", REQUIRED, nullable=False),
    "endpoint": Field("any"),
    "primary_key": Field("any"),
    "selected": Field("boolean", True, nullable=False),
    "schema": Field("any"),
    "schema_drift": Field("string", None, True, POLICIES),
    "table_name": Field("name"),
    "write_disposition": Field("any"),
    "include_from_parent": Field("string list"),
    "processing_steps": Field("any"),
    # dlt resource hints accepted for compatibility; they describe dlt's loading, not the extract.
    "merge_key": Field("any"),
    "columns": Field("any"),
    "schema_contract": Field("any"),
    "table_format": Field("any"),
    "file_format": Field("any"),
    "references": Field("any"),
    "parent_table_name": Field("any"),
    "nested_hints": Field("any"),
    "max_table_nesting": Field("integer"),
    "parallelized": Field("boolean"),
}
WRITE_DISPOSITIONS = ("append", "replace", "merge")


def merge_defaults(
    resource: Mapping[str, Any], defaults: ResourceBase | Mapping[str, Any]
) -> dict[str, Any]:
    """Merge resource_defaults into a resource by dlt's rules (params/json one level deep).

    Plain dicts come out (tools/hints uses it too); the inputs may be the raw TypedDicts.
    """
    merged = copy.deepcopy(dict(defaults))
    for key, value in resource.items():
        if key == "endpoint" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            endpoint = merged[key]
            for ekey, evalue in value.items():
                base = endpoint.get(ekey)
                if (
                    ekey in ("params", "json")
                    and isinstance(base, dict)
                    and isinstance(evalue, dict)
                ):
                    endpoint[ekey] = {**base, **evalue}
                else:
                    endpoint[ekey] = evalue
        elif key == "columns" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            columns = merged[key]
            for column, hints in value.items():
                base = columns.get(column)
                columns[column] = (
                    {**base, **hints}
                    if isinstance(base, dict) and isinstance(hints, dict)
                    else hints
                )
        else:
            merged[key] = value
    return merged


def default_origins(
    resource: Mapping[str, Any], defaults: ResourceBase | Mapping[str, Any]
) -> list[Path]:
    """Paths (relative to the resource) whose merged value was taken from resource_defaults."""
    origins: list[Path] = [(key,) for key in defaults if key not in resource]
    endpoint, base = resource.get("endpoint"), defaults.get("endpoint")
    if isinstance(endpoint, dict) and isinstance(base, dict):
        for key, value in base.items():
            if key not in endpoint:
                origins.append(("endpoint", key))
            elif key in ("params", "json") and isinstance(value, dict):
                own = endpoint[key] if isinstance(endpoint[key], dict) else {}
                origins.extend(("endpoint", key, k) for k in value if k not in own)
    return origins


def expand_resource(
    raw: str | ResourceConfig, path: Path, errors: ConfigErrors
) -> dict[str, Any] | None:
    """Expand string shorthands: ``"posts"`` and ``endpoint: "path"``; default path to name.

    The result is a plain dict (tools/hints reads it so) whose ``endpoint`` is an object.
    """
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):  # JSON may hold anything here
        errors.add(path, f"wrong type: got {json_type(raw)}", "a resource name or an object")
        return None
    resource: dict[str, Any] = dict(raw)
    endpoint = resource.get("endpoint")
    if isinstance(endpoint, str):
        endpoint = {"path": endpoint}
    elif endpoint is None:
        endpoint = {}
    elif not isinstance(endpoint, dict):
        errors.add(
            (*path, "endpoint"), f"wrong type: got {json_type(endpoint)}", "a path or an object"
        )
        return None
    endpoint = dict(endpoint)
    if not endpoint.get("path") and isinstance(resource.get("name"), str):
        endpoint["path"] = resource["name"]
    resource["endpoint"] = endpoint
    return resource


def primary_key(raw: Any, path: Path, errors: ConfigErrors) -> tuple[str, ...]:
    """Normalize primary_key: a name or a list of names."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list) and all(isinstance(k, str) for k in raw):
        return tuple(raw)
    errors.add(path, f"wrong type: got {json_type(raw)}", "a field name or a list of field names")
    return ()


def resource_spec(
    raw: Mapping[str, Any],
    path: Path,
    client: ClientDefaults,
    errors: ConfigErrors,
    secrets: Mapping[str, Any],
    *,
    names: Sequence[str] = (),
) -> ResourceSpec:
    """Resolve one merged resource dict."""
    misplaced = frozenset(k for k in raw if k in ENDPOINT_FIELDS and k not in RESOURCE_FIELDS)
    for key in sorted(misplaced):
        errors.add(
            (*path, key),
            f"{key!r} is an endpoint key, not a resource key",
            "it inside 'endpoint'",
        )
    opts = check_options(raw, RESOURCE_FIELDS, path, errors, ignore=misplaced)
    for key, (problem, instead) in PYTHON_ONLY.items():
        if opts.get(key) is not None:
            errors.add((*path, key), problem, instead)
    disposition = opts["write_disposition"]
    kind = disposition.get("disposition") if isinstance(disposition, dict) else disposition
    if kind is not None and kind not in WRITE_DISPOSITIONS:
        errors.unknown_name(
            (*path, "write_disposition"), "write_disposition", kind, WRITE_DISPOSITIONS
        )
    keys = primary_key(opts["primary_key"], (*path, "primary_key"), errors)
    where = (*path, "endpoint")
    raw_endpoint = rewrite_resolve_params(raw.get("endpoint") or EndpointConfig(), where, errors)
    parent, fields = find_parent(raw_endpoint, names, opts["name"] or "", where, errors)
    include = tuple(opts["include_from_parent"] or ())
    if include and parent is None:
        errors.add(
            (*path, "include_from_parent"),
            "include_from_parent needs a parent resource",
            "a {resources.<parent>.<field>} placeholder in the endpoint",
        )
    endpoint = endpoint_spec(
        raw_endpoint, client, where, errors, secrets, primary_key=keys, parent=parent
    )
    schema, complete = resource_schema(opts["schema"], opts["columns"], path, errors)
    drift = drift_policy(opts["schema_drift"], opts["schema_contract"], client.drift, path, errors)
    return ResourceSpec(
        name=opts["name"] or "",
        schema_complete=complete,
        drift=drift,
        table_name=opts["table_name"],
        parent=parent,
        parent_fields=fields,
        include_from_parent=include,
        endpoint=endpoint,
        primary_key=keys,
        selected=bool(opts["selected"]),
        schema=schema,
    )


def resource_defaults(config: RestApiConfig, errors: ConfigErrors) -> ResourceBase:
    """``resource_defaults`` ({} when absent or not an object); it may not set ``name``."""
    defaults = config.get("resource_defaults")
    if defaults is None or not check_value(
        defaults, Field("object"), ("resource_defaults",), errors
    ):
        defaults = {}
    if "name" in defaults:
        errors.add(
            ("resource_defaults", "name"),
            "resource_defaults cannot set 'name'",
            "'name' on each resource instead",
        )
    return defaults


def resource_items(config: RestApiConfig, errors: ConfigErrors) -> list[str | ResourceConfig]:
    """The ``resources`` list (at most MAX_RESOURCES of it), or [] when it is not a list."""
    items = config.get("resources")
    if "resources" in config and not isinstance(items, list):
        errors.add(
            ("resources",), f"wrong type: got {json_type(items)}", REQUIRED_SETTINGS["resources"]
        )
    if not isinstance(items, list):
        return []
    if len(items) > MAX_RESOURCES:
        errors.add(
            ("resources",),
            f"too many resources: {len(items):,}",
            f"at most {MAX_RESOURCES:,} resources (only the first {MAX_RESOURCES:,} are checked)",
        )
    return items[:MAX_RESOURCES]


def resource_specs(
    config: RestApiConfig,
    client: ClientDefaults,
    errors: ConfigErrors,
    secrets: Mapping[str, Any],
) -> list[ResourceSpec]:
    """Every resource resolved with resource_defaults merged in, parents first."""
    defaults = resource_defaults(config, errors)
    expanded_all: list[tuple[Path, dict[str, Any]]] = []
    for i, item in enumerate(resource_items(config, errors)):
        path: Path = ("resources", i)
        expanded = expand_resource(item, path, errors)
        if expanded is not None:
            expanded_all.append((path, expanded))
    names = [str(e.get("name")) for _, e in expanded_all if isinstance(e.get("name"), str)]
    specs: list[tuple[ResourceSpec, Path]] = []
    seen: set[str] = set()
    for path, expanded in expanded_all:
        merged = merge_defaults(expanded, defaults)
        origins = {
            (*path, *rel): ("resource_defaults", *rel)
            for rel in default_origins(expanded, defaults)
        }
        with errors.moved(origins):
            spec = resource_spec(merged, path, client, errors, secrets, names=names)
        for name in {spec.name, spec.stream_name}:
            if name and name in seen:
                errors.add((*path, "name"), f"resource {name!r} is already defined", "unique names")
            seen.add(name)
        for key, named in (("name", spec.name), ("table_name", spec.table_name)):
            if named is not None and (_UNSAFE_NAME.search(named) or named in (".", "..")):
                errors.add(
                    (*path, key),
                    f"{named!r} cannot name a stream: targets make file and table names of it",
                    "a name without '/', '\\' or control characters, not '.' or '..'",
                )
        specs.append((spec, path))
    return parents_first(specs, errors)
