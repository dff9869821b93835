"""sync/bookmarks.py: the values sent (formats as they came or `convert`, lag) and the
incremental placeholders rendered from them."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock
from helpers import (
    bookmark,
    day,
    ids,
    last_state,
    params,
    records,
    sync,
)
from incremental_helpers import (
    INC,
    INTEGER,
    ITEMS,
    RUN1,
    answer,
    config,
    declared,
    rec,
)

# --------------------------------------------------------------------------------------------
# formats of the values sent: as they came, or `convert`; lag


def sent_since(inc: dict[str, Any], state: dict[str, Any] | None = None) -> Any:
    """The ``since`` query value of the first request for this incremental.

    No record is served: the declared schema only spares run 2 its schema sample request.
    """
    endpoint = {"incremental": {"cursor_path": "t", "start_param": "since", **inc}}
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(config(endpoint, schema=declared(id=INTEGER)), state)
    return params(m.request_history[0])["since"]


def at_bookmark(value: Any, key: str = "t") -> dict[str, Any]:
    """A Singer state whose ``items`` bookmark is ``value``."""
    return {"bookmarks": {"items": {"replication_key": key, "replication_key_value": value}}}


@pytest.mark.parametrize(
    ("value", "lag", "expected"),
    [
        # the default: sent back exactly as written
        ("2024-01-01T00:00:00Z", 0, "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00.000Z", 0, "2024-01-01T00:00:00.000Z"),
        ("2024-01-01T02:00:00+02:00", 0, "2024-01-01T02:00:00+02:00"),
        ("2024-01-01", 0, "2024-01-01"),
        (1704067200, 0, "1704067200"),
        (1704067200000, 0, "1704067200000"),
        # lag: seconds for datetimes (the offset is kept), days for dates, units for numbers
        ("2024-01-01T00:00:00Z", 3600, "2023-12-31T23:00:00Z"),
        ("2024-01-01T02:00:00+02:00", 3600, "2024-01-01T01:00:00+02:00"),
        ("2024-01-01", 2, "2023-12-30"),
        (1704067200, 60, "1704067140"),
        (1704067200000, 1000, "1704067199000"),
        (42, 5, "37"),
        ("2024-01-01T00:00:00Z", 1.5, "2023-12-31T23:59:58.500000Z"),
    ],
)
def test_default_format_and_lag(value: Any, lag: float, expected: str) -> None:
    assert sent_since({"lag": lag}, at_bookmark(value)) == expected
    if not lag:
        assert sent_since({"initial_value": value}) == expected


@pytest.mark.parametrize(
    ("value", "convert", "lag", "expected"),
    [
        ("2024-01-01T00:00:00Z", "iso8601", 0, "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00Z", "iso8601_offset", 0, "2024-01-01T00:00:00+00:00"),
        ("2024-01-01T00:00:00Z", "date", 0, "2024-01-01"),
        ("2024-01-01T00:00:00Z", "epoch", 0, "1704067200"),
        ("2024-01-01T00:00:00Z", "epoch_ms", 0, "1704067200000"),
        ("2024-01-01T00:00:00Z", "%Y%m%d%H%M", 0, "202401010000"),
        ("2024-01-01T00:00:00Z", "%d/%m/%Y", 0, "01/01/2024"),
        ("2024-01-01T02:00:00+02:00", "iso8601", 0, "2024-01-01T00:00:00Z"),
        ("2024-01-01T02:00:00+02:00", "epoch", 0, "1704067200"),
        (1704067200, "iso8601", 0, "2024-01-01T00:00:00Z"),
        (1704067200000, "date", 0, "2024-01-01"),
        ("2024-01-05", "epoch", 0, "1704412800"),
        # lag is applied in the unit of the value as written (seconds here), then converted
        ("2024-01-01T00:00:00Z", "date", 3600, "2023-12-31"),
        ("2024-01-01T00:00:00Z", "epoch", 60, "1704067140"),
        ("2024-01-05", "iso8601", 1, "2024-01-04T00:00:00Z"),
    ],
)
def test_convert_formats(value: Any, convert: str, lag: float, expected: str) -> None:
    assert sent_since({"convert": convert, "lag": lag}, at_bookmark(value)) == expected
    if not lag:
        assert sent_since({"initial_value": value, "convert": convert}) == expected


def test_lag_never_reaches_below_the_configured_start_and_is_off_for_a_backfill() -> None:
    lag = {"lag": 86400}
    # first run: nothing to re-fetch yet, the start is initial_value itself
    assert sent_since({**lag, "initial_value": day(1)}) == day(1)
    # a bookmark less than a lag after initial_value: capped at initial_value
    recent = at_bookmark("2024-01-01T12:00:00Z")
    assert sent_since({**lag, "initial_value": day(1)}, recent) == day(1)
    assert sent_since({**lag, "initial_value": "2024-01-01"}, recent) == "2024-01-01T00:00:00Z"
    # start_date is the configured start when there is no initial_value
    with requests_mock.Mocker() as m:
        answer(m, [])
        inc = {"cursor_path": "t", "start_param": "since", **lag}
        sync(config({"incremental": inc}, schema=declared(id=INTEGER), start_date=day(1)), recent)
    assert params(m.request_history[0]) == {"since": day(1)}
    # with end_value (a backfill, no state) lag does not apply, as in dlt
    backfill = {**lag, "initial_value": day(5), "end_value": day(9)}
    assert sent_since(backfill, at_bookmark(day(7))) == day(5)


def test_convert_applies_to_the_bookmark_and_end_value() -> None:
    inc = {
        **INC,
        "start_param": "since",
        "end_param": "until",
        "end_value": day(22),
        "convert": "epoch",
    }
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2))])
        sync(config({"incremental": inc}))
    assert params(m.request_history[0]) == {"since": "1704067200", "until": "1705881600"}

    state = {
        "bookmarks": {"items": {"replication_key": "updated_at", "replication_key_value": day(3)}}
    }
    assert sent_since({**INC, "convert": "epoch_ms"}, state) == "1704240000000"
    assert sent_since({**INC, "convert": "%Y-%m-%d %H:%M"}, state) == "2024-01-03 00:00"


def test_convert_applies_to_every_incremental_placeholder() -> None:
    inc = {**INC, "end_value": day(22), "convert": "epoch"}
    endpoint = {
        "params": {
            "s": "{incremental.start_value}",
            "l": "{incremental.last_value}",
            "i": "{incremental.initial_value}",
            "e": "{incremental.end_value}",
            "c": "{incremental.cursor_path}",
        },
        "incremental": inc,
    }
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(config(endpoint))
    assert params(m.request_history[0]) == {
        "s": "1704067200",
        "l": "1704067200",
        "i": "1704067200",
        "e": "1705881600",
        "c": "updated_at",
    }


def test_lag_placeholder_renders_as_configured() -> None:
    endpoint = {"params": {"lag": "{incremental.lag}"}, "incremental": {**INC, "lag": 3600}}
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(config(endpoint))
    assert params(m.request_history[0]) == {"lag": "3600"}


def test_lag_refetches_and_keeps_filtering_but_never_moves_the_bookmark_back() -> None:
    cfg = config({"incremental": {**INC, "start_param": "since", "lag": 86400}}, schema=ITEMS)
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        first = sync(cfg)
    # lag never moves the start below initial_value: Dec 31 is still dropped
    assert params(m.request_history[0]) == {"since": day(1)}
    assert ids(records(first)) == [1, 2]
    state = last_state(first)
    assert bookmark(first)["replication_key_value"] == day(3)

    body = [rec(7, "2024-01-01T23:59:59Z"), rec(1, day(2)), rec(2, day(3))]
    with requests_mock.Mocker() as m:
        answer(m, body)
        second = sync(cfg, state)
    assert params(m.request_history[0]) == {"since": day(2)}
    # older than the shifted start: dropped; inside the lag window: sent again (no boundary dedupe)
    assert ids(records(second)) == [1, 2]
    assert bookmark(second)["replication_key_value"] == day(3)

    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2))])  # only a record older than the bookmark comes back
        third = sync(cfg, last_state(second))
    assert ids(records(third)) == [1]
    assert bookmark(third)["replication_key_value"] == day(3)


def test_bookmark_keeps_the_format_of_the_records() -> None:
    cfg = config(
        {"incremental": {"cursor_path": "t", "initial_value": "2024-01-01T00:00:00+02:00"}}
    )
    body = [
        {"id": 1, "t": "2024-01-02T10:00:00+02:00"},
        {"id": 2, "t": "2024-01-02T09:00:00Z"},  # later than 10:00+02:00 (08:00Z)
    ]
    with requests_mock.Mocker() as m:
        answer(m, body)
        first = sync(cfg)
    assert ids(records(first)) == [1, 2]
    assert bookmark(first)["replication_key_value"] == "2024-01-02T09:00:00Z"
