"""``import-openapi --check`` end to end against FastAPI + fastapi-pagination (issue 16).

tests/real/serve_fastapi.py (``.venv-real``) serves the 137 items through fastapi-pagination's
``Page`` (page/size, total, pages), ``LimitOffsetPage`` (limit/offset, total) and ``CursorPage``
(``cursor`` in, ``next_page`` out). The test fetches FastAPI's own ``/openapi.json`` over HTTP,
runs ``restgeneric import-openapi URL --check -o config.json``, then the tap with that config
piped into target-jsonl: every stream has exactly the ids 1..137. The importer leaves the cursor
endpoint to ``auto`` (no response field it knows as a cursor: ``next_page``); ``--check`` writes
the paginator the tap detected on the first two pages. With the bearer token required, a wrong
credential fails the check with one line per resource (the 401), and the token is never printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from promise_server import run_into_target
from real_servers import TOKEN, RealServer, check_ids, ids, server_fixture, serving

from tap_restgeneric.tools.__main__ import main

pytestmark = pytest.mark.slow

fastapi = server_fixture("fastapi")
STREAMS = ("items", "items_limit_offset", "items_cursor")


def test_fastapi_pagination_import_check_and_run(
    fastapi: RealServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "config.json"
    assert main(["import-openapi", fastapi.url + "/openapi.json", "--check", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    rows = {line.split()[0]: line for line in err.splitlines() if line.startswith("items")}
    assert rows["items"].split()[1:] == ["2", "137", "ok"]
    assert rows["items_limit_offset"].split()[1:] == ["2", "137", "ok"]
    assert rows["items_cursor"].split()[1:4] == ["2", "137", "fixed:"]
    assert "check: 2 ok, 1 fixed, 0 failed" in err
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
    assert "check: 2 ok, 1 fixed, 0 failed" in good
