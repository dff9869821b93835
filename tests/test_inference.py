"""Tests for JSON Schema inference from sample records."""

from __future__ import annotations

import copy
import itertools
import json
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from tap_restgeneric.records.inference import infer_schema, merge_schemas, schema_of_value

AP = {"additionalProperties": True}


def props(records: list[Any]) -> dict[str, Any]:
    schema = infer_schema(records)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is True
    assert "required" not in schema
    result: dict[str, Any] = schema["properties"]
    return result


def obj(properties: dict[str, Any], *types: str) -> dict[str, Any]:
    return {"type": ["object", *types], "properties": properties, **AP}


# --- top level ---------------------------------------------------------------------------


def test_no_records() -> None:
    empty = {"type": "object", "properties": {}, "additionalProperties": True}
    assert infer_schema([]) == empty
    assert infer_schema(iter(())) == empty


def test_empty_records() -> None:
    assert infer_schema([{}, {}]) == {"type": "object", "properties": {}, **AP}


def test_single_record_fields_are_not_nullable() -> None:
    assert props([{"id": 1, "name": "a"}]) == {
        "id": {"type": ["integer"]},
        "name": {"type": ["string"]},
    }


def test_properties_in_first_seen_order() -> None:
    schema = props([{"b": 1, "a": 1}, {"c": 1, "a": 2}, {"d": 1}])
    assert list(schema) == ["b", "a", "c", "d"]


def test_accepts_a_generator() -> None:
    records: list[dict[str, Any]] = [{"a": 1}, {"a": None}]
    schema = infer_schema(record for record in records)
    assert schema["properties"] == {"a": {"type": ["integer", "null"]}}


# --- nulls and missing fields ------------------------------------------------------------


def test_nulls_first_then_values() -> None:
    records = [{"a": None, "b": None}, {"a": None, "b": "x"}, {"a": 3, "b": "y"}]
    assert props(records) == {
        "a": {"type": ["integer", "null"]},
        "b": {"type": ["string", "null"]},
    }


def test_values_then_null() -> None:
    assert props([{"a": True}, {"a": None}]) == {"a": {"type": ["boolean", "null"]}}


def test_only_null_is_a_nullable_string_guess() -> None:
    assert props([{"a": None}, {"a": None}]) == {"a": {"type": ["string", "null"]}}
    assert props([{"a": None}]) == {"a": {"type": ["string", "null"]}}


def test_field_missing_in_some_records() -> None:
    records = [{"id": 1, "a": "x"}, {"id": 2}, {"id": 3, "b": 1.5}]
    assert props(records) == {
        "id": {"type": ["integer"]},
        "a": {"type": ["string", "null"]},
        "b": {"type": ["number", "null"]},
    }


def test_field_missing_in_first_record() -> None:
    assert props([{"id": 1}, {"id": 2, "a": {"x": 1}}]) == {
        "id": {"type": ["integer"]},
        "a": obj({"x": {"type": ["integer"]}}, "null"),
    }


# --- scalars -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [[1, 2, 1.5], [1.5, 2, 3], [2.0, 1], [1, Decimal("1.10")], [Decimal(3), 4]],
    ids=["ints-then-float", "float-then-ints", "integral-float", "int-decimal", "decimal-int"],
)
def test_integers_and_numbers_are_number(values: list[Any]) -> None:
    assert props([{"n": value} for value in values]) == {"n": {"type": ["number"]}}


def test_only_integers() -> None:
    assert props([{"n": 1}, {"n": -5}, {"n": 10**20}]) == {"n": {"type": ["integer"]}}


def test_bool_is_boolean_never_integer() -> None:
    assert props([{"b": True}, {"b": False}]) == {"b": {"type": ["boolean"]}}
    assert props([{"b": True}, {"b": 1}]) == {"b": {"type": ["boolean", "integer"]}}
    assert props([{"b": 0}, {"b": False}]) == {"b": {"type": ["boolean", "integer"]}}
    assert props([{"b": False}, {"b": 1.5}]) == {"b": {"type": ["boolean", "number"]}}


def test_mixed_scalar_kinds_are_a_union_in_fixed_order() -> None:
    assert props([{"v": 1}, {"v": "a"}]) == {"v": {"type": ["integer", "string"]}}
    assert props([{"v": "a"}, {"v": 1}, {"v": None}]) == {
        "v": {"type": ["integer", "string", "null"]}
    }
    records = [{"v": "s"}, {"v": None}, {"v": 2.5}, {"v": True}, {"v": 1}]
    assert props(records) == {"v": {"type": ["boolean", "number", "string", "null"]}}


# --- string formats ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01T10:00:00",
        "2024-01-01 10:00:00.123+02:00",
        "2024-01-01T10:00:00Z",
        "2024-01-01T23:59:59.123456-05:30",
        "2024-02-29T00:00:00+00:00",
    ],
)
def test_date_time(value: str) -> None:
    assert props([{"t": value}]) == {"t": {"type": ["string"], "format": "date-time"}}


@pytest.mark.parametrize("value", ["2024-01-01", "2024-02-29", "1999-12-31"])
def test_date(value: str) -> None:
    assert props([{"d": value}]) == {"d": {"type": ["string"], "format": "date"}}


@pytest.mark.parametrize(
    "value",
    [
        "2024-13-45",
        "2024-02-30T10:00:00Z",
        "2023-02-29",
        "12/01/2024",
        "2024-1-5",
        "20240101",
        "2024-01-01T10:00",
        "2024-01-01T25:00:00Z",
        "2024-01-01T10:00:00+25:00",
        "2024-01-01T10:00:00 UTC",
        "2024-01-01T",
        " 2024-01-01",
        "2024-01-01\n",
        "\uff12\uff10\uff12\uff14-01-01",
        "",
    ],
)
def test_date_like_non_dates_are_plain_strings(value: str) -> None:
    assert props([{"d": value}]) == {"d": {"type": ["string"]}}


def test_format_only_when_every_value_has_it() -> None:
    records = [{"t": "2024-01-01T10:00:00Z"}, {"t": "soon"}]
    assert props(records) == {"t": {"type": ["string"]}}
    records = [{"d": "2024-01-01"}, {"d": "2024-02-30"}]
    assert props(records) == {"d": {"type": ["string"]}}


def test_mixed_date_and_date_time_is_plain_string() -> None:
    records = [{"d": "2024-01-01"}, {"d": "2024-01-01T10:00:00Z"}]
    assert props(records) == {"d": {"type": ["string"]}}
    assert props(records[::-1]) == {"d": {"type": ["string"]}}


def test_format_survives_nulls_and_other_kinds() -> None:
    records = [{"t": None}, {"t": "2024-01-01T10:00:00Z"}, {}, {"t": "2024-06-01 08:30:00"}]
    assert props(records) == {"t": {"type": ["string", "null"], "format": "date-time"}}
    records = [{"d": "2024-01-01"}, {"d": 5}]
    assert props(records) == {"d": {"type": ["integer", "string"], "format": "date"}}


def test_python_dates() -> None:
    moment = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert schema_of_value(moment) == {"type": ["string"], "format": "date-time"}
    assert schema_of_value(date(2024, 1, 1)) == {"type": ["string"], "format": "date"}


# --- objects and arrays ------------------------------------------------------------------


def test_deep_nesting() -> None:
    records = [
        {
            "order": {
                "customer": {"address": {"city": "Oslo"}},
                "lines": [{"sku": "A", "qty": 1}, {"sku": "B", "price": 2.5}],
            }
        },
        {
            "order": {
                "customer": {"address": {"city": "Rome", "zip": "00100"}, "vip": True},
                "lines": [{"sku": "C", "qty": 2.0, "tags": ["x"]}],
            }
        },
    ]
    address = obj({"city": {"type": ["string"]}, "zip": {"type": ["string", "null"]}})
    line = obj(
        {
            "sku": {"type": ["string"]},
            "qty": {"type": ["number", "null"]},
            "price": {"type": ["number", "null"]},
            "tags": {"type": ["array", "null"], "items": {"type": ["string"]}},
        }
    )
    assert props(records) == {
        "order": obj(
            {
                "customer": obj({"address": address, "vip": {"type": ["boolean", "null"]}}),
                "lines": {"type": ["array"], "items": line},
            }
        )
    }


def test_arrays_of_arrays() -> None:
    records = [{"m": [[1, 2], []]}, {"m": [[None], [3.5]]}]
    assert props(records) == {
        "m": {
            "type": ["array"],
            "items": {"type": ["array"], "items": {"type": ["number", "null"]}},
        }
    }


def test_arrays_of_mixed_scalars() -> None:
    records = [{"a": [1, "x"]}, {"a": [None, True]}, {"a": ["2024-01-01"]}]
    assert props(records) == {
        "a": {"type": ["array"], "items": {"type": ["boolean", "integer", "string", "null"]}}
    }


def test_array_items_keep_a_common_format() -> None:
    records = [{"a": ["2024-01-01"]}, {"a": ["2024-01-02", "2024-01-03"]}]
    assert props(records) == {
        "a": {"type": ["array"], "items": {"type": ["string"], "format": "date"}}
    }


def test_only_empty_arrays_have_any_items() -> None:
    assert props([{"a": []}, {"a": []}]) == {"a": {"type": ["array"], "items": {}}}
    assert props([{"a": [[]]}]) == {
        "a": {"type": ["array"], "items": {"type": ["array"], "items": {}}}
    }


def test_empty_arrays_then_non_empty() -> None:
    records = [{"a": []}, {"a": []}, {"a": [1, 2]}, {"a": None}]
    assert props(records) == {"a": {"type": ["array", "null"], "items": {"type": ["integer"]}}}
    assert props(records[::-1]) == {
        "a": {"type": ["array", "null"], "items": {"type": ["integer"]}}
    }


def test_array_of_only_nulls_guesses_string_items() -> None:
    assert props([{"a": [None]}]) == {
        "a": {"type": ["array"], "items": {"type": ["string", "null"]}}
    }


def test_mixed_kinds_with_objects() -> None:
    records = [{"v": {"x": 1}}, {"v": "flat"}, {"v": None}, {"v": {"y": "2024-01-01"}}]
    assert props(records) == {
        "v": {
            "type": ["string", "object", "null"],
            "properties": {
                "x": {"type": ["integer", "null"]},
                "y": {"type": ["string", "null"], "format": "date"},
            },
            "additionalProperties": True,
        }
    }


def test_mixed_kinds_with_objects_and_arrays() -> None:
    records = [{"v": [1]}, {"v": {"k": True}}, {"v": 2}]
    assert props(records) == {
        "v": {
            "type": ["integer", "object", "array"],
            "properties": {"k": {"type": ["boolean"]}},
            "additionalProperties": True,
            "items": {"type": ["integer"]},
        }
    }


def test_array_of_objects_and_scalars() -> None:
    records = [{"a": [{"k": 1}, "s"]}, {"a": [{"k": None, "j": 2}]}]
    assert props(records) == {
        "a": {
            "type": ["array"],
            "items": {
                "type": ["string", "object"],
                "properties": {
                    "k": {"type": ["integer", "null"]},
                    "j": {"type": ["integer", "null"]},
                },
                "additionalProperties": True,
            },
        }
    }


# --- schema_of_value ---------------------------------------------------------------------


def test_schema_of_value() -> None:
    assert schema_of_value(None) == {"type": ["string", "null"]}
    assert schema_of_value(7) == {"type": ["integer"]}
    assert schema_of_value([]) == {"type": ["array"], "items": {}}
    assert schema_of_value({"a": [1, None]}) == obj(
        {"a": {"type": ["array"], "items": {"type": ["integer", "null"]}}}
    )
    assert schema_of_value(object()) == {}


def test_results_are_fresh() -> None:
    first = schema_of_value(1)
    first["type"].append("null")
    assert schema_of_value(1) == {"type": ["integer"]}
    schema = infer_schema([{"a": 1}])
    schema["properties"]["a"]["type"].append("null")
    assert infer_schema([{"a": 1}])["properties"]["a"] == {"type": ["integer"]}


# --- merge_schemas -----------------------------------------------------------------------

SAMPLES: list[dict[str, Any]] = [
    {"type": ["integer"]},
    {"type": "number"},
    {"type": ["string", "null"]},
    {"type": ["string"], "format": "date"},
    {"type": "string", "format": "date-time"},
    {"type": ["boolean", "null"]},
    obj({"x": {"type": ["integer"]}}),
    obj({"x": {"type": ["number"]}, "y": {"type": ["string"], "format": "date"}}, "null"),
    {"type": ["array"], "items": {"type": ["integer"]}},
    {"type": ["array", "null"], "items": obj({"z": {"type": ["boolean"]}})},
]


def types_and_formats(schema: Any) -> Any:
    """The schema with list types as sets, for comparing merges done in other orders."""
    if isinstance(schema, dict):
        out = {key: types_and_formats(value) for key, value in schema.items()}
        if isinstance(schema.get("type"), list):
            out["type"] = frozenset(schema["type"])
        return out
    return schema


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(SAMPLES, 2)))
def test_merge_is_commutative(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert types_and_formats(merge_schemas(a, b)) == types_and_formats(merge_schemas(b, a))


def test_merge_is_associative() -> None:
    for a, b, c in itertools.permutations(SAMPLES, 3):
        left = merge_schemas(merge_schemas(a, b), c)
        right = merge_schemas(a, merge_schemas(b, c))
        assert types_and_formats(left) == types_and_formats(right), (a, b, c)


def test_merge_order_does_not_matter_for_records() -> None:
    records: list[dict[str, Any]] = [
        {"a": 1, "b": "2024-01-01", "c": {"x": [1]}},
        {"a": 2.5, "c": None},
        {"b": "2024-02-01", "c": {"y": "s"}, "d": []},
    ]
    expected = types_and_formats(infer_schema(records))
    for order in itertools.permutations(records):
        assert types_and_formats(infer_schema(list(order))) == expected


@pytest.mark.parametrize("schema", [*SAMPLES, {}, infer_schema([{"a": 1, "b": [{"c": None}]}])])
def test_merge_is_idempotent(schema: dict[str, Any]) -> None:
    assert merge_schemas(schema, schema) == schema
    assert merge_schemas(schema, copy.deepcopy(schema)) == schema


@pytest.mark.parametrize("schema", SAMPLES)
def test_empty_schema_absorbs(schema: dict[str, Any]) -> None:
    assert merge_schemas(schema, {}) == {}
    assert merge_schemas({}, schema) == {}


def test_merge_widens() -> None:
    assert merge_schemas({"type": "integer"}, {"type": "number"}) == {"type": "number"}
    assert merge_schemas({"type": ["integer"]}, {"type": "number"}) == {"type": ["number"]}
    assert merge_schemas({"type": "integer"}, {"type": ["string", "null"]}) == {
        "type": ["integer", "string", "null"]
    }
    assert merge_schemas({"type": "integer"}, {"type": "integer"}) == {"type": "integer"}
    assert merge_schemas({"type": "string"}, {"type": ["string"]}) == {"type": ["string"]}


def test_merge_formats() -> None:
    date_ = {"type": ["string"], "format": "date"}
    date_time = {"type": ["string"], "format": "date-time"}
    plain = {"type": ["string"]}
    assert merge_schemas(date_, date_) == date_
    assert merge_schemas(date_, date_time) == plain
    assert merge_schemas(date_time, plain) == plain
    assert merge_schemas(date_, {"type": ["null"]}) == {
        "type": ["string", "null"],
        "format": "date",
    }


def test_merge_objects_marks_one_sided_properties_nullable() -> None:
    a = obj({"x": {"type": ["integer"]}, "s": {"type": ["string"]}})
    b = obj({"x": {"type": ["integer"]}, "t": {"type": ["boolean"]}})
    assert merge_schemas(a, b) == obj(
        {
            "x": {"type": ["integer"]},
            "s": {"type": ["string", "null"]},
            "t": {"type": ["boolean", "null"]},
        }
    )


def test_merge_object_with_other_kind_keeps_properties() -> None:
    a = obj({"x": {"type": ["integer"]}})
    assert merge_schemas(a, {"type": ["string"]}) == {
        "type": ["string", "object"],
        "properties": {"x": {"type": ["integer"]}},
        **AP,
    }


def test_merge_keeps_agreeing_extra_keywords_only() -> None:
    a = {"type": ["string"], "description": "name", "maxLength": 5}
    b = {"type": ["string", "null"], "description": "name", "maxLength": 9}
    assert merge_schemas(a, b) == {"type": ["string", "null"], "description": "name"}


def test_merge_additional_properties() -> None:
    closed = {"type": "object", "properties": {}, "additionalProperties": False}
    assert merge_schemas(closed, closed) == closed
    opened = merge_schemas(closed, {"type": "object", "properties": {}})
    assert opened["additionalProperties"] is True


def test_merge_does_not_mutate_or_share() -> None:
    a = infer_schema([{"a": 1, "o": {"k": [1]}}])
    b = infer_schema([{"a": "x", "o": {"j": None}}])
    before = copy.deepcopy((a, b))
    merged = merge_schemas(a, b)
    assert (a, b) == before
    merged["properties"]["o"]["properties"]["k"]["items"]["type"].append("null")
    assert (a, b) == before


def test_drift_widening_from_inferred_schemas() -> None:
    old = infer_schema([{"id": 1, "when": "2024-01-01T00:00:00Z", "x": None}])
    new = infer_schema([{"id": 2.5, "when": "2024-01-01", "x": 3, "extra": True}])
    assert merge_schemas(old, new) == {
        "type": "object",
        "properties": {
            "id": {"type": ["number"]},
            "when": {"type": ["string"]},
            "x": {"type": ["integer", "string", "null"]},
            "extra": {"type": ["boolean", "null"]},
        },
        **AP,
    }


# --- determinism and performance ---------------------------------------------------------


def sample(rows: int, fields: int) -> list[dict[str, Any]]:
    kinds: list[Any] = [
        lambda i: i,
        lambda i: f"name {i}",
        lambda i: i / 3,
        lambda i: "2024-01-01T10:00:00Z",
        lambda i: None if i % 7 == 0 else True,
        lambda i: {"n": i, "tags": ["a", "b"]},
        lambda i: [{"k": i}, {"k": str(i)}],
        lambda i: "2024-05-06",
    ]
    return [
        {f"field_{j}": kinds[j % len(kinds)](i) for j in range(fields) if (i + j) % 11}
        for i in range(rows)
    ]


def test_determinism() -> None:
    records = sample(200, 30)
    first = infer_schema(records)
    second = infer_schema(copy.deepcopy(records))
    assert first == second
    assert json.dumps(first) == json.dumps(second)


def test_thousand_by_fifty_is_fast() -> None:
    records = sample(1000, 50)
    start = time.perf_counter()
    schema = infer_schema(records)
    assert time.perf_counter() - start < 2.0
    assert len(schema["properties"]) == 50
    assert schema["properties"]["field_0"] == {"type": ["integer", "null"]}
    assert schema["properties"]["field_3"] == {
        "type": ["string", "null"],
        "format": "date-time",
    }
