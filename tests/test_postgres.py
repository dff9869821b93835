"""The tap piped into MeltanoLabs target-postgres, loading a real PostgreSQL server (issue 14).

One throwaway server for the session (tests/pg_server.py). Each load is ``tap-restgeneric |
tee messages.jsonl | target-postgres`` over OS pipes, with the target's default settings (only
where to connect and which schema); the copy tee keeps is what the tap wrote, to compare with
the tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli import EXAMPLES, Run, clean_env, example, meltano, meltano_env, parse_messages, tool
from pg_server import PostgresServer

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.data import records

ALL_EXAMPLES = sorted(p.stem for p in EXAMPLES.glob("*.json"))
LATER = "2025-06-01T12:00:00Z"
# Run 2 of each incremental example: records the API changes (and adds) after run 1.
CHANGES: dict[str, dict[str, Any]] = {
    "seed_000_incremental": {"touch": ("s000_contacts", [3, 17]), "add": None},
    "seed_003_incremental": {
        "touch": ("s003_customers", [7, 42, 99]),
        "add": ("s003_customers", {"id": 131, "name": "new", "updated_at": LATER}),
    },
}
TABLE = {"seed_000_incremental": "crm_contacts", "seed_003_incremental": "customers"}
# target-postgres 0.8 types date-time as TIMESTAMP (without time zone): the value stored is the
# time in the loading session's TimeZone (see test_date_times_are_stored_in_the_session_time_zone).
TIMESTAMP = "timestamp without time zone"
STATE_ID = "dev:tap-restgeneric-to-target-postgres"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session; skipped without one, except under CI (fails)."""
    server = PostgresServer()
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        server.stop()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL could not be started (scripts/setup installs it): {exc}")
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def target_postgres() -> str:
    """The target-postgres executable (.venv-postgres, made by scripts/setup)."""
    return tool("target-postgres", "TARGET_POSTGRES", ".venv-postgres")


@dataclass
class Load:
    """One tap | target-postgres run: what the tap wrote, the target's last STATE."""

    tap: Run
    target_returncode: int
    target_stderr: str
    state: dict[str, Any] | None

    def check(self) -> None:
        assert self.tap.returncode == 0, self.tap.stderr[-2000:]
        assert self.target_returncode == 0, self.target_stderr[-3000:]


def load(
    target: str,
    config: dict[str, Any],
    target_config: dict[str, Any],
    tmp_path: Path,
    state: dict[str, Any] | None = None,
    target_env: dict[str, str] | None = None,
) -> Load:
    """``tap-restgeneric --config c [--state s] | tee messages.jsonl | target-postgres``."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "tap.json").write_text(json.dumps(config))
    (tmp_path / "target.json").write_text(json.dumps(target_config))
    command = ["tap-restgeneric", "--config", str(tmp_path / "tap.json")]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        command += ["--state", str(tmp_path / "state.json")]
    env = clean_env(PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    messages = tmp_path / "messages.jsonl"
    with (tmp_path / "tap.stderr").open("w+") as tap_err:
        tap = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=tap_err, env=env)
        tee = subprocess.Popen(["tee", str(messages)], stdin=tap.stdout, stdout=subprocess.PIPE)
        assert tap.stdout is not None and tee.stdout is not None
        tap.stdout.close()  # the pipe now belongs to tee
        done = subprocess.run(
            [target, "--config", str(tmp_path / "target.json")],
            check=False,
            stdin=tee.stdout,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **(target_env or {})},
        )
        tee.stdout.close()
        tap_code = tap.wait(timeout=120)
        tee.wait(timeout=30)
        tap_err.seek(0)
        run = parse_messages(Run(tap_code, messages.read_text(), tap_err.read()))
    states = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return Load(run, done.returncode, done.stderr, states[-1] if states else None)


def expected_type(prop: dict[str, Any]) -> str | None:
    """The Postgres column type a user expects for a JSON schema property (None: not checked)."""
    kinds = prop.get("type", [])
    kinds = {kinds} if isinstance(kinds, str) else set(kinds)
    kinds.discard("null")
    if kinds == {"integer"}:
        return "bigint"
    if kinds == {"string"} and prop.get("format") == "date-time":
        return TIMESTAMP
    if kinds == {"object"}:
        return "jsonb"
    if kinds == {"array"}:  # a list of strings is text[] (ARRAY), of anything else jsonb
        items = prop.get("items", {}).get("type", [])
        return "ARRAY" if items in ("string", ["string"]) else "jsonb"
    if kinds == {"boolean"}:
        return "boolean"
    if kinds == {"number"}:
        return "numeric"
    if kinds == {"string"} and "format" not in prop:
        return "text"
    return None


def column_types(server: PostgresServer, schema: str, streams: list[str]) -> dict[str, Any]:
    """Every table's column types."""
    return {stream: server.columns(schema, stream) for stream in streams}


def check_tables(server: PostgresServer, schema: str, run: Run) -> dict[str, Any]:
    """A table per stream, rows = distinct primary keys written, each column typed as expected."""
    assert server.tables(schema) == sorted(run.schemas)
    for stream, schema_message in run.schemas.items():
        written = run.records.get(stream, [])
        assert server.count(schema, stream) == len(written), stream
        assert len({json.dumps(r.get("id")) for r in written}) == len(written), stream
        columns = server.columns(schema, stream)
        for name, prop in schema_message["properties"].items():
            assert name in columns, (stream, name, sorted(columns))
            want = expected_type(prop)
            if want is not None:
                assert columns[name] == want, (stream, name, prop)
    return column_types(server, schema, sorted(run.schemas))


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_example_loads_and_reloads_by_primary_key(
    name: str,
    demo: DemoServer,
    postgres: PostgresServer,
    target_postgres: str,
    tmp_path: Path,
) -> None:
    """Run 1: rows = records per table, typed as a user expects; run 2 (full again) upserts by
    primary key: the same row counts and column types."""
    schema = f"ex_{name}"
    config = example(name, demo.url)
    first = load(target_postgres, config, postgres.target_config(schema), tmp_path / "1")
    first.check()
    assert first.tap.records, "the example wrote no record"
    types = check_tables(postgres, schema, first.tap)
    assert first.state is not None and "bookmarks" in first.state

    second = load(target_postgres, config, postgres.target_config(schema), tmp_path / "2")
    second.check()
    for stream in first.tap.schemas:
        assert len(second.tap.records.get(stream, [])) == len(first.tap.records.get(stream, []))
    assert check_tables(postgres, schema, second.tap) == types


def touched(server: DemoServer, changes: dict[str, Any]) -> None:
    """Change some records (and add one) on a fresh demo API, as happens between two runs."""
    dataset, ids = changes["touch"]
    server.touch(dataset, ids, LATER)
    if changes["add"]:
        server.add(*changes["add"])


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_incremental_run_2_with_state_and_no_catalog_keeps_column_types(
    name: str, postgres: PostgresServer, target_postgres: str, tmp_path: Path
) -> None:
    """Run 2 gets only --config and --state (the target's last STATE of run 1), no catalog: it
    loads the changed rows without altering any column (once: "could not convert column id
    from BIGINT to TEXT")."""
    schema = f"inc_{name}"
    with DemoServer(port=0, faults=False) as server:
        first = load(
            target_postgres, example(name, server.url), postgres.target_config(schema), tmp_path
        )
    first.check()
    types = check_tables(postgres, schema, first.tap)
    table = TABLE[name]
    rows = postgres.count(schema, table)
    assert first.state is not None and first.state["bookmarks"][table]

    changes = CHANGES[name]
    with DemoServer(port=0, faults=False) as server:
        touched(server, changes)
        second = load(
            target_postgres,
            example(name, server.url),
            postgres.target_config(schema),
            tmp_path / "2",
            state=first.state,
        )
    second.check()
    added = 1 if changes["add"] else 0
    changed = sorted(changes["touch"][1] + ([changes["add"][1]["id"]] if added else []))
    assert sorted(second.tap.ids(table)) == changed  # only what changed was extracted
    assert column_types(postgres, schema, sorted(first.tap.schemas)) == types
    assert postgres.count(schema, table) == rows + added
    later = postgres.sql(f"SELECT count(*) FROM {schema}.{table} WHERE updated_at = '{LATER}'")
    assert int(later[0][0]) == len(changed)


def test_date_times_are_stored_in_the_session_time_zone(
    postgres: PostgresServer, target_postgres: str, tmp_path: Path
) -> None:
    """The column has no time zone: with the session in UTC (the test server's default, or
    PGTZ=UTC for the target) it holds the API's UTC times; in New York it holds New York's wall
    clock (the README says to load with TimeZone UTC)."""
    customers = {r["id"]: r["updated_at"] for r in records("s003_customers")}
    stored: dict[str, dict[int, str]] = {}
    for zone in ("UTC", "America/New_York"):
        schema = "tz_" + zone.split("/")[-1].lower()
        with DemoServer(port=0, faults=False) as server:
            done = load(
                target_postgres,
                example("seed_003_incremental", server.url),
                postgres.target_config(schema),
                tmp_path / schema,
                target_env={"PGTZ": zone},
            )
        done.check()
        rows = postgres.sql(
            'SELECT id, to_char(updated_at, \'YYYY-MM-DD"T"HH24:MI:SS"Z"\')'
            f" FROM {schema}.customers"
        )
        stored[zone] = {int(i): at for i, at in rows}
    assert stored["UTC"] == customers
    first = customers[1]  # 2024-01-02T01:30:00Z: 20:30 the day before in New York (EST)
    assert (first, stored["America/New_York"][1]) == (
        "2024-01-02T01:30:00Z",
        "2024-01-01T20:30:00Z",
    )


def meltano_into_postgres(
    project: Path, config: dict[str, Any], server: PostgresServer, schema: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``meltano <args>`` with the extractor's config and target-postgres's settings as env vars."""
    env = meltano_env(config)
    for key, value in server.target_config(schema).items():
        env[f"TARGET_POSTGRES_{key.upper()}"] = str(value)
    return meltano(project, env, *args, timeout=300)


def test_meltano_run_into_postgres_with_its_state_store(
    meltano_project: Path, postgres: PostgresServer, tmp_path: Path
) -> None:
    """meltano run tap-restgeneric target-postgres twice: run 2 resumes from Meltano's state
    store, loads only the changes, upserts them and keeps every column type."""
    loaders = yaml.safe_load((meltano_project / "meltano.yml").read_text())["plugins"]["loaders"]
    assert "target-postgres" in [loader["name"] for loader in loaders]
    schema, name, table = "meltano_seed_003", "seed_003_incremental", "customers"
    with DemoServer(port=0, faults=False) as server:
        config = example(name, server.url)
        clear = meltano_into_postgres(
            meltano_project, config, postgres, schema, "state", "clear", "--force", STATE_ID
        )
        assert clear.returncode == 0, clear.stderr[-3000:]
        first = meltano_into_postgres(
            meltano_project, config, postgres, schema, "run", "tap-restgeneric", "target-postgres"
        )
    assert first.returncode == 0, first.stderr[-3000:]
    assert postgres.tables(schema) == ["account", "custom_fields", "customers"]
    assert postgres.count(schema, table) == len(records("s003_customers"))
    types = column_types(postgres, schema, postgres.tables(schema))
    assert types[table]["id"] == "bigint"
    assert types[table]["updated_at"] == TIMESTAMP
    stored = meltano_into_postgres(
        meltano_project, config, postgres, schema, "state", "get", STATE_ID
    )
    assert stored.returncode == 0, stored.stderr[-3000:]
    bookmark = json.loads(stored.stdout)["singer_state"]["bookmarks"][table]
    newest = max(r["updated_at"] for r in records("s003_customers"))
    assert bookmark["replication_key_value"] == newest

    with DemoServer(port=0, faults=False) as server:
        touched(server, CHANGES[name])
        second = meltano_into_postgres(
            meltano_project,
            example(name, server.url),
            postgres,
            schema,
            "run",
            "tap-restgeneric",
            "target-postgres",
        )
        customer_requests = [r for r in server.requests if r["path"] == "/s003/v1/customers"]
    assert second.returncode == 0, second.stderr[-3000:]
    assert customer_requests, "run 2 did not ask for customers"
    sent = customer_requests[-1]["query"]["updated_at_gte"][0]
    assert sent != customer_requests[0]["query"]["updated_at_gte"][0]  # the stored bookmark
    assert postgres.count(schema, table) == len(records("s003_customers")) + 1
    assert column_types(postgres, schema, postgres.tables(schema)) == types
    later = postgres.sql(f"SELECT count(*) FROM {schema}.{table} WHERE updated_at = '{LATER}'")
    assert int(later[0][0]) == 4
    stored = meltano_into_postgres(
        meltano_project, config, postgres, schema, "state", "get", STATE_ID
    )
    bookmark = json.loads(stored.stdout)["singer_state"]["bookmarks"][table]
    assert bookmark["replication_key_value"] == LATER
