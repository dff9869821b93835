"""The tap against a real Django Ninja 1.7 (issue 14 §1): tests/real/serve_ninja.py.

Each pagination class Ninja ships: ``LimitOffsetPagination`` (``offset``, ``count`` counts
records), ``PageNumberPagination`` (``page_number`` whose ``count`` counts records, not pages:
``total_counts: records`` ends paging on it, with no empty page asked for) and
``CursorPagination`` (the ``next`` URL: ``json_link``); a ``FilterSchema`` (``category``,
``updated_since``) for a filtered stream and incremental runs; ``HttpBearer`` auth.
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
    """(path, query, status) of each request wsgiref logged after the first ``since`` lines."""
    lines = server.log().splitlines()
    for _ in range(20):  # the server logs a request just after answering it
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
def ninja() -> Iterator[RealServer]:
    """One Django Ninja app without auth, serving ``dataset()``."""
    with serving("ninja") as server:
        yield server


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
    since = len(ninja.log().splitlines())
    loaded = into_jsonl(real_config(config, ninja), tmp_path)
    loaded.check()
    check_streams(loaded.files)
    sent = requests_logged(ninja, since)
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
    since = len(ninja.log().splitlines())
    loaded = into_jsonl(real_config("ninja_page_number_capped", ninja), tmp_path)
    loaded.check()
    assert sorted(loaded.files) == ["items"]
    assert sorted(loaded.files["items"]) == ids()
    assert len(loaded.files["items"]) == len(ids())
    sent = requests_logged(ninja, since)
    assert [(q["page"], q["page_size"], status) for _, q, status in sent] == [
        ("1", "150", "200"),
        ("2", "150", "200"),
    ]


def test_incremental_second_run_gets_only_the_changes(ninja: RealServer, tmp_path: Path) -> None:
    first = into_jsonl(real_config("ninja_incremental", ninja), tmp_path / "1")
    first.check()
    assert sorted(first.files["items"]) == ids()
    assert len(first.files["items"]) == len(ids())
    assert bookmark(first.state, "items") == dataset()[-1]["updated_at"]
    with serving("ninja", items=dataset(changed=True)) as changed:
        cfg = real_config("ninja_incremental", changed)
        second = into_jsonl(cfg, tmp_path / "2", state=first.state)
        sent = requests_logged(changed, 0)
    second.check()
    assert sorted(second.files["items"]) == sorted(CHANGED + ADDED)
    assert len(second.files["items"]) == len(CHANGED + ADDED)
    assert bookmark(second.state, "items") == LATER
    # The sync sent the bookmark as the FilterSchema's updated_since (one page); the request
    # before it is the schema sample, from initial_value (README: Schemas).
    synced = [q.get("updated_since") for path, q, _ in sent if path == "/api/items"]
    assert synced[-1:] == [dataset()[-1]["updated_at"]]


def test_http_bearer(tmp_path: Path) -> None:
    with serving("ninja", token=TOKEN) as server:
        good = real_config("ninja_auth", server)
        good["secrets"] = {"ninja_token": TOKEN}
        loaded = into_jsonl(good, tmp_path / "good")
        bad = real_config("ninja_auth", server)
        bad["secrets"] = {"ninja_token": "not-the-token"}
        refused = into_jsonl(bad, tmp_path / "bad")
    loaded.check()
    check_streams(loaded.files)
    stream = next(s for s in STREAMS if f"stream '{s}': " in refused.tap_stderr)
    line = failure_line(refused, stream)
    assert "401" in line, line
    assert "not-the-token" not in refused.tap_stderr
