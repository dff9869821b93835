"""One incremental request sequence: start value, date windows, record filter, safe bookmark."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from tap_restgeneric.config.spec import IncrementalSpec
from tap_restgeneric.records.cursors import (
    as_datetime,
    compare,
    detect_format,
    parse_point,
    render,
    shift,
)
from tap_restgeneric.records.selectors import compile_path, first_value

Point = datetime | float | str
MAX_BOUNDARY_KEYS = 1000
BOUNDARY_HASH_CHARS = 32
"""Hex characters kept of a record's SHA-256 (128 bits, as dlt's ``digest128``)."""


def content_hash(record: Mapping[str, Any]) -> str:
    """A digest of a record's content, stable across runs: SHA-256 of canonical JSON.

    Keys are sorted and separators fixed, so only the content counts, not the order the API
    sent the fields in. Only this digest is stored, never the content itself.
    """
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:BOUNDARY_HASH_CHARS]


class IncrementalError(Exception):
    """A record breaks the incremental config (missing cursor, unsorted 'asc' data)."""


class Window:
    """A [start, end) range of cursor values requested together."""

    def __init__(
        self, start: Point | None, end: Point | None, *, closed_end: bool, open_start: bool = False
    ) -> None:
        self.start = start
        self.end = end
        self.closed_end = closed_end
        self.open_start = open_start


class IncrementalRun:
    """Tracks one request sequence: what to ask for, what to keep, how far the bookmark may go."""

    def __init__(self, spec: IncrementalSpec, state: Mapping[str, Any], now: datetime) -> None:
        self.spec = spec
        self.now = now
        self._find = compile_path(spec.cursor_path)
        same_key = state.get("replication_key") == spec.replication_key
        if spec.end_value is not None:  # a backfill of [initial_value, end_value): no state
            state = {}
        bookmark = state.get("replication_key_value") if same_key else None
        floor = spec.initial_value if spec.initial_value is not None else spec.start_date
        raw = floor if bookmark is None else bookmark
        self.raw_start = raw
        self.format = spec.convert or detect_format(raw)
        start = parse_point(raw)
        self._shifted = bookmark is not None and start is not None and bool(spec.lag)
        if self._shifted:  # as dlt: lag moves a bookmark back, never below the configured start
            assert start is not None
            start = shift(start, spec.lag, detect_format(raw))
            lowest = parse_point(floor)
            if lowest is not None and compare(start, lowest) < 0:
                start = lowest
        self.start = start
        self.end = parse_point(spec.end_value)
        self._from_bookmark = bookmark is not None
        self._boundary_point = parse_point(bookmark) if not spec.lag else None
        self._boundary = {tuple(k) for k in state.get("boundary_keys") or []}
        # no primary key at all (None; an explicit [] is ()): boundary records are recognised
        # by a hash of their content, as dlt does; pointless for windows and backfills
        self._hashed = spec.primary_key is None and spec.window is None and spec.end_value is None
        self._boundary_hashes = {
            h for h in state.get("boundary_hashes") or [] if isinstance(h, str)
        }
        self.max_point: Point | None = None
        self.max_raw: Any = None
        self._max_keys: set[tuple[Any, ...]] = set()
        self._last_point: Point | None = None
        # hashed mode: the content of a record is hashed as the API sent it (admit), but the
        # bookmark only counts records written (observe), which by then may carry parent fields
        # or partition keys. So admit keeps a copy of each record at the highest cursor admitted
        # so far (by identity), observe moves the copies of written records at the maximum, and
        # they are hashed only when a bookmark is stored.
        self._admitted_max: Point | None = None
        self._pending: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._max_copies: list[dict[str, Any]] = []
        self._max_hashes: set[str] = set()

    def windows(self) -> Iterator[Window]:
        """The windows to request: one, or consecutive ``window``-sized ranges up to the end."""
        self._last_point = None  # a new request sequence (another parent's) is sorted on its own
        closed_end = self.spec.range_end == "closed"
        open_start = self.spec.range_start == "open"
        lo = None if self.start is None else as_datetime(self.start)  # epoch numbers too
        if self.spec.window is None or lo is None:
            yield Window(self.start, self.end, closed_end=closed_end, open_start=open_start)
            return
        # a bookmark in window mode is a finished window's exclusive end: records at it are new
        open_start = open_start and not self._from_bookmark
        bound = None if self.end is None else as_datetime(self.end)
        end = bound or self.now
        while lo < end:
            hi = min(lo + self.spec.window, end)
            last = closed_end and bound is not None and hi == bound
            yield Window(lo, hi, closed_end=last, open_start=open_start)
            lo, open_start = hi, False

    def _send(self, point: Point | None, *, raw: Any = None) -> Any:
        if point is None:
            return None
        if raw is not None and not self._shifted and self.spec.convert is None:
            return raw
        return render(point, self.format or "iso8601")

    def values(self, window: Window) -> dict[str, Any]:
        """Placeholder values: ``incremental.start_value`` and friends, in the API's format."""
        start = self._send(window.start, raw=self.raw_start if window.start == self.start else None)
        end = self._send(window.end, raw=self.spec.end_value if window.end == self.end else None)
        initial = self.spec.initial_value
        if self.spec.convert is not None and (point := parse_point(initial)) is not None:
            initial = render(point, self.spec.convert)
        return {
            "incremental.start_value": start,
            "incremental.last_value": start,
            "incremental.initial_value": initial,
            "incremental.end_value": end,
            "incremental.lag": self.spec.lag,
            "incremental.cursor_path": self.spec.cursor_path,
        }

    def params(self, window: Window) -> dict[str, Any]:
        """The start/end query params, when configured and known."""
        values = self.values(window)
        found = {}
        if self.spec.start_param and values["incremental.start_value"] is not None:
            found[self.spec.start_param] = values["incremental.start_value"]
        if self.spec.end_param and values["incremental.end_value"] is not None:
            found[self.spec.end_param] = values["incremental.end_value"]
        return found

    def admit(self, record: dict[str, Any], window: Window, keys: tuple[str, ...]) -> bool:
        """Keep a record inside the window (client-side filter, boundary de-duplication)."""
        value = first_value(self._find, record)
        if value is None:
            if self.spec.on_cursor_value_missing == "raise":
                msg = (
                    f"a record has no cursor value at {self.spec.cursor_path!r} (set "
                    "on_cursor_value_missing to 'include' or 'exclude' to accept such records)"
                )
                raise IncrementalError(msg)
            return self.spec.on_cursor_value_missing == "include"
        point = parse_point(value)
        assert point is not None
        if window.start is not None:
            side = compare(point, window.start)
            if side < 0 or (side == 0 and window.open_start):
                return False
        if window.end is not None:
            side = compare(point, window.end)
            if side > 0 or (side == 0 and not window.closed_end):
                return False
        if self._hashed:
            if not self._admit_hashed(record, point):
                return False
        elif (
            self._boundary
            and self._boundary_point is not None
            and compare(point, self._boundary_point) == 0
            and tuple(record.get(k) for k in keys) in self._boundary
        ):
            return False
        record[self.spec.replication_key] = value
        return True

    def _admit_hashed(self, record: dict[str, Any], point: Point) -> bool:
        """Without a primary key: drop a record written before, keep a copy of a candidate max."""
        if (
            self._boundary_hashes
            and self._boundary_point is not None
            and compare(point, self._boundary_point) == 0
            and content_hash(record) in self._boundary_hashes
        ):
            return False
        side = 1 if self._admitted_max is None else compare(point, self._admitted_max)
        if side > 0:
            self._admitted_max, self._pending = point, {}
        if side >= 0 and len(self._pending) < MAX_BOUNDARY_KEYS:
            self._pending[id(record)] = (record, dict(record))
        return True

    def past_range(self, records: list[dict[str, Any]], window: Window) -> bool:
        """With a known row order, whether later pages can only hold records outside the window."""
        if not records or self.spec.row_order is None:
            return False
        last = parse_point(first_value(self._find, records[-1]))
        if last is None:
            return False
        if self.spec.row_order == "desc":
            return window.start is not None and compare(last, window.start) < 0
        if window.end is None:
            return False
        side = compare(last, window.end)
        return side > 0 or (side == 0 and not window.closed_end)

    def observe(self, record: Mapping[str, Any], keys: tuple[str, ...]) -> None:
        """Track the maximum cursor written (and the keys at it); check 'asc' really is sorted."""
        copy = None
        if self._hashed and (entry := self._pending.pop(id(record), None)) is not None:
            copy = entry[1] if entry[0] is record else None
        point = parse_point(record.get(self.spec.replication_key))
        if point is None:
            return
        last = self._last_point
        if self.spec.row_order == "asc" and last is not None and compare(point, last) < 0:
            msg = (
                f"row_order is 'asc' but cursor {record[self.spec.replication_key]!r} came "
                f"after a later one (set row_order to null if the API does not sort "
                "ascending by the cursor)"
            )
            raise IncrementalError(msg)
        self._last_point = point
        side = 1 if self.max_point is None else compare(point, self.max_point)
        if side > 0:
            self.max_point, self.max_raw = point, record[self.spec.replication_key]
            self._max_keys, self._max_copies, self._max_hashes = set(), [], set()
        if side < 0:
            return
        if not self._hashed:
            if len(self._max_keys) < MAX_BOUNDARY_KEYS:
                self._max_keys.add(tuple(record.get(k) for k in keys))
        elif copy is not None and len(self._max_copies) + len(self._max_hashes) < MAX_BOUNDARY_KEYS:
            self._max_copies.append(copy)

    def bookmark(self, window: Window | None = None) -> tuple[Any, list[Any]]:
        """The value (and boundary entries) safe to store now; None when nothing moves it.

        After a finished window the bookmark is its end; otherwise the maximum cursor written,
        capped at the sync's start time so a future-dated record cannot hide later changes.
        The boundary entries identify the records written at that maximum: their primary key
        values (lists), or, for a resource without a primary key, content hashes (strings).
        """
        if self.spec.end_value is not None:
            return None, []
        if window is not None and self.spec.window is not None and window.end is not None:
            return render(window.end, detect_format(self.max_raw) or self.format or "iso8601"), []
        if self.max_point is None:
            return None, []
        if isinstance(self.max_point, datetime) and self.max_point > self.now:
            return render(self.now, detect_format(self.max_raw) or "iso8601"), []
        if self._hashed:
            self._max_hashes.update(content_hash(copy) for copy in self._max_copies)
            self._max_copies = []
            return self.max_raw, sorted(self._max_hashes)
        keys = [list(k) for k in sorted(self._max_keys, key=repr)] if self.spec.primary_key else []
        return self.max_raw, keys

    def store(self, state: dict[str, Any], window: Window | None = None) -> bool:
        """Write the bookmark into a state dict, never backwards; True when it changed.

        The records at the bookmark go into ``boundary_keys`` (primary key values) or, without a
        primary key, ``boundary_hashes`` (content digests); a bookmark that did not move keeps
        the entries already stored, so each of those records is skipped on every later run.
        """
        value, entries = self.bookmark(window)
        if value is None:
            return False
        key = self.spec.replication_key
        old = state.get("replication_key_value") if state.get("replication_key") == key else None
        new_point, old_point = parse_point(value), parse_point(old)
        side = 1 if new_point is None or old_point is None else compare(new_point, old_point)
        if side < 0:
            return False
        name = "boundary_hashes" if self._hashed else "boundary_keys"
        stored: list[Any] = (state.get(name) or []) if side == 0 else []
        state["replication_key"] = key
        state["replication_key_value"] = value
        state.pop("boundary_keys", None)
        state.pop("boundary_hashes", None)
        if self._hashed:
            hashes = {*entries, *(h for h in stored if isinstance(h, str))}
            if hashes:
                state[name] = sorted(hashes)
        elif boundary := {tuple(k) for k in [*entries, *stored]}:
            state[name] = [list(k) for k in sorted(boundary, key=repr)]
        return True


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(timezone.utc)
