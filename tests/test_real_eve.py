"""The tap against a real Eve 2.3 on mongomock (issue 14 §1): tests/real/serve_eve.py.

Eve's HATEOAS collection (``/items``) paged two ways — ``_links.next.href`` (json_link) and
``page``/``max_results`` with the records total at ``_meta.total`` (page_number,
``total_counts: records``) — a ``where`` filter (Mongo JSON), incremental runs on a ``datetime``
field that Eve writes in RFC 1123 (``Mon, 01 Jan 2024 01:00:00 GMT``) and filters with
``where={"updated_at": {"$gte": …}}``, and ``TokenAuth``. Every stream's ids are checked exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from real_servers import (
    ADDED,
    CHANGED,
    LATER,
    TOKEN,
    RealServer,
    dataset,
    failure_line,
    ids,
    into_jsonl,
    real_config,
    serving,
)

STREAMS = ["items", "tools"]
INCREMENTAL = ["items", "items_by_id"]  # sorted by updated_at (row_order asc); by id, ISO start


CATEGORIES = {"tools": 0, "garden": 1}  # category = index (id % 3) in dataset()


def expected(stream: str) -> list[int]:
    """The ids a stream must load: all, or one category's."""
    return [i for i in ids() if stream == "items" or i % 3 == CATEGORIES[stream]]


def check_streams(files: dict[str, list[Any]], streams: list[str] = STREAMS) -> None:
    """Every stream has exactly its ids: none missing, none twice."""
    assert sorted(files) == sorted(streams)
    for stream in streams:
        got = files[stream]
        assert len(got) == len(set(got)), f"{stream}: duplicates"
        assert sorted(got) == expected(stream), stream


def rfc1123(iso: str) -> str:
    """``2024-01-01T01:00:00Z`` as Eve writes it: ``Mon, 01 Jan 2024 01:00:00 GMT``."""
    return format_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")), usegmt=True)


def bookmark(state: dict[str, Any] | None, stream: str) -> Any:
    """The stream's replication_key_value in a target's STATE."""
    assert state is not None
    return state["bookmarks"][stream]["replication_key_value"]


@pytest.fixture(scope="module")
def eve() -> Iterator[RealServer]:
    """One Eve app without auth, serving ``dataset()``."""
    with serving("eve") as server:
        yield server


@pytest.mark.parametrize("config", ["eve_links", "eve_page_number"])
def test_every_style_loads_every_record_once(eve: RealServer, tmp_path: Path, config: str) -> None:
    loaded = into_jsonl(real_config(config, eve), tmp_path)
    loaded.check()
    check_streams(loaded.files, [*STREAMS, "garden"])  # garden: the sub-resource


def test_without_a_paginator_auto_follows_the_relative_next_href(
    eve: RealServer, tmp_path: Path
) -> None:
    cfg = real_config("eve_links", eve)
    del cfg["client"]["paginator"]
    # the sub-resource's links need relative_to base_url, which auto cannot know
    cfg["resources"] = [r for r in cfg["resources"] if r["name"] in STREAMS]
    loaded = into_jsonl(cfg, tmp_path)
    loaded.check()
    check_streams(loaded.files)
    assert 'guessed {"type": "json_link", "next_url_path": "_links.next.href"}' in loaded.tap_stderr


def test_sub_resource_links_without_relative_to_fail_loudly(
    eve: RealServer, tmp_path: Path
) -> None:
    """categories/garden/items?page=2 resolved against the page's URL is a 404, not an end."""
    cfg = real_config("eve_links", eve)
    del cfg["client"]["paginator"]["relative_to"]
    loaded = into_jsonl(cfg, tmp_path)
    line = failure_line(loaded, "garden")
    assert "/categories/garden/categories/garden/items?" in line
    assert "404" in line


def test_incremental_on_rfc1123_dates(eve: RealServer, tmp_path: Path) -> None:
    first = into_jsonl(real_config("eve_incremental", eve), tmp_path / "1")
    first.check()
    assert sorted(first.files) == INCREMENTAL
    for stream in INCREMENTAL:
        assert sorted(first.files[stream]) == ids(), stream
        assert bookmark(first.state, stream) == rfc1123(dataset()[-1]["updated_at"])
    with serving("eve", items=dataset(changed=True)) as changed:
        cfg = real_config("eve_incremental", changed)
        second = into_jsonl(cfg, tmp_path / "2", state=first.state)
    second.check()
    for stream in INCREMENTAL:
        assert sorted(second.files[stream]) == sorted(CHANGED + ADDED), stream
        assert bookmark(second.state, stream) == rfc1123(LATER)


def test_token_auth(tmp_path: Path) -> None:
    with serving("eve", token=TOKEN) as server:
        good = real_config("eve_auth", server)
        good["secrets"] = {"eve_token": TOKEN}
        loaded = into_jsonl(good, tmp_path / "good")
        bad = real_config("eve_auth", server)
        bad["secrets"] = {"eve_token": "not-the-token"}
        refused = into_jsonl(bad, tmp_path / "bad")
    loaded.check()
    check_streams(loaded.files)
    # Both streams are refused; the first to ask fails the run.
    stream = next(s for s in STREAMS if f"stream '{s}': " in refused.tap_stderr)
    line = failure_line(refused, stream)
    assert "401" in line
    assert "not-the-token" not in refused.tap_stderr
