"""Top-level settings: the names the tap knows, its scalar settings, limits, and the client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path as FilePath
from typing import Any
from urllib.parse import urlsplit

from tap_restgeneric.config.endpoints import ClientDefaults, component, retry_policy
from tap_restgeneric.config.fields import (
    MAX_DEPTH,
    MAX_NODES,
    Field,
    check_options,
    check_value,
    count_nodes,
    nested_beyond,
)
from tap_restgeneric.config.raw import RestApiConfig
from tap_restgeneric.config.spec import RetrySpec
from tap_restgeneric.errors import ConfigErrors
from tap_restgeneric.http.auth import AUTHS
from tap_restgeneric.paginators import PAGINATORS
from tap_restgeneric.records.cursors import parse_point
from tap_restgeneric.records.drift import POLICIES

MAX_REQUEST_TIMEOUT = 3600
MAX_SAMPLE_PAGES = 100
MAX_SAMPLE_RECORDS = 100_000
MAX_CONCURRENCY = 64
DEFAULT_CONCURRENCY = 16
"""The ceiling of each host's adaptive level of requests in flight, when not configured."""
MAX_REQUESTS_PER_SECOND = 10_000
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
    "max_concurrency": Field(
        "integer", DEFAULT_CONCURRENCY, nullable=False, minimum=1, maximum=MAX_CONCURRENCY
    ),
    "requests_per_second": Field("number", above=0, maximum=MAX_REQUESTS_PER_SECOND),
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


def check_top(
    config: RestApiConfig | Mapping[str, Any], allowed: Iterable[str], errors: ConfigErrors
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


def tap_settings(config: RestApiConfig, errors: ConfigErrors) -> dict[str, Any]:
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


def client_options(config: RestApiConfig, errors: ConfigErrors) -> dict[str, Any]:
    """The ``client`` checked against CLIENT_FIELDS, with defaults ({} when it is no object)."""
    client: dict[str, Any] = {}
    if "client" in config and check_value(
        config["client"], Field("object", nullable=False), ("client",), errors
    ):
        client_raw = config["client"]
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
    return client


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
