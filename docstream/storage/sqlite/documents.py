"""Documents in SQLite: records, grants, public sharing and links, collaborators."""

from __future__ import annotations

import sqlite3
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
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import DOC_COLUMNS, as_document, now_iso

#: The users who share a document with ``user_id`` (the parameter, three times).
_CO_COLLABORATORS = (
    "WITH mine AS ( "
    "SELECT id AS doc_id FROM documents WHERE owner_id = ? "
    "UNION SELECT doc_id FROM document_permissions WHERE user_id = ? "
    "), members AS ( "
    "SELECT d.id AS doc_id, d.owner_id AS user_id, d.updated_at "
    "FROM documents d JOIN mine m ON m.doc_id = d.id WHERE d.deleted_at IS NULL "
    "UNION ALL SELECT p.doc_id, p.user_id, d.updated_at "
    "FROM document_permissions p JOIN mine m ON m.doc_id = p.doc_id "
    "JOIN documents d ON d.id = p.doc_id AND d.deleted_at IS NULL "
    ") "
    "SELECT u.id, u.name FROM members x JOIN users u ON u.id = x.user_id "
    "WHERE u.id <> ? AND u.password_hash IS NOT NULL "
    "GROUP BY u.id, u.name "
    "ORDER BY max(x.updated_at) DESC, count(*) DESC, u.id"
)


class SqliteDocuments(SqliteStoreBase):
    """Documents and permissions."""

    # --- documents -------------------------------------------------------------------------------

    async def create_document(self, owner_id: str, title: str) -> DocumentRecord:
        now = now_iso()
        row = await self._write(
            lambda conn: conn.execute(
                f"INSERT INTO documents (id, title, owner_id, created_at, updated_at) "
                f"VALUES (?, ?, ?, ?, ?) RETURNING {DOC_COLUMNS}",
                (str(uuid.uuid4()), title, owner_id, now, now),
            ).fetchone()
        )
        return as_document(row)

    async def get_document(self, doc_id: str) -> DocumentRecord | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {DOC_COLUMNS} FROM documents WHERE id = ? AND deleted_at IS NULL",
                (doc_id,),
            ).fetchone()
        )
        return as_document(row) if row else None

    async def list_documents(self, user_id: str) -> list[tuple[DocumentRecord, Role]]:
        cols = ", ".join("d." + c.strip() for c in DOC_COLUMNS.split(","))
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {cols}, CASE WHEN d.owner_id = ? THEN 'owner' ELSE p.role END "
                "FROM documents d LEFT JOIN document_permissions p "
                "ON p.doc_id = d.id AND p.user_id = ? "
                "WHERE (d.owner_id = ? OR p.user_id IS NOT NULL) AND d.deleted_at IS NULL "
                "ORDER BY d.updated_at DESC, d.id",
                (user_id, user_id, user_id),
            ).fetchall()
        )
        return [(as_document(r), cast(Role, r[8])) for r in rows]

    async def list_document_rows(self, user_id: str) -> list[DocumentListing]:
        cols = ", ".join("d." + c.strip() for c in DOC_COLUMNS.split(","))
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {cols}, CASE WHEN d.owner_id = ? THEN 'owner' ELSE p.role END, "
                "o.name, l.user_id, e.name "
                "FROM documents d LEFT JOIN document_permissions p "
                "ON p.doc_id = d.id AND p.user_id = ? "
                "JOIN users o ON o.id = d.owner_id "
                "LEFT JOIN ops_log l ON l.doc_id = d.id AND l.seq = d.seq "
                "LEFT JOIN users e ON e.id = l.user_id "
                "WHERE (d.owner_id = ? OR p.user_id IS NOT NULL) AND d.deleted_at IS NULL "
                "ORDER BY d.updated_at DESC, d.id",
                (user_id, user_id, user_id),
            ).fetchall()
        )
        return [DocumentListing(as_document(r), cast(Role, r[8]), r[9], r[10], r[11]) for r in rows]

    async def rename_document(self, doc_id: str, title: str) -> DocumentRecord | None:
        row = await self._write(
            lambda conn: conn.execute(
                "UPDATE documents SET title = ?, updated_at = ? WHERE id = ? "
                f"RETURNING {DOC_COLUMNS}",
                (title, now_iso(), doc_id),
            ).fetchone()
        )
        return as_document(row) if row else None

    async def delete_document(self, doc_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount > 0

        return await self._write(run)

    async def set_public_sharing(
        self, doc_id: str, enabled: bool, role: Literal["editor", "viewer"]
    ) -> DocumentRecord | None:
        row = await self._write(
            lambda conn: conn.execute(
                "UPDATE documents SET public_sharing_enabled = ?, public_sharing_role = ?, "
                f"updated_at = ? WHERE id = ? RETURNING {DOC_COLUMNS}",
                (int(enabled), role, now_iso(), doc_id),
            ).fetchone()
        )
        return as_document(row) if row else None

    async def get_public_link(self, doc_id: str) -> PublicLink | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT public_link_token, public_link_seq FROM documents WHERE id = ?", (doc_id,)
            ).fetchone()
        )
        return PublicLink(row[0], row[1]) if row and row[0] else None

    async def set_public_link(self, doc_id: str, token: str | None) -> PublicLink | None:
        row = await self._write(
            lambda conn: conn.execute(
                "UPDATE documents SET public_link_token = ?, public_link_seq = seq WHERE id = ? "
                "RETURNING public_link_token, public_link_seq",
                (token, doc_id),
            ).fetchone()
        )
        return PublicLink(row[0], row[1]) if row and row[0] else None

    async def get_role(
        self, doc_id: str, user_id: str
    ) -> tuple[DocumentRecord, Role | None] | None:
        cols = ", ".join("d." + c.strip() for c in DOC_COLUMNS.split(","))
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {cols}, CASE WHEN d.owner_id = ? THEN 'owner' ELSE p.role END "
                "FROM documents d LEFT JOIN document_permissions p "
                "ON p.doc_id = d.id AND p.user_id = ? WHERE d.id = ? AND d.deleted_at IS NULL",
                (user_id, user_id, doc_id),
            ).fetchone()
        )
        if row is None:
            return None
        return as_document(row), cast("Role | None", row[8])

    async def accessible_document_ids(
        self, user_id: str, doc_ids: Sequence[str], *, include_public: bool = True
    ) -> set[str]:
        if not doc_ids:
            return set()
        ids = list(doc_ids)
        public = "d.public_sharing_enabled = 1" if include_public else "0"

        def run(conn: sqlite3.Connection) -> set[str]:
            out: set[str] = set()
            for start in range(0, len(ids), 500):  # stay below SQLite's variable limit
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                out.update(
                    r[0]
                    for r in conn.execute(
                        f"SELECT d.id FROM documents d WHERE d.id IN ({marks}) "
                        "AND d.deleted_at IS NULL AND ("
                        f"d.owner_id = ? OR {public} OR EXISTS ("
                        "SELECT 1 FROM document_permissions p "
                        "WHERE p.doc_id = d.id AND p.user_id = ?))",
                        (*chunk, user_id, user_id),
                    )
                )
            return out

        return await self._read(run)

    async def set_permission(
        self,
        doc_id: str,
        user_id: str,
        role: GrantedRole,
        *,
        by_address: bool = True,
    ) -> None:
        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO document_permissions "
                    "(doc_id, user_id, role, created_at, by_address) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (doc_id, user_id) DO UPDATE SET role = excluded.role, "
                    "by_address = max(by_address, excluded.by_address)",
                    (doc_id, user_id, role, now_iso(), int(by_address)),
                )
            except sqlite3.IntegrityError as exc:
                raise NotFoundError("no such document or user") from exc

        await self._write(run)

    async def remove_permission(self, doc_id: str, user_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    "DELETE FROM document_permissions WHERE doc_id = ? AND user_id = ?",
                    (doc_id, user_id),
                ).rowcount
                > 0
            )

        return await self._write(run)

    async def list_collaborators(self, doc_id: str) -> list[Collaborator]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT u.id, u.email, u.name, 'owner', u.password_hash IS NULL, 0, 1 "
                "FROM documents d JOIN users u ON u.id = d.owner_id "
                "WHERE d.id = ? AND d.deleted_at IS NULL "
                "UNION ALL SELECT u.id, u.email, u.name, p.role, u.password_hash IS NULL, 1, "
                "p.by_address "
                "FROM document_permissions p JOIN users u ON u.id = p.user_id "
                "JOIN documents d ON d.id = p.doc_id AND d.deleted_at IS NULL "
                "WHERE p.doc_id = ? "
                "ORDER BY 6, 2",
                (doc_id, doc_id),
            ).fetchall()
        )
        return [
            Collaborator(
                user_id=r[0],
                email=r[1],
                name=r[2],
                role=r[3],
                pending=bool(r[4]),
                by_address=bool(r[6]),
            )
            for r in rows
        ]

    async def co_collaborators(self, user_id: str) -> list[Person]:
        rows = await self._read(
            lambda conn: conn.execute(_CO_COLLABORATORS, (user_id,) * 3).fetchall()
        )
        return [Person(user_id=r[0], name=r[1]) for r in rows]

    async def all_document_titles(self) -> list[tuple[str, str, str]]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT id, title, owner_id FROM documents WHERE deleted_at IS NULL "
                "ORDER BY created_at"
            ).fetchall()
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def count_owned_documents(self, owner_id: str) -> int:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT count(*) FROM documents WHERE owner_id = ?", (owner_id,)
            ).fetchone()
        )
        return int(row[0])
