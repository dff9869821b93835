"""The README's walkthrough, step by step: a seed document to loaded data with the tools."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli import clean_env, jsonl_ids, meltano_run

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.data import records

SEED_003 = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "003_799b38dd5920a308.txt"
SCRIPTS = Path(sys.executable).parent


def restgeneric(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the ``restgeneric`` console script as a user would."""
    return subprocess.run(
        [str(SCRIPTS / "restgeneric"), *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.skipif(not SEED_003.is_file(), reason=f"seed documents not at {SEED_003.parent}")
def test_seed_document_to_loaded_data(meltano_project: Path, tmp_path: Path) -> None:
    """import-dlt, validate, preview, then meltano run: every record of every stream arrives."""
    with DemoServer(port=0, faults=False) as server:
        config_path = tmp_path / "my_config.json"
        env = clean_env(USERNAME="demo-user-003", PASSWORD="demo-pass-003")
        converted = restgeneric(
            "import-dlt", str(SEED_003), "--base-url", f"{server.url}/s003",
            "-o", str(config_path), env=env,
        )  # fmt: skip
        assert converted.returncode == 0, converted.stderr
        assert "secrets to set: username, password" in converted.stderr

        checked = restgeneric("validate", str(config_path), env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.splitlines()[0] == "OK: 3 resources, 3 streams"
        assert not server.requests  # validate never calls the API

        previewed = restgeneric(
            "preview", str(config_path), "--resource", "customers", "--pages", "2", env=env
        )
        assert previewed.returncode == 0, previewed.stderr
        assert previewed.stdout.count("records: 50") == 2
        assert "demo-pass-003" not in previewed.stdout + previewed.stderr

        config = json.loads(config_path.read_text())
        run_env_config = {
            **config,
            "secrets": {"username": "demo-user-003", "password": "demo-pass-003"},
        }
        done = meltano_run(meltano_project, run_env_config, "--no-state-update")
        assert done.returncode == 0, done.stderr[-3000:]
    out = meltano_project / "output"
    for stream, dataset in {
        "account": "s003_account",
        "customers": "s003_customers",
        "custom_fields": "s003_custom_fields",
    }.items():
        assert jsonl_ids(out / f"{stream}.jsonl") == [r["id"] for r in records(dataset)]
