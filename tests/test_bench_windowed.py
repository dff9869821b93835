"""Smoke tests of the benchmark's issue-17 rows: ``--windowed`` (a cursor API over a year of
``updated_at``, backfilled with ``window_size``) and the dlt rest_api row of ``--compare``.
Completeness and the printed rows only, never timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from bench_scripts import bench, load_script

RECORDS = 2000
WINDOWS = 53  # 2025 in windows of 7 days: 52 full ones and a day


def test_windowed_api_filters_half_open_ranges_and_pages_by_cursor() -> None:
    windowed = load_script("windowed")
    app = windowed.WindowedApp(RECORDS, 100)
    stamps = [windowed.updated_at(i, RECORDS) for i in range(1, RECORDS + 1)]
    assert stamps == sorted(stamps)
    assert stamps[0] == windowed.YEAR_START and stamps[-1] < windowed.YEAR_END
    for t in (*stamps[:50], *stamps[-50:], windowed.YEAR_END, windowed.YEAR_START + 1):
        first = windowed.first_at_or_after(t, RECORDS)
        assert all(s < t for s in stamps[: first - 1]) and all(s >= t for s in stamps[first - 1 :])

    def fetch(since: int, until: int) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        params = {"updated_since": windowed.iso(since), "updated_until": windowed.iso(until)}
        while True:
            status, _, body = app.respond(f"{windowed.ROUTE}?{urlencode(params)}")
            assert status == 200
            page = json.loads(body)
            assert len(page["data"]) <= 100
            records += page["data"]
            if page["next_cursor"] is None:
                return records
            params["cursor"] = page["next_cursor"]

    ids: list[int] = []
    start = windowed.YEAR_START
    while start < windowed.YEAR_END:  # odd-sized windows, so ranges straddle records and pages
        until = min(start + 3 * 86_400 + 7, windowed.YEAR_END)
        got = fetch(start, until)
        assert all(start <= windowed.parse_instant(r["updated_at"]) < until for r in got)
        ids += [r["id"] for r in got]
        start = until
    assert ids == list(range(1, RECORDS + 1))
    assert len(fetch(windowed.YEAR_START, windowed.YEAR_END)) == RECORDS
    assert app.respond(f"{windowed.ROUTE}?cursor=nope")[0] == 400
    assert json.loads(app.respond("/__stats")[2])["requests"] > WINDOWS


@pytest.mark.slow
def test_windowed_mode_runs_the_tap_both_ways_and_the_loop_and_counts_every_record(
    tmp_path: Path,
) -> None:
    done, results = bench(tmp_path, "--windowed", "--records", str(RECORDS), "--latency-ms", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert results["meta"]["mode"] == "windowed"
    assert results["meta"]["windowed"]["windows"] == WINDOWS
    rows = [(row["run"], row["complete"], row["records"]) for row in results["rows"]]
    assert rows == [
        ("tap max_concurrency 1", True, RECORDS),
        ("tap defaults", True, RECORDS),
        ("plain loop", True, RECORDS),
    ]
    # about 38 records a window: one page each, so one request per window
    assert all(row["requests"] == [WINDOWS] for row in results["rows"]), results["rows"]
    assert "windowed: records/s as a ratio to the tap one request at a time" in done.stdout
    (target,) = results["targets"]
    assert "window_size backfill" in target["target"] and target["mark"] in ("PASS", "FAIL")


@pytest.mark.slow
def test_compare_says_dlt_is_not_installed_and_goes_on(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-python"
    done, results = bench(
        tmp_path,
        "--compare",
        "--records",
        str(RECORDS),
        "--latency-ms",
        "2",
        "--styles",
        "offset",
        "--dlt-python",
        str(missing),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    dlt_row = results["rows"][-1]
    assert dlt_row["run"] == "dlt rest_api" and dlt_row["walls_s"] == []
    assert dlt_row["skipped"].startswith("not installed")
    assert "dlt rest_api: not installed" in done.stdout
    assert all(row["complete"] for row in results["rows"])


def dlt_python() -> str | None:
    """A Python that imports dlt: BENCH_DLT_PYTHON, else this one, else None."""
    for python in (os.environ.get("BENCH_DLT_PYTHON"), sys.executable):
        if python and subprocess.run([python, "-c", "import dlt"], check=False).returncode == 0:
            return python
    return None


@pytest.mark.slow
def test_compare_runs_dlt_rest_api_with_its_defaults_when_installed(tmp_path: Path) -> None:
    python = dlt_python()
    if python is None:
        if os.environ.get("CI"):
            pytest.fail("dlt is not installed; scripts/setup installs it in .venv-dlt")
        pytest.skip("dlt is not installed (set BENCH_DLT_PYTHON to a Python that has it)")
    done, results = bench(
        tmp_path,
        "--compare",
        "--records",
        str(RECORDS),
        "--latency-ms",
        "2",
        "--styles",
        "page_number,offset",
        "--dlt-python",
        python,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    dlt_rows = {row["style"]: row for row in results["rows"] if row["run"] == "dlt rest_api"}
    assert set(dlt_rows) == {"page_number", "offset"}
    for style, row in dlt_rows.items():
        assert row["complete"] is True and row["records"] == RECORDS, row
        # one request at a time, stopping at the empty page (page_number) or the total (offset)
        assert row["requests"] == [21 if style == "page_number" else 20], row
        assert results["meta"]["compare_vs_pool"][style]["dlt rest_api"] > 0
    assert "dlt rest_api" in done.stdout and "the 8-thread pool's" in done.stdout
