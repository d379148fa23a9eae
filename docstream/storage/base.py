"""The ``DocumentStore`` interface: everything DocStream keeps durably.

Backends: ``SqliteDocumentStore`` (the embedded default), ``PostgresDocumentStore`` (teams and
clusters) and ``MemoryDocumentStore`` (fast in-process tests, not offered in the settings); one
contract suite (``tests/storage``) runs against all three. Every backend translates its library's
exceptions into :class:`docstream.errors.StorageError` (or a more precise DocStream error), so
callers never see ``sqlite3.Error`` or ``psycopg.Error``.

The ops log is append-only and gap-free per document: :meth:`DocumentStore.append_ops` stores a
batch of messages and advances ``documents.seq`` in one transaction (PostgreSQL: under the
document's row lock; SQLite: through the single writer), so a message is acknowledged only after it
is durable.

The records it speaks in live in :mod:`docstream.storage.records` and are re-exported here, where
most callers import them from.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Literal, Self

from docstream.storage.records import (
    DIGEST_PERIOD,
    ROLE_RANK,
    AccountDeletion,
    ApiToken,
    AuditEntry,
    AuditFilter,
    Collaborator,
    Comment,
    DigestFrequency,
    DocumentListing,
    DocumentRecord,
    EditRun,
    GrantedRole,
    Invitation,
    LogEntry,
    NewAuditEntry,
    NewComment,
    NewLogEntry,
    NewNotification,
    Notification,
    NotificationKind,
    Person,
    PublicLink,
    ReplicaAuthor,
    Role,
    RotateOutcome,
    ServerInvitation,
    SessionRecord,
    Snapshot,
    TokenScope,
    TrashedDocument,
    User,
    UserSummary,
    VersionRecord,
    utcnow,
)
from docstream.storage.search import SearchHit

__all__ = [
    "DIGEST_PERIOD",
    "ROLE_RANK",
    "AccountDeletion",
    "ApiToken",
    "AuditEntry",
    "AuditFilter",
    "Collaborator",
    "Comment",
    "DigestFrequency",
    "DocumentListing",
    "DocumentRecord",
    "DocumentStore",
    "EditRun",
    "GrantedRole",
    "Invitation",
    "LogEntry",
    "NewAuditEntry",
    "NewComment",
    "NewLogEntry",
    "NewNotification",
    "Notification",
    "NotificationKind",
    "Person",
    "PublicLink",
    "ReplicaAuthor",
    "Role",
    "RotateOutcome",
    "SearchHit",
    "ServerInvitation",
    "SessionRecord",
    "Snapshot",
    "TokenScope",
    "TrashedDocument",
    "User",
    "UserSummary",
    "VersionRecord",
    "utcnow",
]


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

    @abc.abstractmethod
    async def pending_migrations(self) -> list[str]:
        """The names of the migrations this code ships that the database has not applied
        (readiness). Raises StorageError when the database has migrations this code does not
        know (a newer version upgraded it) or an applied one was changed."""

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
    async def list_document_rows(self, user_id: str) -> list[DocumentListing]:
        """:meth:`list_documents` with the owner's name and the newest edit's author, in one
        query (the rows of ``GET /documents``)."""

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
        self,
        doc_id: str,
        user_id: str,
        role: GrantedRole,
        *,
        by_address: bool = True,
    ) -> None:
        """Grant or change a role. ``by_address``: the grantor typed the grantee's address (a
        grant by id leaves an earlier grant's ``by_address`` as it was)."""

    @abc.abstractmethod
    async def remove_permission(self, doc_id: str, user_id: str) -> bool: ...

    @abc.abstractmethod
    async def list_collaborators(self, doc_id: str) -> list[Collaborator]:
        """The owner first, then grants by email (``Collaborator.by_address`` per grant)."""

    @abc.abstractmethod
    async def co_collaborators(self, user_id: str) -> list[Person]:
        """The registered users other than ``user_id`` who share at least one document with
        them (as owner or grant, on either side): the most recently updated shared document
        first, then the most shared documents, then by id."""

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
    async def read_edit_runs(
        self, doc_id: str, before_seq: int | None, after_seq: int, entries: int, gap: float
    ) -> list[EditRun]:
        """Newest first: the last ``entries`` log entries before ``before_seq`` (or the newest)
        and after ``after_seq``, grouped into runs of consecutive entries by one user with less
        than ``gap`` seconds between neighbours (``user_name`` filled)."""

    @abc.abstractmethod
    async def list_log_replicas(self, doc_id: str, after_seq: int) -> list[ReplicaAuthor]:
        """Every replica with log entries after ``after_seq`` in this document and whose it is
        (``user_name`` filled), ordered by replica."""

    @abc.abstractmethod
    async def find_seq_of_payload(
        self, doc_id: str, replica: str, payload: bytes, *, counter_hi: int | None = None
    ) -> int | None:
        """The newest seq of a message from ``replica`` with exactly this payload.

        ``counter_hi`` is the largest counter the payload's inserts create (``None`` for a
        message without inserts): it follows from the payload, and narrows the search.
        """

    @abc.abstractmethod
    async def pack_log(self, doc_id: str, below_seq: int, max_packs: int | None = None) -> int:
        """Move the oldest unpacked entries into packs (:mod:`docstream.storage.packs`), whole
        packs only, none holding a seq above ``below_seq``, at most ``max_packs`` of them; return
        how many entries moved. Every read of the log answers the same before and after."""

    async def snapshot_seq(self, doc_id: str) -> int | None:
        """The seq of the newest snapshot (``None``: none). Backends answer it without reading
        the snapshot itself."""
        snapshot = await self.latest_snapshot(doc_id)
        return None if snapshot is None else snapshot.seq

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

    # --- administration --------------------------------------------------------------------------

    @abc.abstractmethod
    async def set_admin(self, user_id: str, is_admin: bool) -> User | None:
        """Make a registered user an administrator or not (``None``: no such registered user)."""

    @abc.abstractmethod
    async def set_disabled(self, user_id: str, disabled: bool) -> User | None:
        """Disable an account (it keeps the time it was first disabled) or enable it again."""

    @abc.abstractmethod
    async def count_admins(self) -> int:
        """How many enabled administrators the server has."""

    # --- single sign-on (OpenID Connect) ---------------------------------------------------------

    @abc.abstractmethod
    async def identity_user(self, issuer: str, subject: str) -> str | None:
        """The id of the account the provider identity ``(issuer, subject)`` signs in to."""

    @abc.abstractmethod
    async def link_identity(self, issuer: str, subject: str, user_id: str) -> bool:
        """Link ``(issuer, subject)`` to a registered user: True if linked now, False if it was
        linked to that user already. ConflictError if it is linked to another user; NotFoundError
        if the user does not exist or is only invited (pending)."""

    # --- notifications (migration 0017) ----------------------------------------------------------

    @abc.abstractmethod
    async def add_notification(self, new: NewNotification) -> Notification | None:
        """Store a notification, stamped now, if ``new.user_id`` can open ``new.doc_id`` as a
        member (owner or grantee; the document not in the trash); None (nothing stored) if not."""

    @abc.abstractmethod
    async def list_notifications(
        self,
        user_id: str,
        before_id: int | None = None,
        limit: int = 50,
        *,
        unread_unmailed: bool = False,
    ) -> list[Notification]:
        """The user's notifications, newest first, ids below ``before_id`` (keyset pages), only
        those of documents the user can open as a member now (hidden, not deleted, once access
        is revoked). ``unread_unmailed``: only unread ones not yet sent in a digest."""

    @abc.abstractmethod
    async def count_unread_notifications(self, user_id: str) -> int:
        """How many of the user's listable notifications are unread."""

    @abc.abstractmethod
    async def mark_notifications_read(self, user_id: str, ids: Sequence[int] | None) -> int:
        """Mark these (None: all) of ``user_id``'s unread notifications read; ids of other users'
        notifications are ignored. Returns how many changed."""

    @abc.abstractmethod
    async def mark_notifications_mailed(self, user_id: str, ids: Sequence[int]) -> None:
        """Record that these notifications of ``user_id`` went out in a digest."""

    @abc.abstractmethod
    async def get_digest(self, user_id: str) -> DigestFrequency:
        """The user's e-mail digest setting (``off`` unless set)."""

    @abc.abstractmethod
    async def set_digest(self, user_id: str, frequency: DigestFrequency) -> None:
        """Change the user's digest setting. NotFoundError if there is no such user."""

    @abc.abstractmethod
    async def digests_due(self, now: datetime, limit: int = 500) -> list[str]:
        """Ids of users whose digest is on and whose last one is a period old (or never sent)."""

    @abc.abstractmethod
    async def claim_digest(self, user_id: str, now: datetime) -> bool:
        """Atomically stamp the user's digest as sent at ``now`` if it is still due: True for the
        one caller (node) that should send it."""

    # --- audit log -------------------------------------------------------------------------------

    @abc.abstractmethod
    async def append_audit(self, entry: NewAuditEntry) -> AuditEntry:
        """Append one entry, durably, stamped now, with the actor's address and name, the
        document's title and the subject's name copied as they are now (empty if unknown)."""

    @abc.abstractmethod
    async def list_audit(
        self, where: AuditFilter, before_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Matching entries, newest first, with ids below ``before_id`` (keyset pagination)."""

    @abc.abstractmethod
    async def purge_audit(self, older_than: datetime, limit: int = 10_000) -> int:
        """Delete up to ``limit`` entries made before ``older_than``; return how many."""

    # --- password resets and API tokens ----------------------------------------------------------

    @abc.abstractmethod
    async def create_password_reset(
        self, user_id: str, token_hash: str, expires_at: datetime
    ) -> None:
        """Store a reset link of a registered user (and forget expired ones of everybody).
        Raises NotFoundError when there is no such registered user."""

    @abc.abstractmethod
    async def redeem_password_reset(self, token_hash: str, password_hash: str) -> User | None:
        """In one transaction: use up the unexpired reset with this token hash, set its user's
        password and delete every other outstanding reset of that user. ``None``: no such
        unexpired reset (unknown, used or expired); nothing changed."""

    @abc.abstractmethod
    async def create_api_token(
        self,
        user_id: str,
        name: str,
        scope: TokenScope,
        token_hash: str,
        expires_at: datetime | None,
        max_tokens: int,
    ) -> ApiToken:
        """Store a personal API token. Raises QuotaExceededError when the user already has
        ``max_tokens`` unexpired tokens (expired ones are forgotten first), NotFoundError when
        there is no such user."""

    @abc.abstractmethod
    async def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        """The user's unexpired tokens, oldest first."""

    @abc.abstractmethod
    async def get_api_token(self, token_hash: str) -> ApiToken | None:
        """The unexpired token with this hash."""

    @abc.abstractmethod
    async def delete_api_token(self, user_id: str, token_id: str) -> bool:
        """Revoke one of the user's tokens (``False``: the user has no such token)."""

    @abc.abstractmethod
    async def touch_api_token(self, token_id: str, used_at: datetime) -> None:
        """Record when a token was last used (best effort; no error for an unknown id)."""

    # --- import --------------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_document_with_log(
        self, owner_id: str, title: str, entries: Sequence[NewLogEntry]
    ) -> DocumentRecord:
        """Create a document whose log is ``entries`` (seq 1..n), in one transaction: an imported
        document exists with all its content or not at all. Each entry's replica is bound to the
        entry's user; a replica already bound to someone else is a ``ConflictError`` (nothing is
        created), an unknown owner a ``NotFoundError``."""

    # --- trash and ownership ---------------------------------------------------------------------
    # A trashed document (``deleted_at`` set) is hidden from every method above that finds, lists
    # or opens documents (``get_document``, ``get_role``, ``list_documents``,
    # ``list_document_rows``, ``accessible_document_ids``, ``co_collaborators``,
    # ``all_document_titles``) but still counts in ``count_owned_documents``: the trash is bounded
    # by the same quota.

    @abc.abstractmethod
    async def trash_document(self, doc_id: str, by_user_id: str) -> DocumentRecord | None:
        """Move a live document to the trash (its pending invitations are withdrawn; grants, log,
        snapshots, versions and the public link setting stay). ``None``: no such live document."""

    @abc.abstractmethod
    async def get_trashed(self, doc_id: str) -> TrashedDocument | None:
        """The document if it is in the trash (``None``: no such document, or not trashed)."""

    @abc.abstractmethod
    async def list_trash(self, owner_id: str) -> list[TrashedDocument]:
        """The owner's trashed documents, the most recently trashed first."""

    @abc.abstractmethod
    async def restore_document(self, doc_id: str) -> DocumentRecord | None:
        """Take a document out of the trash, as it was. ``None``: it is not in the trash."""

    @abc.abstractmethod
    async def purge_document(self, doc_id: str, *, deleted_before: datetime | None = None) -> bool:
        """Delete a trashed document for good (trashed before ``deleted_before`` when given);
        ``False`` when it is not (or no longer) in the trash. A live document is never purged."""

    @abc.abstractmethod
    async def expired_trash(self, deleted_before: datetime, limit: int) -> list[TrashedDocument]:
        """Up to ``limit`` documents trashed before ``deleted_before``, the oldest first."""

    @abc.abstractmethod
    async def transfer_ownership(
        self, doc_id: str, from_user_id: str, to_user_id: str
    ) -> DocumentRecord | None:
        """Make ``to_user_id`` the owner of a live document owned by ``from_user_id``, in one
        transaction: the new owner's grant goes, the old owner keeps an editor grant. ``None``:
        no such live document owned by ``from_user_id``. Raises NotFoundError for an unknown user.
        """

    # --- server administration -------------------------------------------------------------------

    @abc.abstractmethod
    async def claim_first_admin(self, user_id: str) -> bool:
        """Make the registered user an administrator if the server has no enabled administrator,
        atomically (of two concurrent claims exactly one succeeds). Whether it did."""

    @abc.abstractmethod
    async def get_server_setting(self, key: str) -> str | None:
        """A server-wide setting changed at run time (``None``: never set)."""

    @abc.abstractmethod
    async def set_server_setting(self, key: str, value: str | None) -> None:
        """Set a server-wide setting (``None`` removes it)."""

    @abc.abstractmethod
    async def create_server_invitation(
        self, email: str, created_by: str, token_hash: str, expires_at: datetime
    ) -> ServerInvitation:
        """Invite an address to create an account, replacing an earlier invitation of it."""

    @abc.abstractmethod
    async def list_server_invitations(self) -> list[ServerInvitation]:
        """Unexpired server invitations, oldest first."""

    @abc.abstractmethod
    async def get_server_invitation(self, token_hash: str) -> ServerInvitation | None:
        """The unexpired server invitation with this token hash."""

    @abc.abstractmethod
    async def delete_server_invitation(self, invitation_id: str) -> bool:
        """Revoke a server invitation; whether there was one."""

    @abc.abstractmethod
    async def signup_invited(self, email: str) -> bool:
        """Whether the address holds an unexpired invitation: a server invitation or an
        invitation to a document."""

    @abc.abstractmethod
    async def use_server_invitations(self, email: str) -> None:
        """The address created its account: its server invitation is used up."""

    @abc.abstractmethod
    async def list_users(
        self, query: str, limit: int, offset: int
    ) -> tuple[list[UserSummary], int]:
        """Registered users whose address or name contains ``query`` (case-insensitive; empty:
        everyone), ordered by address, one page, and how many match in all."""

    @abc.abstractmethod
    async def server_counts(self) -> tuple[int, int]:
        """How many registered users and documents the server holds."""

    @abc.abstractmethod
    async def delete_user(self, user_id: str, transfer_to: str | None) -> AccountDeletion | None:
        """Delete an account in one transaction (``None``: no such registered user).

        The documents it owns go to ``transfer_to`` (a registered user other than it; a grant
        the new owner held on one is dropped) or, without one, are deleted with their logs,
        snapshots, versions, grants and invitations. Its grants, sessions and invitations go.
        The ops log keeps its user id on past edits (the history shows a deleted user). Raises
        NotFoundError when ``transfer_to`` is not another registered user.
        """

    # --- comments (anchored to the text; docs/protocol.md §5.4) ---------------------------------

    @abc.abstractmethod
    async def add_comment(self, doc_id: str, comment: NewComment) -> tuple[Comment, bool]:
        """Store a comment unless one with its id exists on the document; returns the stored
        comment and whether it is new (False: the existing one, unchanged, whoever wrote it)."""

    @abc.abstractmethod
    async def get_comment(self, doc_id: str, comment_id: str) -> Comment | None: ...

    @abc.abstractmethod
    async def list_comments(self, doc_id: str) -> list[Comment]:
        """Every comment of the document, oldest first (ties by id)."""

    @abc.abstractmethod
    async def edit_comment(
        self, doc_id: str, comment_id: str, body: str, mentions: tuple[str, ...]
    ) -> Comment | None:
        """Replace a comment's body and mentions (its version grows); None if there is none."""

    @abc.abstractmethod
    async def delete_comment(self, doc_id: str, comment_id: str) -> list[str]:
        """Delete a comment, with its replies if it starts a thread; the ids deleted."""

    @abc.abstractmethod
    async def set_thread_resolved(
        self, doc_id: str, thread_id: str, resolved: bool
    ) -> Comment | None:
        """Resolve or reopen a thread (on its first comment, whose version grows)."""

    # --- full-text search ------------------------------------------------------------------------
    # The index holds, per document, the title and text as of a log ``seq`` (what the search
    # indexer read); see :mod:`docstream.storage.search` for the query rules.

    @abc.abstractmethod
    async def index_for_search(self, doc_id: str, title: str, body: str, seq: int) -> bool:
        """Store what a document says as of ``seq`` for search. An entry of a higher ``seq`` is
        never replaced by an older one (equal replaces: a rename keeps the seq). ``False``: no
        such document (nothing stored). A trashed document may be indexed (it is not found)."""

    @abc.abstractmethod
    async def search_backlog(self, limit: int) -> list[str]:
        """Up to ``limit`` live documents whose index entry is missing or behind: the document's
        ``seq`` is past the indexed one, or its title differs from the indexed title."""

    @abc.abstractmethod
    async def search_documents(
        self, user_id: str, terms: Sequence[str], limit: int, offset: int
    ) -> list[SearchHit]:
        """One page of the live documents ``user_id`` owns or was granted (public sharing does
        not count) whose indexed title or text matches every term (as a word prefix), the best
        first (ties by id). No terms: no hits."""
