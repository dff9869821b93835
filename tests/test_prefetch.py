"""Pages fetched ahead (``max_concurrency`` > 1) for page_number and offset, against a real server.

What a user would notice: every record once and in order, no request past a known total, at
most ``max_concurrency - 1`` wasted requests when the end is only found by an empty page, no
fetching ahead from a server that caps the page size, and fewer pages ahead after a 429 (the
host's adaptive level is cut, and a pace learned).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from faults import FaultServer
from helpers import Message, sync

from tap_restgeneric.http import requester
from tap_restgeneric.http.limiter import HostLimiter
from tap_restgeneric.http.prefetch import SLOW_RESPONSE, Prefetcher
from tap_restgeneric.sync.endpoint_requests import EndpointRequests, Filled

RECORDS = 95  # ten pages of 10 (the last one short)


@pytest.fixture
def api() -> Iterator[FaultServer]:
    """/items: 95 records, 10 a page, 20 ms a page."""
    with FaultServer({"/items": RECORDS}, auth=None, page_delay=0.02) as server:
        yield server


def config(api: FaultServer, paginator: dict[str, Any], concurrency: int = 4) -> dict[str, Any]:
    """One ``items`` resource with ``paginator``."""
    endpoint = {"path": "items", "data_selector": "data", "paginator": paginator}
    return {
        "client": {"base_url": api.url},
        "resources": [{"name": "items", "primary_key": "id", "endpoint": endpoint}],
        "max_concurrency": concurrency,
    }


def ids(messages: list[Message]) -> list[int]:
    """The ids written, in order."""
    return [m["record"]["id"] for m in messages if m["type"] == "RECORD"]


def pages(api: FaultServer) -> list[int]:
    """The page numbers requested, in arrival order."""
    return [r.page for r in api.log("/items")]


PAGE_NUMBER = {"type": "page_number", "base_page": 1, "total_path": "total_pages"}


def test_pages_ahead_stop_at_the_total(api: FaultServer) -> None:
    messages = sync(config(api, PAGE_NUMBER))
    assert ids(messages) == list(range(1, RECORDS + 1))
    assert sorted(pages(api)) == list(range(1, 11))  # no request past the total
    assert api.most_in_flight >= 3


def test_each_request_is_built_once(api: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page loop builds its own request; a request fetched ahead is built once more."""
    built: list[str] = []
    prepare = EndpointRequests.prepare

    def counting(self: EndpointRequests, request: Any, filled: Filled) -> Any:
        built.append(request.url)
        return prepare(self, request, filled)

    monkeypatch.setattr(EndpointRequests, "prepare", counting)
    sync(config(api, PAGE_NUMBER, concurrency=8))
    assert len(built) <= 2 * len(pages(api)) == 20


def test_without_a_total_the_empty_page_ends_it_within_the_window(api: FaultServer) -> None:
    paginator = {"type": "page_number", "base_page": 1, "total_path": None}
    messages = sync(config(api, paginator))
    assert ids(messages) == list(range(1, RECORDS + 1))
    requested = pages(api)
    assert len(requested) == len(set(requested))
    assert set(range(1, 12)) <= set(requested)  # page 11 is the empty one that ends it
    assert len(requested) <= 11 + 3


def test_offsets_ahead_stop_at_the_total(api: FaultServer) -> None:
    paginator = {"type": "offset", "limit": 10, "total_path": "total"}
    messages = sync(config(api, paginator))
    assert ids(messages) == list(range(1, RECORDS + 1))
    offsets = sorted(int(r.query["offset"]) for r in api.log("/items"))
    assert offsets == list(range(0, 100, 10))
    assert api.most_in_flight >= 3


def test_a_server_capping_the_page_size_is_not_fetched_ahead(api: FaultServer) -> None:
    """Asked for 25, it sends 10: the next offsets are known only from each response."""
    paginator = {"type": "offset", "limit": 25, "total_path": "total"}
    messages = sync(config(api, paginator))
    assert ids(messages) == list(range(1, RECORDS + 1))
    assert [int(r.query["offset"]) for r in api.log("/items")] == list(range(0, 100, 10))
    assert api.most_in_flight == 1


def test_a_429_cuts_fetching_ahead(api: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 429 comes at a level of 3 (page 4): halved to one request at a time."""
    monkeypatch.setattr(requester, "sleep", lambda seconds: None)
    api.inject("/items", page=4, fault="status", status=429, retry_after=1)
    messages = sync(config(api, PAGE_NUMBER))
    assert ids(messages) == list(range(1, RECORDS + 1))
    log = api.log("/items")
    throttled = next(i for i, r in enumerate(log) if r.status == 429)
    # what was in flight then may still arrive; after that, one page after the other
    later = [r.time for r in log[throttled + 4 :]]
    assert later and all(b - a >= 0.018 for a, b in itertools.pairwise(later))
    assert sorted(r.page for r in log) == sorted([*range(1, 11), 4])


class Answer:
    """A fetched page standing in for ``Fetched``: its URL, and whether it was closed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Recorder:
    """A requester answering after the given delays (the last one repeats); records answers."""

    def __init__(self, *delays: float) -> None:
        self.delays = list(delays)
        self.limiter = HostLimiter(4, adaptive=False)  # every host at level 4
        self.answers: list[Answer] = []

    @property
    def sent(self) -> list[str]:
        return [answer.url for answer in self.answers]

    def fetch(self, request: requests.PreparedRequest, session: Any = None) -> Any:
        time.sleep(self.delays.pop(0) if len(self.delays) > 1 else self.delays[0])
        answer = Answer(request.url or "")
        self.answers.append(answer)
        return answer


def page_request(number: int) -> requests.PreparedRequest:
    """GET /items?page=<number>."""
    return requests.Request("GET", f"http://api/items?page={number}").prepare()


SLOW = 2 * SLOW_RESPONSE


@pytest.mark.parametrize(
    ("delays", "pages"),
    [
        ((0.0,), 3),  # a fast API: one page at a time
        ((SLOW,), 6),  # a slow one: the host's level (4) pages ahead
        ((SLOW, 0.0, 0.0), 3),  # one slow response (a new connection, a pause) is not enough
    ],
    ids=["fast", "slow", "one-slow"],
)
def test_pages_are_fetched_ahead_only_from_a_slow_api(
    delays: tuple[float, ...], pages: int
) -> None:
    api = Recorder(*delays)
    prefetch = Prefetcher(api, 4, requests.Session)  # type: ignore[arg-type]
    try:
        prefetch.fetch(page_request(1))
        prefetch.fetch(page_request(2))
        prefetch.ahead(2, lambda k: page_request(2 + k))  # slow: pages 3 to 6 in flight
        prefetch.fetch(page_request(3))
    finally:
        prefetch.close()  # waits for what is in flight
    assert sorted(api.sent) == [f"http://api/items?page={n}" for n in range(1, pages + 1)]
    unused = [a.url for a in api.answers if a.closed]  # fetched ahead, never asked for: freed
    assert sorted(unused) == [f"http://api/items?page={n}" for n in range(4, pages + 1)]
