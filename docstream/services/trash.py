"""The trash: deleting a document is undoable for ``trash_retention_days``.

``DELETE /documents/{id}`` (the documents service) only stamps the document as trashed; to everyone
but its owner it is then deleted exactly as before (``DocumentDeleted``: sockets closed, lists
told, indexes dropped). Here its owner lists the trash, restores a document as it was (grants,
public link setting, history and versions intact; ``DocumentRestored`` gives it back to the
members' lists and the title index), or purges it for good, one or all at once. A periodic task
(:class:`TrashJanitor`) purges what stayed in the trash longer than the retention.

Only the owner sees their trash: any other caller, and any id that is not one of the caller's
trashed documents, is answered alike (404), so nobody learns which ids are in someone's trash.

Trashed documents count towards ``max_documents_per_user``: the trash cannot grow the storage of
one user past the quota, and never blocks a new document for long (purged by the retention task,
or at once by the owner).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from docstream.collab.extensions import ActionTaken, DocumentRestored, Extensions
from docstream.errors import DocStreamError, NotFoundError
from docstream.services.documents import is_uuid
from docstream.services.identity import Identity
from docstream.settings import Settings
from docstream.storage.base import DocumentRecord, DocumentStore, TrashedDocument, utcnow

log = logging.getLogger(__name__)
#: Documents purged per query by the retention task (then it looks again).
BATCH = 500


class TrashService:
    """The owner's trash (see the module docstring)."""

    def __init__(self, store: DocumentStore, settings: Settings, extensions: Extensions) -> None:
        self._store = store
        self._retention = timedelta(days=settings.trash_retention_days)
        self.extensions = extensions

    def purge_at(self, trashed: TrashedDocument) -> datetime:
        """When the retention task deletes this document for good."""
        return trashed.deleted_at + self._retention

    async def list_for(self, caller: Identity) -> list[TrashedDocument]:
        return await self._store.list_trash(caller.user_id)

    async def _own(self, caller: Identity, doc_id: str) -> TrashedDocument:
        found = await self._store.get_trashed(doc_id) if is_uuid(doc_id) else None
        if found is None or found.doc.owner_id != caller.user_id or caller.guest:
            raise NotFoundError("no such document in your trash")
        return found

    async def restore(self, caller: Identity, doc_id: str) -> DocumentRecord:
        """Take one of the caller's documents out of the trash, as it was."""
        await self._own(caller, doc_id)
        doc = await self._store.restore_document(doc_id)
        if doc is None:  # restored or purged meanwhile
            raise NotFoundError("no such document in your trash")
        members = tuple(c.user_id for c in await self._store.list_collaborators(doc_id))
        await self.extensions.emit(DocumentRestored(doc, members))
        return doc

    async def purge(self, caller: Identity, doc_id: str) -> None:
        """Delete one of the caller's trashed documents for good."""
        await self._own(caller, doc_id)
        if not await self._store.purge_document(doc_id):
            raise NotFoundError("no such document in your trash")

    async def empty(self, caller: Identity) -> list[str]:
        """Delete every document in the caller's trash for good; return their ids."""
        purged = []
        for trashed in await self._store.list_trash(caller.user_id):
            if await self._store.purge_document(trashed.doc.id):
                purged.append(trashed.doc.id)
        return purged

    async def purge_expired(self, now: datetime | None = None) -> list[TrashedDocument]:
        """Delete what stayed in the trash longer than the retention (every owner's); return
        what was purged. Each purge is audited with no actor (``document.purged``)."""
        cutoff = (now or utcnow()) - self._retention
        purged: list[TrashedDocument] = []
        while True:
            batch = await self._store.expired_trash(cutoff, BATCH)
            for trashed in batch:
                if await self._store.purge_document(trashed.doc.id, deleted_before=cutoff):
                    purged.append(trashed)
                    await self.extensions.emit(
                        ActionTaken(
                            action="document.purged",
                            actor_id=None,
                            doc_id=trashed.doc.id,
                            subject_id=trashed.doc.owner_id,
                            detail=(("reason", "retention"),),
                        )
                    )
            if len(batch) < BATCH:
                break
            await asyncio.sleep(0)  # let other work run between batches
        if purged:
            log.info("purged %d documents trashed before %s", len(purged), cutoff.date())
        return purged


class TrashJanitor:
    """An async context manager running :meth:`TrashService.purge_expired` every ``interval``
    seconds (every node runs one; purging twice is harmless: the second finds nothing)."""

    def __init__(self, trash: TrashService, *, interval: float) -> None:
        self._trash = trash
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._trash.purge_expired()
            except DocStreamError as exc:
                log.warning("purging the trash failed (%s); will retry", exc)
            except Exception:  # the janitor must outlive any one failure
                log.exception("purging the trash failed unexpectedly")

    async def __aenter__(self) -> TrashJanitor:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="trash-janitor")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
