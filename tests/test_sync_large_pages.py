"""sync/large_pages.py in process: a large page's step, against the same pages in memory.

The tests shrink the thresholds (``SPOOL_BYTES`` 4 KiB, 50 records per chunk) and hold a
spooled run to an in-memory run of the same server: same records, same end, same failure line;
and check what is judged before, between and after the chunks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import make_tap, records_of, resource
from large_api import Api, Reply, array, encode, ok

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http import body as http_body
from tap_restgeneric.http import requester
from tap_restgeneric.records import chunked
from tap_restgeneric.sync.sequence import UnprovenEnd
from tap_restgeneric.sync.streams import RestGenericStream

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
        text += b"," + encode(key) + b":" + encode(value)
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


@pytest.mark.parametrize(
    ("second", "reason"),
    [
        pytest.param(
            b'{"error":"database timeout","detail":"' + b"d" * 9000 + b'"}',
            "the response looks like an error",
            id="an error-shaped large 200",
        ),
        pytest.param(
            b'{"items":"elsewhere","pad":"' + b"p" * 9000 + b'"}',
            "has nothing at data_selector 'data'",
            id="a missing data path after data",
        ),
    ],
)
def test_a_doubtful_large_page_2_is_not_a_proven_end(
    tiny: None, second: bytes, reason: str
) -> None:
    pages = {None: body(120, next="/items?page=2"), "2": second}
    with Api({"/items": lambda q: ok(pages[q.get("page")])}) as api:
        ids, line = failure(api, data_selector="data", paginator="json_link")
    assert ids == list(range(1, 121))
    assert reason in line


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


def test_unproven_end_is_a_stream_request_error() -> None:
    assert issubclass(UnprovenEnd, StreamRequestError)
