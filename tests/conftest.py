"""Shared fixtures: the embedded demo API on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tap_restgeneric.demo import DemoServer


@pytest.fixture(scope="session")
def demo() -> Iterator[DemoServer]:
    """One demo API for the session (its injected faults fire once per server)."""
    with DemoServer(port=0) as server:
        yield server


@pytest.fixture
def fresh_demo() -> Iterator[DemoServer]:
    """A demo API of its own, so its injected faults fire in this test."""
    with DemoServer(port=0) as server:
        yield server
