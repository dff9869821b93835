"""Dependent (parent/child) resources: config errors, requests per parent record, contexts, state.

Config problems are checked as the exact lines ``resolve_config`` reports. Behaviour runs the tap
in-process against requests-mock and asserts every request sent (method, URL, body), the records
and schemas written, the contexts the SDK hands each child, and the Singer STATE.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests_mock
from helpers import BASE_URL, UnexpectedRequestError, resource, sync
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.resolve import resolve_config
from tap_restgeneric.config.spec import ResourceSpec
from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.sync import streams
from tap_restgeneric.tap import TapRestGeneric

Message = dict[str, Any]
Record = dict[str, Any]
Sent = tuple[str, str, Any]
Seen = list[tuple[str, Any]]

POSTS: list[Record] = [
    {"id": 1, "title": "First", "author": {"id": 7, "name": "Ann"}, "body": "parent body one"},
    {"id": 2, "title": "Second", "author": {"id": 8, "name": "Bob"}, "body": "parent body two"},
    {"id": 3, "title": "Third", "author": {"id": 9, "name": "Cy"}, "body": "parent body three"},
]
PARENT = resource("posts", paginator="single_page")
DAY = "2024-01-{:02d}T00:00:00Z"


def day(n: int) -> str:
    """``2024-01-<n>T00:00:00Z``."""
    return DAY.format(n)


# --------------------------------------------------------------------------------------------
# harness


def config(*resources: Any, **settings: Any) -> dict[str, Any]:
    """A config with the test client and the given resources."""
    resources_copy = copy.deepcopy(list(resources))
    return {"client": {"base_url": BASE_URL}, "resources": resources_copy, **settings}


def child(name: str, path: str, **endpoint: Any) -> dict[str, Any]:
    """A single-page child resource (``include_from_parent`` etc. go on the result)."""
    return resource(name, path, **{"paginator": "single_page", **endpoint})


def errors_of(cfg: dict[str, Any]) -> list[str]:
    """The error lines of an invalid config."""
    with pytest.raises(ConfigValidationError) as info:
        resolve_config(cfg)
    return list(info.value.errors)


def specs(cfg: dict[str, Any]) -> dict[str, ResourceSpec]:
    """The resolved resources of a valid config, by name, in resolved order."""
    return {spec.name: spec for spec in resolve_config(cfg).resources}


def records(messages: list[Message], stream: str) -> list[Record]:
    """The records written for one stream, in order."""
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def streams_written(messages: list[Message]) -> set[str]:
    """The streams that have at least one RECORD."""
    return {m["stream"] for m in messages if m["type"] == "RECORD"}


def states(messages: list[Message]) -> list[dict[str, Any]]:
    """The value of every STATE message."""
    return [m["value"] for m in messages if m["type"] == "STATE"]


def final_bookmark(messages: list[Message], stream: str) -> dict[str, Any]:
    """The stream's entry in the last STATE message."""
    found = states(messages)
    assert found, "no STATE message"
    value: dict[str, Any] = found[-1]["bookmarks"][stream]
    return value


def schema(messages: list[Message], stream: str) -> dict[str, Any]:
    """The last SCHEMA message's schema for a stream."""
    found = [m["schema"] for m in messages if m["type"] == "SCHEMA" and m["stream"] == stream]
    assert found, f"no SCHEMA for {stream}"
    value: dict[str, Any] = found[-1]
    return value


def sent(mocker: requests_mock.Mocker) -> list[Sent]:
    """Every request sent: (method, URL, body); JSON bodies parsed, form bodies as text."""
    found: list[Sent] = []
    for request in mocker.request_history:
        body: Any = request.body
        if isinstance(body, bytes):
            body = body.decode()
        if body is not None and "json" in request.headers.get("Content-Type", ""):
            body = json.loads(body)
        found.append((request.method, request.url, body))
    return found


def answer(mocker: requests_mock.Mocker, url: str, *bodies: Any, method: str = "GET") -> None:
    """Serve JSON bodies (or response dicts with ``status_code``) in order; one more fails."""
    responses = [b if isinstance(b, dict) and "status_code" in b else {"json": b} for b in bodies]
    guard = {"exc": UnexpectedRequestError(f"more requests to {url} than the test served")}
    mocker.register_uri(method, BASE_URL + url, [*responses, guard])


def serve_posts(mocker: requests_mock.Mocker, posts: list[Record] | None = None) -> None:
    """``GET /posts`` answers the three POSTS (once)."""
    answer(mocker, "/posts", POSTS if posts is None else posts)


@pytest.fixture
def contexts(monkeypatch: pytest.MonkeyPatch) -> Seen:
    """(stream name, context) for every request sequence, as the SDK passes them."""
    seen: Seen = []
    original = streams.RestGenericStream.request_pages

    def spy(self: streams.RestGenericStream, context: Any) -> Iterator[list[Record]]:
        seen.append((self.name, copy.deepcopy(context)))
        yield from original(self, context)

    monkeypatch.setattr(streams.RestGenericStream, "request_pages", spy)
    return seen


def catalog_selecting(cfg: dict[str, Any], *selected: str) -> dict[str, Any]:
    """The tap's discovered catalog with only ``selected`` streams selected."""
    catalog = copy.deepcopy(TapRestGeneric(config=cfg, parse_env_config=False).catalog_dict)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in selected
    return catalog


# --------------------------------------------------------------------------------------------
# 1. Config: exact error lines

R1 = "config['resources'][1]"
EP1 = f"{R1}['endpoint']"
CYCLE = "expected parents that do not depend on their children"
INVALID: dict[str, tuple[list[Any], list[str]]] = {
    "unknown parent (did you mean)": (
        [PARENT, child("comments", "posts/{resources.post.id}/comments")],
        [
            "unknown parent resource 'post' (did you mean 'posts'?); expected one of "
            f"'comments', 'posts' at {EP1}"
        ],
    ),
    "unknown parent in json, no close name": (
        [PARENT, child("comments", "comments", json={"p": "{resources.zzz.id}"})],
        [f"unknown parent resource 'zzz'; expected one of 'comments', 'posts' at {EP1}"],
    ),
    "unknown parent of a resolve param": (
        [
            PARENT,
            child(
                "comments",
                "posts/{post_id}/comments",
                params={"post_id": {"type": "resolve", "resource": "post", "field": "id"}},
            ),
        ],
        [
            "unknown parent resource 'post' (did you mean 'posts'?); expected one of "
            f"'comments', 'posts' at {EP1}"
        ],
    ),
    "two parents": (
        [
            "users",
            PARENT,
            child(
                "comments",
                "posts/{resources.posts.id}/comments",
                params={"user": "{resources.users.id}"},
            ),
        ],
        [
            "placeholders reference several parent resources: ['posts', 'users']; expected a "
            "single parent resource at config['resources'][2]['endpoint']"
        ],
    ),
    "two parents via resolve params": (
        [
            "users",
            PARENT,
            child(
                "comments",
                "users/{uid}/posts/{pid}",
                params={
                    "uid": {"type": "resolve", "resource": "users", "field": "id"},
                    "pid": {"type": "resolve", "resource": "posts", "field": "id"},
                },
            ),
        ],
        [
            "placeholders reference several parent resources: ['posts', 'users']; expected a "
            "single parent resource at config['resources'][2]['endpoint']"
        ],
    ),
    "self reference": (
        [child("posts", "posts/{resources.posts.id}")],
        [
            "resource 'posts' references itself as its parent; expected another resource at "
            "config['resources'][0]['endpoint']"
        ],
    ),
    "cycle a -> b -> a": (
        [child("a", "a/{resources.b.id}"), child("b", "b/{resources.a.id}")],
        [f"resources form a cycle: a → b → a; {CYCLE} at config['resources'][0]"],
    ),
    "cycle of three": (
        [
            child("a", "a/{resources.c.id}"),
            child("b", "b/{resources.a.id}"),
            child("c", "c/{resources.b.id}"),
        ],
        [f"resources form a cycle: a → c → b → a; {CYCLE} at config['resources'][0]"],
    ),
    "cycle behind a child listed first": (
        [
            child("x", "x/{resources.a.id}"),
            child("a", "a/{resources.b.id}"),
            child("b", "b/{resources.a.id}"),
        ],
        [f"resources form a cycle: a → b → a; {CYCLE} at {R1}"],
    ),
    "path params without params": (
        [resource("issues", "{org}/{repo}/issues")],
        [
            "path '{org}/{repo}/issues' requires a param named 'org'; expected params['org'] "
            "at config['resources'][0]['endpoint']['path']",
            "path '{org}/{repo}/issues' requires a param named 'repo'; expected params['repo'] "
            "at config['resources'][0]['endpoint']['path']",
        ],
    ),
    "resolve param not used in the path": (
        [
            PARENT,
            child(
                "comments",
                "comments",
                params={"post_id": {"type": "resolve", "resource": "posts", "field": "id"}},
            ),
        ],
        [
            "resolve params ['post_id'] are not used in path 'comments'; expected each resolve "
            f"param as a {{name}} in the path at {EP1}['path']"
        ],
    ),
    "resolve param with an unknown key": (
        [
            PARENT,
            child(
                "comments",
                "posts/{post_id}/comments",
                params={
                    "post_id": {"type": "resolve", "resource": "posts", "field": "id", "feild": 1}
                },
            ),
        ],
        [
            "unknown key 'feild' (did you mean 'field'?); expected one of 'field', 'resource', "
            f"'type' at {EP1}['params']['post_id']['feild']"
        ],
    ),
    "resources placeholder with too few parts (path)": (
        [PARENT, child("comments", "posts/{resources.posts}/comments")],
        [
            "invalid placeholder {resources.posts}; expected {resources.<parent>.<field>} at "
            f"{EP1}['path']"
        ],
    ),
    "resources placeholder with too few parts (params)": (
        [PARENT, child("comments", "comments", params={"p": "{resources.posts}"})],
        [
            "invalid placeholder {resources.posts}; expected {resources.<parent>.<field>} at "
            f"{EP1}['params']"
        ],
    ),
    "resources placeholder with an empty field (json)": (
        [PARENT, child("comments", "comments", json={"p": "{resources.posts.}"})],
        [
            "invalid placeholder {resources.posts.}; expected {resources.<parent>.<field>} at "
            f"{EP1}['json']"
        ],
    ),
    "bad field JSONPath (path)": (
        [PARENT, child("comments", "posts/{resources.posts.a]}/comments")],
        [
            "invalid field path in {resources.posts.a]}: Parse error at 1:1 near token ] (]); "
            f"expected a JSONPath at {EP1}['path']"
        ],
    ),
    "bad field JSONPath (params)": (
        [PARENT, child("comments", "comments", params={"p": "{resources.posts.a..}"})],
        [
            "invalid field path in {resources.posts.a..}: Parse error near the end of string!; "
            f"expected a JSONPath at {EP1}['params']"
        ],
    ),
    "include_from_parent without a parent": (
        [PARENT, {**child("comments", "comments"), "include_from_parent": ["id"]}],
        [
            "include_from_parent needs a parent resource; expected a "
            f"{{resources.<parent>.<field>}} placeholder in the endpoint at {R1}"
            "['include_from_parent']"
        ],
    ),
    "incremental placeholder without incremental": (
        [resource("items", params={"since": "{incremental.start_value}"})],
        [
            "placeholder {incremental.start_value} in 'params' is not valid; expected no "
            "placeholders: {incremental.*} ones need an 'incremental' on the endpoint at "
            "config['resources'][0]['endpoint']['params']"
        ],
    ),
    "incremental placeholder in a child without incremental": (
        [
            PARENT,
            child(
                "comments",
                "posts/{resources.posts.id}/comments",
                params={"since": "{incremental.start_value}"},
            ),
        ],
        [
            "placeholder {incremental.start_value} in 'params' is not valid; expected one of "
            f"{{resources.posts.<field>}} at {EP1}['params']"
        ],
    ),
}


@pytest.mark.parametrize(("resources", "expected"), INVALID.values(), ids=list(INVALID))
def test_invalid_dependent_config(resources: list[Any], expected: list[str]) -> None:
    """Each problem is one exact line with its config path."""
    assert errors_of(config(*resources)) == expected


RESOLVE_WITHOUT_FIELD = [
    PARENT,
    child(
        "comments",
        "posts/{post_id}/comments",
        params={"post_id": {"type": "resolve", "resource": "posts"}},
    ),
]
NO_FIELD_LINE = (
    f"a resolve param needs 'resource' and 'field'; expected two strings at {EP1}['params']"
    "['post_id']"
)


def test_resolve_param_without_field_is_reported() -> None:
    """A resolve param missing ``field`` is a config error at that param."""
    assert NO_FIELD_LINE in errors_of(config(*RESOLVE_WITHOUT_FIELD))


def test_resolve_param_without_field_is_the_only_line() -> None:
    """The incomplete resolve param is reported once, without a follow-on 'missing param'."""
    assert errors_of(config(*RESOLVE_WITHOUT_FIELD)) == [NO_FIELD_LINE]


def test_errors_are_collected_across_dependent_resources() -> None:
    """Several dependent-resource problems in one config: every line at once."""
    cfg = config(
        PARENT,
        child("comments", "posts/{resources.post.id}/comments"),
        child("likes", "likes/{resources.likes.id}"),
    )
    assert errors_of(cfg) == [
        "unknown parent resource 'post' (did you mean 'posts'?); expected one of 'comments', "
        f"'likes', 'posts' at {EP1}",
        "resource 'likes' references itself as its parent; expected another resource at "
        "config['resources'][2]['endpoint']",
    ]


# --------------------------------------------------------------------------------------------
# 1b. Config: valid dependent resources resolve to the expected spec


def test_resolve_param_becomes_a_path_placeholder() -> None:
    """dlt's legacy resolve param: bound into the path, removed from the query params."""
    found = specs(
        config(
            PARENT,
            child(
                "comments",
                "posts/{post_id}/comments",
                params={
                    "post_id": {"type": "resolve", "resource": "posts", "field": "id"},
                    "sort": "asc",
                },
            ),
        )
    )["comments"]
    assert found.parent == "posts"
    assert found.parent_fields == ("id",)
    assert found.endpoint.path == "posts/{resources.posts.id}/comments"
    assert found.endpoint.dynamic_path is True
    assert dict(found.endpoint.params) == {"sort": "asc"}


@pytest.mark.parametrize(
    ("endpoint", "placeholders"),
    [
        pytest.param({"path": "posts/{resources.posts.id}/comments"}, False, id="path"),
        pytest.param({"params": {"post": "{resources.posts.id}"}}, True, id="params value"),
        pytest.param({"params": {"f_{resources.posts.id}": "1"}}, True, id="params key"),
        pytest.param({"headers": {"X-Post": "{resources.posts.id}"}}, True, id="headers"),
        pytest.param({"json": {"post": "{resources.posts.id}"}}, True, id="json"),
        pytest.param(
            {"method": "POST", "data": {"post": "{resources.posts.id}"}}, True, id="form data"
        ),
    ],
)
def test_resources_placeholder_anywhere_makes_a_child(
    endpoint: dict[str, Any], placeholders: bool
) -> None:
    """``{resources.posts.id}`` in path, params (value or key), headers, json or data."""
    found = specs(config(PARENT, {"name": "comments", "endpoint": {"path": "c", **endpoint}}))
    comments = found["comments"]
    assert comments.parent == "posts"
    assert comments.parent_fields == ("id",)
    assert comments.endpoint.placeholders is placeholders
    assert found["posts"].parent is None


def test_static_path_params_are_kept_alongside() -> None:
    """A static ``{org}`` is filled in (and leaves the query); the parent placeholder stays."""
    comments = specs(
        config(
            PARENT,
            child(
                "comments",
                "{org}/posts/{resources.posts.id}/comments",
                params={"org": "acme", "q": "x"},
            ),
        )
    )["comments"]
    assert comments.endpoint.path == "acme/posts/{resources.posts.id}/comments"
    assert dict(comments.endpoint.params) == {"q": "x"}


def test_nested_field_and_several_resolve_params_from_one_parent() -> None:
    """Fields are JSONPaths into the parent record; several may come from the same parent."""
    comments = specs(
        config(
            PARENT,
            child(
                "comments",
                "authors/{author}/posts/{post}/comments",
                params={
                    "author": {"type": "resolve", "resource": "posts", "field": "author.id"},
                    "post": {"type": "resolve", "resource": "posts", "field": "id"},
                },
            ),
        )
    )["comments"]
    assert comments.parent == "posts"
    assert comments.parent_fields == ("author.id", "id")
    assert (
        comments.endpoint.path
        == "authors/{resources.posts.author.id}/posts/{resources.posts.id}/comments"
    )
    assert dict(comments.endpoint.params) == {}


def test_chain_is_ordered_parents_first_even_when_listed_children_first() -> None:
    """Grandchild, child, parent in config order → parent, child, grandchild in the spec."""
    cfg = config(
        child("replies", "comments/{resources.comments.id}/replies"),
        "misc",
        child("comments", "posts/{resources.posts.id}/comments"),
        PARENT,
    )
    found = specs(cfg)
    assert list(found) == ["posts", "comments", "replies", "misc"]
    assert [found[n].parent for n in found] == [None, "posts", "comments", None]
    tap = TapRestGeneric(config=cfg, parse_env_config=False)
    assert [s.name for s in tap.discover_streams()] == ["posts", "comments", "replies", "misc"]
    assert tap.streams["replies"].parent_stream_type is type(tap.streams["comments"])
    assert tap.streams["comments"].parent_stream_type is type(tap.streams["posts"])
    assert tap.streams["posts"].parent_stream_type is None


def test_escaped_braces_in_a_child_path_stay_literal_in_the_spec() -> None:
    """``{{x}}`` is kept escaped in the child's path template (rendered later as ``{x}``)."""
    comments = specs(config(PARENT, child("comments", "posts/{resources.posts.id}/{{x}}")))[
        "comments"
    ]
    assert comments.endpoint.path == "posts/{resources.posts.id}/{{x}}"
    assert comments.parent_fields == ("id",)


# --------------------------------------------------------------------------------------------
# 2. Behaviour: requests per parent record


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


def test_escaped_braces_in_child_params_with_a_params_placeholder() -> None:
    """With a placeholder in params, ``{{a}}`` in params and json is sent as ``{a}``."""
    cfg = config(
        PARENT,
        child(
            "comments",
            "comments",
            params={"p": "{resources.posts.id}", "f": '{{"a":1}}'},
            json={"f": "{{b}}"},
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, POSTS[:1])
        answer(mocker, "/comments", [])
        sync(cfg)
    assert sent(mocker)[1:] == [
        ("GET", f"{BASE_URL}/comments?p=1&f=%7B%22a%22%3A1%7D", {"f": "{b}"}),
    ]


def test_escaped_braces_in_child_params_with_only_a_path_placeholder() -> None:
    """``{{`` / ``}}`` are literal braces in every child's params and json, as in dlt."""
    cfg = config(
        PARENT,
        child(
            "comments",
            "posts/{resources.posts.id}/comments",
            params={"f": '{{"a":1}}'},
            json={"f": "{{b}}"},
        ),
    )
    with requests_mock.Mocker() as mocker:
        serve_posts(mocker, POSTS[:1])
        answer(mocker, "/posts/1/comments", [])
        sync(cfg)
    assert sent(mocker)[1:] == [
        ("GET", f"{BASE_URL}/posts/1/comments?f=%7B%22a%22%3A1%7D", {"f": "{b}"}),
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


# --------------------------------------------------------------------------------------------
# 2b. Child contexts: only the fields the children use


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
# 2c. include_from_parent


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
# 2d. Selection


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
# 2e. Failures per parent


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
# 2f. Pagination per parent


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


# --------------------------------------------------------------------------------------------
# 3. Incremental children: shared bookmark (dlt's default) or one per parent


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
