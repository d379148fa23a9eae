"""Invitations in SQLite: single-use, expiring links to a document, redeemed in one transaction."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime
from typing import Literal

from docstream.errors import NotFoundError, QuotaExceededError
from docstream.storage.base import Invitation, Role
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import (
    INVITATION_COLUMNS,
    INVITATION_FROM,
    as_invitation,
    now_iso,
    to_iso,
)


class SqliteInvitations(SqliteStoreBase):
    """Invitations."""

    # --- invitations -----------------------------------------------------------------------------

    async def create_invitation(
        self,
        doc_id: str,
        email: str,
        role: Literal["editor", "viewer"],
        invited_by: str,
        token_hash: str,
        expires_at: datetime,
        max_pending: int,
    ) -> Invitation:
        def run(conn: sqlite3.Connection) -> Invitation:
            now = now_iso()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM invitations WHERE expires_at <= ?", (now,))
            conn.execute("DELETE FROM invitations WHERE doc_id = ? AND email = ?", (doc_id, email))
            (pending,) = conn.execute(
                "SELECT COUNT(*) FROM invitations WHERE invited_by = ?", (invited_by,)
            ).fetchone()
            if pending >= max_pending:
                conn.execute("ROLLBACK")
                raise QuotaExceededError(
                    f"you have {pending} pending invitations, the most allowed; withdraw some "
                    "or wait until they are accepted or expire"
                )
            try:
                conn.execute(
                    "INSERT INTO invitations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(uuid.uuid4()),
                        token_hash,
                        doc_id,
                        email,
                        role,
                        invited_by,
                        now,
                        to_iso(expires_at),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise NotFoundError("no such document or user") from exc
            row = conn.execute(
                f"SELECT {INVITATION_COLUMNS} {INVITATION_FROM} WHERE i.token_hash = ?",
                (token_hash,),
            ).fetchone()
            conn.execute("COMMIT")
            return as_invitation(row)

        return await self._write(run)

    async def list_invitations(self, doc_id: str) -> list[Invitation]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {INVITATION_COLUMNS} {INVITATION_FROM} "
                "WHERE i.doc_id = ? AND i.expires_at > ? ORDER BY i.created_at, i.email",
                (doc_id, now_iso()),
            ).fetchall()
        )
        return [as_invitation(r) for r in rows]

    async def get_invitation(self, token_hash: str) -> Invitation | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {INVITATION_COLUMNS} {INVITATION_FROM} "
                "WHERE i.token_hash = ? AND i.expires_at > ?",
                (token_hash, now_iso()),
            ).fetchone()
        )
        return as_invitation(row) if row else None

    async def delete_invitation(self, doc_id: str, invitation_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    "DELETE FROM invitations WHERE doc_id = ? AND id = ?", (doc_id, invitation_id)
                ).rowcount
                > 0
            )

        return await self._write(run)

    async def redeem_invitation(
        self, token_hash: str, user_id: str
    ) -> tuple[Invitation, Role | None] | None:
        def run(conn: sqlite3.Connection) -> tuple[Invitation, Role | None] | None:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                f"SELECT {INVITATION_COLUMNS} {INVITATION_FROM} "
                "WHERE i.token_hash = ? AND i.expires_at > ?",
                (token_hash, now_iso()),
            ).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                return None
            inv = as_invitation(row)
            conn.execute("DELETE FROM invitations WHERE id = ?", (inv.id,))
            found = conn.execute(
                "SELECT d.owner_id, (SELECT role FROM document_permissions "
                "WHERE doc_id = d.id AND user_id = ?), (SELECT role FROM document_permissions "
                "WHERE doc_id = d.id AND user_id = ?) FROM documents d WHERE d.id = ?",
                (inv.invited_by, user_id, inv.doc_id),
            ).fetchone()
            role: Role | None = None
            if found is not None:
                owner_id, inviter_role, current = found
                allowed = owner_id == inv.invited_by or (
                    inv.role == "viewer" and inviter_role == "editor"
                )
                if owner_id == user_id:
                    role = "owner"
                elif (
                    current == "editor"
                    or (current == "commenter" and inv.role == "viewer")  # never lowered
                    or (current in ("viewer", "commenter") and not allowed)
                ):
                    role = current
                elif allowed:
                    conn.execute(
                        "INSERT INTO document_permissions (doc_id, user_id, role, created_at) "
                        "VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (doc_id, user_id) DO UPDATE SET role = excluded.role",
                        (inv.doc_id, user_id, inv.role, now_iso()),
                    )
                    role = inv.role
            conn.execute("COMMIT")
            return inv, role

        return await self._write(run)
