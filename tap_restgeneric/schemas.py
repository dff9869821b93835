"""Stream schemas: a declared JSON Schema as given, else a permissive schema keeping every field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tap_restgeneric.cursors import detect_format, parse_point
from tap_restgeneric.family import parent_context_fields
from tap_restgeneric.spec import IncrementalSpec, ResourceSpec


def cursor_schema(incremental: IncrementalSpec) -> dict[str, Any]:
    """The replication key's schema, typed after initial_value when it tells the kind."""
    value = incremental.initial_value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"type": ["number", "null"]}
    if isinstance(value, str) and isinstance(parse_point(value), datetime):
        kind = "date" if detect_format(value) == "date" else "date-time"
        return {"type": ["string", "null"], "format": kind}
    return {"type": ["string", "number", "null"]}


def schema_for(resource: ResourceSpec) -> dict[str, Any]:
    """Return the stream's JSON Schema; key fields are always declared."""
    if resource.schema is not None:
        schema = dict(resource.schema)
        properties = dict(schema.get("properties") or {})
    else:
        schema = {"type": "object", "additionalProperties": True}
        properties = {}
    for key in resource.primary_key:
        properties.setdefault(key, {})
    for key in parent_context_fields(resource):
        properties.setdefault(key, {})
    incremental = resource.endpoint.incremental
    if incremental is not None:
        properties.setdefault(incremental.replication_key, cursor_schema(incremental))
    schema["properties"] = properties
    return schema
