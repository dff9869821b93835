"""Reliability figures of the fault-injection suite, and a pytest plugin that reports them.

Tests update ``FIGURES`` (faults injected by kind, records expected vs written, lost, duplicates,
tracebacks and leaked secrets seen, configs fuzzed); at the end of the session they are written
to ``build/reliability.json`` and printed in the terminal summary. Load with
``pytest_plugins = ["reliability"]``. (PYTEST_DONT_REWRITE: the test module imports it first.)
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "build" / "reliability.json"


class _Server(Protocol):
    fault_counts: Counter[str]
    status_counts: Counter[int]


@dataclass
class Figures:
    """Counters a fault test updates before it asserts (so failures are counted too)."""

    started: float = field(default_factory=time.monotonic)
    faults_injected: Counter[str] = field(default_factory=Counter)
    responses: Counter[int] = field(default_factory=Counter)
    tap_runs: int = 0
    failed_runs_reported: int = 0
    resumed_runs: int = 0
    records_expected: int = 0
    records_written: int = 0
    records_lost: int = 0
    duplicates: int = 0
    boundary_rereads: int = 0
    tracebacks: int = 0
    leaks: int = 0
    leak_details: list[str] = field(default_factory=list)
    configs_fuzzed: int = 0
    servers: int = 0

    # -- updates ---------------------------------------------------------------------------------
    def absorb(self, server: _Server) -> None:
        """Count a server's injected faults and responses (call once per server)."""
        self.servers += 1
        self.faults_injected.update(server.fault_counts)
        self.responses.update(server.status_counts)

    def output(self, *texts: str, secrets: Iterable[str] = ()) -> None:
        """Scan a run's output (stdout, stderr) for tracebacks and secret values."""
        self.tap_runs += 1
        self.scan(*texts, secrets=secrets)

    def scan(self, *texts: str, secrets: Iterable[str] = ()) -> None:
        """Count tracebacks and secret values in texts (output or captured logs)."""
        for text in texts:
            self.tracebacks += text.count("Traceback (most recent call last)")
            for secret in secrets:
                if secret and secret in text:
                    self.leak(f"secret {secret[:3]}… appears in the tap's output")

    def leak(self, what: str) -> None:
        """Count one leaked credential."""
        self.leaks += 1
        self.leak_details.append(what)

    def account(
        self, expected: Iterable[Any], written: Iterable[Any], *, boundary: Iterable[Any] = ()
    ) -> tuple[set[Any], list[Any], list[Any]]:
        """Compare ids written (over one run or a run and its resume) with those expected.

        ``boundary`` ids may be written twice (the at-least-once bookmark boundary). Returns
        (lost ids, duplicates beyond the boundary, boundary re-reads).
        """
        want = set(expected)
        got = list(written)
        counts = Counter(got)
        allowed = set(boundary)
        lost = want - set(got)
        dups = [i for i, n in counts.items() for _ in range(n - 1) if i not in allowed]
        rereads = [i for i, n in counts.items() for _ in range(n - 1) if i in allowed]
        self.records_expected += len(want)
        self.records_written += len(got)
        self.records_lost += len(lost)
        self.duplicates += len(dups)
        self.boundary_rereads += len(rereads)
        return lost, dups, rereads

    # -- report ----------------------------------------------------------------------------------
    @property
    def used(self) -> bool:
        """Whether any fault test recorded anything."""
        return bool(self.tap_runs or self.servers or self.configs_fuzzed)

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready data."""
        return {
            "faults_injected": sum(self.faults_injected.values()),
            "faults_by_kind": dict(sorted(self.faults_injected.items())),
            "responses_by_status": {str(k): v for k, v in sorted(self.responses.items())},
            "servers": self.servers,
            "tap_runs": self.tap_runs,
            "failed_runs_reported": self.failed_runs_reported,
            "resumed_runs": self.resumed_runs,
            "records_expected": self.records_expected,
            "records_written": self.records_written,
            "records_lost": self.records_lost,
            "duplicates": self.duplicates,
            "boundary_rereads": self.boundary_rereads,
            "configs_fuzzed": self.configs_fuzzed,
            "tracebacks": self.tracebacks,
            "leaks": self.leaks,
            "leak_details": self.leak_details,
            "duration_s": round(time.monotonic() - self.started, 1),
        }

    def write(self, path: Path = OUTPUT) -> dict[str, Any]:
        """Write ``build/reliability.json``; return what was written."""
        data = self.as_dict()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n")
        return data

    def summary(self) -> str:
        """One line for the terminal."""
        data = self.as_dict()
        kinds = ", ".join(f"{k} {v}" for k, v in data["faults_by_kind"].items())
        return (
            f"faults injected {data['faults_injected']} ({kinds}); records expected "
            f"{data['records_expected']}, written {data['records_written']}, lost "
            f"{data['records_lost']}, duplicates {data['duplicates']} (+{data['boundary_rereads']}"
            f" boundary re-reads); configs fuzzed {data['configs_fuzzed']}; tracebacks "
            f"{data['tracebacks']}; leaks {data['leaks']}"
        )


FIGURES = Figures()


def secrets_in(values: Mapping[str, Any]) -> list[str]:
    """The string values of a mapping (the secrets a test configured)."""
    return [v for v in values.values() if isinstance(v, str)]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the figures (and where they were written) after the test summary."""
    if not FIGURES.used:
        return
    terminalreporter.section("reliability")
    terminalreporter.write_line(FIGURES.summary())
    terminalreporter.write_line(f"figures written to {OUTPUT.relative_to(ROOT)}")
