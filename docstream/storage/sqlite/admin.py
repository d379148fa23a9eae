"""Administrators and disabled accounts in SQLite (the flags on ``users``)."""

from __future__ import annotations

from docstream.storage.base import User
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import USER_COLUMNS, as_user, now_iso


class SqliteAdmin(SqliteStoreBase):
    """Who administers the server, and which accounts are disabled."""

    async def set_admin(self, user_id: str, is_admin: bool) -> User | None:
        row = await self._write(
            lambda conn: conn.execute(
                f"UPDATE users SET is_admin = ? WHERE id = ? AND password_hash IS NOT NULL "
                f"RETURNING {USER_COLUMNS}",
                (int(is_admin), user_id),
            ).fetchone()
        )
        return as_user(row) if row else None

    async def set_disabled(self, user_id: str, disabled: bool) -> User | None:
        row = await self._write(
            lambda conn: conn.execute(
                # Disabling keeps the first time it happened; enabling clears it.
                f"UPDATE users SET disabled_at = CASE WHEN ? THEN COALESCE(disabled_at, ?) END "
                f"WHERE id = ? RETURNING {USER_COLUMNS}",
                (int(disabled), now_iso(), user_id),
            ).fetchone()
        )
        return as_user(row) if row else None

    async def count_admins(self) -> int:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT count(*) FROM users WHERE is_admin = 1 AND disabled_at IS NULL"
            ).fetchone()
        )
        return int(row[0])
