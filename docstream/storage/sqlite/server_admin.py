"""Server administration in SQLite: the first administrator, run-time server settings, server
invitations, the user list and deleting accounts.

A mixin of its own so the administration of the server stays apart from the accounts' daily
use; every write goes through the single writer thread, so a check and the change it guards
happen in one transaction.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime

from docstream.errors import NotFoundError
from docstream.storage.base import AccountDeletion, ServerInvitation, UserSummary
from docstream.storage.sqlite.connection import SqliteStoreBase
from docstream.storage.sqlite.rows import USER_COLUMNS, as_user, now_iso, parse_ts, to_iso

_INVITATION_COLUMNS = "id, email, created_by, created_at, expires_at"


def _invitation(row: tuple[str, ...]) -> ServerInvitation:
    return ServerInvitation(
        id=row[0],
        email=row[1],
        created_by=row[2],
        created_at=parse_ts(row[3]),
        expires_at=parse_ts(row[4]),
    )


def _like(query: str) -> str:
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqliteServerAdmin(SqliteStoreBase):
    """The server's administration: see the module docstring."""

    async def claim_first_admin(self, user_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            # One statement under SQLite's write lock: two processes cannot both see no admin.
            cur = conn.execute(
                "UPDATE users SET is_admin = 1 WHERE id = ? AND password_hash IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM users WHERE is_admin = 1 AND disabled_at IS NULL)",
                (user_id,),
            )
            return cur.rowcount == 1

        return await self._write(run)

    async def get_server_setting(self, key: str) -> str | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT value FROM server_settings WHERE key = ?", (key,)
            ).fetchone()
        )
        return str(row[0]) if row else None

    async def set_server_setting(self, key: str, value: str | None) -> None:
        def run(conn: sqlite3.Connection) -> None:
            if value is None:
                conn.execute("DELETE FROM server_settings WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO server_settings (key, value, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                    "updated_at = excluded.updated_at",
                    (key, value, now_iso()),
                )

        await self._write(run)

    async def create_server_invitation(
        self, email: str, created_by: str, token_hash: str, expires_at: datetime
    ) -> ServerInvitation:
        def run(conn: sqlite3.Connection) -> ServerInvitation:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM server_invitations WHERE email = ?", (email,))
            try:
                row = conn.execute(
                    "INSERT INTO server_invitations VALUES (?, ?, ?, ?, ?, ?) "
                    f"RETURNING {_INVITATION_COLUMNS}",
                    (
                        str(uuid.uuid4()),
                        token_hash,
                        email,
                        created_by,
                        now_iso(),
                        to_iso(expires_at),
                    ),
                ).fetchone()
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise NotFoundError("no such user") from exc
            conn.execute("COMMIT")
            return _invitation(row)

        return await self._write(run)

    async def list_server_invitations(self) -> list[ServerInvitation]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_INVITATION_COLUMNS} FROM server_invitations WHERE expires_at > ? "
                "ORDER BY created_at, id",
                (now_iso(),),
            ).fetchall()
        )
        return [_invitation(r) for r in rows]

    async def get_server_invitation(self, token_hash: str) -> ServerInvitation | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_INVITATION_COLUMNS} FROM server_invitations "
                "WHERE token_hash = ? AND expires_at > ?",
                (token_hash, now_iso()),
            ).fetchone()
        )
        return _invitation(row) if row else None

    async def delete_server_invitation(self, invitation_id: str) -> bool:
        return await self._write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM server_invitations WHERE id = ?", (invitation_id,)
                ).rowcount
                == 1
            )
        )

    async def signup_invited(self, email: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            now = now_iso()
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM server_invitations WHERE email = ? "
                "AND expires_at > ?) OR EXISTS (SELECT 1 FROM invitations WHERE email = ? "
                "AND expires_at > ?)",
                (email, now, email, now),
            ).fetchone()
            return bool(row[0])

        return await self._read(run)

    async def use_server_invitations(self, email: str) -> None:
        await self._write(
            lambda conn: conn.execute("DELETE FROM server_invitations WHERE email = ?", (email,))
        )

    async def list_users(
        self, query: str, limit: int, offset: int
    ) -> tuple[list[UserSummary], int]:
        pattern = _like(query)
        where = (
            "WHERE u.password_hash IS NOT NULL AND (lower(u.email) LIKE ? ESCAPE '\\' "
            "OR lower(u.name) LIKE ? ESCAPE '\\')"
        )
        columns = ", ".join(f"u.{c.strip()}" for c in USER_COLUMNS.split(","))

        def run(conn: sqlite3.Connection) -> tuple[list[UserSummary], int]:
            total = conn.execute(
                f"SELECT count(*) FROM users u {where}", (pattern, pattern)
            ).fetchone()[0]
            rows = conn.execute(
                f"SELECT {columns}, "
                "(SELECT count(*) FROM documents d WHERE d.owner_id = u.id), "
                "(SELECT max(s.created_at) FROM sessions s WHERE s.user_id = u.id) "
                f"FROM users u {where} ORDER BY u.email LIMIT ? OFFSET ?",
                (pattern, pattern, limit, offset),
            ).fetchall()
            return [
                UserSummary(
                    user=as_user(r[:7]),
                    documents=int(r[7]),
                    last_sign_in=parse_ts(r[8]) if r[8] else None,
                )
                for r in rows
            ], int(total)

        return await self._read(run)

    async def server_counts(self) -> tuple[int, int]:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT (SELECT count(*) FROM users WHERE password_hash IS NOT NULL), "
                "(SELECT count(*) FROM documents)"
            ).fetchone()
        )
        return int(row[0]), int(row[1])

    async def delete_user(self, user_id: str, transfer_to: str | None) -> AccountDeletion | None:
        def run(conn: sqlite3.Connection) -> AccountDeletion | None:
            conn.execute("BEGIN IMMEDIATE")
            found = conn.execute(
                "SELECT 1 FROM users WHERE id = ? AND password_hash IS NOT NULL", (user_id,)
            ).fetchone()
            if found is None:
                conn.execute("ROLLBACK")
                return None
            if transfer_to is not None:
                heir = conn.execute(
                    "SELECT 1 FROM users WHERE id = ? AND password_hash IS NOT NULL",
                    (transfer_to,),
                ).fetchone()
                if heir is None or transfer_to == user_id:
                    conn.execute("ROLLBACK")
                    raise NotFoundError("the new owner must be another registered user")
            owned = [
                str(r[0])
                for r in conn.execute("SELECT id FROM documents WHERE owner_id = ?", (user_id,))
            ]
            granted = [
                str(r[0])
                for r in conn.execute(
                    "SELECT doc_id FROM document_permissions WHERE user_id = ?", (user_id,)
                )
            ]
            if transfer_to is not None:
                conn.execute(
                    "UPDATE documents SET owner_id = ? WHERE owner_id = ?", (transfer_to, user_id)
                )
                conn.execute(
                    "DELETE FROM document_permissions WHERE user_id = ? AND doc_id IN "
                    "(SELECT id FROM documents WHERE owner_id = ?)",
                    (transfer_to, transfer_to),
                )
            else:
                conn.execute("DELETE FROM documents WHERE owner_id = ?", (user_id,))
            # Grants, sessions and invitations cascade with the user row.
            conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
            conn.execute("COMMIT")
            moved = tuple(owned) if transfer_to is not None else ()
            return AccountDeletion(
                deleted=() if transfer_to is not None else tuple(owned),
                transferred=moved,
                grants_removed=tuple(granted),
            )

        return await self._write(run)
