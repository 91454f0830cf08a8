"""A throwaway PostgreSQL server for the test session, and a fresh database per test.

With TRAVELGATE_TEST_POSTGRES=<url> the tests use that server (the URL's user must be allowed
to CREATE DATABASE). Otherwise, when the server binaries are installed (Debian:
/usr/lib/postgresql/<version>/bin), a cluster is made in a temporary folder with trust
auth, listening on a free localhost port; it is stopped and removed at the end. As root,
initdb and pg_ctl run as the `postgres` system user (the server refuses to run as root).
Without either, `unavailable()` says why, in one line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ENV_URL = "TRAVELGATE_TEST_POSTGRES"
BINARIES = Path("/usr/lib/postgresql")


def _bin_folder() -> Path | None:
    found = sorted(BINARIES.glob("*/bin/initdb"), key=lambda p: p.parent.parent.name)
    return found[-1].parent if found else None


def unavailable() -> str | None:
    """Why there is no PostgreSQL for the tests, or None when there is."""
    if os.environ.get(ENV_URL):
        return None
    if _bin_folder() is None:
        return (
            f"PostgreSQL tests skipped: no {BINARIES}/<version>/bin/initdb and {ENV_URL} "
            "is not set (apt-get install postgresql, or point it at a server)"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "PostgreSQL tests skipped: running as root and runuser is missing"
    return None


class PostgresServer:
    """The session's server: `database()` gives the URL of a new, empty database."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._bin: Path | None = None
        given = os.environ.get(ENV_URL)
        if given:
            self.admin_url = given
            return
        self._bin = _bin_folder()
        assert self._bin is not None
        self._folder = Path(tempfile.mkdtemp(prefix="travelgate-pg-"))
        data = self._folder / "data"
        port = _free_port()
        as_postgres = os.geteuid() == 0
        if as_postgres:
            shutil.chown(self._folder, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(data), "--auth=trust", "--no-locale", "-E", "UTF8",
            "-U", "postgres", as_postgres=as_postgres,
        )  # fmt: skip
        settings = (
            f"-c listen_addresses=127.0.0.1 -c port={port} "
            f"-c unix_socket_directories={self._folder} -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(data), "-l", str(self._folder / "server.log"), "-w",
            "-t", "60", "-o", settings, "start", as_postgres=as_postgres,
        )  # fmt: skip
        self._as_postgres = as_postgres
        self.admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, tool: str, *args: str, as_postgres: bool) -> None:
        assert self._bin is not None
        argv = [str(self._bin / tool), *args]
        if as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout}\n{done.stderr}")

    def database(self) -> str:
        """A new empty database on the server; its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        parts = urlsplit(self.admin_url)
        return parts._replace(path=f"/{name}", query="").geturl()

    def stop(self) -> None:
        if self._folder is None or self._bin is None:
            return
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run(
                "pg_ctl", "-D", str(self._folder / "data"), "-m", "immediate", "-w", "stop",
                as_postgres=self._as_postgres,
            )  # fmt: skip
        shutil.rmtree(self._folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
