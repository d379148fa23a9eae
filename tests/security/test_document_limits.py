"""One document cannot stall a server or exhaust its ids: caps and the Lamport leap bound.

Each attack runs over a real WebSocket against a real ``docstream serve`` (both backends) whose
caps are set low, so that reaching them takes a few frames: the edit beyond a cap is refused with
``too_large`` and its ``ref``, the document keeps its text, and deletes stay possible.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from docstream.client import DocStreamClient
from docstream.settings import MAX_COUNTER_JUMP
from testkit.accounts import Users
from testkit.processes import ServerFactory, ServerProcess
from testkit.raw import RawPeer

CAPS = {
    "DOCSTREAM_MAX_DOCUMENT_CHARS": "50",
    "DOCSTREAM_MAX_DOCUMENT_RUNS": "100",
    "DOCSTREAM_MAX_DOCUMENT_LOG_ENTRIES": "30",
}


@pytest.fixture(scope="module")
def capped(start_server: ServerFactory) -> Iterator[ServerProcess]:
    with start_server(env=CAPS) as proc:
        yield proc


async def editor(server: ServerProcess) -> tuple[DocStreamClient, RawPeer, str, str]:
    users = Users(server.url)
    ann = await users.new("ann")
    doc = await ann.create_document("Capped")
    peer = await RawPeer.open(server.url, doc["id"], ann.access_token)
    replica = secrets.token_urlsafe(9)
    await peer.hello(replica)
    return ann, peer, doc["id"], replica


def ins(replica: str, counter: int, text: str, after: str | None = None) -> dict[str, object]:
    return {"kind": "ins", "id": f"{replica}:{counter}", "after": after, "text": text}


async def send(peer: RawPeer, ref: int, *ops: dict[str, object]) -> dict[str, object]:
    """Send one ops message; its answer (``ack`` or ``error``)."""
    await peer.send({"type": "ops", "ref": ref, "ops": list(ops)})
    while True:
        frame = await peer.recv()
        if frame["type"] in ("ack", "error") and frame.get("ref") == ref:
            return frame


async def test_text_beyond_the_character_cap_is_refused_and_deletes_still_work(
    capped: ServerProcess,
) -> None:
    ann, peer, doc_id, r = await editor(capped)
    assert (await send(peer, 1, ins(r, 1, "x" * 45)))["type"] == "ack"
    refused = await send(peer, 2, ins(r, 46, "y" * 10, f"{r}:45"))
    assert refused["type"] == "error" and refused["code"] == "too_large"
    assert "50 characters" in str(refused["message"])
    assert (await ann.get_document(doc_id))["text"] == "x" * 45
    deleted = await send(peer, 3, {"kind": "del", "id": f"{r}:1", "len": 40})
    assert deleted["type"] == "ack"
    assert (await send(peer, 4, ins(r, 46, "y" * 10, f"{r}:45")))["type"] == "ack"
    assert (await ann.get_document(doc_id))["text"] == "xxxxx" + "y" * 10
    await peer.close()
    await ann.aclose()


async def test_pieces_of_deleted_text_count_against_the_runs_cap(capped: ServerProcess) -> None:
    ann, peer, doc_id, r = await editor(capped)
    assert (await send(peer, 1, ins(r, 1, "ab" * 24)))["type"] == "ack"
    # Deleting every other character cuts the text into 48 runs, 24 of them tombstones; the
    # next insert at the far end from another parent makes the rest.
    holes = [{"kind": "del", "id": f"{r}:{c}", "len": 1} for c in range(2, 49, 2)]
    assert (await send(peer, 2, *holes))["type"] == "ack"  # 48 runs, 24 of them tombstones
    counter, ref, refused = 49, 3, None
    for _ in range(5):
        # A "z" after each surviving "a", then deleted again: 24 more runs each round.
        zs = [ins(r, counter + k, "z", f"{r}:{2 * k + 1}") for k in range(24)]
        frame = await send(peer, ref, *zs)
        if frame["type"] == "error":
            refused = frame
            break
        assert (await send(peer, ref + 1, {"kind": "del", "id": f"{r}:{counter}", "len": 24}))[
            "type"
        ] == "ack"
        counter, ref = counter + 24, ref + 2
    assert refused is not None and refused["code"] == "too_large", "never refused"
    assert "limit" in str(refused["message"])
    text = (await ann.get_document(doc_id))["text"]
    assert text == "a" * 24
    await peer.close()
    await ann.aclose()


async def test_edits_beyond_the_log_cap_are_refused(capped: ServerProcess) -> None:
    ann, peer, doc_id, r = await editor(capped)
    answers = [
        await send(peer, i, ins(r, i, "k", f"{r}:{i - 1}" if i > 1 else None)) for i in range(1, 32)
    ]
    assert [a["type"] for a in answers[:30]] == ["ack"] * 30
    assert answers[30]["type"] == "error" and answers[30]["code"] == "too_large"
    doc = await ann.get_document(doc_id)
    assert (doc["text"], doc["seq"]) == ("k" * 30, 30)
    await peer.close()
    await ann.aclose()


async def test_a_lamport_leap_is_refused_and_leaves_the_id_space_alone(
    users: Users, server: ServerProcess
) -> None:
    ann = await users.new("ann")
    doc_id = (await ann.create_document("Leap"))["id"]
    peer = await RawPeer.open(server.url, doc_id, ann.access_token)
    r = secrets.token_urlsafe(9)
    await peer.hello(r)
    assert (await send(peer, 1, ins(r, 1, "ok")))["type"] == "ack"
    leap = await send(peer, 2, ins(r, 2 + MAX_COUNTER_JUMP + 1, "far", f"{r}:2"))
    assert leap["type"] == "error" and leap["code"] == "bad_message"
    assert "too far ahead" in str(leap["message"])
    near = await send(peer, 3, ins(r, 2 + MAX_COUNTER_JUMP, "!", f"{r}:2"))
    assert near["type"] == "ack"  # a client somewhat ahead (refused pastes) still types
    assert (await ann.get_document(doc_id))["text"] == "ok!"
    await peer.close()
