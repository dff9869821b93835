"""paginators/references.py: single_page, cursor, header_cursor, json_link, header_link."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock
from helpers import (
    BASE_URL,
    ids,
    make_tap,
    page,
    resource,
    run,
    run_to_failure,
    sent_json,
    sent_params,
    sent_urls,
    serve,
)
from paginator_helpers import URL, rows, unproven
from singer_sdk.exceptions import ConfigValidationError


def test_single_page_ignores_next_url_cursor_and_link_header() -> None:
    body = {"data": rows(1, 2), "next": f"{URL}?page=2", "cursors": {"next": "c2"}, "total": 9}
    with requests_mock.Mocker() as m:
        serve(m, URL, page(body, headers={"Link": f'<{URL}?page=2>; rel="next"'}))
        records = run({"paginator": "single_page", "data_selector": "data"})
    assert ids(records) == [1, 2]
    assert sent_urls(m) == [URL]


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
