"""Incremental sync end to end through the CLI against the demo API: two runs, SIGKILL and resume,
Meltano state (processes: slow, see conftest.SLOW_MODULES)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cli import (
    Run,
    clean_env,
    example,
    file_limited,
    jsonl_ids,
    kill_after_states,
    meltano_run,
    parse_messages,
    run_tap,
    signal_after,
)
from faults import FaultServer
from promise_server import run_into_target

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.data import records

LATER = "2025-06-01T12:00:00Z"


def epoch(iso: str) -> str:
    """Epoch seconds of an ISO timestamp, as the demo's query string carries it."""
    return str(int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()))


def queries(server: DemoServer, path: str, param: str, since: int = 0) -> list[str | None]:
    """The values of one query param in the requests made to a path (from ``since`` on)."""
    log = server.requests[since:]
    return [(r["query"].get(param) or [None])[0] for r in log if r["path"] == path]


def sent_to(server: DemoServer, path: str) -> list[dict[str, str]]:
    """The query (one value per param) of every request made to a path, in order."""
    log = [r for r in server.requests if r["path"] == path]
    return [{name: values[0] for name, values in r["query"].items()} for r in log]


def last_bookmark(run: Run, stream: str) -> dict[str, Any]:
    """The stream's entry in the run's last STATE message."""
    return dict(run.states[-1]["bookmarks"][stream])


def test_seed_003_second_run_sends_the_bookmark_and_gets_only_changes(
    demo: DemoServer, tmp_path: Path
) -> None:
    """Run 1: every customer; run 2: the exact epoch bookmark is sent, only changes return."""
    config = example("seed_003_incremental", demo.url)
    before = len(demo.requests)
    first = run_tap(config, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert sorted(first.ids("customers")) == list(range(1, 131))
    newest = max(r["updated_at"] for r in records("s003_customers"))
    at_newest = sorted(r["id"] for r in records("s003_customers") if r["updated_at"] == newest)
    assert last_bookmark(first, "customers") == {
        "replication_key": "updated_at",
        "replication_key_value": newest,
        "boundary_keys": [[i] for i in at_newest],
    }
    sent = queries(demo, "/s003/v1/customers", "updated_at_gte", before)
    assert sent[0] == epoch("2024-01-01T00:00:00Z")

    fresh = DemoServer(port=0, faults=False)
    with fresh:
        fresh.touch("s003_customers", [7, 42, 99], LATER)
        fresh.add("s003_customers", {"id": 131, "name": "new", "updated_at": LATER})
        second = run_tap(
            example("seed_003_incremental", fresh.url), tmp_path, state=first.states[-1]
        )
        run2_sent = sent_to(fresh, "/s003/v1/customers")
        first_request = fresh.requests[0]["path"]
    assert second.returncode == 0, second.stderr[-2000:]
    # No catalog and no declared schema, but a bookmark: before syncing, customers is typed
    # from one page sampled from initial_value (state ignored), as run 1 typed it; then the
    # sync sends the exact bookmark.
    sample = {"sort": "updated_at", "updated_at_gte": epoch("2024-01-01T00:00:00Z"), "limit": "50"}
    assert first_request == "/s003/v1/customers"
    assert run2_sent == [sample, {**sample, "updated_at_gte": epoch(newest)}]
    assert second.ids("customers") == [7, 42, 99, 131]
    assert last_bookmark(second, "customers")["replication_key_value"] == LATER


def test_seed_000_contacts_two_runs(demo: DemoServer, tmp_path: Path) -> None:
    """ISO cursor: run 2 sends updated_since equal to the stored bookmark, no boundary repeat."""
    first = run_tap(example("seed_000_incremental", demo.url), tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.ids("crm_contacts") == list(range(1, 46))
    bookmark = last_bookmark(first, "crm_contacts")["replication_key_value"]
    with DemoServer(port=0, faults=False) as fresh:
        fresh.touch("s000_contacts", [3], LATER)
        second = run_tap(
            example("seed_000_incremental", fresh.url), tmp_path, state=first.states[-1]
        )
        sample, *synced = sent_to(fresh, "/s000/v2/crm/contacts")
    assert second.returncode == 0, second.stderr[-2000:]
    # the schema sample (no catalog, no declared schema): page 0 from initial_value, state ignored
    assert sample == {"updated_since": "2024-01-01T00:00:00Z", "page": "0", "per_page": "20"}
    # then the sync: from page 0 again, every request sending the stored bookmark
    assert synced[0] == {**sample, "updated_since": bookmark}
    assert [query["updated_since"] for query in synced] == [bookmark] * len(synced)
    assert second.ids("crm_contacts") == [3]
    assert second.ids("user") == ["usr_1"]  # full-table streams are unaffected


def contacts_without_a_primary_key(base_url: str) -> dict[str, Any]:
    """seed_000's crm_contacts, with the primary key taken out of the resource defaults."""
    config = example("seed_000_incremental", base_url)
    del config["resource_defaults"]["primary_key"]
    config["resources"] = [r for r in config["resources"] if r["name"] == "crm_contacts"]
    return config


def test_without_a_primary_key_the_second_run_skips_the_boundary_record(tmp_path: Path) -> None:
    """No primary key: the record at the bookmark comes back on run 2 but is not written again."""
    with DemoServer(port=0, faults=False) as server:
        first = run_tap(contacts_without_a_primary_key(server.url), tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.ids("crm_contacts") == list(range(1, 46))
    saved = last_bookmark(first, "crm_contacts")
    assert saved["replication_key_value"] == "2024-01-06T20:30:00Z"  # record 44 alone
    assert len(saved["boundary_hashes"]) == 1
    assert "boundary_keys" not in saved
    assert "user44@example.com" not in str(first.states[-1])  # a digest, not the record

    with DemoServer(port=0, faults=False) as fresh:
        fresh.touch("s000_contacts", [3], LATER)
        second = run_tap(
            contacts_without_a_primary_key(fresh.url), tmp_path, state=first.states[-1]
        )
        sample, *synced = sent_to(fresh, "/s000/v2/crm/contacts")
    assert second.returncode == 0, second.stderr[-2000:]
    # the schema sample first (page 0 from initial_value), then the sync from the bookmark
    assert sample == {"updated_since": "2024-01-01T00:00:00Z", "page": "0", "per_page": "20"}
    assert synced[0] == {**sample, "updated_since": "2024-01-06T20:30:00Z"}  # 44 again, and 3
    assert [query["updated_since"] for query in synced] == ["2024-01-06T20:30:00Z"] * len(synced)
    assert second.ids("crm_contacts") == [3]


def test_sigkill_mid_run_then_resume_loses_nothing(tmp_path: Path) -> None:
    """row_order asc bookmarks per page: kill after page 2, resume from the last STATE."""
    with DemoServer(port=0, faults=False, page_delay=0.2) as server:
        config = example("seed_003_incremental", server.url)
        config["resources"] = [r for r in config["resources"] if r["name"] == "customers"]
        killed = kill_after_states(config, tmp_path, states=2)
        assert killed.returncode == -signal.SIGKILL
        assert 0 < len(killed.ids("customers")) < 130
        resumed = run_tap(config, tmp_path, state=killed.states[-1])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    written = killed.ids("customers") + resumed.ids("customers")
    assert sorted(set(written)) == list(range(1, 131))
    assert len(written) == len(set(written))  # the boundary record is not written twice


def test_meltano_run_twice_uses_meltano_state(meltano_project: Path) -> None:
    """meltano run stores the bookmark; the second run extracts only the changed records."""
    with DemoServer(port=0, faults=False) as server:
        config = example("seed_003_incremental", server.url)
        config["resources"] = [r for r in config["resources"] if r["name"] == "customers"]
        args = ("--state-id-suffix", "incremental-e2e")
        first = meltano_run(meltano_project, config, *args)
        assert first.returncode == 0, first.stderr[-3000:]
        assert sorted(jsonl_ids(meltano_project / "output" / "customers.jsonl")) == list(
            range(1, 131)
        )
        server.touch("s003_customers", [5, 77], LATER)
        second = meltano_run(meltano_project, config, *args)
        assert second.returncode == 0, second.stderr[-3000:]
        assert jsonl_ids(meltano_project / "output" / "customers.jsonl") == [5, 77]


# --------------------------------------------------------------------------------------------
# date windows side by side (sync/windows.py), against the fault server at 20-50 ms a page

WINDOWED_RECORDS = 400  # two an hour from nine days ago at midnight: nine or ten daily windows


def nine_days_ago() -> datetime:
    """Midnight (UTC) nine days ago: the start of the windowed data and its initial_value."""
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=9)


def windowed_config(api: FaultServer, start: datetime, *paths: str) -> dict[str, Any]:
    """Daily windows (since/until) from ``start`` over Link-header pages, default settings."""
    incremental = {
        "cursor_path": "updated_at",
        "initial_value": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_param": "since",
        "end_param": "until",
        "window_size": "P1D",
    }
    resources = [
        {
            "name": path,
            "primary_key": "id",
            "endpoint": {
                "path": path,
                "data_selector": "data",
                "paginator": {"type": "header_link"},
                "incremental": incremental,
            },
        }
        for path in paths
    ]
    return {"client": {"base_url": api.url}, "resources": resources}


def test_windows_sigkill_mid_window_then_resume_repeats_only_that_window(tmp_path: Path) -> None:
    """Killed in window 3: the last STATE bookmarks window 2's end; the resume starts there."""
    start = nine_days_ago()
    with FaultServer({"/items": WINDOWED_RECORDS}, auth=None, page_delay=0.05, epoch=start) as api:
        config = windowed_config(api, start, "items")
        killed = signal_after(config, tmp_path, 130, "RECORD", signal.SIGKILL)
        assert killed.returncode == -signal.SIGKILL
        assert killed.ids("items") == list(range(1, 131))  # windows in order, none skipped
        mark = killed.states[-1]["bookmarks"]["items"]["replication_key_value"]
        assert mark == (start + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        sent_before = len(api.log("/items"))
        resumed = run_tap(config, tmp_path, state=killed.states[-1])
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        resumed_since = [r.query["since"] for r in api.log("/items")[sent_before:]]
    # the windows before the bookmark are not asked again; one page of the first is sampled
    # for the schema (as without windows: sampling reads the start, state filters the sync)
    assert [since for since in resumed_since if since < mark] == [resumed_since[0]]
    assert min(since for since in resumed_since if since >= mark) == mark
    written = killed.ids("items") + resumed.ids("items")
    assert sorted(set(written)) == list(range(1, WINDOWED_RECORDS + 1))
    repeated = sorted(i for i in set(written) if written.count(i) > 1)
    assert repeated == list(range(96, 131))  # window 3 (ids 96-143) as far as read, only


def test_windows_side_by_side_piped_into_target_jsonl(tmp_path: Path) -> None:
    """Default settings, two windowed streams: every line parses, every id once per stream."""
    start = nine_days_ago()
    datasets = {"/items": WINDOWED_RECORDS, "/orders": 333}
    with FaultServer(datasets, auth=None, page_delay=0.02, epoch=start) as api:
        piped = run_into_target(windowed_config(api, start, "items", "orders"), tmp_path)
        most = api.most_in_flight
    piped.check()
    assert sorted(piped.files["items"]) == list(range(1, WINDOWED_RECORDS + 1))
    assert sorted(piped.files["orders"]) == list(range(1, 334))
    assert piped.files["items"] == sorted(piped.files["items"])  # window by window, in order
    assert most >= 3
    assert piped.state is not None
    for stream in ("items", "orders"):
        value = piped.state["bookmarks"][stream]["replication_key_value"]
        assert value >= (start + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_windows_sigterm_stops_at_the_next_page_with_exit_143(tmp_path: Path) -> None:
    """SIGTERM mid-window: the windows in flight stop, one line, exit 143, and the resume from
    its last STATE writes the rest (the records of the window being written, again)."""
    start = nine_days_ago()
    with FaultServer({"/items": WINDOWED_RECORDS}, auth=None, page_delay=0.05, epoch=start) as api:
        config = windowed_config(api, start, "items")
        stopped = signal_after(config, tmp_path, 130, "RECORD", signal.SIGTERM)
        assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr[-2000:]
        assert stopped.seconds < 5
        resumed = run_tap(config, tmp_path, state=stopped.states[-1])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    first = stopped.ids("items")
    assert first == list(range(1, len(first) + 1))  # in order, none skipped, none twice
    assert "Traceback" not in stopped.stderr
    assert stopped.stderr.count("| ERROR") == 1
    assert "stopped by SIGTERM before the end" in stopped.stderr
    mark = stopped.states[-1]["bookmarks"]["items"]["replication_key_value"]
    written = first + resumed.ids("items")
    assert sorted(set(written)) == list(range(1, WINDOWED_RECORDS + 1))
    repeated = {i for i in written if written.count(i) > 1}
    assert all(r["updated_at"] >= mark for r in api.records() if r["id"] in repeated)


def test_windows_wait_for_their_turn_when_the_spool_has_no_room(tmp_path: Path) -> None:
    """No room for the temporary file of windows fetched ahead (each file of the tap limited to
    1,000 bytes, as a full disk would): they wait for their turn instead, one warning, every
    record once, exit 0 (a full disk made this run fail with 'unexpected error: OSError')."""
    start = nine_days_ago()
    with FaultServer({"/items": WINDOWED_RECORDS}, auth=None, page_delay=0.05, epoch=start) as api:
        config = windowed_config(api, start, "items")
        config["resources"][0]["endpoint"]["incremental"]["window_size"] = "P3D"  # 15 pages
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))

        tap = [sys.executable, "-m", "tap_restgeneric.tap", "--config", str(path)]
        done = subprocess.run(
            file_limited(1000, tap),  # a page of 10 records fits, two do not
            check=False,
            capture_output=True,  # stdout a pipe: the limit is on files
            text=True,
            env=clean_env(),
            timeout=120,
        )
    run = parse_messages(Run(done.returncode, done.stdout, done.stderr))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.ids("items") == list(range(1, WINDOWED_RECORDS + 1))
    warned = [line for line in run.stderr.splitlines() if "no room to keep the pages" in line]
    assert len(warned) == 1
    assert warned[0].endswith(
        "stream 'items': no room to keep the pages of date windows fetched ahead of their turn "
        f"in a temporary file in {tempfile.gettempdir()} (File too large): they wait for their "
        "turn instead (slower, nothing lost); free space there or set TMPDIR"
    )


def test_windowed_parent_with_a_child_piped_into_target_jsonl(tmp_path: Path) -> None:
    """Default settings: a windowed parent (windows fetched side by side) and a child resource
    asked once per parent record; every parent once in order, every child page once."""
    start = nine_days_ago()
    with FaultServer({"/items": WINDOWED_RECORDS, "/orders": 5}, auth=None, epoch=start) as api:
        config = windowed_config(api, start, "items")
        child = {
            "name": "orders",
            "primary_key": ["_items_id", "id"],
            "include_from_parent": ["id"],
            "endpoint": {
                "path": "orders",
                "params": {"item": "{resources.items.id}"},
                "data_selector": "data",
                "paginator": {"type": "header_link"},
            },
        }
        config["resources"].append(child)
        piped = run_into_target(config, tmp_path)
        asked = sorted(
            int(r.query["item"]) for r in api.log("/orders") if r.query.get("page") is None
        )
    piped.check()
    assert piped.files["items"] == list(range(1, WINDOWED_RECORDS + 1))
    assert asked == list(range(1, WINDOWED_RECORDS + 1))  # each parent's sequence once
    assert sorted(piped.files["orders"]) == sorted(list(range(1, 6)) * WINDOWED_RECORDS)
