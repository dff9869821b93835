"""The tap against a real Feathers v5 app (issue 14 §1): tests/real/feathers/serve.js.

Koa + the memory adapter with ``paginate: {default: 10, max: 50}``: ``$skip``/``$limit`` pages
answered as ``{total, limit, skip, data}``, ``$sort``, field equality and ``updated_at[$gte]``
filters, and the API-key strategy of Feathers' authentication cookbook. The configs are
examples/real/feathers_*.json. Every stream's ids are checked exactly: all there, none twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from promise_server import run_into_target
from real_servers import (
    RealServer,
    check_streams,
    credential_runs,
    incremental_runs,
    real_config,
    server_fixture,
    unproven_line,
)

feathers = server_fixture("feathers")


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
    check_streams(run_into_target(real_config(config, feathers), tmp_path), streams)


def test_incremental_second_run_gets_only_the_changes(feathers: RealServer, tmp_path: Path) -> None:
    incremental_runs("feathers_incremental", feathers, tmp_path, ["items", "items_in_order"])


def test_api_key_strategy(tmp_path: Path) -> None:
    line = credential_runs(
        "feathers", "feathers_api_key", "feathers_api_key", ["items"], tmp_path, wrong="not-the-key"
    )
    assert "401" in line


def test_without_a_paginator_the_first_page_is_no_proven_end(
    feathers: RealServer, tmp_path: Path
) -> None:
    """dlt's default ``auto`` finds no next link or page count in ``{total, limit, skip, data}``:
    ``total`` 137 after the 10 records of the server's default page is an unproven end."""
    cfg = {
        "client": {"base_url": feathers.url},
        "resources": [{"name": "items", "primary_key": "id", "endpoint": {"path": "/items"}}],
    }
    line = unproven_line(run_into_target(cfg, tmp_path), "items")
    assert "the response's total (total: 137) is more than its 10 records" in line
