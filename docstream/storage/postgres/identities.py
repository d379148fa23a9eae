"""Single sign-on identities in PostgreSQL: which account an OpenID Connect ``(issuer, subject)``
signs in to (kept apart from the accounts mixin: only the OIDC sign-in uses them)."""

from __future__ import annotations

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import is_uuid


class PostgresIdentities(PostgresStoreBase):
    """Provider identities linked to accounts."""

    # --- single sign-on (OpenID Connect) ---------------------------------------------------------

    async def identity_user(self, issuer: str, subject: str) -> str | None:
        async with self._conn() as conn:
            cur = await conn.execute(
                "SELECT user_id FROM oidc_identities WHERE issuer = %s AND subject = %s",
                (issuer, subject),
            )
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def link_identity(self, issuer: str, subject: str, user_id: str) -> bool:
        if not is_uuid(user_id):
            raise NotFoundError("no such account")
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT 1 FROM users WHERE id = %s AND password_hash IS NOT NULL FOR SHARE",
                (user_id,),
            )
            if await cur.fetchone() is None:
                raise NotFoundError("no such account")
            cur = await conn.execute(
                "INSERT INTO oidc_identities (issuer, subject, user_id) VALUES (%s, %s, %s) "
                "ON CONFLICT (issuer, subject) DO NOTHING RETURNING user_id",
                (issuer, subject, user_id),
            )
            if await cur.fetchone() is not None:
                return True
            cur = await conn.execute(
                "SELECT user_id FROM oidc_identities WHERE issuer = %s AND subject = %s",
                (issuer, subject),
            )
            row = await cur.fetchone()
        if row is None or str(row[0]) != user_id:
            raise ConflictError("this identity is linked to another account")
        return False
