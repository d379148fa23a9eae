"""``docstream backup``, ``restore`` and ``copy``: files, messages, exit codes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from docstream.cli import main
from testkit.config import PG_SECRET
from tests.datatools.conftest import fill_postgres, fill_sqlite, postgres_dump, sqlite_dump


@pytest.fixture(autouse=True)
def server_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data commands run with the server's environment (PostgreSQL needs its JWT secret)."""
    monkeypatch.setenv("DOCSTREAM_JWT_SECRET", PG_SECRET)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_backup_and_restore_between_data_dirs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    fill_sqlite(data / "docstream.sqlite3")
    file = tmp_path / "backup.db"
    code, out, err = run(capsys, "backup", str(file), "--data-dir", str(data))
    assert code == 0, err
    assert err == ""  # no progress bars when stderr is not a terminal
    assert f"backed up SQLite {data / 'docstream.sqlite3'} to {file}" in out and "60 ops_log" in out
    assert not list(tmp_path.glob("*.partial-*"))
    assert not Path(f"{file}-wal").exists()  # one self-contained file
    conn = sqlite3.connect(file)
    meta = dict(conn.execute("SELECT key, value FROM docstream_backup").fetchall())
    conn.close()
    assert meta["format"] == "1" and meta["source_dialect"] == "sqlite"
    assert json.loads(meta["counts"])["ops_log"] == 60
    assert sqlite_dump(file) == sqlite_dump(data / "docstream.sqlite3")

    # A backup file is an embedded store as it is.
    from docstream.storage.sqlite import SqliteDocumentStore

    async def titles() -> list[str]:
        async with SqliteDocumentStore(file) as store:
            assert await store.migrate() == []
            return sorted(t for _, t, _ in await store.all_document_titles())

    assert len(asyncio.run(titles())) == 3

    fresh = tmp_path / "fresh"
    code, out, err = run(capsys, "restore", str(file), "--data-dir", str(fresh))
    assert code == 0, err
    assert "restored" in out and "(a backup of sqlite made " in out
    assert sqlite_dump(fresh / "docstream.sqlite3") == sqlite_dump(data / "docstream.sqlite3")


def test_backup_refuses_an_existing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    fill_sqlite(data / "docstream.sqlite3", docs=1, edits=1)
    file = tmp_path / "backup.db"
    file.write_bytes(b"precious")
    code, _, err = run(capsys, "backup", str(file), "--data-dir", str(data))
    assert code == 1 and "already exists; give the backup a new name" in err
    assert file.read_bytes() == b"precious"


def test_restore_refuses_a_non_empty_store_unless_replace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], new_pg: Callable[[], str]
) -> None:
    source = fill_sqlite(tmp_path / "source.sqlite3", docs=1, edits=2)
    file = tmp_path / "b.db"
    assert run(capsys, "copy", "--from", str(source), "--to", str(tmp_path / "x.sqlite3"))[0] == 0
    code, _, err = run(capsys, "backup", str(file), "--database-url", f"sqlite:///{source}")
    assert code == 0, err
    pg = fill_postgres(new_pg(), docs=2, edits=3)
    before = postgres_dump(pg)
    code, out, err = run(capsys, "restore", str(file), "--database-url", pg)
    assert code == 1
    assert "is not empty (3 users, 2 documents" in err and "--replace" in err
    assert postgres_dump(pg) == before
    code, out, err = run(capsys, "restore", str(file), "--database-url", pg, "--replace")
    assert code == 0, err
    assert "--replace: wiping what the target holds (3 users, 2 documents" in out
    back = tmp_path / "back.sqlite3"
    assert run(capsys, "copy", "--from", pg, "--to", str(back))[0] == 0
    assert sqlite_dump(back) == sqlite_dump(source)


def test_restore_refuses_what_is_not_a_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = fill_sqlite(tmp_path / "plain.sqlite3", docs=1, edits=1)
    code, _, err = run(capsys, "restore", str(store), "--data-dir", str(tmp_path / "d"))
    assert code == 1 and "not a DocStream backup" in err
    code, _, err = run(capsys, "restore", str(tmp_path / "nope.db"), "--data-dir", str(tmp_path))
    assert code == 1 and "there is no backup file" in err


def test_backup_of_postgres_restores_into_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], new_pg: Callable[[], str]
) -> None:
    pg = fill_postgres(new_pg())
    file = tmp_path / "pg.db"
    code, out, err = run(capsys, "backup", str(file), "--database-url", pg)
    assert code == 0, err
    assert "PostgreSQL postgresql://" in out and "backed up" in out
    conn = sqlite3.connect(file)
    assert dict(conn.execute("SELECT * FROM docstream_backup"))["source_dialect"] == "postgres"
    conn.close()
    target = new_pg()
    assert run(capsys, "restore", str(file), "--database-url", target)[0] == 0
    assert postgres_dump(target) == postgres_dump(pg)


def test_copy_needs_both_ends(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["copy", "--from", "x"])
    assert exit_.value.code == 2
    assert "--to" in capsys.readouterr().err


def test_an_altered_backup_is_refused_and_restores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = fill_sqlite(tmp_path / "source.sqlite3", docs=1, edits=2)
    file = tmp_path / "b.db"
    assert run(capsys, "backup", str(file), "--database-url", f"sqlite:///{source}")[0] == 0
    conn = sqlite3.connect(file)
    with conn:
        conn.execute("DELETE FROM versions WHERE kind = 'auto'")
    conn.close()
    target = tmp_path / "target"
    code, _, err = run(capsys, "restore", str(file), "--data-dir", str(target))
    assert code == 1 and "was altered or damaged, nothing was restored" in err
    assert not (target / "docstream.sqlite3").exists()
    assert not list(target.glob("*partial*"))


def test_progress_is_drawn_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys
    import threading

    source = fill_sqlite(tmp_path / "source.sqlite3", docs=1, edits=2)
    controller, terminal = pty.openpty()
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "COLUMNS": "100", "TERM": "xterm"}
    chunks: list[bytes] = []

    def drain() -> None:  # read while it runs: a full terminal buffer would block the command
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "docstream",
            "copy",
            "--from",
            str(source),
            "--to",
            str(tmp_path / "copy.sqlite3"),
        ],
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        timeout=120,
        check=False,
    )
    os.close(terminal)
    reader.join(10)
    os.close(controller)
    shown = b"".join(chunks)
    text = shown.decode(errors="replace")
    assert proc.returncode == 0, text
    for table in ("users", "documents", "ops_log"):
        assert table in text
    assert "2/2" in text and "copied" in text


def test_a_sqlite_backup_refuses_other_migrations_and_can_back_up_a_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = fill_sqlite(tmp_path / "source.sqlite3", docs=1, edits=2)
    first = tmp_path / "first.db"
    assert run(capsys, "backup", str(first), "--database-url", f"sqlite:///{source}")[0] == 0
    # A backup of a backup is a backup of the same rows (its old metadata replaced).
    second = tmp_path / "second.db"
    assert run(capsys, "backup", str(second), "--database-url", f"sqlite:///{first}")[0] == 0
    assert sqlite_dump(second) == sqlite_dump(source)
    conn = sqlite3.connect(second)
    assert len(conn.execute("SELECT * FROM docstream_backup").fetchall()) == 5
    conn.close()
    conn = sqlite3.connect(source)
    with conn:
        conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_future', 'x', 'now')")
    conn.close()
    refused = tmp_path / "refused.db"
    code, _, err = run(capsys, "backup", str(refused), "--database-url", f"sqlite:///{source}")
    assert code == 1 and "9999_future" in err and "newer DocStream" in err
    assert sorted(
        p.name for p in tmp_path.iterdir() if p.suffix == ".db" or "partial" in p.name
    ) == [
        "first.db",
        "second.db",
    ]
