"""History, restore points and export.

Restoring a version is an ordinary edit: the difference between the current text and the version's
text becomes ``del``/``ins`` ops from a fresh replica bound to the restoring user, submitted through
the document's Room (``Hub.direct``) like any client message — so it is logged, acknowledged only
once durable, broadcast live, and can itself be undone by restoring the automatic version taken
just before it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from docstream.collab import slices
from docstream.collab.direct import Author, DocumentView
from docstream.collab.hub import Hub
from docstream.collab.loader import load_document
from docstream.crdt import Document, Op
from docstream.errors import DocStreamError, NotFoundError
from docstream.protocol.session import text_diff
from docstream.services.identity import Identity
from docstream.services.sessions import EditSession, read_sessions
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, LogEntry, ReplicaAuthor, VersionRecord


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

    async def sessions(
        self, doc_id: str, before: int | None, floor: int, limit: int
    ) -> tuple[list[EditSession], int | None]:
        return await read_sessions(self._store, doc_id, before, floor, limit)

    async def text_at(self, doc_id: str, seq: int) -> tuple[str, int]:
        """The text as it was once the entry ``seq`` was applied (clamped to the newest), and the
        seq it reflects: the "before" and "after" of a session, for the diff view."""
        doc, at = await load_document(self._store, doc_id, upto=seq)
        try:
            return await slices.text(doc), at
        finally:
            await slices.release(doc)

    async def authors(self, doc_id: str, floor: int) -> list[ReplicaAuthor]:
        return await self._store.list_log_replicas(doc_id, floor)

    async def list(self, doc_id: str) -> list[VersionRecord]:
        return await self._store.list_versions(doc_id)

    async def get(self, doc_id: str, version: int) -> VersionRecord:
        found = await self._store.get_version(doc_id, version)
        if found is None:
            raise NotFoundError(f"no version {version} of this document")
        return found

    async def create_named(self, caller: Identity, doc_id: str, label: str) -> VersionRecord:
        async def take(view: DocumentView) -> VersionRecord:
            seq = view.seq
            text = await view.text()
            return await self._store.create_version(
                doc_id,
                seq,
                text,
                "named",
                label,
                caller.user_id,
                keep=self._settings.max_named_versions,
            )

        return await self._hub.direct(doc_id).read(take)

    async def restore(self, caller: Identity, doc_id: str, version: int) -> RestoreResult:
        target = await self.get(doc_id, version)
        assert target.text is not None
        replica = "rst_" + secrets.token_urlsafe(12)
        bound = await self._store.bind_replica(replica, caller.user_id)
        assert bound == caller.user_id
        undo: int | None = None

        async def diff(view: DocumentView) -> list[Op]:
            # Runs in the Room's order: the diff is taken against the current text and submitted
            # through the normal ops path before anything else can interleave.
            nonlocal undo
            if view.seq > view.version_seq or not await self._store.list_versions(doc_id):
                record = await self._store.create_version(
                    doc_id,
                    view.seq,
                    await view.text(),
                    "auto",
                    (
                        f"Before restoring “{target.label}”"
                        if target.label
                        else "Before restoring the version of "
                        f"{target.created_at:%Y-%m-%d %H:%M} UTC"
                    ),
                    caller.user_id,
                    keep=self._settings.max_auto_versions,
                )
                view.versioned()
                undo = record.version
            async with view.copy(replica) as scratch:
                return diff_ops(scratch, target.text or "")

        author = Author(user_id=caller.user_id, name=caller.name, replica=replica)
        try:
            seq = await self._hub.direct(doc_id).edit(author, diff)
        except DocStreamError as exc:
            raise DocStreamError(f"the restore was not saved: {exc.detail}", code=exc.code) from exc
        return RestoreResult(version=version, seq=seq, undo_version=undo)
