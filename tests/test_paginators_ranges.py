"""paginators/ranges.py: dlt's range rule (totals, header totals, stops) and offset."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock
from helpers import (
    ids,
    make_tap,
    page,
    resource,
    run,
    sent_json,
    sent_params,
    serve,
)
from paginator_helpers import SMOREST, URL, rows, x_pagination
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.errors import StreamRequestError


def test_default_total_is_required_when_it_is_the_only_way_to_stop() -> None:
    """stop_after_empty_page false and nothing else: a missing total must not loop forever."""
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page({"data": rows(1, 2)}))
        run({"paginator": {"type": "page_number", "stop_after_empty_page": False}})
    assert str(raised.value) == (
        f"stream 'items': GET {URL}?page=0: total_path 'total' was not found in the response"
    )


def test_page_number_that_can_never_end_is_a_config_error() -> None:
    paginator = {"type": "page_number", "total_path": None, "stop_after_empty_page": False}
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", paginator=paginator))
    assert any("pagination could never end" in line for line in raised.value.errors)


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
