"""Third-party API frameworks as servers the tests own (issue 14).

Each framework's app is ``tests/real/serve_<name>.py`` (run by ``.venv-real``'s Python) or
``tests/real/feathers/serve.js`` (Node). Every app takes the same arguments — ``--port N --data
FILE`` — serves the items in FILE (a JSON list, see ``dataset``) the way its framework's docs
recommend, and, when the environment variable ``REAL_API_TOKEN`` is set, requires that credential
the framework's standard way. The test starts it on a free 127.0.0.1 port, waits until it answers,
and stops it by PID (the whole process group).

The example configs (``examples/real/<name>_<style>.json``) use the app's default port
(``PORTS``); ``real_config`` points one at the running server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cli import EXAMPLES, ROOT, clean_env, tool
from pg_server import free_port
from promise_server import Piped, write_inputs

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
}
COUNT = 137  # not a multiple of any page size the examples use
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
LATER = "2025-06-01T12:00:00Z"
CHANGED = (5, 50, 120)  # run 2 of an incremental test: these change, two more are added
ADDED = (COUNT + 1, COUNT + 2)
TOKEN = "real-api-token-7f3a"  # a test credential, for servers on 127.0.0.1 only


def stamp(moment: datetime) -> str:
    """``2024-01-01T05:00:00Z``: the ISO 8601 UTC form every app stores."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def item(item_id: int, updated_at: str | None = None) -> dict[str, Any]:
    """One item: id, name, category, price (cents), updated_at (an hour apart per id)."""
    return {
        "id": item_id,
        "name": f"item {item_id}",
        "category": ["tools", "garden", "kitchen"][item_id % 3],
        "price": 100 + item_id * 7,
        "updated_at": updated_at or stamp(START + timedelta(hours=item_id)),
    }


def dataset(*, changed: bool = False) -> list[dict[str, Any]]:
    """ids 1..137; ``changed``: CHANGED updated at LATER and ADDED new (run 2 of incremental)."""
    items = [item(i, LATER if changed and i in CHANGED else None) for i in range(1, COUNT + 1)]
    if changed:
        items += [item(i, LATER) for i in ADDED]
    return items


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


def real_config(name: str, server: RealServer) -> dict[str, Any]:
    """examples/real/<name>.json pointed at ``server`` (its default port replaced)."""
    text = (REAL_EXAMPLES / f"{name}.json").read_text()
    default = f"http://127.0.0.1:{PORTS[server.name]}"
    return dict(json.loads(text.replace(default, server.url)))


@dataclass
class Loaded(Piped):
    """A tap | target-jsonl run: as ``Piped``, plus the target's last STATE."""

    state: dict[str, Any] | None = None

    def check(self) -> None:
        """Both exited 0 and every line target-jsonl wrote parsed."""
        assert self.tap_returncode == 0, self.tap_stderr[-3000:]
        assert self.target_returncode == 0, self.target_stderr[-3000:]
        assert self.unparseable == 0


def into_jsonl(
    cfg: Mapping[str, Any],
    workdir: Path,
    *,
    state: Mapping[str, Any] | None = None,
    timeout: float = 180.0,
) -> Loaded:
    """``tap-restgeneric --config F [--state S] | target-jsonl -c T`` over an OS pipe, defaults.

    The state is what target-jsonl emitted last (what Meltano would store for run 2).
    """
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
    return Loaded(
        tap.returncode,
        target.returncode,
        tap_err.read_text(errors="replace"),
        target_err.read_text(errors="replace"),
        files,
        unparseable,
        state=json.loads(states[-1]) if states else None,
    )


def failure_line(loaded: Loaded, stream: str) -> str:
    """Tap exit 1, no traceback, no secret, one line reporting ``stream``'s failed request."""
    err = loaded.tap_stderr
    assert loaded.tap_returncode == 1, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert TOKEN not in err
    lines = [x for x in err.splitlines() if f"stream '{stream}': " in x and "failed" in x]
    assert len(lines) == 1, err[-3000:]
    return lines[0]


if __name__ == "__main__":  # python tests/real_servers.py FILE: the items, for running an app
    Path(sys.argv[1]).write_text(json.dumps(dataset(), indent=1))
