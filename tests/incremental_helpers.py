"""Harness of the incremental tests: one ``items`` resource run in-process, twice, STATE fed back.

Every test asserts what was sent (the exact start/end values), which records came out, and the
exact bookmark the Singer state holds afterwards.
"""

from __future__ import annotations

import re
from typing import Any

import requests_mock
from helpers import BASE_URL, Message, Record, UnexpectedRequestError, day, resource, states

ANY_ITEMS_URL = re.compile(r"^https://api\.example\.com/items")
INC: dict[str, Any] = {"cursor_path": "updated_at", "initial_value": day(1)}


def rec(record_id: int, updated_at: Any) -> Record:
    """A record ``{"id": …, "updated_at": …}``."""
    return {"id": record_id, "updated_at": updated_at}


RUN1 = [rec(0, "2023-12-31T00:00:00Z"), rec(1, day(2)), rec(2, day(3))]
RUN2 = [rec(2, day(3)), rec(3, day(3)), rec(1, day(4)), rec(4, day(5))]
STORED = {"replication_key": "updated_at", "replication_key_value": day(20)}


def config(
    endpoint: dict[str, Any],
    *,
    name: str = "items",
    primary_key: Any = "id",
    schema: dict[str, Any] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """A one-resource config (single page unless the endpoint says otherwise).

    ``schema``: the resource's declared schema (none: typed from the data).
    """
    res = resource(name, **{"paginator": "single_page", **endpoint})
    if primary_key is not None:
        res["primary_key"] = primary_key
    if schema is not None:
        res["schema"] = schema
    return {"client": {"base_url": BASE_URL}, "resources": [res], **settings}


def declared(**properties: dict[str, Any]) -> dict[str, Any]:
    """A complete declared schema with these properties (other fields allowed).

    Without a catalog, a run given a bookmark first samples an undeclared schema from the
    start value's page: one request before the sync's own (pinned by
    ``test_an_undeclared_schema_is_sampled_from_the_initial_value_before_run_2``). Tests of
    what run 2 sends declare the schema run 1 infers from their records, so run 2 sends only
    the sync's requests while the records and the state (and, when records are served, the
    SCHEMA) stay as without it.
    """
    return {"type": "object", "properties": properties, "additionalProperties": True}


INTEGER: dict[str, Any] = {"type": "integer"}
STRING: dict[str, Any] = {"type": "string"}
DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
ITEMS = declared(id=INTEGER, updated_at=DATE_TIME)
"""The schema of ``rec`` records, as run 1 infers it."""


def answer(
    mocker: requests_mock.Mocker, *bodies: Any, method: str = "GET", url: Any = ANY_ITEMS_URL
) -> Any:
    """Serve JSON ``bodies`` (or response dicts with a ``status_code``) in order; one more fails."""
    responses = [b if isinstance(b, dict) and "status_code" in b else {"json": b} for b in bodies]
    guard = {"exc": UnexpectedRequestError("more requests than the test served")}
    return mocker.register_uri(method, url, [*responses, guard])


def timeline(messages: list[Message]) -> list[str]:
    """RECORD ids and STATE bookmarks in output order: ``["1", "2", "@<bookmark>", …]``."""
    shown = []
    for message in messages:
        if message["type"] == "RECORD":
            shown.append(str(message["record"]["id"]))
        elif message["type"] == "STATE":
            entry = message["value"].get("bookmarks", {}).get("items", {})
            shown.append(f"@{entry.get('replication_key_value')}")
    return shown


def distinct_bookmarks(messages: list[Message]) -> list[Any]:
    """The bookmark values in STATE order, consecutive repeats collapsed."""
    found: list[Any] = []
    for value in states(messages):
        mark = value.get("bookmarks", {}).get("items", {}).get("replication_key_value")
        if not found or found[-1] != mark:
            found.append(mark)
    return found


def root_metadata(entry: dict[str, Any]) -> dict[str, Any]:
    """The stream-level (empty breadcrumb) metadata of a catalog entry."""
    meta: dict[str, Any] = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
    return meta
