"""The tap's streams: one generated class per resource, parents first, handed what they share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tap_restgeneric.sync.family import fields_for_children, partition_keys
from tap_restgeneric.sync.streams import RestGenericStream

if TYPE_CHECKING:
    from singer_sdk import Tap

    from tap_restgeneric.config.spec import ResourceSpec, RestApiSpec
    from tap_restgeneric.sync.shared import Shared


def build_streams(tap: Tap, api: RestApiSpec, shared: Shared) -> list[RestGenericStream]:
    """One stream per resource, parents first, each handed the run's shared parts."""
    needed = fields_for_children(api.resources)
    classes: dict[str, type[RestGenericStream]] = {}
    for res in api.resources:
        parent = classes[res.parent] if res.parent else None
        classes[res.name] = make_stream_class(res, api, parent, needed.get(res.name))
    return [cls(tap, shared) for cls in classes.values()]


def make_stream_class(
    resource: ResourceSpec,
    api: RestApiSpec,
    parent: type[RestGenericStream] | None = None,
    children_fields: dict[str, str] | None = None,
) -> type[RestGenericStream]:
    """Generate one stream class per resource (the SDK links parents and children by class)."""
    incremental = resource.endpoint.incremental
    attrs = {
        "resource": resource,
        "api": api,
        "replication_key": incremental.replication_key if incremental else None,
        "parent_stream_type": parent,
        "selected_by_default": resource.selected,
        "state_partitioning_keys": partition_keys(resource),
        "children_fields": children_fields or {},
        "__doc__": f"Stream for resource {resource.name!r}.",
    }
    class_name = "Stream_" + "".join(c if c.isalnum() else "_" for c in resource.name)
    return type(class_name, (RestGenericStream,), attrs)
