"""The ``DocumentStore`` interface and the records it speaks in.

Two real backends implement it (``SqliteDocumentStore``, ``PostgresDocumentStore``) and one contract
suite (``tests/storage``) runs against both. Records are plain msgspec Structs with string ids and
aware UTC datetimes, whatever the backend stores. Every backend translates its library's exceptions
into :class:`docstream.errors.StorageError` (or a more precise DocStream error), so callers never
see
``sqlite3.Error`` or ``psycopg.Error``.

The ops log is append-only and gap-free per document: :meth:`DocumentStore.append_ops` stores a
batch
of messages and advances ``documents.seq`` in one transaction (PostgreSQL: under the document's row
lock; SQLite: through the single writer), so a message is acknowledged only after it is durable.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Self

import msgspec

Role = Literal["owner", "editor", "viewer"]
ROLE_RANK: dict[str, int] = {"viewer": 1, "editor": 2, "owner": 3}


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(msgspec.Struct, frozen=True):
    id: str
    email: str
    name: str
    password_hash: str | None
    created_at: datetime

    @property
    def pending(self) -> bool:
        """Invited by email but not registered yet."""
        return self.password_hash is None


class DocumentRecord(msgspec.Struct, frozen=True):
    id: str
    title: str
    owner_id: str
    seq: int
    public_sharing_enabled: bool
    public_sharing_role: Literal["editor", "viewer"]
    created_at: datetime
    updated_at: datetime


class PublicLink(msgspec.Struct, frozen=True):
    """A document's public link: its secret token and the ``seq`` the document had when the token
    was made (guests holding the link read no history from before it)."""

    token: str
    since_seq: int


class Collaborator(msgspec.Struct, frozen=True):
    user_id: str
    email: str
    name: str
    role: Role
    pending: bool


class SessionRecord(msgspec.Struct, frozen=True):
    """A signed-in session (one sign-in on one device): the family of its refresh tokens."""

    id: str
    user_id: str
    refresh_jti: str  # the only refresh token of the session that may be used (rotation)
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


RotateOutcome = Literal["rotated", "reused", "revoked", "unknown"]


class Invitation(msgspec.Struct, frozen=True):
    """A pending, single-use invitation to a document (only a hash of its token is stored)."""

    id: str
    doc_id: str
    email: str
    role: Literal["editor", "viewer"]
    invited_by: str
    created_at: datetime
    expires_at: datetime
    doc_title: str = ""
    inviter_name: str = ""


class NewLogEntry(msgspec.Struct, frozen=True):
    """One accepted ``ops`` message, ready to be appended to the log."""

    user_id: str
    replica: str
    payload: bytes
    counter_lo: int | None = None
    counter_hi: int | None = None
    kind: str = "edit"
    position: int = 0
    length: int = 0
    preview: str = ""


class LogEntry(msgspec.Struct, frozen=True):
    doc_id: str
    seq: int
    user_id: str
    replica: str
    payload: bytes
    kind: str
    position: int
    length: int
    preview: str
    created_at: datetime
    user_name: str = ""


class Snapshot(msgspec.Struct, frozen=True):
    doc_id: str
    seq: int
    state: bytes
    created_at: datetime


class VersionRecord(msgspec.Struct, frozen=True):
    doc_id: str
    version: int
    seq: int
    kind: Literal["auto", "named"]
    label: str | None
    author_id: str | None
    length: int
    created_at: datetime
    text: str | None = None  # filled only by get_version


class DocumentStore(abc.ABC):
    """Everything DocStream keeps durably. Backends are async context managers."""

    dialect: str

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect (and create the database file or pool)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish pending writes and release every connection."""

    @abc.abstractmethod
    async def migrate(self) -> list[str]:
        """Apply the migrations not applied yet; return the names applied now."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StorageError unless the database answers."""

    # --- users ---------------------------------------------------------------------------------

    @abc.abstractmethod
    async def register_user(self, email: str, name: str, password_hash: str) -> User:
        """Create a user, or activate the pending (invited) user with this email.

        Raises ConflictError when a registered user has this email. ``email`` is normalised by the
        caller (trimmed, lower-cased).
        """

    @abc.abstractmethod
    async def get_or_create_pending_user(self, email: str) -> User:
        """The user with this email, creating a pending (invited) one if there is none."""

    @abc.abstractmethod
    async def get_user(self, user_id: str) -> User | None: ...

    @abc.abstractmethod
    async def set_user_name(self, user_id: str, name: str) -> User | None:
        """Change a registered user's display name; ``None`` if there is no such user."""

    @abc.abstractmethod
    async def get_user_by_email(self, email: str) -> User | None: ...

    # --- documents and permissions --------------------------------------------------------------

    @abc.abstractmethod
    async def create_document(self, owner_id: str, title: str) -> DocumentRecord: ...

    @abc.abstractmethod
    async def get_document(self, doc_id: str) -> DocumentRecord | None: ...

    @abc.abstractmethod
    async def list_documents(self, user_id: str) -> list[tuple[DocumentRecord, Role]]:
        """Documents the user owns or was granted, most recently updated first."""

    @abc.abstractmethod
    async def rename_document(self, doc_id: str, title: str) -> DocumentRecord | None: ...

    @abc.abstractmethod
    async def delete_document(self, doc_id: str) -> bool: ...

    @abc.abstractmethod
    async def set_public_sharing(
        self, doc_id: str, enabled: bool, role: Literal["editor", "viewer"]
    ) -> DocumentRecord | None: ...

    @abc.abstractmethod
    async def get_public_link(self, doc_id: str) -> PublicLink | None:
        """The document's public link token (``None``: no link, or no such document)."""

    @abc.abstractmethod
    async def set_public_link(self, doc_id: str, token: str | None) -> PublicLink | None:
        """Replace the document's link token (``None`` removes it) and stamp it with the
        document's current ``seq``, in one statement. Returns the new link (``None`` when the
        token was removed or there is no such document)."""

    @abc.abstractmethod
    async def get_role(
        self, doc_id: str, user_id: str
    ) -> tuple[DocumentRecord, Role | None] | None:
        """The document and the user's own role on it (owner or grant; public sharing excluded).

        ``None`` when the document does not exist.
        """

    @abc.abstractmethod
    async def accessible_document_ids(
        self, user_id: str, doc_ids: Sequence[str], *, include_public: bool = True
    ) -> set[str]:
        """Which of ``doc_ids`` the user can open (owner, grant, or public sharing unless
        ``include_public`` is false), in one query."""

    @abc.abstractmethod
    async def set_permission(
        self, doc_id: str, user_id: str, role: Literal["editor", "viewer"]
    ) -> None: ...

    @abc.abstractmethod
    async def remove_permission(self, doc_id: str, user_id: str) -> bool: ...

    @abc.abstractmethod
    async def list_collaborators(self, doc_id: str) -> list[Collaborator]:
        """The owner first, then grants by email."""

    @abc.abstractmethod
    async def all_document_titles(self) -> list[tuple[str, str, str]]:
        """``(doc_id, title, owner_id)`` of every document, oldest first (typeahead
        reconciliation on start)."""

    @abc.abstractmethod
    async def count_owned_documents(self, owner_id: str) -> int:
        """How many documents the user owns (the per-user quota)."""

    @abc.abstractmethod
    async def set_password(self, user_id: str, password_hash: str) -> None:
        """Replace a registered user's password hash."""

    # --- sessions (refresh token families) -------------------------------------------------------

    @abc.abstractmethod
    async def create_session(
        self, session_id: str, user_id: str, refresh_jti: str, expires_at: datetime
    ) -> None:
        """Record a new session (and forget sessions that expired long ago)."""

    @abc.abstractmethod
    async def rotate_session(
        self, session_id: str, old_jti: str, new_jti: str, expires_at: datetime
    ) -> RotateOutcome:
        """Swap the session's refresh token ``old_jti`` for ``new_jti``, atomically.

        ``rotated``: done. ``reused``: ``old_jti`` was already swapped (a copy of a used refresh
        token): the session is revoked now. ``revoked``: the session was signed out (or expired).
        ``unknown``: no such session.
        """

    @abc.abstractmethod
    async def revoke_sessions(
        self, user_id: str, *, only: str | None = None, keep: str | None = None
    ) -> list[str]:
        """Sign out the user's session ``only`` (or every session but ``keep``); return the ids
        of the sessions that were live until now."""

    @abc.abstractmethod
    async def dead_sessions(self, session_ids: Sequence[str]) -> set[str]:
        """Which of ``session_ids`` are revoked, expired or unknown (one indexed query)."""

    # --- invitations -----------------------------------------------------------------------------

    @abc.abstractmethod
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
        """Store an invitation, replacing a pending one of the same document and email.

        Raises QuotaExceededError when ``invited_by`` already has ``max_pending`` pending
        invitations (the replaced one not counted).
        """

    @abc.abstractmethod
    async def list_invitations(self, doc_id: str) -> list[Invitation]:
        """Pending (unexpired) invitations of a document, oldest first."""

    @abc.abstractmethod
    async def get_invitation(self, token_hash: str) -> Invitation | None:
        """The pending invitation with this token hash (``doc_title``/``inviter_name`` filled)."""

    @abc.abstractmethod
    async def delete_invitation(self, doc_id: str, invitation_id: str) -> bool: ...

    @abc.abstractmethod
    async def redeem_invitation(
        self, token_hash: str, user_id: str
    ) -> tuple[Invitation, Role | None] | None:
        """Use up a pending invitation and grant its role to ``user_id``, in one transaction.

        ``None``: no such pending invitation. Otherwise the invitation and the user's own role
        afterwards (``None``: no access). The grant is never a downgrade (an owner stays owner,
        an editor invited as viewer stays editor), and nothing is granted (the invitation is used
        up all the same) when the inviter may no longer grant that role: the owner grants
        anything; an editor grants ``viewer`` while still an editor.
        """

    # --- replicas ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def bind_replica(self, replica_id: str, user_id: str) -> str:
        """Bind ``replica_id`` to ``user_id`` unless already bound; return the bound user id.

        Binding again to the same user refreshes the replica's last-seen time."""

    @abc.abstractmethod
    async def prune_replicas(self, unseen_since: datetime, limit: int = 10_000) -> int:
        """Forget up to ``limit`` replicas last seen before ``unseen_since`` that never wrote to
        the ops log; return how many. Replicas that authored entries stay bound forever."""

    # --- ops log and snapshots ------------------------------------------------------------------

    @abc.abstractmethod
    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        """Append the messages with consecutive seqs in one transaction; return the last seq.

        The first entry gets ``documents.seq + 1``. Raises NotFoundError if the document is gone.
        """

    @abc.abstractmethod
    async def read_ops(
        self, doc_id: str, after_seq: int, limit: int | None = None
    ) -> list[LogEntry]:
        """Log entries with ``seq > after_seq`` in seq order (``user_name`` filled)."""

    @abc.abstractmethod
    async def read_history(self, doc_id: str, before_seq: int | None, limit: int) -> list[LogEntry]:
        """Newest first: entries with ``seq < before_seq`` (or the newest), ``user_name`` filled."""

    @abc.abstractmethod
    async def find_seq_of_payload(
        self, doc_id: str, replica: str, payload: bytes, *, counter_hi: int | None = None
    ) -> int | None:
        """The newest seq of a message from ``replica`` with exactly this payload.

        ``counter_hi`` is the largest counter the payload's inserts create (``None`` for a
        message without inserts): it follows from the payload, and narrows the search.
        """

    @abc.abstractmethod
    async def save_snapshot(self, doc_id: str, seq: int, state: bytes, keep: int = 3) -> None:
        """Store a snapshot covering ``seq``; keep only the newest ``keep``."""

    @abc.abstractmethod
    async def latest_snapshot(
        self, doc_id: str, *, before_seq: int | None = None
    ) -> Snapshot | None:
        """The newest snapshot (with ``seq < before_seq`` when given: the next older one)."""

    # --- versions ------------------------------------------------------------------------------

    @abc.abstractmethod
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
        """Store a restore point; drop the oldest of the same kind beyond ``keep``."""

    @abc.abstractmethod
    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        """Newest first, without text."""

    @abc.abstractmethod
    async def get_version(self, doc_id: str, version: int) -> VersionRecord | None:
        """With text."""
