"""Password reset links and personal API tokens in SQLite (hashes only, never the secrets)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docstream.errors import NotFoundError, QuotaExceededError
from docstream.storage.base import ApiToken, TokenScope, User
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import USER_COLUMNS, as_user, now_iso, parse_ts, to_iso

_COLUMNS = "id, user_id, name, scope, created_at, expires_at, last_used_at"
_UNEXPIRED = "(expires_at IS NULL OR expires_at > ?)"


def _as_token(row: Sequence[Any]) -> ApiToken:
    return ApiToken(
        id=row[0],
        user_id=row[1],
        name=row[2],
        scope=row[3],
        created_at=parse_ts(row[4]),
        expires_at=parse_ts(row[5]) if row[5] else None,
        last_used_at=parse_ts(row[6]) if row[6] else None,
    )


class SqliteRecovery(SqliteStoreBase):
    """Password resets and API tokens."""

    # --- password resets -------------------------------------------------------------------------

    async def create_password_reset(
        self, user_id: str, token_hash: str, expires_at: datetime
    ) -> None:
        def run(conn: sqlite3.Connection) -> None:
            now = now_iso()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM password_resets WHERE expires_at <= ?", (now,))
            found = conn.execute(
                "SELECT 1 FROM users WHERE id = ? AND password_hash IS NOT NULL", (user_id,)
            ).fetchone()
            if found is None:
                conn.execute("ROLLBACK")
                raise NotFoundError("no such user")
            conn.execute(
                "INSERT INTO password_resets VALUES (?, ?, ?, ?, ?)",
                (str(uuid.uuid4()), token_hash, user_id, now, to_iso(expires_at)),
            )
            conn.execute("COMMIT")

        await self._write(run)

    async def redeem_password_reset(self, token_hash: str, password_hash: str) -> User | None:
        def run(conn: sqlite3.Connection) -> User | None:
            conn.execute("BEGIN IMMEDIATE")
            found = conn.execute(
                "SELECT user_id FROM password_resets WHERE token_hash = ? AND expires_at > ?",
                (token_hash, now_iso()),
            ).fetchone()
            if found is None:
                conn.execute("ROLLBACK")
                return None
            (user_id,) = found
            conn.execute("DELETE FROM password_resets WHERE user_id = ?", (user_id,))
            row = conn.execute(
                f"UPDATE users SET password_hash = ? WHERE id = ? RETURNING {USER_COLUMNS}",
                (password_hash, user_id),
            ).fetchone()
            conn.execute("COMMIT")
            return as_user(row) if row else None

        return await self._write(run)

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
        def run(conn: sqlite3.Connection) -> ApiToken:
            now = now_iso()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM api_tokens WHERE expires_at <= ?", (now,))
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM api_tokens WHERE user_id = ?", (user_id,)
            ).fetchone()
            if count >= max_tokens:
                conn.execute("ROLLBACK")
                raise QuotaExceededError(
                    f"you have {count} API tokens, the most allowed; revoke some first"
                )
            try:
                row = conn.execute(
                    f"INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL) "
                    f"RETURNING {_COLUMNS}",
                    (
                        str(uuid.uuid4()),
                        token_hash,
                        user_id,
                        name,
                        scope,
                        now,
                        to_iso(expires_at) if expires_at else None,
                    ),
                ).fetchone()
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise NotFoundError("no such user") from exc
            conn.execute("COMMIT")
            return _as_token(row)

        return await self._write(run)

    async def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM api_tokens WHERE user_id = ? AND {_UNEXPIRED} "
                "ORDER BY created_at, id",
                (user_id, now_iso()),
            ).fetchall()
        )
        return [_as_token(r) for r in rows]

    async def get_api_token(self, token_hash: str) -> ApiToken | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = ? AND {_UNEXPIRED}",
                (token_hash, now_iso()),
            ).fetchone()
        )
        return _as_token(row) if row else None

    async def delete_api_token(self, user_id: str, token_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "DELETE FROM api_tokens WHERE id = ? AND user_id = ?", (token_id, user_id)
            )
            return cur.rowcount > 0

        return await self._write(run)

    async def touch_api_token(self, token_id: str, used_at: datetime) -> None:
        await self._write(
            lambda conn: conn.execute(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (to_iso(used_at), token_id)
            )
        )
