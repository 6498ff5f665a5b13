"""A throwaway PostgreSQL server: initdb + pg_ctl in a temporary directory on a free port.

Used by the test suite (every store test runs on it) and the benchmarks. PostgreSQL refuses to
run as root, so when we are root the server runs as the `postgres` system user, which the Debian
package creates.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL 15 server binaries (initdb, pg_ctl) not found; install them with "
    "`sudo apt-get install -y postgresql-15` or set FLOWDESK_PG_BIN to their folder"
)


def find_pg_bin() -> Path | None:
    candidates = [os.environ.get("FLOWDESK_PG_BIN"), "/usr/lib/postgresql/15/bin"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """Start with `start()`, connect with `url(database)`, stop with `stop()` (removes files)."""

    def __init__(self, *, fsync: bool = False, bin_dir: Path | None = None, extra: str = ""):
        found = bin_dir or find_pg_bin()
        if found is None:
            raise RuntimeError(INSTALL_HINT)
        self.bin_dir = found
        self.fsync = fsync
        self.extra = extra  # more server options, e.g. "-c commit_delay=1000"
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="flowdesk-pg-"))
        self.data = self.root / "data"
        self.user = "flowdesk"
        self._demote: Callable[[], None] | None = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "running as root needs the `postgres` system user (created by the "
                    "postgresql-15 package) to start a test server"
                ) from None
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            uid, gid = pw.pw_uid, pw.pw_gid

            def demote() -> None:
                os.setgid(gid)
                os.setuid(uid)

            self._demote = demote

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            preexec_fn=self._demote,  # demotion to the postgres user: initdb refuses root
            capture_output=True,
            text=True,
            cwd=self.root,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip() or result.stdout}")

    def start(self) -> PostgresServer:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=100 {self.extra}"
        )
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
