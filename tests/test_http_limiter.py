"""The per-host limiter against a loopback API: adaptive requests in flight, 429s, a budget.

Correctness only: what the server counted (the most requests in flight at once, arrivals per
window with generous slack) and every record once, in order; no wall-clock assertion on the tap.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from helpers import Message, sync
from local_server import LocalHandler, LocalServer, Reply

from tap_restgeneric.http import requester

PAGE = 10


class PagedHandler(LocalHandler):
    """``/items?page=N`` (1-based) or ``?offset=&limit=``: ``{"data": [...], "total": n}``."""

    def do_GET(self) -> None:
        api: PagedAPI = self.server.owner
        path, query = self.query()
        if path != "/items":
            self.send_reply(Reply(404, b"{}"))
            return
        status = api.arrive()
        try:
            time.sleep(api.delay)
            if status == 429:
                reply = Reply(429, b'{"error": "slow down"}', {"Retry-After": "0"})
            elif "offset" in query:
                start = int(query["offset"])
                ids = range(start + 1, min(start + int(query["limit"]), api.records) + 1)
                reply = api.page(list(ids))
            else:
                start = (int(query.get("page", "1")) - 1) * PAGE
                reply = api.page(list(range(start + 1, min(start + PAGE, api.records) + 1)))
            self.send_reply(reply)
        finally:
            api.leave()


@dataclass
class PagedAPI(LocalServer):
    """Counts requests in flight; answers 429 when ``over(arrival, in flight)`` says so."""

    records: int = 200
    delay: float = 0.02
    limit_in_flight: int | None = None  # 429 to a request arriving with this many in flight
    storm: range = range(0)  # 429 to every other arrival numbered in this range
    handler = PagedHandler
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most_in_flight: int = 0
    arrivals: list[tuple[float, int, int]] = field(default_factory=list)  # time, in flight, status

    def arrive(self) -> int:
        with self.lock:
            number = len(self.arrivals)
            self.in_flight += 1
            over = self.limit_in_flight is not None and self.in_flight > self.limit_in_flight
            stormy = number in self.storm and number % 2 == 0
            status = 429 if over or stormy else 200
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.arrivals.append((time.monotonic(), self.in_flight, status))
            return status

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def page(self, ids: list[int]) -> Reply:
        body = {"data": [{"id": i} for i in ids], "total": self.records}
        return Reply(200, msgspec.json.encode(body), {"Content-Type": "application/json"})

    @property
    def throttled(self) -> int:
        return sum(1 for *_, status in self.arrivals if status == 429)


PAGE_NUMBER = {"type": "page_number", "base_page": 1, "total_path": None}
OFFSET = {"type": "offset", "limit": PAGE, "total_path": "total"}


def config(api: PagedAPI, paginator: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """One ``items`` resource; the tap's defaults unless ``settings`` say otherwise."""
    endpoint = {"path": "items", "data_selector": "data", "paginator": paginator}
    return {
        "client": {"base_url": api.url},
        "resources": [{"name": "items", "primary_key": "id", "endpoint": endpoint}],
        **settings,
    }


def ids(messages: list[Message]) -> list[int]:
    return [m["record"]["id"] for m in messages if m["type"] == "RECORD"]


@pytest.fixture
def no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Retries after a 429 (Retry-After: 0) go at once."""
    monkeypatch.setattr(requester, "sleep", lambda seconds: None)
    yield


@pytest.mark.parametrize("paginator", [PAGE_NUMBER, OFFSET], ids=["page_number", "offset"])
def test_the_level_rises_on_a_slow_server_and_every_id_comes_once_in_order(
    paginator: dict[str, Any],
) -> None:
    """Defaults (adaptive, ceiling 16): from one request at a time to several, records in order."""
    with PagedAPI(records=600) as api:
        messages = sync(config(api, paginator))
    assert ids(messages) == list(range(1, 601))
    assert api.arrivals[0][1] == 1  # it starts with one request in flight
    assert api.most_in_flight >= 6  # and raised the level while the server kept pace
    assert api.throttled == 0


@pytest.mark.parametrize("paginator", [PAGE_NUMBER, OFFSET], ids=["page_number", "offset"])
def test_the_level_falls_after_429s(paginator: dict[str, Any], no_retry_wait: None) -> None:
    """A server that takes 4 at once answers 429 to a 5th: the tap cuts its level each time
    instead of climbing to its ceiling of 16, and loses nothing."""
    with PagedAPI(records=600, limit_in_flight=4) as api:
        messages = sync(config(api, paginator))
    assert ids(messages) == list(range(1, 601))
    assert api.throttled >= 1  # the level rose past what the server takes
    assert 5 <= api.most_in_flight <= 8  # ... and fell back every time (never near 16)


def test_a_429_storm_loses_nothing(no_retry_wait: None) -> None:
    """Every other request answered 429 for a stretch while pages are fetched ahead."""
    with PagedAPI(records=400, storm=range(10, 70)) as api:
        messages = sync(config(api, PAGE_NUMBER))
    assert ids(messages) == list(range(1, 401))
    assert api.throttled == 30
    pages = [a for a in api.arrivals if a[2] == 200]
    assert len(pages) <= 41 + 15  # the empty page 41 ends it; at most ceiling - 1 past it


def test_max_concurrency_1_is_one_request_at_a_time() -> None:
    with PagedAPI(records=200) as api:
        messages = sync(config(api, PAGE_NUMBER, max_concurrency=1))
    assert ids(messages) == list(range(1, 201))
    assert api.most_in_flight == 1
    assert len(api.arrivals) == 21  # 20 pages and the empty one


def test_requests_per_second_is_a_budget_per_host() -> None:
    """50 requests/s: no half second sees more than 25 arrivals (plus slack), however fast the
    server answers and however many pages could be fetched ahead."""
    with PagedAPI(records=600, delay=0.006) as api:
        messages = sync(config(api, PAGE_NUMBER, requests_per_second=50))
    assert ids(messages) == list(range(1, 601))
    times = [t for t, *_ in api.arrivals]
    busiest = max(sum(1 for u in times if t <= u < t + 0.5) for t in times)
    assert busiest <= 25 + 5


def test_the_summary_names_the_level_each_host_reached(
    caplog: pytest.LogCaptureFixture, no_retry_wait: None
) -> None:
    with PagedAPI(records=300, storm=range(20, 22)) as api:
        caplog.set_level("INFO")
        sync(config(api, PAGE_NUMBER))
    line = next(r.getMessage() for r in caplog.records if ": host http" in r.getMessage())
    found = re.match(
        rf"Stream 'items': host {api.url}: up to (\d+) requests in flight "
        r"\(level reached (\d+) of 16, now \d+\), \d+ cuts? \([^)]*429: 1[^)]*\), 1 response 429, "
        r"pace [\d.]+ requests/s learned from 429s$",
        line,
    )
    assert found, line
    most, level = int(found[1]), int(found[2])
    assert level >= most >= api.most_in_flight > 1
