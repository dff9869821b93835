"""The tap against a real Datasette 0.65 (issue 14 §1): tests/real/serve_datasette.py.

Datasette's table JSON (``/shop/items.json``) paged three ways — ``next_url`` in the body
(json_link), the ``next`` token sent back as ``_next`` (cursor), the ``Link`` header with
``_shape=array`` (header_link) — a ``category`` column filter, an ``updated_at__gte`` filter for
incremental runs, and the datasette-auth-tokens plugin. Every stream's ids are checked exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from promise_server import run_into_target
from real_servers import (
    RealServer,
    check_streams,
    credential_runs,
    expected,
    incremental_runs,
    real_config,
    server_fixture,
    unproven_line,
)

STREAMS = ["items", "tools"]
INCREMENTAL = ["items", "items_by_cursor"]  # _sort=updated_at (row_order asc); by id, _next


datasette = server_fixture("datasette")


@pytest.mark.parametrize("config", ["datasette_next_url", "datasette_cursor", "datasette_link"])
def test_every_style_loads_every_record_once(
    datasette: RealServer, tmp_path: Path, config: str
) -> None:
    check_streams(run_into_target(real_config(config, datasette), tmp_path), STREAMS)


@pytest.mark.parametrize("config", ["datasette_next_url", "datasette_link"])
def test_without_a_paginator_auto_finds_it(
    datasette: RealServer, tmp_path: Path, config: str
) -> None:
    cfg = real_config(config, datasette)
    del cfg["client"]["paginator"]
    loaded = run_into_target(cfg, tmp_path)
    check_streams(loaded, STREAMS)
    assert 'guessed {"type": "header_link"}' in loaded.tap_stderr  # Datasette sends Link


def test_sql_query_loads_its_one_page(datasette: RealServer, tmp_path: Path) -> None:
    loaded = run_into_target(real_config("datasette_sql", datasette), tmp_path)
    loaded.check()
    assert loaded.files["tools_sql"] == expected("tools")  # 45 rows: under max_returned_rows


def test_a_truncated_sql_result_is_not_a_proven_end(datasette: RealServer, tmp_path: Path) -> None:
    """All 137 items by SQL: Datasette returns 101 rows and "truncated": true; no exit 0."""
    cfg = real_config("datasette_sql", datasette)
    cfg["resources"][0]["endpoint"]["params"]["sql"] = "select * from items order by id"
    del cfg["resources"][0]["endpoint"]["data_selector"]  # and no paginator: auto guesses
    loaded = run_into_target(cfg, tmp_path)
    line = unproven_line(loaded, "tools_sql")
    assert [x for x in loaded.tap_stderr.splitlines() if "| ERROR" in x] == [line]
    assert "stream 'tools_sql': page 1 (GET " in line
    assert "the response says it was truncated ('truncated': true after 101 records)" in line


def test_incremental_second_run_gets_only_the_changes(
    datasette: RealServer, tmp_path: Path
) -> None:
    incremental_runs("datasette_incremental", datasette, tmp_path, INCREMENTAL)


def test_auth_tokens_plugin(tmp_path: Path) -> None:
    line = credential_runs("datasette", "datasette_auth", "datasette_token", STREAMS, tmp_path)
    assert "403" in line  # Datasette answers a denied actor 403 (it has no 401)
