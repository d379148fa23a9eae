"""Password reset links and personal API tokens in PostgreSQL (hashes only, never the secrets)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docstream.errors import NotFoundError, QuotaExceededError
from docstream.storage.base import ApiToken, TokenScope, User
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import USER_COLUMNS, as_user, is_uuid

_COLUMNS = "id, user_id, name, scope, created_at, expires_at, last_used_at"
_UNEXPIRED = "(expires_at IS NULL OR expires_at > now())"


def _as_token(row: Sequence[Any]) -> ApiToken:
    return ApiToken(
        id=str(row[0]),
        user_id=str(row[1]),
        name=row[2],
        scope=row[3],
        created_at=row[4],
        expires_at=row[5],
        last_used_at=row[6],
    )


class PostgresRecovery(PostgresStoreBase):
    """Password resets and API tokens."""

    # --- password resets -------------------------------------------------------------------------

    async def create_password_reset(
        self, user_id: str, token_hash: str, expires_at: datetime
    ) -> None:
        if not is_uuid(user_id):
            raise NotFoundError("no such user")
        async with self._conn() as conn, conn.transaction():
            await conn.execute("DELETE FROM password_resets WHERE expires_at <= now()")
            cur = await conn.execute(
                "INSERT INTO password_resets (id, token_hash, user_id, expires_at) "
                "SELECT %s, %s, id, %s FROM users WHERE id = %s AND password_hash IS NOT NULL "
                "RETURNING id",
                (uuid.uuid4(), token_hash, expires_at, user_id),
            )
            if await cur.fetchone() is None:
                raise NotFoundError("no such user")

    async def redeem_password_reset(self, token_hash: str, password_hash: str) -> User | None:
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM password_resets WHERE token_hash = %s AND expires_at > now() "
                "RETURNING user_id",
                (token_hash,),
            )
            found = await cur.fetchone()
            if found is None:
                return None
            user_id = found[0]
            await conn.execute("DELETE FROM password_resets WHERE user_id = %s", (user_id,))
            cur = await conn.execute(
                f"UPDATE users SET password_hash = %s WHERE id = %s RETURNING {USER_COLUMNS}",
                (password_hash, user_id),
            )
            row = await cur.fetchone()
            return as_user(row) if row else None

    # --- API tokens ------------------------------------------------------------------------------

    async def create_api_token(
        self,
        user_id: str,
        name: str,
        scope: TokenScope,
        token_hash: str,
        expires_at: datetime | None,
        max_tokens: int,
    ) -> ApiToken:
        if not is_uuid(user_id):
            raise NotFoundError("no such user")
        async with self._conn() as conn, conn.transaction():
            # One creation per user at a time, so two requests cannot both pass the quota check.
            cur = await conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))
            if await cur.fetchone() is None:
                raise NotFoundError("no such user")
            await conn.execute("DELETE FROM api_tokens WHERE expires_at <= now()")
            cur = await conn.execute(
                "SELECT COUNT(*) FROM api_tokens WHERE user_id = %s", (user_id,)
            )
            counted = await cur.fetchone()
            count = int(counted[0]) if counted else 0
            if count >= max_tokens:
                raise QuotaExceededError(
                    f"you have {count} API tokens, the most allowed; revoke some first"
                )
            cur = await conn.execute(
                "INSERT INTO api_tokens (id, token_hash, user_id, name, scope, expires_at) "
                f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                (uuid.uuid4(), token_hash, user_id, name, scope, expires_at),
            )
            row = await cur.fetchone()
            assert row is not None
            return _as_token(row)

    async def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        if not is_uuid(user_id):
            return []
        rows = await self._all(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE user_id = %s AND {_UNEXPIRED} "
            "ORDER BY created_at, id",
            (user_id,),
        )
        return [_as_token(r) for r in rows]

    async def get_api_token(self, token_hash: str) -> ApiToken | None:
        row = await self._one(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = %s AND {_UNEXPIRED}",
            (token_hash,),
        )
        return _as_token(row) if row else None

    async def delete_api_token(self, user_id: str, token_id: str) -> bool:
        if not is_uuid(user_id) or not is_uuid(token_id):
            return False
        row = await self._one(
            "DELETE FROM api_tokens WHERE id = %s AND user_id = %s RETURNING id",
            (token_id, user_id),
        )
        return row is not None

    async def touch_api_token(self, token_id: str, used_at: datetime) -> None:
        if is_uuid(token_id):
            await self._one(
                "UPDATE api_tokens SET last_used_at = %s WHERE id = %s RETURNING id",
                (used_at, token_id),
            )
