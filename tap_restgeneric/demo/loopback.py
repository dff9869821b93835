"""The loopback server base the demo and the test servers share (free port, serving thread,
stop, URL)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["LoopbackServer", "OwnedHTTPServer"]

Served = TypeVar("Served", bound="LoopbackServer")


class OwnedHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server whose handlers reach the object serving them as ``server.owner``."""

    daemon_threads = True
    owner: Any


class LoopbackServer:
    """An HTTP API on a (by default free) local port, served from a daemon thread.

    Subclasses name their ``handler`` class; it reaches this object as ``self.server.owner``.
    The socket is bound by :meth:`bind` (or by :meth:`start` if not bound yet) and closed by
    :meth:`stop`; as a context manager it starts on entry and stops on exit. It needs no
    ``__init__`` call, so dataclass subclasses work as they are.
    """

    handler: type[BaseHTTPRequestHandler]
    host = "127.0.0.1"
    poll_interval = 0.02
    """Seconds between the serving thread's checks for :meth:`stop` (its shutdown latency)."""
    join_timeout: float | None = 5.0
    thread_name: str | None = None
    _httpd: OwnedHTTPServer | None = None
    _thread: threading.Thread | None = None
    _port: int | None = None

    def bind(self, port: int = 0) -> int:
        """Listen on ``host:port`` (0: a free port); return the port."""
        httpd = OwnedHTTPServer((self.host, port), self.handler)
        httpd.owner = self
        self._httpd = httpd
        self._port = httpd.server_address[1]
        return self._port

    @property
    def port(self) -> int:
        """The port listened on."""
        assert self._port is not None, "start the server (or use it as a context manager)"
        return self._port

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8765``."""
        return f"http://{self.host}:{self.port}"

    def start(self: Served) -> Served:
        """Start serving in a daemon thread (binding a free port first if needed); return self."""
        if self._thread is None:
            if self._httpd is None:
                self.bind()
            assert self._httpd is not None
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                args=(self.poll_interval,),
                name=self.thread_name,
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (a later :meth:`start` binds anew)."""
        if self._httpd is None:
            return
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(self.join_timeout)
            self._thread = None
        self._httpd.server_close()
        self._httpd = None

    def __enter__(self: Served) -> Served:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
