"""The ops log, snapshots and versions in SQLite.

``append_ops`` is the hot path: one ``BEGIN IMMEDIATE`` on the writer thread advances
``documents.seq`` and inserts the batch, so seqs are gap-free and a batch is all or nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Literal

from docstream.errors import DocStreamError, NotFoundError
from docstream.storage.base import LogEntry, NewLogEntry, Snapshot, VersionRecord
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import LOG_COLUMNS, as_log_entry, as_version, now_iso, parse_ts


class SqliteLog(SqliteStoreBase):
    """Ops log, snapshots and versions."""

    # --- ops log ---------------------------------------------------------------------------------

    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        if not entries:
            raise DocStreamError("append_ops needs at least one entry")
        n = len(entries)

        def run(conn: sqlite3.Connection) -> int:
            now = now_iso()
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "UPDATE documents SET seq = seq + ?, updated_at = ? WHERE id = ? RETURNING seq",
                (n, now, doc_id),
            ).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                raise NotFoundError("the document no longer exists")
            last = int(row[0])
            first = last - n + 1
            conn.executemany(
                "INSERT INTO ops_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        doc_id,
                        first + i,
                        e.user_id,
                        e.replica,
                        e.counter_lo,
                        e.counter_hi,
                        e.payload,
                        e.kind,
                        e.position,
                        e.length,
                        e.preview,
                        now,
                    )
                    for i, e in enumerate(entries)
                ],
            )
            conn.execute("COMMIT")
            return last

        return await self._write(run)

    async def read_ops(
        self, doc_id: str, after_seq: int, limit: int | None = None
    ) -> list[LogEntry]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id = l.user_id "
                "WHERE l.doc_id = ? AND l.seq > ? ORDER BY l.seq LIMIT ?",
                (doc_id, after_seq, -1 if limit is None else limit),
            ).fetchall()
        )
        return [as_log_entry(r) for r in rows]

    async def read_history(self, doc_id: str, before_seq: int | None, limit: int) -> list[LogEntry]:
        bound = (1 << 62) if before_seq is None else before_seq
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id = l.user_id "
                "WHERE l.doc_id = ? AND l.seq < ? ORDER BY l.seq DESC LIMIT ?",
                (doc_id, bound, limit),
            ).fetchall()
        )
        return [as_log_entry(r) for r in rows]

    async def find_seq_of_payload(
        self, doc_id: str, replica: str, payload: bytes, *, counter_hi: int | None = None
    ) -> int | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT seq FROM ops_log WHERE doc_id = ? AND replica = ? AND counter_hi IS ? "
                "AND payload = ? ORDER BY seq DESC LIMIT 1",
                (doc_id, replica, counter_hi, payload),
            ).fetchone()
        )
        return int(row[0]) if row else None

    async def save_snapshot(self, doc_id: str, seq: int, state: bytes, keep: int = 3) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO snapshots VALUES (?, ?, ?, ?) ON CONFLICT (doc_id, seq) DO NOTHING",
                (doc_id, seq, state, now_iso()),
            )
            conn.execute(
                "DELETE FROM snapshots WHERE doc_id = ? AND seq NOT IN (SELECT seq FROM snapshots "
                "WHERE doc_id = ? ORDER BY seq DESC LIMIT ?)",
                (doc_id, doc_id, keep),
            )
            conn.execute("COMMIT")

        await self._write(run)

    async def latest_snapshot(
        self, doc_id: str, *, before_seq: int | None = None
    ) -> Snapshot | None:
        bound = (1 << 62) if before_seq is None else before_seq
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT doc_id, seq, state, created_at FROM snapshots WHERE doc_id = ? "
                "AND seq < ? ORDER BY seq DESC LIMIT 1",
                (doc_id, bound),
            ).fetchone()
        )
        if row is None:
            return None
        return Snapshot(doc_id=row[0], seq=row[1], state=bytes(row[2]), created_at=parse_ts(row[3]))

    # --- versions --------------------------------------------------------------------------------

    async def create_version(
        self,
        doc_id: str,
        seq: int,
        text: str,
        kind: Literal["auto", "named"],
        label: str | None,
        author_id: str | None,
        keep: int,
    ) -> VersionRecord:
        def run(conn: sqlite3.Connection) -> VersionRecord:
            conn.execute("BEGIN IMMEDIATE")
            exists = conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if exists is None:
                conn.execute("ROLLBACK")
                raise NotFoundError("the document no longer exists")
            row = conn.execute(
                "INSERT INTO versions SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ?, ?, ?, ?, ? "
                "FROM versions WHERE doc_id = ? RETURNING doc_id, version, seq, kind, label, "
                "author_id, length, created_at, NULL",
                (doc_id, seq, kind, label, author_id, text, len(text), now_iso(), doc_id),
            ).fetchone()
            conn.execute(
                "DELETE FROM versions WHERE doc_id = ? AND kind = ? AND version NOT IN ("
                "SELECT version FROM versions WHERE doc_id = ? AND kind = ? "
                "ORDER BY version DESC LIMIT ?)",
                (doc_id, kind, doc_id, kind, keep),
            )
            conn.execute("COMMIT")
            return as_version(row, with_text=False)

        return await self._write(run)

    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, NULL "
                "FROM versions WHERE doc_id = ? ORDER BY version DESC",
                (doc_id,),
            ).fetchall()
        )
        return [as_version(r, with_text=False) for r in rows]

    async def get_version(self, doc_id: str, version: int) -> VersionRecord | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, text "
                "FROM versions WHERE doc_id = ? AND version = ?",
                (doc_id, version),
            ).fetchone()
        )
        return as_version(row, with_text=True) if row else None
