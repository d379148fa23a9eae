"""Handing documents over: transfer ownership, leave a shared document, duplicate one.

- **Transfer** (owner only): the new owner is a registered collaborator of the document, or a
  co-collaborator picked by id (the people picker's rule, ``services/people.py``); anyone else,
  and an id that does not exist, is answered alike (404). The old owner keeps editor access. Both
  users' live sockets get their new role (``AccessChanged`` for each), and the document is
  re-announced (``DocumentRenamed``) so lists and the title index learn the new owner. The new
  owner's document quota applies.
- **Leave**: a collaborator removes their own grant, like a revocation by the owner (their sockets
  lose access, their list drops it). The owner cannot leave: they transfer ownership or trash it.
  With the public link on, whoever leaves can still open the document through the link.
- **Duplicate**: anyone who can read a document makes a new document of their own, "Copy of
  <title>", holding the current text (not the history), written as one server-side edit through
  the new document's Room (``Hub.direct``) like a version restore. It counts against the caller's
  quota.
"""

from __future__ import annotations

import secrets

from docstream.collab.direct import Author, DocumentView
from docstream.collab.extensions import AccessChanged, DocumentDeleted, DocumentRenamed
from docstream.collab.hub import Hub
from docstream.crdt import Op
from docstream.errors import (
    ConflictError,
    DocStreamError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    QuotaExceededError,
)
from docstream.services.documents import MAX_TITLE, Access, DocumentService
from docstream.services.identity import Identity
from docstream.settings import Settings
from docstream.storage.base import DocumentRecord, DocumentStore

COPY_PREFIX = "Copy of "


def copy_title(title: str) -> str:
    """``Copy of <title>``, cut to the longest title allowed."""
    full = COPY_PREFIX + title
    return full if len(full) <= MAX_TITLE else full[: MAX_TITLE - 1].rstrip() + "…"


class Handover:
    """Transfer, leave, duplicate (see the module docstring)."""

    def __init__(
        self, store: DocumentStore, documents: DocumentService, hub: Hub, settings: Settings
    ) -> None:
        self._store = store
        self._documents = documents
        self._hub = hub
        self._max_owned = settings.max_documents_per_user

    async def transfer(self, caller: Identity, doc_id: str, user_id: str) -> DocumentRecord:
        """Make ``user_id`` the owner; the caller (the owner) becomes an editor."""
        access = await self._documents.access(caller, doc_id, "viewer")
        if access.own_role != "owner":
            raise ForbiddenError("only the owner can transfer ownership")
        if user_id == caller.user_id:
            raise InvalidInputError("you already own this document")
        collaborators = await self._store.list_collaborators(doc_id)
        member = next((c for c in collaborators if c.user_id == user_id), None)
        if member is None and await self._documents.people.find(caller, user_id) is None:
            raise NotFoundError("nobody you work with has this id")
        if member is not None and member.pending:
            raise ConflictError(
                "this person has not registered yet; only registered people can own documents"
            )
        if await self._store.count_owned_documents(user_id) >= self._max_owned:
            raise QuotaExceededError(
                "this person owns the most documents allowed; they must delete some first"
            )
        doc = await self._store.transfer_ownership(doc_id, caller.user_id, user_id)
        if doc is None:  # trashed, or handed over by a concurrent request
            raise NotFoundError("no such document")
        extensions = self._documents.extensions
        await extensions.emit(AccessChanged(doc_id, user_id))
        await extensions.emit(AccessChanged(doc_id, caller.user_id))
        await extensions.emit(DocumentRenamed(doc))
        return doc

    async def leave(self, caller: Identity, doc_id: str) -> Access:
        """Remove the caller's own grant; returns their access before leaving."""
        access = await self._documents.access(caller, doc_id, "viewer")
        if access.own_role == "owner":
            raise ConflictError(
                "the owner cannot leave their document; make someone else the owner first, "
                "or move it to the trash"
            )
        if access.own_role is None or not await self._store.remove_permission(
            doc_id, caller.user_id
        ):
            raise NotFoundError("you have no access of your own to this document")
        await self._documents.extensions.emit(AccessChanged(doc_id, caller.user_id))
        return access

    async def duplicate(self, caller: Identity, doc_id: str) -> DocumentRecord:
        """A new document of the caller's with the current text of ``doc_id``."""
        source = await self._documents.access(caller, doc_id, "viewer")
        text, _seq = await self._hub.current_text(doc_id)
        doc = await self._documents.create(caller, copy_title(source.doc.title))
        if not text:
            return doc
        replica = "dup_" + secrets.token_urlsafe(12)
        await self._store.bind_replica(replica, caller.user_id)

        async def write(view: DocumentView) -> list[Op]:
            async with view.copy(replica) as scratch:
                return scratch.insert(0, text)

        author = Author(user_id=caller.user_id, name=caller.name, replica=replica)
        try:
            await self._hub.direct(doc.id).edit(author, write)
        except DocStreamError as exc:
            # Nobody saw the copy yet but its owner's lists: take it away again.
            await self._store.delete_document(doc.id)
            await self._documents.extensions.emit(DocumentDeleted(doc.id))
            raise DocStreamError(f"the copy was not saved: {exc.detail}", code=exc.code) from exc
        stored = await self._store.get_document(doc.id)
        return stored if stored is not None else doc
