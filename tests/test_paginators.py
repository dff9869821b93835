"""Every paginator end to end: the exact requests sent, the records read, where paging stops."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests
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
    sent_json,
    sent_params,
    sent_urls,
    serve,
)
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.errors import ConfigErrors, StreamRequestError
from tap_restgeneric.paginators import PAGINATORS, Page, Stop

URL = f"{BASE_URL}/items"


def rows(*numbers: int) -> list[dict[str, int]]:
    """Records ``{"id": n}``."""
    return [{"id": n} for n in numbers]


def unproven(page_number: int, url: str, reason: str) -> str:
    """The error line of a stream that stopped where it cannot prove the data ended."""
    return f"stream 'items': page {page_number} (GET {url}): {reason}; not a proven end"


# --------------------------------------------------------------------------------------------
# single_page


def test_single_page_ignores_next_url_cursor_and_link_header() -> None:
    body = {"data": rows(1, 2), "next": f"{URL}?page=2", "cursors": {"next": "c2"}, "total": 9}
    with requests_mock.Mocker() as m:
        serve(m, URL, page(body, headers={"Link": f'<{URL}?page=2>; rel="next"'}))
        records = run({"paginator": "single_page", "data_selector": "data"})
    assert ids(records) == [1, 2]
    assert sent_urls(m) == [URL]


def test_single_page_with_empty_list_yields_nothing() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page([]))
        assert run({"paginator": {"type": "single_page"}}) == []
    assert m.call_count == 1


# --------------------------------------------------------------------------------------------
# page_number


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


def test_default_total_is_required_when_it_is_the_only_way_to_stop() -> None:
    """stop_after_empty_page false and nothing else: a missing total must not loop forever."""
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page({"data": rows(1, 2)}))
        run({"paginator": {"type": "page_number", "stop_after_empty_page": False}})
    assert str(raised.value) == (
        f"stream 'items': GET {URL}?page=0: total_path 'total' was not found in the response"
    )


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


def test_page_number_empty_first_page() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": [], "total": 0}))
        assert run({"paginator": "page_number"}) == []
    assert m.call_count == 1


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


def test_page_number_that_can_never_end_is_a_config_error() -> None:
    paginator = {"type": "page_number", "total_path": None, "stop_after_empty_page": False}
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", paginator=paginator))
    assert any("pagination could never end" in line for line in raised.value.errors)


def test_page_number_identical_page_repeated_is_an_unproven_end() -> None:
    """A server that ignores the page parameter returns page one forever."""
    same = page({"data": rows(1, 2)})
    with requests_mock.Mocker() as m:
        serve(m, URL, same, same)
        records, line = run_to_failure({"paginator": {"type": "page_number", "base_page": 1}})
    assert ids(records) == [1, 2]
    assert m.call_count == 2
    assert line == unproven(2, f"{URL}?page=2", "the page is identical to page 1")


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


# --------------------------------------------------------------------------------------------
# a total in a response header (total_header) and a total counting records (total_counts)

SMOREST = {"type": "page_number", "base_page": 1, "total_header": "X-Pagination"}


def x_pagination(total: int, pages: int, number: int) -> dict[str, str]:
    """Flask-Smorest's pagination header for page ``number``."""
    meta = {"total": total, "total_pages": pages, "first_page": 1, "last_page": pages}
    return {"X-Pagination": json.dumps({**meta, "page": number})}


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


def test_offset_total_in_a_plain_header() -> None:
    paginator = {"type": "offset", "limit": 2, "total_header": "X-Total-Count"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(rows(1, 2), headers={"X-Total-Count": "3"}),
            page(rows(3), headers={"x-total-count": "3"}),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2, 3]
    assert m.call_count == 2


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


@pytest.mark.parametrize(
    ("paginator", "headers", "reason"),
    [
        (
            {"type": "offset", "limit": 2, "total_header": "X-Total-Count"},
            {},
            "total_header 'X-Total-Count' was not found in the response",
        ),
        (
            {"type": "offset", "limit": 2, "total_header": "X-Total-Count"},
            {"X-Total-Count": "lots"},
            "total_header 'X-Total-Count' is 'lots' in the response; expected a number",
        ),
        (
            SMOREST,
            x_pagination(5, 3, 1),
            'total_header \'X-Pagination\' is \'{"total": 5, "total_pages": 3, "first_page": 1, '
            '"last_page": 3, "page": 1}\' in the response; expected a number (the header holds '
            "JSON: total_path names the key to read in it)",
        ),
        (
            {**SMOREST, "total_path": "total_pages"},
            {"X-Pagination": "pages=3"},
            "total_header 'X-Pagination' is not JSON: 'pages=3'",
        ),
        (
            {**SMOREST, "total_path": "meta.pages"},
            x_pagination(5, 3, 1),
            "total_path 'meta.pages' in total_header 'X-Pagination' was not found in the response",
        ),
    ],
)
def test_total_header_missing_or_unreadable_is_an_error(
    paginator: dict[str, Any], headers: dict[str, str], reason: str
) -> None:
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page(rows(1, 2), headers=headers))
        run({"paginator": paginator})
    first = "offset=0&limit=2" if paginator["type"] == "offset" else "page=1"
    assert str(raised.value) == f"stream 'items': GET {URL}?{first}: {reason}"


@pytest.mark.parametrize(
    ("paginator", "message"),
    [
        ({**SMOREST, "total_header": "X Pagination"}, "'X Pagination' is not a header name"),
        ({**SMOREST, "total_header": ""}, "total_header"),
        ({"type": "page_number", "total_counts": "rows"}, "'rows'"),
        ({"type": "offset", "limit": 2, "total_counts": "records"}, "total_counts"),
        (
            {"type": "page_number", "total_path": None, "total_counts": "records"},
            "total_counts 'records' has no total to count",
        ),
    ],
)
def test_total_header_and_total_counts_are_checked_at_start(
    paginator: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", paginator=paginator))
    assert any(message in line for line in raised.value.errors), raised.value.errors


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


def fake_page(
    body: Any, headers: dict[str, str] | None = None, records: list[dict[str, Any]] | None = None
) -> Page:
    """A fetched page as the paginator sees it."""
    response = requests.Response()
    response.headers.update(headers or {})
    request = HTTPRequest(url=URL, method="GET", params={}, headers={}, data=None)
    found = body if isinstance(body, list) else body.get("items", [])
    return Page(request, response, body, found if records is None else records, 1)


# --------------------------------------------------------------------------------------------
# offset


@pytest.mark.parametrize(
    "paginator", ["offset", {"type": "offset"}, {"type": "offset", "offset": 5}]
)
def test_offset_requires_limit(paginator: Any) -> None:
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", paginator=paginator))
    [line] = raised.value.errors
    assert "'limit'" in line
    assert line.endswith(" at config['resources'][0]['endpoint']['paginator']")


def test_offset_stops_at_total() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1, 2), "total": 5}),
            page({"data": rows(3, 4), "total": 5}),
            page({"data": rows(5), "total": 5}),
        )
        records = run({"paginator": {"type": "offset", "limit": 2}})
    assert ids(records) == [1, 2, 3, 4, 5]
    assert sent_params(m) == [
        {"offset": "0", "limit": "2"},
        {"offset": "2", "limit": "2"},
        {"offset": "4", "limit": "2"},
    ]


def test_offset_server_capping_page_size_loses_nothing() -> None:
    """limit=10 asked, the server caps at 4: the next offset is offset + records received."""
    catalog = rows(*range(10))

    def capped(request: Any, context: Any) -> dict[str, Any]:
        offset = int(request.qs["offset"][0])
        return {"data": catalog[offset : offset + 4], "total": len(catalog)}

    with requests_mock.Mocker() as m:
        m.get(URL, json=capped)
        records = run({"paginator": {"type": "offset", "limit": 10}})
    assert ids(records) == list(range(10))
    assert [p["offset"] for p in sent_params(m)] == ["0", "4", "8"]


def test_offset_without_total_stops_on_empty_page_and_short_page_continues() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1, 2)}), page({"data": rows(3)}), page({"data": []}))
        records = run({"paginator": {"type": "offset", "limit": 2}})
    assert ids(records) == [1, 2, 3]
    assert [p["offset"] for p in sent_params(m)] == ["0", "2", "3"]


def test_offset_custom_params_and_start_offset() -> None:
    paginator = {
        "type": "offset",
        "limit": 3,
        "offset": 10,
        "offset_param": "skip",
        "limit_param": "take",
        "total_path": None,
    }
    with requests_mock.Mocker() as m:
        serve(m, URL, page(rows(1, 2, 3)), page([]))
        records = run({"paginator": paginator, "params": {"sort": "id"}})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [
        {"sort": "id", "skip": "10", "take": "3"},
        {"sort": "id", "skip": "13", "take": "3"},
    ]


def test_offset_maximum_offset_is_exclusive() -> None:
    paginator = {"type": "offset", "limit": 10, "maximum_offset": 15, "total_path": None}
    with requests_mock.Mocker() as m:
        serve(m, URL, page(rows(*range(10))), page(rows(*range(10, 20))))
        records = run({"paginator": paginator})
    assert len(records) == 20
    assert [p["offset"] for p in sent_params(m)] == ["0", "10"]


def test_offset_has_more_false_stops() -> None:
    paginator = {"type": "offset", "limit": 1, "has_more_path": "more"}
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1), "more": True}), page({"data": rows(2), "more": False}))
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2]
    assert m.call_count == 2


def test_offset_total_reached_exactly_sends_no_extra_request() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1, 2), "total": 2}))
        records = run({"paginator": {"type": "offset", "limit": 2}})
    assert ids(records) == [1, 2]
    assert m.call_count == 1


def test_offset_body_paths_write_nested_keys_keeping_the_body() -> None:
    endpoint = {
        "method": "POST",
        "json": {"query": {"status": "open"}, "page": {"sort": "id"}},
        "paginator": {
            "type": "offset",
            "limit": 2,
            "offset_body_path": "page.offset",
            "limit_body_path": "page.limit",
        },
    }
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1, 2), "total": 3}),
            page({"data": rows(3), "total": 3}),
            method="POST",
        )
        records = run(endpoint)
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{}, {}]
    assert sent_json(m) == [
        {"query": {"status": "open"}, "page": {"sort": "id", "offset": 0, "limit": 2}},
        {"query": {"status": "open"}, "page": {"sort": "id", "offset": 2, "limit": 2}},
    ]


def test_offset_body_path_creates_a_body_when_there_is_none() -> None:
    endpoint = {
        "method": "POST",
        "paginator": {"type": "offset", "limit": 5, "offset_body_path": "paging.from"},
    }
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1), "total": 1}), method="POST")
        run(endpoint)
    assert sent_json(m) == [{"paging": {"from": 0}}]
    assert sent_params(m) == [{"limit": "5"}]


def test_offset_identical_page_repeated_is_an_unproven_end() -> None:
    same = page({"data": rows(1, 2)})
    with requests_mock.Mocker() as m:
        serve(m, URL, same, same)
        records, line = run_to_failure({"paginator": {"type": "offset", "limit": 2}})
    assert ids(records) == [1, 2]
    assert line == unproven(2, f"{URL}?offset=2&limit=2", "the page is identical to page 1")


# --------------------------------------------------------------------------------------------
# cursor


def test_cursor_defaults_path_cursors_next_and_param_cursor() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "cursors": {"next": "c2"}}),
            page({"data": rows(2), "cursors": {"next": "c3"}}),
            page({"data": rows(3), "cursors": {"next": None}}),
        )
        records = run({"paginator": "cursor"})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{}, {"cursor": "c2"}, {"cursor": "c3"}]


@pytest.mark.parametrize("last", [{"next": ""}, {"next": None}, {}, {"next": 0}, {"next": False}])
def test_cursor_empty_null_or_missing_cursor_stops(last: dict[str, Any]) -> None:
    paginator = {"type": "cursor", "cursor_path": "paging.next", "cursor_param": "after"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "paging": {"next": "a"}}),
            page({"data": rows(2), **last}),
        )
        records = run({"paginator": paginator, "data_selector": "data"})
    assert ids(records) == [1, 2]
    assert sent_params(m) == [{}, {"after": "a"}]


def test_cursor_limit_is_sent_as_limit_on_every_request() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "meta": {"next_cursor": "x"}}),
            page({"data": rows(2), "meta": {"next_cursor": None}}),
        )
        run({"paginator": {"type": "cursor", "limit": 50, "cursor_path": "meta.next_cursor"}})
    assert sent_params(m) == [{"limit": "50"}, {"limit": "50", "cursor": "x"}]


def test_cursor_custom_limit_param() -> None:
    paginator = {"type": "cursor", "limit": 10, "limit_param": "page_size", "cursor_path": "next"}
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": rows(1), "next": None}))
        run({"paginator": paginator})
    assert sent_params(m) == [{"page_size": "10"}]


def test_cursor_seed_stop_condition_has_next_false() -> None:
    """Seed 001: cursor_param next, limit 50, stop_condition on hasNext."""
    paginator = {
        "type": "cursor",
        "limit": 50,
        "cursor_param": "next",
        "stop_condition": "{{ response.get('hasNext', {}) == False }}",
    }
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "hasNext": True, "cursors": {"next": "n2"}}),
            page({"data": rows(2), "cursors": {"next": "n3"}}),  # no hasNext: cursor rule decides
            page({"data": rows(3), "hasNext": False, "cursors": {"next": "n4"}}),
        )
        records = run({"paginator": paginator, "data_selector": "data"})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [
        {"limit": "50"},
        {"limit": "50", "next": "n2"},
        {"limit": "50", "next": "n3"},
    ]


def test_stop_condition_sees_records_headers_and_page_number() -> None:
    condition = "{{ len(records) < 2 or headers.get('X-Last') == 'yes' or page >= 3 }}"
    paginator = {"type": "page_number", "base_page": 1, "stop_condition": condition}
    with requests_mock.Mocker() as m:
        serve(m, URL, page(rows(1, 2)), page(rows(3, 4), headers={"X-Last": "yes"}))
        assert ids(run({"paginator": paginator})) == [1, 2, 3, 4]
    assert m.call_count == 2


@pytest.mark.parametrize(
    ("condition", "detail"),
    [
        ("{{ response['hasNext'] == False }}", "KeyError('hasNext')"),
        ("{{ 1 / len(records) }}", "ZeroDivisionError('division by zero')"),
    ],
)
def test_stop_condition_failing_on_a_response_is_a_clear_error(condition: str, detail: str) -> None:
    paginator = {"type": "cursor", "cursor_path": "next", "stop_condition": condition}
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page({"data": [], "next": "b"}))
        run({"paginator": paginator})
    assert str(raised.value) == (
        f"stream 'items': GET {URL}: stop_condition {condition!r} failed: {detail}"
    )


def test_stop_condition_that_does_not_parse_is_a_config_error() -> None:
    paginator = {"type": "cursor", "stop_condition": "{{ response.get('hasNext' == }}"}
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", paginator=paginator))
    assert any(
        line.endswith("at config['resources'][0]['endpoint']['paginator']['stop_condition']")
        and "template does not parse" in line
        for line in raised.value.errors
    )


@pytest.mark.parametrize(
    "condition", ["{{ __import__('os') }}", "{{ response.__class__ }}", "{{ open('x') }}"]
)
def test_stop_condition_sandbox_rejects_python_internals(condition: str) -> None:
    with pytest.raises(ConfigValidationError):
        make_tap(resource("items", paginator={"type": "cursor", "stop_condition": condition}))


def test_cursor_body_path_for_post_pagination() -> None:
    endpoint = {
        "method": "POST",
        "json": {"filter": {"team": "a"}, "page": {"size": 1}},
        "paginator": {"type": "cursor", "cursor_path": "next", "cursor_body_path": "page.after"},
    }
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next": "k2"}),
            page({"data": rows(2), "next": None}),
            method="POST",
        )
        records = run(endpoint)
    assert ids(records) == [1, 2]
    assert sent_params(m) == [{}, {}]
    assert sent_json(m) == [
        {"filter": {"team": "a"}, "page": {"size": 1}},
        {"filter": {"team": "a"}, "page": {"size": 1, "after": "k2"}},
    ]


def test_cursor_param_and_body_path_together_is_a_config_error() -> None:
    paginator = {"type": "cursor", "cursor_param": "c", "cursor_body_path": "c"}
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", paginator=paginator))
    assert any(
        "'cursor_param' and 'cursor_body_path' are both set" in e for e in raised.value.errors
    )


def test_cursor_has_more_false_stops_even_with_a_cursor() -> None:
    paginator = {"type": "cursor", "cursor_path": "next", "has_more_path": "has_more"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next": "b", "has_more": True}),
            page({"data": rows(2), "next": "c", "has_more": False}),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2]
    assert m.call_count == 2


def test_cursor_empty_page_with_cursor_continues_by_default() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": [], "next": "b"}),
            page({"data": rows(1), "next": None}),
        )
        records = run({"paginator": {"type": "cursor", "cursor_path": "next"}})
    assert ids(records) == [1]
    assert m.call_count == 2


def test_cursor_stop_after_empty_page() -> None:
    paginator = {"type": "cursor", "cursor_path": "next", "stop_after_empty_page": True}
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": [], "next": "b"}))
        assert run({"paginator": paginator}) == []
    assert m.call_count == 1


def test_cursor_repeated_token_is_an_unproven_end() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next": "c2"}),
            page({"data": rows(2), "next": "c3"}),
            page({"data": rows(3), "next": "c2"}),  # back to a cursor already requested
        )
        records, line = run_to_failure({"paginator": {"type": "cursor", "cursor_path": "next"}})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{}, {"cursor": "c2"}, {"cursor": "c3"}]
    reason = f"its next request ({URL}?cursor=c2) repeats page 2's"
    assert line == unproven(3, f"{URL}?cursor=c3", reason)


def test_cursor_identical_page_repeated_is_an_unproven_end() -> None:
    """The server ignores the cursor and keeps returning page one with the same cursor."""
    same = page({"data": rows(1, 2), "next": "c2"})
    with requests_mock.Mocker() as m:
        serve(m, URL, same, same)
        records, line = run_to_failure({"paginator": {"type": "cursor", "cursor_path": "next"}})
    assert ids(records) == [1, 2]
    assert m.call_count == 2
    assert line == unproven(2, f"{URL}?cursor=c2", "the page is identical to page 1")


# --------------------------------------------------------------------------------------------
# header_cursor


def test_header_cursor_defaults() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(rows(1), headers={"next": "t2"}),
            page(rows(2), headers={"next": "t3"}),
            page(rows(3)),
        )
        records = run({"paginator": "header_cursor"})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{}, {"cursor": "t2"}, {"cursor": "t3"}]


def test_header_cursor_custom_key_is_case_insensitive() -> None:
    paginator = {"type": "header_cursor", "cursor_key": "x-next-cursor", "cursor_param": "after"}
    with requests_mock.Mocker() as m:
        serve(m, URL, page(rows(1), headers={"X-Next-Cursor": "q"}), page([]))
        records = run({"paginator": paginator})
    assert ids(records) == [1]
    assert sent_params(m) == [{}, {"after": "q"}]


def test_header_cursor_empty_first_page_without_header() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page([]))
        assert run({"paginator": "header_cursor"}) == []
    assert m.call_count == 1


def test_header_cursor_repeated_token_is_an_unproven_end() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(rows(1), headers={"next": "t2"}),
            page(rows(2), headers={"next": "t2"}),
        )
        records, line = run_to_failure({"paginator": "header_cursor"})
    assert ids(records) == [1, 2]
    assert m.call_count == 2
    reason = f"its next request ({URL}?cursor=t2) repeats page 2's"
    assert line == unproven(2, f"{URL}?cursor=t2", reason)


# --------------------------------------------------------------------------------------------
# json_link


def test_json_link_default_next() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next": f"{URL}?page=2"}),
            page({"data": rows(2), "next": f"{URL}?page=3"}),
            page({"data": rows(3), "next": None}),
        )
        records = run({"paginator": "json_link"})
    assert ids(records) == [1, 2, 3]
    assert sent_urls(m) == [URL, f"{URL}?page=2", f"{URL}?page=3"]


def test_json_link_nested_path() -> None:
    paginator = {"type": "json_link", "next_url_path": "paging.links.next"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "paging": {"links": {"next": f"{URL}?after=1"}}}),
            page({"data": rows(2), "paging": {"links": {}}}),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2]
    assert sent_urls(m) == [URL, f"{URL}?after=1"]


def test_json_link_odata_bracket_path() -> None:
    paginator = {"type": "json_link", "next_url_path": "['@odata.nextLink']"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"value": rows(1), "@odata.nextLink": f"{URL}?$skiptoken=abc"}),
            page({"value": rows(2)}),
        )
        records = run({"paginator": paginator, "data_selector": "value"})
    assert ids(records) == [1, 2]
    assert sent_params(m) == [{}, {"$skiptoken": "abc"}]


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("/items?page=2", f"{URL}?page=2"),
        ("?page=2", f"{URL}?page=2"),
        ("items/more?page=2", f"{BASE_URL}/v1/items/more?page=2"),
    ],
)
def test_json_link_relative_link_is_resolved(link: str, expected: str) -> None:
    first = f"{BASE_URL}/v1/items" if link.startswith("items") else URL
    with requests_mock.Mocker() as m:
        if expected.startswith(first + "?"):
            serve(m, first, page({"data": rows(1), "next": link}), page({"data": rows(2)}))
        else:
            serve(m, first, page({"data": rows(1), "next": link}))
            serve(m, expected.split("?", maxsplit=1)[0], page({"data": rows(2)}))
        records = run({"paginator": "json_link", "path": first.removeprefix(BASE_URL + "/")})
    assert ids(records) == [1, 2]
    assert sent_urls(m) == [first, expected]


@pytest.mark.parametrize(
    ("relative_to", "second"),
    [
        ("base_url", "categories/tools/items?page=2"),  # under the API root, as Eve means it
        ("url", "categories/tools/categories/tools/items?page=2"),  # RFC 3986, the default
    ],
)
def test_json_link_relative_to(relative_to: str, second: str) -> None:
    """Eve's hrefs are relative to the API root: ``categories/tools/items?page=2``."""
    root = f"{BASE_URL}/api/v1"
    first = f"{root}/categories/tools/items"
    paginator = {"type": "json_link", "next_url_path": "_links.next.href"}
    if relative_to != "url":
        paginator["relative_to"] = relative_to
    link = {"_links": {"next": {"href": "categories/tools/items?page=2"}}}
    with requests_mock.Mocker() as m:
        if second.startswith("categories/tools/items?"):  # one URL: both pages in turn
            serve(m, first, page({"_items": rows(1), **link}), page({"_items": rows(2)}))
        else:
            serve(m, first, page({"_items": rows(1), **link}))
            serve(m, f"{root}/{second}".split("?", maxsplit=1)[0], page({"_items": rows(2)}))
        records = run(
            {"path": "categories/tools/items", "data_selector": "_items"},
            {"base_url": root, "paginator": paginator},
        )
    assert ids(records) == [1, 2]
    assert sent_urls(m) == [first, f"{root}/{second}"]


def test_json_link_relative_to_is_checked() -> None:
    paginator = {"type": "json_link", "relative_to": "root"}
    with pytest.raises(ConfigValidationError) as info:
        make_tap(resource("items", paginator=paginator))
    assert "relative_to" in str(info.value.errors)


def test_json_link_original_query_params_are_not_duplicated() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next": f"{URL}?per_page=2&status=open&page=2"}),
            page({"data": rows(2)}),
        )
        run({"paginator": "json_link", "params": {"per_page": 2, "status": "open"}})
    assert sent_params(m) == [
        {"per_page": "2", "status": "open"},
        {"per_page": "2", "status": "open", "page": "2"},
    ]


def test_json_link_repeated_link_is_an_unproven_end() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next": f"{URL}?page=2"}),
            page({"data": rows(2), "next": f"{URL}?page=2"}),
        )
        records, line = run_to_failure({"paginator": "json_link"})
    assert ids(records) == [1, 2]
    assert m.call_count == 2
    reason = f"its next request ({URL}?page=2) repeats page 2's"
    assert line == unproven(2, f"{URL}?page=2", reason)


def test_json_link_back_to_the_first_page_does_not_duplicate() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next": f"{URL}?page=2"}),
            page({"data": rows(2), "next": URL}),
            page({"data": rows(1), "next": f"{URL}?page=2"}),
        )
        records, line = run_to_failure({"paginator": "json_link"})
    assert ids(records) == [1, 2]
    assert line == unproven(2, f"{URL}?page=2", f"its next request ({URL}) repeats page 1's")


def test_json_link_empty_first_page() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"data": [], "next": None}))
        assert run({"paginator": "json_link"}) == []
    assert m.call_count == 1


# --------------------------------------------------------------------------------------------
# header_link


def test_header_link_follows_rel_next() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(
                rows(1), headers={"Link": f'<{URL}?page=2>; rel="next", <{URL}?page=9>; rel="last"'}
            ),
            page(
                rows(2), headers={"Link": f'<{URL}?page=1>; rel="prev", <{URL}?page=3>; rel="next"'}
            ),
            page(rows(3), headers={"Link": f'<{URL}?page=2>; rel="prev"'}),
        )
        records = run({"paginator": "header_link", "params": {"per_page": 1}})
    assert ids(records) == [1, 2, 3]
    assert sent_urls(m) == [f"{URL}?per_page=1", f"{URL}?page=2", f"{URL}?page=3"]


def test_header_link_relative_url_is_resolved() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(rows(1), headers={"Link": '</items?page=2>; rel="next"'}), page(rows(2)))
        records = run({"paginator": "header_link"})
    assert ids(records) == [1, 2]
    assert sent_urls(m) == [URL, f"{URL}?page=2"]


def test_header_link_custom_rel() -> None:
    paginator = {"type": "header_link", "links_next_key": "forward"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(rows(1), headers={"Link": f'<{URL}?p=2>; rel="forward"'}),
            page(rows(2), headers={"Link": f'<{URL}?p=3>; rel="next"'}),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2]
    assert m.call_count == 2


def test_header_link_empty_page_without_link() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page([]))
        assert run({"paginator": "header_link"}) == []
    assert m.call_count == 1


def test_header_link_repeated_link_is_an_unproven_end() -> None:
    link = {"Link": f'<{URL}?page=2>; rel="next"'}
    with requests_mock.Mocker() as m:
        serve(m, URL, page(rows(1), headers=link), page(rows(2), headers=link))
        records, line = run_to_failure({"paginator": "header_link"})
    assert ids(records) == [1, 2]
    assert m.call_count == 2
    reason = f"its next request ({URL}?page=2) repeats page 2's"
    assert line == unproven(2, f"{URL}?page=2", reason)


# --------------------------------------------------------------------------------------------
# auto


def guesses(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The logged paginator guesses."""
    return [r.getMessage() for r in caplog.records if "No paginator configured" in r.message]


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


def test_auto_detects_nested_next_href(caplog: pytest.LogCaptureFixture) -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"items": rows(1), "_links": {"next": {"href": f"{URL}?page=2"}}}),
            page({"items": rows(2), "_links": {}}),
        )
        records = run({})
    assert ids(records) == [1, 2]
    assert sent_urls(m) == [URL, f"{URL}?page=2"]
    assert '"next_url_path": "_links.next.href"' in guesses(caplog)[0]


def test_auto_detects_a_relative_href_as_a_link(caplog: pytest.LogCaptureFixture) -> None:
    """Eve's HATEOAS links are relative (``items?page=2``): an href is a link, not a cursor."""
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"_items": rows(1), "_links": {"next": {"href": "items?page=2"}}}),
            page({"_items": rows(2), "_links": {}}),
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


def test_auto_single_record_single_page_is_not_logged_as_a_guess(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page({"id": 1, "name": "me"}))
        assert run({}) == [{"id": 1, "name": "me"}]
    assert guesses(caplog) == []


def test_auto_repeated_next_url_is_an_unproven_end() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next": f"{URL}?page=2"}),
            page({"data": rows(2), "next": f"{URL}?page=2"}),
        )
        records, line = run_to_failure({})
    assert ids(records) == [1, 2]
    assert m.call_count == 2
    reason = f"its next request ({URL}?page=2) repeats page 2's"
    assert line == unproven(2, f"{URL}?page=2", reason)


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


# --------------------------------------------------------------------------------------------
# precedence


def test_endpoint_paginator_overrides_client_paginator() -> None:
    tap = make_tap(
        [resource("a"), resource("b", paginator="single_page")],
        client={"paginator": {"type": "offset", "limit": 1, "total_path": None}},
    )
    with requests_mock.Mocker() as m:
        serve(m, f"{BASE_URL}/a", page(rows(1)), page([]))
        serve(m, f"{BASE_URL}/b", page(rows(2, 3)))
        assert ids(records_of(tap, "a")) == [1]
        assert ids(records_of(tap, "b")) == [2, 3]
    assert sent_params(m) == [{"offset": "0", "limit": "1"}, {"offset": "1", "limit": "1"}, {}]
