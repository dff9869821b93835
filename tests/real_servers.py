"""Third-party API frameworks as servers the tests own (issue 14).

Each framework's app is ``tests/real/serve_<name>.py`` (run by ``.venv-real``'s Python) or
``tests/real/feathers/serve.js`` (Node). Every app takes the same arguments — ``--port N --data
FILE`` — serves the items in FILE (a JSON list, see ``dataset``) the way its framework's docs
recommend, and, when the environment variable ``REAL_API_TOKEN`` is set, requires that credential
the framework's standard way. The test starts it on a free 127.0.0.1 port, waits until it answers,
and stops it by PID (the whole process group).

The example configs (``examples/real/<name>_<style>.json``) use the app's default port
(``PORTS``); ``real_config`` points one at the running server, ``server_fixture`` gives a test
module one app for all its tests, and ``run_into_target`` (promise_server) pipes the tap into
target-jsonl.

The checks every framework's tests share are here once: ``check_streams`` (exactly the expected
streams, each with exactly its ids, none twice), ``failure_line``/``unproven_line`` (exit 1 and
one line), ``requests_logged`` (what a werkzeug/wsgiref app was asked), and the two scenarios
every framework runs: ``incremental_runs`` (run 1, then run 2 with its STATE against changed
data) and ``credential_runs`` (the right credential loads, a wrong one fails loudly).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cli import EXAMPLES, ROOT, clean_env
from pg_server import free_port
from promise_server import Piped, run_into_target

REAL = ROOT / "tests" / "real"
REAL_EXAMPLES = EXAMPLES / "real"
# The port each app listens on by default (examples/real configs use it: a user can run them).
PORTS = {
    "datasette": 8781,
    "eve": 8782,
    "smorest": 8783,
    "ninja": 8784,
    "litestar": 8785,
    "feathers": 8786,
    "fastapi": 8787,
}
COUNT = 137  # not a multiple of any page size the examples use
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
LATER = "2025-06-01T12:00:00Z"
CHANGED = (5, 50, 120)  # run 2 of an incremental test: these change, two more are added
ADDED = (COUNT + 1, COUNT + 2)
TOKEN = "real-api-token-7f3a"  # a test credential, for servers on 127.0.0.1 only
CATEGORIES = ("tools", "garden", "kitchen")  # an item's category: CATEGORIES[id % 3]


def stamp(moment: datetime) -> str:
    """``2024-01-01T05:00:00Z``: the ISO 8601 UTC form every app stores."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def item(item_id: int, updated_at: str | None = None) -> dict[str, Any]:
    """One item: id, name, category, price (cents), updated_at (an hour apart per id)."""
    return {
        "id": item_id,
        "name": f"item {item_id}",
        "category": CATEGORIES[item_id % 3],
        "price": 100 + item_id * 7,
        "updated_at": updated_at or stamp(START + timedelta(hours=item_id)),
    }


def dataset(*, changed: bool = False) -> list[dict[str, Any]]:
    """ids 1..137; ``changed``: CHANGED updated at LATER and ADDED new (run 2 of incremental)."""
    items = [item(i, LATER if changed and i in CHANGED else None) for i in range(1, COUNT + 1)]
    if changed:
        items += [item(i, LATER) for i in ADDED]
    return items


LAST = stamp(START + timedelta(hours=COUNT))  # dataset()'s latest updated_at (id 137)


def ids(count: int = COUNT) -> list[int]:
    """The ids 1..count, sorted."""
    return list(range(1, count + 1))


def python() -> str:
    """.venv-real's Python (scripts/setup): CI must have it, locally skip without."""
    path = ROOT / ".venv-real" / "bin" / "python"
    if path.exists():
        return str(path)
    if os.environ.get("CI"):
        pytest.fail(".venv-real is not installed; scripts/setup installs it")
    pytest.skip(".venv-real is not installed (run scripts/setup)")
    raise AssertionError  # unreachable: skip raises


def node() -> str:
    """Node.js with the Feathers packages (scripts/setup runs npm ci); CI must have them."""
    found = shutil.which("node")
    if found and (REAL / "feathers" / "node_modules").is_dir():
        return found
    if os.environ.get("CI"):
        pytest.fail("node or tests/real/feathers/node_modules is missing; scripts/setup")
    pytest.skip("node or the Feathers packages are missing (run scripts/setup)")
    raise AssertionError  # unreachable: skip raises


@dataclass
class RealServer:
    """One framework app as a process this test owns: started on a free port, stopped by PID."""

    name: str
    items: list[dict[str, Any]] = field(default_factory=dataset)
    token: str | None = None
    ready_path: str = "/"
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="real-api-")))

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def command(self, data: Path) -> list[str]:
        """The app's command line."""
        args = ["--port", str(self.port), "--data", str(data)]
        if self.name == "feathers":
            return [node(), str(REAL / "feathers" / "serve.js"), *args]
        return [python(), str(REAL / f"serve_{self.name}.py"), *args]

    def start(self) -> RealServer:
        """Start the app and wait (up to 60 s) until it answers HTTP; RuntimeError if not."""
        data = self.workdir / "items.json"
        data.write_text(json.dumps(self.items))
        env = clean_env(PYTHONUNBUFFERED="1")
        env.pop("REAL_API_TOKEN", None)
        if self.token:
            env["REAL_API_TOKEN"] = self.token
        log = self.workdir / "server.log"
        for _attempt in range(3):  # a free port can be taken before the app binds it
            self.port = free_port()
            with log.open("wb") as out:
                self.proc = subprocess.Popen(
                    self.command(data),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.workdir,
                    start_new_session=True,
                )
            if self._wait_ready():
                return self
            self.stop()
        raise RuntimeError(f"{self.name} did not start: {log.read_text()[-3000:]}")

    def _wait_ready(self) -> bool:
        """Poll until the app answers any HTTP status; False when it exited or 60 s passed."""
        assert self.proc is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop the app's process group: SIGTERM, then SIGKILL after 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def log(self) -> str:
        """What the app printed."""
        path = self.workdir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def serving(name: str, **options: Any) -> Iterator[RealServer]:
    """A started ``RealServer`` for the ``with`` block."""
    server = RealServer(name, **options)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


def server_fixture(name: str) -> Any:
    """A module-scoped fixture called ``name``: one ``name`` app without auth, serving
    ``dataset()`` (a test module assigns it: ``eve = server_fixture("eve")``)."""

    @pytest.fixture(scope="module", name=name)
    def started() -> Iterator[RealServer]:
        with serving(name) as server:
            yield server

    return started


def real_config(name: str, server: RealServer) -> dict[str, Any]:
    """examples/real/<name>.json pointed at ``server`` (its default port replaced)."""
    text = (REAL_EXAMPLES / f"{name}.json").read_text()
    default = f"http://127.0.0.1:{PORTS[server.name]}"
    return dict(json.loads(text.replace(default, server.url)))


# --------------------------------------------------------------------------------------------
# What a run must load, and the checks every framework's tests share


def expected(stream: str) -> list[int]:
    """The ids a stream of the examples loads from ``dataset()``: a category's when the stream is
    named after one (``tools``, ``garden``, ``kitchen``), else all (``items``, ``items_by_id``…)."""
    if stream in CATEGORIES:
        return [i for i in ids() if CATEGORIES[i % 3] == stream]
    return ids()


def check_ids(loaded: Piped, want: Mapping[str, list[int]]) -> None:
    """Tap and target exited 0, every line parsed, the target wrote a file for exactly the
    streams in ``want``, and each has exactly its ids: none missing, none twice."""
    loaded.check()
    assert sorted(loaded.files) == sorted(want)
    for stream, wanted in want.items():
        got = loaded.files[stream]
        assert len(got) == len(set(got)), f"{stream}: duplicates"
        assert sorted(got) == sorted(wanted), stream


def check_streams(loaded: Piped, streams: Sequence[str]) -> None:
    """``check_ids`` with each stream's ``expected`` ids: exactly these streams, each complete."""
    check_ids(loaded, {stream: expected(stream) for stream in streams})


def bookmark(state: Mapping[str, Any] | None, stream: str) -> Any:
    """The stream's replication_key_value in a target's STATE (it must have one)."""
    assert state is not None
    return state["bookmarks"][stream]["replication_key_value"]


def _the_line(loaded: Piped, stream: str, says: str) -> str:
    """Tap exit 1, no traceback, no secret, one line about ``stream`` that ``says`` this."""
    err = loaded.tap_stderr
    assert loaded.tap_returncode == 1, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert TOKEN not in err
    lines = [x for x in err.splitlines() if f"stream '{stream}': " in x and says in x]
    assert len(lines) == 1, err[-3000:]
    return lines[0]


def failure_line(loaded: Piped, stream: str) -> str:
    """Tap exit 1, no traceback, no secret, one line reporting ``stream``'s failed request."""
    return _the_line(loaded, stream, "failed")


def unproven_line(loaded: Piped, stream: str) -> str:
    """Tap exit 1, no traceback, no secret, one line saying ``stream`` has no proven end."""
    return _the_line(loaded, stream, "not a proven end")


def summary_line(loaded: Piped, stream: str) -> str:
    """The tap's one ``Stream 'x': N records written …`` line for ``stream``."""
    lines = [
        x
        for x in loaded.tap_stderr.splitlines()
        if f"Stream '{stream}': " in x and "records written" in x
    ]
    assert len(lines) == 1, loaded.tap_stderr[-3000:]
    return lines[0]


Request = tuple[str, dict[str, str], str]  # path, query (first value of each), status
REQUEST = re.compile(r'"GET (\S+) HTTP/1\.[01]" (\d+)')  # werkzeug's and wsgiref's log line


def requests_logged(server: RealServer, since: int) -> list[Request]:
    """Each GET the app logged after its first ``since`` log lines, but the ready probe ("/").

    For the apps whose server logs a request the werkzeug/wsgiref way (Flask-Smorest, Django
    Ninja): ``"GET /path?query HTTP/1.1" 200``.
    """
    lines = server.log().splitlines()
    for _ in range(20):  # the server logs a request just after answering it
        time.sleep(0.1)
        later = server.log().splitlines()
        if later == lines:
            break
        lines = later
    found = []
    for line in lines[since:]:
        if (match := REQUEST.search(line)) and match.group(1) != "/":
            url = urlsplit(match.group(1))
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            found.append((url.path, query, match.group(2)))
    return found


def run_logged(
    cfg: Mapping[str, Any],
    server: RealServer,
    workdir: Path,
    *,
    state: Mapping[str, Any] | None = None,
) -> tuple[Piped, list[Request]]:
    """``run_into_target`` against ``server``, and the requests ``server`` logged for it."""
    since = len(server.log().splitlines())
    loaded = run_into_target(cfg, workdir, state=state)
    return loaded, requests_logged(server, since)


# --------------------------------------------------------------------------------------------
# The two scenarios every framework's tests run


@dataclass
class Incremental:
    """The two runs of ``incremental_runs``; ``sent``: the requests of run 2 (if asked for)."""

    first: Piped
    second: Piped
    sent: list[Request]


def incremental_runs(
    config: str,
    server: RealServer,
    workdir: Path,
    streams: Sequence[str],
    *,
    bookmarks: tuple[Any, Any] = (LAST, LATER),
    log_requests: bool = False,
) -> Incremental:
    """Two runs of examples/real/<config>.json, each stream checked exactly after each.

    Run 1 on ``server`` (serving ``dataset()``): every id once, each stream's bookmark
    ``bookmarks[0]``. Run 2 with run 1's STATE on a fresh app of the same framework serving
    ``dataset(changed=True)``: exactly CHANGED + ADDED, each bookmark ``bookmarks[1]``, and the
    server did the filtering (each stream read those 5 and the record at the bookmark: 6).
    Both runs write exactly ``streams``. ``log_requests``: keep the requests run 2 sent
    (``requests_logged``).
    """
    first = run_into_target(real_config(config, server), workdir / "1")
    check_ids(first, {stream: ids() for stream in streams})
    for stream in streams:
        assert bookmark(first.state, stream) == bookmarks[0], stream
    with serving(server.name, items=dataset(changed=True)) as changed:
        cfg = real_config(config, changed)
        if log_requests:
            second, sent = run_logged(cfg, changed, workdir / "2", state=first.state)
        else:
            second, sent = run_into_target(cfg, workdir / "2", state=first.state), []
    check_ids(second, {stream: sorted(CHANGED + ADDED) for stream in streams})
    for stream in streams:
        assert bookmark(second.state, stream) == bookmarks[1], stream
        # every app filters by updated_at >= the bookmark: the changes and the record at it
        line = summary_line(second, stream)
        changes = len(CHANGED + ADDED)
        assert f" {changes} records written" in line, line
        assert f"({changes + 1} records read)" in line, line
    return Incremental(first, second, sent)


def credential_runs(
    name: str,
    config: str,
    secret: str,
    streams: Sequence[str],
    workdir: Path,
    *,
    wrong: str = "not-the-token",
) -> str:
    """The ``name`` app requiring TOKEN, run with examples/real/<config>.json twice, the
    credential in ``secrets[secret]``: TOKEN loads exactly ``streams``; ``wrong`` fails the run
    with one line for a stream refused (the first of ``streams`` the tap's stderr names), and
    neither credential is printed. That line."""
    runs = {}
    with serving(name, token=TOKEN) as server:
        for label, credential in (("good", TOKEN), ("bad", wrong)):
            cfg = real_config(config, server)
            cfg["secrets"] = {secret: credential}
            runs[label] = run_into_target(cfg, workdir / label)
    check_streams(runs["good"], streams)
    refused = runs["bad"]
    stream = next((s for s in streams if f"stream '{s}': " in refused.tap_stderr), streams[0])
    line = failure_line(refused, stream)
    assert wrong not in refused.tap_stderr
    return line


if __name__ == "__main__":  # python tests/real_servers.py FILE: the items, for running an app
    Path(sys.argv[1]).write_text(json.dumps(dataset(), indent=1))
