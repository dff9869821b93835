"""sync/windows.py: date windows fetched side by side, written in window order, a bookmark only
past complete windows, against a loopback API that takes 20 ms a page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from faults import FaultServer
from helpers import Message, record_sleeps, records, sync

from tap_restgeneric.errors import StreamRequestError

RECORDS = 400  # updated_at from 2024-01-01T00:00Z, two records an hour: up to 2024-01-09T08:00Z
NOW = "2024-01-10T00:00:00Z"  # nine daily windows, 48 records (five pages) each but the last
DAY_ENDS = [f"2024-01-{d:02d}T00:00:00Z" for d in range(2, 11)]

LINK = {"type": "header_link"}
PAGE_NUMBER = {"type": "page_number", "base_page": 1, "total_path": "total_pages"}
JSON_LINK = {"type": "json_link", "next_url_path": "next"}


@pytest.fixture
def api() -> Iterator[FaultServer]:
    """/items: 400 records, 10 a page, 20 ms a page, ``since``/``until`` filters."""
    with FaultServer({"/items": RECORDS}, auth=None, page_delay=0.02) as server:
        yield server


def config(api: FaultServer, paginator: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """One daily-windowed ``items`` resource from 2024-01-01, default settings otherwise."""
    incremental = {
        "cursor_path": "updated_at",
        "initial_value": "2024-01-01T00:00:00Z",
        "start_param": "since",
        "end_param": "until",
        "window_size": "P1D",
    }
    endpoint = {
        "path": "items",
        "data_selector": "data",
        "paginator": paginator,
        "incremental": incremental,
    }
    return {
        "client": {"base_url": api.url},
        "resources": [{"name": "items", "primary_key": "id", "endpoint": endpoint}],
        **settings,
    }


def instant(text: str) -> datetime:
    """An ISO 8601 instant (``Z`` or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ids(messages: list[Message]) -> list[int]:
    """The ids written, in order."""
    return [int(r["id"]) for r in records(messages)]


def assert_states_between_windows(messages: list[Message]) -> list[str]:
    """Where a bookmark moves, it separates the records: all before are older, none after is.

    Returns the bookmarks in order.
    """
    written: list[datetime] = []
    marks: list[tuple[int, str]] = []
    for message in messages:
        if message["type"] == "RECORD":
            written.append(instant(message["record"]["updated_at"]))
        elif message["type"] == "STATE":
            value = message["value"]["bookmarks"]["items"].get("replication_key_value")
            if value is not None and (not marks or marks[-1][1] != value):
                marks.append((len(written), value))  # a bookmark when it moves
    for position, value in marks:
        mark = instant(value)
        assert all(point < mark for point in written[:position]), value
        assert all(point >= mark for point in written[position:]), value
    return [value for _, value in marks]


@pytest.mark.parametrize("paginator", [LINK, JSON_LINK, PAGE_NUMBER], ids=lambda p: p["type"])
def test_windows_side_by_side_are_written_in_order(
    api: FaultServer, paginator: dict[str, Any], freeze: Callable[[str], None]
) -> None:
    freeze(NOW)
    messages = sync(config(api, paginator))
    assert ids(messages) == list(range(1, RECORDS + 1))  # window by window, each in order
    assert api.most_in_flight >= 3  # several windows (or pages) on the wire at once
    bookmarks = assert_states_between_windows(messages)
    assert bookmarks == DAY_ENDS  # one per finished window, each a window's end, in order
    windows = {(r.query["since"], r.query["until"]) for r in api.log("/items")}
    assert len(windows) == len(DAY_ENDS)


def test_link_windows_overlap_on_the_wire(api: FaultServer, freeze: Callable[[str], None]) -> None:
    """A Link-header API cannot fetch ahead within a window: only windows side by side can."""
    freeze(NOW)
    sync(config(api, LINK))
    log = api.log("/items")
    first_of_window: dict[str, float] = {}
    for entry in log:
        first_of_window.setdefault(entry.query["since"], entry.time)
    last_page_of_first = max(e.time for e in log if e.query["since"].startswith("2024-01-01"))
    started_before = [s for s, t in first_of_window.items() if t < last_page_of_first]
    assert len(started_before) >= 3  # window 1 was not over when windows 2 and 3 began


def test_one_at_a_time_with_max_concurrency_1(
    api: FaultServer, freeze: Callable[[str], None]
) -> None:
    freeze(NOW)
    messages = sync(config(api, LINK, max_concurrency=1))
    assert ids(messages) == list(range(1, RECORDS + 1))
    assert api.most_in_flight == 1
    assert assert_states_between_windows(messages) == DAY_ENDS


def test_a_failed_window_keeps_the_bookmark_before_it(
    api: FaultServer, freeze: Callable[[str], None]
) -> None:
    """Window k fails: windows before it are written and bookmarked, none after it written."""
    freeze(NOW)
    api.inject("/items", page=3, fault="html_200", skip=7)  # page 3 of the 8th window asked
    messages: list[Message] = []
    with pytest.raises(StreamRequestError):
        sync(config(api, LINK), into=messages)
    failed = next(r for r in api.log("/items") if r.fault == "html_200")
    since = instant(failed.query["since"])
    written = ids(messages)
    assert not [i for i, n in Counter(written).items() if n > 1]
    before = [r["id"] for r in api.records() if instant(r["updated_at"]) < since]
    assert written[: len(before)] == before  # every earlier window, whole and in order
    rest = written[len(before) :]  # only the failed window's first two pages
    assert rest == list(range(len(before) + 1, len(before) + 21))
    bookmarks = assert_states_between_windows(messages)
    assert bookmarks[-1] == failed.query["since"]  # the end of the last complete window


def test_a_window_of_no_records_still_advances(
    api: FaultServer, freeze: Callable[[str], None]
) -> None:
    """Windows after the data (Jan 9 to 10 has records until 08:00 only; none later) end on
    their first, empty page and are bookmarked."""
    freeze("2024-01-12T00:00:00Z")
    messages = sync(config(api, LINK))
    assert ids(messages) == list(range(1, RECORDS + 1))
    assert assert_states_between_windows(messages)[-1] == "2024-01-12T00:00:00Z"


FAULTS = [  # (fault, its options, whether retrying recovers from it)
    pytest.param("status", {"status": 503, "times": 2}, True, id="503 twice"),
    pytest.param("status", {"status": 429, "retry_after": 0.2, "times": 3}, True, id="429 x3"),
    pytest.param("reset_mid_body", {}, True, id="reset mid body"),
    pytest.param("truncated_json", {}, True, id="truncated json"),
    pytest.param("slow", {"delay": 0.3}, True, id="slow"),
    pytest.param("status", {"status": 404}, False, id="404"),
    pytest.param("status", {"status": 503, "times": 99}, False, id="503 for good"),
    pytest.param("html_200", {}, False, id="html 200"),
]


@pytest.mark.parametrize(("fault", "options", "recovers"), FAULTS)
def test_a_fault_in_one_of_several_windows_in_flight(
    api: FaultServer,
    fault: str,
    options: dict[str, Any],
    recovers: bool,
    freeze: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Retried away: every id once and in order. For good: the windows before the failed one
    are written whole and bookmarked, of the failed one its first page, nothing after it."""
    freeze(NOW)
    record_sleeps(monkeypatch)
    api.inject("/items", page=2, fault=fault, skip=3, **options)
    messages: list[Message] = []
    if recovers:
        sync(config(api, LINK), into=messages)
        assert ids(messages) == list(range(1, RECORDS + 1))
        assert assert_states_between_windows(messages) == DAY_ENDS
        assert api.fault_counts[fault] >= 1
        return
    with pytest.raises(StreamRequestError):
        sync(config(api, LINK), into=messages)
    failed = min(instant(r.query["since"]) for r in api.log("/items") if r.fault == fault)
    before = [r["id"] for r in api.records() if instant(r["updated_at"]) < failed]
    written = ids(messages)
    assert written[: len(before)] == before
    assert written[len(before) :] == list(range(len(before) + 1, len(before) + 11))
    assert instant(assert_states_between_windows(messages)[-1]) == failed
