"""The SDK seam: one canary per singer-sdk dependency, and private SDK names only in the seam.

``tap_restgeneric/sdk/`` is where the tap relies on singer-sdk beyond its documented hooks.
Each test below checks one thing the seam relies on (a name, its signature, or what it does)
and fails naming it, so an SDK upgrade that changes it shows up here first, not as a subtle
change in the tap's output.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import signal
from pathlib import Path
from typing import Any

import pytest
import requests_mock
from helpers import BASE_URL, Message, make_tap, page, resource, serve, sync_tap
from singer_sdk import Stream, Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.helpers.types import TapState
from singer_sdk.plugin_base import PluginBase
from singer_sdk.singerlib import RecordMessage

from tap_restgeneric import sdk
from tap_restgeneric.sync.streams import RestGenericStream
from tap_restgeneric.tap import TapRestGeneric

PACKAGE = Path(__file__).resolve().parent.parent / "tap_restgeneric"
SEAM = PACKAGE / "sdk"

# The private singer-sdk attribute names the tap used before the seam (the inventory).
PRIVATE_SDK_ATTRIBUTES = {
    "_config",
    "_env_var_config",
    "_env_var_prefix",
    "_finalize_state",
    "_get_state_partition_context",
    "_increment_stream_state",
    "_input_schema",
    "_mapper",
    "_process_record",
    "_reset_state_progress_markers",
    "_schema",
    "_set_compatible_replication_methods",
    "_state_writer",
    "_stream_maps",
    "_stream_version",
    "_sync_records",
    "_tap",
    "_tap_input_catalog",
    "_validate_config",
    "_write_record_message",
    "_write_schema_message",
    "_write_starting_replication_value",
    "_write_state_message",
}

POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD
KEYWORD = inspect.Parameter.KEYWORD_ONLY

# (owner, method, its parameters as (name, kind)) for each private SDK method the seam calls
# or overrides.
METHODS: list[tuple[type[Any], str, list[tuple[str, Any]]]] = [
    (Stream, "_write_record_message", [("self", POSITIONAL), ("record", POSITIONAL)]),
    (Stream, "_write_schema_message", [("self", POSITIONAL)]),
    (Stream, "_write_state_message", [("self", POSITIONAL)]),
    (
        Stream,
        "_increment_stream_state",
        [("self", POSITIONAL), ("latest_record", POSITIONAL), ("context", KEYWORD)],
    ),
    (
        Stream,
        "_sync_records",
        [("self", POSITIONAL), ("context", POSITIONAL), ("write_messages", KEYWORD)],
    ),
    (Stream, "_get_state_partition_context", [("self", POSITIONAL), ("context", POSITIONAL)]),
    (Stream, "_write_starting_replication_value", [("self", POSITIONAL), ("context", POSITIONAL)]),
    (
        Stream,
        "_process_record",
        [
            ("self", POSITIONAL),
            ("record", POSITIONAL),
            ("child_context", POSITIONAL),
            ("partition_context", POSITIONAL),
        ],
    ),
    (Stream, "_finalize_state", [("self", POSITIONAL), ("state", POSITIONAL)]),
    (PluginBase, "_validate_config", [("self", POSITIONAL), ("raise_errors", KEYWORD)]),
    (Tap, "_reset_state_progress_markers", [("self", POSITIONAL)]),
    (Tap, "_set_compatible_replication_methods", [("self", POSITIONAL)]),
    (Tap, "sync_all", [("self", POSITIONAL)]),
    (
        Tap,
        "_handle_termination",
        [("self", POSITIONAL), ("signum", POSITIONAL), ("frame", POSITIONAL)],
    ),
]

# Stream._sync_records as the page-at-a-time loop (StreamSeam._sync_records) mirrors it.
SYNC_RECORDS_SHA256 = "8928dc7f50e9bf57cc98734b30e3953b0e19007f85fe020a0c80ccdbcf5d329f"


def items_tap(**settings: Any) -> TapRestGeneric:
    """A one-resource tap (``items``, single page, data under ``data``)."""
    return make_tap(resource("items", paginator="single_page", data_selector="data"), **settings)


@pytest.mark.parametrize(
    ("owner", "name", "parameters"), METHODS, ids=[f"{o.__name__}.{n}" for o, n, _ in METHODS]
)
def test_private_methods_keep_their_signature(
    owner: type[Any], name: str, parameters: list[tuple[str, Any]]
) -> None:
    method = getattr(owner, name, None)
    assert method is not None, (
        f"singer-sdk no longer has {owner.__name__}.{name} (tap_restgeneric/sdk)"
    )
    found = [(p.name, p.kind) for p in inspect.signature(method).parameters.values()]
    assert found == parameters, (
        f"singer-sdk changed the signature of {owner.__name__}.{name}: {found}; "
        "tap_restgeneric/sdk relies on the old one"
    )


def test_stream_attributes_the_seam_reads_exist() -> None:
    tap = items_tap()
    stream = tap.streams["items"]
    assert isinstance(stream, RestGenericStream)
    for name in ("_stream_version", "_tap_input_catalog", "_input_schema", "_stream_maps"):
        assert hasattr(stream, name), f"singer-sdk streams no longer set {name} (sdk/stream.py)"
    assert stream._schema is stream.schema, "Stream.schema no longer returns Stream._schema"
    assert stream._tap is tap, "Stream._tap is no longer the tap"
    assert stream.stream_version is None


def test_tap_attributes_the_seam_reads_exist() -> None:
    tap = items_tap()
    assert tap.state_writer is tap._state_writer, "Tap.state_writer no longer returns _state_writer"
    assert tap._mapper is tap.mapper, "Tap.mapper no longer returns Tap._mapper"
    assert tap.config_dict == dict(tap.config), "PluginBase._config is no longer the config dict"
    assert sdk.env_var_prefix(TapRestGeneric) == "TAP_RESTGENERIC_"


def test_the_sdk_reads_settings_from_env_var_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_RESTGENERIC_REQUEST_TIMEOUT", "5")
    monkeypatch.setenv("TAP_RESTGENERIC_SCHEMA_DRIFT", "freeze")
    config = {"client": {"base_url": BASE_URL}, "resources": ["items"]}
    tap = TapRestGeneric(config=config, parse_env_config=True)
    assert tap.config["request_timeout"] == 5, "the SDK no longer reads PluginBase._env_var_config"
    assert tap.config["schema_drift"] == "freeze"


def test_environment_settings_parses_the_prefixed_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TAP_X_NAME", "a")
    monkeypatch.setenv("TAP_X_ON", "true")
    schema = {"properties": {"name": {"type": "string"}, "on": {"type": "boolean"}}}
    assert sdk.environment_settings(schema, "TAP_X_") == {"name": "a", "on": True}
    assert "dotenv_path" in inspect.signature(parse_environment_config).parameters


def test_the_sdk_checks_the_config_with_validate_config(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    original = TapRestGeneric.validate_config

    def spy(self: TapRestGeneric, *, raise_errors: bool = True) -> list[str]:
        calls.append(raise_errors)
        return original(self, raise_errors=raise_errors)

    monkeypatch.setattr(TapRestGeneric, "validate_config", spy)
    items_tap()
    assert calls == [True], "the SDK no longer checks the config with PluginBase._validate_config"


def test_sdk_config_errors_lists_the_schema_errors() -> None:
    tap = items_tap()
    tap.config_dict["request_timeout"] = "soon"
    errors = tap.sdk_config_errors(raise_errors=False)
    assert any("soon" in e for e in errors), f"PluginBase._validate_config returned {errors}"


def test_config_input_is_what_cb_config_returns() -> None:
    fields = [f.name for f in dataclasses.fields(sdk.ConfigInput)]
    assert fields[:2] == ["config", "parse_env"], f"_ConfigInput has fields {fields}"
    assert sdk.ConfigInput() == sdk.ConfigInput(config={}, parse_env=False)


def test_the_cli_syncs_with_sync_all() -> None:
    assert "tap.sync_all()" in inspect.getsource(Tap.invoke), (
        "Tap.invoke no longer runs a sync with tap.sync_all() (TapSeam.sync_all)"
    )


def test_start_sync_is_the_start_of_sync_all() -> None:
    source = inspect.getsource(Tap.sync_all)
    steps = [
        "self._reset_state_progress_markers()",
        "self._set_compatible_replication_methods()",
        "self._state_writer.write_state(self.state)",
    ]
    at = [source.find(step) for step in steps]
    assert -1 not in at and at == sorted(at), f"Tap.sync_all no longer starts with {steps}"


def test_start_sync_installs_the_writer_and_clears_progress_markers() -> None:
    state = {"bookmarks": {"items": {"progress_markers": {"x": 1}, "replication_key_value": 2}}}
    tap = TapRestGeneric(
        config={
            "client": {"base_url": BASE_URL},
            "resources": [resource("items", paginator="single_page")],
        },
        state=state,
        parse_env_config=False,
    )
    written: list[Any] = []

    class Recorder(sdk.StateWriter):
        def write_state(self, state: TapState) -> None:
            written.append(state)

    writer = Recorder(tap.message_writer)
    sdk.start_sync(tap, writer)
    assert tap.state_writer is writer
    assert written == [{"bookmarks": {"items": {"replication_key_value": 2}}}]
    stream = tap.streams["items"]
    assert isinstance(stream, RestGenericStream)
    stream.state_manager.is_flushed = False
    stream.write_state()
    assert len(written) == 2 and stream.state_manager.is_flushed, (
        "Stream._write_state_message no longer writes through Tap.state_writer"
    )


def test_state_writer_writes_changed_state_once() -> None:
    messages: list[Any] = []

    class Writer:
        def write_message(self, message: Any) -> None:
            messages.append(message.value)

    writer = sdk.StateWriter(Writer())  # type: ignore[arg-type]
    one: Any = {"bookmarks": {"a": {"replication_key_value": 1}}}
    two: Any = {"bookmarks": {"a": {"replication_key_value": 2}}}
    same: Any = {"bookmarks": {"a": {"replication_key_value": 1}}}
    for state in (one, same, two):
        writer.write_state(state)
    assert messages == [one, two], "StateWriter no longer skips an unchanged state"


def test_record_encoder_writes_what_the_msgspec_writer_writes() -> None:
    record = {"id": 1, "name": "é", "n": None}
    line = MsgSpecWriter().format_message(RecordMessage(stream="s", record=record, version=3))
    message = dict(RecordMessage(stream="s", record=record, version=3).to_dict())
    encoded = bytearray()
    sdk.RECORD_ENCODER.encode_into(message, encoded, -1)
    assert bytes(encoded) + b"\n" == line, "the SDK's msgspec encoder and writer now differ"


def test_swap_schema_rebuilds_the_stream_maps() -> None:
    stream = items_tap().streams["items"]
    assert isinstance(stream, RestGenericStream)
    assert stream.stream_maps  # built from the first schema
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    stream.swap_schema(schema)
    assert stream.schema == schema and stream.effective_schema == schema
    assert stream.stream_maps[0].transformed_schema["properties"] == schema["properties"], (
        "Stream._stream_maps = None no longer rebuilds the maps from Tap.mapper"
    )


def test_has_input_catalog() -> None:
    tap = items_tap()
    assert not tap.streams["items"].has_input_catalog  # type: ignore[attr-defined]
    catalog = tap.catalog_dict
    with_catalog = TapRestGeneric(config=dict(tap.config), catalog=catalog, parse_env_config=False)
    assert with_catalog.streams["items"].has_input_catalog, (  # type: ignore[attr-defined]
        "Stream._tap_input_catalog is no longer the --catalog"
    )


def hook_calls(
    monkeypatch: pytest.MonkeyPatch, cfg_resources: list[Any]
) -> tuple[list[Message], dict[str, list[str]]]:
    """Sync with spies on the seam's hooks: which hook ran for which stream."""
    calls: dict[str, list[str]] = {}
    for hook in ("write_schema", "write_record", "observe_record", "write_page"):
        original = getattr(RestGenericStream, hook)

        def spy(self: RestGenericStream, *args: Any, _hook: str = hook, _f: Any = original) -> Any:
            calls.setdefault(self.name, []).append(_hook)
            return _f(self, *args)

        monkeypatch.setattr(RestGenericStream, hook, spy)
    tap = make_tap(cfg_resources, max_concurrency=1)
    with requests_mock.Mocker() as mocker:
        rows = [{"id": 1, "updated": "2024-01-02"}, {"id": 2, "updated": "2024-01-03"}]
        serve(mocker, f"{BASE_URL}/items", page({"data": rows}))
        serve(mocker, f"{BASE_URL}/items/1/notes", page({"data": [{"n": 1}]}))
        serve(mocker, f"{BASE_URL}/items/2/notes", page({"data": [{"n": 2}]}))
        messages = sync_tap(tap)
    return messages, calls


INCREMENTAL = {"cursor_path": "updated", "initial_value": "2024-01-01"}


def test_the_sdk_loop_calls_the_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = resource("items", paginator="single_page", data_selector="data")
    parent["endpoint"]["incremental"] = INCREMENTAL
    child = resource(
        "notes", "items/{resources.items.id}/notes", paginator="single_page", data_selector="data"
    )
    messages, calls = hook_calls(monkeypatch, [parent, child])
    # SCHEMA at each sync's start (the child syncs once per parent record), then again once
    # the first page typed the undeclared schema
    assert calls["items"] == [
        "write_schema",
        "write_schema",
        "write_record",
        "observe_record",
        "write_record",
        "observe_record",
    ], "the SDK's Stream._sync_records no longer calls the record/bookmark/schema steps"
    assert calls["notes"] == [
        "write_schema",
        "write_schema",
        "write_page",
        "write_schema",
        "write_page",
    ]
    assert [m["type"] for m in messages].count("RECORD") == 4


def test_the_page_loop_calls_the_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    items = resource("items", paginator="single_page", data_selector="data")
    items["endpoint"]["incremental"] = INCREMENTAL
    messages, calls = hook_calls(monkeypatch, [items])
    assert calls["items"] == [
        "write_schema",
        "write_schema",
        "write_page",
        "observe_record",
        "observe_record",
    ]
    state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    assert state["bookmarks"]["items"]["replication_key_value"] == "2024-01-03"


def test_the_sdk_sync_loop_is_the_one_the_page_loop_mirrors() -> None:
    source = inspect.getsource(Stream._sync_records)
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == SYNC_RECORDS_SHA256, (
        "singer-sdk changed Stream._sync_records: compare it with StreamSeam._sync_records "
        "(tap_restgeneric/sdk/stream.py), update the page loop if a step changed, then this hash"
    )


def private_sdk_uses(path: Path) -> list[str]:
    """file:line lines naming a private singer-sdk module, name or attribute in ``path``."""
    found: list[str] = []
    rel = path.relative_to(PACKAGE.parent)

    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    tree = ast.parse(path.read_text())
    methods = {
        id(item)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef)
    }
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            names = [*(node.module or "").split("."), *(a.name for a in node.names)]
            what = next((n for n in names if private(n)), None)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("singer_sdk"):
                    what = next((n for n in alias.name.split(".") if private(n)), what)
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_SDK_ATTRIBUTES:
            what = node.attr
        elif id(node) in methods and getattr(node, "name", "") in PRIVATE_SDK_ATTRIBUTES:
            what = getattr(node, "name", "")  # an override of an SDK method
        elif isinstance(node, ast.Constant) and node.value in PRIVATE_SDK_ATTRIBUTES:
            what = node.value  # getattr(obj, "_name")
        if what is not None:
            found.append(f"{rel}:{getattr(node, 'lineno', '?')}: {what}")
    return found


def test_private_sdk_names_only_in_the_seam() -> None:
    files = [p for p in sorted(PACKAGE.rglob("*.py")) if SEAM not in p.parents]
    assert len(files) > 20
    found = [line for path in files for line in private_sdk_uses(path)]
    assert not found, "private singer-sdk names outside tap_restgeneric/sdk/:\n" + "\n".join(found)


def test_the_seam_finds_what_it_looks_for() -> None:
    found = [line for path in sorted(SEAM.rglob("*.py")) for line in private_sdk_uses(path)]
    for name in ("_sync_records", "_ConfigInput", "_state", "_write_schema_message", "_mapper"):
        assert any(line.endswith(f": {name}") for line in found), name


def test_the_sdk_installs_handle_termination_for_sigint_and_sigterm() -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        tap = items_tap()
        for sig in before:
            assert signal.getsignal(sig) == tap._handle_termination, (
                f"singer-sdk no longer installs Tap._handle_termination for {sig.name} "
                "(sdk/tap.py: stop_requested)"
            )
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
