"""The client side of the protocol (``ClientSession``), without a socket.

A test plays the server: it builds the frames a server would send (from a second replica of the
document) and checks what the session does with them and what it sends back.
"""

from __future__ import annotations

import pytest

from docstream.crdt import Change, Document
from docstream.protocol.messages import (
    Ack,
    ErrorFrame,
    Hello,
    Peer,
    PeerCursor,
    Presence,
    RemoteOps,
    RoleChanged,
    SeqOps,
    SetCursor,
    SubmitOps,
    UserInfo,
    Welcome,
)
from docstream.protocol.session import (
    PERMANENT_ERRORS,
    Acked,
    ClientSession,
    CursorMoved,
    Desynced,
    PeerJoined,
    PeerLeft,
    Refused,
    RemoteChange,
    RoleUpdated,
    Welcomed,
    text_diff,
)

ME = "client-replica-1"
OTHER = "other-replica-2"
USER = UserInfo("u1", "Ann", "#E02424")
BOB = Peer("u2", "Bob", "#3F83F8", OTHER)


def welcome(
    seq: int = 0,
    *,
    state: bytes | None = None,
    ops: list[SeqOps] | None = None,
    peers: list[Peer] | None = None,
) -> Welcome:
    return Welcome("doc", seq, "editor", USER, peers or [], state=state, ops=ops)


def live(session: ClientSession | None = None, seq: int = 0) -> ClientSession:
    session = session or ClientSession(ME)
    session.hello()
    session.receive(welcome(seq, ops=[]))
    return session


# --- the handshake -------------------------------------------------------------------------------


def test_hello_carries_the_replica_and_the_last_applied_seq() -> None:
    session = ClientSession(ME)
    assert session.hello() == Hello(ME, 0, batch=True)
    session.since = 42
    assert session.hello() == Hello(ME, 42, batch=True)


def test_welcome_with_ops_applies_what_was_missed_and_goes_live() -> None:
    server = Document(OTHER)
    first, second = server.insert(0, "hi"), server.insert(2, "!")
    session = ClientSession(ME)
    session.hello()
    [event] = session.receive(
        welcome(2, ops=[SeqOps(1, "u2", first), SeqOps(2, "u2", second)], peers=[BOB])
    )
    assert isinstance(event, Welcomed)
    assert event.seq == 2 and event.role == "editor" and event.user == USER
    assert event.changes == [Change(0, 0, "hi"), Change(2, 0, "!")]
    assert session.live and session.since == 2 and session.role == "editor"
    assert session.doc.text == "hi!"
    assert session.peers == {OTHER: BOB}


def test_welcome_skips_entries_already_applied() -> None:
    server = Document(OTHER)
    first = server.insert(0, "a")
    session = live()
    session.receive(RemoteOps(1, "u2", OTHER, first))
    session.hello()
    [event] = session.receive(welcome(1, ops=[SeqOps(1, "u2", first)]))
    assert isinstance(event, Welcomed) and event.changes == []
    assert session.doc.text == "a"


def test_welcome_with_state_replaces_the_replica_and_keeps_pending_edits_on_top() -> None:
    server = Document(OTHER)
    server.insert(0, "server text")
    session = ClientSession(ME)
    assert session.insert(0, "mine ") is None  # offline: kept, not sent
    session.hello()
    [event] = session.receive(welcome(9, state=server.encode_state()))
    assert isinstance(event, Welcomed)
    assert session.doc.text in ("mine server text", "server textmine ")
    assert event.changes == text_diff("mine ", session.doc.text)
    assert session.since == 9
    assert [m.ref for m in session.resend()] == [1]


# --- outgoing edits -------------------------------------------------------------------------------


def test_edits_while_offline_are_kept_and_resent_in_order_after_welcome() -> None:
    session = ClientSession(ME)
    assert session.insert(0, "ab") is None
    assert session.delete(0, 1) is None
    assert list(session.pending) == [1, 2]
    live(session)
    resent = session.resend()
    assert [m.ref for m in resent] == [1, 2]
    assert resent[0].ops == session.pending[1]


def test_edits_while_live_are_sent_at_once_and_kept_until_acked() -> None:
    session = live()
    frame = session.insert(0, "hello")
    assert isinstance(frame, SubmitOps) and frame.ref == 1
    assert session.pending[1] == frame.ops
    assert session.doc.text == "hello"
    assert session.receive(Ack(1, 5)) == [Acked(1, 5)]
    assert not session.pending and session.since == 5


def test_an_edit_that_changes_nothing_sends_nothing() -> None:
    session = live()
    assert session.delete(0, 0) is None
    assert not session.pending and session.next_ref == 1


def test_a_new_hello_takes_the_session_offline_until_welcome() -> None:
    session = live()
    session.hello()
    assert not session.live
    assert session.insert(0, "x") is None
    assert 1 in session.pending


# --- incoming edits -------------------------------------------------------------------------------


def test_remote_ops_are_applied_in_seq_order() -> None:
    server = Document(OTHER)
    session = live(seq=3)
    ops = server.insert(0, "yo")
    [event] = session.receive(RemoteOps(4, "u2", OTHER, ops))
    assert event == RemoteChange(4, "u2", OTHER, [Change(0, 0, "yo")])
    assert session.since == 4 and session.doc.text == "yo"


def test_remote_ops_already_applied_are_ignored() -> None:
    server = Document(OTHER)
    session = live(seq=3)
    ops = server.insert(0, "yo")
    session.receive(RemoteOps(4, "u2", OTHER, ops))
    assert session.receive(RemoteOps(4, "u2", OTHER, ops)) == []
    assert session.doc.text == "yo"


def test_a_gap_in_seq_asks_for_a_reconnect_and_applies_nothing() -> None:
    server = Document(OTHER)
    session = live(seq=3)
    [event] = session.receive(RemoteOps(6, "u2", OTHER, server.insert(0, "x")))
    assert event == Desynced("expected seq 4, got 6")
    assert session.since == 3 and session.doc.text == ""


# --- presence, cursors, roles ---------------------------------------------------------------------


def test_presence_tracks_peers_by_replica() -> None:
    session = live()
    assert session.receive(Presence("join", BOB)) == [PeerJoined(BOB)]
    assert session.peers == {OTHER: BOB}
    assert session.receive(Presence("leave", BOB)) == [PeerLeft(BOB)]
    assert session.peers == {}


def test_peer_cursors_and_role_changes_are_reported() -> None:
    session = live()
    assert session.receive(PeerCursor(BOB, None, None)) == [CursorMoved(BOB, None, None)]
    assert session.receive(RoleChanged("viewer")) == [RoleUpdated("viewer")]
    assert session.role == "viewer"


def test_cursors_are_anchored_to_the_char_before_each_end() -> None:
    session = live()
    session.insert(0, "abc")
    assert session.cursor(0) == SetCursor(None, None)
    assert session.cursor(1, 3) == SetCursor(f"{ME}:1", f"{ME}:3")
    assert session.cursor(99) == SetCursor(f"{ME}:3", f"{ME}:3")
    assert session.index_of_anchor(None) == 0
    assert session.index_of_anchor(f"{ME}:2") == 2
    assert session.index_of_anchor(f"{OTHER}:7") == 0  # unknown: document start


def test_a_remote_caret_moves_with_concurrent_edits() -> None:
    session = live()
    session.insert(0, "abc")
    anchor = session.cursor(2).anchor
    session.insert(0, "xy")
    assert session.index_of_anchor(anchor) == 4
    session.delete(3, 1)  # delete the anchor char ("b"): the caret stays where it was
    assert session.index_of_anchor(anchor) == 3


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(PERMANENT_ERRORS))
def test_a_permanent_refusal_drops_the_refused_message(code: str) -> None:
    session = live()
    frame = session.insert(0, "x")
    assert frame is not None
    [event] = session.receive(ErrorFrame(code, "no", frame.ref))
    assert event == Refused(code, "no", frame.ref, frame.ops)
    assert not session.pending and not session.resync


@pytest.mark.parametrize("code", ["storage_unavailable", "rate_limited", "internal"])
def test_a_transient_refusal_keeps_everything_and_asks_for_a_resync(code: str) -> None:
    session = live()
    first, second = session.insert(0, "a"), session.insert(1, "b")
    assert first is not None and second is not None
    [event] = session.receive(ErrorFrame(code, "later", first.ref))
    assert event == Refused(code, "later", first.ref, None)
    assert session.resync and list(session.pending) == [1, 2]
    # Later refusals on this connection may be consequences of the first: nothing is dropped.
    [event] = session.receive(ErrorFrame("unknown_id", "parent unknown", second.ref))
    assert isinstance(event, Refused) and event.dropped is None
    assert list(session.pending) == [1, 2]
    # A new connection starts clean and re-sends both, in order.
    assert session.hello() == Hello(ME, session.since, batch=True)
    assert not session.resync
    live(session)
    assert [m.ref for m in session.resend()] == [1, 2]


def test_an_error_without_a_ref_drops_nothing() -> None:
    session = live()
    session.insert(0, "x")
    [event] = session.receive(ErrorFrame("bad_message", "hello was already received"))
    assert event == Refused("bad_message", "hello was already received", None, None)
    assert list(session.pending) == [1]


# --- text_diff ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        ("same", "same", []),
        ("", "abc", [Change(0, 0, "abc")]),
        ("abc", "", [Change(0, 3, "")]),
        ("hello world", "hello brave world", [Change(6, 0, "brave ")]),
        ("aaa", "aa", [Change(2, 1, "")]),
        ("abcdef", "abXYef", [Change(2, 2, "XY")]),
    ],
)
def test_text_diff_keeps_the_common_prefix_and_suffix(
    old: str, new: str, changes: list[Change]
) -> None:
    assert text_diff(old, new) == changes


def test_comment_frames_are_handed_on_and_change_nothing_else() -> None:
    from datetime import UTC, datetime

    from docstream.protocol.messages import CommentInfo, CommentList, CommentsRemoved, ErrorFrame
    from docstream.protocol.session import ClientSession, CommentsChanged

    session = ClientSession("commentx01")
    info = CommentInfo(
        "abcdefgh", "abcdefgh", "u", "U", "hi", datetime.now(UTC), "", "", "", [], False, 1
    )
    for frame in (
        CommentList([info]),
        CommentsRemoved(["abcdefgh"]),
        ErrorFrame("forbidden", "no", None, "abcdefgh"),
    ):
        assert session.receive(frame) == [CommentsChanged(frame)]
    assert session.since == 0 and not session.pending and not session.resync
