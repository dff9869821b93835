"""paginators/page_number.py: pages from base_page, totals of pages or records, healing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests_mock
from helpers import (
    ids,
    page,
    run,
    run_to_failure,
    sent_json,
    sent_params,
    serve,
)
from paginator_helpers import SMOREST, URL, fake_page, rows, unproven, x_pagination

from tap_restgeneric.errors import ConfigErrors, StreamRequestError
from tap_restgeneric.paginators import PAGINATORS, Stop


def test_page_number_base_page_1_stops_at_default_total() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1, 2), "total": 3}),
            page({"data": rows(3, 4), "total": 3}),
            page({"data": rows(5), "total": 3}),
        )
        records = run({"paginator": {"type": "page_number", "base_page": 1}})
    assert ids(records) == [1, 2, 3, 4, 5]
    assert sent_params(m) == [{"page": "1"}, {"page": "2"}, {"page": "3"}]


def test_page_number_base_page_0_is_the_default() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1), "total": 2}), page({"data": rows(2), "total": 2}))
        records = run({"paginator": {"type": "page_number"}})
    assert ids(records) == [1, 2]
    assert sent_params(m) == [{"page": "0"}, {"page": "1"}]


def test_page_number_seed_start_from_page_and_limit_param() -> None:
    """Seed form: start_from_page 1, limit sent as per_page; a short page does not stop."""
    paginator = {
        "type": "page_number",
        "page_param": "page",
        "limit_param": "per_page",
        "limit": 2,
        "start_from_page": 1,
    }
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1, 2)}),
            page({"data": rows(3)}),  # short page: the server capped it, keep going
            page({"data": rows(4, 5)}),
            page({"data": []}),
        )
        records = run({"paginator": paginator, "data_selector": "data"})
    assert ids(records) == [1, 2, 3, 4, 5]
    assert sent_params(m) == [{"page": str(n), "per_page": "2"} for n in (1, 2, 3, 4)]


def test_page_number_limit_defaults_to_limit_param_named_limit() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1)}), page({"data": []}))
        run({"paginator": {"type": "page_number", "base_page": 1, "limit": 50}})
    assert sent_params(m) == [{"page": "1", "limit": "50"}, {"page": "2", "limit": "50"}]


def test_page_number_explicit_page_and_custom_param() -> None:
    paginator = {"type": "page_number", "base_page": 1, "page": 3, "page_param": "p"}
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(7), "total": 4}), page({"data": rows(8), "total": 4}))
        records = run({"paginator": paginator})
    assert ids(records) == [7, 8]
    assert sent_params(m) == [{"p": "3"}, {"p": "4"}]


def test_page_number_missing_default_total_is_not_an_error() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1, 2)}), page({"data": rows(3)}), page({"data": []}))
        records = run({"paginator": "page_number"})
    assert ids(records) == [1, 2, 3]
    assert m.call_count == 3


@pytest.mark.parametrize("total_path", ["meta.total_pages", "total"])
def test_page_number_explicit_total_path_missing_is_an_error(total_path: str) -> None:
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page({"data": rows(1, 2), "meta": {}}))
        run({"paginator": {"type": "page_number", "total_path": total_path}})
    assert str(raised.value) == (
        f"stream 'items': GET {URL}?page=0: total_path {total_path!r} was not found in the response"
    )


def test_page_number_total_path_nested_and_string_total() -> None:
    paginator = {"type": "page_number", "base_page": 1, "total_path": "meta.pages"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "meta": {"pages": "2"}}),
            page({"data": rows(2), "meta": {"pages": "2"}}),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2]
    assert m.call_count == 2


def test_page_number_total_not_a_number_is_an_error() -> None:
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError, match="expected a number"):
        serve(m, URL, page({"data": rows(1), "total": "many"}))
        run({"paginator": "page_number"})


def test_page_number_maximum_page_is_exclusive() -> None:
    paginator = {"type": "page_number", "base_page": 1, "maximum_page": 3, "total_path": None}
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1)}), page({"data": rows(2)}))
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2]
    assert sent_params(m) == [{"page": "1"}, {"page": "2"}]


@pytest.mark.parametrize("flag", [False, "false", "False", "no", "0"])
def test_page_number_has_more_false_stops(flag: Any) -> None:
    paginator = {"type": "page_number", "base_page": 1, "has_more_path": "meta.has_more"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "meta": {"has_more": True}}),
            page({"data": rows(2), "meta": {"has_more": flag}}),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2]
    assert m.call_count == 2


def test_page_number_has_more_true_continues_until_empty_page() -> None:
    paginator = {"type": "page_number", "base_page": 1, "has_more_path": "has_more"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "has_more": True}),
            page({"data": rows(2), "has_more": "true"}),
            page({"data": [], "has_more": True}),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2]
    # page 3 ends it; two full pages alike let up to 3 more be fetched ahead (max_concurrency 4)
    assert 3 <= m.call_count <= 3 + 3


def test_page_number_has_more_missing_is_an_error() -> None:
    paginator = {"type": "page_number", "has_more_path": "has_more"}
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page({"data": rows(1)}))
        run({"paginator": paginator})
    assert "has_more_path 'has_more' is None in the response; expected true or false" in str(
        raised.value
    )


def test_page_number_body_path_writes_into_post_json() -> None:
    endpoint = {
        "method": "POST",
        "json": {"filter": {"status": "open"}, "page": {"size": 2}},
        "paginator": {"type": "page_number", "base_page": 1, "page_body_path": "page.number"},
    }
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1)}), page({"data": []}), method="POST")
        run(endpoint)
    assert sent_params(m) == [{}, {}]
    assert sent_json(m) == [
        {"filter": {"status": "open"}, "page": {"size": 2, "number": 1}},
        {"filter": {"status": "open"}, "page": {"size": 2, "number": 2}},
    ]


def test_page_number_default_base_heals_an_api_that_counts_from_1(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """base_page left at dlt's 0 against an API serving page 0 as page 1: heal, say so once."""
    first = page({"data": rows(1, 2)})
    with requests_mock.Mocker() as m, caplog.at_level(logging.INFO):
        serve(m, URL, first, first, page({"data": rows(3)}), page({"data": []}))
        records = run({"paginator": {"type": "page_number"}})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{"page": "0"}, {"page": "1"}, {"page": "2"}, {"page": "3"}]
    assert [r.getMessage() for r in caplog.records if "counts pages" in r.message] == [
        "Stream 'items': pages 0 and 1 came back the same: the API counts pages from 1; "
        'continuing with page 2 (write "base_page": 1 in the paginator to say so)'
    ]


def test_page_number_default_base_asks_page_1_after_an_empty_page_0(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Litestar's ClassicPagination (pages from 1) serves page 0 empty, with total_pages 2:
    base_page left at dlt's 0 asks page 1, counts the total from 1, and says so once."""
    body: dict[str, Any] = {"items": [], "current_page": 0, "total_pages": 2}
    with requests_mock.Mocker() as m, caplog.at_level(logging.INFO):
        serve(
            m,
            URL,
            page(body),
            page({**body, "items": rows(1, 2), "current_page": 1}),
            page({**body, "items": rows(3), "current_page": 2}),
        )
        records = run({"paginator": {"type": "page_number", "total_path": "total_pages"}})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{"page": "0"}, {"page": "1"}, {"page": "2"}]
    assert [r.getMessage() for r in caplog.records if "counting pages from 1" in r.message] == [
        "page 0 came back empty while the response's total (2 pages, total_path 'total_pages') "
        "says there is more: asking for page 1, as an API counting pages from 1 serves page 0 "
        'empty (write "base_page": 1, or 0, in the paginator to say which)'
    ]


def test_page_number_default_base_asks_page_1_after_an_empty_page_0_without_total() -> None:
    """No total: page 0 empty is no proven end with base_page left at 0 (a hand-written
    ``items[(page - 1) * size:page * size]`` serves page 0 empty); page 1 has the records."""
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": []}), page({"data": rows(1, 2)}), page({"data": []}))
        records = run({"paginator": {"type": "page_number"}})
    assert ids(records) == [1, 2]
    assert sent_params(m) == [{"page": "0"}, {"page": "1"}, {"page": "2"}]


def test_page_number_pages_0_and_1_both_empty_is_an_empty_collection() -> None:
    """Page 0 empty, then page 1 the same empty page: a proven end, not a repeated page."""
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": []}), page({"data": []}))
        assert run({"paginator": {"type": "page_number"}}) == []
    assert sent_params(m) == [{"page": "0"}, {"page": "1"}]


@pytest.mark.parametrize(
    ("paginator", "body"),
    [
        ({"type": "page_number", "base_page": 0}, {"data": [], "total": 3}),  # the user's word
        ({"type": "page_number"}, {"data": [], "total": 0}),  # the total says there is nothing
        ({"type": "page_number", "base_page": 1}, {"data": []}),  # page 1 (the first) empty
    ],
)
def test_page_number_empty_page_0_ends_when_proven(paginator: Any, body: Any) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(body))
        assert run({"paginator": paginator}) == []
    assert m.call_count == 1


def test_page_number_healed_base_counts_the_total_from_1() -> None:
    """After the heal, a total of 2 pages means pages 1 and 2 (not 0 and 1)."""
    first = page({"data": rows(1, 2), "total": 2})
    with requests_mock.Mocker() as m:
        serve(m, URL, first, first, page({"data": rows(3), "total": 2}))
        records = run({"paginator": {"type": "page_number", "total_path": "total"}})
    assert ids(records) == [1, 2, 3]
    assert m.call_count == 3


def test_page_number_explicit_base_0_is_not_healed() -> None:
    """An explicit base_page 0 is the user's word: pages 0 and 1 alike is an error."""
    first = page({"data": rows(1, 2)})
    with requests_mock.Mocker() as m:
        serve(m, URL, first, first)
        records, line = run_to_failure({"paginator": {"type": "page_number", "base_page": 0}})
    assert ids(records) == [1, 2]
    assert line == unproven(2, f"{URL}?page=1", "the page is identical to page 1")


@pytest.mark.parametrize(
    "paginator",
    [
        {**SMOREST, "total_path": "total_pages"},
        {**SMOREST, "total_path": "total", "total_counts": "records"},
    ],
)
def test_page_number_total_in_a_json_header_ends_without_an_empty_page(
    paginator: dict[str, Any],
) -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(rows(1, 2), headers=x_pagination(5, 3, 1)),
            page(rows(3, 4), headers=x_pagination(5, 3, 2)),
            page(rows(5), headers=x_pagination(5, 3, 3)),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2, 3, 4, 5]
    assert sent_params(m) == [{"page": "1"}, {"page": "2"}, {"page": "3"}]


def test_page_number_records_total_with_pages_smaller_than_asked() -> None:
    """Django Ninja's count counts records; a server capping the page size loses nothing."""
    paginator = {
        "type": "page_number",
        "base_page": 1,
        "limit": 10,
        "limit_param": "page_size",
        "total_path": "count",
        "total_counts": "records",
    }
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"items": rows(1, 2), "count": 5}),
            page({"items": rows(3, 4), "count": 5}),
            page({"items": rows(5), "count": 5}),
        )
        records = run({"paginator": paginator, "data_selector": "items"})
    assert ids(records) == [1, 2, 3, 4, 5]
    assert [p["page"] for p in sent_params(m)] == ["1", "2", "3"]


def test_total_reasons_name_where_the_total_was_read() -> None:
    """explain() and the stop say which total, from where, and what it counts."""
    pages = PAGINATORS["page_number"]
    smorest = pages(
        pages.options_from({**SMOREST, "total_path": "total_pages"}, (), ConfigErrors())
    )
    ninja = pages(
        pages.options_from(
            {
                "type": "page_number",
                "base_page": 1,
                "total_path": "count",
                "total_counts": "records",
            },
            (),
            ConfigErrors(),
        )
    )
    first = fake_page(rows(1, 2), x_pagination(3, 2, 1))
    assert smorest.explain(smorest.advance(first, 1)) == (
        "page=2: the next page number (the response's total: "
        "2 pages, total_path 'total_pages' in total_header 'X-Pagination')"
    )
    assert smorest.advance(fake_page(rows(3), x_pagination(3, 2, 2)), 2) == Stop(
        "the response's total (2 pages, total_path 'total_pages' in total_header "
        "'X-Pagination') was reached"
    )
    assert ninja.explain(ninja.advance(fake_page({"items": rows(1, 2), "count": 3}), 1)) == (
        "page=2: the next page number (the response's total: "
        "3 records, total_path 'count'; 2 received)"
    )
    assert ninja.advance(fake_page({"items": rows(3), "count": 3}, records=rows(3)), 2) == Stop(
        "the response's total (3 records, total_path 'count'; 3 received) was reached"
    )
