"""Documents, roles and sharing.

Access rules (docs/protocol.md §4):

- A caller's *effective* role on a document is the higher of their own role (owner, or a grant) and
  the public role when public sharing is enabled **and the caller presents the document's link
  token** (``Identity.link``). Knowing a document's id is not enough: the public link is a separate
  secret, made when the link is turned on and replaced when it is turned off and on again or reset
  (owner only), so an old link stops working. Anonymous callers (guests) only ever get the public
  role, and only for reading and for the WebSocket.
- Whoever holds only the link (no own role) reads no history, version or WebSocket catch-up from
  before the link was made (``Access.history_floor``): text deleted before the document was shared
  stays private.
- A document the caller cannot open answers 404 (401 for anonymous callers), whether or not it
  exists, so nobody learns which ids exist; a visible document with too low a role answers 403.
- Only the owner deletes, changes public sharing, grants or revokes ``editor``, and revokes anyone.
  Editors may invite viewers. Sharing needs an own role: access through a public link is not enough.
  A document is shared by address, or by id with a co-collaborator (``services/people.py``).
- E-mail addresses of collaborators are shown to the owner and editors only (``sees_emails``),
  and not those of people granted only by id (``Collaborator.by_address``): picking a
  co-collaborator must not reveal an address the picker was never told.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from docstream.collab.extensions import (
    AccessChanged,
    DocumentCreated,
    DocumentDeleted,
    DocumentRenamed,
    Extensions,
)
from docstream.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    QuotaExceededError,
    UnauthorizedError,
)
from docstream.services.identity import Identity, normalize_email
from docstream.services.people import People
from docstream.services.visible import refuse_invisible
from docstream.storage.base import (
    ROLE_RANK,
    Collaborator,
    DocumentListing,
    DocumentRecord,
    DocumentStore,
    GrantedRole,
    PublicLink,
    Role,
)

if TYPE_CHECKING:
    from docstream.services.invitations import Invited

log = logging.getLogger(__name__)
MAX_TITLE = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: The shape of a link token (``secrets.token_urlsafe(24)`` makes 32 characters; the migration
#: gives documents already public 48 or 64 hex digits).
_LINK_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


def new_link_token() -> str:
    """A fresh public link token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def well_formed_link(token: str | None) -> str | None:
    """``token`` if it has the shape of a link token, else None (never an error: a wrong link
    is treated like no link)."""
    return token if token is not None and _LINK_TOKEN.match(token) else None


class Inviter(Protocol):
    async def invite(
        self,
        caller: Identity,
        doc_id: str,
        email: str,
        role: Literal["editor", "viewer"],
        base_url: str,
    ) -> Invited:
        """Invite an address that has no account (the caller's rights are already checked)."""


class TextSource(Protocol):
    async def current_text(self, doc_id: str) -> tuple[str, int]:
        """The visible text of a document and the seq it reflects."""


@dataclass(frozen=True, slots=True)
class Access:
    doc: DocumentRecord
    role: Role  # effective role
    own_role: Role | None
    #: History, versions and catch-up before this seq are not for this caller (link-only access).
    history_floor: int = 0

    @property
    def sees_emails(self) -> bool:
        """Collaborators' addresses are for the owner and editors (own roles) only."""
        return self.own_role in ("owner", "editor")


def validate_title(title: str) -> str:
    cleaned = title.strip()
    if not cleaned:
        raise InvalidInputError("title must not be empty")
    if len(cleaned) > MAX_TITLE:
        raise InvalidInputError(f"title must be at most {MAX_TITLE} characters")
    if _CONTROL.search(cleaned):
        raise InvalidInputError("title must not contain control characters")
    return refuse_invisible(cleaned, "title")


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def link_matches(link: PublicLink | None, presented: str | None) -> bool:
    """Whether the presented token is the document's current link token (constant time)."""
    if link is None or presented is None:
        return False
    return hmac.compare_digest(link.token.encode(), presented.encode())


def effective_role(doc: DocumentRecord, own: Role | None, linked: bool = False) -> Role | None:
    """The higher of the own role and the public role (only for a caller with the link)."""
    public: Role | None = doc.public_sharing_role if doc.public_sharing_enabled and linked else None
    if own is None or public is None:
        return own or public
    return own if ROLE_RANK[own] >= ROLE_RANK[public] else public


class DocumentService:
    """Documents and who may open them.

    Every committed change is told to the node's extensions (``DocumentCreated``,
    ``DocumentRenamed``, ``DocumentDeleted``, ``AccessChanged``): live sockets, the other nodes and
    the typeahead indexes keep state derived from it. An extension's failure is logged by
    :class:`Extensions` and never undoes the change.

    Args:
        store: the document store.
        extensions: told about every change (none by default).
        max_owned: the most documents one user may own (``None``: no quota). Checked before each
            creation; concurrent creations by one user may pass it by a few.
    """

    def __init__(
        self,
        store: DocumentStore,
        *,
        extensions: Extensions | None = None,
        max_owned: int | None = None,
    ) -> None:
        self._store = store
        self._max_owned = max_owned
        self.extensions = extensions if extensions is not None else Extensions()
        #: Co-collaborators: the people picker's suggestions and share targets.
        self.people = People(store)
        #: Set by bootstrap: invites addresses that have no account (InvitationService).
        self.inviter: Inviter | None = None

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
        link = await self._link_for(doc, own, caller)
        role = effective_role(doc, own, link is not None)
        if role is None:
            raise hidden
        if ROLE_RANK[role] < ROLE_RANK[minimum]:
            raise ForbiddenError(f"this needs the {minimum} role; you are {role}")
        floor = link.since_seq if own is None and link is not None else 0
        return Access(doc=doc, role=role, own_role=own, history_floor=floor)

    async def _link_for(
        self, doc: DocumentRecord, own: Role | None, caller: Identity | None
    ) -> PublicLink | None:
        """The document's link, if the caller presented it and it can raise their role."""
        presented = well_formed_link(caller.link if caller is not None else None)
        if presented is None or not doc.public_sharing_enabled:
            return None
        if own is not None and ROLE_RANK[own] >= ROLE_RANK[doc.public_sharing_role]:
            return None  # the link could not raise this caller's role
        link = await self._store.get_public_link(doc.id)
        return link if link_matches(link, presented) else None

    async def create(self, caller: Identity, title: str) -> DocumentRecord:
        title = validate_title(title)
        if self._max_owned is not None:
            owned = await self._store.count_owned_documents(caller.user_id)
            if owned >= self._max_owned:
                raise QuotaExceededError(
                    f"you own {owned} documents, the most allowed is {self._max_owned} "
                    "(the trash included); delete some or empty the trash to create new ones"
                )
        doc = await self._store.create_document(caller.user_id, title)
        await self.extensions.emit(DocumentCreated(doc))
        return doc

    async def list_for(self, caller: Identity) -> list[tuple[DocumentRecord, Role]]:
        return await self._store.list_documents(caller.user_id)

    async def list_rows_for(self, caller: Identity) -> list[DocumentListing]:
        """:meth:`list_for` with the owner's name and the newest edit's author (one query)."""
        return await self._store.list_document_rows(caller.user_id)

    async def rename(self, caller: Identity, doc_id: str, title: str) -> Access:
        access = await self.access(caller, doc_id, "editor")
        doc = await self._store.rename_document(doc_id, validate_title(title))
        if doc is None:
            raise NotFoundError("no such document")
        await self.extensions.emit(DocumentRenamed(doc))
        return Access(doc=doc, role=access.role, own_role=access.own_role)

    async def delete(self, caller: Identity, doc_id: str) -> None:
        """Move the document to its owner's trash (``services/trash.py``): to everyone else it
        is deleted (``DocumentDeleted``) until the owner restores it."""
        access = await self.access(caller, doc_id, "viewer")
        if access.own_role != "owner":
            raise ForbiddenError("only the owner can delete a document")
        if await self._store.trash_document(doc_id, caller.user_id) is None:
            raise NotFoundError("no such document")
        await self.extensions.emit(DocumentDeleted(doc_id))

    async def collaborators(
        self, caller: Identity, doc_id: str
    ) -> tuple[Access, list[Collaborator]]:
        """Who has access; ``Access.sees_emails`` tells whether the addresses may be shown."""
        access = await self.access(caller, doc_id, "viewer")
        return access, await self._store.list_collaborators(doc_id)

    async def share(
        self,
        caller: Identity,
        doc_id: str,
        email: str,
        role: GrantedRole,
        base_url: str = "",
    ) -> Collaborator | Invited:
        """Grant a role to the account with this email at once; an address without an account
        gets an invitation link instead (``services/invitations.py``): registering an address
        grants nothing by itself."""
        access = await self._sharer_access(caller, doc_id, role)
        email = normalize_email(email)
        target = await self._store.get_user_by_email(email)
        if target is None or target.pending:
            if self.inviter is None:
                raise NotFoundError("no account has this email address")
            if role == "commenter":
                raise InvalidInputError(
                    "the commenter role can be given to people who have an account; "
                    "invite them as a viewer or an editor"
                )
            return await self.inviter.invite(caller, doc_id, email, role, base_url)
        await self._grant(access, target.id, role)
        return Collaborator(
            user_id=target.id, email=target.email, name=target.name, role=role, pending=False
        )

    async def share_with_user(
        self, caller: Identity, doc_id: str, user_id: str, role: GrantedRole
    ) -> Collaborator:
        """Grant a role to a co-collaborator picked by id (services/people.py). Anyone else,
        and an id that does not exist, is answered alike: 404. The reply has no address."""
        access = await self._sharer_access(caller, doc_id, role)
        person = await self.people.find(caller, user_id)
        if person is None:
            raise NotFoundError("nobody you work with has this id")
        await self._grant(access, person.user_id, role, by_address=False)
        return Collaborator(
            user_id=person.user_id, email="", name=person.name, role=role, pending=False
        )

    async def _sharer_access(self, caller: Identity, doc_id: str, role: GrantedRole) -> Access:
        """The caller's access if they may grant ``role`` on this document at all."""
        access = await self.access(caller, doc_id, "viewer")
        if access.own_role not in ("owner", "editor"):
            raise ForbiddenError("only the owner and editors can share this document")
        if access.own_role != "owner" and role == "editor":
            raise ForbiddenError("only the owner can grant or revoke the editor role")
        return access

    async def _grant(
        self,
        access: Access,
        user_id: str,
        role: GrantedRole,
        *,
        by_address: bool = True,
    ) -> None:
        doc_id = access.doc.id
        if user_id == access.doc.owner_id:
            raise InvalidInputError("the owner's role cannot be changed")
        if access.own_role != "owner":
            current = await self._store.get_role(doc_id, user_id)
            if current is not None and current[1] == "editor":
                raise ForbiddenError("only the owner can grant or revoke the editor role")
        await self._store.set_permission(doc_id, user_id, role, by_address=by_address)
        await self.extensions.emit(AccessChanged(doc_id, user_id))

    async def notify_access_changed(self, doc_id: str, user_id: str | None) -> None:
        """A grant changed elsewhere (an invitation was redeemed): tell the extensions."""
        await self.extensions.emit(AccessChanged(doc_id, user_id))

    async def revoke(self, caller: Identity, doc_id: str, user_id: str) -> None:
        access = await self.access(caller, doc_id, "viewer")
        if access.own_role != "owner":
            raise ForbiddenError("only the owner can revoke access")
        if user_id == access.doc.owner_id:
            raise InvalidInputError("the owner's access cannot be revoked")
        if not await self._store.remove_permission(doc_id, user_id):
            raise NotFoundError("this user has no access to revoke")
        await self.extensions.emit(AccessChanged(doc_id, user_id))

    async def set_public(
        self, caller: Identity, doc_id: str, enabled: bool, role: Literal["editor", "viewer"]
    ) -> tuple[Access, PublicLink | None]:
        """Turn the public link on or off (owner only). Turning it on when it was off makes a new
        token; turning it off forgets the token, so no old link works again."""
        access = await self._owner_access(
            caller, doc_id, "only the owner can change public sharing"
        )
        link = await self._store.get_public_link(doc_id)
        if enabled and (link is None or not access.doc.public_sharing_enabled):
            link = await self._store.set_public_link(doc_id, new_link_token())
        doc = await self._store.set_public_sharing(doc_id, enabled, role)
        if doc is None:
            raise NotFoundError("no such document")
        if not enabled:
            link = await self._store.set_public_link(doc_id, None)
        await self.extensions.emit(AccessChanged(doc_id, None))
        return Access(doc=doc, role="owner", own_role="owner"), link

    async def reset_link(self, caller: Identity, doc_id: str) -> tuple[Access, PublicLink]:
        """Replace the public link's token (owner only): every copy of the old link stops
        working, and guests connected through it are disconnected."""
        access = await self._owner_access(caller, doc_id, "only the owner can reset the link")
        if not access.doc.public_sharing_enabled:
            raise ConflictError("the public link is off; turn it on to get a link")
        link = await self._store.set_public_link(doc_id, new_link_token())
        if link is None:
            raise NotFoundError("no such document")
        await self.extensions.emit(AccessChanged(doc_id, None))
        return access, link

    async def public_link(self, caller: Identity, doc_id: str) -> tuple[Access, PublicLink | None]:
        """The current public link (owner only)."""
        access = await self._owner_access(caller, doc_id, "only the owner can see the link")
        link = await self._store.get_public_link(doc_id)
        return access, link if access.doc.public_sharing_enabled else None

    async def _owner_access(self, caller: Identity, doc_id: str, refusal: str) -> Access:
        access = await self.access(caller, doc_id, "viewer")
        if access.own_role != "owner":
            raise ForbiddenError(refusal)
        return Access(doc=access.doc, role="owner", own_role="owner")

    async def role_of(
        self, doc_id: str, user_id: str, guest: bool, link: str | None = None
    ) -> Role | None:
        """The effective role right now (used to re-check live sessions); ``link`` is the token
        the session presented when it connected."""
        caller = Identity(user_id=user_id, name="", guest=guest, link=link)
        try:
            return (await self.access(caller, doc_id, "viewer")).role
        except (NotFoundError, UnauthorizedError):
            return None

    async def accessible(
        self, caller: Identity, doc_ids: Sequence[str], *, include_public: bool = True
    ) -> set[str]:
        """Which documents the caller can open, in one query. ``include_public=False`` keeps only
        the caller's own and shared-with-them documents (title search: a public link makes a
        document openable by whoever has the link, not discoverable by everyone)."""
        return await self._store.accessible_document_ids(
            caller.user_id, doc_ids, include_public=include_public
        )
