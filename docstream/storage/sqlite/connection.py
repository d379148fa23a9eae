"""The SQLite store's threads and connections (stdlib ``sqlite3``, WAL mode).

Writes go through one dedicated writer thread with its own connection, so they never block the
event loop and never contend with each other inside the process; reads use a small pool of reader
threads, each with its own connection (WAL lets readers run beside the writer).
``synchronous=FULL`` by default: a commit is on disk before ``append_ops`` returns, which is what
an ``ack`` promises. ``sqlite3.Error`` becomes ``StorageError`` here, in ``_run``, and nowhere
else.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from docstream.errors import StorageError
from docstream.storage import migrate
from docstream.storage.base import DocumentStore
from docstream.storage.sqlite.rows import now_iso

T = TypeVar("T")

#: How long a connection waits for another process to release the database when switching it to
#: WAL (the same as the busy timeout of every statement).
WAL_TIMEOUT = 30.0


def _enable_wal(conn: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, waiting while another process holds the database.

    Switching the journal mode needs the database to itself, and SQLite answers "database is
    locked" at once instead of waiting through the busy timeout. Several processes opening one new
    database together (``docstream serve --workers 2``) meet exactly that: one is creating the
    schema while the others switch to WAL. So wait here, as for any other lock.
    """
    deadline = time.monotonic() + WAL_TIMEOUT
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


class SqliteStoreBase(DocumentStore):
    """Connections, threads, migrations: what every concern of the SQLite store runs on."""

    dialect = "sqlite"

    def __init__(self, path: Path, *, synchronous: str = "FULL", readers: int = 4) -> None:
        self.path = path
        self._synchronous = synchronous
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    # --- plumbing --------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        _enable_wal(conn)
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._connections.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    async def _run(self, executor: ThreadPoolExecutor, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StorageError("the database is closed")

        def call() -> T:
            conn = self._conn()
            try:
                return fn(conn)
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StorageError(f"database error: {type(exc).__name__}") from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        return await asyncio.get_running_loop().run_in_executor(executor, call)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._writer, fn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._readers, fn)

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Created 0600 before SQLite opens it: SQLite gives -wal and -shm the same mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StorageError(f"cannot create the database {self.path}: {exc}") from exc
        await self._write(lambda conn: None)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._writer.shutdown, True)
        await loop.run_in_executor(None, self._readers.shutdown, True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    async def ping(self) -> None:
        await self._read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def pending_migrations(self) -> list[str]:
        def applied(conn: sqlite3.Connection) -> dict[int, str]:
            try:
                return dict(conn.execute("SELECT version, checksum FROM schema_migrations"))
            except sqlite3.OperationalError:  # no table: nothing applied yet
                return {}

        available = migrate.discover(self.dialect)
        return [m.name for m in migrate.pending(available, await self._read(applied))]

    async def migrate(self) -> list[str]:
        available = migrate.discover(self.dialect)

        def applied(conn: sqlite3.Connection) -> dict[int, str]:
            return dict(conn.execute("SELECT version, checksum FROM schema_migrations"))

        def run(conn: sqlite3.Connection) -> list[str]:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            names = []
            for m in migrate.pending(available, applied(conn)):
                # executescript commits first, so the migration brings its own transaction. It
                # records itself before it runs: another process that applied it since the check
                # above (workers starting together) makes the INSERT fail before any DDL runs.
                try:
                    conn.executescript(
                        "BEGIN IMMEDIATE;\nINSERT INTO schema_migrations VALUES ("
                        f"{m.version}, '{m.name}', '{m.checksum}', '{now_iso()}');\n"
                        + m.sql
                        + "\n;COMMIT;"
                    )
                except sqlite3.IntegrityError:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    if m.version not in applied(conn):
                        raise
                    migrate.pending(available, applied(conn))  # the other one's is the same file
                    continue
                names.append(m.name)
            return names

        return await self._write(run)
