"""Creating a document together with its log in PostgreSQL (imports), in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.base import DocumentRecord, NewLogEntry
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import DOC_COLUMNS, as_document, is_uuid


class PostgresImports(PostgresStoreBase):
    """A new document with content."""

    async def create_document_with_log(
        self, owner_id: str, title: str, entries: Sequence[NewLogEntry]
    ) -> DocumentRecord:
        if not is_uuid(owner_id):
            raise NotFoundError("no such document or user")
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute("SELECT 1 FROM users WHERE id = %s", (owner_id,))
            if await cur.fetchone() is None:
                raise NotFoundError("no such document or user")
            for replica, user_id in {(e.replica, e.user_id) for e in entries}:
                await conn.execute(
                    "INSERT INTO replicas (replica_id, user_id) VALUES (%s, %s) "
                    "ON CONFLICT (replica_id) DO NOTHING",
                    (replica, user_id),
                )
                cur = await conn.execute(
                    "SELECT user_id FROM replicas WHERE replica_id = %s", (replica,)
                )
                bound = await cur.fetchone()
                if bound is None or bound[0] != user_id:
                    raise ConflictError(f"replica {replica} belongs to someone else")
            cur = await conn.execute(
                "INSERT INTO documents AS d (id, title, owner_id, seq) VALUES (%s, %s, %s, %s) "
                f"RETURNING {DOC_COLUMNS}",
                (uuid.uuid4(), title, owner_id, len(entries)),
            )
            row = await cur.fetchone()
            assert row is not None
            record = as_document(row)
            async with conn.cursor() as insert:
                await insert.executemany(
                    "INSERT INTO ops_log (doc_id, seq, user_id, replica, counter_lo, counter_hi, "
                    "payload, kind, position, length, preview) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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
                            e.preview.replace("\x00", "\ufffd"),
                        )
                        for seq, e in enumerate(entries, start=1)
                    ],
                )
            return record
