"""Contiguous cursor ranges for ``restgeneric partitions``, and the merge of their states."""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tap_restgeneric.cli.files import read_json_file
from tap_restgeneric.records.cursors import as_datetime, detect_format, parse_point, render
from tap_restgeneric.tools.common import ToolError, err, out

UNITS = {"date": timedelta(days=1), "epoch_ms": timedelta(milliseconds=1)}
"""The smallest step a boundary can be written in (a second for every other format)."""
MAX_WINDOWS = 1_000
"""Window partitions of one resource, at most: each is a job of its own for an orchestrator."""


def cursor_format(raw: Any, convert: str | None) -> str:
    """The format window boundaries are written in: the start value's own (as the tap reads it)."""
    fmt = detect_format(raw)
    if fmt is None:
        point = parse_point(raw)
        if convert is not None and point is not None and as_datetime(point) is not None:
            return convert
        msg = f"cannot split a cursor that is not a date, date-time or epoch number: {raw!r}"
        raise ToolError(msg)
    return fmt


def instant(raw: Any, what: str) -> datetime:
    """A date, date-time or epoch number as an aware datetime."""
    point = parse_point(raw)
    moment = None if point is None else as_datetime(point)
    if moment is None:
        msg = f"{what}: not a date, date-time or epoch number: {raw!r}"
        raise ToolError(msg)
    return moment


def floor_to(moment: datetime, fmt: str) -> datetime:
    """The instant as the format can write it (a date drops the time, epoch the fraction)."""
    return instant(render(moment, fmt), "boundary")


def split(
    start: datetime, end: datetime, fmt: str, *, count: int | None, window: timedelta | None
) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into ``count`` near-equal or ``window``-sized contiguous ranges.

    Boundaries are whole units of the format (days for dates, milliseconds for epoch_ms,
    seconds otherwise); each range ends where the next begins; empty ranges are dropped, so
    fewer than ``count`` come back when the span has fewer units.
    """
    unit = UNITS.get(fmt, timedelta(seconds=1))
    if end <= start:
        first, last = render(start, fmt), render(end, fmt)
        msg = f"nothing to split: the start {first} is not before the end {last}"
        raise ToolError(msg)
    units = (end - start) // unit
    if window is not None:
        if window % unit:
            msg = f"the window {window} is not a whole number of {unit} (the cursor is a {fmt})"
            raise ToolError(msg)
        step = window // unit
        if -(-units // step) > MAX_WINDOWS:
            msg = (
                f"the window {window} cuts the range into more than {MAX_WINDOWS:,} windows "
                "(each a job of its own): give a larger --window, or --count"
            )
            raise ToolError(msg)
        points = [start + unit * k for k in range(0, units, step)]
    else:
        if count is None or count < 1:
            raise ToolError("--count must be a positive number")
        if count > MAX_WINDOWS:
            raise ToolError(f"--count must be at most {MAX_WINDOWS:,} (each a job of its own)")
        points = [start + unit * (units * i // count) for i in range(count)]
    bounds = sorted({*points, end})
    return list(itertools.pairwise(bounds))


def combined_state(
    manifest: Sequence[Mapping[str, Any]], states: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], list[str]]:
    """The Singer state after the partitions whose states are given ran (name → state).

    Every stream bookmark in the given states is kept (stream partitions have disjoint
    streams). For each windowed stream the bookmark is the end of the last window of the
    unbroken run of completed windows from its first one; a missing window stops it there
    (none completed from the first: no bookmark, the next run starts at the start again).
    Returns the state and one note per windowed stream.
    """
    bookmarks: dict[str, Any] = {}
    for state in states.values():
        for stream, entry in (state.get("bookmarks") or {}).items():
            if isinstance(entry, dict) and entry:
                bookmarks[stream] = entry
    windows: dict[str, list[Mapping[str, Any]]] = {}
    for part in manifest:
        if isinstance(part.get("window"), dict):
            windows.setdefault(part["window"]["stream"], []).append(part)
    notes = []
    for stream, unsorted in windows.items():
        parts = sorted(unsorted, key=lambda p: instant(p["window"]["start"], "start"))
        done = 0
        while done < len(parts) and parts[done]["name"] in states:
            done += 1
        bookmarks.pop(stream, None)
        if done == 0:
            notes.append(f"{stream}: window 1 of {len(parts)} did not complete: no bookmark")
            continue
        last = parts[done - 1]["window"]
        bookmarks[stream] = {
            "replication_key": last["replication_key"],
            "replication_key_value": last["end"],
        }
        gap = f"; window {done + 1} ({parts[done]['name']}) is missing" if done < len(parts) else ""
        notes.append(f"{stream}: windows 1-{done} of {len(parts)} complete{gap}: {last['end']}")
    return {"bookmarks": bookmarks}, notes


def merge(args: argparse.Namespace) -> int:
    """Print the combined state of the completed partitions (named by their state files)."""
    if not args.manifest:
        raise ToolError("--merge-state needs --manifest PARTITIONS.json (the partitions list)")
    manifest = read_json(args.manifest, "manifest")
    if not isinstance(manifest, list):
        raise ToolError(f"{args.manifest}: not a partitions list")
    for i, part in enumerate(manifest, 1):
        if problem := _not_a_partition(part):
            msg = f"{args.manifest}: partition {i} {problem}; expected the list partitions prints"
            raise ToolError(msg)
    known = {p.get("state_id") for p in manifest}
    states: dict[str, dict[str, Any]] = {}
    for name in args.merge_state:
        state_id = Path(name).name.removesuffix(".json")
        if state_id not in known:
            raise ToolError(f"{name}: no partition has the state id {state_id!r}")
        state = read_json(name, "state")
        if isinstance(state, dict) and isinstance(state.get("singer_state"), dict):
            state = state["singer_state"]  # as ``meltano state get`` prints it
        if not isinstance(state, dict):
            raise ToolError(f"{name}: not a Singer state (an object)")
        states[state_id] = state
    by_id = {p["state_id"]: p["name"] for p in manifest}
    state, notes = combined_state(manifest, {by_id[k]: v for k, v in states.items()})
    for note in notes:
        err(note)
    out(json.dumps(state, indent=2))
    return 0


def _not_a_partition(part: Any) -> str:
    """What keeps ``part`` from being a partition as ``partitions`` prints it ("" when none)."""
    if not isinstance(part, dict):
        return "is not an object"
    for key in ("name", "state_id"):
        if not isinstance(part.get(key), str):
            return f"has no {key!r} string"
    window = part.get("window")
    if window is None:
        return ""
    if not isinstance(window, dict):
        return "has a 'window' that is not an object"
    for key in ("resource", "stream", "replication_key"):
        if not isinstance(window.get(key), str):
            return f"has no window {key!r} string"
    for key in ("start", "end"):  # a date-time, a date or an epoch number
        if not isinstance(window.get(key), str | int | float) or isinstance(window[key], bool):
            return f"has no window {key!r}"
    return ""


def read_json(name: str, kind: str) -> Any:
    """A JSON ``kind`` file within a config file's limits, or a ToolError naming it."""
    try:
        return read_json_file(name, kind)
    except ValueError as exc:
        raise ToolError(str(exc)) from None
