"""``restgeneric partitions``: a config cut into runs by stream or by cursor window; their state."""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tap_restgeneric.config.resources import expand_resource, merge_defaults
from tap_restgeneric.config.spec import ResourceSpec, RestApiSpec
from tap_restgeneric.errors import ConfigErrors
from tap_restgeneric.records.cursors import parse_duration, render
from tap_restgeneric.tools.common import ConfigFiles, ToolError, err, out
from tap_restgeneric.tools.partition_ranges import cursor_format, floor_to, instant, merge, split
from tap_restgeneric.tools.validate import check_config

REST = "unpartitioned"
Partition = dict[str, Any]


def add_parser(commands: Any) -> None:
    """Register the ``partitions`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "partitions",
        help="cut a config into runs by stream or by cursor window (and merge their states)",
        description=(
            "Print the partitions of a config: each a JSON merge patch of the config (its "
            "top-level keys replace the config's) and a state id. --by stream: one per selected "
            "top-level resource, children with their parent. --by window: [start, end) of each "
            "incremental resource cut into contiguous backfill ranges, plus one partition with "
            "every other stream. --merge-state: the combined Singer state after partitions ran."
        ),
    )
    parser.add_argument("config", nargs="*", help="config file(s), merged in order")
    parser.add_argument("--by", choices=("window", "stream"))
    parser.add_argument("--count", type=int, help="windows per resource (near-equal ranges)")
    parser.add_argument("--window", help="window size, an ISO 8601 duration such as P7D")
    parser.add_argument("--end", help="end of the range (exclusive; default: now, UTC)")
    parser.add_argument("--format", choices=("json", "lines"), default="json")
    parser.add_argument(
        "--out-dir", help="also write DIR/<name>.json (whole configs) and DIR/partitions.json"
    )
    parser.add_argument(
        "--merge-state",
        nargs="+",
        metavar="STATE",
        help="state files of the completed partitions, each named <state_id>.json",
    )
    parser.add_argument("--manifest", help="with --merge-state: the partitions JSON list")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the partitions (or the merged state); exit 1 with the reason when impossible."""
    if args.merge_state:
        return merge(args)
    if not args.config or args.by is None:
        raise ToolError("give CONFIG and --by window|stream (or --merge-state STATE...)")
    files = ConfigFiles.read(args.config)
    checked = check_config(files.config)
    if checked.spec is None:
        raise ToolError(*(files.locate(line) for line in checked.errors))
    if args.by == "stream":
        parts = by_stream(files.config, checked.spec)
    else:
        window = None
        if args.window is not None and (window := parse_duration(args.window)) is None:
            raise ToolError(f"--window: invalid duration {args.window!r} (such as P7D or PT6H)")
        end = instant(args.end, "--end") if args.end else None
        parts = by_window(files.config, checked.spec, count=args.count, window=window, end=end)
    for part in parts:
        problems = check_config(apply(files.config, part["overlay"])).errors
        if problems:
            raise ToolError(f"partition {part['name']}: the config it gives is invalid", *problems)
    if args.out_dir:
        write_parts(Path(args.out_dir), files.config, parts)
    if args.format == "json":
        out(json.dumps(parts, indent=2))
    else:
        for part in parts:
            out(f"{part['name']}\t{part['state_id']}\t{json.dumps(part['overlay'])}")
    return 0


def apply(config: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """The overlay applied: its top-level keys replace the config's (as ``--config A B`` does)."""
    return {**copy.deepcopy(dict(config)), **copy.deepcopy(dict(overlay))}


def write_parts(folder: Path, config: Mapping[str, Any], parts: list[Partition]) -> None:
    """DIR/<name>.json for each partition (owner-only: it holds what the config holds)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [(f"{part['name']}.json", apply(config, part["overlay"])) for part in parts]
    for name, value in [*files, ("partitions.json", parts)]:
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2)
            handle.write("\n")


def safe_name(text: str) -> str:
    """A name usable as a file name and a Meltano state id suffix."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def families(spec: RestApiSpec) -> dict[str, list[ResourceSpec]]:
    """Top-level resource name → it and its descendants (parents first)."""
    by_name = {r.name: r for r in spec.resources}

    def root(resource: ResourceSpec) -> str:
        while resource.parent is not None and resource.parent in by_name:
            resource = by_name[resource.parent]
        return resource.name

    found: dict[str, list[ResourceSpec]] = {}
    for resource in spec.resources:
        found.setdefault(root(resource), []).append(resource)
    return found


def raw_items(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The config's resources as dicts (``"posts"`` → ``{"name": "posts"}``)."""
    items = config.get("resources") or []
    return [{"name": item} if isinstance(item, str) else copy.deepcopy(item) for item in items]


def selecting(
    config: Mapping[str, Any], spec: RestApiSpec, names: set[str]
) -> list[dict[str, Any]]:
    """The resources list with ``selected`` as configured for ``names``, false for the rest."""
    chosen = {r.name: r.selected for r in spec.resources if r.name in names}
    items = raw_items(config)
    for item in items:
        item["selected"] = chosen.get(item["name"], False)
    return items


def streams_of(members: list[ResourceSpec]) -> list[str]:
    """The Singer streams a partition writes."""
    return [r.stream_name for r in members if r.selected]


def by_stream(config: Mapping[str, Any], spec: RestApiSpec) -> list[Partition]:
    """One partition per top-level resource with a selected stream in its family."""
    parts = []
    for top, members in families(spec).items():
        if not streams_of(members):
            continue
        names = {r.name for r in members}
        name = safe_name(top)
        overlay = {"resources": selecting(config, spec, names)}
        parts.append(
            {"name": name, "state_id": name, "streams": streams_of(members), "overlay": overlay}
        )
    return parts


def by_window(
    config: Mapping[str, Any],
    spec: RestApiSpec,
    *,
    count: int | None,
    window: Any,
    end: datetime | None,
) -> list[Partition]:
    """Window partitions of each selected top-level incremental resource, then the rest.

    The range ends at ``end`` (--end), else at the resource's end_value, else now.
    """
    if count is not None and window is not None:
        raise ToolError("give --count or --window, not both")
    parts: list[Partition] = []
    rest: set[str] = set()
    for top, members in families(spec).items():
        resource = members[0]
        inc = resource.endpoint.incremental
        start = None if inc is None else inc.initial_value
        if start is None and inc is not None:
            start = inc.start_date
        if inc is None or start is None or not resource.selected:
            rest.update(r.name for r in members)
            continue
        size = window if window is not None or count is not None else inc.window
        if count is None and size is None:
            msg = f"{top}: give --count N or --window P7D (the resource has no window_size)"
            raise ToolError(msg)
        fmt = cursor_format(start, inc.convert)
        if end is not None:
            stop = end
        elif inc.end_value is not None:
            stop = instant(inc.end_value, f"{top}: end_value")
        else:
            stop = datetime.now(timezone.utc)
        stop = floor_to(stop, fmt)
        ranges = split(instant(start, f"{top}: start"), stop, fmt, count=count, window=size)
        # windows tile as [s, e); with range_start open and no window_size as (s, e], so that
        # the merged bookmark (a window's end) continues exactly on the next incremental run
        tail_open = inc.range_start == "open" and inc.window is None
        if not tail_open and inc.range_end == "closed":
            err(
                f"note: {top}: range_end 'closed' is 'open' in its windows (adjacent windows "
                "would share their boundary); records at the last end are read by the next "
                "incremental run, from the merged bookmark"
            )
        if inc.end_param is None and inc.row_order != "asc":
            err(
                f"note: {top}: without end_param (or row_order: asc) each window reads the API "
                "from its start onwards and keeps only its own records"
            )
        width = len(str(len(ranges)))
        for i, (lo, hi) in enumerate(ranges):
            first_start = inc.range_start if i == 0 else "closed"
            bounds = {
                "initial_value": render(lo, fmt),
                "end_value": render(hi, fmt),
                "range_start": "open" if tail_open else first_start,
                "range_end": "closed" if tail_open else "open",
            }
            items = selecting(config, spec, {r.name for r in members})
            set_window(config, items, top, bounds)
            name = safe_name(f"{top}-w{i + 1:0{width}d}")
            window_info = {
                "resource": top,
                "stream": resource.stream_name,
                "replication_key": inc.replication_key,
                "start": bounds["initial_value"],
                "end": bounds["end_value"],
            }
            parts.append(
                {
                    "name": name,
                    "state_id": name,
                    "streams": streams_of(members),
                    "window": window_info,
                    "overlay": {"resources": items},
                }
            )
    chosen = [r for r in spec.resources if r.name in rest]
    if streams_of(chosen):
        overlay = {"resources": selecting(config, spec, rest)}
        parts.append(
            {"name": REST, "state_id": REST, "streams": streams_of(chosen), "overlay": overlay}
        )
    return parts


def set_window(
    config: Mapping[str, Any], items: list[dict[str, Any]], name: str, bounds: Mapping[str, Any]
) -> None:
    """Write the resource's whole ``incremental`` with the window's bounds into its endpoint."""
    item = next(i for i in items if i["name"] == name)
    defaults = config.get("resource_defaults") or {}
    expanded = expand_resource(copy.deepcopy(item), ("resources",), ConfigErrors())  # type: ignore[arg-type]
    assert expanded is not None
    merged = merge_defaults(expanded, defaults)
    endpoint = dict(expanded["endpoint"])
    if isinstance(merged["endpoint"].get("incremental"), dict):
        incremental = dict(merged["endpoint"]["incremental"])
    else:
        params = merged["endpoint"].get("params") or {}
        param = next(
            k for k, v in params.items() if isinstance(v, dict) and v.get("type") == "incremental"
        )
        default_params = (defaults.get("endpoint") or {}).get("params") or {}
        if param in default_params:
            msg = (
                f"{name}: its incremental param {param!r} comes from resource_defaults, which a "
                "window cannot override; write it in the resource (or as endpoint 'incremental')"
            )
            raise ToolError(msg)
        own = dict(endpoint.get("params") or {})
        incremental = {k: v for k, v in own.pop(param).items() if k != "type"}
        incremental["start_param"] = param
        endpoint["params"] = own
    endpoint["incremental"] = {**incremental, **bounds}
    item["endpoint"] = endpoint
