"""Accounts in PostgreSQL: users, signed-in sessions (refresh token families) and replica
bindings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.base import RotateOutcome, User, utcnow
from docstream.storage.postgres.connection import PostgresStoreBase
from docstream.storage.postgres.rows import USER_COLUMNS, as_user, is_uuid


class PostgresAccounts(PostgresStoreBase):
    """Users, sessions and replicas."""

    # --- users -----------------------------------------------------------------------------------

    async def register_user(self, email: str, name: str, password_hash: str) -> User:
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                f"SELECT {USER_COLUMNS} FROM users WHERE email = %s FOR UPDATE", (email,)
            )
            row = await cur.fetchone()
            if row is not None and row[3] is not None:
                raise ConflictError("an account with this email already exists")
            if row is not None:
                # An invited user of an older version: whatever it was granted was meant for
                # whoever received the invitation, not for whoever registers the address.
                await conn.execute("DELETE FROM document_permissions WHERE user_id = %s", (row[0],))
                cur = await conn.execute(
                    f"UPDATE users SET name = %s, password_hash = %s WHERE id = %s "
                    f"RETURNING {USER_COLUMNS}",
                    (name, password_hash, row[0]),
                )
            else:
                cur = await conn.execute(
                    f"INSERT INTO users (id, email, name, password_hash) VALUES (%s, %s, %s, %s) "
                    f"RETURNING {USER_COLUMNS}",
                    (uuid.uuid4(), email, name, password_hash),
                )
            out = await cur.fetchone()
            assert out is not None
            return as_user(out)

    async def get_or_create_pending_user(self, email: str) -> User:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO users (id, email, name) VALUES (%s, %s, %s) "
                "ON CONFLICT (email) DO NOTHING",
                (uuid.uuid4(), email, ""),  # a name is never made from the address
            )
            cur = await conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE email = %s", (email,))
            row = await cur.fetchone()
            assert row is not None
            return as_user(row)

    async def get_user(self, user_id: str) -> User | None:
        if not is_uuid(user_id):
            return None
        row = await self._one(f"SELECT {USER_COLUMNS} FROM users WHERE id = %s", (user_id,))
        return as_user(row) if row else None

    async def set_user_name(self, user_id: str, name: str) -> User | None:
        if not is_uuid(user_id):
            return None
        row = await self._one(
            f"UPDATE users SET name = %s WHERE id = %s AND password_hash IS NOT NULL "
            f"RETURNING {USER_COLUMNS}",
            (name, user_id),
        )
        return as_user(row) if row else None

    async def get_user_by_email(self, email: str) -> User | None:
        row = await self._one(f"SELECT {USER_COLUMNS} FROM users WHERE email = %s", (email,))
        return as_user(row) if row else None

    async def set_password(self, user_id: str, password_hash: str) -> None:
        if not is_uuid(user_id):
            raise NotFoundError("no such user")
        await self._one(
            "UPDATE users SET password_hash = %s WHERE id = %s RETURNING id",
            (password_hash, user_id),
        )

    # --- sessions --------------------------------------------------------------------------------

    async def create_session(
        self, session_id: str, user_id: str, refresh_jti: str, expires_at: datetime
    ) -> None:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM sessions WHERE expires_at < %s", (utcnow() - timedelta(days=1),)
            )
            await conn.execute(
                "INSERT INTO sessions (id, user_id, refresh_jti, expires_at) "
                "VALUES (%s, %s, %s, %s)",
                (session_id, user_id, refresh_jti, expires_at),
            )

    async def rotate_session(
        self, session_id: str, old_jti: str, new_jti: str, expires_at: datetime
    ) -> RotateOutcome:
        if not is_uuid(session_id):
            return "unknown"
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT refresh_jti, revoked_at IS NOT NULL OR expires_at < now() "
                "FROM sessions WHERE id = %s FOR UPDATE",
                (session_id,),
            )
            row = await cur.fetchone()
            if row is None:
                return "unknown"
            if row[1]:
                return "revoked"
            if row[0] != old_jti:
                await conn.execute(
                    "UPDATE sessions SET revoked_at = now() WHERE id = %s", (session_id,)
                )
                return "reused"
            await conn.execute(
                "UPDATE sessions SET refresh_jti = %s, expires_at = %s WHERE id = %s",
                (new_jti, expires_at, session_id),
            )
            return "rotated"

    async def revoke_sessions(
        self, user_id: str, *, only: str | None = None, keep: str | None = None
    ) -> list[str]:
        if not is_uuid(user_id) or (only is not None and not is_uuid(only)):
            return []
        keep = keep if keep is not None and is_uuid(keep) else None
        rows = await self._all(
            "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL "
            "AND (%s::uuid IS NULL OR id = %s::uuid) AND (%s::uuid IS NULL OR id <> %s::uuid) "
            "RETURNING id",
            (user_id, only, only, keep, keep),
        )
        return [str(r[0]) for r in rows]

    async def dead_sessions(self, session_ids: Sequence[str]) -> set[str]:
        ids = list(dict.fromkeys(session_ids))
        valid = [i for i in ids if is_uuid(i)]
        if not valid:
            return set(ids)
        rows = await self._all(
            "SELECT id FROM sessions WHERE id = ANY(%s::uuid[]) "
            "AND revoked_at IS NULL AND expires_at > now()",
            (valid,),
        )
        return set(ids) - {str(r[0]) for r in rows}

    # --- replicas --------------------------------------------------------------------------------

    async def bind_replica(self, replica_id: str, user_id: str) -> str:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO replicas AS r (replica_id, user_id) VALUES (%s, %s) "
                "ON CONFLICT (replica_id) DO UPDATE SET last_seen_at = now() "
                "WHERE r.user_id = excluded.user_id",
                (replica_id, user_id),
            )
            cur = await conn.execute(
                "SELECT user_id FROM replicas WHERE replica_id = %s", (replica_id,)
            )
            row = await cur.fetchone()
            assert row is not None
            return str(row[0])

    async def prune_replicas(self, unseen_since: datetime, limit: int = 10_000) -> int:
        async with self._conn() as conn:
            cur = await conn.execute(
                "DELETE FROM replicas WHERE replica_id IN (SELECT r.replica_id FROM replicas r "
                "WHERE r.last_seen_at < %s AND NOT EXISTS "
                "(SELECT 1 FROM ops_log l WHERE l.replica = r.replica_id) AND NOT EXISTS "
                "(SELECT 1 FROM ops_pack_authors a WHERE a.replica = r.replica_id) LIMIT %s)",
                (unseen_since, limit),
            )
            return cur.rowcount
