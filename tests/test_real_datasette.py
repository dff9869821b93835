"""The tap against a real Datasette 0.65 (issue 14 §1): tests/real/serve_datasette.py.

Datasette's table JSON (``/shop/items.json``) paged three ways — ``next_url`` in the body
(json_link), the ``next`` token sent back as ``_next`` (cursor), the ``Link`` header with
``_shape=array`` (header_link) — a ``category`` column filter, an ``updated_at__gte`` filter for
incremental runs, and the datasette-auth-tokens plugin. Every stream's ids are checked exactly.
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
    RealServer,
    dataset,
    failure_line,
    ids,
    into_jsonl,
    real_config,
    serving,
)

STREAMS = ["items", "tools"]
INCREMENTAL = ["items", "items_by_cursor"]  # _sort=updated_at (row_order asc); by id, _next


def expected(stream: str) -> list[int]:
    """The ids a stream must load: all, or category ``tools`` (id % 3 == 0)."""
    return [i for i in ids() if stream == "items" or i % 3 == 0]


def check_streams(files: dict[str, list[Any]]) -> None:
    """Every stream has exactly its ids: none missing, none twice."""
    assert sorted(files) == STREAMS
    for stream in STREAMS:
        got = files[stream]
        assert len(got) == len(set(got)), f"{stream}: duplicates"
        assert sorted(got) == expected(stream), stream


def bookmark(state: dict[str, Any] | None, stream: str) -> Any:
    """The stream's replication_key_value in a target's STATE."""
    assert state is not None
    return state["bookmarks"][stream]["replication_key_value"]


@pytest.fixture(scope="module")
def datasette() -> Iterator[RealServer]:
    """One Datasette without auth, serving ``dataset()``."""
    with serving("datasette") as server:
        yield server


@pytest.mark.parametrize("config", ["datasette_next_url", "datasette_cursor", "datasette_link"])
def test_every_style_loads_every_record_once(
    datasette: RealServer, tmp_path: Path, config: str
) -> None:
    loaded = into_jsonl(real_config(config, datasette), tmp_path)
    loaded.check()
    check_streams(loaded.files)


@pytest.mark.parametrize("config", ["datasette_next_url", "datasette_link"])
def test_without_a_paginator_auto_finds_it(
    datasette: RealServer, tmp_path: Path, config: str
) -> None:
    cfg = real_config(config, datasette)
    del cfg["client"]["paginator"]
    loaded = into_jsonl(cfg, tmp_path)
    loaded.check()
    check_streams(loaded.files)
    assert 'guessed {"type": "header_link"}' in loaded.tap_stderr  # Datasette sends Link


def test_sql_query_loads_its_one_page(datasette: RealServer, tmp_path: Path) -> None:
    loaded = into_jsonl(real_config("datasette_sql", datasette), tmp_path)
    loaded.check()
    assert loaded.files["tools_sql"] == expected("tools")  # 45 rows: under max_returned_rows


def test_a_truncated_sql_result_is_not_a_proven_end(datasette: RealServer, tmp_path: Path) -> None:
    """All 137 items by SQL: Datasette returns 101 rows and "truncated": true; no exit 0."""
    cfg = real_config("datasette_sql", datasette)
    cfg["resources"][0]["endpoint"]["params"]["sql"] = "select * from items order by id"
    del cfg["resources"][0]["endpoint"]["data_selector"]  # and no paginator: auto guesses
    loaded = into_jsonl(cfg, tmp_path)
    assert loaded.tap_returncode == 1, loaded.tap_stderr[-3000:]
    assert "Traceback" not in loaded.tap_stderr
    reason = "the response says it was truncated ('truncated': true after 101 records)"
    lines = [x for x in loaded.tap_stderr.splitlines() if "| ERROR" in x]
    assert len(lines) == 1, loaded.tap_stderr[-3000:]
    assert "stream 'tools_sql': page 1 (GET " in lines[0]
    assert reason in lines[0]


def test_incremental_second_run_gets_only_the_changes(
    datasette: RealServer, tmp_path: Path
) -> None:
    first = into_jsonl(real_config("datasette_incremental", datasette), tmp_path / "1")
    first.check()
    assert sorted(first.files) == INCREMENTAL
    for stream in INCREMENTAL:
        assert sorted(first.files[stream]) == ids(), stream
        assert bookmark(first.state, stream) == dataset()[-1]["updated_at"]
    with serving("datasette", items=dataset(changed=True)) as changed:
        cfg = real_config("datasette_incremental", changed)
        second = into_jsonl(cfg, tmp_path / "2", state=first.state)
    second.check()
    for stream in INCREMENTAL:
        assert sorted(second.files[stream]) == sorted(CHANGED + ADDED), stream
        assert bookmark(second.state, stream) == LATER


def test_auth_tokens_plugin(tmp_path: Path) -> None:
    with serving("datasette", token=TOKEN) as server:
        good = real_config("datasette_auth", server)
        good["secrets"] = {"datasette_token": TOKEN}
        loaded = into_jsonl(good, tmp_path / "good")
        bad = real_config("datasette_auth", server)
        bad["secrets"] = {"datasette_token": "not-the-token"}
        refused = into_jsonl(bad, tmp_path / "bad")
    loaded.check()
    check_streams(loaded.files)
    # Datasette answers a denied actor 403 (it has no 401); the first stream to ask fails.
    stream = next(s for s in STREAMS if f"stream '{s}': " in refused.tap_stderr)
    line = failure_line(refused, stream)
    assert "403" in line
    assert "not-the-token" not in refused.tap_stderr
