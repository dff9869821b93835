"""sync/family.py: what a child gets from each parent record (contexts, include_from_parent),
selection of parents and children, failures and pagination per parent, a three-level chain."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests_mock
from dependent_helpers import (
    PARENT,
    POSTS,
    Seen,
    answer,
    catalog_selecting,
    child,
    config,
    schema,
    sent,
    serve_posts,
    streams_written,
)
from helpers import BASE_URL, Message, day, records, resource, states, sync
from helpers import bookmark as final_bookmark

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.tap import TapRestGeneric

# --------------------------------------------------------------------------------------------
# Child contexts: only the fields the children use


def test_child_context_holds_only_the_fields_children_use(contexts: Seen) -> None:
    """The SDK passes each child ``{"_posts_<field>": value}``, never the parent record."""
    cfg = config(
        PARENT,
        child("comments", "posts/{resources.posts.id}/comments"),
        {
            **child("likes", "users/{resources.posts.author.id}/likes"),
            "include_from_parent": ["title"],
        },
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        for post in POSTS:
            answer(mocker, f"/posts/{post['id']}/comments", [])
            answer(mocker, f"/users/{post['author']['id']}/likes", [])
        sync(cfg)
    expected = [
        {"_posts_id": p["id"], "_posts_author_id": p["author"]["id"], "_posts_title": p["title"]}
        for p in POSTS
    ]
    assert contexts == [
        ("posts", None),
        ("comments", expected[0]),
        ("likes", expected[0]),
        ("comments", expected[1]),
        ("likes", expected[1]),
        ("comments", expected[2]),
        ("likes", expected[2]),
    ]


def test_generate_child_contexts_is_minimal() -> None:
    """``generate_child_contexts`` yields only the needed keys; a leaf stream yields nothing."""
    cfg = config(PARENT, child("comments", "users/{resources.posts.author.id}/comments"))
    tap = TapRestGeneric(config=cfg, parse_env_config=False)
    posts, comments = tap.streams["posts"], tap.streams["comments"]
    assert list(posts.generate_child_contexts(copy.deepcopy(POSTS[0]), None)) == [
        {"_posts_author_id": 7}
    ]
    assert list(comments.generate_child_contexts({"id": 1}, {"_posts_author_id": 7})) == []


def test_per_parent_state_partitions_hold_only_the_parent_key(contexts: Seen) -> None:
    """Partitions are keyed by the child's own parent field; no parent data leaks into state."""
    cfg = config(
        PARENT,
        {
            **child(
                "comments",
                "posts/{resources.posts.id}/comments",
                incremental={
                    "cursor_path": "updated_at",
                    "initial_value": day(1),
                    "start_param": "since",
                    "per_parent": True,
                },
            ),
            "primary_key": "id",
        },
        {**child("likes", "likes/{resources.posts.id}"), "include_from_parent": ["title"]},
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        for n in (1, 2, 3):
            answer(mocker, f"/posts/{n}/comments", [{"id": 10 * n, "updated_at": day(n + 1)}])
            answer(mocker, f"/likes/{n}", [])
        messages = sync(cfg)
    assert final_bookmark(messages, "comments") == {
        "partitions": [
            {
                "context": {"_posts_id": n},
                "replication_key": "updated_at",
                "replication_key_value": day(n + 1),
                "boundary_keys": [[10 * n]],
            }
            for n in (1, 2, 3)
        ]
    }
    # the SDK passed the sibling's field too, but the partition context keeps only this child's
    assert [c for name, c in contexts if name == "comments"] == [
        {"_posts_id": n, "_posts_title": t} for n, t in ((1, "First"), (2, "Second"), (3, "Third"))
    ]
    written = json.dumps(states(messages))
    for leaked in ("parent body", "Ann", "_posts_title", '"author"'):
        assert leaked not in written


# --------------------------------------------------------------------------------------------
# include_from_parent


def test_include_from_parent_adds_fields_to_records_and_schema() -> None:
    """``_<parent>_<field>`` on each child record (nested fields flattened) and in the schema."""
    cfg = config(
        PARENT,
        {
            **child("comments", "posts/{resources.posts.id}/comments"),
            "include_from_parent": ["title", "author.id"],
        },
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        for n in (1, 2, 3):
            answer(mocker, f"/posts/{n}/comments", [{"id": 10 * n}, {"id": 10 * n + 1}])
        messages = sync(cfg)
    assert records(messages, "comments") == [
        {"id": 10 * p["id"] + k, "_posts_title": p["title"], "_posts_author_id": p["author"]["id"]}
        for p in POSTS
        for k in (0, 1)
    ]
    properties = schema(messages, "comments")["properties"]
    assert {"_posts_title", "_posts_author_id"} <= set(properties)
    assert "_posts_id" not in records(messages, "comments")[0]


def test_include_from_parent_field_missing_fails_naming_parent_and_field() -> None:
    """An included field the parent record lacks stops the run with a clear error."""
    cfg = config(
        PARENT,
        {
            **child("comments", "posts/{resources.posts.id}/comments"),
            "include_from_parent": ["title"],
        },
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, [{"id": 1}])
        with pytest.raises(StreamRequestError) as info:
            sync(cfg)
    assert str(info.value) == (
        "stream 'comments': a record of 'posts' has no field 'title', which 'comments' needs"
    )
    assert len(mocker.request_history) == 1


# --------------------------------------------------------------------------------------------
# Selection


def test_parent_selected_false_in_config_feeds_child_without_its_records() -> None:
    """``selected: false`` on the parent: it is requested for the child, writes nothing itself."""
    cfg = config(
        {**PARENT, "selected": False},
        child("comments", "posts/{resources.posts.id}/comments"),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        for n in (1, 2, 3):
            answer(mocker, f"/posts/{n}/comments", [{"id": n}])
        messages = sync(cfg)
    assert len(mocker.request_history) == 4
    assert records(messages, "comments") == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert streams_written(messages) == {"comments"}


def test_parent_deselected_in_catalog_feeds_child_without_its_records() -> None:
    """A catalog deselecting the parent: still requested, its records and schema not written."""
    cfg = config(PARENT, child("comments", "posts/{resources.posts.id}/comments"))
    catalog = catalog_selecting(cfg, "comments")
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        for n in (1, 2, 3):
            answer(mocker, f"/posts/{n}/comments", [{"id": n}])
        messages = sync(cfg, catalog=catalog)
    assert [url for _, url, _ in sent(mocker)] == [
        f"{BASE_URL}/posts",
        *[f"{BASE_URL}/posts/{n}/comments" for n in (1, 2, 3)],
    ]
    assert records(messages, "comments") == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert streams_written(messages) == {"comments"}
    assert not [m for m in messages if m["type"] == "SCHEMA" and m["stream"] == "posts"]


def test_child_deselected_in_catalog_is_not_requested() -> None:
    """Only the parent selected: no child request at all."""
    cfg = config(PARENT, child("comments", "posts/{resources.posts.id}/comments"))
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        messages = sync(cfg, catalog=catalog_selecting(cfg, "posts"))
    assert len(mocker.request_history) == 1
    assert records(messages, "posts") == POSTS
    assert streams_written(messages) == {"posts"}


def test_parent_field_missing_is_fine_when_the_child_is_deselected() -> None:
    """No selected child needs the field, so a parent record without it is just written."""
    cfg = config(PARENT, child("comments", "users/{resources.posts.author.id}/comments"))
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, [{"id": 1}, {"id": 2, "author": {"id": 3}}])
        messages = sync(cfg, catalog=catalog_selecting(cfg, "posts"))
    assert records(messages, "posts") == [{"id": 1}, {"id": 2, "author": {"id": 3}}]


# --------------------------------------------------------------------------------------------
# Failures per parent


def test_ignored_404_skips_only_that_parent() -> None:
    """``response_actions`` ignore 404: parent 2's child request is skipped, others written."""
    cfg = config(
        PARENT,
        child(
            "comments",
            "posts/{resources.posts.id}/comments",
            response_actions=[{"status_code": 404, "action": "ignore"}],
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        answer(mocker, "/posts/1/comments", [{"id": 10}, {"id": 11}])
        answer(mocker, "/posts/2/comments", {"status_code": 404, "json": {"error": "gone"}})
        answer(mocker, "/posts/3/comments", [{"id": 30}])
        messages = sync(cfg)
    assert len(mocker.request_history) == 4
    assert records(messages, "comments") == [{"id": 10}, {"id": 11}, {"id": 30}]
    assert records(messages, "posts") == POSTS


def test_404_without_response_action_fails_the_run() -> None:
    """Without the ignore action the same 404 stops the run with the child's request named."""
    cfg = config(PARENT, child("comments", "posts/{resources.posts.id}/comments"))
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        answer(mocker, "/posts/1/comments", [{"id": 10}])
        answer(
            mocker,
            "/posts/2/comments",
            {"status_code": 404, "reason": "Not Found", "json": {"error": "gone"}},
        )
        with pytest.raises(StreamRequestError) as info:
            sync(cfg)
    assert str(info.value) == (
        f"stream 'comments': GET {BASE_URL}/posts/2/comments failed with status 404 Not Found: "
        '{"error": "gone"}'
    )


def test_parent_record_missing_the_field_fails_naming_parent_and_field() -> None:
    """A parent record without ``author.id``: StreamRequestError naming the parent and field."""
    cfg = config(PARENT, child("comments", "users/{resources.posts.author.id}/comments"))
    written: list[Message] = []
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, [{"id": 1, "author": {"id": 5}}, {"id": 2, "author": {}}])
        answer(mocker, "/users/5/comments", [{"id": 50}])
        with pytest.raises(StreamRequestError) as info:
            sync(cfg, into=written)
    assert str(info.value) == (
        "stream 'comments': a record of 'posts' has no field 'author.id', which 'comments' needs"
    )
    assert [url for _, url, _ in sent(mocker)] == [
        f"{BASE_URL}/posts",
        f"{BASE_URL}/users/5/comments",
    ]
    assert records(written, "comments") == [{"id": 50}]


def test_parent_field_null_counts_as_missing() -> None:
    """A null parent field cannot fill a path: the same clear error, no request with 'None'."""
    cfg = config(PARENT, child("comments", "posts/{resources.posts.id}/comments"))
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, [{"id": None}])
        with pytest.raises(StreamRequestError, match="has no field 'id'"):
            sync(cfg)
    assert len(mocker.request_history) == 1


# --------------------------------------------------------------------------------------------
# Pagination per parent


def test_paginated_child_restarts_its_cursor_per_parent() -> None:
    """A cursor-paginated child: each parent's first request carries no cursor."""
    cfg = config(
        PARENT,
        resource(
            "comments",
            "posts/{resources.posts.id}/comments",
            data_selector="items",
            paginator={"type": "cursor", "cursor_path": "next", "cursor_param": "after"},
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, POSTS[:2])
        for n in (1, 2):
            answer(
                mocker,
                f"/posts/{n}/comments",
                {"items": [{"id": f"{n}a"}, {"id": f"{n}b"}], "next": f"c{n}"},
                {"items": [{"id": f"{n}c"}], "next": None},
            )
        messages = sync(cfg)
    assert [url for _, url, _ in sent(mocker)] == [
        f"{BASE_URL}/posts",
        f"{BASE_URL}/posts/1/comments",
        f"{BASE_URL}/posts/1/comments?after=c1",
        f"{BASE_URL}/posts/2/comments",
        f"{BASE_URL}/posts/2/comments?after=c2",
    ]
    assert [r["id"] for r in records(messages, "comments")] == ["1a", "1b", "1c", "2a", "2b", "2c"]


def test_post_child_cursor_body_path_keeps_the_filter() -> None:
    """POST child: ``page.after`` is written into the body; ``filter`` and ``page.size`` stay."""
    cfg = config(
        PARENT,
        resource(
            "events",
            "events/search",
            method="POST",
            json={"filter": {"post": "{resources.posts.id}", "kind": "x"}, "page": {"size": 2}},
            data_selector="results",
            paginator={
                "type": "cursor",
                "cursor_path": "page.next",
                "cursor_body_path": "page.after",
            },
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, POSTS[:2])
        answer(
            mocker,
            "/events/search",
            {"results": [{"id": 1}, {"id": 2}], "page": {"next": "n1"}},
            {"results": [{"id": 3}], "page": {"next": None}},
            {"results": [{"id": 4}], "page": {}},
            method="POST",
        )
        messages = sync(cfg)

    def body(post: int, after: str | None = None) -> dict[str, Any]:
        page: dict[str, Any] = {"size": 2} if after is None else {"size": 2, "after": after}
        return {"filter": {"post": post, "kind": "x"}, "page": page}

    url = f"{BASE_URL}/events/search"
    assert sent(mocker)[1:] == [
        ("POST", url, body(1)),
        ("POST", url, body(1, "n1")),
        ("POST", url, body(2)),
    ]
    assert [r["id"] for r in records(messages, "events")] == [1, 2, 3, 4]


def test_chain_grandparent_parent_child(contexts: Seen) -> None:
    """posts → comments → replies: each level gets only its own parent's fields."""
    cfg = config(
        {
            **child("replies", "comments/{resources.comments.id}/replies"),
            "include_from_parent": ["post_id"],
        },
        {
            **child("comments", "posts/{resources.posts.id}/comments"),
            "include_from_parent": ["title"],
        },
        PARENT,
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, POSTS[:2])
        answer(mocker, "/posts/1/comments", [{"id": 11, "post_id": 1}, {"id": 12, "post_id": 1}])
        answer(mocker, "/posts/2/comments", [{"id": 21, "post_id": 2}])
        for c in (11, 12, 21):
            answer(mocker, f"/comments/{c}/replies", [{"id": c * 10}])
        messages = sync(cfg)
    assert [url.removeprefix(BASE_URL) for _, url, _ in sent(mocker)] == [
        "/posts",
        "/posts/1/comments",
        "/comments/11/replies",
        "/comments/12/replies",
        "/posts/2/comments",
        "/comments/21/replies",
    ]
    assert records(messages, "replies") == [
        {"id": 110, "_comments_post_id": 1},
        {"id": 120, "_comments_post_id": 1},
        {"id": 210, "_comments_post_id": 2},
    ]
    assert records(messages, "comments") == [
        {"id": 11, "post_id": 1, "_posts_title": "First"},
        {"id": 12, "post_id": 1, "_posts_title": "First"},
        {"id": 21, "post_id": 2, "_posts_title": "Second"},
    ]
    assert contexts == [
        ("posts", None),
        ("comments", {"_posts_id": 1, "_posts_title": "First"}),
        ("replies", {"_comments_id": 11, "_comments_post_id": 1}),
        ("replies", {"_comments_id": 12, "_comments_post_id": 1}),
        ("comments", {"_posts_id": 2, "_posts_title": "Second"}),
        ("replies", {"_comments_id": 21, "_comments_post_id": 2}),
    ]
