"""data_selector: which part of each response body becomes records, configured or guessed."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests_mock
from helpers import BASE_URL, make_tap, page, records_of, resource, run, sent_urls, serve
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.records.selectors import detect_selector

URL = f"{BASE_URL}/items"


def select(selector: Any, body: Any) -> list[dict[str, Any]]:
    """The records a single_page endpoint with this data_selector reads from ``body``."""
    with requests_mock.Mocker() as m:
        serve(m, URL, page(body))
        return run({"paginator": "single_page", "data_selector": selector})


A, B = {"id": 1, "name": "a"}, {"id": 2, "name": "b"}


@pytest.mark.parametrize(
    ("selector", "body"),
    [
        ("data", {"data": [A, B], "meta": {"count": 2}}),
        ("$.data", {"data": [A, B]}),
        ("results.posts", {"results": {"posts": [A, B], "total": 2}}),
        ("_embedded.items", {"_embedded": {"items": [A, B]}}),
        ("items.*.data", {"items": [{"data": A, "rev": 1}, {"data": B, "rev": 2}]}),
        ("items[*].data", {"items": [{"data": A, "rev": 1}, {"data": B, "rev": 2}]}),
        ("['odd.key']", {"odd.key": [A, B], "other": [{"id": 3}]}),
        ("value", {"@odata.context": "x", "value": [A, B]}),
    ],
)
def test_selector_yields_the_inner_objects(selector: str, body: Any) -> None:
    assert select(selector, body) == [A, B]


def test_seed_items_star_data_over_several_pages() -> None:
    """Seed 002: data_selector items.*.data with page_number, start_from_page 1, limit 2."""
    paginator = {"type": "page_number", "limit": 2, "page_param": "page", "start_from_page": 1}
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"items": [{"data": A}, {"data": B}]}),
            page({"items": [{"data": {"id": 3}}]}),
            page({"items": []}),
        )
        records = run({"paginator": paginator, "data_selector": "items.*.data"})
    assert [r["id"] for r in records] == [1, 2, 3]
    assert m.call_count == 3


def test_selector_matching_lists_in_several_places_flattens_them() -> None:
    body = {"groups": [{"members": [A]}, {"members": [B, {"id": 3}]}]}
    assert [r["id"] for r in select("groups[*].members", body)] == [1, 2, 3]


@pytest.mark.parametrize("selector", ["$", []])
def test_whole_body_dict_is_one_record(selector: Any) -> None:
    body = {"id": "acct_1", "balance": 10, "owners": [A, B]}
    assert select(selector, body) == [body]


@pytest.mark.parametrize("selector", ["$", []])
def test_whole_body_list_is_the_records(selector: Any) -> None:
    assert select(selector, [A, B]) == [A, B]


def test_seed_empty_list_selector_on_single_page_endpoint_with_error_handler() -> None:
    """Seed 003: ``"data_selector": []`` and an error_handler on a single_page endpoint."""
    endpoint = {
        "path": "v1/account",
        "data_selector": [],
        "paginator": {"type": "single_page"},
        "error_handler": {"retry_on_status_codes": [429], "max_retries": 3, "backoff_factor": 2},
    }
    with requests_mock.Mocker() as m:
        serve(m, f"{BASE_URL}/v1/account", page({"id": "acct_1", "plan": "pro"}))
        records = run(endpoint, name="account")
    assert records == [{"id": "acct_1", "plan": "pro"}]


def test_selector_matching_a_dict_is_one_record() -> None:
    assert select("data.account", {"data": {"account": A}}) == [A]


@pytest.mark.parametrize("body", [{"data": None}, {"other": [A]}, {"data": []}, [A], "text", None])
def test_null_or_missing_selection_yields_no_records(body: Any) -> None:
    assert select("data", body) == []


def test_empty_body_yields_no_records() -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, {"status_code": 204, "text": ""})
        assert run({"paginator": "single_page"}) == []


@pytest.mark.parametrize(
    ("selector", "body", "expected"),
    [
        ("data", {"data": [1, "two", True]}, [{"value": 1}, {"value": "two"}, {"value": True}]),
        ("data", {"data": 5}, [{"value": 5}]),
        ("$", ["a", "b"], [{"value": "a"}, {"value": "b"}]),
        ("ids", {"ids": [[1, 2], [3]]}, [{"value": [1, 2]}, {"value": [3]}]),
    ],
)
def test_scalars_are_wrapped_as_value(selector: str, body: Any, expected: list[Any]) -> None:
    assert select(selector, body) == expected


# --------------------------------------------------------------------------------------------
# auto-detection


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"meta": {"tags": ["x"]}, "results": [A, B]}, [A, B]),
        ({"links": [{"id": 9}], "records": [A, B]}, [A, B]),
        ({"response": {"payload": {"entries": [A, B]}, "warnings": [{"id": 9}]}}, [A, B]),
        ({"posts": [A, B], "authors": [{"id": 9}]}, [A, B]),
        ({"wrapper": {"posts": [A, B]}}, [A, B]),
        ({"data": A}, [{"data": A}]),
        ({"id": 1, "name": "a"}, [A]),
        ([A, B], [A, B]),
    ],
    ids=[
        "data-like key preferred over an earlier list",
        "records",
        "three keys deep",
        "first list otherwise",
        "nested list",
        "dict under data: whole body",
        "no list: whole body",
        "list body",
    ],
)
def test_auto_detection(body: Any, expected: list[Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert select(None, body) == expected
    assert any(
        "Stream 'items': no data_selector configured; guessed" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"a": {"b": {"c": {"items": [1]}}}, "x": 1}, "$"),
        ({"a": {"b": {"items": [1]}}}, "a.b.items"),
        ({"a": {"b": {"other": [1]}}, "data": [1]}, "data"),
        ({"a": [1], "b": {"items": [1]}}, "b.items"),
        ("scalar", "$"),
        ([], "$"),
    ],
)
def test_detect_selector_rules(body: Any, expected: str) -> None:
    assert detect_selector(body) == expected


def test_detected_selector_is_kept_for_later_pages() -> None:
    """Guessed once from page one; page two's first list is not re-guessed."""
    with requests_mock.Mocker() as m:
        serve(
            m,
            URL,
            page({"posts": [A], "next": f"{URL}?page=2"}),
            page({"authors": [{"id": 9}], "posts": [B]}),
        )
        records = run({"paginator": "json_link"})
    assert records == [A, B]
    assert sent_urls(m) == [URL, f"{URL}?page=2"]


def test_single_entity_path_reads_the_whole_body() -> None:
    tap = make_tap(resource("user", "users/{user_id}", params={"user_id": 7}))
    with requests_mock.Mocker() as m:
        serve(m, f"{BASE_URL}/users/7", page({"id": 7, "data": [1, 2], "next": "x"}))
        assert records_of(tap, "user") == [{"id": 7, "data": [1, 2], "next": "x"}]
    assert sent_urls(m) == [f"{BASE_URL}/users/7"]


# --------------------------------------------------------------------------------------------
# config errors


@pytest.mark.parametrize("selector", [5, {"path": "data"}, ["data"]])
def test_selector_of_the_wrong_type_is_a_config_error(selector: Any) -> None:
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", data_selector=selector))
    [line] = raised.value.errors
    assert line.startswith("wrong type: got ")
    assert line.endswith(
        "expected a JSONPath string, '$' or [] at config['resources'][0]['endpoint']"
        "['data_selector']"
    )


def test_invalid_jsonpath_is_a_config_error() -> None:
    with pytest.raises(ConfigValidationError) as raised:
        make_tap(resource("items", data_selector="data[?(@.x"))
    [line] = raised.value.errors
    assert line.startswith("invalid JSONPath 'data[?(@.x': ")
    assert line.endswith("at config['resources'][0]['endpoint']['data_selector']")
