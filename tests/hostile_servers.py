"""Two local HTTP servers for the secret probes (standard library only).

``EchoApi`` is the configured API. By the first segment of the path it answers:

- ``/echo-php/…``, ``/echo-hex/…``, ``/echo-all/…``: 401 with a JSON body that echoes the
  request's query values, non-generic headers (Authorization, cookies, API keys…) and body,
  JSON-escaped as PHP does (``\\/``), with every non-alphanumeric character as ``\\u00XX``, or with
  every character as ``\\u00XX``;
- ``/link/…``: a page whose ``next`` (json_link) points to the foreign server, carrying the
  request's own query along (as APIs that build next links from the request do);
- ``/hlink/…``: the same as a ``Link: <…>; rel="next"`` header (header_link);
- ``/redirect/…``, ``/redirect307/…``: 302 / 307 to the foreign server, query carried along;
- ``POST /oauth/token``: client-credentials tokens full of ``/``, ``+``, ``=`` and quotes.

``Recorder`` is the foreign origin: it records every request it receives (request line,
headers, body) and answers with a last page. Both run on 127.0.0.1 on ports of their own.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_server import LocalServer, OwnedHTTPServer

GENERIC_HEADERS = frozenset(
    {"host", "user-agent", "accept", "accept-encoding", "connection", "content-length"}
)
ECHO_STYLES = ("php", "hex", "all")


def escape(text: str, style: str) -> str:
    """``text`` as a JSON string body (without quotes), escaped in one of ``ECHO_STYLES``."""
    if style == "php":
        return json.dumps(text)[1:-1].replace("/", "\\/")
    if style == "hex":
        return "".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in text)
    return "".join(f"\\u{ord(c):04X}" for c in text)


@dataclass
class Received:
    """One request as a server received it."""

    method: str
    target: str
    headers: dict[str, str]
    body: str

    @property
    def path(self) -> str:
        """The path without the query."""
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        """The raw query string."""
        return urlsplit(self.target).query

    def text(self) -> str:
        """Everything received: request line, every header, the body."""
        lines = [f"{self.method} {self.target}", *(f"{k}: {v}" for k, v in self.headers.items())]
        return "\n".join([*lines, "", self.body])


class _Handler(BaseHTTPRequestHandler):
    """Records each request on the server's owner, then sends the owner's answer."""

    server: OwnedHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _handle(self) -> None:
        owner: _Server = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        entry = Received(self.command, self.path, dict(self.headers.items()), body)
        with owner.lock:
            owner.received.append(entry)
        status, headers, payload = owner.answer(entry)
        data = payload.encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _handle


class _Server(LocalServer):
    """A local test API that records what it receives (bound at construction)."""

    handler = _Handler

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.bind()

    def answer(self, entry: Received) -> tuple[int, dict[str, str], str]:
        """Status, headers and body for a request."""
        raise NotImplementedError

    def requests(self, prefix: str = "") -> list[Received]:
        """The requests received so far (under a path prefix)."""
        with self.lock:
            return [r for r in self.received if r.path.startswith(prefix)]


class Recorder(_Server):
    """The foreign origin: records every request; answers a last page of one record."""

    def answer(self, entry: Received) -> tuple[int, dict[str, str], str]:
        """A last page (no next link)."""
        return 200, {"Content-Type": "application/json"}, json.dumps({"data": [{"id": 2}]})


class EchoApi(_Server):
    """The configured API (see the module doc)."""

    def __init__(self, foreign: str, token_prefix: str = "at") -> None:
        super().__init__()
        self.foreign = foreign
        self.token_prefix = token_prefix
        self.tokens: list[str] = []
        self.sent: list[tuple[str, str]] = []
        """(path, body) of every 401 echo sent."""

    def issue_token(self) -> str:
        """A fresh access token, full of characters JSON and URLs escape."""
        with self.lock:
            token = f'{self.token_prefix}{len(self.tokens) + 1}/Tok+en="q"=='
            self.tokens.append(token)
        return token

    def echo(self, entry: Received, style: str) -> str:
        """The 401 body: what the request carried, escaped in ``style``."""
        values = [entry.body] if entry.body else []
        values += [v for k, v in entry.headers.items() if k.lower() not in GENERIC_HEADERS]
        values += [v for _, v in parse_qsl(entry.query, keep_blank_values=True)]
        return '{"echo":[' + ",".join(f'"{escape(v, style)}"' for v in values) + "]}"

    def answer(self, entry: Received) -> tuple[int, dict[str, str], str]:
        """See the module doc."""
        kind = entry.path.strip("/").split("/", 1)[0]
        plain = {"Content-Type": "application/json"}
        onward = f"{self.foreign}{entry.path}?page=2" + (f"&{entry.query}" if entry.query else "")
        if kind == "oauth":
            body = json.dumps({"access_token": self.issue_token(), "expires_in": 3600})
            return 200, plain, body.replace("/", "\\/")
        if kind.startswith("echo-"):
            body = self.echo(entry, kind.removeprefix("echo-"))
            with self.lock:
                self.sent.append((entry.path, body))
            return 401, plain, body
        if kind == "link":
            body = json.dumps({"data": [{"id": 1}], "next": onward})
            return 200, plain, body.replace("/", "\\/")
        if kind == "hlink":
            link = {"Link": f'<{onward}>; rel="next"'}
            return 200, {**plain, **link}, json.dumps({"data": [{"id": 1}]})
        if kind in ("redirect", "redirect307"):
            status = 307 if kind == "redirect307" else 302
            return status, {"Location": onward.replace("?page=2&", "?", 1)}, ""
        return 404, plain, json.dumps({"error": "not found"})
