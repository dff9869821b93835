"""Large single responses: records streamed out of one huge JSON body, in bounded memory.

A body over ``requester.SPOOL_BYTES`` (16 MiB) is spooled to a temporary file while its content
digest is computed, then parsed once with ijson along the data path, record chunk by record
chunk, while the rest of the document is built for the paginator.

The end-to-end tests run the CLI as a subprocess, stdout an OS pipe into a reader that parses
every line, against a local server serving a generated body of about 40 MB (``LARGE_MB``) as
``{"data": [...], "next": null}``, as a bare top-level array (chunked, no Content-Length), and
as a large page 1 whose next link comes after the array plus a small page 2. Each checks exit 0,
every id once and in order, records equal to a small-page run of the same data, and the tap's
peak RSS (the child's VmHWM, Linux) under twice the body plus 80 MB (it was 5.7x the body
before). The 200 MB figure is measured by ``benchmarks/bench.py
--large-response-mb 200``.

The in-process tests shrink the thresholds (``SPOOL_BYTES`` 4 KiB, 50 records per chunk) and
hold a spooled run to an in-memory run of the same server: same records, same end, same
failure line; and check what is judged before, between and after the chunks.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest
from cli import clean_env
from helpers import make_tap, records_of, resource
from local_server import LocalServer

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http import body as http_body
from tap_restgeneric.http import requester
from tap_restgeneric.records import chunked
from tap_restgeneric.records.selectors import (
    ChunkedParse,
    StreamedRecords,
    chunk_keys,
    guess_path,
    reads_into,
)
from tap_restgeneric.sync.sequence import UnprovenEnd
from tap_restgeneric.sync.streams import RestGenericStream

LARGE_MB = float(os.environ.get("LARGE_RESPONSE_TEST_MB", "40"))
_encode = msgspec.json.Encoder().encode


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
    per_record = len(_encode(make_record(100_000))) + 1
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
    return _encode([make_record(i) for i in range(first, last + 1)])


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


def run_cli(config: dict[str, Any], tmp_path: Path, name: str) -> Child:
    """Run the CLI; a thread reads its stdout pipe and parses every line.

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
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, env=clean_env())
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


# --------------------------------------------------------------------------------------------
# In process: small thresholds, a spooled run against an in-memory run


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spool bodies over 4 KiB; hand out chunks of 50 records."""
    monkeypatch.setattr(http_body, "SPOOL_BYTES", 4096)
    monkeypatch.setattr(chunked, "CHUNK_RECORDS", 50)


def body(records: int, first: int = 1, **around: Any) -> bytes:
    """``{"data": [records first..], **around}`` with ``around`` after the array."""
    text = b'{"data":' + array(first, first + records - 1)
    for key, value in around.items():
        text += b"," + _encode(key) + b":" + _encode(value)
    return text + b"}"


def both(
    monkeypatch: pytest.MonkeyPatch, make: Callable[[], list[dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``make()`` once with bodies in memory, once spooled (4 KiB, chunks of 50)."""
    monkeypatch.setattr(http_body, "SPOOL_BYTES", 1 << 30)
    in_memory = make()
    monkeypatch.setattr(http_body, "SPOOL_BYTES", 4096)
    monkeypatch.setattr(chunked, "CHUNK_RECORDS", 50)
    return in_memory, make()


def stream_records(api: Api, name: str = "items", **endpoint: Any) -> list[dict[str, Any]]:
    """The records of a one-resource tap at ``api``."""
    tap = make_tap(resource(name, **endpoint), client={"base_url": api.url})
    return records_of(tap, name)


def failure(api: Api, name: str = "items", **endpoint: Any) -> tuple[list[Any], str]:
    """The ids before a stream failed, and its line."""
    tap = make_tap(resource(name, **endpoint), client={"base_url": api.url})
    stream = tap.streams[name]
    assert isinstance(stream, RestGenericStream)
    seen: list[Any] = []
    try:
        for record in stream.request_records(None):
            seen.append(record["id"])
    except StreamRequestError as exc:  # UnprovenEnd too
        return seen, str(exc)
    raise AssertionError(f"the stream ended after {len(seen)} records")


SHAPES: dict[str, tuple[bytes, dict[str, Any]]] = {
    "dotted": (body(420, meta={"n": 1}), {"data_selector": "data"}),
    "nested": (
        b'{"result":{"page":{"rows":' + array(1, 333) + b',"more":false}},"x":[1,2]}',
        {"data_selector": "$.result.page.rows"},
    ),
    "top_level_array": (array(1, 260), {"data_selector": "$"}),
    "scalars_wrapped": (
        b'{"data":[1,"two",null,3.5,[4],{"id":6}]' + b',"pad":"' + b"p" * 5000 + b'"}',
        {"data_selector": "data"},
    ),
    "object_at_path": (
        b'{"data":{"item":{"id":1},"pad":"' + b"p" * 5000 + b'"}}',
        {"data_selector": "data"},
    ),
    "null_at_path": (b'{"data":null,"pad":"' + b"p" * 5000 + b'"}', {"data_selector": "data"}),
    "bom_and_spaces": (
        b"\xef\xbb\xbf \n" + body(300) + b"\n  ",
        {"data_selector": "data"},
    ),
    "integer_past_64_bits_late": (
        body(400).replace(b'{"id":380,', b'{"id":380,"huge":123456789012345678901234567890,'),
        {"data_selector": "data"},
    ),
    "integer_past_64_bits_top_level": (
        array(1, 400).replace(b'{"id":380,', b'{"id":380,"huge":-99999999999999999999,'),
        {"data_selector": "$"},
    ),
    "guessed": (
        b'{"meta":{"total":310},"links":["a"],"results":' + array(1, 310) + b"}",
        {},
    ),
    "wildcard_parsed_whole": (body(150), {"data_selector": "data[*]"}),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_spooled_records_equal_in_memory_records(
    monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    payload, endpoint = SHAPES[shape]
    with Api({"/items": lambda q: ok(payload)}) as api:
        in_memory, spooled = both(
            monkeypatch, lambda: stream_records(api, paginator="single_page", **endpoint)
        )
    assert spooled == in_memory
    assert in_memory or shape == "null_at_path"


def test_a_large_page_is_written_chunk_by_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync gets a large page as several lists, each about CHUNK_RECORDS long."""
    monkeypatch.setattr(http_body, "SPOOL_BYTES", 4096)
    monkeypatch.setattr(chunked, "CHUNK_RECORDS", 50)
    with Api({"/items": lambda q: ok(body(420))}) as api:
        tap = make_tap(
            resource("items", data_selector="data", paginator="single_page"),
            client={"base_url": api.url},
        )
        stream = tap.streams["items"]
        assert isinstance(stream, RestGenericStream)
        sizes = [len(records) for records in stream.request_pages(None)]
    assert sum(sizes) == 420
    assert len(sizes) >= 5
    assert all(size >= 50 for size in sizes[:-1])


def test_the_next_link_after_the_array_is_followed(tiny: None) -> None:
    """Fields after the records are known only once the array is passed: paging goes on."""
    pages = {
        None: body(300, next="/items?page=2", total=330),
        "2": body(30, first=301, next=None, total=330),
    }
    with Api({"/items": lambda q: ok(pages[q.get("page")])}) as api:
        records = stream_records(
            api, data_selector="data", paginator={"type": "json_link", "next_url_path": "next"}
        )
        assert api.hits == ["/items", "/items?page=2"]
    assert [r["id"] for r in records] == list(range(1, 331))


def test_offset_advances_by_the_records_of_a_large_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """A capped large page: the next offset is the count handed out, the total ends it."""

    def page(query: dict[str, str]) -> Reply:
        offset = int(query["offset"])
        last = min(1000, offset + 180)  # the server caps pages at 180, below the limit asked
        return ok(body(last - offset, first=offset + 1, total=1000))

    with Api({"/items": page}) as api:
        in_memory, spooled = both(
            monkeypatch,
            lambda: stream_records(
                api, data_selector="data", paginator={"type": "offset", "limit": 500}
            ),
        )
        offsets = [hit.split("offset=")[1].split("&")[0] for hit in api.hits]
    assert [r["id"] for r in spooled] == list(range(1, 1001))
    assert spooled == in_memory
    assert offsets[len(offsets) // 2 :] == offsets[: len(offsets) // 2]  # same requests both runs


def test_stop_condition_sees_the_count_and_the_last_record(tiny: None) -> None:
    pages = {str(n): body(200, first=(n - 1) * 200 + 1) for n in (1, 2, 3)}
    with Api({"/items": lambda q: ok(pages[q["page"]])}) as api:
        records = stream_records(
            api,
            data_selector="data",
            paginator={
                "type": "page_number",
                "base_page": 1,
                "stop_condition": "{{ len(records) == 200 and records[-1]['id'] >= 400 }}",
            },
        )
    assert len(records) == 400


def test_stop_condition_reading_a_record_not_held_fails_loudly(tiny: None) -> None:
    with Api({"/items": lambda q: ok(body(200))}) as api:
        ids, line = failure(
            api,
            data_selector="data",
            paginator={"type": "page_number", "stop_condition": "{{ records[120]['id'] > 0 }}"},
        )
    assert ids == list(range(1, 201))  # written before the judgement
    assert "stop_condition" in line
    assert "record 120 is not available" in line


def test_a_repeated_large_page_is_not_a_proven_end(tiny: None) -> None:
    """Page 2 byte-for-byte page 1 (a cursor the API ignores): no record of it is written."""
    same = body(200, cursor="abc")
    with Api({"/items": lambda q: ok(same)}) as api:
        ids, line = failure(
            api, data_selector="data", paginator={"type": "cursor", "cursor_path": "cursor"}
        )
    assert ids == list(range(1, 201))
    assert "page 2" in line
    assert "the page is identical to page 1; not a proven end" in line


def test_page_two_with_page_one_records_is_not_a_proven_end(tiny: None) -> None:
    """Page 2 differs in bytes but starts with page 1's records: caught before it is written."""
    pages = {None: body(200, cursor="a"), "a": body(200, cursor="b")}
    with Api({"/items": lambda q: ok(pages[q.get("cursor")])}) as api:
        ids, line = failure(
            api, data_selector="data", paginator={"type": "cursor", "cursor_path": "cursor"}
        )
    assert ids == list(range(1, 201))
    assert "the page repeats the records of page 1; not a proven end" in line


def test_a_large_page_zero_served_as_page_one_heals(tiny: None) -> None:
    """base_page left at 0 and pages 0 and 1 alike (large): the duplicate is dropped once."""

    def page(query: dict[str, str]) -> Reply:
        number = max(1, int(query["page"]))
        return ok(body(200, first=(number - 1) * 200 + 1) if number <= 2 else b'{"data":[]}')

    with Api({"/items": page}) as api:
        records = stream_records(api, data_selector="data", paginator="page_number")
    assert [r["id"] for r in records] == list(range(1, 401))


def test_an_error_shaped_large_200_is_not_a_proven_end(tiny: None) -> None:
    pages = {
        None: body(120, next="/items?page=2"),
        "2": b'{"error":"database timeout","detail":"' + b"d" * 9000 + b'"}',
    }
    with Api({"/items": lambda q: ok(pages[q.get("page")])}) as api:
        ids, line = failure(api, data_selector="data", paginator="json_link")
    assert ids == list(range(1, 121))
    assert "the response looks like an error" in line


def test_a_missing_data_path_after_data_is_not_a_proven_end(tiny: None) -> None:
    pages = {
        None: body(120, next="/items?page=2"),
        "2": b'{"items":"elsewhere","pad":"' + b"p" * 9000 + b'"}',
    }
    with Api({"/items": lambda q: ok(pages[q.get("page")])}) as api:
        ids, line = failure(api, data_selector="data", paginator="json_link")
    assert ids == list(range(1, 121))
    assert "has nothing at data_selector 'data'" in line


def test_a_truncated_large_body_is_retried_before_any_record(
    tiny: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(requester, "sleep", lambda seconds: None)
    full = body(300)
    answers = iter([full[: len(full) // 2], full])
    with Api({"/items": lambda q: ok(next(answers))}) as api:
        records = stream_records(api, data_selector="data", paginator="single_page")
    assert [r["id"] for r in records] == list(range(1, 301))


def test_a_body_broken_midway_fails_with_one_line(tiny: None) -> None:
    """Broken inside the array (the last byte still closes it): the records before it were
    written, the stream fails naming the request and the break; no retry."""
    good = body(2000)
    cut = good.index(b'{"id":1500,')
    broken = good[:cut] + b'{"id":1500,,' + good[cut + 11 :]
    with Api({"/items": lambda q: ok(broken)}) as api:
        ids, line = failure(api, data_selector="data", paginator="single_page")
        assert len(api.hits) == 1
    assert ids == list(range(1, len(ids) + 1))
    assert 0 < len(ids) < 1500
    assert f"GET {api.url}/items failed: status 200 but invalid JSON in a body of" in line
    assert f"after the first {len(ids):,} of its records" in line


def test_an_html_page_spooled_fails_as_in_memory(tiny: None) -> None:
    html = b"<html><body>" + b"<p>maintenance</p>" * 1000 + b"</body></html>"
    with Api({"/items": lambda q: (200, {"Content-Type": "text/html"}, html, False)}) as api:
        ids, line = failure(api, data_selector="data", paginator="single_page")
    assert ids == []
    assert "an HTML page where JSON was expected" in line


def test_response_actions_match_content_deep_in_a_spooled_body(tiny: None) -> None:
    payload = body(300, status="MAINTENANCE")
    with Api({"/items": lambda q: ok(payload)}) as api:
        records = stream_records(
            api,
            data_selector="data",
            paginator="single_page",
            response_actions=[{"content": "MAINTENANCE", "action": "ignore"}],
        )
    assert records == []


def test_incremental_filtering_is_per_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server ignores the start value: the tap keeps only records inside the range."""
    with Api({"/items": lambda q: ok(body(400))}) as api:
        in_memory, spooled = both(
            monkeypatch,
            lambda: stream_records(
                api,
                data_selector="data",
                paginator="single_page",
                incremental={"cursor_path": "updated_at", "initial_value": "2024-01-20T00:00:00Z"},
            ),
        )
    assert spooled == in_memory
    assert 0 < len(spooled) < 400
    assert all(r["updated_at"] >= "2024-01-20" for r in spooled)


def test_a_no_selector_guess_is_read_from_the_head(
    tiny: None, caplog: pytest.LogCaptureFixture
) -> None:
    payload = b'{"meta":{"total":310},"links":["a"],"results":' + array(1, 310) + b"}"
    with caplog.at_level(logging.INFO), Api({"/items": lambda q: ok(payload)}) as api:
        records = stream_records(api, paginator="single_page")
    assert len(records) == 310
    assert "guessed 'results' from the first response" in caplog.text
    assert "parsed whole" not in caplog.text


def test_a_path_that_cannot_be_streamed_is_parsed_whole_and_says_so(
    tiny: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), Api({"/items": lambda q: ok(body(150))}) as api:
        records = stream_records(api, data_selector="data[*]", paginator="single_page")
    assert len(records) == 150
    assert "is parsed whole, in memory: data_selector 'data[*]' is not a plain dotted" in (
        caplog.text
    )


def _deleted_files() -> int:
    """Open files of this process already deleted (spooled bodies; 0 where /proc is absent)."""
    fds = Path("/proc/self/fd")
    if not fds.exists():
        return 0
    links = []
    for fd in fds.iterdir():
        try:
            links.append(str(fd.readlink()))
        except OSError:
            continue
    return sum(link.endswith("(deleted)") for link in links)


def _parse_threads() -> int:
    return sum(t.name == "restgeneric-chunked-parse" for t in threading.enumerate())


def test_nothing_is_left_behind(tiny: None) -> None:
    """Files deleted and worker threads gone: after a run, a failure and an abandoned page."""
    with Api({"/items": lambda q: ok(body(400))}) as api:
        before = _deleted_files()
        stream_records(api, data_selector="data", paginator="single_page")
        assert _deleted_files() == before
        tap = make_tap(
            resource("items", data_selector="data", paginator="single_page"),
            client={"base_url": api.url},
        )
        stream = tap.streams["items"]
        assert isinstance(stream, RestGenericStream)
        pages = iter(stream.request_pages(None))
        assert len(next(pages)) >= 50
        assert _parse_threads() == 1
        del pages  # abandoned after the first chunk
        deadline = time.monotonic() + 5
        while _parse_threads() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _parse_threads() == 0
        assert _deleted_files() == before


# --------------------------------------------------------------------------------------------
# Units


def test_chunked_parse_builds_the_rest_of_the_document(tmp_path: Path) -> None:
    doc = {"a": 1, "page": {"rows": [{"id": i} for i in range(7)], "n": 7}, "next": "x"}
    path = tmp_path / "doc.json"
    path.write_bytes(_encode(doc))
    with path.open("rb") as file:
        parse = ChunkedParse(file, ("page", "rows"), chunk=3)
        chunks = list(parse)
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [r for c in chunks for r in c] == doc["page"]["rows"]  # type: ignore[index]
    assert parse.body == {"a": 1, "page": {"rows": [], "n": 7}, "next": "x"}
    assert parse.streamed
    assert parse.records == 7


def test_chunked_parse_of_numbers_matches_msgspec(tmp_path: Path) -> None:
    text = (
        b'{"data":[{"i":1,"f":1.0,"e":1e3,"n":-0,"b":123456789012345678901234567890,"s":1.5e-9}]}'
    )
    path = tmp_path / "doc.json"
    path.write_bytes(text)
    with path.open("rb") as file:
        got = [r for c in ChunkedParse(file, ("data",)) for r in c]
    expected = msgspec.json.decode(text)["data"]
    assert got == expected
    assert [type(v) for v in got[0].values()] == [type(v) for v in expected[0].values()]


def test_streamed_records_hold_the_count_first_chunk_and_last() -> None:
    records = StreamedRecords(10, [{"id": 1}, {"id": 2}], {"id": 10})
    assert len(records) == 10
    assert records
    assert records[0] == {"id": 1}
    assert records[-1] == records[9] == {"id": 10}
    with pytest.raises(IndexError, match="record 5 is not available"):
        records[5]
    with pytest.raises(TypeError, match="iterating over its records is not available"):
        list(records)


def test_paths_that_can_be_parsed_in_chunks() -> None:
    assert chunk_keys("$") == ()
    assert chunk_keys("data") == ("data",)
    assert chunk_keys("$.a.b") == ("a", "b")
    assert chunk_keys("items[*].data") is None
    assert not reads_into("next", ("data",))
    assert reads_into("data[-1].id", ("data",))
    assert reads_into("$[0].next", ())
    assert not reads_into("meta[0].next", ("data",))


def test_guess_path_from_the_head() -> None:
    assert guess_path(b"  [1, 2") == "$"
    assert guess_path(b'{"meta":{"x":[1]},"data":[{"id":1},') == "data"
    assert guess_path(b'{"a":{"b":{"results":[{"id"') == "a.b.results"
    assert guess_path(b'{"a":{"b":{"c":{"data":[') is None  # four keys deep
    assert guess_path(b'{"list":[{"data":[1]}],"other":') is None  # inside an array
    assert guess_path(b'{"x":"y"') is None
    assert guess_path(b"<html>") is None


def test_unproven_end_is_a_stream_request_error() -> None:
    assert issubclass(UnprovenEnd, StreamRequestError)
