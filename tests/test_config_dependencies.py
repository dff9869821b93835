"""config/dependencies.py: dependent-resource config errors as exact lines, and the specs
valid parent/child configs resolve to (parent, fields, path template, order)."""

from __future__ import annotations

from typing import Any

import pytest
from dependent_helpers import (
    PARENT,
    child,
    config,
    errors_of,
    specs,
)
from helpers import resource

from tap_restgeneric.tap import TapRestGeneric

# --------------------------------------------------------------------------------------------
# Config: exact error lines

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
# Config: valid dependent resources resolve to the expected spec


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
