"""examples/shop_parent_child.json end to end: the tap's CLI against the demo API's /s005 shop.

orders → order_details (order 13's 404 ignored) and order_items (cursor per order) →
item_events (POST search, cursor in the body). Every expected record and request is computed
from the demo's own helpers; requests are replayed through the demo's routes to check that each
cursor sent is the one the previous page returned.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli import Run, clean_env, example, run_tap, tool

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.shop import (
    SHOP_EVENTS_PER_PAGE,
    SHOP_ITEMS_PER_PAGE,
    SHOP_MISSING_ORDER,
    SHOP_ORDERS_PER_PAGE,
    shop_events,
    shop_items,
    shop_order_detail,
    shop_orders,
    shop_route,
)

EXAMPLE = "shop_parent_child"
STREAMS = ("orders", "order_details", "order_items", "item_events")
Record = dict[str, Any]
Request = dict[str, Any]


def example_config(base_url: str) -> dict[str, Any]:
    """The example config pointed at ``base_url``."""
    return example(EXAMPLE, base_url)


def event_kinds() -> list[str]:
    """The ``filter.kinds`` the example's item_events search sends."""
    config = example_config("http://unused")
    events = next(r for r in config["resources"] if r["name"] == "item_events")
    kinds: list[str] = events["endpoint"]["json"]["filter"]["kinds"]
    return kinds


def expected_records() -> dict[str, list[Record]]:
    """What each stream must write, in order, computed from the demo's helpers."""
    orders = shop_orders()
    details = [d for o in orders if (d := shop_order_detail(o["id"])) is not None]
    items = [{**i, "_orders_number": o["number"]} for o in orders for i in shop_items(o["id"])]
    events = [
        {**e, "_order_items_order_id": i["order_id"]}
        for i in items
        for e in shop_events(i["id"], event_kinds())
    ]
    return {"orders": orders, "order_details": details, "order_items": items, "item_events": events}


def expected_route_sequence() -> list[tuple[str, str]]:
    """(method, path) of every request, in order: children run per parent record, depth first."""
    orders = shop_orders()
    pages = math.ceil(len(orders) / SHOP_ORDERS_PER_PAGE) + 1  # the last, empty page ends it
    found: list[tuple[str, str]] = []
    for page in range(pages):
        found.append(("GET", "/s005/orders"))
        start = page * SHOP_ORDERS_PER_PAGE
        for order in orders[start : start + SHOP_ORDERS_PER_PAGE]:
            found.append(("GET", f"/s005/orders/{order['id']}"))
            items = shop_items(order["id"])
            for first in range(0, len(items), SHOP_ITEMS_PER_PAGE):
                found.append(("GET", f"/s005/orders/{order['id']}/items"))
                for item in items[first : first + SHOP_ITEMS_PER_PAGE]:
                    events = shop_events(item["id"], event_kinds())
                    calls = math.ceil(len(events) / SHOP_EVENTS_PER_PAGE)
                    found += [("POST", f"/s005/items/{item['id']}/events/search")] * calls
    return found


def replay(server: DemoServer, request: Request) -> Any:
    """The body the demo answered to a recorded request (its routes are deterministic)."""
    route = shop_route(request["path"])
    assert route is not None, request["path"]
    _, method, handler = route
    assert method == request["method"]
    return handler(server, request["query"], request["body"]).body


@dataclass
class ShopRun:
    """One CLI run of the example and the requests the demo API received."""

    run: Run
    requests: list[Request]
    server: DemoServer

    def route(self, kind: str) -> list[Request]:
        """Requests of one route: ``orders``, ``detail``, ``items`` or ``events``."""
        return [r for r in self.requests if route_kind(r["path"]) == kind]


def route_kind(path: str) -> str:
    """Classify a /s005 path by route."""
    parts = path.removeprefix("/s005/").split("/")
    if parts == ["orders"]:
        return "orders"
    if parts[0] == "orders" and len(parts) == 2:
        return "detail"
    if parts[0] == "orders" and parts[2:] == ["items"]:
        return "items"
    if parts[0] == "items" and parts[2:] == ["events", "search"]:
        return "events"
    return "other"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopRun]:
    """Run the example once against a fault-free demo API of its own."""
    with DemoServer(port=0, faults=False) as server:
        run = run_tap(example_config(server.url), tmp_path_factory.mktemp("shop"))
        yield ShopRun(run, list(server.requests), server)


# --------------------------------------------------------------------------------------------
# records


def test_run_succeeds_and_writes_the_four_streams(shop: ShopRun) -> None:
    """Exit 0 and exactly the example's four streams."""
    assert shop.run.returncode == 0, shop.run.stderr[-3000:]
    assert sorted(shop.run.records) == sorted(STREAMS)


def test_record_counts(shop: ShopRun) -> None:
    """orders 25; order_details 24 (order 13 ignored); order_items 62; item_events 185."""
    counts = {stream: len(shop.run.records.get(stream, [])) for stream in STREAMS}
    assert counts == {"orders": 25, "order_details": 24, "order_items": 62, "item_events": 185}
    assert counts == {stream: len(rows) for stream, rows in expected_records().items()}


@pytest.mark.parametrize("stream", STREAMS)
def test_records_are_exactly_the_demo_data(shop: ShopRun, stream: str) -> None:
    """Every record of every stream, in order, field for field (parent fields included)."""
    expected = expected_records()[stream]
    assert shop.run.ids(stream) == [r["id"] for r in expected]
    assert shop.run.records[stream] == expected


def test_missing_order_detail_is_skipped_only_for_that_order(shop: ShopRun) -> None:
    """Order 13 has no detail but is listed, and its items and their events are written."""
    assert SHOP_MISSING_ORDER not in shop.run.ids("order_details")
    assert SHOP_MISSING_ORDER in shop.run.ids("orders")
    items = [i for i in shop.run.records["order_items"] if i["order_id"] == SHOP_MISSING_ORDER]
    assert [i["id"] for i in items] == [i["id"] for i in shop_items(SHOP_MISSING_ORDER)]
    assert items and all(i["_orders_number"] == "ORD-0013" for i in items)
    events = [e for e in shop.run.records["item_events"] if e["_order_items_order_id"] == 13]
    assert len(events) == sum(len(shop_events(i["id"], event_kinds())) for i in items)


def test_parent_fields_included_and_declared(shop: ShopRun) -> None:
    """``_orders_number`` on order_items and ``_order_items_order_id`` on item_events."""
    numbers = {o["id"]: o["number"] for o in shop_orders()}
    items = shop.run.records["order_items"]
    assert all(i["_orders_number"] == numbers[i["order_id"]] for i in items)
    events = shop.run.records["item_events"]
    item_orders = {i["id"]: i["order_id"] for i in items}
    assert all(e["_order_items_order_id"] == item_orders[e["item_id"]] for e in events)
    assert items[0]["_orders_number"] == "ORD-0001"
    assert events[-1]["_order_items_order_id"] == 25
    assert "_orders_number" in shop.run.schemas["order_items"]["properties"]
    assert "_order_items_order_id" in shop.run.schemas["item_events"]["properties"]
    assert "_orders_id" not in items[0]
    assert "_order_items_id" not in events[0]


def test_final_state_has_no_parent_data(shop: ShopRun) -> None:
    """No incremental here: empty bookmarks, and no parent record leaks into STATE."""
    assert shop.run.states[-1] == {"bookmarks": {stream: {} for stream in STREAMS}}
    assert "ORD-" not in json.dumps(shop.run.states)


# --------------------------------------------------------------------------------------------
# requests


def test_request_counts_per_route(shop: ShopRun) -> None:
    """25 detail calls, 37 item-page calls, 105 event searches; 4 order pages, and at most 3
    more fetched ahead (max_concurrency 4) past the empty page that ends them; nothing else."""
    counts = {kind: len(shop.route(kind)) for kind in ("orders", "detail", "items", "events")}
    assert counts | {"orders": 4} == {"orders": 4, "detail": 25, "items": 37, "events": 105}
    assert 4 <= counts["orders"] <= 4 + 3
    assert len(shop.requests) == sum(counts.values())


def test_request_sequence_is_depth_first_per_parent_record(shop: ShopRun) -> None:
    """The exact (method, path) sequence of the children: each record's before the next record.

    Order pages are fetched ahead on worker threads, so they are left out of the comparison.
    """
    children = [
        (r["method"], r["path"]) for r in shop.requests if route_kind(r["path"]) != "orders"
    ]
    expected = [(m, p) for m, p in expected_route_sequence() if route_kind(p) != "orders"]
    assert children == expected


def test_every_request_authenticated_and_only_order_13_detail_fails(shop: ShopRun) -> None:
    """Bearer token on every request; the single non-200 is order 13's ignored 404."""
    assert {r["headers"].get("authorization") for r in shop.requests} == {"Bearer demo-token-005"}
    failed = [(r["path"], r["status"]) for r in shop.requests if r["status"] != 200]
    assert failed == [(f"/s005/orders/{SHOP_MISSING_ORDER}", 404)]


def test_order_pages(shop: ShopRun) -> None:
    """page_number from 1: pages 1..4 (page 4 is empty and ends the paging), each once, no body;
    pages past it only as far as they were fetched ahead (at most 3)."""
    requests = shop.route("orders")
    assert all(r["body"] is None and list(r["query"]) == ["page"] for r in requests)
    pages = sorted(int(r["query"]["page"][0]) for r in requests)
    assert pages == list(range(1, len(pages) + 1))
    assert 4 <= len(pages) <= 7
    assert [r["query"]["page"] for r in requests[:2]] == [["1"], ["2"]]


def test_detail_calls(shop: ShopRun) -> None:
    """One GET per order, in order, no query, no body."""
    assert [r["path"] for r in shop.route("detail")] == [f"/s005/orders/{n}" for n in range(1, 26)]
    assert all(r["query"] == {} and r["body"] is None for r in shop.route("detail"))


def test_item_pages_follow_each_orders_cursor(shop: ShopRun) -> None:
    """Per order: first page without cursor, then the cursor its previous page returned."""
    by_order: dict[str, list[Request]] = {}
    for request in shop.route("items"):
        by_order.setdefault(request["path"], []).append(request)
    assert list(by_order) == [f"/s005/orders/{n}/items" for n in range(1, 26)]
    for n, (path, requests) in enumerate(by_order.items(), start=1):
        assert len(requests) == math.ceil(len(shop_items(n)) / SHOP_ITEMS_PER_PAGE), path
        assert requests[0]["query"] == {}
        for previous, request in itertools.pairwise(requests):
            cursor = replay(shop.server, previous)["next_cursor"]
            assert cursor
            assert request["query"] == {"cursor": [cursor]}
        assert replay(shop.server, requests[-1])["next_cursor"] is None


def test_event_searches_carry_item_filter_and_body_cursor(shop: ShopRun) -> None:
    """Per item: ``filter.item`` = the item id, kinds and size kept, ``page.after`` chained."""
    kinds = event_kinds()
    by_item: dict[str, list[Request]] = {}
    for request in shop.route("events"):
        by_item.setdefault(request["path"].split("/")[3], []).append(request)
    items = [i["id"] for o in shop_orders() for i in shop_items(o["id"])]
    assert list(by_item) == items
    for item, requests in by_item.items():
        events = shop_events(item, kinds)
        assert len(requests) == math.ceil(len(events) / SHOP_EVENTS_PER_PAGE), item
        assert all(r["query"] == {} for r in requests)
        assert requests[0]["body"] == {
            "filter": {"item": item, "kinds": kinds},
            "page": {"size": SHOP_EVENTS_PER_PAGE},
        }
        for previous, request in itertools.pairwise(requests):
            after = replay(shop.server, previous)["page"]["next"]
            assert after
            assert request["body"] == {
                "filter": {"item": item, "kinds": kinds},
                "page": {"size": SHOP_EVENTS_PER_PAGE, "after": after},
            }
        assert replay(shop.server, requests[-1])["page"]["next"] is None


def test_sample_requests(shop: ShopRun) -> None:
    """A few requests spelled out: the first of each route and a second event page."""
    first = {kind: shop.route(kind)[0] for kind in ("orders", "detail", "items", "events")}
    assert (first["orders"]["path"], first["orders"]["query"]) == ("/s005/orders", {"page": ["1"]})
    assert (first["detail"]["path"], first["detail"]["body"]) == ("/s005/orders/1", None)
    assert (first["items"]["path"], first["items"]["query"]) == ("/s005/orders/1/items", {})
    assert first["events"]["method"] == "POST"
    assert first["events"]["path"] == "/s005/items/1-1/events/search"
    assert first["events"]["body"] == {
        "filter": {"item": "1-1", "kinds": ["created", "shipped", "delivered"]},
        "page": {"size": 2},
    }
    second_page = [r for r in shop.route("events") if r["path"].endswith("/1-2/events/search")]
    assert len(second_page) == 2
    assert second_page[1]["body"]["filter"] == {
        "item": "1-2",
        "kinds": ["created", "shipped", "delivered"],
    }
    assert set(second_page[1]["body"]["page"]) == {"size", "after"}


# --------------------------------------------------------------------------------------------
# into a real Singer target


def test_example_runs_end_to_end_into_target_jsonl(tmp_path: Path) -> None:
    """tap | target-jsonl: one file per stream with every expected record (validated)."""
    target = tool("target-jsonl", "TARGET_JSONL", ".venv-target")
    with DemoServer(port=0, faults=False) as server:
        config = tmp_path / "tap.json"
        config.write_text(json.dumps(example_config(server.url)))
        out = tmp_path / "out"
        out.mkdir()
        target_config = tmp_path / "target.json"
        target_config.write_text(
            json.dumps({"destination_path": str(out), "do_timestamp_file": False})
        )
        tap = subprocess.Popen(
            [sys.executable, "-m", "tap_restgeneric.tap", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=clean_env(),
        )
        done = subprocess.run(
            [target, "--config", str(target_config)],
            check=False,
            stdin=tap.stdout,
            capture_output=True,
            timeout=120,
        )
        assert tap.stdout is not None
        tap.stdout.close()
        assert tap.wait(timeout=120) == 0
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}.jsonl" for s in STREAMS)
    for stream, expected in expected_records().items():
        lines = (out / f"{stream}.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in lines] == expected, stream
