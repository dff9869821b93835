"""``import-openapi --check`` end to end against FastAPI + fastapi-pagination (issue 16).

tests/real/serve_fastapi.py (``.venv-real``) serves the 137 items through fastapi-pagination's
``Page`` (page/size, total, pages), ``LimitOffsetPage`` (limit/offset, total) and ``CursorPage``
(``cursor`` in, ``next_page`` out). The test fetches FastAPI's own ``/openapi.json`` over HTTP,
runs ``restgeneric import-openapi URL --check -o config.json``, then the tap with that config
piped into target-jsonl: every stream has exactly the ids 1..137. The import alone (no
``--check``) already guesses all three paginators: ``page_number``, ``offset`` and ``cursor``
(``next_page`` is a string there, an opaque cursor fed to the ``cursor`` parameter), so
``--check`` proves each ``ok`` and fixes nothing. With the bearer token required, a wrong
credential fails the check with one line per resource (the 401), and the token is never printed.
The configs a user writes by hand from fastapi-pagination's docs (examples/real/fastapi_*.json)
are run too, every stream's ids checked exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from promise_server import run_into_target
from real_servers import (
    REAL_EXAMPLES,
    TOKEN,
    RealServer,
    check_ids,
    check_streams,
    ids,
    real_config,
    server_fixture,
    serving,
)

from tap_restgeneric.tools.__main__ import main

pytestmark = pytest.mark.slow

fastapi = server_fixture("fastapi")
STREAMS = ("items", "items_limit_offset", "items_cursor")


@pytest.mark.parametrize(
    ("config", "streams"),
    [
        ("fastapi_page", ["items", "tools"]),
        ("fastapi_cursor", ["items", "kitchen"]),
    ],
)
def test_hand_written_configs_load_every_record_once(
    fastapi: RealServer, tmp_path: Path, config: str, streams: list[str]
) -> None:
    """``Page`` (page from 1, size 20, ``pages`` as the page count) and ``CursorPage``
    (``next_page`` fed back as ``cursor``, ending at its null), as a user writes them."""
    assert main(["validate", str(REAL_EXAMPLES / f"{config}.json")]) == 0
    check_streams(run_into_target(real_config(config, fastapi), tmp_path), streams)


def test_fastapi_pagination_import_guesses_every_paginator_without_check(
    fastapi: RealServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plain import (no ``--check``) writes page_number, offset and cursor: the cursor
    endpoint's string ``next_page`` paired with its ``cursor`` parameter, said in the report."""
    out = tmp_path / "config.json"
    assert main(["import-openapi", fastapi.url + "/openapi.json", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    config = json.loads(out.read_text())
    types = {r["name"]: r["endpoint"]["paginator"]["type"] for r in config["resources"]}
    assert types == {
        "items": "page_number",
        "items_limit_offset": "offset",
        "items_cursor": "cursor",
    }
    assert (
        "  paginator: cursor from response field 'next_page' feeds query parameter 'cursor' (the "
        "only cursor-like parameter); a string, so an opaque cursor, not a page number"
    ) in err.splitlines(), err


def test_fastapi_pagination_import_check_and_run(
    fastapi: RealServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "config.json"
    assert main(["import-openapi", fastapi.url + "/openapi.json", "--check", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    rows = {line.split()[0]: line for line in err.splitlines() if line.startswith("items")}
    assert rows["items"].split()[1:] == ["2", "137", "ok"]
    assert rows["items_limit_offset"].split()[1:] == ["2", "137", "ok"]
    assert rows["items_cursor"].split()[1:] == ["2", "137", "ok"]
    assert "check: 3 ok, 0 fixed, 0 failed" in err
    config = json.loads(out.read_text())
    found = {r["name"]: r["endpoint"] for r in config["resources"]}
    assert found["items"]["paginator"] == {
        "type": "page_number",
        "page_param": "page",
        "base_page": 1,
        "limit": 100,
        "limit_param": "size",
        "total_path": "pages",
    }
    assert found["items_limit_offset"]["paginator"] == {
        "type": "offset",
        "limit": 100,
        "offset_param": "offset",
        "limit_param": "limit",
        "total_path": "total",
    }
    assert found["items_cursor"]["paginator"] == {
        "type": "cursor",
        "cursor_path": "next_page",
        "cursor_param": "cursor",
        "limit": 100,
        "limit_param": "size",
    }
    assert {e["data_selector"] for e in found.values()} == {"items"}
    assert main(["validate", str(out)]) == 0

    loaded = run_into_target(config, tmp_path / "run")
    check_ids(loaded, dict.fromkeys(STREAMS, ids()))


def test_fastapi_wrong_bearer_token_fails_the_check_in_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The document declares HTTPBearer: the config asks for secret 'token'. A wrong one (from
    ``--settings``' ``secrets``) is a 401 on every resource: exit 1, one line each, no secret
    printed; the right one passes."""
    wrong, right = tmp_path / "wrong.json", tmp_path / "right.json"
    wrong.write_text(json.dumps({"secrets": {"token": "not-the-token"}}))
    right.write_text(json.dumps({"secrets": {"token": TOKEN}}))
    out = tmp_path / "config.json"
    with serving("fastapi", token=TOKEN) as server:
        url = server.url + "/openapi.json"
        base = ["import-openapi", url, "--check", "-o", str(out), "--settings"]
        assert main([*base, str(wrong)]) == 1
        err = capsys.readouterr().err
        assert main([*base, str(right)]) == 0
        good = capsys.readouterr().err
    assert "not-the-token" not in err
    assert TOKEN not in err + good
    failed = [line for line in err.splitlines() if " failed: " in line]
    assert len(failed) == 3, err
    for stream, line in zip(STREAMS, failed, strict=True):
        assert line.split()[:3] == [stream, "0", "0"], line
        assert "failed with status 401 Unauthorized" in line, line
    assert "check: 0 ok, 0 fixed, 3 failed (items, items_limit_offset, items_cursor)" in err
    assert json.loads(out.read_text())["client"]["auth"] == {
        "type": "bearer",
        "token": {"secret": "token"},
    }
    assert "check: 3 ok, 0 fixed, 0 failed" in good
