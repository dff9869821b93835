"""Declared stream schemas: inline JSON Schema, seed-style fields, schema files, dlt columns."""

from __future__ import annotations

import copy
import json
import pathlib
from collections.abc import Sequence
from typing import Any

import yaml

from tap_restgeneric.config.fields import REQUIRED, Field, check_options, check_value, describe
from tap_restgeneric.config.raw import AnySchemaColumns, SchemaConfig
from tap_restgeneric.errors import ConfigErrors, Path

_PLAIN = ("string", "integer", "number", "boolean", "object", "array")
SEED_TYPES: dict[str, tuple[str, str | None]] = {
    **{name: (name, None) for name in _PLAIN},
    **dict.fromkeys(("date-time", "datetime", "timestamp"), ("string", "date-time")),
    **{name: ("string", name) for name in ("date", "time")},
}
"""Seed-style field type → (JSON type, format)."""

DATA_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "bigint": {"type": "integer"},
    "double": {"type": "number"},
    "decimal": {"type": "number"},  # precision and scale are ignored
    "bool": {"type": "boolean"},
    "timestamp": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "format": "time"},
    "json": {},
    "binary": {"type": "string", "contentEncoding": "base64"},
    "wei": {"type": "number"},
    "complex": {},
}
"""dlt column data_type → JSON Schema; json (and legacy complex) allow any JSON value."""

SEED_KEYS = {
    "fields": Field("list", REQUIRED, nullable=False),
    "additional_properties": Field("boolean", True, nullable=False),
}
SEED_FIELD_KEYS = {
    "name": (NAME := Field("name", REQUIRED, nullable=False)),
    "type": Field("string", REQUIRED, nullable=False),
    "nullable": Field("boolean", True, nullable=False),
    "format": Field("string"),
    "description": Field("string"),
}
SCHEMA_SHAPE = "a JSON Schema object or {'fields': [...]}"
ABSENT_KEY_SCHEMA: dict[str, Any] = {"type": ["string", "integer"]}
"""Schema given to a primary key field the declared schema does not list."""


class _InFile(ConfigErrors):
    """Adds a schema file's name to every problem found in its content."""

    def __init__(self, inner: ConfigErrors, suffix: str) -> None:
        super().__init__()
        self.inner, self.suffix = inner, suffix

    def add(self, path: Path, problem: str, expected: str | None = None) -> None:
        """Record the problem in the wrapped collector, naming the file."""
        self.inner.add(path, problem + self.suffix, expected)


def _non_null(prop: dict[str, Any]) -> dict[str, Any]:
    """Drop null from a property's type list (or anyOf)."""
    kinds = prop.get("type")
    if isinstance(kinds, list) and "null" in kinds and len(kinds) > 1:
        kept = [t for t in kinds if t != "null"]
        prop["type"] = kept[0] if len(kept) == 1 else kept
    alternatives = prop.get("anyOf")
    if isinstance(alternatives, list) and {"type": "null"} in alternatives:
        prop["anyOf"] = [s for s in alternatives if s != {"type": "null"}] or alternatives
    return prop


def _seed(raw: dict[str, Any], path: Path, errors: ConfigErrors) -> dict[str, Any] | None:
    """Turn a seed-style ``{"fields": [...]}`` declaration into a JSON Schema."""
    opts = check_options(raw, SEED_KEYS, path, errors)
    if opts["fields"] is None:
        return None
    props: dict[str, Any] = {}
    required: list[str] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(opts["fields"]):
        where = (*path, "fields", index)
        if not check_value(item, Field("object", nullable=False), where, errors):
            continue
        field = check_options(item, SEED_FIELD_KEYS, where, errors)
        name, kind = field["name"], field["type"]
        if kind is not None and kind not in SEED_TYPES:
            errors.unknown_name((*where, "type"), "field type", kind, list(SEED_TYPES))
        if name in seen:
            problem = f"duplicate field name {name!r} (first at index {seen[name]})"
            errors.add((*where, "name"), problem, "a name no other field has")
        elif name is not None:
            seen[name] = index
        if name is None or kind not in SEED_TYPES or seen[name] != index:
            continue
        json_type, fmt = SEED_TYPES[kind]
        prop: dict[str, Any] = {"type": json_type}
        if field["format"] is not None or fmt is not None:
            prop["format"] = field["format"] or fmt
        if field["description"] is not None:
            prop["description"] = field["description"]
        if field["nullable"]:
            prop["type"] = [json_type, "null"]
        else:
            required.append(name)
        props[name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = opts["additional_properties"]
    return schema


def _load(name: str, base_dir: pathlib.Path, path: Path, errors: ConfigErrors) -> Any:
    """Read a JSON or YAML schema file; record one error line and return None on failure."""
    file = pathlib.Path(name).expanduser()
    file = file if file.is_absolute() else base_dir / file
    shown = repr(name) if str(file) == name else f"{name!r} (resolved to {str(file)!r})"
    yaml_file = file.suffix.lower() in (".yml", ".yaml")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or (
            "not UTF-8" if isinstance(exc, ValueError) else str(exc)
        )
        errors.add(path, f"cannot read schema file {shown}: {reason}", "a readable text file")
        return None
    try:
        return yaml.safe_load(text) if yaml_file else json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        errors.add(path, f"invalid JSON in schema file {shown}: {exc.msg} ({where})", "valid JSON")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        errors.add(path, f"invalid YAML in schema file {shown}: {problem}{where}", "valid YAML")
    return None


def _schema(
    schema: Any, base_dir: pathlib.Path, path: Path, errors: ConfigErrors
) -> dict[str, Any] | None:
    """Resolve the ``schema`` value (dict or file path) into a JSON Schema."""
    if isinstance(schema, str) and schema.strip():
        before = len(errors.lines)
        loaded = _load(schema, base_dir, path, errors)
        if len(errors.lines) > before:  # the file itself failed: one line is enough
            return None
        errors = _InFile(errors, f" in schema file {schema!r}")
        if not isinstance(loaded, dict):
            errors.add(path, f"wrong content: got {describe(loaded)}", SCHEMA_SHAPE)
            return None
        schema = loaded
    if not isinstance(schema, dict):
        errors.add(path, f"wrong type: got {describe(schema)}", f"{SCHEMA_SHAPE}, or a file path")
        return None
    if "type" in schema or "properties" in schema:  # inline JSON Schema: used as given
        kind = schema.get("type", "object")
        if "object" not in (kind if isinstance(kind, list) else [kind]):
            errors.add(path, f"not an object schema: type {kind!r}", "'type': 'object'")
        props = schema.get("properties", {})
        if not isinstance(props, dict):
            errors.add((*path, "properties"), f"wrong type: got {describe(props)}", "an object")
        return copy.deepcopy(schema)
    if "fields" in schema:
        return _seed(schema, path, errors)
    errors.add(path, "neither 'type', 'properties' nor 'fields' is given", SCHEMA_SHAPE)
    return None


def _columns(
    columns: Any, path: Path, errors: ConfigErrors, known: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Map dlt ``columns`` hints (dict or list form) to (properties, non-nullable names)."""
    if isinstance(columns, dict):
        items = [(name, hints, (*path, name)) for name, hints in columns.items()]
    elif isinstance(columns, list):
        items = [(None, hints, (*path, i)) for i, hints in enumerate(columns)]
    else:
        expected = "an object of column hints by name, or a list of column hints with 'name'"
        errors.add(path, f"wrong type: got {describe(columns)}", expected)
        return {}, []
    props: dict[str, Any] = {}
    required: list[str] = []
    for key, hints, where in items:
        if not check_value(hints, Field("object", nullable=False), where, errors):
            continue
        name = (
            check_options(hints, {"name": NAME}, where, errors, frozenset(hints))["name"]
            if isinstance(columns, list)
            else key
        )
        if name is None:
            continue
        if name in props:
            errors.add((*where, "name"), f"duplicate column {name!r}", "a unique column name")
        data_type, nullable = hints.get("data_type"), hints.get("nullable", True)
        check_value(nullable, Field("boolean", nullable=False), (*where, "nullable"), errors)
        if not check_value(data_type, Field("string"), (*where, "data_type"), errors):
            continue
        if data_type is not None and data_type not in DATA_TYPES:
            errors.unknown_name((*where, "data_type"), "data_type", data_type, list(DATA_TYPES))
            continue
        base = known.get(name) if data_type is None else None  # no type: keep the schema's
        prop: dict[str, Any] = copy.deepcopy(base) if isinstance(base, dict) else {}
        if data_type is not None:
            prop = copy.deepcopy(DATA_TYPES[data_type])
            if isinstance(prop.get("type"), str) and nullable is not False:
                prop["type"] = [prop["type"], "null"]
        if isinstance(hints.get("description"), str):
            prop["description"] = hints["description"]
        if nullable is False:
            required.append(name)
        props[name] = _non_null(prop) if nullable is False else prop
    return props, required


def declared_schema(
    schema: SchemaConfig | None,
    columns: AnySchemaColumns | None,
    base_dir: pathlib.Path,
    path: Path,
    errors: ConfigErrors,
) -> tuple[dict[str, Any] | None, bool]:
    """(schema or partial schema, complete): complete=True when a whole schema was declared."""
    before = len(errors.lines)
    result = None if schema is None else _schema(schema, base_dir, (*path, "schema"), errors)
    complete = result is not None
    known = result.get("properties") if result is not None else None
    known = known if isinstance(known, dict) else {}
    props, required = (
        ({}, []) if columns is None else _columns(columns, (*path, "columns"), errors, known)
    )
    if len(errors.lines) > before:
        return None, False
    if props or (complete and columns is not None):
        if result is None:
            result = {"type": "object", "properties": {}, "additionalProperties": True}
        result["properties"] = {**known, **props}
        wanted = [*result.get("required", []), *required]
        if wanted:
            result["required"] = list(dict.fromkeys(wanted))
    return result, complete


def finish_schema(
    schema: dict[str, Any],
    primary_key: Sequence[str],
    replication_key: str | None,
    replication_format: str | None,
) -> dict[str, Any]:
    """Make key fields required and non-null, and type the replication key."""
    result = copy.deepcopy(schema)
    props: dict[str, Any] = result.setdefault("properties", {})
    if replication_key is not None:
        epoch = replication_format in ("epoch", "epoch_ms")
        fmt = "date" if replication_format == "date" else "date-time"
        absent = {"type": ["number", "null"]} if epoch else {"type": ["string", "null"]}
        prop = props.setdefault(replication_key, absent)
        kind = prop.get("type") if isinstance(prop, dict) else None
        kinds = kind if isinstance(kind, list) else [kind]
        iso = replication_format != "rfc1123"  # JSON Schema's date-time is RFC 3339
        if not epoch and iso and "string" in kinds and all(k in ("string", "null") for k in kinds):
            prop.setdefault("format", fmt)
    for key in primary_key:
        prop = props.setdefault(key, copy.deepcopy(ABSENT_KEY_SCHEMA))
        if isinstance(prop, dict):
            _non_null(prop)
    if primary_key:
        result["required"] = list(dict.fromkeys([*result.get("required", []), *primary_key]))
    return result
