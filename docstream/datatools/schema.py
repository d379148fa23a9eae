"""The live schema of a store: its tables, their columns, foreign keys and applied migrations.

Nothing here names a table of DocStream: tables and columns are read from the database itself
(``sqlite_master`` and ``PRAGMA table_xinfo`` on SQLite, ``information_schema`` and ``pg_catalog``
on PostgreSQL), ordered so that a table comes after every table it references. Two stores can be
copied into each other only when the same migrations were applied to both.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from docstream.errors import ConfigurationError

#: Tables that are not data: the migrations' own record (each store keeps its own) and the
#: metadata of a backup file.
NOT_DATA = frozenset({"schema_migrations", "docstream_backup"})
#: Tables of derived state, left out of backups and copies: the full-text search index, which
#: differs between the dialects (FTS5 tables and their shadow tables on SQLite, a tsvector on
#: PostgreSQL) and which the search indexer rebuilds from the documents when the server starts.
DERIVED_PREFIX = "search_"


def is_data(name: str) -> bool:
    """Whether a table's rows are backed up and copied."""
    return name not in NOT_DATA and not name.startswith(DERIVED_PREFIX)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    #: The declared type, lower-cased: SQLite's as written, PostgreSQL's ``udt_name``
    #: (``timestamptz``, ``bool``, ``bytea``, ``uuid``, ``int8``, ``jsonb``...).
    type: str


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    #: The primary key's columns, in key order (empty: none; rows are then read in storage order).
    key: tuple[str, ...]
    references: frozenset[str] = field(default_factory=frozenset)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def quote(name: str) -> str:
    """An identifier quoted for both dialects."""
    return '"' + name.replace('"', '""') + '"'


def order_by_references(tables: list[Table]) -> list[Table]:
    """Tables ordered so that each comes after the tables it references (then by name)."""
    by_name = {t.name: t for t in tables}
    done: list[Table] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def visit(table: Table) -> None:
        if table.name in placed:
            return
        if table.name in visiting:
            raise ConfigurationError(f"the foreign keys of table {table.name} form a cycle")
        visiting.add(table.name)
        for ref in sorted(table.references):
            if ref != table.name and ref in by_name:
                visit(by_name[ref])
        visiting.discard(table.name)
        placed.add(table.name)
        done.append(table)

    for table in sorted(tables, key=lambda t: t.name):
        visit(table)
    return done


# --- SQLite ---------------------------------------------------------------------------------------


def sqlite_tables(conn: sqlite3.Connection) -> list[Table]:
    names = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    tables = []
    for name in names:
        if not is_data(name):
            continue
        columns = []
        key: list[tuple[int, str]] = []
        # table_xinfo's `hidden`: 0 normal, 1 virtual-table hidden, 2/3 generated (not copied).
        for _cid, col, decl, _notnull, _default, pk, hidden in conn.execute(
            f"PRAGMA table_xinfo({quote(name)})"
        ):
            if hidden:
                continue
            columns.append(Column(str(col), str(decl or "").lower()))
            if pk:
                key.append((int(pk), str(col)))
        refs = frozenset(str(r[2]) for r in conn.execute(f"PRAGMA foreign_key_list({quote(name)})"))
        tables.append(Table(name, tuple(columns), tuple(c for _, c in sorted(key)), refs))
    return order_by_references(tables)


def sqlite_migrations(conn: sqlite3.Connection) -> dict[int, str]:
    """Applied migrations (version -> name); empty when the database has none."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not exists:
        return {}
    return {int(v): str(n) for v, n in conn.execute("SELECT version, name FROM schema_migrations")}


# --- PostgreSQL -----------------------------------------------------------------------------------


def postgres_tables(conn: Any) -> list[Table]:
    """``conn``: a psycopg (sync) connection; the tables of its ``current_schema()``."""
    cur = conn.execute(
        "SELECT table_name, column_name, udt_name, is_generated FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    columns: dict[str, list[Column]] = {}
    for table, col, udt, generated in cur.fetchall():
        if generated == "ALWAYS":
            continue
        columns.setdefault(str(table), []).append(Column(str(col), str(udt).lower()))
    kinds = dict(
        conn.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = current_schema()"
        ).fetchall()
    )
    keys: dict[str, list[str]] = {}
    for table, col in conn.execute(
        "SELECT c.relname, a.attname FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
        "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
        "WHERE i.indisprimary ORDER BY c.relname, k.pos"
    ).fetchall():
        keys.setdefault(str(table), []).append(str(col))
    refs: dict[str, set[str]] = {}
    for table, target in conn.execute(
        "SELECT c.relname, t.relname FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_class t ON t.oid = k.confrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
        "WHERE k.contype = 'f'"
    ).fetchall():
        refs.setdefault(str(table), set()).add(str(target))
    tables = [
        Table(name, tuple(cols), tuple(keys.get(name, ())), frozenset(refs.get(name, ())))
        for name, cols in columns.items()
        if is_data(name) and kinds.get(name) == "BASE TABLE"
    ]
    return order_by_references(tables)


def postgres_migrations(conn: Any) -> dict[int, str]:
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    if not exists:
        return {}
    rows = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    return {int(v): str(n) for v, n in rows}


def postgres_sequences(conn: Any, table: Table) -> list[tuple[str, str]]:
    """(column, sequence) of the columns of ``table`` that draw from a sequence (serial or
    identity): after rows are copied with their ids, the sequence must continue past them."""
    found = []
    for column in table.columns:
        row = conn.execute(
            "SELECT pg_get_serial_sequence(%s, %s)", (quote(table.name), column.name)
        ).fetchone()
        if row and row[0]:
            found.append((column.name, str(row[0])))
    return found


# --- comparing two stores -------------------------------------------------------------------------


def check_same_migrations(source: dict[int, str], target: dict[int, str], what: str) -> None:
    """Refuse (``ConfigurationError``) unless both stores have the same migrations applied."""
    if source == target:
        return
    if not source:
        raise ConfigurationError(f"{what}: the source has no DocStream schema (no migrations)")
    only_source = sorted(set(source) - set(target))
    only_target = sorted(set(target) - set(source))
    parts = []
    if only_source:
        parts.append(
            "only the source has " + ", ".join(source[v] for v in only_source) + " (it was "
            "written by a newer DocStream: upgrade DocStream first)"
        )
    if only_target:
        parts.append(
            "only the target has " + ", ".join(target[v] for v in only_target) + " (upgrade "
            "the source first: `docstream migrate` on it, or a backup made by this version)"
        )
    renamed = [v for v in set(source) & set(target) if source[v] != target[v]]
    if renamed:
        parts.append("migrations " + ", ".join(map(str, sorted(renamed))) + " differ by name")
    raise ConfigurationError(
        f"{what}: the source and the target have different migrations applied: " + "; ".join(parts)
    )


def check_same_tables(source: list[Table], target: list[Table], what: str) -> None:
    """Refuse unless every table has the same columns on both sides (order may differ)."""
    src = {t.name: set(t.column_names) for t in source}
    dst = {t.name: set(t.column_names) for t in target}
    if src == dst:
        return
    problems = []
    for name in sorted(set(src) | set(dst)):
        if name not in dst:
            problems.append(f"table {name} is missing in the target")
        elif name not in src:
            problems.append(f"table {name} is missing in the source")
        elif src[name] != dst[name]:
            diff = sorted(src[name] ^ dst[name])
            problems.append(f"table {name} differs in columns {', '.join(diff)}")
    raise ConfigurationError(f"{what}: the schemas differ: " + "; ".join(problems))
