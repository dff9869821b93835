"""Incremental sync end to end: the tap runs in-process, twice, with its STATE fed back.

Every test asserts what was sent (the exact start/end values), which records came out, and the
exact bookmark the Singer state holds afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests_mock
from helpers import (
    BASE_URL,
    UnexpectedRequestError,
    ids,
    make_tap,
    params,
    resource,
    sync,
)
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.incremental import INCREMENTAL_FIELDS
from tap_restgeneric.config.resolve import resolve_config
from tap_restgeneric.errors import StreamRequestError, one_of
from tap_restgeneric.sync import streams
from tap_restgeneric.tap import TapRestGeneric

Message = dict[str, Any]
Record = dict[str, Any]
ANY_ITEMS_URL = re.compile(r"^https://api\.example\.com/items")
JAN = "2024-01-{:02d}T00:00:00Z"
INC: dict[str, Any] = {"cursor_path": "updated_at", "initial_value": JAN.format(1)}


def day(n: int) -> str:
    """``2024-01-<n>T00:00:00Z``."""
    return JAN.format(n)


def rec(record_id: int, updated_at: Any) -> Record:
    """A record ``{"id": …, "updated_at": …}``."""
    return {"id": record_id, "updated_at": updated_at}


# --------------------------------------------------------------------------------------------
# harness


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


def records(messages: list[Message]) -> list[Record]:
    """The records of every RECORD message."""
    return [m["record"] for m in messages if m["type"] == "RECORD"]


def states(messages: list[Message]) -> list[dict[str, Any]]:
    """The value of every STATE message."""
    return [m["value"] for m in messages if m["type"] == "STATE"]


def last_state(messages: list[Message]) -> dict[str, Any]:
    """The value of the last STATE message (what a runner stores)."""
    found = states(messages)
    assert found, "no STATE message"
    return found[-1]


def bookmark(messages: list[Message], stream: str = "items") -> dict[str, Any]:
    """The stream's entry in the last STATE."""
    value: dict[str, Any] = last_state(messages)["bookmarks"][stream]
    return value


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


def config_errors(endpoint: dict[str, Any], **settings: Any) -> list[str]:
    """The lines ``resolve_config`` reports for a one-resource config ([] when valid)."""
    cfg = {
        "client": {"base_url": BASE_URL},
        "resources": [{"name": "items", "endpoint": {"path": "items", **endpoint}}],
        **settings,
    }
    try:
        resolve_config(cfg)
    except ConfigValidationError as exc:
        return list(exc.errors)
    return []


def at(*keys: str | int) -> str:
    """A config path under the resource's endpoint, as error lines print it."""
    return "config['resources'][0]['endpoint']" + "".join(f"[{k!r}]" for k in keys)


@pytest.fixture
def freeze(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Freeze the sync start time ("now") the stream reads."""

    def set_now(text: str) -> None:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        monkeypatch.setattr(streams, "utc_now", lambda: moment)

    return set_now


# --------------------------------------------------------------------------------------------
# 1. two runs, state fed back, for each form

RUN1 = [rec(0, "2023-12-31T00:00:00Z"), rec(1, day(2)), rec(2, day(3))]
RUN2 = [rec(2, day(3)), rec(3, day(3)), rec(1, day(4)), rec(4, day(5))]


def _query_since(request: Any) -> Any:
    return params(request)["since"]


def _path_since(request: Any) -> Any:
    return unquote(urlsplit(request.url).path).rsplit("/", 1)[1]


def _header_since(request: Any) -> Any:
    return request.headers["X-Since"]


def _json_since(request: Any) -> Any:
    return request.json()["filter"]["since"]


FORMS: dict[str, tuple[dict[str, Any], Callable[[Any], Any], str]] = {
    "endpoint start_param": ({"incremental": {**INC, "start_param": "since"}}, _query_since, "GET"),
    "param form": ({"params": {"since": {"type": "incremental", **INC}}}, _query_since, "GET"),
    "start_value in params": (
        {"params": {"since": "{incremental.start_value}"}, "incremental": INC},
        _query_since,
        "GET",
    ),
    "last_value in params": (
        {"params": {"since": "{incremental.last_value}"}, "incremental": INC},
        _query_since,
        "GET",
    ),
    "start_value in path": (
        {"path": "items/since/{incremental.start_value}", "incremental": INC},
        _path_since,
        "GET",
    ),
    "start_value in a header": (
        {"headers": {"X-Since": "{incremental.start_value}"}, "incremental": INC},
        _header_since,
        "GET",
    ),
    "start_value in a json body": (
        {
            "method": "POST",
            "json": {"filter": {"since": "{incremental.start_value}"}},
            "incremental": INC,
        },
        _json_since,
        "POST",
    ),
}


@pytest.mark.parametrize("form", FORMS)
def test_two_runs_send_the_bookmark_and_skip_the_boundary_record(form: str) -> None:
    endpoint, sent, method = FORMS[form]
    cfg = config(endpoint, schema=ITEMS)
    with requests_mock.Mocker() as m:
        answer(m, RUN1, method=method)
        first = sync(cfg)
    assert [sent(r) for r in m.request_history] == ["2024-01-01T00:00:00Z"]
    assert ids(records(first)) == [1, 2]  # id 0 is older than initial_value
    assert last_state(first) == {
        "bookmarks": {
            "items": {
                "replication_key": "updated_at",
                "replication_key_value": "2024-01-03T00:00:00Z",
                "boundary_keys": [[2]],
            }
        }
    }

    with requests_mock.Mocker() as m:
        answer(m, RUN2, method=method)
        second = sync(cfg, last_state(first))
    assert [sent(r) for r in m.request_history] == ["2024-01-03T00:00:00Z"]
    # id 2 (at the bookmark, already written) is not repeated; id 3 at the same instant is new
    assert records(second) == [rec(3, day(3)), rec(1, day(4)), rec(4, day(5))]
    assert bookmark(second) == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-01-05T00:00:00Z",
        "boundary_keys": [[4]],
    }


def test_an_undeclared_schema_is_sampled_from_the_initial_value_before_run_2() -> None:
    """No catalog, no declared schema, a bookmark: run 2 first types the stream from the page a
    run without state starts with (as --discover samples: from initial_value, state ignored),
    so it writes run 1's SCHEMA even with nothing new; then it syncs from the bookmark."""
    cfg = config({"incremental": {**INC, "start_param": "since"}})
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        first = sync(cfg)
    assert [params(r) for r in m.request_history] == [{"since": day(1)}]  # no bookmark: no sample

    with requests_mock.Mocker() as m:
        answer(m, RUN1, [])  # the initial value's page (the sample), then nothing new
        second = sync(cfg, last_state(first))
    assert [params(r) for r in m.request_history] == [{"since": day(1)}, {"since": day(3)}]
    schemas = [msg for msg in second if msg["type"] == "SCHEMA"]
    assert schemas == [msg for msg in first if msg["type"] == "SCHEMA"]
    assert schemas[0]["schema"]["properties"]["id"] == {"type": ["integer"]}
    assert records(second) == []  # the sampled records are not written
    assert bookmark(second) == bookmark(first)


def test_path_placeholder_is_sent_in_the_url() -> None:
    cfg = config({"path": "items/since/{incremental.start_value}", "incremental": INC})
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(cfg)
    assert m.request_history[0].url == "https://api.example.com/items/since/2024-01-01T00:00:00Z"


def test_lone_placeholder_in_a_json_body_keeps_the_epoch_int() -> None:
    cfg = config(
        {
            "method": "POST",
            "json": {
                "since": "{incremental.start_value}",
                "note": "after {incremental.start_value}",
            },
            "incremental": {"cursor_path": "ts", "initial_value": 1704067200},
        },
        schema=declared(id=INTEGER, ts=INTEGER),
    )
    page1 = [{"id": 0, "ts": 1704067100}, {"id": 1, "ts": 1704153600}, {"id": 2, "ts": 1704240000}]
    with requests_mock.Mocker() as m:
        answer(m, page1, method="POST")
        first = sync(cfg)
    assert [r.json() for r in m.request_history] == [
        {"since": 1704067200, "note": "after 1704067200"}
    ]
    assert ids(records(first)) == [1, 2]
    assert bookmark(first) == {
        "replication_key": "ts",
        "replication_key_value": 1704240000,
        "boundary_keys": [[2]],
    }

    page2 = [{"id": 2, "ts": 1704240000}, {"id": 3, "ts": 1704326400}]
    with requests_mock.Mocker() as m:
        answer(m, page2, method="POST")
        second = sync(cfg, last_state(first))
    assert [r.json() for r in m.request_history] == [
        {"since": 1704240000, "note": "after 1704240000"}
    ]
    assert ids(records(second)) == [3]
    assert bookmark(second)["replication_key_value"] == 1704326400


def test_nested_cursor_path_is_copied_to_a_top_level_replication_key() -> None:
    cfg = config(
        {
            "incremental": {
                "cursor_path": "meta.updated_at",
                "initial_value": day(1),
                "start_param": "since",
            }
        }
    )
    body = [{"id": 1, "meta": {"updated_at": day(2)}}, {"id": 2, "meta": {"updated_at": day(3)}}]
    with requests_mock.Mocker() as m:
        answer(m, body)
        first = sync(cfg)
    assert records(first) == [
        {"id": 1, "meta": {"updated_at": day(2)}, "meta__updated_at": day(2)},
        {"id": 2, "meta": {"updated_at": day(3)}, "meta__updated_at": day(3)},
    ]
    schema = next(m for m in first if m["type"] == "SCHEMA")
    assert schema["bookmark_properties"] == ["meta__updated_at"]
    assert bookmark(first) == {
        "replication_key": "meta__updated_at",
        "replication_key_value": day(3),
        "boundary_keys": [[2]],
    }
    with requests_mock.Mocker() as m:
        answer(m, body, [])
        sync(cfg, last_state(first))
    # undeclared schema: run 2 first samples the initial value's page, then syncs from day 3
    assert [params(r) for r in m.request_history] == [{"since": day(1)}, {"since": day(3)}]


def test_start_value_is_the_bookmark_else_initial_value_else_start_date() -> None:
    inc = {"cursor_path": "updated_at", "start_param": "since"}
    cases: list[tuple[dict[str, Any], dict[str, Any] | None, str]] = [
        ({"incremental": inc}, None, "2024-03-01T00:00:00Z"),
        ({"incremental": {**inc, "initial_value": day(1)}}, None, day(1)),
        (
            {"incremental": {**inc, "initial_value": day(1)}},
            {
                "bookmarks": {
                    "items": {"replication_key": "updated_at", "replication_key_value": day(9)}
                }
            },
            day(9),
        ),
        (  # a bookmark for another cursor (the config changed) is not used
            {"incremental": {**inc, "initial_value": day(1)}},
            {
                "bookmarks": {
                    "items": {"replication_key": "created_at", "replication_key_value": day(9)}
                }
            },
            day(1),
        ),
    ]
    for endpoint, state, expected in cases:
        with requests_mock.Mocker() as m:
            answer(m, [])
            sync(config(endpoint, schema=ITEMS, start_date="2024-03-01T00:00:00Z"), state)
        assert params(m.request_history[0]) == {"since": expected}, (endpoint, state)


def test_without_any_param_the_incremental_filters_client_side() -> None:
    cfg = config({"incremental": INC}, schema=ITEMS)
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        first = sync(cfg)
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        second = sync(cfg, last_state(first))
    assert [params(r) for r in m.request_history] == [{}]
    assert ids(records(first)) == [1, 2]
    assert records(second) == []
    assert bookmark(second) == bookmark(first)


def test_boundary_keys_with_a_composite_primary_key() -> None:
    cfg = config(
        {"incremental": INC},
        primary_key=["org", "id"],
        schema=declared(id=INTEGER, org=STRING, updated_at=DATE_TIME),
    )
    body = [
        {"org": "a", "id": 1, "updated_at": day(2)},
        {"org": "b", "id": 1, "updated_at": day(2)},
    ]
    with requests_mock.Mocker() as m:
        answer(m, body)
        first = sync(cfg)
    assert bookmark(first)["boundary_keys"] == [["a", 1], ["b", 1]]
    again = [*body, {"org": "c", "id": 1, "updated_at": day(2)}]
    with requests_mock.Mocker() as m:
        answer(m, again)
        second = sync(cfg, last_state(first))
    assert records(second) == [{"org": "c", "id": 1, "updated_at": day(2)}]
    # same instant again: the keys accumulate so none of the three repeats on run 3
    assert bookmark(second)["boundary_keys"] == [["a", 1], ["b", 1], ["c", 1]]


def sale(sku: str, updated_at: str, qty: int = 1, **more: Any) -> Record:
    """A record without any key: ``{"sku": …, "qty": …, "updated_at": …}``."""
    return {"sku": sku, "qty": qty, "updated_at": updated_at, **more}


def skus(messages: list[Message]) -> list[Any]:
    """The ``sku`` of every record written, in order."""
    return [r["sku"] for r in records(messages)]


HEX_DIGEST = re.compile(r"^[0-9a-f]{32}$")


def test_without_a_primary_key_boundary_records_are_recognised_by_their_content() -> None:
    """As dlt: no primary key, so the records at the bookmark are known by a content hash."""
    schema = declared(
        qty=INTEGER, sku=STRING, token={"type": ["string", "null"]}, updated_at=DATE_TIME
    )
    cfg = config({"incremental": {**INC, "start_param": "since"}}, primary_key=None, schema=schema)
    run1 = [sale("a", day(2)), sale("b", day(3), token="tok-s3cr3t"), sale("c", day(3))]
    with requests_mock.Mocker() as m:
        answer(m, run1)
        first = sync(cfg)
    assert skus(first) == ["a", "b", "c"]
    saved = bookmark(first)
    assert saved.keys() == {"replication_key", "replication_key_value", "boundary_hashes"}
    assert saved["replication_key_value"] == day(3)
    # one digest per record at the bookmark (b and c), and nothing of their content
    assert len(saved["boundary_hashes"]) == 2
    assert all(HEX_DIGEST.match(h) for h in saved["boundary_hashes"])
    assert "tok-s3cr3t" not in str(last_state(first))

    # the API answers >= the bookmark: b and c again (fields in another order), then new ones
    run2 = [
        {"updated_at": day(3), "token": "tok-s3cr3t", "qty": 1, "sku": "b"},
        sale("c", day(3)),
        sale("d", day(3)),
        sale("e", day(4)),
    ]
    with requests_mock.Mocker() as m:
        answer(m, run2)
        second = sync(cfg, last_state(first))
    assert params(m.request_history[0]) == {"since": day(3)}
    assert skus(second) == ["d", "e"]  # exactly the new records
    assert bookmark(second)["replication_key_value"] == day(4)
    assert len(bookmark(second)["boundary_hashes"]) == 1  # only e is at the new bookmark


def test_without_a_primary_key_a_changed_boundary_record_is_written_again() -> None:
    """Same cursor value, another field changed: new content, so new data to write."""
    schema = declared(qty=INTEGER, sku=STRING, updated_at=DATE_TIME)
    cfg = config({"incremental": INC}, primary_key=None, schema=schema)
    with requests_mock.Mocker() as m:
        answer(m, [sale("a", day(2)), sale("b", day(3)), sale("c", day(3))])
        first = sync(cfg)
    changed = sale("b", day(3), qty=5)
    with requests_mock.Mocker() as m:
        answer(m, [sale("b", day(3)), changed, sale("c", day(3))])
        second = sync(cfg, last_state(first))
    assert records(second) == [changed]
    # the bookmark did not move: the digests add up, so run 3 writes none of the three again
    assert bookmark(second)["replication_key_value"] == day(3)
    assert len(bookmark(second)["boundary_hashes"]) == 3
    with requests_mock.Mocker() as m:
        answer(m, [sale("b", day(3)), changed, sale("c", day(3))])
        third = sync(cfg, last_state(second))
    assert records(third) == []
    assert bookmark(third) == bookmark(second)


def test_without_a_primary_key_state_keeps_only_the_records_at_the_bookmark() -> None:
    cfg = config({"incremental": INC}, primary_key=None)
    body = [sale(f"s{n}", day(2 + n % 3)) for n in range(300)]  # 100 records at Jan 4
    with requests_mock.Mocker() as m:
        answer(m, body)
        first = sync(cfg)
    assert len(records(first)) == 300
    assert bookmark(first)["replication_key_value"] == day(4)
    assert len(bookmark(first)["boundary_hashes"]) == 100


def test_an_empty_incremental_primary_key_turns_the_boundary_dedupe_off() -> None:
    """``primary_key: []`` (as dlt's ``()``): the records at the bookmark are written again."""
    cfg = config({"incremental": {**INC, "primary_key": []}}, primary_key=None, schema=ITEMS)
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        first = sync(cfg)
    assert bookmark(first) == {"replication_key": "updated_at", "replication_key_value": day(3)}
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        second = sync(cfg, last_state(first))
    assert ids(records(second)) == [2]


# --------------------------------------------------------------------------------------------
# 2. formats of the values sent: as they came, or `convert`; lag


def sent_since(inc: dict[str, Any], state: dict[str, Any] | None = None) -> Any:
    """The ``since`` query value of the first request for this incremental.

    No record is served: the declared schema only spares run 2 its schema sample request.
    """
    endpoint = {"incremental": {"cursor_path": "t", "start_param": "since", **inc}}
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(config(endpoint, schema=declared(id=INTEGER)), state)
    return params(m.request_history[0])["since"]


def at_bookmark(value: Any, key: str = "t") -> dict[str, Any]:
    """A Singer state whose ``items`` bookmark is ``value``."""
    return {"bookmarks": {"items": {"replication_key": key, "replication_key_value": value}}}


@pytest.mark.parametrize(
    ("value", "lag", "expected"),
    [
        # the default: sent back exactly as written
        ("2024-01-01T00:00:00Z", 0, "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00.000Z", 0, "2024-01-01T00:00:00.000Z"),
        ("2024-01-01T02:00:00+02:00", 0, "2024-01-01T02:00:00+02:00"),
        ("2024-01-01", 0, "2024-01-01"),
        (1704067200, 0, "1704067200"),
        (1704067200000, 0, "1704067200000"),
        # lag: seconds for datetimes (the offset is kept), days for dates, units for numbers
        ("2024-01-01T00:00:00Z", 3600, "2023-12-31T23:00:00Z"),
        ("2024-01-01T02:00:00+02:00", 3600, "2024-01-01T01:00:00+02:00"),
        ("2024-01-01", 2, "2023-12-30"),
        (1704067200, 60, "1704067140"),
        (1704067200000, 1000, "1704067199000"),
        (42, 5, "37"),
        ("2024-01-01T00:00:00Z", 1.5, "2023-12-31T23:59:58.500000Z"),
    ],
)
def test_default_format_and_lag(value: Any, lag: float, expected: str) -> None:
    assert sent_since({"lag": lag}, at_bookmark(value)) == expected
    if not lag:
        assert sent_since({"initial_value": value}) == expected


@pytest.mark.parametrize(
    ("value", "convert", "lag", "expected"),
    [
        ("2024-01-01T00:00:00Z", "iso8601", 0, "2024-01-01T00:00:00Z"),
        ("2024-01-01T00:00:00Z", "iso8601_offset", 0, "2024-01-01T00:00:00+00:00"),
        ("2024-01-01T00:00:00Z", "date", 0, "2024-01-01"),
        ("2024-01-01T00:00:00Z", "epoch", 0, "1704067200"),
        ("2024-01-01T00:00:00Z", "epoch_ms", 0, "1704067200000"),
        ("2024-01-01T00:00:00Z", "%Y%m%d%H%M", 0, "202401010000"),
        ("2024-01-01T00:00:00Z", "%d/%m/%Y", 0, "01/01/2024"),
        ("2024-01-01T02:00:00+02:00", "iso8601", 0, "2024-01-01T00:00:00Z"),
        ("2024-01-01T02:00:00+02:00", "epoch", 0, "1704067200"),
        (1704067200, "iso8601", 0, "2024-01-01T00:00:00Z"),
        (1704067200000, "date", 0, "2024-01-01"),
        ("2024-01-05", "epoch", 0, "1704412800"),
        # lag is applied in the unit of the value as written (seconds here), then converted
        ("2024-01-01T00:00:00Z", "date", 3600, "2023-12-31"),
        ("2024-01-01T00:00:00Z", "epoch", 60, "1704067140"),
        ("2024-01-05", "iso8601", 1, "2024-01-04T00:00:00Z"),
    ],
)
def test_convert_formats(value: Any, convert: str, lag: float, expected: str) -> None:
    assert sent_since({"convert": convert, "lag": lag}, at_bookmark(value)) == expected
    if not lag:
        assert sent_since({"initial_value": value, "convert": convert}) == expected


def test_lag_never_reaches_below_the_configured_start_and_is_off_for_a_backfill() -> None:
    lag = {"lag": 86400}
    # first run: nothing to re-fetch yet, the start is initial_value itself
    assert sent_since({**lag, "initial_value": day(1)}) == day(1)
    # a bookmark less than a lag after initial_value: capped at initial_value
    recent = at_bookmark("2024-01-01T12:00:00Z")
    assert sent_since({**lag, "initial_value": day(1)}, recent) == day(1)
    assert sent_since({**lag, "initial_value": "2024-01-01"}, recent) == "2024-01-01T00:00:00Z"
    # start_date is the configured start when there is no initial_value
    with requests_mock.Mocker() as m:
        answer(m, [])
        inc = {"cursor_path": "t", "start_param": "since", **lag}
        sync(config({"incremental": inc}, schema=declared(id=INTEGER), start_date=day(1)), recent)
    assert params(m.request_history[0]) == {"since": day(1)}
    # with end_value (a backfill, no state) lag does not apply, as in dlt
    backfill = {**lag, "initial_value": day(5), "end_value": day(9)}
    assert sent_since(backfill, at_bookmark(day(7))) == day(5)


def test_convert_applies_to_the_bookmark_and_end_value() -> None:
    inc = {
        **INC,
        "start_param": "since",
        "end_param": "until",
        "end_value": day(22),
        "convert": "epoch",
    }
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2))])
        sync(config({"incremental": inc}))
    assert params(m.request_history[0]) == {"since": "1704067200", "until": "1705881600"}

    state = {
        "bookmarks": {"items": {"replication_key": "updated_at", "replication_key_value": day(3)}}
    }
    assert sent_since({**INC, "convert": "epoch_ms"}, state) == "1704240000000"
    assert sent_since({**INC, "convert": "%Y-%m-%d %H:%M"}, state) == "2024-01-03 00:00"


def test_convert_applies_to_every_incremental_placeholder() -> None:
    inc = {**INC, "end_value": day(22), "convert": "epoch"}
    endpoint = {
        "params": {
            "s": "{incremental.start_value}",
            "l": "{incremental.last_value}",
            "i": "{incremental.initial_value}",
            "e": "{incremental.end_value}",
            "c": "{incremental.cursor_path}",
        },
        "incremental": inc,
    }
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(config(endpoint))
    assert params(m.request_history[0]) == {
        "s": "1704067200",
        "l": "1704067200",
        "i": "1704067200",
        "e": "1705881600",
        "c": "updated_at",
    }


def test_lag_placeholder_renders_as_configured() -> None:
    endpoint = {"params": {"lag": "{incremental.lag}"}, "incremental": {**INC, "lag": 3600}}
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(config(endpoint))
    assert params(m.request_history[0]) == {"lag": "3600"}


def test_lag_refetches_and_keeps_filtering_but_never_moves_the_bookmark_back() -> None:
    cfg = config({"incremental": {**INC, "start_param": "since", "lag": 86400}}, schema=ITEMS)
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        first = sync(cfg)
    # lag never moves the start below initial_value: Dec 31 is still dropped
    assert params(m.request_history[0]) == {"since": day(1)}
    assert ids(records(first)) == [1, 2]
    state = last_state(first)
    assert bookmark(first)["replication_key_value"] == day(3)

    body = [rec(7, "2024-01-01T23:59:59Z"), rec(1, day(2)), rec(2, day(3))]
    with requests_mock.Mocker() as m:
        answer(m, body)
        second = sync(cfg, state)
    assert params(m.request_history[0]) == {"since": day(2)}
    # older than the shifted start: dropped; inside the lag window: sent again (no boundary dedupe)
    assert ids(records(second)) == [1, 2]
    assert bookmark(second)["replication_key_value"] == day(3)

    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2))])  # only a record older than the bookmark comes back
        third = sync(cfg, last_state(second))
    assert ids(records(third)) == [1]
    assert bookmark(third)["replication_key_value"] == day(3)


def test_bookmark_keeps_the_format_of_the_records() -> None:
    cfg = config(
        {"incremental": {"cursor_path": "t", "initial_value": "2024-01-01T00:00:00+02:00"}}
    )
    body = [
        {"id": 1, "t": "2024-01-02T10:00:00+02:00"},
        {"id": 2, "t": "2024-01-02T09:00:00Z"},  # later than 10:00+02:00 (08:00Z)
    ]
    with requests_mock.Mocker() as m:
        answer(m, body)
        first = sync(cfg)
    assert ids(records(first)) == [1, 2]
    assert bookmark(first)["replication_key_value"] == "2024-01-02T09:00:00Z"


# --------------------------------------------------------------------------------------------
# 3. end_value: a backfill that neither reads nor moves the bookmark

STORED = {"replication_key": "updated_at", "replication_key_value": day(20)}


@pytest.mark.parametrize(
    ("range_end", "expected"), [("open", [1]), ("closed", [1, 2])], ids=["open", "closed"]
)
def test_end_value_sends_the_end_filters_and_stores_no_bookmark(
    range_end: str, expected: list[int]
) -> None:
    inc = {
        **INC,
        "end_value": day(10),
        "start_param": "since",
        "end_param": "until",
        "range_end": range_end,
    }
    body = [rec(1, day(2)), rec(2, day(10)), rec(3, day(11))]
    with requests_mock.Mocker() as m:
        answer(m, body)
        first = sync(config({"incremental": inc}))
    assert params(m.request_history[0]) == {"since": day(1), "until": day(10)}
    assert ids(records(first)) == expected
    assert bookmark(first) == {}


def test_end_value_backfill_ignores_and_keeps_a_stored_bookmark() -> None:
    inc = {**INC, "end_value": day(10), "start_param": "since", "end_param": "until"}
    state = {"bookmarks": {"items": {**STORED, "boundary_keys": [[1]]}}}
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2)), rec(2, day(3))])
        out = sync(config({"incremental": inc}), state)
    # the range is [initial_value, end_value), as dlt's backfill: not [bookmark, end_value)
    assert params(m.request_history[0]) == {"since": day(1), "until": day(10)}
    assert ids(records(out)) == [1, 2]
    assert bookmark(out) == {**STORED, "boundary_keys": [[1]]}


def test_end_value_placeholder() -> None:
    inc = {**INC, "end_value": day(10)}
    endpoint = {
        "params": {"range": "{incremental.start_value}..{incremental.end_value}"},
        "incremental": inc,
    }
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(config(endpoint))
    assert params(m.request_history[0]) == {"range": f"{day(1)}..{day(10)}"}


# --------------------------------------------------------------------------------------------
# 4. missing cursor values; range_start


def test_missing_cursor_raises_a_clear_error_naming_stream_and_path() -> None:
    cfg = config({"incremental": {**INC, "cursor_path": "meta.updated_at"}})
    body = [{"id": 1, "meta": {"updated_at": day(2)}}, {"id": 2, "meta": {}}]
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as caught:
        answer(m, body)
        sync(cfg, into=out)
    assert str(caught.value) == (
        "stream 'items': a record has no cursor value at 'meta.updated_at' (set "
        "on_cursor_value_missing to 'include' or 'exclude' to accept such records)"
    )
    assert records(out) == []
    assert all("replication_key_value" not in s["bookmarks"].get("items", {}) for s in states(out))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("include", [1, 2, 5, 3]), ("exclude", [1, 3])],
    ids=["include", "exclude"],
)
def test_missing_cursor_include_or_exclude(mode: str, expected: list[int]) -> None:
    cfg = config({"incremental": {**INC, "on_cursor_value_missing": mode}})
    body = [
        rec(1, day(2)),
        {"id": 2},
        rec(5, None),  # null counts as missing
        rec(3, day(3)),
        rec(4, "2023-06-01T00:00:00Z"),  # has a cursor older than the start: always dropped
    ]
    with requests_mock.Mocker() as m:
        answer(m, body)
        out = sync(cfg)
    assert records(out) == [r for r in body if r["id"] in expected]
    assert bookmark(out)["replication_key_value"] == day(3)


@pytest.mark.parametrize(
    ("range_start", "expected"), [("closed", [1, 2]), ("open", [2])], ids=["closed", "open"]
)
def test_range_start(range_start: str, expected: list[int]) -> None:
    cfg = config({"incremental": {**INC, "range_start": range_start}})
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(1)), rec(2, day(2)), rec(0, "2023-12-31T23:59:59Z")])
        out = sync(cfg)
    assert ids(records(out)) == expected


# --------------------------------------------------------------------------------------------
# 5. row_order


def linked(*pages: list[Record]) -> list[dict[str, Any]]:
    """Bodies ``{"data": [...], "next": <url of the next page>}`` (no next on the last)."""
    bodies = []
    for n, data in enumerate(pages, start=1):
        body: dict[str, Any] = {"data": data}
        if n < len(pages):
            body["next"] = f"{BASE_URL}/items?page={n + 1}"
        bodies.append(body)
    return bodies


def paged(inc: dict[str, Any]) -> dict[str, Any]:
    """An endpoint paged by ``next`` links, records under ``data``."""
    return {
        "paginator": {"type": "json_link", "next_url_path": "next"},
        "data_selector": "data",
        "incremental": inc,
    }


def test_asc_bookmarks_after_every_page() -> None:
    cfg = config(paged({**INC, "row_order": "asc"}))
    pages = linked([rec(1, day(2)), rec(2, day(3))], [rec(3, day(4))], [rec(4, day(5))])
    with requests_mock.Mocker() as m:
        answer(m, *pages)
        out = sync(cfg)
    assert timeline(out) == [
        "1",
        "2",
        f"@{day(3)}",
        "3",
        f"@{day(4)}",
        "4",
        f"@{day(5)}",
        f"@{day(5)}",
    ]
    assert bookmark(out) == {
        "replication_key": "updated_at",
        "replication_key_value": day(5),
        "boundary_keys": [[4]],
    }


def test_unsorted_stream_bookmarks_once_at_the_end() -> None:
    cfg = config(paged(INC))
    pages = linked([rec(1, day(4)), rec(2, day(2))], [rec(3, day(3))])
    with requests_mock.Mocker() as m:
        answer(m, *pages)
        out = sync(cfg)
    assert timeline(out) == ["1", "2", "3", f"@{day(4)}", f"@{day(4)}"]
    assert bookmark(out)["boundary_keys"] == [[1]]


def test_asc_with_unsorted_data_fails_and_keeps_the_last_safe_bookmark() -> None:
    cfg = config(paged({**INC, "row_order": "asc"}))
    pages = linked([rec(1, day(2)), rec(2, day(4))], [rec(3, day(3))])
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError) as caught:
        answer(m, *pages)
        sync(cfg, into=out)
    assert str(caught.value) == (
        "stream 'items': row_order is 'asc' but cursor '2024-01-03T00:00:00Z' came after a "
        "later one (set row_order to null if the API does not sort ascending by the cursor)"
    )
    assert distinct_bookmarks(out) == [day(4)]


def test_asc_with_end_value_stops_requesting_once_a_page_passes_the_end() -> None:
    cfg = config(paged({**INC, "row_order": "asc", "end_value": day(10)}))
    pages = linked(
        [rec(1, day(2)), rec(2, day(4))],
        [rec(3, day(6)), rec(4, day(12))],
        [rec(5, day(14))],
    )
    with requests_mock.Mocker() as m:
        answer(m, *pages)
        out = sync(cfg)
    assert m.call_count == 2
    assert ids(records(out)) == [1, 2, 3]
    assert bookmark(out) == {}


def test_asc_with_a_closed_end_reads_on_while_a_page_ends_at_the_end() -> None:
    inc = {**INC, "row_order": "asc", "end_value": day(10), "range_end": "closed"}
    pages = linked(
        [rec(1, day(8)), rec(2, day(10))],
        [rec(3, day(10)), rec(4, day(11))],
        [rec(5, day(12))],
    )
    with requests_mock.Mocker() as m:
        answer(m, *pages)
        out = sync(config(paged(inc)))
    assert m.call_count == 2
    assert ids(records(out)) == [1, 2, 3]


def test_an_interrupted_asc_run_resumes_after_the_last_full_page() -> None:
    cfg = config(paged({**INC, "start_param": "since", "row_order": "asc"}), schema=ITEMS)
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError):
        first, _ = linked([rec(1, day(2)), rec(2, day(3))], [])
        answer(m, first, {"status_code": 400, "json": {}})
        sync(cfg, into=out)
    assert ids(records(out)) == [1, 2]
    saved = bookmark(out)  # the SDK's in-progress markers (signpost…) are there too
    assert (saved["replication_key"], saved["replication_key_value"]) == ("updated_at", day(3))
    assert saved["boundary_keys"] == [[2]]
    with requests_mock.Mocker() as m:
        answer(m, {"data": [rec(2, day(3)), rec(3, day(4))]})
        second = sync(cfg, last_state(out))
    assert params(m.request_history[0]) == {"since": day(3)}
    assert ids(records(second)) == [3]


def test_an_interrupted_unsorted_run_stores_no_bookmark() -> None:
    cfg = config(paged(INC))
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError):
        first, _ = linked([rec(1, day(5)), rec(2, day(3))], [])
        answer(m, first, {"status_code": 400, "json": {}})
        sync(cfg, into=out)
    assert ids(records(out)) == [1, 2]
    # page 2 may hold records older than Jan 5: no bookmark is safe until the end
    assert distinct_bookmarks(out) in ([], [None])


def test_desc_stops_requesting_once_a_page_is_older_than_the_start() -> None:
    cfg = config(paged({**INC, "initial_value": day(5), "row_order": "desc"}))
    pages = linked(
        [rec(1, day(9)), rec(2, day(7))],
        [rec(3, day(6)), rec(4, day(4))],
        [rec(5, day(3))],
    )
    with requests_mock.Mocker() as m:
        answer(m, *pages)
        out = sync(cfg)
    assert m.call_count == 2
    assert timeline(out) == ["1", "2", "3", f"@{day(9)}", f"@{day(9)}"]


# --------------------------------------------------------------------------------------------
# 6. date windows

WINDOWS = [(day(1), day(8)), (day(8), day(15)), (day(15), day(22))]


def windowed(**extra: Any) -> dict[str, Any]:
    """A weekly-windowed incremental sent through since/until."""
    return {
        "incremental": {
            **INC,
            "start_param": "since",
            "end_param": "until",
            "window_size": "P7D",
            **extra,
        }
    }


def sent_windows(mocker: requests_mock.Mocker) -> list[tuple[str, str]]:
    """The (since, until) pair of every request."""
    return [(params(r)["since"], params(r)["until"]) for r in mocker.request_history]


def test_windows_up_to_end_value_cover_the_range_without_gap_or_overlap() -> None:
    cfg = config(windowed(end_value=day(22)))
    with requests_mock.Mocker() as m:
        # a sloppy API also returns the record at the window's end: it belongs to the next one
        answer(m, [rec(1, day(2)), rec(2, day(8))], [rec(2, day(8)), rec(3, day(14))], [])
        out = sync(cfg)
    assert sent_windows(m) == WINDOWS
    assert ids(records(out)) == [1, 2, 3]
    assert bookmark(out) == {}  # end_value: a backfill stores no bookmark


def test_windows_up_to_now_bookmark_each_window_end(freeze: Callable[[str], None]) -> None:
    freeze("2024-01-22T00:00:00Z")
    cfg = config(windowed())
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2))], [], [rec(3, day(21))])
        out = sync(cfg)
    assert sent_windows(m) == WINDOWS
    # one STATE per finished window (its end), then the SDK's final one
    assert timeline(out) == ["1", f"@{day(8)}", f"@{day(15)}", "3", f"@{day(22)}", f"@{day(22)}"]
    assert bookmark(out) == {"replication_key": "updated_at", "replication_key_value": day(22)}


def test_last_window_ends_now(freeze: Callable[[str], None]) -> None:
    freeze("2024-01-20T12:30:00Z")
    with requests_mock.Mocker() as m:
        answer(m, [], [], [rec(1, "2024-01-20T12:29:59Z"), rec(2, "2024-01-20T12:30:00Z")])
        out = sync(config(windowed()))
    assert sent_windows(m) == [*WINDOWS[:2], (day(15), "2024-01-20T12:30:00Z")]
    assert ids(records(out)) == [1]
    assert bookmark(out)["replication_key_value"] == "2024-01-20T12:30:00Z"


def test_an_interrupted_windowed_run_resumes_at_the_last_finished_window(
    freeze: Callable[[str], None],
) -> None:
    freeze("2024-01-22T00:00:00Z")
    cfg = config(windowed(), schema=ITEMS)
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError):
        answer(m, [rec(1, day(2))], [rec(2, day(9))], {"status_code": 400, "json": {}})
        sync(cfg, into=out)
    assert ids(records(out)) == [1, 2]
    assert distinct_bookmarks(out) == [day(8), day(15)]

    with requests_mock.Mocker() as m:
        answer(m, [rec(3, day(16))])
        second = sync(cfg, last_state(out))
    assert sent_windows(m) == [WINDOWS[2]]
    assert ids(records(second)) == [3]
    assert bookmark(second)["replication_key_value"] == day(22)


def test_windows_through_placeholders_with_convert() -> None:
    endpoint = {
        "params": {"from": "{incremental.start_value}", "to": "{incremental.end_value}"},
        "incremental": {**INC, "end_value": day(22), "window_size": "P7D", "convert": "date"},
    }
    with requests_mock.Mocker() as m:
        answer(m, [], [], [])
        sync(config(endpoint))
    assert [params(r) for r in m.request_history] == [
        {"from": "2024-01-01", "to": "2024-01-08"},
        {"from": "2024-01-08", "to": "2024-01-15"},
        {"from": "2024-01-15", "to": "2024-01-22"},
    ]


def test_windows_start_from_start_date(freeze: Callable[[str], None]) -> None:
    freeze("2024-01-02T00:00:00Z")
    inc = {"cursor_path": "updated_at", "start_param": "since", "window_size": "PT12H"}
    with requests_mock.Mocker() as m:
        answer(m, [], [])
        sync(config({"incremental": inc}, start_date="2024-01-01T00:00:00Z"))
    assert [params(r)["since"] for r in m.request_history] == [day(1), "2024-01-01T12:00:00Z"]


def test_windows_with_an_open_range_start_lose_no_record_at_a_window_edge(
    freeze: Callable[[str], None],
) -> None:
    freeze("2024-01-22T00:00:00Z")
    cfg = config(windowed(range_start="open"), schema=ITEMS)
    with requests_mock.Mocker() as m:
        # Jan 1 equals the (open) start: dropped; Jan 8 and Jan 15 start windows 2 and 3
        answer(m, [rec(1, day(1)), rec(2, day(7))], [rec(3, day(8))], [rec(4, day(15))])
        first = sync(cfg)
    assert ids(records(first)) == [2, 3, 4]
    state = last_state(first)
    assert bookmark(first)["replication_key_value"] == day(22)

    # the bookmark is a window's (exclusive) end: a record exactly there is new
    freeze("2024-01-29T00:00:00Z")
    with requests_mock.Mocker() as m:
        answer(m, [rec(5, day(22)), rec(6, day(23))])
        second = sync(cfg, state)
    assert sent_windows(m) == [(day(22), day(29))]
    assert ids(records(second)) == [5, 6]


def test_windows_over_an_epoch_cursor(freeze: Callable[[str], None]) -> None:
    freeze("2024-01-22T00:00:00Z")
    inc = {
        "cursor_path": "ts",
        "initial_value": 1704067200,
        "start_param": "since",
        "end_param": "until",
        "window_size": "P7D",
    }
    with requests_mock.Mocker() as m:
        answer(m, [{"id": 1, "ts": 1704153600}], [], [])
        out = sync(config({"incremental": inc}))
    assert sent_windows(m) == [
        ("1704067200", "1704672000"),
        ("1704672000", "1705276800"),
        ("1705276800", "1705881600"),
    ]
    assert ids(records(out)) == [1]
    assert distinct_bookmarks(out)[-1] == 1705881600


# --------------------------------------------------------------------------------------------
# 7. future-dated records


def test_future_dated_record_caps_the_bookmark_at_the_sync_start(
    freeze: Callable[[str], None],
) -> None:
    freeze("2024-02-01T00:00:00Z")
    cfg = config({"incremental": {**INC, "start_param": "since"}}, schema=ITEMS)
    with requests_mock.Mocker() as m:
        answer(m, [rec(1, day(2)), rec(2, "2030-01-01T00:00:00Z")])
        first = sync(cfg)
    assert ids(records(first)) == [1, 2]
    assert bookmark(first) == {
        "replication_key": "updated_at",
        "replication_key_value": "2024-02-01T00:00:00Z",
    }
    with requests_mock.Mocker() as m:
        answer(m, [])
        sync(cfg, last_state(first))
    assert params(m.request_history[0]) == {"since": "2024-02-01T00:00:00Z"}


def test_future_date_only_record_caps_in_date_format(freeze: Callable[[str], None]) -> None:
    freeze("2024-02-01T10:00:00Z")
    cfg = config({"incremental": {"cursor_path": "d", "initial_value": "2024-01-01"}})
    with requests_mock.Mocker() as m:
        answer(m, [{"id": 1, "d": "2024-01-05"}, {"id": 2, "d": "2031-01-01"}])
        out = sync(cfg)
    assert bookmark(out)["replication_key_value"] == "2024-02-01"


# --------------------------------------------------------------------------------------------
# 8. config errors


@pytest.mark.parametrize(
    ("endpoint", "settings", "expected"),
    [
        pytest.param(
            {"incremental": {"initial_value": day(1)}},
            {},
            [
                "missing required key 'cursor_path'; expected 'cursor_path': a non-empty string "
                f"at {at('incremental')}"
            ],
            id="missing cursor_path",
        ),
        pytest.param(
            {"incremental": {"cursor_path": "u", "intial_value": day(1)}},
            {},
            [
                "unknown key 'intial_value' (did you mean 'initial_value'?); expected "
                f"{one_of(sorted(INCREMENTAL_FIELDS))} at {at('incremental', 'intial_value')}"
            ],
            id="unknown key",
        ),
        pytest.param(
            {"incremental": {**INC, "window_size": "7 days"}},
            {},
            [
                "invalid duration '7 days'; expected an ISO 8601 duration such as 'P7D' or 'PT6H' "
                f"at {at('incremental', 'window_size')}"
            ],
            id="bad window_size",
        ),
        pytest.param(
            {"incremental": {**INC, "window_size": "P0D"}},
            {},
            [
                "invalid duration 'P0D'; expected an ISO 8601 duration such as 'P7D' or 'PT6H' "
                f"at {at('incremental', 'window_size')}"
            ],
            id="zero window_size",
        ),
        pytest.param(
            {"incremental": {"cursor_path": "u", "window_size": "P7D"}},
            {},
            [
                "date windows need a start; expected 'initial_value' here or the 'start_date' "
                f"setting at {at('incremental', 'window_size')}"
            ],
            id="window without a start",
        ),
        pytest.param(
            {"incremental": {**INC, "convert": "iso"}},
            {},
            [
                "unknown convert format 'iso' (did you mean 'iso8601'?); expected one of "
                "'iso8601', 'iso8601_offset', 'date', 'epoch', 'epoch_ms', 'rfc1123', '%Y…' at "
                f"{at('incremental', 'convert')}"
            ],
            id="bad convert",
        ),
        pytest.param(
            {"params": {"since": {"type": "incremental", **INC, "end_value": day(9)}}},
            {},
            [
                "a param-level incremental cannot set 'end_value'; expected endpoint "
                f"'incremental' with 'end_param' at {at('params', 'since', 'end_value')}"
            ],
            id="param form with end_value",
        ),
        pytest.param(
            {"params": {"since": {"type": "incremental", **INC, "end_param": "until"}}},
            {},
            [
                "a param-level incremental cannot set 'end_param'; expected endpoint "
                f"'incremental' with 'end_param' at {at('params', 'since', 'end_param')}"
            ],
            id="param form with end_param",
        ),
        pytest.param(
            {"params": {"since": {"type": "incremental", **INC}}, "incremental": INC},
            {},
            [
                "incremental is given both in 'params' and as 'incremental'; expected only one "
                f"of them at {at('incremental')}"
            ],
            id="param form and endpoint incremental",
        ),
        pytest.param(
            {"params": {"since": "{incremental.start_value}"}},
            {},
            [
                "placeholder {incremental.start_value} in 'params' is not valid; expected no "
                "placeholders: {incremental.*} ones need an 'incremental' on the endpoint "
                f"at {at('params')}"
            ],
            id="placeholder without incremental",
        ),
        pytest.param(
            {"path": "items/since/{incremental.start_value}"},
            {},
            [
                "placeholder {incremental.start_value} in path "
                "'items/since/{incremental.start_value}' is not valid; expected no placeholders: "
                "{incremental.*} ones need an 'incremental' on the endpoint at "
                f"{at('path')}"
            ],
            id="path placeholder without incremental",
        ),
        pytest.param(
            {"params": {"user": "{resources.users.id}"}},
            {},
            [f"unknown parent resource 'users'; expected one of 'items' at {at()}"],
            id="resources placeholder of an unknown parent",
        ),
        pytest.param(
            {"path": "users/{resources.users.id}/items"},
            {},
            [f"unknown parent resource 'users'; expected one of 'items' at {at()}"],
            id="resources placeholder of an unknown parent in path",
        ),
        pytest.param(
            {"incremental": {**INC, "last_value_func": "min"}},
            {},
            [
                "unknown value 'min'; expected one of 'max' at "
                f"{at('incremental', 'last_value_func')}"
            ],
            id="last_value_func min",
        ),
        pytest.param(
            {"incremental": {**INC, "row_order": "ascending"}},
            {},
            [
                "unknown value 'ascending'; expected one of 'asc', 'desc' at "
                f"{at('incremental', 'row_order')}"
            ],
            id="bad row_order",
        ),
        pytest.param(
            {"incremental": {**INC, "lag": "1h"}},
            {},
            [f"wrong type: got string '1h'; expected a number at {at('incremental', 'lag')}"],
            id="lag not a number",
        ),
        pytest.param(
            {"incremental": {"cursor_path": "u", "window_size": "P7D"}},
            {"start_date": "2024-01-01T00:00:00Z"},
            [],
            id="window with start_date is fine",
        ),
    ],
)
def test_config_errors(
    endpoint: dict[str, Any], settings: dict[str, Any], expected: list[str]
) -> None:
    assert config_errors(endpoint, **settings) == expected


def test_two_incremental_params_are_reported() -> None:
    errors = config_errors(
        {"params": {"a": {"type": "incremental", **INC}, "b": {"type": "incremental", **INC}}}
    )
    assert errors[0] == (
        "params ['a', 'b'] are all incremental; expected only a single incremental param at "
        f"{at('params')}"
    )


def test_two_incremental_params_give_exactly_one_line() -> None:
    errors = config_errors(
        {"params": {"a": {"type": "incremental", **INC}, "b": {"type": "incremental", **INC}}}
    )
    assert errors == [
        "params ['a', 'b'] are all incremental; expected only a single incremental param at "
        f"{at('params')}"
    ]


# --------------------------------------------------------------------------------------------
# 9. catalog


def stream_entry(tap: TapRestGeneric, name: str) -> dict[str, Any]:
    """The catalog entry of one stream."""
    entry: dict[str, Any] = next(s for s in tap.catalog_dict["streams"] if s["stream"] == name)
    return entry


def root_metadata(entry: dict[str, Any]) -> dict[str, Any]:
    """The stream-level (empty breadcrumb) metadata of a catalog entry."""
    meta: dict[str, Any] = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
    return meta


@pytest.mark.parametrize(
    ("inc", "key", "schema"),
    [
        (
            {"cursor_path": "updated_at", "initial_value": day(1)},
            "updated_at",
            {"type": ["string", "null"], "format": "date-time"},
        ),
        (
            {"cursor_path": "$.meta.updated_at", "initial_value": "2024-01-01T00:00:00+02:00"},
            "meta__updated_at",
            {"type": ["string", "null"], "format": "date-time"},
        ),
        (
            {"cursor_path": "day", "initial_value": "2024-01-01"},
            "day",
            {"type": ["string", "null"], "format": "date"},
        ),
        ({"cursor_path": "ts", "initial_value": 1704067200}, "ts", {"type": ["number", "null"]}),
        ({"cursor_path": "version", "initial_value": 2.5}, "version", {"type": ["number", "null"]}),
        # Without a typed initial_value the cursor is declared a date-time until inferred.
        ({"cursor_path": "seq"}, "seq", {"type": ["string", "null"], "format": "date-time"}),
        (
            {"cursor_path": "code", "initial_value": "abc"},
            "code",
            {"type": ["string", "null"], "format": "date-time"},
        ),
    ],
)
def test_catalog_shows_the_replication_key(
    inc: dict[str, Any], key: str, schema: dict[str, Any]
) -> None:
    tap = make_tap(resource("items", incremental=inc))
    entry = stream_entry(tap, "items")
    assert entry["replication_key"] == key
    assert entry["replication_method"] == "INCREMENTAL"
    meta = root_metadata(entry)
    assert meta["replication-key"] == key
    assert meta["valid-replication-keys"] == [key]
    assert entry["schema"]["properties"][key] == schema


def test_catalog_types_a_declared_cursor_and_full_table_without_incremental() -> None:
    """A declared plain-string cursor becomes a date-time; an integer cursor is kept as is."""
    declared = {"properties": {"updated_at": {"type": "string"}}}
    tap = make_tap(
        [
            {"name": "items", "schema": declared, "endpoint": {"incremental": INC}},
            resource("plain"),
        ]
    )
    assert stream_entry(tap, "items")["schema"]["properties"]["updated_at"] == {
        "type": "string",
        "format": "date-time",
    }
    plain = stream_entry(tap, "plain")
    assert plain["replication_method"] == "FULL_TABLE"
    assert "replication_key" not in plain
    assert "valid-replication-keys" not in root_metadata(plain)


# --------------------------------------------------------------------------------------------
# 10. forced FULL_TABLE


def full_table_catalog(cfg: dict[str, Any], how: str) -> dict[str, Any]:
    """The discovered catalog with FULL_TABLE forced on the stream (entry or metadata)."""
    catalog = TapRestGeneric(config=cfg, parse_env_config=False).catalog_dict
    entry = catalog["streams"][0]
    if how == "entry":
        entry["replication_method"] = "FULL_TABLE"
    else:
        del entry["replication_method"]
        root_metadata(entry)["forced-replication-method"] = "FULL_TABLE"
    return catalog


@pytest.mark.parametrize("how", ["entry", "metadata"])
def test_forced_full_table_ignores_the_bookmark_and_stores_none(how: str) -> None:
    cfg = config({"incremental": {**INC, "start_param": "since"}})
    catalog = full_table_catalog(cfg, how)
    state = {"bookmarks": {"items": {**STORED, "boundary_keys": [[2]]}}}
    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        out = sync(cfg, state, catalog=catalog)
    assert params(m.request_history[0]) == {"since": day(1)}  # not the bookmark (Jan 20)
    # initial_value still filters; the record at the old boundary is sent again
    assert ids(records(out)) == [1, 2]
    assert states(out) == [state]  # passed through untouched: neither moved nor replaced

    with requests_mock.Mocker() as m:
        answer(m, RUN1)
        fresh = sync(cfg, catalog=catalog)
    assert ids(records(fresh)) == [1, 2]
    assert states(fresh) == [{"bookmarks": {"items": {}}}]


# --------------------------------------------------------------------------------------------
# misc


def test_state_message_is_valid_json_for_every_cursor_kind() -> None:
    """Bookmarks are written as the raw cursor values: strings stay strings, numbers numbers."""
    cases: list[tuple[dict[str, Any], list[Record], Any]] = [
        ({"cursor_path": "n", "initial_value": 1}, [{"id": 1, "n": 3}, {"id": 2, "n": 2.5}], 3),
        ({"cursor_path": "n", "initial_value": 1.5}, [{"id": 1, "n": 2.5}], 2.5),
        (
            {"cursor_path": "d", "initial_value": "2024-01-01"},
            [{"id": 1, "d": "2024-01-02"}],
            "2024-01-02",
        ),
    ]
    for inc, body, expected in cases:
        with requests_mock.Mocker() as m:
            answer(m, body)
            out = sync(config({"incremental": inc}))
        assert bookmark(out)["replication_key_value"] == expected


# --------------------------------------------------------------------------------------------
# a child resource's incremental shared by all parents


def shared_child_config(**inc: Any) -> dict[str, Any]:
    """Parent ``users``; child ``items`` per user with one incremental shared by all users."""
    child = resource(
        "items",
        "users/{resources.users.id}/items",
        paginator="single_page",
        incremental={**INC, "start_param": "since", **inc},
    )
    return {
        "client": {"base_url": BASE_URL},
        "resources": [
            {**resource("users", paginator="single_page"), "primary_key": "id"},
            {**child, "primary_key": "id"},
        ],
    }


def serve_users(mocker: requests_mock.Mocker, *item_pages: Any) -> None:
    """Users 1 and 2, and each user's items page (a dict with status_code for a failure)."""
    answer(mocker, [{"id": 1}, {"id": 2}], url=f"{BASE_URL}/users")
    for user, body in enumerate(item_pages, start=1):
        answer(mocker, body, url=f"{BASE_URL}/users/{user}/items")


def test_asc_order_is_checked_per_parent_and_the_shared_bookmark_is_the_maximum() -> None:
    with requests_mock.Mocker() as m:
        serve_users(m, [rec(11, day(5))], [rec(21, day(3))])
        out = sync(shared_child_config(row_order="asc"))
    assert [params(r) for r in m.request_history[1:]] == [{"since": day(1)}, {"since": day(1)}]
    assert ids(records(out)) == [11, 1, 21, 2]  # the SDK writes children before their parent
    assert bookmark(out) == {
        "replication_key": "updated_at",
        "replication_key_value": day(5),
        "boundary_keys": [[11]],
    }


def test_shared_asc_bookmark_is_not_stored_before_every_parent_is_done() -> None:
    out: list[Message] = []
    with requests_mock.Mocker() as m, pytest.raises(StreamRequestError):
        serve_users(m, [rec(11, day(5))], {"status_code": 400, "json": {}})
        sync(shared_child_config(row_order="asc"), into=out)
    assert ids(records(out)) == [11, 1]
    assert all("replication_key_value" not in s["bookmarks"].get("items", {}) for s in states(out))
