"""Shared fixtures (the demo API on a free port, a Meltano project, spies) and the fast lane.

``bash scripts/test --fast`` runs ``-m "not slow"``: the modules below start processes (the CLI,
targets, Meltano, PostgreSQL, API frameworks) or run long campaigns, and are marked ``slow``
here by module, so a new test in them is slow too. CI runs everything.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli import ROOT, clean_env, meltano

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.redaction import REDACT

SLOW_MODULES = frozenset(
    {
        "test_benchmark_smoke",
        "test_cli",
        "test_e2e_incremental_cli",
        "test_faults",
        "test_fuzz_config",
        "test_hostile_config",
        "test_hostile_requests",
        "test_hostile_secrets",
        "test_hygiene",
        "test_large_responses",
        "test_postgres",
        "test_promise_campaign",
        "test_promise_e2e",
        "test_scaling_out_dagster",
        "test_scaling_out_meltano",
        "test_schemas_e2e",
        "test_sdk_suite",
        "test_seeds",
        "test_settings",
        "test_shop_e2e",
        "test_sync_large_pages",
        "test_walkthrough",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of SLOW_MODULES and of the real-framework modules ``slow``."""
    for item in items:
        stem = item.path.stem
        if stem in SLOW_MODULES or stem.startswith("test_real_"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def secrets_of_this_test_only() -> Iterator[None]:
    """The redactor is process-wide: values one test registers must not mask another's output."""
    yield
    REDACT.forget()


@pytest.fixture
def contexts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """(stream name, context) for every request sequence, as the SDK passes them."""
    from tap_restgeneric.sync import streams  # noqa: PLC0415 (only the tests that use it load it)

    seen: list[tuple[str, Any]] = []
    original = streams.RestGenericStream.request_pages

    def spy(self: streams.RestGenericStream, context: Any) -> Iterator[list[dict[str, Any]]]:
        seen.append((self.name, copy.deepcopy(context)))
        yield from original(self, context)

    monkeypatch.setattr(streams.RestGenericStream, "request_pages", spy)
    return seen


@pytest.fixture
def freeze(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Freeze the sync start time ("now") the stream reads."""
    from tap_restgeneric.sync import streams  # noqa: PLC0415 (only the tests that use it load it)

    def set_now(text: str) -> None:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        monkeypatch.setattr(streams, "utc_now", lambda: moment)

    return set_now


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


@pytest.fixture(scope="session")
def meltano_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repo's meltano.yml (tap installed from this checkout), installed once."""
    project = tmp_path_factory.mktemp("meltano")
    spec = yaml.safe_load((ROOT / "meltano.yml").read_text())
    extractor = spec["plugins"]["extractors"][0]
    extractor["pip_url"] = f"-e {ROOT}"
    del extractor["config"]  # Meltano deep-merges env objects into it; each test sets its own
    (project / "meltano.yml").write_text(yaml.safe_dump(spec))
    done = meltano(project, clean_env(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false"), "install")
    assert done.returncode == 0, done.stderr[-3000:]
    return project
