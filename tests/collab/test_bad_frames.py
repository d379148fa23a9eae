"""Bad frames get an error or the documented close code; nobody else is affected."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from testkit.accounts import Users, shared_doc
from testkit.processes import ServerFactory, ServerProcess
from testkit.raw import RawPeer, replica

BAD_TEXT_FRAMES = [
    "",
    "not json",
    '{"type": "ops", "ref": 1, "ops": [',  # truncated
    '{"type": "nope"}',
    '{"ref": 1}',  # no tag
    '{"type": "ops", "ref": "one", "ops": []}',
    '{"type": "ops", "ref": 1, "ops": [{"kind": "ins", "id": 5, "after": null, "text": "x"}]}',
    '{"type": "ops", "ref": 1, "ops": [{"kind": "zap", "id": "abcdefgh:1"}]}',
    '{"type": "cursor", "anchor": 7}',
    "[" * 5000 + "]" * 5000,
    '{"type": "ops", "ref": 1, "ops": ' + "[" * 3000 + "]" * 3000 + "}",
    "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "null",
    "[]",
    '{"type": "ops", "ref": 1, "ops": [{"kind": "del", "id": "abcdefgh:1", "len": -3}]}',
    '{"type": "ops", "ref": 1, "ops": [{"kind": "ins", "id": "bad id:1", "after": null, '
    '"text": "x"}]}',
]


async def test_malformed_frames_get_errors_and_the_connection_stays_open(
    users: Users, server: ServerProcess
) -> None:
    ann, bob, doc_id = await shared_doc(users)
    async with bob.open(doc_id) as watcher:
        peer = await RawPeer.open(server.url, doc_id, ann.access_token)
        rid = replica()
        await peer.hello(rid)
        for frame in BAD_TEXT_FRAMES:
            await peer.send(frame)
            error = await peer.recv_type("error")
            assert error["code"] in ("bad_message", "unknown_id"), (frame[:60], error)
        await peer.send(b"\x00\xff binary garbage \x89PNG")
        assert (await peer.recv_type("error"))["code"] == "bad_message"
        await peer.send({"type": "hello", "replica": rid, "since": 0})
        assert (await peer.recv_type("error"))["code"] == "bad_message"  # hello twice
        # Still alive and useful after all of that:
        await peer.send(
            {
                "type": "ops",
                "ref": 9,
                "ops": [{"kind": "ins", "id": f"{rid}:1", "after": None, "text": "ok"}],
            }
        )
        assert (await peer.recv_type("ack"))["ref"] == 9
        await watcher.wait_for(lambda d: d.text == "ok")
        await peer.close()


async def test_ops_naming_unknown_ids_are_refused_without_a_trace(
    users: Users, server: ServerProcess
) -> None:
    ann, _, doc_id = await shared_doc(users)
    other = await ann.create_document("Another document")
    async with ann.open(other["id"]) as elsewhere:
        elsewhere.insert(0, "elsewhere")
        await elsewhere.synced()
        foreign_id = str(elsewhere.session.doc.id_at(0))
    peer = await RawPeer.open(server.url, doc_id, ann.access_token)
    rid = replica()
    await peer.hello(rid)
    cases = [
        [{"kind": "ins", "id": f"{rid}:5", "after": foreign_id, "text": "x"}],  # other doc's id
        [{"kind": "del", "id": foreign_id, "len": 1}],
        # a good op followed by a bad one: the message is refused as a whole
        [
            {"kind": "ins", "id": f"{rid}:10", "after": None, "text": "half"},
            {"kind": "del", "id": "ghostghost:3", "len": 1},
        ],
    ]
    for ref, ops in enumerate(cases, start=1):
        await peer.send({"type": "ops", "ref": ref, "ops": ops})
        error = await peer.recv_type("error")
        assert error["code"] == "unknown_id" and error["ref"] == ref
    # The refused half-message left nothing behind: its ids can be used afresh.
    await peer.send(
        {
            "type": "ops",
            "ref": 7,
            "ops": [{"kind": "ins", "id": f"{rid}:10", "after": None, "text": "clean"}],
        }
    )
    assert (await peer.recv_type("ack"))["ref"] == 7
    await peer.close()
    assert (await ann.get_document(doc_id))["text"] == "clean"


async def test_limits_give_too_large(users: Users, server: ServerProcess) -> None:
    ann, _, doc_id = await shared_doc(users)
    peer = await RawPeer.open(server.url, doc_id, ann.access_token)
    rid = replica()
    await peer.hello(rid)
    long_insert = {"kind": "ins", "id": f"{rid}:1", "after": None, "text": "x" * 65_537}
    await peer.send({"type": "ops", "ref": 1, "ops": [long_insert]})
    assert (await peer.recv_type("error")) == {
        "type": "error",
        "code": "too_large",
        "ref": 1,
        "message": "an insert of 65537 characters exceeds 65536",
    }
    many = [{"kind": "del", "id": f"{rid}:1", "len": 1}] * 10_001
    await peer.send({"type": "ops", "ref": 2, "ops": many})
    assert (await peer.recv_type("error"))["code"] == "too_large"
    huge = json.dumps(
        {
            "type": "ops",
            "ref": 3,
            "ops": [
                {"kind": "ins", "id": f"{rid}:1", "after": None, "text": "y" * (11 * 1024 * 1024)}
            ],
        }
    )
    with contextlib.suppress(OSError, ConnectionClosed):  # the server may close mid-write
        await peer.send(huge)
    code, _ = await peer.closed()
    assert code == 1009
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{server.url}/health")).json()["status"] == "ok"


@pytest.fixture(scope="module")
def strict_server(start_server: ServerFactory):
    env = {"DOCSTREAM_WS_MESSAGES_PER_SECOND": "5", "DOCSTREAM_WS_MESSAGE_BURST": "10"}
    with start_server(env=env) as proc:
        yield proc


async def test_a_flood_is_rate_limited_then_closed(strict_server: ServerProcess) -> None:
    made = Users(strict_server.url)
    try:
        ann, bob, doc_id = await shared_doc(made)
        async with bob.open(doc_id) as bystander:
            peer = await RawPeer.open(strict_server.url, doc_id, ann.access_token)
            await peer.hello(replica())
            with contextlib.suppress(ConnectionClosed):  # closed by the server mid-flood
                for _ in range(200):
                    await peer.send({"type": "cursor", "anchor": None, "head": None})
            errors = 0
            code = None
            try:
                while True:
                    frame = await peer.recv(timeout=5)
                    if frame["type"] == "error":
                        assert frame["code"] == "rate_limited"
                        errors += 1
            except Exception:
                code, _ = await peer.closed()
            assert errors >= 1 and code == 4429
            bystander.insert(0, "unaffected")
            await bystander.synced()
    finally:
        await made.close()


async def test_an_id_far_beyond_the_clock_is_refused(users: Users, server: ServerProcess) -> None:
    """One op with a counter near 2**53 would exhaust every replica's Lamport clock."""
    ann, _, doc_id = await shared_doc(users)
    peer = await RawPeer.open(server.url, doc_id, ann.access_token)
    rid = replica()
    await peer.hello(rid)
    await peer.send(
        {
            "type": "ops",
            "ref": 1,
            "ops": [{"kind": "ins", "id": f"{rid}:{2**52}", "after": None, "text": "x"}],
        }
    )
    error = await peer.recv_type("error")
    assert error["code"] == "bad_message" and error["ref"] == 1
    await peer.send(
        {
            "type": "ops",
            "ref": 2,
            "ops": [{"kind": "ins", "id": f"{rid}:1000", "after": None, "text": "fine"}],
        }
    )
    assert (await peer.recv_type("ack"))["ref"] == 2
    await peer.close()
