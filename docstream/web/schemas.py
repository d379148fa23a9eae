"""Request bodies and response shapes of the REST API (msgspec Structs; OpenAPI comes from them).

Bodies may carry more fields than listed (docs/protocol.md §4): unknown fields are ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from docstream.services.identity import Identity, has_password
from docstream.storage.base import (
    Collaborator,
    DocumentListing,
    DocumentRecord,
    Invitation,
    PublicLink,
    Role,
    User,
)

Email = Annotated[str, Meta(max_length=320, description="an email address; case-insensitive")]
Password = Annotated[str, Meta(max_length=1024, description="at least 8 characters")]
Name = Annotated[str, Meta(max_length=100)]
Title = Annotated[str, Meta(max_length=200, description="1 to 200 characters")]
GrantRole = Literal["editor", "viewer"]
#: A role a grant can give (a public link or an invitation cannot make a commenter).
ShareRole = Literal["editor", "commenter", "viewer"]


class RegisterBody(msgspec.Struct):
    email: Email
    password: Password
    name: Name | None = None


class LoginBody(msgspec.Struct):
    email: Email
    password: Password


class RefreshBody(msgspec.Struct):
    refresh_token: Annotated[str, Meta(max_length=4096)]


class LogoutBody(msgspec.Struct):
    refresh_token: Annotated[str, Meta(max_length=4096)] | None = None


class PasswordBody(msgspec.Struct):
    current_password: Password
    new_password: Password


class TitleBody(msgspec.Struct):
    title: Title


class ShareBody(msgspec.Struct, kw_only=True):
    """Exactly one of ``email`` (anyone, by address) and ``user_id`` (a co-collaborator, as
    ``GET /people/suggest`` lists them)."""

    email: Email | None = None
    user_id: Annotated[str, Meta(max_length=64)] | None = None
    role: ShareRole

    def __post_init__(self) -> None:
        if (self.email is None) == (self.user_id is None):
            raise ValueError("give either email or user_id")


class PublicSharingBody(msgspec.Struct):
    enabled: bool
    role: GrantRole = "viewer"


class PersonOut(msgspec.Struct):
    """A co-collaborator suggested by the people picker: never an address."""

    id: str
    name: str


class UserOut(msgspec.Struct):
    id: str
    email: str
    name: str
    created_at: datetime
    #: Administers this server (the UI shows the administration pages).
    is_admin: bool = False
    #: Signs in with a password (false: single sign-on only; the UI offers no password change).
    has_password: bool = True

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            created_at=user.created_at,
            is_admin=user.is_admin and not user.disabled,
            has_password=has_password(user),
        )


class AuthOut(msgspec.Struct):
    user: UserOut
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int = 900


class TokensOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int = 900


class DocumentOut(msgspec.Struct):
    id: str
    title: str
    role: Role
    owner_id: str
    seq: int
    public_sharing_enabled: bool
    public_sharing_role: GrantRole
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, doc: DocumentRecord, role: Role) -> DocumentOut:
        return cls(
            id=doc.id,
            title=doc.title,
            role=role,
            owner_id=doc.owner_id,
            seq=doc.seq,
            public_sharing_enabled=doc.public_sharing_enabled,
            public_sharing_role=doc.public_sharing_role,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )


class DocumentListItemOut(DocumentOut):
    """A row of ``GET /documents``: :class:`DocumentOut`'s fields and who owns and last edited
    the document (display names only, never addresses)."""

    #: The owner's display name.
    owner_name: str
    #: The display name of who made the newest committed edit ("Guest" for a public-link guest);
    #: null if the document was never edited.
    last_edited_by: str | None

    @classmethod
    def of_row(cls, row: DocumentListing) -> DocumentListItemOut:
        doc = row.doc
        editor = row.last_editor_name
        if editor is None and row.last_editor_id is not None:
            editor = "Guest"
        base = msgspec.structs.asdict(DocumentOut.of(doc, row.role))
        return cls(**base, owner_name=row.owner_name, last_edited_by=editor)


class DocumentDetailOut(DocumentOut):
    text: str = ""
    length: int = 0

    @classmethod
    def of_text(cls, doc: DocumentRecord, role: Role, text: str, seq: int) -> DocumentDetailOut:
        """The document as of ``seq`` (the text's seq, which may be newer than the record's)."""
        return cls(
            id=doc.id,
            title=doc.title,
            role=role,
            owner_id=doc.owner_id,
            seq=max(seq, doc.seq),
            public_sharing_enabled=doc.public_sharing_enabled,
            public_sharing_role=doc.public_sharing_role,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            text=text,
            length=len(text),
        )


class CollaboratorOut(msgspec.Struct, omit_defaults=True):
    """A person with access, or a pending invitation (``user_id`` null, ``pending`` true,
    ``invitation_id`` and ``expires_at`` set). The share reply for an invitation also carries
    ``invite_url`` (shown this once) and ``emailed``."""

    user_id: str | None
    #: Shown to the owner and editors only; ``null`` for everyone else.
    email: str | None
    #: The display name; a pending invitation has none ("").
    name: str
    role: Role
    pending: bool
    invitation_id: str | None = None
    expires_at: datetime | None = None
    invited_by: str | None = None
    invite_url: str | None = None
    emailed: bool | None = None

    @classmethod
    def of(cls, c: Collaborator, *, with_email: bool = True) -> CollaboratorOut:
        return cls(
            user_id=c.user_id,
            email=c.email if with_email else None,
            name=c.name,
            role=c.role,
            pending=c.pending,
        )

    @classmethod
    def of_invitation(
        cls, i: Invitation, url: str | None = None, emailed: bool | None = None
    ) -> CollaboratorOut:
        return cls(
            user_id=None,
            email=i.email,
            name="",
            role=i.role,
            pending=True,
            invitation_id=i.id,
            expires_at=i.expires_at,
            invited_by=i.invited_by,
            invite_url=url,
            emailed=emailed,
        )


class NameBody(msgspec.Struct):
    name: Name


class PublicSharingOut(DocumentOut):
    """The document and its public link (owner only). ``link_token`` is the secret; ``link_path``
    is the page to share (``/d/<id>#link=<token>``: the token rides in the URL fragment, which
    browsers never send to the server)."""

    link_token: str | None = None
    link_path: str | None = None

    @classmethod
    def of_link(cls, doc: DocumentRecord, role: Role, link: PublicLink | None) -> PublicSharingOut:
        base = DocumentOut.of(doc, role)
        token = link.token if link is not None and doc.public_sharing_enabled else None
        return cls(
            **{f: getattr(base, f) for f in DocumentOut.__struct_fields__},
            link_token=token,
            link_path=f"/d/{doc.id}#link={token}" if token else None,
        )


class InvitationOut(msgspec.Struct):
    """What an invitation link is for (before it is accepted)."""

    doc_title: str
    role: GrantRole
    invited_by_name: str
    expires_at: datetime


class AcceptedOut(msgspec.Struct):
    doc_id: str
    role: Role


class HealthOut(msgspec.Struct, omit_defaults=True):
    """``status`` for everyone; the rest only for local requests (``/health`` in app.py)."""

    status: Literal["ok", "degraded"]
    db: str | None = None
    redis: str | None = None
    version: str | None = None
    details: dict[str, object] | None = None


__all__ = ["Identity"]
