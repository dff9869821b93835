"""paginators/base.py: the shared contract (stop_condition, precedence), typed options, and what
every style shares in a run (an empty first page ends it; a repeated page or next request is an
unproven end), as one table across styles."""

from __future__ import annotations

import dataclasses
from typing import Any

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
    serve,
)
from paginator_helpers import URL, rows, unproven
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.spec import ComponentSpec
from tap_restgeneric.config.templates import Template
from tap_restgeneric.errors import ConfigErrors, StreamRequestError
from tap_restgeneric.paginators import PAGINATORS, build_paginator
from tap_restgeneric.paginators.auto import AutoPaginator
from tap_restgeneric.paginators.page_number import PageNumberOptions
from tap_restgeneric.paginators.references import CursorOptions, JSONLinkOptions


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


# --------------------------------------------------------------------------------------------
# typed options (config/options.py): one dataclass per style, built once, read as attributes


def test_the_field_table_is_derived_from_the_options_dataclass_in_declared_order() -> None:
    """Own options first, then inherited ones (the order errors are reported in)."""
    assert list(PAGINATORS["cursor"].fields) == [
        "cursor_path",
        "cursor_param",
        "cursor_body_path",
        "stop_after_empty_page",
        "has_more_path",
        "limit",
        "limit_param",
        "stop_condition",
    ]
    assert list(PAGINATORS["offset"].fields) == [
        "limit",
        "offset",
        "offset_param",
        "offset_body_path",
        "maximum_offset",
        "total_path",
        "total_header",
        "stop_after_empty_page",
        "has_more_path",
        "limit_param",
        "limit_body_path",
        "stop_condition",
    ]
    assert PAGINATORS["single_page"].fields == PAGINATORS["auto"].fields == {}


@pytest.mark.parametrize("name", PAGINATORS.names)
def test_every_style_declares_its_options_once(name: str) -> None:
    cls = PAGINATORS[name]
    assert cls.fields == cls.options_type.fields()
    names = {f.name for f in dataclasses.fields(cls.options_type)}
    assert set(cls.fields) <= names
    built = cls.options_from({"type": name, "limit": 10}, (), ConfigErrors())
    assert isinstance(built, cls.options_type)
    assert set(built) <= set(cls.fields)  # the Mapping view: config options only


def test_options_are_built_once_with_their_derived_values() -> None:
    errors = ConfigErrors()
    options = PageNumberOptions.build(
        {"type": "page_number", "start_from_page": 1, "total_path": "pages"}, (), errors
    )
    assert not errors
    assert (options.base_page, options.page, options.value_param) == (1, 1, "page")
    assert (options.total_required, options.base_defaulted) == (True, False)
    assert "start_from_page" not in options  # an alias, folded into base_page and page
    assert "total_required" not in options  # derived, not config
    condition = CursorOptions.build(
        {"type": "cursor", "stop_condition": "{{ page > 2 }}"}, (), errors
    ).stop_condition
    assert isinstance(condition, Template)
    assert condition.text == "{{ page > 2 }}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.base_page = 2  # type: ignore[misc]


def test_options_compare_with_the_config_they_came_from() -> None:
    options = JSONLinkOptions.build({"type": "json_link"}, (), ConfigErrors())
    assert options == {"next_url_path": "next", "relative_to": "url", "stop_condition": None}
    assert ComponentSpec("json_link", options) == ComponentSpec("json_link", dict(options))
    assert options["relative_to"] == options.relative_to == "url"
    with pytest.raises(KeyError):
        options["base_url"]


def test_build_paginator_hands_in_base_url_and_builds_a_plain_spec() -> None:
    spec = ComponentSpec(
        "json_link", JSONLinkOptions.build({"relative_to": "base_url"}, (), ConfigErrors())
    )
    paginator = build_paginator(spec, base_url=f"{BASE_URL}/v2")
    assert paginator.base_url == f"{BASE_URL}/v2"
    assert isinstance(build_paginator(ComponentSpec("auto", {})), AutoPaginator)
    with pytest.raises(ConfigValidationError):
        build_paginator(ComponentSpec("cursor", {"cursor_pth": "x"}))


@pytest.mark.parametrize(
    ("raw", "idle"),
    [
        ({"type": "cursor", "limit_param": "n"}, ["limit_param"]),
        ({"type": "page_number", "limit_body_path": "n"}, ["limit_body_path"]),
        ({"type": "page_number", "limit": 5, "limit_param": "n"}, []),
        ({"type": "json_link", "limit_param": "n"}, []),  # not an option of json_link at all
    ],
)
def test_idle_options_are_the_styles_own_say(raw: dict[str, Any], idle: list[str]) -> None:
    assert [key for key, _ in PAGINATORS[raw["type"]].idle_options(raw)] == idle


def test_a_paginator_explains_itself_and_reports_no_detection() -> None:
    """What preview and the summary show comes from the instance (no isinstance ladder)."""
    cls = PAGINATORS["header_cursor"]
    paginator = cls(cls.options_from({"cursor_param": "after"}, (), ConfigErrors()))
    assert paginator.explain("t2") == "after=t2: the 'next' response header"
    assert paginator.detection() is None
    assert paginator.ends_on_empty_page() is False
    assert paginator.body_paths() == {}


@pytest.mark.parametrize(
    ("paginator", "body"),
    [
        pytest.param({"type": "single_page"}, [], id="single_page"),
        pytest.param(
            {"type": "cursor", "cursor_path": "next", "stop_after_empty_page": True},
            {"data": [], "next": "b"},
            id="cursor stop_after_empty_page",
        ),
        pytest.param("header_cursor", [], id="header_cursor without header"),
        pytest.param("json_link", {"data": [], "next": None}, id="json_link"),
        pytest.param("header_link", [], id="header_link without link"),
        pytest.param("page_number", {"data": [], "total": 0}, id="page_number total 0"),
    ],
)
def test_empty_first_page_is_the_end(paginator: Any, body: Any) -> None:
    with requests_mock.Mocker() as m:
        serve(m, URL, page(body))
        assert run({"paginator": paginator}) == []
    assert m.call_count == 1


@pytest.mark.parametrize(
    ("paginator", "body", "second_url"),
    [
        pytest.param(
            {"type": "page_number", "base_page": 1},
            {"data": rows(1, 2)},
            f"{URL}?page=2",
            id="page_number",
        ),
        pytest.param(
            {"type": "offset", "limit": 2},
            {"data": rows(1, 2)},
            f"{URL}?offset=2&limit=2",
            id="offset",
        ),
        pytest.param(
            {"type": "cursor", "cursor_path": "next"},
            {"data": rows(1, 2), "next": "c2"},
            f"{URL}?cursor=c2",
            id="cursor",
        ),
    ],
)
def test_identical_page_repeated_is_an_unproven_end(
    paginator: dict[str, Any], body: dict[str, Any], second_url: str
) -> None:
    """A server that ignores the page parameter (number, offset or cursor) returns page one
    forever, the cursor included."""
    same = page(body)
    with requests_mock.Mocker() as m:
        serve(m, URL, same, same)
        records, line = run_to_failure({"paginator": paginator})
    assert ids(records) == [1, 2]
    assert m.call_count == 2
    assert line == unproven(2, second_url, "the page is identical to page 1")


LINK_2 = {"Link": f'<{URL}?page=2>; rel="next"'}


@pytest.mark.parametrize(
    ("endpoint", "first", "second", "following"),
    [
        pytest.param(
            {"paginator": "header_cursor"},
            page(rows(1), headers={"next": "t2"}),
            page(rows(2), headers={"next": "t2"}),
            f"{URL}?cursor=t2",
            id="header_cursor",
        ),
        pytest.param(
            {"paginator": "json_link"},
            page({"data": rows(1), "next": f"{URL}?page=2"}),
            page({"data": rows(2), "next": f"{URL}?page=2"}),
            f"{URL}?page=2",
            id="json_link",
        ),
        pytest.param(
            {"paginator": "header_link"},
            page(rows(1), headers=LINK_2),
            page(rows(2), headers=LINK_2),
            f"{URL}?page=2",
            id="header_link",
        ),
        pytest.param(
            {},  # auto, guessing json_link
            page({"data": rows(1), "next": f"{URL}?page=2"}),
            page({"data": rows(2), "next": f"{URL}?page=2"}),
            f"{URL}?page=2",
            id="auto",
        ),
    ],
)
def test_repeated_next_request_is_an_unproven_end(
    endpoint: dict[str, Any], first: dict[str, Any], second: dict[str, Any], following: str
) -> None:
    """Page 2 names itself as the next page: never requested again."""
    with requests_mock.Mocker() as m:
        serve(m, URL, first, second)
        records, line = run_to_failure(endpoint)
    assert ids(records) == [1, 2]
    assert m.call_count == 2
    reason = f"its next request ({following}) repeats page 2's"
    assert line == unproven(2, following, reason)
