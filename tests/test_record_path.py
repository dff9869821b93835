"""The record path: whole pages written at once when nothing per-record applies, else the SDK's.

The same syncs run twice, once as the tap runs them and once with the fast path switched off
(the SDK writes every record through its own loop and message objects); the Singer output must
be the same apart from ``time_extracted``.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from typing import Any

import pytest
import requests_mock
from helpers import BASE_URL, Message, page, resource, serve, sync
from singer_sdk.exceptions import AbortedSyncPausedException

from tap_restgeneric.sync.fastpath import RecordWriter
from tap_restgeneric.sync.streams import RestGenericStream
from tap_restgeneric.tap import TapRestGeneric

DAY = "2024-01-0{}T00:00:00Z"


def linked(url: str, pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """json_link pages: ``next`` points at the following page."""
    return [
        page({"data": rows, "next": f"{url}?page={n + 2}" if n + 1 < len(pages) else None})
        for n, rows in enumerate(pages)
    ]


SINCE = {"cursor_path": "updated", "initial_value": DAY.format(1), "start_param": "since"}
CONFIG: dict[str, Any] = {
    "client": {"base_url": BASE_URL},
    "max_concurrency": 1,  # streams one after another: both runs write in the same order
    "resources": [
        {
            "name": "events",
            "primary_key": "id",
            "schema": {
                "properties": {
                    "id": {"type": "integer"},
                    "updated": {"type": "string", "format": "date-time"},
                    "v": {"type": "array", "items": {"type": "integer"}},
                }
            },
            "endpoint": {
                "path": "events",
                "paginator": "json_link",
                "data_selector": "data",
                "incremental": SINCE,
            },
        },
        {**resource("posts", paginator="single_page", data_selector="data"), "primary_key": "id"},
        {
            "name": "notes",
            "primary_key": "id",
            "endpoint": {
                "path": "posts/{resources.posts.id}/notes",
                "paginator": "json_link",
                "data_selector": "data",
                "incremental": {**SINCE, "per_parent": True},
            },
        },
    ],
}
EVENTS = [
    [{"id": n, "updated": DAY.format(n), "v": [n]} for n in pair] for pair in ((1, 2), (3, 4))
]


def serve_all(mocker: requests_mock.Mocker) -> None:
    """Events: 2 pages; posts 1 and 2; notes: 2 pages for post 1, 1 page for post 2."""
    serve(mocker, f"{BASE_URL}/events", *linked(f"{BASE_URL}/events", EVENTS))
    serve(mocker, f"{BASE_URL}/posts", page({"data": [{"id": 1}, {"id": 2}]}))
    notes_1 = [[{"id": 11, "updated": DAY.format(2)}], [{"id": 12, "updated": DAY.format(3)}]]
    serve(mocker, f"{BASE_URL}/posts/1/notes", *linked(f"{BASE_URL}/posts/1/notes", notes_1))
    serve(
        mocker, f"{BASE_URL}/posts/2/notes", page({"data": [{"id": 21, "updated": DAY.format(4)}]})
    )


def run(
    monkeypatch: pytest.MonkeyPatch,
    *,
    fast: bool = True,
    cfg: dict[str, Any] = CONFIG,
    catalog: dict[str, Any] | None = None,
) -> tuple[list[Message], Counter[str]]:
    """The messages of one sync and how many records each stream wrote one by one."""
    one_by_one: Counter[str] = Counter()
    write_one = RestGenericStream._write_record_message

    def spy(self: RestGenericStream, record: dict[str, Any]) -> None:
        one_by_one[self.name] += 1
        write_one(self, record)

    monkeypatch.setattr(RestGenericStream, "_write_record_message", spy)
    if not fast:
        monkeypatch.setattr(RecordWriter, "fast", property(lambda self: False))
    with requests_mock.Mocker() as mocker:
        serve_all(mocker)
        messages = sync(copy.deepcopy(cfg), catalog=catalog)
    monkeypatch.undo()
    return messages, one_by_one


def without_time(messages: list[Message]) -> list[Message]:
    """The messages without clock readings (``time_extracted``, the sync's start signpost)."""
    text = json.dumps([{k: v for k, v in m.items() if k != "time_extracted"} for m in messages])
    cleaned: list[Message] = json.loads(
        re.sub(r'"replication_key_signpost": "[^"]+"', '"replication_key_signpost": 0', text)
    )
    return cleaned


def records(messages: list[Message], stream: str) -> list[dict[str, Any]]:
    """The records of one stream, in order."""
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def test_pages_are_written_whole_and_the_output_is_the_sdks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast, one_by_one = run(monkeypatch)
    slow, sdk_one_by_one = run(monkeypatch, fast=False)
    assert without_time(fast) == without_time(slow)
    # events and notes go through the page loop; posts hands contexts to notes record by record
    assert one_by_one == {"posts": 2}
    assert sdk_one_by_one == {"events": 4, "posts": 2, "notes": 3}
    assert [r["id"] for r in records(fast, "events")] == [1, 2, 3, 4]
    assert records(fast, "notes") == [
        {"id": 11, "updated": DAY.format(2), "_posts_id": 1},
        {"id": 12, "updated": DAY.format(3), "_posts_id": 1},
        {"id": 21, "updated": DAY.format(4), "_posts_id": 2},
    ]
    final = [m for m in fast if m["type"] == "STATE"][-1]["value"]["bookmarks"]
    assert final["events"]["replication_key_value"] == DAY.format(4)
    assert [p["replication_key_value"] for p in final["notes"]["partitions"]] == [
        DAY.format(3),
        DAY.format(4),
    ]


def test_records_of_a_page_share_its_fetch_time(monkeypatch: pytest.MonkeyPatch) -> None:
    messages, _ = run(monkeypatch)
    times = [m["time_extracted"] for m in messages if m.get("stream") == "events" and "record" in m]
    assert len(times) == 4
    assert times[0] == times[1] and times[2] == times[3] and times[1] <= times[2]


def test_a_stream_map_takes_the_sdk_path(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = {**CONFIG, "stream_maps": {"events": {"double": "id * 2", "v": "__NULL__"}}}
    messages, one_by_one = run(monkeypatch, cfg=cfg)
    assert one_by_one["events"] == 4
    assert [r.get("double") for r in records(messages, "events")] == [2, 4, 6, 8]
    assert all("v" not in r for r in records(messages, "events"))


def test_a_deselected_property_takes_the_sdk_path(monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = copy.deepcopy(TapRestGeneric(config=CONFIG, parse_env_config=False).catalog_dict)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if entry["tap_stream_id"] == "events" and metadata["breadcrumb"] == ["properties", "v"]:
                metadata["metadata"]["selected"] = False
    messages, one_by_one = run(monkeypatch, catalog=catalog)
    assert one_by_one["events"] == 4
    assert [sorted(r) for r in records(messages, "events")] == [["id", "updated"]] * 4


def test_a_record_limit_takes_the_sdk_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """As ``--test`` sets it: the sync stops after exactly that many records."""
    monkeypatch.setattr(RestGenericStream, "ABORT_AT_RECORD_COUNT", 3)
    cfg = {**CONFIG, "resources": CONFIG["resources"][:1]}
    messages: list[Message] = []
    with requests_mock.Mocker() as mocker, pytest.raises(AbortedSyncPausedException):
        serve_all(mocker)
        sync(cfg, into=messages)
    assert [r["id"] for r in records(messages, "events")] == [1, 2, 3]
