"""``import-openapi``: path parameters that can take one value (an ``enum`` of one, 3.1's
``const``, else a ``default``) are filled into the path instead of the endpoint being skipped; a
``default`` does not replace a parent list endpoint's records, and the run requests the filled
path (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests_mock
from helpers import sync
from test_tools_openapi import ITEM, get, imported, openapi, resources

LIST = {"type": "array", "items": ITEM}


def path_param(name: str, **schema: Any) -> dict[str, Any]:
    """A required path parameter."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", **schema}}


def test_enum_of_one_and_default_are_filled_in(tmp_path: Path) -> None:
    """``/{version}/items`` (enum ``["v2"]``) and ``/{region}/stores`` (default ``eu west``, quoted)
    become resources on the filled paths; the report shows the document's path and the value."""
    document = openapi(
        {
            "/{version}/items": get(LIST, path_param("version", enum=["v2"])),
            "/{region}/stores": get(LIST, path_param("region", default="eu west")),
            "/{kind}/things": get(LIST, path_param("kind", enum=["a", "b"])),
        }
    )
    config, report = imported(tmp_path, document)
    found = resources(config)
    assert {name: r["endpoint"]["path"] for name, r in found.items()} == {
        "v2_items": "v2/items",
        "eu_west_stores": "eu%20west/stores",
    }
    lines = report.lines()
    assert "resource v2_items: GET /{version}/items" in lines
    assert "  path parameter {version} = 'v2' (its only enum value)" in lines
    assert "  path parameter {region} = 'eu west' (its default)" in lines
    skipped = [line for line in lines if line.startswith("skipped GET /{kind}/things: ")]
    assert len(skipped) == 1 and "no list endpoint" in skipped[0], lines
    with requests_mock.Mocker() as mock:
        mock.get("https://api.example.com/v1/v2/items", json=[{"id": 1}])
        mock.get("https://api.example.com/v1/eu%20west/stores", json=[{"id": 2}])
        messages = sync(config)
    assert {m["stream"] for m in messages if m["type"] == "RECORD"} == set(found)


def test_a_fixed_earlier_parameter_keeps_the_child_under_its_parent(tmp_path: Path) -> None:
    """``/{v}/users`` and ``/{v}/users/{id}/posts`` with ``v`` const ``"2"`` (3.1): both filled,
    and the posts still take ``{id}`` from each user."""
    version = path_param("v", const="2")
    document = openapi(
        {
            "/{v}/users": get(LIST, version),
            "/{v}/users/{id}/posts": get(LIST, version, path_param("id")),
        },
        version="3.1.0",
    )
    config, _ = imported(tmp_path, document)
    found = resources(config)
    assert found["users"]["endpoint"]["path"] == "2/users"
    posts = found["users_posts"]["endpoint"]
    assert posts["path"] == "2/users/{id}/posts"
    assert posts["params"] == {"id": {"type": "resolve", "resource": "users", "field": "id"}}


def test_a_default_does_not_replace_the_parent_list(tmp_path: Path) -> None:
    """``/users/{id}`` with a default under ``GET /users``: still a child of users, not one
    fixed user; an enum of one is the only value the API takes, so it is filled even there."""
    document = openapi(
        {
            "/users": get(LIST),
            "/users/{id}/posts": get(LIST, path_param("id", default="1")),
            "/users/{uid}/tags": get(LIST, path_param("uid", enum=["me"])),
        }
    )
    config, report = imported(tmp_path, document)
    found = resources(config)
    assert found["users_posts"]["endpoint"]["params"]["id"]["type"] == "resolve"
    assert found["users_me_tags"]["endpoint"]["path"] == "users/me/tags"
    assert "params" not in found["users_me_tags"]["endpoint"]
    assert "  path parameter {uid} = 'me' (its only enum value)" in report.lines()
