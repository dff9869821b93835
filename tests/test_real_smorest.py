"""The tap against a real Flask-Smorest 0.47 (issue 14 §1): tests/real/serve_smorest.py.

Flask-Smorest's ``@blp.paginate`` pages with ``page``/``page_size`` and puts its metadata in the
``X-Pagination`` JSON header, not the body (a bare list): ``page_number`` reads the total there
(``total_header`` + ``total_path``, counting pages or, with ``total_counts``, records) and ends on
it, with no empty page asked for; with no paginator configured, ``auto`` finds it there.
``category`` and ``updated_since`` are its query-args schema. Flask-Smorest has no auth of its
own: no credential test here.
"""

from __future__ import annotations

from pathlib import Path

from real_servers import (
    LAST,
    RealServer,
    check_streams,
    incremental_runs,
    real_config,
    run_logged,
    server_fixture,
)

STREAMS = ["items", "tools"]


smorest = server_fixture("smorest")


def test_page_number_by_the_x_pagination_header(smorest: RealServer, tmp_path: Path) -> None:
    """Every record once; paging ends on the header's total: no request past the last page."""
    loaded, sent = run_logged(real_config("smorest_page_number", smorest), smorest, tmp_path)
    check_streams(loaded, STREAMS)
    assert all(status == "200" for _, _, status in sent), sent
    assert {path for path, _, _ in sent} == {"/items/"}
    pages = {
        stream: sorted(int(q["page"]) for _, q, _ in sent if q.get("category") == category)
        for stream, category in (("items", None), ("tools", "tools"))
    }
    # items: 137 at 25 a page is 6 pages (total_pages 6); tools: 45 records at 20 a page is 3.
    assert pages == {"items": [1, 2, 3, 4, 5, 6], "tools": [1, 2, 3]}
    assert [q["page_size"] for _, q, _ in sent if "category" not in q] == ["25"] * 6


def test_no_paginator_configured_detects_the_header(smorest: RealServer, tmp_path: Path) -> None:
    """auto reads X-Pagination: page_number from its first_page to total_pages (10 a page)."""
    loaded, sent = run_logged(real_config("smorest_auto", smorest), smorest, tmp_path)
    check_streams(loaded, STREAMS)
    guess = '"total_header": "X-Pagination", "total_path": "total_pages", "base_page": 1}'
    assert loaded.tap_stderr.count(guess) == 2, loaded.tap_stderr[-3000:]
    pages = {
        stream: sorted(int(q.get("page", 1)) for _, q, _ in sent if q.get("category") == category)
        for stream, category in (("items", None), ("tools", "tools"))
    }
    assert pages == {"items": list(range(1, 15)), "tools": [1, 2, 3, 4, 5]}


def test_incremental_second_run_gets_only_the_changes(smorest: RealServer, tmp_path: Path) -> None:
    runs = incremental_runs("smorest_incremental", smorest, tmp_path, ["items"], log_requests=True)
    # The sync sent the bookmark as the query-args schema's updated_since (one page); the
    # request before it is the schema sample, from initial_value (README: Schemas).
    synced = [q.get("updated_since") for path, q, _ in runs.sent if path == "/items/"]
    assert synced[-1:] == [LAST]


def test_next_page_by_the_x_pagination_header(smorest: RealServer, tmp_path: Path) -> None:
    """next_page follows X-Pagination's next_page and ends where the header has none."""
    loaded, sent = run_logged(real_config("smorest_next_page", smorest), smorest, tmp_path)
    check_streams(loaded, STREAMS)
    assert all(status == "200" for _, _, status in sent), sent
    pages = {
        stream: [q.get("page") for _, q, _ in sent if q.get("category") == category]
        for stream, category in (("items", None), ("tools", "tools"))
    }
    # items: the first request is the server's first page, then 2..6 (137 at 25 a page, no
    # request past page 6); tools: from the configured page 1 to 3 (45 at 20 a page).
    assert pages == {"items": [None, "2", "3", "4", "5", "6"], "tools": ["1", "2", "3"]}
    assert [q["page_size"] for _, q, _ in sent if "category" not in q] == ["25"] * 6
