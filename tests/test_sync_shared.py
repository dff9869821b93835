"""What the run's streams share (sync/shared.py), handed to each stream when the tap builds it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import requests_mock
from helpers import BASE_URL, make_tap, page, resource, serve

from tap_restgeneric.sync.parallel import Halted
from tap_restgeneric.sync.shared import Shared
from tap_restgeneric.sync.streams import RestGenericStream

PACKAGE = Path(__file__).resolve().parent.parent / "tap_restgeneric"
AUTH = {"type": "bearer", "token": "t0k3n"}


def two_streams() -> tuple[Shared, RestGenericStream, RestGenericStream]:
    """A tap with two resources sharing the client auth, and its streams."""
    tap = make_tap([resource("a"), resource("b")], client={"auth": AUTH})
    a, b = tap.streams["a"], tap.streams["b"]
    assert isinstance(a, RestGenericStream) and isinstance(b, RestGenericStream)
    return tap.shared, a, b


def test_every_stream_is_handed_the_runs_shared_parts() -> None:
    shared, a, b = two_streams()
    assert a.shared is shared and b.shared is shared
    assert a.requester.limiter is shared.limiter and b.requester.limiter is shared.limiter
    assert a.authenticator is b.authenticator
    assert a.authenticator is shared.authenticators(a.resource.endpoint.auth)


def test_the_halt_signal_stops_a_stream_before_its_next_page() -> None:
    shared, a, _ = two_streams()
    shared.halt.set()
    with requests_mock.Mocker() as mocker:
        serve(mocker, f"{BASE_URL}/a", page([{"id": 1}]))
        with pytest.raises(Halted):
            list(a.request_records(None))
    assert mocker.request_history == []


def test_no_stream_module_imports_the_tap() -> None:
    """Streams get what they need handed in: nothing below sync/, records/ or http/ imports
    the tap module (only the tools, which start a tap, do)."""
    found = []
    for folder in ("sync", "records", "http", "sdk", "paginators"):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module == "tap_restgeneric.tap":
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []
