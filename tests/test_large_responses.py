"""Large single responses end to end: records streamed out of one huge JSON body, in bounded
memory.

A body over ``requester.SPOOL_BYTES`` (16 MiB) is spooled to a temporary file while its content
digest is computed, then parsed once with ijson along the data path, record chunk by record
chunk, while the rest of the document is built for the paginator.

The tests run the CLI as a subprocess, stdout an OS pipe into a reader that parses
every line, against a local server serving a generated body of about 40 MB (``LARGE_MB``) as
``{"data": [...], "next": null}``, as a bare top-level array (chunked, no Content-Length), and
as a large page 1 whose next link comes after the array plus a small page 2. Each checks exit 0,
every id once and in order, records equal to a small-page run of the same data, and the tap's
peak RSS (the child's VmHWM, Linux) under twice the body plus 80 MB (it was 5.7x the body
before). The 200 MB figure is measured by ``benchmarks/bench.py
--large-response-mb 200``. In process: tests/test_sync_large_pages.py; the chunked parse
itself: tests/test_records_chunked.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli import clean_env, file_limited
from large_api import Api, Reply, Route, array, ok, records_for

LARGE_MB = float(os.environ.get("LARGE_RESPONSE_TEST_MB", "40"))


# --------------------------------------------------------------------------------------------
# End to end: the CLI as a subprocess, its peak RSS


@dataclass
class Child:
    """One CLI run: exit status, records in order, peak RSS, stderr."""

    returncode: int
    records: list[dict[str, Any]]
    peak_rss_mb: float
    stderr: str
    bad_lines: int = 0
    seconds: float = 0.0


def peak_rss_kb(pid: int) -> int | None:
    """The process's resident high-water mark (VmHWM, Linux), None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def run_cli(
    config: dict[str, Any], tmp_path: Path, name: str, file_limit: int | None = None
) -> Child:
    """Run the CLI; a thread reads its stdout pipe and parses every line. ``file_limit``
    caps the size of each file the tap writes (RLIMIT_FSIZE), as a full disk would.

    Peak RSS is the child's VmHWM, read every 20 ms until it exits (its ``ru_maxrss`` would
    also count this test process: a child started with vfork inherits the parent's high-water
    mark at exec).
    """
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    err_path = tmp_path / f"{name}.stderr"
    command = [sys.executable, "-m", "tap_restgeneric.tap", "--config", str(path)]
    records: list[dict[str, Any]] = []
    bad = [0]
    peak = [0]
    started = time.monotonic()
    with err_path.open("wb") as err:
        if file_limit is not None:
            command = file_limited(file_limit, command)
        child = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=err,
            env=clean_env(),
        )
        assert child.stdout is not None
        stdout = child.stdout

        def read() -> None:
            for line in stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    bad[0] += 1
                    continue
                if message.get("type") == "RECORD":
                    records.append(message["record"])

        def watch() -> None:
            while child.poll() is None:
                kb = peak_rss_kb(child.pid)
                peak[0] = max(peak[0], kb or 0)
                time.sleep(0.02)

        reader = threading.Thread(target=read, daemon=True)
        watcher = threading.Thread(target=watch, daemon=True)
        reader.start()
        watcher.start()
        try:
            child.wait(300)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        reader.join(60)
        watcher.join(5)
        stdout.close()
    return Child(
        child.returncode,
        records,
        peak[0] / 1024,
        err_path.read_text(errors="replace"),
        bad[0],
        time.monotonic() - started,
    )


@dataclass
class LargeApi:
    """The large data set served four ways."""

    api: Api
    count: int
    body_bytes: int


@pytest.fixture(scope="module")
def large() -> Iterator[LargeApi]:
    count = records_for(LARGE_MB)
    data = array(1, count)
    wrapped = b'{"meta":{"count":%d},"data":' % count + data + b',"next":null}'
    split = count - 500
    page_1 = b'{"data":' + array(1, split) + b',"next":"/paged?page=2","total":%d}' % count
    page_2 = b'{"data":' + array(split + 1, count) + b',"next":null,"total":%d}' % count
    small_size = 2000

    def small(query: dict[str, str]) -> Reply:
        page = int(query.get("page", "1"))
        first = (page - 1) * small_size + 1
        if first > count:
            return ok(b'{"data":[]}')
        return ok(b'{"data":' + array(first, min(count, first + small_size - 1)) + b"}")

    routes: dict[str, Route] = {
        "/wrapped": lambda q: ok(wrapped),
        "/bare": lambda q: ok(data, chunked=True),
        "/paged": lambda q: ok(page_2 if q.get("page") == "2" else page_1),
        "/small": small,
    }
    with Api(routes) as api:
        yield LargeApi(api, count, len(wrapped))


def cli_config(api: Api, path: str, **endpoint: Any) -> dict[str, Any]:
    """One resource ``items`` at ``path``."""
    return {
        "client": {"base_url": api.url},
        "resources": [
            {"name": "items", "primary_key": "id", "endpoint": {"path": path, **endpoint}}
        ],
    }


@pytest.fixture(scope="module")
def small_run(large: LargeApi, tmp_path_factory: pytest.TempPathFactory) -> Child:
    """The same data in pages of 2,000 records: what every large run must equal."""
    config = cli_config(
        large.api,
        "small",
        data_selector="data",
        paginator={"type": "page_number", "base_page": 1, "page_param": "page"},
    )
    run = run_cli(config, tmp_path_factory.mktemp("small"), "small")
    assert run.returncode == 0, run.stderr[-3000:]
    assert [r["id"] for r in run.records] == list(range(1, large.count + 1))
    return run


LARGE_CASES: dict[str, dict[str, Any]] = {
    "wrapped": {
        "path": "wrapped",
        "data_selector": "data",
        "paginator": {"type": "json_link", "next_url_path": "next"},
    },
    "bare_chunked_guessed": {"path": "bare", "paginator": "auto"},
    "next_after_array": {
        "path": "paged",
        "data_selector": "data",
        "paginator": {"type": "json_link", "next_url_path": "next"},
    },
}


@pytest.mark.parametrize("case", list(LARGE_CASES))
def test_a_large_response_streams_in_bounded_memory(
    large: LargeApi, small_run: Child, tmp_path: Path, case: str
) -> None:
    """Exit 0, every id once and in order, the records of a small-page run, RSS bounded."""
    endpoint = dict(LARGE_CASES[case])
    path = str(endpoint.pop("path"))
    run = run_cli(cli_config(large.api, path, **endpoint), tmp_path, case)
    body_mb = large.body_bytes / 1_000_000
    print(
        f"{case}: body {body_mb:.1f} MB, {large.count:,} records, peak RSS "
        f"{run.peak_rss_mb:.1f} MB, {run.seconds:.1f} s (small pages: "
        f"{small_run.peak_rss_mb:.1f} MB, {small_run.seconds:.1f} s)"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.bad_lines == 0
    assert "Traceback" not in run.stderr
    ids = [r["id"] for r in run.records]
    assert ids == list(range(1, large.count + 1))
    assert run.records == small_run.records
    if Path("/proc/self/status").exists():  # VmHWM is Linux's
        assert 0 < run.peak_rss_mb < 2 * body_mb + 80, f"peak RSS {run.peak_rss_mb:.1f} MB"
    assert f"{large.count} records" in run.stderr  # the summary line counts them all


def test_no_room_for_a_large_body_is_one_line(large: LargeApi, tmp_path: Path) -> None:
    """The temporary file of a large body cannot grow (a full disk): one line naming the
    request and what to do, exit 1, nothing written (it was retried as a truncated body and
    then ended with 'unexpected error: OSError')."""
    run = run_cli(cli_config(large.api, "/wrapped"), tmp_path, "no-room", file_limit=1 << 20)
    assert run.returncode == 1
    assert run.records == [] and run.bad_lines == 0
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, run.stderr[-3000:]
    assert errors[0].endswith(
        f"stream 'items': GET {large.api.url}/wrapped failed: no room for its body (over 16 "
        f"MiB: kept in a temporary file) in {tempfile.gettempdir()} (File too large); free "
        "space there or set TMPDIR"
    )
    assert "retry" not in run.stderr and "Traceback" not in run.stderr
