"""The commit path on the in-memory store: group commit, the re-send rule, held acks, failed
commits, and what the extensions hear (ChangeCommitted, in seq order, after the commit)."""

from __future__ import annotations

import asyncio

from docstream.collab.extensions import ChangeCommitted
from docstream.collab.loader import encode_payload
from docstream.crdt import Delete, Document
from docstream.protocol.messages import Ack, ErrorFrame, RemoteOps, SubmitOps
from docstream.storage.base import NewLogEntry
from tests.collab.room.conftest import Node, frames, send, settle, wait_for


def edits(replica: str, count: int) -> list[SubmitOps]:
    doc = Document(replica)
    return [SubmitOps(ref=i, ops=list(doc.insert(i - 1, "x"))) for i in range(1, count + 1)]


async def test_messages_waiting_together_share_one_commit_and_are_acked_in_order(
    node: Node,
) -> None:
    room, ann = await node.join("annReplica")
    _, bob = await node.join("bobReplica")
    frames(ann), frames(bob)
    for msg in edits("annReplica", 5):
        send(room, ann, msg)
    await settle(room)
    assert node.store.commits == [5]
    got = frames(ann)
    assert [(f.ref, f.seq) for f in got if isinstance(f, Ack)] == [(i, i) for i in range(1, 6)]
    assert [f.seq for f in frames(bob) if isinstance(f, RemoteOps)] == [1, 2, 3, 4, 5]
    assert room.doc.text == "xxxxx" and room.seq == 5


async def test_a_stream_of_edits_shares_few_commits(node: Node) -> None:
    room, ann = await node.join("annReplica")
    frames(ann)
    node.store.commit_delay = 0.002  # messages arrive while a commit is under way
    count = 300
    for msg in edits("annReplica", count):
        send(room, ann, msg)
        await asyncio.sleep(0)  # one message per event-loop turn, as from a socket
    await wait_for(lambda: room.seq == count)
    assert sum(node.store.commits) == count
    assert len(node.store.commits) <= count // 8, node.store.commits
    assert [f.ref for f in frames(ann) if isinstance(f, Ack)] == list(range(1, count + 1))


async def test_an_exact_re_send_is_acked_with_its_first_seq_and_not_stored_again(
    node: Node,
) -> None:
    room, ann = await node.join("annReplica")
    _, bob = await node.join("bobReplica")
    frames(ann), frames(bob)
    doc = Document("annReplica")
    first = SubmitOps(ref=1, ops=doc.insert(0, "ab"))
    send(room, ann, first)
    send(room, ann, SubmitOps(ref=2, ops=doc.insert(2, "c")))
    await settle(room)
    frames(ann), frames(bob)
    send(room, ann, SubmitOps(ref=3, ops=first.ops))  # its ack was lost: re-sent
    await settle(room)
    assert [(f.ref, f.seq) for f in frames(ann)] == [(3, 1)]
    assert frames(bob) == [] and room.seq == 2 and node.store.commits == [2]


async def test_a_message_that_changes_nothing_is_acked_at_the_current_seq(node: Node) -> None:
    room, ann = await node.join("annReplica")
    frames(ann)
    doc = Document("annReplica")
    stored = doc.insert(0, "abc")
    send(room, ann, SubmitOps(ref=1, ops=stored))
    await settle(room)
    frames(ann)
    send(room, ann, SubmitOps(ref=2, ops=stored[:1]))  # known already, but no stored copy
    await settle(room)
    assert [(f.ref, f.seq) for f in frames(ann) if isinstance(f, Ack)] == [(2, 1)]
    assert node.store.commits == [1]


async def test_a_partly_applied_refused_message_leaves_no_trace_and_the_batch_goes_on(
    node: Node,
) -> None:
    room, ann = await node.join("annReplica")
    frames(ann)
    doc = Document("annReplica")
    good = SubmitOps(ref=1, ops=doc.insert(0, "ok"))
    bad = SubmitOps(ref=2, ops=[*doc.insert(2, "!"), Delete("annReplica:999", 1)])
    after = SubmitOps(ref=3, ops=Document("annReplica2").insert(0, "z"))
    send(room, ann, good)
    send(room, ann, bad)
    await settle(room)
    # The third message comes from another replica of the same user: a second connection.
    room, ann2 = await node.join("annReplica2")
    send(room, ann2, after)
    await settle(room)
    got = frames(ann)
    assert [(type(f).__name__, f.ref) for f in got if isinstance(f, (Ack, ErrorFrame))] == [
        ("ErrorFrame", 2),
        ("Ack", 1),
    ]
    assert room.consistent and room.seq == 2
    assert room.doc.text in ("okz", "zok")
    assert "!" not in room.doc.text
    assert [e.seq for e in await node.store.read_ops(node.doc_id, 0)] == [1, 2]


async def test_a_failed_commit_answers_every_sender_and_rebuilds_the_replica(node: Node) -> None:
    room, ann = await node.join("annReplica")
    _, bob = await node.join("bobReplica")
    frames(ann), frames(bob)
    node.store.fail_appends = 1
    send(room, ann, SubmitOps(ref=1, ops=Document("annReplica").insert(0, "ann")))
    send(room, bob, SubmitOps(ref=7, ops=Document("bobReplica").insert(0, "bob")))
    await settle(room)
    assert [(f.code, f.ref) for f in frames(ann)] == [("storage_unavailable", 1)]
    assert [(f.code, f.ref) for f in frames(bob)] == [("storage_unavailable", 7)]
    assert room.doc.text == "" and room.seq == 0 and room.consistent
    assert not [e for e in node.recorder.events if isinstance(e, ChangeCommitted)]


async def test_an_ack_waits_for_the_entry_before_it_when_reading_it_fails(node: Node) -> None:
    room, ann = await node.join("annReplica")
    _, bob = await node.join("bobReplica")
    frames(ann), frames(bob)
    # Another node stores seq 1 directly (its broker message never arrives here).
    other = Document("otherNode")
    await node.store.append_ops(
        node.doc_id, [NewLogEntry(node.user_id, "otherNode", encode_payload(other.insert(0, "x")))]
    )
    node.store.fail_reads = 2
    send(room, ann, SubmitOps(ref=1, ops=Document("annReplica").insert(0, "a")))
    await settle(room)
    assert frames(ann) == [] and room.acks_waiting and not room.consistent
    await wait_for(lambda: room.seq == 2)
    await settle(room)
    got = frames(ann)
    assert [type(f) for f in got] == [RemoteOps, Ack]
    assert got[0].seq == 1 and (got[1].ref, got[1].seq) == (1, 2)
    assert [f.seq for f in frames(bob) if isinstance(f, RemoteOps)] == [1, 2]
    assert room.consistent and not room.acks_waiting


async def test_the_extensions_hear_each_commit_of_this_node_in_seq_order(node: Node) -> None:
    room, ann = await node.join("annReplica")
    for msg in edits("annReplica", 3):
        send(room, ann, msg)
    await settle(room)
    await wait_for(lambda: any(isinstance(e, ChangeCommitted) for e in node.recorder.events))
    [event] = [e for e in node.recorder.events if isinstance(e, ChangeCommitted)]
    assert event.doc_id == node.doc_id and event.seq == 3
    assert [e.seq for e in event.entries] == [1, 2, 3]
    assert {(e.replica, e.user_name, e.doc_id) for e in event.entries} == {
        ("annReplica", "annReplica", node.doc_id)
    }
    # Entries of other nodes are applied, not announced again.
    other = Document("otherNode")
    await node.store.append_ops(
        node.doc_id, [NewLogEntry(node.user_id, "otherNode", encode_payload(other.insert(0, "o")))]
    )
    await room.call(lambda r: r.catch_up())
    assert room.seq == 4
    assert len([e for e in node.recorder.events if isinstance(e, ChangeCommitted)]) == 1
