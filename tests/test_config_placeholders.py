"""Placeholders filled per parent record: the exact requests (method, URL, headers, body)
a child sends, value types in JSON, form data, escaped braces, resolve params."""

from __future__ import annotations

import pytest
import requests_mock
from dependent_helpers import (
    PARENT,
    POSTS,
    answer,
    child,
    config,
    sent,
    serve_posts,
)
from helpers import BASE_URL, records, sync

# --------------------------------------------------------------------------------------------
# Behaviour: requests per parent record


def test_exact_requests_for_three_parents() -> None:
    """One child request per parent record: path, query (value and key), headers, JSON body."""
    cfg = config(
        PARENT,
        child(
            "comments",
            "{org}/posts/{resources.posts.id}/comments",
            method="POST",
            params={"org": "acme", "q": "post-{resources.posts.id}", "f_{resources.posts.id}": "1"},
            headers={"X-Post": "{resources.posts.id}", "X-Title": "t {resources.posts.title}"},
            json={
                "post": "{resources.posts.id}",
                "label": "p{resources.posts.id}",
                "author": "{resources.posts.author.id}",
                "nested": [{"id": "{resources.posts.id}"}],
                "size": 5,
            },
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        for post in POSTS:
            n = post["id"]
            answer(mocker, f"/acme/posts/{n}/comments", [{"id": 10 * n}], method="POST")
        messages = sync(cfg)
        headers = [(r.headers["X-Post"], r.headers["X-Title"]) for r in mocker.request_history[1:]]
    assert sent(mocker) == [
        ("GET", f"{BASE_URL}/posts", None),
        *[
            (
                "POST",
                f"{BASE_URL}/acme/posts/{p['id']}/comments?q=post-{p['id']}&f_{p['id']}=1",
                {
                    "post": p["id"],
                    "label": f"p{p['id']}",
                    "author": p["author"]["id"],
                    "nested": [{"id": p["id"]}],
                    "size": 5,
                },
            )
            for p in POSTS
        ],
    ]
    assert headers == [("1", "t First"), ("2", "t Second"), ("3", "t Third")]
    assert records(messages, "comments") == [{"id": 10}, {"id": 20}, {"id": 30}]
    assert records(messages, "posts") == POSTS


def test_lone_json_placeholder_keeps_the_parent_value_type() -> None:
    """A JSON value that is exactly one placeholder keeps int/str/list/dict; text otherwise."""
    posts = [{"id": 5, "code": "A1", "tags": ["x", "y"], "meta": {"k": 1}, "ok": True}]
    cfg = config(
        PARENT,
        child(
            "search",
            "search",
            method="POST",
            json={
                "id": "{resources.posts.id}",
                "code": "{resources.posts.code}",
                "tags": "{resources.posts.tags}",
                "meta": "{resources.posts.meta}",
                "ok": "{resources.posts.ok}",
                "text": "{resources.posts.id}{resources.posts.code}",
                "spaced": " {resources.posts.id}",
            },
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, posts)
        answer(mocker, "/search", [], method="POST")
        sync(cfg)
    assert sent(mocker)[1][2] == {
        "id": 5,
        "code": "A1",
        "tags": ["x", "y"],
        "meta": {"k": 1},
        "ok": True,
        "text": "5A1",
        "spaced": " 5",
    }


def test_form_data_child_per_parent() -> None:
    """``data`` (form-encoded) with placeholders: one body per parent, values as text."""
    cfg = config(
        PARENT,
        child(
            "forms",
            "forms",
            method="POST",
            data={"post": "{resources.posts.id}", "who": "{resources.posts.author.name}"},
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        answer(mocker, "/forms", [], [], [], method="POST")
        sync(cfg)
        types = {r.headers["Content-Type"] for r in mocker.request_history[1:]}
    assert [body for _, _, body in sent(mocker)[1:]] == [
        "post=1&who=Ann",
        "post=2&who=Bob",
        "post=3&who=Cy",
    ]
    assert types == {"application/x-www-form-urlencoded"}


def test_get_child_without_json_sends_no_body_and_empty_json_sends_braces() -> None:
    """No ``json``: no body. ``json: {}`` on GET: the body ``{}`` (as dlt)."""
    cfg = config(
        PARENT,
        child("plain", "posts/{resources.posts.id}/plain"),
        child("empty", "posts/{resources.posts.id}/empty", json={}),
    )
    posts = POSTS[:1]
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, posts)
        answer(mocker, "/posts/1/plain", [])
        answer(mocker, "/posts/1/empty", [])
        sync(cfg)
    assert sent(mocker)[1:] == [
        ("GET", f"{BASE_URL}/posts/1/plain", None),
        ("GET", f"{BASE_URL}/posts/1/empty", {}),
    ]


def test_escaped_braces_in_a_child_path_are_sent_literally() -> None:
    """``posts/{resources.posts.id}/{{x}}`` requests ``posts/1/{x}`` (URL-encoded braces)."""
    cfg = config(PARENT, child("comments", "posts/{resources.posts.id}/{{x}}"))
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, POSTS[:2])
        answer(mocker, "/posts/1/%7Bx%7D", [{"id": 1}])
        answer(mocker, "/posts/2/%7Bx%7D", [{"id": 2}])
        messages = sync(cfg)
    assert [url for _, url, _ in sent(mocker)] == [
        f"{BASE_URL}/posts",
        f"{BASE_URL}/posts/1/%7Bx%7D",
        f"{BASE_URL}/posts/2/%7Bx%7D",
    ]
    assert records(messages, "comments") == [{"id": 1}, {"id": 2}]


@pytest.mark.parametrize(
    ("path", "placeholder_params", "served", "url"),
    [
        pytest.param(
            "comments",
            {"p": "{resources.posts.id}"},
            "/comments",
            f"{BASE_URL}/comments?p=1&f=%7B%22a%22%3A1%7D",
            id="with a params placeholder",
        ),
        pytest.param(
            "posts/{resources.posts.id}/comments",
            {},
            "/posts/1/comments",
            f"{BASE_URL}/posts/1/comments?f=%7B%22a%22%3A1%7D",
            id="with only a path placeholder",
        ),
    ],
)
def test_escaped_braces_in_child_params(
    path: str, placeholder_params: dict[str, str], served: str, url: str
) -> None:
    """``{{`` / ``}}`` are literal braces in every child's params and json, as in dlt: with a
    placeholder in params or only in the path, ``{{a}}`` in params and json is sent as ``{a}``."""
    cfg = config(
        PARENT,
        child(
            "comments",
            path,
            params={**placeholder_params, "f": '{{"a":1}}'},
            json={"f": "{{b}}"},
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, POSTS[:1])
        answer(mocker, served, [])
        sync(cfg)
    assert sent(mocker)[1:] == [
        ("GET", url, {"f": "{b}"}),
    ]


def test_multiple_resolve_params_from_one_parent() -> None:
    """Two resolve params (nested and plain field) of one parent fill one path per record."""
    cfg = config(
        PARENT,
        child(
            "comments",
            "authors/{author}/posts/{post}/comments",
            params={
                "author": {"type": "resolve", "resource": "posts", "field": "author.id"},
                "post": {"type": "resolve", "resource": "posts", "field": "id"},
                "sort": "new",
            },
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker)
        for post in POSTS:
            answer(mocker, f"/authors/{post['author']['id']}/posts/{post['id']}/comments", [])
        sync(cfg)
    assert [url for _, url, _ in sent(mocker)[1:]] == [
        f"{BASE_URL}/authors/7/posts/1/comments?sort=new",
        f"{BASE_URL}/authors/8/posts/2/comments?sort=new",
        f"{BASE_URL}/authors/9/posts/3/comments?sort=new",
    ]
