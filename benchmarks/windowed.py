"""``bench.py --windowed``: the windowed backfill of a cursor API over one year of data.

The API (``windowed.py serve``, its own process, the raw socket server of ``server.py``) serves
records 1..N whose ``updated_at`` is spread evenly over 2025 (record ``i`` at
``2025-01-01 + (i - 1) * year / N``, to the second), at ``/windowed/items``:

- ``updated_since`` / ``updated_until`` (ISO 8601) keep the records in [since, until) (half
  open; either may be left out), sorted by ``updated_at`` (= by id);
- ``--page-size`` records a page, ``{"data": [...], "next_cursor": "id_<n>" | null}``, and the
  ``cursor`` param takes that token (as the ``cursor`` style of ``server.py``); the last page of
  a range says ``null``;
- ``/__stats`` counts requests as ``server.py`` does; ``--latency-ms`` delays every response.

The bench runs, on one server (20 ms a response unless ``--latency-ms`` is given):

- the tap with an ``incremental`` block (``cursor_path: updated_at``, ``start_param:
  updated_since``, ``end_param: updated_until``, ``initial_value`` 2025-01-01T00:00:00Z,
  ``end_value`` 2026-01-01T00:00:00Z, ``window_size: P7D``: 53 windows, the last one a day) and
  ``max_concurrency: 1``: one request at a time, the baseline of the ratios;
- the same config with the tap's default settings;
- a plain loop (``windowed.py loop``: requests + orjson/msgspec, the windows one after another,
  one RECORD line per record, as ``baseline.py``).

Each child's output is checked as in the other modes: every id 1..N exactly once.
Target (issue 17): the default tap's records/s >= 4x the one-request-at-a-time run's.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (beside this file; bench.py makes itself importable as 'bench')
from baseline import json_codec  # noqa: E402
from server import Pages, Server, iso, make_record  # noqa: E402

YEAR_START = 1_735_689_600  # 2025-01-01T00:00:00Z
YEAR_END = 1_767_225_600  # 2026-01-01T00:00:00Z
SPAN = YEAR_END - YEAR_START  # 365 days
WINDOW = "P7D"
WINDOW_S = 7 * 86_400
SPEEDUP_TARGET = 4.0
ROUTE = "/windowed/items"
SEQUENTIAL = "tap max_concurrency 1"
DEFAULTS = "tap defaults"
LOOP = "plain loop"

_encode = msgspec.json.Encoder().encode


def updated_at(i: int, records: int) -> int:
    """Record ``i``'s ``updated_at`` (unix seconds): evenly over the year, non-decreasing."""
    return YEAR_START + (i - 1) * SPAN // records


def first_at_or_after(t: int, records: int) -> int:
    """The smallest id whose ``updated_at`` is >= ``t`` (``records + 1`` when none is)."""
    if t <= YEAR_START:
        return 1
    # floor((i - 1) * SPAN / N) >= t - S  <=>  (i - 1) * SPAN >= (t - S) * N
    return min(records + 1, 1 + -(-(t - YEAR_START) * records // SPAN))


def parse_instant(text: str) -> int | None:
    """Unix seconds of an ISO 8601 instant (``Z`` or an offset; naive means UTC)."""
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return int(value.timestamp())


class WindowedApp:
    """Answers ``/windowed/items`` and ``/__stats`` (the interface of ``server.App``)."""

    def __init__(self, records: int, page_size: int) -> None:
        self.records = records
        self.page_size = page_size
        self.requests = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def record(self, i: int) -> dict[str, Any]:
        """``server.make_record(i)`` with this API's ``updated_at``."""
        record = make_record(i)
        record["updated_at"] = iso(updated_at(i, self.records))
        return record

    def respond(self, target: str) -> tuple[int, bytes, bytes]:
        """Answer one GET."""
        parts = urlsplit(target)
        if parts.path == "/__stats":
            with self._lock:
                stats = {"requests": self.requests, "bytes": self.bytes, "throttled": 0}
            return 200, b"", _encode(stats)
        if parts.path != ROUTE:
            return 404, b"", b'{"error": "not found"}'
        query = dict(parse_qsl(parts.query))
        bounds = []
        for name, default in (("updated_since", 1), ("updated_until", self.records + 1)):
            if name not in query:
                bounds.append(default)
                continue
            instant = parse_instant(query[name])
            if instant is None:
                return 400, b"", b'{"error": "bad %s"}' % name.encode()
            bounds.append(first_at_or_after(instant, self.records))
        low, high = bounds
        cursor = query.get("cursor")
        if cursor is not None:
            if not (cursor.startswith("id_") and cursor[3:].isdigit()):
                return 400, b"", b'{"error": "bad cursor"}'
            low = max(low, int(cursor[3:]))
        end = min(low + self.page_size, high)
        data = [self.record(i) for i in range(low, end)]
        following = f"id_{end}" if end < high else None
        body = _encode({"data": data, "next_cursor": following})
        with self._lock:
            self.requests += 1
            self.bytes += len(body)
        return 200, b"", body


def serve(argv: Sequence[str]) -> int:
    """``windowed.py serve``: print the port, serve until killed."""
    parser = argparse.ArgumentParser(prog="windowed.py serve")
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    server = Server(0, Pages(args.records, args.page_size, 0), args.latency_ms / 1000)
    server.app = WindowedApp(args.records, args.page_size)  # type: ignore[assignment]
    print(
        f"serving {args.records} records over 2025 at {ROUTE} (updated_since/updated_until, "
        f"cursor), {args.page_size} a page",
        file=sys.stderr,
        flush=True,
    )
    return server.run()


def loop(argv: Sequence[str]) -> int:
    """``windowed.py loop``: the windows one after another, cursor pages within each."""
    import requests  # noqa: PLC0415 (only the loop child needs it)

    parser = argparse.ArgumentParser(prog="windowed.py loop")
    parser.add_argument("--url", required=True)
    args = parser.parse_args(argv)
    _, dumps, loads = json_codec()
    out = sys.stdout.buffer
    session = requests.Session()
    start = YEAR_START
    while start < YEAR_END:
        until = min(start + WINDOW_S, YEAR_END)
        params: dict[str, str] = {"updated_since": iso(start), "updated_until": iso(until)}
        while True:
            response = session.get(args.url, params=params)
            response.raise_for_status()
            body = loads(response.content)
            now = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
            stamp = b',"time_extracted":"' + now.encode() + b'"}\n'
            out.write(
                b"".join(
                    b'{"type":"RECORD","stream":"items","record":' + dumps(r) + stamp
                    for r in body["data"]
                )
            )
            if not body.get("next_cursor"):
                break
            params["cursor"] = body["next_cursor"]
        start = until
    out.flush()
    return 0


def tap_config(origin: str, extra: dict[str, Any]) -> dict[str, Any]:
    """One resource with an incremental, windowed (``P7D``) backfill of 2025."""
    return {
        "client": {"base_url": f"{origin}/windowed"},
        "resources": [
            {
                "name": bench.STREAM,
                "primary_key": "id",
                "endpoint": {
                    "path": "items",
                    "data_selector": "data",
                    "paginator": {
                        "type": "cursor",
                        "cursor_path": "next_cursor",
                        "cursor_param": "cursor",
                    },
                    "incremental": {
                        "cursor_path": "updated_at",
                        "start_param": "updated_since",
                        "end_param": "updated_until",
                        "initial_value": iso(YEAR_START),
                        "end_value": iso(YEAR_END),
                        "window_size": WINDOW,
                    },
                },
            }
        ],
        "schema_sample_pages": 1,
        **extra,
    }


def tap_commands(
    origin: str, tap: list[str], workdir: Path, timeout: float
) -> dict[str, list[str] | str]:
    """The configs of both tap runs and the catalog (discovered once, not timed)."""
    commands: dict[str, list[str] | str] = {}
    catalog = workdir / "catalog_windowed.json"
    for label, extra in ((SEQUENTIAL, {"max_concurrency": 1}), (DEFAULTS, {})):
        config = workdir / f"config_windowed_{len(extra)}.json"
        config.write_text(json.dumps(tap_config(origin, extra), indent=2))
        if not catalog.exists():
            done = subprocess.run(
                [*tap, "--config", str(config), "--discover"],
                check=False,
                capture_output=True,
                text=True,
                env=bench.clean_env(),
                timeout=timeout,
            )
            if done.returncode != 0:
                last = done.stderr.strip().splitlines()[-1:] or [""]
                error = f"--discover failed with exit status {done.returncode}: {last[0][:300]}"
                return {SEQUENTIAL: error, DEFAULTS: error}
            catalog.write_text(done.stdout)
        commands[label] = [*tap, "--config", str(config), "--catalog", str(catalog)]
    return commands


def run_windowed(
    args: argparse.Namespace, session: bench.Session, tap: list[str], workdir: Path
) -> None:
    """The three runs on one windowed server; records/s as a ratio to one request at a time."""
    server = bench.ServerProcess(
        args.records, args.page_size, args.latency_ms, prewarm=False, cache_mb=0
    )
    server.command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "serve",
        "--records",
        str(args.records),
        "--page-size",
        str(args.page_size),
        "--latency-ms",
        str(args.latency_ms),
    ]
    windows = -(-SPAN // WINDOW_S)
    with server:
        bench.say(f"server: separate process, port {server.port}; {server.info}")
        bench.say(
            f"tap: incremental updated_at over {iso(YEAR_START)}..{iso(YEAR_END)}, window_size "
            f"{WINDOW} ({windows} windows), cursor paging within each"
        )
        bench.say()
        runs: dict[str, list[str] | str] = tap_commands(server.origin, tap, workdir, args.timeout)
        runs[LOOP] = [
            sys.executable,
            str(Path(__file__).resolve()),
            "loop",
            "--url",
            server.origin + ROUTE,
        ]
        rows = {
            label: bench.Row("windowed", "cursor", label, args.records, args.latency_ms)
            for label in runs
        }
        for _ in range(args.repeat):
            for label, command in runs.items():
                measured = bench.measured_run(server, command, args.timeout)
                rows[label].add(measured)
                bench.progress("windowed", label, measured, rows[label])
    base = rows[SEQUENTIAL]
    speed = {
        label: row.records_per_s / base.records_per_s if base.records_per_s else 0.0
        for label, row in rows.items()
    }
    for row in rows.values():
        if row is not base and base.walls_s and row.walls_s:
            row.ratio = row.wall_s / base.wall_s
            row.cpu_ratio = row.cpu_s / base.cpu_s
    session.rows.extend(rows.values())
    detail = ", ".join(f"{label} {value:.2f}x" for label, value in speed.items())
    note = f"windowed: records/s as a ratio to the tap one request at a time: {detail}"
    session.notes.append(note)
    session.meta["windowed"] = {"windows": windows, "window_size": WINDOW, "vs_sequential": speed}
    bench.say(f"  {note}")
    defaults = rows[DEFAULTS]
    ok = speed[DEFAULTS] >= SPEEDUP_TARGET and defaults.complete
    session.targets.append(
        bench.Target(
            f"window_size backfill: tap defaults records/s >= {SPEEDUP_TARGET:g}x one request "
            "at a time",
            "cursor",
            "PASS" if ok else "FAIL",
            f"{speed[DEFAULTS]:.2f}x ({bench.fmt_int(defaults.records_per_s)} vs "
            f"{bench.fmt_int(base.records_per_s)} records/s, {windows} windows of {WINDOW}, "
            f"{args.latency_ms:g} ms a response)",
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The children: ``serve`` (the API) and ``loop`` (the plain loop)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return serve(argv[1:])
    if argv[:1] == ["loop"]:
        return loop(argv[1:])
    print("usage: windowed.py serve|loop ... (the bench runs it: bench.py --windowed)")
    return 2


if __name__ == "__main__":
    sys.exit(main())
