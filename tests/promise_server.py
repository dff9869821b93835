"""The harness of the promise tests: a paginated API with per-page faults, and a strict reader.

``PromiseServer`` serves collections on 127.0.0.1 (port 0), each at ``/<name>`` in one of six
pagination styles, with records ``{"id": i, "updated_at": ..., "name": ..., "note": ...}``,
ids 1..count (notes of varying length, some longer than a pipe's atomic write, some not ASCII)::

    page_number        ?page=N (1-based)              {"data": [...]}; past the end {"data": []}
    page_number_total  ?page=N (1-based)              {"data": [...], "total_pages": T}
    offset             ?offset=K&limit=L (L capped)   {"data": [...], "total": count}
    cursor             ?cursor=C (none: page 1)       {"data": [...], "next_cursor": C or null}
    json_link          ?page=N                        {"data": [...], "next": URL or null}
    header_link        ?page=N                        {"data": [...]} and Link: <URL>; rel="next"

``updated_since=<ISO>`` keeps the records with ``updated_at >= since`` (every style). A
page_number collection with ``zero_as_one`` serves page 0 as page 1 (a 1-based API that treats
0 as 1); without it page 0 is a 400.

Faults are scheduled per collection and page (``page`` is the 1-based position in the
collection, whatever the style: offset K is page K // page_size + 1)::

    api.inject("items", 3, "503", times=2)       # transient: fires on the next ``times`` requests
    api.inject("items", 4, "repeat_previous")    # suspicious: fires on every request to page 4

Transient kinds (a tap must survive them, every id written once): ``429`` (``Retry-After``:
``retry_after`` seconds), ``500``, ``503``, ``reset_mid_body`` (headers announce the whole body,
half of it is sent, then a TCP RST), ``read_timeout`` (the answer comes after ``delay`` seconds:
set ``request_timeout`` below it), ``truncated_json`` (status 200, half the body, an honest
Content-Length). Suspicious kinds (the data cannot be proven to have ended; a run must fail):
``empty_body`` (200, no body), ``error_body`` (200, ``{"error": "database timeout"}``),
``repeat_previous`` (page k is page k-1's response, byte for byte), ``repeat_earlier`` (page k
is page ``target``'s response, ``target`` <= k-2), ``link_back`` (page k's data with a next
cursor or link to page ``target`` < k; link styles only).

``run_tap`` runs the CLI (``tap-restgeneric --config FILE [--state FILE]``) with stdout a pipe
read line by line by a deliberately slow reader that parses every line; ``run_into_target``
pipes the tap straight into target-jsonl. Both are bounded by a timeout.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cli import clean_env, tool
from local_server import LocalHandler, LocalServer, Reply

STYLES = ("page_number", "page_number_total", "offset", "cursor", "json_link", "header_link")
LINK_STYLES = frozenset({"cursor", "json_link", "header_link"})
PAGE_STYLES = frozenset({"page_number", "page_number_total"})
TRANSIENT = ("429", "500", "503", "reset_mid_body", "read_timeout", "truncated_json")
SUSPICIOUS = ("empty_body", "error_body", "repeat_previous", "repeat_earlier", "link_back")
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
START = "2024-01-01T00:00:00Z"
SINCE_PARAM = "updated_since"
ERROR_BODY = b'{"error": "database timeout"}'
UNPROVEN = re.compile(
    r"stream '(?P<stream>[^']+)': page (?P<page>\d+) \((GET|POST) [^)]*\): .*not a proven end"
)
SUMMARY = re.compile(r"Stream '(?P<stream>[^']+)': (?P<records>\d+) records\b(?! from)")
LONG_NOTE = 5000  # longer than PIPE_BUF (4096): a write of it is not atomic on a pipe


# --------------------------------------------------------------------------------------------
# Collections and records


def updated_at(record_id: int) -> str:
    """The ``updated_at`` of record ``record_id``: one minute apart, ascending with the id."""
    return (EPOCH + timedelta(minutes=record_id)).strftime("%Y-%m-%dT%H:%M:%SZ")


def note(record_id: int) -> str:
    """A note of varying length (every 97th one longer than PIPE_BUF), with non-ASCII text."""
    if record_id % 97 == 0:
        return "ü漢" + "x" * LONG_NOTE
    return "é" * (record_id % 3) + "n" * ((record_id * 37) % 300)


def make_record(name: str, record_id: int) -> dict[str, Any]:
    """One record of a collection."""
    return {
        "id": record_id,
        "updated_at": updated_at(record_id),
        "name": f"{name}-{record_id}",
        "note": note(record_id),
    }


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Collection:
    """One collection the server holds: its name (= path and stream), style and size."""

    name: str
    style: str
    count: int
    page_size: int = 100
    zero_as_one: bool = False

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"unknown style {self.style!r}; expected one of {STYLES}")
        if self.zero_as_one and self.style not in PAGE_STYLES:
            raise ValueError("zero_as_one is for page_number styles")

    @property
    def pages(self) -> int:
        """How many pages hold its records (at least one, maybe empty)."""
        return max(1, math.ceil(self.count / self.page_size))

    def ids(self) -> list[int]:
        """Every id it holds."""
        return list(range(1, self.count + 1))

    def ids_before(self, page: int) -> list[int]:
        """The ids of the pages before ``page``."""
        return list(range(1, min(self.count, (page - 1) * self.page_size) + 1))

    def ids_since(self, since: str) -> list[int]:
        """The ids with ``updated_at >= since``."""
        start = _instant(since)
        return [i for i in self.ids() if _instant(updated_at(i)) >= start]


# --------------------------------------------------------------------------------------------
# Faults


@dataclass
class Fault:
    """One scheduled fault on one page of a collection (``times`` None: every request)."""

    collection: str
    page: int
    kind: str
    times: int | None = 1
    retry_after: float | None = None
    delay: float = 1.6
    target: int = 1
    fired: int = 0

    @property
    def suspicious(self) -> bool:
        """Whether a run meeting it must fail."""
        return self.kind in SUSPICIOUS

    def live(self) -> bool:
        """Whether it still fires."""
        return self.times is None or self.fired < self.times


def json_reply(status: int, payload: Any, **headers: str) -> Reply:
    """A JSON response (compact, UTF-8)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status, body, {"Content-Type": "application/json", **headers})


@dataclass
class Logged:
    """One request as the server saw it."""

    collection: str
    page: int | None
    query: dict[str, str]
    fault: str | None = None


def cursor_token(name: str, page: int) -> str:
    """The opaque cursor of page ``page`` of a collection."""
    return base64.urlsafe_b64encode(f"{name}:{page}".encode()).decode().rstrip("=")


def _cursor_page(name: str, token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        return None
    owner, _, page = text.rpartition(":")
    return int(page) if owner == name and page.isdigit() else None


class PromiseServer(LocalServer):
    """Paginated collections with scheduled per-page faults; ``with PromiseServer(...) as api``.

    ``api_key``: every request must carry it as the ``api_key`` query param; ``latency``: seconds
    each reply takes (enough of it makes the tap fetch pages ahead).
    """

    def __init__(
        self, collections: Iterable[Collection], *, api_key: str | None = None, latency: float = 0.0
    ) -> None:
        self.latency = latency
        self.collections = {c.name: c for c in collections}
        self.records = {
            c.name: [make_record(c.name, i) for i in c.ids()] for c in self.collections.values()
        }
        self.api_key = api_key
        self.faults: list[Fault] = []
        self.fault_counts: Counter[str] = Counter()
        self.requests: list[Logged] = []
        self.lock = threading.Lock()

    # -- faults ----------------------------------------------------------------------------------
    def inject(
        self,
        collection: str,
        page: int,
        kind: str,
        *,
        times: int | None = None,
        **options: Any,
    ) -> Fault:
        """Schedule a fault on page ``page`` of ``collection`` (see the module docstring).

        Transient kinds fire ``times`` times (default 1); suspicious kinds on every request to
        the page (``times`` None) unless told otherwise.
        """
        owner = self.collections[collection]
        if kind not in TRANSIENT and kind not in SUSPICIOUS:
            raise ValueError(f"unknown fault {kind!r}")
        if not 1 <= page <= owner.pages:
            raise ValueError(f"{collection} has pages 1..{owner.pages}, not {page}")
        if kind in SUSPICIOUS and page < 2:
            raise ValueError("a suspicious fault needs a page before it (page >= 2)")
        if kind == "repeat_previous":
            options["target"] = page - 1
        if kind == "repeat_earlier":
            options.setdefault("target", 1)
            if not 1 <= options["target"] <= page - 2:
                raise ValueError("repeat_earlier repeats a page at least two before")
        if kind == "link_back":
            if owner.style not in LINK_STYLES:
                raise ValueError(f"link_back needs a link style, not {owner.style}")
            options.setdefault("target", 1)
            if not 1 <= options["target"] < page:
                raise ValueError("link_back points to an earlier page")
        if times is None and kind in TRANSIENT:
            times = 1
        if kind == "429":
            options.setdefault("retry_after", 0)
        fault = Fault(collection, page, kind, times, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def _take(self, collection: str, page: int) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.collection == collection and fault.page == page and fault.live():
                    fault.fired += 1
                    self.fault_counts[fault.kind] += 1
                    return fault
        return None

    def log(self, collection: str | None = None) -> list[Logged]:
        """The requests so far (to ``collection``, if given)."""
        with self.lock:
            return [r for r in self.requests if collection in (None, r.collection)]

    # -- pages -----------------------------------------------------------------------------------
    def _served(self, name: str, query: Mapping[str, str]) -> list[dict[str, Any]]:
        records = self.records[name]
        since = query.get(SINCE_PARAM)
        if since:
            start = _instant(since)
            records = [r for r in records if _instant(r["updated_at"]) >= start]
        return records

    def page_of(self, owner: Collection, query: Mapping[str, str]) -> int | None:
        """The page a request asks for (None: a malformed request)."""
        style = owner.style
        try:
            if style == "offset":
                return int(query.get("offset") or 0) // owner.page_size + 1
            if style == "cursor":
                token = query.get("cursor")
                return 1 if not token else _cursor_page(owner.name, token)
            page = int(query.get("page") or (0 if style in PAGE_STYLES else 1))
        except ValueError:
            return None
        if page == 0 and owner.zero_as_one:
            return 1
        return page if page >= 1 else None

    def _link(self, owner: Collection, query: Mapping[str, str], page: int) -> str:
        kept = {k: v for k, v in query.items() if k not in ("page", "api_key")}
        return f"{self.url}/{owner.name}?{urlencode({**kept, 'page': page})}"

    def genuine(
        self, owner: Collection, query: Mapping[str, str], page: int, next_page: int | None = None
    ) -> Reply:
        """The true response for page ``page`` (``next_page``: where its link points instead)."""
        records = self._served(owner.name, query)
        size = owner.page_size
        style = owner.style
        if style == "offset":
            offset = int(query.get("offset") or 0)
            limit = min(int(query.get("limit") or size), size)
            if page != offset // size + 1:  # a repeated page: that page's own window
                offset = (page - 1) * size
            window = records[offset : offset + limit]
            return json_reply(200, {"data": window, "total": len(records)})
        pages = max(1, math.ceil(len(records) / size))
        chunk = records[(page - 1) * size : page * size]
        following = next_page if next_page is not None else (page + 1 if page < pages else None)
        if style == "page_number":
            return json_reply(200, {"data": chunk})
        if style == "page_number_total":
            return json_reply(200, {"data": chunk, "total_pages": pages})
        if style == "cursor":
            token = None if following is None else cursor_token(owner.name, following)
            return json_reply(200, {"data": chunk, "next_cursor": token})
        link = None if following is None else self._link(owner, query, following)
        if style == "json_link":
            return json_reply(200, {"data": chunk, "next": link})
        headers = {} if link is None else {"Link": f'<{link}>; rel="next"'}
        return json_reply(200, {"data": chunk}, **headers)

    def _at_page(self, owner: Collection, query: Mapping[str, str], page: int) -> dict[str, str]:
        """The query that asks for ``page`` (to serve another page's response byte for byte)."""
        moved = dict(query)
        if owner.style == "offset":
            moved["offset"] = str((page - 1) * owner.page_size)
        elif owner.style == "cursor":
            moved.pop("cursor", None)
            if page > 1:
                moved["cursor"] = cursor_token(owner.name, page)
        else:
            moved["page"] = str(page)
        return moved

    def reply(self, path: str, query: dict[str, str]) -> Reply | Fault:
        """The reply to a request, or the transient fault that replaces it."""
        name = path.strip("/")
        owner = self.collections.get(name)
        if owner is None:
            return json_reply(404, {"error": f"no such collection {path}"})
        page = self.page_of(owner, query)
        entry = Logged(name, page, query)
        with self.lock:
            self.requests.append(entry)
        if page is None:
            return json_reply(400, {"error": "bad page, offset or cursor"})
        if self.api_key is not None and query.get("api_key") != self.api_key:
            return json_reply(401, {"error": "unauthorized"})
        if self.latency:
            time.sleep(self.latency)
        fault = self._take(name, page)
        if fault is None:
            return self.genuine(owner, query, page)
        entry.fault = fault.kind
        kind = fault.kind
        if kind in ("429", "500", "503"):
            wait = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            return json_reply(int(kind), {"error": f"injected {kind}"}, **wait)
        if kind in ("reset_mid_body", "read_timeout", "truncated_json"):
            return fault
        if kind == "empty_body":
            return Reply(200, b"", {"Content-Type": "application/json"})
        if kind == "error_body":
            return Reply(200, ERROR_BODY, {"Content-Type": "application/json"})
        if kind in ("repeat_previous", "repeat_earlier"):
            return self.genuine(owner, self._at_page(owner, query, fault.target), fault.target)
        return self.genuine(owner, query, page, next_page=fault.target)  # link_back


class _Handler(LocalHandler):
    def do_GET(self) -> None:
        """Reply, or misbehave as a transient fault says."""
        api = self.server.owner
        path, query = self.query()
        self.read_body()
        try:
            outcome = api.reply(path, query)
        except Exception as exc:  # a bug in the server: say so rather than hang the client
            outcome = json_reply(500, {"error": f"promise server bug: {exc!r}"})
        try:
            if isinstance(outcome, Fault):
                self._misbehave(api, path, query, outcome)
            else:
                self.send_reply(outcome)
        except OSError:  # the client hung up first
            self.close_connection = True

    do_POST = do_GET

    def _misbehave(
        self, api: PromiseServer, path: str, query: dict[str, str], fault: Fault
    ) -> None:
        owner = api.collections[path.strip("/")]
        full = api.genuine(owner, query, fault.page)
        half = full.body[: len(full.body) // 2]
        if fault.kind == "truncated_json":
            self.send_reply(Reply(200, half, full.headers))
        elif fault.kind == "reset_mid_body":
            self.send_reply(Reply(200, half, full.headers), length=len(full.body))
            self.reset()
        else:  # read_timeout: answer after the client gave up
            time.sleep(fault.delay)
            self.close_connection = True
            self.send_reply(full)


PromiseServer.handler = _Handler


# --------------------------------------------------------------------------------------------
# Configs


PAGINATORS: dict[str, dict[str, Any]] = {
    "page_number": {"type": "page_number", "base_page": 1, "page_param": "page"},
    "page_number_total": {
        "type": "page_number",
        "base_page": 1,
        "page_param": "page",
        "total_path": "total_pages",
    },
    "offset": {"type": "offset", "total_path": "total"},
    "cursor": {"type": "cursor", "cursor_path": "next_cursor", "cursor_param": "cursor"},
    "json_link": {"type": "json_link", "next_url_path": "next"},
    "header_link": {"type": "header_link"},
}


def resource(
    owner: Collection,
    *,
    incremental: bool = False,
    row_order: str | None = None,
    on_unproven_end: str | None = None,
    leave_base_page: bool = False,
) -> dict[str, Any]:
    """The tap's resource for a collection (``leave_base_page``: no base_page at all)."""
    paginator = dict(PAGINATORS[owner.style])
    if owner.style == "offset":
        paginator["limit"] = owner.page_size
    if leave_base_page:
        paginator.pop("base_page", None)
    endpoint: dict[str, Any] = {
        "path": f"/{owner.name}",
        "data_selector": "data",
        "paginator": paginator,
    }
    if incremental:
        endpoint["incremental"] = {
            "cursor_path": "updated_at",
            "start_param": SINCE_PARAM,
            "initial_value": START,
            **({"row_order": row_order} if row_order else {}),
        }
    if on_unproven_end is not None:
        endpoint["on_unproven_end"] = on_unproven_end
    return {"name": owner.name, "primary_key": "id", "endpoint": endpoint}


def config(api: PromiseServer, *resources: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """A config for the server (default settings unless given); api_key auth if it wants one."""
    client: dict[str, Any] = {"base_url": api.url}
    if api.api_key is not None:
        client["auth"] = {
            "type": "api_key",
            "name": "api_key",
            "api_key": api.api_key,
            "location": "query",
        }
    return {"client": client, "resources": list(resources), **settings}


# --------------------------------------------------------------------------------------------
# Running the CLI and reading what it wrote


BIN = Path(sys.executable).parent
TAP = str(BIN / "tap-restgeneric")
MESSAGE_TYPES = frozenset({"SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION", "BATCH"})
SLOW_EVERY = 500
SLOW_FOR = 0.02


@dataclass
class Outcome:
    """What one run wrote, as a strict reader of its stdout saw it."""

    returncode: int
    stderr: str
    seconds: float = 0.0
    lines: int = 0
    broken: int = 0
    broken_samples: list[str] = field(default_factory=list)
    records: dict[str, list[Any]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)
    last_record_line: int = -1
    last_state_line: int = -1
    timed_out: bool = False
    leaks: int = 0

    def ids(self, stream: str) -> list[Any]:
        """The ids of a stream's records, in the order written."""
        return self.records.get(stream, [])

    def unproven(self) -> dict[str, list[re.Match[str]]]:
        """The unproven-end error lines on stderr, per stream."""
        return unproven_lines(self.stderr)

    def summary(self) -> dict[str, list[int]]:
        """The end-of-run summary counts on stderr, per stream."""
        return summary_counts(self.stderr)

    def state_after_records(self) -> bool:
        """Whether a STATE line came after the last RECORD line."""
        return self.last_state_line > self.last_record_line

    def tail(self, chars: int = 3000) -> str:
        """The end of stderr, for assertion messages."""
        return self.stderr[-chars:]


def unproven_lines(stderr: str) -> dict[str, list[re.Match[str]]]:
    """The stderr lines reporting an unproven end, per stream."""
    found: dict[str, list[re.Match[str]]] = {}
    for line in stderr.splitlines():
        match = UNPROVEN.search(line)
        if match:
            found.setdefault(match["stream"], []).append(match)
    return found


def summary_counts(stderr: str) -> dict[str, list[int]]:
    """The record counts of the end-of-run summary lines, per stream (progress lines left out)."""
    found: dict[str, list[int]] = {}
    for line in stderr.splitlines():
        if "so far" in line:
            continue
        match = SUMMARY.search(line)
        if match:
            found.setdefault(match["stream"], []).append(int(match["records"]))
    return found


def _read(outcome: Outcome, raw: bytes) -> None:
    """Check one stdout line: whole, UTF-8, JSON, a Singer message; keep what it says."""
    index = outcome.lines
    outcome.lines += 1
    try:
        if not raw.endswith(b"\n"):
            raise ValueError("no newline at the end")
        message = json.loads(raw.decode("utf-8"))
        if not isinstance(message, dict) or message.get("type") not in MESSAGE_TYPES:
            raise ValueError("not a Singer message")
        kind = message["type"]
        if kind == "RECORD":
            record = message["record"]
            outcome.records.setdefault(message["stream"], []).append(record["id"])
            outcome.last_record_line = index
        elif kind == "STATE":
            value = message["value"]
            if not isinstance(value, dict):
                raise ValueError("STATE value is not an object")
            outcome.states.append(value)
            outcome.last_state_line = index
    except (ValueError, KeyError, TypeError) as exc:
        outcome.broken += 1
        if len(outcome.broken_samples) < 5:
            outcome.broken_samples.append(f"line {index + 1}: {exc}: {raw[:160]!r}")


def write_inputs(
    cfg: Mapping[str, Any], workdir: Path, state: Mapping[str, Any] | None
) -> list[str]:
    """Write config (and state) files; the CLI's arguments."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(cfg))
    args = [TAP, "--config", str(config_path)]
    if state is not None:
        state_path = workdir / "state.json"
        state_path.write_text(json.dumps(state))
        args += ["--state", str(state_path)]
    return args


def run_tap(
    cfg: Mapping[str, Any],
    workdir: Path,
    *,
    state: Mapping[str, Any] | None = None,
    timeout: float = 120.0,
    slow_every: int = SLOW_EVERY,
    slow_for: float = SLOW_FOR,
    secrets: Iterable[str] = (),
) -> Outcome:
    """Run the CLI with stdout a pipe; read and parse every line, pausing now and then.

    Lines holding one of ``secrets`` are counted as leaks.
    """
    hidden = [s.encode() for s in secrets if s]
    args = write_inputs(cfg, workdir, state)
    err_path = workdir / "tap.stderr"
    started = time.monotonic()
    with err_path.open("wb") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, env=clean_env())
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        outcome = Outcome(returncode=0, stderr="")
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                _read(outcome, raw)
                outcome.leaks += any(s in raw for s in hidden)
                if slow_every and outcome.lines % slow_every == 0:
                    time.sleep(slow_for)
            proc.wait(timeout=timeout)
        finally:
            outcome.timed_out = not watchdog.is_alive() and proc.returncode == -9
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    outcome.returncode = proc.returncode
    outcome.seconds = time.monotonic() - started
    outcome.stderr = err_path.read_text(errors="replace")
    return outcome


@dataclass
class Piped:
    """A tap piped into target-jsonl: both exit statuses, stderr, the ids in its files, and the
    STATE target-jsonl emitted last (what Meltano would store for the next run; None: none)."""

    tap_returncode: int
    target_returncode: int
    tap_stderr: str
    target_stderr: str
    files: dict[str, list[Any]]
    unparseable: int
    state: dict[str, Any] | None = None

    def check(self) -> None:
        """Both exited 0 and every line target-jsonl wrote parsed."""
        assert self.tap_returncode == 0, self.tap_stderr[-3000:]
        assert self.target_returncode == 0, self.target_stderr[-3000:]
        assert self.unparseable == 0


def run_into_target(
    cfg: Mapping[str, Any],
    workdir: Path,
    *,
    state: Mapping[str, Any] | None = None,
    timeout: float = 180.0,
) -> Piped:
    """``tap-restgeneric --config F [--state S] | target-jsonl -c T`` over an OS pipe."""
    target_jsonl = tool("target-jsonl", "TARGET_JSONL", ".venv-target")
    args = write_inputs(cfg, workdir, state)
    out_dir = workdir / "loaded"
    target_cfg = workdir / "target.json"
    target_cfg.write_text(
        json.dumps({"destination_path": str(out_dir), "do_timestamp_file": False})
    )
    tap_err, target_err = workdir / "tap.stderr", workdir / "target.stderr"
    target_out = workdir / "target.stdout"
    read_end, write_end = os.pipe()
    with tap_err.open("wb") as terr, target_err.open("wb") as gerr, target_out.open("wb") as gout:
        try:
            tap = subprocess.Popen(args, stdout=write_end, stderr=terr, env=clean_env())
            target = subprocess.Popen(
                [target_jsonl, "-c", str(target_cfg)],
                stdin=read_end,
                stdout=gout,
                stderr=gerr,
                env=clean_env(),
            )
        finally:
            os.close(read_end)
            os.close(write_end)
        try:
            tap.wait(timeout=timeout)
            target.wait(timeout=timeout)
        finally:
            for proc in (tap, target):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
    files: dict[str, list[Any]] = {}
    unparseable = 0
    for path in sorted(out_dir.glob("*.jsonl")) if out_dir.exists() else []:
        for line in path.read_text(errors="replace").splitlines():
            try:
                files.setdefault(path.stem, []).append(json.loads(line)["id"])
            except (ValueError, KeyError, TypeError):
                unparseable += 1
    states = [line for line in target_out.read_text().splitlines() if line.strip()]
    return Piped(
        tap.returncode,
        target.returncode,
        tap_err.read_text(errors="replace"),
        target_err.read_text(errors="replace"),
        files,
        unparseable,
        state=json.loads(states[-1]) if states else None,
    )


# --------------------------------------------------------------------------------------------
# Invariants


def duplicates(ids: Iterable[Any]) -> list[Any]:
    """Ids written more than once (each listed once per extra copy)."""
    return sorted(i for i, n in Counter(ids).items() for _ in range(n - 1))


def bookmark(state: Mapping[str, Any], stream: str) -> Any:
    """A stream's ``replication_key_value`` in a STATE value (None: none)."""
    entry = state.get("bookmarks", {}).get(stream, {})
    return entry.get("replication_key_value") if isinstance(entry, dict) else None


def state_regressions(
    states: Iterable[Mapping[str, Any]],
    streams: Iterable[str],
    start: Mapping[str, Any] | None = None,
) -> list[str]:
    """Where a stream's bookmark went backwards (or vanished) from one STATE to the next."""
    found: list[str] = []
    last: dict[str, Any] = {}
    names = list(streams)
    sequence = ([start] if start else []) + list(states)
    for index, state in enumerate(sequence):
        for stream in names:
            value = bookmark(state, stream)
            before = last.get(stream)
            if value is None:
                if before is not None:
                    found.append(f"{stream}: bookmark {before!r} vanished in STATE #{index}")
                continue
            if before is not None and _instant(str(value)) < _instant(str(before)):
                found.append(f"{stream}: bookmark {before!r} -> {value!r} in STATE #{index}")
            last[stream] = value
    return found


def bookmark_overreach(
    state: Mapping[str, Any], stream: str, owner: Collection, written: Iterable[Any]
) -> list[int]:
    """Ids a resume from ``state`` would never read again although this run did not write them.

    A resume asks for ``updated_at >= bookmark``: every record before the bookmark must have
    been written.
    """
    value = bookmark(state, stream)
    if value is None:
        return []
    limit = _instant(str(value))
    have = set(written)
    return [i for i in owner.ids() if _instant(updated_at(i)) < limit and i not in have]


@dataclass
class Verdict:
    """What a run did against the promise: violations (empty: kept) and what to count."""

    violations: list[str] = field(default_factory=list)
    silent_short: bool = False
    false_alarm: bool = False
    reported: bool = False
    duplicates: int = 0
    regressions: int = 0
    overreach: int = 0
    expected: int = 0
    written: int = 0

    def fail(self, what: str) -> None:
        """Record one broken promise."""
        self.violations.append(what)


def first_suspicion(api: PromiseServer, name: str) -> Fault | None:
    """The suspicious fault a stream meets first (the lowest page), if any."""
    found = [f for f in api.faults if f.collection == name and f.suspicious]
    return min(found, key=lambda f: f.page) if found else None


def suspicion_pages(fault: Fault) -> set[int]:
    """The page an unproven end may name: the faulty page (or, for a link back, the next)."""
    return {fault.page, fault.page + 1} if fault.kind == "link_back" else {fault.page}


def ids_up_to(owner: Collection, fault: Fault) -> list[list[int]]:
    """What a stream may have written when it stops at ``fault``: the pages before it (for a
    link back, also the faulty page, whose data is genuine)."""
    allowed = [owner.ids_before(fault.page)]
    if fault.kind == "link_back":
        allowed.append(owner.ids_before(fault.page + 1))
    return allowed


def expected_ids(owner: Collection, start: Mapping[str, Any] | None) -> list[int]:
    """The ids a run should write: all, or those since the bookmark it starts from."""
    value = bookmark(start or {}, owner.name)
    return owner.ids() if value is None else owner.ids_since(str(value))


def boundary_ids(owner: Collection, start: Mapping[str, Any] | None) -> set[int]:
    """The ids at the bookmark a run starts from: written before, they may be written again
    (at least once) or left out."""
    value = bookmark(start or {}, owner.name)
    return set() if value is None else {i for i in owner.ids() if updated_at(i) == value}


def judge(
    outcome: Outcome,
    api: PromiseServer,
    *,
    quiet: Iterable[str] = (),
    start: Mapping[str, Any] | None = None,
    secrets: Iterable[str] = (),
) -> Verdict:
    """Every invariant of the promise for one run against ``api`` (all its collections ran).

    ``quiet``: streams configured with ``on_unproven_end: stop``; ``start``: the STATE given.
    """
    verdict = Verdict()
    quiet = set(quiet)
    names = list(api.collections)
    if outcome.timed_out:
        verdict.fail("the run did not end within its timeout (killed)")
    if outcome.broken:
        verdict.fail(f"{outcome.broken} unparseable stdout lines: {outcome.broken_samples}")
    if "Traceback (most recent call last)" in outcome.stderr:
        verdict.fail("a traceback on stderr")
    for secret in secrets:
        if secret in outcome.stderr:
            verdict.fail("a secret on stderr")
    if outcome.leaks:
        verdict.fail(f"a secret on {outcome.leaks} stdout lines")
    summary = outcome.summary()
    for name in names:
        ids = outcome.ids(name)
        verdict.written += len(ids)
        verdict.expected += len(expected_ids(api.collections[name], start))
        dups = duplicates(ids)
        verdict.duplicates += len(dups)
        if dups:
            verdict.fail(f"{name}: {len(dups)} ids written twice, e.g. {dups[:5]}")
        if summary.get(name) != [len(ids)]:
            verdict.fail(
                f"{name}: summary says {summary.get(name)} records, {len(ids)} RECORD lines"
            )
    regressions = state_regressions(outcome.states, names, start)
    verdict.regressions = len(regressions)
    for what in regressions[:3]:
        verdict.fail(f"STATE went backwards: {what}")
    lines = outcome.unproven()
    suspicions = {n: f for n in names if (f := first_suspicion(api, n)) is not None}
    loud = {n: f for n, f in suspicions.items() if n not in quiet}
    if outcome.returncode == 0:
        _judge_success(verdict, outcome, api, suspicions, quiet, start, bool(loud))
        for name in lines:
            verdict.fail(f"exit 0 with an unproven-end line for {name}")
    elif outcome.returncode == 1:
        _judge_failure(verdict, outcome, api, loud)
    else:
        verdict.fail(f"exit status {outcome.returncode}: {outcome.tail(500)}")
    return verdict


def _judge_success(
    verdict: Verdict,
    outcome: Outcome,
    api: PromiseServer,
    suspicions: Mapping[str, Fault],
    quiet: set[str],
    start: Mapping[str, Any] | None,
    loud: bool,
) -> None:
    for name, owner in api.collections.items():
        ids = outcome.ids(name)
        fault = suspicions.get(name)
        if fault is not None and name in quiet:
            warned = [ln for ln in outcome.stderr.splitlines() if "WARNING" in ln and name in ln]
            if not warned:
                verdict.fail(f"{name}: stopped quietly at page {fault.page} without a WARNING")
            if sorted(ids) not in ids_up_to(owner, fault):
                verdict.fail(
                    f"{name}: stopped quietly at {fault.kind} page {fault.page} with "
                    f"{len(ids)} records, not the {owner.ids_before(fault.page)[-1:]} before"
                )
            continue
        if fault is not None:
            verdict.silent_short = True
            verdict.fail(
                f"{name}: exit 0 although it met {fault.kind} on page {fault.page} "
                f"({len(ids)} of {owner.count} records written)"
            )
            continue
        want = expected_ids(owner, start)
        if sorted(set(ids) | boundary_ids(owner, start)) != sorted(set(want)):
            verdict.silent_short = True
            missing = sorted(set(want) - set(ids))
            verdict.fail(
                f"{name}: exit 0 with {len(missing)} of {len(want)} ids missing "
                f"(e.g. {missing[:5]}), {len(set(ids) - set(want))} unexpected"
            )
    if loud and not verdict.silent_short:
        verdict.silent_short = True


def _judge_failure(
    verdict: Verdict, outcome: Outcome, api: PromiseServer, loud: Mapping[str, Fault]
) -> None:
    lines = outcome.unproven()
    if not loud:
        verdict.false_alarm = True
        errors = [ln for ln in outcome.stderr.splitlines() if "ERROR" in ln]
        verdict.fail(f"exit 1 without a suspicious fault: {errors[:3]}")
        return
    if not lines:
        errors = [ln for ln in outcome.stderr.splitlines() if "ERROR" in ln]
        verdict.fail(f"exit 1 without an unproven-end line for {sorted(loud)}: {errors[:3]}")
    reported = True
    for name, matches in lines.items():
        fault = loud.get(name)
        if len(matches) != 1:
            verdict.fail(f"{name}: {len(matches)} unproven-end lines")
        if fault is None:
            verdict.fail(f"{name}: an unproven-end line without a suspicious fault")
            reported = False
            continue
        page = int(matches[0]["page"])
        if page not in suspicion_pages(fault):
            verdict.fail(f"{name}: unproven end named page {page}, the fault is on {fault.page}")
            reported = False
    for name, fault in loud.items():
        owner = api.collections[name]
        written = sorted(outcome.ids(name))
        allowed = ids_up_to(owner, fault)
        if name in lines and sorted(set(written)) not in allowed:
            verdict.fail(
                f"{name}: failed at page {fault.page} ({fault.kind}) after writing "
                f"{len(written)} records; expected {[len(a) for a in allowed]}"
            )
        if name not in lines and len(set(written)) > len(allowed[-1]):
            verdict.fail(f"{name}: went past {fault.kind} on page {fault.page} and no line says so")
    verdict.reported = reported and bool(lines)
    if not outcome.states:
        verdict.fail("exit 1 without any STATE line")
    elif not outcome.state_after_records():
        verdict.fail("exit 1 and RECORD lines after the last STATE")
    else:
        last = outcome.states[-1]
        for name, owner in api.collections.items():
            over = bookmark_overreach(last, name, owner, outcome.ids(name))
            verdict.overreach += len(over)
            if over:
                verdict.fail(f"{name}: the last STATE skips {len(over)} unwritten ids {over[:5]}")
