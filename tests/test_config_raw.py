"""config/raw.py: the raw-config TypedDicts hold exactly the validator's keys, and fit every
example config, hand-translated seed and imported seed document (a key-set check at run time)."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest
from seed_configs import SEED_CONFIGS

from tap_restgeneric.config import raw
from tap_restgeneric.config.declared import SEED_FIELD_KEYS, SEED_KEYS
from tap_restgeneric.config.dependencies import RESOLVE_KEYS
from tap_restgeneric.config.endpoints import ACTION_FIELDS, ENDPOINT_FIELDS, ERROR_HANDLER_FIELDS
from tap_restgeneric.config.incremental import INCREMENTAL_FIELDS
from tap_restgeneric.config.resolve import (
    CLIENT_FIELDS,
    OWN_SETTINGS,
    RESOURCE_FIELDS,
    SETTING_FIELDS,
    resolve_config,
)
from tap_restgeneric.http.auth import AUTHS
from tap_restgeneric.paginators import PAGINATORS
from tap_restgeneric.registry import Registry
from tap_restgeneric.tap import TapRestGeneric
from tap_restgeneric.tools.importer import convert

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*.json") if p.parent.name != "targets")
SEEDS_DIR = ROOT.parent / "shared" / "seeds"
SEED_DOCUMENTS = sorted(SEEDS_DIR.glob("*.txt")) if SEEDS_DIR.is_dir() else []

TABLES: list[tuple[Any, Collection[str], str, frozenset[str]]] = [
    (raw.RestApiConfig, OWN_SETTINGS, "resolve.OWN_SETTINGS", frozenset()),
    (raw.TapSettings, SETTING_FIELDS, "resolve.SETTING_FIELDS", frozenset()),
    (raw.ClientConfig, CLIENT_FIELDS, "resolve.CLIENT_FIELDS", frozenset()),
    (raw.ResourceConfig, RESOURCE_FIELDS, "resolve.RESOURCE_FIELDS", frozenset()),
    (raw.ResourceBase, set(RESOURCE_FIELDS) - {"name"}, "resolve.RESOURCE_FIELDS", frozenset()),
    (raw.EndpointConfig, ENDPOINT_FIELDS, "endpoints.ENDPOINT_FIELDS", frozenset()),
    (raw.ErrorHandlerConfig, ERROR_HANDLER_FIELDS, "endpoints.ERROR_HANDLER_FIELDS", frozenset()),
    (raw.ResponseActionConfig, ACTION_FIELDS, "endpoints.ACTION_FIELDS", frozenset()),
    (raw.IncrementalConfig, INCREMENTAL_FIELDS, "incremental.INCREMENTAL_FIELDS", frozenset()),
    (
        raw.IncrementalParamConfig,
        set(INCREMENTAL_FIELDS) - {"start_param", "end_param"},
        "incremental.INCREMENTAL_FIELDS (less start_param and end_param)",
        frozenset({"type"}),
    ),
    (raw.ResolveParamConfig, RESOLVE_KEYS, "dependencies.RESOLVE_KEYS", frozenset()),
    (raw.SeedSchemaConfig, SEED_KEYS, "declared.SEED_KEYS", frozenset()),
    (raw.SeedFieldConfig, SEED_FIELD_KEYS, "declared.SEED_FIELD_KEYS", frozenset()),
]


def keys_of(typed_dict: Any) -> frozenset[str]:
    """Every key a TypedDict declares, inherited ones included."""
    return frozenset(typed_dict.__required_keys__ | typed_dict.__optional_keys__)


def disagreement(typed_dict: Any, table: Collection[str], name: str, extra: frozenset[str]) -> str:
    """'' when the keys agree; otherwise a line naming the keys only one side has."""
    typed, checked = keys_of(typed_dict) - extra, frozenset(table)
    if typed == checked:
        return ""
    return (
        f"raw.{typed_dict.__name__} and {name} disagree: only in the TypedDict "
        f"{sorted(typed - checked)}, only in the field table {sorted(checked - typed)}; "
        "add the key to both (config/raw.py and the validator's table) or to neither"
    )


@pytest.mark.parametrize(
    "typed_dict, table, name, extra", TABLES, ids=lambda v: getattr(v, "__name__", None)
)
def test_typed_dict_keys_agree_with_the_validator(
    typed_dict: Any, table: Collection[str], name: str, extra: frozenset[str]
) -> None:
    assert disagreement(typed_dict, table, name, extra) == ""


def typed_components(union: Any) -> dict[str, Any]:
    """Type name → the TypedDict of a component union whose ``type`` is a Literal."""
    found: dict[str, Any] = {}
    for member in get_args(union):
        if not is_typeddict(member):
            continue
        kind = get_type_hints(member).get("type")
        for name in get_args(kind) if get_origin(kind) is Literal else ():
            found[name] = member
    return found


@pytest.mark.parametrize(
    "union, registry",
    [(raw.PaginatorConfig, PAGINATORS), (raw.AuthConfig, AUTHS)],
    ids=["paginators", "auth"],
)
def test_component_typed_dicts_agree_with_their_classes(
    union: Any, registry: Registry[Any]
) -> None:
    """Each per-type TypedDict holds its class's ``fields`` (plus ``type``)."""
    problems = []
    for name, typed_dict in typed_components(union).items():
        cls = registry.get(name)
        if cls is None:
            problems.append(
                f"raw.{typed_dict.__name__} types {registry.kind} {name!r}: not registered"
            )
            continue
        table = f"{cls.__name__}.fields ({registry.kind} {name!r})"
        problems.append(disagreement(typed_dict, cls.fields, table, frozenset({"type"})))
    assert [p for p in problems if p] == []


@pytest.mark.parametrize(
    "shorthand, registry",
    [(raw.PaginatorType, PAGINATORS), (raw.AuthType, AUTHS)],
    ids=["paginators", "auth"],
)
def test_shorthand_type_names_are_registered(shorthand: Any, registry: Registry[Any]) -> None:
    assert sorted(set(get_args(shorthand)) - set(registry.names)) == []


# ----------------------------------------------------------------------------------------------
# A key-set check of a config value against its annotation


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secret"}


def _members(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def _typed_dict_for(value: dict[str, Any], members: tuple[Any, ...]) -> Any:
    """The member a dict is checked against: the one its ``type`` names, else the best fit."""
    typed_dicts = [m for m in members if is_typeddict(m)]
    for member in typed_dicts:
        kind = get_type_hints(member).get("type")
        if get_origin(kind) is Literal and value.get("type") in get_args(kind):
            return member
    if raw.PaginatorTypeConfig in members and isinstance(value.get("type"), str):
        return raw.PaginatorTypeConfig  # a registered type raw.py has no TypedDict for
    plain = [m for m in members if m is dict or get_origin(m) in (dict, Mapping)]
    if plain:
        return plain[0]
    if not typed_dicts:
        return None
    return min(typed_dicts, key=lambda m: len(set(value) - keys_of(m)))


def unknown_keys(value: Any, annotation: Any, path: str = "config") -> list[str]:
    """Keys of ``value`` (recursively) that its annotation does not declare."""
    if _is_secret(value) or annotation is Any:
        return []
    members = _members(annotation)
    if isinstance(value, dict):
        target = _typed_dict_for(value, members)
        if target is None:
            return []
        if not is_typeddict(target):
            args = get_args(target)
            inner = args[1] if len(args) == 2 else Any
            return [p for k, v in value.items() for p in unknown_keys(v, inner, f"{path}[{k!r}]")]
        hints = get_type_hints(target)
        if target is raw.PaginatorTypeConfig:
            cls = PAGINATORS.get(value["type"])
            hints = {"type": str, **dict.fromkeys(getattr(cls, "fields", {}), Any)}
        problems = []
        for key, item in value.items():
            if key not in hints:
                problems.append(f"{path}[{key!r}] is not a key of raw.{target.__name__}")
            else:
                problems += unknown_keys(item, hints[key], f"{path}[{key!r}]")
        return problems
    if isinstance(value, list):
        lists = [m for m in members if get_origin(m) is list]
        inner = get_args(lists[0])[0] if lists and get_args(lists[0]) else Any
        return [p for i, v in enumerate(value) for p in unknown_keys(v, inner, f"{path}[{i}]")]
    return []


SDK_SETTINGS = frozenset(TapRestGeneric.config_jsonschema["properties"]) - set(OWN_SETTINGS)


def config_problems(config: dict[str, Any]) -> list[str]:
    """Unknown keys in a whole config (the SDK's built-in settings are allowed at the top)."""
    ours = {k: v for k, v in config.items() if k not in SDK_SETTINGS}
    return unknown_keys(ours, raw.RestApiConfig)


@pytest.mark.parametrize("file", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_example_configs_fit_the_typed_dicts(file: Path) -> None:
    assert config_problems(json.loads(file.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("seed", sorted(SEED_CONFIGS))
def test_hand_translated_seeds_fit_the_typed_dicts(seed: str) -> None:
    assert config_problems(SEED_CONFIGS[seed]) == []


@pytest.mark.skipif(not SEED_DOCUMENTS, reason=f"the seed documents are not at {SEEDS_DIR}")
@pytest.mark.parametrize("document", SEED_DOCUMENTS, ids=lambda p: p.name[:3])
def test_imported_seed_documents_fit_the_typed_dicts(document: Path) -> None:
    config, _ = convert(document.read_text(encoding="utf-8"), is_python=False)
    assert config_problems(dict(config)) == []


@pytest.mark.parametrize(
    "config, problem",
    [
        (
            {"client": {"base_url": "u", "bogus": 1}, "resources": []},
            "config['client']['bogus'] is not a key of raw.ClientConfig",
        ),
        (
            {"client": {"base_url": "u"}, "resources": [{"name": "a", "params": {}}]},
            "config['resources'][0]['params'] is not a key of raw.ResourceConfig",
        ),
        (
            {
                "client": {"base_url": "u"},
                "resources": [{"name": "a", "endpoint": {"paginator": {"type": "offset", "x": 1}}}],
            },
            "config['resources'][0]['endpoint']['paginator']['x'] is not a key of "
            "raw.OffsetPaginatorConfig",
        ),
        (
            {
                "client": {"base_url": "u"},
                "resources": [
                    {"name": "a", "endpoint": {"params": {"p": {"type": "resolve", "r": 1}}}}
                ],
            },
            "config['resources'][0]['endpoint']['params']['p']['r'] is not a key of "
            "raw.ResolveParamConfig",
        ),
    ],
)
def test_the_key_check_finds_unknown_keys(config: dict[str, Any], problem: str) -> None:
    """The check used above does find a misplaced key (so a pass means something)."""
    assert config_problems(config) == [problem]


def test_secret_references_fit_anywhere() -> None:
    config = {"client": {"base_url": {"secret": "URL"}}, "resources": [{"secret": "R"}]}
    assert config_problems(config) == []


def test_typing_module_names_used_here_exist() -> None:
    """get_type_hints resolves raw.py's postponed annotations (a NameError would hide keys)."""
    for name in dir(raw):
        value = getattr(raw, name)
        if is_typeddict(value):
            assert typing.get_type_hints(value)


def test_a_config_built_in_code_type_checks_and_resolves() -> None:
    """mypy checks this literal against RestApiConfig; resolve takes it as it takes JSON."""
    config: raw.RestApiConfig = {
        "client": {
            "base_url": "https://api.example.com",
            "auth": {"type": "bearer", "token": {"secret": "RAW_TOKEN"}},
            "paginator": {"type": "offset", "limit": 10, "total_path": None},
        },
        "resource_defaults": {"primary_key": "id", "endpoint": {"params": {"per_page": 10}}},
        "resources": [
            "users",
            {
                "name": "posts",
                "endpoint": {
                    "path": "users/{resources.users.id}/posts",
                    "paginator": "single_page",
                    "incremental": {"cursor_path": "updated", "initial_value": "2024-01-01"},
                },
            },
        ],
        "secrets": {"RAW_TOKEN": "raw-test-token"},
        "request_timeout": 30,
    }
    assert config_problems(dict(config)) == []
    spec = resolve_config(config)
    assert [(r.name, r.parent) for r in spec.resources] == [("users", None), ("posts", "users")]
    assert spec.request_timeout == 30.0
