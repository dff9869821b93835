"""Dagster assets that run the partitions of ``restgeneric partitions --out-dir`` and merge them.

One partitioned asset, ``partition_sync``: its partition keys are the partition names of
``partitions.json``; materializing a key runs ``tap-restgeneric --config <name>.json [--state
<state_id>.json]`` piped (an OS pipe) into ``target-jsonl`` and, when both exit 0, writes the
target's last STATE line as ``states/<state_id>.json``. A failed partition writes no state
(a state file left by an earlier completed run of it stays: that run's records were written).
Then ``merged_state`` runs ``restgeneric partitions --merge-state`` over the state files present
and writes ``state.json``: the state of the incremental job that follows the backfill.

Settings (environment variables, read when Dagster loads this file):

- ``RESTGENERIC_PARTS``: the ``--out-dir`` of ``restgeneric partitions`` (default
  ``output/parts``).
- ``RESTGENERIC_WORK``: where ``states/``, ``output/<name>/`` (target-jsonl's files, replaced
  on each materialization of the partition), ``logs/`` and ``state.json`` go (default
  ``output/dagster``).
- ``RESTGENERIC_TAP``, ``RESTGENERIC``, ``TARGET_JSONL``: the commands (default
  ``tap-restgeneric``, ``restgeneric``, ``target-jsonl`` on PATH).

Run it with ``dagster dev -f definitions.py`` (the UI: materialize all partitions of
``partition_sync`` as a backfill, then ``merged_state``), ``dagster asset materialize -f
definitions.py --select partition_sync --partition <name>``, or ``python materialize_all.py``
(every partition in-process, one after another, then the merge).
"""

# No `from __future__ import annotations`: Dagster reads the type of `context` at definition.
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import dagster as dg

PARTS = Path(os.environ.get("RESTGENERIC_PARTS", "output/parts"))
WORK = Path(os.environ.get("RESTGENERIC_WORK", "output/dagster"))
TAP = os.environ.get("RESTGENERIC_TAP", "tap-restgeneric")
RESTGENERIC = os.environ.get("RESTGENERIC", "restgeneric")
TARGET = os.environ.get("TARGET_JSONL", "target-jsonl")


def read_manifest() -> list[dict[str, Any]]:
    """The partitions list ``restgeneric partitions --out-dir`` wrote."""
    path = PARTS / "partitions.json"
    if not path.is_file():
        msg = (
            f"{path} not found: run `restgeneric partitions CONFIG --by window --out-dir {PARTS}`"
            " first (or set RESTGENERIC_PARTS to its --out-dir)"
        )
        raise FileNotFoundError(msg)
    parts: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return parts


MANIFEST = read_manifest()
BY_NAME = {part["name"]: part for part in MANIFEST}
partitions_def = dg.StaticPartitionsDefinition([part["name"] for part in MANIFEST])


def state_path(state_id: str) -> Path:
    """Where the final state of the partition with this state id is kept."""
    return WORK / "states" / f"{state_id}.json"


def last_line(path: Path) -> str:
    """The last non-empty line of a log file (the tap's failure line is its last)."""
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


@dg.asset(partitions_def=partitions_def)
def partition_sync(context: dg.AssetExecutionContext) -> dg.MaterializeResult[None]:
    """One partition: tap-restgeneric | target-jsonl; its final state written when both exit 0."""
    name = context.partition_key
    part = BY_NAME[name]
    out = WORK / "output" / name
    shutil.rmtree(out, ignore_errors=True)  # a rerun replaces the partition's files
    for folder in (out, WORK / "states", WORK / "logs", WORK / "targets"):
        folder.mkdir(parents=True, exist_ok=True)
    target_config = WORK / "targets" / f"{name}.json"
    target_config.write_text(json.dumps({"destination_path": str(out), "do_timestamp_file": False}))
    state_file = state_path(part["state_id"])
    tap_command = [TAP, "--config", str(PARTS / f"{name}.json")]
    if state_file.is_file():
        tap_command += ["--state", str(state_file)]
    tap_log, target_log = WORK / "logs" / f"{name}.tap.log", WORK / "logs" / f"{name}.target.log"
    context.log.info(f"{name}: {' '.join(tap_command)} | {TARGET} -c {target_config}")
    with tap_log.open("wb") as tap_err, target_log.open("wb") as target_err:
        tap = subprocess.Popen(tap_command, stdout=subprocess.PIPE, stderr=tap_err)
        target = subprocess.Popen(
            [TARGET, "-c", str(target_config)],
            stdin=tap.stdout,
            stdout=subprocess.PIPE,
            stderr=target_err,
        )
        assert tap.stdout is not None
        tap.stdout.close()  # the target holds the pipe's read end; the tap sees it close
        emitted, _ = target.communicate()
        tap_code = tap.wait()
    states = [line for line in emitted.decode().splitlines() if line.strip()]
    if tap_code != 0 or target.returncode != 0 or not states:
        raise dg.Failure(
            description=(
                f"partition {name}: tap-restgeneric exited {tap_code}, target-jsonl exited "
                f"{target.returncode}{'' if states else ', no state'}: "
                f"{last_line(tap_log) if tap_code else last_line(target_log)}"
            ),
            metadata={"tap log": str(tap_log), "target log": str(target_log)},
        )
    final = json.loads(states[-1])
    written = state_file.with_suffix(".json.tmp")
    written.write_text(json.dumps(final))
    written.replace(state_file)  # whole or not at all
    counts = {p.stem: len(p.read_text().splitlines()) for p in sorted(out.glob("*.jsonl"))}
    return dg.MaterializeResult(
        metadata={
            "state_id": part["state_id"],
            "state file": str(state_file),
            "records": dg.MetadataValue.json(counts),
        }
    )


@dg.asset(deps=[partition_sync])
def merged_state(context: dg.AssetExecutionContext) -> dg.MaterializeResult[None]:
    """The combined state of the partitions that completed (``restgeneric partitions
    --merge-state``): per windowed stream, the end of the unbroken run of completed windows."""
    done = [str(state_path(p["state_id"])) for p in MANIFEST if state_path(p["state_id"]).is_file()]
    if not done:
        text, notes = json.dumps({"bookmarks": {}}), ["no partition has completed"]
    else:
        command = [RESTGENERIC, "partitions", "--merge-state", *done]
        command += ["--manifest", str(PARTS / "partitions.json")]
        merged = subprocess.run(command, check=False, capture_output=True, text=True)
        if merged.returncode != 0:
            raise dg.Failure(description=f"restgeneric partitions --merge-state: {merged.stderr}")
        text, notes = merged.stdout, merged.stderr.splitlines()
    for note in notes:
        context.log.info(note)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "state.json").write_text(text)
    return dg.MaterializeResult(
        metadata={
            "state": dg.MetadataValue.json(json.loads(text)),
            "notes": "\n".join(notes),
            "completed partitions": len(done),
            "partitions": len(MANIFEST),
        }
    )


defs = dg.Definitions(assets=[partition_sync, merged_state])
