"""Run the tap's CLI (and target-jsonl, Meltano) as a user would, and read what they wrote."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DEMO_BASE = "http://127.0.0.1:8765"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without TAP_RESTGENERIC_* settings that would leak into a run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_RESTGENERIC_")}
    env.update(extra)
    return env


def example(name: str, base_url: str) -> dict[str, Any]:
    """Load examples/<name>.json with the demo's base URL replaced by ``base_url``."""
    text = (EXAMPLES / f"{name}.json").read_text()
    return dict(json.loads(text.replace(DEMO_BASE, base_url)))


@dataclass
class Run:
    """What one tap run wrote: records per stream, schemas, states, stderr, exit status."""

    returncode: int
    stdout: str
    stderr: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def ids(self, stream: str) -> list[Any]:
        """The ids of a stream's records, in the order written."""
        return [r["id"] for r in self.records.get(stream, [])]


def parse_messages(run: Run) -> Run:
    """Fill records, schemas and states from the run's stdout."""
    for line in run.stdout.splitlines():
        message = json.loads(line)
        kind = message["type"]
        if kind == "RECORD":
            run.records.setdefault(message["stream"], []).append(message["record"])
        elif kind == "SCHEMA":
            run.schemas[message["stream"]] = message["schema"]
        elif kind == "STATE":
            run.states.append(message["value"])
    return run


def run_tap(config: dict[str, Any], tmp_path: Path, *args: str, state: Any = None) -> Run:
    """Run ``python -m tap_restgeneric.tap --config …`` and parse its output."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    command = [sys.executable, "-m", "tap_restgeneric.tap", "--config", str(config_path), *args]
    if state is not None:
        state_path = tmp_path / "state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, env=clean_env(), timeout=120
    )
    run = Run(done.returncode, done.stdout, done.stderr)
    return parse_messages(run)


def file_limited(size: int, command: list[str]) -> list[str]:
    """``command`` run with no file it writes growing past ``size`` bytes (RLIMIT_FSIZE), as
    on a full disk; pipes are not files (set in a small exec wrapper, not a preexec_fn, which
    is unsafe in a process with threads)."""
    wrapper = (
        "import os, resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({size}, {size})); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", wrapper, *command]


def tool(name: str, env_var: str, venv: str) -> str:
    """Locate an external tool (target-jsonl, meltano); CI must have it, locally skip without."""
    path = os.environ.get(env_var) or str(ROOT / venv / "bin" / name)
    if Path(path).exists():
        return path
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; scripts/setup installs it")
    pytest.skip(f"{name} is not installed (run scripts/setup)")
    raise AssertionError  # unreachable: skip raises


def meltano_env(config: dict[str, Any]) -> dict[str, str]:
    """Environment giving the extractor its whole config (Meltano merges env objects deeply)."""
    env = clean_env(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false")
    for key in ("client", "resource_defaults", "resources", "secrets", "start_date"):
        if key in config:
            value = config[key]
            env[f"TAP_RESTGENERIC_{key.upper()}"] = (
                value if isinstance(value, str) else json.dumps(value)
            )
    return env


def meltano(
    project: Path, env: dict[str, str], *argv: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``meltano *argv`` in ``project`` (the Meltano of .venv-meltano), its output captured."""
    return subprocess.run(
        [tool("meltano", "MELTANO", ".venv-meltano"), *argv],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def meltano_run(
    project: Path, config: dict[str, Any], *args: str
) -> subprocess.CompletedProcess[str]:
    """``meltano run [args] tap-restgeneric target-jsonl`` with a fresh output/ folder."""
    out = project / "output"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    argv = ("run", *args, "tap-restgeneric", "target-jsonl")
    return meltano(project, meltano_env(config), *argv, timeout=300)


def jsonl_ids(path: Path) -> list[Any]:
    """The ``id`` of each line of a target-jsonl output file."""
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def kill_after_states(config: dict[str, Any], tmp_path: Path, states: int) -> Run:
    """Start the tap unbuffered, SIGKILL it after ``states`` STATE messages; what it wrote."""
    return signal_after(config, tmp_path, states, "STATE", signal.SIGKILL)


def signal_after(
    config: dict[str, Any], tmp_path: Path, count: int, kind: str, sig: signal.Signals
) -> Run:
    """Start the tap unbuffered, send ``sig`` after ``count`` messages of ``kind``; its output.

    After SIGKILL that is what was read up to then; after another signal the tap's output up to
    its exit (its exit status and how long it took after the signal: ``Run.seconds``).
    """
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    log = tmp_path / "signalled.stderr"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "tap_restgeneric.tap", "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=clean_env(),
        )
        assert proc.stdout is not None
        lines, seen = [], 0
        for line in proc.stdout:
            lines.append(line)
            seen += json.loads(line)["type"] == kind
            if seen >= count:
                proc.send_signal(sig)
                break
        sent = time.monotonic()
        if sig != signal.SIGKILL:
            lines.extend(proc.stdout)
        proc.wait(timeout=30)
        took = time.monotonic() - sent
    return parse_messages(Run(proc.returncode, "".join(lines), log.read_text(), seconds=took))


def secret_variables(name: str) -> str:
    """The environment variables a missing secret's error line lists, in the order tried."""
    upper = name.upper()
    prefixes = ["", "SOURCES__REST_API__CREDENTIALS__", "SOURCES__REST_API__"]
    prefixes += ["SOURCES__CREDENTIALS__", "SOURCES__", "CREDENTIALS__"]
    prefixes += ["SOURCES__<SOURCE>__", "SOURCES__<SOURCE>__CREDENTIALS__"]
    return ", ".join(prefix + upper for prefix in prefixes)
