"""History, restore points and export.

Restoring a version is an ordinary edit: the difference between the current text and the version's
text becomes ``del``/``ins`` ops from a fresh replica bound to the restoring user, submitted through
the document's Room like any client message — so it is logged, acknowledged only once durable,
broadcast live, and can itself be undone by restoring the automatic version taken just before it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from docstream.collab import slices
from docstream.collab.connection import Connection
from docstream.collab.hub import Hub
from docstream.collab.messages import OpsItem
from docstream.collab.room import Room
from docstream.crdt import Document, Op
from docstream.errors import DocStreamError, NotFoundError
from docstream.protocol import codec
from docstream.protocol.messages import Ack, ErrorFrame, SubmitOps
from docstream.protocol.session import text_diff
from docstream.services.auth import Identity
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, LogEntry, VersionRecord


@dataclass(frozen=True, slots=True)
class RestoreResult:
    version: int
    seq: int
    undo_version: int | None


def diff_ops(doc: Document, target: str) -> list[Op]:
    """Ops that turn ``doc``'s text into ``target`` (one delete and one insert at most)."""
    ops: list[Op] = []
    for change in text_diff(doc.text, target):
        if change.deleted:
            ops += doc.delete(change.index, change.deleted)
        if change.inserted:
            ops += doc.insert(change.index, change.inserted)
    return ops


class VersionService:
    def __init__(self, store: DocumentStore, hub: Hub, settings: Settings) -> None:
        self._store = store
        self._hub = hub
        self._settings = settings

    async def history(self, doc_id: str, newest: int | None, limit: int) -> list[LogEntry]:
        before = None if newest is None else newest + 1
        return await self._store.read_history(doc_id, before, limit)

    async def list(self, doc_id: str) -> list[VersionRecord]:
        return await self._store.list_versions(doc_id)

    async def get(self, doc_id: str, version: int) -> VersionRecord:
        found = await self._store.get_version(doc_id, version)
        if found is None:
            raise NotFoundError(f"no version {version} of this document")
        return found

    async def create_named(self, caller: Identity, doc_id: str, label: str) -> VersionRecord:
        async def take(room: Room) -> VersionRecord:
            seq = room.seq
            text = await room.text()
            return await self._store.create_version(
                doc_id,
                seq,
                text,
                "named",
                label,
                caller.user_id,
                keep=self._settings.max_named_versions,
            )

        result: VersionRecord = await self._hub.with_room(doc_id, take)
        return result

    async def restore(self, caller: Identity, doc_id: str, version: int) -> RestoreResult:
        target = await self.get(doc_id, version)
        assert target.text is not None
        replica = "rst_" + secrets.token_urlsafe(12)
        bound = await self._store.bind_replica(replica, caller.user_id)
        assert bound == caller.user_id

        conn = Connection(
            user_id=caller.user_id, name=caller.name, role="editor", guest=False, queue_size=4
        )
        conn.attach(replica)

        async def restore_in_room(room: Room) -> tuple[int | None, int | None]:
            # Runs inside the Room's worker: the diff is taken against the current text and
            # handled through the normal ops path before anything else can interleave.
            undo = None
            if room.seq > room.version_seq or not await self._store.list_versions(doc_id):
                record = await self._store.create_version(
                    doc_id,
                    room.seq,
                    await room.text(),
                    "auto",
                    f"before restoring version {version}",
                    caller.user_id,
                    keep=self._settings.max_auto_versions,
                )
                room.version_seq = room.seq
                undo = record.version
            scratch = await slices.decode(await room.encoded_state(), replica)
            try:
                ops = diff_ops(scratch, target.text or "")
            finally:
                await slices.release(scratch)
            if not ops:
                return undo, room.seq
            await room.handle_ops([OpsItem(conn, SubmitOps(ref=1, ops=ops))])
            return undo, None

        undo, unchanged_seq = await self._hub.with_room(doc_id, restore_in_room)
        if unchanged_seq is not None:
            return RestoreResult(version=version, seq=unchanged_seq, undo_version=undo)
        reply = codec.decode_server_frame(await conn.outbox.get())  # type: ignore[arg-type]
        if isinstance(reply, ErrorFrame):
            raise DocStreamError(f"the restore was not saved: {reply.message}", code=reply.code)
        assert isinstance(reply, Ack)
        return RestoreResult(version=version, seq=reply.seq, undo_version=undo)
