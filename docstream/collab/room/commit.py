"""The commit path of a Room: store a batch, then acknowledge and broadcast it in ``seq`` order.

Rules (the life of an edit):

- the messages of a batch are stored together in ONE transaction; only after the commit is each
  sender acked and the others told, in ``seq`` order. If the commit fails, nothing is acked or
  broadcast; the replica is rebuilt from storage and every sender gets an ``error`` with its
  ``ref`` (their ops stay in their queues and are re-sent);
- a client takes an ack's seq as "seen everything up to here", so an ack never overtakes an entry
  before it: when another node appended in between, its entries are read from the log and
  announced first; if that read fails, the acks are *held* and the read retried later;
- a re-send (a message that changed nothing) is acked with the seq where it was first stored, and
  held too while that seq is beyond what this replica announced;
- entries of other nodes are applied in seq order and a gap is repaired from the log.

What this node stored is then handed to the extensions (:class:`ChangeCommitted`) and the Room is
told that its replica advanced (snapshots, automatic versions, word indexes).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING

from docstream import metrics, tracing
from docstream.collab import messages as m
from docstream.collab.connection import Connection
from docstream.collab.extensions import ChangeCommitted
from docstream.collab.loader import decode_payload
from docstream.collab.room import frames
from docstream.collab.room.validation import Accepted, Kind, accept
from docstream.errors import DocStreamError, StorageError
from docstream.protocol.messages import SubmitOps
from docstream.storage.base import LogEntry, NewLogEntry, utcnow

if TYPE_CHECKING:
    from docstream.collab.room.core import Room

log = logging.getLogger("docstream.collab.room")

CATCH_UP_RETRY = 0.1  # first wait (s) before reading the log again after a failed read ...
CATCH_UP_RETRY_MAX = 5.0  # ... doubling up to this
#: The span of one commit group (stored in one transaction, then acked and broadcast).
COMMIT_SPAN = "document.commit"


def _acknowledge(acc: Accepted, seq: int) -> None:
    """Tell the sender its message is in the log at ``seq`` (an ``ack``, or its reply). The
    caller counts it (the counters are updated once per commit group, in ``publish``)."""
    acc.answered = True
    if acc.reply is None:
        acc.conn.send_ack(acc.msg.ref, seq)
    elif not acc.reply.done():
        acc.reply.set_result(seq)


def _refuse(
    conn: Connection, msg: SubmitOps, reply: asyncio.Future[int] | None, error: DocStreamError
) -> None:
    """Tell the sender its message was not stored (an ``error`` with its ``ref``, or its reply)."""
    metrics.REFUSED_FRAMES.labels(error.code).inc()
    if reply is None:
        conn.send(frames.error(error.code, error.detail, msg.ref))
    elif not reply.done():
        reply.set_exception(error)


def _commit_span(
    doc_id: str, accepted: list[Accepted], stored: int
) -> AbstractContextManager[tracing.SpanLike]:
    """The span of one commit group (:data:`tracing.OFF` while tracing is off: nothing is
    built). It links to the sessions whose edits it stores: the group runs in the Room's task,
    a trace of its own, while each socket's session is a trace of its own too."""
    if not accepted or not tracing.enabled():
        return tracing.OFF
    attributes = {
        "docstream.doc_id": doc_id,
        "docstream.commit.group_size": stored,
        "docstream.commit.resends": len(accepted) - stored,
    }
    links = tracing.links(acc.conn.trace_link for acc in accepted)
    return tracing.span(COMMIT_SPAN, attributes, links=links)


async def _catch_up(room: Room) -> None:
    try:
        await room.catch_up()
    except DocStreamError as exc:
        log.warning("room %s: catching up from the log failed: %s", room.doc_id, exc.detail)
        room.commits.schedule_catch_up()


class CommitPath:
    """The acks, broadcasts and pending state of one Room's log (only its worker calls it)."""

    def __init__(self, room: Room) -> None:
        self.room = room
        #: Stored messages of this node whose seq is beyond ``room.seq``: their acks wait until
        #: every entry before them was announced (only after a failed read of the log).
        self.held: dict[int, Accepted] = {}
        self._held_acks: list[Accepted] = []  # re-sends stored beyond ``room.seq``
        self._outgoing: list[Accepted] = []  # stored and announced here; for the extensions
        self._changed = False
        #: Acks and broadcasts since the last ``publish`` (the metrics, once per commit group).
        self._acks = 0
        self._broadcasts = 0
        self._catch_up_timer: asyncio.TimerHandle | None = None
        self._catch_up_delay = CATCH_UP_RETRY

    # --- a batch of ops --------------------------------------------------------------------------

    async def handle_ops(self, batch: list[m.OpsItem]) -> None:
        """Validate, store and announce a batch of ops messages.

        Whatever fails, every sender gets an answer with its own ``ref``, and a replica that
        may hold ops the log lacks is rebuilt from the log before anything else is sent.
        """
        room = self.room
        if not await room.ensure_consistent():
            self._refuse_all(batch, StorageError("the database is unavailable; retry later"))
            return
        accepted: list[Accepted] = []
        try:
            for item in batch:
                conn, msg = item.conn, item.msg
                outcome = accept(room.doc, room.seq, room.settings, conn, msg, len(accepted) + 1)
                if isinstance(outcome, Accepted):
                    outcome.reply = item.reply
                    accepted.append(outcome)
                    continue
                _refuse(conn, msg, item.reply, outcome.error)
                if outcome.applied:
                    # Part of the message was applied: undo it before judging the next one.
                    await room.rebuild([a for a in accepted if a.kind is Kind.NEW])
            await self._commit(accepted)
        except Exception as exc:
            if isinstance(exc, DocStreamError):
                log.warning("room %s: a batch of ops failed: %s", room.doc_id, exc.detail)
            else:
                log.exception("room %s: a batch of ops failed", room.doc_id)
            room.needs_rebuild = True
            answered = {id(acc.msg) for acc in accepted if acc.answered}
            self._refuse_all([i for i in batch if id(i.msg) not in answered], exc)
            await room.ensure_consistent()

    def _refuse_all(self, batch: list[m.OpsItem], exc: Exception) -> None:
        error = (
            StorageError(f"not saved: {exc.detail}", code=exc.code)
            if isinstance(exc, StorageError)
            else DocStreamError("not saved: the server failed to handle this message")
        )
        for item in batch:
            _refuse(item.conn, item.msg, item.reply, error)

    async def _commit(self, accepted: list[Accepted]) -> None:
        room = self.room
        fresh = [acc for acc in accepted if acc.kind is Kind.NEW]
        with _commit_span(room.doc_id, accepted, len(fresh)) as span:
            if fresh:
                entries: list[NewLogEntry] = [acc.entry for acc in fresh if acc.entry is not None]
                started = time.perf_counter()
                try:
                    last = await room.store.append_ops(room.doc_id, entries)
                except DocStreamError as exc:
                    log.warning(
                        "room %s: commit of %d messages failed: %s",
                        room.doc_id,
                        len(fresh),
                        exc.detail,
                    )
                    tracing.fail(span, f"not stored: {exc.code}")
                    # Nothing of the batch is stored: every sender hears so, re-sends included
                    # (those may repeat a message of this very batch).
                    # Always a transient code: the failure may be one message's, not each
                    # sender's.
                    code = exc.code if isinstance(exc, StorageError) else "internal"
                    error = (StorageError if code != "internal" else DocStreamError)(
                        f"not saved: {exc.detail}", code=code
                    )
                    for acc in accepted:
                        _refuse(acc.conn, acc.msg, acc.reply, error)
                        acc.answered = True
                    room.needs_rebuild = True
                    await room.ensure_consistent()
                    return
                metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
                metrics.COMMIT_GROUP_SIZE.observe(len(fresh))
                metrics.EDITS_COMMITTED.inc(len(fresh))
                first_seq = last - len(fresh) + 1
                if span.is_recording():
                    span.set_attribute("docstream.commit.first_seq", first_seq)
                    span.set_attribute("docstream.commit.last_seq", last)
                for offset, acc in enumerate(fresh):
                    acc.seq = first_seq + offset
                    self.held[first_seq + offset] = acc
            for acc in accepted:
                if acc.kind is Kind.RESEND:
                    acc.seq = await self._stored_seq(acc)
            target = max((acc.seq or 0 for acc in accepted), default=0)
            if target > room.seq:
                await self._announce_through(target)
            for acc in accepted:
                if acc.kind is Kind.RESEND:
                    self._ack_resend(acc)
            await self.publish()

    async def _stored_seq(self, acc: Accepted) -> int | None:
        """Where a re-sent message was first stored (None: not an exact copy of a stored one)."""
        room = self.room
        assert acc.conn.replica is not None
        try:
            seq = await room.store.find_seq_of_payload(
                room.doc_id, acc.conn.replica, acc.payload, counter_hi=acc.counter_hi
            )
        except DocStreamError as exc:
            log.warning("room %s: cannot look up a re-sent message: %s", room.doc_id, exc.detail)
            return None
        return seq or None

    def _ack_resend(self, acc: Accepted) -> None:
        """A message that changed nothing: its content is in the document at ``room.seq``."""
        room = self.room
        if acc.seq is not None and acc.seq > room.seq:
            self._held_acks.append(acc)  # stored beyond what this replica announced yet
            return
        _acknowledge(acc, acc.seq or room.seq)
        self._acks += 1

    # --- announcing in seq order -----------------------------------------------------------------

    async def _announce_through(self, target: int) -> None:
        """Announce every entry up to ``target`` in seq order: acks for this node's own, the
        others' edits (read from the log when another node appended in between) to everyone.
        If the log cannot be read now, the acks wait for the retry."""
        room = self.room
        while room.seq < target:
            own = self.held.pop(room.seq + 1, None)
            if own is not None:
                self._announce_own(own)
                continue
            try:
                missing = await room.store.read_ops(room.doc_id, room.seq, target - room.seq)
            except DocStreamError as exc:
                log.warning(
                    "room %s: cannot read entries %d..%d from the log: %s",
                    room.doc_id,
                    room.seq + 1,
                    target,
                    exc.detail,
                )
                self.schedule_catch_up()
                return
            if not missing or missing[0].seq != room.seq + 1:
                log.error("room %s: the log lacks entry %d", room.doc_id, room.seq + 1)
                self.schedule_catch_up()
                return
            self.deliver(missing)
        self.flush_held_acks()

    def _announce_own(self, acc: Accepted) -> None:
        room = self.room
        entry = acc.entry
        assert entry is not None and acc.seq is not None
        room.seq = acc.seq
        _acknowledge(acc, acc.seq)
        self._acks += 1
        frame = frames.remote_ops(acc.seq, entry.user_id, entry.replica, acc.payload)
        # Everyone but the sending connection, a newer connection of the same replica included:
        # it may have said hello before this message (sent on the old one) was stored.
        self._broadcasts += 1
        for other in room.presence.local.values():
            if other is not acc.conn:
                other.send(frame)
        self._outgoing.append(acc)
        self._changed = True

    def flush_held_acks(self) -> None:
        if self._held_acks:
            waiting, self._held_acks = self._held_acks, []
            for acc in waiting:
                self._ack_resend(acc)

    def deliver(self, entries: list[LogEntry], *, apply: bool = True) -> None:
        """Entries in seq order: this node's own (acks waiting) are announced, others applied
        (unless the replica has them already) and sent to every local client."""
        room = self.room
        for e in entries:
            if e.seq != room.seq + 1:
                continue
            own = self.held.pop(e.seq, None)
            if own is not None:
                self._announce_own(own)
                continue
            if apply:
                room.doc.apply(decode_payload(e.payload))
            room.seq = e.seq
            self._changed = True
            frame = frames.remote_entry(e)
            self._broadcasts += 1
            for conn in room.presence.local.values():  # its author's replica too, if it is here
                conn.send(frame)
        while room.seq + 1 in self.held:
            self._announce_own(self.held.pop(room.seq + 1))

    async def publish(self) -> None:
        """Hand what this node stored to the extensions; tell the Room its replica advanced."""
        room = self.room
        if self._acks:
            metrics.ACKS.inc(self._acks)
            self._acks = 0
        if self._broadcasts:
            metrics.BROADCASTS.inc(self._broadcasts)
            self._broadcasts = 0
        if self._outgoing:
            outgoing, self._outgoing = self._outgoing, []
            extensions = room.extensions
            if extensions.listens(ChangeCommitted):
                now = utcnow()  # one clock read per commit: about 0.5 us per entry in all
                entries = [self._as_log_entry(acc, now) for acc in outgoing]
                # In a task of its own, as the cluster publish always was: no extension delays
                # the next batch.
                room.spawn(extensions.emit(ChangeCommitted(room.doc_id, entries[-1].seq, entries)))
        if self._changed:
            self._changed = False
            await room.advanced()

    def _as_log_entry(self, acc: Accepted, now: datetime) -> LogEntry:
        e = acc.entry
        assert e is not None and acc.seq is not None
        return LogEntry(
            doc_id=self.room.doc_id,
            seq=acc.seq,
            user_id=e.user_id,
            replica=e.replica,
            payload=e.payload,
            kind=e.kind,
            position=e.position,
            length=e.length,
            preview=e.preview,
            created_at=now,
            user_name=acc.conn.name,
        )

    # --- entries from other nodes, catching up ---------------------------------------------------

    async def remote(self, entries: list[LogEntry]) -> None:
        room = self.room
        fresh = [e for e in entries if e.seq > room.seq]
        if not fresh:
            return
        if fresh[0].seq != room.seq + 1 or any(
            b.seq != a.seq + 1 for a, b in itertools.pairwise(fresh)
        ):
            metrics.REDIS_GAPS_REPAIRED.inc()
            fresh = await room.store.read_ops(room.doc_id, room.seq)  # repair the gap from the log
        self.deliver(fresh)
        self.flush_held_acks()
        await self.publish()

    async def catch_up(self) -> None:
        """Read whatever the log has beyond ``room.seq`` (after a broker reconnect)."""
        room = self.room
        await self.remote(await room.store.read_ops(room.doc_id, room.seq))
        self._catch_up_delay = CATCH_UP_RETRY

    def schedule_catch_up(self) -> None:
        """Read the log again a little later (acks of stored messages may be waiting on it)."""
        if self._catch_up_timer is not None or self.room.closing:
            return
        delay = self._catch_up_delay
        self._catch_up_delay = min(CATCH_UP_RETRY_MAX, delay * 2)
        inbox = self.room.inbox

        def queue() -> None:
            self._catch_up_timer = None
            with contextlib.suppress(asyncio.QueueFull):
                inbox.put_nowait(m.CallItem(_catch_up))

        self._catch_up_timer = asyncio.get_running_loop().call_later(delay, queue)

    def cancel(self) -> None:
        """The Room stops: no more retries; a server-side edit still waiting for its ack hears
        so (a client re-sends on its next connection and is acked then)."""
        if self._catch_up_timer is not None:
            self._catch_up_timer.cancel()
            self._catch_up_timer = None
        for acc in [*self.held.values(), *self._held_acks]:
            if acc.reply is not None and not acc.reply.done():
                acc.reply.set_exception(
                    StorageError("stored, but the Room stopped before it could confirm the seq")
                )
