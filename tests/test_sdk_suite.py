"""The Singer SDK's built-in tap tests, run against the demo API, plus a duplicate-key check.

``get_tap_test_class`` builds the tap when this module is collected and syncs once per class in
a class-scoped fixture, so the demo API is started at import time (and stopped at exit).
"""

from __future__ import annotations

import atexit
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli import example, run_tap
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from singer_sdk.testing.runners import TapTestRunner

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.tap import TapRestGeneric

SEEDS = [
    "seed_000_analytics",
    "seed_001_cursor",
    "seed_002_bearer",
    "seed_003_basic",
    "seed_004_offset",
]

SEED_000_STREAMS = ["crm_contacts", "signing_links", "user", "user_modified_documents"]
RUNNER_KWARGS: dict[str, Any] = {"parse_env_config": False}
"""Tap kwargs for the SDK runner: it parses TAP_RESTGENERIC_* (and .env) by default."""

_SERVER = DemoServer(port=0, faults=False).start()
atexit.register(_SERVER.stop)


def discovered(config: dict[str, Any]) -> dict[str, Any]:
    """The catalog ``--discover`` would print (schemas inferred from the demo's first pages)."""
    tap = TapRestGeneric(config=config, parse_env_config=False, setup_mapper=False)
    tap.infer_schemas()
    return dict(tap.catalog_dict)


@pytest.fixture(scope="module", autouse=True)
def _stop_demo_api() -> Iterator[None]:
    """Stop the import-time demo API when this module's tests are done (atexit as a backstop)."""
    yield
    _SERVER.stop()


TestSeed000Analytics = get_tap_test_class(
    TapRestGeneric,
    config=example("seed_000_analytics", _SERVER.url),
    catalog=discovered(example("seed_000_analytics", _SERVER.url)),
    **RUNNER_KWARGS,
    suite_config=SuiteConfig(max_records_limit=100),
)

TestSeed004Offset = get_tap_test_class(
    TapRestGeneric,
    config=example("seed_004_offset", _SERVER.url),
    catalog=discovered(example("seed_004_offset", _SERVER.url)),
    **RUNNER_KWARGS,
    suite_config=SuiteConfig(max_records_limit=100),
)


def key_of(record: dict[str, Any], key_properties: list[str]) -> str:
    """A hashable rendering of a record's primary key."""
    return json.dumps([record.get(k) for k in key_properties], sort_keys=True, default=str)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_primary_key_repeats(seed: str, tmp_path: Path) -> None:
    """A full sync writes each primary key at most once per stream (the SDK cannot tell)."""
    run = run_tap(example(seed, _SERVER.url), tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    keys: dict[str, list[str]] = {}
    for line in run.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "SCHEMA":
            keys[message["stream"]] = list(message["key_properties"])
    assert run.records, "the seed wrote no records"
    for stream, records in run.records.items():
        key_properties = keys[stream]
        assert key_properties, f"{stream} has no primary key"
        assert all(all(k in r for k in key_properties) for r in records), stream
        counts = Counter(key_of(r, key_properties) for r in records)
        repeated = {k: n for k, n in counts.items() if n > 1}
        assert not repeated, f"{stream}: repeated primary keys {repeated}"


def test_runner_ignores_env_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """TAP_RESTGENERIC_* in the environment do not leak into the suite's taps."""
    monkeypatch.setenv("TAP_RESTGENERIC_RESOURCES", json.dumps(["leaked"]))
    config = example("seed_000_analytics", _SERVER.url)
    clean = TapTestRunner(TapRestGeneric, config=config, **RUNNER_KWARGS).new_tap()
    assert sorted(clean.streams) == SEED_000_STREAMS
    leaky = TapTestRunner(TapRestGeneric, config=config, parse_env_config=True).new_tap()
    assert sorted(leaky.streams) == ["leaked"]  # what the runner's default would have tested


def test_sdk_attribute_tests_can_be_generated() -> None:
    """The SDK's per-attribute suite can be built for a seed (needs typed properties)."""
    test_class = get_tap_test_class(
        TapRestGeneric,
        config=example("seed_000_analytics", _SERVER.url),
        **RUNNER_KWARGS,
        include_tap_tests=False,
        include_stream_tests=False,
        include_stream_attribute_tests=True,
    )
    assert test_class.params
