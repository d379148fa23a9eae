"""SQLite backend (stdlib ``sqlite3``, WAL mode).

Writes go through one dedicated writer thread with its own connection, so they never block the event
loop and never contend with each other inside the process; reads use a small pool of reader threads,
each with its own connection (WAL lets readers run beside the writer). ``synchronous=FULL`` by
default:
a commit is on disk before ``append_ops`` returns, which is what an ``ack`` promises.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from docstream.errors import (
    ConflictError,
    DocStreamError,
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

T = TypeVar("T")

_DOC_COLUMNS = (
    "id, title, owner_id, seq, public_sharing_enabled, public_sharing_role, created_at, updated_at"
)
_USER_COLUMNS = "id, email, name, password_hash, created_at"
_LOG_COLUMNS = (
    "l.doc_id, l.seq, l.user_id, l.replica, l.payload, l.kind, l.position, l.length, l.preview, "
    "l.created_at, COALESCE(u.name, '')"
)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _now() -> str:
    return utcnow().isoformat()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


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
        created_at=_ts(row[5]),
        expires_at=_ts(row[6]),
        doc_title=row[7],
        inviter_name=row[8],
    )


def _doc(row: Sequence[Any]) -> DocumentRecord:
    return DocumentRecord(
        id=row[0],
        title=row[1],
        owner_id=row[2],
        seq=row[3],
        public_sharing_enabled=bool(row[4]),
        public_sharing_role=row[5],
        created_at=_ts(row[6]),
        updated_at=_ts(row[7]),
    )


def _user(row: Sequence[Any]) -> User:
    return User(id=row[0], email=row[1], name=row[2], password_hash=row[3], created_at=_ts(row[4]))


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
        created_at=_ts(row[9]),
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
        created_at=_ts(row[7]),
        text=row[8] if with_text else None,
    )


class SqliteDocumentStore(DocumentStore):
    """The embedded default: one file, no server."""

    dialect = "sqlite"

    def __init__(self, path: Path, *, synchronous: str = "FULL", readers: int = 4) -> None:
        self.path = path
        self._synchronous = synchronous
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    # --- plumbing --------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._connections.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    async def _run(self, executor: ThreadPoolExecutor, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StorageError("the database is closed")

        def call() -> T:
            conn = self._conn()
            try:
                return fn(conn)
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StorageError(f"database error: {type(exc).__name__}") from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        return await asyncio.get_running_loop().run_in_executor(executor, call)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._writer, fn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._readers, fn)

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Created 0600 before SQLite opens it: SQLite gives -wal and -shm the same mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StorageError(f"cannot create the database {self.path}: {exc}") from exc
        await self._write(lambda conn: None)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._writer.shutdown, True)
        await loop.run_in_executor(None, self._readers.shutdown, True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    async def ping(self) -> None:
        await self._read(lambda conn: conn.execute("SELECT 1").fetchone())

    async def migrate(self) -> list[str]:
        available = migrate.discover(self.dialect)

        def run(conn: sqlite3.Connection) -> list[str]:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            conn.execute("BEGIN IMMEDIATE")
            try:
                applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations"))
                todo = migrate.pending(available, applied)
            finally:
                conn.execute("COMMIT")
            names = []
            for m in todo:
                # executescript commits first, so the migration brings its own transaction.
                conn.executescript(
                    "BEGIN IMMEDIATE;\n" + m.sql + "\n;INSERT INTO schema_migrations VALUES ("
                    f"{m.version}, '{m.name}', '{m.checksum}', '{_now()}');\nCOMMIT;"
                )
                names.append(m.name)
            return names

        return await self._write(run)

    # --- users -----------------------------------------------------------------------------------

    async def register_user(self, email: str, name: str, password_hash: str) -> User:
        def run(conn: sqlite3.Connection) -> User:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE email = ?", (email,)
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
                    f"RETURNING {_USER_COLUMNS}",
                    (name, password_hash, row[0]),
                ).fetchone()
            else:
                out = conn.execute(
                    f"INSERT INTO users VALUES (?, ?, ?, ?, ?) RETURNING {_USER_COLUMNS}",
                    (str(uuid.uuid4()), email, name, password_hash, _now()),
                ).fetchone()
            conn.execute("COMMIT")
            return _user(out)

        return await self._write(run)

    async def get_or_create_pending_user(self, email: str) -> User:
        def run(conn: sqlite3.Connection) -> User:
            conn.execute(
                "INSERT INTO users VALUES (?, ?, ?, NULL, ?) ON CONFLICT (email) DO NOTHING",
                (str(uuid.uuid4()), email, "", _now()),  # a name is never made from the address
            )
            return _user(
                conn.execute(
                    f"SELECT {_USER_COLUMNS} FROM users WHERE email = ?", (email,)
                ).fetchone()
            )

        return await self._write(run)

    async def get_user(self, user_id: str) -> User | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)
            ).fetchone()
        )
        return _user(row) if row else None

    async def set_user_name(self, user_id: str, name: str) -> User | None:
        row = await self._write(
            lambda conn: conn.execute(
                f"UPDATE users SET name = ? WHERE id = ? AND password_hash IS NOT NULL "
                f"RETURNING {_USER_COLUMNS}",
                (name, user_id),
            ).fetchone()
        )
        return _user(row) if row else None

    async def get_user_by_email(self, email: str) -> User | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE email = ?", (email,)
            ).fetchone()
        )
        return _user(row) if row else None

    # --- documents -------------------------------------------------------------------------------

    async def create_document(self, owner_id: str, title: str) -> DocumentRecord:
        now = _now()
        row = await self._write(
            lambda conn: conn.execute(
                f"INSERT INTO documents (id, title, owner_id, created_at, updated_at) "
                f"VALUES (?, ?, ?, ?, ?) RETURNING {_DOC_COLUMNS}",
                (str(uuid.uuid4()), title, owner_id, now, now),
            ).fetchone()
        )
        return _doc(row)

    async def get_document(self, doc_id: str) -> DocumentRecord | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = ?", (doc_id,)
            ).fetchone()
        )
        return _doc(row) if row else None

    async def list_documents(self, user_id: str) -> list[tuple[DocumentRecord, Role]]:
        cols = ", ".join("d." + c.strip() for c in _DOC_COLUMNS.split(","))
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {cols}, CASE WHEN d.owner_id = ? THEN 'owner' ELSE p.role END "
                "FROM documents d LEFT JOIN document_permissions p "
                "ON p.doc_id = d.id AND p.user_id = ? "
                "WHERE d.owner_id = ? OR p.user_id IS NOT NULL "
                "ORDER BY d.updated_at DESC, d.id",
                (user_id, user_id, user_id),
            ).fetchall()
        )
        return [(_doc(r), cast(Role, r[8])) for r in rows]

    async def rename_document(self, doc_id: str, title: str) -> DocumentRecord | None:
        row = await self._write(
            lambda conn: conn.execute(
                "UPDATE documents SET title = ?, updated_at = ? WHERE id = ? "
                f"RETURNING {_DOC_COLUMNS}",
                (title, _now(), doc_id),
            ).fetchone()
        )
        return _doc(row) if row else None

    async def delete_document(self, doc_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount > 0

        return await self._write(run)

    async def set_public_sharing(
        self, doc_id: str, enabled: bool, role: Literal["editor", "viewer"]
    ) -> DocumentRecord | None:
        row = await self._write(
            lambda conn: conn.execute(
                "UPDATE documents SET public_sharing_enabled = ?, public_sharing_role = ?, "
                f"updated_at = ? WHERE id = ? RETURNING {_DOC_COLUMNS}",
                (int(enabled), role, _now(), doc_id),
            ).fetchone()
        )
        return _doc(row) if row else None

    async def get_public_link(self, doc_id: str) -> PublicLink | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT public_link_token, public_link_seq FROM documents WHERE id = ?", (doc_id,)
            ).fetchone()
        )
        return PublicLink(row[0], row[1]) if row and row[0] else None

    async def set_public_link(self, doc_id: str, token: str | None) -> PublicLink | None:
        row = await self._write(
            lambda conn: conn.execute(
                "UPDATE documents SET public_link_token = ?, public_link_seq = seq WHERE id = ? "
                "RETURNING public_link_token, public_link_seq",
                (token, doc_id),
            ).fetchone()
        )
        return PublicLink(row[0], row[1]) if row and row[0] else None

    async def get_role(
        self, doc_id: str, user_id: str
    ) -> tuple[DocumentRecord, Role | None] | None:
        cols = ", ".join("d." + c.strip() for c in _DOC_COLUMNS.split(","))
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {cols}, CASE WHEN d.owner_id = ? THEN 'owner' ELSE p.role END "
                "FROM documents d LEFT JOIN document_permissions p "
                "ON p.doc_id = d.id AND p.user_id = ? WHERE d.id = ?",
                (user_id, user_id, doc_id),
            ).fetchone()
        )
        if row is None:
            return None
        return _doc(row), cast("Role | None", row[8])

    async def accessible_document_ids(
        self, user_id: str, doc_ids: Sequence[str], *, include_public: bool = True
    ) -> set[str]:
        if not doc_ids:
            return set()
        ids = list(doc_ids)
        public = "d.public_sharing_enabled = 1" if include_public else "0"

        def run(conn: sqlite3.Connection) -> set[str]:
            out: set[str] = set()
            for start in range(0, len(ids), 500):  # stay below SQLite's variable limit
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                out.update(
                    r[0]
                    for r in conn.execute(
                        f"SELECT d.id FROM documents d WHERE d.id IN ({marks}) AND ("
                        f"d.owner_id = ? OR {public} OR EXISTS ("
                        "SELECT 1 FROM document_permissions p "
                        "WHERE p.doc_id = d.id AND p.user_id = ?))",
                        (*chunk, user_id, user_id),
                    )
                )
            return out

        return await self._read(run)

    async def set_permission(
        self, doc_id: str, user_id: str, role: Literal["editor", "viewer"]
    ) -> None:
        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO document_permissions VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (doc_id, user_id) DO UPDATE SET role = excluded.role",
                    (doc_id, user_id, role, _now()),
                )
            except sqlite3.IntegrityError as exc:
                raise NotFoundError("no such document or user") from exc

        await self._write(run)

    async def remove_permission(self, doc_id: str, user_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    "DELETE FROM document_permissions WHERE doc_id = ? AND user_id = ?",
                    (doc_id, user_id),
                ).rowcount
                > 0
            )

        return await self._write(run)

    async def list_collaborators(self, doc_id: str) -> list[Collaborator]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT u.id, u.email, u.name, 'owner', u.password_hash IS NULL, 0 "
                "FROM documents d JOIN users u ON u.id = d.owner_id WHERE d.id = ? "
                "UNION ALL SELECT u.id, u.email, u.name, p.role, u.password_hash IS NULL, 1 "
                "FROM document_permissions p JOIN users u ON u.id = p.user_id WHERE p.doc_id = ? "
                "ORDER BY 6, 2",
                (doc_id, doc_id),
            ).fetchall()
        )
        return [
            Collaborator(user_id=r[0], email=r[1], name=r[2], role=r[3], pending=bool(r[4]))
            for r in rows
        ]

    async def all_document_titles(self) -> list[tuple[str, str, str]]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT id, title, owner_id FROM documents ORDER BY created_at"
            ).fetchall()
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def count_owned_documents(self, owner_id: str) -> int:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT count(*) FROM documents WHERE owner_id = ?", (owner_id,)
            ).fetchone()
        )
        return int(row[0])

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
            forgotten = _iso(utcnow() - timedelta(days=1))
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (forgotten,))
            try:
                conn.execute(
                    "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL)",
                    (session_id, user_id, refresh_jti, _now(), _iso(expires_at)),
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
            elif row[1] is not None or row[2] < _now():
                outcome = "revoked"
            elif row[0] != old_jti:
                conn.execute(
                    "UPDATE sessions SET revoked_at = ? WHERE id = ?", (_now(), session_id)
                )
                outcome = "reused"
            else:
                conn.execute(
                    "UPDATE sessions SET refresh_jti = ?, expires_at = ? WHERE id = ?",
                    (new_jti, _iso(expires_at), session_id),
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
                (_now(), user_id, only, only, keep, keep),
            ).fetchall()
            return [str(r[0]) for r in rows]

        return await self._write(run)

    async def dead_sessions(self, session_ids: Sequence[str]) -> set[str]:
        ids = list(dict.fromkeys(session_ids))
        if not ids:
            return set()

        def run(conn: sqlite3.Connection) -> set[str]:
            live: set[str] = set()
            now = _now()
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
        def run(conn: sqlite3.Connection) -> Invitation:
            now = _now()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM invitations WHERE expires_at <= ?", (now,))
            conn.execute("DELETE FROM invitations WHERE doc_id = ? AND email = ?", (doc_id, email))
            (pending,) = conn.execute(
                "SELECT COUNT(*) FROM invitations WHERE invited_by = ?", (invited_by,)
            ).fetchone()
            if pending >= max_pending:
                conn.execute("ROLLBACK")
                raise QuotaExceededError(
                    f"you have {pending} pending invitations, the most allowed; withdraw some "
                    "or wait until they are accepted or expire"
                )
            try:
                conn.execute(
                    "INSERT INTO invitations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(uuid.uuid4()),
                        token_hash,
                        doc_id,
                        email,
                        role,
                        invited_by,
                        now,
                        _iso(expires_at),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                raise NotFoundError("no such document or user") from exc
            row = conn.execute(
                f"SELECT {_INVITATION_COLUMNS} {_INVITATION_FROM} WHERE i.token_hash = ?",
                (token_hash,),
            ).fetchone()
            conn.execute("COMMIT")
            return _invitation(row)

        return await self._write(run)

    async def list_invitations(self, doc_id: str) -> list[Invitation]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_INVITATION_COLUMNS} {_INVITATION_FROM} "
                "WHERE i.doc_id = ? AND i.expires_at > ? ORDER BY i.created_at, i.email",
                (doc_id, _now()),
            ).fetchall()
        )
        return [_invitation(r) for r in rows]

    async def get_invitation(self, token_hash: str) -> Invitation | None:
        row = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_INVITATION_COLUMNS} {_INVITATION_FROM} "
                "WHERE i.token_hash = ? AND i.expires_at > ?",
                (token_hash, _now()),
            ).fetchone()
        )
        return _invitation(row) if row else None

    async def delete_invitation(self, doc_id: str, invitation_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    "DELETE FROM invitations WHERE doc_id = ? AND id = ?", (doc_id, invitation_id)
                ).rowcount
                > 0
            )

        return await self._write(run)

    async def redeem_invitation(
        self, token_hash: str, user_id: str
    ) -> tuple[Invitation, Role | None] | None:
        def run(conn: sqlite3.Connection) -> tuple[Invitation, Role | None] | None:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                f"SELECT {_INVITATION_COLUMNS} {_INVITATION_FROM} "
                "WHERE i.token_hash = ? AND i.expires_at > ?",
                (token_hash, _now()),
            ).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                return None
            inv = _invitation(row)
            conn.execute("DELETE FROM invitations WHERE id = ?", (inv.id,))
            found = conn.execute(
                "SELECT d.owner_id, (SELECT role FROM document_permissions "
                "WHERE doc_id = d.id AND user_id = ?), (SELECT role FROM document_permissions "
                "WHERE doc_id = d.id AND user_id = ?) FROM documents d WHERE d.id = ?",
                (inv.invited_by, user_id, inv.doc_id),
            ).fetchone()
            role: Role | None = None
            if found is not None:
                owner_id, inviter_role, current = found
                allowed = owner_id == inv.invited_by or (
                    inv.role == "viewer" and inviter_role == "editor"
                )
                if owner_id == user_id:
                    role = "owner"
                elif current == "editor" or (current == "viewer" and not allowed):
                    role = current
                elif allowed:
                    conn.execute(
                        "INSERT INTO document_permissions VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (doc_id, user_id) DO UPDATE SET role = excluded.role",
                        (inv.doc_id, user_id, inv.role, _now()),
                    )
                    role = inv.role
            conn.execute("COMMIT")
            return inv, role

        return await self._write(run)

    # --- replicas --------------------------------------------------------------------------------

    async def bind_replica(self, replica_id: str, user_id: str) -> str:
        def run(conn: sqlite3.Connection) -> str:
            now = _now()
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
                "(SELECT 1 FROM ops_log l WHERE l.replica = r.replica_id) LIMIT ?)",
                (cutoff, limit),
            ).rowcount

        return await self._write(run)

    # --- ops log ---------------------------------------------------------------------------------

    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        if not entries:
            raise DocStreamError("append_ops needs at least one entry")
        n = len(entries)

        def run(conn: sqlite3.Connection) -> int:
            now = _now()
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "UPDATE documents SET seq = seq + ?, updated_at = ? WHERE id = ? RETURNING seq",
                (n, now, doc_id),
            ).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                raise NotFoundError("the document no longer exists")
            last = int(row[0])
            first = last - n + 1
            conn.executemany(
                "INSERT INTO ops_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        doc_id,
                        first + i,
                        e.user_id,
                        e.replica,
                        e.counter_lo,
                        e.counter_hi,
                        e.payload,
                        e.kind,
                        e.position,
                        e.length,
                        e.preview,
                        now,
                    )
                    for i, e in enumerate(entries)
                ],
            )
            conn.execute("COMMIT")
            return last

        return await self._write(run)

    async def read_ops(
        self, doc_id: str, after_seq: int, limit: int | None = None
    ) -> list[LogEntry]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id = l.user_id "
                "WHERE l.doc_id = ? AND l.seq > ? ORDER BY l.seq LIMIT ?",
                (doc_id, after_seq, -1 if limit is None else limit),
            ).fetchall()
        )
        return [_log(r) for r in rows]

    async def read_history(self, doc_id: str, before_seq: int | None, limit: int) -> list[LogEntry]:
        bound = (1 << 62) if before_seq is None else before_seq
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM ops_log l LEFT JOIN users u ON u.id = l.user_id "
                "WHERE l.doc_id = ? AND l.seq < ? ORDER BY l.seq DESC LIMIT ?",
                (doc_id, bound, limit),
            ).fetchall()
        )
        return [_log(r) for r in rows]

    async def find_seq_of_payload(
        self, doc_id: str, replica: str, payload: bytes, *, counter_hi: int | None = None
    ) -> int | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT seq FROM ops_log WHERE doc_id = ? AND replica = ? AND counter_hi IS ? "
                "AND payload = ? ORDER BY seq DESC LIMIT 1",
                (doc_id, replica, counter_hi, payload),
            ).fetchone()
        )
        return int(row[0]) if row else None

    async def save_snapshot(self, doc_id: str, seq: int, state: bytes, keep: int = 3) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO snapshots VALUES (?, ?, ?, ?) ON CONFLICT (doc_id, seq) DO NOTHING",
                (doc_id, seq, state, _now()),
            )
            conn.execute(
                "DELETE FROM snapshots WHERE doc_id = ? AND seq NOT IN (SELECT seq FROM snapshots "
                "WHERE doc_id = ? ORDER BY seq DESC LIMIT ?)",
                (doc_id, doc_id, keep),
            )
            conn.execute("COMMIT")

        await self._write(run)

    async def latest_snapshot(
        self, doc_id: str, *, before_seq: int | None = None
    ) -> Snapshot | None:
        bound = (1 << 62) if before_seq is None else before_seq
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT doc_id, seq, state, created_at FROM snapshots WHERE doc_id = ? "
                "AND seq < ? ORDER BY seq DESC LIMIT 1",
                (doc_id, bound),
            ).fetchone()
        )
        if row is None:
            return None
        return Snapshot(doc_id=row[0], seq=row[1], state=bytes(row[2]), created_at=_ts(row[3]))

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
        def run(conn: sqlite3.Connection) -> VersionRecord:
            conn.execute("BEGIN IMMEDIATE")
            exists = conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if exists is None:
                conn.execute("ROLLBACK")
                raise NotFoundError("the document no longer exists")
            row = conn.execute(
                "INSERT INTO versions SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ?, ?, ?, ?, ? "
                "FROM versions WHERE doc_id = ? RETURNING doc_id, version, seq, kind, label, "
                "author_id, length, created_at, NULL",
                (doc_id, seq, kind, label, author_id, text, len(text), _now(), doc_id),
            ).fetchone()
            conn.execute(
                "DELETE FROM versions WHERE doc_id = ? AND kind = ? AND version NOT IN ("
                "SELECT version FROM versions WHERE doc_id = ? AND kind = ? "
                "ORDER BY version DESC LIMIT ?)",
                (doc_id, kind, doc_id, kind, keep),
            )
            conn.execute("COMMIT")
            return _version(row, with_text=False)

        return await self._write(run)

    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        rows = await self._read(
            lambda conn: conn.execute(
                "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, NULL "
                "FROM versions WHERE doc_id = ? ORDER BY version DESC",
                (doc_id,),
            ).fetchall()
        )
        return [_version(r, with_text=False) for r in rows]

    async def get_version(self, doc_id: str, version: int) -> VersionRecord | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT doc_id, version, seq, kind, label, author_id, length, created_at, text "
                "FROM versions WHERE doc_id = ? AND version = ?",
                (doc_id, version),
            ).fetchone()
        )
        return _version(row, with_text=True) if row else None
