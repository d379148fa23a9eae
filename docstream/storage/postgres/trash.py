"""The trash and ownership transfers in PostgreSQL.

Trashing only stamps ``documents.deleted_at``: the document's grants, log, snapshots and versions
stay, so a restore is clearing the stamp. Every query that finds or lists documents
(``documents.py``) skips stamped rows; purging deletes the row and the cascades take the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docstream.errors import NotFoundError
from docstream.storage.base import DocumentRecord, TrashedDocument
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import DOC_COLUMNS, as_document, is_uuid

_TRASH_COLUMNS = f"{DOC_COLUMNS}, d.deleted_at, d.deleted_by"


def _as_trashed(row: Sequence[Any]) -> TrashedDocument:
    by = row[9]
    return TrashedDocument(
        doc=as_document(row), deleted_at=row[8], deleted_by=None if by is None else str(by)
    )


class PostgresTrash(PostgresStoreBase):
    """Trash, restore, purge, transfer."""

    async def trash_document(self, doc_id: str, by_user_id: str) -> DocumentRecord | None:
        if not is_uuid(doc_id):
            return None
        by = by_user_id if is_uuid(by_user_id) else None
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE documents d SET deleted_at = now(), deleted_by = %s "
                f"WHERE d.id = %s AND d.deleted_at IS NULL RETURNING {DOC_COLUMNS}",
                (by, doc_id),
            )
            row = await cur.fetchone()
            if row is not None:
                await conn.execute("DELETE FROM invitations WHERE doc_id = %s", (doc_id,))
        return as_document(row) if row else None

    async def get_trashed(self, doc_id: str) -> TrashedDocument | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one(
            f"SELECT {_TRASH_COLUMNS} FROM documents d "
            "WHERE d.id = %s AND d.deleted_at IS NOT NULL",
            (doc_id,),
        )
        return _as_trashed(row) if row else None

    async def list_trash(self, owner_id: str) -> list[TrashedDocument]:
        if not is_uuid(owner_id):
            return []
        rows = await self._all(
            f"SELECT {_TRASH_COLUMNS} FROM documents d "
            "WHERE d.owner_id = %s AND d.deleted_at IS NOT NULL ORDER BY d.deleted_at DESC, d.id",
            (owner_id,),
        )
        return [_as_trashed(r) for r in rows]

    async def restore_document(self, doc_id: str) -> DocumentRecord | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one(
            "UPDATE documents d SET deleted_at = NULL, deleted_by = NULL "
            f"WHERE d.id = %s AND d.deleted_at IS NOT NULL RETURNING {DOC_COLUMNS}",
            (doc_id,),
        )
        return as_document(row) if row else None

    async def purge_document(self, doc_id: str, *, deleted_before: datetime | None = None) -> bool:
        if not is_uuid(doc_id):
            return False
        row = await self._one(
            "DELETE FROM documents WHERE id = %s AND deleted_at IS NOT NULL "
            "AND (%s::timestamptz IS NULL OR deleted_at < %s::timestamptz) RETURNING id",
            (doc_id, deleted_before, deleted_before),
        )
        return row is not None

    async def expired_trash(self, deleted_before: datetime, limit: int) -> list[TrashedDocument]:
        rows = await self._all(
            f"SELECT {_TRASH_COLUMNS} FROM documents d WHERE d.deleted_at < %s "
            "ORDER BY d.deleted_at, d.id LIMIT %s",
            (deleted_before, limit),
        )
        return [_as_trashed(r) for r in rows]

    async def transfer_ownership(
        self, doc_id: str, from_user_id: str, to_user_id: str
    ) -> DocumentRecord | None:
        if not is_uuid(to_user_id):
            raise NotFoundError("no such document or user")
        if not is_uuid(doc_id) or not is_uuid(from_user_id):
            return None
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute("SELECT 1 FROM users WHERE id = %s", (to_user_id,))
            if await cur.fetchone() is None:
                raise NotFoundError("no such document or user")
            cur = await conn.execute(
                "UPDATE documents d SET owner_id = %s, updated_at = now() "
                "WHERE d.id = %s AND d.owner_id = %s AND d.deleted_at IS NULL "
                f"RETURNING {DOC_COLUMNS}",
                (to_user_id, doc_id, from_user_id),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            await conn.execute(
                "DELETE FROM document_permissions WHERE doc_id = %s AND user_id = %s",
                (doc_id, to_user_id),
            )
            await conn.execute(
                "INSERT INTO document_permissions (doc_id, user_id, role, by_address) "
                "VALUES (%s, %s, 'editor', true) ON CONFLICT (doc_id, user_id) "
                "DO UPDATE SET role = 'editor'",
                (doc_id, from_user_id),
            )
        return as_document(row)
