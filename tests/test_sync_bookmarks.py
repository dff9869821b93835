"""sync/bookmarks.py: the start value, the boundary records (keys or content hashes), end_value
backfills, missing cursor values, range_start, future-dated records and the stored value."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests_mock
from helpers import (
    Message,
    Record,
    bookmark,
    day,
    ids,
    last_state,
    params,
    records,
    states,
    sync,
)
from incremental_helpers import (
    DATE_TIME,
    INC,
    INTEGER,
    ITEMS,
    RUN1,
    STORED,
    STRING,
    answer,
    config,
    declared,
    rec,
)

from tap_restgeneric.errors import StreamRequestError


def test_start_value_is_the_bookmark_else_initial_value_else_start_date() -> None:
    inc = {"cursor_path": "updated_at", "start_param": "since"}
    cases: list[tuple[dict[str, Any], dict[str, Any] | None, str]] = [
        ({"incremental": inc}, None, "2024-03-01T00:00:00Z"),
        ({"incremental": {**inc, "initial_value": day(1)}}, None, day(1)),
        (
            {"incremental": {**inc, "initial_value": day(1)}},
            {
                "bookmarks": {
                    "items": {"replication_key": "updated_at", "replication_key_value": day(9)}
                }
            },
            day(9),
        ),
        (  # a bookmark for another cursor (the config changed) is not used
            {"incremental": {**inc, "initial_value": day(1)}},
            {
                "bookmarks": {
                    "items": {"replication_key": "created_at", "replication_key_value": day(9)}
                }
            },
            day(1),
        ),
    ]
    for endpoint, state, expected in cases:
        with requests_mock.Mocker() as m:
            answer(m, [])
            sync(config(endpoint, schema=ITEMS, start_date="2024-03-01T00:00:00Z"), state)
        assert params(m.request_history[0]) == {"since": expected}, (endpoint, state)


def test_without_any_param_the_incremental_filters_client_side() -> None:
    cfg = config({"incremental": INC}, schema=ITEMS)
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        first = sync(cfg)
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        second = sync(cfg, last_state(first))
    assert [params(r) for r in m.request_history] == [{}]
    assert ids(records(first)) == [1, 2]
    assert records(second) == []
    assert bookmark(second) == bookmark(first)


def test_boundary_keys_with_a_composite_primary_key() -> None:
    cfg = config(
        {"incremental": INC},
        primary_key=["org", "id"],
        schema=declared(id=INTEGER, org=STRING, updated_at=DATE_TIME),
    )
    body = [
        {"org": "a", "id": 1, "updated_at": day(2)},
        {"org": "b", "id": 1, "updated_at": day(2)},
    ]
    with requests_mock.Mocker() as m:
        answer(m, body)
        first = sync(cfg)
    assert bookmark(first)["boundary_keys"] == [["a", 1], ["b", 1]]
    again = [*body, {"org": "c", "id": 1, "updated_at": day(2)}]
    with requests_mock.Mocker() as m:
        answer(m, again)
        second = sync(cfg, last_state(first))
    assert records(second) == [{"org": "c", "id": 1, "updated_at": day(2)}]
    # same instant again: the keys accumulate so none of the three repeats on run 3
    assert bookmark(second)["boundary_keys"] == [["a", 1], ["b", 1], ["c", 1]]


def sale(sku: str, updated_at: str, qty: int = 1, **more: Any) -> Record:
    """A record without any key: ``{"sku": …, "qty": …, "updated_at": …}``."""
    return {"sku": sku, "qty": qty, "updated_at": updated_at, **more}


def skus(messages: list[Message]) -> list[Any]:
    """The ``sku`` of every record written, in order."""
    return [r["sku"] for r in records(messages)]


HEX_DIGEST = re.compile(r"^[0-9a-f]{32}$")


def test_without_a_primary_key_boundary_records_are_recognised_by_their_content() -> None:
    """As dlt: no primary key, so the records at the bookmark are known by a content hash."""
    schema = declared(
        qty=INTEGER, sku=STRING, token={"type": ["string", "null"]}, updated_at=DATE_TIME
    )
    cfg = config({"incremental": {**INC, "start_param": "since"}}, primary_key=None, schema=schema)
    run1 = [sale("a", day(2)), sale("b", day(3), token="tok-s3cr3t"), sale("c", day(3))]
    with requests_mock.Mocker() as m:
        answer(m, run1)
        first = sync(cfg)
    assert skus(first) == ["a", "b", "c"]
    saved = bookmark(first)
    assert saved.keys() == {"replication_key", "replication_key_value", "boundary_hashes"}
    assert saved["replication_key_value"] == day(3)
    # one digest per record at the bookmark (b and c), and nothing of their content
    assert len(saved["boundary_hashes"]) == 2
    assert all(HEX_DIGEST.match(h) for h in saved["boundary_hashes"])
    assert "tok-s3cr3t" not in str(last_state(first))

    # the API answers >= the bookmark: b and c again (fields in another order), then new ones
    run2 = [
        {"updated_at": day(3), "token": "tok-s3cr3t", "qty": 1, "sku": "b"},
        sale("c", day(3)),
        sale("d", day(3)),
        sale("e", day(4)),
    ]
    with requests_mock.Mocker() as m:
        answer(m, run2)
        second = sync(cfg, last_state(first))
    assert params(m.request_history[0]) == {"since": day(3)}
    assert skus(second) == ["d", "e"]  # exactly the new records
    assert bookmark(second)["replication_key_value"] == day(4)
    assert len(bookmark(second)["boundary_hashes"]) == 1  # only e is at the new bookmark


def test_without_a_primary_key_a_changed_boundary_record_is_written_again() -> None:
    """Same cursor value, another field changed: new content, so new data to write."""
    schema = declared(qty=INTEGER, sku=STRING, updated_at=DATE_TIME)
    cfg = config({"incremental": INC}, primary_key=None, schema=schema)
    with requests_mock.Mocker() as m:
        answer(m, [sale("a", day(2)), sale("b", day(3)), sale("c", day(3))])
        first = sync(cfg)
    changed = sale("b", day(3), qty=5)
    with requests_mock.Mocker() as m:
        answer(m, [sale("b", day(3)), changed, sale("c", day(3))])
        second = sync(cfg, last_state(first))
    assert records(second) == [changed]
    # the bookmark did not move: the digests add up, so run 3 writes none of the three again
    assert bookmark(second)["replication_key_value"] == day(3)
    assert len(bookmark(second)["boundary_hashes"]) == 3
    with requests_mock.Mocker() as m:
        answer(m, [sale("b", day(3)), changed, sale("c", day(3))])
        third = sync(cfg, last_state(second))
    assert records(third) == []
    assert bookmark(third) == bookmark(second)


def test_without_a_primary_key_state_keeps_only_the_records_at_the_bookmark() -> None:
    cfg = config({"incremental": INC}, primary_key=None)
    body = [sale(f"s{n}", day(2 + n % 3)) for n in range(300)]  # 100 records at Jan 4
    with requests_mock.Mocker() as m:
        answer(m, body)
        first = sync(cfg)
    assert len(records(first)) == 300
    assert bookmark(first)["replication_key_value"] == day(4)
    assert len(bookmark(first)["boundary_hashes"]) == 100


def test_an_empty_incremental_primary_key_turns_the_boundary_dedupe_off() -> None:
    """``primary_key: []`` (as dlt's ``()``): the records at the bookmark are written again."""
    cfg = config({"incremental": {**INC, "primary_key": []}}, primary_key=None, schema=ITEMS)
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        first = sync(cfg)
    assert bookmark(first) == {"replication_key": "updated_at", "replication_key_value": day(3)}
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        second = sync(cfg, last_state(first))
    assert ids(records(second)) == [2]


# --------------------------------------------------------------------------------------------
# end_value: a backfill that neither reads nor moves the bookmark


@pytest.mark.parametrize(
    ("range_end", "expected"), [("open", [1]), ("closed", [1, 2])], ids=["open", "closed"]
)
def test_end_value_sends_the_end_filters_and_stores_no_bookmark(
    range_end: str, expected: list[int]
) -> None:
    inc = {
        **INC,
        "end_value": day(10),
        "start_param": "since",
        "end_param": "until",
        "range_end": range_end,
    }
    body = [rec(1, day(2)), rec(2, day(10)), rec(3, day(11))]
    with requests_mock.Mocker() as m:
        answer(m, body)
        first = sync(config({"incremental": inc}))
    assert params(m.request_history[0]) == {"since": day(1), "until": day(10)}
    assert ids(records(first)) == expected
    assert bookmark(first) == {}


def test_end_value_backfill_ignores_and_keeps_a_stored_bookmark() -> None:
    inc = {**INC, "end_value": day(10), "start_param": "since", "end_param": "until"}
    state = {"bookmarks": {"items": {**STORED, "boundary_keys": [[1]]}}}
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2)), rec(2, day(3))])
        out = sync(config({"incremental": inc}), state)
    # the range is [initial_value, end_value), as dlt's backfill: not [bookmark, end_value)
    assert params(m.request_history[0]) == {"since": day(1), "until": day(10)}
    assert ids(records(out)) == [1, 2]
    assert bookmark(out) == {**STORED, "boundary_keys": [[1]]}


def test_end_value_placeholder() -> None:
    inc = {**INC, "end_value": day(10)}
    endpoint = {
        "params": {"range": "{incremental.start_value}..{incremental.end_value}"},
        "incremental": inc,
    }
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(config(endpoint))
    assert params(m.request_history[0]) == {"range": f"{day(1)}..{day(10)}"}


# --------------------------------------------------------------------------------------------
# missing cursor values; range_start


def test_missing_cursor_raises_a_clear_error_naming_stream_and_path() -> None:
    cfg = config({"incremental": {**INC, "cursor_path": "meta.updated_at"}})
    body = [{"id": 1, "meta": {"updated_at": day(2)}}, {"id": 2, "meta": {}}]
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as caught:
        answer(m, body)
        sync(cfg, into=out)
    assert str(caught.value) == (
        "stream 'items': a record has no cursor value at 'meta.updated_at' (set "
        "on_cursor_value_missing to 'include' or 'exclude' to accept such records)"
    )
    assert records(out) == []
    assert all("replication_key_value" not in s["bookmarks"].get("items", {}) for s in states(out))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("include", [1, 2, 5, 3]), ("exclude", [1, 3])],
    ids=["include", "exclude"],
)
def test_missing_cursor_include_or_exclude(mode: str, expected: list[int]) -> None:
    cfg = config({"incremental": {**INC, "on_cursor_value_missing": mode}})
    body = [
        rec(1, day(2)),
        {"id": 2},
        rec(5, None),  # null counts as missing
        rec(3, day(3)),
        rec(4, "2023-06-01T00:00:00Z"),  # has a cursor older than the start: always dropped
    ]
    with requests_mock.Mocker() as m:
        answer(m, body)
        out = sync(cfg)
    assert records(out) == [r for r in body if r["id"] in expected]
    assert bookmark(out)["replication_key_value"] == day(3)


@pytest.mark.parametrize(
    ("range_start", "expected"), [("closed", [1, 2]), ("open", [2])], ids=["closed", "open"]
)
def test_range_start(range_start: str, expected: list[int]) -> None:
    cfg = config({"incremental": {**INC, "range_start": range_start}})
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(1)), rec(2, day(2)), rec(0, "2023-12-31T23:59:59Z")])
        out = sync(cfg)
    assert ids(records(out)) == expected


# --------------------------------------------------------------------------------------------
# future-dated records


def test_future_dated_record_caps_the_bookmark_at_the_sync_start(
    freeze: Callable[[str], None],
) -> None:
    freeze("2024-02-01T00:00:00Z")
    cfg = config({"incremental": {**INC, "start_param": "since"}}, schema=ITEMS)
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2)), rec(2, "2030-01-01T00:00:00Z")])
        first = sync(cfg)
    assert ids(records(first)) == [1, 2]
    assert bookmark(first) == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-02-01T00:00:00Z",
    }
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(cfg, last_state(first))
    assert params(m.request_history[0]) == {"since": "2024-02-01T00:00:00Z"}


def test_future_date_only_record_caps_in_date_format(freeze: Callable[[str], None]) -> None:
    freeze("2024-02-01T10:00:00Z")
    cfg = config({"incremental": {"cursor_path": "d", "initial_value": "2024-01-01"}})
    with requests_mock.Mocker() as m:
        answer(m, [{"id": 1, "d": "2024-01-05"}, {"id": 2, "d": "2031-01-01"}])
        out = sync(cfg)
    assert bookmark(out)["replication_key_value"] == "2024-02-01"


# --------------------------------------------------------------------------------------------
# misc


def test_state_message_is_valid_json_for_every_cursor_kind() -> None:
    """Bookmarks are written as the raw cursor values: strings stay strings, numbers numbers."""
    cases: list[tuple[dict[str, Any], list[Record], Any]] = [
        ({"cursor_path": "n", "initial_value": 1}, [{"id": 1, "n": 3}, {"id": 2, "n": 2.5}], 3),
        ({"cursor_path": "n", "initial_value": 1.5}, [{"id": 1, "n": 2.5}], 2.5),
        (
            {"cursor_path": "d", "initial_value": "2024-01-01"},
            [{"id": 1, "d": "2024-01-02"}],
            "2024-01-02",
        ),
    ]
    for inc, body, expected in cases:
        with requests_mock.Mocker() as m:
            answer(m, body)
            out = sync(config({"incremental": inc}))
        assert bookmark(out)["replication_key_value"] == expected
