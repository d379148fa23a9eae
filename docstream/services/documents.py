"""Documents, roles and sharing.

Access rules (PROTOCOL.md §3, issue 3):

- A caller's *effective* role on a document is the higher of their own role (owner, or a grant) and
  the public role when public sharing is enabled. Anonymous callers (guests) only ever get the
  public role, and only for reading and for the WebSocket.
- A document the caller cannot open answers 404 (401 for anonymous callers), whether or not it
  exists, so nobody learns which ids exist; a visible document with too low a role answers 403.
- Only the owner deletes, changes public sharing, grants or revokes ``editor``, and revokes anyone.
  Editors may invite viewers. Sharing needs an own role: access through a public link is not enough.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from docstream.errors import (
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    QuotaExceededError,
    UnauthorizedError,
)
from docstream.services.auth import Identity, normalize_email
from docstream.storage.base import (
    ROLE_RANK,
    Collaborator,
    DocumentRecord,
    DocumentStore,
    Role,
)

log = logging.getLogger(__name__)
MAX_TITLE = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class DocumentListener(Protocol):
    """Told about changes other parts keep state for (live sessions, the title index)."""

    async def document_created(self, doc: DocumentRecord) -> None: ...

    async def document_renamed(self, doc: DocumentRecord) -> None: ...

    async def document_deleted(self, doc_id: str) -> None: ...

    async def access_changed(self, doc_id: str, user_id: str | None) -> None:
        """A user's grant changed (``None``: public sharing changed, re-check everyone)."""


class TextSource(Protocol):
    async def current_text(self, doc_id: str) -> tuple[str, int]:
        """The visible text of a document and the seq it reflects."""


@dataclass(frozen=True, slots=True)
class Access:
    doc: DocumentRecord
    role: Role  # effective role
    own_role: Role | None


def validate_title(title: str) -> str:
    cleaned = title.strip()
    if not cleaned:
        raise InvalidInputError("title must not be empty")
    if len(cleaned) > MAX_TITLE:
        raise InvalidInputError(f"title must be at most {MAX_TITLE} characters")
    if _CONTROL.search(cleaned):
        raise InvalidInputError("title must not contain control characters")
    return cleaned


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def effective_role(doc: DocumentRecord, own: Role | None) -> Role | None:
    public: Role | None = doc.public_sharing_role if doc.public_sharing_enabled else None
    if own is None or public is None:
        return own or public
    return own if ROLE_RANK[own] >= ROLE_RANK[public] else public


class DocumentService:
    """``max_owned``: the most documents one user may own (``None``: no quota). Checked before
    each creation; concurrent creations by one user may pass it by a few."""

    def __init__(self, store: DocumentStore, *, max_owned: int | None = None) -> None:
        self._store = store
        self._max_owned = max_owned
        self.listeners: list[DocumentListener] = []

    async def _notify(self, method: str, *args: object) -> None:
        for listener in self.listeners:
            try:
                await getattr(listener, method)(*args)
            except Exception:  # a listener must not undo a committed change
                log.exception("document listener %s.%s failed", type(listener).__name__, method)

    async def access(self, caller: Identity | None, doc_id: str, minimum: Role) -> Access:
        """Resolve the caller's role on a document, or raise 401/403/404 per the rules above."""
        hidden: Exception = (
            UnauthorizedError("sign in to open this document")
            if caller is None or caller.guest
            else NotFoundError("no such document")
        )
        if not is_uuid(doc_id):
            raise hidden
        found: tuple[DocumentRecord, Role | None] | None
        if caller is None or caller.guest:
            doc = await self._store.get_document(doc_id)
            found = None if doc is None else (doc, None)
        else:
            found = await self._store.get_role(doc_id, caller.user_id)
        if found is None:
            raise hidden
        doc, own = found
        role = effective_role(doc, own)
        if role is None:
            raise hidden
        if ROLE_RANK[role] < ROLE_RANK[minimum]:
            raise ForbiddenError(f"this needs the {minimum} role; you are {role}")
        return Access(doc=doc, role=role, own_role=own)

    async def create(self, caller: Identity, title: str) -> DocumentRecord:
        title = validate_title(title)
        if self._max_owned is not None:
            owned = await self._store.count_owned_documents(caller.user_id)
            if owned >= self._max_owned:
                raise QuotaExceededError(
                    f"you own {owned} documents, the most allowed is {self._max_owned}; "
                    "delete some to create new ones"
                )
        doc = await self._store.create_document(caller.user_id, title)
        await self._notify("document_created", doc)
        return doc

    async def list_for(self, caller: Identity) -> list[tuple[DocumentRecord, Role]]:
        return await self._store.list_documents(caller.user_id)

    async def rename(self, caller: Identity, doc_id: str, title: str) -> Access:
        access = await self.access(caller, doc_id, "editor")
        doc = await self._store.rename_document(doc_id, validate_title(title))
        if doc is None:
            raise NotFoundError("no such document")
        await self._notify("document_renamed", doc)
        return Access(doc=doc, role=access.role, own_role=access.own_role)

    async def delete(self, caller: Identity, doc_id: str) -> None:
        access = await self.access(caller, doc_id, "viewer")
        if access.own_role != "owner":
            raise ForbiddenError("only the owner can delete a document")
        if not await self._store.delete_document(doc_id):
            raise NotFoundError("no such document")
        await self._notify("document_deleted", doc_id)

    async def collaborators(self, caller: Identity, doc_id: str) -> list[Collaborator]:
        await self.access(caller, doc_id, "viewer")
        return await self._store.list_collaborators(doc_id)

    async def share(
        self, caller: Identity, doc_id: str, email: str, role: Literal["editor", "viewer"]
    ) -> Collaborator:
        access = await self.access(caller, doc_id, "viewer")
        if access.own_role not in ("owner", "editor"):
            raise ForbiddenError("only the owner and editors can share this document")
        email = normalize_email(email)
        target = await self._store.get_or_create_pending_user(email)
        if target.id == access.doc.owner_id:
            raise InvalidInputError("the owner's role cannot be changed")
        if access.own_role != "owner":
            current = await self._store.get_role(doc_id, target.id)
            current_role = current[1] if current else None
            if role == "editor" or current_role == "editor":
                raise ForbiddenError("only the owner can grant or revoke the editor role")
        await self._store.set_permission(doc_id, target.id, role)
        await self._notify("access_changed", doc_id, target.id)
        return Collaborator(
            user_id=target.id,
            email=target.email,
            name=target.name,
            role=role,
            pending=target.pending,
        )

    async def revoke(self, caller: Identity, doc_id: str, user_id: str) -> None:
        access = await self.access(caller, doc_id, "viewer")
        if access.own_role != "owner":
            raise ForbiddenError("only the owner can revoke access")
        if user_id == access.doc.owner_id:
            raise InvalidInputError("the owner's access cannot be revoked")
        if not await self._store.remove_permission(doc_id, user_id):
            raise NotFoundError("this user has no access to revoke")
        await self._notify("access_changed", doc_id, user_id)

    async def set_public(
        self, caller: Identity, doc_id: str, enabled: bool, role: Literal["editor", "viewer"]
    ) -> Access:
        access = await self.access(caller, doc_id, "viewer")
        if access.own_role != "owner":
            raise ForbiddenError("only the owner can change public sharing")
        doc = await self._store.set_public_sharing(doc_id, enabled, role)
        if doc is None:
            raise NotFoundError("no such document")
        await self._notify("access_changed", doc_id, None)
        return Access(doc=doc, role="owner", own_role="owner")

    async def role_of(self, doc_id: str, user_id: str, guest: bool) -> Role | None:
        """The effective role right now (used to re-check live sessions)."""
        if guest:
            doc = await self._store.get_document(doc_id)
            return None if doc is None else effective_role(doc, None)
        found = await self._store.get_role(doc_id, user_id)
        return None if found is None else effective_role(*found)

    async def accessible(
        self, caller: Identity, doc_ids: Sequence[str], *, include_public: bool = True
    ) -> set[str]:
        """Which documents the caller can open, in one query. ``include_public=False`` keeps only
        the caller's own and shared-with-them documents (title search: a public link makes a
        document openable by whoever has the link, not discoverable by everyone)."""
        return await self._store.accessible_document_ids(
            caller.user_id, doc_ids, include_public=include_public
        )
