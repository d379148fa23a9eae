"""The search index follows real edits on a real server, and survives a SIGKILL before indexing.

Edits are typed through the Python client over the WebSocket; the server indexes them in its own
task after ``search_index_delay``. A server killed before it indexed (the delay is an hour here)
catches up on restart: the text is found.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from docstream.client import DocStreamClient
from testkit.accounts import Users
from testkit.processes import ServerFactory, ServerProcess


async def found(client: DocStreamClient, q: str) -> list[str]:
    page: dict[str, Any] = await client.request("GET", "/search", params={"q": q})
    return [r["id"] for r in page["results"]]


async def eventually(client: DocStreamClient, q: str, want: list[str], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while (got := await found(client, q)) != want:
        assert time.monotonic() < deadline, f"{q!r}: {got} != {want}"
        await asyncio.sleep(0.2)


async def test_edits_renames_trash_and_restore_reach_the_results(server: ServerProcess) -> None:
    users = Users(server.url)
    try:
        ann, bob = await users.new("ann"), await users.new("bob")
        doc = await ann.create_document("Weekly notes")
        async with ann.open(doc["id"]) as live:
            live.insert(0, "Quarterly xylophone budget")
            await live.synced()
            await eventually(ann, "xylophone", [doc["id"]])
            live.insert(0, "Marmalade. ")
            await live.synced()
            await eventually(ann, "marmalade xylo", [doc["id"]])
        assert await found(bob, "xylophone") == []  # not Bob's
        await ann.share(doc["id"], bob.user["email"], "viewer")  # type: ignore[index]
        assert await found(bob, "xylophone") == [doc["id"]]  # the grant counts at once

        await ann.request("PATCH", f"/documents/{doc['id']}", json={"title": "Zanzibar plans"})
        await eventually(ann, "zanzibar", [doc["id"]])
        await ann.request("DELETE", f"/documents/{doc['id']}")
        assert await found(ann, "xylophone") == [] and await found(bob, "zanzibar") == []
        await ann.request("POST", f"/trash/{doc['id']}/restore")
        assert await found(bob, "xylophone") == [doc["id"]]
    finally:
        await users.close()


async def test_a_server_killed_before_indexing_catches_up_on_restart(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    args = ["--data-dir", str(tmp_path / "data")]
    never = {"DOCSTREAM_SEARCH_INDEX_DELAY": "3600", "DOCSTREAM_SEARCH_CATCHUP_INTERVAL": "3600"}
    with contextlib.ExitStack() as servers:
        server = servers.enter_context(start_server(args=args, env=never))
        users = Users(server.url)
        try:
            ann = await users.new("ann")
            doc = await ann.create_document("Crash")
            async with ann.open(doc["id"]) as live:
                live.insert(0, "Acknowledged words: periwinkle saxophone")
                await live.synced()  # acknowledged: durable in the log
            await asyncio.sleep(0.5)
            assert await found(ann, "periwinkle") == []  # not indexed yet (the delay is an hour)
            server.kill()  # SIGKILL: the scheduled indexing dies with the process

            server = servers.enter_context(start_server(args=args, port=server.port))
            await eventually(ann, "periwinkle saxophone", [doc["id"]])
            page = await ann.request("GET", "/search", params={"q": "saxophone"})
            [hit] = page["results"]
            assert hit["snippet"] == "Acknowledged words: periwinkle saxophone"
            assert hit["matches"] == [[31, 40]]
        finally:
            await users.close()
