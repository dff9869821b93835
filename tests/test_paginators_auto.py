"""paginators/auto.py: the guessing paginator: logged guesses, proof on page 2, recovery."""

from __future__ import annotations

import logging

import pytest
import requests_mock
from helpers import (
    BASE_URL,
    ids,
    make_tap,
    page,
    records_of,
    resource,
    run,
    run_to_failure,
    sent_params,
    sent_urls,
    serve,
)
from paginator_helpers import URL, guesses, rows


def test_auto_single_page_guess_with_a_larger_total_stops_where_the_endpoint_allows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1, 2), "total": 9}))
        records = run({"on_unproven_end": "stop"})
    assert ids(records) == [1, 2]
    assert any(
        "its 2 records" in r.getMessage() and "on_unproven_end 'stop' allows" in r.getMessage()
        for r in caplog.records
    )


def test_explicit_single_page_ignores_a_larger_total() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1, 2), "total": 9}))
        assert ids(run({"paginator": "single_page"})) == [1, 2]


def test_auto_single_record_single_page_is_not_logged_as_a_guess(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"id": 1, "name": "me"}))
        assert run({}) == [{"id": 1, "name": "me"}]
    assert guesses(caplog) == []


def test_auto_page_count_heals_an_api_that_counts_from_1(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A guessed page_number whose pages 0 and 1 are alike counts pages from 1."""
    same = page({"data": rows(1), "meta": {"total_pages": 2}})
    with requests_mock.Mocker() as m, caplog.at_level(logging.INFO):
        serve(m, URL, same, same, page({"data": rows(2), "meta": {"total_pages": 2}}))
        records = run({})
    assert ids(records) == [1, 2]
    assert sent_params(m) == [{}, {"page": "1"}, {"page": "2"}]
    assert any("counts pages from 1" in r.getMessage() for r in caplog.records)


def test_auto_cursor_tries_other_parameter_names_until_one_moves_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The API reads its cursor from ``next``: sent as ``cursor`` page 2 repeats page 1."""
    first = page({"data": rows(1, 2), "cursors": {"next": "c2"}})
    with requests_mock.Mocker() as m, caplog.at_level(logging.INFO):
        serve(m, URL, first, first, page({"data": rows(3), "cursors": {"next": None}}))
        records = run({})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{}, {"cursor": "c2"}, {"next": "c2"}]
    messages = [r.getMessage() for r in caplog.records]
    trying = "page 2 repeated page 1 with the cursor sent as 'cursor'; trying 'next'"
    assert f"Stream 'items': {trying}" in messages
    assert (
        'No paginator configured; {"type": "cursor", "cursor_path": "cursors.next", '
        '"cursor_param": "next"} moved past page 1. Set it explicitly.'
    ) in messages


def test_auto_cursor_that_never_moves_on_fails_with_what_was_tried() -> None:
    same = page({"data": rows(1, 2), "cursors": {"next": "c2"}})
    with requests_mock.Mocker() as m:
        serve(m, URL, *[same] * 13)
        records, line = run_to_failure({})
    assert ids(records) == [1, 2]
    assert m.call_count == 13  # page 1, then page 2 under 12 parameter names
    assert line.startswith(f"stream 'items': page 2 (GET {URL}?token=***): the guessed paginator ")
    assert "(the cursor was sent as 'cursor', 'next', 'after'," in line
    assert line.endswith(
        'configure the paginator, for example {"type": "cursor", "cursor_path": "cursors.next", '
        '"cursor_param": "<the API\'s parameter>"}; not a proven end'
    )


def test_auto_detection_is_per_run_not_shared_between_streams() -> None:
    """Each stream guesses from its own first response."""
    tap = make_tap([resource("a"), resource("b")])
    with requests_mock.Mocker() as m:
        serve(
            m,
            f"{BASE_URL}/a",
            page({"data": rows(1), "next": f"{BASE_URL}/a?p=2"}),
            page({"data": rows(2)}),
        )
        serve(m, f"{BASE_URL}/b", page({"data": rows(3), "next_cursor": None}))
        assert ids(records_of(tap, "a")) == [1, 2]
        assert ids(records_of(tap, "b")) == [3]
    assert sent_urls(m) == [f"{BASE_URL}/a", f"{BASE_URL}/a?p=2", f"{BASE_URL}/b"]
