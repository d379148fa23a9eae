"""Documents in PostgreSQL: records, grants, public sharing and links, collaborators."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal, cast

from docstream.errors import NotFoundError
from docstream.storage.base import (
    Collaborator,
    DocumentListing,
    DocumentRecord,
    GrantedRole,
    Person,
    PublicLink,
    Role,
)
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import DOC_COLUMNS, as_document, is_uuid

#: The users who share a document with ``user_id`` (the parameter, three times).
_CO_COLLABORATORS = (
    "WITH mine AS ( "
    "SELECT id AS doc_id FROM documents WHERE owner_id = %s "
    "UNION SELECT doc_id FROM document_permissions WHERE user_id = %s "
    "), members AS ( "
    "SELECT d.id AS doc_id, d.owner_id AS user_id, d.updated_at "
    "FROM documents d JOIN mine m ON m.doc_id = d.id WHERE d.deleted_at IS NULL "
    "UNION ALL SELECT p.doc_id, p.user_id, d.updated_at "
    "FROM document_permissions p JOIN mine m ON m.doc_id = p.doc_id "
    "JOIN documents d ON d.id = p.doc_id AND d.deleted_at IS NULL "
    ") "
    "SELECT u.id, u.name FROM members x JOIN users u ON u.id = x.user_id "
    "WHERE u.id <> %s AND u.password_hash IS NOT NULL "
    "GROUP BY u.id, u.name "
    "ORDER BY max(x.updated_at) DESC, count(*) DESC, u.id"
)


class PostgresDocuments(PostgresStoreBase):
    """Documents and permissions."""

    # --- documents -------------------------------------------------------------------------------

    async def create_document(self, owner_id: str, title: str) -> DocumentRecord:
        row = await self._one(
            f"INSERT INTO documents AS d (id, title, owner_id) VALUES (%s, %s, %s) "
            f"RETURNING {DOC_COLUMNS}",
            (uuid.uuid4(), title, owner_id),
        )
        assert row is not None
        return as_document(row)

    async def get_document(self, doc_id: str) -> DocumentRecord | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one(
            f"SELECT {DOC_COLUMNS} FROM documents d WHERE d.id = %s AND d.deleted_at IS NULL",
            (doc_id,),
        )
        return as_document(row) if row else None

    async def list_documents(self, user_id: str) -> list[tuple[DocumentRecord, Role]]:
        rows = await self._all(
            f"SELECT {DOC_COLUMNS}, CASE WHEN d.owner_id = %s THEN 'owner' ELSE p.role END "
            "FROM documents d LEFT JOIN document_permissions p "
            "ON p.doc_id = d.id AND p.user_id = %s "
            "WHERE (d.owner_id = %s OR p.user_id IS NOT NULL) AND d.deleted_at IS NULL "
            "ORDER BY d.updated_at DESC, d.id",
            (user_id, user_id, user_id),
        )
        return [(as_document(r), cast(Role, r[8])) for r in rows]

    async def list_document_rows(self, user_id: str) -> list[DocumentListing]:
        rows = await self._all(
            f"SELECT {DOC_COLUMNS}, CASE WHEN d.owner_id = %s THEN 'owner' ELSE p.role END, "
            "o.name, l.user_id, e.name "
            "FROM documents d LEFT JOIN document_permissions p "
            "ON p.doc_id = d.id AND p.user_id = %s "
            "JOIN users o ON o.id = d.owner_id "
            "LEFT JOIN ops_log l ON l.doc_id = d.id AND l.seq = d.seq "
            "LEFT JOIN users e ON e.id::text = l.user_id "
            "WHERE (d.owner_id = %s OR p.user_id IS NOT NULL) AND d.deleted_at IS NULL "
            "ORDER BY d.updated_at DESC, d.id",
            (user_id, user_id, user_id),
        )
        return [DocumentListing(as_document(r), cast(Role, r[8]), r[9], r[10], r[11]) for r in rows]

    async def rename_document(self, doc_id: str, title: str) -> DocumentRecord | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one(
            f"UPDATE documents d SET title = %s, updated_at = now() WHERE d.id = %s "
            f"RETURNING {DOC_COLUMNS}",
            (title, doc_id),
        )
        return as_document(row) if row else None

    async def delete_document(self, doc_id: str) -> bool:
        if not is_uuid(doc_id):
            return False
        row = await self._one("DELETE FROM documents WHERE id = %s RETURNING id", (doc_id,))
        return row is not None

    async def set_public_sharing(
        self, doc_id: str, enabled: bool, role: Literal["editor", "viewer"]
    ) -> DocumentRecord | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one(
            "UPDATE documents d SET public_sharing_enabled = %s, public_sharing_role = %s, "
            f"updated_at = now() WHERE d.id = %s RETURNING {DOC_COLUMNS}",
            (enabled, role, doc_id),
        )
        return as_document(row) if row else None

    async def get_public_link(self, doc_id: str) -> PublicLink | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one(
            "SELECT public_link_token, public_link_seq FROM documents WHERE id = %s", (doc_id,)
        )
        return PublicLink(row[0], row[1]) if row and row[0] else None

    async def set_public_link(self, doc_id: str, token: str | None) -> PublicLink | None:
        if not is_uuid(doc_id):
            return None
        row = await self._one(
            "UPDATE documents SET public_link_token = %s, public_link_seq = seq WHERE id = %s "
            "RETURNING public_link_token, public_link_seq",
            (token, doc_id),
        )
        return PublicLink(row[0], row[1]) if row and row[0] else None

    async def get_role(
        self, doc_id: str, user_id: str
    ) -> tuple[DocumentRecord, Role | None] | None:
        if not is_uuid(doc_id) or not is_uuid(user_id):
            return None if not is_uuid(doc_id) else await self._doc_without_role(doc_id)
        row = await self._one(
            f"SELECT {DOC_COLUMNS}, CASE WHEN d.owner_id = %s THEN 'owner' ELSE p.role END "
            "FROM documents d LEFT JOIN document_permissions p "
            "ON p.doc_id = d.id AND p.user_id = %s WHERE d.id = %s AND d.deleted_at IS NULL",
            (user_id, user_id, doc_id),
        )
        if row is None:
            return None
        return as_document(row), cast("Role | None", row[8])

    async def _doc_without_role(self, doc_id: str) -> tuple[DocumentRecord, Role | None] | None:
        doc = await self.get_document(doc_id)
        return None if doc is None else (doc, None)

    async def accessible_document_ids(
        self, user_id: str, doc_ids: Sequence[str], *, include_public: bool = True
    ) -> set[str]:
        ids = [d for d in doc_ids if is_uuid(d)]
        if not ids:
            return set()
        uid = user_id if is_uuid(user_id) else None
        rows = await self._all(
            "SELECT d.id FROM documents d WHERE d.id = ANY(%s::uuid[]) AND d.deleted_at IS NULL "
            "AND ("
            "d.owner_id = %s OR (d.public_sharing_enabled AND %s) OR EXISTS ("
            "SELECT 1 FROM document_permissions p WHERE p.doc_id = d.id AND p.user_id = %s))",
            (ids, uid, include_public, uid),
        )
        return {r[0] for r in rows}

    async def set_permission(
        self,
        doc_id: str,
        user_id: str,
        role: GrantedRole,
        *,
        by_address: bool = True,
    ) -> None:
        if not is_uuid(doc_id) or not is_uuid(user_id):
            raise NotFoundError("no such document or user")
        await self._one(
            "INSERT INTO document_permissions (doc_id, user_id, role, by_address) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (doc_id, user_id) DO UPDATE SET "
            "role = excluded.role, "
            "by_address = document_permissions.by_address OR excluded.by_address "
            "RETURNING doc_id",
            (doc_id, user_id, role, by_address),
        )

    async def remove_permission(self, doc_id: str, user_id: str) -> bool:
        if not is_uuid(doc_id) or not is_uuid(user_id):
            return False
        row = await self._one(
            "DELETE FROM document_permissions WHERE doc_id = %s AND user_id = %s RETURNING doc_id",
            (doc_id, user_id),
        )
        return row is not None

    async def list_collaborators(self, doc_id: str) -> list[Collaborator]:
        if not is_uuid(doc_id):
            return []
        rows = await self._all(
            "SELECT u.id, u.email, u.name, 'owner', u.password_hash IS NULL, 0 AS k, true "
            "FROM documents d JOIN users u ON u.id = d.owner_id "
            "WHERE d.id = %s AND d.deleted_at IS NULL "
            "UNION ALL SELECT u.id, u.email, u.name, p.role, u.password_hash IS NULL, 1, "
            "p.by_address "
            "FROM document_permissions p JOIN users u ON u.id = p.user_id "
            "JOIN documents d ON d.id = p.doc_id AND d.deleted_at IS NULL "
            "WHERE p.doc_id = %s "
            "ORDER BY 6, 2",
            (doc_id, doc_id),
        )
        return [
            Collaborator(
                user_id=r[0], email=r[1], name=r[2], role=r[3], pending=r[4], by_address=r[6]
            )
            for r in rows
        ]

    async def co_collaborators(self, user_id: str) -> list[Person]:
        if not is_uuid(user_id):
            return []
        rows = await self._all(_CO_COLLABORATORS, (user_id,) * 3)
        return [Person(user_id=str(r[0]), name=r[1]) for r in rows]

    async def all_document_titles(self) -> list[tuple[str, str, str]]:
        rows = await self._all(
            "SELECT id, title, owner_id FROM documents WHERE deleted_at IS NULL ORDER BY created_at"
        )
        return [(str(r[0]), r[1], str(r[2])) for r in rows]

    async def count_owned_documents(self, owner_id: str) -> int:
        if not is_uuid(owner_id):
            return 0
        row = await self._one("SELECT count(*) FROM documents WHERE owner_id = %s", (owner_id,))
        return int(row[0]) if row else 0
