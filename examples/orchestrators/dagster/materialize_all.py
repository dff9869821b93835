"""Materialize every partition of ``definitions.py`` in-process, then ``merged_state``.

``python materialize_all.py`` (settings as in definitions.py): one Dagster run per partition key,
one after another, in this process (no webserver, no daemon), on one ephemeral instance; then
the merge. Prints one JSON line: each partition's outcome as Dagster reported it, and the
merged state with its notes. Exit status 0 when every run succeeded, else 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import definitions  # found beside this file (the path above)


def failure(result: dg.ExecuteInProcessResult) -> str | None:
    """What the failed step of a run said (None when the run succeeded)."""
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return data.user_failure_data.description
        if data.error is not None:
            return data.error.message.strip()
    return None if result.success else "the run failed"


def main() -> int:
    """Run every partition, then the merge; print the summary line."""
    summary: dict[str, Any] = {"partitions": {}}
    with dg.DagsterInstance.ephemeral() as instance:
        for key in definitions.partitions_def.get_partition_keys():
            result = dg.materialize(
                [definitions.partition_sync],
                partition_key=key,
                instance=instance,
                raise_on_error=False,
            )
            summary["partitions"][key] = {"success": result.success, "error": failure(result)}
        merged = dg.materialize([definitions.merged_state], instance=instance, raise_on_error=False)
    summary["merged"] = {"success": merged.success, "error": failure(merged)}
    if merged.success:
        summary["merged"]["state"] = json.loads((definitions.WORK / "state.json").read_text())
        for event in merged.get_asset_materialization_events():
            materialization = event.step_materialization_data.materialization
            summary["merged"]["notes"] = materialization.metadata["notes"].value
    print(json.dumps(summary))
    ok = merged.success and all(p["success"] for p in summary["partitions"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
