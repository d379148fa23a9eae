"""Backup, restore and copies between backends on a real editing trace.

The whole automerge-paper trace (259,778 edits; ``--quick``: its first 20,000) is replayed through
``docstream.crdt`` into one log entry per edit, as the server would store them, and stored as one
document's log in a fresh SQLite store, with an automatic version every 25,000 edits. Then, each
timed once (the copies are minutes-long jobs, not microbenchmarks):

* the **floor**: a plain file copy of that SQLite database (``shutil.copyfile``, after a
  checkpoint), and ``pg_dump -Fc`` of the PostgreSQL copy when ``pg_dump`` is on the PATH;
* ``backup`` (SQLite store -> backup file), ``restore`` (backup file -> a new SQLite store),
  ``copy`` SQLite -> PostgreSQL and back to SQLite, each in rows/s and seconds;
* the round trip must be byte for byte: every table of the final SQLite store equals the
  original's (log, versions, users...), and the document's text loaded from it equals the trace's
  end content.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.report import Row
from docstream.collab import slices
from docstream.collab.loader import encode_payload, load_document
from docstream.crdt import Document, Insert
from docstream.datatools.backup import backup, restore
from docstream.datatools.copier import copy_store
from docstream.datatools.endpoints import PostgresUrl, SqliteFile
from docstream.storage.base import NewLogEntry
from docstream.storage.sqlite import SqliteDocumentStore
from testkit.services import postgres
from testkit.traces import load, load_trace

TRACE = "automerge-paper"
QUICK_PREFIX = 20_000
VERSION_EVERY = 25_000


def _entries(
    patches: list[tuple[int, int, str]], user_id: str
) -> tuple[list[NewLogEntry], list[tuple[int, str]]]:
    doc = Document("bench-import")
    entries: list[NewLogEntry] = []
    versions: list[tuple[int, str]] = []
    for pos, deleted, text in patches:
        for ops, kind, length in (
            (doc.delete(pos, deleted) if deleted else [], "delete", deleted),
            (doc.insert(pos, text) if text else [], "insert", len(text)),
        ):
            if not ops:
                continue
            spans = [
                (c := int(op.id.rpartition(":")[2]), c + len(op.text) - 1)
                for op in ops
                if isinstance(op, Insert)
            ]
            entries.append(
                NewLogEntry(
                    user_id=user_id,
                    replica="bench-import",
                    payload=encode_payload(ops),
                    counter_lo=min((s for s, _ in spans), default=None),
                    counter_hi=max((e for _, e in spans), default=None),
                    kind=kind,
                    position=pos,
                    length=length,
                    preview=text[:100] if kind == "insert" else "",
                )
            )
            if len(entries) % VERSION_EVERY == 0:
                versions.append((len(entries), doc.text))
    return entries, versions


def _build(path: Path, patches: list[tuple[int, int, str]]) -> str:
    async def run() -> str:
        async with SqliteDocumentStore(path) as store:
            await store.migrate()
            user = await store.register_user("bench@example.com", "Bench", "hash")
            entries, versions = _entries(patches, user.id)
            doc = await store.create_document_with_log(user.id, "automerge-paper", entries)
            for seq, text in versions:
                await store.create_version(doc.id, seq, text, "auto", None, user.id, keep=1000)
            return doc.id

    return asyncio.run(run())


def _text(path: Path, doc_id: str) -> str:
    async def run() -> str:
        async with SqliteDocumentStore(path) as store:
            doc, _ = await load_document(store, doc_id)
            try:
                return doc.text
            finally:
                await slices.release(doc)

    return asyncio.run(run())


def _dump(path: Path) -> dict[str, list[Any]]:
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT IN ('schema_migrations', 'docstream_backup') ORDER BY name"
            )
        ]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1, 2').fetchall() for n in names}
    finally:
        conn.close()


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run(quick: bool) -> list[Row]:
    patches = load(TRACE, prefix=QUICK_PREFIX if quick else None)
    expected = load_trace(TRACE)["endContent"] if not quick else None
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="docstream-bench-") as tmp, postgres() as pg:
        root = Path(tmp)
        source = root / "source.sqlite3"
        doc_id = _build(source, patches)
        conn = sqlite3.connect(source)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        total = sum(len(v) for v in _dump(source).values())
        floor, _ = _timed(lambda: shutil.copyfile(source, root / "plain-copy.sqlite3"))
        size = source.stat().st_size / 1e6
        rows.append(
            Row(
                "datatools",
                "floor: file copy of the SQLite database",
                floor,
                "s",
                note=f"{size:.1f} MB, {total:,} rows in {len(patches):,} trace edits",
            )
        )

        def measured(name: str, seconds: float, rows_copied: int) -> None:
            rows.append(
                Row(
                    "datatools",
                    name,
                    seconds,
                    "s",
                    peer=floor,
                    peer_name="file copy",
                    note=f"{rows_copied / seconds:,.0f} rows/s",
                )
            )

        file = root / "backup.db"
        seconds, result = _timed(lambda: backup(SqliteFile(source), file))
        measured("backup (SQLite store -> backup file)", seconds, result.rows)
        restored = root / "restored.sqlite3"
        seconds, result = _timed(lambda: restore(file, SqliteFile(restored)))
        measured("restore (backup file -> SQLite store)", seconds, result.rows)

        dsn = pg.dsn_for(pg.create_database())
        seconds, result = _timed(lambda: copy_store(SqliteFile(restored), PostgresUrl(dsn)))
        measured("copy SQLite -> PostgreSQL", seconds, result.rows)
        pg_dump = shutil.which("pg_dump")
        if pg_dump:
            dump = root / "pg.dump"
            seconds, _ = _timed(
                lambda: subprocess.run([pg_dump, "-Fc", "-f", str(dump), dsn], check=True)
            )
            rows.append(
                Row(
                    "datatools",
                    "floor: pg_dump -Fc of the PostgreSQL copy",
                    seconds,
                    "s",
                    note=f"{dump.stat().st_size / 1e6:.1f} MB",
                )
            )
        back = root / "back.sqlite3"
        seconds, result = _timed(lambda: copy_store(PostgresUrl(dsn), SqliteFile(back)))
        measured("copy PostgreSQL -> SQLite", seconds, result.rows)

        same_tables = _dump(back) == _dump(source)
        text = _text(back, doc_id)
        same_text = text == (expected if expected is not None else _text(source, doc_id))
        rows.append(
            Row(
                "datatools",
                "round trip SQLite -> backup -> SQLite -> PG -> SQLite identical",
                float(same_tables and same_text),
                "(1 = yes)",
                target="every table equal, text = trace end",
                met=same_tables and same_text,
                note=f"tables equal: {same_tables}, text equal: {same_text} ({len(text):,} chars)",
            )
        )
    return rows
