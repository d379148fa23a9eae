"""The two sides of a copy: a consistent reader of a store and an all-or-nothing writer.

**Reading** happens in one snapshot while the server may go on writing: PostgreSQL in one
``REPEATABLE READ READ ONLY`` transaction, SQLite in one read transaction (WAL gives readers a
snapshot; the first read fixes it). Rows come in primary-key order, in batches.

**Writing** is all or nothing, so an interrupted copy (Ctrl+C, a crash, an error) leaves the target
as it was. PostgreSQL: migrations first, then every row in one transaction (``--replace`` empties
the tables inside that same transaction). SQLite: a new file beside the target, named
``<name>.partial-<pid>``, migrated and filled, made durable, then renamed over the target; until
the rename the target is untouched, and what an interruption leaves behind is a ``.partial`` file
that is removed (or, after a hard kill, obviously not a database to use).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from docstream.datatools import schema
from docstream.datatools.endpoints import Endpoint, PostgresUrl, SqliteFile
from docstream.datatools.schema import Table, quote
from docstream.errors import ConfigurationError, StorageError

#: Rows per batch read and written.
BATCH = 2000
#: PostgreSQL types read as text (psycopg would parse them into Python objects).
_AS_TEXT = frozenset({"json", "jsonb", "interval", "xml"})


class Source:
    """A store read in one snapshot."""

    dialect: str
    tables: list[Table]
    migrations: dict[int, str]

    def count(self, table: Table) -> int:
        raise NotImplementedError

    def rows(self, table: Table, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SqliteSource(Source):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ConfigurationError(f"there is no SQLite database at {path}")
        uri = "file:" + str(path.resolve()).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
        try:
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.execute("BEGIN")  # deferred: the first read below fixes the snapshot
            self.migrations = schema.sqlite_migrations(self._conn)
            self.tables = schema.sqlite_tables(self._conn)
        except sqlite3.DatabaseError as exc:
            if hasattr(self, "_conn"):
                self._conn.close()
            raise ConfigurationError(f"{path} is not a readable SQLite database: {exc}") from exc

    def count(self, table: Table) -> int:
        return int(self._conn.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0])

    def rows(self, table: Table, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        order = f" ORDER BY {', '.join(map(quote, table.key))}" if table.key else ""
        cur = self._conn.execute(
            f"SELECT {', '.join(map(quote, columns))} FROM {quote(table.name)}{order}"
        )
        while batch := cur.fetchmany(BATCH):
            yield batch

    def metadata(self) -> dict[str, str]:
        """The backup metadata of a backup file (empty for a plain store)."""
        try:
            rows = self._conn.execute("SELECT key, value FROM docstream_backup").fetchall()
        except sqlite3.OperationalError:
            return {}
        return {str(k): str(v) for k, v in rows}

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("ROLLBACK")
        self._conn.close()


def _pg_connect(dsn: str) -> Any:
    import psycopg
    from psycopg.types.string import TextLoader

    try:
        conn = psycopg.connect(dsn, autocommit=False)
    except psycopg.Error as exc:
        raise StorageError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
    conn.adapters.register_loader("uuid", TextLoader)  # ids are strings everywhere in DocStream
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()
    return conn


class PostgresSource(Source):
    dialect = "postgres"

    def __init__(self, dsn: str) -> None:
        from psycopg import IsolationLevel

        self._conn = _pg_connect(dsn)
        self._conn.isolation_level = IsolationLevel.REPEATABLE_READ
        self._conn.read_only = True
        # Every statement from here on runs in the one snapshot transaction.
        self.migrations = schema.postgres_migrations(self._conn)
        self.tables = schema.postgres_tables(self._conn)
        self._types = {t.name: {c.name: c.type for c in t.columns} for t in self.tables}
        self._cursors = 0

    def count(self, table: Table) -> int:
        return int(self._conn.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0])

    def rows(self, table: Table, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        types = self._types[table.name]
        select = ", ".join(
            quote(c) + "::text" if types.get(c) in _AS_TEXT else quote(c) for c in columns
        )
        order = f" ORDER BY {', '.join(map(quote, table.key))}" if table.key else ""
        self._cursors += 1
        with self._conn.cursor(name=f"docstream_copy_{self._cursors}") as cur:
            cur.itersize = BATCH
            cur.execute(f"SELECT {select} FROM {quote(table.name)}{order}".encode())
            while batch := cur.fetchmany(BATCH):
                yield batch

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.rollback()
        self._conn.close()


def open_source(endpoint: Endpoint) -> Source:
    if isinstance(endpoint, PostgresUrl):
        return PostgresSource(endpoint.dsn)
    return SqliteSource(endpoint.path)


# --- targets --------------------------------------------------------------------------------------


class Target:
    """A store written all or nothing: ``write`` each table, then ``finish`` (or ``abort``)."""

    dialect: str
    tables: list[Table]
    migrations: dict[int, str]
    #: Rows per table that ``--replace`` wipes (empty when the target was empty).
    wiped: dict[str, int]

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


def _migrate(store: Any) -> None:
    async def run() -> None:
        async with store:
            await store.migrate()

    asyncio.run(run())


def _refuse_non_empty(where: object, counts: dict[str, int], replace: bool) -> dict[str, int]:
    filled = {name: n for name, n in counts.items() if n}
    if filled and not replace:
        listed = ", ".join(f"{n} {name}" for name, n in filled.items())
        raise ConfigurationError(
            f"{where} is not empty ({listed}); copy only into an empty store, or pass --replace "
            "to wipe it"
        )
    return filled


def sqlite_counts(path: Path) -> dict[str, int]:
    """Rows per data table of an existing SQLite store (empty: no file or no tables)."""
    if not path.exists():
        return {}
    source = SqliteSource(path)
    try:
        return {t.name: source.count(t) for t in source.tables}
    finally:
        source.close()


class SqliteTarget(Target):
    dialect = "sqlite"

    def __init__(
        self, path: Path, *, replace: bool, metadata: dict[str, str] | None = None
    ) -> None:
        from docstream.storage.sqlite import SqliteDocumentStore

        self.path = path
        self._metadata = metadata
        self.wiped = _refuse_non_empty(SqliteFile(path), sqlite_counts(path), replace)
        self.partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
        self._conn: sqlite3.Connection | None = None
        try:
            _remove_database(self.partial)
            _migrate(SqliteDocumentStore(self.partial))
            conn = sqlite3.connect(self.partial, isolation_level=None)
            self._conn = conn
            # The file is not the target until it is complete (and is deleted if the copy fails):
            # no journal, no syncs until the end, a big page cache.
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-131072")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("BEGIN IMMEDIATE")
            self.migrations = schema.sqlite_migrations(conn)
            self.tables = schema.sqlite_tables(conn)
        except BaseException:
            self.abort()
            raise

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        assert self._conn is not None
        self._conn.executemany(
            f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            rows,
        )

    def finish(self) -> None:
        conn = self._conn
        assert conn is not None
        if self._metadata is not None:
            conn.execute(
                "CREATE TABLE docstream_backup (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            conn.executemany(
                "INSERT INTO docstream_backup VALUES (?, ?)", sorted(self._metadata.items())
            )
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise StorageError(f"the copied rows break {len(problems)} foreign key(s)")
        conn.execute("COMMIT")
        # One self-contained file: no -wal beside it (the server switches back to WAL on open).
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.close()
        self._conn = None
        _fsync(self.partial)
        if self.path.exists():
            _retire_wal(self.path)
        os.replace(self.partial, self.path)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")
        _fsync(self.path.parent)

    def abort(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        _remove_database(self.partial)


def _remove_database(path: Path) -> None:
    for name in (str(path), f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _retire_wal(path: Path) -> None:
    """Fold the WAL of the database about to be replaced into it and drop it, so that no WAL of
    the old file is left to be replayed onto the new one."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StorageError(
            f"cannot replace {path} ({exc}): is a server still running on it? Stop it first"
        ) from exc


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PostgresTarget(Target):
    dialect = "postgres"

    def __init__(self, dsn: str, *, replace: bool) -> None:
        from docstream.storage.postgres import PostgresDocumentStore

        _migrate(PostgresDocumentStore(dsn, min_size=1, max_size=1))
        self._conn = _pg_connect(dsn)
        try:
            self.migrations = schema.postgres_migrations(self._conn)
            self.tables = schema.postgres_tables(self._conn)
            counts = {
                t.name: int(
                    self._conn.execute(f"SELECT count(*) FROM {quote(t.name)}").fetchone()[0]
                )
                for t in self.tables
            }
            self.wiped = _refuse_non_empty(PostgresUrl(dsn), counts, replace)
            if self.tables:
                # In the copy's own transaction: interrupted, the old rows are all still there.
                # CASCADE empties the derived tables that reference them too (the search index,
                # rebuilt when the server starts).
                self._conn.execute(
                    f"TRUNCATE {', '.join(quote(t.name) for t in self.tables)} CASCADE".encode()
                )
        except BaseException:
            self.abort()
            raise

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        sql = f"COPY {quote(table.name)} ({', '.join(map(quote, columns))}) FROM STDIN"
        with self._conn.cursor().copy(sql.encode()) as copy:
            for row in rows:
                copy.write_row(row)

    def finish(self) -> None:
        for table in self.tables:
            for column, sequence in schema.postgres_sequences(self._conn, table):
                self._conn.execute(
                    f"SELECT setval(%s, COALESCE((SELECT max({quote(column)}) FROM "
                    f"{quote(table.name)}), 0) + 1, false)".encode(),
                    (sequence,),
                )
        self._conn.commit()
        self._conn.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.rollback()
        with contextlib.suppress(Exception):
            self._conn.close()


def open_target(
    endpoint: Endpoint, *, replace: bool, metadata: dict[str, str] | None = None
) -> Target:
    if isinstance(endpoint, PostgresUrl):
        return PostgresTarget(endpoint.dsn, replace=replace)
    return SqliteTarget(endpoint.path, replace=replace, metadata=metadata)
