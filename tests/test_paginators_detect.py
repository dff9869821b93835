"""paginators/detect.py: what auto reads in a first response: the style, and more data."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests_mock
from helpers import (
    ids,
    page,
    run,
    run_to_failure,
    sent_params,
    sent_urls,
    serve,
)
from paginator_helpers import URL, guesses, rows, unproven, x_pagination


@pytest.mark.parametrize("paginator", [None, "auto", {"type": "auto"}])
def test_auto_detects_header_link(paginator: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    endpoint = {} if paginator is None else {"paginator": paginator}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(rows(1), headers={"Link": f'<{URL}?page=2>; rel="next"'}),
            page(rows(2), headers={"Link": f'<{URL}?page=3>; rel="next"'}),
            page(rows(3)),
        )
        records = run(endpoint)
    assert ids(records) == [1, 2, 3]
    assert sent_urls(m) == [URL, f"{URL}?page=2", f"{URL}?page=3"]
    assert guesses(caplog) == [
        'No paginator configured; guessed {"type": "header_link"} from the first response. '
        "Set it explicitly to silence this guess."
    ]


def test_auto_detects_json_link_next_url(caplog: pytest.LogCaptureFixture) -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"results": rows(1), "next": f"{URL}?page=2"}),
            page({"results": rows(2), "next": "/items?page=3"}),
            page({"results": [], "next": None}),
        )
        records = run({})
    assert ids(records) == [1, 2]
    assert sent_urls(m) == [URL, f"{URL}?page=2", f"{URL}?page=3"]
    assert '{"type": "json_link", "next_url_path": "next"}' in guesses(caplog)[0]


@pytest.mark.parametrize(
    ("key", "href"),
    [
        pytest.param("items", f"{URL}?page=2", id="absolute href"),
        # Eve's HATEOAS links are relative (``items?page=2``): an href is a link, not a cursor.
        pytest.param("_items", "items?page=2", id="relative href"),
    ],
)
def test_auto_detects_a_nested_next_href_as_a_link(
    key: str, href: str, caplog: pytest.LogCaptureFixture
) -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({key: rows(1), "_links": {"next": {"href": href}}}),
            page({key: rows(2), "_links": {}}),
        )
        records = run({})
    assert ids(records) == [1, 2]
    assert sent_urls(m) == [URL, f"{URL}?page=2"]
    assert '"next_url_path": "_links.next.href"' in guesses(caplog)[0]


def test_auto_detects_total_pages_as_page_number(caplog: pytest.LogCaptureFixture) -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "meta": {"totalPages": 3}}),
            page({"data": rows(2), "meta": {"totalPages": 3}}),
            page({"data": rows(3), "meta": {"totalPages": 3}}),
        )
        records = run({})
    assert ids(records) == [1, 2, 3]
    # dlt's guess: base_page 0; the first request carries no page parameter
    assert sent_params(m) == [{}, {"page": "1"}, {"page": "2"}]
    assert '"type": "page_number", "total_path": "meta.totalPages"' in guesses(caplog)[0]


def test_auto_detects_page_count_given_as_a_string() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m, URL, page({"items": rows(1), "pages": "2"}), page({"items": rows(2), "pages": "2"})
        )
        assert ids(run({})) == [1, 2]
    assert sent_params(m) == [{}, {"page": "1"}]


def test_auto_detects_next_cursor_value(caplog: pytest.LogCaptureFixture) -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next_cursor": "abc"}),
            page({"data": rows(2), "next_cursor": "def"}),
            page({"data": rows(3), "next_cursor": None}),
        )
        records = run({})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{}, {"cursor": "abc"}, {"cursor": "def"}]
    assert '"type": "cursor", "cursor_path": "next_cursor"' in guesses(caplog)[0]


@pytest.mark.parametrize(
    "body",
    [
        rows(1, 2),
        {"data": rows(1, 2), "next": None},
        {"data": rows(1, 2), "total": 2},
        {"pages": rows(1, 2)},  # records named "pages" are not a page count
        {"data": rows(1, 2), "meta": {"pages": {"self": "/items"}}},
    ],
)
def test_auto_falls_back_to_single_page(body: Any, caplog: pytest.LogCaptureFixture) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(body, headers={"Link": f'<{URL}?page=1>; rel="prev"'}))
        records = run({})
    assert ids(records) == [1, 2]
    assert m.call_count == 1
    assert '{"type": "single_page"}' in guesses(caplog)[0]


def test_auto_detects_a_cursor_key_as_a_cursor(caplog: pytest.LogCaptureFixture) -> None:
    """Litestar's CursorPagination: ``{items, results_per_page, cursor}``, null at the end."""
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"items": rows(1, 2), "results_per_page": 2, "cursor": 2}),
            page({"items": rows(3), "results_per_page": 2, "cursor": 3}),
            page({"items": [], "results_per_page": 2, "cursor": None}),
        )
        records = run({})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{}, {"cursor": "2"}, {"cursor": "3"}]
    assert (
        '{"type": "cursor", "cursor_path": "cursor", "cursor_param": "cursor"}'
        in (guesses(caplog)[0])
    )


@pytest.mark.parametrize(
    ("body", "where"),
    [
        # Litestar's OffsetPagination and Feathers' paginated find
        ({"items": rows(1, 2), "limit": 2, "offset": 0, "total": 5}, "total: 5"),
        ({"total": 5, "limit": 2, "skip": 0, "data": rows(1, 2)}, "total: 5"),
        ({"data": rows(1, 2), "meta": {"totalCount": "5"}}, "meta.totalCount: 5"),
        ({"results": rows(1, 2), "count": 3}, "count: 3"),
        ({"data": rows(1, 2), "count": 2, "meta": {"total_count": 4}}, "meta.total_count: 4"),
    ],
)
def test_auto_single_page_guess_with_a_larger_total_is_an_unproven_end(
    body: Any, where: str
) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(body))
        records, line = run_to_failure({})
    assert ids(records) == [1, 2]
    assert m.call_count == 1
    reason = (
        f"the guessed single_page ends here, but the response's total ({where}) is more than "
        'its 2 records; configure the paginator, for example {"type": "offset", "limit": 2, '
        '"offset_param": "<the API\'s parameter>", "limit_param": "<the API\'s parameter>"}, '
        'or "single_page" if the API serves only this page'
    )
    assert line == unproven(1, URL, reason)


def test_auto_single_page_guess_of_a_truncated_result_is_an_unproven_end() -> None:
    """Datasette's SQL results stop at max_returned_rows with ``"truncated": true``."""
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"ok": True, "rows": rows(1, 2), "truncated": True}))
        records, line = run_to_failure({})
    assert ids(records) == [1, 2]
    assert m.call_count == 1
    assert "but the response says it was truncated ('truncated': true after 2 records)" in line


@pytest.mark.parametrize(
    "body",
    [
        {"data": rows(1, 2), "count": 2},
        {"data": rows(1, 2), "cursor": None},
        {"data": rows(1, 2), "cursor": "c1", "next_cursor": None},  # this page's cursor
        {"id": 1, "count": 7},  # a single object's own count is not a total
        {"user": {"id": 1, "stats": {"total": 9}}},
        {"data": rows(1, 2), "truncated": False},
        {"id": 1, "text": "a tweet", "truncated": True},  # the record's own field
    ],
)
def test_auto_single_page_guess_without_more_is_a_proven_end(body: Any) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(body))
        assert len(run({})) == (2 if "data" in body else 1)
    assert m.call_count == 1


def test_auto_detects_a_page_count_in_a_json_header(caplog: pytest.LogCaptureFixture) -> None:
    """Flask-Smorest: a bare list, its page count and first page in the X-Pagination header."""
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(rows(1, 2), headers=x_pagination(5, 3, 1)),
            page(rows(3, 4), headers=x_pagination(5, 3, 2)),
            page(rows(5), headers=x_pagination(5, 3, 3)),
        )
        records = run({})
    assert ids(records) == [1, 2, 3, 4, 5]
    assert sent_params(m) == [{}, {"page": "2"}, {"page": "3"}]
    guess = (
        '{"type": "page_number", "total_header": "X-Pagination", "total_path": "total_pages", '
        '"base_page": 1}'
    )
    assert guess in guesses(caplog)[0]


def test_auto_detects_a_page_count_header(caplog: pytest.LogCaptureFixture) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(rows(1, 2), headers={"X-WP-TotalPages": "1"}))
        assert ids(run({})) == [1, 2]
    assert '{"type": "page_number", "total_header": "X-WP-TotalPages"}' in guesses(caplog)[0]


@pytest.mark.parametrize(
    ("headers", "where"),
    [
        ({"X-Total-Count": "5"}, "header X-Total-Count: 5"),
        ({"X-WP-Total": "3"}, "header X-WP-Total: 3"),
        ({"X-Pagination": json.dumps({"total": 5, "page": 1})}, "header X-Pagination total: 5"),
    ],
)
def test_auto_single_page_guess_with_a_larger_total_in_a_header_is_an_unproven_end(
    headers: dict[str, str], where: str
) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(rows(1, 2), headers=headers))
        records, line = run_to_failure({})
    assert ids(records) == [1, 2]
    assert m.call_count == 1
    assert f"but the response's total ({where}) is more than its 2 records" in line


@pytest.mark.parametrize(
    "headers",
    [{"X-Total-Count": "2"}, {"X-Request-Count": "9"}, {"X-Meta": '{"total": 2}'}, {"X-Odd": "{"}],
)
def test_auto_single_page_guess_without_more_in_headers_is_a_proven_end(
    headers: dict[str, str],
) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(rows(1, 2), headers=headers))
        assert ids(run({})) == [1, 2]
    assert m.call_count == 1
