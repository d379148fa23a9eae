"""PostgreSQL backend (psycopg 3, async, with a connection pool).

``append_ops`` takes the document's row lock with ``UPDATE documents SET seq = seq + n ...
RETURNING``
and inserts the log rows in the same transaction, so seqs are gap-free and unique even when several
server processes write to one document. Migrations run under an advisory lock, so nodes starting at
the same time do not race.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Literal, cast

import psycopg
from psycopg import AsyncConnection
from psycopg.types.string import TextLoader
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from docstream.errors import (
    ConflictError,
    DocStreamError,
    InvalidInputError,
    NotFoundError,
    QuotaExceededError,
    StorageError,
)
from docstream.storage import migrate
from docstream.storage.base import (
    Collaborator,
    DocumentRecord,
    DocumentStore,
    Invitation,
    LogEntry,
    NewLogEntry,
    PublicLink,
    Role,
    RotateOutcome,
    Snapshot,
    User,
    VersionRecord,
    utcnow,
)

_DOC_COLUMNS = (
    "d.id, d.title, d.owner_id, d.seq, d.public_sharing_enabled, d.public_sharing_role, "
    "d.created_at, d.updated_at"
)
_USER_COLUMNS = "id, email, name, password_hash, created_at"
_LOG_COLUMNS = (
    "l.doc_id, l.seq, l.user_id, l.replica, l.payload, l.kind, l.position, l.length, l.preview, "
    "l.created_at, COALESCE(u.name, '')"
)
_MIGRATION_LOCK = 0x646F6373  # "docs"


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


_INVITATION_COLUMNS = (
    "i.id, i.doc_id, i.email, i.role, i.invited_by, i.created_at, i.expires_at, "
    "COALESCE(d.title, ''), COALESCE(u.name, '')"
)
_INVITATION_FROM = (
    "FROM invitations i LEFT JOIN documents d ON d.id = i.doc_id "
    "LEFT JOIN users u ON u.id = i.invited_by"
)


def _invitation(row: Sequence[Any]) -> Invitation:
    return Invitation(
        id=row[0],
        doc_id=row[1],
        email=row[2],
        role=row[3],
        invited_by=row[4],
        created_at=row[5],
        expires_at=row[6],
        doc_title=row[7],
        inviter_name=row[8],
    )


def _doc(row: Sequence[Any]) -> DocumentRecord:
    return DocumentRecord(
        id=row[0],
        title=row[1],
        owner_id=row[2],
        seq=row[3],
        public_sharing_enabled=row[4],
        public_sharing_role=row[5],
        created_at=row[6],
        updated_at=row[7],
    )


def _user(row: Sequence[Any]) -> User:
    return User(id=row[0], email=row[1], name=row[2], password_hash=row[3], created_at=row[4])


def _log(row: Sequence[Any]) -> LogEntry:
    return LogEntry(
        doc_id=row[0],
        seq=row[1],
        user_id=row[2],
        replica=row[3],
        payload=bytes(row[4]),
        kind=row[5],
        position=row[6],
        length=row[7],
        preview=row[8],
        created_at=row[9],
        user_name=row[10],
    )


def _version(row: Sequence[Any], with_text: bool) -> VersionRecord:
    return VersionRecord(
        doc_id=row[0],
        version=row[1],
        seq=row[2],
        kind=row[3],
        label=row[4],
        author_id=row[5],
        length=row[6],
        created_at=row[7],
        text=row[8] if with_text else None,
    )


async def _configure(conn: AsyncConnection[Any]) -> None:
    # Ids travel as strings everywhere in DocStream.
    conn.adapters.register_loader("uuid", TextLoader)


class PostgresDocumentStore(DocumentStore):
    """The team and cluster backend."""

    dialect = "postgres"

    def __init__(
        self, dsn: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0
    ) -> None:
        self.dsn = dsn
        self._pool = AsyncConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=timeout,
            configure=_configure,
            kwargs={"autocommit": True},
        )

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[AsyncConnection[Any]]:
        try:
            async with self._pool.connection() as conn:
                yield conn
        except DocStreamError:
            raise
        except PoolTimeout as exc:
            raise StorageError("the database is unavailable") from exc
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError("this already exists") from exc
        except psycopg.errors.ForeignKeyViolation as exc:
            raise NotFoundError("no such document or user") from exc
        except psycopg.DataError as exc:
            # A value PostgreSQL cannot store (a NUL in text, an out-of-range number): the
            # request's fault, not an outage. The services validate first; this is the backstop.
            raise InvalidInputError("a value in the request cannot be stored") from exc
        except psycopg.Error as exc:
            raise StorageError(f"database error: {type(exc).__name__}") from exc

    async def _one(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> tuple[Any, ...] | None:
        async with self._conn() as conn:
            cur = await conn.execute(sql.encode(), params)
            row: tuple[Any, ...] | None = await cur.fetchone()
            return row

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._conn() as conn:
            cur = await conn.execute(sql.encode(), params)
            rows: list[tuple[Any, ...]] = await cur.fetchall()
            return rows

    async def open(self) -> None:
        try:
            await self._pool.open(wait=False)
        except psycopg.Error as exc:
            raise StorageError("cannot connect to PostgreSQL") from exc

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        await self._one("SELECT 1")

    async def migrate(self) -> list[str]:
        available = migrate.discover(self.dialect)
        names: list[str] = []
        async with self._conn() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                    "name text NOT NULL, checksum text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())"
                )
                cur = await conn.execute("SELECT version, checksum FROM schema_migrations")
                applied = {int(v): str(c) for v, c in await cur.fetchall()}
                for m in migrate.pending(available, applied):
                    async with conn.transaction():
                        await conn.execute(m.sql.encode())
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) "
                            "VALUES (%s, %s, %s)",
                            (m.version, m.name, m.checksum),
                        )
                    names.append(m.name)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
        return names

    # --- users -----------------------------------------------------------------------------------

    async def register_user(self, email: str, name: str, password_hash: str) -> User:
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE email = %s FOR UPDATE", (email,)
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
                    f"RETURNING {_USER_COLUMNS}",
                    (name, password_hash, row[0]),
                )
            else:
                cur = await conn.execute(
                    f"INSERT INTO users (id, email, name, password_hash) VALUES (%s, %s, %s, %s) "
                    f"RETURNING {_USER_COLUMNS}",
                    (uuid.uuid4(), email, name, password_hash),
                )
            out = await cur.fetchone()
            assert out is not None
            return _user(out)

    async def get_or_create_pending_user(self, email: str) -> User:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO users (id, email, name) VALUES (%s, %s, %s) "
                "ON CONFLICT (email) DO NOTHING",
                (uuid.uuid4(), email, ""),  # a name is never made from the address
            )
            cur = await conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE email = %s", (email,)
            )
            row = await cur.fetchone()
            assert row is not None
            return _user(row)

    async def get_user(self, user_id: str) -> User | None:
        if not _is_uuid(user_id):
            return None
        row = await self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE id = %s", (user_id,))
        return _user(row) if row else None

    async def set_user_name(self, user_id: str, name: str) -> User | None:
        if not _is_uuid(user_id):
            return None
        row = await self._one(
            f"UPDATE users SET name = %s WHERE id = %s AND password_hash IS NOT NULL "
            f"RETURNING {_USER_COLUMNS}",
            (name, user_id),
        )
        return _user(row) if row else None

    async def get_user_by_email(self, email: str) -> User | None:
        row = await self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE email = %s", (email,))
        return _user(row) if row else None

    # --- documents -------------------------------------------------------------------------------

    async def create_document(self, owner_id: str, title: str) -> DocumentRecord:
        row = await self._one(
            f"INSERT INTO documents AS d (id, title, owner_id) VALUES (%s, %s, %s) "
            f"RETURNING {_DOC_COLUMNS}",
            (uuid.uuid4(), title, owner_id),
        )
        assert row is not None
        return _doc(row)

    async def get_document(self, doc_id: str) -> DocumentRecord | None:
        if not _is_uuid(doc_id):
            return None
        row = await self._one(f"SELECT {_DOC_COLUMNS} FROM documents d WHERE d.id = %s", (doc_id,))
        return _doc(row) if row else None

    async def list_documents(self, user_id: str) -> list[tuple[DocumentRecord, Role]]:
        rows = await self._all(
            f"SELECT {_DOC_COLUMNS}, CASE WHEN d.owner_id = %s THEN 'owner' ELSE p.role END "
            "FROM documents d LEFT JOIN document_permissions p "
            "ON p.doc_id = d.id AND p.user_id = %s "
            "WHERE d.owner_id = %s OR p.user_id IS NOT NULL ORDER BY d.updated_at DESC, d.id",
            (user_id, user_id, user_id),
        )
        return [(_doc(r), cast(Role, r[8])) for r in rows]

    async def rename_document(self, doc_id: str, title: str) -> DocumentRecord | None:
        if not _is_uuid(doc_id):
            return None
        row = await self._one(
            f"UPDATE documents d SET title = %s, updated_at = now() WHERE d.id = %s "
            f"RETURNING {_DOC_COLUMNS}",
            (title, doc_id),
        )
        return _doc(row) if row else None

    async def delete_document(self, doc_id: str) -> bool:
        if not _is_uuid(doc_id):
            return False
        row = await self._one("DELETE FROM documents WHERE id = %s RETURNING id", (doc_id,))
        return row is not None

    async def set_public_sharing(
        self, doc_id: str, enabled: bool, role: Literal["editor", "viewer"]
    ) -> DocumentRecord | None:
        if not _is_uuid(doc_id):
            return None
        row = await self._one(
            "UPDATE documents d SET public_sharing_enabled = %s, public_sharing_role = %s, "
            f"updated_at = now() WHERE d.id = %s RETURNING {_DOC_COLUMNS}",
            (enabled, role, doc_id),
        )
        return _doc(row) if row else None

    async def get_public_link(self, doc_id: str) -> PublicLink | None:
        if not _is_uuid(doc_id):
            return None
        row = await self._one(
            "SELECT public_link_token, public_link_seq FROM documents WHERE id = %s", (doc_id,)
        )
        return PublicLink(row[0], row[1]) if row and row[0] else None

    async def set_public_link(self, doc_id: str, token: str | None) -> PublicLink | None:
        if not _is_uuid(doc_id):
            return None
        row = await self._one(
            "UPDATE documents SET public_link_token = %s, public_link_seq = seq WHERE id = %s "
            "RETURNING public_link_token, public_link_seq",
            (token, doc_id),
        )
        return PublicLink(row[0], row[1]) if row and row[0] else None

    async def get_role(
        self, doc_id: str, user_id: str
    ) -> tuple[DocumentRecord, Role | None] | None:
        if not _is_uuid(doc_id) or not _is_uuid(user_id):
            return None if not _is_uuid(doc_id) else await self._doc_without_role(doc_id)
        row = await self._one(
            f"SELECT {_DOC_COLUMNS}, CASE WHEN d.owner_id = %s THEN 'owner' ELSE p.role END "
            "FROM documents d LEFT JOIN document_permissions p "
            "ON p.doc_id = d.id AND p.user_id = %s WHERE d.id = %s",
            (user_id, user_id, doc_id),
        )
        if row is None:
            return None
        return _doc(row), cast("Role | None", row[8])

    async def _doc_without_role(self, doc_id: str) -> tuple[DocumentRecord, Role | None] | None:
        doc = await self.get_document(doc_id)
        return None if doc is None else (doc, None)

    async def accessible_document_ids(
        self, user_id: str, doc_ids: Sequence[str], *, include_public: bool = True
    ) -> set[str]:
        ids = [d for d in doc_ids if _is_uuid(d)]
        if not ids:
            return set()
        uid = user_id if _is_uuid(user_id) else None
        rows = await self._all(
            "SELECT d.id FROM documents d WHERE d.id = ANY(%s::uuid[]) AND ("
            "d.owner_id = %s OR (d.public_sharing_enabled AND %s) OR EXISTS ("
            "SELECT 1 FROM document_permissions p WHERE p.doc_id = d.id AND p.user_id = %s))",
            (ids, uid, include_public, uid),
        )
        return {r[0] for r in rows}

    async def set_permission(
        self, doc_id: str, user_id: str, role: Literal["editor", "viewer"]
    ) -> None:
        if not _is_uuid(doc_id) or not _is_uuid(user_id):
            raise NotFoundError("no such document or user")
        await self._one(
            "INSERT INTO document_permissions (doc_id, user_id, role) VALUES (%s, %s, %s) "
            "ON CONFLICT (doc_id, user_id) DO UPDATE SET role = excluded.role RETURNING doc_id",
            (doc_id, user_id, role),
        )

    async def remove_permission(self, doc_id: str, user_id: str) -> bool:
        if not _is_uuid(doc_id) or not _is_uuid(user_id):
            return False
        row = await self._one(
            "DELETE FROM document_permissions WHERE doc_id = %s AND user_id = %s RETURNING doc_id",
            (doc_id, user_id),
        )
        return row is not None

    async def list_collaborators(self, doc_id: str) -> list[Collaborator]:
        if not _is_uuid(doc_id):
            return []
        rows = await self._all(
            "SELECT u.id, u.email, u.name, 'owner', u.password_hash IS NULL, 0 AS k "
            "FROM documents d JOIN users u ON u.id = d.owner_id WHERE d.id = %s "
            "UNION ALL SELECT u.id, u.email, u.name, p.role, u.password_hash IS NULL, 1 "
            "FROM document_permissions p JOIN users u ON u.id = p.user_id WHERE p.doc_id = %s "
            "ORDER BY 6, 2",
            (doc_id, doc_id),
        )
        return [
            Collaborator(user_id=r[0], email=r[1], name=r[2], role=r[3], pending=r[4]) for r in rows
        ]

    async def all_document_titles(self) -> list[tuple[str, str, str]]:
        rows = await self._all("SELECT id, title, owner_id FROM documents ORDER BY created_at")
        return [(str(r[0]), r[1], str(r[2])) for r in rows]

    async def count_owned_documents(self, owner_id: str) -> int:
        if not _is_uuid(owner_id):
            return 0
        row = await self._one("SELECT count(*) FROM documents WHERE owner_id = %s", (owner_id,))
        return int(row[0]) if row else 0

    async def set_password(self, user_id: str, password_hash: str) -> None:
        if not _is_uuid(user_id):
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
        if not _is_uuid(session_id):
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
        if not _is_uuid(user_id) or (only is not None and not _is_uuid(only)):
            return []
        keep = keep if keep is not None and _is_uuid(keep) else None
        rows = await self._all(
            "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL "
            "AND (%s::uuid IS NULL OR id = %s::uuid) AND (%s::uuid IS NULL OR id <> %s::uuid) "
            "RETURNING id",
            (user_id, only, only, keep, keep),
        )
        return [str(r[0]) for r in rows]

    async def dead_sessions(self, session_ids: Sequence[str]) -> set[str]:
        ids = list(dict.fromkeys(session_ids))
        valid = [i for i in ids if _is_uuid(i)]
        if not valid:
            return set(ids)
        rows = await self._all(
            "SELECT id FROM sessions WHERE id = ANY(%s::uuid[]) "
            "AND revoked_at IS NULL AND expires_at > now()",
            (valid,),
        )
        return set(ids) - {str(r[0]) for r in rows}

    # --- invitations -----------------------------------------------------------------------------

    async def create_invitation(
        self,
        doc_id: str,
        email: str,
        role: Literal["editor", "viewer"],
        invited_by: str,
        token_hash: str,
        expires_at: datetime,
        max_pending: int,
    ) -> Invitation:
        if not _is_uuid(doc_id) or not _is_uuid(invited_by):
            raise NotFoundError("no such document or user")
        async with self._conn() as conn, conn.transaction():
            # One inviter at a time, so two requests cannot both pass the quota check.
            await conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (invited_by,))
            await conn.execute("DELETE FROM invitations WHERE expires_at <= now()")
            await conn.execute(
                "DELETE FROM invitations WHERE doc_id = %s AND email = %s", (doc_id, email)
            )
            cur = await conn.execute(
                "SELECT COUNT(*) FROM invitations WHERE invited_by = %s", (invited_by,)
            )
            counted = await cur.fetchone()
            pending = int(counted[0]) if counted else 0
            if pending >= max_pending:
                raise QuotaExceededError(
                    f"you have {pending} pending invitations, the most allowed; withdraw some "
                    "or wait until they are accepted or expire"
                )
            await conn.execute(
                "INSERT INTO invitations (id, token_hash, doc_id, email, role, invited_by, "
                "expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (uuid.uuid4(), token_hash, doc_id, email, role, invited_by, expires_at),
            )
            cur = await conn.execute(
                f"SELECT {_INVITATION_COLUMNS} {_INVITATION_FROM} WHERE i.token_hash = %s",
                (token_hash,),
            )
            row = await cur.fetchone()
            assert row is not None
            return _invitation(row)

    async def list_invitations(self, doc_id: str) -> list[Invitation]:
        if not _is_uuid(doc_id):
            return []
        rows = await self._all(
            f"SELECT {_INVITATION_COLUMNS} {_INVITATION_FROM} "
            "WHERE i.doc_id = %s AND i.expires_at > now() ORDER BY i.created_at, i.email",
            (doc_id,),
        )
        return [_invitation(r) for r in rows]

    async def get_invitation(self, token_hash: str) -> Invitation | None:
        row = await self._one(
            f"SELECT {_INVITATION_COLUMNS} {_INVITATION_FROM} "
            "WHERE i.token_hash = %s AND i.expires_at > now()",
            (token_hash,),
        )
        return _invitation(row) if row else None

    async def delete_invitation(self, doc_id: str, invitation_id: str) -> bool:
        if not _is_uuid(doc_id) or not _is_uuid(invitation_id):
            return False
        row = await self._one(
            "DELETE FROM invitations WHERE doc_id = %s AND id = %s RETURNING id",
            (doc_id, invitation_id),
        )
        return row is not None

    async def redeem_invitation(
        self, token_hash: str, user_id: str
    ) -> tuple[Invitation, Role | None] | None:
        if not _is_uuid(user_id):
            return None
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute(
                f"SELECT {_INVITATION_COLUMNS} {_INVITATION_FROM} "
                "WHERE i.token_hash = %s AND i.expires_at > now() FOR UPDATE OF i",
                (token_hash,),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            inv = _invitation(row)
            await conn.execute("DELETE FROM invitations WHERE id = %s", (inv.id,))
            cur = await conn.execute(
                "SELECT d.owner_id, (SELECT role FROM document_permissions "
                "WHERE doc_id = d.id AND user_id = %s), (SELECT role FROM document_permissions "
                "WHERE doc_id = d.id AND user_id = %s) FROM documents d WHERE d.id = %s "
                "FOR UPDATE",
                (inv.invited_by, user_id, inv.doc_id),
            )
            found = await cur.fetchone()
            role: Role | None = None
            if found is not None:
                owner_id, inviter_role, current = str(found[0]), found[1], found[2]
                allowed = owner_id == inv.invited_by or (
                    inv.role == "viewer" and inviter_role == "editor"
                )
                if owner_id == user_id:
                    role = "owner"
                elif current == "editor" or (current == "viewer" and not allowed):
                    role = current
                elif allowed:
                    await conn.execute(
                        "INSERT INTO document_permissions (doc_id, user_id, role) "
                        "VALUES (%s, %s, %s) ON CONFLICT (doc_id, user_id) "
                        "DO UPDATE SET role = excluded.role",
                        (inv.doc_id, user_id, inv.role),
                    )
                    role = inv.role
            return inv, role

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
                "(SELECT 1 FROM ops_log l WHERE l.replica = r.replica_id) LIMIT %s)",
                (unseen_since, limit),
            )
            return cur.rowcount

    # --- ops log ---------------------------------------------------------------------------------

    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        if not entries:
            raise DocStreamError("append_ops needs at least one entry")
        if not _is_uuid(doc_id):
            raise NotFoundError("the document no longer exists")
        n = len(entries)
        # One statement, one round trip: the UPDATE takes the document's row lock and assigns the
        # seqs; the INSERT of every entry runs in the same implicit transaction.
        row = await self._one(
            "WITH d AS (UPDATE documents SET seq = seq + %(n)s, updated_at = now() "
            "WHERE id = %(doc)s RETURNING seq) "
            "INSERT INTO ops_log (doc_id, seq, user_id, replica, counter_lo, counter_hi, payload, "
            "kind, position, length, preview) "
            "SELECT %(doc)s, d.seq - %(n)s + t.ord, t.u, t.r, t.lo, t.hi, t.p, t.k, t.pos, t.len, "
            "t.pre FROM d, unnest(%(u)s::text[], %(r)s::text[], %(lo)s::bigint[], "
            "%(hi)s::bigint[], %(p)s::bytea[], %(k)s::text[], %(pos)s::bigint[], "
            "%(len)s::bigint[], %(pre)s::text[]) WITH ORDINALITY "
            "AS t(u, r, lo, hi, p, k, pos, len, pre, ord) "
            "RETURNING (SELECT seq FROM d)",
            {
                "n": n,
                "doc": doc_id,
                "u": [e.user_id for e in entries],
                "r": [e.replica for e in entries],
                "lo": [e.counter_lo for e in entries],
                "hi": [e.counter_hi for e in entries],
                "p": [e.payload for e in entries],
                "k": [e.kind for e in entries],
                "pos": [e.position for e in entries],
                "len": [e.length for e in entries],
                # PostgreSQL text cannot hold NUL (a legal code point in a document): the preview
                # is for display only, and one NUL must not fail the batch's other messages.
                "pre": [e.preview.replace("\x00", "\ufffd") for e in entries],
            },
        )
        if row is None:
            raise NotFoundError("the document no longer exists")
        return int(row[0])

    async def read_ops(
        self, doc_id: str, after_seq: int, limit: int | None = None
    ) -> list[LogEntry]:
        if not _is_uuid(doc_id):
            return []
        rows = await self._all(
            f"SELECT {_LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id::text = l.user_id "
            "WHERE l.doc_id = %s AND l.seq > %s ORDER BY l.seq LIMIT %s",
            (doc_id, after_seq, limit),
        )
        return [_log(r) for r in rows]

    async def read_history(self, doc_id: str, before_seq: int | None, limit: int) -> list[LogEntry]:
        if not _is_uuid(doc_id):
            return []
        bound = (1 << 62) if before_seq is None else before_seq
        rows = await self._all(
            f"SELECT {_LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id::text = l.user_id "
            "WHERE l.doc_id = %s AND l.seq < %s ORDER BY l.seq DESC LIMIT %s",
            (doc_id, bound, limit),
        )
        return [_log(r) for r in rows]

    async def find_seq_of_payload(
        self, doc_id: str, replica: str, payload: bytes, *, counter_hi: int | None = None
    ) -> int | None:
        # Equality on counter_hi (or IS NULL) lets the (doc_id, replica, counter_hi) index narrow
        # the rows whose payload is compared.
        hi = "counter_hi IS NULL" if counter_hi is None else "counter_hi = %(hi)s"
        row = await self._one(
            f"SELECT seq FROM ops_log WHERE doc_id = %(doc)s AND replica = %(r)s AND {hi} "
            "AND payload = %(p)s ORDER BY seq DESC LIMIT 1",
            {"doc": doc_id, "r": replica, "hi": counter_hi, "p": payload},
        )
        return int(row[0]) if row else None

    async def save_snapshot(self, doc_id: str, seq: int, state: bytes, keep: int = 3) -> None:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO snapshots (doc_id, seq, state) VALUES (%s, %s, %s) "
                "ON CONFLICT (doc_id, seq) DO NOTHING",
                (doc_id, seq, state),
            )
            await conn.execute(
                "DELETE FROM snapshots WHERE doc_id = %s AND seq NOT IN (SELECT seq FROM snapshots "
                "WHERE doc_id = %s ORDER BY seq DESC LIMIT %s)",
                (doc_id, doc_id, keep),
            )

    async def latest_snapshot(
        self, doc_id: str, *, before_seq: int | None = None
    ) -> Snapshot | None:
        if not _is_uuid(doc_id):
            return None
        bound = (1 << 62) if before_seq is None else before_seq
        row = await self._one(
            "SELECT doc_id, seq, state, created_at FROM snapshots WHERE doc_id = %s "
            "AND seq < %s ORDER BY seq DESC LIMIT 1",
            (doc_id, bound),
        )
        if row is None:
            return None
        return Snapshot(doc_id=row[0], seq=row[1], state=bytes(row[2]), created_at=row[3])

    # --- versions --------------------------------------------------------------------------------

    async def create_version(
        self,
        doc_id: str,
        seq: int,
        text: str,
        kind: Literal["auto", "named"],
        label: str | None,
        author_id: str | None,
        keep: int,
    ) -> VersionRecord:
        if not _is_uuid(doc_id):
            raise NotFoundError("the document no longer exists")
        async with self._conn() as conn, conn.transaction():
            cur = await conn.execute("SELECT 1 FROM documents WHERE id = %s FOR UPDATE", (doc_id,))
            if await cur.fetchone() is None:
                raise NotFoundError("the document no longer exists")
            cur = await conn.execute(
                "INSERT INTO versions (doc_id, version, seq, kind, label, author_id, text, length) "
                "SELECT %s, COALESCE(MAX(version), 0) + 1, %s, %s, %s, %s, %s, %s "
                "FROM versions WHERE doc_id = %s RETURNING doc_id, version, seq, kind, label, "
                "author_id, length, created_at, NULL",
                (doc_id, seq, kind, label, author_id, text, len(text), doc_id),
            )
            row = await cur.fetchone()
            assert row is not None
            await conn.execute(
                "DELETE FROM versions WHERE doc_id = %s AND kind = %s AND version NOT IN ("
                "SELECT version FROM versions WHERE doc_id = %s AND kind = %s "
                "ORDER BY version DESC LIMIT %s)",
                (doc_id, kind, doc_id, kind, keep),
            )
            return _version(row, with_text=False)

    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        if not _is_uuid(doc_id):
            return []
        rows = await self._all(
            "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, NULL "
            "FROM versions WHERE doc_id = %s ORDER BY version DESC",
            (doc_id,),
        )
        return [_version(r, with_text=False) for r in rows]

    async def get_version(self, doc_id: str, version: int) -> VersionRecord | None:
        if not _is_uuid(doc_id):
            return None
        row = await self._one(
            "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, text "
            "FROM versions WHERE doc_id = %s AND version = %s",
            (doc_id, version),
        )
        return _version(row, with_text=True) if row else None
