"""Smoke test of benchmarks/bench.py: small runs complete and print their rows (no timing)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bench_scripts import BENCH, load_script

STYLES = ("page_number", "offset", "cursor", "link")
RECORDS = 2000


@dataclass
class BenchRun:
    """One finished bench.py invocation."""

    returncode: int
    stdout: str
    stderr: str
    results: dict[str, Any]

    def table(self) -> list[str]:
        """The lines of the printed results table (without header and rule)."""
        lines = self.stdout.splitlines()
        header = next(
            i for i, line in enumerate(lines) if line.startswith("style") and "records/s" in line
        )
        rows = []
        for line in lines[header + 2 :]:
            if not line.strip():
                break
            rows.append(line)
        return rows


def start(tmp: Path, name: str, *args: str) -> tuple[subprocess.Popen[str], Path]:
    """Start bench.py with ``args`` and a --json file."""
    out = tmp / f"{name}.json"
    command = [sys.executable, str(BENCH), *args, "--json", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, out


def finish(process: subprocess.Popen[str], out: Path) -> BenchRun:
    """Wait for a bench run and read what it wrote."""
    stdout, stderr = process.communicate(timeout=120)
    results = json.loads(out.read_text()) if out.exists() else {}
    return BenchRun(process.returncode, stdout, stderr, results)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BenchRun]]:
    """The throughput and latency runs, started together to keep the test short."""
    tmp = tmp_path_factory.mktemp("bench")
    common = ("--records", str(RECORDS), "--page-size", "100", "--styles", ",".join(STYLES))
    started = {
        "throughput": start(tmp, "throughput", *common),
        "latency": start(tmp, "latency", *common, "--latency-ms", "5"),
    }
    try:
        yield {name: finish(process, out) for name, (process, out) in started.items()}
    finally:
        for process, _ in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()


def check_complete(run: BenchRun, runs_per_style: set[tuple[str, ...]]) -> None:
    """Exit 0, every row complete, each style with the expected run labels."""
    assert run.returncode == 0, run.stdout + run.stderr
    rows = run.table()
    by_style: dict[str, list[str]] = {}
    for line in rows:
        style = line.split()[0]
        assert line.endswith("yes"), line
        assert f"{RECORDS:,}" in line, line
        label = line[len(style) :].split(f"{RECORDS:,}")[0].strip()
        by_style.setdefault(style, []).append(label)
    assert set(by_style) == set(STYLES)
    for style, labels in by_style.items():
        assert tuple(labels) in runs_per_style, (style, labels)
    for row in run.results["rows"]:
        assert row["complete"] is True, row
        assert row["records"] == RECORDS
        assert row["wall_s"] > 0
        assert row["peak_rss_mb"] and row["peak_rss_mb"][0] > 0


def test_throughput_run_is_complete_for_every_style(runs: dict[str, BenchRun]) -> None:
    run = runs["throughput"]
    check_complete(run, {("baseline", "tap")})
    assert "baseline JSON codec:" in run.stdout
    assert "server check:" in run.stdout
    targets = [line for line in run.stdout.splitlines() if "tap wall <= 1.5x baseline" in line]
    assert len(targets) == len(STYLES)
    assert all("[ PASS  ]" in t or "[ FAIL  ]" in t for t in targets)
    assert any("peak RSS flat" in line for line in run.stdout.splitlines())
    tap_rows = [row for row in run.results["rows"] if row["run"] == "tap"]
    assert all(row["ratio"] and row["ratio"] > 0 for row in tap_rows)
    baseline_requests = {
        row["style"]: row["requests"] for row in run.results["rows"] if row["run"] == "baseline"
    }
    # 20 pages; page_number also asks for the empty page 21 that ends it.
    assert baseline_requests == {"page_number": [21], "offset": [20], "cursor": [20], "link": [20]}


def test_latency_run_is_complete_sequential_and_parallel(runs: dict[str, BenchRun]) -> None:
    run = runs["latency"]
    expected: set[tuple[str, ...]]
    if "parallel fetching: not available in this tap version" in run.stdout:
        expected = {("baseline", "tap")}
    else:
        expected = {
            ("baseline", "tap sequential", label)
            for label in ("tap parallel", *(f"tap parallel x{n}" for n in range(2, 65)))
        }
        assert any("parallel records/s >= 4x sequential" in line for line in run.stdout.split("\n"))
    check_complete(run, expected)
    assert run.results["meta"]["latency_ms"] == 5


def record_line(record_id: int, stream: str = "items") -> bytes:
    message = {"type": "RECORD", "stream": stream, "record": {"id": record_id, "x": [1, {}]}}
    return json.dumps(message).encode() + b"\n"


def test_output_check_catches_missing_duplicate_and_stray_records() -> None:
    bench = load_script("bench")
    good = b'{"type":"SCHEMA","stream":"items","schema":{}}\n' + b"".join(
        record_line(i) for i in (3, 1, 2)
    )
    check = bench.check_output(io.BytesIO(good + b'{"type":"STATE","value":{}}\n'), 3)
    assert check.complete
    assert check.messages == {"SCHEMA": 1, "RECORD": 3, "STATE": 1}
    bad = record_line(1) + record_line(1) + record_line(7) + b"not json\n" + record_line(2, "x")
    check = bench.check_output(io.BytesIO(bad), 3)
    assert not check.complete
    assert (check.missing, check.duplicates, check.unexpected, check.bad_lines) == (2, 1, 1, 1)
    assert check.problems() == "2 missing, 1 duplicate, 1 unexpected ids, 1 bad lines"
