"""Harness of the dependent (parent/child) resource tests: posts and their children, served by
requests-mock, with every request sent read back as (method, URL, body)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests_mock
from helpers import BASE_URL, Message, Record, UnexpectedRequestError, resource
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.resolve import resolve_config
from tap_restgeneric.config.spec import ResourceSpec
from tap_restgeneric.tap import TapRestGeneric

Sent = tuple[str, str, Any]
Seen = list[tuple[str, Any]]
"""(stream name, context) of every request sequence: what the ``contexts`` fixture records."""

POSTS: list[Record] = [
    {"id": 1, "title": "First", "author": {"id": 7, "name": "Ann"}, "body": "parent body one"},
    {"id": 2, "title": "Second", "author": {"id": 8, "name": "Bob"}, "body": "parent body two"},
    {"id": 3, "title": "Third", "author": {"id": 9, "name": "Cy"}, "body": "parent body three"},
]
PARENT = resource("posts", paginator="single_page")


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


def streams_written(messages: list[Message]) -> set[str]:
    """The streams that have at least one RECORD."""
    return {m["stream"] for m in messages if m["type"] == "RECORD"}


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


def catalog_selecting(cfg: dict[str, Any], *selected: str) -> dict[str, Any]:
    """The tap's discovered catalog with only ``selected`` streams selected."""
    catalog = copy.deepcopy(TapRestGeneric(config=cfg, parse_env_config=False).catalog_dict)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in selected
    return catalog
