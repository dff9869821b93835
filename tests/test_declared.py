"""Declared schemas: inline, seed-style, files, dlt columns, exact error lines, finishing keys."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tap_restgeneric.config.declared import declared_schema, finish_schema
from tap_restgeneric.errors import ConfigErrors

R2 = "config['resources'][2]"
PATH = ("resources", 2)
SEED_TYPE_NAMES = (
    "one of 'string', 'integer', 'number', 'boolean', 'object', 'array', 'date-time', "
    "'datetime', 'timestamp', 'date', 'time'"
)
DATA_TYPE_NAMES = (
    "one of 'text', 'bigint', 'double', 'decimal', 'bool', 'timestamp', 'date', 'time', "
    "'json', 'binary', 'wei', 'complex'"
)
COLUMNS_SHAPE = "an object of column hints by name, or a list of column hints with 'name'"

INLINE = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}},
    "required": ["id"],
    "additionalProperties": False,
}
SEED = {
    "fields": [
        {"name": "customer_id", "type": "string", "nullable": False, "description": "Customer"},
        {"name": "n", "type": "integer"},
        {"name": "x", "type": "number", "nullable": True},
        {"name": "ok", "type": "boolean"},
        {"name": "meta", "type": "object"},
        {"name": "tags", "type": "array"},
        {"name": "created", "type": "date-time", "nullable": False},
        {"name": "updated", "type": "datetime"},
        {"name": "seen", "type": "timestamp"},
        {"name": "day", "type": "date"},
        {"name": "at", "type": "time"},
        {"name": "email", "type": "string", "format": "email"},
    ]
}
SEED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "customer_id": {"type": "string", "description": "Customer"},
        "n": {"type": ["integer", "null"]},
        "x": {"type": ["number", "null"]},
        "ok": {"type": ["boolean", "null"]},
        "meta": {"type": ["object", "null"]},
        "tags": {"type": ["array", "null"]},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": ["string", "null"], "format": "date-time"},
        "seen": {"type": ["string", "null"], "format": "date-time"},
        "day": {"type": ["string", "null"], "format": "date"},
        "at": {"type": ["string", "null"], "format": "time"},
        "email": {"type": ["string", "null"], "format": "email"},
    },
    "required": ["customer_id", "created"],
    "additionalProperties": True,
}
ALL_COLUMNS: dict[str, dict[str, Any]] = {
    "a": {"data_type": "text"},
    "b": {"data_type": "bigint", "nullable": False, "primary_key": True},
    "c": {"data_type": "double"},
    "d": {"data_type": "decimal", "precision": 10, "scale": 2},
    "e": {"data_type": "bool", "merge_key": True, "unique": True},
    "f": {"data_type": "timestamp", "timezone": True, "precision": 6},
    "g": {"data_type": "date"},
    "h": {"data_type": "time"},
    "i": {"data_type": "json"},
    "j": {"data_type": "binary", "description": "raw bytes"},
    "k": {"data_type": "wei"},
    "l": {"data_type": "complex"},
    "m": {"nullable": True, "x-custom-hint": 1},
}
ALL_PROPERTIES = {
    "a": {"type": ["string", "null"]},
    "b": {"type": "integer"},
    "c": {"type": ["number", "null"]},
    "d": {"type": ["number", "null"]},
    "e": {"type": ["boolean", "null"]},
    "f": {"type": ["string", "null"], "format": "date-time"},
    "g": {"type": ["string", "null"], "format": "date"},
    "h": {"type": ["string", "null"], "format": "time"},
    "i": {},
    "j": {"type": ["string", "null"], "contentEncoding": "base64", "description": "raw bytes"},
    "k": {"type": ["number", "null"]},
    "l": {},
    "m": {},
}


def declare(
    schema: Any, columns: Any = None, base_dir: Path | None = None
) -> tuple[tuple[dict[str, Any] | None, bool], list[str]]:
    """Run declared_schema for resource 2; return its result and the error lines."""
    errors = ConfigErrors()
    result = declared_schema(schema, columns, base_dir or Path("/nonexistent"), PATH, errors)
    return result, errors.lines


def ok(schema: Any, columns: Any = None, base_dir: Path | None = None) -> tuple[Any, bool]:
    """Declare without errors."""
    result, lines = declare(schema, columns, base_dir)
    assert lines == []
    return result


def failed(schema: Any, columns: Any = None, base_dir: Path | None = None) -> list[str]:
    """Declare with errors: no schema comes back; return the error lines."""
    result, lines = declare(schema, columns, base_dir)
    assert result == (None, False)
    return lines


# --- whole schemas ---------------------------------------------------------------------------


def test_nothing_declared() -> None:
    assert ok(None) == (None, False)
    assert ok(None, {}) == (None, False)
    assert ok(None, []) == (None, False)


def test_inline_schema_used_as_given_and_copied() -> None:
    given = copy.deepcopy(INLINE)
    schema, complete = ok(given)
    assert (schema, complete) == (INLINE, True)
    assert schema is not given
    schema["properties"]["id"]["type"] = "string"
    assert given == INLINE


def test_inline_schema_with_only_properties_or_nullable_object() -> None:
    assert ok({"properties": {"a": {}}}) == ({"properties": {"a": {}}}, True)
    nullable = {"type": ["object", "null"], "properties": {}}
    assert ok(nullable) == (nullable, True)


def test_seed_style_every_type() -> None:
    assert ok(SEED) == (SEED_SCHEMA, True)


def test_seed_style_additional_properties_false() -> None:
    seed = {"fields": [{"name": "id", "type": "integer"}], "additional_properties": False}
    assert ok(seed) == (
        {
            "type": "object",
            "properties": {"id": {"type": ["integer", "null"]}},
            "additionalProperties": False,
        },
        True,
    )


def test_json_file_relative_and_absolute(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    file = tmp_path / "schemas" / "orders.json"
    file.write_text(json.dumps(INLINE), encoding="utf-8")
    assert ok("schemas/orders.json", base_dir=tmp_path) == (INLINE, True)
    assert ok(str(file), base_dir=tmp_path / "elsewhere") == (INLINE, True)


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".YAML"])
def test_yaml_file_seed_style(tmp_path: Path, suffix: str) -> None:
    text = (
        "fields:\n"
        "  - name: customer_id\n"
        "    type: string\n"
        "    nullable: false\n"
        "  - {name: total, type: number}\n"
        "additional_properties: false\n"
    )
    (tmp_path / f"customers{suffix}").write_text(text, encoding="utf-8")
    expected = {
        "type": "object",
        "properties": {"customer_id": {"type": "string"}, "total": {"type": ["number", "null"]}},
        "required": ["customer_id"],
        "additionalProperties": False,
    }
    assert ok(f"customers{suffix}", base_dir=tmp_path) == (expected, True)
    assert ok(str(tmp_path / f"customers{suffix}")) == (expected, True)


def test_yaml_file_inline_json_schema(tmp_path: Path) -> None:
    (tmp_path / "s.yml").write_text("type: object\nproperties:\n  id: {type: integer}\n")
    assert ok("s.yml", base_dir=tmp_path) == (
        {"type": "object", "properties": {"id": {"type": "integer"}}},
        True,
    )


# --- columns ---------------------------------------------------------------------------------


def test_only_columns_dict_form_every_data_type_is_partial() -> None:
    assert ok(None, ALL_COLUMNS) == (
        {
            "type": "object",
            "properties": ALL_PROPERTIES,
            "additionalProperties": True,
            "required": ["b"],
        },
        False,
    )


def test_only_columns_list_form_every_data_type_is_partial() -> None:
    listed = [{"name": name, **hints} for name, hints in ALL_COLUMNS.items()]
    assert ok(None, listed) == (
        {
            "type": "object",
            "properties": ALL_PROPERTIES,
            "additionalProperties": True,
            "required": ["b"],
        },
        False,
    )


def test_columns_override_schema_properties() -> None:
    columns = {
        "name": {"data_type": "text", "nullable": False},
        "amount": {"data_type": "decimal"},
        "id": {"primary_key": True},  # no data_type: the schema's property stays
    }
    schema, complete = ok(INLINE, columns)
    assert complete is True
    assert schema == {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "amount": {"type": ["number", "null"]},
        },
        "required": ["id", "name"],
        "additionalProperties": False,
    }


def test_columns_without_data_type_and_not_nullable_drop_null_from_schema_type() -> None:
    schema, _ = ok(SEED, [{"name": "n", "nullable": False}])
    assert schema is not None
    assert schema["properties"]["n"] == {"type": "integer"}
    assert schema["required"] == ["customer_id", "created", "n"]


def test_columns_override_seed_style_schema() -> None:
    schema, complete = ok(SEED, {"n": {"data_type": "text"}, "extra": {"data_type": "json"}})
    assert complete is True
    assert schema == {
        **SEED_SCHEMA,
        "properties": {**SEED_SCHEMA["properties"], "n": {"type": ["string", "null"]}, "extra": {}},
    }


def test_empty_columns_leave_schema_unchanged() -> None:
    assert ok(INLINE, {}) == (INLINE, True)


# --- errors ----------------------------------------------------------------------------------


def test_unknown_seed_type_with_did_you_mean() -> None:
    seed = {"fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "strng"}]}
    assert failed(seed) == [
        "unknown field type 'strng' (did you mean 'string'?); expected "
        f"{SEED_TYPE_NAMES} at {R2}['schema']['fields'][1]['type']"
    ]


def test_seed_field_without_name() -> None:
    assert failed({"fields": [{"type": "string"}]}) == [
        f"missing required key 'name'; expected 'name': a non-empty string "
        f"at {R2}['schema']['fields'][0]"
    ]


def test_seed_duplicate_field() -> None:
    seed = {"fields": [{"name": "a", "type": "string"}, {"name": "a", "type": "integer"}]}
    assert failed(seed) == [
        "duplicate field name 'a' (first at index 0); expected a name no other field has "
        f"at {R2}['schema']['fields'][1]['name']"
    ]


def test_seed_other_problems() -> None:
    seed = {"fields": [{"name": "a", "type": "string", "nulable": False}, 3], "extra": 1}
    assert failed(seed) == [
        f"unknown key 'extra'; expected one of 'additional_properties', 'fields' "
        f"at {R2}['schema']['extra']",
        "unknown key 'nulable' (did you mean 'nullable'?); expected one of 'description', "
        f"'format', 'name', 'nullable', 'type' at {R2}['schema']['fields'][0]['nulable']",
        f"wrong type: got integer 3; expected an object at {R2}['schema']['fields'][1]",
    ]
    assert failed({"fields": "id"}) == [
        f"wrong type: got string 'id'; expected a list at {R2}['schema']['fields']"
    ]


def test_non_object_inline_schema() -> None:
    assert failed({"type": "array", "items": {}}) == [
        f"not an object schema: type 'array'; expected 'type': 'object' at {R2}['schema']"
    ]
    assert failed({"type": "object", "properties": []}) == [
        f"wrong type: got list []; expected an object at {R2}['schema']['properties']"
    ]


def test_schema_of_the_wrong_shape() -> None:
    assert failed({"title": "x"}) == [
        "neither 'type', 'properties' nor 'fields' is given; expected a JSON Schema object "
        f"or {{'fields': [...]}} at {R2}['schema']"
    ]
    assert failed(3) == [
        "wrong type: got integer 3; expected a JSON Schema object or {'fields': [...]}, "
        f"or a file path at {R2}['schema']"
    ]


def test_missing_file(tmp_path: Path) -> None:
    assert failed("nope.json", base_dir=tmp_path) == [
        f"cannot read schema file 'nope.json' (resolved to '{tmp_path}/nope.json'): "
        f"No such file or directory; expected a readable text file at {R2}['schema']"
    ]
    absolute = str(tmp_path / "nope.yaml")
    assert failed(absolute) == [
        f"cannot read schema file '{absolute}': No such file or directory; "
        f"expected a readable text file at {R2}['schema']"
    ]


def test_invalid_json_file_names_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"type": "object",\n "properties": {,}}\n')
    assert failed("bad.json", base_dir=tmp_path) == [
        f"invalid JSON in schema file 'bad.json' (resolved to '{tmp_path}/bad.json'): "
        "Expecting property name enclosed in double quotes (line 2, column 17); "
        f"expected valid JSON at {R2}['schema']"
    ]


def test_invalid_yaml_file_names_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("fields:\n  - name: a\n   type: string\n")
    assert failed("bad.yaml", base_dir=tmp_path) == [
        f"invalid YAML in schema file 'bad.yaml' (resolved to '{tmp_path}/bad.yaml'): "
        "expected <block end>, but found '<block mapping start>' (line 3, column 4); "
        f"expected valid YAML at {R2}['schema']"
    ]


def test_file_content_problems_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text("[1, 2]")
    assert failed("list.json", base_dir=tmp_path) == [
        "wrong content: got list [1, 2] in schema file 'list.json'; expected a JSON Schema "
        f"object or {{'fields': [...]}} at {R2}['schema']"
    ]
    (tmp_path / "seed.yml").write_text("fields:\n  - {name: a, type: integr}\n")
    assert failed("seed.yml", base_dir=tmp_path) == [
        "unknown field type 'integr' (did you mean 'integer'?) in schema file 'seed.yml'; "
        f"expected {SEED_TYPE_NAMES} at {R2}['schema']['fields'][0]['type']"
    ]


def test_unknown_data_type_with_did_you_mean() -> None:
    assert failed(None, {"a": {"data_type": "txt"}}) == [
        f"unknown data_type 'txt' (did you mean 'text'?); expected {DATA_TYPE_NAMES} "
        f"at {R2}['columns']['a']['data_type']"
    ]
    assert failed(INLINE, [{"name": "a", "data_type": "timestmp"}]) == [
        f"unknown data_type 'timestmp' (did you mean 'timestamp'?); expected {DATA_TYPE_NAMES} "
        f"at {R2}['columns'][0]['data_type']"
    ]


def test_columns_of_the_wrong_type() -> None:
    assert failed(None, "id") == [
        f"wrong type: got string 'id'; expected {COLUMNS_SHAPE} at {R2}['columns']"
    ]
    assert failed(INLINE, {"a": "text", "b": {"data_type": 5, "nullable": "no"}}) == [
        f"wrong type: got string 'text'; expected an object at {R2}['columns']['a']",
        f"wrong type: got string 'no'; expected true or false at {R2}['columns']['b']['nullable']",
        f"wrong type: got integer 5; expected a string at {R2}['columns']['b']['data_type']",
    ]


def test_column_list_items_need_unique_names() -> None:
    columns = [{"data_type": "text"}, {"name": "a"}, {"name": "a"}, {"name": ""}]
    assert failed(None, columns) == [
        f"missing required key 'name'; expected 'name': a non-empty string at {R2}['columns'][0]",
        f"duplicate column 'a'; expected a unique column name at {R2}['columns'][2]['name']",
        f"wrong type: got string ''; expected a non-empty string at {R2}['columns'][3]['name']",
    ]


def test_schema_and_column_errors_are_all_reported() -> None:
    assert failed({"type": "string"}, {"a": {"data_type": "int"}}) == [
        f"not an object schema: type 'string'; expected 'type': 'object' at {R2}['schema']",
        f"unknown data_type 'int' (did you mean 'bigint'?); expected {DATA_TYPE_NAMES} "
        f"at {R2}['columns']['a']['data_type']",
    ]


# --- finish_schema ---------------------------------------------------------------------------


def test_finish_makes_keys_required_and_non_null() -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": ["integer", "null"]},
            "region": {"type": ["string", "integer", "null"]},
            "code": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["id"],
    }
    before = copy.deepcopy(schema)
    assert finish_schema(schema, ["id", "region", "code"], None, None) == {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "region": {"type": ["string", "integer"]},
            "code": {"anyOf": [{"type": "string"}]},
        },
        "required": ["id", "region", "code"],
    }
    assert schema == before


def test_finish_adds_absent_key_fields() -> None:
    assert finish_schema({"type": "object"}, ["a", "b"], None, None) == {
        "type": "object",
        "properties": {"a": {"type": ["string", "integer"]}, "b": {"type": ["string", "integer"]}},
        "required": ["a", "b"],
    }


def test_finish_without_keys_leaves_schema_alone() -> None:
    assert finish_schema(INLINE, [], None, None) == INLINE


def test_finish_gives_an_rfc1123_replication_key_no_date_time_format() -> None:
    schema = {"properties": {"a": {"type": "string"}}}
    assert finish_schema(schema, [], "a", "rfc1123")["properties"]["a"] == {"type": "string"}


@pytest.mark.parametrize(
    ("replication_format", "fmt"),
    [(None, "date-time"), ("iso8601", "date-time"), ("%Y/%m/%d", "date-time"), ("date", "date")],
)
def test_finish_types_the_replication_key(replication_format: str | None, fmt: str) -> None:
    schema = {"properties": {"a": {"type": "string"}, "b": {"type": ["string", "null"]}}}
    assert finish_schema(schema, [], "a", replication_format)["properties"]["a"] == {
        "type": "string",
        "format": fmt,
    }
    assert finish_schema(schema, [], "b", replication_format)["properties"]["b"] == {
        "type": ["string", "null"],
        "format": fmt,
    }
    assert finish_schema(schema, [], "c", replication_format)["properties"]["c"] == {
        "type": ["string", "null"],
        "format": fmt,
    }


def test_finish_leaves_other_replication_key_types_alone() -> None:
    properties = {
        "epoch": {"type": "integer"},
        "secs": {"type": ["number", "null"]},
        "dated": {"type": "string", "format": "date"},
        "mixed": {"type": ["string", "integer"]},
        "any": {},
    }
    for key, prop in properties.items():
        finished = finish_schema({"properties": properties}, [], key, "date")
        assert finished["properties"][key] == prop


@pytest.mark.parametrize("replication_format", ["epoch", "epoch_ms"])
def test_finish_epoch_replication_key(replication_format: str) -> None:
    schema = {"properties": {"ts": {"type": "string"}}}
    assert finish_schema(schema, [], "ts", replication_format) == schema
    assert finish_schema({}, [], "t", replication_format) == {
        "properties": {"t": {"type": ["number", "null"]}}
    }


def test_finish_replication_key_that_is_also_the_primary_key() -> None:
    assert finish_schema({"type": "object"}, ["updated"], "updated", None) == {
        "type": "object",
        "properties": {"updated": {"type": "string", "format": "date-time"}},
        "required": ["updated"],
    }
