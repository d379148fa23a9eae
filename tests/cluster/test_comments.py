"""A comment written on one node reaches the sockets of the document on another at once
(real PostgreSQL, real Redis): new threads, edits, resolving and deletes."""

from __future__ import annotations

import contextlib
import secrets
import time

from testkit.accounts import Users
from testkit.processes import ServerFactory
from testkit.raw import RawPeer, replica


async def test_a_comment_on_node_a_appears_live_on_node_b(start_node: ServerFactory) -> None:
    with contextlib.ExitStack() as stack:
        node_a = stack.enter_context(start_node())
        node_b = stack.enter_context(start_node())
        users = Users(node_a.url)
        try:
            owner = await users.new("owner")
            bob = await users.new("bob")
            doc = await owner.create_document("Clustered comments")
            doc_id = doc["id"]
            await owner.share(doc_id, bob.user["email"], "commenter")  # type: ignore[index]
            rid = replica()
            on_a = await RawPeer.open(node_a.url, doc_id, owner.access_token)
            await on_a.hello(rid)
            await on_a.recv_type("comments")
            await on_a.send(
                {
                    "type": "ops",
                    "ref": 1,
                    "ops": [{"kind": "ins", "id": f"{rid}:1", "after": None, "text": "shared"}],
                }
            )
            await on_a.recv_type("ack")
            on_b = await RawPeer.open(node_b.url, doc_id, bob.access_token)
            await on_b.hello(replica())
            assert (await on_b.recv_type("comments"))["comments"] == []

            thread = "c" + secrets.token_hex(6)
            started = time.monotonic()
            await on_a.send(
                {
                    "type": "comment_add",
                    "id": thread,
                    "body": "from node A",
                    "start": f"{rid}:1",
                    "end": f"{rid}:6",
                    "quote": "shared",
                }
            )
            got = (await on_b.recv_type("comment", timeout=3))["comment"]
            assert (got["id"], got["body"], got["quote"]) == (thread, "from node A", "shared")
            assert time.monotonic() - started < 3
            assert (await on_a.recv_type("comment"))["comment"]["id"] == thread  # its own copy

            reply = "r" + secrets.token_hex(6)
            await on_b.send(
                {"type": "comment_reply", "id": reply, "thread": thread, "body": "seen on B"}
            )
            assert (await on_a.recv_type("comment", timeout=3))["comment"]["id"] == reply
            await on_b.send({"type": "comment_resolve", "id": thread})
            assert (await on_a.recv_type("comment", timeout=3))["comment"]["resolved"] is True
            await on_a.send({"type": "comment_delete", "id": thread})
            removed = await on_b.recv_type("comment_removed", timeout=3)
            assert sorted(removed["ids"]) == sorted([thread, reply])
            await on_a.close()
            await on_b.close()
        finally:
            await users.close()
