"""The Python client with a personal API token, against a real server: REST calls within the
token's scope, no live editing (the WebSocket refuses tokens), and a revoked token is refused."""

from __future__ import annotations

import pytest
import websockets

from docstream.client import ApiError, DocStreamClient
from testkit.accounts import Users
from testkit.processes import ServerProcess


async def test_a_read_write_token_drives_the_rest_api(server: ServerProcess, users: Users) -> None:
    ann = await users.new("ann")
    made = await ann.create_token("backup script", "read-write", expires_in_days=7)
    assert made["secret"].startswith("dst_")
    async with DocStreamClient(server.url, token=made["secret"]) as script:
        doc = await script.create_document("Written by a script")
        assert (await script.get_document(doc["id"]))["title"] == "Written by a script"
        with pytest.raises(ApiError) as refused:
            await script.create_token("another")
        assert refused.value.status == 403
        with pytest.raises(ApiError) as live:
            script.open(doc["id"])
        assert live.value.status == 401
    tokens = await ann.list_tokens()
    assert [t["name"] for t in tokens] == ["backup script"] and tokens[0]["last_used_at"]


async def test_a_read_token_reads_only_and_a_revoked_one_nothing(
    server: ServerProcess, users: Users
) -> None:
    ann = await users.new("ann")
    doc = await ann.create_document("Plans")
    made = await ann.create_token("reader", "read")
    async with DocStreamClient(server.url, token=made["secret"]) as reader:
        assert (await reader.get_document(doc["id"]))["title"] == "Plans"
        with pytest.raises(ApiError) as refused:
            await reader.create_document("Nope")
        assert refused.value.status == 403
        await ann.revoke_token(made["token"]["id"])
        with pytest.raises(ApiError) as revoked:
            await reader.get_document(doc["id"])
        assert revoked.value.status == 401


async def test_the_websocket_refuses_a_token(server: ServerProcess, users: Users) -> None:
    ann = await users.new("ann")
    doc = await ann.create_document("Live")
    made = await ann.create_token("socket", "read-write")
    url = ann.ws_url(doc["id"])
    async with websockets.connect(
        url, additional_headers={"Authorization": f"Bearer {made['secret']}"}
    ) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
