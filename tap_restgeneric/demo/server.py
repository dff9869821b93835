"""Threaded HTTP server implementing the six demo REST APIs (one per seed), on the loopback base
(``loopback.py``) the test servers share."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Hashable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tap_restgeneric.demo.data import (
    DATASETS,
    Record,
    format_instant,
    parse_instant,
    records,
)
from tap_restgeneric.demo.loopback import LoopbackServer, OwnedHTTPServer
from tap_restgeneric.demo.routes import (
    AUTH,
    BASIC_SCHEMES,
    CREDENTIALS,
    ROUTES,
    BadRequest,
    Headers,
    Query,
    Response,
)
from tap_restgeneric.demo.shop import BodyRoute, shop_route

__all__ = [
    "CREDENTIALS",
    "ROUTES",
    "TOUCH_PATH",
    "DemoServer",
]

TOUCH_PATH = "/_demo/touch"  # POST: change records' updated_at, as an API's data changes


def _resolve(path: str) -> tuple[str, str, BodyRoute] | None:
    """Return (auth scheme, allowed method, handler) of the route serving ``path``."""
    route = ROUTES.get(path)
    if route is None:
        return shop_route(path)
    scheme, handler = route
    return scheme, "GET", lambda srv, query, _body: handler(srv, query)


class _Handler(BaseHTTPRequestHandler):
    """Parses one request, dispatches it to a route and records it on the DemoServer."""

    server: OwnedHTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 10
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        """Handle any method: parse, dispatch, record, reply."""
        demo: DemoServer = self.server.owner
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        length = int(self.headers.get("Content-Length", "0").strip() or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        body: Any = None
        try:
            body = json.loads(raw) if raw.strip() else None
        except (ValueError, UnicodeDecodeError):
            response = Response(400, {"error": "invalid JSON body"})
        else:
            try:
                response = self._dispatch(demo, parts.path.rstrip("/"), query, headers, body)
            except BadRequest as exc:
                response = Response(400, {"error": str(exc)})
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
        delay = demo.page_delay
        if delay > 0:
            time.sleep(delay)
        payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(
        self, demo: DemoServer, path: str, query: Query, headers: Headers, body: Any
    ) -> Response:
        if path == TOUCH_PATH:
            return self._touch(demo, body)
        route = _resolve(path)
        if route is None:
            return Response(404, {"error": "not found"})
        scheme, method, handler = route
        if not AUTH[scheme](headers):
            extra = {"WWW-Authenticate": 'Basic realm="demo"'} if scheme in BASIC_SCHEMES else {}
            return Response(401, {"error": "unauthorized"}, extra)
        if self.command != method:
            return Response(405, {"error": "method not allowed"}, {"Allow": method})
        return handler(demo, query, body)

    def _touch(self, demo: DemoServer, body: Any) -> Response:
        """``POST /_demo/touch {"dataset", "ids", "updated_at"}``: records change (scripts/demo)."""
        if self.command != "POST":
            return Response(405, {"error": "method not allowed"}, {"Allow": "POST"})
        try:
            demo.touch(body["dataset"], list(body["ids"]), str(body["updated_at"]))
        except (KeyError, TypeError, ValueError) as exc:
            return Response(400, {"error": f"touch: {exc}"})
        return Response(200, {"touched": len(body["ids"])})

    def log_message(self, format: str, *args: Any) -> None:
        """Write the access log line to stderr only when the server is verbose."""
        if self.server.owner.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


class DemoServer(LoopbackServer):
    """The embedded demo REST API: six fake APIs served from one threaded HTTP server.

    ``page_delay`` is a sleep in seconds before every response is sent (for kill-and-resume
    tests); it may be changed while serving. :meth:`touch` and :meth:`add` overlay this
    instance's data; the generated data itself stays deterministic.
    """

    handler = _Handler
    poll_interval = 0.05
    join_timeout = None
    thread_name = "demo-api"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: bool = True,
        verbose: bool = False,
        page_delay: float = 0.0,
    ) -> None:
        if page_delay < 0:
            raise ValueError(f"page_delay must be >= 0, got {page_delay!r}")
        self.host = host
        self.faults = faults
        self.verbose = verbose
        self.page_delay = page_delay
        self.requests: list[dict[str, Any]] = []
        self.fired: set[str] = set()
        self._touched: dict[str, dict[Hashable, str]] = {}
        self._added: dict[str, list[Record]] = {}
        self._lock = threading.Lock()
        self.bind(port)

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

    def records(self, dataset: str) -> list[Record]:
        """Return the records this instance serves for ``dataset``: generated, then added.

        ``updated_at`` values set by :meth:`touch` replace the generated ones (on copies).
        """
        with self._lock:
            touched = self._touched.get(dataset, {})
            rows = [*records(dataset), *self._added.get(dataset, ())]
        return [{**r, "updated_at": touched[r["id"]]} if r["id"] in touched else r for r in rows]

    def touch(self, dataset: str, ids: list[Any], updated_at: str) -> None:
        """Set ``updated_at`` of the records ``ids`` of ``dataset`` for this instance only.

        ``updated_at`` is parsed like the ``updated_since`` filter and stored normalised as
        ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``. Raises KeyError for an unknown dataset or id and
        ValueError for an unparseable timestamp; nothing changes then.
        """
        stamp = format_instant(parse_instant(updated_at))
        with self._lock:
            known = self._ids(dataset)
            missing = [i for i in ids if i not in known]
            if missing:
                raise KeyError(f"{dataset}: no records with ids {missing!r}")
            self._touched.setdefault(dataset, {}).update(dict.fromkeys(ids, stamp))

    def add(self, dataset: str, record: Record) -> None:
        """Append a copy of ``record`` to ``dataset`` for this instance only.

        The record needs a new ``id`` and a parseable ``updated_at`` (stored normalised like
        :meth:`touch`). Raises KeyError for an unknown dataset, ValueError otherwise.
        """
        if "id" not in record or "updated_at" not in record:
            raise ValueError("a demo record needs 'id' and 'updated_at'")
        row = {**record, "updated_at": format_instant(parse_instant(record["updated_at"]))}
        with self._lock:
            if row["id"] in self._ids(dataset):
                raise ValueError(f"{dataset}: id {row['id']!r} already exists")
            self._added.setdefault(dataset, []).append(row)

    def _ids(self, dataset: str) -> set[Any]:
        if dataset not in DATASETS:
            raise KeyError(f"unknown dataset {dataset!r}")
        return {r["id"] for r in (*records(dataset), *self._added.get(dataset, ()))}
