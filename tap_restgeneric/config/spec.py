"""The resolved, validated config: frozen dataclasses that streams read instead of raw config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

DEFAULT_RETRY_STATUSES = frozenset({429, *range(500, 600)})


@dataclass(frozen=True)
class ComponentSpec:
    """A paginator or authenticator: its registered type name and checked options.

    A paginator's options are its typed ``Options`` dataclass (config/options.py), built once
    when the config is resolved; read as a Mapping it shows the options as written in config.
    """

    type: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class RetrySpec:
    """When and how often a failed request is retried (dlt's runtime defaults)."""

    status_codes: frozenset[int] = DEFAULT_RETRY_STATUSES
    max_retries: int = 4
    backoff_factor: float = 1.0
    max_delay: float = 300.0


@dataclass(frozen=True)
class ResponseAction:
    """One ``response_actions`` entry: match on status and/or body content, then act."""

    status_code: int | None
    content: str | None
    action: str


@dataclass(frozen=True)
class IncrementalSpec:
    """dlt's incremental: a cursor in each record, sent as params/placeholders, bookmarked."""

    cursor_path: str
    replication_key: str
    initial_value: Any = None
    end_value: Any = None
    start_param: str | None = None
    end_param: str | None = None
    lag: float = 0.0
    on_cursor_value_missing: str = "raise"
    row_order: str | None = None
    range_start: str = "closed"
    range_end: str = "open"
    convert: str | None = None
    window: timedelta | None = None
    primary_key: tuple[str, ...] | None = None
    per_parent: bool = False
    start_date: Any = None  # the start_date setting: the floor when initial_value is unset


@dataclass(frozen=True)
class EndpointSpec:
    """How to request one resource and read its records."""

    path: str
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    data: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    paginator: ComponentSpec = ComponentSpec("auto", {})
    data_selector: str | None = None
    auth: ComponentSpec | None = None
    response_actions: tuple[ResponseAction, ...] = ()
    retry: RetrySpec = RetrySpec()
    incremental: IncrementalSpec | None = None
    dynamic_path: bool = False
    placeholders: bool = False
    on_unproven_end: str = "fail"


@dataclass(frozen=True)
class ResourceSpec:
    """One resource: a Singer stream with its endpoint, keys and schema."""

    name: str
    endpoint: EndpointSpec
    primary_key: tuple[str, ...] = ()
    selected: bool = True
    schema: Mapping[str, Any] | None = None
    schema_complete: bool = False
    drift: str = "evolve"
    table_name: str | None = None
    parent: str | None = None
    parent_fields: tuple[str, ...] = ()
    include_from_parent: tuple[str, ...] = ()

    @property
    def stream_name(self) -> str:
        """The Singer stream name: dlt's table_name, else the resource name."""
        return self.table_name or self.name


@dataclass(frozen=True)
class RestApiSpec:
    """The whole source: client settings and resources in config order."""

    base_url: str
    headers: Mapping[str, str]
    resources: tuple[ResourceSpec, ...]
    request_timeout: float = 60.0
    sample_pages: int = 1
    sample_records: int = 1000
    ca_bundle: str | None = None
    max_concurrency: int = 16
    requests_per_second: float | None = None

    @property
    def stream_names(self) -> dict[str, str]:
        """Resource name → Singer stream name."""
        return {r.name: r.stream_name for r in self.resources}
