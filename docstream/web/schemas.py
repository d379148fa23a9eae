"""Request bodies and response shapes of the REST API (msgspec Structs; OpenAPI comes from them).

Bodies may carry more fields than listed (PROTOCOL.md §3): unknown fields are ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from docstream.services.auth import Identity
from docstream.storage.base import Collaborator, DocumentRecord, Role, User

Email = Annotated[str, Meta(max_length=320, description="an email address; case-insensitive")]
Password = Annotated[str, Meta(max_length=1024, description="at least 8 characters")]
Name = Annotated[str, Meta(max_length=100)]
Title = Annotated[str, Meta(max_length=200, description="1 to 200 characters")]
GrantRole = Literal["editor", "viewer"]


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


class TitleBody(msgspec.Struct):
    title: Title


class ShareBody(msgspec.Struct):
    email: Email
    role: GrantRole


class PublicSharingBody(msgspec.Struct):
    enabled: bool
    role: GrantRole = "viewer"


class UserOut(msgspec.Struct):
    id: str
    email: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, name=user.name, created_at=user.created_at)


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


class CollaboratorOut(msgspec.Struct):
    user_id: str
    email: str
    name: str
    role: Role
    pending: bool

    @classmethod
    def of(cls, c: Collaborator) -> CollaboratorOut:
        return cls(user_id=c.user_id, email=c.email, name=c.name, role=c.role, pending=c.pending)


class HealthOut(msgspec.Struct, omit_defaults=True):
    """``status`` for everyone; the rest only for local requests (``/health`` in app.py)."""

    status: Literal["ok", "degraded"]
    db: str | None = None
    redis: str | None = None
    version: str | None = None
    details: dict[str, object] | None = None


__all__ = ["Identity"]
