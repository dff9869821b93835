"""paginators/base.py: the shared contract (stop_condition, precedence), typed options."""

from __future__ import annotations

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
    sent_params,
    serve,
)
from paginator_helpers import URL, rows
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.errors import StreamRequestError


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
