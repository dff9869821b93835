"""The page sequence's judgement of odd 200 responses: each is an unproven end with its line."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests_mock
from helpers import BASE_URL, ids, page, run, run_to_failure, serve

URL = f"{BASE_URL}/items"
CURSOR = {"paginator": {"type": "cursor", "cursor_path": "next"}, "data_selector": "data"}


def rows(*numbers: int) -> list[dict[str, int]]:
    """Records ``{"id": n}``."""
    return [{"id": n} for n in numbers]


def line(number: int, query: str, reason: str) -> str:
    """The error line of an unproven end on page ``number``."""
    return f"stream 'items': page {number} (GET {URL}{query}): {reason}; not a proven end"


def first_two_pages() -> list[dict[str, Any]]:
    return [page({"data": rows(1, 2), "next": "c2"}), page({"data": rows(3, 4), "next": "c3"})]


def test_empty_body_after_pages_with_data() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, *first_two_pages(), {"text": ""})
        records, error = run_to_failure(CURSOR)
    assert ids(records) == [1, 2, 3, 4]
    reason = "the response body is empty, while earlier pages had data"
    assert error == line(3, "?cursor=c3", reason)


def test_204_after_pages_with_data_says_how_to_accept_it() -> None:
    """A 204 No Content is not taken for an end unless the config says so (as dlt's idiom)."""
    with requests_mock.Mocker() as m:
        serve(m, URL, *first_two_pages(), {"status_code": 204, "text": ""})
        records, error = run_to_failure(CURSOR)
    assert ids(records) == [1, 2, 3, 4]
    reason = (
        "the response is a 204 No Content, while earlier pages had data (if the API ends its "
        "pages so, say it: response_actions [{status_code: 204, action: ignore}])"
    )
    assert error == line(3, "?cursor=c3", reason)
    ignore_204 = {**CURSOR, "response_actions": [{"status_code": 204, "action": "ignore"}]}
    with requests_mock.Mocker() as m:
        serve(m, URL, *first_two_pages(), {"status_code": 204, "text": ""})
        assert ids(run(ignore_204)) == [1, 2, 3, 4]


def test_error_shaped_body_after_pages_with_data() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, *first_two_pages(), page({"error": "database timeout"}))
        records, error = run_to_failure(CURSOR)
    assert ids(records) == [1, 2, 3, 4]
    reason = 'the response looks like an error: {"error": "database timeout"}'
    assert error == line(3, "?cursor=c3", reason)


def test_error_shaped_first_page() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"errors": [{"message": "quota exceeded"}]}))
        records, error = run_to_failure(CURSOR)
    assert records == []
    reason = 'the response looks like an error: {"errors": [{"message": "quota exceeded"}]}'
    assert error == line(1, "", reason)


def test_missing_data_path_after_pages_with_data() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, *first_two_pages(), page({"result": "nothing here"}))
        records, error = run_to_failure(CURSOR)
    assert ids(records) == [1, 2, 3, 4]
    reason = (
        "the response has nothing at data_selector 'data', while earlier pages had: "
        '{"result": "nothing here"}'
    )
    assert error == line(3, "?cursor=c3", reason)


def test_a_page_identical_to_an_earlier_one_not_the_previous() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, *first_two_pages(), page({"data": rows(1, 2), "next": "c2"}))
        records, error = run_to_failure(CURSOR)
    assert ids(records) == [1, 2, 3, 4]
    assert error == line(3, "?cursor=c3", "the page is identical to page 1")


@pytest.mark.parametrize(
    "last",
    [{"data": None, "next": None}, {"data": [], "next": None}],
    ids=["null at the path", "empty list"],
)
def test_null_or_empty_data_at_the_end_is_a_proven_end(last: dict[str, Any]) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, *first_two_pages(), page(last))
        assert ids(run(CURSOR)) == [1, 2, 3, 4]


def test_missing_path_on_the_first_page_is_an_empty_stream() -> None:
    """Nothing earlier had the path: an API that omits an empty list proves nothing wrong."""
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"next": None}))
        assert run(CURSOR) == []


def test_wildcard_selector_over_an_empty_list_is_an_empty_page() -> None:
    """``items[*].data`` over ``items: []``: the path is there (up to its wildcard)."""
    endpoint = {
        "paginator": {"type": "page_number", "base_page": 1},
        "data_selector": "items[*].data",
    }
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"items": [{"data": {"id": 1}}]}), page({"items": []}))
        assert ids(run(endpoint)) == [1]


def test_on_unproven_end_stop_logs_the_line_and_stops(caplog: pytest.LogCaptureFixture) -> None:
    with requests_mock.Mocker() as m, caplog.at_level(logging.WARNING):
        serve(m, URL, *first_two_pages(), page({"error": "database timeout"}))
        records = run({**CURSOR, "on_unproven_end": "stop"})
    assert ids(records) == [1, 2, 3, 4]
    reason = 'the response looks like an error: {"error": "database timeout"}'
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [
        f"stream 'items': page 3 (GET {URL}?cursor=c3): {reason}; "
        "stopping as on_unproven_end 'stop' allows"
    ]
