"""The server side of the handshake and the per-connection rules, without a socket or a clock.

Each test feeds frames (as the text or bytes a socket would deliver) and the time to a
``ServerSession`` and reads back the actions the WebSocket route would perform.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from docstream.errors import (
    DocStreamError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    StorageError,
    UnauthorizedError,
)
from docstream.protocol.messages import (
    AddComment,
    DeleteComment,
    ErrorFrame,
    Hello,
    ResolveComment,
    SetCursor,
    SubmitOps,
)
from docstream.protocol.server import (
    COMMENT_BURST,
    COMMENTS_PER_SECOND,
    MAX_SEQ,
    Action,
    Close,
    Comment,
    Join,
    MoveCursor,
    Reply,
    ServerSession,
    SocketLimits,
    State,
    Submit,
    frame_size,
)
from docstream.settings import Settings

REPLICA = "replica-0001"
LIMITS = SocketLimits(
    hello_timeout=10.0,
    max_frame_bytes=1000,
    messages_per_second=10.0,
    message_burst=5,
    bytes_per_second=100_000.0,
    byte_burst=100_000,
    max_strikes=4,
)


def hello(replica: str = REPLICA, since: int = 0) -> str:
    return json.dumps({"type": "hello", "replica": replica, "since": since})


def ops(ref: int) -> str:
    op = {"kind": "ins", "id": f"{REPLICA}:{ref}", "after": None, "text": "x"}
    return json.dumps({"type": "ops", "ref": ref, "ops": [op]})


CURSOR = json.dumps({"type": "cursor", "anchor": None, "head": None})


def roomy(**changes: float) -> SocketLimits:
    """LIMITS with a budget large enough never to refuse (unless changed)."""
    values = {
        "hello_timeout": 10.0,
        "max_frame_bytes": 1000,
        "messages_per_second": 1000.0,
        "message_burst": 1000,
        "bytes_per_second": 1e9,
        "byte_burst": 10**9,
        "max_strikes": 4,
    } | changes
    return SocketLimits(**values)  # type: ignore[arg-type]


def live_session(limits: SocketLimits | None = None) -> ServerSession:
    session = ServerSession(limits or roomy(), now=0.0)
    assert session.receive(hello(), 0.0) == [Join(Hello(REPLICA, 0))]
    return session


def state_of(session: ServerSession) -> State:
    """The state, read afresh (so a type checker does not keep an earlier narrowing)."""
    return session.state


def only_error(actions: list[Action]) -> ErrorFrame:
    assert len(actions) == 1 and isinstance(actions[0], Reply), actions
    return actions[0].frame


# --- the handshake --------------------------------------------------------------------------------


def test_a_valid_hello_joins_the_room_and_the_connection_is_live() -> None:
    session = ServerSession(roomy(), now=100.0)
    assert session.state == "awaiting_hello"
    assert session.deadline == 110.0
    actions = session.receive(hello(since=7), 101.0)
    assert actions == [Join(Hello(REPLICA, 7))]
    assert state_of(session) == "live"
    assert session.deadline is None
    assert session.hello == Hello(REPLICA, 7)


@pytest.mark.parametrize("frame", [ops(1), CURSOR])
def test_the_first_frame_must_be_hello_and_the_connection_stays_open(frame: str) -> None:
    session = ServerSession(roomy(), now=0.0)
    error = only_error(session.receive(frame, 1.0))
    assert (error.code, error.message, error.ref) == (
        "bad_message",
        "the first frame must be hello",
        None,
    )
    assert session.state == "awaiting_hello"
    assert session.receive(hello(), 2.0) == [Join(Hello(REPLICA, 0))]


@pytest.mark.parametrize("replica", ["short", "x" * 65, "has spaces!", "é" * 10])
def test_a_hello_with_an_invalid_replica_gets_an_error_and_closes_4400(replica: str) -> None:
    session = ServerSession(roomy(), now=0.0)
    actions = session.receive(hello(replica=replica), 1.0)
    assert len(actions) == 2
    assert isinstance(actions[0], Reply) and actions[0].frame.code == "bad_message"
    assert "invalid replica id" in actions[0].frame.message
    assert actions[1] == Close(4400, "invalid hello")
    assert session.state == "closing"


@pytest.mark.parametrize("since", [-1, MAX_SEQ + 1, 2**63])
def test_a_hello_with_since_out_of_range_closes_4400(since: int) -> None:
    session = ServerSession(roomy(), now=0.0)
    actions = session.receive(hello(since=since), 1.0)
    assert isinstance(actions[0], Reply)
    assert actions[0].frame == ErrorFrame("bad_message", f"since must be between 0 and {MAX_SEQ}")
    assert actions[1] == Close(4400, "invalid hello")


def test_the_largest_since_is_accepted() -> None:
    session = ServerSession(roomy(), now=0.0)
    assert session.receive(hello(since=MAX_SEQ), 1.0) == [Join(Hello(REPLICA, MAX_SEQ))]


def test_a_hello_of_the_wrong_shape_is_a_bad_message_not_a_close() -> None:
    session = ServerSession(roomy(), now=0.0)
    frame = json.dumps({"type": "hello", "replica": 12345678})
    assert only_error(session.receive(frame, 1.0)).code == "bad_message"
    assert session.state == "awaiting_hello"


# --- the hello timeout ----------------------------------------------------------------------------


def test_no_hello_by_the_deadline_closes_4408() -> None:
    session = ServerSession(roomy(hello_timeout=2.0), now=50.0)
    assert session.deadline == 52.0
    assert session.expire(51.999) == []
    assert session.state == "awaiting_hello"
    assert session.expire(52.0) == [Close(4408, "no hello within the time limit")]
    assert state_of(session) == "closing"
    assert session.deadline is None


def test_frames_other_than_hello_do_not_move_the_deadline() -> None:
    session = ServerSession(roomy(hello_timeout=2.0), now=0.0)
    for t in (0.5, 1.0, 1.5):
        only_error(session.receive(CURSOR, t))
    assert session.deadline == 2.0
    actions = session.receive(CURSOR, 2.5)
    assert isinstance(actions[0], Reply)
    assert actions[1] == Close(4408, "no hello within the time limit")


def test_the_deadline_does_not_apply_once_live() -> None:
    session = live_session(roomy(hello_timeout=1.0))
    assert session.expire(1000.0) == []
    assert session.receive(CURSOR, 1000.0) == [MoveCursor(SetCursor(None, None))]


def test_a_closing_session_ignores_frames_and_the_clock() -> None:
    session = ServerSession(roomy(hello_timeout=1.0), now=0.0)
    session.expire(5.0)
    assert session.receive(hello(), 5.0) == []
    assert session.expire(10.0) == []


# --- once live ------------------------------------------------------------------------------------


def test_ops_are_submitted_and_cursors_moved_once_live() -> None:
    session = live_session()
    [submit] = session.receive(ops(3), 1.0)
    assert isinstance(submit, Submit)
    assert isinstance(submit.frame, SubmitOps) and submit.frame.ref == 3
    assert len(submit.frame.ops) == 1
    cursor = json.dumps({"type": "cursor", "anchor": f"{REPLICA}:1", "head": None})
    assert session.receive(cursor, 1.0) == [MoveCursor(SetCursor(f"{REPLICA}:1", None))]


def test_a_second_hello_gets_an_error_and_the_connection_stays_live() -> None:
    session = live_session()
    error = only_error(session.receive(hello(), 1.0))
    assert (error.code, error.message) == ("bad_message", "hello was already received")
    assert session.state == "live"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '"a string"',
        '{"type": "nope"}',
        '{"type": "ops", "ref": "one", "ops": []}',
        "[" * 5000 + "]" * 5000,
        '{"type": "cursor", "x": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
)
def test_malformed_frames_get_bad_message_and_the_connection_stays_open(text: str) -> None:
    session = live_session(roomy(max_frame_bytes=20_000))
    error = only_error(session.receive(text, 1.0))
    assert error.code == "bad_message" and error.ref is None
    assert session.state == "live"


@pytest.mark.parametrize("live", [False, True])
def test_a_binary_frame_gets_bad_message(live: bool) -> None:
    session = live_session() if live else ServerSession(roomy(), now=0.0)
    error = only_error(session.receive(b'{"type": "hello"}', 1.0))
    assert error == ErrorFrame("bad_message", "frames must be JSON text, not binary")


# --- frame size -----------------------------------------------------------------------------------


@pytest.mark.parametrize("live", [False, True])
def test_a_frame_above_the_limit_closes_1009_after_discarding(live: bool) -> None:
    session = live_session() if live else ServerSession(roomy(), now=0.0)
    actions = session.receive("x" * 1001, 1.0)
    assert actions == [
        Close(1009, "frame of 1001 bytes exceeds the limit of 1000", discard_first=True)
    ]
    assert session.state == "closing"


@pytest.mark.parametrize("char", ["é", "€", "😀"])
def test_the_limit_counts_utf8_bytes_not_characters(char: str) -> None:
    """A frame of fewer characters than the limit but more bytes once encoded is too large
    (counting characters let through up to four times the limit)."""
    session = live_session()
    text = ops(1)
    body = char * ((1000 - len(text)) // len(char.encode()) + 1)
    text = text[:-1] + " " + json.dumps(body, ensure_ascii=False) + "}"
    assert len(text) <= 1000 < len(text.encode())
    [close] = session.receive(text, 1.0)
    assert close == Close(
        1009, f"frame of {len(text.encode())} bytes exceeds the limit of 1000", discard_first=True
    )


def test_a_frame_of_exactly_the_limit_is_read() -> None:
    session = live_session()
    text = ops(1)
    text = text[:-1] + " " * (1000 - len(text)) + "}"
    assert len(text) == 1000
    assert isinstance(session.receive(text, 1.0)[0], Submit)


def test_the_size_limit_is_checked_before_the_budget() -> None:
    session = ServerSession(roomy(byte_burst=10, bytes_per_second=0.0), now=0.0)
    [close] = session.receive("x" * 1001, 1.0)
    assert isinstance(close, Close) and close.code == 1009
    assert session.budget.strikes == 0


def test_frame_size_counts_text_in_memory_and_bytes_as_they_are() -> None:
    assert frame_size(b"abc") == 3
    assert frame_size(None) == 0
    assert frame_size("a" * 100) > 100


# --- flood control --------------------------------------------------------------------------------


def test_frames_beyond_the_message_burst_get_rate_limited_with_their_ref() -> None:
    session = live_session(LIMITS)  # the hello spent one of the 5
    for ref in range(1, 5):
        assert isinstance(session.receive(ops(ref), 0.0)[0], Submit)
    error = only_error(session.receive(ops(5), 0.0))
    assert error == ErrorFrame("rate_limited", "too many messages; slow down", 5)
    assert only_error(session.receive(CURSOR, 0.0)).ref is None
    assert session.state == "live"


def test_frames_before_hello_and_undecodable_frames_spend_the_budget_too() -> None:
    session = ServerSession(LIMITS, now=0.0)
    for _ in range(3):
        only_error(session.receive("garbage", 0.0))
    only_error(session.receive(b"binary", 0.0))
    assert session.receive(hello(), 0.0) == [Join(Hello(REPLICA, 0))]
    assert only_error(session.receive(CURSOR, 0.0)).code == "rate_limited"


def test_persistent_flooding_closes_4429_after_discarding() -> None:
    session = live_session(LIMITS)
    for ref in range(1, 5):
        session.receive(ops(ref), 0.0)
    for strike in range(1, LIMITS.max_strikes):
        assert only_error(session.receive(ops(10 + strike), 0.0)).code == "rate_limited"
        assert session.budget.strikes == strike
    assert session.receive(ops(99), 0.0) == [Close(4429, "rate limited", discard_first=True)]
    assert session.state == "closing"


def test_the_budget_refills_with_time_and_an_accepted_frame_forgives_a_strike() -> None:
    session = live_session(LIMITS)
    for ref in range(1, 5):
        session.receive(ops(ref), 0.0)
    only_error(session.receive(ops(5), 0.0))
    only_error(session.receive(ops(5), 0.0))
    assert session.budget.strikes == 2
    # 10 messages per second: 0.1 s later there is room for exactly one more.
    assert isinstance(session.receive(ops(5), 0.1)[0], Submit)
    assert session.budget.strikes == 1
    assert only_error(session.receive(ops(6), 0.1)).code == "rate_limited"


def test_the_byte_budget_refuses_big_frames_and_gives_back_nothing_spent() -> None:
    text = ops(1)
    size = frame_size(text)
    limits = roomy(byte_burst=size * 2, bytes_per_second=float(size), messages_per_second=1.0)
    session = ServerSession(limits, now=0.0)
    # The hello is small; after it, one ops frame fits and the next does not.
    session.receive(hello(), 0.0)
    assert isinstance(session.receive(text, 0.0)[0], Submit)
    assert only_error(session.receive(text, 0.0)) == ErrorFrame(
        "rate_limited", "too many messages; slow down", 1
    )
    assert isinstance(session.receive(text, 1.0)[0], Submit)


# --- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UnauthorizedError("signed out"), 4401),
        (ForbiddenError("revoked"), 4403),
        (NotFoundError("no such document"), 4404),
        (RateLimitedError("slow down"), 4429),
        (StorageError("database down"), 1011),
        (DocStreamError("whatever"), 1011),
    ],
)
def test_a_failure_closes_with_the_code_of_the_error_table(
    error: DocStreamError, code: int
) -> None:
    session = live_session()
    assert session.fail(error) == Close(code, error.detail)
    assert session.state == "closing"
    assert session.receive(CURSOR, 1.0) == []


def test_a_crash_closes_1011() -> None:
    session = ServerSession(roomy(), now=0.0)
    assert session.crash() == Close(1011, "server error")
    assert session.expire(100.0) == []


def test_limits_come_from_the_settings() -> None:
    settings = Settings()
    limits = SocketLimits.from_settings(settings)
    assert limits.hello_timeout == settings.hello_timeout == 10.0
    assert limits.max_frame_bytes == settings.max_frame_bytes
    assert limits.messages_per_second == settings.ws_messages_per_second
    assert limits.byte_burst == settings.ws_byte_burst
    assert limits.max_strikes == 20


# --- comment frames --------------------------------------------------------------------------


def comment_add(cid: str, body: str = "note") -> str:
    return json.dumps(
        {"type": "comment_add", "id": cid, "body": body, "start": "r:1", "end": "r:2"}
    )


def test_comment_frames_go_to_the_comments_service_once_live() -> None:
    session = ServerSession(LIMITS, 0.0)
    early = session.receive(comment_add("abcdefgh"), 0.0)
    assert [type(a) for a in early] == [Reply]  # the first frame must be hello
    session.receive(hello(), 0.0)
    actions = session.receive(comment_add("abcdefgh"), 0.1)
    assert actions == [Comment(AddComment("abcdefgh", "note", "r:1", "r:2"))]
    deleted = session.receive(json.dumps({"type": "comment_delete", "id": "abcdefgh"}), 0.2)
    assert deleted == [Comment(DeleteComment("abcdefgh"))]
    resolved = session.receive(json.dumps({"type": "comment_resolve", "id": "abcdefgh"}), 0.3)
    assert resolved == [Comment(ResolveComment("abcdefgh", True))]


@pytest.mark.parametrize(
    "frame",
    [
        comment_add("short"),  # ids are 8..64 of [A-Za-z0-9_-]
        comment_add("abc/../defgh"),
        comment_add("abcdefgh", ""),
        comment_add("abcdefgh", "x" * 10_001),
        json.dumps({"type": "comment_add", "id": "abcdefgh", "body": "x", "start": "r:1"}),
        json.dumps(
            {
                "type": "comment_reply",
                "id": "abcdefgh",
                "thread": "abcdefgi",
                "body": "x",
                "mentions": ["u"] * 21,
            }
        ),
        json.dumps({"type": "comment_resolve", "id": "abcdefgh", "resolved": "yes"}),
    ],
)
def test_malformed_comment_frames_are_bad_messages(frame: str) -> None:
    limits = dataclasses.replace(LIMITS, max_frame_bytes=100_000)
    session = ServerSession(limits, 0.0)
    session.receive(hello(), 0.0)
    (reply,) = session.receive(frame, 0.1)
    assert isinstance(reply, Reply) and reply.error.code == "bad_message"
    assert session.state == "live"


def test_a_flood_of_comments_is_refused_by_id_then_allowed_again() -> None:
    roomy = dataclasses.replace(LIMITS, messages_per_second=1e6, message_burst=10**6)
    session = ServerSession(roomy, 0.0)
    session.receive(hello(), 0.0)
    accepted = [session.receive(comment_add(f"comment{i:04d}"), 0.0) for i in range(COMMENT_BURST)]
    assert all(isinstance(a[0], Comment) for a in accepted)
    (refused,) = session.receive(comment_add("comment-over"), 0.0)
    assert isinstance(refused, Reply) and isinstance(refused.error, RateLimitedError)
    assert refused.frame == ErrorFrame("rate_limited", refused.error.detail, None, "comment-over")
    later = session.receive(comment_add("comment-over"), 1.0 / COMMENTS_PER_SECOND + 0.01)
    assert isinstance(later[0], Comment)
    assert session.state == "live"
