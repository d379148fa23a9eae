"""A Room: one open document on this node — its CRDT replica, its clients, its ``seq``.

Invariants (the life of an edit, ARCHITECTURE.md):

1. One worker task handles the Room's inbox strictly in order; nothing else mutates the replica.
   Whole-document jobs on it (encoding the state, extracting the text) run in slices on the event
   loop while the worker awaits them (``slices.py``), so none sees the replica change; a closed
   Room frees its replica the same way.
2. ``ops`` messages waiting in the inbox are validated one by one against the replica, then stored
   together in ONE transaction (group commit; under streaming load the worker lets a few more
   arrive first). Only after the commit is each sender acked and the others told, in ``seq``
   order. A message is applied to the replica atomically: if any of its ops is refused, the
   replica is rebuilt from storage plus the batch's accepted messages, so a refused message never
   leaves a trace.
3. If the commit fails, nothing is acked or broadcast; the replica is rebuilt from storage and the
   senders get an ``error`` (their ops stay in their queues and are re-sent).
4. ``self.seq`` is the last seq applied to the replica, every entry up to it applied exactly once;
   entries from other nodes are applied in seq order and a gap is repaired from the log.
5. A snapshot copies the state and reads ``seq`` with no ``await`` in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from docstream.collab import messages as m
from docstream.collab import slices
from docstream.collab.connection import CLOSE_REPLACED, Connection
from docstream.collab.loader import (
    decode_payload,
    encode_payload,
    load_document,
    payload_json,
    seal_state,
)
from docstream.collab.presence import CursorState, Presence
from docstream.crdt import CharId, Delete, Document, Insert, Op
from docstream.crdt.ids import MAX_COUNTER
from docstream.crdt.sequence import BLOCK_MAX
from docstream.errors import (
    CrdtError,
    DocStreamError,
    ForbiddenReplicaError,
    InvalidInputError,
    ReadOnlyError,
    StorageError,
    TooLargeError,
)
from docstream.protocol import codec
from docstream.protocol.messages import (
    Ack,
    ErrorFrame,
    PeerCursor,
    RemoteOpsRaw,
    SeqOpsRaw,
    SetCursor,
    SubmitOps,
    UserInfo,
    WelcomeRaw,
)
from docstream.protocol.messages import (
    Presence as PresenceFrame,
)
from docstream.settings import MAX_COUNTER_JUMP, Settings
from docstream.storage.base import DocumentStore, LogEntry, NewLogEntry, utcnow

log = logging.getLogger(__name__)

MAX_BATCH = 512
GROUP_TARGET = 64  # under streaming load, gather up to this many messages per commit ...
GROUP_WAIT_PER_MESSAGE = 0.0005  # ... waiting this long (s) per message of the last batch ...
GROUP_WAIT_MAX = 0.020  # ... but never longer than this (s) ...
GROUP_TICK = 0.001  # ... looking at the inbox this often (s)
CATCH_UP_LIMIT = 2000  # beyond this many missing entries, `welcome` carries the state instead
CATCH_UP_RETRY = 0.1  # first wait (s) before reading the log again after a failed read ...
CATCH_UP_RETRY_MAX = 5.0  # ... doubling up to this


def _text(frame: msgspec.Struct) -> str:
    return codec.encode(frame).decode()


@dataclass(slots=True)
class _Accepted:
    """An ``ops`` message applied to the replica, on its way to the log and its ack."""

    conn: Connection
    msg: SubmitOps
    entry: NewLogEntry | None  # None: it changed nothing (a re-send); acked, not stored again
    payload: bytes
    counter_hi: int | None = None
    seq: int = 0  # where it landed in the log (a re-send: where it was first stored, 0: unknown)
    answered: bool = False


class _Partial(Exception):
    """A message whose first ops were applied before a later one was refused."""

    def __init__(self, error: CrdtError) -> None:
        super().__init__(error.detail)
        self.error = error


async def _catch_up(room: Room) -> None:
    try:
        await room.catch_up()
    except DocStreamError as exc:
        log.warning("room %s: catching up from the log failed: %s", room.doc_id, exc.detail)
        room._schedule_catch_up()


@dataclass(slots=True)
class RoomHooks:
    """What a Room needs from the node around it (the Hub): fan-out and housekeeping."""

    publish_ops: Callable[[str, list[LogEntry]], Awaitable[None]]
    publish_presence: Callable[[str, str, Any], Awaitable[None]]
    bind_replica: Callable[[str, str], Awaitable[str]]
    #: Whether other nodes may be listening (skip building cluster messages when alone).
    fanout: Callable[[], bool] = lambda: True
    #: Told (doc_id, seq, text) whenever the Room read its text at a seq the log holds.
    remember_text: Callable[[str, int, str], None] = lambda doc_id, seq, text: None
    extras: dict[str, Any] = field(default_factory=dict)


class Room:
    def __init__(
        self,
        doc_id: str,
        doc: Document,
        seq: int,
        store: DocumentStore,
        settings: Settings,
        hooks: RoomHooks,
    ) -> None:
        self.doc_id = doc_id
        self.doc = doc
        self.seq = seq
        self.store = store
        self.settings = settings
        self.hooks = hooks
        self.presence = Presence()
        self.inbox: asyncio.Queue[m.Item] = asyncio.Queue(maxsize=4 * MAX_BATCH)
        self.snapshot_seq = seq
        self.version_seq = seq
        self.closing = False
        self.stop_requested = False
        self.closed = asyncio.Event()
        self._state_cache: tuple[int, bytes] | None = None
        #: Stored messages of this node whose seq is beyond ``self.seq``: their acks wait until
        #: every entry before them was announced (only after a failed read of the log).
        self._held: dict[int, _Accepted] = {}
        self._held_acks: list[_Accepted] = []
        self._outgoing: list[_Accepted] = []  # stored and announced here; for the cluster
        self._changed = False
        self._catch_up_timer: asyncio.TimerHandle | None = None
        self._catch_up_delay = CATCH_UP_RETRY
        self._background: set[asyncio.Task[None]] = set()
        self._idle_timer: asyncio.TimerHandle | None = None
        self._snapshot_at = 0.0
        self.dirty_words = True
        self.needs_rebuild = False
        self._last_batch = 0  # messages in the last ops batch (+1 if more were waiting)

    # --- the worker ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Handle the inbox in order; stop when stopped, or when no client is left.

        The decision to close is taken synchronously with the emptiness check, and the Hub checks
        ``closing`` and enqueues a join without awaiting in between, so a join is never lost.
        """
        try:
            while True:
                item = await self.inbox.get()
                if isinstance(item, m.Stop):
                    break
                if isinstance(item, m.OpsItem):
                    await self.handle_ops(await self._gather_ops(item))
                elif not await self._ensure_consistent():
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

    async def _gather_ops(self, first: m.OpsItem) -> list[m.OpsItem]:
        """The ops messages to store in one transaction: ``first`` and those waiting behind it.

        Group commit with a window that follows the load. A lone edit on a quiet document is
        committed at once. While messages stream in (the last batch held several), the worker
        waits for more before committing: ``GROUP_WAIT_PER_MESSAGE`` for each message the last
        batch held, at most ``GROUP_WAIT_MAX``, until ``GROUP_TARGET`` messages are in hand or
        something other than ops waits in the inbox. Sleeping (rather than only yielding) lets the
        event loop block, which is when granian's I/O threads get the GIL to hand over received
        frames. People typing (batches of 1-3) wait at most a millisecond or so; a flood such as a
        replayed trace ramps up to full batches. Measured on a replayed trace: 3.5-4 -> 70
        messages per commit, SQLite 2,300 -> 4,100 ops/s (docs/benchmarks.md).
        """
        batch = [first]
        self._take_ops(batch)
        wait = min(GROUP_WAIT_MAX, self._last_batch * GROUP_WAIT_PER_MESSAGE)
        if self._last_batch > 1 and len(batch) < GROUP_TARGET and self._peek() is None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait
            while len(batch) < GROUP_TARGET:
                left = deadline - loop.time()
                if left <= 0:
                    break
                await asyncio.sleep(min(GROUP_TICK, left))
                self._take_ops(batch)
                if self._peek() is not None:
                    break  # a join, leave, cursor or call waits behind this batch: do not delay it
        self._last_batch = len(batch) + (1 if self.inbox.qsize() else 0)
        return batch

    def _take_ops(self, batch: list[m.OpsItem]) -> None:
        while len(batch) < MAX_BATCH and isinstance(self._peek(), m.OpsItem):
            batch.append(self.inbox.get_nowait())  # type: ignore[arg-type]

    def _peek(self) -> m.Item | None:
        # asyncio.Queue keeps its items in a deque; looking at the head does not consume it.
        queue = self.inbox._queue  # type: ignore[attr-defined]
        return queue[0] if queue else None

    def _unavailable(self, item: m.Item) -> None:
        """Answer an item that needs a replica equal to the log while it cannot be reloaded."""
        if isinstance(item, m.JoinItem):
            item.conn.send(
                _text(ErrorFrame("storage_unavailable", "the database is unavailable; retry later"))
            )
            item.conn.close(1013, "the database is unavailable; retry later")
        elif isinstance(item, m.CallItem) and item.future is not None:
            item.future.set_exception(StorageError("the database is unavailable; retry later"))
        elif isinstance(item, m.LeaveItem):
            self._leave(item.conn)

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
                conn.send(_text(ErrorFrame(code, message)))
                if fatal:
                    conn.close(1011, "could not join the document")

    async def _dispatch(self, item: m.Item) -> None:
        if isinstance(item, m.JoinItem):
            await self._join(item)
        elif isinstance(item, m.LeaveItem):
            self._leave(item.conn)
        elif isinstance(item, m.CursorItem):
            self._cursor(item.conn, item.msg)
        elif isinstance(item, m.RemoteItem):
            await self._remote(item.entries)
        elif isinstance(item, m.CallItem):
            if item.future is None:
                await item.fn(self)
                return
            try:
                item.future.set_result(await item.fn(self))
            except Exception as exc:
                item.future.set_exception(exc)
        elif isinstance(item, m.RemotePresenceItem):
            self._remote_presence(item)
        elif isinstance(item, m.ExpirePresenceItem):
            self._expire_presence(item.now)
        elif isinstance(item, m.AutoVersionItem):
            await self._auto_version()

    # --- joining and leaving ---------------------------------------------------------------------

    async def _join(self, item: m.JoinItem) -> None:
        conn, hello = item.conn, item.hello
        bound = await self.hooks.bind_replica(hello.replica, conn.user_id)
        if bound != conn.user_id:
            conn.send(
                _text(
                    ErrorFrame(
                        ForbiddenReplicaError.code, "this replica id belongs to another user"
                    )
                )
            )
            conn.close(4403, "forbidden replica")
            return
        previous = self.presence.local.get(hello.replica)
        if previous is not None and previous is not conn:
            self._leave(previous)
            previous.close(CLOSE_REPLACED, "replaced by a newer connection of this replica")
        peer = conn.attach(hello.replica)
        welcome = await self._welcome(conn, hello.since)
        conn.send(_text(welcome))
        for replica, cursor in self.presence.cursors.items():
            if replica != hello.replica:
                conn.send(_text(PeerCursor(cursor.peer, cursor.anchor, cursor.head)))
        self.presence.local[hello.replica] = conn
        frame = _text(PresenceFrame("join", peer))
        for other in self.presence.others(hello.replica):
            other.send(frame)
        await self.hooks.publish_presence(self.doc_id, "join", peer)

    async def _welcome(self, conn: Connection, since: int) -> WelcomeRaw:
        assert conn.replica is not None
        user = UserInfo(id=conn.user_id, name=conn.name, color=conn.color)
        peers = self.presence.peers(excluding=conn.replica)

        def welcome(state: bytes | None = None, ops: list[SeqOpsRaw] | None = None) -> WelcomeRaw:
            return WelcomeRaw(
                doc_id=self.doc_id,
                seq=self.seq,
                role=conn.role,
                user=user,
                peers=peers,
                state=state,
                ops=ops,
            )

        # A link-only guest gets no log entries from before the link was made (they may insert
        # text deleted before the document was shared): the state instead, which has no such text.
        floor = max(1, conn.catch_up_floor)
        if floor <= since <= self.seq and self.seq - since <= CATCH_UP_LIMIT:
            entries = await self.store.read_ops(self.doc_id, since, self.seq - since)
            if len(entries) == self.seq - since:
                ops = [
                    SeqOpsRaw(
                        seq=e.seq,
                        author=e.user_id,
                        replica=e.replica,
                        ops=msgspec.Raw(payload_json(e.payload)),
                    )
                    for e in entries
                ]
                return welcome(ops=ops)
        return welcome(state=await self.encoded_state())

    def prime_state(self, state: bytes) -> None:
        """The encoded state at ``self.seq`` is known (a current snapshot): skip re-encoding it."""
        self._state_cache = (self.seq, state)

    def _leave(self, conn: Connection) -> None:
        replica = conn.replica
        if replica is None or self.presence.local.get(replica) is not conn:
            return
        del self.presence.local[replica]
        self.presence.drop_cursor(replica)
        assert conn.peer is not None
        frame = _text(PresenceFrame("leave", conn.peer))
        for other in self.presence.connections():
            other.send(frame)
        self._spawn(self.hooks.publish_presence(self.doc_id, "leave", conn.peer))

    def _broadcast(self, frame: msgspec.Struct) -> None:
        text = _text(frame)
        for conn in self.presence.connections():
            conn.send(text)

    def _remote_presence(self, item: m.RemotePresenceItem) -> None:
        remote = self.presence.remote
        for peer in item.peers:
            if peer.replica in self.presence.local:
                continue
            if item.action == "leave":
                if remote.pop(peer.replica, None) is not None:
                    self.presence.drop_cursor(peer.replica)
                    self._broadcast(PresenceFrame("leave", peer))
                continue
            if peer.replica not in remote:
                self._broadcast(PresenceFrame("join", peer))
            remote[peer.replica] = (peer, item.expiry)
            if item.action == "cursor":
                self.presence.cursors[peer.replica] = CursorState(peer, item.anchor, item.head)
                self._broadcast(PeerCursor(peer, item.anchor, item.head))

    def _expire_presence(self, now: float) -> None:
        for replica, (peer, expiry) in list(self.presence.remote.items()):
            if expiry < now:
                del self.presence.remote[replica]
                self.presence.drop_cursor(replica)
                self._broadcast(PresenceFrame("leave", peer))

    # --- cursors ---------------------------------------------------------------------------------

    def _cursor(self, conn: Connection, msg: SetCursor) -> None:
        if not conn.live or conn.peer is None:
            return
        for value in (msg.anchor, msg.head):
            if value is not None:
                try:
                    known = self.doc.has(CharId.parse(value))
                except DocStreamError:
                    known = False
                if not known:
                    conn.send(_text(ErrorFrame("unknown_id", f"cursor names unknown id {value!r}")))
                    return
        self.presence.cursors[conn.peer.replica] = CursorState(conn.peer, msg.anchor, msg.head)
        frame = _text(PeerCursor(conn.peer, msg.anchor, msg.head))
        for other in self.presence.others(conn.peer.replica):
            other.send(frame)
        self._spawn(self.hooks.publish_presence(self.doc_id, "cursor", (conn.peer, msg)))

    # --- ops -------------------------------------------------------------------------------------

    def _check(self, conn: Connection, msg: SubmitOps) -> list[CharId]:
        """Role, replica and limits; return the parsed id of every op, or raise the error."""
        if conn.role == "viewer":
            raise ReadOnlyError("viewers cannot edit this document")
        ops = msg.ops
        if not ops:
            raise InvalidInputError("an ops message needs at least one op")
        if len(ops) > self.settings.max_ops_per_message:
            raise TooLargeError(
                f"{len(ops)} ops in one message; the limit is {self.settings.max_ops_per_message}"
            )
        ids = []
        for op in ops:
            cid = CharId.parse(op.id)
            if cid.counter > MAX_COUNTER:
                raise InvalidInputError(f"counter of {op.id} is too large")
            if isinstance(op, Insert):
                if cid.counter > self.doc.max_counter + MAX_COUNTER_JUMP:
                    # A Lamport clock moves to max(seen) + 1; a leap would exhaust everyone's ids.
                    raise InvalidInputError(
                        f"insert id {op.id} jumps too far ahead of the document's clock "
                        f"({self.doc.max_counter})"
                    )
                if cid.replica != conn.replica:
                    raise ForbiddenReplicaError(
                        f"insert id {op.id} is not of your replica {conn.replica}"
                    )
                if "\x00" in op.text:
                    # PostgreSQL text (versions, previews) cannot hold it; no editor types it.
                    raise InvalidInputError(f"insert {op.id}: text must not contain NUL (U+0000)")
                if len(op.text) > self.settings.max_insert_length:
                    raise TooLargeError(
                        f"an insert of {len(op.text)} characters exceeds "
                        f"{self.settings.max_insert_length}"
                    )
            ids.append(cid)
        return ids

    def _check_size(self, inserted: int, batched: int) -> None:
        """The document's caps: refuse growth beyond them (deletes stay possible below the
        log cap, so a full document can still be cut down)."""
        settings = self.settings
        if self.seq + batched > settings.max_document_log_entries:
            raise TooLargeError(
                f"this document has reached its limit of {settings.max_document_log_entries} "
                "edits; copy its text into a new document to go on"
            )
        if not inserted:
            return
        if len(self.doc) + inserted > settings.max_document_chars:
            raise TooLargeError(
                f"this edit would make the document longer than its limit of "
                f"{settings.max_document_chars} characters"
            )
        cap = settings.max_document_runs
        if self.doc.block_count * BLOCK_MAX >= cap and self.doc.stored_runs() >= cap:
            raise TooLargeError(
                f"this document holds {cap} or more pieces of text and deleted text, its limit; "
                "copy its text into a new document to go on"
            )

    def _apply(self, ops: list[Op]) -> None:
        """Apply one message op by op; a refusal after the first op raises :class:`_Partial`."""
        for index, op in enumerate(ops):
            try:
                self.doc.apply((op,))
            except CrdtError as exc:
                if index:
                    raise _Partial(exc) from exc
                raise

    def _accept(self, conn: Connection, msg: SubmitOps, batched: int) -> _Accepted:
        """Validate and apply one message; what to store for it (nothing for a re-send).

        A message is a re-send, acknowledged without storing it again, only if applying it
        changed nothing (every insert already known with the same text, every delete already
        done): an exact copy of a stored message always is. Anything else is a new entry of the
        log, stored and broadcast in full, known parts included (applying them again is a
        no-op everywhere), so the replica never holds what the log and the others lack.
        """
        ids = self._check(conn, msg)
        lo = hi = None
        inserted = 0
        for op, cid in zip(msg.ops, ids, strict=True):
            if isinstance(op, Insert):
                end = cid.counter + len(op.text) - 1
                lo = cid.counter if lo is None else min(lo, cid.counter)
                hi = end if hi is None else max(hi, end)
                if not self.doc.has(cid):
                    inserted += len(op.text)
        self._check_size(inserted, batched)
        before = len(self.doc)
        self._apply(msg.ops)
        payload = encode_payload(msg.ops)
        assert conn.replica is not None
        if not inserted and len(self.doc) == before:
            return _Accepted(conn, msg, None, payload, counter_hi=hi)
        kind, position, length, preview = self._summary(msg.ops, ids[0])
        entry = NewLogEntry(
            user_id=conn.user_id,
            replica=conn.replica,
            payload=payload,
            counter_lo=lo,
            counter_hi=hi,
            kind=kind,
            position=position,
            length=length,
            preview=preview,
        )
        return _Accepted(conn, msg, entry, payload, counter_hi=hi)

    def _summary(self, ops: list[Op], first: CharId) -> tuple[str, int, int, str]:
        """History columns: kind, position of the first change, length, inserted text preview."""
        inserted = "".join(op.text for op in ops if isinstance(op, Insert))
        deleted = sum(op.length for op in ops if isinstance(op, Delete))
        kind = "insert" if not deleted else "delete" if not inserted else "edit"
        return kind, self.doc.index_of(first), len(inserted) or deleted, inserted[:100]

    async def handle_ops(self, batch: list[m.OpsItem]) -> None:
        """Validate, store and announce a batch of ops messages (only from the worker).

        Whatever fails, every sender gets an answer with its own ``ref``, and a replica that
        may hold ops the log lacks is rebuilt from the log before anything else is sent.
        """
        if not await self._ensure_consistent():
            self._refuse_all(batch, StorageError("the database is unavailable; retry later"))
            return
        accepted: list[_Accepted] = []
        try:
            for item in batch:
                conn, msg = item.conn, item.msg
                try:
                    accepted.append(self._accept(conn, msg, len(accepted) + 1))
                except _Partial as exc:
                    # Part of the message was applied: undo it before judging the next one.
                    conn.send(_text(ErrorFrame(exc.error.code, exc.error.detail, msg.ref)))
                    await self._rebuild([a for a in accepted if a.entry is not None])
                except DocStreamError as exc:
                    conn.send(_text(ErrorFrame(exc.code, exc.detail, msg.ref)))
            await self._commit(accepted)
        except Exception as exc:
            if isinstance(exc, DocStreamError):
                log.warning("room %s: a batch of ops failed: %s", self.doc_id, exc.detail)
            else:
                log.exception("room %s: a batch of ops failed", self.doc_id)
            self.needs_rebuild = True
            answered = {id(acc.msg) for acc in accepted if acc.answered}
            self._refuse_all([i for i in batch if id(i.msg) not in answered], exc)
            await self._ensure_consistent()

    def _refuse_all(self, batch: list[m.OpsItem], exc: Exception) -> None:
        code, detail = (
            (exc.code, f"not saved: {exc.detail}")
            if isinstance(exc, StorageError)
            else ("internal", "not saved: the server failed to handle this message")
        )
        for item in batch:
            item.conn.send(_text(ErrorFrame(code, detail, item.msg.ref)))

    async def _commit(self, accepted: list[_Accepted]) -> None:
        fresh = [acc for acc in accepted if acc.entry is not None]
        if fresh:
            try:
                last = await self.store.append_ops(
                    self.doc_id,
                    [acc.entry for acc in fresh],  # type: ignore[misc]
                )
            except DocStreamError as exc:
                log.warning(
                    "room %s: commit of %d messages failed: %s", self.doc_id, len(fresh), exc.detail
                )
                # Nothing of the batch is stored: every sender hears so, re-sends included
                # (those may repeat a message of this very batch).
                # Always a transient code: the failure may be one message's, not each sender's.
                code = exc.code if isinstance(exc, StorageError) else "internal"
                for acc in accepted:
                    acc.conn.send(_text(ErrorFrame(code, f"not saved: {exc.detail}", acc.msg.ref)))
                    acc.answered = True
                self.needs_rebuild = True
                await self._ensure_consistent()
                return
            first_seq = last - len(fresh) + 1
            for offset, acc in enumerate(fresh):
                acc.seq = first_seq + offset
                self._held[acc.seq] = acc
        for acc in accepted:
            if acc.entry is None:
                acc.seq = await self._stored_seq(acc)
        target = max((acc.seq for acc in accepted), default=0)
        if target > self.seq:
            await self._announce_through(target)
        for acc in accepted:
            if acc.entry is None:
                self._ack_resend(acc)
        await self._publish()

    async def _stored_seq(self, acc: _Accepted) -> int:
        """Where a re-sent message was first stored (0: not an exact copy of a stored one)."""
        assert acc.conn.replica is not None
        try:
            seq = await self.store.find_seq_of_payload(
                self.doc_id, acc.conn.replica, acc.payload, counter_hi=acc.counter_hi
            )
        except DocStreamError as exc:
            log.warning("room %s: cannot look up a re-sent message: %s", self.doc_id, exc.detail)
            return 0
        return seq or 0

    def _ack_resend(self, acc: _Accepted) -> None:
        """A message that changed nothing: its content is in the document at ``self.seq``."""
        if acc.seq > self.seq:
            self._held_acks.append(acc)  # stored beyond what this replica announced yet
            return
        acc.conn.send(_text(Ack(acc.msg.ref, acc.seq or self.seq)))
        acc.answered = True

    async def _announce_through(self, target: int) -> None:
        """Announce every entry up to ``target`` in seq order: acks for this node's own, the
        others' edits (read from the log when another node appended in between) to everyone.

        A client takes an ack's seq as "seen everything up to here", so an ack never overtakes
        an entry before it. If the log cannot be read now, the acks wait for the retry.
        """
        while self.seq < target:
            own = self._held.pop(self.seq + 1, None)
            if own is not None:
                self._announce_own(own)
                continue
            try:
                missing = await self.store.read_ops(self.doc_id, self.seq, target - self.seq)
            except DocStreamError as exc:
                log.warning(
                    "room %s: cannot read entries %d..%d from the log: %s",
                    self.doc_id,
                    self.seq + 1,
                    target,
                    exc.detail,
                )
                self._schedule_catch_up()
                return
            if not missing or missing[0].seq != self.seq + 1:
                log.error("room %s: the log lacks entry %d", self.doc_id, self.seq + 1)
                self._schedule_catch_up()
                return
            self._deliver(missing)
        self._flush_held_acks()

    def _announce_own(self, acc: _Accepted) -> None:
        entry = acc.entry
        assert entry is not None
        self.seq = acc.seq
        acc.conn.send(_text(Ack(acc.msg.ref, acc.seq)))
        acc.answered = True
        frame = _text(
            RemoteOpsRaw(
                seq=acc.seq,
                author=entry.user_id,
                replica=entry.replica,
                ops=msgspec.Raw(payload_json(acc.payload)),
            )
        )
        # Everyone but the sending connection, a newer connection of the same replica included:
        # it may have said hello before this message (sent on the old one) was stored.
        for other in self.presence.local.values():
            if other is not acc.conn:
                other.send(frame)
        self._outgoing.append(acc)
        self._changed = True

    def _flush_held_acks(self) -> None:
        if self._held_acks:
            waiting, self._held_acks = self._held_acks, []
            for acc in waiting:
                self._ack_resend(acc)

    async def _publish(self) -> None:
        """Hand what this node stored to the cluster, and run the after-change housekeeping."""
        if self._outgoing:
            outgoing, self._outgoing = self._outgoing, []
            if self.hooks.fanout():
                self._spawn(
                    self.hooks.publish_ops(self.doc_id, [self._as_log_entry(a) for a in outgoing])
                )
        if self._changed:
            self._changed = False
            await self._after_change()

    def _schedule_catch_up(self) -> None:
        """Read the log again a little later (acks of stored messages may be waiting on it)."""
        if self._catch_up_timer is not None or self.closing:
            return
        delay = self._catch_up_delay
        self._catch_up_delay = min(CATCH_UP_RETRY_MAX, delay * 2)

        def queue() -> None:
            self._catch_up_timer = None
            with contextlib.suppress(asyncio.QueueFull):
                self.inbox.put_nowait(m.CallItem(_catch_up))

        self._catch_up_timer = asyncio.get_running_loop().call_later(delay, queue)

    async def _rebuild(self, accepted: list[_Accepted]) -> None:
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
        self._spawn(slices.release(old))  # nothing else holds the old replica
        self._state_cache = None
        self._deliver(behind, apply=False)
        self._flush_held_acks()
        await self._publish()

    async def _ensure_consistent(self) -> bool:
        """Rebuild the replica from the log if a failure may have left it ahead of the log."""
        if not self.needs_rebuild:
            return True
        try:
            await self._rebuild([])
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
        return not self.needs_rebuild and not self._held

    def _as_log_entry(self, acc: _Accepted) -> LogEntry:
        e = acc.entry
        assert e is not None
        return LogEntry(
            doc_id=self.doc_id,
            seq=acc.seq,
            user_id=e.user_id,
            replica=e.replica,
            payload=e.payload,
            kind=e.kind,
            position=e.position,
            length=e.length,
            preview=e.preview,
            created_at=utcnow(),
            user_name=acc.conn.name,
        )

    # --- entries from other nodes ----------------------------------------------------------------

    async def _remote(self, entries: list[LogEntry]) -> None:
        fresh = [e for e in entries if e.seq > self.seq]
        if not fresh:
            return
        if fresh[0].seq != self.seq + 1 or any(
            b.seq != a.seq + 1 for a, b in itertools.pairwise(fresh)
        ):
            fresh = await self.store.read_ops(self.doc_id, self.seq)  # repair the gap from the log
        self._deliver(fresh)
        self._flush_held_acks()
        await self._publish()

    def _deliver(self, entries: list[LogEntry], *, apply: bool = True) -> None:
        """Entries in seq order: this node's own (acks waiting) are announced, others applied
        (unless the replica has them already) and sent to every local client."""
        for e in entries:
            if e.seq != self.seq + 1:
                continue
            own = self._held.pop(e.seq, None)
            if own is not None:
                self._announce_own(own)
                continue
            if apply:
                self.doc.apply(decode_payload(e.payload))
            self.seq = e.seq
            self._changed = True
            frame = _text(
                RemoteOpsRaw(
                    seq=e.seq,
                    author=e.user_id,
                    replica=e.replica,
                    ops=msgspec.Raw(payload_json(e.payload)),
                )
            )
            for conn in self.presence.local.values():  # its author's replica too, if it is here
                conn.send(frame)
        while self.seq + 1 in self._held:
            self._announce_own(self._held.pop(self.seq + 1))

    async def catch_up(self) -> None:
        """Read whatever the log has beyond ``self.seq`` (after a broker reconnect)."""
        await self._remote(await self.store.read_ops(self.doc_id, self.seq))
        self._catch_up_delay = CATCH_UP_RETRY

    # --- snapshots and versions ------------------------------------------------------------------

    async def encoded_state(self) -> bytes:
        """The encoded CRDT at ``self.seq`` (cached per seq). Only from the worker: a large state
        is encoded in slices on the event loop (:mod:`~docstream.collab.slices`) while the worker
        awaits it, so nothing changes the replica meanwhile."""
        if self._state_cache is None or self._state_cache[0] != self.seq:
            seq = self.seq
            state = await slices.encode(self.doc)
            self._state_cache = (seq, state)
        return self._state_cache[1]

    async def text(self) -> str:
        """The visible text at ``self.seq``. Only from the worker (see :meth:`encoded_state`).

        When the replica is the log up to ``self.seq``, the text is also handed to
        ``hooks.remember_text`` (the Hub answers reads of a closed document from it)."""
        seq = self.seq
        text = await slices.text(self.doc)
        if self.consistent:
            self.hooks.remember_text(self.doc_id, seq, text)
        return text

    async def _after_change(self) -> None:
        self.dirty_words = True
        if self.seq - self.snapshot_seq >= self.settings.snapshot_every:
            now = time.monotonic()
            # At most one snapshot per snapshot_min_interval: encoding a long document takes
            # milliseconds. A burst that outpaces it is covered by the idle-time snapshot.
            if now - self._snapshot_at >= self.settings.snapshot_min_interval:
                self._snapshot_at = now
                await self._snapshot()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = asyncio.get_running_loop().call_later(
            self.settings.version_idle_seconds, self._queue_auto_version
        )

    async def _snapshot(self, *, wait: bool = False) -> None:
        """Store the state at ``self.seq`` (sealed with its checksum), unless the replica may
        differ from the log (then the log alone is the truth until the replica is rebuilt)."""
        if not self.consistent:
            return
        seq = self.seq
        state = await self.encoded_state()
        self.snapshot_seq = seq
        save = self.store.save_snapshot(self.doc_id, seq, seal_state(state))
        if wait:
            await save
        else:
            self._spawn(save)

    def _queue_auto_version(self) -> None:
        self._idle_timer = None
        if not self.closing:
            with contextlib.suppress(asyncio.QueueFull):  # busy: the next quiet moment takes it
                self.inbox.put_nowait(m.AutoVersionItem())

    async def _auto_version(self, *, wait: bool = False) -> None:
        if not self.consistent:
            return
        if self.seq > self.snapshot_seq:
            await self._snapshot(wait=wait)
        if self.seq > self.version_seq:
            seq = self.seq
            text = await self.text()
            await self.store.create_version(
                self.doc_id, seq, text, "auto", None, None, keep=self.settings.max_auto_versions
            )
            self.version_seq = seq

    async def _finish(self) -> None:
        for timer in (self._idle_timer, self._catch_up_timer):
            if timer is not None:
                timer.cancel()
        try:
            if self._held:
                # Stored, but the log could not be read back to announce them in order: their
                # senders re-send on their next connection and get the acks then.
                log.warning(
                    "room %s: closing with %d stored messages not acknowledged yet",
                    self.doc_id,
                    len(self._held),
                )
            elif await self._ensure_consistent():
                await self._auto_version(wait=True)
        except DocStreamError as exc:
            log.warning(
                "room %s: could not store the final snapshot/version: %s", self.doc_id, exc.detail
            )
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception:
                log.exception("room %s: background task failed", self.doc_id)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- public entry points (called by the Hub and the WebSocket handler) ----------------------

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
