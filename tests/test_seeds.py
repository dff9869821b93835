"""Each seed's example config extracts every record of every stream from the demo API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli import clean_env, example, jsonl_ids, meltano_run, run_tap, tool

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.data import records

SEEDS: dict[str, dict[str, str]] = {
    "seed_000_analytics": {
        "user": "s000_user",
        "user_modified_documents": "s000_documents",
        "crm_contacts": "s000_contacts",
        "signing_links": "s000_signing_links",
    },
    "seed_001_cursor": {
        "appointment_links": "s001_appointmentlinks",
        "code_snippets": "s001_codesnippets",
        "insights_reports": "s001_insightsreports",
    },
    "seed_002_bearer": {"resource_name": "s002_resource"},
    "seed_003_basic": {
        "account": "s003_account",
        "customers": "s003_customers",
        "custom_fields": "s003_custom_fields",
    },
    "seed_004_offset": {
        "users": "s004_user",
        "lead_custom_fields": "s004_custom_field_lead",
        "contact_custom_fields": "s004_custom_field_contact",
        "opportunity_custom_fields": "s004_custom_field_opportunity",
        "activity_custom_fields": "s004_custom_field_activity",
    },
}


def expected_ids(dataset: str) -> list[Any]:
    """The ids the demo API serves for a dataset, in order."""
    return [r["id"] for r in records(dataset)]


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seed_extracts_every_record(seed: str, fresh_demo: DemoServer, tmp_path: Path) -> None:
    """Every stream: exactly the demo's ids, in order, each once, despite injected 429/503s."""
    run = run_tap(example(seed, fresh_demo.url), tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert sorted(run.records) == sorted(SEEDS[seed])
    for stream, dataset in SEEDS[seed].items():
        assert run.ids(stream) == expected_ids(dataset), stream
    faulted = [r for r in fresh_demo.requests if r["status"] in (429, 503)]
    assert all(r["status"] != 401 for r in fresh_demo.requests)
    assert len(faulted) == {"seed_004_offset": 0}.get(seed, 1)


def test_offset_server_capping_page_size_loses_nothing(demo: DemoServer, tmp_path: Path) -> None:
    """Seed 004 asks limit=1000; the server caps at 100: offsets follow records received."""
    run = run_tap(example("seed_004_offset", demo.url), tmp_path)
    assert run.ids("users") == list(range(1, 251))
    skips = [r["query"]["_skip"][0] for r in demo.requests if r["path"] == "/s004/v1/user"]
    assert skips[-4:] == ["0", "100", "200", "250"]


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seed_piped_into_target_jsonl(seed: str, demo: DemoServer, tmp_path: Path) -> None:
    """tap | target-jsonl: one file per stream with every record (target-jsonl validates them)."""
    target = tool("target-jsonl", "TARGET_JSONL", ".venv-target")
    config = tmp_path / "tap.json"
    config.write_text(json.dumps(example(seed, demo.url)))
    out = tmp_path / "out"
    out.mkdir()
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps({"destination_path": str(out), "do_timestamp_file": False}))
    tap = subprocess.Popen(
        ["tap-restgeneric", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=clean_env(PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]),
    )
    done = subprocess.run(
        [target, "--config", str(target_config)],
        check=False,
        stdin=tap.stdout,
        capture_output=True,
        timeout=120,
    )
    assert tap.wait(timeout=120) == 0
    assert done.returncode == 0, done.stderr[-2000:]
    for stream, dataset in SEEDS[seed].items():
        lines = (out / f"{stream}.jsonl").read_text().splitlines()
        assert [json.loads(line)["id"] for line in lines] == expected_ids(dataset)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seed_through_meltano_run(seed: str, demo: DemoServer, meltano_project: Path) -> None:
    """meltano run tap-restgeneric target-jsonl, with the seed's settings given by env vars."""
    done = meltano_run(meltano_project, example(seed, demo.url), "--no-state-update")
    assert done.returncode == 0, done.stderr[-3000:]
    out = meltano_project / "output"
    assert sorted(p.stem for p in out.iterdir()) == sorted(SEEDS[seed])
    for stream, dataset in SEEDS[seed].items():
        assert jsonl_ids(out / f"{stream}.jsonl") == expected_ids(dataset)


def test_seed_001_without_a_paginator_auto_proves_its_guess(
    fresh_demo: DemoServer, tmp_path: Path
) -> None:
    """No paginator: auto guesses a cursor sent as 'cursor', which the API ignores (page 2
    repeats page 1); sent as 'next' it moves on, and every record arrives once."""
    config = example("seed_001_cursor", fresh_demo.url)
    for resource in config["resources"]:
        del resource["endpoint"]["paginator"]
    run = run_tap(config, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    for stream, dataset in SEEDS["seed_001_cursor"].items():
        assert run.ids(stream) == expected_ids(dataset), stream
    proven = [line for line in run.stderr.splitlines() if "moved past page 1" in line]
    assert len(proven) == 2  # code_snippets (7 records) is one page: nothing to prove
    assert all('"cursor_path": "cursors.next", "cursor_param": "next"}' in p for p in proven)
