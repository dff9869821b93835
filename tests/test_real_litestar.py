"""The tap against a real Litestar app (issue 14 §1): tests/real/serve_litestar.py.

Litestar's three pagination models — ``OffsetPagination``, ``ClassicPagination``,
``CursorPagination`` — each read with the config a user writes from its docs
(examples/real/litestar_*.json), its API-key middleware, and an ``updated_since`` filter for
incremental runs. Every stream's ids are checked exactly: all there, none twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from promise_server import run_into_target
from real_servers import (
    RealServer,
    check_streams,
    credential_runs,
    ids,
    incremental_runs,
    real_config,
    server_fixture,
    unproven_line,
)

litestar = server_fixture("litestar")


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
    check_streams(run_into_target(real_config(config, litestar), tmp_path), streams)


def test_incremental_second_run_gets_only_the_changes(litestar: RealServer, tmp_path: Path) -> None:
    incremental_runs("litestar_incremental", litestar, tmp_path, ["items", "items_by_cursor"])


def test_api_key_middleware(tmp_path: Path) -> None:
    line = credential_runs(
        "litestar", "litestar_api_key", "litestar_api_key", ["items"], tmp_path, wrong="not-the-key"
    )
    assert "401" in line


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
    loaded = run_into_target(cfg, tmp_path)
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
    check_streams(run_into_target(cfg, tmp_path), ["items", "garden"])
