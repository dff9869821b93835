"""The tap against a real Flask-Smorest 0.47 (issue 14 §1): tests/real/serve_smorest.py.

Flask-Smorest's ``@blp.paginate`` pages with ``page``/``page_size`` and puts its metadata in the
``X-Pagination`` JSON header, not the body (a bare list): ``page_number`` reads the total there
(``total_header`` + ``total_path``, counting pages or, with ``total_counts``, records) and ends on
it, with no empty page asked for; with no paginator configured, ``auto`` finds it there.
``category`` and ``updated_since`` are its query-args schema. Flask-Smorest has no auth of its
own: no credential test here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from real_servers import (
    ADDED,
    CHANGED,
    LATER,
    RealServer,
    dataset,
    ids,
    into_jsonl,
    real_config,
    serving,
)

STREAMS = ["items", "tools"]
REQUEST = re.compile(r'"GET (\S+) HTTP/1\.[01]" (\d+)')


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


def requests_logged(server: RealServer, since: int) -> list[tuple[str, dict[str, str], str]]:
    """(path, query, status) of each request werkzeug logged after the first ``since`` lines."""
    lines = server.log().splitlines()
    for _ in range(20):  # werkzeug logs a request just after answering it
        time.sleep(0.1)
        later = server.log().splitlines()
        if later == lines:
            break
        lines = later
    found = []
    for line in lines[since:]:
        if (match := REQUEST.search(line)) and match.group(1) != "/":  # "/": the ready probe
            url = urlsplit(match.group(1))
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            found.append((url.path, query, match.group(2)))
    return found


@pytest.fixture(scope="module")
def smorest() -> Iterator[RealServer]:
    """One Flask-Smorest app serving ``dataset()``."""
    with serving("smorest") as server:
        yield server


def test_page_number_by_the_x_pagination_header(smorest: RealServer, tmp_path: Path) -> None:
    """Every record once; paging ends on the header's total: no request past the last page."""
    since = len(smorest.log().splitlines())
    loaded = into_jsonl(real_config("smorest_page_number", smorest), tmp_path)
    loaded.check()
    check_streams(loaded.files)
    sent = requests_logged(smorest, since)
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
    since = len(smorest.log().splitlines())
    loaded = into_jsonl(real_config("smorest_auto", smorest), tmp_path)
    loaded.check()
    check_streams(loaded.files)
    guess = '"total_header": "X-Pagination", "total_path": "total_pages", "base_page": 1}'
    assert loaded.tap_stderr.count(guess) == 2, loaded.tap_stderr[-3000:]
    sent = requests_logged(smorest, since)
    pages = {
        stream: sorted(int(q.get("page", 1)) for _, q, _ in sent if q.get("category") == category)
        for stream, category in (("items", None), ("tools", "tools"))
    }
    assert pages == {"items": list(range(1, 15)), "tools": [1, 2, 3, 4, 5]}


def test_incremental_second_run_gets_only_the_changes(smorest: RealServer, tmp_path: Path) -> None:
    first = into_jsonl(real_config("smorest_incremental", smorest), tmp_path / "1")
    first.check()
    assert sorted(first.files["items"]) == ids()
    assert len(first.files["items"]) == len(ids())
    assert bookmark(first.state, "items") == dataset()[-1]["updated_at"]
    with serving("smorest", items=dataset(changed=True)) as changed:
        cfg = real_config("smorest_incremental", changed)
        second = into_jsonl(cfg, tmp_path / "2", state=first.state)
        sent = requests_logged(changed, 0)
    second.check()
    assert sorted(second.files["items"]) == sorted(CHANGED + ADDED)
    assert len(second.files["items"]) == len(CHANGED + ADDED)
    assert bookmark(second.state, "items") == LATER
    # The sync sent the bookmark as the query-args schema's updated_since (one page); the
    # request before it is the schema sample, from initial_value (README: Schemas).
    synced = [q.get("updated_since") for path, q, _ in sent if path == "/items/"]
    assert synced[-1:] == [dataset()[-1]["updated_at"]]
