"""sync/bookmarks.py: date windows: the ranges sent, a bookmark per finished window, resuming,
placeholders, start_date, open range starts and epoch cursors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests_mock
from helpers import (
    Message,
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
    ITEMS,
    answer,
    config,
    distinct_bookmarks,
    rec,
    timeline,
)

from tap_restgeneric.errors import StreamRequestError

# --------------------------------------------------------------------------------------------
# date windows

WINDOWS = [(day(1), day(8)), (day(8), day(15)), (day(15), day(22))]


def windowed(**extra: Any) -> dict[str, Any]:
    """A weekly-windowed incremental sent through since/until."""
    return {
        "incremental": {
            **INC,
            "start_param": "since",
            "end_param": "until",
            "window_size": "P7D",
            **extra,
        }
    }


def sent_windows(mocker: requests_mock.Mocker) -> list[tuple[str, str]]:
    """The (since, until) pair of every request."""
    return [(params(r)["since"], params(r)["until"]) for r in mocker.request_history]


def test_windows_up_to_end_value_cover_the_range_without_gap_or_overlap() -> None:
    cfg = config(windowed(end_value=day(22)))
    with requests_mock.Mocker() as m:
        # a sloppy API also returns the record at the window's end: it belongs to the next one
        answer(m, [rec(1, day(2)), rec(2, day(8))], [rec(2, day(8)), rec(3, day(14))], [])
        out = sync(cfg)
    assert sent_windows(m) == WINDOWS
    assert ids(records(out)) == [1, 2, 3]
    assert bookmark(out) == {}  # end_value: a backfill stores no bookmark


def test_windows_up_to_now_bookmark_each_window_end(freeze: Callable[[str], None]) -> None:
    freeze("2024-01-22T00:00:00Z")
    cfg = config(windowed())
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2))], [], [rec(3, day(21))])
        out = sync(cfg)
    assert sent_windows(m) == WINDOWS
    # one STATE per finished window (its end), then the SDK's final one
    assert timeline(out) == ["1", f"@{day(8)}", f"@{day(15)}", "3", f"@{day(22)}", f"@{day(22)}"]
    assert bookmark(out) == {"replication_key": "updated_at", "replication_key_value": day(22)}


def test_last_window_ends_now(freeze: Callable[[str], None]) -> None:
    freeze("2024-01-20T12:30:00Z")
    with requests_mock.Mocker() as m:
        answer(m, [], [], [rec(1, "2024-01-20T12:29:59Z"), rec(2, "2024-01-20T12:30:00Z")])
        out = sync(config(windowed()))
    assert sent_windows(m) == [*WINDOWS[:2], (day(15), "2024-01-20T12:30:00Z")]
    assert ids(records(out)) == [1]
    assert bookmark(out)["replication_key_value"] == "2024-01-20T12:30:00Z"


def test_an_interrupted_windowed_run_resumes_at_the_last_finished_window(
    freeze: Callable[[str], None],
) -> None:
    freeze("2024-01-22T00:00:00Z")
    cfg = config(windowed(), schema=ITEMS)
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError):
        answer(m, [rec(1, day(2))], [rec(2, day(9))], {"status_code": 400, "json": {}})
        sync(cfg, into=out)
    assert ids(records(out)) == [1, 2]
    assert distinct_bookmarks(out) == [day(8), day(15)]

    with requests_mock.Mocker() as m:
        answer(m, [rec(3, day(16))])
        second = sync(cfg, last_state(out))
    assert sent_windows(m) == [WINDOWS[2]]
    assert ids(records(second)) == [3]
    assert bookmark(second)["replication_key_value"] == day(22)


def test_windows_through_placeholders_with_convert() -> None:
    endpoint = {
        "params": {"from": "{incremental.start_value}", "to": "{incremental.end_value}"},
        "incremental": {**INC, "end_value": day(22), "window_size": "P7D", "convert": "date"},
    }
    with requests_mock.Mocker() as m:
        answer(m, [], [], [])
        sync(config(endpoint))
    assert [params(r) for r in m.request_history] == [
        {"from": "2024-01-01", "to": "2024-01-08"},
        {"from": "2024-01-08", "to": "2024-01-15"},
        {"from": "2024-01-15", "to": "2024-01-22"},
    ]


def test_windows_start_from_start_date(freeze: Callable[[str], None]) -> None:
    freeze("2024-01-02T00:00:00Z")
    inc = {"cursor_path": "updated_at", "start_param": "since", "window_size": "PT12H"}
    with requests_mock.Mocker() as m:
        answer(m, [], [])
        sync(config({"incremental": inc}, start_date="2024-01-01T00:00:00Z"))
    assert [params(r)["since"] for r in m.request_history] == [day(1), "2024-01-01T12:00:00Z"]


def test_windows_with_an_open_range_start_lose_no_record_at_a_window_edge(
    freeze: Callable[[str], None],
) -> None:
    freeze("2024-01-22T00:00:00Z")
    cfg = config(windowed(range_start="open"), schema=ITEMS)
    with requests_mock.Mocker() as m:
        # Jan 1 equals the (open) start: dropped; Jan 8 and Jan 15 start windows 2 and 3
        answer(m, [rec(1, day(1)), rec(2, day(7))], [rec(3, day(8))], [rec(4, day(15))])
        first = sync(cfg)
    assert ids(records(first)) == [2, 3, 4]
    state = last_state(first)
    assert bookmark(first)["replication_key_value"] == day(22)

    # the bookmark is a window's (exclusive) end: a record exactly there is new
    freeze("2024-01-29T00:00:00Z")
    with requests_mock.Mocker() as m:
        answer(m, [rec(5, day(22)), rec(6, day(23))])
        second = sync(cfg, state)
    assert sent_windows(m) == [(day(22), day(29))]
    assert ids(records(second)) == [5, 6]


def test_windows_over_an_epoch_cursor(freeze: Callable[[str], None]) -> None:
    freeze("2024-01-22T00:00:00Z")
    inc = {
        "cursor_path": "ts",
        "initial_value": 1704067200,
        "start_param": "since",
        "end_param": "until",
        "window_size": "P7D",
    }
    with requests_mock.Mocker() as m:
        answer(m, [{"id": 1, "ts": 1704153600}], [], [])
        out = sync(config({"incremental": inc}))
    assert sent_windows(m) == [
        ("1704067200", "1704672000"),
        ("1704672000", "1705276800"),
        ("1705276800", "1705881600"),
    ]
    assert ids(records(out)) == [1]
    assert distinct_bookmarks(out)[-1] == 1705881600
