"""What every local test API shares: a threaded HTTP server on 127.0.0.1 (a free port)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar

Server = TypeVar("Server", bound="LocalServer")


class OwnedHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server whose handlers reach their test API as ``server.owner``."""

    daemon_threads = True
    owner: Any


class LocalServer:
    """Serves ``handler`` on 127.0.0.1 in a daemon thread while used as a context manager."""

    handler: type[BaseHTTPRequestHandler]
    _httpd: OwnedHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __enter__(self: Server) -> Server:
        self._httpd = OwnedHTTPServer(("127.0.0.1", 0), self.handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._httpd is not None, "use the server as a context manager"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"
