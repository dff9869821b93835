"""The tap against a real Feathers v5 app (issue 14 §1): tests/real/feathers/serve.js.

Koa + the memory adapter with ``paginate: {default: 10, max: 50}``: ``$skip``/``$limit`` pages
answered as ``{total, limit, skip, data}``, ``$sort``, field equality and ``updated_at[$gte]``
filters, and the API-key strategy of Feathers' authentication cookbook. The configs are
examples/real/feathers_*.json. Every stream's ids are checked exactly: all there, none twice.
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
def feathers() -> Iterator[RealServer]:
    """One Feathers app without auth, serving ``dataset()``."""
    with serving("feathers") as server:
        yield server


@pytest.mark.parametrize(
    ("config", "streams"),
    [
        ("feathers_skip_limit", ["items", "tools"]),
        # $limit 100 is above the service's paginate.max (50): Feathers answers 50 a page
        # (and says limit 50); the offset paginator must go on by what it received.
        ("feathers_skip_limit_capped", ["items", "garden"]),
    ],
)
def test_every_page_loads_every_record_once(
    feathers: RealServer, tmp_path: Path, config: str, streams: list[str]
) -> None:
    loaded = into_jsonl(real_config(config, feathers), tmp_path)
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


def test_incremental_second_run_gets_only_the_changes(feathers: RealServer, tmp_path: Path) -> None:
    streams = ["items", "items_in_order"]
    first = into_jsonl(real_config("feathers_incremental", feathers), tmp_path / "1")
    first.check()
    last = max(x["updated_at"] for x in dataset())
    for stream in streams:
        assert sorted(first.files[stream]) == ids(), stream
        assert bookmark(first.state, stream) == last
    with serving("feathers", items=dataset(changed=True)) as changed:
        cfg = real_config("feathers_incremental", changed)
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


def test_api_key_strategy(tmp_path: Path) -> None:
    with serving("feathers", token=TOKEN) as server:
        good = real_config("feathers_api_key", server)
        good["secrets"] = {"feathers_api_key": TOKEN}
        loaded = into_jsonl(good, tmp_path / "good")
        bad = real_config("feathers_api_key", server)
        bad["secrets"] = {"feathers_api_key": "not-the-key"}
        refused = into_jsonl(bad, tmp_path / "bad")
    loaded.check()
    assert sorted(loaded.files["items"]) == ids()
    line = failure_line(refused, "items")
    assert "401" in line
    assert "not-the-key" not in refused.tap_stderr


def test_without_a_paginator_the_first_page_is_no_proven_end(
    feathers: RealServer, tmp_path: Path
) -> None:
    """dlt's default ``auto`` finds no next link or page count in ``{total, limit, skip, data}``:
    ``total`` 137 after the 10 records of the server's default page is an unproven end."""
    cfg = {
        "client": {"base_url": feathers.url},
        "resources": [{"name": "items", "primary_key": "id", "endpoint": {"path": "/items"}}],
    }
    loaded = into_jsonl(cfg, tmp_path)
    line = unproven_line(loaded, "items")
    assert "the response's total (total: 137) is more than its 10 records" in line
