"""The tap against a real Eve 2.3 on mongomock (issue 14 §1): tests/real/serve_eve.py.

Eve's HATEOAS collection (``/items``) paged two ways — ``_links.next.href`` (json_link) and
``page``/``max_results`` with the records total at ``_meta.total`` (page_number,
``total_counts: records``) — a ``where`` filter (Mongo JSON), incremental runs on a ``datetime``
field that Eve writes in RFC 1123 (``Mon, 01 Jan 2024 01:00:00 GMT``) and filters with
``where={"updated_at": {"$gte": …}}``, and ``TokenAuth``. Every stream's ids are checked exactly.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from promise_server import run_into_target
from real_servers import (
    LAST,
    LATER,
    RealServer,
    check_streams,
    credential_runs,
    failure_line,
    incremental_runs,
    real_config,
    server_fixture,
)

STREAMS = ["items", "tools"]
INCREMENTAL = ["items", "items_by_id"]  # sorted by updated_at (row_order asc); by id, ISO start


def rfc1123(iso: str) -> str:
    """``2024-01-01T01:00:00Z`` as Eve writes it: ``Mon, 01 Jan 2024 01:00:00 GMT``."""
    return format_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")), usegmt=True)


eve = server_fixture("eve")


@pytest.mark.parametrize("config", ["eve_links", "eve_page_number"])
def test_every_style_loads_every_record_once(eve: RealServer, tmp_path: Path, config: str) -> None:
    loaded = run_into_target(real_config(config, eve), tmp_path)
    check_streams(loaded, [*STREAMS, "garden"])  # garden: the sub-resource


def test_without_a_paginator_auto_follows_the_relative_next_href(
    eve: RealServer, tmp_path: Path
) -> None:
    cfg = real_config("eve_links", eve)
    del cfg["client"]["paginator"]
    # the sub-resource's links need relative_to base_url, which auto cannot know
    cfg["resources"] = [r for r in cfg["resources"] if r["name"] in STREAMS]
    loaded = run_into_target(cfg, tmp_path)
    check_streams(loaded, STREAMS)
    assert 'guessed {"type": "json_link", "next_url_path": "_links.next.href"}' in loaded.tap_stderr


def test_sub_resource_links_without_relative_to_fail_loudly(
    eve: RealServer, tmp_path: Path
) -> None:
    """categories/garden/items?page=2 resolved against the page's URL is a 404, not an end."""
    cfg = real_config("eve_links", eve)
    del cfg["client"]["paginator"]["relative_to"]
    line = failure_line(run_into_target(cfg, tmp_path), "garden")
    assert "/categories/garden/categories/garden/items?" in line
    assert "404" in line


def test_incremental_on_rfc1123_dates(eve: RealServer, tmp_path: Path) -> None:
    """Eve writes the ``updated_at`` datetime back in RFC 1123: so are the bookmarks."""
    bookmarks = (rfc1123(LAST), rfc1123(LATER))
    incremental_runs("eve_incremental", eve, tmp_path, INCREMENTAL, bookmarks=bookmarks)


def test_token_auth(tmp_path: Path) -> None:
    line = credential_runs("eve", "eve_auth", "eve_token", STREAMS, tmp_path)
    assert "401" in line  # both streams are refused; the first to ask fails the run
