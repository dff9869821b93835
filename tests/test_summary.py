"""The per-stream summary at the end of a sync, and progress lines during long streams."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli import example, run_tap

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.data import records
from tap_restgeneric.sync import summary


def summary_lines(stderr: str) -> list[str]:
    """The summary lines on stderr, without the log prefix."""
    return [line.split("| ")[-1] for line in stderr.splitlines() if "records written, " in line]


def test_summary_names_records_pages_retries_throttling_and_bookmark(
    fresh_demo: DemoServer, tmp_path: Path
) -> None:
    """Seed 003 incremental against a fresh demo: its one 429 (Retry-After 1) shows up."""
    run = run_tap(example("seed_003_incremental", fresh_demo.url), tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    newest = max(r["updated_at"] for r in records("s003_customers"))
    assert sorted(summary_lines(run.stderr)) == [
        "Stream 'account': 1 records written, 1 pages (1 records read), 0 retries, "
        "0.0 s throttled, 0 schema changes, bookmark none, ended: the endpoint is single_page",
        "Stream 'custom_fields': 12 records written, 1 pages (12 records read), 0 retries, "
        "0.0 s throttled, 0 schema changes, bookmark none, ended: no next cursor at "
        "'meta.next_cursor'",
        f"Stream 'customers': 130 records written, 3 pages (130 records read), 1 retries, "
        f"1.0 s throttled, 0 schema changes, bookmark {newest!r}, "
        "ended: no next cursor at 'meta.next_cursor'",
    ]


def test_progress_lines_during_a_long_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """With progress due after every page, each page of a stream reports the running totals."""
    stats = summary.StreamStats("customers")
    monkeypatch.setattr(summary, "PROGRESS_EVERY", 0.0)
    messages: list[str] = []
    monkeypatch.setattr(summary.logger, "info", lambda msg, *args: messages.append(msg % args))
    stats.page(50)
    stats.page(30)
    assert [m.split(" (")[0] for m in messages] == [
        "Stream 'customers': 50 records from 1 pages so far",
        "Stream 'customers': 80 records from 2 pages so far",
    ]
