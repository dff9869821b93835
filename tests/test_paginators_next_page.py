"""paginators/next_page.py: the response names the next page number; where it stops and fails."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import requests_mock
from helpers import BASE_URL, ids, make_tap, page, resource, run, sent_json, sent_params, serve
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.errors import ConfigErrors, StreamRequestError
from tap_restgeneric.paginators import PAGINATORS, Page, Stop
from tap_restgeneric.paginators.next_page import NextPageOptions
from tap_restgeneric.tools.hints import config_warnings

URL = f"{BASE_URL}/items"


def rows(*numbers: int) -> list[dict[str, int]]:
    """Records ``{"id": n}``."""
    return [{"id": n} for n in numbers]


def meta(numbers: list[int], following: Any) -> dict[str, Any]:
    """A Kaminari/Pagy-style body: records under ``data``, the next page under ``meta``."""
    return {"data": rows(*numbers), "meta": {"next_page": following}}


def x_pagination(following: int | None, number: int) -> dict[str, str]:
    """Flask-Smorest's header: ``next_page`` left out on the last page."""
    value: dict[str, Any] = {"total": 5, "total_pages": 3, "page": number}
    if following is not None:
        value["next_page"] = following
    return {"X-Pagination": json.dumps(value)}


BODY = {"type": "next_page", "next_page_path": "meta.next_page"}


@pytest.mark.parametrize("last", [None, "", "absent"])
def test_body_next_page_is_sent_back_until_there_is_none(last: Any) -> None:
    final = {"data": rows(5)} if last == "absent" else meta([5], last)
    with requests_mock.Mocker() as m:
        serve(m, URL, page(meta([1, 2], 2)), page(meta([3, 4], 3)), page(final))
        records = run({"paginator": BODY, "data_selector": "data"})
    assert ids(records) == [1, 2, 3, 4, 5]
    # The first request is sent as configured: the server's first page.
    assert sent_params(m) == [{}, {"page": "2"}, {"page": "3"}]


def test_next_page_given_as_a_string_and_a_first_page_and_page_size() -> None:
    paginator = {**BODY, "page": 1, "page_param": "p", "limit": 2, "limit_param": "per_page"}
    with requests_mock.Mocker() as m:
        serve(m, URL, page(meta([1, 2], "2")), page(meta([3], None)))
        records = run({"paginator": paginator, "data_selector": "data"})
    assert ids(records) == [1, 2, 3]
    assert sent_params(m) == [{"p": "1", "per_page": "2"}, {"p": "2", "per_page": "2"}]


def test_limit_param_defaults_to_limit() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(meta([1], None)))
        run({"paginator": {**BODY, "limit": 50}, "data_selector": "data"})
    assert sent_params(m) == [{"limit": "50"}]


def test_default_path_is_next_page_at_the_top() -> None:
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"data": rows(1), "next_page": 2}),
            page({"data": rows(2), "next_page": None}),
        )
        records = run({"paginator": "next_page", "data_selector": "data"})
    assert ids(records) == [1, 2]
    assert sent_params(m) == [{}, {"page": "2"}]


def test_json_header_x_pagination() -> None:
    paginator = {"type": "next_page", "next_page_header": "X-Pagination", "page_param": "page"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(rows(1, 2), headers=x_pagination(2, 1)),
            page(rows(3, 4), headers=x_pagination(3, 2)),
            page(rows(5), headers=x_pagination(None, 3)),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2, 3, 4, 5]
    assert sent_params(m) == [{}, {"page": "2"}, {"page": "3"}]


@pytest.mark.parametrize("last", [{}, {"X-Next-Page": ""}])
def test_plain_header_x_next_page(last: dict[str, str]) -> None:
    """GitLab's X-Next-Page: the number itself, empty on the last page."""
    paginator = {"type": "next_page", "next_page_header": "X-Next-Page"}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page(rows(1), headers={"X-Next-Page": "2"}),
            page(rows(2), headers=last),
        )
        records = run({"paginator": paginator})
    assert ids(records) == [1, 2]


def test_body_path_for_post_pagination() -> None:
    paginator = {**BODY, "page_body_path": "paging.page", "limit": 2, "limit_body_path": "size"}
    endpoint = {"method": "POST", "json": {"q": "x"}, "paginator": paginator}
    with requests_mock.Mocker() as m:
        serve(m, URL, page(meta([1, 2], 2)), page(meta([3], None)), method="POST")
        records = run({**endpoint, "data_selector": "data"})
    assert ids(records) == [1, 2, 3]
    assert sent_json(m) == [{"q": "x", "size": 2}, {"q": "x", "size": 2, "paging": {"page": 2}}]


@pytest.mark.parametrize(
    ("announced", "expected"),
    [
        ([2, 2], "next_page_path 'meta.next_page' is 2 after page 2"),
        ([3, 2], "next_page_path 'meta.next_page' is 2 after page 3"),
        ([2, 1], "next_page_path 'meta.next_page' is 1 after page 2"),
    ],
)
def test_a_next_page_that_does_not_grow_is_an_error(announced: list[int], expected: str) -> None:
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page(meta([1], announced[0])), page(meta([2], announced[1])))
        run({"paginator": BODY, "data_selector": "data"})
    assert expected in str(raised.value)
    assert "the next page must be higher" in str(raised.value)
    assert m.call_count == 2


@pytest.mark.parametrize("value", ["two", True, 2.5, {"n": 2}])
def test_a_next_page_that_is_not_a_number_is_an_error(value: Any) -> None:
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page(meta([1], value)))
        run({"paginator": BODY, "data_selector": "data"})
    assert "expected a page number" in str(raised.value)


def test_a_header_that_is_not_json_is_an_error() -> None:
    paginator = {"type": "next_page", "next_page_header": "X-Pagination"}
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as raised:
        serve(m, URL, page(rows(1), headers={"X-Pagination": "{not json"}))
        run({"paginator": paginator})
    assert "next_page_header 'X-Pagination' is not JSON" in str(raised.value)


def test_stop_condition() -> None:
    paginator = {**BODY, "stop_condition": "{{ page >= 2 }}"}
    with requests_mock.Mocker() as m:
        serve(m, URL, page(meta([1], 2)), page(meta([2], 3)))
        records = run({"paginator": paginator, "data_selector": "data"})
    assert ids(records) == [1, 2]


@pytest.mark.parametrize(
    ("paginator", "message"),
    [
        ({**BODY, "next_page_header": "X Pagination"}, "'X Pagination' is not a header name"),
        ({**BODY, "page_param": "p", "page_body_path": "p"}, "'page_param' and 'page_body_path'"),
        (
            {**BODY, "limit_param": "n", "limit_body_path": "n"},
            "'limit_param' and 'limit_body_path'",
        ),
        ({**BODY, "next_page_path": "meta[["}, "invalid JSONPath 'meta[['"),
        ({**BODY, "next_page_path": None}, "null is not allowed"),
        ({**BODY, "page": "1"}, "wrong type: got string '1'"),
        ({**BODY, "nextpage_path": "x"}, "unknown key 'nextpage_path'"),
    ],
)
def test_config_is_checked_at_start(paginator: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", paginator=paginator))
    assert any(message in line for line in raised.value.errors), raised.value.errors


def fake_page(body: Any, headers: dict[str, str] | None = None) -> Page:
    """A fetched page as the paginator sees it."""
    response = requests.Response()
    response.headers.update(headers or {})
    request = HTTPRequest(url=URL, method="GET", params={}, headers={}, data=None)
    return Page(request, response, body, body.get("data", []), 1)


def test_the_paginator_explains_its_decisions() -> None:
    """preview and the run summary show these: why the next request, why the end."""
    cls = PAGINATORS["next_page"]
    header = cls(
        cls.options_from(
            {"type": "next_page", "next_page_header": "X-Pagination"}, (), ConfigErrors()
        )
    )
    body = cls(cls.options_from(BODY, (), ConfigErrors()))
    token = header.advance(fake_page({}, x_pagination(2, 1)), None)
    assert header.explain(token) == (
        "page=2: the next page number in next_page_header 'X-Pagination', "
        "next_page_path 'next_page'"
    )
    assert header.advance(fake_page({}, x_pagination(None, 2)), 2) == Stop(
        "no next page in next_page_header 'X-Pagination', next_page_path 'next_page'"
    )
    assert body.explain(body.advance(fake_page(meta([1], 2)), None)) == (
        "page=2: the next page number in next_page_path 'meta.next_page'"
    )
    assert body.advance(fake_page(meta([2], None)), 2) == Stop(
        "no next page in next_page_path 'meta.next_page'"
    )
    assert body.predict(fake_page(meta([1], 2)), 1, 1) is None  # never fetched ahead


def test_options_are_typed_and_read_as_the_config() -> None:
    options = NextPageOptions.build({**BODY, "limit": 10}, (), ConfigErrors())
    assert (options.page_param, options.limit_param, options.next_page_header) == (
        "page",
        "limit",
        None,
    )
    assert dict(options) == {
        "next_page_path": "meta.next_page",
        "next_page_header": None,
        "page_param": "page",
        "page_body_path": None,
        "page": None,
        "limit": 10,
        "limit_param": "limit",
        "limit_body_path": None,
        "stop_condition": None,
    }


def test_limit_param_without_limit_is_hinted() -> None:
    paginator = {**BODY, "limit_param": "per_page"}
    config = {
        "client": {"base_url": BASE_URL},
        "resources": [resource("items", paginator=paginator)],
    }
    assert config_warnings(config, None) == [
        "'limit_param' has no effect without 'limit' (no page size is sent) "
        "at config['resources'][0]['endpoint']['paginator']['limit_param']"
    ]
