"""Shared fixtures: the embedded demo API on a free loopback port, a Meltano project."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cli import ROOT, clean_env, tool

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.redaction import REDACT


@pytest.fixture(autouse=True)
def secrets_of_this_test_only() -> Iterator[None]:
    """The redactor is process-wide: values one test registers must not mask another's output."""
    yield
    REDACT.forget()


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
    meltano = tool("meltano", "MELTANO", ".venv-meltano")
    project = tmp_path_factory.mktemp("meltano")
    spec = yaml.safe_load((ROOT / "meltano.yml").read_text())
    extractor = spec["plugins"]["extractors"][0]
    extractor["pip_url"] = f"-e {ROOT}"
    del extractor["config"]  # Meltano deep-merges env objects into it; each test sets its own
    (project / "meltano.yml").write_text(yaml.safe_dump(spec))
    env = clean_env(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false")
    done = subprocess.run(
        [meltano, "install"],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return project
