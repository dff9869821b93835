"""Auth schemes, query parsing and the GET route handlers of the demo APIs s000-s004.

The s005 shop (path parameters, a POST search) lives in :mod:`tap_restgeneric.demo.shop`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

from tap_restgeneric.demo.data import Record, parse_instant

if TYPE_CHECKING:
    from tap_restgeneric.demo.server import DemoServer

CREDENTIALS: dict[str, str] = {
    "s000_api_key": "demo-key-000",
    "s000_auth_token": "demo-token-000",
    "s001_api_key": "demo-key-001",
    "s002_api_token": "demo-token-002",
    "s003_username": "demo-user-003",
    "s003_password": "demo-pass-003",
    "s004_api_key": "demo-key-004",
    "s005_token": "demo-token-005",
}

Headers = dict[str, str]
Query = dict[str, list[str]]


class BadRequest(Exception):
    """Raised by a route to answer 400 with a message."""


@dataclass
class Response:
    """Status, JSON-serialisable body and extra headers of one reply."""

    status: int
    body: Any
    headers: Headers = field(default_factory=dict)


def _basic(headers: Headers) -> tuple[str, str] | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


AUTH: dict[str, Callable[[Headers], bool]] = {
    "s000_key": lambda h: h.get("api_key") == CREDENTIALS["s000_api_key"],
    "s000_basic": lambda h: _basic(h) == (CREDENTIALS["s000_auth_token"], ""),
    "s001": lambda h: h.get("x-api-token") == CREDENTIALS["s001_api_key"],
    "s002": lambda h: h.get("authorization") == f"Bearer {CREDENTIALS['s002_api_token']}",
    "s003": lambda h: _basic(h) == (CREDENTIALS["s003_username"], CREDENTIALS["s003_password"]),
    "s004": lambda h: _basic(h) == (CREDENTIALS["s004_api_key"], ""),
    "s005": lambda h: h.get("authorization") == f"Bearer {CREDENTIALS['s005_token']}",
}
"""Auth scheme name -> check of the lower-cased request headers."""

BASIC_SCHEMES = frozenset({"s000_basic", "s003", "s004"})
"""Schemes whose 401 carries a ``WWW-Authenticate: Basic`` challenge."""


def _last(query: Query, name: str) -> str:
    return (query.get(name) or [""])[-1]


def _int(query: Query, name: str, default: int, minimum: int) -> int:
    raw = _last(query, name)
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"invalid integer for {name!r}: {raw!r}") from None
    if value < minimum:
        raise BadRequest(f"{name!r} must be >= {minimum}")
    return value


def encode_cursor(tag: str, offset: int, sep: str = ":") -> str:
    """An opaque cursor: base64 of ``<tag><sep><offset>``."""
    return base64.urlsafe_b64encode(f"{tag}{sep}{offset}".encode()).decode().rstrip("=")


def decode_cursor(raw: str, tag: str, sep: str = ":") -> int:
    """The offset in a cursor made by ``encode_cursor`` for ``tag``; anything else is a 400."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        prefix, _, number = text.rpartition(sep)
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest(f"invalid cursor: {raw!r}") from None
    if prefix != tag or offset < 0:
        raise BadRequest(f"invalid cursor: {raw!r}")
    return offset


def _cursor_param(query: Query, name: str, tag: str) -> int:
    raw = _last(query, name)
    return decode_cursor(raw, tag) if raw else 0


def _epoch_seconds(text: str) -> datetime:
    if not re.fullmatch(r"-?[0-9]+", text):
        raise ValueError(f"not integer epoch seconds: {text!r}")
    return datetime.fromtimestamp(int(text), tz=timezone.utc)


def _bound(query: Query, name: str, parse: Callable[[str], datetime]) -> datetime | None:
    raw = _last(query, name)
    if raw == "":
        return None
    try:
        return parse(raw)
    except (ValueError, OverflowError, OSError):
        raise BadRequest(f"bad {name}") from None


def _window(rows: list[Record], query: Query, since: str, before: str, epoch: bool) -> list[Record]:
    """Keep rows with ``since <= updated_at < before`` (either bound optional)."""
    parse = _epoch_seconds if epoch else parse_instant
    low, high = _bound(query, since, parse), _bound(query, before, parse)
    if low is None and high is None:
        return rows
    kept = []
    for row in rows:
        moment = parse_instant(row["updated_at"])
        if (low is None or moment >= low) and (high is None or moment < high):
            kept.append(row)
    return kept


def _by_updated_at(row: Record) -> tuple[datetime, bool, int, str]:
    """Sort key (updated_at, id): integer ids numerically, then any other ids as text."""
    ident = row["id"]
    numeric = isinstance(ident, int)
    return (parse_instant(row["updated_at"]), not numeric, ident if numeric else 0, str(ident))


Route = Callable[["DemoServer", Query], Response]


def _whole_list(name: str, key: str, srv: DemoServer, _q: Query) -> Response:
    return Response(200, {key: srv.records(name)})


def _single(name: str, wrap: bool, srv: DemoServer, _q: Query) -> Response:
    record = srv.records(name)[0]
    return Response(200, {"data": record} if wrap else record)


def _s000_paged(name: str, srv: DemoServer, q: Query) -> Response:
    rows = _window(srv.records(name), q, "updated_since", "updated_before", epoch=False)
    page = _int(q, "page", 0, 0)
    per_page = min(_int(q, "per_page", 20, 1), 20)
    if name == "s000_contacts" and page == 1 and srv.fire("s000_contacts_page1"):
        return Response(429, {"error": "rate limited"}, {"Retry-After": "1"})
    data = rows[page * per_page : (page + 1) * per_page]
    meta = {"page": page, "per_page": per_page, "total_count": len(rows)}
    return Response(200, {"data": data, "meta": meta})


def _s001_cursor(name: str, key: str, srv: DemoServer, q: Query) -> Response:
    limit = min(_int(q, "limit", 50, 1), 50)
    offset = _cursor_param(q, "next", "offset")
    if name == "s001_insightsreports" and srv.fire("s001_insightsreports_first"):
        return Response(503, {"error": "unavailable"})
    rows = srv.records(name)
    data = rows[offset : offset + limit]
    has_next = offset + len(data) < len(rows)
    cursor = encode_cursor("offset", offset + len(data)) if has_next else None
    return Response(200, {key: data, "hasNext": has_next, "cursors": {"next": cursor}})


def _s002_pages(name: str, srv: DemoServer, q: Query) -> Response:
    page = _int(q, "page", 1, 1)
    per_page = min(_int(q, "per_page", 2, 1), 100)
    if page == 3 and srv.fire("s002_resource_page3"):
        return Response(503, {"error": "unavailable"})
    data = srv.records(name)[(page - 1) * per_page : page * per_page]
    return Response(200, {"items": [{"data": r, "kind": "resource"} for r in data], "page": page})


def _s003_cursor(name: str, incremental: bool, srv: DemoServer, q: Query) -> Response:
    rows = srv.records(name)
    if incremental:
        rows = _window(rows, q, "updated_at_gte", "updated_at_lt", epoch=True)
        order = _last(q, "sort")
        if order not in ("", "id", "updated_at"):
            raise BadRequest("bad sort")
        if order == "updated_at":
            rows = sorted(rows, key=_by_updated_at)
    limit = min(_int(q, "limit", 50, 1), 50)
    offset = _cursor_param(q, "cursor", name)
    if name == "s003_customers" and offset > 0 and srv.fire("s003_customers_page2"):
        return Response(429, {"error": "rate limited"}, {"Retry-After": "1"})
    data = rows[offset : offset + limit]
    end = offset + len(data)
    cursor = encode_cursor(name, end) if end < len(rows) else None
    return Response(200, {"data": data, "meta": {"next_cursor": cursor}})


def _s004_offset(name: str, srv: DemoServer, q: Query) -> Response:
    skip = _int(q, "_skip", 0, 0)
    limit = min(_int(q, "limit", 100, 1), 100)
    rows = srv.records(name)
    data = rows[skip : skip + limit]
    return Response(200, {"data": data, "has_more": skip + len(data) < len(rows)})


ROUTES: dict[str, tuple[str, Route]] = {
    "/s000/user": ("s000_key", partial(_single, "s000_user", True)),
    "/s000/user/documentsv2": ("s000_key", partial(_whole_list, "s000_documents", "data")),
    "/s000/v2/crm/contacts": ("s000_key", partial(_s000_paged, "s000_contacts")),
    "/s000/v2/application/signing-links": (
        "s000_basic",
        partial(_s000_paged, "s000_signing_links"),
    ),
    "/s001/v1/appointmentlinks/me": (
        "s001",
        partial(_s001_cursor, "s001_appointmentlinks", "data"),
    ),
    "/s001/v1/codesnippets": ("s001", partial(_s001_cursor, "s001_codesnippets", "results")),
    "/s001/v1/insightsreports": ("s001", partial(_s001_cursor, "s001_insightsreports", "results")),
    "/s002/v2/v1/resource": ("s002", partial(_s002_pages, "s002_resource")),
    "/s003/v1/account": ("s003", partial(_single, "s003_account", False)),
    "/s003/v1/customers": ("s003", partial(_s003_cursor, "s003_customers", True)),
    "/s003/v1/custom-fields": ("s003", partial(_s003_cursor, "s003_custom_fields", False)),
    "/s004/v1/user": ("s004", partial(_s004_offset, "s004_user")),
    **{
        f"/s004/v1/custom_field/{kind}": (
            "s004",
            partial(_s004_offset, f"s004_custom_field_{kind}"),
        )
        for kind in ("lead", "contact", "opportunity", "activity")
    },
}
"""Path -> (auth scheme, handler). Every route answers GET only."""
