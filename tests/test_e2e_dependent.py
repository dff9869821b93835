"""Incremental children over two runs, STATE fed back: one shared bookmark (dlt's default)
or one partition per parent, with the exact start values each parent's request sends."""

from __future__ import annotations

from typing import Any

import requests_mock
from dependent_helpers import (
    PARENT,
    POSTS,
    answer,
    child,
    config,
    serve_posts,
)
from helpers import Message, day, records, states, sync
from helpers import bookmark as final_bookmark

# --------------------------------------------------------------------------------------------
# Incremental children: shared bookmark (dlt's default) or one per parent


def incremental_child(**extra: Any) -> dict[str, Any]:
    """An incremental child of posts (``since`` = start value), primary key ``id``."""
    inc = {"cursor_path": "updated_at", "initial_value": day(1), "start_param": "since", **extra}
    return {
        **child("comments", "posts/{resources.posts.id}/comments", incremental=inc),
        "primary_key": "id",
    }


COMMENTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": True,
}
"""The comments' schema as run 1 infers it. Declared, it spares run 2 (no catalog, a bookmark)
the schema sample of posts and comments from the initial value before the sync's requests."""


def since_sent(mocker: requests_mock.Mocker) -> list[tuple[str, str | None]]:
    """(path, since) of every child request."""
    found = []
    for request in mocker.request_history[1:]:
        values = request.qs.get("since")
        found.append((request.path, values[0].upper() if values else None))
    return found


def timeline(messages: list[Message], stream: str) -> list[str]:
    """The child's RECORD ids and each new stream-level bookmark (``@value``) in output order."""
    shown: list[str] = []
    last = None
    for message in messages:
        if message["type"] == "RECORD" and message["stream"] == stream:
            shown.append(str(message["record"]["id"]))
        elif message["type"] == "STATE":
            entry = message["value"].get("bookmarks", {}).get(stream, {})
            mark = entry.get("replication_key_value")
            if mark is not None and mark != last:
                shown.append(f"@{mark}")
                last = mark
    return shown


def test_shared_bookmark_same_start_for_every_parent_and_written_once() -> None:
    """Default (dlt): one stream-level bookmark; every parent starts from it; stored at the end."""
    cfg = config(PARENT, {**incremental_child(), "schema": COMMENTS_SCHEMA})
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        answer(mocker, "/posts/1/comments", [{"id": 10, "updated_at": day(5)}])
        answer(mocker, "/posts/2/comments", [{"id": 20, "updated_at": day(9)}])
        answer(mocker, "/posts/3/comments", [{"id": 30, "updated_at": day(3)}])
        first = sync(cfg)
        run1 = since_sent(mocker)
    assert run1 == [
        ("/posts/1/comments", day(1)),
        ("/posts/2/comments", day(1)),
        ("/posts/3/comments", day(1)),
    ]
    assert timeline(first, "comments") == ["10", "20", "30", f"@{day(9)}"]
    assert final_bookmark(first, "comments") == {
        "replication_key": "updated_at",
        "replication_key_value": day(9),
        "boundary_keys": [[20]],
    }

    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        answer(mocker, "/posts/1/comments", [{"id": 11, "updated_at": day(10)}])
        answer(mocker, "/posts/2/comments", [{"id": 20, "updated_at": day(9)}])
        answer(mocker, "/posts/3/comments", [])
        second = sync(cfg, state=states(first)[-1])
        run2 = since_sent(mocker)
    assert run2 == [
        ("/posts/1/comments", day(9)),
        ("/posts/2/comments", day(9)),
        ("/posts/3/comments", day(9)),
    ]
    assert records(second, "comments") == [{"id": 11, "updated_at": day(10)}]
    assert final_bookmark(second, "comments") == {
        "replication_key": "updated_at",
        "replication_key_value": day(10),
        "boundary_keys": [[11]],
    }


def test_shared_bookmark_with_row_order_asc_sorted_per_parent() -> None:
    """row_order 'asc' holds per request sequence (per parent), as in dlt."""
    cfg = config(PARENT, incremental_child(row_order="asc"))
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, POSTS[:2])
        answer(mocker, "/posts/1/comments", [{"id": 10, "updated_at": day(9)}])
        answer(mocker, "/posts/2/comments", [{"id": 20, "updated_at": day(3)}])
        messages = sync(cfg)
    assert [r["id"] for r in records(messages, "comments")] == [10, 20]
    assert final_bookmark(messages, "comments")["replication_key_value"] == day(9)


def test_shared_bookmark_with_row_order_asc_is_stored_only_at_the_end() -> None:
    """Even with sorted pages, a shared bookmark is stored once every parent is done."""
    cfg = config(PARENT, incremental_child(row_order="asc"))
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, POSTS[:2])
        answer(mocker, "/posts/1/comments", [{"id": 10, "updated_at": day(5)}])
        answer(mocker, "/posts/2/comments", [{"id": 20, "updated_at": day(6)}])
        messages = sync(cfg)
    assert timeline(messages, "comments") == ["10", "20", f"@{day(6)}"]


def test_per_parent_bookmarks_one_partition_per_parent_key() -> None:
    """``per_parent: true``: a partition per parent key; run 2 sends each parent's own value."""
    cfg = config(PARENT, {**incremental_child(per_parent=True), "schema": COMMENTS_SCHEMA})
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        answer(mocker, "/posts/1/comments", [{"id": 10, "updated_at": day(5)}])
        answer(mocker, "/posts/2/comments", [{"id": 20, "updated_at": day(9)}])
        answer(mocker, "/posts/3/comments", [])
        first = sync(cfg)
        run1 = since_sent(mocker)
    assert run1 == [
        ("/posts/1/comments", day(1)),
        ("/posts/2/comments", day(1)),
        ("/posts/3/comments", day(1)),
    ]
    assert records(first, "comments") == [
        {"id": 10, "updated_at": day(5), "_posts_id": 1},
        {"id": 20, "updated_at": day(9), "_posts_id": 2},
    ]
    assert final_bookmark(first, "comments") == {
        "partitions": [
            {
                "context": {"_posts_id": 1},
                "replication_key": "updated_at",
                "replication_key_value": day(5),
                "boundary_keys": [[10]],
            },
            {
                "context": {"_posts_id": 2},
                "replication_key": "updated_at",
                "replication_key_value": day(9),
                "boundary_keys": [[20]],
            },
            {"context": {"_posts_id": 3}},
        ]
    }

    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        answer(mocker, "/posts/1/comments", [{"id": 10, "updated_at": day(5)}])
        answer(mocker, "/posts/2/comments", [{"id": 21, "updated_at": day(11)}])
        answer(mocker, "/posts/3/comments", [{"id": 30, "updated_at": day(2)}])
        second = sync(cfg, state=states(first)[-1])
        run2 = since_sent(mocker)
    assert run2 == [
        ("/posts/1/comments", day(5)),
        ("/posts/2/comments", day(9)),
        ("/posts/3/comments", day(1)),
    ]
    assert records(second, "comments") == [
        {"id": 21, "updated_at": day(11), "_posts_id": 2},
        {"id": 30, "updated_at": day(2), "_posts_id": 3},
    ]
    partitions = final_bookmark(second, "comments")["partitions"]
    assert [(p["context"], p.get("replication_key_value")) for p in partitions] == [
        ({"_posts_id": 1}, day(5)),
        ({"_posts_id": 2}, day(11)),
        ({"_posts_id": 3}, day(2)),
    ]
