"""Threaded HTTP server implementing the five demo REST APIs (one per seed)."""

from __future__ import annotations

import base64
import binascii
import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tap_restgeneric.demo.data import DATASETS, records

CREDENTIALS: dict[str, str] = {
    "s000_api_key": "demo-key-000",
    "s000_auth_token": "demo-token-000",
    "s001_api_key": "demo-key-001",
    "s002_api_token": "demo-token-002",
    "s003_username": "demo-user-003",
    "s003_password": "demo-pass-003",
    "s004_api_key": "demo-key-004",
}

Headers = dict[str, str]
Query = dict[str, list[str]]


class _BadRequest(Exception):
    """Raised by a route to answer 400 with a message."""


@dataclass
class _Response:
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


_AUTH: dict[str, Callable[[Headers], bool]] = {
    "s000_key": lambda h: h.get("api_key") == CREDENTIALS["s000_api_key"],
    "s000_basic": lambda h: _basic(h) == (CREDENTIALS["s000_auth_token"], ""),
    "s001": lambda h: h.get("x-api-token") == CREDENTIALS["s001_api_key"],
    "s002": lambda h: h.get("authorization") == f"Bearer {CREDENTIALS['s002_api_token']}",
    "s003": lambda h: _basic(h) == (CREDENTIALS["s003_username"], CREDENTIALS["s003_password"]),
    "s004": lambda h: _basic(h) == (CREDENTIALS["s004_api_key"], ""),
}


def _int(query: Query, name: str, default: int, minimum: int) -> int:
    values = query.get(name)
    if not values or values[-1] == "":
        return default
    try:
        value = int(values[-1])
    except ValueError:
        raise _BadRequest(f"invalid integer for {name!r}: {values[-1]!r}") from None
    if value < minimum:
        raise _BadRequest(f"{name!r} must be >= {minimum}")
    return value


def _encode_cursor(tag: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{tag}:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(query: Query, name: str, tag: str) -> int:
    raw = (query.get(name) or [""])[-1]
    if raw == "":
        return 0
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        prefix, _, number = text.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _BadRequest(f"invalid cursor: {raw!r}") from None
    if prefix != tag or offset < 0:
        raise _BadRequest(f"invalid cursor: {raw!r}")
    return offset


_BASIC = frozenset({"s000_basic", "s003", "s004"})

Route = Callable[["DemoServer", Query], _Response]


def _whole_list(name: str, key: str, _srv: DemoServer, _q: Query) -> _Response:
    return _Response(200, {key: records(name)})


def _single(name: str, wrap: bool, _srv: DemoServer, _q: Query) -> _Response:
    record = records(name)[0]
    return _Response(200, {"data": record} if wrap else record)


def _s000_paged(name: str, srv: DemoServer, q: Query) -> _Response:
    page = _int(q, "page", 0, 0)
    per_page = min(_int(q, "per_page", 20, 1), 20)
    if name == "s000_contacts" and page == 1 and srv.fire("s000_contacts_page1"):
        return _Response(429, {"error": "rate limited"}, {"Retry-After": "1"})
    data = records(name, page * per_page, (page + 1) * per_page)
    meta = {"page": page, "per_page": per_page, "total_count": DATASETS[name]}
    return _Response(200, {"data": data, "meta": meta})


def _s001_cursor(name: str, key: str, srv: DemoServer, q: Query) -> _Response:
    limit = min(_int(q, "limit", 50, 1), 50)
    offset = _decode_cursor(q, "next", "offset")
    if name == "s001_insightsreports" and srv.fire("s001_insightsreports_first"):
        return _Response(503, {"error": "unavailable"})
    data = records(name, offset, offset + limit)
    has_next = offset + len(data) < DATASETS[name]
    cursor = _encode_cursor("offset", offset + len(data)) if has_next else None
    return _Response(200, {key: data, "hasNext": has_next, "cursors": {"next": cursor}})


def _s002_pages(name: str, srv: DemoServer, q: Query) -> _Response:
    page = _int(q, "page", 1, 1)
    per_page = min(_int(q, "per_page", 2, 1), 100)
    if page == 3 and srv.fire("s002_resource_page3"):
        return _Response(503, {"error": "unavailable"})
    data = records(name, (page - 1) * per_page, page * per_page)
    return _Response(200, {"items": [{"data": r, "kind": "resource"} for r in data], "page": page})


def _s003_cursor(name: str, srv: DemoServer, q: Query) -> _Response:
    limit = min(_int(q, "limit", 50, 1), 50)
    offset = _decode_cursor(q, "cursor", name)
    if name == "s003_customers" and offset > 0 and srv.fire("s003_customers_page2"):
        return _Response(429, {"error": "rate limited"}, {"Retry-After": "1"})
    data = records(name, offset, offset + limit)
    end = offset + len(data)
    cursor = _encode_cursor(name, end) if end < DATASETS[name] else None
    return _Response(200, {"data": data, "meta": {"next_cursor": cursor}})


def _s004_offset(name: str, _srv: DemoServer, q: Query) -> _Response:
    skip = _int(q, "_skip", 0, 0)
    limit = min(_int(q, "limit", 100, 1), 100)
    data = records(name, skip, skip + limit)
    return _Response(200, {"data": data, "has_more": skip + len(data) < DATASETS[name]})


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
    "/s003/v1/customers": ("s003", partial(_s003_cursor, "s003_customers")),
    "/s003/v1/custom-fields": ("s003", partial(_s003_cursor, "s003_custom_fields")),
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


class _Handler(BaseHTTPRequestHandler):
    """Parses one request, dispatches it to a route and records it on the DemoServer."""

    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 10
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        """Handle any method: parse, dispatch, record, reply."""
        demo = self.server.demo
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        length = int(self.headers.get("Content-Length", "0").strip() or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        body: Any = None
        try:
            body = json.loads(raw) if raw.strip() else None
        except (ValueError, UnicodeDecodeError):
            response = _Response(400, {"error": "invalid JSON body"})
        else:
            try:
                response = self._dispatch(demo, parts.path.rstrip("/"), query, headers)
            except _BadRequest as exc:
                response = _Response(400, {"error": str(exc)})
        demo.record(
            {
                "method": self.command,
                "path": parts.path,
                "query": query,
                "headers": headers,
                "body": body,
                "status": response.status,
            }
        )
        payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self, demo: DemoServer, path: str, query: Query, headers: Headers) -> _Response:
        route = ROUTES.get(path)
        if route is None:
            return _Response(404, {"error": "not found"})
        scheme, handler = route
        if not _AUTH[scheme](headers):
            extra = {"WWW-Authenticate": 'Basic realm="demo"'} if scheme in _BASIC else {}
            return _Response(401, {"error": "unauthorized"}, extra)
        if self.command != "GET":
            return _Response(405, {"error": "method not allowed"}, {"Allow": "GET"})
        return handler(demo, query)

    def log_message(self, format: str, *args: Any) -> None:
        """Write the access log line to stderr only when the server is verbose."""
        if self.server.demo.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its owning DemoServer."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], demo: DemoServer) -> None:
        self.demo = demo
        super().__init__(address, _Handler)


class DemoServer:
    """The embedded demo REST API: five fake APIs served from one threaded HTTP server."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, faults: bool = True, verbose: bool = False
    ) -> None:
        self.host = host
        self.faults = faults
        self.verbose = verbose
        self.requests: list[dict[str, Any]] = []
        self.fired: set[str] = set()
        self._lock = threading.Lock()
        self._httpd = _HTTPServer((host, port), self)
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL, e.g. ``http://127.0.0.1:8765``."""
        return f"http://{self.host}:{self.port}"

    def fire(self, fault: str) -> bool:
        """Return True exactly once per fault name when faults are enabled."""
        with self._lock:
            if not self.faults or fault in self.fired:
                return False
            self.fired.add(fault)
            return True

    def record(self, entry: dict[str, Any]) -> None:
        """Append one request log entry (thread-safe)."""
        with self._lock:
            self.requests.append(entry)

    def start(self) -> DemoServer:
        """Start serving in a daemon thread and return immediately."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, args=(0.05,), name="demo-api", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
