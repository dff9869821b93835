"""Unit tests: cursor values (cursors.py) and one incremental run's bookkeeping (bookmarks.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tap_restgeneric.config.spec import IncrementalSpec
from tap_restgeneric.records.cursors import (
    compare,
    detect_format,
    parse_duration,
    parse_point,
    render,
    shift,
)
from tap_restgeneric.sync.bookmarks import IncrementalError, IncrementalRun, Window, content_hash

UTC = timezone.utc
NOW = datetime(2024, 2, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    """An aware datetime from ISO text."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------------------------
# cursors.py


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P7D", timedelta(days=7)),
        ("P1W", timedelta(weeks=1)),
        ("PT6H", timedelta(hours=6)),
        ("PT30M", timedelta(minutes=30)),
        ("PT1.5S", timedelta(seconds=1.5)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P", None),
        ("PT", None),
        ("P1DT", None),
        ("P0D", None),
        ("7D", None),
        ("P1M", None),  # months have no fixed length: not accepted
        ("P1Y", None),
        ("1 day", None),
    ],
)
def test_parse_duration(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=UTC)),  # naive: taken as UTC
        ("2024-01-01", datetime(2024, 1, 1, tzinfo=UTC)),
        (" 2024-01-01 ", datetime(2024, 1, 1, tzinfo=UTC)),
        (1704067200, 1704067200.0),
        (1.5, 1.5),
        (datetime(2024, 1, 1), datetime(2024, 1, 1, tzinfo=UTC)),
        ("abc", "abc"),
        (None, None),
        (True, None),
        ("Mon, 01 Jan 2024 01:00:00 GMT", datetime(2024, 1, 1, 1, tzinfo=UTC)),  # RFC 1123 (Eve)
        ("1 Jan 2024 03:00:00 +0200", datetime(2024, 1, 1, 1, tzinfo=UTC)),  # RFC 2822 offset
        ("Mon, 01 Jan 2024 01:00:00 -0000", datetime(2024, 1, 1, 1, tzinfo=UTC)),  # UTC, naive
        ("Mon, 41 Jan 2024 01:00:00 GMT", "Mon, 41 Jan 2024 01:00:00 GMT"),  # no such day: text
    ],
)
def test_parse_point(value: Any, expected: Any) -> None:
    assert parse_point(value) == expected


def test_parse_point_keeps_the_offset() -> None:
    point = parse_point("2024-01-01T02:00:00+02:00")
    assert isinstance(point, datetime)
    assert point.utcoffset() == timedelta(hours=2)
    assert point == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00Z", 0),
        ("2024-01-01T00:00:01Z", "2024-01-01T00:00:00Z", 1),
        ("2024-01-01", "2024-01-01T00:00:01Z", -1),
        (1704067200, "2024-01-01T00:00:00Z", 0),  # epoch seconds vs ISO: as instants
        (1704067200000, "2024-01-01T00:00:00Z", 0),  # epoch ms vs ISO
        (1704067201000, "2024-01-01T00:00:00Z", 1),
        (2, 10, -1),  # numbers compare as numbers, not text
        ("b", "a", 1),
        ("abc", 5, 1),  # text vs number: compared as text
        # RFC 1123 compares as instants, not as text (where "Fri" < "Mon" < "Sat")
        ("Fri, 05 Jan 2024 00:00:00 GMT", "Mon, 01 Jan 2024 00:00:00 GMT", 1),
        ("Sat, 06 Jan 2024 17:00:00 GMT", "2024-01-06T17:00:00Z", 0),
    ],
)
def test_compare(a: Any, b: Any, expected: int) -> None:
    pa, pb = parse_point(a), parse_point(b)
    assert pa is not None
    assert pb is not None
    assert compare(pa, pb) == expected
    assert compare(pb, pa) == -expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-01T00:00:00Z", "iso8601"),
        ("2024-01-01T00:00:00.123z", "iso8601"),
        ("2024-01-01T02:00:00+02:00", "iso8601_offset"),
        ("2024-01-01T00:00:00", "iso8601_offset"),
        ("2024-01-01", "date"),
        (1704067200, "epoch"),
        (1704067200.5, "epoch"),
        (1704067200000, "epoch_ms"),
        ("Mon, 01 Jan 2024 01:00:00 GMT", "rfc1123"),
        ("Mon, 41 Jan 2024 01:00:00 GMT", None),
        ("abc", None),
        (True, None),
        (None, None),
    ],
)
def test_detect_format(raw: Any, expected: str | None) -> None:
    assert detect_format(raw) == expected


PLUS2 = datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))  # = 00:00Z


@pytest.mark.parametrize(
    ("point", "fmt", "expected"),
    [
        (datetime(2024, 1, 1, tzinfo=UTC), "iso8601", "2024-01-01T00:00:00Z"),
        (PLUS2, "iso8601", "2024-01-01T00:00:00Z"),  # 'Z' means UTC: converted
        (PLUS2, "iso8601_offset", "2024-01-01T02:00:00+02:00"),
        (datetime(2024, 1, 1, tzinfo=UTC), "iso8601_offset", "2024-01-01T00:00:00+00:00"),
        (
            datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC),
            "iso8601",
            "2024-01-01T00:00:00.500000Z",
        ),
        (datetime(2024, 1, 1, 23, tzinfo=UTC), "date", "2024-01-01"),
        (datetime(2024, 1, 1, tzinfo=UTC), "epoch", 1704067200),
        (datetime(2024, 1, 1, tzinfo=UTC), "epoch_ms", 1704067200000),
        (datetime(2024, 1, 1, tzinfo=UTC), "%Y/%m/%d %H:%M", "2024/01/01 00:00"),
        (PLUS2, "rfc1123", "Mon, 01 Jan 2024 00:00:00 GMT"),  # always GMT
        (1704067200.0, "rfc1123", "Mon, 01 Jan 2024 00:00:00 GMT"),
        (1704067200.0, "iso8601", "2024-01-01T00:00:00Z"),
        (1704067200000.0, "epoch", 1704067200),
        (1704067200.0, "epoch_ms", 1704067200000),
        (1704067200.0, None, 1704067200.0),  # no format: unchanged
        ("abc", "iso8601", "abc"),  # not a moment: unchanged
    ],
)
def test_render(point: Any, fmt: str | None, expected: Any) -> None:
    assert render(point, fmt) == expected


@pytest.mark.parametrize(
    ("point", "lag", "raw_format", "expected"),
    [
        (
            datetime(2024, 1, 1, tzinfo=UTC),
            90,
            "iso8601",
            datetime(2023, 12, 31, 23, 58, 30, tzinfo=UTC),
        ),
        (datetime(2024, 1, 3, tzinfo=UTC), 2, "date", datetime(2024, 1, 1, tzinfo=UTC)),
        (100.0, 7, "epoch", 93.0),
        ("abc", 5, None, "abc"),
    ],
)
def test_shift(point: Any, lag: float, raw_format: str | None, expected: Any) -> None:
    assert shift(point, lag, raw_format) == expected


# --------------------------------------------------------------------------------------------
# bookmarks.py


def spec(**changes: Any) -> IncrementalSpec:
    """An IncrementalSpec on ``updated_at`` keyed by ``id``."""
    base: dict[str, Any] = {
        "cursor_path": "updated_at",
        "replication_key": "updated_at",
        "initial_value": "2024-01-01T00:00:00Z",
        "primary_key": ("id",),
    }
    return IncrementalSpec(**{**base, **changes})


def run_of(state: dict[str, Any] | None = None, **changes: Any) -> IncrementalRun:
    """An IncrementalRun at NOW."""
    return IncrementalRun(spec(**changes), state or {}, NOW)


def keep(run: IncrementalRun, *records: dict[str, Any]) -> list[Any]:
    """Admit records through the run's only window, observing the kept ones; their ids."""
    window = next(iter(run.windows()))
    kept = [r for r in records if run.admit(r, window, ("id",))]
    for record in kept:
        run.observe(record, ("id",))
    return [r["id"] for r in kept]


def test_windows_split_without_gap_or_overlap_and_close_only_the_last() -> None:
    run = run_of(end_value="2024-01-20T00:00:00Z", window=timedelta(days=7), range_end="closed")
    windows = [(w.start, w.end, w.closed_end) for w in run.windows()]
    assert windows == [
        (at("2024-01-01T00:00:00Z"), at("2024-01-08T00:00:00Z"), False),
        (at("2024-01-08T00:00:00Z"), at("2024-01-15T00:00:00Z"), False),
        (at("2024-01-15T00:00:00Z"), at("2024-01-20T00:00:00Z"), True),
    ]


def test_no_windows_once_the_start_reaches_now() -> None:
    state = {"replication_key": "updated_at", "replication_key_value": "2024-02-01T00:00:00Z"}
    assert list(run_of(state, window=timedelta(days=7)).windows()) == []


def test_store_never_moves_the_bookmark_back_and_merges_boundary_keys() -> None:
    state: dict[str, Any] = {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-05T00:00:00Z",
        "boundary_keys": [[1]],
    }
    run = run_of(state)
    assert keep(run, {"id": 1, "updated_at": "2024-01-05T00:00:00Z"}) == []  # boundary dedupe
    assert keep(run, {"id": 2, "updated_at": "2024-01-05T00:00:00Z"}) == [2]
    assert run.store(state) is True
    assert state["boundary_keys"] == [[1], [2]]

    older = run_of(state)
    assert keep(older, {"id": 3, "updated_at": "2024-01-04T00:00:00Z"}) == []  # below the start
    assert older.store(state) is False

    lagged = run_of(state, lag=86400)
    assert keep(lagged, {"id": 3, "updated_at": "2024-01-04T00:00:00Z"}) == [3]
    assert lagged.store(state) is False
    assert state == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-05T00:00:00Z",
        "boundary_keys": [[1], [2]],
    }


def test_a_moved_bookmark_replaces_the_boundary_keys() -> None:
    state: dict[str, Any] = {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-05T00:00:00Z",
        "boundary_keys": [[1]],
    }
    run = run_of(state)
    keep(run, {"id": 9, "updated_at": "2024-01-06T00:00:00Z"})
    assert run.store(state) is True
    assert state == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-06T00:00:00Z",
        "boundary_keys": [[9]],
    }


def test_bookmark_is_capped_at_now_for_future_records() -> None:
    run = run_of()
    keep(run, {"id": 1, "updated_at": "2099-01-01T00:00:00+05:00"})
    assert run.bookmark() == ("2024-02-01T00:00:00+00:00", [])
    date_run = run_of(initial_value="2024-01-01", cursor_path="d", replication_key="d")
    keep(date_run, {"id": 1, "d": "2099-01-01"})
    assert date_run.bookmark() == ("2024-02-01", [])


def test_without_a_primary_key_the_boundary_is_stored_as_content_hashes() -> None:
    first = run_of(primary_key=None)
    a = {"id": 1, "updated_at": "2024-01-04T00:00:00Z"}
    b = {"id": 2, "updated_at": "2024-01-05T00:00:00Z", "name": "b"}
    c = {"id": 3, "updated_at": "2024-01-05T00:00:00Z", "name": "c"}
    assert keep(first, dict(a), dict(b), dict(c)) == [1, 2, 3]
    state: dict[str, Any] = {}
    assert first.store(state) is True
    assert state == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-05T00:00:00Z",
        "boundary_hashes": sorted([content_hash(b), content_hash(c)]),
    }

    second = run_of(state, primary_key=None)
    reordered = {"name": "b", "updated_at": "2024-01-05T00:00:00Z", "id": 2}
    new = {"id": 4, "updated_at": "2024-01-05T00:00:00Z", "name": "d"}
    assert keep(second, reordered, dict(c), new) == [4]
    assert second.store(state) is True
    assert state["boundary_hashes"] == sorted([content_hash(b), content_hash(c), content_hash(new)])


def test_content_hash_is_canonical_short_and_sensitive_to_every_value() -> None:
    record = {"id": 1, "at": "2024-01-05T00:00:00Z", "nested": {"b": [1, 2], "a": None}}
    same = {"nested": {"a": None, "b": [1, 2]}, "at": "2024-01-05T00:00:00Z", "id": 1}
    assert content_hash(record) == content_hash(same)
    assert len(content_hash(record)) == 32
    assert content_hash(record) != content_hash({**record, "nested": {"b": [2, 1], "a": None}})
    assert content_hash(record) != content_hash({**record, "id": "1"})


def test_boundary_hashes_are_of_the_record_as_the_api_sent_it() -> None:
    """Fields added after admit (parent fields, a nested cursor's copy) do not change the hash."""
    nested: dict[str, Any] = {
        "cursor_path": "meta.at",
        "replication_key": "meta__at",
        "primary_key": None,
    }
    first = run_of(**nested)
    window = next(iter(first.windows()))
    sent: dict[str, Any] = {"sku": "x", "meta": {"at": "2024-01-05T00:00:00Z"}}
    record = dict(sent)
    assert first.admit(record, window, ())
    record["_parent_id"] = 7  # as the stream adds the parent's fields before writing
    first.observe(record, ())
    state: dict[str, Any] = {}
    first.store(state)
    assert state["boundary_hashes"] == [content_hash(sent)]

    second = run_of(state, **nested)
    window = next(iter(second.windows()))
    assert not second.admit(dict(sent), window, ())


def test_a_record_kept_but_never_written_is_not_in_the_boundary() -> None:
    """Only written records are skipped next time: one that was not written must come again."""
    run = run_of(primary_key=None)
    window = next(iter(run.windows()))
    written = {"id": 1, "updated_at": "2024-01-05T00:00:00Z"}
    unwritten = {"id": 2, "updated_at": "2024-01-05T00:00:00Z"}
    assert run.admit(written, window, ())
    assert run.admit(unwritten, window, ())
    run.observe(written, ())
    state: dict[str, Any] = {}
    run.store(state)
    assert state["boundary_hashes"] == [content_hash(written)]


def test_a_primary_key_replaces_stored_hashes_and_hashes_replace_stored_keys() -> None:
    """A config that gains or loses its primary key keeps one kind of boundary entry."""
    state: dict[str, Any] = {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-05T00:00:00Z",
        "boundary_hashes": ["0" * 32],
    }
    keyed = run_of(state)
    keep(keyed, {"id": 1, "updated_at": "2024-01-05T00:00:00Z"})
    keyed.store(state)
    assert state == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-05T00:00:00Z",
        "boundary_keys": [[1]],
    }
    hashed = run_of(state, primary_key=None)
    record = {"id": 2, "updated_at": "2024-01-05T00:00:00Z"}
    keep(hashed, dict(record))
    hashed.store(state)
    assert state == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-05T00:00:00Z",
        "boundary_hashes": [content_hash(record)],
    }


def test_end_value_run_neither_reads_nor_writes_state() -> None:
    state = {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-20T00:00:00Z",
        "boundary_keys": [[1]],
    }
    run = run_of(state, end_value="2024-01-10T00:00:00Z")
    assert run.raw_start == "2024-01-01T00:00:00Z"
    assert keep(run, {"id": 1, "updated_at": "2024-01-02T00:00:00Z"}) == [1]
    assert run.bookmark() == (None, [])


@pytest.mark.parametrize(
    ("order", "last", "closed", "expected"),
    [
        ("asc", "2024-01-09T00:00:00Z", False, False),
        ("asc", "2024-01-10T00:00:00Z", False, True),
        ("asc", "2024-01-10T00:00:00Z", True, False),  # more records may sit at the closed end
        ("asc", "2024-01-11T00:00:00Z", True, True),
        ("desc", "2024-01-01T00:00:00Z", False, False),
        ("desc", "2023-12-31T23:59:59Z", False, True),
        (None, "2024-01-11T00:00:00Z", False, False),
    ],
)
def test_past_range(order: str | None, last: str, closed: bool, expected: bool) -> None:
    run = run_of(
        end_value="2024-01-10T00:00:00Z",
        row_order=order,
        range_end="closed" if closed else "open",
    )
    window = next(iter(run.windows()))
    assert run.past_range([{"updated_at": last}], window) is expected


def test_asc_order_is_checked_on_observe() -> None:
    run = run_of(row_order="asc")
    run.observe({"updated_at": "2024-01-02T00:00:00Z"}, ("id",))
    run.observe({"updated_at": "2024-01-02T00:00:00Z"}, ("id",))  # ties are fine
    with pytest.raises(IncrementalError, match="row_order is 'asc' but cursor"):
        run.observe({"updated_at": "2024-01-01T12:00:00Z"}, ("id",))


def test_values_render_window_bounds_in_the_start_format() -> None:
    run = run_of(initial_value=1704067200, end_value=1704672000, convert="iso8601")
    window = Window(run.start, run.end, closed_end=False)
    assert run.values(window) == {
        "incremental.start_value": "2024-01-01T00:00:00Z",
        "incremental.last_value": "2024-01-01T00:00:00Z",
        "incremental.initial_value": "2024-01-01T00:00:00Z",
        "incremental.end_value": "2024-01-08T00:00:00Z",
        "incremental.lag": 0.0,
        "incremental.cursor_path": "updated_at",
    }


def test_an_open_range_start_applies_to_the_first_window_only() -> None:
    run = run_of(end_value="2024-01-15T00:00:00Z", window=timedelta(days=7), range_start="open")
    assert [w.open_start for w in run.windows()] == [True, False]
    state = {"replication_key": "updated_at", "replication_key_value": "2024-01-08T00:00:00Z"}
    resumed = run_of(state, window=timedelta(days=7), range_start="open")
    assert [w.open_start for w in resumed.windows()] == [False, False, False, False]
    unwindowed = run_of(state, range_start="open")
    assert [w.open_start for w in unwindowed.windows()] == [True]


def test_windows_over_epoch_numbers() -> None:
    run = run_of(initial_value=1704067200, end_value=1704931200, window=timedelta(days=7))
    window1, window2 = run.windows()
    assert run.values(window1)["incremental.start_value"] == 1704067200
    assert run.values(window1)["incremental.end_value"] == 1704672000
    assert run.values(window2)["incremental.start_value"] == 1704672000
    assert run.values(window2)["incremental.end_value"] == 1704931200


def test_rfc1123_cursors_are_filtered_and_bookmarked_as_instants() -> None:
    """Eve's dates: "Fri, 05 Jan" is after "Mon, 01 Jan" though it sorts before it as text."""
    run = run_of(initial_value="Mon, 01 Jan 2024 00:00:00 GMT")
    assert keep(
        run,
        {"id": 1, "updated_at": "Sun, 31 Dec 2023 23:59:59 GMT"},
        {"id": 2, "updated_at": "Fri, 05 Jan 2024 00:00:00 GMT"},
        {"id": 3, "updated_at": "Tue, 02 Jan 2024 00:00:00 GMT"},
    ) == [2, 3]
    assert run.bookmark()[0] == "Fri, 05 Jan 2024 00:00:00 GMT"


def test_an_rfc1123_bookmark_is_sent_back_in_rfc1123_after_a_lag() -> None:
    state = {
        "replication_key": "updated_at",
        "replication_key_value": "Sat, 06 Jan 2024 17:00:00 GMT",
    }
    run = run_of(state, lag=3600)
    values = run.values(next(iter(run.windows())))
    assert values["incremental.start_value"] == "Sat, 06 Jan 2024 16:00:00 GMT"
