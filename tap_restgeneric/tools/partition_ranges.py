"""Contiguous cursor ranges for ``restgeneric partitions`` and the merge rule of their bookmarks."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tap_restgeneric.records.cursors import as_datetime, detect_format, parse_point, render
from tap_restgeneric.tools.common import ToolError

UNITS = {"date": timedelta(days=1), "epoch_ms": timedelta(milliseconds=1)}
"""The smallest step a boundary can be written in (a second for every other format)."""


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
        points = [start + unit * k for k in range(0, units, step)]
    else:
        if count is None or count < 1:
            raise ToolError("--count must be a positive number")
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
