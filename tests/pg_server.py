"""A throwaway PostgreSQL server for the tests: initdb into a temporary directory, pg_ctl start
on a free loopback port, stopped (and deleted) at the end. Run as an unprivileged user when the
tests run as root (initdb and postgres refuse root)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

DATABASE = "warehouse"
USER = "loader"
PASSWORD = "loader-pw"  # a test server on 127.0.0.1 only


def bindir() -> Path | None:
    """The directory of initdb/pg_ctl/postgres/psql: PG_BINDIR, Debian's newest, or PATH."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parts[4]) if p.parts[4].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    which = shutil.which("pg_ctl")
    return Path(which).resolve().parent if which else None


def free_port() -> int:
    """A port nothing listens on at the moment (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster this process owns; ``start()`` raises RuntimeError when it cannot."""

    def __init__(self) -> None:
        self.bin = bindir()
        self.port = 0
        self.dir = Path(tempfile.mkdtemp(prefix="restgeneric-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.as_user: str | None = None
        self.pid: int | None = None

    def _server_cmd(self, *args: str, timeout: float = 60) -> None:
        """Run a server-side binary (initdb, pg_ctl) as the unprivileged owner of the cluster."""
        assert self.bin is not None
        done = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=False,
            capture_output=True,
            text=True,
            cwd=self.dir,
            user=self.as_user,
            timeout=timeout,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}{log}")

    def start(self) -> PostgresServer:
        """initdb, start on a free port, create the loader's user and database."""
        if self.bin is None or not (self.bin / "initdb").exists():
            raise RuntimeError("PostgreSQL is not installed (scripts/setup installs it)")
        if os.geteuid() == 0:
            self.as_user = os.environ.get("PG_RUN_AS", "postgres")
            try:
                owner = pwd.getpwnam(self.as_user)
            except KeyError as exc:
                raise RuntimeError(f"no user {self.as_user!r} to run PostgreSQL as") from exc
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self._server_cmd(
            "initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {{port}} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC"
        )
        for attempt in range(3):  # a free port can be taken before the server binds it
            self.port = free_port()
            try:
                self._server_cmd(
                    "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data),
                    "-l", str(self.log), "-o", options.format(port=self.port),
                    timeout=90,
                )  # fmt: skip
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        self.sql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'", database="postgres")
        self.sql(f"CREATE DATABASE {DATABASE} OWNER {USER}", database="postgres")
        return self

    def stop(self) -> None:
        """pg_ctl stop (fast); SIGKILL the postmaster by PID if that fails; delete the cluster."""
        if self.pid is not None:
            try:
                self._server_cmd("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.data))
            except (RuntimeError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                time.sleep(0.5)
            self.pid = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def target_config(self, schema: str) -> dict[str, Any]:
        """target-postgres settings for this server (everything else left at its default)."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": USER,
            "password": PASSWORD,
            "database": DATABASE,
            "default_target_schema": schema,
        }

    def sql(self, query: str, database: str = DATABASE) -> list[list[str]]:
        """Rows of a query run by psql as the superuser over the unix socket, as strings."""
        assert self.bin is not None
        done = subprocess.run(
            [
                str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t",
                "-h", str(self.dir), "-p", str(self.port), "-U", "postgres", "-d", database,
                "-c", query,
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr}")
        return [line.split("\t") for line in done.stdout.splitlines()]

    def tables(self, schema: str) -> list[str]:
        """The tables of a schema, sorted."""
        rows = self.sql(
            "SELECT table_name FROM information_schema.tables"
            f" WHERE table_schema = '{schema}' ORDER BY table_name"
        )
        return [r[0] for r in rows]

    def count(self, schema: str, table: str) -> int:
        """SELECT count(*) of a table."""
        return int(self.sql(f'SELECT count(*) FROM "{schema}"."{table}"')[0][0])

    def columns(self, schema: str, table: str) -> dict[str, str]:
        """Column name -> data_type from information_schema.columns."""
        rows = self.sql(
            "SELECT column_name, data_type FROM information_schema.columns"
            f" WHERE table_schema = '{schema}' AND table_name = '{table}'"
        )
        return {row[0]: row[1] for row in rows}
