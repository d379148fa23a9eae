"""The server's document always equals the replay of its log: a hypothesis state machine.

A real Room (through a real Hub) over a real SQLite store, driven by honest clients (the
protocol's own sans-I/O ``ClientSession``: two replicas of the owner, an editor, a viewer) and by
an editor who attacks with her own stored messages: exact re-sends, partial ones, re-sends with
ops appended or reordered, the ghost edit (a stored insert, a delete and a new insert in one
message), inserts of another replica, Lamport leaps. Clients disconnect and reconnect; commits and
log reads fail now and then (the store is the real one with a switch that makes its next call
raise, as a database that went away would).

After every step, once everything in flight is handled: the Room's text, the text of the log
replayed from zero, and the text of the latest snapshot plus the log after it are one and the
same; the document's seq is the Room's; every live honest client, and a client joining afresh,
holds that text.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from docstream.collab import messages as m
from docstream.collab.connection import CloseRequest, Connection
from docstream.collab.hub import Hub
from docstream.collab.loader import decode_payload, unseal_state
from docstream.collab.room import Room
from docstream.crdt import Delete, Document, Insert, Op
from docstream.errors import DocStreamError, StorageError
from docstream.protocol import codec
from docstream.protocol.messages import SubmitOps
from docstream.protocol.session import ClientSession, Welcomed
from docstream.services.documents import DocumentService
from docstream.settings import MAX_COUNTER_JUMP, Settings
from docstream.storage.base import NewLogEntry
from docstream.storage.sqlite import SqliteDocumentStore

ATTACK_REF = 1_000_000  # the attacker's hand-made messages use refs of their own


class FlakyStore(SqliteDocumentStore):
    """The real SQLite store; ``fail_appends`` / ``fail_reads`` make that many next calls fail
    the way an unreachable database does (StorageError), before touching the database."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.fail_appends = 0
        self.fail_reads = 0

    async def append_ops(self, doc_id: str, entries: Sequence[NewLogEntry]) -> int:
        if self.fail_appends:
            self.fail_appends -= 1
            raise StorageError("the database is unreachable (injected)")
        return await super().append_ops(doc_id, entries)

    async def read_ops(self, doc_id: str, after_seq: int, limit: int | None = None) -> Any:
        if self.fail_reads:
            self.fail_reads -= 1
            raise StorageError("the database is unreachable (injected)")
        return await super().read_ops(doc_id, after_seq, limit)


async def log_texts(store: SqliteDocumentStore, doc_id: str) -> tuple[str, str, int]:
    """The log replayed from zero, the latest snapshot + the log after it, and the last seq."""
    entries = await store.read_ops(doc_id, 0)
    full = Document("replayAll")
    for entry in entries:
        full.apply(decode_payload(entry.payload))
    snapshot = await store.latest_snapshot(doc_id)
    if snapshot is None:
        from_snapshot = full.text
    else:
        doc = Document.decode_state(unseal_state(snapshot.state), "replaySnap")
        for entry in entries:
            if entry.seq > snapshot.seq:
                doc.apply(decode_payload(entry.payload))
        from_snapshot = doc.text
    return full.text, from_snapshot, entries[-1].seq if entries else 0


class Client:
    """One replica of one user: a ClientSession and, while connected, its Connection."""

    def __init__(self, name: str, user_id: str, replica: str, role: str) -> None:
        self.name = name
        self.user_id = user_id
        self.session = ClientSession(replica)
        self.role = role
        self.conn: Connection | None = None
        self.room: Room | None = None
        self.sent: list[list[Op]] = []  # every ops list this replica sent (attack material)


class RoomMachine(RuleBasedStateMachine):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="room-invariant-"))
        self.clients: dict[str, Client] = {}
        self.attack_ref = ATTACK_REF

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        async def close() -> None:
            await self.hub.close()
            await self.store.close()

        try:
            self.run(close())
        finally:
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize()
    def start(self) -> None:
        async def setup() -> None:
            self.store = FlakyStore(self.tmp / "docstream.sqlite3")
            await self.store.open()
            await self.store.migrate()
            users = {}
            for name in ("ann", "bob", "eve", "val"):
                users[name] = await self.store.register_user(
                    f"{name}@example.com", name.capitalize(), "not-a-real-hash"
                )
            doc = await self.store.create_document(users["ann"].id, "invariant")
            self.doc_id = doc.id
            await self.store.set_permission(doc.id, users["bob"].id, "editor")
            await self.store.set_permission(doc.id, users["eve"].id, "editor")
            await self.store.set_permission(doc.id, users["val"].id, "viewer")
            settings = Settings(
                data_dir=self.tmp,
                snapshot_every=4,
                snapshot_min_interval=0.0,
                version_idle_seconds=3600,
                max_document_chars=400,
            )
            self.hub = Hub(self.store, settings, DocumentService(self.store))
            roles = {"ann": "owner", "bob": "editor", "eve": "editor", "val": "viewer"}
            for name, replica in (
                ("ann", "annTabOne"),
                ("ann2", "annTabTwo"),
                ("bob", "bobReplica"),
                ("eve", "eveReplica"),
                ("val", "valReplica"),
            ):
                user = users[name.rstrip("2")]
                client = Client(name, user.id, replica, roles[name.rstrip("2")])
                self.clients[name] = client
                await self.connect(client)
            await self.settle()

        self.run(setup())

    # --- plumbing --------------------------------------------------------------------------------

    async def connect(self, client: Client) -> None:
        conn = Connection(
            user_id=client.user_id,
            name=client.name,
            role=client.role,  # type: ignore[arg-type]
            guest=False,
            queue_size=100_000,
        )
        client.conn = conn
        client.room = await self.hub.join(conn, self.doc_id, client.session.hello())

    async def send(self, client: Client, msg: SubmitOps) -> None:
        assert client.room is not None and client.conn is not None
        await client.room.inbox.put(m.OpsItem(client.conn, msg))

    async def settle(self) -> None:
        """Handle everything in flight: Room items, frames to clients, their re-sends."""
        for _ in range(200):
            busy = False
            for client in self.clients.values():
                room = client.room
                if room is None or room.closing:
                    continue
                try:
                    await room.call(_noop)  # every item queued before it is handled
                except Exception:  # the Room closed meanwhile: its clients reconnect below
                    continue
                if room.acks_waiting or room.needs_rebuild:  # acks wait for a log read: retry soon
                    busy = True
            for client in self.clients.values():
                busy |= await self.deliver(client)
            if not busy:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the Room did not settle")

    async def deliver(self, client: Client) -> bool:
        """Hand the connection's queued frames to the session; react as a real client does."""
        conn = client.conn
        if conn is None:
            return False
        moved = False
        while conn.has_frames:  # as the socket's writer takes them (batches included)
            moved = True
            item = await conn.next_frame()
            if isinstance(item, CloseRequest):
                client.conn = client.room = None
                if item.code not in (4403,):
                    await self.connect(client)  # a real client reconnects with backoff
                return True
            frame = codec.decode_server_frame(item)
            session = client.session
            try:
                events = session.receive(frame)
            except DocStreamError:
                if client.name != "eve":
                    raise  # an honest client must always be able to apply what it is sent
                # The attacker never applied her own forged ops: start her over from the state.
                client.session = ClientSession(session.replica)
                await self.reconnect(client)
                return True
            for event in events:
                if isinstance(event, Welcomed):
                    session.live = True
                    for msg in session.resend():
                        await self.send(client, msg)
            if session.resync:  # a transient refusal: reconnect and re-send in order
                await self.reconnect(client)
                return True
        return moved

    async def reconnect(self, client: Client) -> None:
        if client.conn is not None and client.room is not None:
            await client.room.inbox.put(m.LeaveItem(client.conn))
        client.conn = client.room = None
        client.session.live = False
        await self.connect(client)

    # --- honest editing --------------------------------------------------------------------------

    @rule(
        who=st.sampled_from(["ann", "ann2", "bob", "eve"]),
        edits=st.lists(
            st.tuples(st.booleans(), st.integers(0, 10_000), st.text("ab€𝄞\n", min_size=1)),
            min_size=1,
            max_size=5,
        ),
    )
    def type(self, who: str, edits: list[tuple[bool, int, str]]) -> None:
        """A burst of inserts and deletes (sent back to back: one group commit)."""
        client = self.clients[who]

        async def go() -> None:
            session = client.session
            for is_insert, where, text in edits:
                size = len(session.doc)
                if is_insert or size == 0:
                    msg = session.insert(where % (size + 1), text[:5])
                else:
                    at = where % size
                    msg = session.delete(at, min(len(text), size - at))
                if msg is not None:
                    client.sent.append(list(msg.ops))
                    await self.send(client, msg)
            await self.settle()

        self.run(go())

    @rule(who=st.sampled_from(["ann", "ann2", "bob", "eve"]))
    def reconnect_client(self, who: str) -> None:
        client = self.clients[who]

        async def go() -> None:
            await self.reconnect(client)
            await self.settle()

        self.run(go())

    @rule(appends=st.integers(0, 2), reads=st.integers(0, 3))
    def the_database_fails(self, appends: int, reads: int) -> None:
        """The next commits / log reads fail; the honest clients then type as usual."""
        self.store.fail_appends, self.store.fail_reads = appends, reads

        async def go() -> None:
            for name in ("bob", "ann"):
                client = self.clients[name]
                msg = client.session.insert(len(client.session.doc), name[0])
                if msg is not None:
                    client.sent.append(list(msg.ops))
                    await self.send(client, msg)
            await self.settle()

        self.run(go())

    # --- the attacker: eve, with her own stored messages -----------------------------------------

    def attack(self, ops: list[Op]) -> None:
        eve = self.clients["eve"]
        self.attack_ref += 1
        msg = SubmitOps(ref=self.attack_ref, ops=ops)

        async def go() -> None:
            if eve.conn is None:
                await self.connect(eve)
                await self.settle()
            await self.send(eve, msg)
            await self.settle()

        self.run(go())

    def fresh_insert(self, text: str) -> Insert:
        """An insert of eve's replica that nobody has seen (it is not in her session either)."""
        doc = self.clients["eve"].session.doc
        scratch = Document.decode_state(doc.encode_state(), "eveReplica")
        scratch_ops = scratch.insert(len(scratch), text)
        op = scratch_ops[0]
        assert isinstance(op, Insert)
        return op

    def visible_delete(self) -> Delete | None:
        room = self.clients["ann"].room
        if room is None or len(room.doc) == 0:
            return None
        return Delete(str(room.doc.id_at(0)), 1)

    @precondition(lambda self: bool(self.clients["eve"].sent))
    @rule(data=st.data())
    def resend_variant(self, data: st.DataObject) -> None:
        eve = self.clients["eve"]
        ops = list(data.draw(st.sampled_from(eve.sent)))
        how = data.draw(
            st.sampled_from(["exact", "partial", "appended", "reordered", "ghost", "doubled"])
        )
        if how == "partial" and len(ops) > 1:
            cut = data.draw(st.integers(1, len(ops) - 1))
            ops = ops[:cut] if data.draw(st.booleans()) else ops[cut:]
        elif how == "appended":
            extra = self.visible_delete() if data.draw(st.booleans()) else None
            ops = [*ops, extra or self.fresh_insert("+")]
        elif how == "reordered":
            ops = list(reversed(ops))
        elif how == "ghost":
            inserts = [op for op in ops if isinstance(op, Insert)]
            delete = self.visible_delete()
            ops = [*inserts[:1], *([delete] if delete else []), self.fresh_insert("!GHOST")]
        elif how == "doubled":
            ops = ops + ops
        self.attack(ops)

    @rule(text=st.text("xyz", min_size=1, max_size=3), leap=st.booleans())
    def forged_inserts(self, text: str, leap: bool) -> None:
        """Another replica's ids, or a Lamport leap: both refused, nothing changes."""
        room = self.clients["ann"].room
        clock = room.doc.max_counter if room is not None else 0
        if leap:
            op = Insert(f"eveReplica:{clock + MAX_COUNTER_JUMP + 1}", None, text)
        else:
            op = Insert(f"bobReplica:{clock + 1}", None, text)
        self.attack([op])

    @rule(text=st.text("vw", min_size=1, max_size=3))
    def the_viewer_types(self, text: str) -> None:
        """A viewer's ops are refused (read_only) and change nothing."""
        val = self.clients["val"]
        scratch = Document.decode_state(val.session.doc.encode_state(), "valReplica")
        msg = SubmitOps(ref=ATTACK_REF - 1, ops=scratch.insert(0, text))

        async def go() -> None:
            if val.conn is not None:
                await self.send(val, msg)
            await self.settle()

        self.run(go())

    # --- the invariant ---------------------------------------------------------------------------

    @invariant()
    def the_room_equals_the_replay_of_its_log(self) -> None:
        if not self.clients:
            return

        async def check() -> None:
            self.store.fail_appends = self.store.fail_reads = 0  # the outage is over
            await self.settle()
            full, from_snapshot, last = await log_texts(self.store, self.doc_id)
            assert full == from_snapshot
            record = await self.store.get_document(self.doc_id)
            assert record is not None and record.seq == last
            text, seq = await self.hub.current_text(self.doc_id)
            assert (text, seq) == (full, last)
            room = self.clients["ann"].room
            if room is not None and not room.closing:
                assert room.consistent and room.seq == last and room.doc.text == full
            for client in self.clients.values():
                session = client.session
                if client.name == "eve" or not session.live or client.conn is None:
                    continue
                assert not session.pending, (client.name, session.pending)
                assert (session.doc.text, session.since) == (full, last), client.name
            joiner = Client("joiner", self.clients["bob"].user_id, "joinerRepl", "editor")
            await self.connect(joiner)
            assert joiner.room is not None
            await joiner.room.call(_noop)
            await self.deliver(joiner)
            assert joiner.session.doc.text == full
            await joiner.room.inbox.put(m.LeaveItem(joiner.conn))  # type: ignore[arg-type]

        self.run(check())


async def _noop(room: Room) -> None:
    return None


RoomMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("DOCSTREAM_PROPERTY_EXAMPLES", "30")),
    stateful_step_count=20,
    deadline=None,
    derandomize=not os.environ.get("DOCSTREAM_PROPERTY_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRoomEqualsItsLog = RoomMachine.TestCase
