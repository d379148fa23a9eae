"""Server administration in PostgreSQL: the first administrator, run-time server settings,
server invitations, the user list and deleting accounts.

A mixin of its own so the administration of the server stays apart from the accounts' daily
use. Claiming the first administrator takes a transaction-scoped advisory lock: under READ
COMMITTED two concurrent "no administrator yet?" checks would otherwise both see none.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from docstream.errors import NotFoundError
from docstream.storage.base import AccountDeletion, ServerInvitation, UserSummary
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import USER_COLUMNS, as_user, is_uuid

_FIRST_ADMIN_LOCK = 0x61646D6E  # "admn"
_INVITATION_COLUMNS = "id, email, created_by, created_at, expires_at"


def _invitation(row: tuple[Any, ...]) -> ServerInvitation:
    return ServerInvitation(
        id=row[0], email=row[1], created_by=row[2], created_at=row[3], expires_at=row[4]
    )


def _like(query: str) -> str:
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PostgresServerAdmin(PostgresStoreBase):
    """The server's administration: see the module docstring."""

    async def claim_first_admin(self, user_id: str) -> bool:
        if not is_uuid(user_id):
            return False
        async with self._conn() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_FIRST_ADMIN_LOCK,))
            cur = await conn.execute(
                "UPDATE users SET is_admin = true WHERE id = %s AND password_hash IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM users WHERE is_admin AND disabled_at IS NULL)",
                (user_id,),
            )
            return cur.rowcount == 1

    async def get_server_setting(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM server_settings WHERE key = %s", (key,))
        return str(row[0]) if row else None

    async def set_server_setting(self, key: str, value: str | None) -> None:
        if value is None:
            await self._one("DELETE FROM server_settings WHERE key = %s RETURNING key", (key,))
            return
        await self._one(
            "INSERT INTO server_settings (key, value) VALUES (%s, %s) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value, updated_at = now() RETURNING key",
            (key, value),
        )

    async def create_server_invitation(
        self, email: str, created_by: str, token_hash: str, expires_at: datetime
    ) -> ServerInvitation:
        if not is_uuid(created_by):
            raise NotFoundError("no such user")
        async with self._conn() as conn, conn.transaction():
            await conn.execute("DELETE FROM server_invitations WHERE email = %s", (email,))
            cur = await conn.execute(
                "INSERT INTO server_invitations (id, token_hash, email, created_by, expires_at) "
                f"VALUES (%s, %s, %s, %s, %s) RETURNING {_INVITATION_COLUMNS}",
                (uuid.uuid4(), token_hash, email, created_by, expires_at),
            )
            row = await cur.fetchone()
            assert row is not None
            return _invitation(row)

    async def list_server_invitations(self) -> list[ServerInvitation]:
        rows = await self._all(
            f"SELECT {_INVITATION_COLUMNS} FROM server_invitations WHERE expires_at > now() "
            "ORDER BY created_at, id"
        )
        return [_invitation(r) for r in rows]

    async def get_server_invitation(self, token_hash: str) -> ServerInvitation | None:
        row = await self._one(
            f"SELECT {_INVITATION_COLUMNS} FROM server_invitations "
            "WHERE token_hash = %s AND expires_at > now()",
            (token_hash,),
        )
        return _invitation(row) if row else None

    async def delete_server_invitation(self, invitation_id: str) -> bool:
        if not is_uuid(invitation_id):
            return False
        row = await self._one(
            "DELETE FROM server_invitations WHERE id = %s RETURNING id", (invitation_id,)
        )
        return row is not None

    async def signup_invited(self, email: str) -> bool:
        row = await self._one(
            "SELECT EXISTS (SELECT 1 FROM server_invitations WHERE email = %s "
            "AND expires_at > now()) OR EXISTS (SELECT 1 FROM invitations WHERE email = %s "
            "AND expires_at > now())",
            (email, email),
        )
        return bool(row and row[0])

    async def use_server_invitations(self, email: str) -> None:
        async with self._conn() as conn:
            await conn.execute("DELETE FROM server_invitations WHERE email = %s", (email,))

    async def list_users(
        self, query: str, limit: int, offset: int
    ) -> tuple[list[UserSummary], int]:
        pattern = _like(query)
        where = (
            "WHERE u.password_hash IS NOT NULL AND (lower(u.email) LIKE %s "
            "OR lower(u.name) LIKE %s)"
        )
        columns = ", ".join(f"u.{c.strip()}" for c in USER_COLUMNS.split(","))
        total = await self._one(f"SELECT count(*) FROM users u {where}", (pattern, pattern))
        rows = await self._all(
            f"SELECT {columns}, "
            "(SELECT count(*) FROM documents d WHERE d.owner_id = u.id), "
            "(SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id) "
            f"FROM users u {where} ORDER BY u.email LIMIT %s OFFSET %s",
            (pattern, pattern, limit, offset),
        )
        summaries = [
            UserSummary(user=as_user(r[:7]), documents=int(r[7]), last_sign_in=r[8]) for r in rows
        ]
        return summaries, int(total[0]) if total else 0

    async def server_counts(self) -> tuple[int, int]:
        row = await self._one(
            "SELECT (SELECT count(*) FROM users WHERE password_hash IS NOT NULL), "
            "(SELECT count(*) FROM documents)"
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def delete_user(self, user_id: str, transfer_to: str | None) -> AccountDeletion | None:
        if not is_uuid(user_id):
            return None
        if transfer_to is not None and (not is_uuid(transfer_to) or transfer_to == user_id):
            raise NotFoundError("the new owner must be another registered user")
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT 1 FROM users WHERE id = %s AND password_hash IS NOT NULL FOR UPDATE",
                (user_id,),
            )
            if await cur.fetchone() is None:
                return None
            if transfer_to is not None:
                cur = await conn.execute(
                    "SELECT 1 FROM users WHERE id = %s AND password_hash IS NOT NULL FOR SHARE",
                    (transfer_to,),
                )
                if await cur.fetchone() is None:
                    raise NotFoundError("the new owner must be another registered user")
            cur = await conn.execute(
                "SELECT id FROM documents WHERE owner_id = %s FOR UPDATE", (user_id,)
            )
            owned = tuple(str(r[0]) for r in await cur.fetchall())
            cur = await conn.execute(
                "SELECT doc_id FROM document_permissions WHERE user_id = %s", (user_id,)
            )
            granted = tuple(str(r[0]) for r in await cur.fetchall())
            if transfer_to is not None:
                await conn.execute(
                    "UPDATE documents SET owner_id = %s WHERE owner_id = %s",
                    (transfer_to, user_id),
                )
                await conn.execute(
                    "DELETE FROM document_permissions "
                    "WHERE user_id = %s AND doc_id = ANY(%s::uuid[])",
                    (transfer_to, list(owned)),
                )
            else:
                await conn.execute("DELETE FROM documents WHERE owner_id = %s", (user_id,))
            # Grants, sessions and invitations cascade with the user row.
            await conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
        if transfer_to is not None:
            return AccountDeletion(transferred=owned, grants_removed=granted)
        return AccountDeletion(deleted=owned, grants_removed=granted)
