"""The Dagster example (examples/orchestrators/dagster) run in-process in .venv-dagster.

``restgeneric partitions --out-dir`` cuts seed 000 into window partitions; materialize_all.py
materializes every partition key of ``partition_sync`` (tap-restgeneric | target-jsonl, an OS
pipe) and then ``merged_state`` (``restgeneric partitions --merge-state``). Together the
partitions write one full run's records, each once, and the merged bookmark is the range end;
when partitions fail, Dagster reports them failed and the merge stops where the README's rule
says.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cli import ROOT, clean_env, example, tool
from helpers import records, sync

from tap_restgeneric.demo import DemoServer

EXAMPLE = ROOT / "examples" / "orchestrators" / "dagster"
END = "2024-01-07T00:00:00Z"  # after every seed 000 record's updated_at: 3 windows of 2 days
WINDOWED = ("crm_contacts", "signing_links")
BOOKMARK = "replication_key_value"


def dagster_python() -> str:
    """The Python of .venv-dagster (scripts/setup installs it); CI must have it."""
    path = Path(os.environ.get("DAGSTER_PYTHON") or ROOT / ".venv-dagster" / "bin" / "python")
    if path.exists():
        return str(path)
    if os.environ.get("CI"):
        pytest.fail(f"{path} is missing; scripts/setup installs .venv-dagster")
    pytest.skip(f"{path} is missing (run scripts/setup)")
    raise AssertionError  # unreachable: skip raises


def command(name: str) -> str:
    """A command of the tap's own virtual environment, by its path from the repo root."""
    return str(ROOT / ".venv" / "bin" / name)


def cut(tmp_path: Path, config: dict[str, Any]) -> tuple[Path, list[dict[str, Any]]]:
    """``restgeneric partitions CONFIG --by window --count 3 --out-dir``: the dir and the list."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    parts = tmp_path / "parts"
    argv = [command("restgeneric"), "partitions", str(path), "--by", "window", "--count", "3"]
    argv += ["--end", END, "--out-dir", str(parts)]
    done = subprocess.run(argv, check=False, capture_output=True, text=True, env=clean_env())
    assert done.returncode == 0, done.stderr
    manifest: list[dict[str, Any]] = json.loads((parts / "partitions.json").read_text())
    return parts, manifest


def materialize_all(parts: Path, work: Path) -> tuple[int, dict[str, Any], str]:
    """Run examples/orchestrators/dagster/materialize_all.py: exit status, summary, stderr."""
    env = clean_env(
        RESTGENERIC_PARTS=str(parts),
        RESTGENERIC_WORK=str(work),
        RESTGENERIC_TAP=command("tap-restgeneric"),
        RESTGENERIC=command("restgeneric"),
        TARGET_JSONL=tool("target-jsonl", "TARGET_JSONL", ".venv-target"),
    )
    done = subprocess.run(
        [dagster_python(), str(EXAMPLE / "materialize_all.py")],
        check=False,
        cwd=work.parent,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(lines[-1])
    return done.returncode, summary, done.stderr


def written(work: Path, names: list[str]) -> dict[str, list[Any]]:
    """The ids in target-jsonl's files of these partitions, per stream (every line parsed)."""
    ids: dict[str, list[Any]] = {}
    for name in names:
        for path in sorted((work / "output" / name).glob("*.jsonl")):
            lines = path.read_text().splitlines()
            ids.setdefault(path.stem, []).extend(json.loads(line)["id"] for line in lines)
    return ids


def full_run(config: dict[str, Any]) -> dict[str, list[Any]]:
    """The ids of one full run of the config, per stream."""
    messages = sync(config)
    streams = {m["stream"] for m in messages if m["type"] == "RECORD"}
    return {stream: [r["id"] for r in records(messages, stream)] for stream in streams}


def test_every_partition_materializes_and_together_they_write_one_full_run(
    tmp_path: Path,
) -> None:
    with DemoServer(port=0, faults=False) as server:
        config = example("seed_000_incremental", server.url)
        once = full_run(config)
        parts, manifest = cut(tmp_path, config)
        code, summary, stderr = materialize_all(parts, tmp_path / "work")
    names = [p["name"] for p in manifest]
    assert code == 0, stderr[-3000:]
    assert len([p for p in manifest if "window" in p]) == 6
    assert summary["partitions"] == {n: {"success": True, "error": None} for n in names}
    ids = written(tmp_path / "work", names)
    assert set(ids) == set(once) == {*WINDOWED, "user", "user_modified_documents"}
    for stream, expected in once.items():
        assert sorted(ids[stream]) == sorted(expected), stream
        assert len(ids[stream]) == len(set(ids[stream])), stream
    for part in manifest:  # each window wrote records of its own: the split is real
        if "window" in part:
            assert written(tmp_path / "work", [part["name"]]), part["name"]
    states = sorted(p.stem for p in (tmp_path / "work" / "states").glob("*.json"))
    assert states == sorted(p["state_id"] for p in manifest)
    merged = summary["merged"]
    assert merged["success"], merged
    for stream in WINDOWED:
        assert merged["state"]["bookmarks"][stream] == {
            "replication_key": "updated_at",
            BOOKMARK: END,
        }
        assert f"{stream}: windows 1-3 of 3 complete: {END}" in merged["notes"]
    on_disk = json.loads((tmp_path / "work" / "state.json").read_text())
    assert on_disk == merged["state"]


def break_partition(parts: Path, name: str, secret: str) -> None:
    """Give partition ``name``'s config a wrong secret value: its run fails with a 401."""
    path = parts / f"{name}.json"
    config = json.loads(path.read_text())
    config["secrets"][secret] = "wrong"
    path.write_text(json.dumps(config))


def test_failed_partitions_are_reported_and_the_merge_stops_before_the_first_gap(
    tmp_path: Path,
) -> None:
    broken = {"crm_contacts-w2": "api_key_id", "signing_links-w1": "auth_token"}
    work = tmp_path / "work"
    with DemoServer(port=0, faults=False) as server:
        config = example("seed_000_incremental", server.url)
        once = full_run(config)
        parts, manifest = cut(tmp_path, config)
        for name, secret in broken.items():
            break_partition(parts, name, secret)
        code, summary, _ = materialize_all(parts, work)
        assert code == 1
        for name, outcome in summary["partitions"].items():
            if name in broken:
                assert not outcome["success"], name
                assert f"partition {name}: tap-restgeneric exited 1" in outcome["error"]
                assert "401 Unauthorized" in outcome["error"]
            else:
                assert outcome == {"success": True, "error": None}, name
        assert sorted(p.stem for p in (work / "states").glob("*.json")) == sorted(
            p["state_id"] for p in manifest if p["name"] not in broken
        )
        completed = [p["name"] for p in manifest if p["name"] not in broken]
        for stream, some in written(work, completed).items():
            assert set(some) <= set(once[stream]), stream
            assert len(some) == len(set(some)), stream
        merged = summary["merged"]
        assert merged["success"], merged
        first_end = next(p["window"]["end"] for p in manifest if p["name"] == "crm_contacts-w1")
        assert first_end == "2024-01-03T00:00:00Z"
        # crm_contacts: window 2 failed, so the bookmark is the end of window 1; signing_links:
        # window 1 failed, so it gets no bookmark (the next run starts at the start).
        assert merged["state"]["bookmarks"] == {
            "crm_contacts": {"replication_key": "updated_at", BOOKMARK: first_end}
        }
        assert "window 2 (crm_contacts-w2) is missing" in merged["notes"]
        assert "signing_links: window 1 of 3 did not complete" in merged["notes"]
        # The fixed configs rerun: each partition's files are replaced, not appended to.
        for name, secret in broken.items():
            fixed = json.loads((parts / f"{name}.json").read_text())
            fixed["secrets"][secret] = config["secrets"][secret]
            (parts / f"{name}.json").write_text(json.dumps(fixed))
        code, summary, stderr = materialize_all(parts, work)
    assert code == 0, stderr[-3000:]
    ids = written(work, [p["name"] for p in manifest])
    for stream, expected in once.items():
        assert sorted(ids[stream]) == sorted(expected), stream
    for stream in WINDOWED:
        assert summary["merged"]["state"]["bookmarks"][stream][BOOKMARK] == END
