"""Stream schemas: declared or inferred, with key fields and the replication key always typed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path as FilePath
from typing import Any

from tap_restgeneric.config.declared import declared_schema, finish_schema
from tap_restgeneric.config.spec import EndpointSpec, ResourceSpec
from tap_restgeneric.errors import ConfigErrors, Path, one_of
from tap_restgeneric.records.cursors import detect_format
from tap_restgeneric.records.drift import POLICIES
from tap_restgeneric.records.inference import infer_schema
from tap_restgeneric.sync.family import parent_context_fields

CONTRACT_POLICIES = {"evolve": "evolve", "freeze": "fail", "discard_value": "freeze"}


def drift_policy(
    own: str | None, contract: Any, default: str, path: Path, errors: ConfigErrors
) -> str:
    """The drift policy: schema_drift, else dlt's schema_contract mapped, else the default."""
    if own is not None:
        return own
    value = contract.get("columns") if isinstance(contract, dict) else contract
    if value is None:
        return default
    if value in CONTRACT_POLICIES:
        return CONTRACT_POLICIES[value]
    errors.add(
        (*path, "schema_contract"),
        f"schema_contract {value!r} has no equivalent in a Singer tap",
        "'evolve', 'freeze' (becomes schema_drift 'fail'), 'discard_value' (becomes 'freeze'), "
        f"or schema_drift: {one_of(POLICIES)}",
    )
    return default


def resource_schema(
    raw: Any, columns: Any, path: Path, errors: ConfigErrors
) -> tuple[dict[str, Any] | None, bool]:
    """The declared schema (complete) or the properties declared by dlt columns (partial)."""
    return declared_schema(raw, columns, FilePath.cwd(), path, errors)


def _finish(
    resource: ResourceSpec, schema: dict[str, Any], *, guess_cursor: bool = True
) -> dict[str, Any]:
    """Keys required and typed; the cursor typed from initial_value unless data typed it."""
    endpoint: EndpointSpec = resource.endpoint
    incremental = endpoint.incremental
    key = incremental.replication_key if incremental else None
    if key is not None and not guess_cursor and key in (schema.get("properties") or {}):
        key = None
    initial = incremental.initial_value if incremental else None
    result = finish_schema(schema, resource.primary_key, key, detect_format(initial))
    properties = result.setdefault("properties", {})
    for field in parent_context_fields(resource):
        properties.setdefault(field, {})
    return result


def schema_for(resource: ResourceSpec) -> dict[str, Any]:
    """The schema a stream starts with: the declared one, else a permissive one to infer into."""
    if resource.schema is not None and resource.schema_complete:
        return _finish(resource, dict(resource.schema))
    partial = dict((resource.schema or {}).get("properties") or {})
    return _finish(
        resource, {"type": "object", "properties": partial, "additionalProperties": True}
    )


def finished(resource: ResourceSpec, schema: dict[str, Any]) -> dict[str, Any]:
    """A widened or inferred object schema with the resource's keys required and typed."""
    return {**_finish(resource, schema, guess_cursor=False), "type": "object"}


def inferred_schema(resource: ResourceSpec, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A schema inferred from sample records; declared dlt columns win over inferred types."""
    inferred = infer_schema(records)
    declared = (resource.schema or {}).get("properties") or {}
    inferred["properties"] = {**inferred["properties"], **declared}
    return finished(resource, inferred)
