"""Single sign-on identities in SQLite: which account an OpenID Connect ``(issuer, subject)``
signs in to (kept apart from the accounts mixin: only the OIDC sign-in uses them)."""

from __future__ import annotations

import sqlite3

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import now_iso


class SqliteIdentities(SqliteStoreBase):
    """Provider identities linked to accounts."""

    # --- single sign-on (OpenID Connect) ---------------------------------------------------------

    async def identity_user(self, issuer: str, subject: str) -> str | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT user_id FROM oidc_identities WHERE issuer = ? AND subject = ?",
                (issuer, subject),
            ).fetchone()
        )
        return str(row[0]) if row else None

    async def link_identity(self, issuer: str, subject: str, user_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            conn.execute("BEGIN IMMEDIATE")
            user = conn.execute(
                "SELECT 1 FROM users WHERE id = ? AND password_hash IS NOT NULL", (user_id,)
            ).fetchone()
            if user is None:
                conn.execute("ROLLBACK")
                raise NotFoundError("no such account")
            row = conn.execute(
                "SELECT user_id FROM oidc_identities WHERE issuer = ? AND subject = ?",
                (issuer, subject),
            ).fetchone()
            if row is not None:
                conn.execute("ROLLBACK")
                if row[0] != user_id:
                    raise ConflictError("this identity is linked to another account")
                return False
            conn.execute(
                "INSERT INTO oidc_identities VALUES (?, ?, ?, ?)",
                (issuer, subject, user_id, now_iso()),
            )
            conn.execute("COMMIT")
            return True

        return await self._write(run)
