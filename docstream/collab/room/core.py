"""A Room: one open document on this node — its CRDT replica, its clients, its ``seq``.

Invariants (the life of an edit):

1. One worker task handles the Room's inbox strictly in order; nothing else mutates the replica.
   Whole-document jobs on it (encoding the state, extracting the text) run in slices on the event
   loop while the worker awaits them (``slices.py``), so none sees the replica change; a closed
   Room frees its replica the same way.
2. ``ops`` messages waiting in the inbox are validated one by one against the replica
   (:mod:`.validation`), then stored together in ONE transaction (group commit, :mod:`.batching`).
   Only after the commit is each sender acked and the others told, in ``seq`` order
   (:mod:`.commit`). A message is applied to the replica atomically: if any of its ops is refused,
   the replica is rebuilt from storage plus the batch's accepted messages, so a refused message
   never leaves a trace.
3. If the commit fails, nothing is acked or broadcast; the replica is rebuilt from storage and the
   senders get an ``error`` (their ops stay in their queues and are re-sent).
4. ``self.seq`` is the last seq applied to the replica, every entry up to it applied exactly once;
   entries from other nodes are applied in seq order and a gap is repaired from the log.
5. A snapshot copies the state and reads ``seq`` with no ``await`` in between; when and what to
   snapshot is :mod:`docstream.collab.snapshots`' business, told by the Room when its replica
   advanced and when it stops.

This module holds the Room's state, its worker loop and its public entry points; joining, leaving
and carets are in :mod:`.peers`. The Room hears nothing of the cluster or the indexes: it emits
extension events (:mod:`docstream.collab.extensions`) and uses two services of its Hub
(:class:`RoomContext`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from docstream import logs, tracing
from docstream.collab import messages as m
from docstream.collab import slices
from docstream.collab.connection import Connection
from docstream.collab.extensions import Extensions
from docstream.collab.loader import load_document
from docstream.collab.presence import Presence
from docstream.collab.room import frames, peers
from docstream.collab.room.batching import MAX_BATCH, Batcher
from docstream.collab.room.commit import CommitPath
from docstream.collab.room.inbox import Inbox
from docstream.collab.room.validation import Accepted
from docstream.crdt import Document
from docstream.errors import CrdtError, DocStreamError, StorageError
from docstream.protocol.codes import CLOSE_SERVER_ERROR, CLOSE_TRY_AGAIN_LATER
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, LogEntry

log = logging.getLogger("docstream.collab.room")


def _forget_text(doc_id: str, seq: int, text: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class RoomContext:
    """What a Room uses of the node around it: the extensions it tells, and two Hub services."""

    extensions: Extensions
    #: The user a replica id belongs to, binding it to ``user_id`` if it is new.
    bind_replica: Callable[[str, str], Awaitable[str]]
    #: Told (doc_id, seq, text) whenever the Room read its text at a seq the log holds.
    remember_text: Callable[[str, int, str], None] = _forget_text


class Persistence(Protocol):
    """What keeps the Room's state beside the log (snapshots, restore points: the policy is
    :class:`docstream.collab.snapshots.Snapshots`). Called from the worker, in the Room's order."""

    #: The seq of the latest restore point taken while the Room is open.
    version_seq: int

    async def changed(self, room: Room) -> None:
        """The replica advanced to ``room.seq``."""

    async def stopping(self, room: Room) -> None:
        """The Room stops (its replica is the log): the last chance to store its state."""

    def cancel(self) -> None:
        """The Room stops: no more work of its own."""


class Room:
    def __init__(
        self,
        doc_id: str,
        doc: Document,
        seq: int,
        store: DocumentStore,
        settings: Settings,
        context: RoomContext,
        persistence: Persistence,
    ) -> None:
        self.doc_id = doc_id
        self.doc = doc
        self.seq = seq
        self.store = store
        self.settings = settings
        self.context = context
        self.extensions = context.extensions
        self.persistence = persistence
        self.presence = Presence()
        self.inbox: Inbox[m.Item] = Inbox(4 * MAX_BATCH)
        self.batcher = Batcher(self.inbox)
        self.commits = CommitPath(self)
        self.closing = False
        self.stop_requested = False
        self.closed = asyncio.Event()
        self._state_cache: tuple[int, bytes] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.needs_rebuild = False

    # --- the worker ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Handle the inbox in order; stop when stopped, or when no client is left.

        The decision to close is taken synchronously with the emptiness check, and the Hub checks
        ``closing`` and enqueues a join without awaiting in between, so a join is never lost.
        """
        # This task was started by some request; its lines are the document's, not that request's.
        logs.request_id_var.set("-")
        logs.scope_var.set(None)
        logs.doc_id_var.set(self.doc_id)
        tracing.detach()  # and its spans (commits) are traces of their own, not that request's
        try:
            while True:
                item = await self.inbox.get()
                if isinstance(item, m.Stop):
                    break
                if isinstance(item, m.OpsItem):
                    await self.handle_ops(await self.batcher.gather(item))
                elif not await self.ensure_consistent():
                    self._unavailable(item)
                else:
                    await self._guard(
                        self._dispatch(item),
                        getattr(item, "conn", None),
                        fatal=isinstance(item, m.JoinItem),
                    )
                if self.stop_requested or (not self.presence.local and self.inbox.empty()):
                    break
            self.closing = True
            await self._finish()
        finally:
            self.closing = True
            try:
                # Free the document now, in slices, rather than leave a web of cycles (a large
                # one frozen, too) to the garbage collector. Before ``closed``: a reopen waits.
                await slices.release(self.doc)
            finally:
                self.closed.set()

    def _unavailable(self, item: m.Item) -> None:
        """Answer an item that needs a replica equal to the log while it cannot be reloaded."""
        if isinstance(item, m.JoinItem):
            item.conn.send(
                frames.error("storage_unavailable", "the database is unavailable; retry later")
            )
            item.conn.close(CLOSE_TRY_AGAIN_LATER, "the database is unavailable; retry later")
        elif isinstance(item, m.CallItem) and item.future is not None:
            item.future.set_exception(StorageError("the database is unavailable; retry later"))
        elif isinstance(item, m.LeaveItem):
            peers.leave(self, item.conn)

    async def _guard(
        self, work: Awaitable[None], conn: Connection | None, fatal: bool = False
    ) -> None:
        """Run one inbox item; a failure is logged and answered, never kills the worker."""
        try:
            await work
        except Exception as exc:
            if isinstance(exc, DocStreamError) and not isinstance(exc, CrdtError):
                log.warning("room %s: %s", self.doc_id, exc.detail)
                code, message = exc.code, exc.detail
            else:
                log.exception("room %s: unexpected failure", self.doc_id)
                code, message = "internal", "the server failed to handle this message"
            if conn is not None:
                conn.send(frames.error(code, message))
                if fatal:
                    conn.close(CLOSE_SERVER_ERROR, "could not join the document")

    async def _dispatch(self, item: m.Item) -> None:
        if isinstance(item, m.JoinItem):
            await peers.join(self, item)
        elif isinstance(item, m.LeaveItem):
            peers.leave(self, item.conn)
        elif isinstance(item, m.CursorItem):
            peers.cursor(self, item.conn, item.msg)
        elif isinstance(item, m.RemoteItem):
            await self.commits.remote(item.entries)
        elif isinstance(item, m.CallItem):
            if item.future is None:
                await item.fn(self)
                return
            try:
                item.future.set_result(await item.fn(self))
            except Exception as exc:
                item.future.set_exception(exc)
        elif isinstance(item, m.RemotePresenceItem):
            peers.remote_presence(self, item)
        elif isinstance(item, m.ExpirePresenceItem):
            peers.expire(self, item.now)

    async def handle_ops(self, batch: list[m.OpsItem]) -> None:
        """Validate, store and announce a batch of ops messages (only from the worker)."""
        await self.commits.handle_ops(batch)

    async def catch_up(self) -> None:
        """Read whatever the log has beyond ``self.seq`` (after a broker reconnect)."""
        await self.commits.catch_up()

    # --- the replica and the log -----------------------------------------------------------------

    async def rebuild(self, accepted: list[Accepted]) -> None:
        """Replace the replica by the log's (plus ``accepted``, applied but not stored yet).

        Entries the log holds beyond ``self.seq`` (another node's, or this node's own whose acks
        wait) are announced: the rebuilt replica already contains them.
        """
        doc, seq = await load_document(self.store, self.doc_id, self.doc.replica)
        behind: list[LogEntry] = []
        try:
            if seq > self.seq:
                behind = await self.store.read_ops(self.doc_id, self.seq, seq - self.seq)
                if len(behind) != seq - self.seq:
                    raise StorageError("the log changed while the document was reloaded")
            elif seq < self.seq:
                log.error(
                    "room %s: the log is at seq %d, the replica at %d", self.doc_id, seq, self.seq
                )
            for acc in accepted:
                doc.apply(acc.msg.ops)
        except BaseException:
            slices.release_now(doc)
            raise
        old, self.doc = self.doc, doc
        self.spawn(slices.release(old))  # nothing else holds the old replica
        self._state_cache = None
        self.commits.deliver(behind, apply=False)
        self.commits.flush_held_acks()
        await self.commits.publish()

    async def ensure_consistent(self) -> bool:
        """Rebuild the replica from the log if a failure may have left it ahead of the log."""
        if not self.needs_rebuild:
            return True
        try:
            await self.rebuild([])
        except DocStreamError as exc:
            log.warning("room %s: cannot reload from storage: %s", self.doc_id, exc.detail)
            return False
        self.needs_rebuild = False
        log.info("room %s: reloaded from the log at seq %d", self.doc_id, self.seq)
        return True

    @property
    def consistent(self) -> bool:
        """Whether the replica is exactly the log up to ``self.seq`` (what may be snapshotted,
        versioned or served)."""
        return not self.needs_rebuild and not self.commits.held

    @property
    def acks_waiting(self) -> bool:
        """Whether stored messages of this node wait for a read of the log to be acknowledged."""
        return bool(self.commits.held)

    async def advanced(self) -> None:
        """The replica moved to a later seq (called by the commit path after announcing it)."""
        await self.persistence.changed(self)

    async def encoded_state(self) -> bytes:
        """The encoded CRDT at ``self.seq`` (cached per seq). Only from the worker: a large state
        is encoded in slices on the event loop (:mod:`~docstream.collab.slices`) while the worker
        awaits it, so nothing changes the replica meanwhile."""
        if self._state_cache is None or self._state_cache[0] != self.seq:
            seq = self.seq
            state = await slices.encode(self.doc)
            self._state_cache = (seq, state)
        return self._state_cache[1]

    def prime_state(self, state: bytes) -> None:
        """The encoded state at ``self.seq`` is known (a current snapshot): skip re-encoding it."""
        self._state_cache = (self.seq, state)

    async def text(self) -> str:
        """The visible text at ``self.seq``. Only from the worker (see :meth:`encoded_state`).

        When the replica is the log up to ``self.seq``, the text is also handed to
        ``context.remember_text`` (the Hub answers reads of a closed document from it)."""
        seq = self.seq
        text = await slices.text(self.doc)
        if self.consistent:
            self.context.remember_text(self.doc_id, seq, text)
        return text

    @property
    def version_seq(self) -> int:
        """The seq of the latest version taken while the Room is open (none is due before)."""
        return self.persistence.version_seq

    @version_seq.setter
    def version_seq(self, seq: int) -> None:
        self.persistence.version_seq = seq

    # --- stopping --------------------------------------------------------------------------------

    async def _finish(self) -> None:
        self.persistence.cancel()
        self.commits.cancel()
        try:
            if self.commits.held:
                # Stored, but the log could not be read back to announce them in order: their
                # senders re-send on their next connection and get the acks then.
                log.warning(
                    "room %s: closing with %d stored messages not acknowledged yet",
                    self.doc_id,
                    len(self.commits.held),
                )
            elif await self.ensure_consistent():
                await self.persistence.stopping(self)
        except DocStreamError as exc:
            log.warning(
                "room %s: could not store the final snapshot/version: %s", self.doc_id, exc.detail
            )
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def spawn(self, work: Awaitable[None]) -> None:
        """Run ``work`` beside the worker (failures logged); a stopping Room waits for it."""

        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("room %s: background task failed", self.doc_id)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- public entry points (called by the Hub and the WebSocket handler) ----------------------

    def post(self, work: Callable[[], Awaitable[None]]) -> bool:
        """Queue ``work`` in the Room's order without waiting for it (failures are logged).

        False if the Room is stopping or its inbox is full (the caller tries another time)."""
        if self.closing:
            return False

        async def run(room: Room) -> None:
            await work()

        try:
            self.inbox.put_nowait(m.CallItem(run))
        except asyncio.QueueFull:
            return False
        return True

    async def call(self, fn: Callable[[Room], Awaitable[Any]]) -> Any:
        """Run ``fn(room)`` in the Room's order (e.g. take a named version, restore).

        Raises ``RoomClosed`` if the Room closed before running it (the caller retries).
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self.inbox.put(m.CallItem(fn, future))
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait({future, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if not future.done():
            future.cancel()
            raise RoomClosed(self.doc_id)
        return future.result()

    def request_stop(self) -> None:
        """Stop after the current item (final snapshot and restore point are still taken)."""
        self.stop_requested = True
        with contextlib.suppress(asyncio.QueueFull):
            self.inbox.put_nowait(m.Stop())

    async def stop(self) -> None:
        self.request_stop()
        await self.closed.wait()


class RoomClosed(Exception):
    """A Room closed before handling a request; the Hub retries on a fresh Room."""
