"""Benchmark tap-restgeneric against a bare requests loop on a fast local API.

    python benchmarks/bench.py [--records 200000] [--page-size 100]
                               [--styles page_number,offset,cursor,link]
                               [--latency-ms 0] [--repeat 1] [--json out.json]
    python benchmarks/bench.py --rss-scan 50000,1000000     # peak RSS of the tap per size
    python benchmarks/bench.py --latency-ms 20 --records 20000  # sequential vs parallel tap
    python benchmarks/bench.py --large-response-mb 200      # one 200 MB response: peak RSS
    python benchmarks/bench.py --compare --latency-ms 20 --styles page_number,offset
                                # the tap's defaults vs a plain 8-thread pool vs the loop
    python benchmarks/bench.py --rate-limit 5 --latency-ms 20 --records 30000 --styles page_number
                                # a server allowing 5 requests/s: rate, 429s, records lost
    python benchmarks/bench.py --windowed --records 200000
                                # a year of a cursor API backfilled with window_size P7D:
                                # the tap's defaults vs one request at a time vs a plain loop

For each pagination style the bench starts nothing new but the measured children: the API
(``server.py``) runs in its own process for the whole session; then, per style, the baseline
(``baseline.py``: requests + orjson/msgspec, one RECORD line per record) and the tap
(``tap-restgeneric --config <cfg> --catalog <catalog from --discover>``) each run as a child
process writing to a pipe. The bench drains the pipe into a temporary file while the child runs
(no parsing then, so it takes no CPU from the child), measures wall time from spawn to exit and
peak RSS from ``os.wait4`` (``ru_maxrss``), then parses the output with msgspec and checks that
every id 1..N was written exactly once.

``--compare`` adds dlt's rest_api with its defaults (``dlt_run.py``, run by ``--dlt-python`` or
this Python when it has dlt; otherwise the row says "not installed" and the run goes on).
``--windowed`` is described in ``windowed.py``.

``--large-response-mb N`` serves the records as ONE response of about N MB (``{"data": [...],
"next": null}``, from a server process of its own) and runs the tap alone on it: peak RSS (target
<= 300 MB at 200 MB), wall time, and whether every record arrived once.

Exit status: 1 when a run fails or its output is incomplete (or, with ``--strict``, when a
target fails), else 0. Targets are reported with PASS/FAIL; they are not assertions.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, TypeAlias

import msgspec

HERE = Path(__file__).resolve().parent
SERVER = HERE / "server.py"
BASELINE = HERE / "baseline.py"
DLT_RUN = HERE / "dlt_run.py"
DLT_NOT_INSTALLED = 3  # dlt_run.py's exit status when it cannot import dlt
STYLES = ("page_number", "offset", "cursor", "link")
# Styles whose pages are addressable before the previous response arrives; cursor and link
# pages are known only from the previous response, so no client can fetch them in parallel.
PARALLELIZABLE = ("page_number", "offset")
STREAM = "items"
FIELDS = 12

WALL_RATIO_TARGET = 1.5
WALL_RATIO_RECORDS = 200_000
RSS_TARGET_MB = 60.0
RSS_FLAT_TOLERANCE = 0.10
PARALLEL_SPEEDUP_TARGET = 4.0
COMPARE_TARGET = 0.9
RATE_TOLERANCE = 0.10
LARGE_RSS_TARGET_MB = 300.0
LARGE_RSS_TARGET_AT_MB = 200.0


# --------------------------------------------------------------------------- output checking


class _Record(msgspec.Struct):
    id: int


class _Message(msgspec.Struct):
    type: str
    stream: str | None = None
    record: _Record | None = None


_decode_message = msgspec.json.Decoder(_Message).decode


@dataclass
class Check:
    """What a child wrote: RECORD lines of the stream, and whether ids 1..N appear once each."""

    expected: int
    records: int = 0
    distinct: int = 0
    duplicates: int = 0
    unexpected: int = 0
    bad_lines: int = 0
    messages: dict[str, int] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        """Ids in 1..N never written."""
        return self.expected - self.distinct

    @property
    def complete(self) -> bool:
        """Every id exactly once, nothing else, every line a Singer message."""
        return (
            self.missing == 0
            and self.duplicates == 0
            and self.unexpected == 0
            and self.bad_lines == 0
        )

    def problems(self) -> str:
        """A short description of what is wrong ('' when complete)."""
        parts = [
            f"{count} {what}"
            for count, what in (
                (self.missing, "missing"),
                (self.duplicates, "duplicate"),
                (self.unexpected, "unexpected ids"),
                (self.bad_lines, "bad lines"),
            )
            if count
        ]
        return ", ".join(parts)


def check_output(lines: IO[bytes], expected: int) -> Check:
    """Count the ids of the stream's RECORD messages."""
    check = Check(expected)
    seen = bytearray(expected + 1)
    messages = check.messages
    for line in lines:
        if not line.strip():
            continue
        try:
            message = _decode_message(line)
        except msgspec.DecodeError:
            check.bad_lines += 1
            continue
        messages[message.type] = messages.get(message.type, 0) + 1
        if message.type != "RECORD" or message.stream != STREAM:
            continue
        if message.record is None:
            check.bad_lines += 1
            continue
        check.records += 1
        record_id = message.record.id
        if 1 <= record_id <= expected:
            if seen[record_id]:
                check.duplicates += 1
            else:
                seen[record_id] = 1
                check.distinct += 1
        else:
            check.unexpected += 1
    return check


# --------------------------------------------------------------------------- child processes


@dataclass
class Measured:
    """One measured child run."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    check: Check
    stderr_tail: str
    requests: int | None = None


def clean_env() -> dict[str, str]:
    """The children's environment: no TAP_RESTGENERIC_* settings leaking into the tap, and no
    PYTHONUNBUFFERED (set in some shells and CI), so both children run as in a plain shell."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TAP_RESTGENERIC_") and k != "PYTHONUNBUFFERED"
    }


def run_measured(command: Sequence[str], expected: int, timeout: float) -> Measured:
    """Run ``command``; drain its stdout pipe to a temp file; wall and peak RSS; check ids."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, env=clean_env())
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            assert process.stdout is not None
            fd = process.stdout.fileno()
            while chunk := os.read(fd, 1 << 20):
                out.write(chunk)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - started
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        process.stdout.close()
        out.seek(0)
        check = check_output(out, expected)
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    rss_kb = usage.ru_maxrss / 1024 if sys.platform == "darwin" else usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(wall, cpu, rss_kb / 1024, process.returncode, check, tail)


def tap_command(override: str | None) -> list[str]:
    """The tap's CLI: --tap-command, else tap-restgeneric next to this Python, on PATH, or -m."""
    if override:
        return shlex.split(override)
    beside = Path(sys.executable).parent / "tap-restgeneric"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("tap-restgeneric")
    if found:
        return [found]
    return [sys.executable, "-m", "tap_restgeneric.tap"]


def concurrency_setting(tap: Sequence[str]) -> tuple[str, str] | None:
    """The tap's top-level setting whose name contains 'concurren' (name, JSON type), if any."""
    done = subprocess.run(
        [*tap, "--about", "--format", "json"],
        check=False,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    if done.returncode != 0:
        return None
    try:
        properties = json.loads(done.stdout)["settings"]["properties"]
    except (ValueError, KeyError, TypeError):
        return None
    for name, schema in properties.items():
        if "concurren" in name.lower():
            kind = schema.get("type", "integer") if isinstance(schema, dict) else "integer"
            kinds = kind if isinstance(kind, list) else [kind]
            return name, "boolean" if "boolean" in kinds else "integer"
    return None


# --------------------------------------------------------------------------- the API server


class ServerProcess:
    """benchmarks/server.py in its own process, for the duration of a ``with`` block."""

    def __init__(
        self,
        records: int,
        page_size: int,
        latency_ms: float,
        *,
        prewarm: bool,
        cache_mb: int,
        rate_limit: float = 0.0,
    ) -> None:
        self.command = [
            sys.executable,
            str(SERVER),
            "--records",
            str(records),
            "--page-size",
            str(page_size),
            "--latency-ms",
            str(latency_ms),
            "--cache-mb",
            str(cache_mb),
            *(["--prewarm"] if prewarm else []),
            *(["--rate-limit", str(rate_limit)] if rate_limit else []),
        ]
        self.records = records
        self.page_size = page_size
        self.port = 0
        self.info = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self._stderr = tempfile.TemporaryFile("w+")
        self._process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        self._stderr.seek(0)
        self.info = self._stderr.read().strip()
        if not line.isdigit():
            self.__exit__()
            msg = f"benchmark server did not start: {self.info or line!r}"
            raise RuntimeError(msg)
        self.port = int(line)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def requests_served(self) -> int:
        """Requests answered so far (from /__stats)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/__stats")
            return int(json.loads(connection.getresponse().read())["requests"])
        finally:
            connection.close()

    def answers(self) -> list[tuple[float, int]]:
        """(unix time, status) of every answer so far (a rate-limited server keeps them)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/__log")
            return [(float(t), int(s)) for t, s in json.loads(connection.getresponse().read())]
        finally:
            connection.close()

    def raw_fetch(self) -> tuple[int, float]:
        """Fetch every page_number page on one keep-alive connection, no decoding: the
        server's own throughput, to show it is not the bottleneck."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        pages = -(-self.records // self.page_size) + 1
        started = time.perf_counter()
        try:
            for page in range(1, pages + 1):
                connection.request("GET", f"/page_number/items?page={page}")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    msg = f"server answered {response.status} for page {page}"
                    raise RuntimeError(msg)
        finally:
            connection.close()
        return pages, time.perf_counter() - started


# --------------------------------------------------------------------------- configs


def paginator(style: str, page_size: int) -> dict[str, Any]:
    """The dlt paginator that reads the benchmark server's style."""
    if style == "page_number":
        return {"type": "page_number", "base_page": 1, "page_param": "page"}
    if style == "offset":
        return {"type": "offset", "limit": page_size, "offset_param": "offset"}
    if style == "cursor":
        return {"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "cursor"}
    if style == "link":
        return {"type": "header_link"}
    msg = f"unknown style {style!r}"
    raise ValueError(msg)


def tap_config(origin: str, style: str, page_size: int) -> dict[str, Any]:
    """A one-resource config in dlt's rest_api dialect for ``/<style>/items``."""
    return {
        "client": {"base_url": f"{origin}/{style}"},
        "resources": [
            {
                "name": STREAM,
                "primary_key": "id",
                "endpoint": {
                    "path": "items",
                    "data_selector": "data",
                    "paginator": paginator(style, page_size),
                },
            }
        ],
        "schema_sample_pages": 1,
    }


def dlt_python(override: str | None) -> tuple[str | None, str]:
    """The Python that runs dlt (``--dlt-python``, else the repo's ``.venv-dlt`` that
    ``scripts/setup`` makes, else this one) and dlt's version, or None and why not."""
    beside = Path(__file__).resolve().parent.parent / ".venv-dlt" / "bin" / "python"
    python = override or (str(beside) if beside.exists() else sys.executable)
    try:
        done = subprocess.run(
            [python, "-c", "import dlt; print(dlt.__version__)"],
            check=False,
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=120,
        )
    except OSError as exc:
        return None, f"not installed: cannot run {python} ({exc.strerror})"
    if done.returncode != 0:
        return None, f"not installed in {python} (pip install dlt there, or --dlt-python PATH)"
    return python, done.stdout.strip()


def dlt_command(python: str, origin: str, style: str, page_size: int, workdir: Path) -> list[str]:
    """dlt_run.py on the tap's config for ``style`` (dlt's page_number paginator expects a
    ``total`` unless ``total_path`` is null; this API has none, so the config says so)."""
    config = tap_config(origin, style, page_size)
    del config["schema_sample_pages"]
    if style == "page_number":
        config["resources"][0]["endpoint"]["paginator"]["total_path"] = None
    path = workdir / f"dlt_{style}.json"
    path.write_text(json.dumps(config, indent=2))
    return [python, str(DLT_RUN), "--config", str(path), "--resource", STREAM]


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    """One line of the table: a (style, run) measured ``repeat`` times."""

    mode: str
    style: str
    run: str
    records: int
    latency_ms: float
    concurrency: int | bool | None = None
    walls_s: list[float] = field(default_factory=list)
    cpus_s: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    complete: bool = True
    problems: list[str] = field(default_factory=list)
    ratio: float | None = None
    cpu_ratio: float | None = None
    skipped: str = ""

    @property
    def wall_s(self) -> float:
        """Best (lowest) wall time of the repeats."""
        return min(self.walls_s) if self.walls_s else float("nan")

    @property
    def cpu_s(self) -> float:
        """Lowest CPU time (user + system) of the repeats."""
        return min(self.cpus_s) if self.cpus_s else float("nan")

    @property
    def rss_mb(self) -> float:
        """Highest peak RSS of the repeats."""
        return max(self.peak_rss_mb) if self.peak_rss_mb else float("nan")

    @property
    def records_per_s(self) -> float:
        """Records per second at the best wall time."""
        return self.records / self.wall_s if self.walls_s else 0.0

    def add(self, measured: Measured) -> None:
        """Record one repeat."""
        self.walls_s.append(measured.wall_s)
        self.cpus_s.append(measured.cpu_s)
        self.peak_rss_mb.append(measured.peak_rss_mb)
        if measured.requests is not None:
            self.requests.append(measured.requests)
        problem = measured.check.problems()
        if measured.returncode != 0:
            last = measured.stderr_tail.strip().splitlines()[-1:] or [""]
            problem = f"exit status {measured.returncode}: {last[0][:300]}"
        if problem:
            self.complete = False
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the derived numbers."""
        data = asdict(self)
        data.update(
            wall_s=self.wall_s,
            cpu_s=self.cpu_s,
            rss_mb=self.rss_mb,
            records_per_s=self.records_per_s,
        )
        return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in data.items()}


@dataclass
class Target:
    """A target check: PASS, FAIL, n/a or not run."""

    target: str
    subject: str
    mark: str
    detail: str


@dataclass
class Session:
    """Everything one bench invocation measured."""

    meta: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def say(text: str = "") -> None:
    """Print a line now (runs take a while)."""
    print(text, flush=True)


def fmt_int(value: float) -> str:
    """12,345."""
    return f"{value:,.0f}"


HEADER = (
    "style",
    "run",
    "records",
    "wall s",
    "cpu s",
    "records/s",
    "peak RSS MB",
    "requests",
    "tap/baseline",
    "cpu tap/baseline",
    "complete",
)


def table(rows: Sequence[Row]) -> list[str]:
    """The results table, aligned."""
    cells = [HEADER]
    for row in rows:
        requests = sorted(set(row.requests))
        ran = bool(row.walls_s)
        cells.append(
            (
                row.style,
                row.run,
                fmt_int(row.records),
                f"{row.wall_s:.2f}" if ran else "-",
                f"{row.cpu_s:.2f}" if ran else "-",
                fmt_int(row.records_per_s) if ran else "-",
                f"{row.rss_mb:.1f}" if ran else "-",
                "/".join(str(r) for r in requests) or "-",
                f"{row.ratio:.2f}x" if row.ratio is not None else "-",
                f"{row.cpu_ratio:.2f}x" if row.cpu_ratio is not None else "-",
                row.skipped or ("yes" if row.complete else "NO: " + "; ".join(row.problems)),
            )
        )
    last = len(HEADER) - 1
    widths = [max(len(line[i]) for line in cells) for i in range(last)]
    lines = []
    for line in cells:
        left = [
            line[i].ljust(widths[i]) if i < 2 else line[i].rjust(widths[i]) for i in range(last)
        ]
        lines.append("  ".join([*left, line[last]]).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return lines


# --------------------------------------------------------------------------- the runs


def measure_tap(
    server: ServerProcess,
    tap: Sequence[str],
    workdir: Path,
    style: str,
    *,
    extra: dict[str, Any],
    timeout: float,
) -> list[str] | str:
    """Write the config, discover the catalog once (not timed); the timed command, or an error."""
    config = tap_config(server.origin, style, server.page_size) | extra
    suffix = "".join(f"_{key}-{value}" for key, value in extra.items())
    config_path = workdir / f"config_{style}{suffix}.json"
    config_path.write_text(json.dumps(config, indent=2))
    # The catalog (stream, schema, keys) is the same for every style: discover it once.
    catalog_path = workdir / "catalog.json"
    if not catalog_path.exists():
        done = subprocess.run(
            [*tap, "--config", str(config_path), "--discover"],
            check=False,
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=timeout,
        )
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1:] or [""]
            return f"--discover failed with exit status {done.returncode}: {last[0][:300]}"
        catalog_path.write_text(done.stdout)
    return [*tap, "--config", str(config_path), "--catalog", str(catalog_path)]


def measured_run(server: ServerProcess, command: list[str] | str, timeout: float) -> Measured:
    """One child run with the number of requests it made (a string: it could not start)."""
    if isinstance(command, str):
        nan = float("nan")
        return Measured(nan, nan, nan, 1, Check(server.records), command)
    before = server.requests_served()
    measured = run_measured(command, server.records, timeout)
    measured.requests = server.requests_served() - before
    return measured


def progress(style: str, label: str, measured: Measured, row: Row) -> None:
    """One line per finished child run."""
    say(
        f"  {style:<12} {label:<16} wall {measured.wall_s:7.2f} s  cpu {measured.cpu_s:6.2f} s  "
        f"peak RSS {measured.peak_rss_mb:6.1f} MB  "
        f"{'complete' if row.complete else 'INCOMPLETE'}"
    )


Planned: TypeAlias = tuple[str, list[str] | str, int | bool | None]


def plan_style(
    args: argparse.Namespace,
    server: ServerProcess,
    tap: list[str],
    workdir: Path,
    style: str,
    *,
    setting: tuple[str, str] | None,
) -> list[Planned]:
    """The runs of one style: (label, command or error, concurrency value)."""
    baseline = [
        sys.executable,
        str(BASELINE),
        "--url",
        f"{server.origin}/{style}/items",
        "--style",
        style,
        "--page-size",
        str(args.page_size),
    ]
    runs: list[Planned] = [("baseline", baseline, None)]
    variants: list[tuple[str, dict[str, Any], int | bool | None]] = []
    if setting is None:
        variants.append(("tap", {}, None))
    else:
        name, kind = setting
        sequential: int | bool = False if kind == "boolean" else 1
        parallel: int | bool = True if kind == "boolean" else args.concurrency
        variants.append(("tap sequential", {name: sequential}, sequential))
        label = "tap parallel" + ("" if kind == "boolean" else f" x{parallel}")
        variants.append((label, {name: parallel}, parallel))
    for label, extra, value in variants:
        command = measure_tap(server, tap, workdir, style, extra=extra, timeout=args.timeout)
        runs.append((label, command, value))
    return runs


def run_styles(args: argparse.Namespace, session: Session, tap: list[str], workdir: Path) -> None:
    """The main mode: baseline and tap per style (plus parallel tap with --latency-ms)."""
    setting = None
    if args.latency_ms > 0:
        setting = concurrency_setting(tap)
        session.meta["concurrency_setting"] = setting[0] if setting else None
        if setting is None:
            note = "parallel fetching: not available in this tap version"
        else:
            note = f"parallel fetching: tap setting '{setting[0]}' ({setting[1]})"
        session.notes.append(note)
        say(note)
    prewarm = args.latency_ms == 0
    with ServerProcess(
        args.records, args.page_size, args.latency_ms, prewarm=prewarm, cache_mb=args.cache_mb
    ) as server:
        say(f"server: separate process, port {server.port}; {server.info}")
        if args.latency_ms == 0:
            pages, seconds = server.raw_fetch()
            line = (
                f"server check: {pages:,} pages fetched raw (http.client, no decoding) in "
                f"{seconds:.2f} s = {pages / seconds:,.0f} pages/s, "
                f"{args.records / seconds:,.0f} records/s"
            )
            session.meta["server_raw_fetch_s"] = seconds
        else:
            line = f"server check: skipped with --latency-ms {args.latency_ms:g}"
        session.notes.append(line)
        say(line)
        say()
        for style in args.styles:
            runs = plan_style(args, server, tap, workdir, style, setting=setting)
            rows = {
                label: Row("styles", style, label, args.records, args.latency_ms, value)
                for label, _, value in runs
            }
            for _ in range(args.repeat):
                for label, command, _ in runs:
                    measured = measured_run(server, command, args.timeout)
                    rows[label].add(measured)
                    progress(style, label, measured, rows[label])
            base = rows["baseline"]
            for row in rows.values():
                if row is not base and base.walls_s and row.walls_s:
                    row.ratio = row.wall_s / base.wall_s
                    row.cpu_ratio = row.cpu_s / base.cpu_s
            session.rows.extend(rows.values())
    evaluate_styles(args, session, setting)


def evaluate_styles(
    args: argparse.Namespace, session: Session, setting: tuple[str, str] | None
) -> None:
    """Marks for the wall-ratio, RSS and latency targets."""
    taps = [row for row in session.rows if row.run != "baseline"]
    sequential = [row for row in taps if "parallel" not in row.run]
    if args.latency_ms == 0:
        at = f"{args.records:,} records"
        if args.records != WALL_RATIO_RECORDS:
            at += f" (the target is stated at {WALL_RATIO_RECORDS:,})"
        for row in sequential:
            ok = row.ratio is not None and row.ratio <= WALL_RATIO_TARGET and row.complete
            session.targets.append(
                Target(
                    f"tap wall <= {WALL_RATIO_TARGET}x baseline wall",
                    row.style,
                    "PASS" if ok else "FAIL",
                    f"{row.ratio or float('nan'):.2f}x (CPU time"
                    f" {row.cpu_ratio or float('nan'):.2f}x) at {at}",
                )
            )
    for row in taps:
        ok = row.rss_mb <= RSS_TARGET_MB
        session.targets.append(
            Target(
                f"tap peak RSS <= {RSS_TARGET_MB:g} MB",
                f"{row.style} {row.run}",
                "PASS" if ok else "FAIL",
                f"{row.rss_mb:.1f} MB at {row.records:,} records",
            )
        )
    session.targets.append(
        Target(
            "peak RSS flat from 50,000 to 1,000,000 records",
            "page_number",
            "not run",
            "run with --rss-scan 50000,1000000",
        )
    )
    target = f"parallel records/s >= {PARALLEL_SPEEDUP_TARGET:g}x sequential (latency mode)"
    if args.latency_ms == 0:
        session.targets.append(Target(target, "-", "not run", "run with --latency-ms 20"))
        return
    if setting is None:
        detail = "parallel fetching: not available in this tap version"
        session.targets.append(Target(target, "-", "n/a", detail))
        return
    for style in args.styles:
        seq = next((r for r in taps if r.style == style and "sequential" in r.run), None)
        par = next((r for r in taps if r.style == style and "parallel" in r.run), None)
        if seq is None or par is None:
            continue
        speedup = par.records_per_s / seq.records_per_s if seq.records_per_s else 0.0
        detail = f"{speedup:.2f}x at {args.latency_ms:g} ms per response"
        if style not in PARALLELIZABLE:
            mark = "n/a"
            detail += " (each next page is known only from the previous response)"
        else:
            ok = speedup >= PARALLEL_SPEEDUP_TARGET and par.complete
            mark = "PASS" if ok else "FAIL"
        session.targets.append(Target(target, style, mark, detail))


def run_rss_scan(args: argparse.Namespace, session: Session, tap: list[str], workdir: Path) -> None:
    """The tap alone (page_number) at each size: peak RSS should stay flat."""
    rows: list[Row] = []
    for size in args.rss_scan:
        with ServerProcess(
            size, args.page_size, args.latency_ms, prewarm=False, cache_mb=64
        ) as server:
            say(f"server: port {server.port}; {server.info}")
            row = Row("rss-scan", "page_number", "tap", size, args.latency_ms)
            sub = workdir / f"scan_{size}"
            sub.mkdir()
            command = measure_tap(server, tap, sub, "page_number", extra={}, timeout=args.timeout)
            for _ in range(args.repeat):
                measured = measured_run(server, command, args.timeout)
                row.add(measured)
                progress(f"{size:,}", "tap", measured, row)
            rows.append(row)
    session.rows.extend(rows)
    for row in rows:
        session.targets.append(
            Target(
                f"tap peak RSS <= {RSS_TARGET_MB:g} MB",
                f"{row.records:,} records",
                "PASS" if row.rss_mb <= RSS_TARGET_MB else "FAIL",
                f"{row.rss_mb:.1f} MB",
            )
        )
    if len(rows) >= 2:
        low = min(rows, key=lambda r: r.records)
        high = max(rows, key=lambda r: r.records)
        growth = (high.rss_mb - low.rss_mb) / low.rss_mb
        session.targets.append(
            Target(
                f"peak RSS flat (growth <= {RSS_FLAT_TOLERANCE:.0%})",
                f"{low.records:,} -> {high.records:,} records",
                "PASS" if growth <= RSS_FLAT_TOLERANCE else "FAIL",
                f"{low.rss_mb:.1f} MB -> {high.rss_mb:.1f} MB ({growth:+.1%})",
            )
        )


# --------------------------------------------------------------------------- defaults, pool, loop


def run_compare(args: argparse.Namespace, session: Session, tap: list[str], workdir: Path) -> None:
    """Per style at ``--latency-ms``: the sequential loop (the baseline), a plain thread pool of
    ``--pool`` threads, the tap with its DEFAULT settings and the tap one request at a time;
    records/s as a ratio to the loop's, and the default tap against the pool. Then dlt's
    rest_api with its defaults (``dlt_run.py``) when a Python with dlt is found, else a row
    that says it is not installed."""
    dlt, dlt_about = dlt_python(args.dlt_python)
    session.meta["dlt"] = {"python": dlt, "version": None if dlt is None else dlt_about}
    say(f"dlt: {dlt_about if dlt is None else f'dlt {dlt_about} ({dlt})'}")
    with ServerProcess(
        args.records, args.page_size, args.latency_ms, prewarm=False, cache_mb=args.cache_mb
    ) as server:
        say(f"server: separate process, port {server.port}; {server.info}")
        say()
        for style in args.styles:
            loop = [
                sys.executable,
                str(BASELINE),
                "--url",
                f"{server.origin}/{style}/items",
                "--style",
                style,
                "--page-size",
                str(args.page_size),
            ]
            runs: list[tuple[str, list[str] | str]] = [
                ("baseline", loop),
                (f"pool x{args.pool}", [*loop, "--threads", str(args.pool)]),
                (
                    "tap defaults",
                    measure_tap(server, tap, workdir, style, extra={}, timeout=args.timeout),
                ),
                (
                    "tap max_concurrency 1",
                    measure_tap(
                        server,
                        tap,
                        workdir,
                        style,
                        extra={"max_concurrency": 1},
                        timeout=args.timeout,
                    ),
                ),
            ]
            if dlt is not None:
                runs.append(
                    (
                        "dlt rest_api",
                        dlt_command(dlt, server.origin, style, args.page_size, workdir),
                    )
                )
            rows = {
                label: Row("compare", style, label, args.records, args.latency_ms)
                for label, _ in runs
            }
            for _ in range(args.repeat):
                for label, command in runs:
                    measured = measured_run(server, command, args.timeout)
                    rows[label].add(measured)
                    progress(style, label, measured, rows[label])
            if dlt is None:
                rows["dlt rest_api"] = Row(
                    "compare",
                    style,
                    "dlt rest_api",
                    args.records,
                    args.latency_ms,
                    skipped=dlt_about,
                )
            base = rows["baseline"]
            for row in rows.values():
                if row is not base and base.walls_s and row.walls_s:
                    row.ratio = row.wall_s / base.wall_s
                    row.cpu_ratio = row.cpu_s / base.cpu_s
            session.rows.extend(rows.values())
            pool, tap_row = rows[f"pool x{args.pool}"], rows["tap defaults"]
            versus = tap_row.records_per_s / pool.records_per_s if pool.records_per_s else 0.0
            measured_rows = {label: row for label, row in rows.items() if row.walls_s}
            loop_speed = {
                label: row.records_per_s / base.records_per_s if base.records_per_s else 0.0
                for label, row in measured_rows.items()
            }
            detail = ", ".join(f"{label} {speed:.2f}x" for label, speed in loop_speed.items())
            session.notes.append(f"{style}: records/s as a ratio to the sequential loop: {detail}")
            say(f"  {style}: records/s / the sequential loop's: {detail}")
            pool_speed = {
                label: row.records_per_s / pool.records_per_s if pool.records_per_s else 0.0
                for label, row in measured_rows.items()
            }
            detail = ", ".join(f"{label} {speed:.2f}x" for label, speed in pool_speed.items())
            if dlt is None:
                detail += f"; dlt rest_api: {dlt_about}"
            session.notes.append(
                f"{style}: records/s as a ratio to the {args.pool}-thread pool: {detail}"
            )
            say(f"  {style}: records/s / the {args.pool}-thread pool's: {detail}")
            session.meta.setdefault("compare_vs_pool", {})[style] = pool_speed
            if style in PARALLELIZABLE:
                ok = versus >= COMPARE_TARGET and tap_row.complete
                mark = "PASS" if ok else "FAIL"
            else:
                mark = "n/a"
            session.targets.append(
                Target(
                    f"tap defaults records/s >= {COMPARE_TARGET:g}x a {args.pool}-thread pool",
                    style,
                    mark,
                    f"{versus:.2f}x ({fmt_int(tap_row.records_per_s)} vs "
                    f"{fmt_int(pool.records_per_s)} records/s, {args.latency_ms:g} ms a response)",
                )
            )


# --------------------------------------------------------------------------- a rate-limited API


@dataclass
class RateFigures:
    """What a rate-limited server saw during one run, after the run settled."""

    allowed: float
    settle_s: float
    achieved: float = 0.0
    throttled_after: int = 0
    throttled_total: int = 0
    seconds_after: float = 0.0

    @classmethod
    def of(cls, answers: Sequence[tuple[float, int]], allowed: float, settle: float) -> RateFigures:
        """From the server's (time, status) answers of one run."""
        figures = cls(allowed, settle)
        if not answers:
            return figures
        first, last = answers[0][0], answers[-1][0]
        later = [(t, s) for t, s in answers if t >= first + settle]
        figures.throttled_total = sum(1 for _, s in answers if s == 429)
        figures.throttled_after = sum(1 for _, s in later if s == 429)
        figures.seconds_after = max(0.0, last - (first + settle))
        if figures.seconds_after > 0:
            figures.achieved = sum(1 for _, s in later if s != 429) / figures.seconds_after
        return figures


def run_rate_limited(
    args: argparse.Namespace, session: Session, tap: list[str], workdir: Path
) -> None:
    """The tap with its defaults against a server allowing ``--rate-limit`` requests a second
    (429 + Retry-After beyond): the rate it achieves once settled, 429s after settling, and
    records lost (must be 0)."""
    style = args.styles[0]
    with ServerProcess(
        args.records,
        args.page_size,
        args.latency_ms,
        prewarm=False,
        cache_mb=args.cache_mb,
        rate_limit=args.rate_limit,
    ) as server:
        say(f"server: separate process, port {server.port}; {server.info}")
        say(f"server allows {args.rate_limit:g} requests in any second (429 + Retry-After beyond)")
        command = measure_tap(server, tap, workdir, style, extra={}, timeout=args.timeout)
        row = Row("rate-limit", style, "tap defaults", args.records, args.latency_ms)
        for _ in range(args.repeat):
            time.sleep(1.0)  # the catalog's requests leave the server's window
            before = len(server.answers())
            measured = measured_run(server, command, args.timeout)
            row.add(measured)
            progress(style, "tap defaults", measured, row)
            figures = RateFigures.of(server.answers()[before:], args.rate_limit, args.settle)
            lost = measured.check.missing
            per_10s = (
                figures.throttled_after / figures.seconds_after * 10
                if figures.seconds_after
                else 0.0
            )
            detail = (
                f"{figures.achieved:.2f} requests/s after {args.settle:g} s "
                f"({figures.achieved / args.rate_limit:.0%} of {args.rate_limit:g} allowed); "
                f"429s: {figures.throttled_after} after settling ({per_10s:.2f} per 10 s), "
                f"{figures.throttled_total} in all; records lost: {lost}"
            )
            say(f"  {detail}")
            session.notes.append(f"rate-limited run: {detail}")
            session.meta.setdefault("rate_limited", []).append(asdict(figures) | {"lost": lost})
            within = figures.achieved >= (1 - RATE_TOLERANCE) * args.rate_limit
            session.targets.append(
                Target(
                    f"within {RATE_TOLERANCE:.0%} of the allowed rate once settled",
                    style,
                    "PASS" if within else "FAIL",
                    f"{figures.achieved:.2f} of {args.rate_limit:g} requests/s",
                )
            )
            session.targets.append(
                Target(
                    "at most one 429 per 10 s after settling",
                    style,
                    "PASS" if per_10s <= 1.0 else "FAIL",
                    f"{figures.throttled_after} in {figures.seconds_after:.0f} s",
                )
            )
            session.targets.append(
                Target(
                    "no record lost under 429s",
                    style,
                    "PASS" if lost == 0 and measured.check.complete else "FAIL",
                    f"{lost} lost, {measured.check.duplicates} duplicates, "
                    f"exit {measured.returncode}",
                )
            )
        session.rows.append(row)


# --------------------------------------------------------------------------- one large response


def serve_large(size_mb: float) -> int:
    """The large-response server (run as ``bench.py --serve-large MB`` in its own process): the
    records of ``server.make_record`` as one ``{"data": [...], "next": null}`` body of about
    ``size_mb`` MB at ``/large/items``; prints the record count and the port, then serves."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: PLC0415 (only here)

    sys.path.insert(0, str(HERE))
    from server import make_record  # noqa: PLC0415

    encode = msgspec.json.Encoder().encode
    per_record = len(encode(make_record(500_000))) + 1
    count = max(1, int(size_mb * 1_000_000 / per_record))
    pieces = [b'{"data":[']
    for start in range(1, count + 1, 10_000):
        batch = encode([make_record(i) for i in range(start, min(count, start + 9_999) + 1)])
        pieces.append(batch[1:-1] + (b"," if start + 10_000 <= count else b""))
    pieces.append(b'],"next":null}')
    body = b"".join(pieces)
    del pieces

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/large/items":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            view = memoryview(body)
            for offset in range(0, len(body), 1 << 20):
                self.wfile.write(view[offset : offset + (1 << 20)])

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"{count} {len(body)} {httpd.server_address[1]}", flush=True)
    with suppress(KeyboardInterrupt):
        httpd.serve_forever(poll_interval=0.2)
    return 0


def run_large_response(
    args: argparse.Namespace, session: Session, tap: list[str], workdir: Path
) -> None:
    """One response of ``--large-response-mb`` MB through the tap: peak RSS, every record."""
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve-large",
            str(args.large_response_mb),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline().split()
        if len(line) != 3:
            session.notes.append("large-response server did not start")
            say("ERROR: the large-response server did not start")
            session.rows.append(Row("large-response", "json", "tap", 0, 0.0, complete=False))
            return
        count, size, port = (int(x) for x in line)
        say(f"server: separate process, port {port}; one response of {size:,} bytes")
        say(f"records: {count:,} (ids 1..{count:,}), data_selector 'data', json_link paginator")
        config = {
            "client": {"base_url": f"http://127.0.0.1:{port}/large"},
            "resources": [
                {
                    "name": STREAM,
                    "primary_key": "id",
                    "endpoint": {
                        "path": "items",
                        "data_selector": "data",
                        "paginator": {"type": "json_link", "next_url_path": "next"},
                    },
                }
            ],
        }
        config_path = workdir / "config_large.json"
        config_path.write_text(json.dumps(config))
        row = Row("large-response", "json", "tap", count, 0.0)
        command = [*tap, "--config", str(config_path)]
        for _ in range(args.repeat):
            measured = run_measured(command, count, args.timeout)
            row.add(measured)
            progress(f"{size / 1e6:,.0f} MB", "tap", measured, row)
        session.rows.append(row)
        session.meta["large_response_bytes"] = size
        at = f"{size / 1e6:,.1f} MB response, {count:,} records"
        if args.large_response_mb != LARGE_RSS_TARGET_AT_MB:
            at += f" (the target is stated at {LARGE_RSS_TARGET_AT_MB:g} MB)"
        ok = row.rss_mb <= LARGE_RSS_TARGET_MB and row.complete
        session.targets.append(
            Target(
                f"tap peak RSS <= {LARGE_RSS_TARGET_MB:g} MB for one large response",
                "json",
                "PASS" if ok else "FAIL",
                f"{row.rss_mb:.1f} MB ({row.rss_mb * 1e6 / size:.2f}x the body) at {at}; "
                f"every record once: {'yes' if row.complete else 'NO'}",
            )
        )
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()


# --------------------------------------------------------------------------- CLI


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="Benchmark tap-restgeneric against a bare requests loop.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--records", type=int, default=200_000, help="records served (N)")
    parser.add_argument("--page-size", type=int, default=100, help="records per page")
    parser.add_argument(
        "--styles", default=",".join(STYLES), help="comma-separated pagination styles"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay per response; >0: latency mode"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (best wall)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument(
        "--rss-scan",
        help="comma-separated record counts: run only the tap (page_number) at each, print RSS",
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="the tap's parallel setting in latency mode"
    )
    parser.add_argument("--tap-command", help="the tap's CLI (default: tap-restgeneric)")
    parser.add_argument("--cache-mb", type=int, default=1024, help="server page cache budget")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child run")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument(
        "--large-response-mb",
        type=float,
        help="serve the records as ONE response of about this many MB; run only the tap on it",
    )
    parser.add_argument("--serve-large", type=float, help=argparse.SUPPRESS)
    parser.add_argument(
        "--compare",
        action="store_true",
        help="the tap with DEFAULT settings beside a plain thread pool and the sequential loop "
        "(--latency-ms, 20 when not given)",
    )
    parser.add_argument("--pool", type=int, default=8, help="threads of the plain pool (--compare)")
    parser.add_argument(
        "--dlt-python",
        help="a Python with dlt installed, for the dlt rest_api row of --compare (default: this "
        "Python; without dlt the row says 'not installed' and the run goes on)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=0.0,
        help="the server allows this many requests a second (429 + Retry-After beyond); runs "
        "the tap with its defaults on the first style",
    )
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds before the rate-limited run counts"
    )
    parser.add_argument(
        "--windowed",
        action="store_true",
        help="a cursor API over one year of updated_at (updated_since/updated_until params): "
        "the tap's incremental window_size P7D backfill with max_concurrency 1 (the baseline), "
        "with its defaults, and a plain loop (--latency-ms, 20 when not given); see windowed.py",
    )
    parser.add_argument(
        "--suite",
        action="store_true",
        help="every figure of the README's Performance section in one run: loopback (all "
        "styles), --compare (page_number, offset), --rate-limit 5, --windowed, with --records "
        "(and --tap-command, --dlt-python, --repeat) passed on",
    )
    args = parser.parse_args(argv)
    args.styles = [s.strip() for s in args.styles.split(",") if s.strip()]
    unknown = [s for s in args.styles if s not in STYLES]
    if unknown or not args.styles:
        parser.error(f"--styles: unknown {unknown}; expected some of {', '.join(STYLES)}")
    if args.rss_scan:
        try:
            args.rss_scan = [int(s.replace("_", "")) for s in args.rss_scan.split(",") if s]
        except ValueError:
            parser.error("--rss-scan takes comma-separated integers, e.g. 50000,1000000")
    if args.large_response_mb is not None and args.large_response_mb <= 0:
        parser.error("--large-response-mb must be > 0")
    if (args.compare or args.windowed) and args.latency_ms == 0:
        args.latency_ms = 20.0
    if args.records < 1 or args.page_size < 1 or args.repeat < 1 or args.concurrency < 2:
        parser.error("--records, --page-size, --repeat must be >= 1, --concurrency >= 2")
    return args


def baseline_codec() -> str:
    """orjson or msgspec, as baseline.py (run by this same Python) will pick it."""
    return "orjson" if importlib.util.find_spec("orjson") is not None else "msgspec"


@contextmanager
def workspace() -> Iterator[Path]:
    """A temporary directory for configs and catalogs."""
    with tempfile.TemporaryDirectory(prefix="bench-restgeneric-") as name:
        yield Path(name)


def report(session: Session) -> None:
    """The table and the targets."""
    say()
    for line in table(session.rows):
        say(line)
    say()
    say("Targets (reported, not asserted):")
    width = max((len(t.target) for t in session.targets), default=0)
    subject = max((len(t.subject) for t in session.targets), default=0)
    for t in session.targets:
        say(f"  [{t.mark:^7}] {t.target:<{width}}  {t.subject:<{subject}}  {t.detail}")


def describe(args: argparse.Namespace, mode: str) -> str:
    """The line that says what this invocation measures."""
    if args.large_response_mb:
        return (
            f"mode: large-response (tap only): one response of about {args.large_response_mb:g} MB"
        )
    if args.rss_scan:
        sizes = ", ".join(f"{n:,}" for n in args.rss_scan)
        return f"mode: rss-scan (tap only, page_number) at {sizes} records x {FIELDS} fields"
    pages = -(-args.records // args.page_size)
    styles = "cursor, windows of a year" if args.windowed else ", ".join(args.styles)
    return (
        f"mode: {mode}; {args.records:,} records x {FIELDS} fields, page size "
        f"{args.page_size} ({pages:,} pages), styles {styles}, "
        f"latency {args.latency_ms:g} ms, repeat {args.repeat} (best wall, max RSS)"
    )


def suite(args: argparse.Namespace) -> int:
    """Each mode of the Performance section in turn, in this one process; the worst status."""
    shared = ["--records", str(args.records), "--repeat", str(args.repeat)]
    shared += ["--tap-command", args.tap_command] if args.tap_command else []
    shared += ["--dlt-python", args.dlt_python] if args.dlt_python else []
    modes = [
        [],
        ["--compare", "--styles", "page_number,offset"],
        [
            "--rate-limit",
            "5",
            "--latency-ms",
            "20",
            "--records",
            "30000",
            "--styles",
            "page_number",
        ],
        ["--windowed"],
    ]
    status = 0
    for extra in modes:
        say(f"\n=== bench.py {' '.join([*shared, *extra])}")
        status = max(status, main([*shared, *extra]))
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and targets, optionally write JSON."""
    args = parse_args(argv)
    if args.suite:
        return suite(args)
    if args.serve_large is not None:
        return serve_large(args.serve_large)
    tap = tap_command(args.tap_command)
    codec = baseline_codec()
    codec_note = (
        "orjson"
        if codec == "orjson"
        else "msgspec (orjson is not installed; msgspec's JSON codec is equivalent)"
    )
    mode = "rss-scan" if args.rss_scan else ("latency" if args.latency_ms > 0 else "throughput")
    mode = "large-response" if args.large_response_mb else mode
    mode = "compare" if args.compare else mode
    mode = "rate-limit" if args.rate_limit else mode
    mode = "windowed" if args.windowed else mode
    meta: dict[str, Any] = {
        "mode": mode,
        "records": args.records,
        "fields": FIELDS,
        "page_size": args.page_size,
        "styles": args.styles if not args.rss_scan else ["page_number"],
        "latency_ms": args.latency_ms,
        "repeat": args.repeat,
        "rss_scan": args.rss_scan,
        "large_response_mb": args.large_response_mb,
        "baseline_codec": codec,
        "tap_command": tap,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    session = Session(meta)
    say("tap-restgeneric benchmark")
    say(describe(args, mode))
    say(f"python {meta['python']}, {meta['cpus']} CPUs, {meta['platform']}; tap: {' '.join(tap)}")
    say(f"baseline JSON codec: {codec_note}")
    load = os.getloadavg()
    meta["load_average_start"] = load
    say(
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        " (other processes on the machine skew wall times)"
    )
    with workspace() as workdir:
        if args.windowed:
            # windowed.py imports this module as 'bench': let it find this one, not a copy.
            sys.modules.setdefault("bench", sys.modules[__name__])
            from windowed import run_windowed  # noqa: PLC0415 (a mode of its own module)

            run_windowed(args, session, tap, workdir)
        elif args.rate_limit:
            run_rate_limited(args, session, tap, workdir)
        elif args.compare:
            run_compare(args, session, tap, workdir)
        elif args.large_response_mb:
            run_large_response(args, session, tap, workdir)
        elif args.rss_scan:
            run_rss_scan(args, session, tap, workdir)
        else:
            run_styles(args, session, tap, workdir)
    report(session)
    load = os.getloadavg()
    meta["load_average_end"] = load
    say(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for note in session.notes:
        if note.startswith(
            (
                "parallel fetching: not available",
                "rate-limited run",
                "page_number:",
                "offset:",
                "windowed:",
            )
        ):
            say(note)
    if args.json:
        payload = {
            "meta": session.meta,
            "notes": session.notes,
            "rows": [row.as_dict() for row in session.rows],
            "targets": [asdict(t) for t in session.targets],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        say(f"results written to {args.json}")
    if not all(row.complete for row in session.rows):
        say("ERROR: some runs failed or wrote incomplete output")
        return 1
    if args.strict and any(t.mark == "FAIL" for t in session.targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
