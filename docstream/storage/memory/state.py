"""The in-memory store's tables, its open/closed state and the helpers every concern shares.

The rows are mutable dataclasses private to the store; what leaves it is always a frozen record.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from msgspec.structs import replace

from docstream.errors import StorageError
from docstream.storage.base import (
    Comment,
    DocumentRecord,
    DocumentStore,
    GrantedRole,
    LogEntry,
    Role,
    Snapshot,
    User,
    VersionRecord,
    utcnow,
)

Grantable = Literal["editor", "viewer"]


@dataclass(slots=True)
class DocumentRow:
    """One document with everything that is deleted with it (the SQL backends' cascades)."""

    record: DocumentRecord
    link_token: str | None = None
    link_seq: int = 0
    grants: dict[str, GrantedRole] = field(default_factory=dict)
    #: Grantees whose grants were all made by id (``Collaborator.by_address`` false).
    granted_by_id: set[str] = field(default_factory=set)
    log: list[LogEntry] = field(default_factory=list)  # seq n at index n - 1; user_name unset
    by_sender: dict[tuple[str, int | None], list[int]] = field(default_factory=dict)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)
    versions: dict[int, tuple[VersionRecord, str]] = field(default_factory=dict)
    #: Comments by id, oldest first (``author_name`` unset: read from the users at each read).
    comments: dict[str, Comment] = field(default_factory=dict)


@dataclass(slots=True)
class SessionRow:
    user_id: str
    refresh_jti: str
    expires_at: datetime
    revoked_at: datetime | None = None


@dataclass(slots=True)
class InvitationRow:
    id: str
    token_hash: str
    doc_id: str
    email: str
    role: Grantable
    invited_by: str
    created_at: datetime
    expires_at: datetime


@dataclass(slots=True)
class ReplicaRow:
    user_id: str
    last_seen_at: datetime


class MemoryState(DocumentStore):
    """The tables, shared by the concern mixins; see ``MemoryDocumentStore``."""

    dialect = "memory"

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self._open = False
        self._users: dict[str, User] = {}
        self._user_by_email: dict[str, str] = {}
        self._docs: dict[str, DocumentRow] = {}
        #: Trashed documents (kept in ``_docs``, hidden by every lookup): when and by whom.
        self._trashed: dict[str, tuple[datetime, str | None]] = {}
        self._sessions: dict[str, SessionRow] = {}
        self._invitations: dict[str, InvitationRow] = {}
        self._invitation_by_token: dict[str, str] = {}
        self._replicas: dict[str, ReplicaRow] = {}
        self._writes_by_replica: Counter[str] = Counter()

    async def _enter(self) -> None:
        """One round trip: let other tasks run, then refuse if the store is not open."""
        await asyncio.sleep(self.latency)
        if not self._open:
            raise StorageError("the database is closed")

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    async def migrate(self) -> list[str]:
        await self._enter()
        return []  # no schema: nothing to apply, ever

    async def ping(self) -> None:
        await self._enter()

    async def pending_migrations(self) -> list[str]:
        await self._enter()
        return []  # nothing to migrate: the schema is this code's own classes

    def _touch(self, doc: DocumentRow, **changes: object) -> DocumentRecord:
        doc.record = replace(doc.record, updated_at=utcnow(), **changes)
        return doc.record

    def _live(self, doc_id: str) -> DocumentRow | None:
        """The document unless it is missing or in the trash."""
        return None if doc_id in self._trashed else self._docs.get(doc_id)

    def _role(self, doc: DocumentRow, user_id: str) -> Role | None:
        return "owner" if doc.record.owner_id == user_id else doc.grants.get(user_id)

    def _drop_invitation(self, inv: InvitationRow) -> None:
        del self._invitations[inv.id]
        del self._invitation_by_token[inv.token_hash]
