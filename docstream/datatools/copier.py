"""Copy every table of DocStream's schema from one store to another, in one snapshot, all or
nothing.

SQLite -> SQLite, SQLite -> PostgreSQL, PostgreSQL -> SQLite and PostgreSQL -> PostgreSQL take the
same path: read the source's tables from its live schema (:mod:`.schema`), open the target
(:mod:`.sides`: migrations first, refused if not empty unless ``replace``), refuse unless both
have the same migrations and columns, then stream each table in foreign-key order, converting
values between dialects (:mod:`.convert`). Ids, texts, the ops log, snapshots, versions, users
with their password hashes, grants, sessions, invitations and public links are all copied as
they are; sessions too, so people stay signed in across a move. What is derived (the typeahead
files in the data dir) is not: the server rebuilds it from the database when it starts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import psycopg

from docstream.datatools import schema
from docstream.datatools.convert import row_converter
from docstream.datatools.endpoints import Endpoint, PostgresUrl, SqliteFile
from docstream.datatools.sides import Source, Target, open_source, open_target
from docstream.errors import ConfigurationError, StorageError


class Progress(Protocol):
    """What the copier reports as it goes (the CLI draws it with rich)."""

    def table(self, name: str, total: int) -> None: ...

    def advance(self, rows: int) -> None: ...


class NoProgress:
    def table(self, name: str, total: int) -> None:
        pass

    def advance(self, rows: int) -> None:
        pass


@dataclass(slots=True)
class CopyResult:
    source_dialect: str
    target_dialect: str
    counts: dict[str, int] = field(default_factory=dict)
    #: Rows per table the target held before (``replace``).
    wiped: dict[str, int] = field(default_factory=dict)
    #: The backup metadata of a backup file read as the source.
    source_metadata: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def copy_store(
    source: Endpoint,
    target: Endpoint,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    metadata: Callable[[CopyResult], dict[str, str]] | None = None,
    check_source: Callable[[Source], None] | None = None,
    announce: Callable[[Target], None] | None = None,
    verify: Callable[[CopyResult, Source], None] | None = None,
) -> CopyResult:
    """Copy ``source`` into ``target``; see the module docstring.

    ``metadata``: when given, the target (SQLite only) gets a ``docstream_backup`` table with what
    it returns, computed once the counts are known. ``check_source`` may refuse the source before
    anything is written; ``announce`` hears of the opened target (what ``replace`` wipes) before
    the first row is copied; ``verify`` may refuse the copied rows before they are committed.

    A database error of either side becomes a ``StorageError`` naming it.
    """
    if _same(source, target):
        raise ConfigurationError(f"the source and the target are the same store ({source})")
    try:
        return _copy(
            source,
            target,
            replace,
            progress or NoProgress(),
            metadata,
            check_source,
            announce,
            verify,
        )
    except (sqlite3.Error, psycopg.Error) as exc:
        side = "SQLite" if isinstance(exc, sqlite3.Error) else "PostgreSQL"
        raise StorageError(f"{side}: {str(exc).strip() or type(exc).__name__}") from exc


def _copy(
    source: Endpoint,
    target: Endpoint,
    replace: bool,
    progress: Progress,
    metadata: Callable[[CopyResult], dict[str, str]] | None,
    check_source: Callable[[Source], None] | None,
    announce: Callable[[Target], None] | None,
    verify: Callable[[CopyResult, Source], None] | None,
) -> CopyResult:
    src = open_source(source)
    try:
        if check_source is not None:
            check_source(src)
        if not src.migrations:
            raise ConfigurationError(f"{source} has no DocStream schema (no migrations applied)")
        result = CopyResult(src.dialect, "")
        meta: dict[str, str] = {}
        dst = open_target(target, replace=replace, metadata=meta if metadata else None)
        try:
            result.target_dialect = dst.dialect
            result.wiped = dict(dst.wiped)
            what = f"copying {source} to {target}"
            schema.check_same_migrations(src.migrations, dst.migrations, what)
            schema.check_same_tables(src.tables, dst.tables, what)
            if announce is not None:
                announce(dst)
            _copy_tables(src, dst, progress, result)
            if verify is not None:
                verify(result, src)
            if metadata:
                meta.update(metadata(result))
            dst.finish()
        except BaseException:
            dst.abort()
            raise
        if hasattr(src, "metadata"):
            result.source_metadata = src.metadata()
    finally:
        src.close()
    return result


def _same(a: Endpoint, b: Endpoint) -> bool:
    if isinstance(a, SqliteFile) and isinstance(b, SqliteFile):
        return a.path.resolve() == b.path.resolve()
    if isinstance(a, PostgresUrl) and isinstance(b, PostgresUrl):
        from psycopg.conninfo import conninfo_to_dict

        try:
            return conninfo_to_dict(a.dsn) == conninfo_to_dict(b.dsn)
        except Exception:  # a DSN psycopg cannot parse: connecting will say what is wrong
            return a.dsn == b.dsn
    return False


def _copy_tables(src: Source, dst: Target, progress: Progress, result: CopyResult) -> None:
    targets = {t.name: t for t in dst.tables}
    for table in src.tables:
        into = targets[table.name]
        columns = table.column_names
        convert = row_converter(
            table.name, columns, (src.dialect, table.columns), (dst.dialect, into.columns)
        )
        progress.table(table.name, src.count(table))
        copied = 0
        for batch in src.rows(table, columns):
            dst.write(into, columns, convert(batch))
            copied += len(batch)
            progress.advance(len(batch))
        result.counts[table.name] = copied
