"""The tap against a real Litestar app (issue 14 §1): tests/real/serve_litestar.py.

Litestar's three pagination models — ``OffsetPagination``, ``ClassicPagination``,
``CursorPagination`` — each read with the config a user writes from its docs
(examples/real/litestar_*.json), its API-key middleware, and an ``updated_since`` filter for
incremental runs. Every stream's ids are checked exactly: all there, none twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from real_servers import (
    ADDED,
    CHANGED,
    LATER,
    TOKEN,
    Loaded,
    RealServer,
    dataset,
    failure_line,
    ids,
    into_jsonl,
    real_config,
    serving,
)

CATEGORIES = {"tools": 0, "garden": 1, "kitchen": 2}  # category = index (id % 3) in dataset()


def expected(stream: str) -> list[int]:
    """The ids a stream of the examples must load: all, or one category's."""
    if stream in CATEGORIES:
        return [i for i in ids() if i % 3 == CATEGORIES[stream]]
    return ids()


@pytest.fixture(scope="module")
def litestar() -> Iterator[RealServer]:
    """One Litestar app without auth, serving ``dataset()``."""
    with serving("litestar") as server:
        yield server


@pytest.mark.parametrize(
    ("config", "streams"),
    [
        ("litestar_offset", ["items", "tools"]),
        ("litestar_classic", ["items", "garden"]),
        ("litestar_cursor", ["items", "kitchen"]),
    ],
)
def test_every_style_loads_every_record_once(
    litestar: RealServer, tmp_path: Path, config: str, streams: list[str]
) -> None:
    loaded = into_jsonl(real_config(config, litestar), tmp_path)
    loaded.check()
    assert sorted(loaded.files) == sorted(streams)
    for stream in streams:
        got = loaded.files[stream]
        assert len(got) == len(set(got)), f"{stream}: duplicates"
        assert sorted(got) == expected(stream), stream


def unproven_line(loaded: Loaded, stream: str) -> str:
    """Tap exit 1, no traceback, one line saying ``stream`` ended without a proven end."""
    err = loaded.tap_stderr
    assert loaded.tap_returncode == 1, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    lines = [x for x in err.splitlines() if f"stream '{stream}': " in x and "not a proven end" in x]
    assert len(lines) == 1, err[-3000:]
    return lines[0]


def bookmark(state: dict[str, Any] | None, stream: str) -> Any:
    """The stream's replication_key_value in a target's STATE."""
    assert state is not None
    return state["bookmarks"][stream]["replication_key_value"]


def test_incremental_second_run_gets_only_the_changes(litestar: RealServer, tmp_path: Path) -> None:
    streams = ["items", "items_by_cursor"]
    first = into_jsonl(real_config("litestar_incremental", litestar), tmp_path / "1")
    first.check()
    last = max(x["updated_at"] for x in dataset())
    for stream in streams:
        assert sorted(first.files[stream]) == ids(), stream
        assert bookmark(first.state, stream) == last
    with serving("litestar", items=dataset(changed=True)) as changed:
        cfg = real_config("litestar_incremental", changed)
        second = into_jsonl(cfg, tmp_path / "2", state=first.state)
    second.check()
    for stream in streams:
        assert sorted(second.files[stream]) == sorted(CHANGED + ADDED), stream
        assert bookmark(second.state, stream) == LATER
        # the server filtered: the five changes and the record at the bookmark (id 137) were read
        (line,) = [
            x
            for x in second.tap_stderr.splitlines()
            if f"Stream '{stream}': " in x and "records written" in x
        ]
        assert "5 records written" in line and "(6 records read)" in line, line


def test_api_key_middleware(tmp_path: Path) -> None:
    with serving("litestar", token=TOKEN) as server:
        good = real_config("litestar_api_key", server)
        good["secrets"] = {"litestar_api_key": TOKEN}
        loaded = into_jsonl(good, tmp_path / "good")
        bad = real_config("litestar_api_key", server)
        bad["secrets"] = {"litestar_api_key": "not-the-key"}
        refused = into_jsonl(bad, tmp_path / "bad")
    loaded.check()
    assert sorted(loaded.files["items"]) == ids()
    line = failure_line(refused, "items")
    assert "401" in line
    assert "not-the-key" not in refused.tap_stderr


def test_without_a_paginator_cursor_is_followed_and_offset_is_not_cut_short(
    litestar: RealServer, tmp_path: Path
) -> None:
    """dlt's default ``auto``: Litestar's ``cursor`` key is followed to its ``null``; the
    OffsetPagination body (no next link, ``total`` 137) is no proven end after one page."""
    endpoints = {
        "by_cursor": {"path": "/cursor/items", "params": {"results_per_page": 20}},
        "by_offset": {"path": "/offset/items", "params": {"limit": 20, "offset": 0}},
    }
    cfg = {
        "client": {"base_url": litestar.url},
        "resources": [
            {"name": n, "primary_key": "id", "endpoint": e} for n, e in endpoints.items()
        ],
    }
    loaded = into_jsonl(cfg, tmp_path)
    assert sorted(loaded.files["by_cursor"]) == ids()
    line = unproven_line(loaded, "by_offset")
    assert "the response's total (total: 137) is more than its 20 records" in line
    assert "not a proven end" in line


def test_classic_pages_without_base_page_start_at_page_1(
    litestar: RealServer, tmp_path: Path
) -> None:
    """dlt's page_number starts at page 0 unless told; Litestar's page 0 is empty while its
    total_pages says 7 (3 for garden): the tap asks page 1 and loads every record once."""
    cfg = real_config("litestar_classic", litestar)
    for resource in cfg["resources"]:
        del resource["endpoint"]["paginator"]["base_page"]
    loaded = into_jsonl(cfg, tmp_path)
    loaded.check()
    for stream in ("items", "garden"):
        assert sorted(loaded.files[stream]) == expected(stream), stream
        assert len(loaded.files[stream]) == len(set(loaded.files[stream])), stream
