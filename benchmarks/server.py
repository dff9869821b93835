"""A fast local HTTP/1.1 API serving N generated records in four pagination styles.

Run it as its own process (so it never shares a GIL with the client being measured)::

    python benchmarks/server.py --records 200000 --page-size 100 [--latency-ms 20] [--prewarm]
                                [--rate-limit 5]

It prints its port on stdout once it accepts connections. Routes (``GET``, keep-alive):

- ``/page_number/items?page=1..``       ``{"data": [...]}`` (an empty list past the end)
- ``/offset/items?offset=0&limit=100``   ``{"data": [...], "total": N}`` (limit capped at page size)
- ``/cursor/items[?cursor=...]``         ``{"data": [...], "next_cursor": "..." | null}``
- ``/link/items?page=1..``               ``{"data": [...]}`` and ``Link: <...>; rel="next"``
- ``/__stats``                           ``{"requests": n, "bytes": n, "throttled": n}`` since
  start (not counted)
- ``/__log``                             ``[[unix time, status], ...]`` of every answer (with
  ``--rate-limit`` only)

``--rate-limit N`` allows N requests in any one second (a sliding window of the requests it
accepted); beyond that it answers 429 with ``Retry-After`` (whole seconds until a request
leaves the window, at least 1), as rate-limited APIs do.

Records 1..N are generated deterministically (12 fields: ints, strings, ISO datetimes, floats,
booleans, an array, a nested object, nulls). The JSON of each page's records is rendered once,
lazily (or up front with ``--prewarm``), and kept as bytes within ``--cache-mb``; a response is
that cached array wrapped in its style's envelope, written with one ``sendall``. The server is a
raw socket loop (no ``http.server`` parsing), one thread per connection, TCP_NODELAY.
"""

from __future__ import annotations

import argparse
import math
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec

STYLES = ("page_number", "offset", "cursor", "link")
FIELDS = 12
EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z

FIRST_NAMES = (
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John",
    "Margaret", "Ken", "Radia", "Dennis", "Shafi", "Tim", "Leslie", "Niklaus",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus",
    "Hamilton", "Thompson", "Perlman", "Ritchie", "Goldwasser", "Berners-Lee", "Lamport", "Wirth",
)  # fmt: skip
CITIES = ("Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Tallinn", "Quito", "Perth")
TAGS = ("new", "vip", "churn-risk", "b2b", "trial", "partner", "beta")

_encode = msgspec.json.Encoder().encode


def iso(seconds: int) -> str:
    """An ISO 8601 UTC timestamp with a ``Z`` suffix."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def make_record(i: int) -> dict[str, Any]:
    """Record ``i`` (1-based): the same 12 fields with the same values on every run."""
    created = EPOCH + i * 37
    mixed = (i * 2_654_435_761) % 1_000_003
    return {
        "id": i,
        "name": f"{FIRST_NAMES[i % 16]} {LAST_NAMES[(i // 16) % 16]}",
        "email": f"user{i}@example.com",
        "active": i % 3 != 0,
        "quantity": mixed % 1000,
        "amount": mixed / 100 + 0.25,
        "created_at": iso(created),
        "updated_at": iso(created + mixed % 86_400),
        "tags": list(TAGS[i % 7 : i % 7 + i % 4]),
        "address": {
            "street": f"{mixed % 999 + 1} Main St",
            "city": CITIES[i % 8],
            "zip": f"{mixed % 100_000:05d}",
            "geo": {
                "lat": round((mixed % 18_000) / 100 - 90.0, 2),
                "lon": round((mixed % 36_000) / 100 - 180.0, 2),
            },
        },
        "notes": f"note for {i}" if i % 4 == 0 else None,
        "deleted_at": None,
    }


class Pages:
    """The records as pages of JSON-array bytes, rendered on first use and cached in a budget."""

    def __init__(self, records: int, page_size: int, cache_bytes: int) -> None:
        self.records = records
        self.page_size = page_size
        self.count = -(-records // page_size)  # number of non-empty pages
        self._cache: dict[int, bytes] = {}
        self._cache_bytes = 0
        self._budget = cache_bytes
        self._lock = threading.Lock()

    def render(self, first: int, last: int) -> bytes:
        """The JSON array of records ``first..last`` (inclusive, clipped to 1..N)."""
        first, last = max(first, 1), min(last, self.records)
        return _encode([make_record(i) for i in range(first, last + 1)])

    def page(self, index: int) -> bytes:
        """Page ``index`` (0-based) as a JSON array; ``[]`` past the end."""
        if index < 0 or index >= self.count:
            return b"[]"
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        start = index * self.page_size + 1
        body = self.render(start, start + self.page_size - 1)
        with self._lock:
            if index not in self._cache and self._cache_bytes + len(body) <= self._budget:
                self._cache[index] = body
                self._cache_bytes += len(body)
        return body

    def slice(self, offset: int, limit: int) -> bytes:
        """Records ``offset+1 .. offset+limit``; page-aligned slices come from the cache."""
        if offset % self.page_size == 0 and limit == self.page_size:
            return self.page(offset // self.page_size)
        if offset >= self.records or limit <= 0:
            return b"[]"
        return self.render(offset + 1, offset + limit)

    def prewarm(self) -> None:
        """Render every page now (as far as the cache budget allows)."""
        for index in range(self.count):
            if self._cache_bytes >= self._budget:
                break
            self.page(index)

    @property
    def cached_bytes(self) -> int:
        """Bytes held by the page cache."""
        return self._cache_bytes


def _int(query: dict[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, default))
    except ValueError:
        return default


class App:
    """Maps a request target to (status, extra header lines, body)."""

    def __init__(self, pages: Pages, origin: str, rate_limit: float = 0.0) -> None:
        self.pages = pages
        self.origin = origin
        self.requests = 0
        self.bytes = 0
        self.throttled = 0
        self.rate_limit = rate_limit
        self.log: list[tuple[float, int]] = []  # with a rate limit: (time, status) per answer
        self._accepted: list[float] = []  # monotonic times within the last second
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        """With a rate limit: None when this request may go on, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            window = self._accepted
            while window and window[0] <= now - 1.0:
                window.pop(0)
            if len(window) < self.rate_limit:
                window.append(now)
                self.log.append((time.time(), 200))
                return None
            self.throttled += 1
            self.log.append((time.time(), 429))
            return window[0] + 1.0 - now

    def respond(self, target: str) -> tuple[int, bytes, bytes]:
        """Answer one GET."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        pages = self.pages
        if parts.path == "/__stats":
            with self._lock:
                stats = {
                    "requests": self.requests,
                    "bytes": self.bytes,
                    "throttled": self.throttled,
                }
            return 200, b"", _encode(stats)
        if parts.path == "/__log":
            with self._lock:
                return 200, b"", _encode(self.log)
        if self.rate_limit:
            wait = self.admit()
            if wait is not None:
                retry = b"Retry-After: %d\r\n" % max(1, math.ceil(wait))
                return 429, retry, b'{"error": "too many requests"}'
        style, _, rest = parts.path.strip("/").partition("/")
        if rest != "items" or style not in STYLES:
            return 404, b"", b'{"error": "not found"}'
        extra = b""
        if style == "page_number":
            body = b'{"data":' + pages.page(_int(query, "page", 1) - 1) + b"}"
        elif style == "offset":
            limit = min(_int(query, "limit", pages.page_size), pages.page_size)
            data = pages.slice(max(_int(query, "offset", 0), 0), limit)
            body = b'{"data":' + data + b',"total":%d}' % pages.records
        elif style == "cursor":
            cursor = query.get("cursor", "pg_0")
            index = int(cursor[3:]) if cursor.startswith("pg_") and cursor[3:].isdigit() else -1
            if index < 0:
                return 400, b"", b'{"error": "bad cursor"}'
            following = b'"pg_%d"' % (index + 1) if index + 1 < pages.count else b"null"
            body = b'{"data":' + pages.page(index) + b',"next_cursor":' + following + b"}"
        else:  # link
            page = _int(query, "page", 1)
            if page < pages.count:
                url = f"{self.origin}/link/items?page={page + 1}"
                extra = f'Link: <{url}>; rel="next"\r\n'.encode()
            body = b'{"data":' + pages.page(page - 1) + b"}"
        with self._lock:
            self.requests += 1
            self.bytes += len(body)
        return 200, extra, body


REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    405: b"Method Not Allowed",
    429: b"Too Many Requests",
}


class Handler(socketserver.StreamRequestHandler):
    """HTTP/1.1 with keep-alive: parse the request line and headers by hand, reply in one write."""

    rbufsize = 65536
    server: Server

    def setup(self) -> None:
        """Disable Nagle so small responses are not delayed."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        """Serve requests on this connection until the client closes it."""
        rfile, sock, server = self.rfile, self.connection, self.server
        while True:
            line = rfile.readline(65537)
            if not line:
                return
            if line in (b"\r\n", b"\n"):
                continue
            method, target, version = [*line.split(), b"", b"", b""][:3]
            length, close = 0, version != b"HTTP/1.1"
            while True:
                header = rfile.readline(65537)
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _, value = header.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip() or 0)
                elif name == b"connection":
                    close = value.strip().lower() == b"close"
            if length:
                rfile.read(length)
            if method in (b"GET", b"HEAD"):
                status, extra, body = server.app.respond(target.decode("latin-1"))
            else:
                status, extra, body = 405, b"", b'{"error": "method not allowed"}'
            if server.latency:
                time.sleep(server.latency)
            head = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
                status,
                REASONS[status],
                len(body),
            )
            if close:
                head += b"Connection: close\r\n"
            sock.sendall(head + extra + b"\r\n" + (body if method != b"HEAD" else b""))
            if close:
                return


class Server(socketserver.ThreadingTCPServer):
    """One thread per connection; the app and the per-response latency are shared."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, port: int, pages: Pages, latency: float, rate_limit: float = 0.0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.latency = latency
        self.app = App(pages, f"http://127.0.0.1:{self.server_address[1]}", rate_limit)

    def run(self) -> int:
        """Print the port on stdout (the caller reads it), serve until killed."""
        print(self.server_address[1], flush=True)
        try:
            self.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self.server_close()
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, optionally render every page, print the port, serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each response")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--prewarm", action="store_true", help="render all pages before serving")
    parser.add_argument("--cache-mb", type=int, default=1024, help="page cache budget")
    parser.add_argument(
        "--rate-limit", type=float, default=0.0, help="requests allowed per second (429 beyond)"
    )
    args = parser.parse_args(argv)
    pages = Pages(args.records, args.page_size, args.cache_mb * 1024 * 1024)
    started = time.perf_counter()
    if args.prewarm:
        pages.prewarm()
    server = Server(args.port, pages, args.latency_ms / 1000, args.rate_limit)
    print(
        f"serving {args.records} records, {pages.count} pages, cached {pages.cached_bytes} bytes"
        f" in {time.perf_counter() - started:.2f} s",
        file=sys.stderr,
        flush=True,
    )
    return server.run()


if __name__ == "__main__":
    sys.exit(main())
