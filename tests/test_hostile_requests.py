"""Hostile servers and templates: a request ends by its deadline, a body within its cap, a
template read-only and bounded; never a hang, a traceback or exit 0 with changed data (the
template probes in process: tests/test_config_templates.py).

A local server (a raw socket per request, so it can misbehave at the byte level) drips bodies
one byte at a time, answers slowly but in time, floods endless or huge bodies and serves a
small paginated API for the stop_condition probes. The end-to-end cases run the CLI as a
subprocess and assert a time bound with generous slack. The counts of probes and outcomes are
written to ``build/hostile_requests.json`` (the README's Reliability figures).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cli import ROOT, clean_env
from helpers import make_tap, records_of, resource
from local_server import LocalHandler, LocalServer
from template_probes import PROBES, RUNTIME

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http import body as http_body

DRIP_INTERVAL = 0.3
DRIP_BODY = json.dumps({"data": [{"id": i, "pad": "x" * 20} for i in range(40)]}).encode()
"""About 1,400 bytes: one byte every 0.3 s is seven minutes without a total deadline."""
STOP_PATH = "config['resources'][0]['endpoint']['paginator']['stop_condition']"
FIGURES: Counter[str] = Counter()
OUTPUT = ROOT / "build" / "hostile_requests.json"


# --------------------------------------------------------------------------------------------
# The server


def _page(number: int) -> bytes:
    """Page ``number`` (1-3) of a cursor API: two records, ``next`` until page 3."""
    records = [{"id": 2 * number - 1}, {"id": 2 * number}]
    return json.dumps({"data": records, "next": f"p{number + 1}" if number < 3 else None}).encode()


class _Handler(LocalHandler):
    """Raw below HTTP on purpose: ``handle`` reads the request itself and writes bytes straight
    to the socket, since the misbehaviour under test (a status line dripped byte by byte, a
    declared length never sent, endless chunk frames) is what an HTTP handler cannot send."""

    timeout = None  # as a plain socketserver handler: no socket timeout, Nagle on
    disable_nagle_algorithm = False

    def handle(self) -> None:
        """Read the request line and headers, count the path, let the server misbehave."""
        srv: HostileServer = self.server.owner
        conn: socket.socket = self.request
        request_line = self.rfile.readline().decode("latin-1").split()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        if len(request_line) < 2:
            return
        path, _, query = request_line[1].partition("?")
        with srv.lock:
            srv.hits[path] += 1
        with contextlib.suppress(OSError):  # the client gave up (deadline, cap): stop sending
            srv.route(conn, path, query)


def _head(status: str = "200 OK", **headers: str | int) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Connection: close", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class HostileServer(LocalServer):
    """127.0.0.1, a free port, one daemon thread per connection (the shared loopback base);
    its handler stays raw below HTTP (see ``_Handler``)."""

    handler = _Handler

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()

    def route(self, conn: socket.socket, path: str, query: str) -> None:
        """Answer ``path`` with bytes written straight to ``conn``."""
        if path == "/drip":  # headers at once, then one byte every DRIP_INTERVAL
            conn.sendall(_head(Content_Length=len(DRIP_BODY)))
            for i in range(len(DRIP_BODY)):
                conn.sendall(DRIP_BODY[i : i + 1])
                time.sleep(DRIP_INTERVAL)
        elif path == "/header_drip":  # the status line and headers one byte every DRIP_INTERVAL
            for i, byte in enumerate(_head(X_Pad="x" * 40, Content_Length=2) + b"[]"):
                conn.sendall(bytes([byte]))
                if i < 200:
                    time.sleep(DRIP_INTERVAL)
        elif path == "/slow":  # slow but whole within a few seconds
            body = json.dumps({"data": [{"id": 1}, {"id": 2}, {"id": 3}]}).encode()
            time.sleep(0.3)
            conn.sendall(_head(Content_Length=len(body)))
            for piece in (body[:5], body[5:15], body[15:]):
                time.sleep(0.3)
                conn.sendall(piece)
        elif path == "/redirect_slowly":  # each hop within the deadline, not both
            time.sleep(1.2)
            conn.sendall(_head("302 Found", Location="/slow_target", Content_Length=0))
        elif path == "/slow_target":
            time.sleep(1.5)
            body = b'{"data": [{"id": 1}]}'
            conn.sendall(_head(Content_Length=len(body)) + body)
        elif path == "/huge_declared":  # announces 2 GiB, sends nothing more
            conn.sendall(_head(Content_Length=2 << 30))
            time.sleep(5)
        elif path == "/flood":  # chunked, endless
            conn.sendall(_head(Transfer_Encoding="chunked"))
            chunk = b"[" + b" " * 65534 + b"\n"
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            for _ in range(100_000):
                conn.sendall(frame)
        elif path == "/gzip_bomb":  # 8 MB of spaces in a few kB of gzip
            body = gzip.compress(b"[" + b" " * (8 << 20) + b"]")
            conn.sendall(_head(Content_Encoding="gzip", Content_Length=len(body)) + body)
        elif path == "/pages":
            number = int(query.partition("cursor=p")[2] or 1)
            body = _page(number)
            conn.sendall(_head(Content_Length=len(body)) + body)
        else:
            conn.sendall(_head("404 Not Found", Content_Length=2) + b"{}")


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.fixture(scope="module", autouse=True)
def figures() -> Iterator[Counter[str]]:
    """Write the probe counts once the module ran."""
    yield FIGURES
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(json.dumps(dict(sorted(FIGURES.items())), indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# Running the CLI

TAP = [sys.executable, "-m", "tap_restgeneric.tap"]
CAPPED = (
    "import sys; from tap_restgeneric.http import body; body.MAX_BODY_BYTES = 1 << 20; "
    "from tap_restgeneric.tap import TapRestGeneric; sys.argv[0] = 'tap-restgeneric'; "
    "TapRestGeneric.cli()"
)
"""The CLI with a 1 MiB body cap (the real 1 GiB one would cost the test a gigabyte)."""


class Ran:
    """One CLI run: exit status, output, ERROR lines, seconds."""

    def __init__(self, done: subprocess.CompletedProcess[str], seconds: float) -> None:
        self.returncode = done.returncode
        self.stdout = done.stdout
        self.stderr = done.stderr
        self.seconds = seconds
        self.errors = [
            line.split(" | ", 3)[-1].strip()
            for line in done.stderr.splitlines()
            if " | ERROR " in line
        ]
        self.records = [
            json.loads(line)["record"]
            for line in done.stdout.splitlines()
            if line.startswith('{"type":"RECORD"') or '"type": "RECORD"' in line
        ]

    def context(self) -> str:
        return f"exit {self.returncode} in {self.seconds:.1f} s\n{self.stderr[-3000:]}"

    def stream_failures(self) -> list[str]:
        """ERROR lines about a stream (the SDK's own closing lines left out)."""
        return [line for line in self.errors if line.startswith("stream '")]


def cli(
    tmp_path: Path, config: dict[str, Any], *, name: str = "config", capped: bool = False
) -> Ran:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    command = [sys.executable, "-c", CAPPED] if capped else TAP
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--config", str(path)],
        check=False,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    return Ran(done, time.monotonic() - started)


def one_resource(
    srv: HostileServer, path: str, timeout: float, retries: int = 1, **endpoint: Any
) -> dict[str, Any]:
    name = path.strip("/")
    return {
        "client": {"base_url": srv.url},
        "request_timeout": timeout,
        "resources": [
            {
                "name": name,
                "endpoint": {
                    "path": path.lstrip("/"),
                    "data_selector": "data",
                    "paginator": "single_page",
                    "error_handler": {"max_retries": retries, "backoff_factor": 0.01},
                    **endpoint,
                },
            }
        ],
    }


def assert_one_failure(run: Ran, *fragments: str) -> str:
    """Exit 1, no traceback, exactly one stream line holding every fragment."""
    assert run.returncode == 1, run.context()
    assert "Traceback" not in run.stderr, run.context()
    lines = run.stream_failures()
    assert len(lines) == 1, run.context()
    for fragment in fragments:
        assert fragment in lines[0], run.context()
    return lines[0]


# --------------------------------------------------------------------------------------------
# Deadline: request_timeout bounds the whole request


def test_drip_ends_at_the_deadline_with_one_line(server: HostileServer, tmp_path: Path) -> None:
    """1 byte / 0.3 s, request_timeout 1, one retry: two attempts of about 1 s, not minutes."""
    before = server.hits["/drip"]
    run = cli(tmp_path, one_resource(server, "/drip", timeout=1))
    FIGURES["drip runs"] += 1
    FIGURES["drip seconds (max)"] = max(FIGURES["drip seconds (max)"], round(run.seconds))
    assert run.seconds < 10, run.context()
    line = assert_one_failure(
        run,
        f"stream 'drip': GET {server.url}/drip failed after 1 retries: ",
        "no complete response within 1 s (request_timeout)",
    )
    assert line.endswith("no complete response within 1 s (request_timeout)"), line
    assert server.hits["/drip"] - before == 2
    assert run.records == []
    FIGURES["drip bounded"] += 1


def test_header_drip_ends_at_the_deadline_with_one_line(
    server: HostileServer, tmp_path: Path
) -> None:
    """Headers 1 byte / 0.3 s (a minute for the head alone): each attempt is cut at 1 s."""
    before = server.hits["/header_drip"]
    run = cli(tmp_path, one_resource(server, "/header_drip", timeout=1))
    FIGURES["header drip runs"] += 1
    assert run.seconds < 10, run.context()
    line = assert_one_failure(
        run,
        f"stream 'header_drip': GET {server.url}/header_drip failed after 1 retries: ",
    )
    assert line.endswith(
        "ReadTimeout (no complete response headers within 1 s (request_timeout))"
    ), line
    assert server.hits["/header_drip"] - before == 2
    FIGURES["header drip bounded"] += 1


def test_drip_in_process_takes_about_the_deadline_per_attempt(server: HostileServer) -> None:
    tap = make_tap(
        resource(
            "drip",
            data_selector="data",
            paginator="single_page",
            error_handler={"max_retries": 0},
        ),
        client={"base_url": server.url},
        request_timeout=0.5,
    )
    started = time.monotonic()
    with pytest.raises(StreamRequestError, match=r"no complete response within 0.5 s"):
        records_of(tap, "drip")
    assert time.monotonic() - started < 3


def test_slow_but_within_the_deadline_succeeds(server: HostileServer, tmp_path: Path) -> None:
    """Headers after 0.3 s, the body in three pieces 0.3 s apart: 1.2 s, within 5 s."""
    run = cli(tmp_path, one_resource(server, "/slow", timeout=5, retries=0))
    assert run.returncode == 0, run.context()
    assert [r["id"] for r in run.records] == [1, 2, 3]
    FIGURES["slow within the deadline, succeeded"] += 1


def test_redirect_hops_share_one_deadline(server: HostileServer) -> None:
    """1.2 s to the 302, 1.5 s for the target: each under request_timeout 2, together over."""
    tap = make_tap(
        resource(
            "redirect_slowly",
            data_selector="data",
            paginator="single_page",
            error_handler={"max_retries": 0},
        ),
        client={"base_url": server.url},
        request_timeout=2,
    )
    started = time.monotonic()
    with pytest.raises(StreamRequestError) as raised:
        records_of(tap, "redirect_slowly")
    assert time.monotonic() - started < 6
    assert str(raised.value) == (
        f"stream 'redirect_slowly': GET {server.url}/redirect_slowly failed: "
        "no complete response within 2 s (request_timeout)"
    )
    assert server.hits["/slow_target"] >= 1


# --------------------------------------------------------------------------------------------
# Flood: a body held in memory is capped


def test_a_declared_body_over_the_cap_is_refused_at_once(
    server: HostileServer, tmp_path: Path
) -> None:
    """Content-Length 2 GiB against the real 1 GiB cap: refused before reading, not retried."""
    before = server.hits["/huge_declared"]
    run = cli(tmp_path, one_resource(server, "/huge_declared", timeout=30, retries=3))
    assert run.seconds < 15, run.context()
    assert_one_failure(
        run,
        f"stream 'huge_declared': GET {server.url}/huge_declared failed: ",
        "the response body is larger than 1,073,741,824 bytes (Content-Length 2147483648)",
    )
    assert server.hits["/huge_declared"] - before == 1
    FIGURES["flood runs"] += 1
    FIGURES["flood bounded"] += 1


@pytest.mark.parametrize("path", ["/flood", "/gzip_bomb"])
def test_an_endless_or_inflating_body_stops_at_the_cap(
    server: HostileServer, tmp_path: Path, path: str
) -> None:
    """Chunked without end, or 8 MB inflated from a few kB: stopped at the (1 MiB) cap."""
    run = cli(tmp_path, one_resource(server, path, timeout=30, retries=3), capped=True)
    FIGURES["flood runs"] += 1
    assert run.seconds < 20, run.context()
    assert_one_failure(
        run,
        f"GET {server.url}{path} failed: ",
        "the response body is larger than 1,048,576 bytes, the most one response may hold",
    )
    FIGURES["flood bounded"] += 1


def test_the_cap_in_process(server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_body, "MAX_BODY_BYTES", 100_000)
    tap = make_tap(
        resource("flood", data_selector="data", paginator="single_page"),
        client={"base_url": server.url},
        request_timeout=30,
    )
    started = time.monotonic()
    with pytest.raises(StreamRequestError, match="larger than 100,000 bytes"):
        records_of(tap, "flood")
    assert time.monotonic() - started < 10


# --------------------------------------------------------------------------------------------
# Templates: read-only and bounded


def pages_config(srv: HostileServer, template: str) -> dict[str, Any]:
    paginator = {
        "type": "cursor",
        "cursor_path": "next",
        "cursor_param": "cursor",
        "stop_condition": template,
    }
    return {
        "client": {"base_url": srv.url},
        "request_timeout": 10,
        "resources": [
            {
                "name": "items",
                "primary_key": "id",
                "endpoint": {"path": "pages", "data_selector": "data", "paginator": paginator},
            }
        ],
    }


def test_a_read_only_template_still_pages(server: HostileServer, tmp_path: Path) -> None:
    template = "{{ response.get('next') is None or len(records) < 2 or page >= 5 }}"
    run = cli(tmp_path, pages_config(server, template))
    assert run.returncode == 0, run.context()
    assert [r["id"] for r in run.records] == [1, 2, 3, 4, 5, 6]


def test_template_probes_through_the_cli(server: HostileServer, tmp_path: Path) -> None:
    """Each probe: a config error with the path, or the stream fails with one line; in time."""

    def probe(job: tuple[int, str, str]) -> tuple[str, str, Ran]:
        i, kind, template = job
        return kind, template, cli(tmp_path, pages_config(server, template), name=f"probe_{i}")

    jobs = [(i, kind, t) for i, (kind, t) in enumerate(PROBES)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(probe, jobs))
    for kind, template, run in runs:
        FIGURES[f"template probes: {kind}"] += 1
        context = f"{template[:120]}\n{run.context()}"
        assert run.returncode == 1, context
        assert "Traceback" not in run.stderr, context
        assert run.seconds < 30, context
        assert run.records == [] or template in RUNTIME, context
        if template in RUNTIME:
            failure = assert_one_failure(run, "stream 'items': GET ", "stop_condition")
            assert f"stop_condition {template!r} failed: will not evaluate" in failure, context
            FIGURES["template probes: stream failed at the first page"] += 1
        else:
            lines = [line for line in run.errors if line.endswith(f" at {STOP_PATH}")]
            assert len(lines) == 1, context
            assert run.stdout == "", context
            FIGURES["template probes: config error at start-up"] += 1
    FIGURES["template probes"] = len(runs)
