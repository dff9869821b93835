"""Command line entry point: ``python -m tap_restgeneric.demo`` serves the demo API."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from tap_restgeneric.demo.server import DemoServer


def main(argv: list[str] | None = None) -> int:
    """Serve the demo API until SIGINT/SIGTERM, then return 0; 1 when it cannot listen."""
    parser = argparse.ArgumentParser(prog="python -m tap_restgeneric.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--port", type=int, default=8765, help="port to bind (0 = any free)")
    parser.add_argument("--no-faults", action="store_true", help="disable injected 429/503s")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    parser.add_argument(
        "--page-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="sleep this long before sending every response (default 0)",
    )
    args = parser.parse_args(argv)
    if args.page_delay < 0:
        parser.error("--page-delay must be >= 0")

    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server = DemoServer(
            host=args.host,
            port=args.port,
            faults=not args.no_faults,
            verbose=args.verbose,
            page_delay=args.page_delay,
        )
    except OSError as exc:  # the port is taken (often by a demo API still running), or no such host
        reason = exc.strerror or str(exc)
        print(
            f"demo API: cannot listen on {args.host}:{args.port}: {reason} (stop the server "
            f"using it, e.g. kill $(lsof -t -iTCP:{args.port} -sTCP:LISTEN), or pass another "
            "--port)",
            file=sys.stderr,
            flush=True,
        )
        return 1
    server.start()
    print(f"demo API listening on {server.url}", file=sys.stderr, flush=True)
    print(f"stop it with Ctrl-C or: kill {os.getpid()}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
