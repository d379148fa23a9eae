"""Comments over the WebSocket, on both backends: threads, replies, edits, deletes, resolving,
who may do what (viewers read, commenters write comments but not text, nobody touches someone
else's comment), re-sent frames, mentions, and the REST list."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from docstream.client import DocStreamClient
from docstream.client.errors import ApiError
from docstream.protocol.server import COMMENT_BURST
from testkit.accounts import Users
from testkit.processes import ServerProcess
from testkit.raw import RawPeer, replica


def cid() -> str:
    return "c" + secrets.token_hex(6)


async def _doc_with_text(owner: DocStreamClient, text: str) -> tuple[str, str]:
    """A document holding ``text`` typed by one replica; (doc id, that replica)."""
    doc = await owner.create_document("Comments")
    return doc["id"], await _type(owner, doc["id"], text)


async def _type(client: DocStreamClient, doc_id: str, text: str) -> str:
    rid = replica()
    peer = await RawPeer.open(_url(client), doc_id, client.access_token)
    await peer.hello(rid)
    await peer.send(
        {
            "type": "ops",
            "ref": 1,
            "ops": [{"kind": "ins", "id": f"{rid}:1", "after": None, "text": text}],
        }
    )
    assert (await peer.recv_type("ack"))["ref"] == 1
    await peer.close()
    return rid


def _url(client: DocStreamClient) -> str:
    return str(client.base_url)


async def _open(server: ServerProcess, doc_id: str, token: str) -> RawPeer:
    peer = await RawPeer.open(server.url, doc_id, token)
    await peer.hello(replica())
    await peer.recv_type("comments")
    return peer


def _add(
    comment_id: str, rid: str, first: int, last: int, body: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "comment_add",
        "id": comment_id,
        "body": body,
        "start": f"{rid}:{first}",
        "end": f"{rid}:{last}",
        "quote": "",
        **extra,
    }


async def test_a_thread_lives_reply_edit_resolve_delete_reach_every_socket(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    bob = await users.new("bob")
    doc_id, rid = await _doc_with_text(owner, "hello brave new world")
    await owner.share(doc_id, bob.user["email"], "editor")  # type: ignore[index]
    alice_ws = await _open(server, doc_id, owner.access_token)
    bob_ws = await _open(server, doc_id, bob.access_token)

    thread = cid()
    await alice_ws.send(_add(thread, rid, 7, 11, "Too brave?", quote="brave"))
    for ws in (alice_ws, bob_ws):
        got = (await ws.recv_type("comment"))["comment"]
        assert got["id"] == got["thread"] == thread
        assert (got["body"], got["anchor_start"], got["anchor_end"]) == (
            "Too brave?",
            f"{rid}:7",
            f"{rid}:11",
        )
        assert got["author_id"] == owner.user["id"]  # type: ignore[index]
        assert got["author_name"] == owner.user["name"]  # type: ignore[index]

    reply = cid()
    await bob_ws.send({"type": "comment_reply", "id": reply, "thread": thread, "body": "No."})
    for ws in (alice_ws, bob_ws):
        got = (await ws.recv_type("comment"))["comment"]
        assert (got["id"], got["thread"], got["body"]) == (reply, thread, "No.")

    await bob_ws.send({"type": "comment_edit", "id": reply, "body": "No, it's fine."})
    for ws in (alice_ws, bob_ws):
        got = (await ws.recv_type("comment"))["comment"]
        assert got["body"] == "No, it's fine." and got["version"] == 2 and got["edited_at"]

    await bob_ws.send({"type": "comment_resolve", "id": thread, "resolved": True})
    for ws in (alice_ws, bob_ws):
        got = (await ws.recv_type("comment"))["comment"]
        assert got["id"] == thread and got["resolved"] is True
    await alice_ws.send({"type": "comment_resolve", "id": thread, "resolved": False})
    assert (await bob_ws.recv_type("comment"))["comment"]["resolved"] is False

    listed = await owner.request("GET", f"/documents/{doc_id}/comments")
    assert [c["id"] for c in listed] == [thread, reply]

    # A late joiner gets the whole list right after its welcome.
    late = await RawPeer.open(server.url, doc_id, bob.access_token)
    await late.hello(replica())
    assert [c["id"] for c in (await late.recv_type("comments"))["comments"]] == [thread, reply]

    await alice_ws.send({"type": "comment_delete", "id": thread})
    for ws in (alice_ws, bob_ws, late):
        assert sorted((await ws.recv_type("comment_removed"))["ids"]) == sorted([thread, reply])
    assert await owner.request("GET", f"/documents/{doc_id}/comments") == []
    for ws in (alice_ws, bob_ws, late):
        await ws.close()


async def test_a_viewer_reads_comments_but_cannot_write_them(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    viewer = await users.new("viewer")
    doc_id, rid = await _doc_with_text(owner, "read only")
    await owner.share(doc_id, viewer.user["email"], "viewer")  # type: ignore[index]
    owner_ws = await _open(server, doc_id, owner.access_token)
    viewer_ws = await _open(server, doc_id, viewer.access_token)
    refused = cid()
    await viewer_ws.send(_add(refused, rid, 1, 4, "let me in"))
    error = await viewer_ws.recv_type("error")
    assert error["code"] == "forbidden" and error["comment"] == refused
    thread = cid()
    await owner_ws.send(_add(thread, rid, 1, 4, "owner's note"))
    assert (await viewer_ws.recv_type("comment"))["comment"]["id"] == thread
    for frame in (
        {"type": "comment_reply", "id": cid(), "thread": thread, "body": "x"},
        {"type": "comment_resolve", "id": thread},
        {"type": "comment_delete", "id": thread},
    ):
        await viewer_ws.send(frame)
        assert (await viewer_ws.recv_type("error"))["code"] == "forbidden"
    listed = await viewer.request("GET", f"/documents/{doc_id}/comments")
    assert [c["id"] for c in listed] == [thread]
    await owner_ws.close()
    await viewer_ws.close()


async def test_a_commenter_comments_but_cannot_edit_the_text(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    carol = await users.new("carol")
    doc_id, rid = await _doc_with_text(owner, "comment on me")
    await owner.share(doc_id, carol.user["email"], "commenter")  # type: ignore[index]
    rid_c = replica()
    peer = await RawPeer.open(server.url, doc_id, carol.access_token)
    assert (await peer.hello(rid_c))["role"] == "commenter"
    await peer.send(
        {
            "type": "ops",
            "ref": 7,
            "ops": [{"kind": "ins", "id": f"{rid_c}:1", "after": None, "text": "sneaky"}],
        }
    )
    error = await peer.recv_type("error")
    assert (error["code"], error["ref"]) == ("read_only", 7)
    thread = cid()
    await peer.send(_add(thread, rid, 9, 10, "me?"))
    got = (await peer.recv_type("comment"))["comment"]
    assert got["id"] == thread and got["author_id"] == carol.user["id"]  # type: ignore[index]
    text = (await owner.request("GET", f"/documents/{doc_id}"))["text"]
    assert text == "comment on me"
    # Demoted to viewer while connected: writing comments stops at once.
    await owner.share(doc_id, carol.user["email"], "viewer")  # type: ignore[index]
    assert (await peer.recv_type("role", timeout=2.0))["role"] == "viewer"
    await peer.send(_add(cid(), rid, 1, 2, "still?"))
    assert (await peer.recv_type("error"))["code"] == "forbidden"
    await peer.close()


async def test_nobody_edits_or_deletes_someone_elses_comment(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    bob = await users.new("bob")
    doc_id, rid = await _doc_with_text(owner, "mine not yours")
    await owner.share(doc_id, bob.user["email"], "editor")  # type: ignore[index]
    owner_ws = await _open(server, doc_id, owner.access_token)
    bob_ws = await _open(server, doc_id, bob.access_token)
    thread = cid()
    await bob_ws.send(_add(thread, rid, 1, 4, "bob's words"))
    await owner_ws.recv_type("comment")
    await owner_ws.send({"type": "comment_edit", "id": thread, "body": "owner's words"})
    assert (await owner_ws.recv_type("error"))["code"] == "forbidden"
    await owner_ws.send({"type": "comment_delete", "id": thread})
    assert (await owner_ws.recv_type("error"))["code"] == "forbidden"
    # The same id sent by someone else is not a re-send: refused, the comment unchanged.
    await owner_ws.send(_add(thread, rid, 1, 2, "hijack"))
    assert (await owner_ws.recv_type("error"))["code"] == "conflict"
    listed = await owner.request("GET", f"/documents/{doc_id}/comments")
    assert [(c["id"], c["body"], c["version"]) for c in listed] == [(thread, "bob's words", 1)]
    await owner_ws.close()
    await bob_ws.close()


async def test_a_resent_frame_is_harmless_and_bad_input_is_refused_clearly(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    stranger = await users.new("stranger")
    doc_id, rid = await _doc_with_text(owner, "again and again")
    ws = await _open(server, doc_id, owner.access_token)
    thread = cid()
    frame = _add(thread, rid, 1, 5, "once", mentions=[owner.user["id"], stranger.user["id"]])  # type: ignore[index]
    await ws.send(frame)
    first = (await ws.recv_type("comment"))["comment"]
    assert first["mentions"] == [owner.user["id"]]  # type: ignore[index]  # no access: dropped
    await ws.send(frame)
    again = (await ws.recv_type("comment"))["comment"]
    assert again == first
    await ws.send({"type": "comment_delete", "id": thread})
    assert (await ws.recv_type("comment_removed"))["ids"] == [thread]
    await ws.send({"type": "comment_delete", "id": thread})
    assert (await ws.recv_type("comment_removed"))["ids"] == [thread]
    assert await owner.request("GET", f"/documents/{doc_id}/comments") == []

    unknown = cid()
    await ws.send(_add(unknown, "zzzzzzzz", 1, 2, "nowhere"))
    error = await ws.recv_type("error")
    assert (error["code"], error["comment"]) == ("unknown_id", unknown)
    await ws.send(_add(cid(), rid, 1, 2, "   "))
    assert (await ws.recv_type("error"))["code"] == "bad_message"
    await ws.send(_add(cid(), rid, 1, 2, "x" * 10_001))
    assert (await ws.recv_type("error"))["code"] == "bad_message"
    await ws.send(_add("short", rid, 1, 2, "bad id"))
    assert (await ws.recv_type("error"))["code"] == "bad_message"
    await ws.send({"type": "comment_reply", "id": cid(), "thread": cid(), "body": "to nothing"})
    assert (await ws.recv_type("error"))["code"] == "not_found"
    await ws.close()


async def test_comments_are_private_to_the_document(users: Users, server: ServerProcess) -> None:
    owner = await users.new("owner")
    stranger = await users.new("stranger")
    doc_id, _ = await _doc_with_text(owner, "secret")
    with pytest.raises(ApiError) as refused:
        await stranger.request("GET", f"/documents/{doc_id}/comments")
    assert refused.value.status == 404


async def test_a_comment_flood_is_refused_by_id_and_the_socket_stays_usable(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    doc_id, rid = await _doc_with_text(owner, "flood")
    ws = await _open(server, doc_id, owner.access_token)
    sent = [cid() for _ in range(COMMENT_BURST + 15)]
    for comment_id in sent:
        await ws.send(_add(comment_id, rid, 1, 5, "spam"))
    stored: list[str] = []
    limited: list[str] = []
    while len(stored) + len(limited) < len(sent):
        frame = await ws.recv()
        if frame["type"] == "comment":
            stored.append(frame["comment"]["id"])
        elif frame["type"] == "error":
            assert frame["code"] == "rate_limited"
            limited.append(frame["comment"])
    assert len(limited) >= 10 and sorted(stored + limited) == sorted(sent)
    listed = await owner.request("GET", f"/documents/{doc_id}/comments")
    assert sorted(c["id"] for c in listed) == sorted(stored)
    await ws.send({"type": "cursor", "anchor": None, "head": None})  # still open
    await ws.close()


async def test_the_commenter_role_needs_an_account(users: Users, server: ServerProcess) -> None:
    owner = await users.new("owner")
    doc = await owner.create_document("Invite")
    with pytest.raises(ApiError) as refused:
        await owner.share(doc["id"], "nobody-yet@example.com", "commenter")
    assert refused.value.status == 400
    with pytest.raises(ApiError) as public:
        await owner.set_public(doc["id"], True, "commenter")
    assert public.value.status == 400


async def test_comment_ids_of_another_document_reach_nothing(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    mallory = await users.new("mallory")
    secret_id, rid = await _doc_with_text(owner, "secret plans")
    own_id, _ = await _doc_with_text(mallory, "my own text")
    owner_ws = await _open(server, secret_id, owner.access_token)
    thread = cid()
    await owner_ws.send(_add(thread, rid, 1, 6, "do not touch"))
    await owner_ws.recv_type("comment")
    ws = await _open(server, own_id, mallory.access_token)
    for frame in (
        {"type": "comment_reply", "id": cid(), "thread": thread, "body": "peek"},
        {"type": "comment_edit", "id": thread, "body": "defaced"},
        {"type": "comment_resolve", "id": thread},
    ):
        await ws.send(frame)
        assert (await ws.recv_type("error"))["code"] == "not_found"
    await ws.send({"type": "comment_delete", "id": thread})  # answered as gone: nothing here
    assert (await ws.recv_type("comment_removed"))["ids"] == [thread]
    # Anchoring to the other document's characters fails too.
    await ws.send(_add(cid(), rid, 1, 6, "anchored elsewhere"))
    assert (await ws.recv_type("error"))["code"] == "unknown_id"
    listed = await owner.request("GET", f"/documents/{secret_id}/comments")
    assert [(c["id"], c["body"], c["resolved"]) for c in listed] == [
        (thread, "do not touch", False)
    ]
    assert await mallory.request("GET", f"/documents/{own_id}/comments") == []
    await ws.close()
    await owner_ws.close()
