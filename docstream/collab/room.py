"""A Room: one open document on this node — its CRDT replica, its clients, its ``seq``.

Invariants (the life of an edit, ARCHITECTURE.md):

1. One worker task handles the Room's inbox strictly in order; nothing else mutates the replica.
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
from docstream.collab.connection import CLOSE_REPLACED, Connection
from docstream.collab.loader import decode_payload, encode_payload, load_document, payload_json
from docstream.collab.presence import CursorState, Presence
from docstream.crdt import CharId, Delete, Document, Insert, Op
from docstream.errors import (
    CrdtError,
    DocStreamError,
    ForbiddenReplicaError,
    InvalidInputError,
    ReadOnlyError,
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
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, LogEntry, NewLogEntry

log = logging.getLogger(__name__)

MAX_COUNTER = 2**53 - 2**17  # ids must stay exact in JavaScript numbers
MAX_COUNTER_JUMP = 1 << 24  # how far beyond the largest counter seen a new id may start
MAX_BATCH = 512
GROUP_TARGET = 64  # under streaming load, gather up to this many messages per commit ...
GROUP_WAIT_PER_MESSAGE = 0.0005  # ... waiting this long (s) per message of the last batch ...
GROUP_WAIT_MAX = 0.020  # ... but never longer than this (s) ...
GROUP_TICK = 0.001  # ... looking at the inbox this often (s)
CATCH_UP_LIMIT = 2000  # beyond this many missing entries, `welcome` carries the state instead


def _text(frame: msgspec.Struct) -> str:
    return codec.encode(frame).decode()


@dataclass(slots=True)
class _Accepted:
    conn: Connection
    msg: SubmitOps
    entry: NewLogEntry
    duplicate_of: int | None = None  # an already stored message: ack with its seq
    payload: bytes = b""
    seq: int = 0


@dataclass(slots=True)
class RoomHooks:
    """What a Room needs from the node around it (the Hub): fan-out and housekeeping."""

    publish_ops: Callable[[str, list[LogEntry]], Awaitable[None]]
    publish_presence: Callable[[str, str, Any], Awaitable[None]]
    bind_replica: Callable[[str, str], Awaitable[str]]
    #: Whether other nodes may be listening (skip building cluster messages when alone).
    fanout: Callable[[], bool] = lambda: True
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
        self._recent: dict[str, list[tuple[int, int, int]]] = {}  # replica -> (lo, hi, seq)
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
                    batch = await self._gather_ops(item)
                    await self._guard(self.handle_ops(batch), batch[0].conn)
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
            entries = [
                e for e in await self.store.read_ops(self.doc_id, since) if e.seq <= self.seq
            ]
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
        return welcome(state=self.state())

    def prime_state(self, state: bytes) -> None:
        """The encoded state at ``self.seq`` is known (a current snapshot): skip re-encoding it."""
        self._state_cache = (self.seq, state)

    def state(self) -> bytes:
        """The encoded CRDT at ``self.seq`` (cached per seq)."""
        if self._state_cache is None or self._state_cache[0] != self.seq:
            self._state_cache = (self.seq, self.doc.encode_state())
        return self._state_cache[1]

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
                if len(op.text) > self.settings.max_insert_length:
                    raise TooLargeError(
                        f"an insert of {len(op.text)} characters exceeds "
                        f"{self.settings.max_insert_length}"
                    )
            ids.append(cid)
        return ids

    def _apply(self, ops: list[Op]) -> None:
        """Apply one message atomically: op by op, and report whether a later op failed."""
        for index, op in enumerate(ops):
            try:
                self.doc.apply([op])
            except CrdtError as exc:
                exc.partial = index > 0  # type: ignore[attr-defined]
                raise

    async def _rebuild(self, accepted: list[_Accepted]) -> None:
        doc, seq = await load_document(self.store, self.doc_id, self.doc.replica)
        if seq != self.seq:
            log.warning("room %s: storage is at seq %d, replica at %d", self.doc_id, seq, self.seq)
        for acc in accepted:
            if acc.duplicate_of is None:
                doc.apply(acc.msg.ops)
        self.doc, self.seq = doc, seq
        self._state_cache = None

    def _summary(self, ops: list[Op], first: CharId) -> tuple[str, int, int, str]:
        """History columns: kind, position of the first change, length, inserted text preview."""
        inserted = "".join(op.text for op in ops if isinstance(op, Insert))
        deleted = sum(op.length for op in ops if isinstance(op, Delete))
        kind = "insert" if not deleted else "delete" if not inserted else "edit"
        return kind, self.doc.index_of(first), len(inserted) or deleted, inserted[:100]

    def _recent_seq(self, replica: str, counter: int) -> int | None:
        for lo, hi, seq in reversed(self._recent.get(replica, ())):
            if lo <= counter <= hi:
                return seq
        return None

    async def _ensure_consistent(self) -> bool:
        """Rebuild the replica from storage if a failed commit left it ahead of the log."""
        if not self.needs_rebuild:
            return True
        try:
            await self._rebuild([])
        except DocStreamError as exc:
            log.warning("room %s: cannot reload from storage: %s", self.doc_id, exc.detail)
            return False
        self.needs_rebuild = False
        return True

    async def handle_ops(self, batch: list[m.OpsItem]) -> None:
        """Validate, store and announce a batch of ops messages (only from the worker)."""
        if not await self._ensure_consistent():
            for item in batch:
                item.conn.send(
                    _text(
                        ErrorFrame(
                            "storage_unavailable",
                            "not saved: the database is unavailable; retry later",
                            item.msg.ref,
                        )
                    )
                )
            return
        accepted: list[_Accepted] = []
        for item in batch:
            conn, msg = item.conn, item.msg
            try:
                ids = self._check(conn, msg)
                lo = hi = None
                for op, cid in zip(msg.ops, ids, strict=True):
                    if isinstance(op, Insert):
                        end = cid.counter + len(op.text) - 1
                        if lo is None:
                            lo, hi, first_insert = cid.counter, end, cid
                        else:
                            lo, hi = min(lo, cid.counter), max(hi or end, end)
                resent = lo is not None and self.doc.has(first_insert)
                before = len(self.doc)
                self._apply(msg.ops)
            except DocStreamError as exc:
                if getattr(exc, "partial", False):
                    await self._rebuild(accepted)
                conn.send(_text(ErrorFrame(exc.code, exc.detail, msg.ref)))
                continue
            assert conn.replica is not None
            payload = encode_payload(msg.ops)
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
            acc = _Accepted(conn, msg, entry, payload=payload)
            if resent:
                acc.duplicate_of = (
                    self._recent_seq(first_insert.replica, first_insert.counter) or -1
                )
            elif lo is None and len(self.doc) == before:
                acc.duplicate_of = -2  # a delete-only message that changed nothing: maybe a re-send
            accepted.append(acc)
        await self._commit(accepted)

    async def _commit(self, accepted: list[_Accepted]) -> None:
        # Resolve possible re-sends first: they are acked with the seq where they first landed.
        for acc in accepted:
            if acc.duplicate_of == -1:
                first = CharId.parse(next(op.id for op in acc.msg.ops if isinstance(op, Insert)))
                acc.duplicate_of = await self.store.find_seq_of_insert(
                    self.doc_id, first.replica, first.counter
                )
            elif acc.duplicate_of == -2:
                acc.duplicate_of = await self.store.find_seq_of_payload(
                    self.doc_id, acc.entry.replica, acc.payload
                )
        fresh = [acc for acc in accepted if acc.duplicate_of is None]
        if fresh:
            try:
                last = await self.store.append_ops(self.doc_id, [acc.entry for acc in fresh])
            except DocStreamError as exc:
                log.warning(
                    "room %s: commit of %d messages failed: %s", self.doc_id, len(fresh), exc.detail
                )
                for acc in fresh:
                    acc.conn.send(
                        _text(ErrorFrame(exc.code, f"not saved: {exc.detail}", acc.msg.ref))
                    )
                self.needs_rebuild = True
                await self._ensure_consistent()
                return
            first_seq = last - len(fresh) + 1
            if first_seq != self.seq + 1:
                # Another node appended in between: deliver those entries first, in seq order.
                missing = await self.store.read_ops(self.doc_id, self.seq, first_seq - 1 - self.seq)
                self._deliver(missing, apply=True)
            for offset, acc in enumerate(fresh):
                acc.seq = first_seq + offset
            self.seq = last
        entries: list[Any] = []
        for acc in accepted:
            if acc.duplicate_of is not None:
                acc.conn.send(_text(Ack(acc.msg.ref, acc.duplicate_of)))
                continue
            acc.conn.send(_text(Ack(acc.msg.ref, acc.seq)))
            frame = _text(
                RemoteOpsRaw(
                    seq=acc.seq,
                    author=acc.conn.user_id,
                    replica=acc.entry.replica,
                    ops=msgspec.Raw(payload_json(acc.payload)),
                )
            )
            for other in self.presence.others(acc.entry.replica):
                other.send(frame)
            if acc.entry.counter_lo is not None and acc.entry.counter_hi is not None:
                recent = self._recent.setdefault(acc.entry.replica, [])
                recent.append((acc.entry.counter_lo, acc.entry.counter_hi, acc.seq))
                del recent[:-64]
            entries.append(acc)
        entries = [self._as_log_entry(acc) for acc in entries] if self.hooks.fanout() else entries
        if entries:
            self._after_change()
            if self.hooks.fanout():
                self._spawn(self.hooks.publish_ops(self.doc_id, entries))

    def _as_log_entry(self, acc: _Accepted) -> LogEntry:
        from docstream.storage.base import utcnow

        e = acc.entry
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
        self._deliver(fresh, apply=True)
        if fresh:
            self._after_change()

    def _deliver(self, entries: list[LogEntry], *, apply: bool) -> None:
        for e in entries:
            if e.seq != self.seq + 1:
                continue
            if apply:
                self.doc.apply(decode_payload(e.payload))
            self.seq = e.seq
            frame = _text(
                RemoteOpsRaw(
                    seq=e.seq,
                    author=e.user_id,
                    replica=e.replica,
                    ops=msgspec.Raw(payload_json(e.payload)),
                )
            )
            for conn in self.presence.others(e.replica):
                conn.send(frame)

    async def catch_up(self) -> None:
        """Read whatever the log has beyond ``self.seq`` (after a broker reconnect)."""
        await self._remote(await self.store.read_ops(self.doc_id, self.seq))

    # --- snapshots and versions ------------------------------------------------------------------

    def _after_change(self) -> None:
        self.dirty_words = True
        if self.seq - self.snapshot_seq >= self.settings.snapshot_every:
            now = time.monotonic()
            # At most one snapshot per snapshot_min_interval: encoding a long document takes
            # milliseconds. A burst that outpaces it is covered by the idle-time snapshot.
            if now - self._snapshot_at >= self.settings.snapshot_min_interval:
                self._snapshot_at = now
                self._snapshot()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = asyncio.get_running_loop().call_later(
            self.settings.version_idle_seconds, self._queue_auto_version
        )

    def _snapshot(self) -> None:
        state, seq = self.doc.encode_state(), self.seq  # no await between copy and stamp
        self._state_cache = (seq, state)
        self.snapshot_seq = seq
        self._spawn(self.store.save_snapshot(self.doc_id, seq, state))

    def _queue_auto_version(self) -> None:
        self._idle_timer = None
        if not self.closing:
            with contextlib.suppress(asyncio.QueueFull):  # busy: the next quiet moment takes it
                self.inbox.put_nowait(m.AutoVersionItem())

    async def _auto_version(self) -> None:
        if self.seq > self.snapshot_seq:
            self._snapshot()
        if self.seq > self.version_seq:
            text, seq = self.doc.text, self.seq
            await self.store.create_version(
                self.doc_id, seq, text, "auto", None, None, keep=self.settings.max_auto_versions
            )
            self.version_seq = seq

    async def _finish(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        try:
            if self.seq > self.snapshot_seq:
                state, seq = self.doc.encode_state(), self.seq
                await self.store.save_snapshot(self.doc_id, seq, state)
                self.snapshot_seq = seq
            await self._auto_version()
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
