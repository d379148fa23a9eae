"""Invitations in PostgreSQL: single-use, expiring links to a document, redeemed in one
transaction under row locks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from docstream.errors import NotFoundError, QuotaExceededError
from docstream.storage.base import Invitation, Role
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import (
    INVITATION_COLUMNS,
    INVITATION_FROM,
    as_invitation,
    is_uuid,
)


class PostgresInvitations(PostgresStoreBase):
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
        if not is_uuid(doc_id) or not is_uuid(invited_by):
            raise NotFoundError("no such document or user")
        async with self._conn() as conn, conn.transaction():
            # One inviter at a time, so two requests cannot both pass the quota check.
            await conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (invited_by,))
            await conn.execute("DELETE FROM invitations WHERE expires_at <= now()")
            await conn.execute(
                "DELETE FROM invitations WHERE doc_id = %s AND email = %s", (doc_id, email)
            )
            cur = await conn.execute(
                "SELECT COUNT(*) FROM invitations WHERE invited_by = %s", (invited_by,)
            )
            counted = await cur.fetchone()
            pending = int(counted[0]) if counted else 0
            if pending >= max_pending:
                raise QuotaExceededError(
                    f"you have {pending} pending invitations, the most allowed; withdraw some "
                    "or wait until they are accepted or expire"
                )
            await conn.execute(
                "INSERT INTO invitations (id, token_hash, doc_id, email, role, invited_by, "
                "expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (uuid.uuid4(), token_hash, doc_id, email, role, invited_by, expires_at),
            )
            cur = await conn.execute(
                f"SELECT {INVITATION_COLUMNS} {INVITATION_FROM} WHERE i.token_hash = %s",
                (token_hash,),
            )
            row = await cur.fetchone()
            assert row is not None
            return as_invitation(row)

    async def list_invitations(self, doc_id: str) -> list[Invitation]:
        if not is_uuid(doc_id):
            return []
        rows = await self._all(
            f"SELECT {INVITATION_COLUMNS} {INVITATION_FROM} "
            "WHERE i.doc_id = %s AND i.expires_at > now() ORDER BY i.created_at, i.email",
            (doc_id,),
        )
        return [as_invitation(r) for r in rows]

    async def get_invitation(self, token_hash: str) -> Invitation | None:
        row = await self._one(
            f"SELECT {INVITATION_COLUMNS} {INVITATION_FROM} "
            "WHERE i.token_hash = %s AND i.expires_at > now()",
            (token_hash,),
        )
        return as_invitation(row) if row else None

    async def delete_invitation(self, doc_id: str, invitation_id: str) -> bool:
        if not is_uuid(doc_id) or not is_uuid(invitation_id):
            return False
        row = await self._one(
            "DELETE FROM invitations WHERE doc_id = %s AND id = %s RETURNING id",
            (doc_id, invitation_id),
        )
        return row is not None

    async def redeem_invitation(
        self, token_hash: str, user_id: str
    ) -> tuple[Invitation, Role | None] | None:
        if not is_uuid(user_id):
            return None
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                f"SELECT {INVITATION_COLUMNS} {INVITATION_FROM} "
                "WHERE i.token_hash = %s AND i.expires_at > now() FOR UPDATE OF i",
                (token_hash,),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            inv = as_invitation(row)
            await conn.execute("DELETE FROM invitations WHERE id = %s", (inv.id,))
            cur = await conn.execute(
                "SELECT d.owner_id, (SELECT role FROM document_permissions "
                "WHERE doc_id = d.id AND user_id = %s), (SELECT role FROM document_permissions "
                "WHERE doc_id = d.id AND user_id = %s) FROM documents d WHERE d.id = %s "
                "FOR UPDATE",
                (inv.invited_by, user_id, inv.doc_id),
            )
            found = await cur.fetchone()
            role: Role | None = None
            if found is not None:
                owner_id, inviter_role, current = str(found[0]), found[1], found[2]
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
                    await conn.execute(
                        "INSERT INTO document_permissions (doc_id, user_id, role) "
                        "VALUES (%s, %s, %s) ON CONFLICT (doc_id, user_id) "
                        "DO UPDATE SET role = excluded.role",
                        (inv.doc_id, user_id, inv.role),
                    )
                    role = inv.role
            return inv, role
