"""Bad config never produces a traceback (SPEC §2.4) and templates run in a sandbox (SPEC §2.2).

A property-based test starts from the valid configs (tests/seed_configs.py and examples/*.json),
applies one to three mutations to each (wrong types, unknown keys and type names, broken
templates and placeholders, bad JSONPaths, parent cycles, missing secrets, invalid durations,
negative numbers …) and checks that ``resolve_config`` either accepts the result or raises a
ConfigValidationError whose every line is ``<problem>; expected <allowed> at config[...]`` with a
path that exists in the config. Any other exception is a failure. The run is derandomized, so the
same configs are checked every time; its figures go to build/fuzz.json. A deterministic subset
of the rejected configs goes through the CLI, and the stop_condition sandbox is probed directly.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cli import EXAMPLES, ROOT, clean_env, example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seed_configs import SEED_CONFIGS
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.endpoints import ACTION_FIELDS, ENDPOINT_FIELDS, ERROR_HANDLER_FIELDS
from tap_restgeneric.config.incremental import INCREMENTAL_FIELDS
from tap_restgeneric.config.resolve import CLIENT_FIELDS, RESOURCE_FIELDS, resolve_config
from tap_restgeneric.config.templates import Template, TemplateError
from tap_restgeneric.demo import DemoServer
from tap_restgeneric.http.auth import AUTHS
from tap_restgeneric.paginators import PAGINATORS
from tap_restgeneric.tap import TapRestGeneric

Config = dict[str, Any]
PathParts = tuple[str | int, ...]

FUZZ_REPORT = ROOT / "build" / "fuzz.json"
MAX_EXAMPLES = 300
MIN_REJECTED = 200
CLI_SAMPLE = 25
TAP = [sys.executable, "-m", "tap_restgeneric.tap"]


def _builtin_settings() -> tuple[str, ...]:
    """Every setting name the tap accepts: its own plus the SDK built-ins (stream_maps, …)."""
    schema = copy.deepcopy(TapRestGeneric.config_jsonschema)
    TapRestGeneric.append_builtin_config(schema)
    return tuple(schema["properties"])


SETTINGS = _builtin_settings()


def _base_configs() -> dict[str, Config]:
    configs = {f"seed_{name}": config for name, config in SEED_CONFIGS.items()}
    for path in sorted(EXAMPLES.glob("*.json")):
        configs[f"example_{path.stem}"] = json.loads(path.read_text())
    return configs


BASES = _base_configs()
SECRET_NAMES = sorted(
    {name for config in BASES.values() for name in config.get("secrets", {})}
    | {"username", "password", "token", "api_key", "client_secret", "access_token"}
)
"""Names the configs reference; their upper-cased environment variables are cleared."""

KNOWN_KEYS = frozenset(
    {"type", "secret", *SETTINGS, *CLIENT_FIELDS, *RESOURCE_FIELDS, *ENDPOINT_FIELDS}
    | {*ERROR_HANDLER_FIELDS, *INCREMENTAL_FIELDS, *ACTION_FIELDS}
    | {key for name in PAGINATORS.names for key in PAGINATORS[name].fields}
    | {key for name in AUTHS.names for key in AUTHS[name].fields}
)
"""Every key that is valid somewhere: an injected unknown key is none of them."""

# --- the mutations ------------------------------------------------------------------------------

WRONG_VALUES: tuple[Any, ...] = (
    12345,
    -7,
    3.5,
    True,
    False,
    None,
    [],
    ["x", 1],
    {},
    {"nested": {"deep": 1}},
    "a string",
    "",
)
NEAR_MISS_TYPES = ("oauth2", "digest", "hmac", "link_header", "pages", "Cursor", "SINGLE_PAGE")
BAD_TEMPLATES = (
    "{{ response.get('hasNext' }}",
    "{{ }}",
    "{{ response[ }}",
    "{{ 1 +* 2 }}",
    "{{ response.__class__ }}",
    "{{ ().__class__.__bases__ }}",
    "{{ __import__('os').system('x') }}",
    "{{ open('/etc/passwd') }}",
    "{{ response.get.__self__ }}",
    "{{ [c for c in ()] }}",
    "{{ (lambda: 1)() }}",
    "{{ (x := 1) }}",
    "{{ globals() }}",
    "{{ getattr(response, 'get') }}",
    "{{ '{0.__class__}'.format(response) }}",
    "{{ str.mro() }}",
    "{{ response.func_globals }}",
    "{{ " + "-" * 100_000 + "1 }}",
    "{{ 1\x00 }}",
    "",
)
BAD_JSONPATHS = ("$[", "items[?(@.x", "a..b..", "$.[*", "[*", "data]]", "$..", "@@", "a b", "$['a")
BAD_DURATIONS: tuple[Any, ...] = ("P7X", "7 days", "", "PT", "P", "-P1D", "PT0S", "P1Y", "1d", 7)
BAD_PLACEHOLDERS = (
    "{incremental.nope}",
    "{oops",
    "oops}",
    "{}",
    "{0}",
    "{resources.}",
    "{resources..id}",
    "{resources.nope_parent.id}",
)
BAD_CHOICES: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("endpoint", "method"), "DELETE"),
    (("endpoint", "method"), "get"),
    (("write_disposition",), "merg"),
    (("schema_drift",), "evolv"),
    (("schema_contract",), "freeze_all"),
    (("endpoint", "response_actions"), [{"status_code": 404, "action": "skip"}]),
    (("endpoint", "response_actions"), [{"action": "ignore"}]),
    (("endpoint", "json"), {"a": 1}),  # with data below: both bodies set
    (("endpoint", "data"), {"b": 2}),
    (("columns",), {"id": {"data_type": "bigintt"}}),
    (("schema",), {"type": "array"}),
    (("schema",), "no/such/schema.json"),
    (("include_from_parent",), ["id"]),
    (("endpoint", "session"), {}),
    (("processing_steps",), [{"filter": "x"}]),
)


def _typo(word: str, draw: st.DrawFn) -> str:
    """A near miss of ``word``: a character dropped, doubled, swapped, replaced, or case/sep."""
    if not word:
        return "x"
    i = draw(st.integers(0, len(word) - 1))
    kind = draw(st.sampled_from(["drop", "double", "swap", "replace", "upper", "dash", "plural"]))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "upper":
        return word[:i] + word[i].swapcase() + word[i + 1 :]
    if kind == "dash" and "_" in word:
        return word.replace("_", "-")
    if kind == "plural":
        return word + "s"
    return word[:i] + draw(st.sampled_from("aeioqxz_")) + word[i + 1 :]


def _walk(node: Any, path: PathParts = ()) -> Iterator[tuple[PathParts, Any]]:
    """Every (path, value) below ``node`` (not the root itself)."""
    items: Any = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        yield (*path, key), value
        yield from _walk(value, (*path, key))


def _get(config: Config, path: PathParts) -> Any:
    node: Any = config
    for part in path:
        node = node[part]
    return node


def _set(config: Config, path: PathParts, value: Any) -> None:
    _get(config, path[:-1])[path[-1]] = value


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


class NotApplicable(Exception):
    """An earlier mutation removed what this one needs (e.g. the resources list)."""


def _resource_index(config: Config, draw: st.DrawFn) -> int:
    resources = config.get("resources")
    if not isinstance(resources, list):
        raise NotApplicable
    eligible = [i for i, r in enumerate(resources) if isinstance(r, dict | str)]
    if not eligible:
        raise NotApplicable
    return draw(st.sampled_from(eligible))


def _as_object(config: Config, index: int) -> dict[str, Any]:
    """Resource ``index`` as an object with an endpoint object (shorthands expanded)."""
    resource: dict[str, Any] = config["resources"][index]
    if isinstance(resource, str):
        resource = config["resources"][index] = {"name": resource}
    endpoint = resource.get("endpoint")
    if not isinstance(endpoint, dict):
        name = resource.get("name")
        path = endpoint if isinstance(endpoint, str) else name if isinstance(name, str) else "x"
        resource["endpoint"] = {"path": path}
    return resource


def _resource(config: Config, draw: st.DrawFn) -> tuple[int, dict[str, Any]]:
    """A resource (as an object) and its endpoint made an object; returns (index, endpoint)."""
    index = _resource_index(config, draw)
    endpoint = _as_object(config, index)["endpoint"]
    assert isinstance(endpoint, dict)
    return index, endpoint


def _strict_objects(config: Config) -> list[PathParts]:
    """Objects whose keys are checked (not params, headers, json, secrets or schemas)."""
    paths: list[PathParts] = [()]
    for key in ("client", "resource_defaults"):
        if isinstance(config.get(key), dict):
            paths.append((key,))
    resources = config.get("resources")
    for i, resource in enumerate(resources if isinstance(resources, list) else []):
        if isinstance(resource, dict):
            paths.append(("resources", i))
    containers = [p for p in paths if p]
    for parent in containers:
        node = _get(config, parent)
        for key in ("endpoint", "auth", "paginator", "error_handler"):
            if isinstance(node.get(key), dict):
                paths.append((*parent, key))
            endpoint = node.get("endpoint")
            inner = endpoint.get(key) if isinstance(endpoint, dict) else None
            if key != "endpoint" and isinstance(inner, dict):
                paths.append((*parent, "endpoint", key))
        endpoint = node.get("endpoint")
        if isinstance(endpoint, dict) and isinstance(endpoint.get("incremental"), dict):
            paths.append((*parent, "endpoint", "incremental"))
    return paths


def wrong_type(config: Config, draw: st.DrawFn) -> str:
    """Any value anywhere replaced by a value of another JSON type."""
    paths = [p for p, _ in _walk(config)]
    if not paths:
        raise NotApplicable
    path = draw(st.sampled_from(paths))
    current = _get(config, path)
    value = draw(st.sampled_from([v for v in WRONG_VALUES if _json_kind(v) != _json_kind(current)]))
    _set(config, path, copy.deepcopy(value))
    return "wrong_type"


def unknown_key(config: Config, draw: st.DrawFn) -> str:
    """An unknown key (a near miss of a key there, or a made-up one) in a checked object."""
    where = draw(st.sampled_from(_strict_objects(config)))
    node = _get(config, where)
    key = ""
    if node and draw(st.booleans()):
        key = _typo(draw(st.sampled_from(sorted(node))), draw)
    if not key or key in KNOWN_KEYS or key in node:
        key = "zz_" + draw(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10))
    node[key] = copy.deepcopy(draw(st.sampled_from(WRONG_VALUES)))
    return "unknown_key"


def unknown_type(config: Config, draw: st.DrawFn) -> str:
    """An unknown paginator or auth type (near miss or made up), as an object or a bare name."""
    kind = draw(st.sampled_from(["paginator", "auth"]))
    names = PAGINATORS.names if kind == "paginator" else AUTHS.names
    node: dict[str, Any]
    if draw(st.booleans()) and isinstance(config.get("client"), dict):
        node = config["client"]
    else:
        node = _resource(config, draw)[1]
    name = draw(st.sampled_from(NEAR_MISS_TYPES))
    if draw(st.booleans()):
        name = _typo(draw(st.sampled_from(names)), draw)
    if name in names:
        name += "_x"
    old = node.get(kind)
    if draw(st.booleans()) and isinstance(old, dict):
        node[kind] = {**old, "type": name}
    else:
        node[kind] = name
    return "unknown_type"


def broken_template(config: Config, draw: st.DrawFn) -> str:
    """A stop_condition that does not parse, reaches for internals, or is not a string."""
    _, endpoint = _resource(config, draw)
    template: Any = draw(st.sampled_from(BAD_TEMPLATES))
    if draw(st.integers(0, 9)) == 0:
        template = draw(st.sampled_from([5, ["{{ page > 1 }}"], {"expr": "page"}]))
    endpoint["paginator"] = {"type": "cursor", "cursor_path": "next", "stop_condition": template}
    return "broken_template"


def bad_jsonpath(config: Config, draw: st.DrawFn) -> str:
    """A data_selector or incremental cursor_path that is not a JSONPath."""
    _, endpoint = _resource(config, draw)
    path = draw(st.sampled_from(BAD_JSONPATHS))
    if draw(st.booleans()):
        endpoint["data_selector"] = path
    else:
        old = endpoint.get("incremental")
        endpoint["incremental"] = {**(old if isinstance(old, dict) else {}), "cursor_path": path}
    return "bad_jsonpath"


def parent_cycle(config: Config, draw: st.DrawFn) -> str:
    """Resources that name each other (or themselves) as parents via placeholders."""
    _resource_index(config, draw)  # raises NotApplicable without a usable resource
    eligible = [i for i, r in enumerate(config["resources"]) if isinstance(r, dict | str)]
    count = draw(st.integers(1, min(3, len(eligible))))
    picked = draw(st.lists(st.sampled_from(eligible), min_size=count, max_size=count, unique=True))
    endpoints = []
    for index in picked:
        resource = _as_object(config, index)
        if not isinstance(resource.get("name"), str) or not resource["name"]:
            resource["name"] = f"fuzz_{index}"
        endpoints.append((resource["name"], resource["endpoint"]))
    for (_, endpoint), (parent, _) in zip(endpoints, [*endpoints[1:], endpoints[0]], strict=True):
        path = endpoint.get("path") if isinstance(endpoint.get("path"), str) else "items"
        endpoint["path"] = f"{path}/{{resources.{parent}.id}}"
    return "parent_cycle"


def missing_secret(config: Config, draw: st.DrawFn) -> str:
    """A secret reference that resolves nowhere, or that has no usable name."""
    choice = draw(st.integers(0, 2))
    referenced = [
        value["secret"]
        for _, value in _walk(config)
        if isinstance(value, dict) and isinstance(value.get("secret"), str)
    ]
    if choice == 0 and referenced and isinstance(config.get("secrets"), dict):
        name = draw(st.sampled_from(sorted(set(referenced))))
        config["secrets"].pop(name, None)
        return "missing_secret"
    strings = [p for p, v in _walk(config) if isinstance(v, str) and p[0] != "secrets"]
    if not strings:
        raise NotApplicable
    path = draw(st.sampled_from(strings))
    if choice == 1:
        name = f"rg_fuzz_missing_{draw(st.integers(0, 99))}"
        _set(config, path, {"secret": name})
    else:
        _set(config, path, {"secret": draw(st.sampled_from(["", 7, None, ["a"]]))})
    return "missing_secret"


def broken_placeholder(config: Config, draw: st.DrawFn) -> str:
    """A placeholder that cannot be filled or unbalanced braces in path/params/headers/json."""
    _, endpoint = _resource(config, draw)
    text = draw(st.sampled_from(BAD_PLACEHOLDERS))
    place = draw(st.sampled_from(["path", "params", "headers", "json"]))
    if place == "path":
        path = endpoint.get("path") if isinstance(endpoint.get("path"), str) else "items"
        endpoint["path"] = f"{path}/{text}"
    else:
        old = endpoint.get(place)
        endpoint[place] = {**(old if isinstance(old, dict) else {}), "X-Fuzz": text}
    return "broken_placeholder"


def invalid_duration(config: Config, draw: st.DrawFn) -> str:
    """An incremental window_size that is not a positive ISO 8601 duration."""
    _, endpoint = _resource(config, draw)
    old = endpoint.get("incremental")
    endpoint["incremental"] = {
        "cursor_path": "updated_at",
        "initial_value": "2024-01-01T00:00:00Z",
        **(old if isinstance(old, dict) else {}),
        "window_size": draw(st.sampled_from(BAD_DURATIONS)),
    }
    return "invalid_duration"


def negative_number(config: Config, draw: st.DrawFn) -> str:
    """A count, size, delay, page or status code below zero (or a zero where one is needed)."""
    number = draw(st.integers(-(10**6), -1) | st.floats(-1e6, -0.001))
    _, endpoint = _resource(config, draw)
    target = draw(st.integers(0, 6))
    if target == 0:
        key = draw(st.sampled_from(["request_timeout", "schema_sample_pages"]))
        config[key] = int(number) if key != "request_timeout" else number
        if draw(st.booleans()):
            config[key] = 0
    elif target == 1:
        key = draw(st.sampled_from(["max_retries", "backoff_factor", "max_retry_delay"]))
        value: Any = int(number) if key == "max_retries" else number
        endpoint["error_handler"] = {key: value}
    elif target == 2:
        endpoint["error_handler"] = {"retry_on_status_codes": [429, int(number)]}
    elif target == 3:
        key = draw(st.sampled_from(["limit", "offset", "maximum_offset"]))
        endpoint["paginator"] = {"type": "offset", "limit": 10, key: int(number)}
    elif target == 4:
        key = draw(st.sampled_from(["maximum_page", "base_page", "limit"]))
        endpoint["paginator"] = {"type": "page_number", "maximum_page": 9, key: int(number)}
    elif target == 5:
        endpoint["incremental"] = {"cursor_path": "updated_at", "lag": number}
    else:
        endpoint["response_actions"] = [{"status_code": int(number), "action": "ignore"}]
    return "negative_number"


def missing_required(config: Config, draw: st.DrawFn) -> str:
    """A required setting or key removed: client, base_url, resources, a resource's name."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        config.pop(draw(st.sampled_from(["client", "resources"])), None)
    elif choice == 1 and isinstance(config.get("client"), dict):
        config["client"].pop("base_url", None)
    else:
        index, _ = _resource(config, draw)
        config["resources"][index].pop("name", None)
    return "missing_required"


def bad_value(config: Config, draw: st.DrawFn) -> str:
    """A value of the right type that is not allowed: unknown names, bad URLs, dates, files."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        config["start_date"] = draw(st.sampled_from(["yesterday", "2024-13-01", "01/02/2024"]))
    elif choice == 1 and isinstance(config.get("client"), dict):
        url = draw(st.sampled_from(["api.example.com", "ftp://example.com", "", "https://"]))
        config["client"]["base_url"] = url
    elif choice == 2:
        config["ca_bundle"] = draw(st.sampled_from(["/no/such/ca.pem", "missing-bundle.crt"]))
    else:
        index, _ = _resource(config, draw)
        where, value = draw(st.sampled_from(BAD_CHOICES))
        node = config["resources"][index]
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = copy.deepcopy(value)
        if where == ("endpoint", "json"):
            node["data"] = {"b": 2}
    return "bad_value"


MUTATIONS: dict[str, Callable[[Config, st.DrawFn], str]] = {
    f.__name__: f
    for f in (
        wrong_type,
        unknown_key,
        unknown_type,
        broken_template,
        bad_jsonpath,
        parent_cycle,
        missing_secret,
        broken_placeholder,
        invalid_duration,
        negative_number,
        missing_required,
        bad_value,
    )
}


@st.composite
def malformed_configs(draw: st.DrawFn) -> tuple[str, tuple[str, ...], Config]:
    """A valid base config with one to three mutations applied: (base name, mutations, config)."""
    base = draw(st.sampled_from(sorted(BASES)))
    config = copy.deepcopy(BASES[base])
    kinds = draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3))
    applied = []
    for kind in kinds:
        try:
            MUTATIONS[kind](config, draw)
        except NotApplicable:
            continue
        applied.append(kind)
    if not applied:
        applied.append(unknown_key(config, draw))
    return base, tuple(applied), config


# --- checking the error lines -------------------------------------------------------------------

_PART = re.compile(r"\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+)\]")
_AT = " at config"


def line_path(line: str) -> PathParts:
    """The config path a line ends with (`` at config['a'][0]``); AssertionError if none."""
    problem, sep, tail = line.rpartition(_AT)
    assert sep, f"no ' at config…' path in {line!r}"
    assert "; expected " in problem, f"no '; expected …' clause in {line!r}"
    parts: list[str | int] = []
    position = 0
    while position < len(tail):
        match = _PART.match(tail, position)
        assert match is not None, f"{line!r} does not end with a config path"
        parts.append(ast.literal_eval(match.group(1)))
        position = match.end()
    return tuple(parts)


def points_into(config: Config, path: PathParts) -> bool:
    """True if ``path`` names a place in the config as written.

    Allowed beyond the written config: the expansion of shorthands (a resource given as a name,
    an endpoint given as a path, an endpoint left out) into objects.
    """
    node: Any = config
    for i, part in enumerate(path):
        in_resource = i >= 2 and path[0] == "resources"
        listed = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if listed or (isinstance(node, dict) and part in node):
            node = node[part]
            continue
        # the endpoint defaults to the resource's name; name and path shorthands expand
        defaulted = part == "endpoint" and isinstance(node, dict | str)
        shorthand = isinstance(node, str) and part in ("endpoint", "path", "name")
        return in_resource and (defaulted or shorthand)
    return True


def check_lines(lines: list[str], config: Config) -> None:
    """At least one line; each ``…; expected … at config[...]`` pointing into the config."""
    assert lines, "ConfigValidationError without any error line"
    for line in lines:
        assert "\n" not in line, f"multi-line error {line!r}"
        assert "Traceback" not in line
        path = line_path(line)
        assert points_into(config, path), f"{line!r}: the path is not in the config"


# --- the property-based run ---------------------------------------------------------------------


@dataclass
class FuzzRun:
    """What one derandomized run checked."""

    fuzzed: int = 0
    rejected: int = 0
    tracebacks: int = 0
    distinct: set[str] = field(default_factory=set)
    by_mutation: Counter[str] = field(default_factory=Counter)
    valid_by_mutation: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[Config]] = field(default_factory=dict)

    def report(self) -> dict[str, int]:
        """The figures for build/fuzz.json."""
        return {
            "configs_fuzzed": self.fuzzed,
            "rejected": self.rejected,
            "tracebacks": self.tracebacks,
        }


@functools.cache
def fuzz() -> FuzzRun:
    """Run the property once per session (the CLI subset reuses its rejected configs)."""
    saved = {name.upper(): os.environ.pop(name.upper(), None) for name in SECRET_NAMES}
    saved |= {
        f"RG_FUZZ_MISSING_{n}": os.environ.pop(f"RG_FUZZ_MISSING_{n}", None) for n in range(100)
    }
    run = FuzzRun()

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(malformed_configs())
    def check(case: tuple[str, tuple[str, ...], Config]) -> None:
        base, kinds, config = case
        written = json.dumps(config, sort_keys=True)
        run.fuzzed += 1
        try:
            resolve_config(config, SETTINGS)
        except ConfigValidationError as exc:
            check_lines(list(exc.errors), config)
            run.rejected += 1
            run.distinct.add(written)
            label = "+".join(sorted(set(kinds)))
            run.by_mutation.update(set(kinds))
            run.samples.setdefault(label, []).append(copy.deepcopy(config))
        except Exception:
            run.tracebacks += 1
            raise
        else:
            run.valid_by_mutation.update(set(kinds))
        assert json.dumps(config, sort_keys=True) == written, f"{base}: the config was modified"

    try:
        check()
    finally:
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value
        FUZZ_REPORT.parent.mkdir(exist_ok=True)
        FUZZ_REPORT.write_text(json.dumps(run.report(), indent=2) + "\n")
    return run


@pytest.mark.parametrize("name", sorted(BASES))
def test_base_configs_are_valid(name: str) -> None:
    """The mutations start from configs that resolve (else a rejection would prove nothing)."""
    resolve_config(copy.deepcopy(BASES[name]), SETTINGS)


def test_malformed_configs_are_rejected_with_path_lines() -> None:
    """≥200 malformed configs per run: each rejected with path lines, or valid and counted."""
    run = fuzz()
    figures = json.loads(FUZZ_REPORT.read_text())
    assert figures == run.report()
    assert run.tracebacks == 0
    assert run.fuzzed >= MIN_REJECTED, figures
    assert run.rejected >= MIN_REJECTED, (figures, dict(run.valid_by_mutation))
    assert len(run.distinct) >= MIN_REJECTED, "the rejected configs repeat each other"
    assert set(run.by_mutation) == set(MUTATIONS), f"never rejected: {run.by_mutation}"


def test_fuzz_report_is_written() -> None:
    fuzz()
    figures = json.loads(FUZZ_REPORT.read_text())
    assert set(figures) == {"configs_fuzzed", "rejected", "tracebacks"}
    assert figures["configs_fuzzed"] >= MIN_REJECTED
    assert figures["tracebacks"] == 0


# Values the fuzz produces that used to pass resolve_config and then failed the run with a
# traceback (negative backoff: time.sleep; a base_url without http(s) or a missing CA bundle:
# requests' InvalidSchema/OSError; a deeply nested template: MemoryError in the parser) or were
# silently used (a start_date that is not a date, a negative lag moving bookmarks forward).
ENDPOINT = ("resources", 0, "endpoint")
TARGETED: dict[str, tuple[PathParts, Any, PathParts]] = {
    "negative backoff_factor": (
        (*ENDPOINT, "error_handler"),
        {"backoff_factor": -2},
        (*ENDPOINT, "error_handler", "backoff_factor"),
    ),
    "negative max_retries": (
        (*ENDPOINT, "error_handler"),
        {"max_retries": -1},
        (*ENDPOINT, "error_handler", "max_retries"),
    ),
    "negative max_retry_delay": (
        (*ENDPOINT, "error_handler"),
        {"max_retry_delay": -0.5},
        (*ENDPOINT, "error_handler", "max_retry_delay"),
    ),
    "negative retry status": (
        (*ENDPOINT, "error_handler"),
        {"retry_on_status_codes": [429, -1]},
        (*ENDPOINT, "error_handler", "retry_on_status_codes"),
    ),
    "negative page limit": (
        (*ENDPOINT, "paginator"),
        {"type": "page_number", "limit": -10},
        (*ENDPOINT, "paginator", "limit"),
    ),
    "negative offset": (
        (*ENDPOINT, "paginator"),
        {"type": "offset", "limit": 10, "offset": -5},
        (*ENDPOINT, "paginator", "offset"),
    ),
    "negative maximum_page": (
        (*ENDPOINT, "paginator"),
        {"type": "page_number", "maximum_page": -1},
        (*ENDPOINT, "paginator", "maximum_page"),
    ),
    "negative lag": (
        (*ENDPOINT, "incremental"),
        {"cursor_path": "updated_at", "lag": -3600},
        (*ENDPOINT, "incremental", "lag"),
    ),
    "negative status_code": (
        (*ENDPOINT, "response_actions"),
        [{"status_code": -404, "action": "ignore"}],
        (*ENDPOINT, "response_actions", 0, "status_code"),
    ),
    "negative token expiration": (
        (*ENDPOINT, "auth"),
        {
            "type": "oauth2_client_credentials",
            "access_token_url": "https://api.example.com/token",
            "client_id": "id",
            "client_secret": "secret-value",
            "default_token_expiration": -1,
        },
        (*ENDPOINT, "auth", "default_token_expiration"),
    ),
    "start_date not a date": (("start_date",), "yesterday", ("start_date",)),
    "base_url without scheme": (
        ("client", "base_url"),
        "api.example.com/v1",
        ("client", "base_url"),
    ),
    "base_url ftp": (("client", "base_url"), "ftp://example.com", ("client", "base_url")),
    "base_url empty": (("client", "base_url"), "", ("client", "base_url")),
    "missing ca_bundle": (("ca_bundle",), "/no/such/ca.pem", ("ca_bundle",)),
    "template nested too deeply": (
        (*ENDPOINT, "paginator", "stop_condition"),
        "{{ " + "-" * 100_000 + "1 }}",
        (*ENDPOINT, "paginator", "stop_condition"),
    ),
}


def _format(path: PathParts) -> str:
    return "config" + "".join(f"[{part!r}]" for part in path)


@pytest.mark.parametrize("case", sorted(TARGETED))
def test_values_that_failed_at_run_time_are_config_errors(case: str) -> None:
    where, value, reported = TARGETED[case]
    config = copy.deepcopy(SEED_CONFIGS["001"])
    _set(config, where, copy.deepcopy(value))
    with pytest.raises(ConfigValidationError) as caught:
        resolve_config(config, SETTINGS)
    check_lines(list(caught.value.errors), config)
    assert [line for line in caught.value.errors if line.endswith(f" at {_format(reported)}")], (
        caught.value.errors
    )


@pytest.mark.parametrize(
    ("paginator", "key"),
    [
        ({"type": "cursor", "cursor_path": "$["}, "cursor_path"),
        ({"type": "cursor", "has_more_path": "a..b.."}, "has_more_path"),
        ({"type": "page_number", "total_path": "items[?(@.x"}, "total_path"),
        ({"type": "json_link", "next_url_path": "$.[*"}, "next_url_path"),
    ],
)
def test_bad_paginator_jsonpath_is_a_config_error(paginator: dict[str, Any], key: str) -> None:
    config = copy.deepcopy(SEED_CONFIGS["001"])
    config["resources"][0]["endpoint"]["paginator"] = paginator
    with pytest.raises(ConfigValidationError) as caught:
        resolve_config(config, SETTINGS)
    assert any(
        line.endswith(f" at {_format((*ENDPOINT, 'paginator', key))}")
        for line in caught.value.errors
    ), caught.value.errors


# --- the CLI subset -----------------------------------------------------------------------------


def cli_sample() -> list[Config]:
    """CLI_SAMPLE rejected configs, taken round-robin over the mutation combinations."""
    groups = [list(configs) for _, configs in sorted(fuzz().samples.items())]
    picked: list[Config] = []
    while len(picked) < CLI_SAMPLE and any(groups):
        for group in groups:
            if group and len(picked) < CLI_SAMPLE:
                picked.append(group.pop(0))
    return picked


@dataclass
class CliRun:
    """One CLI run on a config file."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def error_messages(self) -> list[str]:
        """The messages of the ERROR log lines (after the logger column)."""
        return [
            line.split(" | ", 3)[-1].strip()
            for line in self.stderr.splitlines()
            if " | ERROR " in line
        ]


def run_cli(path: Path, *args: str, env: dict[str, str] | None = None) -> CliRun:
    """``python -m tap_restgeneric.tap --config <path> [args]``."""
    command = [*TAP, "--config", str(path), *args]
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, env=env or clean_env(), timeout=120
    )
    return CliRun(command[2:], done.returncode, done.stdout, done.stderr)


def assert_config_failure(run: CliRun, expected_lines: int | None = None) -> list[str]:
    """Exit 1, nothing on stdout, no traceback; every ERROR line a path line or the summary.

    The summary ("Config validation failed") ends a sync; under --discover the SDK prints the
    same lines prefixed "Config validation error: " and no summary.
    """
    context = f"{run.args}\n{run.stderr[-3000:]}"
    assert run.returncode == 1, context
    assert run.stdout == "", context
    assert "Traceback" not in run.stderr, context
    messages = run.error_messages()
    summary = "Config validation failed"
    if summary in messages:
        assert messages.index(summary) == len(messages) - 1, context
    lines = [m for m in messages if m != summary]
    assert lines, context
    for line in lines:
        line_path(line)
    if expected_lines is not None:
        assert len(lines) == expected_lines, context
    return lines


def test_cli_rejects_malformed_configs(tmp_path: Path) -> None:
    """A deterministic subset as files, alternately synced and discovered: exit 1, path lines."""
    sample = cli_sample()
    assert len(sample) == CLI_SAMPLE
    jobs = []
    for i, config in enumerate(sample):
        path = tmp_path / f"config_{i:02d}.json"
        path.write_text(json.dumps(config))
        expected = 0
        try:
            resolve_config(config, SETTINGS)
        except ConfigValidationError as exc:
            expected = len(exc.errors)
        jobs.append((path, ["--discover"] if i % 2 else [], expected))
    env = clean_env()
    for name in [*SECRET_NAMES, *(f"rg_fuzz_missing_{n}" for n in range(100))]:
        env.pop(name.upper(), None)
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda job: run_cli(job[0], *job[1], env=env), jobs))
    for run, (_, _, expected) in zip(runs, jobs, strict=True):
        assert_config_failure(run, expected)


# --- the stop_condition sandbox -----------------------------------------------------------------

STOP_PATH = "config['resources'][0]['endpoint']['paginator']['stop_condition']"
ESCAPES = (
    "{{ response.__class__ }}",
    "{{ ().__class__.__bases__ }}",
    "{{ __import__('os').system('x') }}",
    "{{ open('/etc/passwd') }}",
    "{{ response.get.__self__ }}",
    "{{ [c for c in ()] }}",
    "{{ (lambda: 1)() }}",
)
MORE_ESCAPES = (
    "{{ '{0.__class__}'.format(response) }}",
    "{{ '{x.__class__}'.format_map({'x': response}) }}",
    "{{ str.mro() }}",
    "{{ response.func_globals }}",
    "{{ getattr(response, 'get') }}",
    "{{ globals() }}",
    "{{ type(response) }}",
    "{{ __builtins__ }}",
    "{{ headers.__dict__ }}",
    "{{ (x := response) }}",
    "{{ {k: v for k, v in response.items()} }}",
    "{{ " + "-" * 100_000 + "1 }}",
)


def seed_001_with(template: str) -> Config:
    """Seed 001 (cursor + stop_condition) with the first resource's stop_condition replaced."""
    config = copy.deepcopy(SEED_CONFIGS["001"])
    config["resources"][0]["endpoint"]["paginator"]["stop_condition"] = template
    return config


@pytest.mark.parametrize("template", ESCAPES + MORE_ESCAPES)
def test_template_reaching_for_internals_is_a_config_error(template: str) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        resolve_config(seed_001_with(template))
    assert caught.value.errors, template
    for line in caught.value.errors:
        assert line.endswith(f" at {STOP_PATH}"), line
        assert "; expected a {{ expression }} template" in line


def test_template_escapes_fail_in_the_cli(tmp_path: Path) -> None:
    """The same through the CLI (sync or --discover): one path line each, no traceback."""
    jobs = []
    for i, template in enumerate(ESCAPES):
        path = tmp_path / f"escape_{i}.json"
        path.write_text(json.dumps(seed_001_with(template)))
        jobs.append((path, ["--discover"] if i % 2 else []))
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda job: run_cli(job[0], *job[1]), jobs))
    for run in runs:
        lines = assert_config_failure(run, expected_lines=1)
        assert lines[0].endswith(f" at {STOP_PATH}"), lines


def test_allowed_template_still_evaluates() -> None:
    template = Template("{{ response.get('hasNext', {}) == False and len(records) < page * 50 }}")
    names = {"response": {"hasNext": False}, "headers": {}, "records": [], "page": 1}
    assert template.evaluate(names) is True


RUNTIME_ESCAPE = "{{ 'x' * (page * 10**9) }}"
"""Parses and passes the static checks; the sandbox refuses it only once ``page`` is known."""


def test_runtime_sandbox_refusal_is_a_template_error() -> None:
    template = Template(RUNTIME_ESCAPE)
    with pytest.raises(TemplateError, match="will not evaluate"):
        template.evaluate({"response": {}, "headers": {}, "records": [], "page": 1})


@pytest.fixture(scope="module")
def api() -> Iterator[DemoServer]:
    """A demo API of this module's own, without injected faults."""
    with DemoServer(port=0, faults=False) as server:
        yield server


def test_runtime_sandbox_refusal_ends_the_run_with_one_line(
    api: DemoServer, tmp_path: Path
) -> None:
    config = example("seed_001_cursor", api.url)
    config["resources"] = config["resources"][:1]
    config["resources"][0]["endpoint"]["paginator"]["stop_condition"] = RUNTIME_ESCAPE
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    run = run_cli(path)
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    failures = [m for m in run.error_messages() if "stop_condition" in m]
    assert len(failures) == 1, run.stderr[-3000:]
    assert "will not evaluate" in failures[0]
    assert failures[0].startswith("stream 'appointment_links': GET http://127.0.0.1:")
