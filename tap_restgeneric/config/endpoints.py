"""Resolve one merged endpoint dict: paginator, auth, selector, retries, response actions, path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tap_restgeneric.config.fields import REQUIRED, Field, check_options, check_value, json_type
from tap_restgeneric.config.incremental import incremental_names, incremental_spec
from tap_restgeneric.config.placeholders import Allowed, bind_path, check_placeholders
from tap_restgeneric.config.secrets import lookup, report_missing
from tap_restgeneric.config.spec import (
    DEFAULT_RETRY_STATUSES,
    ComponentSpec,
    EndpointSpec,
    ResponseAction,
    RetrySpec,
)
from tap_restgeneric.errors import ConfigErrors, Path, one_of
from tap_restgeneric.http.auth import AUTHS
from tap_restgeneric.paginators import PAGINATORS
from tap_restgeneric.records.selectors import WHOLE_BODY, check_jsonpath
from tap_restgeneric.redaction import SENSITIVE_KEYS
from tap_restgeneric.registry import Registry

ENDPOINT_FIELDS = {
    "path": Field("string"),
    "method": Field("string", "GET", False, ("GET", "POST")),
    "params": Field("object", {}),
    "json": Field("object"),
    "data": Field("any"),
    "headers": Field("object", {}),
    "paginator": Field("any"),
    "data_selector": Field("any"),
    "response_actions": Field("list", []),
    "incremental": Field("any"),
    "auth": Field("any"),
    "error_handler": Field("object"),
    "on_unproven_end": Field("string", "fail", False, ("fail", "stop")),
}
MAX_RETRIES = 100
MAX_BACKOFF_FACTOR = 60
MAX_RETRY_DELAY = 3600
ERROR_HANDLER_FIELDS = {
    "retry_on_status_codes": Field("integer list", minimum=100, maximum=599),
    "max_retries": Field("integer", 4, nullable=False, maximum=MAX_RETRIES),
    "backoff_factor": Field("number", 1.0, nullable=False, maximum=MAX_BACKOFF_FACTOR),
    "max_retry_delay": Field("number", 300.0, nullable=False, maximum=MAX_RETRY_DELAY),
}
ACTION_FIELDS = {
    "status_code": Field("integer"),
    "content": Field("string"),
    "action": Field("string", None, False, ("ignore", "retry", "fail")),
}
# A path ending in a {placeholder} names one entity, not a collection.
SINGLE_ENTITY = re.compile(r"\{[A-Za-z0-9._-]+\}[^/]*$")


def component(
    raw: Any, registry: Registry[Any], path: Path, errors: ConfigErrors, secrets: Mapping[str, Any]
) -> ComponentSpec | None:
    """Resolve a paginator/auth given as a dict with ``type`` or a shorthand type string."""
    if isinstance(raw, str):
        given = _shorthand_fields(raw, registry, secrets)
        if _missing_in_shorthand(raw, given, registry, path, errors):
            return None
        raw = {"type": raw, **given}
        type_path = path
    elif isinstance(raw, dict):
        if "type" not in raw and registry.kind == "auth":
            raw = {"type": "bearer", **raw}
        type_path = (*path, "type")
    else:
        errors.add(
            path,
            f"wrong type: got {json_type(raw)}",
            f"an object or a type name ({one_of(registry.names)})",
        )
        return None
    name = raw.get("type")
    if name is None:
        errors.add(path, "missing required key 'type'", one_of(registry.names))
        return None
    cls = registry.get(name) if isinstance(name, str) else None
    if cls is None:
        errors.unknown_name(type_path, f"{registry.kind} type", name, registry.names)
        return None
    if hasattr(cls, "options_from"):
        options = cls.options_from(raw, path, errors)
    else:
        options = check_options(raw, cls.fields, path, errors, ignore=frozenset({"type"}))
    return ComponentSpec(name, options)


def paginator_named(name: str) -> ComponentSpec:
    """A paginator spec with its default options (``auto``, ``single_page``), built now."""
    return ComponentSpec(name, PAGINATORS[name].options_from({}, (), ConfigErrors()))


def _shorthand_fields(
    name: str, registry: Registry[Any], secrets: Mapping[str, Any]
) -> dict[str, Any]:
    """For an auth type string, read its required and secret fields from secrets/environment."""
    cls = registry.get(name)
    if registry.kind != "auth" or cls is None:
        return {}
    wanted = [k for k, f in cls.fields.items() if f.default is REQUIRED or k in SENSITIVE_KEYS]
    found = {key: lookup(key, secrets) for key in wanted}
    return {key: value for key, value in found.items() if value is not None}


def _missing_in_shorthand(
    name: str, given: Mapping[str, Any], registry: Registry[Any], path: Path, errors: ConfigErrors
) -> bool:
    """Report required options a bare type name cannot supply; True if any is missing."""
    cls = registry.get(name)
    fields = cls.fields if cls is not None else {}
    missing = [k for k, f in fields.items() if f.default is REQUIRED and k not in given]
    if registry.kind == "auth":
        for key in missing:
            report_missing(key, path, errors)
    elif missing:
        keys = ", ".join(repr(k) for k in missing)
        errors.add(
            path,
            f"{registry.kind} {name!r} cannot be given by name alone: it needs {keys}",
            f"an object with 'type' and {keys}",
        )
    return bool(missing)


def retry_policy(raw: Mapping[str, Any], path: Path, errors: ConfigErrors) -> RetrySpec:
    """Resolve an ``error_handler`` into a retry policy."""
    options = check_options(raw, ERROR_HANDLER_FIELDS, path, errors)
    codes = options["retry_on_status_codes"]
    return RetrySpec(
        status_codes=DEFAULT_RETRY_STATUSES if codes is None else frozenset(codes),
        max_retries=options["max_retries"] or 0,
        backoff_factor=float(options["backoff_factor"] or 0),
        max_delay=float(options["max_retry_delay"] or 0),
    )


def response_actions(
    raw: list[Any], path: Path, errors: ConfigErrors
) -> tuple[ResponseAction, ...]:
    """Resolve ``response_actions`` (dicts only: callables cannot be written in JSON)."""
    actions = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.add((*path, i), f"wrong type: got {json_type(item)}", "an object with 'action'")
            continue
        options = check_options(item, ACTION_FIELDS, (*path, i), errors)
        if options["status_code"] is None and options["content"] is None:
            errors.add(
                (*path, i),
                "the response action has nothing to match on",
                "'status_code' and/or 'content'",
            )
        actions.append(
            ResponseAction(options["status_code"], options["content"], options["action"])
        )
    return tuple(actions)


def data_selector(raw: Any, path: Path, errors: ConfigErrors) -> str | None:
    """Resolve data_selector: a JSONPath, ``$``/``[]`` for the whole body, None to detect."""
    if raw is None or raw == "":
        return None
    if raw == []:
        return WHOLE_BODY
    if not isinstance(raw, str):
        errors.add(path, f"wrong type: got {json_type(raw)}", "a JSONPath string, '$' or []")
        return None
    problem = check_jsonpath(raw)
    if problem:
        errors.add(
            path,
            f"invalid JSONPath {raw!r}: {problem}",
            "a JSONPath such as 'data' or 'items[*].data'",
        )
    return raw


@dataclass(frozen=True)
class ClientDefaults:
    """Client-level components resolved once, plus the settings every resource inherits."""

    paginator: ComponentSpec | None
    auth: ComponentSpec | None
    retry: RetrySpec
    start_date: Any = None
    drift: str = "evolve"


def endpoint_spec(
    merged: Mapping[str, Any],
    client: ClientDefaults,
    path: Path,
    errors: ConfigErrors,
    secrets: Mapping[str, Any],
    *,
    primary_key: tuple[str, ...] = (),
    parent: str | None = None,
) -> EndpointSpec:
    """Resolve one endpoint (already merged with defaults) against the client settings."""
    opts = check_options(merged, ENDPOINT_FIELDS, path, errors)
    raw_path = opts["path"] or ""
    single_entity = bool(SINGLE_ENTITY.search(raw_path))
    params = dict(opts["params"] or {})
    incremental = incremental_spec(
        opts["incremental"],
        params,
        path,
        errors,
        primary_key=primary_key,
        start_date=client.start_date,
    )
    for key, value in params.items():
        if isinstance(value, dict):
            errors.add(
                (*path, "params", key),
                "dict params other than type 'incremental' are not supported yet",
                "a scalar, a list or {'type': 'incremental', ...}",
            )
    allowed = Allowed(incremental_names(incremental), parent)
    bound, dynamic_path = bind_path(raw_path, params, allowed, (*path, "path"), errors)
    used = check_placeholders(opts, allowed, path, errors)
    if opts["json"] is not None and opts["data"] is not None:
        errors.add((*path, "data"), "'json' and 'data' are both set", "one request body")

    if opts["paginator"] is not None:
        paginator = component(opts["paginator"], PAGINATORS, (*path, "paginator"), errors, secrets)
    elif single_entity:
        paginator = paginator_named("single_page")
    else:
        paginator = client.paginator or paginator_named("auto")

    selector_path = (*path, "data_selector")
    selector = data_selector(opts["data_selector"], selector_path, errors)
    if selector is None and single_entity:
        selector = WHOLE_BODY

    auth = client.auth
    if opts["auth"] is not None:
        auth = component(opts["auth"], AUTHS, (*path, "auth"), errors, secrets)
    retry = client.retry
    if opts["error_handler"] is not None:
        retry = retry_policy(opts["error_handler"], (*path, "error_handler"), errors)
    for key, value in (opts["headers"] or {}).items():
        check_value(value, Field("string", nullable=False), (*path, "headers", key), errors)
    return EndpointSpec(
        path=bound,
        method=opts["method"] or "GET",
        params=params,
        json=opts["json"],
        data=opts["data"],
        headers=dict(opts["headers"] or {}),
        paginator=paginator or paginator_named("single_page"),
        data_selector=selector,
        auth=auth,
        response_actions=response_actions(
            opts["response_actions"] or [], (*path, "response_actions"), errors
        ),
        retry=retry,
        incremental=incremental,
        dynamic_path=dynamic_path,
        placeholders=used,
        on_unproven_end=opts["on_unproven_end"],
    )
