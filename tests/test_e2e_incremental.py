"""Incremental runs in-process, twice, STATE fed back: every form of sending the start value,
schema sampling before run 2, nested cursors, and a forced FULL_TABLE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests_mock
from helpers import (
    bookmark,
    day,
    ids,
    last_state,
    params,
    records,
    states,
    sync,
)
from incremental_helpers import (
    INC,
    INTEGER,
    ITEMS,
    RUN1,
    RUN2,
    STORED,
    answer,
    config,
    declared,
    rec,
    root_metadata,
)

from tap_restgeneric.tap import TapRestGeneric

# --------------------------------------------------------------------------------------------
# two runs, state fed back, for each form


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


# --------------------------------------------------------------------------------------------
# forced FULL_TABLE


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
