"""A local API serving generated records, whole or chunked (tests/test_large_responses.py end
to end, tests/test_sync_large_pages.py in process): records, route replies, the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
from local_server import LocalServer

encode = msgspec.json.Encoder().encode


def make_record(i: int) -> dict[str, Any]:
    """Record ``i``: ints (one past 2**53), floats (one tiny), unicode, escapes, nulls, nesting."""
    return {
        "id": i,
        "name": f"näme {i} ✓",
        "amount": i * 1.25 + 0.1,
        "tiny": i * 1e-7,
        "count": i * 7,
        "big": 2**53 + i,
        "flag": i % 2 == 0,
        "tags": ["a", "b"] if i % 3 else [],
        "nested": {"x": i, "y": [1.5, None, "s"], "deep": {"z": -i}},
        "note": None if i % 5 else 'quote " and \\ backslash',
        "updated_at": f"2024-01-{1 + i % 28:02d}T00:00:00Z",
    }


def records_for(size_mb: float) -> int:
    """How many records make a body of about ``size_mb`` MB."""
    per_record = len(encode(make_record(100_000))) + 1
    return int(size_mb * 1_000_000 / per_record)


# --------------------------------------------------------------------------------------------
# A local API: each route answers (status, headers, body, chunked) for a query


Reply = tuple[int, dict[str, str], bytes, bool]
Route = Callable[[dict[str, str]], Reply]


def ok(body: bytes, *, chunked: bool = False) -> Reply:
    """A 200 JSON reply."""
    return 200, {"Content-Type": "application/json"}, body, chunked


class Handler(BaseHTTPRequestHandler):
    """Answers GETs from the server's routes; chunked replies have no Content-Length."""

    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        api: Api = self.server.owner
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        api.hits.append(self.path)
        route = api.routes.get(parts.path)
        status, headers, body, chunked = (
            route(query) if route else (404, {}, b'{"error": "not found"}', False)
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 1 << 20):
                piece = body[start : start + (1 << 20)]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@dataclass
class Api(LocalServer):
    """Routes by path; ``hits`` lists the request targets received."""

    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    handler = Handler


def array(first: int, last: int) -> bytes:
    """The JSON array of records ``first..last``."""
    return encode([make_record(i) for i in range(first, last + 1)])
