"""Smoke test of the benchmark's adaptive-concurrency modes: --compare (the tap's defaults beside
a plain thread pool and the sequential loop) and --rate-limit (a server answering 429 beyond N
requests a second). Completeness and the printed figures only, never timings."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_scripts import bench

pytestmark = pytest.mark.slow  # it starts the bench, its servers and the tap as processes


def test_compare_runs_the_loop_a_pool_and_the_tap_with_its_defaults(tmp_path: Path) -> None:
    done, results = bench(
        tmp_path, "--compare", "--records", "2000", "--latency-ms", "5", "--styles", "offset"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    runs = [(row["run"], row["complete"], row["requests"]) for row in results["rows"]]
    dlt = results["rows"][-1]  # dlt's rest_api: run where dlt is installed, else "not installed"
    assert runs[:4] == [
        ("baseline", True, [20]),
        ("pool x8", True, [20]),
        ("tap defaults", True, [20]),  # the total stops it exactly
        ("tap max_concurrency 1", True, [20]),
    ]
    assert len(runs) == 5 and dlt["run"] == "dlt rest_api"
    assert dlt["requests"] == [20] if dlt["walls_s"] else dlt["skipped"].startswith("not installed")
    assert "offset: records/s as a ratio to the sequential loop: baseline 1.00x" in done.stdout
    assert any("a 8-thread pool" in t["target"] for t in results["targets"])


def test_rate_limited_run_counts_429s_and_loses_nothing(tmp_path: Path) -> None:
    done, results = bench(
        tmp_path,
        "--rate-limit",
        "40",
        "--records",
        "3000",
        "--settle",
        "0",
        "--styles",
        "page_number",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (figures,) = results["meta"]["rate_limited"]
    assert figures["lost"] == 0 and figures["allowed"] == 40
    assert figures["throttled_total"] >= figures["throttled_after"] >= 0
    assert "rate-limited run: " in done.stdout and "records lost: 0" in done.stdout
    marks = {t["target"]: t["mark"] for t in results["targets"]}
    assert marks["no record lost under 429s"] == "PASS"
