"""The Meltano route of the README's "Scaling out", step by step as written there.

A project from the repo's meltano.yml (its config: seed 000's resources). The partitions are cut
from that config (``meltano config print``); each window partition is one ``meltano run
--state-id-suffix <state_id> tap-restgeneric target-jsonl`` with the overlay's keys as settings
(``TAP_RESTGENERIC_RESOURCES``: an array replaces the project's) and the partition's streams as
select rules (``TAP_RESTGENERIC__SELECT``; without them every stream runs). Together the
partitions write one full run's records, each once; each state id holds its own state (``meltano
state get``); those outputs, saved as ``<state_id>.json``, merge into the range end's bookmark,
and ``meltano state set`` gives it to the incremental job that follows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli import ROOT, clean_env, example, jsonl_ids, meltano
from helpers import records, sync

from tap_restgeneric.demo import DemoServer

END = "2024-01-07T00:00:00Z"  # after every seed 000 record's updated_at
STREAM = "crm_contacts"
JOB = "dev:tap-restgeneric-to-target-jsonl"  # the state id of `meltano run` in environment dev


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's meltano.yml, config included; the tap from this checkout; target-jsonl only."""
    project = tmp_path_factory.mktemp("meltano-partitions")
    spec = yaml.safe_load((ROOT / "meltano.yml").read_text())
    spec["plugins"]["extractors"][0]["pip_url"] = f"-e {ROOT}"
    spec["plugins"]["loaders"] = [
        p for p in spec["plugins"]["loaders"] if p["name"] == "target-jsonl"
    ]
    (project / "meltano.yml").write_text(yaml.safe_dump(spec))
    done = meltano(project, clean_env(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false"), "install")
    assert done.returncode == 0, done.stderr[-3000:]
    return project


def restgeneric(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """``.venv/bin/restgeneric *argv`` (the tap's own virtual environment)."""
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "restgeneric"), *argv],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )


def partition_env(env: dict[str, str], part: dict[str, Any]) -> dict[str, str]:
    """The README's settings of a partition: its overlay's keys, its streams as select rules."""
    env = dict(env)
    for key, value in part["overlay"].items():
        env[f"TAP_RESTGENERIC_{key.upper()}"] = json.dumps(value)
    env["TAP_RESTGENERIC__SELECT"] = json.dumps([f"{stream}.*" for stream in part["streams"]])
    return env


def fresh(out: Path) -> Path:
    """An empty output/ folder (target-jsonl appends to its files)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    return out


def test_window_partitions_through_meltano_run_each_with_its_own_state_id(
    project: Path, tmp_path: Path
) -> None:
    out = project / "output"
    written: dict[str, list[Any]] = {}
    with DemoServer(port=0, faults=False) as server:
        seed = example("seed_000_incremental", server.url)  # = the project's config
        once = [r["id"] for r in records(sync(seed), STREAM)]
        secrets = {name.upper(): value for name, value in seed["secrets"].items()}
        env = clean_env(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false", **secrets)
        env["TAP_RESTGENERIC_CLIENT"] = json.dumps({"base_url": f"{server.url}/s000"})
        printed = meltano(project, env, "config", "print", "tap-restgeneric")
        assert printed.returncode == 0, printed.stderr[-3000:]
        (tmp_path / "config.json").write_text(printed.stdout)
        cut = restgeneric(
            env, "partitions", str(tmp_path / "config.json"), "--by", "window", "--count", "2",
            "--end", END,
        )  # fmt: skip
        assert cut.returncode == 0, cut.stderr
        (tmp_path / "partitions.json").write_text(cut.stdout)
        parts: list[dict[str, Any]] = json.loads(cut.stdout)
        windows = [p for p in parts if p.get("window", {}).get("stream") == STREAM]
        assert [p["state_id"] for p in windows] == [f"{STREAM}-w1", f"{STREAM}-w2"]

        # Without the select rules Meltano's catalog (select *.*) overrides `selected`.
        without = partition_env(env, windows[0])
        del without["TAP_RESTGENERIC__SELECT"]
        fresh(out)
        argv = ["run", "--no-state-update", "tap-restgeneric", "target-jsonl"]
        unselected = meltano(project, without, *argv)
        assert unselected.returncode == 0, unselected.stderr[-3000:]
        assert len(list(out.iterdir())) == 4  # every stream of the config, not the partition's

        for part in windows:
            fresh(out)
            argv = ["run", "--state-id-suffix", part["state_id"], "tap-restgeneric", "target-jsonl"]
            done = meltano(project, partition_env(env, part), *argv)
            assert done.returncode == 0, done.stderr[-3000:]
            assert [p.name for p in out.iterdir()] == [f"{STREAM}.jsonl"]  # the select rule held
            written[part["state_id"]] = jsonl_ids(out / f"{STREAM}.jsonl")
        assert all(written.values())  # each window wrote records of its own
        ids = [i for some in written.values() for i in some]
        assert sorted(ids) == sorted(once)
        assert len(ids) == len(set(ids))

        state_ids = [f"{JOB}:{p['state_id']}" for p in windows]
        listed = meltano(project, env, "state", "list", "--pattern", f"*{STREAM}-w*")
        assert listed.returncode == 0, listed.stderr[-3000:]
        assert sorted(listed.stdout.split()) == state_ids
        states = tmp_path / "states"
        states.mkdir()
        for part, state_id in zip(windows, state_ids, strict=True):
            got = meltano(project, env, "state", "get", state_id)
            assert got.returncode == 0, got.stderr[-3000:]
            # a window is a backfill: its own state, with no bookmark of its own
            assert json.loads(got.stdout) == {"singer_state": {"bookmarks": {STREAM: {}}}}
            (states / f"{part['state_id']}.json").write_text(got.stdout)
        merged = restgeneric(
            env, "partitions", "--merge-state", *sorted(str(p) for p in states.iterdir()),
            "--manifest", str(tmp_path / "partitions.json"),
        )  # fmt: skip
        assert merged.returncode == 0, merged.stderr
        bookmark = {"replication_key": "updated_at", "replication_key_value": END}
        assert json.loads(merged.stdout) == {"bookmarks": {STREAM: bookmark}}
        assert f"{STREAM}: windows 1-2 of 2 complete: {END}" in merged.stderr
        assert "signing_links: window 1 of 2 did not complete" in merged.stderr  # not run here

        # The incremental job that follows starts at the merged bookmark.
        # `meltano state set` takes it inside {"singer_state": …} (bare, it refuses it).
        wrapped = '{"singer_state": ' + merged.stdout + "}"  # as "$(cat output/state.json)"
        stored = meltano(project, env, "state", "set", "--force", JOB, wrapped)
        assert stored.returncode == 0, stored.stderr[-3000:]
        fresh(out)
        follow = meltano(project, env, "run", "tap-restgeneric", "target-jsonl")
        assert follow.returncode == 0, follow.stderr[-3000:]
    assert not (out / f"{STREAM}.jsonl").exists()  # nothing changed since the end
    assert len(jsonl_ids(out / "signing_links.jsonl")) == 23  # no bookmark: from the start
    got = meltano(project, env, "state", "get", JOB)
    assert json.loads(got.stdout)["singer_state"]["bookmarks"][STREAM] == bookmark
