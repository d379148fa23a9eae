"""Accounts in SQLite: users, signed-in sessions (refresh token families) and replica bindings."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.base import RotateOutcome, User, utcnow
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import USER_COLUMNS, as_user, now_iso, to_iso


class SqliteAccounts(SqliteStoreBase):
    """Users, sessions and replicas."""

    # --- users -----------------------------------------------------------------------------------

    async def register_user(self, email: str, name: str, password_hash: str) -> User:
        def run(conn: sqlite3.Connection) -> User:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                f"SELECT {USER_COLUMNS} FROM users WHERE email = ?", (email,)
            ).fetchone()
            if row is not None and row[3] is not None:
                conn.execute("ROLLBACK")
                raise ConflictError("an account with this email already exists")
            if row is not None:
                # An invited user of an older version: whatever it was granted was meant for
                # whoever received the invitation, not for whoever registers the address.
                conn.execute("DELETE FROM document_permissions WHERE user_id = ?", (row[0],))
                out = conn.execute(
                    f"UPDATE users SET name = ?, password_hash = ? WHERE id = ? "
                    f"RETURNING {USER_COLUMNS}",
                    (name, password_hash, row[0]),
                ).fetchone()
            else:
                out = conn.execute(
                    "INSERT INTO users (id, email, name, password_hash, created_at) "
                    f"VALUES (?, ?, ?, ?, ?) RETURNING {USER_COLUMNS}",
                    (str(uuid.uuid4()), email, name, password_hash, now_iso()),
                ).fetchone()
            conn.execute("COMMIT")
            return as_user(out)

        return await self._write(run)

    async def get_or_create_pending_user(self, email: str) -> User:
        def run(conn: sqlite3.Connection) -> User:
            conn.execute(
                "INSERT INTO users (id, email, name, password_hash, created_at) "
                "VALUES (?, ?, ?, NULL, ?) ON CONFLICT (email) DO NOTHING",
                (str(uuid.uuid4()), email, "", now_iso()),  # a name is never made from the address
            )
            return as_user(
                conn.execute(
                    f"SELECT {USER_COLUMNS} FROM users WHERE email = ?", (email,)
                ).fetchone()
            )

        return await self._write(run)

    async def get_user(self, user_id: str) -> User | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,)
            ).fetchone()
        )
        return as_user(row) if row else None

    async def set_user_name(self, user_id: str, name: str) -> User | None:
        row = await self._write(
            lambda conn: conn.execute(
                f"UPDATE users SET name = ? WHERE id = ? AND password_hash IS NOT NULL "
                f"RETURNING {USER_COLUMNS}",
                (name, user_id),
            ).fetchone()
        )
        return as_user(row) if row else None

    async def get_user_by_email(self, email: str) -> User | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {USER_COLUMNS} FROM users WHERE email = ?", (email,)
            ).fetchone()
        )
        return as_user(row) if row else None

    async def set_password(self, user_id: str, password_hash: str) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )

        await self._write(run)

    # --- sessions --------------------------------------------------------------------------------

    async def create_session(
        self, session_id: str, user_id: str, refresh_jti: str, expires_at: datetime
    ) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            forgotten = to_iso(utcnow() - timedelta(days=1))
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (forgotten,))
            try:
                conn.execute(
                    "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL)",
                    (session_id, user_id, refresh_jti, now_iso(), to_iso(expires_at)),
                )
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise NotFoundError("no such user") from exc
            conn.execute("COMMIT")

        await self._write(run)

    async def rotate_session(
        self, session_id: str, old_jti: str, new_jti: str, expires_at: datetime
    ) -> RotateOutcome:
        def run(conn: sqlite3.Connection) -> RotateOutcome:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT refresh_jti, revoked_at, expires_at FROM sessions WHERE id = ?",
                (session_id,),
            ).fetchone()
            outcome: RotateOutcome
            if row is None:
                outcome = "unknown"
            elif row[1] is not None or row[2] < now_iso():
                outcome = "revoked"
            elif row[0] != old_jti:
                conn.execute(
                    "UPDATE sessions SET revoked_at = ? WHERE id = ?", (now_iso(), session_id)
                )
                outcome = "reused"
            else:
                conn.execute(
                    "UPDATE sessions SET refresh_jti = ?, expires_at = ? WHERE id = ?",
                    (new_jti, to_iso(expires_at), session_id),
                )
                outcome = "rotated"
            conn.execute("COMMIT")
            return outcome

        return await self._write(run)

    async def revoke_sessions(
        self, user_id: str, *, only: str | None = None, keep: str | None = None
    ) -> list[str]:
        def run(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL "
                "AND (? IS NULL OR id = ?) AND (? IS NULL OR id != ?) RETURNING id",
                (now_iso(), user_id, only, only, keep, keep),
            ).fetchall()
            return [str(r[0]) for r in rows]

        return await self._write(run)

    async def dead_sessions(self, session_ids: Sequence[str]) -> set[str]:
        ids = list(dict.fromkeys(session_ids))
        if not ids:
            return set()

        def run(conn: sqlite3.Connection) -> set[str]:
            live: set[str] = set()
            now = now_iso()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                live.update(
                    r[0]
                    for r in conn.execute(
                        f"SELECT id FROM sessions WHERE id IN ({marks}) "
                        "AND revoked_at IS NULL AND expires_at > ?",
                        (*chunk, now),
                    )
                )
            return set(ids) - live

        return await self._read(run)

    # --- replicas --------------------------------------------------------------------------------

    async def bind_replica(self, replica_id: str, user_id: str) -> str:
        def run(conn: sqlite3.Connection) -> str:
            now = now_iso()
            conn.execute(
                "INSERT INTO replicas (replica_id, user_id, created_at, last_seen_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (replica_id) DO UPDATE "
                "SET last_seen_at = excluded.last_seen_at WHERE user_id = excluded.user_id",
                (replica_id, user_id, now, now),
            )
            row = conn.execute(
                "SELECT user_id FROM replicas WHERE replica_id = ?", (replica_id,)
            ).fetchone()
            return str(row[0])

        return await self._write(run)

    async def prune_replicas(self, unseen_since: datetime, limit: int = 10_000) -> int:
        cutoff = unseen_since.astimezone(UTC).isoformat()

        def run(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM replicas WHERE replica_id IN (SELECT r.replica_id FROM replicas r "
                "WHERE r.last_seen_at < ? AND NOT EXISTS "
                "(SELECT 1 FROM ops_log l WHERE l.replica = r.replica_id) AND NOT EXISTS "
                "(SELECT 1 FROM ops_pack_authors a WHERE a.replica = r.replica_id) LIMIT ?)",
                (cutoff, limit),
            ).rowcount

        return await self._write(run)
