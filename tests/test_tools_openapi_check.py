"""``import-openapi --check``: two pages of every resource, each guess proven or fixed (issue 16).

The fast tests describe the demo API's shop (``/s005/orders`` paged by ``page`` from 1, and each
order's ``/items`` paged by ``next_cursor``, behind a bearer token) in a small OpenAPI document,
right or wrong, and run the command in-process against the session's demo server: the child
resource is checked with the parent's first record, wrong guesses the data disproves are fixed
(``base_page`` when page 0 is refused, a ``data_selector`` that finds nothing beside one array of
objects, a schema type the records contradict), a fix is kept only when the resource then
passes, and a wrong credential fails every resource with one line, never printed. A local API
that answers page 0 as page 1 gets ``base_page`` 1 (written 0 or left to default), one that
ignores ``offset`` fails in one line, an empty collection is ok. The slow test
hand-edits the document Litestar writes (tests/real) and lets ``--check`` repair it against the
running app, then runs the tap with the fixed config: 137 ids per stream.
"""

from __future__ import annotations

import copy
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from large_api import Api, Reply
from promise_server import run_into_target
from real_servers import check_ids, ids, serving

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.routes import CREDENTIALS
from tap_restgeneric.tools.__main__ import main
from tap_restgeneric.tools.openapi.check import object_arrays, widen
from tap_restgeneric.tools.openapi.command import convert
from tap_restgeneric.tools.validate import check_config

TOKEN = CREDENTIALS["s005_token"]
ORDER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string"},
        "status": {"type": "string"},
        "customer": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "email": {"type": "string"}},
        },
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "order_id": {"type": "integer"},
        "sku": {"type": "string"},
        "qty": {"type": "integer"},
        "price": {"type": "number"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}


def shop(url: str) -> dict[str, Any]:
    """The shop's document, as right as its author could make it."""

    def ok(schema: dict[str, Any]) -> dict[str, Any]:
        return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}

    page = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}
    cursor = {"name": "cursor", "in": "query", "schema": {"type": "string"}}
    order_id = {"name": "order_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    items = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": ITEM},
            "next_cursor": {"type": "string", "nullable": True},
        },
    }
    orders = {"type": "object", "properties": {"orders": {"type": "array", "items": ORDER}}}
    return copy.deepcopy(
        {
            "openapi": "3.0.3",
            "info": {"title": "shop", "version": "1"},
            "servers": [{"url": url + "/s005"}],
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
            "paths": {
                "/orders": {"get": {"parameters": [page], "responses": ok(orders)}},
                "/orders/{order_id}/items": {
                    "get": {"parameters": [order_id, cursor], "responses": ok(items)}
                },
            },
        }
    )


def run_check(
    tmp_path: Path, document: dict[str, Any], *extra: str, token: str = TOKEN
) -> tuple[int, dict[str, Any], str, dict[str, str]]:
    """``import-openapi DOC --check --settings S -o C``: status, config, stderr, table rows."""
    doc, out, settings = tmp_path / "doc.json", tmp_path / "config.json", tmp_path / "s.json"
    doc.write_text(json.dumps(document))
    settings.write_text(json.dumps({"secrets": {"token": token}}))
    args = ["import-openapi", str(doc), "--check", "-o", str(out), "--settings", str(settings)]
    return status_config_err(main([*args, *extra]), out)


def status_config_err(status: int, out: Path) -> tuple[int, dict[str, Any], str, dict[str, str]]:
    """The status, the written config, stderr and the verdict table's rows by resource."""
    err = CAPTURED.readouterr().err
    config = json.loads(out.read_text())
    names = {r["name"] for r in config["resources"]}
    rows = {}
    for line in err.splitlines():
        first = line.split(" ", 1)[0]
        if first in names:
            rows[first] = line
    return status, config, err, rows


CAPTURED: pytest.CaptureFixture[str]


@pytest.fixture(autouse=True)
def captured(capsys: pytest.CaptureFixture[str]) -> None:
    """stderr of ``main`` for ``status_config_err``."""
    global CAPTURED  # noqa: PLW0603 (one test at a time)
    CAPTURED = capsys


def resource(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The resource called ``name``."""
    return next(r for r in config["resources"] if r["name"] == name)


def verdict(row: str) -> str:
    """The verdict column of a table row."""
    return row.split(None, 3)[3]


def test_right_document_every_guess_proven(demo: DemoServer, tmp_path: Path) -> None:
    before = len(demo.requests)
    status, config, err, rows = run_check(tmp_path, shop(demo.url))
    assert status == 0, err
    assert sorted(rows) == ["orders", "orders_items"], err
    assert verdict(rows["orders"]) == "ok"
    assert verdict(rows["orders_items"]) == "ok"
    assert rows["orders"].split()[1:3] == ["2", "20"]  # 10 per page
    assert "check: 2 ok, 0 fixed, 0 failed" in err
    paths = [r["path"] for r in demo.requests[before:]]
    assert "/s005/orders/1/items" in paths  # the child, with the parent's first record
    assert TOKEN not in err
    assert resource(config, "orders")["endpoint"]["paginator"]["base_page"] == 1


def test_wrong_guesses_are_fixed_and_proven(demo: DemoServer, tmp_path: Path) -> None:
    """Page 0 allowed (the API refuses it: 400), the items array named ``rows``, order ids
    declared strings, ``qty`` missing: each fixed, each resource then passes."""
    document = shop(demo.url)
    orders = document["paths"]["/orders"]["get"]
    orders["parameters"][0]["schema"]["minimum"] = 0
    schema = orders["responses"]["200"]["content"]["application/json"]["schema"]
    schema["properties"]["orders"]["items"]["properties"]["id"] = {"type": "string"}
    items_get = document["paths"]["/orders/{order_id}/items"]["get"]
    body = items_get["responses"]["200"]["content"]["application/json"]["schema"]
    body["properties"]["rows"] = body["properties"].pop("items")
    del body["properties"]["rows"]["items"]["properties"]["qty"]
    status, config, err, rows = run_check(tmp_path, document)
    assert status == 0, err
    assert verdict(rows["orders"]) == (
        "fixed: base_page 1 (page 0 was refused); schema 'id' string → string/integer"
    )
    assert verdict(rows["orders_items"]) == (
        "fixed: data_selector 'rows' → 'items'; schema 'qty' added (integer)"
    )
    orders_resource = resource(config, "orders")
    assert orders_resource["endpoint"]["paginator"]["base_page"] == 1
    assert orders_resource["schema"]["properties"]["id"]["type"] == ["string", "integer"]
    items = resource(config, "orders_items")
    assert items["endpoint"]["data_selector"] == "items"
    assert items["schema"]["properties"]["qty"] == {"type": ["integer", "null"]}
    assert check_config({**config, "secrets": {"token": "x"}}).errors == []


def test_wrong_credential_fails_each_resource_in_one_line(demo: DemoServer, tmp_path: Path) -> None:
    status, config, err, rows = run_check(tmp_path, shop(demo.url), token="not-the-token")
    assert status == 1
    assert "not-the-token" not in err
    orders = verdict(rows["orders"])
    assert orders.startswith("failed: GET http"), orders
    assert "/s005/orders?page=1 failed with status 401" in orders
    assert verdict(rows["orders_items"]).startswith(
        "failed: parent 'orders' gave no record to check with (stream 'orders': GET"
    )
    assert "check: 0 ok, 0 fixed, 2 failed (orders, orders_items)" in err
    # nothing was "fixed" on the way: the config is the import's
    assert resource(config, "orders")["endpoint"]["paginator"]["base_page"] == 1


def test_a_secret_not_set_means_no_check(
    demo: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKEN", raising=False)
    doc, out = tmp_path / "doc.json", tmp_path / "config.json"
    doc.write_text(json.dumps(shop(demo.url)))
    status, config, err, _ = status_config_err(
        main(["import-openapi", str(doc), "--check", "-o", str(out)]), out
    )
    assert status == 1
    lines = [line for line in err.splitlines() if line.startswith("check: not run: ")]
    assert len(lines) == 1
    assert "secret 'token' is not set" in lines[0]
    assert config["client"]["auth"] == {"type": "bearer", "token": {"secret": "token"}}


def test_secret_from_the_environment(
    demo: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKEN", TOKEN)
    doc, out = tmp_path / "doc.json", tmp_path / "config.json"
    doc.write_text(json.dumps(shop(demo.url)))
    status, _, err, rows = status_config_err(
        main(["import-openapi", str(doc), "--check", "-o", str(out)]), out
    )
    assert status == 0, err
    assert {verdict(r) for r in rows.values()} == {"ok"}


def test_widen_and_object_arrays() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "inner": {"type": "object", "properties": {"x": {"type": "string"}}},
        },
    }
    trial = copy.deepcopy(schema)
    assert widen(trial, "n", 1.5) == "'n' integer → number"
    assert widen(trial, "when", None) == "'when' string → string/null"
    assert trial["properties"]["when"]["format"] == "date-time"
    assert widen(trial, "tags[]", 3) == "'tags' items: any value"
    assert widen(trial, "inner.x", 2) == "'inner.x' string → string/integer"
    assert widen(trial, "extra", "a") == "'extra' added (string)"
    assert trial["properties"]["extra"] == {"type": ["string", "null"]}
    body = {"meta": {"n": 1}, "data": {"rows": [{"a": 1}], "tags": ["x"]}, "empty": []}
    assert list(object_arrays(body)) == ["data.rows"]
    assert list(object_arrays([{"a": 1}])) == ["$"]


THINGS = [{"id": i, "name": f"thing {i}"} for i in range(1, 26)]


def things(query: dict[str, str]) -> Reply:
    """25 things, pages from 1 (page 0 answered as page 1, as lenient APIs do), 10 a page."""
    page = max(int(query.get("page", "1")), 1)
    body = {"things": THINGS[(page - 1) * 10 : page * 10]}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode(), False


def stuck(query: dict[str, str]) -> Reply:
    """An API that ignores ``offset``: every page is the first."""
    body = {"things": THINGS[: int(query.get("limit", "10"))]}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode(), False


def empty(query: dict[str, str]) -> Reply:
    """An empty collection."""
    return 200, {"Content-Type": "application/json"}, b'{"things": []}', False


def lenient_document(url: str, page_schema: dict[str, Any]) -> dict[str, Any]:
    """``/things`` paged by ``page`` (schema given), ``/stuck`` by offset/limit, ``/empty``."""
    thing = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    }
    envelope = {"type": "object", "properties": {"things": {"type": "array", "items": thing}}}
    ok = {"200": {"description": "ok", "content": {"application/json": {"schema": envelope}}}}

    def param(name: str, **schema: Any) -> dict[str, Any]:
        return {"name": name, "in": "query", "schema": {"type": "integer", **schema}}

    return {
        "openapi": "3.0.3",
        "info": {"title": "things", "version": "1"},
        "servers": [{"url": url}],
        "paths": {
            "/things": {"get": {"parameters": [param("page", **page_schema)], "responses": ok}},
            "/stuck": {"get": {"parameters": [param("offset"), param("limit")], "responses": ok}},
            "/empty": {"get": {"responses": ok}},
        },
    }


@pytest.mark.parametrize(
    ("page_schema", "written"),
    [({"minimum": 0}, True), ({}, False)],
    ids=["base_page-0-written", "base_page-defaulted"],
)
def test_pages_0_and_1_alike_mean_base_page_1(
    tmp_path: Path, page_schema: dict[str, Any], written: bool
) -> None:
    """Page 0 answered as page 1: with ``base_page`` 0 written the tap finds page 1 repeated
    (an unproven end), left to default it heals; either way ``--check`` writes 1. An API that
    ignores ``offset`` fails in one line; an empty collection is proven by its empty array."""
    with Api(routes={"/things": things, "/stuck": stuck, "/empty": empty}) as api:
        document = lenient_document(api.url, page_schema)
        doc, out = tmp_path / "doc.json", tmp_path / "config.json"
        doc.write_text(json.dumps(document))
        guessed, _ = convert(str(doc))  # the import alone: base_page 0 written, or left out
        paginator = resource(dict(guessed), "things")["endpoint"]["paginator"]
        assert paginator.get("base_page", "unset") == (0 if written else "unset")
        status, config, err, rows = status_config_err(
            main(["import-openapi", str(doc), "--check", "-o", str(out)]), out
        )
    assert status == 1, err
    assert verdict(rows["things"]) == "fixed: base_page 1 (pages 0 and 1 came back the same)"
    assert resource(config, "things")["endpoint"]["paginator"]["base_page"] == 1
    assert rows["things"].split()[1:3] == ["2", "20"]
    assert verdict(rows["empty"]) == "ok"
    assert rows["empty"].split()[1:3] == ["1", "0"]
    stuck_verdict = verdict(rows["stuck"])
    assert stuck_verdict.startswith("failed: page 2 (GET "), stuck_verdict
    assert "not a proven end" in stuck_verdict
    assert "check: 1 ok, 1 fixed, 1 failed (stuck)" in err


@pytest.mark.slow
def test_litestar_hand_edited_document_fixed_against_the_app(tmp_path: Path) -> None:
    """Litestar's own document, edited wrong (the offset envelope's ``items`` renamed
    ``records``, ``price`` declared a string). The classic paginator's ``current_page``
    declares no minimum, but its envelope's ``current_page``/``total_pages`` fields make the
    import write ``base_page`` 1, so ``--check`` has no base to fix there (the documents that
    mislead about the base are the local ones above). ``--check`` fixes the two edits; the tap
    then loads 137 ids per stream."""
    with serving("litestar") as server:
        with urllib.request.urlopen(server.url + "/schema/openapi.json", timeout=30) as answer:
            document = json.load(answer)
        envelope = document["paths"]["/offset/items"]["get"]["responses"]["200"]
        props = envelope["content"]["application/json"]["schema"]["properties"]
        props["records"] = props.pop("items")
        document["components"]["schemas"]["Item"]["properties"]["price"] = {"type": "string"}
        status, config, err, rows = run_check(tmp_path, document, "--base-url", server.url)
        assert status == 0, err
        widened = "schema 'price' string → string/integer"
        assert verdict(rows["offset_items"]) == (
            f"fixed: data_selector 'records' → 'items'; {widened}"
        )
        assert verdict(rows["classic_items"]) == f"fixed: {widened}"  # base_page 1 was right
        classic = resource(config, "classic_items")["endpoint"]["paginator"]
        assert classic["base_page"] == 1
        assert verdict(rows["cursor_items"]) == f"fixed: {widened}"
        loaded = run_into_target(config, tmp_path / "run")
    check_ids(loaded, dict.fromkeys(["offset_items", "classic_items", "cursor_items"], ids()))


def test_a_fix_that_does_not_pass_is_not_kept(tmp_path: Path) -> None:
    """Page 0 refused (400) suggests base_page 1, but page 1 is refused too: the resource fails,
    saying what was tried, and the config keeps the import's base_page 0."""

    def refused(query: dict[str, str]) -> Reply:
        return 400, {"Content-Type": "application/json"}, b'{"error": "bad page"}', False

    with Api(routes={"/things": refused}) as api:
        document = lenient_document(api.url, {"minimum": 0})
        del document["paths"]["/stuck"], document["paths"]["/empty"]
        doc, out = tmp_path / "doc.json", tmp_path / "config.json"
        doc.write_text(json.dumps(document))
        status, config, err, rows = status_config_err(
            main(["import-openapi", str(doc), "--check", "-o", str(out)]), out
        )
    assert status == 1, err
    line = verdict(rows["things"])
    assert line.startswith("failed: GET http://127.0.0.1:"), line
    assert "/things?page=1" in line  # the re-check's request, with the fix
    assert "failed with status 400" in line
    assert line.endswith("(after trying: base_page 1 (page 0 was refused))"), line
    assert resource(config, "things")["endpoint"]["paginator"]["base_page"] == 0
