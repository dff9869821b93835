"""``import-openapi``'s guesses per operation: paginators (with evidence), incremental
candidates, dependent resources, and a shared response schema that contradicts parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests_mock
from helpers import records, sync
from test_tools_openapi import ITEM, get, imported, openapi, query, resources


def envelope(**fields: Any) -> dict[str, Any]:
    """An object with the records under ``data`` and these other fields."""
    return {
        "type": "object",
        "properties": {"data": {"type": "array", "items": ITEM}, **fields},
    }


INT, STR, BOOL = {"type": "integer"}, {"type": "string"}, {"type": "boolean"}
NULLABLE_STR = {"type": "string", "nullable": True}
ARRAY = {"type": "array", "items": ITEM}

# (response schema, query parameters, response headers) → (paginator, first-request params,
# a piece of the evidence line)
CASES: dict[str, tuple[Any, list[dict[str, Any]], dict[str, Any], Any, dict[str, Any], str]] = {
    "page_number with a page count": (
        envelope(total_pages=INT),
        [query("page", default=1), query("page_size", default=20, maximum=200)],
        {},
        {
            "type": "page_number",
            "page_param": "page",
            "base_page": 1,
            "limit": 200,
            "limit_param": "page_size",
            "total_path": "total_pages",
        },
        {},
        "sends page_size=200 (page_size's maximum); total from field 'total_pages'",
    ),
    "page_number counting records, nested": (
        envelope(meta={"type": "object", "properties": {"total_count": INT}}),
        [query("page", minimum=0)],
        {},
        {
            "type": "page_number",
            "page_param": "page",
            "base_page": 0,
            "total_path": "meta.total_count",
            "total_counts": "records",
        },
        {},
        "base_page 0 from its minimum; total from field 'meta.total_count'",
    ),
    "page_number with an unknown base and has_more": (
        envelope(has_more=BOOL),
        [query("currentPage")],
        {},
        {"type": "page_number", "page_param": "currentPage", "has_more_path": "has_more"},
        {},
        "base_page not declared: the tap starts at 0 and moves to 1",
    ),
    "offset with a records total": (
        envelope(total=INT),
        [query("offset"), query("limit", default=50)],
        {},
        {
            "type": "offset",
            "limit": 50,
            "offset_param": "offset",
            "limit_param": "limit",
            "total_path": "total",
        },
        {},
        "query parameters 'offset' and 'limit' (limit 50: limit's default; no maximum declared)",
    ),
    "offset ignores a page count": (
        envelope(total_pages=INT, count=INT),
        [query("$skip"), query("$top")],
        {},
        {
            "type": "offset",
            "limit": 100,
            "offset_param": "$skip",
            "limit_param": "$top",
            "total_path": "count",
        },
        {},
        "$top declares no maximum or default); total from field 'count' (read as the total of "
        "all records, as Django REST framework writes it)",
    ),
    "cursor field feeding a parameter of the same stem": (
        envelope(meta={"type": "object", "properties": {"next_cursor": NULLABLE_STR}}),
        [query("cursor", "string"), query("limit", maximum=100)],
        {},
        {
            "type": "cursor",
            "cursor_path": "meta.next_cursor",
            "cursor_param": "cursor",
            "limit": 100,
            "limit_param": "limit",
        },
        {},
        "response field 'meta.next_cursor' feeds query parameter 'cursor' (same name)",
    ),
    "page token with has_more": (
        envelope(nextPageToken=STR, hasMore=BOOL),
        [query("pageToken", "string")],
        {},
        {
            "type": "cursor",
            "cursor_path": "nextPageToken",
            "cursor_param": "pageToken",
            "has_more_path": "hasMore",
        },
        {},
        "feeds query parameter 'pageToken' (same name)",
    ),
    "cursor paired with the only cursor parameter": (
        envelope(continuation=STR),
        [query("after", "string")],
        {},
        {"type": "cursor", "cursor_path": "continuation", "cursor_param": "after"},
        {},
        "(the only cursor-like parameter)",
    ),
    "fastapi-pagination's CursorPage: a string next_page feeds cursor": (
        envelope(
            total={"anyOf": [INT, {"type": "null"}]},
            current_page={"anyOf": [STR, {"type": "null"}]},
            next_page={"anyOf": [STR, {"type": "null"}]},
        ),
        [query("cursor", "string"), query("size", maximum=100)],
        {},
        {
            "type": "cursor",
            "cursor_path": "next_page",
            "cursor_param": "cursor",
            "limit": 100,
            "limit_param": "size",
        },
        {},
        "response field 'next_page' feeds query parameter 'cursor' (the only cursor-like "
        "parameter); a string, so an opaque cursor, not a page number",
    ),
    "a string cursor.next feeds cursor": (
        envelope(cursor={"type": "object", "properties": {"next": NULLABLE_STR}}),
        [query("cursor", "string")],
        {},
        {"type": "cursor", "cursor_path": "cursor.next", "cursor_param": "cursor"},
        {},
        "response field 'cursor.next' feeds query parameter 'cursor'",
    ),
    "an integer next_page is the next page number": (
        envelope(next_page={"type": "integer", "nullable": True}, total_pages=INT),
        [query("page"), query("per_page", maximum=100)],
        {},
        {
            "type": "next_page",
            "next_page_path": "next_page",
            "page_param": "page",
            "limit": 100,
            "limit_param": "per_page",
        },
        {},
        "response field 'next_page' (an integer: the next page number) feeds query parameter "
        "'page'; paging ends when it is null",
    ),
    "an integer meta.next_page with a page parameter": (
        envelope(meta={"type": "object", "properties": {"next_page": INT}}),
        [query("page", minimum=1)],
        {},
        {"type": "next_page", "next_page_path": "meta.next_page", "page_param": "page"},
        {},
        "response field 'meta.next_page' (an integer",
    ),
    "the last record's id (Stripe)": (
        envelope(has_more=BOOL, url=STR),
        [query("starting_after", "string"), query("limit", maximum=100)],
        {},
        {
            "type": "cursor",
            "cursor_path": "data[-1].id",
            "cursor_param": "starting_after",
            "has_more_path": "has_more",
            "limit": 100,
            "limit_param": "limit",
        },
        {},
        "query parameter 'starting_after' takes the last record's key ('data[-1].id'); field "
        "'has_more' says when to stop",
    ),
    "the last record's id in a bare array": (
        ARRAY,
        [query("after", "string")],
        {},
        {"type": "cursor", "cursor_path": "$[-1].id", "cursor_param": "after"},
        {},
        "no has_more field: paging ends on an empty page",
    ),
    "next link in the body": (
        envelope(links={"type": "object", "properties": {"next": NULLABLE_STR}}),
        [query("page[size]", maximum=100), query("page[number]")],
        {},
        {"type": "json_link", "next_url_path": "links.next"},
        {"page[size]": 100},
        "response field 'links.next' (a next link); sends page[size]=100",
    ),
    "HAL next href": (
        envelope(
            _links={
                "type": "object",
                "properties": {"next": {"type": "object", "properties": {"href": STR}}},
            }
        ),
        [],
        {},
        {"type": "json_link", "next_url_path": "_links.next.href"},
        {},
        "response field '_links.next.href'",
    ),
    "OData next link": (
        {"type": "object", "properties": {"value": ARRAY, "@odata.nextLink": STR}},
        [query("$top")],
        {},
        {"type": "json_link", "next_url_path": "['@odata.nextLink']"},
        {"$top": 100},
        "response field '['@odata.nextLink']' (a next link)",
    ),
    "Link header beats page parameters": (
        ARRAY,
        [query("page"), query("per_page", default=30, maximum=100)],
        {"Link": {"schema": STR}},
        {"type": "header_link"},
        {"per_page": 100},
        "response header 'Link'; sends per_page=100 (per_page's maximum)",
    ),
    "records total in a header": (
        ARRAY,
        [query("page", minimum=1)],
        {"X-Total-Count": {"schema": INT}},
        {
            "type": "page_number",
            "page_param": "page",
            "base_page": 1,
            "total_header": "X-Total-Count",
            "total_counts": "records",
        },
        {},
        "total from response header 'X-Total-Count'",
    ),
    "page count in a JSON header": (
        ARRAY,
        [query("page", default=1)],
        {"X-Pagination": {"schema": {"type": "object", "properties": {"total_pages": INT}}}},
        {
            "type": "page_number",
            "page_param": "page",
            "base_page": 1,
            "total_header": "X-Pagination",
            "total_path": "total_pages",
        },
        {},
        "'total_pages' in the JSON response header 'X-Pagination'",
    ),
}

UNSURE: dict[str, tuple[Any, list[dict[str, Any]], str]] = {
    "a cursor field no parameter takes": (
        envelope(next_cursor=STR),
        [],
        "paginator: auto (unsure) from response field 'next_cursor' looks like a cursor, but no "
        "query parameter takes it: auto tries the usual names at run time",
    ),
    "a cursor parameter no field feeds": (
        ARRAY,
        [query("page_token", "string")],
        "paginator: auto (unsure) from query parameter 'page_token' looks like a cursor, but "
        "no response field holds the next one: auto detects it at run time",
    ),
    "a total without paging parameters": (
        envelope(total=INT),
        [],
        "paginator: auto (unsure) from field 'total' counts records, but no page, offset or "
        "cursor parameter: auto decides at run time",
    ),
    "nothing at all": (
        ARRAY,
        [],
        "paginator: auto from no paging parameter, field or header: auto decides at run time",
    ),
}


# a page parameter's base (response schema, the page parameter's schema, response headers) →
# base_page (None: not written, left to the tap's healing), the evidence in the report
BASES: dict[str, tuple[Any, dict[str, Any], dict[str, Any], int | None, str]] = {
    "minimum 0": (ARRAY, {"minimum": 0, "default": 1}, {}, 0, "base_page 0 from its minimum"),
    "default 0": (ARRAY, {"default": 0}, {}, 0, "base_page 0 from its default"),
    "default 1": (ARRAY, {"default": 1}, {}, 1, "base_page 1 from its default"),
    "a page count in the body (Litestar's ClassicPagination)": (
        envelope(current_page=INT, total_pages=INT, page_size=INT),
        {},
        {},
        1,
        "base_page 1: no minimum or default declared, and the response has field "
        "'current_page' and field 'total_pages' (a page count or page number: such APIs number "
        "pages from 1)",
    ),
    "a nested last_page (Laravel-style meta)": (
        envelope(meta={"type": "object", "properties": {"last_page": INT}}),
        {},
        {},
        1,
        "the response has field 'meta.last_page'",
    ),
    "a page count header": (
        ARRAY,
        {},
        {"X-Total-Pages": {"schema": INT}},
        1,
        "the response has X-Total-Pages",
    ),
    "a page in a JSON header": (
        ARRAY,
        {},
        {"X-Pagination": {"schema": {"type": "object", "properties": {"page": INT}}}},
        1,
        "the response has 'page' in response header 'X-Pagination'",
    ),
    "1-based in the description": (
        ARRAY,
        {"description": "Page number (1-based)."},
        {},
        1,
        "base_page 1 from its description ('1-based')",
    ),
    "starts at zero in the description, beside a page count": (
        envelope(total_pages=INT),
        {"description": "The page; numbering starts at 0."},
        {},
        0,
        "base_page 0 from its description ('starts at 0')",
    ),
    "Spring Data's Page counts from 0: left to the tap": (
        envelope(totalPages=INT, totalElements=INT, number=INT, pageable={"type": "object"}),
        {},
        {},
        None,
        "base_page not declared: the tap starts at 0 and moves to 1 if page 0 is empty or "
        "repeats page 1 (Spring Data's Page numbers pages from 0)",
    ),
    "no evidence: left to the tap": (
        envelope(total=INT, page_size=INT),
        {},
        {},
        None,
        "base_page not declared: the tap starts at 0",
    ),
    "a string page field is no evidence": (
        envelope(page={"type": "string"}),
        {},
        {},
        None,
        "base_page not declared",
    ),
}


@pytest.mark.parametrize("case", list(BASES))
def test_page_number_base_and_its_evidence(tmp_path: Path, case: str) -> None:
    """Without a declared minimum/default, a page count or page number in the response (body
    or header) or the parameter's description says pages count from 1; 0 only when declared or
    described."""
    schema, page, headers, base, evidence = BASES[case]
    schema_of = {key: value for key, value in page.items() if key != "description"}
    param: dict[str, Any] = {"name": "page", "in": "query"}
    param["schema"] = {"type": "integer", **schema_of}
    if "description" in page:
        param["description"] = page["description"]
    document = openapi({"/things": get(schema, param, **headers_of(headers))})
    config, report = imported(tmp_path, document)
    paginator = resources(config)["things"]["endpoint"]["paginator"]
    assert paginator["type"] == "page_number"
    assert paginator.get("base_page") == base
    line = next(x for x in report.lines() if x.startswith("  paginator: "))
    assert evidence in line, line


def headers_of(headers: dict[str, Any]) -> dict[str, Any]:
    return {"headers": headers} if headers else {}


@pytest.mark.parametrize("case", list(CASES))
def test_paginator_guess_and_its_evidence(tmp_path: Path, case: str) -> None:
    schema, params, headers, paginator, first, evidence = CASES[case]
    document = openapi({"/things": get(schema, *params, **headers_of(headers))})
    config, report = imported(tmp_path, document)
    endpoint = resources(config)["things"]["endpoint"]
    assert endpoint["paginator"] == paginator
    assert endpoint.get("params", {}) == first
    line = next(x for x in report.lines() if x.startswith("  paginator: "))
    assert line.startswith(f"  paginator: {paginator['type']} from ")
    assert evidence in line, line


@pytest.mark.parametrize("case", list(UNSURE))
def test_unsure_guesses_fall_back_to_auto(tmp_path: Path, case: str) -> None:
    schema, params, line = UNSURE[case]
    document = openapi({"/things": get(schema, *params)})
    config, report = imported(tmp_path, document)
    assert resources(config)["things"]["endpoint"]["paginator"] == "auto"
    assert f"  {line}" in report.lines()


def test_unsure_cursor_suggests_a_config(tmp_path: Path) -> None:
    document = openapi({"/things": get(envelope(next_cursor=STR))})
    _, report = imported(tmp_path, document)
    suggestion = {"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "cursor"}
    assert f"    to try if auto fails: {suggestion}" in report.lines()


# data_selector ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "selector"),
    [
        (ARRAY, "$"),
        (envelope(), "data"),
        ({"type": "object", "properties": {"results": ARRAY, "facets": ARRAY}}, "results"),
        (
            {
                "type": "object",
                "properties": {"page": {"type": "object", "properties": {"rows": ARRAY}}},
            },
            "page.rows",
        ),
        (
            {"allOf": [{"$ref": "#/components/schemas/Paged"}, {"properties": {"items": ARRAY}}]},
            "items",
        ),
    ],
)
def test_data_selector(tmp_path: Path, schema: Any, selector: str) -> None:
    paged = {"type": "object", "properties": {"count": INT}}
    document = openapi({"/things": get(schema)}, components={"schemas": {"Paged": paged}})
    config, _ = imported(tmp_path, document)
    assert resources(config)["things"]["endpoint"]["data_selector"] == selector


# incremental ----------------------------------------------------------------------------------

DATE = {"format": "date-time"}


@pytest.mark.parametrize(
    ("field", "param"),
    [
        ("updated_at", query("updated_since", "string", **DATE)),
        ("updated_at", query("since", "string", **DATE)),
        ("updated_at", query("updated_at[gte]", "string", **DATE)),
        ("updated_at", query("updated_at__gte", "string", **DATE)),
        ("modified_at", query("modified_after", "string", **DATE)),
        ("lastModified", query("lastModified.from", "string", format="date")),
    ],
)
def test_incremental_candidates(tmp_path: Path, field: str, param: dict[str, Any]) -> None:
    item = {
        "type": "object",
        "properties": {"id": INT, field: {"type": "string", "format": "date-time"}},
    }
    document = openapi({"/things": get({"type": "array", "items": item}, param)})
    config, report = imported(tmp_path, document)
    assert resources(config)["things"]["endpoint"]["incremental"] == {
        "cursor_path": field,
        "start_param": param["name"],
    }
    line = next(x for x in report.lines() if x.startswith("  incremental: "))
    assert f"date-time field '{field}' and query parameter '{param['name']}'" in line
    assert "initial_value not set" in line


def test_incremental_without_a_date_format_is_only_reported(tmp_path: Path) -> None:
    document = openapi({"/things": get(ARRAY, query("updated_since", "string"))})
    config, report = imported(tmp_path, document)
    assert "incremental" not in resources(config)["things"]["endpoint"]
    hint = [x for x in report.lines() if x.startswith("  incremental (not written, unsure)")]
    assert len(hint) == 1
    assert "no date format declared" in hint[0]
    assert "'start_param': 'updated_since', 'initial_value': '…'" in hint[0]


def test_an_integer_since_is_no_date_filter(tmp_path: Path) -> None:
    """GitHub's ``/users?since=<id>``: an integer ``since`` is an id, not a date."""
    document = openapi({"/things": get(ARRAY, query("since"))})
    config, report = imported(tmp_path, document)
    assert "incremental" not in resources(config)["things"]["endpoint"]
    assert not any("incremental" in x for x in report.lines())


# dependent resources --------------------------------------------------------------------------


def test_dependent_resources_from_parameter_names(tmp_path: Path) -> None:
    """``{login}`` is the parent's field of that name; ``{orgId}`` the parent's ``id``; a
    parameter no field matches is reported."""
    org = {"type": "object", "properties": {"id": INT, "login": STR}}
    one = {"type": "object", "properties": {"id": INT}}
    document = openapi(
        {
            "/orgs": get({"type": "array", "items": org}),
            "/orgs/{login}": get(one),
            "/orgs/{orgId}/teams": get({"type": "array", "items": one}),
            "/orgs/{nothing}/x": get(ARRAY),
        }
    )
    config, report = imported(tmp_path, document)
    found = resources(config)
    assert list(found) == ["orgs", "orgs_detail", "orgs_teams"]
    assert found["orgs_detail"]["endpoint"]["params"] == {
        "login": {"type": "resolve", "resource": "orgs", "field": "login"}
    }
    assert found["orgs_teams"]["endpoint"]["params"] == {
        "orgId": {"type": "resolve", "resource": "orgs", "field": "id"}
    }
    text = "\n".join(report.lines())
    assert (
        "skipped GET /orgs/{nothing}/x: no field of 'orgs' records matches path parameter" in text
    )


def resolve(resource: str, field: str) -> dict[str, str]:
    return {"type": "resolve", "resource": resource, "field": field}


GITHUB_LIKE = {
    "/orgs": get({"type": "array", "items": {"type": "object", "properties": {"login": STR}}}),
    "/orgs/{org}/repos": get(
        {"type": "array", "items": {"type": "object", "properties": {"id": INT, "name": STR}}}
    ),
    "/orgs/{org}/repos/{repo}/issues": get(
        {"type": "array", "items": {"type": "object", "properties": {"id": INT, "number": INT}}},
        {"name": "repo", "in": "path", "description": "The name of the repository."},
    ),
    "/orgs/{org}/repos/{repo}/issues/{issue_number}/comments": get(ARRAY),
    "/orgs/{org}/repos/{repo}": get(
        {"type": "object", "properties": {"id": INT}},
        {"name": "repo", "in": "path", "description": "The name of the repository."},
    ),
}


def test_several_path_parameters_are_carried_down_a_chain(tmp_path: Path) -> None:
    """``/orgs/{org}/repos/{repo}/issues`` hangs from ``/orgs/{org}/repos``: ``{repo}`` from
    each repo's ``name`` (its description says so; without one, the ``id``), ``{org}`` from
    the ``_orgs_login`` the tap adds to each repo record (``include_from_parent``); one level
    further, ``_orgs_repos__orgs_login`` and ``_orgs_repos_name``."""
    config, report = imported(tmp_path, openapi(GITHUB_LIKE))
    found = resources(config)
    assert list(found) == [
        "orgs",
        "orgs_repos",
        "orgs_repos_issues",
        "orgs_repos_issues_comments",
        "orgs_repos_detail",
    ]
    assert found["orgs_repos"]["include_from_parent"] == ["login"]
    assert found["orgs_repos_issues"]["include_from_parent"] == ["_orgs_login", "name"]
    assert found["orgs_repos_issues"]["endpoint"]["params"] == {
        "org": resolve("orgs_repos", "_orgs_login"),
        "repo": resolve("orgs_repos", "name"),
    }
    assert found["orgs_repos_issues_comments"]["endpoint"]["params"] == {
        "org": resolve("orgs_repos_issues", "_orgs_repos__orgs_login"),
        "repo": resolve("orgs_repos_issues", "_orgs_repos_name"),
        "issue_number": resolve("orgs_repos_issues", "number"),
    }
    assert found["orgs_repos_detail"]["endpoint"]["params"]["repo"] == resolve("orgs_repos", "name")
    assert (
        "  parent: {repo} from field 'name' of each 'orgs_repos' record (/orgs/{org}/repos); "
        "{org} from '_orgs_login' (include_from_parent)"
    ) in report.lines()


def test_a_chain_runs(tmp_path: Path) -> None:
    """The chain above, synced in-process: every request filled from its parents' records."""
    config, _ = imported(tmp_path, openapi(GITHUB_LIKE, servers=[{"url": "https://gh.test"}]))
    with requests_mock.Mocker() as mock:
        mock.get("https://gh.test/orgs", json=[{"login": "acme"}, {"login": "zeta"}])
        for org, repo in (("acme", "r1"), ("zeta", "r2")):
            mock.get(f"https://gh.test/orgs/{org}/repos", json=[{"id": 1, "name": repo}])
            base = f"https://gh.test/orgs/{org}/repos/{repo}"
            mock.get(base, json={"id": 1})
            mock.get(f"{base}/issues", json=[{"id": 2, "number": 7}])
            mock.get(f"{base}/issues/7/comments", json=[{"id": 3}])
        messages = sync(config)
        paths = sorted(r.path for r in mock.request_history)
    assert paths == [
        "/orgs",
        *(
            f"/orgs/{org}/repos{tail}"
            for org, repo in (("acme", "r1"), ("zeta", "r2"))
            for tail in ("", f"/{repo}", f"/{repo}/issues", f"/{repo}/issues/7/comments")
        ),
    ]
    assert len(records(messages, "orgs_repos_issues_comments")) == 2
    assert records(messages, "orgs_repos_issues")[0]["_orgs_repos_name"] == "r1"


# a response schema shared by operations that page differently --------------------------------


def test_shared_envelope_contradicting_parameters_is_not_trusted(tmp_path: Path) -> None:
    """Django Ninja names every paginated response of ItemOut ``PagedItemOut``: the cursor
    operation's envelope (results + next) is written for the offset and page operations too.
    Only the operation whose parameters agree keeps the envelope's selector and link."""
    paged = {
        "type": "object",
        "properties": {"next": NULLABLE_STR, "results": ARRAY},
    }
    ref = {"$ref": "#/components/schemas/PagedItemOut"}
    document = openapi(
        {
            "/items": get(ref, query("limit", default=100), query("offset")),
            "/items/pages": get(ref, query("page", minimum=1)),
            "/items/cursor": get(ref, query("cursor", "string")),
        },
        components={"schemas": {"PagedItemOut": paged}},
    )
    config, report = imported(tmp_path, document)
    found = resources(config)
    assert found["items"]["endpoint"] == {
        "path": "items",
        "paginator": {
            "type": "offset",
            "limit": 100,
            "offset_param": "offset",
            "limit_param": "limit",
        },
    }
    assert found["items_pages"]["endpoint"] == {
        "path": "items/pages",
        "paginator": {"type": "page_number", "page_param": "page", "base_page": 1},
    }
    assert found["items_cursor"]["endpoint"] == {
        "path": "items/cursor",
        "data_selector": "results",
        "paginator": {"type": "json_link", "next_url_path": "next"},
    }
    doubts = [x for x in report.lines() if x.startswith("  doubt: ")]
    assert len(doubts) == 2
    assert doubts[0] == (
        "  doubt: the response schema PagedItemOut is shared by operations paged by cursor, "
        "offset, page parameters, and its fields page by json_link while this one's parameters "
        "page by offset: its envelope is not trusted (data_selector detected at run time, paging "
        "from parameters)"
    )


# what GitHub's document (@octokit/openapi) taught ------------------------------------------------


def test_page_size_maximum_from_the_description(tmp_path: Path) -> None:
    """GitHub's ``per_page`` declares only ``default: 30``; its description says ``(max 100)``."""
    per_page = query("per_page", default=30) | {
        "description": "The number of results per page (max 100). For more information, see …"
    }
    document = openapi({"/users": get(ARRAY, per_page, headers={"Link": {"schema": STR}})})
    config, report = imported(tmp_path, document)
    assert resources(config)["users"]["endpoint"]["params"] == {"per_page": 100}
    assert (
        "  paginator: header_link from response header 'Link'; sends per_page=100 "
        "('max 100' in per_page's description)"
    ) in report.lines()


def test_records_and_unions_are_not_envelopes(tmp_path: Path) -> None:
    """A path ending in a parameter answers one record even when it holds an array (a migration
    and its repositories); so does an object with an ``id``; a ``oneOf`` of two user shapes is
    one record with the fields of both; ``{username}`` is the parent's ``login``, not ``name``."""
    user = {"type": "object", "properties": {"id": INT, "login": STR, "name": STR}}
    private = {"type": "object", "properties": {"id": INT, "login": STR, "plan": STR}}
    migration = {"type": "object", "properties": {"id": INT, "repositories": ARRAY}}
    document = openapi(
        {
            "/users": get({"type": "array", "items": user}),
            "/users/{username}": get({"oneOf": [private, user]}),
            "/user/migrations": get({"type": "array", "items": migration}),
            "/user/migrations/{migration_id}": get(migration),
            "/user/latest_migration": get(migration),
        }
    )
    config, report = imported(tmp_path, document)
    found = resources(config)
    assert list(found) == ["users", "users_detail", "user_migrations", "user_migrations_detail"]
    assert found["users_detail"]["endpoint"]["params"] == {
        "username": {"type": "resolve", "resource": "users", "field": "login"}
    }
    assert found["users_detail"]["primary_key"] == "id"
    assert found["user_migrations_detail"]["endpoint"]["data_selector"] == "$"
    text = "\n".join(report.lines())
    assert "one record (a path ending in a parameter)" in text
    assert (
        "skipped GET /user/latest_migration: the response (an inline schema) is one record "
        "(it has an 'id'), not a collection (and no path parameter)"
    ) in text


def test_stripe_style_instance_parameters_and_skipped_parents(tmp_path: Path) -> None:
    """Stripe names a path's instance after the collection (``/customers/{customer}``,
    ``/verification_reports/{report}``): the parent's ``id``. A child whose parent was skipped
    (a required parameter with no value) is skipped too, rather than naming a missing parent."""
    record = {"type": "object", "properties": {"id": STR}}
    listing = {"type": "object", "properties": {"data": {"type": "array", "items": record}}}
    required = query("financial_account", "string") | {"required": True}
    document = openapi(
        {
            "/v1/customers": get(listing),
            "/v1/customers/{customer}/cards": get(listing),
            "/v1/identity/verification_reports": get(listing),
            "/v1/identity/verification_reports/{report}": get(record),
            "/v1/treasury/transfers": get(listing, required),
            "/v1/treasury/transfers/{transfer}": get(record),
        }
    )
    config, report = imported(tmp_path, document)
    found = resources(config)
    assert list(found) == [
        "customers",
        "customers_cards",
        "identity_verification_reports",
        "identity_verification_reports_detail",
    ]
    assert found["customers_cards"]["endpoint"]["params"]["customer"]["field"] == "id"
    params = found["identity_verification_reports_detail"]["endpoint"]["params"]
    assert params["report"]["field"] == "id"
    assert (
        "skipped GET /v1/treasury/transfers/{transfer}: its parent 'treasury_transfers' was skipped"
    ) in report.lines()


def test_parameters_inside_a_segment_and_a_top_level_href(tmp_path: Path) -> None:
    """Google's ``{parent}:search`` and ``profiles{ext}`` are not dependents the importer can
    write yet (reported, not a config validate refuses); a top-level ``href`` is no next link."""
    parents = {"type": "object", "properties": {"parent": STR}}
    document = openapi(
        {
            "/v1/things": get({"type": "array", "items": parents}),
            "/v1/{parent}:search": get(ARRAY),
            "/profiles{ext}": get(ARRAY),
            "/links": get(envelope(href=STR)),
        }
    )
    config, report = imported(tmp_path, document)
    assert list(resources(config)) == ["v1_things", "links"]
    assert resources(config)["links"]["endpoint"]["paginator"] == "auto"
    text = "\n".join(report.lines())
    assert (
        "skipped GET /v1/{parent}:search: path parameter {parent} inside segment "
        "'{parent}:search': not generated yet"
    ) in text
    assert (
        "skipped GET /profiles{ext}: path parameter {ext} inside segment 'profiles{ext}': "
        "not generated yet"
    ) in text


def test_stripe_style_cursor_runs(tmp_path: Path) -> None:
    """The guessed ``data[-1].id`` → ``starting_after`` cursor against a Stripe-like API (25
    customers, 10 a page, ``has_more``): every record once, three requests."""
    customer = {"type": "object", "properties": {"id": STR, "email": NULLABLE_STR}}
    listing = {
        "type": "object",
        "properties": {"data": {"type": "array", "items": customer}, "has_more": BOOL},
    }
    params = [query("starting_after", "string"), query("limit", maximum=10)]
    config, _ = imported(tmp_path, openapi({"/customers": get(listing, *params)}))
    everyone = [{"id": f"cus_{n:02d}", "email": None} for n in range(1, 26)]

    def page(request: Any, context: Any) -> dict[str, Any]:
        after = request.qs.get("starting_after", [None])[0]
        start = next((i + 1 for i, c in enumerate(everyone) if c["id"] == after), 0)
        size = int(request.qs["limit"][0])
        return {"data": everyone[start : start + size], "has_more": start + size < 25}

    with requests_mock.Mocker() as mock:
        mock.get("https://api.example.com/v1/customers", json=page)
        messages = sync(config)
        sent = [r.qs.get("starting_after") for r in mock.request_history]
    assert [r["id"] for r in records(messages, "customers")] == [c["id"] for c in everyone]
    assert sent == [None, ["cus_10"], ["cus_20"]]
