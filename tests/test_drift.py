"""Schema drift: the checker, the guard, and each policy in in-process syncs (requests-mock).

The sync scenario used throughout: page 1 has records {id, a: int}, page 2 adds ``b`` and turns
``a`` into a string. Without a catalog the tap types SCHEMA from page 1, then the policy decides
what page 2 does: evolve (a wider SCHEMA before the first drifting record), freeze (the drifting
fields dropped, one warning per field) or fail (a clear error naming the stream and fields).
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
import requests_mock
from click.testing import CliRunner
from helpers import BASE_URL, make_tap, page, record_sleeps, resource, serve, sync_tap
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.records import inference
from tap_restgeneric.records.drift import Checker, DriftGuard, SchemaDriftError
from tap_restgeneric.records.inference import infer_schema
from tap_restgeneric.tap import TapRestGeneric

Message = dict[str, Any]
Record = dict[str, Any]
# jsonschema (installed with singer-sdk) ships no type stubs.
Draft7Validator: Any = importlib.import_module("jsonschema").Draft7Validator

URL = f"{BASE_URL}/items"
PAGE_1: list[Record] = [{"id": 1, "a": 1}, {"id": 2, "a": 2}]
PAGE_2: list[Record] = [{"id": 3, "a": "x", "b": True}, {"id": 4, "a": 5}]
WARNED = re.compile(r"Stream '(\w+)': field '([\w.]+)' is not in the schema")
DRIFT_LINE = "a record has fields not in the schema or of another type"


# --------------------------------------------------------------------------------------------
# helpers


def items() -> dict[str, Any]:
    """The ``items`` resource: json_link pagination, primary key ``id``."""
    return {**resource("items", paginator="json_link", data_selector="data"), "primary_key": "id"}


def resource_with(**extra: Any) -> dict[str, Any]:
    """The ``items`` resource with extra resource-level options (schema_drift, schema_contract)."""
    return {**items(), **extra}


def serve_pages(mocker: Any, *pages: list[Record], url: str = URL) -> None:
    """Serve ``pages`` in order at ``url``, linked by ``next``."""
    bodies = []
    for number, records in enumerate(pages, start=1):
        following = f"{url}?page={number + 1}" if number < len(pages) else None
        bodies.append(page({"data": copy.deepcopy(records), "next": following}))
    serve(mocker, url, *bodies)


def discover(tap: TapRestGeneric) -> dict[str, Any]:
    """The catalog ``--discover`` prints (sampling included), parsed."""
    with contextlib.redirect_stdout(io.StringIO()):
        text = tap.run_discovery()
    catalog: dict[str, Any] = json.loads(text)
    return catalog


def singer(messages: list[Message], stream: str = "items") -> list[tuple[str, Any]]:
    """The stream's SCHEMA and RECORD messages in order, as (type, schema or record)."""
    out: list[tuple[str, Any]] = []
    for message in messages:
        if message.get("stream") != stream:
            continue
        if message["type"] == "SCHEMA":
            out.append(("SCHEMA", message["schema"]))
        elif message["type"] == "RECORD":
            out.append(("RECORD", message["record"]))
    return out


def kinds(messages: list[Message], stream: str = "items") -> list[str]:
    """The types of the stream's SCHEMA and RECORD messages, in order."""
    return [kind for kind, _ in singer(messages, stream)]


def schemas(messages: list[Message], stream: str = "items") -> list[dict[str, Any]]:
    """Every SCHEMA written for the stream, in order."""
    return [body for kind, body in singer(messages, stream) if kind == "SCHEMA"]


def records(messages: list[Message], stream: str = "items") -> list[Record]:
    """Every RECORD written for the stream, in order."""
    return [body for kind, body in singer(messages, stream) if kind == "RECORD"]


def assert_records_valid(messages: list[Message]) -> int:
    """Every RECORD validates against the stream's latest SCHEMA written before it."""
    latest: dict[str, dict[str, Any]] = {}
    checked = 0
    for message in messages:
        if message["type"] == "SCHEMA":
            latest[message["stream"]] = message["schema"]
        elif message["type"] == "RECORD":
            schema = latest.get(message["stream"])
            assert schema is not None, f"RECORD before SCHEMA: {message}"
            Draft7Validator(schema).validate(message["record"])
            checked += 1
    return checked


def types_of(schema: Mapping[str, Any], field: str) -> list[str]:
    """The ``type`` list of a top-level property."""
    kind = schema["properties"][field]["type"]
    return [kind] if isinstance(kind, str) else list(kind)


def drift_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The freeze warnings logged (one per stream and field is expected)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "is not in the schema" in r.getMessage()
    ]


def widen(schema: dict[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The tap's widening rule: the schema widened by the record (a null only adds "null")."""
    return inference.widen(schema, record)


def guard(schema: dict[str, Any], policy: str) -> tuple[DriftGuard, list[dict[str, Any]]]:
    """A DriftGuard for stream ``items`` and the list its evolved schemas are appended to."""
    announced: list[dict[str, Any]] = []
    return DriftGuard("items", schema, policy, announced.append, widen), announced


# --------------------------------------------------------------------------------------------
# Checker


FLAT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer"]},
        "count": {"type": ["integer"]},
        "price": {"type": ["number"]},
        "name": {"type": ["string"]},
        "note": {"type": ["string", "null"]},
        "flag": {"type": ["boolean"]},
        "anything": {},
    },
}
NESTED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer"]},
        "address": {
            "type": ["object"],
            "properties": {
                "city": {"type": ["string"]},
                "geo": {"type": ["object"], "properties": {"lat": {"type": ["number"]}}},
            },
        },
    },
}


def test_checker_accepts_a_matching_record() -> None:
    record = {"id": 1, "count": 2, "price": 1.5, "name": "x", "note": None, "flag": True}
    assert Checker(FLAT).misfits(record) == []


def test_checker_accepts_any_value_of_an_untyped_field() -> None:
    checker = Checker(FLAT)
    for value in (1, "x", None, [1], {"k": 1}, True):
        assert checker.misfits({"id": 1, "anything": value}) == []


def test_checker_accepts_missing_fields() -> None:
    assert Checker(FLAT).misfits({"id": 1}) == []


def test_checker_new_top_level_field() -> None:
    assert Checker(FLAT).misfits({"id": 1, "extra": 1}) == ["extra"]


def test_checker_new_nested_field() -> None:
    checker = Checker(NESTED)
    assert checker.misfits({"id": 1, "address": {"city": "Oslo", "zip": "0150"}}) == ["address.zip"]
    assert checker.misfits({"id": 1, "address": {"geo": {"lat": 1.0, "lon": 2.0}}}) == [
        "address.geo.lon"
    ]


def test_checker_nested_type_change() -> None:
    checker = Checker(NESTED)
    assert checker.misfits({"id": 1, "address": {"city": 7}}) == ["address.city"]
    assert checker.misfits({"id": 1, "address": {"geo": {"lat": "north"}}}) == ["address.geo.lat"]


def test_checker_object_replaced_by_a_scalar() -> None:
    assert Checker(NESTED).misfits({"id": 1, "address": "Oslo"}) == ["address"]


def test_checker_int_to_float_is_a_change_float_into_number_is_not() -> None:
    checker = Checker(FLAT)
    assert checker.misfits({"id": 1, "count": 1.5}) == ["count"]
    assert checker.misfits({"id": 1, "price": 2}) == []
    assert checker.misfits({"id": 1, "price": 2.5}) == []


def test_checker_int_to_string() -> None:
    assert Checker(FLAT).misfits({"id": 1, "count": "2"}) == ["count"]


def test_checker_null_into_a_non_null_field() -> None:
    checker = Checker(FLAT)
    assert checker.misfits({"id": 1, "name": None}) == ["name"]
    assert checker.misfits({"id": 1, "note": None}) == []


def test_checker_bool_is_not_an_integer_nor_a_number() -> None:
    checker = Checker(FLAT)
    assert checker.misfits({"id": 1, "count": True}) == ["count"]
    assert checker.misfits({"id": 1, "price": False}) == ["price"]
    assert checker.misfits({"id": 1, "flag": 1}) == ["flag"]
    both = Checker({"properties": {"v": {"type": ["boolean", "integer"]}}})
    assert both.misfits({"v": True}) == []
    assert both.misfits({"v": 3}) == []


def test_checker_type_as_a_string() -> None:
    checker = Checker({"properties": {"n": {"type": "integer"}, "s": {"type": "string"}}})
    assert checker.misfits({"n": 1, "s": "x"}) == []
    assert checker.misfits({"n": "1", "s": 2}) == ["n", "s"]


def test_checker_lists_every_misfit_in_record_order() -> None:
    record = {"extra": 1, "id": "1", "address": {"city": 1, "more": True}}
    assert Checker(NESTED).misfits(record) == ["extra", "id", "address.city", "address.more"]


def test_checker_shape_cache_does_not_hide_a_later_type_change() -> None:
    checker = Checker(FLAT)
    for _ in range(3):
        assert checker.misfits({"id": 1, "count": 2}) == []
    assert checker.misfits({"id": 1, "count": "2"}) == ["count"]
    assert checker.misfits({"id": 1, "count": None}) == ["count"]
    assert checker.misfits({"id": 1, "count": 2}) == []


def test_checker_shape_cache_does_not_hide_a_nested_change() -> None:
    checker = Checker(NESTED)
    # Same top-level keys and value types (int, dict) each time: only the nested values differ.
    for _ in range(3):
        assert checker.misfits({"id": 1, "address": {"city": "Oslo"}}) == []
    assert checker.misfits({"id": 2, "address": {"city": 7}}) == ["address.city"]
    assert checker.misfits({"id": 3, "address": {"city": "Oslo", "zip": 1}}) == ["address.zip"]
    assert checker.misfits({"id": 4, "address": {"city": "Oslo"}}) == []


def test_checker_shape_cache_does_not_hide_a_change_two_levels_down() -> None:
    checker = Checker(NESTED)
    # The record's and the address's keys and value types repeat: only address.geo.lat differs.
    for _ in range(3):
        assert checker.misfits({"id": 1, "address": {"geo": {"lat": 1.5}}}) == []
    assert checker.misfits({"id": 2, "address": {"geo": {"lat": "north"}}}) == ["address.geo.lat"]
    assert checker.misfits({"id": 3, "address": {"geo": {"lat": 1.5, "lon": 2.5}}}) == [
        "address.geo.lon"
    ]
    assert checker.misfits({"id": 4, "address": {"geo": {"lat": 2.5}}}) == []


def test_checker_shape_cache_after_a_misfit_nested_value() -> None:
    checker = Checker(NESTED)
    assert checker.misfits({"id": 1, "address": {"city": 1}}) == ["address.city"]
    assert checker.misfits({"id": 1, "address": {"city": 2}}) == ["address.city"]
    assert checker.misfits({"id": 1, "address": {"city": "Oslo"}}) == []
    assert checker.misfits({"id": 1, "address": {"city": 3}}) == ["address.city"]


def test_checker_shape_cache_is_not_filled_by_misfits() -> None:
    checker = Checker(FLAT)
    assert checker.misfits({"id": 1, "count": "x"}) == ["count"]
    assert checker.misfits({"id": 1, "count": "y"}) == ["count"]


def test_checker_array_item_type_change() -> None:
    schema = {"properties": {"tags": {"type": ["array"], "items": {"type": ["string"]}}}}
    assert Checker(schema).misfits({"tags": [1]}) != []


# --------------------------------------------------------------------------------------------
# DriftGuard


def test_guard_passes_fitting_records_untouched() -> None:
    drift, announced = guard(infer_schema(PAGE_1), "evolve")
    for record in PAGE_1:
        assert drift.apply(copy.deepcopy(record)) == record
    assert announced == []
    assert drift.changes == 0


def test_guard_evolve_widens_once_and_records_match_afterwards() -> None:
    drift, announced = guard(infer_schema(PAGE_1), "evolve")
    record = {"id": 3, "a": "x", "b": True}
    assert drift.apply(copy.deepcopy(record)) == record
    assert len(announced) == 1
    evolved = announced[0]
    assert set(types_of(evolved, "a")) >= {"integer", "string"}
    assert "boolean" in types_of(evolved, "b")
    assert drift.changes == 1
    # The same drift again, and the earlier records, fit the evolved schema: no new SCHEMA.
    for again in [record, *PAGE_1, {"id": 5, "a": "y", "b": False}]:
        assert drift.checker.misfits(again) == []
        drift.apply(copy.deepcopy(again))
    assert len(announced) == 1
    for seen in [record, *PAGE_1]:
        Draft7Validator(evolved).validate(seen)


@pytest.mark.parametrize(
    ("record", "field", "expected"),
    [
        ({"id": 3, "a": 1.5}, "a", {"number"}),
        ({"id": 3, "a": "x"}, "a", {"integer", "string"}),
        pytest.param(
            {"id": 3, "a": None},
            "a",
            {"integer", "null"},
            id="null",
        ),
        ({"id": 3, "a": True}, "a", {"boolean", "integer"}),
        ({"id": 3, "a": {"k": 1}}, "a", {"integer", "object"}),
    ],
)
def test_guard_evolve_widens_types(record: Record, field: str, expected: set[str]) -> None:
    drift, announced = guard(infer_schema(PAGE_1), "evolve")
    drift.apply(copy.deepcopy(record))
    assert len(announced) == 1
    assert set(types_of(announced[0], field)) == expected
    Draft7Validator(announced[0]).validate(record)


def test_guard_evolve_adds_a_nested_field() -> None:
    drift, announced = guard(copy.deepcopy(NESTED), "evolve")
    drift.apply({"id": 1, "address": {"city": "Oslo", "zip": "0150"}})
    assert len(announced) == 1
    address = announced[0]["properties"]["address"]
    assert "string" in address["properties"]["zip"]["type"]
    assert address["properties"]["city"]["type"] == ["string"]
    assert drift.checker.misfits({"id": 2, "address": {"city": "Rome", "zip": "00100"}}) == []


def test_guard_freeze_drops_fields_and_warns_once_per_field(
    caplog: pytest.LogCaptureFixture,
) -> None:
    drift, announced = guard(copy.deepcopy(NESTED), "freeze")
    caplog.set_level(logging.WARNING)
    out = [drift.apply({"id": n, "extra": n, "address": {"city": n, "zip": "1"}}) for n in range(3)]
    assert out == [{"id": n, "address": {}} for n in range(3)]
    assert announced == []
    warned = drift_warnings(caplog)
    assert len(warned) == 3
    for field in ("'extra'", "'address.city'", "'address.zip'"):
        assert sum(field in line for line in warned) == 1
    assert all("'items'" in line and "freeze" in line for line in warned)


def test_guard_fail_names_the_stream_and_fields() -> None:
    drift, announced = guard(infer_schema(PAGE_1), "fail")
    assert drift.apply({"id": 1, "a": 1}) == {"id": 1, "a": 1}
    with pytest.raises(SchemaDriftError) as info:
        drift.apply({"id": 3, "a": "x", "b": True})
    message = str(info.value)
    assert message == (f"stream 'items': {DRIFT_LINE}: a, b (schema_drift is 'fail')")
    assert announced == []


# --------------------------------------------------------------------------------------------
# In-process syncs without a catalog: SCHEMA typed from page 1, then the policy


def test_evolve_message_order() -> None:
    with requests_mock.Mocker() as m:
        serve_pages(m, PAGE_1, PAGE_2)
        messages = sync_tap(make_tap(items()))
    stream = singer(messages)
    assert [kind for kind, _ in stream] == [
        "SCHEMA",
        "RECORD",
        "RECORD",
        "SCHEMA",
        "RECORD",
        "RECORD",
    ]
    first, second = stream[0][1], stream[3][1]
    assert types_of(first, "a") == ["integer"]
    assert types_of(first, "id") == ["integer"]
    assert "b" not in first["properties"]
    assert set(types_of(second, "a")) == {"integer", "string"}
    assert "boolean" in types_of(second, "b")
    assert [body for kind, body in stream if kind == "RECORD"] == PAGE_1 + PAGE_2
    assert assert_records_valid(messages) == 4
    assert m.call_count == 2


def test_evolved_schema_keeps_the_key_property_required() -> None:
    with requests_mock.Mocker() as m:
        serve_pages(m, PAGE_1, PAGE_2)
        messages = sync_tap(make_tap(items()))
    first, second = schemas(messages)
    assert first["required"] == ["id"]
    assert second.get("required") == ["id"]


def test_no_schema_repeated_while_unchanged() -> None:
    pages = [[{"id": n, "a": n}] for n in range(1, 5)]
    with requests_mock.Mocker() as m:
        serve_pages(m, *pages)
        messages = sync_tap(make_tap(items()))
    assert kinds(messages) == ["SCHEMA", "RECORD", "RECORD", "RECORD", "RECORD"]


def test_no_schema_repeated_after_evolve_while_unchanged() -> None:
    with requests_mock.Mocker() as m:
        serve_pages(m, PAGE_1, PAGE_2, [{"id": 5, "a": "y", "b": False}], PAGE_1)
        messages = sync_tap(make_tap(items()))
    assert kinds(messages) == ["SCHEMA", "RECORD", "RECORD", "SCHEMA", *["RECORD"] * 5]
    assert assert_records_valid(messages) == 7


def family(policy: str = "evolve") -> TapRestGeneric:
    """Parents (one page) and their kids (one page per parent)."""
    return make_tap(
        [
            {
                **resource("parents", paginator="single_page", data_selector="data"),
                "primary_key": "id",
            },
            {
                **resource(
                    "kids",
                    "parents/{resources.parents.id}/kids",
                    paginator="single_page",
                    data_selector="data",
                ),
                "primary_key": "id",
            },
        ],
        schema_drift=policy,
    )


def serve_family(mocker: Any, kids: list[list[Record]]) -> None:
    """Parents 1..n, parent n having the kids ``kids[n - 1]``."""
    parents = [{"id": n} for n in range(1, len(kids) + 1)]
    serve(mocker, f"{BASE_URL}/parents", page({"data": parents}))
    for number, rows in enumerate(kids, start=1):
        serve(mocker, f"{BASE_URL}/parents/{number}/kids", page({"data": rows}))


def test_child_stream_schema_written_once_across_parents() -> None:
    kids = [[{"id": 10 * n + k, "x": k} for k in (1, 2)] for n in (1, 2, 3)]
    with requests_mock.Mocker() as m:
        serve_family(m, kids)
        messages = sync_tap(family())
    assert kinds(messages, "kids") == ["SCHEMA", *["RECORD"] * 6]
    assert kinds(messages, "parents") == ["SCHEMA", *["RECORD"] * 3]
    assert types_of(schemas(messages, "kids")[0], "x") == ["integer"]


def test_child_stream_evolves_once_across_parents() -> None:
    kids: list[list[Record]] = [
        [{"id": 11, "x": 1}],
        [{"id": 21, "x": "one", "y": 1.5}],
        [{"id": 31, "x": "two", "y": 2.5}],
        [{"id": 41, "x": 3}],
    ]
    with requests_mock.Mocker() as m:
        serve_family(m, kids)
        messages = sync_tap(family())
    assert kinds(messages, "kids") == ["SCHEMA", "RECORD", "SCHEMA", "RECORD", "RECORD", "RECORD"]
    assert records(messages, "kids") == [row for rows in kids for row in rows]
    assert assert_records_valid(messages) == 8


def test_empty_first_page_does_not_settle_the_schema_freeze() -> None:
    with requests_mock.Mocker() as m:
        serve_family(m, [[], [{"id": 21, "x": 1}]])
        messages = sync_tap(family("freeze"))
    assert records(messages, "kids") == [{"id": 21, "x": 1}]


def test_empty_first_page_does_not_settle_the_schema_fail() -> None:
    with requests_mock.Mocker() as m:
        serve_family(m, [[], [{"id": 21, "x": 1}]])
        messages = sync_tap(family("fail"))
    assert records(messages, "kids") == [{"id": 21, "x": 1}]


def test_evolve_array_item_change_validates() -> None:
    with requests_mock.Mocker() as m:
        serve_pages(m, [{"id": 1, "tags": ["a"]}], [{"id": 2, "tags": [1]}])
        messages = sync_tap(make_tap(items()))
    assert assert_records_valid(messages) == 2


def test_freeze_drops_new_and_mistyped_fields_once_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    page_3: list[Record] = [{"id": 5, "a": "y", "b": False, "c": None}, {"id": 6, "a": 6}]
    with requests_mock.Mocker() as m:
        serve_pages(m, PAGE_1, PAGE_2, page_3)
        messages = sync_tap(make_tap(items(), schema_drift="freeze"))
    assert kinds(messages) == ["SCHEMA", *["RECORD"] * 6]
    (only,) = schemas(messages)
    assert set(only["properties"]) == {"id", "a"}
    assert records(messages) == [
        *PAGE_1,
        {"id": 3},
        {"id": 4, "a": 5},
        {"id": 5},
        {"id": 6, "a": 6},
    ]
    warned = drift_warnings(caplog)
    assert len(warned) == 3
    for field in ("'a'", "'b'", "'c'"):
        assert sum(f"field {field}" in line for line in warned) == 1
    assert all("Stream 'items'" in line for line in warned)
    assert assert_records_valid(messages) == 6


def test_freeze_warns_once_per_stream_and_field(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    kids: list[list[Record]] = [
        [{"id": 11, "x": 1}],
        [{"id": 21, "x": "s", "z": 1}],
        [{"id": 31, "x": "t", "z": 2}],
    ]
    with requests_mock.Mocker() as m:
        serve_family(m, kids)
        messages = sync_tap(family("freeze"))
    assert records(messages, "kids") == [{"id": 11, "x": 1}, {"id": 21}, {"id": 31}]
    assert records(messages, "parents") == [{"id": 1}, {"id": 2}, {"id": 3}]
    warned = [WARNED.match(line) for line in drift_warnings(caplog)]
    assert sorted(f"{w[1]}:{w[2]}" for w in warned if w) == ["kids:x", "kids:z"]
    assert len(warned) == 2


def test_fail_stops_with_a_clear_error() -> None:
    written: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(SchemaDriftError) as info:
        serve_pages(m, PAGE_1, PAGE_2)
        sync_tap(make_tap(items(), schema_drift="fail"), into=written)
    assert str(info.value) == f"stream 'items': {DRIFT_LINE}: a, b (schema_drift is 'fail')"
    assert kinds(written) == ["SCHEMA", "RECORD", "RECORD"]
    assert records(written) == PAGE_1


def test_fail_through_the_cli_is_one_line_and_exit_1(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = {
        "client": {"base_url": BASE_URL},
        "resources": [items()],
        "schema_drift": "fail",
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with requests_mock.Mocker() as m:
        serve_pages(m, PAGE_1, PAGE_2)
        result = CliRunner().invoke(TapRestGeneric.cli, ["--config", str(path)])
    err = capfd.readouterr().err + (result.stderr or "")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in err
    assert isinstance(result.exception, SystemExit)
    lines = [line for line in err.splitlines() if DRIFT_LINE in line]
    assert len(lines) == 1, err
    assert lines[0].endswith(f"stream 'items': {DRIFT_LINE}: a, b (schema_drift is 'fail')")
    assert "ERROR" in lines[0]


# --------------------------------------------------------------------------------------------
# Which policy applies: the setting, the resource's schema_drift, dlt's schema_contract


@pytest.mark.parametrize(
    ("settings", "options", "policy"),
    [
        ({}, {}, "evolve"),
        ({"schema_drift": "freeze"}, {}, "freeze"),
        ({"schema_drift": "fail"}, {}, "fail"),
        ({"schema_drift": "fail"}, {"schema_drift": "evolve"}, "evolve"),
        ({"schema_drift": "evolve"}, {"schema_drift": "freeze"}, "freeze"),
        ({"schema_drift": "freeze"}, {"schema_drift": "fail"}, "fail"),
        ({}, {"schema_contract": "evolve"}, "evolve"),
        ({}, {"schema_contract": "freeze"}, "fail"),
        ({}, {"schema_contract": "discard_value"}, "freeze"),
        ({}, {"schema_contract": {"columns": "freeze"}}, "fail"),
        ({}, {"schema_contract": {"columns": "discard_value"}}, "freeze"),
        ({"schema_drift": "fail"}, {"schema_contract": {"tables": "freeze"}}, "fail"),
        ({"schema_drift": "freeze"}, {"schema_contract": "evolve"}, "evolve"),
        ({}, {"schema_contract": "freeze", "schema_drift": "evolve"}, "evolve"),
    ],
)
def test_policy_resolution(settings: dict[str, Any], options: dict[str, Any], policy: str) -> None:
    tap = make_tap(resource_with(**options), **settings)
    (spec,) = tap.api.resources
    assert spec.drift == policy


def test_resource_defaults_schema_drift() -> None:
    tap = make_tap(
        [items(), resource_with(name="other", schema_drift="evolve")],
        resource_defaults={"schema_drift": "freeze"},
    )
    assert [spec.drift for spec in tap.api.resources] == ["freeze", "evolve"]


def expect_policy(messages: list[Message], policy: str) -> None:
    """The messages of the two-page scenario under ``policy`` (evolve or freeze)."""
    if policy == "evolve":
        assert kinds(messages) == ["SCHEMA", "RECORD", "RECORD", "SCHEMA", "RECORD", "RECORD"]
        assert records(messages) == PAGE_1 + PAGE_2
    else:
        assert kinds(messages) == ["SCHEMA", *["RECORD"] * 4]
        assert records(messages) == [*PAGE_1, {"id": 3}, {"id": 4, "a": 5}]


@pytest.mark.parametrize(
    ("settings", "options", "policy"),
    [
        ({"schema_drift": "fail"}, {"schema_drift": "freeze"}, "freeze"),
        ({"schema_drift": "freeze"}, {"schema_drift": "evolve"}, "evolve"),
        ({"schema_drift": "fail"}, {"schema_contract": "discard_value"}, "freeze"),
        ({"schema_drift": "freeze"}, {"schema_contract": "evolve"}, "evolve"),
    ],
)
def test_resource_policy_overrides_the_setting_in_a_sync(
    settings: dict[str, Any], options: dict[str, Any], policy: str
) -> None:
    with requests_mock.Mocker() as m:
        serve_pages(m, PAGE_1, PAGE_2)
        messages = sync_tap(make_tap(resource_with(**options), **settings))
    expect_policy(messages, policy)


def test_schema_contract_freeze_fails_in_a_sync() -> None:
    with requests_mock.Mocker() as m, pytest.raises(SchemaDriftError, match="'items'"):
        serve_pages(m, PAGE_1, PAGE_2)
        sync_tap(make_tap(resource_with(schema_contract="freeze")))


CONTRACT_ERROR = (
    "schema_contract 'discard_row' has no equivalent in a Singer tap; expected 'evolve', "
    "'freeze' (becomes schema_drift 'fail'), 'discard_value' (becomes 'freeze'), or "
    "schema_drift: one of 'evolve', 'freeze', 'fail' at config['resources'][0]['schema_contract']"
)


@pytest.mark.parametrize("contract", ["discard_row", {"columns": "discard_row"}])
def test_schema_contract_discard_row_is_a_config_error(contract: Any) -> None:
    with pytest.raises(ConfigValidationError) as info:
        make_tap(resource_with(schema_contract=contract))
    assert info.value.errors == [CONTRACT_ERROR]


@pytest.mark.parametrize(
    ("settings", "options", "where"),
    [
        ({"schema_drift": "discard"}, {}, "config['schema_drift']"),
        ({}, {"schema_drift": "discard"}, "config['resources'][0]['schema_drift']"),
    ],
)
def test_unknown_schema_drift_is_a_config_error(
    settings: dict[str, Any], options: dict[str, Any], where: str
) -> None:
    with pytest.raises(ConfigValidationError) as info:
        make_tap(resource_with(**options), **settings)
    assert info.value.errors == [
        f"unknown value 'discard'; expected one of 'evolve', 'freeze', 'fail' at {where}"
    ]


# --------------------------------------------------------------------------------------------
# With an input catalog: drift is measured against the catalog's schema


def discovered(**settings: Any) -> dict[str, Any]:
    """The catalog discovered from PAGE_1 (sampling requests page 1 only by default)."""
    with requests_mock.Mocker() as m:
        serve_pages(m, PAGE_1, PAGE_2)
        return discover(make_tap(items(), **settings))


def catalog_schema(catalog: dict[str, Any]) -> dict[str, Any]:
    """The schema of ``items`` in a catalog."""
    entry = next(s for s in catalog["streams"] if s["tap_stream_id"] == "items")
    schema: dict[str, Any] = entry["schema"]
    return schema


def sync_with(catalog: dict[str, Any], policy: str) -> list[Message]:
    """Sync the two pages with ``catalog`` under ``policy``."""
    tap = TapRestGeneric(
        config={"client": {"base_url": BASE_URL}, "resources": [items()], "schema_drift": policy},
        catalog=catalog,
        parse_env_config=False,
    )
    with requests_mock.Mocker() as m:
        serve_pages(m, PAGE_1, PAGE_2)
        return sync_tap(tap)


def test_discovery_samples_the_first_page_only() -> None:
    with requests_mock.Mocker() as m:
        serve_pages(m, PAGE_1, PAGE_2)
        catalog = discover(make_tap(items()))
    assert m.call_count == 1
    schema = catalog_schema(catalog)
    assert types_of(schema, "a") == ["integer"]
    assert "b" not in schema["properties"]


def test_catalog_evolve_first_schema_is_the_catalogs() -> None:
    catalog = discovered()
    messages = sync_with(catalog, "evolve")
    assert kinds(messages) == ["SCHEMA", "RECORD", "RECORD", "SCHEMA", "RECORD", "RECORD"]
    first, second = schemas(messages)
    assert first == catalog_schema(catalog)
    assert set(types_of(second, "a")) == {"integer", "string"}
    assert assert_records_valid(messages) == 4


def test_catalog_freeze() -> None:
    messages = sync_with(discovered(), "freeze")
    expect_policy(messages, "freeze")


def test_catalog_fail() -> None:
    with pytest.raises(SchemaDriftError, match="a, b"):
        sync_with(discovered(), "fail")


def test_catalog_covering_every_page_never_drifts() -> None:
    catalog = discovered(schema_sample_pages=2)
    assert set(types_of(catalog_schema(catalog), "a")) == {"integer", "string"}
    messages = sync_with(catalog, "fail")
    assert kinds(messages) == ["SCHEMA", *["RECORD"] * 4]
    assert schemas(messages) == [catalog_schema(catalog)]


def test_catalog_schema_is_what_is_checked_not_the_data() -> None:
    """A catalog narrower than the data: freeze drops what the catalog lacks, from page 1 on."""
    catalog = discovered()
    schema = catalog_schema(catalog)
    del schema["properties"]["a"]
    messages = sync_with(catalog, "freeze")
    assert records(messages) == [{"id": n} for n in (1, 2, 3, 4)]
    assert schemas(messages) == [schema]


def test_catalog_narrower_than_the_data_evolves_on_page_1() -> None:
    catalog = discovered()
    schema = catalog_schema(catalog)
    schema["properties"]["a"] = {"type": ["string"]}
    messages = sync_with(catalog, "evolve")
    assert kinds(messages) == ["SCHEMA", "SCHEMA", "RECORD", "RECORD", "SCHEMA", "RECORD", "RECORD"]
    assert schemas(messages)[0] == schema
    assert assert_records_valid(messages) == 4


# --------------------------------------------------------------------------------------------
# Discovery against failing sample calls: a warning and a permissive schema, no crash


@pytest.mark.parametrize(
    "response",
    [
        {"status_code": 401, "json": {"error": "unauthorized"}},
        {"status_code": 500, "json": {}},
        {"text": "<html>maintenance</html>"},
        {"exc": requests.exceptions.ConnectionError("refused")},
    ],
    ids=["401", "500", "html", "connection"],
)
def test_discovery_survives_a_failed_sample_call(
    response: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits = record_sleeps(monkeypatch)
    caplog.set_level(logging.WARNING)
    with requests_mock.Mocker() as m:
        m.get(URL, **response)
        catalog = discover(make_tap(items()))
    schema = catalog_schema(catalog)
    assert schema["additionalProperties"] is True
    assert set(schema["properties"]) == {"id"}
    warned = [r.getMessage() for r in caplog.records if "could not sample" in r.getMessage()]
    assert len(warned) == 1
    assert "Stream 'items'" in warned[0]
    assert "permissive schema" in warned[0]
    assert len(waits) <= 1  # sampling retries at most once
