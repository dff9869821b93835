"""``restgeneric partitions``: windows tile the range, stream partitions cover each family once,
every overlay gives a valid config, the merge rule, and window partitions run against the demo
API write exactly the records of one full run."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cli import example
from helpers import BASE_URL, records, states, sync

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.records.cursors import compare, parse_point
from tap_restgeneric.tools.__main__ import main
from tap_restgeneric.tools.common import ToolError
from tap_restgeneric.tools.partition_ranges import combined_state, split
from tap_restgeneric.tools.partitions import apply
from tap_restgeneric.tools.validate import check_config

UTC = timezone.utc
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def partitions(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[Any, str]:
    """Run ``restgeneric partitions *argv`` in-process: the printed JSON and stderr."""
    capsys.readouterr()
    code = main(["partitions", *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), captured.err


def write(tmp_path: Path, name: str, value: Any) -> str:
    """Write JSON; return its path."""
    path = tmp_path / name
    path.write_text(json.dumps(value))
    return str(path)


def incremental(**extra: Any) -> dict[str, Any]:
    """An endpoint ``incremental`` on ``updated_at`` from 2024-01-01."""
    return {
        "cursor_path": "updated_at",
        "start_param": "since",
        "end_param": "until",
        "initial_value": "2024-01-01T00:00:00Z",
        **extra,
    }


def one_resource(inc: dict[str, Any]) -> dict[str, Any]:
    """A config whose ``items`` resource is incremental as given, beside a full-table one."""
    return {
        "client": {"base_url": BASE_URL},
        "resources": [
            {"name": "items", "primary_key": "id", "endpoint": {"incremental": inc}},
            "users",
        ],
    }


# --------------------------------------------------------------------------------------------
# ranges


@pytest.mark.parametrize("fmt", ["iso8601", "date", "epoch", "epoch_ms"])
@pytest.mark.parametrize("days", [1, 7, 30, 365])
def test_ranges_tile_start_to_end_for_every_count_and_window(fmt: str, days: int) -> None:
    start, end = T0, T0 + timedelta(days=days)
    windows = [timedelta(days=1), timedelta(days=7), timedelta(days=40)]
    if fmt != "date":
        windows += [timedelta(hours=6), timedelta(seconds=7)]
    cases: list[tuple[int | None, timedelta | None]] = [(n, None) for n in (1, 2, 3, 7, 12, 100)]
    cases += [(None, w) for w in windows]
    for case in cases:
        count, window = case
        if window is not None and -(-(end - start) // window) > 1000:
            with pytest.raises(ToolError, match="more than 1,000 windows"):
                split(start, end, fmt, count=count, window=window)
            continue
        ranges = split(start, end, fmt, count=count, window=window)
        assert ranges[0][0] == start, case
        assert ranges[-1][1] == end, case
        for (_, hi), (lo, _) in itertools.pairwise(ranges):
            assert hi == lo, case  # no gap, no overlap ([lo, hi) half-open)
        assert all(lo < hi for lo, hi in ranges), case
        if count is not None:
            assert len(ranges) <= count
            sizes = [hi - lo for lo, hi in ranges]
            unit = timedelta(days=1) if fmt == "date" else timedelta(seconds=1)
            assert max(sizes) - min(sizes) <= unit, case
        else:
            assert window is not None
            assert all(hi - lo == window for lo, hi in ranges[:-1]), case


def test_a_window_that_is_not_whole_days_is_refused_for_a_date_cursor() -> None:
    with pytest.raises(ToolError, match="not a whole number"):
        split(T0, T0 + timedelta(days=3), "date", count=None, window=timedelta(hours=6))
    with pytest.raises(ToolError, match="nothing to split"):
        split(T0, T0, "iso8601", count=2, window=None)


def test_at_most_1000_windows(capsys: pytest.CaptureFixture[str]) -> None:
    """A second-sized window over a month would be 2.7 million jobs (and hours, gigabytes)."""
    ranges = split(T0, T0 + timedelta(days=1000), "date", count=None, window=timedelta(days=1))
    assert len(ranges) == 1000
    ranges = split(T0, T0 + timedelta(days=31), "iso8601", count=1000, window=None)
    assert len(ranges) == 1000
    config = str(Path(__file__).parent.parent / "examples" / "seed_000_incremental.json")
    argv = ["partitions", config, "--by", "window", "--end", "2024-02-01T00:00:00Z"]
    assert main([*argv, "--count", "1001"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "--count must be at most 1,000 (each a job of its own)"
    ]
    assert main([*argv, "--window", "PT1S"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "the window 0:00:01 cuts the range into more than 1,000 windows (each a job of its "
        "own): give a larger --window, or --count"
    )


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (3, "is not an object"),
        ({"state_id": ["a"], "name": "a"}, "has no 'state_id' string"),
        ({"state_id": "a", "name": "a", "window": "w"}, "has a 'window' that is not an object"),
        (
            {"state_id": "a", "name": "a", "window": {"resource": "x"}},
            "has no window 'stream' string",
        ),
    ],
)
def test_merge_refuses_a_manifest_entry_that_is_no_partition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: Any, problem: str
) -> None:
    manifest = write(tmp_path, "partitions.json", [entry])
    state = write(tmp_path, "a.json", {"bookmarks": {}})
    assert main(["partitions", "--merge-state", state, "--manifest", manifest]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{manifest}: partition 1 {problem}; expected the list partitions prints"
    ]


def window_bounds(parts: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The ``incremental`` each window partition of resource ``name`` sets."""
    found = []
    for part in parts:
        if part.get("window", {}).get("resource") != name:
            continue
        item = next(r for r in part["overlay"]["resources"] if r["name"] == name)
        found.append(item["endpoint"]["incremental"])
    return found


@pytest.mark.parametrize(
    ("initial", "end", "args"),
    [
        ("2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", ["--count", "4"]),
        ("2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", ["--window", "PT36H"]),
        ("2024-01-01", "2024-02-10", ["--count", "3"]),
        ("2024-01-01", "2024-02-10", ["--window", "P7D"]),
        (1704067200, "2024-01-02T00:00:00Z", ["--count", "5"]),
    ],
)
def test_window_partitions_tile_the_range_and_each_config_validates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, initial: Any, end: str, args: list[str]
) -> None:
    config = one_resource(incremental(initial_value=initial))
    base = write(tmp_path, "config.json", config)
    parts, _ = partitions(capsys, base, "--by", "window", "--end", end, *args)
    bounds = window_bounds(parts, "items")
    assert bounds[0]["initial_value"] == initial
    last, stop = parse_point(bounds[-1]["end_value"]), parse_point(end)
    assert last is not None
    assert stop is not None
    assert compare(last, stop) == 0
    for a, b in itertools.pairwise(bounds):
        assert a["end_value"] == b["initial_value"]
    assert {(b["range_start"], b["range_end"]) for b in bounds} == {("closed", "open")}
    assert [p["name"] for p in parts][-1] == "unpartitioned"
    assert parts[-1]["streams"] == ["users"]
    for part in parts:  # each overlay, as a second --config file, gives a valid config
        overlay = write(tmp_path, f"{part['state_id']}.json", part["overlay"])
        capsys.readouterr()
        assert main(["validate", base, overlay]) == 0, capsys.readouterr().out
        spec = check_config(apply(config, part["overlay"])).spec
        assert spec is not None
        assert [r.name for r in spec.resources if r.selected] == part["streams"]


def test_boundaries_stay_disjoint_whatever_range_start_and_range_end_say(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    end = ["--end", "2024-01-05T00:00:00Z", "--count", "3"]
    closed = write(tmp_path, "closed.json", one_resource(incremental(range_end="closed")))
    parts, notes = partitions(capsys, closed, "--by", "window", *end)
    assert {b["range_end"] for b in window_bounds(parts, "items")} == {"open"}
    assert "range_end 'closed' is 'open' in its windows" in notes
    opened = write(tmp_path, "open.json", one_resource(incremental(range_start="open")))
    parts, _ = partitions(capsys, opened, "--by", "window", *end)
    assert {(b["range_start"], b["range_end"]) for b in window_bounds(parts, "items")} == {
        ("open", "closed")
    }  # (s, e]: the merged bookmark, skipped by the next run, was written
    windowed = incremental(range_start="open", window_size="P1D")
    sized = write(tmp_path, "sized.json", one_resource(windowed))
    parts, _ = partitions(capsys, sized, "--by", "window", *end)
    got = [(b["range_start"], b["range_end"]) for b in window_bounds(parts, "items")]
    assert got == [("open", "open"), ("closed", "open"), ("closed", "open")]


def test_the_end_is_the_option_else_the_end_value_else_now(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = write(tmp_path, "c.json", one_resource(incremental(end_value="2024-01-09T00:00:00Z")))
    parts, _ = partitions(capsys, base, "--by", "window", "--count", "2")
    assert window_bounds(parts, "items")[-1]["end_value"] == "2024-01-09T00:00:00Z"
    parts, _ = partitions(capsys, base, "--by", "window", "--count", "2", "--end", "2024-01-03")
    assert [b["end_value"] for b in window_bounds(parts, "items")] == [
        "2024-01-02T00:00:00Z",
        "2024-01-03T00:00:00Z",
    ]
    now = write(tmp_path, "now.json", one_resource(incremental()))
    before = datetime.now(UTC).replace(microsecond=0)
    parts, _ = partitions(capsys, now, "--by", "window", "--count", "2")
    last = parse_point(window_bounds(parts, "items")[-1]["end_value"])
    assert isinstance(last, datetime)
    assert before <= last <= datetime.now(UTC)


def test_a_param_level_incremental_becomes_the_endpoint_form(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    since = {"type": "incremental", "cursor_path": "updated_at", "initial_value": "2024-01-01"}
    config = {
        "client": {"base_url": BASE_URL},
        "resources": [{"name": "items", "endpoint": {"params": {"since": since, "q": "x"}}}],
    }
    base = write(tmp_path, "config.json", config)
    parts, _ = partitions(capsys, base, "--by", "window", "--count", "2", "--end", "2024-01-05")
    endpoint = parts[0]["overlay"]["resources"][0]["endpoint"]
    assert endpoint["params"] == {"q": "x"}
    assert endpoint["incremental"]["start_param"] == "since"
    assert endpoint["incremental"]["end_value"] == "2024-01-03"
    assert check_config(apply(config, parts[1]["overlay"])).spec is not None


# --------------------------------------------------------------------------------------------
# streams


def child(name: str, parent: str, **extra: Any) -> dict[str, Any]:
    """A child resource of ``parent``."""
    return {"name": name, "endpoint": {"path": f"{parent}/{{resources.{parent}.id}}/x"}, **extra}


FAMILY_CONFIG: dict[str, Any] = {
    "client": {"base_url": BASE_URL},
    "resource_defaults": {"primary_key": "id"},
    "resources": [
        "orders",
        child("order_items", "orders"),
        child("item_events", "order_items"),
        "users",
        {"name": "archive", "selected": False},
        {"name": "teams", "selected": False},
        child("members", "teams"),
    ],
}


def test_stream_partitions_cover_each_selected_top_level_resource_once_with_its_children(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = write(tmp_path, "config.json", FAMILY_CONFIG)
    parts, _ = partitions(capsys, base, "--by", "stream")
    assert [(p["name"], p["streams"]) for p in parts] == [
        ("orders", ["orders", "order_items", "item_events"]),
        ("users", ["users"]),
        ("teams", ["members"]),  # an unselected parent runs for its selected child
    ]
    written = [s for p in parts for s in p["streams"]]
    assert sorted(written) == sorted(set(written))
    spec = check_config(FAMILY_CONFIG).spec
    assert spec is not None
    assert sorted(written) == sorted(r.name for r in spec.resources if r.selected)
    for part in parts:
        overlay = write(tmp_path, f"{part['state_id']}.json", part["overlay"])
        capsys.readouterr()
        assert main(["validate", base, overlay]) == 0
        spec = check_config(apply(FAMILY_CONFIG, part["overlay"])).spec
        assert spec is not None
        assert [r.name for r in spec.resources if r.selected] == part["streams"]


def test_out_dir_holds_whole_configs_and_the_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = write(tmp_path, "config.json", FAMILY_CONFIG)
    parts, _ = partitions(capsys, base, "--by", "stream", "--out-dir", str(tmp_path / "parts"))
    assert json.loads((tmp_path / "parts" / "partitions.json").read_text()) == parts
    for part in parts:
        whole = json.loads((tmp_path / "parts" / f"{part['name']}.json").read_text())
        assert whole == apply(FAMILY_CONFIG, part["overlay"])
        assert (tmp_path / "parts" / f"{part['name']}.json").stat().st_mode & 0o077 == 0


# --------------------------------------------------------------------------------------------
# the merge rule


def manifest(ends: list[str]) -> list[dict[str, Any]]:
    """Window partitions w1… of stream ``items`` ending at ``ends`` (from 2024-01-01)."""
    starts = ["2024-01-01T00:00:00Z", *ends[:-1]]
    return [
        {
            "name": f"items-w{i + 1}",
            "state_id": f"items-w{i + 1}",
            "window": {
                "resource": "items",
                "stream": "items",
                "replication_key": "updated_at",
                "start": lo,
                "end": hi,
            },
        }
        for i, (lo, hi) in enumerate(zip(starts, ends, strict=True))
    ] + [{"name": "unpartitioned", "state_id": "unpartitioned"}]


ENDS = ["2024-01-10T00:00:00Z", "2024-01-20T00:00:00Z", "2024-01-30T00:00:00Z"]
DONE: dict[str, Any] = {"bookmarks": {"items": {}}}


def test_merge_without_a_gap_bookmarks_the_last_end_and_keeps_other_bookmarks() -> None:
    users = {"bookmarks": {"users": {"replication_key": "id", "replication_key_value": 7}}}
    given = {"items-w3": DONE, "items-w1": DONE, "items-w2": DONE, "unpartitioned": users}
    state, notes = combined_state(manifest(ENDS), given)
    assert state == {
        "bookmarks": {
            "users": {"replication_key": "id", "replication_key_value": 7},
            "items": {"replication_key": "updated_at", "replication_key_value": ENDS[2]},
        }
    }
    assert notes == [f"items: windows 1-3 of 3 complete: {ENDS[2]}"]


def test_merge_with_a_gap_stops_at_the_end_before_it() -> None:
    state, notes = combined_state(manifest(ENDS), {"items-w1": DONE, "items-w3": DONE})
    assert state["bookmarks"]["items"]["replication_key_value"] == ENDS[0]
    assert notes == [f"items: windows 1-1 of 3 complete; window 2 (items-w2) is missing: {ENDS[0]}"]
    state, notes = combined_state(manifest(ENDS), {"items-w2": DONE, "items-w3": DONE})
    assert state == {"bookmarks": {}}
    assert "did not complete" in notes[0]


def test_merge_state_command_reads_state_files_named_by_state_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    listed = write(tmp_path, "partitions.json", manifest(ENDS))
    one = write(tmp_path, "items-w1.json", DONE)
    two = write(tmp_path, "items-w2.json", {"singer_state": DONE})  # as `meltano state get`
    state, notes = partitions(capsys, "--merge-state", one, two, "--manifest", listed)
    assert state["bookmarks"]["items"]["replication_key_value"] == ENDS[1]
    assert "window 3 (items-w3) is missing" in notes
    capsys.readouterr()
    stray = write(tmp_path, "other.json", DONE)
    assert main(["partitions", "--merge-state", stray, "--manifest", listed]) == 1
    assert "no partition has the state id 'other'" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# end to end: the demo API


@pytest.mark.parametrize(
    ("seed", "streams", "args"),
    [
        ("seed_000_incremental", ("crm_contacts", "signing_links", "user"), ["--count", "3"]),
        ("seed_000_incremental", ("crm_contacts", "user_modified_documents"), ["--window", "P1D"]),
        # cursor paging, epoch params, row_order asc: each window stops past its end
        ("seed_003_incremental", ("customers", "account", "custom_fields"), ["--count", "4"]),
    ],
)
def test_window_partitions_against_the_demo_write_one_full_run_each_record_once(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seed: str,
    streams: tuple[str, ...],
    args: list[str],
) -> None:
    with DemoServer(port=0, faults=False) as server:
        config = example(seed, server.url)
        full = sync(config)
        base = write(tmp_path, "config.json", config)
        end = "2024-01-20T00:00:00Z"  # after every demo record's updated_at
        parts, _ = partitions(capsys, base, "--by", "window", "--end", end, *args)
        written: dict[str, list[Any]] = {}
        done: dict[str, Any] = {}
        for part in parts:
            messages = sync(apply(config, part["overlay"]))
            for stream in part["streams"]:
                written.setdefault(stream, []).extend(r["id"] for r in records(messages, stream))
            done[part["name"]] = states(messages)[-1]
            if "window" in part:  # a backfill: no bookmark of its own
                assert done[part["name"]]["bookmarks"][part["window"]["stream"]] == {}
    assert len([p for p in parts if "window" in p]) > 2
    for stream in streams:
        once = [r["id"] for r in records(full, stream)]
        assert once, stream
        assert sorted(written[stream]) == sorted(once), stream
        assert len(written[stream]) == len(set(written[stream])), stream
    state, _ = combined_state(parts, done)
    assert state["bookmarks"][streams[0]] == {
        "replication_key": "updated_at",
        "replication_key_value": end,
    }
