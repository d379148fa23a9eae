"""Joining, leaving and carets in a Room on the in-memory store, and what the extensions hear."""

from __future__ import annotations

from docstream.collab.connection import CLOSE_REPLACED, CloseRequest
from docstream.collab.extensions import PresenceChanged
from docstream.collab.room import peers
from docstream.crdt import Document
from docstream.protocol import messages as w
from docstream.protocol.messages import SetCursor, SubmitOps
from tests.collab.room.conftest import Node, frames, send, settle, wait_for


async def test_a_late_joiner_gets_the_missing_entries_or_the_state(node: Node) -> None:
    room, ann = await node.join("annReplica")
    doc = Document("annReplica")
    for ref in (1, 2, 3):
        send(room, ann, SubmitOps(ref=ref, ops=doc.insert(0, "x")))
    await settle(room)
    _, caught_up = await node.join("bobReplica", since=1)
    [welcome, *_] = frames(caught_up)
    assert isinstance(welcome, w.Welcome) and welcome.seq == 3
    assert [op.seq for op in welcome.ops or []] == [2, 3] and welcome.state is None
    _, fresh = await node.join("carlReplica", since=0)
    [welcome, *_] = frames(fresh)
    assert isinstance(welcome, w.Welcome) and welcome.state is not None and welcome.ops is None


async def test_joins_and_leaves_are_told_to_the_others_and_to_the_extensions(node: Node) -> None:
    room, ann = await node.join("annReplica")
    frames(ann)  # the welcome
    _, bob = await node.join("bobReplica")
    [joined] = frames(ann)
    assert isinstance(joined, w.Presence) and joined.action == "join"
    assert joined.peer.replica == "bobReplica"
    await room.call(lambda r: _leave(r, bob))
    [left] = frames(ann)
    assert isinstance(left, w.Presence) and left.action == "leave"
    await wait_for(lambda: len(node.recorder.events) == 3)
    assert [(e.action, e.payload.replica) for e in node.recorder.events] == [  # type: ignore[union-attr]
        ("join", "annReplica"),
        ("join", "bobReplica"),
        ("leave", "bobReplica"),
    ]
    assert all(isinstance(e, PresenceChanged) for e in node.recorder.events)


async def _leave(room: object, conn: object) -> None:
    peers.leave(room, conn)  # type: ignore[arg-type]


async def test_a_newer_connection_of_a_replica_replaces_the_older(node: Node) -> None:
    _, old = await node.join("annReplica")
    _, new = await node.join("annReplica")
    closes = [f for f in frames(old) if isinstance(f, CloseRequest)]
    assert [c.code for c in closes] == [CLOSE_REPLACED]
    assert node.room().presence.local["annReplica"] is new


async def test_a_replica_of_another_user_is_refused(node: Node) -> None:
    await node.join("annReplica")
    _, intruder = await node.join("annReplica", user_id="someone-else")
    got = frames(intruder)
    assert any(isinstance(f, w.ErrorFrame) and f.code == "forbidden_replica" for f in got)
    assert [f.code for f in got if isinstance(f, CloseRequest)] == [4403]


async def test_carets_go_to_the_others_and_unknown_ids_are_refused(node: Node) -> None:
    room, ann = await node.join("annReplica")
    _, bob = await node.join("bobReplica")
    frames(ann), frames(bob)
    doc = Document("annReplica")
    ops = doc.insert(0, "hi")
    send(room, ann, SubmitOps(ref=1, ops=ops))
    await settle(room)
    frames(ann), frames(bob)
    from docstream.collab import messages as m

    room.inbox.put_nowait(m.CursorItem(ann, SetCursor(anchor=ops[0].id, head=ops[0].id)))
    room.inbox.put_nowait(m.CursorItem(ann, SetCursor(anchor="nobody:42", head=None)))
    await settle(room)
    [caret] = frames(bob)
    assert isinstance(caret, w.PeerCursor) and caret.anchor == ops[0].id
    [refused] = frames(ann)
    assert isinstance(refused, w.ErrorFrame) and refused.code == "unknown_id"
    await wait_for(
        lambda: any(
            isinstance(e, PresenceChanged) and e.action == "cursor" for e in node.recorder.events
        )
    )
    # A caret is remembered: a later joiner is told where it is.
    _, carl = await node.join("carlReplica")
    assert any(isinstance(f, w.PeerCursor) for f in frames(carl))
