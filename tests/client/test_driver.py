"""The Python client's live-document logic, without a socket: frames in, frames and decisions out.

``LiveDriver`` is what ``LiveDocument`` consults for every frame and every closed connection; a
test plays the server by feeding it encoded frames.
"""

from __future__ import annotations

import json

import pytest

from docstream.client.driver import (
    LINK_HEADER,
    RESYNC_PAUSE,
    Backoff,
    LiveDriver,
    Restart,
    handshake_headers,
    reaction_to_close,
)
from docstream.crdt import Document
from docstream.protocol import codec
from docstream.protocol.messages import (
    Ack,
    ErrorFrame,
    Hello,
    RemoteOps,
    SetCursor,
    SubmitOps,
    UserInfo,
    Welcome,
)
from docstream.protocol.session import Acked, ClientSession, Desynced, Refused, Welcomed

ME = "client-replica-1"
OTHER = "other-replica-2"


def frame(message: object) -> str:
    return codec.encode(message).decode()  # type: ignore[arg-type]


def welcome(seq: int = 0) -> str:
    return frame(Welcome("doc", seq, "editor", UserInfo("u1", "Ann", "#E02424"), [], ops=[]))


def sent(text: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(text)
    return decoded


def connected(driver: LiveDriver, seq: int = 0) -> None:
    driver.opening()
    driver.receive(welcome(seq))


def test_a_connection_opens_with_hello_and_the_last_applied_seq() -> None:
    driver = LiveDriver(ClientSession(ME))
    assert sent(driver.opening()) == {"type": "hello", "replica": ME, "since": 0, "batch": True}
    connected(driver, seq=12)
    driver.disconnected()
    assert sent(driver.opening()) == {"type": "hello", "replica": ME, "since": 12, "batch": True}


def test_edits_are_sent_only_while_live() -> None:
    session = ClientSession(ME)
    driver = LiveDriver(session)
    assert driver.outgoing(session.insert(0, "a")) is None
    driver.opening()
    assert driver.outgoing(session.insert(1, "b")) is None  # hello sent, no welcome yet
    connected(driver)
    text = driver.outgoing(session.insert(2, "c"))
    assert text is not None and sent(text)["ref"] == 3
    assert driver.outgoing(None) is None
    cursor = driver.outgoing(SetCursor(None, None))
    assert cursor is not None and sent(cursor)["type"] == "cursor"
    driver.disconnected()
    assert not session.live
    assert driver.outgoing(session.insert(0, "d")) is None


def test_welcome_resends_every_unacknowledged_message_in_order() -> None:
    session = ClientSession(ME)
    driver = LiveDriver(session)
    session.insert(0, "ab")
    session.delete(0, 1)
    driver.opening()
    step = driver.receive(welcome(4))
    assert step.welcomed and step.restart is None
    assert [type(e) for e in step.events] == [Welcomed]
    assert [sent(t)["ref"] for t in step.send] == [1, 2]
    assert step.send[0] == frame(SubmitOps(1, session.pending[1]))


def test_an_ack_is_an_event_and_sends_nothing() -> None:
    session = ClientSession(ME)
    driver = LiveDriver(session)
    connected(driver)
    session.insert(0, "x")
    step = driver.receive(frame(Ack(1, 1)))
    assert step.events == [Acked(1, 1)]
    assert step.send == [] and not step.welcomed and step.restart is None
    assert not session.pending


def test_a_seq_gap_restarts_the_connection_at_once() -> None:
    driver = LiveDriver(ClientSession(ME))
    connected(driver, seq=1)
    ops = Document(OTHER).insert(0, "x")
    step = driver.receive(frame(RemoteOps(5, "u2", OTHER, ops)))
    assert step.events == [Desynced("expected seq 2, got 5")]
    assert step.restart == Restart("desync")
    assert step.restart.code == 4000 and step.restart.pause == 0


@pytest.mark.parametrize("code", ["storage_unavailable", "rate_limited", "internal"])
def test_a_transient_refusal_restarts_after_a_pause_keeping_every_edit(code: str) -> None:
    session = ClientSession(ME)
    driver = LiveDriver(session)
    connected(driver)
    session.insert(0, "a")
    session.insert(1, "b")
    step = driver.receive(frame(ErrorFrame(code, "later", 1)))
    assert step.restart == Restart("resync", pause=RESYNC_PAUSE)
    assert list(session.pending) == [1, 2]
    # The next connection re-sends both, in order, and the restart is over.
    driver.disconnected()
    driver.opening()
    step = driver.receive(welcome())
    assert [sent(t)["ref"] for t in step.send] == [1, 2]
    assert step.restart is None


def test_a_permanent_refusal_drops_the_message_and_keeps_the_connection() -> None:
    session = ClientSession(ME)
    driver = LiveDriver(session)
    connected(driver)
    message = session.insert(0, "a")
    assert message is not None
    step = driver.receive(frame(ErrorFrame("read_only", "viewers cannot edit", 1)))
    assert step.events == [Refused("read_only", "viewers cannot edit", 1, message.ops)]
    assert step.restart is None and not session.pending


@pytest.mark.parametrize(
    ("code", "can_refresh", "reaction"),
    [
        (4401, True, "refresh"),
        (4401, False, "stop"),
        (4400, True, "stop"),
        (4403, True, "stop"),
        (4404, True, "stop"),
        (1000, True, "retry"),
        (1001, True, "retry"),
        (1006, True, "retry"),
        (1009, True, "retry"),
        (1011, True, "retry"),
        (1013, True, "retry"),
        (4000, True, "stop"),  # replaced by a newer connection of this replica
        (4408, True, "retry"),
        (4429, False, "retry"),
    ],
)
def test_which_closes_are_worth_reconnecting_after(
    code: int, can_refresh: bool, reaction: str
) -> None:
    assert reaction_to_close(code, can_refresh=can_refresh) == reaction


@pytest.mark.parametrize("code", [4000, 4400, 4401, 4403, 4404, 1011])
def test_a_connection_the_client_closed_itself_is_reopened(code: int) -> None:
    assert reaction_to_close(code, can_refresh=False, closed_by_us=True) == "retry"


def test_backoff_doubles_up_to_the_maximum_and_resets_on_a_connection() -> None:
    backoff = Backoff(maximum=0.3)
    assert [backoff.next() for _ in range(5)] == [0.05, 0.1, 0.2, 0.3, 0.3]
    backoff.reset()
    assert backoff.next() == 0.05


def test_the_upgrade_carries_the_token_and_the_public_link() -> None:
    assert handshake_headers(None, None) == {}
    assert handshake_headers("", None) == {}
    assert handshake_headers("tok", None) == {"Authorization": "Bearer tok"}
    assert handshake_headers(None, "secret") == {LINK_HEADER: "secret"}
    assert handshake_headers("tok", "secret") == {
        "Authorization": "Bearer tok",
        LINK_HEADER: "secret",
    }


def test_a_hello_resets_a_pending_resync() -> None:
    session = ClientSession(ME)
    driver = LiveDriver(session)
    connected(driver)
    session.insert(0, "a")
    driver.receive(frame(ErrorFrame("internal", "oops", 1)))
    assert session.resync
    assert sent(driver.opening())["type"] == Hello(ME).__struct_config__.tag
    assert not session.resync
