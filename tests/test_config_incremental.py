"""config/incremental.py: incremental config errors as exact lines, and the replication key
and its type in the discovered catalog."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import (
    BASE_URL,
    day,
    make_tap,
    resource,
)
from incremental_helpers import (
    INC,
    root_metadata,
)
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.incremental import INCREMENTAL_FIELDS
from tap_restgeneric.config.resolve import resolve_config
from tap_restgeneric.errors import one_of
from tap_restgeneric.tap import TapRestGeneric


def config_errors(endpoint: dict[str, Any], **settings: Any) -> list[str]:
    """The lines ``resolve_config`` reports for a one-resource config ([] when valid)."""
    cfg = {
        "client": {"base_url": BASE_URL},
        "resources": [{"name": "items", "endpoint": {"path": "items", **endpoint}}],
        **settings,
    }
    try:
        resolve_config(cfg)
    except ConfigValidationError as exc:
        return list(exc.errors)
    return []


def at(*keys: str | int) -> str:
    """A config path under the resource's endpoint, as error lines print it."""
    return "config['resources'][0]['endpoint']" + "".join(f"[{k!r}]" for k in keys)


# --------------------------------------------------------------------------------------------
# config errors


@pytest.mark.parametrize(
    ("endpoint", "settings", "expected"),
    [
        pytest.param(
            {"incremental": {"initial_value": day(1)}},
            {},
            [
                "missing required key 'cursor_path'; expected 'cursor_path': a non-empty string "
                f"at {at('incremental')}"
            ],
            id="missing cursor_path",
        ),
        pytest.param(
            {"incremental": {"cursor_path": "u", "intial_value": day(1)}},
            {},
            [
                "unknown key 'intial_value' (did you mean 'initial_value'?); expected "
                f"{one_of(sorted(INCREMENTAL_FIELDS))} at {at('incremental', 'intial_value')}"
            ],
            id="unknown key",
        ),
        pytest.param(
            {"incremental": {**INC, "window_size": "7 days"}},
            {},
            [
                "invalid duration '7 days'; expected an ISO 8601 duration such as 'P7D' or 'PT6H' "
                f"at {at('incremental', 'window_size')}"
            ],
            id="bad window_size",
        ),
        pytest.param(
            {"incremental": {**INC, "window_size": "P0D"}},
            {},
            [
                "invalid duration 'P0D'; expected an ISO 8601 duration such as 'P7D' or 'PT6H' "
                f"at {at('incremental', 'window_size')}"
            ],
            id="zero window_size",
        ),
        pytest.param(
            {"incremental": {**INC, "window_size": "PT0.5S"}},
            {},
            [
                "window 'PT0.5S' is shorter than a second; expected a duration of at least one "
                f"second such as 'PT1H' or 'P7D' at {at('incremental', 'window_size')}"
            ],
            id="sub-second window_size",
        ),
        pytest.param(
            {"incremental": {"cursor_path": "u", "window_size": "P7D"}},
            {},
            [
                "date windows need a start; expected 'initial_value' here or the 'start_date' "
                f"setting at {at('incremental', 'window_size')}"
            ],
            id="window without a start",
        ),
        pytest.param(
            {"incremental": {**INC, "convert": "iso"}},
            {},
            [
                "unknown convert format 'iso' (did you mean 'iso8601'?); expected one of "
                "'iso8601', 'iso8601_offset', 'date', 'epoch', 'epoch_ms', 'rfc1123', '%Y…' at "
                f"{at('incremental', 'convert')}"
            ],
            id="bad convert",
        ),
        pytest.param(
            {"params": {"since": {"type": "incremental", **INC, "end_value": day(9)}}},
            {},
            [
                "a param-level incremental cannot set 'end_value'; expected endpoint "
                f"'incremental' with 'end_param' at {at('params', 'since', 'end_value')}"
            ],
            id="param form with end_value",
        ),
        pytest.param(
            {"params": {"since": {"type": "incremental", **INC, "end_param": "until"}}},
            {},
            [
                "a param-level incremental cannot set 'end_param'; expected endpoint "
                f"'incremental' with 'end_param' at {at('params', 'since', 'end_param')}"
            ],
            id="param form with end_param",
        ),
        pytest.param(
            {"params": {"since": {"type": "incremental", **INC}}, "incremental": INC},
            {},
            [
                "incremental is given both in 'params' and as 'incremental'; expected only one "
                f"of them at {at('incremental')}"
            ],
            id="param form and endpoint incremental",
        ),
        pytest.param(
            {"params": {"since": "{incremental.start_value}"}},
            {},
            [
                "placeholder {incremental.start_value} in 'params' is not valid; expected no "
                "placeholders: {incremental.*} ones need an 'incremental' on the endpoint "
                f"at {at('params')}"
            ],
            id="placeholder without incremental",
        ),
        pytest.param(
            {"path": "items/since/{incremental.start_value}"},
            {},
            [
                "placeholder {incremental.start_value} in path "
                "'items/since/{incremental.start_value}' is not valid; expected no placeholders: "
                "{incremental.*} ones need an 'incremental' on the endpoint at "
                f"{at('path')}"
            ],
            id="path placeholder without incremental",
        ),
        pytest.param(
            {"params": {"user": "{resources.users.id}"}},
            {},
            [f"unknown parent resource 'users'; expected one of 'items' at {at()}"],
            id="resources placeholder of an unknown parent",
        ),
        pytest.param(
            {"path": "users/{resources.users.id}/items"},
            {},
            [f"unknown parent resource 'users'; expected one of 'items' at {at()}"],
            id="resources placeholder of an unknown parent in path",
        ),
        pytest.param(
            {"incremental": {**INC, "last_value_func": "min"}},
            {},
            [
                "unknown value 'min'; expected one of 'max' at "
                f"{at('incremental', 'last_value_func')}"
            ],
            id="last_value_func min",
        ),
        pytest.param(
            {"incremental": {**INC, "row_order": "ascending"}},
            {},
            [
                "unknown value 'ascending'; expected one of 'asc', 'desc' at "
                f"{at('incremental', 'row_order')}"
            ],
            id="bad row_order",
        ),
        pytest.param(
            {"incremental": {**INC, "lag": "1h"}},
            {},
            [f"wrong type: got string '1h'; expected a number at {at('incremental', 'lag')}"],
            id="lag not a number",
        ),
        pytest.param(
            {"incremental": {"cursor_path": "u", "window_size": "P7D"}},
            {"start_date": "2024-01-01T00:00:00Z"},
            [],
            id="window with start_date is fine",
        ),
    ],
)
def test_config_errors(
    endpoint: dict[str, Any], settings: dict[str, Any], expected: list[str]
) -> None:
    assert config_errors(endpoint, **settings) == expected


def test_two_incremental_params_are_reported() -> None:
    errors = config_errors(
        {"params": {"a": {"type": "incremental", **INC}, "b": {"type": "incremental", **INC}}}
    )
    assert errors[0] == (
        "params ['a', 'b'] are all incremental; expected only a single incremental param at "
        f"{at('params')}"
    )


def test_two_incremental_params_give_exactly_one_line() -> None:
    errors = config_errors(
        {"params": {"a": {"type": "incremental", **INC}, "b": {"type": "incremental", **INC}}}
    )
    assert errors == [
        "params ['a', 'b'] are all incremental; expected only a single incremental param at "
        f"{at('params')}"
    ]


# --------------------------------------------------------------------------------------------
# catalog


def stream_entry(tap: TapRestGeneric, name: str) -> dict[str, Any]:
    """The catalog entry of one stream."""
    entry: dict[str, Any] = next(s for s in tap.catalog_dict["streams"] if s["stream"] == name)
    return entry


@pytest.mark.parametrize(
    ("inc", "key", "schema"),
    [
        (
            {"cursor_path": "updated_at", "initial_value": day(1)},
            "updated_at",
            {"type": ["string", "null"], "format": "date-time"},
        ),
        (
            {"cursor_path": "$.meta.updated_at", "initial_value": "2024-01-01T00:00:00+02:00"},
            "meta__updated_at",
            {"type": ["string", "null"], "format": "date-time"},
        ),
        (
            {"cursor_path": "day", "initial_value": "2024-01-01"},
            "day",
            {"type": ["string", "null"], "format": "date"},
        ),
        ({"cursor_path": "ts", "initial_value": 1704067200}, "ts", {"type": ["number", "null"]}),
        ({"cursor_path": "version", "initial_value": 2.5}, "version", {"type": ["number", "null"]}),
        # Without a typed initial_value the cursor is declared a date-time until inferred.
        ({"cursor_path": "seq"}, "seq", {"type": ["string", "null"], "format": "date-time"}),
        (
            {"cursor_path": "code", "initial_value": "abc"},
            "code",
            {"type": ["string", "null"], "format": "date-time"},
        ),
    ],
)
def test_catalog_shows_the_replication_key(
    inc: dict[str, Any], key: str, schema: dict[str, Any]
) -> None:
    tap = make_tap(resource("items", incremental=inc))
    entry = stream_entry(tap, "items")
    assert entry["replication_key"] == key
    assert entry["replication_method"] == "INCREMENTAL"
    meta = root_metadata(entry)
    assert meta["replication-key"] == key
    assert meta["valid-replication-keys"] == [key]
    assert entry["schema"]["properties"][key] == schema


def test_catalog_types_a_declared_cursor_and_full_table_without_incremental() -> None:
    """A declared plain-string cursor becomes a date-time; an integer cursor is kept as is."""
    declared = {"properties": {"updated_at": {"type": "string"}}}
    tap = make_tap(
        [
            {"name": "items", "schema": declared, "endpoint": {"incremental": INC}},
            resource("plain"),
        ]
    )
    assert stream_entry(tap, "items")["schema"]["properties"]["updated_at"] == {
        "type": "string",
        "format": "date-time",
    }
    plain = stream_entry(tap, "plain")
    assert plain["replication_method"] == "FULL_TABLE"
    assert "replication_key" not in plain
    assert "valid-replication-keys" not in root_metadata(plain)
