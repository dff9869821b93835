"""The entry point, raw config → RestApiSpec: secrets first, every error collected, raised once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from tap_restgeneric.config.fields import Field, check_value, shorten
from tap_restgeneric.config.raw import RestApiConfig
from tap_restgeneric.config.resources import (
    MAX_RESOURCES,
    RESOURCE_FIELDS,
    WRITE_DISPOSITIONS,
    default_origins,
    expand_resource,
    merge_defaults,
    primary_key,
    resource_spec,
    resource_specs,
)
from tap_restgeneric.config.secrets import resolve_secrets, secret_values
from tap_restgeneric.config.settings import (
    CLIENT_FIELDS,
    MAX_CONCURRENCY,
    MAX_REQUEST_TIMEOUT,
    MAX_SAMPLE_PAGES,
    MAX_SAMPLE_RECORDS,
    OWN_SETTINGS,
    PYTHON_ONLY,
    REQUIRED_SETTINGS,
    SETTING_FIELDS,
    check_top,
    client_defaults,
    client_options,
    is_http_url,
    tap_settings,
)
from tap_restgeneric.config.spec import RestApiSpec
from tap_restgeneric.config.stream_maps import MAP_OPTIONS, NULL_MAP, check_stream_maps
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.redaction import REDACT

__all__ = [  # the names resolve has always offered, wherever they live now
    "CLIENT_FIELDS",
    "MAP_OPTIONS",
    "MAX_CONCURRENCY",
    "MAX_ERROR_LINES",
    "MAX_REQUEST_TIMEOUT",
    "MAX_RESOURCES",
    "MAX_SAMPLE_PAGES",
    "MAX_SAMPLE_RECORDS",
    "MAX_SECRET_VALUES",
    "NULL_MAP",
    "OWN_SETTINGS",
    "PYTHON_ONLY",
    "REQUIRED_SETTINGS",
    "RESOURCE_FIELDS",
    "SETTING_FIELDS",
    "WRITE_DISPOSITIONS",
    "check_stream_maps",
    "client_defaults",
    "default_origins",
    "expand_resource",
    "is_http_url",
    "merge_defaults",
    "primary_key",
    "resolve_config",
    "resource_spec",
    "tap_settings",
]

MAX_SECRET_VALUES = 1000
MAX_ERROR_LINES = 100


def _with_secrets(
    config: Mapping[str, Any], errors: ConfigErrors
) -> tuple[RestApiConfig, Mapping[str, Any]]:
    """The config without ``secrets``, references resolved; and the named secrets."""
    secrets = config.get("secrets")
    found = [secrets]
    if secrets is None or not check_value(secrets, Field("object"), ("secrets",), errors):
        secrets = {}
    rest = {k: v for k, v in config.items() if k != "secrets"}
    raw: RestApiConfig = resolve_secrets(rest, secrets, (), errors, found)  # checked from here on
    _register_secrets(found, errors)
    return raw, secrets


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


def resolve_config(
    config: RestApiConfig | Mapping[str, Any], extra_settings: Iterable[str] = ()
) -> RestApiSpec:
    """Resolve and validate the whole config; raise ConfigValidationError listing every problem.

    ``config`` is JSON as loaded (or a RestApiConfig built in code); ``extra_settings`` are the
    SDK's built-in setting names, allowed beside ours.
    """
    errors = _FirstErrors()
    checked = check_top(config, (*OWN_SETTINGS, *extra_settings), errors)
    raw, secrets = _with_secrets(checked, errors)
    check_stream_maps(checked.get("stream_maps"), errors)  # as written: the SDK reads it so
    client = client_options(raw, errors)
    settings = tap_settings(raw, errors)
    defaults_client = replace(
        client_defaults(client, errors, secrets),
        start_date=settings["start_date"],
        drift=settings["schema_drift"],
    )
    ordered = resource_specs(raw, defaults_client, errors, secrets)

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
        requests_per_second=settings["requests_per_second"],
    )
