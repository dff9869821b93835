"""Raw config → RestApiSpec: secrets, shorthands, resource_defaults merge, all errors at once."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path as FilePath
from typing import Any
from urllib.parse import urlsplit

from tap_restgeneric.config.dependencies import find_parent, parents_first, rewrite_resolve_params
from tap_restgeneric.config.endpoints import (
    ENDPOINT_FIELDS,
    ClientDefaults,
    component,
    endpoint_spec,
    retry_policy,
)
from tap_restgeneric.config.fields import (
    MAX_DEPTH,
    MAX_NODES,
    REQUIRED,
    Field,
    check_options,
    check_value,
    clip,
    count_nodes,
    describe,
    json_type,
    nested_beyond,
    shorten,
)
from tap_restgeneric.config.secrets import resolve_secrets, secret_values
from tap_restgeneric.config.spec import ResourceSpec, RestApiSpec, RetrySpec
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.http.auth import AUTHS
from tap_restgeneric.paginators import PAGINATORS
from tap_restgeneric.records.cursors import parse_point
from tap_restgeneric.records.drift import POLICIES
from tap_restgeneric.records.schemas import drift_policy, resource_schema
from tap_restgeneric.redaction import REDACT

MAX_REQUEST_TIMEOUT = 3600
MAX_SAMPLE_PAGES = 100
MAX_SAMPLE_RECORDS = 100_000
MAX_CONCURRENCY = 64
MAX_RESOURCES = 1000
MAX_SECRET_VALUES = 1000
MAX_ERROR_LINES = 100
NODES = "nodes (objects, lists, keys and values)"
SETTING_FIELDS = {
    "start_date": Field("string"),
    "request_timeout": Field("number", 60, nullable=False, above=0, maximum=MAX_REQUEST_TIMEOUT),
    "schema_drift": Field("string", "evolve", False, POLICIES),
    "schema_sample_pages": Field("integer", 1, nullable=False, minimum=1, maximum=MAX_SAMPLE_PAGES),
    "schema_sample_records": Field(
        "integer", 1000, nullable=False, minimum=1, maximum=MAX_SAMPLE_RECORDS
    ),
    "ca_bundle": Field("string"),
    "max_concurrency": Field("integer", 4, nullable=False, minimum=1, maximum=MAX_CONCURRENCY),
}
OWN_SETTINGS = ("client", "resource_defaults", "resources", "secrets", *SETTING_FIELDS)
"""Every top-level setting the tap itself reads (the SDK adds its built-ins)."""
CLIENT_FIELDS = {
    "base_url": Field("string", None, nullable=False),
    "headers": Field("object", {}),
    "auth": Field("any"),
    "paginator": Field("any"),
    "error_handler": Field("object"),
    "session": Field("any"),
}
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
PYTHON_ONLY = {
    "session": (
        "'session' cannot be written in JSON (it is a Python requests session)",
        "'error_handler' for retries and 'request_timeout' for timeouts",
    ),
    "processing_steps": (
        "'processing_steps' cannot be written in JSON (they are Python callables)",
        "Singer stream maps (the 'stream_maps' setting) to filter and transform records",
    ),
}
REQUIRED_SETTINGS = {
    "client": "an object with the API's 'base_url'",
    "resources": "a list of resource names or objects",
}
WRITE_DISPOSITIONS = ("append", "replace", "merge")


def merge_defaults(resource: dict[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Merge resource_defaults into a resource by dlt's rules (params/json one level deep)."""
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


def default_origins(resource: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[Path]:
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


def expand_resource(raw: Any, path: Path, errors: ConfigErrors) -> dict[str, Any] | None:
    """Expand string shorthands: ``"posts"`` and ``endpoint: "path"``; default path to name."""
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        errors.add(path, f"wrong type: got {json_type(raw)}", "a resource name or an object")
        return None
    resource = dict(raw)
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
    raw_endpoint = rewrite_resolve_params(raw.get("endpoint") or {}, where, errors)
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


def client_defaults(
    client: Mapping[str, Any], errors: ConfigErrors, secrets: Mapping[str, Any]
) -> ClientDefaults:
    """Resolve client-level paginator, auth and error_handler once."""
    paginator = auth = None
    if client.get("paginator") is not None:
        paginator = component(
            client["paginator"], PAGINATORS, ("client", "paginator"), errors, secrets
        )
    if client.get("auth") is not None:
        auth = component(client["auth"], AUTHS, ("client", "auth"), errors, secrets)
    retry = RetrySpec()
    if client.get("error_handler") is not None:
        retry = retry_policy(client["error_handler"], ("client", "error_handler"), errors)
    return ClientDefaults(paginator, auth, retry)


def tap_settings(config: Mapping[str, Any], errors: ConfigErrors) -> dict[str, Any]:
    """The tap's own scalar settings, checked, with defaults."""
    given = {k: v for k, v in config.items() if k in SETTING_FIELDS}
    settings = check_options(given, SETTING_FIELDS, (), errors)
    for key, field in SETTING_FIELDS.items():
        if settings[key] is None and field.default is not None:
            settings[key] = field.default  # reported; resolution goes on with the default
    start = settings["start_date"]
    if start is not None and not isinstance(parse_point(start), datetime):
        errors.add(
            ("start_date",),
            f"invalid start_date {start!r}",
            "an ISO 8601 datetime such as '2024-01-01T00:00:00Z'",
        )
        settings["start_date"] = None
    bundle = settings["ca_bundle"]
    if bundle and not FilePath(bundle).expanduser().exists():
        errors.add(("ca_bundle",), f"CA bundle {bundle!r} does not exist", "a CA bundle file path")
        settings["ca_bundle"] = None
    return settings


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _check_top(
    config: Mapping[str, Any], allowed: Iterable[str], errors: ConfigErrors
) -> dict[str, Any]:
    """Report unknown and missing settings; return the settings not nested too deeply."""
    names = sorted(set(allowed))
    for key in config:
        if key not in names:
            errors.unknown_name((key,), "setting", key, names)
    for key, expected in REQUIRED_SETTINGS.items():
        if key not in config:
            errors.add((), f"missing required setting {key!r}", expected)
    if count_nodes(config) > MAX_NODES:
        errors.add((), f"more than {MAX_NODES:,} nodes", f"at most {MAX_NODES:,} {NODES}")
        errors.raise_if_any()
    return _drop_too_deep(config, errors)


def _drop_too_deep(config: Mapping[str, Any], errors: ConfigErrors) -> dict[str, Any]:
    """Report settings nested deeper than MAX_DEPTH and leave them out of the resolution."""
    kept = {}
    for key, value in config.items():
        where = nested_beyond(value, MAX_DEPTH - 1)
        if where is None:
            kept[key] = value
            continue
        errors.add(
            (key, *where[:2]),
            f"nested more than {MAX_DEPTH} levels deep",
            f"at most {MAX_DEPTH} levels of objects and lists",
        )
    return kept


MAP_OPTIONS = ("__alias__", "__else__", "__filter__", "__key_properties__", "__source__")
"""The SDK's stream map operators; any other key of a stream map is a property expression."""
NULL_MAP = "__NULL__"


def _map_expression(expr: Any, path: Path, errors: ConfigErrors, *, what: str) -> None:
    """Check one stream map expression parses as the SDK parses it (one Python expression)."""
    if not isinstance(expr, str):
        errors.add(path, f"wrong type: got {json_type(expr)}", what)
        return
    shown = clip(expr, 60)
    shown = repr(shown) if len(expr) <= 60 else repr(shown.partition(" … ")[0]) + "…"
    problem = None
    try:
        body = ast.parse(expr).body
    except SyntaxError as exc:
        problem = exc.msg
    except (ValueError, RecursionError, MemoryError) as exc:
        problem = str(exc) or type(exc).__name__
    else:
        if len(body) != 1 or not isinstance(body[0], ast.Expr):
            problem = "not a single expression"
    if problem is not None:
        errors.add(path, f"invalid stream map expression {shown}: {problem}", what)


def check_stream_maps(maps: Any, errors: ConfigErrors) -> None:
    """Check ``stream_maps`` as the SDK will read it, so a bad map is a config error line."""
    if not isinstance(maps, dict):
        return  # the SDK's schema check reports the wrong type
    null = f"null or {NULL_MAP!r}"
    for name, stream_map in maps.items():
        path: Path = ("stream_maps", name)
        if name == "__else__":
            if stream_map not in (None, NULL_MAP):
                errors.add(path, f"unsupported value {describe(stream_map)}", null)
        elif str(name).startswith("__"):
            errors.add(path, f"unknown stream map option {name!r}", "a stream name or '__else__'")
        elif isinstance(stream_map, dict):
            _check_stream_map(stream_map, path, errors)
        elif stream_map not in (None, NULL_MAP):
            errors.add(
                path,
                f"wrong type: got {describe(stream_map)}",
                f"an object of property expressions, or {null} to leave the stream out",
            )


def _check_stream_map(stream_map: Mapping[str, Any], path: Path, errors: ConfigErrors) -> None:
    expression = 'a Python expression such as "id * 2" or "str(created_at)"'
    for key, value in stream_map.items():
        where = (*path, key)
        if key == "__source__":
            check_value(value, Field("name", nullable=False), where, errors)
        elif key == "__alias__":
            _map_expression(value, where, errors, what="a stream name or an expression")
        elif key == "__filter__":
            _map_expression(value, where, errors, what=expression)
        elif key == "__key_properties__":
            check_value(value, Field("string list"), where, errors)
        elif key == "__else__":
            if value not in (None, NULL_MAP):
                errors.add(where, f"unsupported value {describe(value)}", f"null or {NULL_MAP!r}")
        elif str(key).startswith("__"):
            errors.unknown_name(where, "stream map option", key, MAP_OPTIONS)
        elif value not in (None, NULL_MAP):
            _map_expression(value, where, errors, what=f"{expression}, or null to drop the field")


def _with_secrets(config: Mapping[str, Any], errors: ConfigErrors) -> tuple[Any, Mapping[str, Any]]:
    """The config without ``secrets``, references resolved; and the named secrets."""
    secrets = config.get("secrets")
    found = [secrets]
    if secrets is None or not check_value(secrets, Field("object"), ("secrets",), errors):
        secrets = {}
    rest = {k: v for k, v in config.items() if k != "secrets"}
    raw = resolve_secrets(rest, secrets, (), errors, found)
    _register_secrets(found, errors)
    return raw, secrets


def _resource_items(raw: Mapping[str, Any], errors: ConfigErrors) -> list[Any]:
    """The ``resources`` list (at most MAX_RESOURCES of it), or [] when it is not a list."""
    items = raw.get("resources")
    if "resources" in raw and not isinstance(items, list):
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


def _register_secrets(found: list[Any], errors: ConfigErrors) -> None:
    """Register the values to redact; more than MAX_SECRET_VALUES is a config error."""
    values = secret_values(found, MAX_SECRET_VALUES)
    REDACT.extend(values[:MAX_SECRET_VALUES])
    if len(values) > MAX_SECRET_VALUES:
        errors.add(
            (),
            f"more than {MAX_SECRET_VALUES:,} secret values",
            f"at most {MAX_SECRET_VALUES:,} (named secrets plus values under keys such as "
            "'token' or 'password')",
        )


class _FirstErrors(ConfigErrors):
    """Collects at most MAX_ERROR_LINES problems (a hostile config may have millions).

    Further problems are only counted, and named in one last line.
    """

    def __init__(self) -> None:
        super().__init__()
        self.more = 0

    def add(self, path: Path, problem: str, expected: str | None = None) -> None:
        """Record one problem, or count it once MAX_ERROR_LINES are recorded."""
        if len(self.lines) < MAX_ERROR_LINES:
            super().add(path, problem, expected)
        else:
            self.more += 1

    def unknown_name(self, path: Path, kind: str, name: object, valid: Sequence[str]) -> None:
        """Record an unknown name (no did-you-mean search once the lines are full)."""
        if len(self.lines) < MAX_ERROR_LINES:
            super().unknown_name(path, kind, name, valid)
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        """Raise with the recorded lines, and a last line counting the problems left out."""
        if self.more:
            self.lines.append(
                f"{self.more:,} more problems are not listed; expected at most "
                f"{MAX_ERROR_LINES} problems per run at config"
            )
            self.more = 0
        self.lines = [shorten(line) for line in self.lines]
        super().raise_if_any()


def resolve_config(config: Mapping[str, Any], extra_settings: Iterable[str] = ()) -> RestApiSpec:
    """Resolve and validate the whole config; raise ConfigValidationError listing every problem."""
    errors = _FirstErrors()
    config = _check_top(config, (*OWN_SETTINGS, *extra_settings), errors)
    raw, secrets = _with_secrets(config, errors)
    check_stream_maps(config.get("stream_maps"), errors)  # as written: the SDK reads it so

    client_raw = raw.get("client")
    client: dict[str, Any] = {}
    if "client" in raw and check_value(
        client_raw, Field("object", nullable=False), ("client",), errors
    ):
        client = check_options(client_raw, CLIENT_FIELDS, ("client",), errors)
        if "base_url" not in client_raw:
            errors.add(("client",), "missing required key 'base_url'", "the API's base URL")
        for key, value in (client["headers"] or {}).items():
            check_value(value, Field("string", nullable=False), ("client", "headers", key), errors)
        base_url = client["base_url"]
        if isinstance(base_url, str) and not is_http_url(base_url):
            errors.add(
                ("client", "base_url"),
                f"base_url {base_url!r} is not an http(s) URL",
                "an absolute URL such as 'https://api.example.com/v1'",
            )
    if client.get("session") is not None:
        errors.add(("client", "session"), *PYTHON_ONLY["session"])
    settings = tap_settings(raw, errors)
    defaults_client = replace(
        client_defaults(client, errors, secrets),
        start_date=settings["start_date"],
        drift=settings["schema_drift"],
    )

    defaults = raw.get("resource_defaults")
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

    expanded_all: list[tuple[Path, dict[str, Any]]] = []
    for i, item in enumerate(_resource_items(raw, errors)):
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
            spec = resource_spec(merged, path, defaults_client, errors, secrets, names=names)
        for name in {spec.name, spec.stream_name}:
            if name and name in seen:
                errors.add((*path, "name"), f"resource {name!r} is already defined", "unique names")
            seen.add(name)
        specs.append((spec, path))
    ordered = parents_first(specs, errors)

    errors.raise_if_any()
    return RestApiSpec(
        base_url=client.get("base_url") or "",
        headers=dict(client.get("headers") or {}),
        resources=tuple(ordered),
        request_timeout=float(settings["request_timeout"]),
        sample_pages=settings["schema_sample_pages"],
        sample_records=settings["schema_sample_records"],
        ca_bundle=settings["ca_bundle"],
        max_concurrency=settings["max_concurrency"],
    )
