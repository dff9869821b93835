"""Seed 005: a small shop with parent/child resources (orders -> items -> events).

Deterministic and fault-free, so tests can count requests exactly. The helpers
:func:`shop_orders`, :func:`shop_order_detail`, :func:`shop_items` and :func:`shop_events`
return exactly what the routes serve.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tap_restgeneric.demo.data import (
    Record,
    created_at,
    format_instant,
    parse_instant,
    updated_at,
)
from tap_restgeneric.demo.routes import BadRequest, Query, Response, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from tap_restgeneric.demo.server import DemoServer

SHOP_ORDER_COUNT = 25
SHOP_ORDERS_PER_PAGE = 10
SHOP_ITEMS_PER_PAGE = 2
SHOP_EVENTS_PER_PAGE = 2
SHOP_MISSING_ORDER = 13
"""Order whose detail route answers 404 (it is listed and has items all the same)."""
SHOP_EVENT_KINDS = ("created", "shipped", "delivered")

_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")
_ITEM_ID = re.compile(r"([1-9][0-9]*)-([1-9][0-9]*)")


def _order(i: int) -> Record:
    customer = 1 + i % 8
    return {
        "id": i,
        "number": f"ORD-{i:04d}",
        "customer": {"id": customer, "email": f"customer{customer}@example.com"},
        "status": _STATUSES[i % len(_STATUSES)],
        "created_at": created_at(i),
        "updated_at": updated_at(i),
    }


def _later(stamp: str, **delta: float) -> str:
    return format_instant(parse_instant(stamp) + timedelta(**delta))


def shop_orders() -> list[Record]:
    """Return the 25 orders of ``GET /s005/orders`` in id order (fresh copies)."""
    return [_order(i) for i in range(1, SHOP_ORDER_COUNT + 1)]


def shop_items(order_id: int) -> list[Record]:
    """Return the line items of order ``order_id``: ``(order_id % 4) + 1`` of them.

    Unknown orders have none (the route answers 404 for them instead).
    """
    if not 1 <= order_id <= SHOP_ORDER_COUNT:
        return []
    return [
        {
            "id": f"{order_id}-{n}",
            "order_id": order_id,
            "sku": f"SKU-{(order_id * 7 + n) % 50:03d}",
            "qty": 1 + (order_id + n) % 3,
            "price": round(4.5 + (order_id * n) % 9 * 2.25, 2),
            "updated_at": _later(updated_at(order_id), minutes=n),
        }
        for n in range(1, order_id % 4 + 2)
    ]


def shop_order_detail(order_id: int) -> Record | None:
    """Return ``GET /s005/orders/{order_id}``'s body, or None where it answers 404.

    The detail adds ``total`` (sum of qty * price of the items) and ``currency``. Order
    :data:`SHOP_MISSING_ORDER` has no detail.
    """
    if order_id == SHOP_MISSING_ORDER or not 1 <= order_id <= SHOP_ORDER_COUNT:
        return None
    total = round(sum(item["qty"] * item["price"] for item in shop_items(order_id)), 2)
    return {**_order(order_id), "total": total, "currency": "EUR"}


def _item_key(item_id: str) -> tuple[int, int] | None:
    match = _ITEM_ID.fullmatch(item_id)
    if match is None:
        return None
    order_id, n = int(match[1]), int(match[2])
    return (order_id, n) if n <= len(shop_items(order_id)) else None


def shop_events(item_id: str, kinds: Iterable[str] | None = None) -> list[Record]:
    """Return the events of item ``"<order>-<n>"``: n + 1 of them, kept to ``kinds`` if given.

    Event k (1-based) has kind ``SHOP_EVENT_KINDS[(k - 1) % 3]``. Unknown items have none.
    """
    key = _item_key(item_id)
    if key is None:
        return []
    order_id, n = key
    wanted = None if kinds is None else set(kinds)
    events = [
        {
            "id": f"{item_id}-e{k}",
            "item_id": item_id,
            "kind": SHOP_EVENT_KINDS[(k - 1) % 3],
            "at": _later(created_at(order_id), minutes=n, hours=k),
        }
        for k in range(1, n + 2)
    ]
    return [e for e in events if wanted is None or e["kind"] in wanted]


# --- routes ------------------------------------------------------------------------------

BodyRoute = Callable[["DemoServer", Query, Any], Response]
"""Handler of a route that also sees the parsed JSON body."""

_NO_ORDER = Response(404, {"error": "order not found"})


def _order_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and raw.isascii() else None


def _orders(_params: tuple[str, ...], q: Query, _body: Any) -> Response:
    raw = (q.get("page") or [""])[-1]
    try:
        page = int(raw) if raw else 1
    except ValueError:
        raise BadRequest(f"invalid integer for 'page': {raw!r}") from None
    if page < 1:
        raise BadRequest("'page' must be >= 1")
    start = (page - 1) * SHOP_ORDERS_PER_PAGE
    return Response(200, {"orders": shop_orders()[start : start + SHOP_ORDERS_PER_PAGE]})


def _order_detail(params: tuple[str, ...], _q: Query, _body: Any) -> Response:
    order_id = _order_id(params[0])
    detail = None if order_id is None else shop_order_detail(order_id)
    return _NO_ORDER if detail is None else Response(200, detail)


def _items(params: tuple[str, ...], q: Query, _body: Any) -> Response:
    order_id = _order_id(params[0])
    rows = [] if order_id is None else shop_items(order_id)
    if not rows:
        return _NO_ORDER
    raw = (q.get("cursor") or [""])[-1]
    tag = f"items:{order_id}"
    offset = decode_cursor(raw, tag, "|") if raw else 0
    end = offset + SHOP_ITEMS_PER_PAGE
    cursor = encode_cursor(tag, end, "|") if end < len(rows) else None
    return Response(200, {"items": rows[offset:end], "next_cursor": cursor})


def _search_body(body: Any) -> tuple[str, list[str] | None, int, str | None]:
    """Validate the events search body: (filter.item, filter.kinds, page.size, page.after)."""
    if not isinstance(body, dict) or not isinstance(body.get("filter"), dict):
        raise BadRequest("malformed body: expected {'filter': {...}, 'page': {...}}")
    item, kinds = body["filter"].get("item"), body["filter"].get("kinds")
    page = body.get("page", {})
    if not isinstance(item, str):
        raise BadRequest("malformed body: filter.item must be a string")
    if kinds is not None and (
        not isinstance(kinds, list) or not all(k in SHOP_EVENT_KINDS for k in kinds)
    ):
        raise BadRequest(f"malformed body: filter.kinds must be a list of {SHOP_EVENT_KINDS}")
    if not isinstance(page, dict):
        raise BadRequest("malformed body: page must be an object")
    size, after = page.get("size", SHOP_EVENTS_PER_PAGE), page.get("after")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise BadRequest("malformed body: page.size must be an integer >= 1")
    if after is not None and not isinstance(after, str):
        raise BadRequest("malformed body: page.after must be a string")
    return item, kinds, min(size, SHOP_EVENTS_PER_PAGE), after


def _events(params: tuple[str, ...], _q: Query, body: Any) -> Response:
    item_id = params[0]
    item, kinds, size, after = _search_body(body)
    if item != item_id:
        return Response(400, {"error": "item mismatch"})
    if _item_key(item_id) is None:
        return Response(404, {"error": "item not found"})
    rows = shop_events(item_id, kinds)
    tag = f"events:{item_id}"
    offset = decode_cursor(after, tag, "|") if after else 0
    end = offset + size
    cursor = encode_cursor(tag, end, "|") if end < len(rows) else None
    return Response(200, {"results": rows[offset:end], "page": {"next": cursor}})


_Handler = Callable[[tuple[str, ...], Query, Any], Response]

_ROUTES: tuple[tuple[re.Pattern[str], str, _Handler], ...] = (
    (re.compile(r"/s005/orders"), "GET", _orders),
    (re.compile(r"/s005/orders/([^/]+)"), "GET", _order_detail),
    (re.compile(r"/s005/orders/([^/]+)/items"), "GET", _items),
    (re.compile(r"/s005/items/([^/]+)/events/search"), "POST", _events),
)


def _bind(handler: _Handler, params: tuple[str, ...]) -> BodyRoute:
    def bound(_srv: DemoServer, q: Query, body: Any) -> Response:
        return handler(params, q, body)

    return bound


def shop_route(path: str) -> tuple[str, str, BodyRoute] | None:
    """Return (auth scheme, method, handler) of the s005 route matching ``path``, else None."""
    for pattern, method, handler in _ROUTES:
        match = pattern.fullmatch(path)
        if match is not None:
            return "s005", method, _bind(handler, tuple(unquote(g) for g in match.groups()))
    return None
