"""The trash and ownership transfers in SQLite.

Trashing only stamps ``documents.deleted_at``: the document's grants, log, snapshots and versions
stay, so a restore is clearing the stamp. Every query that finds or lists documents
(``documents.py``) skips stamped rows; purging deletes the row and the cascades take the rest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docstream.errors import NotFoundError
from docstream.storage.base import DocumentRecord, TrashedDocument
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import DOC_COLUMNS, as_document, now_iso, parse_ts, to_iso

_TRASH_COLUMNS = f"{DOC_COLUMNS}, deleted_at, deleted_by"


def _as_trashed(row: Sequence[Any]) -> TrashedDocument:
    return TrashedDocument(doc=as_document(row), deleted_at=parse_ts(row[8]), deleted_by=row[9])


class SqliteTrash(SqliteStoreBase):
    """Trash, restore, purge, transfer."""

    async def trash_document(self, doc_id: str, by_user_id: str) -> DocumentRecord | None:
        def run(conn: sqlite3.Connection) -> DocumentRecord | None:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "UPDATE documents SET deleted_at = ?, deleted_by = ? "
                f"WHERE id = ? AND deleted_at IS NULL RETURNING {DOC_COLUMNS}",
                (now_iso(), by_user_id, doc_id),
            ).fetchone()
            if row is not None:
                conn.execute("DELETE FROM invitations WHERE doc_id = ?", (doc_id,))
            conn.execute("COMMIT")
            return as_document(row) if row else None

        return await self._write(run)

    async def get_trashed(self, doc_id: str) -> TrashedDocument | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_TRASH_COLUMNS} FROM documents WHERE id = ? AND deleted_at IS NOT NULL",
                (doc_id,),
            ).fetchone()
        )
        return _as_trashed(row) if row else None

    async def list_trash(self, owner_id: str) -> list[TrashedDocument]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_TRASH_COLUMNS} FROM documents "
                "WHERE owner_id = ? AND deleted_at IS NOT NULL ORDER BY deleted_at DESC, id",
                (owner_id,),
            ).fetchall()
        )
        return [_as_trashed(r) for r in rows]

    async def restore_document(self, doc_id: str) -> DocumentRecord | None:
        row = await self._write(
            lambda conn: conn.execute(
                "UPDATE documents SET deleted_at = NULL, deleted_by = NULL "
                f"WHERE id = ? AND deleted_at IS NOT NULL RETURNING {DOC_COLUMNS}",
                (doc_id,),
            ).fetchone()
        )
        return as_document(row) if row else None

    async def purge_document(self, doc_id: str, *, deleted_before: datetime | None = None) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            if deleted_before is None:
                cur = conn.execute(
                    "DELETE FROM documents WHERE id = ? AND deleted_at IS NOT NULL", (doc_id,)
                )
            else:
                cur = conn.execute(
                    "DELETE FROM documents WHERE id = ? AND deleted_at < ?",
                    (doc_id, to_iso(deleted_before)),
                )
            return cur.rowcount > 0

        return await self._write(run)

    async def expired_trash(self, deleted_before: datetime, limit: int) -> list[TrashedDocument]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_TRASH_COLUMNS} FROM documents WHERE deleted_at < ? "
                "ORDER BY deleted_at, id LIMIT ?",
                (to_iso(deleted_before), limit),
            ).fetchall()
        )
        return [_as_trashed(r) for r in rows]

    async def transfer_ownership(
        self, doc_id: str, from_user_id: str, to_user_id: str
    ) -> DocumentRecord | None:
        def run(conn: sqlite3.Connection) -> DocumentRecord | None:
            conn.execute("BEGIN IMMEDIATE")
            if conn.execute("SELECT 1 FROM users WHERE id = ?", (to_user_id,)).fetchone() is None:
                conn.execute("ROLLBACK")
                raise NotFoundError("no such document or user")
            row = conn.execute(
                "UPDATE documents SET owner_id = ?, updated_at = ? "
                "WHERE id = ? AND owner_id = ? AND deleted_at IS NULL "
                f"RETURNING {DOC_COLUMNS}",
                (to_user_id, now_iso(), doc_id, from_user_id),
            ).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                return None
            conn.execute(
                "DELETE FROM document_permissions WHERE doc_id = ? AND user_id = ?",
                (doc_id, to_user_id),
            )
            conn.execute(
                "INSERT INTO document_permissions (doc_id, user_id, role, created_at, by_address) "
                "VALUES (?, ?, 'editor', ?, 1) ON CONFLICT (doc_id, user_id) "
                "DO UPDATE SET role = 'editor'",
                (doc_id, from_user_id, now_iso()),
            )
            conn.execute("COMMIT")
            return as_document(row)

        return await self._write(run)
