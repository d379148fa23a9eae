"""Throwaway PostgreSQL and Redis servers for the test session and the benchmarks.

``DOCSTREAM_TEST_PG_DSN`` / ``DOCSTREAM_TEST_REDIS_URL`` point the tests at existing servers
instead. When the ``CI`` environment variable is set, a service that cannot be started is a
failure; elsewhere the tests that need it are skipped with the reason (``testkit.prerequisites``).
``start_postgres``/``start_redis`` are generators for session fixtures; ``postgres()``/``redis()``
wrap them as context managers for code outside pytest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from testkit.ports import free_port, wait_port
from testkit.prerequisites import unavailable


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    return str(candidates[0]) if candidates else None


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
        if out.returncode != 0 or not wait_port(self.port, 30):
            raise RuntimeError(f"pg_ctl start failed: {out.stderr.decode(errors='replace')}")

    def dsn_for(self, dbname: str) -> str:
        return self.dsn.rsplit("/", 1)[0] + "/" + dbname

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:16]
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_postgres() -> Generator[PostgresServer, None, None]:
    external = os.environ.get("DOCSTREAM_TEST_PG_DSN")
    if external:
        yield PostgresServer(dsn=external)
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        unavailable("PostgreSQL is not installed (initdb/pg_ctl not found)")
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
        unavailable(f"initdb failed: {init.stderr.decode(errors='replace')[-500:]}")
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
        unavailable(str(exc))
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
        if not wait_port(self.port, 15, self.proc):
            raise RuntimeError("redis-server did not start")


def start_redis() -> Generator[RedisServer, None, None]:
    external = os.environ.get("DOCSTREAM_TEST_REDIS_URL")
    if external:
        yield RedisServer(url=external)
        return
    binary = shutil.which("redis-server")
    if not binary:
        unavailable("redis-server is not installed")
    port = free_port()
    server = RedisServer(url=f"redis://127.0.0.1:{port}/0", port=port, binary=binary)
    try:
        server.start()
    except RuntimeError as exc:
        unavailable(str(exc))
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster, stopped on the way out."""
    servers = start_postgres()
    try:
        yield next(servers)
    finally:
        servers.close()


@contextlib.contextmanager
def redis() -> Iterator[RedisServer]:
    """A throwaway Redis, stopped on the way out."""
    servers = start_redis()
    try:
        yield next(servers)
    finally:
        servers.close()
