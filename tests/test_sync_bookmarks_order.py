"""sync/bookmarks.py: row_order: when a bookmark is safe to store (per page or at the end),
unsorted data, stopping at the range's end, and asc order per parent of a shared bookmark."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock
from helpers import (
    BASE_URL,
    Message,
    Record,
    bookmark,
    day,
    ids,
    last_state,
    params,
    records,
    resource,
    states,
    sync,
)
from incremental_helpers import (
    INC,
    ITEMS,
    answer,
    config,
    distinct_bookmarks,
    rec,
    timeline,
)

from tap_restgeneric.errors import StreamRequestError

# --------------------------------------------------------------------------------------------
# row_order


def linked(*pages: list[Record]) -> list[dict[str, Any]]:
    """Bodies ``{"data": [...], "next": <url of the next page>}`` (no next on the last)."""
    bodies = []
    for n, data in enumerate(pages, start=1):
        body: dict[str, Any] = {"data": data}
        if n < len(pages):
            body["next"] = f"{BASE_URL}/items?page={n + 1}"
        bodies.append(body)
    return bodies


def paged(inc: dict[str, Any]) -> dict[str, Any]:
    """An endpoint paged by ``next`` links, records under ``data``."""
    return {
        "paginator": {"type": "json_link", "next_url_path": "next"},
        "data_selector": "data",
        "incremental": inc,
    }


def test_asc_bookmarks_after_every_page() -> None:
    cfg = config(paged({**INC, "row_order": "asc"}))
    pages = linked([rec(1, day(2)), rec(2, day(3))], [rec(3, day(4))], [rec(4, day(5))])
    with requests_mock.Mocker() as m:
        answer(m, *pages)
        out = sync(cfg)
    assert timeline(out) == [
        "1",
        "2",
        f"@{day(3)}",
        "3",
        f"@{day(4)}",
        "4",
        f"@{day(5)}",
        f"@{day(5)}",
    ]
    assert bookmark(out) == {
        "replication_key": "updated_at",
        "replication_key_value": day(5),
        "boundary_keys": [[4]],
    }


def test_unsorted_stream_bookmarks_once_at_the_end() -> None:
    cfg = config(paged(INC))
    pages = linked([rec(1, day(4)), rec(2, day(2))], [rec(3, day(3))])
    with requests_mock.Mocker() as m:
        answer(m, *pages)
        out = sync(cfg)
    assert timeline(out) == ["1", "2", "3", f"@{day(4)}", f"@{day(4)}"]
    assert bookmark(out)["boundary_keys"] == [[1]]


def test_asc_with_unsorted_data_fails_and_keeps_the_last_safe_bookmark() -> None:
    cfg = config(paged({**INC, "row_order": "asc"}))
    pages = linked([rec(1, day(2)), rec(2, day(4))], [rec(3, day(3))])
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as caught:
        answer(m, *pages)
        sync(cfg, into=out)
    assert str(caught.value) == (
        "stream 'items': row_order is 'asc' but cursor '2024-01-03T00:00:00Z' came after a "
        "later one (set row_order to null if the API does not sort ascending by the cursor)"
    )
    assert distinct_bookmarks(out) == [day(4)]


@pytest.mark.parametrize(
    ("range_end", "pages"),
    [
        pytest.param(
            {},
            linked(
                [rec(1, day(2)), rec(2, day(4))],
                [rec(3, day(6)), rec(4, day(12))],
                [rec(5, day(14))],
            ),
            id="open end: stops once a page passes the end",
        ),
        pytest.param(
            {"range_end": "closed"},
            linked(
                [rec(1, day(8)), rec(2, day(10))],
                [rec(3, day(10)), rec(4, day(11))],
                [rec(5, day(12))],
            ),
            id="closed end: reads on while a page ends at the end",
        ),
    ],
)
def test_asc_with_end_value_stops_requesting_once_a_page_passes_the_end(
    range_end: dict[str, str], pages: list[dict[str, Any]]
) -> None:
    """Sorted ascending with an end_value: page 3 is never requested; a backfill stores no
    bookmark."""
    inc = {**INC, "row_order": "asc", "end_value": day(10), **range_end}
    with requests_mock.Mocker() as m:
        answer(m, *pages)
        out = sync(config(paged(inc)))
    assert m.call_count == 2
    assert ids(records(out)) == [1, 2, 3]
    assert bookmark(out) == {}


def test_an_interrupted_asc_run_resumes_after_the_last_full_page() -> None:
    cfg = config(paged({**INC, "start_param": "since", "row_order": "asc"}), schema=ITEMS)
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError):
        first, _ = linked([rec(1, day(2)), rec(2, day(3))], [])
        answer(m, first, {"status_code": 400, "json": {}})
        sync(cfg, into=out)
    assert ids(records(out)) == [1, 2]
    saved = bookmark(out)  # the SDK's in-progress markers (signpost…) are there too
    assert (saved["replication_key"], saved["replication_key_value"]) == ("updated_at", day(3))
    assert saved["boundary_keys"] == [[2]]
    with requests_mock.Mocker() as m:
        answer(m, {"data": [rec(2, day(3)), rec(3, day(4))]})
        second = sync(cfg, last_state(out))
    assert params(m.request_history[0]) == {"since": day(3)}
    assert ids(records(second)) == [3]


def test_an_interrupted_unsorted_run_stores_no_bookmark() -> None:
    cfg = config(paged(INC))
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError):
        first, _ = linked([rec(1, day(5)), rec(2, day(3))], [])
        answer(m, first, {"status_code": 400, "json": {}})
        sync(cfg, into=out)
    assert ids(records(out)) == [1, 2]
    # page 2 may hold records older than Jan 5: no bookmark is safe until the end
    assert distinct_bookmarks(out) in ([], [None])


def test_desc_stops_requesting_once_a_page_is_older_than_the_start() -> None:
    cfg = config(paged({**INC, "initial_value": day(5), "row_order": "desc"}))
    pages = linked(
        [rec(1, day(9)), rec(2, day(7))],
        [rec(3, day(6)), rec(4, day(4))],
        [rec(5, day(3))],
    )
    with requests_mock.Mocker() as m:
        answer(m, *pages)
        out = sync(cfg)
    assert m.call_count == 2
    assert timeline(out) == ["1", "2", "3", f"@{day(9)}", f"@{day(9)}"]


# --------------------------------------------------------------------------------------------
# a child resource's incremental shared by all parents


def shared_child_config(**inc: Any) -> dict[str, Any]:
    """Parent ``users``; child ``items`` per user with one incremental shared by all users."""
    child = resource(
        "items",
        "users/{resources.users.id}/items",
        paginator="single_page",
        incremental={**INC, "start_param": "since", **inc},
    )
    return {
        "client": {"base_url": BASE_URL},
        "resources": [
            {**resource("users", paginator="single_page"), "primary_key": "id"},
            {**child, "primary_key": "id"},
        ],
    }


def serve_users(mocker: requests_mock.Mocker, *item_pages: Any) -> None:
    """Users 1 and 2, and each user's items page (a dict with status_code for a failure)."""
    answer(mocker, [{"id": 1}, {"id": 2}], url=f"{BASE_URL}/users")
    for user, body in enumerate(item_pages, start=1):
        answer(mocker, body, url=f"{BASE_URL}/users/{user}/items")


def test_asc_order_is_checked_per_parent_and_the_shared_bookmark_is_the_maximum() -> None:
    with requests_mock.Mocker() as m:
        serve_users(m, [rec(11, day(5))], [rec(21, day(3))])
        out = sync(shared_child_config(row_order="asc"))
    assert [params(r) for r in m.request_history[1:]] == [{"since": day(1)}, {"since": day(1)}]
    assert ids(records(out)) == [11, 1, 21, 2]  # the SDK writes children before their parent
    assert bookmark(out) == {
        "replication_key": "updated_at",
        "replication_key_value": day(5),
        "boundary_keys": [[11]],
    }


def test_shared_asc_bookmark_is_not_stored_before_every_parent_is_done() -> None:
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError):
        serve_users(m, [rec(11, day(5))], {"status_code": 400, "json": {}})
        sync(shared_child_config(row_order="asc"), into=out)
    assert ids(records(out)) == [11, 1]
    assert all("replication_key_value" not in s["bookmarks"].get("items", {}) for s in states(out))
