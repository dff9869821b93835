"""``import-openapi`` end to end against frameworks that write their own OpenAPI document.

The real-framework apps of tests/real (Django Ninja, Litestar, Flask-Smorest; ``.venv-real``)
serve 137 items. Each test fetches the app's ``openapi.json`` over HTTP, imports it, checks the
config with ``validate``'s check, then runs the tap with that config piped into target-jsonl and
checks every stream's ids exactly (each of 1..137 once). The guesses asserted here are what each
framework's document says; where the document is wrong (Django Ninja names the envelopes of
all three pagination classes ``PagedItemOut``, so two of them are described with the cursor
class's fields) the importer's doubt rule is what makes the run right.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli import clean_env
from real_servers import (
    ADDED,
    CHANGED,
    RealServer,
    check_ids,
    dataset,
    ids,
    run_logged,
    server_fixture,
    serving,
)
from test_tools_openapi import resources

from tap_restgeneric.tools.__main__ import main
from tap_restgeneric.tools.openapi.command import convert
from tap_restgeneric.tools.validate import check_config

pytestmark = pytest.mark.slow

ninja = server_fixture("ninja")
litestar = server_fixture("litestar")
smorest = server_fixture("smorest")

DOCUMENTS = {
    "ninja": "/api/openapi.json",
    "litestar": "/schema/openapi.json",
    "smorest": "/openapi.json",
}


def imported(server: RealServer) -> tuple[dict[str, Any], list[str]]:
    """The config imported from the app's own document over HTTP, and the report; both valid."""
    config, report = convert(server.url + DOCUMENTS[server.name])
    assert report.errors == [], report.lines()
    assert check_config(config).errors == []
    return dict(config), report.lines()


def paginators(config: dict[str, Any]) -> dict[str, Any]:
    """Each resource's paginator."""
    return {name: r["endpoint"]["paginator"] for name, r in resources(config).items()}


def sent_values(sent: list[Any], path: str, param: str) -> list[str]:
    """The values of ``param`` in the requests the app logged for ``path``, in order."""
    return [query.get(param, "") for got, query, _ in sent if got == path]


def test_django_ninja_page_number_limit_offset_and_cursor(
    ninja: RealServer, tmp_path: Path
) -> None:
    config, report = imported(ninja)
    assert config["client"] == {"base_url": ninja.url}
    assert paginators(config) == {
        "items": {
            "type": "offset",
            "limit": 100,
            "offset_param": "offset",
            "limit_param": "limit",
        },
        "items_pages": {
            "type": "page_number",
            "page_param": "page",
            "base_page": 1,
            "limit": 100,
            "limit_param": "page_size",
        },
        "items_cursor": {"type": "json_link", "next_url_path": "next"},
    }
    found = resources(config)
    # the shared PagedItemOut (results + next) is only trusted for the cursor endpoint
    assert "data_selector" not in found["items"]["endpoint"]
    assert "data_selector" not in found["items_pages"]["endpoint"]
    assert found["items_cursor"]["endpoint"]["data_selector"] == "results"
    for resource in found.values():
        assert resource["primary_key"] == "id"
        assert resource["endpoint"]["incremental"] == {
            "cursor_path": "updated_at",
            "start_param": "updated_since",
        }
    assert sum(line.startswith("  doubt: ") for line in report) == 2

    loaded, sent = run_logged(config, ninja, tmp_path)
    check_ids(loaded, dict.fromkeys(found, ids()))
    assert sent_values(sent, "/api/items", "offset") == ["0", "100", "137"]
    assert sent_values(sent, "/api/items/pages", "page") == ["1", "2", "3"]
    assert sent_values(sent, "/api/items/cursor", "page_size") == ["100", "100"]
    assert all(status == "200" for _, _, status in sent), sent


def test_django_ninja_discover_sends_no_request(ninja: RealServer, tmp_path: Path) -> None:
    """The declared schemas make ``--discover`` answer without asking the API."""
    config, _ = imported(ninja)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    since = len(ninja.log().splitlines())
    done = subprocess.run(
        [sys.executable, "-m", "tap_restgeneric.tap", "--config", str(path), "--discover"],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    catalog = json.loads(done.stdout)
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert sorted(streams) == ["items", "items_cursor", "items_pages"]
    properties = streams["items"]["schema"]["properties"]
    assert properties["updated_at"]["format"] == "date-time"
    assert properties["id"]["type"] in ("integer", ["integer"])
    assert ninja.log().splitlines()[since:] == []


def test_django_ninja_incremental_second_run_reads_the_changes(
    ninja: RealServer, tmp_path: Path
) -> None:
    """The guessed ``updated_at`` / ``updated_since`` block: run 2, with run 1's STATE, against
    an app where 3 items changed and 2 were added, loads exactly those 5 per stream."""
    config, _ = imported(ninja)
    first, _ = run_logged(config, ninja, tmp_path / "1")
    check_ids(first, dict.fromkeys(resources(config), ids()))
    with serving("ninja", items=dataset(changed=True)) as changed:
        config, _ = imported(changed)
        second, sent = run_logged(config, changed, tmp_path / "2", state=first.state)
    check_ids(second, dict.fromkeys(resources(config), sorted(CHANGED + ADDED)))
    assert set(sent_values(sent, "/api/items", "updated_since")) == {"2024-01-06T17:00:00Z"}


def test_litestar_offset_classic_and_cursor(litestar: RealServer, tmp_path: Path) -> None:
    config, report = imported(litestar)
    assert config["client"] == {"base_url": litestar.url + "/"}
    assert paginators(config) == {
        "offset_items": {
            "type": "offset",
            "limit": 100,
            "offset_param": "offset",
            "limit_param": "limit",
            "total_path": "total",
        },
        "classic_items": {
            "type": "page_number",
            "page_param": "current_page",
            "base_page": 1,
            "limit": 100,
            "limit_param": "page_size",
            "total_path": "total_pages",
        },
        "cursor_items": {
            "type": "cursor",
            "cursor_path": "cursor",
            "cursor_param": "cursor",
            "limit": 100,
            "limit_param": "results_per_page",
        },
    }
    assert {r["endpoint"]["data_selector"] for r in resources(config).values()} == {"items"}
    assert (
        "  paginator: cursor from response field 'cursor' feeds query parameter 'cursor' "
        "(same name)"
    ) in report
    # current_page declares no minimum: the envelope's page fields say pages count from 1
    assert any(
        "base_page 1: no minimum or default declared, and the response has field "
        "'current_page'" in line
        for line in report
    ), report
    loaded, _ = run_logged(config, litestar, tmp_path)
    check_ids(loaded, dict.fromkeys(resources(config), ids()))


def test_flask_smorest_header_pagination_through_the_command(
    smorest: RealServer, tmp_path: Path
) -> None:
    """``restgeneric import-openapi URL -o F --report R``, then the tap with F: the page count
    in Flask-Smorest's ``X-Pagination`` JSON header ends paging."""
    out, report = tmp_path / "config.json", tmp_path / "report.txt"
    url = smorest.url + DOCUMENTS["smorest"]
    assert main(["import-openapi", url, "-o", str(out), "--report", str(report)]) == 0
    assert main(["validate", str(out)]) == 0
    config = json.loads(out.read_text())
    assert paginators(config) == {
        "items": {
            "type": "page_number",
            "page_param": "page",
            "base_page": 1,
            "limit": 100,
            "limit_param": "page_size",
            "total_header": "X-Pagination",
            "total_path": "total_pages",
        }
    }
    assert "'total_pages' in the JSON response header 'X-Pagination'" in report.read_text()
    loaded, sent = run_logged(config, smorest, tmp_path / "run")
    check_ids(loaded, {"items": ids()})
    assert sent_values(sent, "/items/", "page") == ["1", "2"]


def test_litestar_check_proves_every_guess_ok(
    litestar: RealServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--check`` against Litestar's own document: the classic paginator's ``base_page`` 1
    (from its envelope's page fields) is right, so nothing is fixed: 3 ok."""
    out = tmp_path / "config.json"
    url = litestar.url + DOCUMENTS["litestar"]
    assert main(["import-openapi", url, "--check", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    rows = {line.split()[0]: line.split()[1:] for line in err.splitlines() if "_items " in line}
    assert rows == {
        name: ["2", "137", "ok"] for name in ("offset_items", "classic_items", "cursor_items")
    }, err
    assert "check: 3 ok, 0 fixed, 0 failed" in err
    assert paginators(json.loads(out.read_text()))["classic_items"]["base_page"] == 1
