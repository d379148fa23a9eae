"""Ctrl+C in the middle of a restore or copy leaves the target as it was (real processes)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from docstream.datatools.backup import backup
from docstream.datatools.endpoints import SqliteFile
from testkit.config import PG_SECRET
from tests.datatools.conftest import fill_postgres, fill_sqlite, postgres_dump, sqlite_dump

ROWS = 150_000


@pytest.fixture
def big_backup(tmp_path: Path) -> Path:
    """A backup whose ops log is long enough to interrupt its restore midway."""
    store = fill_sqlite(tmp_path / "big.sqlite3", docs=1, edits=1)
    conn = sqlite3.connect(store)
    with conn:
        doc_id, user_id = conn.execute("SELECT doc_id, user_id FROM ops_log").fetchone()
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO ops_log SELECT ?, i, ?, 'replica0000', i, i, "
            "randomblob(200), 'insert', 0, 1, 'x', '2026-01-01T00:00:00+00:00' FROM n",
            (ROWS + 1, doc_id, user_id),
        )
        conn.execute("UPDATE documents SET seq = ?", (ROWS + 1,))
    conn.close()
    file = tmp_path / "big.db"
    backup(SqliteFile(store), file)
    return file


def start(*argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "DOCSTREAM_JWT_SECRET": PG_SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "docstream", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupt_when(proc: subprocess.Popen[str], ready: Callable[[], bool]) -> tuple[str, str]:
    deadline = time.monotonic() + 60
    while not ready():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the copy never got going"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "interrupted; the target was left as it was" in err
    return out, err


def test_interrupting_a_restore_into_postgres_keeps_the_old_rows(
    big_backup: Path, new_pg: Callable[[], str]
) -> None:
    import psycopg

    pg = fill_postgres(new_pg(), docs=2, edits=3)
    before = postgres_dump(pg)
    name = pg.rsplit("/", 1)[1].split("?")[0]

    def copying() -> bool:
        with psycopg.connect(pg, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND query LIKE 'COPY \"ops_log\"%%' AND state = 'active'",
                (name,),
            ).fetchone()
            return bool(row and row[0])

    proc = start("restore", str(big_backup), "--database-url", pg, "--replace")
    interrupt_when(proc, copying)
    assert postgres_dump(pg) == before


def test_interrupting_a_copy_into_sqlite_leaves_the_target_and_no_partial_file(
    big_backup: Path, tmp_path: Path
) -> None:
    target = fill_sqlite(tmp_path / "target" / "docstream.sqlite3", docs=2, edits=3)
    before = sqlite_dump(target)
    folder = target.parent

    def copying() -> bool:
        return any(p.stat().st_size > 2_000_000 for p in folder.glob("*.partial-*"))

    proc = start("copy", "--from", str(big_backup), "--to", str(folder), "--replace")
    interrupt_when(proc, copying)
    assert sqlite_dump(target) == before
    assert sorted(p.name for p in folder.iterdir() if "partial" in p.name) == []
