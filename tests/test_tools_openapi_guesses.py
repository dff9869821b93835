"""``import-openapi``'s paging guesses corrected after reviewing real-world documents
(tests/test_tools_openapi_corpus.py): each test is the shape of the document that was guessed
wrong, made small."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_tools_openapi import ITEM, get, imported, openapi, query, resources


def listing(*params: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A GET /items answering ``{"data": [...], **fields}`` with these parameters."""
    schema = {"type": "object", "properties": {"data": {"type": "array", "items": ITEM}, **fields}}
    return openapi({"/items": get(schema, *params)})


def paging(tmp_path: Path, document: dict[str, Any]) -> tuple[Any, list[str]]:
    """The paginator of the one resource, and the report's lines."""
    config, report = imported(tmp_path, document)
    return resources(config)["items"]["endpoint"].get("paginator"), report.lines()


def describe(param: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    """The parameter with a description (and other keys, such as an example)."""
    return {**param, "description": text, **extra}


ASANA_OFFSET = describe(
    query("offset", "string"),
    "Offset token. An offset to the next page returned by the API.",
    example="eyJ0eXAiOJiKV1iQLCJhbGciOiJIUzI1NiJ9",
)


def test_an_offset_token_is_not_a_numeric_offset(tmp_path: Path) -> None:
    # Asana: 'offset' is a string token returned by the previous page; the list schema does not
    # declare where, so paging is left to run-time detection instead of counting offsets
    paginator, lines = paging(tmp_path, listing(ASANA_OFFSET, query("limit")))
    assert paginator == "auto"
    assert any("query parameter 'offset' looks like a cursor" in line for line in lines)


def test_an_offset_token_with_the_field_that_feeds_it_is_a_cursor(tmp_path: Path) -> None:
    next_page = {"type": "object", "properties": {"offset": {"type": "string"}}}
    paginator, _ = paging(tmp_path, listing(ASANA_OFFSET, query("limit"), next_page=next_page))
    assert paginator == {
        "type": "cursor",
        "cursor_path": "next_page.offset",
        "cursor_param": "offset",
        "limit": 100,
        "limit_param": "limit",
    }


def test_a_numeric_offset_typed_string_stays_an_offset(tmp_path: Path) -> None:
    # many converted Swagger documents type every parameter as a string
    offset = describe(query("offset", "string"), "Number of records to skip", example="20")
    paginator, _ = paging(tmp_path, listing(offset, query("limit")))
    assert paginator["type"] == "offset"


def test_an_authentication_token_parameter_is_not_a_cursor(tmp_path: Path) -> None:
    # Slack: every method takes 'token' ('Authentication token. Requires scope: …') beside its
    # real 'cursor'
    token = describe(query("token", "string"), "Authentication token. Requires scope: `users:read`")
    cursor = describe(query("cursor", "string"), "Paginate with a `next_cursor` value")
    paginator, lines = paging(tmp_path, listing(token, cursor))
    assert paginator == "auto"
    assert any("query parameter 'cursor' looks like a cursor" in line for line in lines)
    assert not any("'token'" in line for line in lines)
    meta = {"type": "object", "properties": {"next_cursor": {"type": "string"}}}
    paginator, _ = paging(tmp_path, listing(token, cursor, response_metadata=meta))
    assert paginator == {
        "type": "cursor",
        "cursor_path": "response_metadata.next_cursor",
        "cursor_param": "cursor",
    }


def test_pagination_token_takes_next_token(tmp_path: Path) -> None:
    # Twitter v2: meta.next_token feeds pagination_token
    meta = {"type": "object", "properties": {"next_token": {"type": "string"}}}
    document = listing(query("pagination_token", "string"), query("max_results"), meta=meta)
    paginator, _ = paging(tmp_path, document)
    assert paginator == {
        "type": "cursor",
        "cursor_path": "meta.next_token",
        "cursor_param": "pagination_token",
        "limit": 100,
        "limit_param": "max_results",
    }


def test_an_offset_with_a_token_example_is_a_token(tmp_path: Path) -> None:
    offset = query("offset", "string", example="eyJ0eXAiOJiKV1iQ")
    paginator, _ = paging(tmp_path, listing(offset, query("limit")))
    assert paginator == "auto"
