"""Independent top-level streams synced side by side (``max_concurrency`` > 1), in-process.

The API is the fault server on 127.0.0.1 (requests-mock answers one request at a time, so it
cannot show concurrency): it logs when each request arrived and the most it answered at once.
"""

from __future__ import annotations

import copy
import logging
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli import signal_after
from faults import FaultServer, updated_at
from helpers import Message, sync
from singer_sdk.helpers.types import TapState

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.sync.parallel import SnapshotStateWriter, sync_side_by_side
from tap_restgeneric.tap import TapRestGeneric

SIZES = {"/alpha": 35, "/beta": 42, "/gamma": 28}


@pytest.fixture
def api() -> Iterator[FaultServer]:
    """Three collections, a one-record ``notes`` collection per alpha record; 20 ms a page."""
    notes = {f"/alpha/{n}/notes": 1 for n in range(1, SIZES["/alpha"] + 1)}
    with FaultServer({**SIZES, **notes}, auth=None, page_delay=0.02) as server:
        yield server


def config(api: FaultServer, *names: str, concurrency: int = 4) -> dict[str, Any]:
    """Incremental page_number resources, plus ``notes`` (a child of alpha)."""
    resources: list[dict[str, Any]] = [
        {
            "name": name,
            "primary_key": "id",
            "endpoint": {
                "path": name,
                "data_selector": "data",
                "paginator": {"type": "page_number", "base_page": 1, "total_path": "total_pages"},
                "incremental": {"cursor_path": "updated_at", "initial_value": updated_at(0)},
            },
        }
        for name in names
    ]
    notes = {"path": "alpha/{resources.alpha.id}/notes", "paginator": "single_page"}
    resources.append({"name": "notes", "primary_key": "id", "endpoint": notes})
    return {"client": {"base_url": api.url}, "resources": resources, "max_concurrency": concurrency}


def ids(messages: list[Message], stream: str) -> list[int]:
    """The ids a stream wrote, in order."""
    return [m["record"]["id"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def final_bookmarks(messages: list[Message]) -> dict[str, Any]:
    """The bookmarks of the last STATE."""
    states = [m for m in messages if m["type"] == "STATE"]
    bookmarks: dict[str, Any] = states[-1]["value"]["bookmarks"]
    return bookmarks


def arrivals(api: FaultServer, path: str) -> list[float]:
    """When each request to ``path`` arrived."""
    return [r.time for r in api.log(path)]


def test_streams_run_side_by_side_and_every_record_is_written_once(api: FaultServer) -> None:
    messages = sync(config(api, "alpha", "beta"))
    assert ids(messages, "alpha") == list(range(1, 36))
    assert ids(messages, "beta") == list(range(1, 43))
    assert len(ids(messages, "notes")) == 35  # one per alpha record, synced with its parent
    assert api.most_in_flight >= 2
    assert arrivals(api, "/beta")[0] < arrivals(api, "/alpha")[-1]  # beta did not wait for alpha
    for stream in ("alpha", "beta", "notes"):
        kinds = [m["type"] for m in messages if m.get("stream") == stream]
        assert kinds[0] == "SCHEMA" and kinds.count("SCHEMA") == 1
    bookmarks = final_bookmarks(messages)
    assert bookmarks["alpha"]["replication_key_value"] == updated_at(35)
    assert bookmarks["beta"]["replication_key_value"] == updated_at(42)


def test_a_deselected_stream_is_skipped(api: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    cfg = config(api, "alpha", "beta", "gamma")
    catalog = copy.deepcopy(TapRestGeneric(config=cfg, parse_env_config=False).catalog_dict)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] != "gamma"
    with caplog.at_level(logging.INFO):
        messages = sync(cfg, catalog=catalog)
    assert "Skipping deselected stream 'gamma'." in caplog.messages
    assert api.log("/gamma") == []
    assert ids(messages, "beta") == list(range(1, 43))
    assert api.most_in_flight >= 2


def test_one_stream_after_the_other_without_concurrency(api: FaultServer) -> None:
    messages = sync(config(api, "alpha", "beta", concurrency=1))
    assert api.most_in_flight == 1
    assert arrivals(api, "/beta")[0] > arrivals(api, "/alpha")[-1]
    names = [m["stream"] for m in messages if m["type"] == "RECORD" and m["stream"] != "notes"]
    assert names == ["alpha"] * 35 + ["beta"] * 42


def test_requests_in_flight_never_exceed_max_concurrency(api: FaultServer) -> None:
    messages = sync(config(api, "alpha", "beta", "gamma", concurrency=2))
    assert api.most_in_flight == 2
    for name, size in SIZES.items():
        assert ids(messages, name[1:]) == list(range(1, size + 1))


def test_every_state_is_whole_and_bookmarks_never_go_back(api: FaultServer) -> None:
    messages = sync(config(api, "alpha", "beta", "gamma", concurrency=3))
    latest: dict[str, str] = {}
    for state in (m["value"]["bookmarks"] for m in messages if m["type"] == "STATE"):
        for name, entry in state.items():
            value = entry.get("replication_key_value")
            if value is not None:
                assert value >= latest.get(name, value)
                latest[name] = value
    assert latest == {name[1:]: updated_at(size) for name, size in SIZES.items()}


def test_a_failing_stream_leaves_the_others_to_finish(api: FaultServer) -> None:
    """Independent streams run to their end (and store their bookmarks) when one fails."""
    messages: list[Message] = []
    cfg = config(api, "alpha", "missing", "gamma")
    with pytest.raises(StreamRequestError, match=r"^stream 'missing': GET .*/missing\?page=1"):
        sync(cfg, into=messages)
    for name in ("alpha", "gamma"):
        assert ids(messages, name) == list(range(1, SIZES[f"/{name}"] + 1))


class FakeStream:
    """A stream whose sync runs ``work``."""

    def __init__(self, name: str, work: Any) -> None:
        self.name = name
        self.work = work

    def sync(self) -> None:
        self.work()

    def finalize_state_progress_markers(self) -> None:
        """Nothing to finalize."""


def test_failures_are_raised_in_stream_order_after_every_stream_ended(
    caplog: pytest.LogCaptureFixture,
) -> None:
    halt = threading.Event()
    started = threading.Barrier(2, timeout=5)
    finished: list[str] = []

    def fail(message: str) -> Any:
        def work() -> None:
            started.wait()  # both fail on their own, whichever is first
            raise StreamRequestError(message)

        return work

    def finish() -> None:
        time.sleep(0.2)  # still running when the others fail
        finished.append("b")

    streams = [
        FakeStream("a", fail("stream 'a': failed")),
        FakeStream("b", finish),
        FakeStream("c", fail("stream 'c': failed")),
    ]
    with pytest.raises(StreamRequestError, match=r"^stream 'a': failed$"):
        sync_side_by_side(streams, 3, halt)  # type: ignore[arg-type]
    assert finished == ["b"]
    assert not halt.is_set()
    logged = [r.getMessage() for r in caplog.records if r.name == "tap_restgeneric.sync.parallel"]
    assert logged == ["stream 'c': failed"]


def test_sigterm_stops_every_stream_after_its_current_page(tmp_path: Path) -> None:
    """SIGTERM: streams on threads stop at their next page; STATE, one line, exit 143."""
    with FaultServer({"/alpha": 2000, "/beta": 2000}, auth=None, page_delay=0.05) as slow:
        cfg = config(slow, "alpha", "beta")
        cfg["resources"] = cfg["resources"][:2]
        run = signal_after(cfg, tmp_path, 25, "RECORD", signal.SIGTERM)
        served = len(slow.log())
    assert run.returncode == 128 + signal.SIGTERM  # stopped early: not a complete run
    assert run.seconds < 5  # not the 200 pages (10 s) each stream had to go
    assert served < 20
    for name in ("alpha", "beta"):
        written = run.ids(name)
        assert written == list(range(1, len(written) + 1))
    assert run.states  # the state of what was written, on the way out
    assert "Traceback" not in run.stderr
    errors = [line.split("| ")[-1] for line in run.stderr.splitlines() if "| ERROR" in line]
    assert errors == [
        "stopped by SIGTERM before the end: each stream stopped at its next page; the last "
        "STATE holds what was written, and the next run resumes there"
    ]


def test_the_snapshot_writer_writes_changes_only_and_keeps_its_own_copy() -> None:
    written: list[Any] = []

    class Writer:
        def write_message(self, message: Any) -> None:
            written.append(copy.deepcopy(message.value))

    writer = SnapshotStateWriter(Writer())  # type: ignore[arg-type]
    state: TapState = {"bookmarks": {"a": {"replication_key_value": 1}}}
    writer.write_state(state)
    writer.write_state(state)
    state["bookmarks"]["a"]["replication_key_value"] = 2
    writer.write_state(state)
    assert written == [
        {"bookmarks": {"a": {"replication_key_value": 1}}},
        {"bookmarks": {"a": {"replication_key_value": 2}}},
    ]
