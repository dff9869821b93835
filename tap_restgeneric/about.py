"""The tap's settings as ``--about`` lists them, and read from the environment (.env, numbers)."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from singer_sdk import typing as th

from tap_restgeneric.config.resolve import (
    MAX_CONCURRENCY,
    MAX_REQUEST_TIMEOUT,
    MAX_SAMPLE_PAGES,
    MAX_SAMPLE_RECORDS,
)
from tap_restgeneric.config.settings import DEFAULT_CONCURRENCY, MAX_REQUESTS_PER_SECOND
from tap_restgeneric.sdk import environment_settings

CONFIG_JSONSCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property(
        "client",
        th.ObjectType(additional_properties=True),
        required=True,
        description="dlt client: base_url, headers, auth, paginator, error_handler.",
    ),
    th.Property(
        "resource_defaults",
        th.ObjectType(additional_properties=True),
        description="dlt resource_defaults, merged into every resource by dlt's rules.",
    ),
    th.Property(
        "resources",
        th.ArrayType(th.CustomType({"type": ["string", "object"]})),
        required=True,
        description="dlt resources: names or resource objects (one Singer stream each).",
    ),
    th.Property(
        "secrets",
        th.ObjectType(additional_properties=True),
        secret=True,
        description='Named secret values, referenced anywhere as {"secret": "NAME"}.',
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Start of incremental resources without initial_value or bookmark.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType(exclusive_minimum=0, maximum=MAX_REQUEST_TIMEOUT),
        default=60,
        description=(
            "Seconds to wait for a response before retrying (default 60; above 0, at most "
            f"{MAX_REQUEST_TIMEOUT})."
        ),
    ),
    th.Property(
        "schema_drift",
        th.StringType,
        default="evolve",
        allowed_values=["evolve", "freeze", "fail"],
        description=(
            "Records with fields or types the schema lacks: evolve (write an updated "
            "SCHEMA), freeze (drop such fields), fail. Per resource: schema_drift."
        ),
    ),
    th.Property(
        "schema_sample_pages",
        th.IntegerType(minimum=1, maximum=MAX_SAMPLE_PAGES),
        default=1,
        description=(
            "Pages per stream sampled by --discover to infer undeclared schemas "
            f"(1 to {MAX_SAMPLE_PAGES})."
        ),
    ),
    th.Property(
        "schema_sample_records",
        th.IntegerType(minimum=1, maximum=MAX_SAMPLE_RECORDS),
        default=1000,
        description=(
            "At most this many records per stream are used to infer a schema "
            f"(1 to {MAX_SAMPLE_RECORDS:,})."
        ),
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=MAX_CONCURRENCY),
        default=DEFAULT_CONCURRENCY,
        description=(
            "The most requests in flight at once over the run, and to each host: each host "
            "starts at one and the tap raises its level while responses are latency-bound and "
            "steady, and cuts it after a 429, a burst of 5xx or growing latency. Independent "
            "top-level streams are synced side by side, and page_number and offset pages are "
            "requested ahead once two full pages came back alike (1: one request at a time; "
            f"at most {MAX_CONCURRENCY})."
        ),
    ),
    th.Property(
        "requests_per_second",
        th.NumberType(exclusive_minimum=0, maximum=MAX_REQUESTS_PER_SECOND),
        description=(
            "A request budget per host, for APIs that document one: requests are spaced "
            "evenly at this rate (a token bucket of one). Without it, a 429 teaches the tap a "
            "pace (95% of the rate the API accepted)."
        ),
    ),
    th.Property(
        "ca_bundle",
        th.StringType,
        description="Path to a CA bundle for TLS verification (verification is always on).",
    ),
).to_dict()
"""The tap's settings (``--about``); the dlt config keys are checked by ``resolve_config``."""


def settings_from_environment(
    schema: dict[str, Any], prefix: str, logger: logging.Logger
) -> dict[str, Any]:
    """``<prefix>*`` settings of ``schema``, with numeric ones (``request_timeout``...) as numbers.

    The SDK passes a ``number`` setting's text on as a string (a type error), and ends the
    run with a bare ValueError on an ``integer`` setting that is not one. Here ``5`` and
    ``2.5`` become numbers; other text stays a string, for a config error naming the setting.
    """
    properties: dict[str, Any] = schema.get("properties", {})
    numeric = {key: kind for key, prop in properties.items() if (kind := _numeric_kind(prop))}
    others = {key: prop for key, prop in properties.items() if key not in numeric}
    load_working_dotenv()
    # No .env file read by the SDK: it would search upwards from its own installed files
    # and let it override the environment; the working directory's was loaded just above.
    config = environment_settings({**schema, "properties": others}, prefix)
    for key, kind in numeric.items():
        name = prefix + key.upper().replace("-", "_")
        if name in os.environ:
            logger.info("Parsing '%s' config from env variable '%s'.", key, name)
            config[key] = _env_number(os.environ[name], kind)
    return config


def _numeric_kind(prop: dict[str, Any]) -> str | None:
    """``integer`` or ``number`` for a setting of that JSON type (nullable or not), else None."""
    kind = prop.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    kinds.discard("null")
    return kinds.pop() if len(kinds) == 1 and kinds <= {"integer", "number"} else None


def load_working_dotenv() -> None:
    """Meltano's rule for ``.env``: only the working directory's, and the environment wins."""
    path = Path.cwd() / ".env"
    if path.is_file():
        for name, value in dotenv_values(path).items():
            if value is not None:
                os.environ.setdefault(name, value)


def _env_number(text: str, kind: str) -> Any:
    """An environment variable's text as the setting's number; text that is none stays as is."""
    try:
        return int(text)
    except ValueError:
        pass
    if kind == "number":
        try:
            value = float(text)
        except ValueError:
            return text
        if math.isfinite(value):
            return value
    return text
