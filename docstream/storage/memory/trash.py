"""The trash and ownership transfers in memory.

A trashed document stays in ``_docs`` with a stamp in ``_trashed``; every lookup that finds or
lists documents skips stamped ones (``MemoryState._live``), as the SQL backends skip rows whose
``deleted_at`` is set. Purging forgets the document with everything it holds.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from docstream.errors import NotFoundError
from docstream.storage.base import DocumentRecord, TrashedDocument, utcnow
from docstream.storage.memory.state import MemoryState


class MemoryTrash(MemoryState):
    """Trash, restore, purge, transfer."""

    def _trashed_record(self, doc_id: str) -> TrashedDocument:
        at, by = self._trashed[doc_id]
        return TrashedDocument(doc=self._docs[doc_id].record, deleted_at=at, deleted_by=by)

    async def trash_document(self, doc_id: str, by_user_id: str) -> DocumentRecord | None:
        await self._enter()
        doc = self._live(doc_id)
        if doc is None:
            return None
        self._trashed[doc_id] = (utcnow(), by_user_id if by_user_id in self._users else None)
        for inv in [i for i in self._invitations.values() if i.doc_id == doc_id]:
            self._drop_invitation(inv)
        return doc.record

    async def get_trashed(self, doc_id: str) -> TrashedDocument | None:
        await self._enter()
        return self._trashed_record(doc_id) if doc_id in self._trashed else None

    async def list_trash(self, owner_id: str) -> list[TrashedDocument]:
        await self._enter()
        found = [
            self._trashed_record(doc_id)
            for doc_id in self._trashed
            if self._docs[doc_id].record.owner_id == owner_id
        ]
        found.sort(key=lambda t: t.doc.id)
        found.sort(key=lambda t: t.deleted_at, reverse=True)
        return found

    async def restore_document(self, doc_id: str) -> DocumentRecord | None:
        await self._enter()
        if self._trashed.pop(doc_id, None) is None:
            return None
        return self._docs[doc_id].record

    async def purge_document(self, doc_id: str, *, deleted_before: datetime | None = None) -> bool:
        await self._enter()
        stamp = self._trashed.get(doc_id)
        if stamp is None or (deleted_before is not None and stamp[0] >= deleted_before):
            return False
        del self._trashed[doc_id]
        doc = self._docs.pop(doc_id)
        self._writes_by_replica.subtract(e.replica for e in doc.log)
        self._writes_by_replica += Counter()  # drop the replicas that wrote nowhere else
        return True

    async def expired_trash(self, deleted_before: datetime, limit: int) -> list[TrashedDocument]:
        await self._enter()
        found = [
            self._trashed_record(doc_id)
            for doc_id, (at, _by) in self._trashed.items()
            if at < deleted_before
        ]
        found.sort(key=lambda t: t.doc.id)
        found.sort(key=lambda t: t.deleted_at)
        return found[:limit]

    async def transfer_ownership(
        self, doc_id: str, from_user_id: str, to_user_id: str
    ) -> DocumentRecord | None:
        await self._enter()
        if to_user_id not in self._users:
            raise NotFoundError("no such document or user")
        doc = self._live(doc_id)
        if doc is None or doc.record.owner_id != from_user_id:
            return None
        self._touch(doc, owner_id=to_user_id)
        doc.grants.pop(to_user_id, None)
        doc.granted_by_id.discard(to_user_id)
        doc.grants[from_user_id] = "editor"
        doc.granted_by_id.discard(from_user_id)
        return doc.record
