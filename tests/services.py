"""Throwaway PostgreSQL and Redis servers for the test session.

``DOCSTREAM_TEST_PG_DSN`` / ``DOCSTREAM_TEST_REDIS_URL`` point the tests at existing servers
instead. When the ``CI`` environment variable is set, a service that cannot be started is a
failure; elsewhere the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _unavailable(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI is set: a missing service is a failure)", pytrace=False)
    pytest.skip(what)


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    return str(candidates[0]) if candidates else None


def _wait_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        time.sleep(0.05)
    return False


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in a temp directory (or an external one)."""

    dsn: str  # the maintenance database (``postgres``)
    port: int | None = None
    datadir: Path | None = None
    pg_ctl: str | None = None
    as_user: str | None = None

    def _ctl(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        assert self.pg_ctl and self.datadir
        cmd = [self.pg_ctl, "-D", str(self.datadir), *args]
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, timeout=60, check=False)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (tests use this to simulate a database outage)."""
        self._ctl("stop", "-m", mode, "-w")

    def start(self) -> None:
        assert self.port is not None
        out = self._ctl("start", "-w", "-l", str(self.datadir) + ".log")
        if out.returncode != 0 or not _wait_port(self.port, 30):
            raise RuntimeError(f"pg_ctl start failed: {out.stderr.decode(errors='replace')}")

    def dsn_for(self, dbname: str) -> str:
        return self.dsn.rsplit("/", 1)[0] + "/" + dbname

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.encode())  # type: ignore[call-overload]

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:16]
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_postgres() -> Iterator[PostgresServer]:
    external = os.environ.get("DOCSTREAM_TEST_PG_DSN")
    if external:
        yield PostgresServer(dsn=external)
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        _unavailable("PostgreSQL is not installed (initdb/pg_ctl not found)")
        return
    as_user = "postgres" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="docstream-pg-"))
    datadir, sockdir = base / "data", base / "sock"
    sockdir.mkdir()
    if as_user:
        shutil.chown(base, as_user)
        shutil.chown(sockdir, as_user)
    base.chmod(0o700)
    prefix = ["runuser", "-u", as_user, "--"] if as_user else []
    port = free_port()
    init = subprocess.run(
        [
            *prefix,
            initdb,
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        _unavailable(f"initdb failed: {init.stderr.decode(errors='replace')[-500:]}")
        return
    with (datadir / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{sockdir}'\nfsync = off\n"
            "full_page_writes = off\nmax_connections = 300\nshared_buffers = 64MB\n"
        )
    server = PostgresServer(
        dsn=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        port=port,
        datadir=datadir,
        pg_ctl=pg_ctl,
        as_user=as_user,
    )
    try:
        server.start()
    except RuntimeError as exc:
        shutil.rmtree(base, ignore_errors=True)
        _unavailable(str(exc))
        return
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class RedisServer:
    url: str
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    binary: str | None = None

    def stop(self) -> None:
        """Stop the server (tests use this to simulate a Redis restart)."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)

    def start(self) -> None:
        assert self.binary and self.port
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not _wait_port(self.port, 15, self.proc):
            raise RuntimeError("redis-server did not start")


def start_redis() -> Iterator[RedisServer]:
    external = os.environ.get("DOCSTREAM_TEST_REDIS_URL")
    if external:
        yield RedisServer(url=external)
        return
    binary = shutil.which("redis-server")
    if not binary:
        _unavailable("redis-server is not installed")
        return
    port = free_port()
    server = RedisServer(url=f"redis://127.0.0.1:{port}/0", port=port, binary=binary)
    try:
        server.start()
    except RuntimeError as exc:
        _unavailable(str(exc))
        return
    try:
        yield server
    finally:
        server.stop()
