"""A backup of a SQLite store by SQLite's own page copy (the sqlite3 backup API).

Backing up the embedded default needs no conversion, so it copies the database's pages in one
step instead of its rows: one consistent snapshot (the step holds one read transaction, which WAL
keeps stable while the server writes) at close to the speed of a file copy. The result is the
same file the row copier writes: DocStream's schema with the source's migrations (refused unless
they are this DocStream's), the ``docstream_backup`` metadata, written to ``FILE.partial-<pid>``
and renamed when complete.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from docstream.datatools import schema
from docstream.datatools.copier import CopyResult, Progress
from docstream.datatools.schema import quote
from docstream.errors import ConfigurationError, StorageError
from docstream.storage import migrate


def _remove(path: Path) -> None:
    for name in (str(path), f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def page_backup(
    source: Path,
    file: Path,
    progress: Progress,
    metadata: Callable[[CopyResult], dict[str, str]],
) -> CopyResult:
    """Copy the SQLite store ``source`` into the new backup ``file``."""
    if not source.is_file():
        raise ConfigurationError(f"there is no SQLite database at {source}")
    partial = file.with_name(f"{file.name}.partial-{os.getpid()}")
    uri = "file:" + str(source.resolve()).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    try:
        _remove(partial)
        os.close(os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        src = sqlite3.connect(uri, uri=True, timeout=30)
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            try:
                progress.table("database pages", 1)
                src.backup(dst)  # every page in one step: one snapshot
                progress.advance(1)
            except sqlite3.DatabaseError as exc:
                raise ConfigurationError(
                    f"{source} is not a readable SQLite database: {exc}"
                ) from exc
            finally:
                src.close()
            result = _finish(dst, source, metadata)
        finally:
            dst.close()
        _fsync(partial)
        os.replace(partial, file)
        _fsync(file.parent)
        return result
    except sqlite3.Error as exc:
        _remove(partial)
        raise StorageError(f"SQLite: {exc}") from exc
    except BaseException:
        _remove(partial)
        raise


def _finish(
    conn: sqlite3.Connection, source: Path, metadata: Callable[[CopyResult], dict[str, str]]
) -> CopyResult:
    applied = schema.sqlite_migrations(conn)
    if not applied:
        raise ConfigurationError(f"SQLite {source} has no DocStream schema (no migrations applied)")
    known = {m.version: m.name for m in migrate.discover("sqlite")}
    schema.check_same_migrations(applied, known, f"backing up SQLite {source}")
    result = CopyResult("sqlite", "sqlite")
    for table in schema.sqlite_tables(conn):
        count = conn.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0]
        result.counts[table.name] = int(count)
    conn.execute("BEGIN")
    conn.execute("DROP TABLE IF EXISTS docstream_backup")  # the source was a backup itself
    conn.execute("CREATE TABLE docstream_backup (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.executemany("INSERT INTO docstream_backup VALUES (?, ?)", sorted(metadata(result).items()))
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    return result
