"""Copying stores between backends: round trips table by table, refusals, interruption."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from docstream.datatools.copier import copy_store
from docstream.datatools.endpoints import PostgresUrl, SqliteFile, parse_endpoint
from docstream.errors import ConfigurationError
from tests.datatools.conftest import fill_postgres, fill_sqlite, postgres_dump, sqlite_dump


def test_sqlite_to_postgres_to_sqlite_is_byte_for_byte(
    tmp_path: Path, new_pg: Callable[[], str]
) -> None:
    first = fill_sqlite(tmp_path / "a.sqlite3", packed=True)
    pg = new_pg()
    to_pg = copy_store(SqliteFile(first), PostgresUrl(pg))
    back = tmp_path / "b.sqlite3"
    to_sqlite = copy_store(PostgresUrl(pg), SqliteFile(back))
    assert to_pg.counts == to_sqlite.counts
    assert to_pg.counts["ops_log"] == 65 and to_pg.counts["users"] == 3
    assert to_pg.counts["ops_packs"] == 1 and to_pg.counts["ops_pack_authors"] == 1
    before, after = sqlite_dump(first), sqlite_dump(back)
    # Tables are discovered: other features' tables are compared too.
    assert set(before) >= {"users", "documents", "ops_log", "snapshots", "versions", "replicas"}
    assert set(after) == set(before)
    for table in before:
        assert after[table] == before[table], table
    filled = ("users", "documents", "document_permissions", "ops_log", "ops_packs", "snapshots")
    assert all(before[t] for t in (*filled, "replicas", "sessions", "invitations"))


def test_postgres_to_sqlite_to_postgres_keeps_every_row(
    tmp_path: Path, new_pg: Callable[[], str]
) -> None:
    source = fill_postgres(new_pg(), packed=True)
    middle = tmp_path / "m.sqlite3"
    copy_store(PostgresUrl(source), SqliteFile(middle))
    target = new_pg()
    copy_store(SqliteFile(middle), PostgresUrl(target))
    before, after = postgres_dump(source), postgres_dump(target)
    assert before == after
    assert before["ops_log"] and before["sessions"] and before["versions"]
    assert before["ops_packs"] and before["ops_pack_authors"]


def test_sqlite_to_sqlite_and_postgres_to_postgres(
    tmp_path: Path, new_pg: Callable[[], str]
) -> None:
    first = fill_sqlite(tmp_path / "a.sqlite3")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    copy_store(SqliteFile(first), parse_endpoint(str(data_dir)))
    assert sqlite_dump(data_dir / "docstream.sqlite3") == sqlite_dump(first)
    assert not list(data_dir.glob("*.partial-*"))
    pg1, pg2 = fill_postgres(new_pg()), new_pg()
    copy_store(PostgresUrl(pg1), PostgresUrl(pg2))
    assert postgres_dump(pg1) == postgres_dump(pg2)


def test_a_non_empty_target_is_refused_unless_replace(
    tmp_path: Path, new_pg: Callable[[], str]
) -> None:
    source = fill_sqlite(tmp_path / "a.sqlite3", docs=1, edits=2)
    other = fill_sqlite(tmp_path / "other.sqlite3", docs=2, edits=3)
    other_rows = sqlite_dump(other)
    with pytest.raises(ConfigurationError, match=r"is not empty \(.*users.*--replace"):
        copy_store(SqliteFile(source), SqliteFile(other))
    assert sqlite_dump(other) == other_rows
    result = copy_store(SqliteFile(source), SqliteFile(other), replace=True)
    assert result.wiped["users"] == 3 and result.wiped["ops_log"] == 6
    assert sqlite_dump(other) == sqlite_dump(source)

    pg = fill_postgres(new_pg(), docs=2, edits=3)
    pg_rows = postgres_dump(pg)
    with pytest.raises(ConfigurationError, match="is not empty"):
        copy_store(SqliteFile(source), PostgresUrl(pg))
    assert postgres_dump(pg) == pg_rows
    copy_store(SqliteFile(source), PostgresUrl(pg), replace=True)
    back = tmp_path / "back.sqlite3"
    copy_store(PostgresUrl(pg), SqliteFile(back))
    assert sqlite_dump(back) == sqlite_dump(source)


def test_different_migrations_are_refused(tmp_path: Path, new_pg: Callable[[], str]) -> None:
    source = fill_sqlite(tmp_path / "a.sqlite3", docs=1, edits=1)
    conn = sqlite3.connect(source)
    with conn:
        conn.execute(
            "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM "
            "schema_migrations)"
        )
    conn.close()
    pg = new_pg()
    with pytest.raises(ConfigurationError, match="different migrations applied: only the target"):
        copy_store(SqliteFile(source), PostgresUrl(pg))
    assert all(not rows for rows in postgres_dump(pg).values())
    conn = sqlite3.connect(source)
    with conn:
        conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_future', 'x', 'now')")
    conn.close()
    with pytest.raises(ConfigurationError, match="newer DocStream"):
        copy_store(SqliteFile(source), SqliteFile(tmp_path / "t.sqlite3"))
    assert not (tmp_path / "t.sqlite3").exists()
    assert not list(tmp_path.glob("*.partial-*"))


def test_a_changed_table_is_refused(tmp_path: Path) -> None:
    source = fill_sqlite(tmp_path / "a.sqlite3", docs=1, edits=1)
    conn = sqlite3.connect(source)
    conn.execute("ALTER TABLE documents ADD COLUMN colour TEXT")
    conn.close()
    with pytest.raises(ConfigurationError, match="table documents differs in columns colour"):
        copy_store(SqliteFile(source), SqliteFile(tmp_path / "t.sqlite3"))


def test_not_a_store_is_refused(tmp_path: Path) -> None:
    (tmp_path / "junk").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConfigurationError, match="not a readable SQLite database"):
        copy_store(SqliteFile(tmp_path / "junk"), SqliteFile(tmp_path / "t.sqlite3"))
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(ConfigurationError, match="no DocStream schema"):
        copy_store(SqliteFile(empty), SqliteFile(tmp_path / "t.sqlite3"))
    with pytest.raises(ConfigurationError, match="no SQLite database"):
        copy_store(SqliteFile(tmp_path / "missing"), SqliteFile(tmp_path / "t.sqlite3"))


def test_a_store_is_not_copied_onto_itself(tmp_path: Path, new_pg: Callable[[], str]) -> None:
    source = fill_sqlite(tmp_path / "a.sqlite3", docs=1, edits=1)
    before = sqlite_dump(source)
    with pytest.raises(ConfigurationError, match="the same store"):
        copy_store(SqliteFile(source), SqliteFile(tmp_path / "." / "a.sqlite3"), replace=True)
    assert sqlite_dump(source) == before
    pg = new_pg()
    with pytest.raises(ConfigurationError, match="the same store"):
        copy_store(PostgresUrl(pg), PostgresUrl(pg), replace=True)
