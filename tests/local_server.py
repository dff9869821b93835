"""What every local test API shares: the demo's loopback server (127.0.0.1, a free port, a
daemon serving thread, stop, URL), bound on entry and stopped on exit.

A test API subclasses ``LocalServer`` and names its ``handler`` class, which reaches the API as
``self.server.owner``; ``LocalHandler`` is the handlers' common part (quiet, keep-alive, sending
a ``Reply`` whole, with a wrong Content-Length, or reset mid-body).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from tap_restgeneric.demo.loopback import LoopbackServer, OwnedHTTPServer

__all__ = ["LocalHandler", "LocalServer", "OwnedHTTPServer", "Reply"]


class LocalServer(LoopbackServer):
    """Serves ``handler`` on 127.0.0.1 in a daemon thread while used as a context manager."""


@dataclass
class Reply:
    """A response to send: status, body bytes, headers."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class LocalHandler(BaseHTTPRequestHandler):
    """A quiet keep-alive handler that sends ``Reply``s, whole, cut short, or reset mid-body."""

    server: OwnedHTTPServer
    protocol_version = "HTTP/1.1"
    timeout: ClassVar[float | None] = 10
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def query(self) -> tuple[str, dict[str, str]]:
        """The request's path and query (the last value of a repeated name)."""
        parts = urlsplit(self.path)
        return parts.path, {
            k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()
        }

    def read_body(self) -> bytes:
        """The request body (``Content-Length`` bytes; none: empty)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_reply(self, reply: Reply, *, length: int | None = None) -> None:
        """Send ``reply`` with ``length`` as its Content-Length (default: the body's)."""
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body) if length is None else length))
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), e.g. mid-body."""
        self.close_connection = True
        linger = struct.pack("ii", 1, 0)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        self.connection.close()
