"""The records every ``DocumentStore`` speaks in.

Plain frozen msgspec Structs with string ids and aware UTC datetimes, whatever the backend stores:
the services, the Room and the web layer import these without importing a backend. They are frozen
so a record handed out by a store can be shared without anyone changing what another holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

Role = Literal["owner", "editor", "commenter", "viewer"]
#: The roles a grant can give (ownership is not a grant). A commenter reads the text and writes
#: comments; it cannot edit.
GrantedRole = Literal["editor", "commenter", "viewer"]
ROLE_RANK: dict[str, int] = {"viewer": 1, "commenter": 2, "editor": 3, "owner": 4}
#: The roles that may write comments.
COMMENTING_ROLES = frozenset({"commenter", "editor", "owner"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(msgspec.Struct, frozen=True):
    id: str
    email: str
    name: str
    password_hash: str | None
    created_at: datetime
    #: May administer the server (accounts, sign-up policy, the audit log of everything).
    is_admin: bool = False
    #: Set while an administrator has disabled the account: it cannot sign in.
    disabled_at: datetime | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

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


class DocumentListing(msgspec.Struct, frozen=True):
    """A row of someone's document list: the document, their role, the owner's display name, and
    who wrote the newest committed edit (``last_editor_id`` None: never edited;
    ``last_editor_name`` None: no account by that id, i.e. a guest)."""

    doc: DocumentRecord
    role: Role
    owner_name: str
    last_editor_id: str | None
    last_editor_name: str | None


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
    #: False when every grant of this person on the document was made by picking them by id:
    #: nobody who shared it with them typed their address, so it is not shown to others.
    by_address: bool = True


class Person(msgspec.Struct, frozen=True):
    """Someone the user works with (a co-collaborator): the people picker's entry. No address."""

    user_id: str
    name: str


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


class EditRun(msgspec.Struct, frozen=True):
    """Consecutive log entries of one user with short pauses, summed up: what the history's
    sessions are built from. The store groups them where the log is, so a long log is summed up
    by the database instead of being sent row by row."""

    user_id: str
    first_seq: int
    last_seq: int
    started_at: datetime
    ended_at: datetime
    #: Characters inserted by the entries that inserted (a replacing message counts here).
    inserted: int
    #: Characters deleted by the entries that only deleted.
    deleted: int
    #: Log entries.
    edits: int
    user_name: str = ""


class ReplicaAuthor(msgspec.Struct, frozen=True):
    """Whose a replica is: the authorship colours map each character's replica to its author."""

    replica: str
    user_id: str
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


#: ``users.password_hash`` of an account made by single sign-on: registered (not NULL, which
#: means invited), with no password. It is not an argon2 hash, so no password ever verifies
#: against it (``AuthService`` also refuses it before trying).
NO_PASSWORD = "!no-password"  # noqa: S105 (a marker, not a secret)

# --- audit log ---


class NewAuditEntry(msgspec.Struct, frozen=True):
    """What the audit log is told: the store adds the time and copies the names and the title."""

    action: str
    actor_id: str | None = None
    ip: str | None = None
    doc_id: str | None = None
    subject_id: str | None = None
    detail: dict[str, str] = msgspec.field(default_factory=dict)


class AuditEntry(msgspec.Struct, frozen=True):
    """One line of the audit log, with the actor's address and name, the document's title and
    the subject's name as they were when it happened (empty where there was none)."""

    id: int
    at: datetime
    action: str
    actor_id: str | None
    actor_email: str
    actor_name: str
    ip: str | None
    doc_id: str | None
    doc_title: str
    subject_id: str | None
    subject_name: str
    detail: dict[str, str]


class AuditFilter(msgspec.Struct, frozen=True):
    """Which entries to list: every given criterion must hold. ``actor`` is a user id or an
    e-mail address as recorded; ``action`` a prefix (``document.`` or ``auth.sign_in``);
    ``since`` inclusive, ``until`` exclusive."""

    actor: str | None = None
    action: str | None = None
    doc_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


TokenScope = Literal["read", "read-write"]


class ApiToken(msgspec.Struct, frozen=True):
    """A personal API token (only a hash of its secret is stored): ``read`` tokens may only
    read; ``expires_at`` None never expires; ``last_used_at`` is kept up to date roughly."""

    id: str
    user_id: str
    name: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None


class TrashedDocument(msgspec.Struct, frozen=True):
    """A document in its owner's trash: hidden from everyone (as if deleted) until it is restored,
    or purged for good (by the owner, or by the retention task)."""

    doc: DocumentRecord
    deleted_at: datetime
    deleted_by: str | None


# --- administration ------------------------------------------------------------------------------


class ServerInvitation(msgspec.Struct, frozen=True):
    """An administrator's invitation for an address to create an account (single use, expiring;
    only a hash of its token is stored)."""

    id: str
    email: str
    created_by: str
    created_at: datetime
    expires_at: datetime


class UserSummary(msgspec.Struct, frozen=True):
    """A row of the administrator's user list: the account, how many documents it owns and when
    it last signed in (``None``: never, or so long ago the session was forgotten)."""

    user: User
    documents: int
    last_sign_in: datetime | None


class AccountDeletion(msgspec.Struct, frozen=True):
    """What deleting an account changed: the documents it owned that were deleted or handed over,
    and the other documents it lost its grants on (live sockets and lists follow these)."""

    deleted: tuple[str, ...] = ()
    transferred: tuple[str, ...] = ()
    grants_removed: tuple[str, ...] = ()


NotificationKind = Literal["mention", "comment_mention", "reply", "share"]
DigestFrequency = Literal["off", "daily", "weekly"]
#: How long after one digest the next one is due.
DIGEST_PERIOD: dict[str, timedelta] = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


class NewNotification(msgspec.Struct, frozen=True):
    """A notification to store for ``user_id`` about ``doc_id`` (``detail``: a few short strings,
    such as the role given, the comment's id and an excerpt, or the position of a mention)."""

    user_id: str
    kind: NotificationKind
    doc_id: str
    actor_id: str | None
    detail: dict[str, str] = msgspec.field(default_factory=dict)


class Notification(msgspec.Struct, frozen=True):
    """One stored notification, with the actor's name and the document's title as they are now
    (listed only while ``user_id`` can open the document)."""

    id: int
    user_id: str
    kind: NotificationKind
    doc_id: str
    doc_title: str
    actor_id: str | None
    actor_name: str
    detail: dict[str, str]
    created_at: datetime
    read_at: datetime | None = None
    mailed_at: datetime | None = None


class Comment(msgspec.Struct, frozen=True):
    """One comment of a thread. The thread's first comment (``thread_id == id``) holds the anchor
    (the CRDT ids of the first and last characters it was written on, and the text quoted then)
    and the thread's ``resolved`` flag; a reply has empty anchors. ``version`` grows with every
    change, so a client keeps the newest of two copies it hears about."""

    doc_id: str
    id: str
    thread_id: str
    author_id: str
    author_name: str
    body: str
    created_at: datetime
    anchor_start: str = ""
    anchor_end: str = ""
    quote: str = ""
    mentions: tuple[str, ...] = ()
    resolved: bool = False
    version: int = 1
    edited_at: datetime | None = None


class NewComment(msgspec.Struct, frozen=True):
    """A comment to store (see :class:`Comment`)."""

    id: str
    thread_id: str
    author_id: str
    body: str
    anchor_start: str = ""
    anchor_end: str = ""
    quote: str = ""
    mentions: tuple[str, ...] = ()
