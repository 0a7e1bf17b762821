"""A real PostgreSQL server for the tests: initdb and pg_ctl into a temporary directory, on a free
loopback port, started once per test session and stopped at its end.

Debian's ``postgresql`` package puts the binaries in /usr/lib/postgresql/<version>/bin. The server
refuses to run as root, so as root the cluster belongs to the ``postgres`` user and its commands run
through ``runuser``. Without PostgreSQL the tests that need it skip, except under CI, where they fail
(``make test`` installs the package when it is missing and the user is root).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

_counter = itertools.count()


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb and shutil.which("pg_ctl") else None


def need_postgres(what: str) -> None:
    """Skip (or fail under CI) with a message saying how to install PostgreSQL."""
    message = f"{what}; install it with 'apt-get install -y postgresql' (make test does this as root)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running cluster; :meth:`new_database` gives each test a database of its own."""

    bin_dir: Path
    data_dir: Path
    port: int
    as_user: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database; returns its URL."""
        import psycopg

        name = f"matcher_test_{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args], capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        self._ctl("stop", "-m", "fast", "-w")
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_server() -> PostgresServer:
    """initdb into a fresh temporary directory and start the server on a free loopback port."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        need_postgres("PostgreSQL (initdb, pg_ctl) is not installed")
    try:
        import psycopg  # noqa: F401
    except ModuleNotFoundError:
        need_postgres("psycopg is not installed (pip install -e '.[test]' installs it)")
    root = Path(tempfile.mkdtemp(prefix="matcher-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        # The server refuses to run as root: the cluster belongs to the postgres user.
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    init = subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync"],
        capture_output=True, text=True, timeout=300,
    )
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {init.stderr or init.stdout}")
    port = _free_port()
    server = PostgresServer(bin_dir=bin_dir, data_dir=data, port=port, as_user=as_user)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    started = server._ctl("start", "-w", "-t", "60", "-l", str(root / "server.log"), "-o", options)
    if started.returncode != 0:
        log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {started.stderr or started.stdout}\n{log[-2000:]}")
    return server
