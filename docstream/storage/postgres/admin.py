"""Administrators and disabled accounts in PostgreSQL (the flags on ``users``)."""

from __future__ import annotations

from docstream.storage.base import User
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import USER_COLUMNS, as_user, is_uuid


class PostgresAdmin(PostgresStoreBase):
    """Who administers the server, and which accounts are disabled."""

    async def set_admin(self, user_id: str, is_admin: bool) -> User | None:
        if not is_uuid(user_id):
            return None
        row = await self._one(
            f"UPDATE users SET is_admin = %s WHERE id = %s AND password_hash IS NOT NULL "
            f"RETURNING {USER_COLUMNS}",
            (is_admin, user_id),
        )
        return as_user(row) if row else None

    async def set_disabled(self, user_id: str, disabled: bool) -> User | None:
        if not is_uuid(user_id):
            return None
        row = await self._one(
            # Disabling keeps the first time it happened; enabling clears it.
            f"UPDATE users SET disabled_at = CASE WHEN %s THEN COALESCE(disabled_at, now()) END "
            f"WHERE id = %s RETURNING {USER_COLUMNS}",
            (disabled, user_id),
        )
        return as_user(row) if row else None

    async def count_admins(self) -> int:
        row = await self._one(
            "SELECT count(*) FROM users WHERE is_admin AND disabled_at IS NULL", ()
        )
        assert row is not None
        return int(row[0])
