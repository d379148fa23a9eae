"""Creating a document together with its log in SQLite (imports), in one transaction."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.base import DocumentRecord, NewLogEntry
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import DOC_COLUMNS, as_document, now_iso


class SqliteImports(SqliteStoreBase):
    """A new document with content."""

    async def create_document_with_log(
        self, owner_id: str, title: str, entries: Sequence[NewLogEntry]
    ) -> DocumentRecord:
        def run(conn: sqlite3.Connection) -> DocumentRecord:
            now = now_iso()
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("SELECT 1 FROM users WHERE id = ?", (owner_id,)).fetchone() is None:
                    raise NotFoundError("no such document or user")
                for replica, user_id in {(e.replica, e.user_id) for e in entries}:
                    conn.execute(
                        "INSERT INTO replicas (replica_id, user_id, created_at, last_seen_at) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (replica_id) DO NOTHING",
                        (replica, user_id, now, now),
                    )
                    bound = conn.execute(
                        "SELECT user_id FROM replicas WHERE replica_id = ?", (replica,)
                    ).fetchone()
                    if bound[0] != user_id:
                        raise ConflictError(f"replica {replica} belongs to someone else")
                row = conn.execute(
                    "INSERT INTO documents (id, title, owner_id, seq, created_at, updated_at) "
                    f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {DOC_COLUMNS}",
                    (str(uuid.uuid4()), title, owner_id, len(entries), now, now),
                ).fetchone()
                record = as_document(row)
                conn.executemany(
                    "INSERT INTO ops_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            record.id,
                            seq,
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
                        for seq, e in enumerate(entries, start=1)
                    ],
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return record

        return await self._write(run)
