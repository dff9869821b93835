"""The tap against a real Django Ninja 1.7 (issue 14 §1): tests/real/serve_ninja.py.

Each pagination class Ninja ships: ``LimitOffsetPagination`` (``offset``, ``count`` counts
records), ``PageNumberPagination`` (``page_number`` whose ``count`` counts records, not pages:
``total_counts: records`` ends paging on it, with no empty page asked for) and
``CursorPagination`` (the ``next`` URL: ``json_link``); a ``FilterSchema`` (``category``,
``updated_since``) for a filtered stream and incremental runs; ``HttpBearer`` auth.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from real_servers import (
    LAST,
    RealServer,
    check_streams,
    credential_runs,
    incremental_runs,
    real_config,
    run_logged,
    server_fixture,
)

STREAMS = ["items", "tools"]


ninja = server_fixture("ninja")


# The requests each style must send, per stream: exactly these, none past the last page.
SENT = {
    # 137 records 30 at a time; 45 tools: count (records) reached, no empty page.
    "ninja_limit_offset": ("offset", {"items": [0, 30, 60, 90, 120], "tools": [0, 30]}),
    # Ninja's page_size=20: 7 pages and 3; count counts records (total_counts: records).
    "ninja_page_number": ("page", {"items": [1, 2, 3, 4, 5, 6, 7], "tools": [1, 2, 3]}),
    # 25 a page: the first request has no cursor, then one per next URL.
    "ninja_cursor": ("cursor", None),
}


@pytest.mark.parametrize("config", list(SENT))
def test_every_style_loads_every_record_once(
    ninja: RealServer, tmp_path: Path, config: str
) -> None:
    loaded, sent = run_logged(real_config(config, ninja), ninja, tmp_path)
    check_streams(loaded, STREAMS)
    assert all(status == "200" for _, _, status in sent), sent
    param, pages = SENT[config]
    if pages is None:  # cursor: one request per page of 25 (6 and 2), each cursor once
        for stream, count in (("items", 6), ("tools", 2)):
            cursors = [
                q.get(param)
                for _, q, _ in sent
                if (q.get("category") == "tools") == (stream == "tools")
            ]
            assert len(cursors) == count == len(set(cursors)), (stream, cursors)
        return
    for stream in STREAMS:
        got = [
            int(q[param])
            for _, q, _ in sent
            if (q.get("category") == "tools") == (stream == "tools")
        ]
        assert sorted(got) == pages[stream], stream


def test_page_size_capped_by_ninja_loses_nothing(ninja: RealServer, tmp_path: Path) -> None:
    """page_size=150 asked, Ninja's max_page_size (100) served: the records total still ends
    paging right after the last record, page 2."""
    loaded, sent = run_logged(real_config("ninja_page_number_capped", ninja), ninja, tmp_path)
    check_streams(loaded, ["items"])
    assert [(q["page"], q["page_size"], status) for _, q, status in sent] == [
        ("1", "150", "200"),
        ("2", "150", "200"),
    ]


def test_incremental_second_run_gets_only_the_changes(ninja: RealServer, tmp_path: Path) -> None:
    runs = incremental_runs("ninja_incremental", ninja, tmp_path, ["items"], log_requests=True)
    # The sync sent the bookmark as the FilterSchema's updated_since (one page); the request
    # before it is the schema sample, from initial_value (README: Schemas).
    synced = [q.get("updated_since") for path, q, _ in runs.sent if path == "/api/items"]
    assert synced[-1:] == [LAST]


def test_http_bearer(tmp_path: Path) -> None:
    line = credential_runs("ninja", "ninja_auth", "ninja_token", STREAMS, tmp_path)
    assert "401" in line, line
