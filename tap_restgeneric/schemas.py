"""Stream schemas: a declared JSON Schema as given, else a permissive schema keeping every field."""

from __future__ import annotations

from typing import Any

from tap_restgeneric.spec import ResourceSpec


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
    schema["properties"] = properties
    return schema
