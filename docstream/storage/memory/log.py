"""The ops log, snapshots and versions in memory.

Seq ``n`` of a document is entry ``n - 1`` of its list: gap-free by construction, and a batch is
appended without an await in between, so nothing can interleave with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from msgspec.structs import replace

from docstream.errors import DocStreamError, NotFoundError
from docstream.storage.base import (
    EditRun,
    LogEntry,
    NewLogEntry,
    ReplicaAuthor,
    Snapshot,
    VersionRecord,
    utcnow,
)
from docstream.storage.memory.state import MemoryState


class MemoryLog(MemoryState):
    """Ops log, snapshots and versions."""

    # --- ops log and snapshots -------------------------------------------------------------------

    def _named(self, entry: LogEntry) -> LogEntry:
        user = self._users.get(entry.user_id)
        return entry if user is None else replace(entry, user_name=user.name)

    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        if not entries:
            raise DocStreamError("append_ops needs at least one entry")
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            raise NotFoundError("the document no longer exists")
        now = utcnow()
        first = doc.record.seq + 1
        for seq, e in enumerate(entries, start=first):
            doc.log.append(
                LogEntry(
                    doc_id=doc_id,
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
        self._touch(doc, seq=first + len(entries) - 1)
        return doc.record.seq

    async def read_ops(
        self, doc_id: str, after_seq: int, limit: int | None = None
    ) -> list[LogEntry]:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            return []
        start = max(after_seq, 0)
        stop = None if limit is None else start + max(limit, 0)
        return [self._named(e) for e in doc.log[start:stop]]

    async def read_history(self, doc_id: str, before_seq: int | None, limit: int) -> list[LogEntry]:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None or limit <= 0:
            return []
        stop = len(doc.log) if before_seq is None else min(max(before_seq - 1, 0), len(doc.log))
        start = max(stop - limit, 0)
        return [self._named(e) for e in reversed(doc.log[start:stop])]

    async def read_edit_runs(
        self, doc_id: str, before_seq: int | None, after_seq: int, entries: int, gap: float
    ) -> list[EditRun]:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None or entries <= 0:
            return []
        stop = len(doc.log) if before_seq is None else min(max(before_seq - 1, 0), len(doc.log))
        runs: list[EditRun] = []
        prev: LogEntry | None = None
        for e in doc.log[max(stop - entries, after_seq, 0) : stop]:
            ins, dele = (0, e.length) if e.kind == "delete" else (e.length, 0)
            joins = (
                prev is not None
                and prev.user_id == e.user_id
                and (e.created_at - prev.created_at).total_seconds() < gap
            )
            if joins:
                last = runs[-1]
                runs[-1] = replace(
                    last,
                    last_seq=e.seq,
                    ended_at=max(last.ended_at, e.created_at),
                    inserted=last.inserted + ins,
                    deleted=last.deleted + dele,
                    edits=last.edits + 1,
                )
            else:
                user = self._users.get(e.user_id)
                runs.append(
                    EditRun(
                        user_id=e.user_id,
                        first_seq=e.seq,
                        last_seq=e.seq,
                        started_at=e.created_at,
                        ended_at=e.created_at,
                        inserted=ins,
                        deleted=dele,
                        edits=1,
                        user_name=user.name if user else "",
                    )
                )
            prev = e
        return runs[::-1]

    async def list_log_replicas(self, doc_id: str, after_seq: int) -> list[ReplicaAuthor]:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            return []
        found = {(e.replica, e.user_id) for e in doc.log[max(after_seq, 0) :]}
        return [
            ReplicaAuthor(
                replica=replica,
                user_id=user_id,
                user_name=user.name if (user := self._users.get(user_id)) else "",
            )
            for replica, user_id in sorted(found)
        ]

    async def find_seq_of_payload(
        self, doc_id: str, replica: str, payload: bytes, *, counter_hi: int | None = None
    ) -> int | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            return None
        for seq in reversed(doc.by_sender.get((replica, counter_hi), ())):
            if doc.log[seq - 1].payload == payload:
                return seq
        return None

    async def pack_log(self, doc_id: str, below_seq: int, max_packs: int | None = None) -> int:
        """Nothing to save in memory: entries stay as they are (every read answers the same)."""
        await self._enter()
        return 0

    async def save_snapshot(self, doc_id: str, seq: int, state: bytes, keep: int = 3) -> None:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            raise NotFoundError("no such document or user")
        doc.snapshots.setdefault(seq, Snapshot(doc_id, seq, bytes(state), utcnow()))
        for old in sorted(doc.snapshots, reverse=True)[max(keep, 0) :]:
            del doc.snapshots[old]

    async def latest_snapshot(
        self, doc_id: str, *, before_seq: int | None = None
    ) -> Snapshot | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            return None
        seqs = [s for s in doc.snapshots if before_seq is None or s < before_seq]
        return doc.snapshots[max(seqs)] if seqs else None

    # --- versions --------------------------------------------------------------------------------

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
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            raise NotFoundError("the document no longer exists")
        number = max(doc.versions, default=0) + 1
        record = VersionRecord(doc_id, number, seq, kind, label, author_id, len(text), utcnow())
        doc.versions[number] = (record, text)
        same_kind = [n for n, (v, _) in doc.versions.items() if v.kind == kind]
        for old in sorted(same_kind, reverse=True)[max(keep, 0) :]:
            del doc.versions[old]
        return record

    async def list_versions(self, doc_id: str) -> list[VersionRecord]:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            return []
        return [doc.versions[n][0] for n in sorted(doc.versions, reverse=True)]

    async def get_version(self, doc_id: str, version: int) -> VersionRecord | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        found = None if doc is None else doc.versions.get(version)
        return None if found is None else replace(found[0], text=found[1])
