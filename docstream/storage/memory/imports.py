"""Creating a document together with its log in memory (imports), atomically."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.base import DocumentRecord, LogEntry, NewLogEntry, utcnow
from docstream.storage.memory.state import DocumentRow, MemoryState, ReplicaRow


class MemoryImports(MemoryState):
    """A new document with content."""

    async def create_document_with_log(
        self, owner_id: str, title: str, entries: Sequence[NewLogEntry]
    ) -> DocumentRecord:
        await self._enter()
        if owner_id not in self._users:
            raise NotFoundError("no such document or user")
        pairs = {(e.replica, e.user_id) for e in entries}
        for replica, user_id in pairs:  # every check before any change
            bound = self._replicas.get(replica)
            if bound is not None and bound.user_id != user_id:
                raise ConflictError(f"replica {replica} belongs to someone else")
        now = utcnow()
        for replica, user_id in pairs:
            self._replicas.setdefault(replica, ReplicaRow(user_id, now))
        record = DocumentRecord(
            str(uuid.uuid4()), title, owner_id, len(entries), False, "viewer", now, now
        )
        doc = self._docs[record.id] = DocumentRow(record)
        for seq, e in enumerate(entries, start=1):
            doc.log.append(
                LogEntry(
                    doc_id=record.id,
                    seq=seq,
                    user_id=e.user_id,
                    replica=e.replica,
                    payload=bytes(e.payload),
                    kind=e.kind,
                    position=e.position,
                    length=e.length,
                    preview=e.preview,
                    created_at=now,
                )
            )
            doc.by_sender.setdefault((e.replica, e.counter_hi), []).append(seq)
            self._writes_by_replica[e.replica] += 1
        return record
