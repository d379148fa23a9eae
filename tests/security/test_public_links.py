"""Public links: a secret, rotatable token, not the document id; link guests read no old history.

Attacks, against a real ``docstream serve`` on each backend: opening a public document by its id
alone (REST and WebSocket, anonymous and signed in); replaying a link after the owner turned the
link off and on or reset it; an editor or viewer trying to read or reset the link; and a link
guest digging out text that was deleted before the document was shared, through the history,
the versions, a restore, and the WebSocket catch-up (``hello`` with ``since=1``).
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from docstream.client import DocStreamClient
from docstream.client.connection import ApiError
from testkit.accounts import Users
from testkit.processes import ServerProcess
from testkit.raw import RawPeer

SECRET = "the launch code is 0000"


def replica() -> str:
    return secrets.token_urlsafe(9)


def link_headers(token: str) -> dict[str, str]:
    return {"X-DocStream-Link": token}


async def public_document(
    users: Users, role: str = "viewer", text: str = ""
) -> tuple[DocStreamClient, dict[str, Any], dict[str, Any]]:
    owner = await users.new("owner")
    doc = await owner.create_document("Launch plans")
    if text:
        async with owner.open(doc["id"]) as live:
            live.insert(0, text)
            await live.synced()
    public = await owner.request(
        "POST", f"/documents/{doc['id']}/share/public", {"enabled": True, "role": role}
    )
    return owner, doc, public


async def status(url: str, path: str, headers: dict[str, str] | None = None) -> int:
    async with httpx.AsyncClient(base_url=url) as http:
        return (await http.get(path, headers=headers or {})).status_code


async def socket_close_code(url: str, doc_id: str, headers: dict[str, str] | None = None) -> int:
    peer = await RawPeer.open(url, doc_id, headers=headers)
    return (await peer.closed())[0]


async def test_knowing_the_id_of_a_public_document_does_not_open_it(
    users: Users, server: ServerProcess
) -> None:
    _owner, doc, public = await public_document(users, text="hello")
    path = f"/documents/{doc['id']}"
    # The attack: the id (e.g. from an old link, a screenshot, a log) without the token.
    assert await status(server.url, path) == 401
    assert await status(server.url, f"{path}/history") == 401
    assert await status(server.url, f"{path}/export") == 401
    assert await socket_close_code(server.url, doc["id"]) == 4401
    stranger = await users.new("stranger")
    with pytest.raises(ApiError) as refused:
        await stranger.get_document(doc["id"])
    assert refused.value.status == 404
    # A wrong token of the right shape, or garbage, is no better (and never a 500).
    token = public["link_token"]
    off_by_one = token[:-1] + ("x" if token[-1] != "x" else "y")  # one character changed
    for wrong in ("A" * 32, off_by_one, "../../etc", "x" * 5000, ""):
        assert await status(server.url, path, link_headers(wrong)) == 401
        assert await status(server.url, f"{path}?link={wrong[:200]}") == 401
    assert await socket_close_code(server.url, doc["id"], link_headers("B" * 32)) == 4401
    # The token itself opens it: header, query string, WebSocket header and query string.
    assert await status(server.url, path, link_headers(token)) == 200
    assert await status(server.url, f"{path}?link={token}") == 200
    guest = await RawPeer.open(server.url, doc["id"], headers=link_headers(token))
    assert (await guest.hello(replica()))["role"] == "viewer"
    await guest.close()
    ws_url = server.url.replace("http", "ws", 1) + f"/ws/document/{doc['id']}?link={token}"
    async with connect(ws_url) as ws:
        await ws.send(json.dumps({"type": "hello", "replica": replica(), "since": 0}))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome" and welcome["role"] == "viewer"
    stranger.use_link(token, doc["id"])
    assert (await stranger.get_document(doc["id"]))["role"] == "viewer"


async def test_the_share_page_address_opens_the_document_for_the_python_client(
    users: Users, server: ServerProcess
) -> None:
    owner, doc, public = await public_document(users, role="editor", text="shared")
    assert public["link_path"] == f"/d/{doc['id']}#link={public['link_token']}"
    guest = users.anonymous()
    assert guest.use_link(server.url + public["link_path"]) == doc["id"]
    async with guest.open(doc["id"]) as live:
        assert live.text == "shared"
        live.insert(6, "!")
        await live.synced()
    assert (await owner.get_document(doc["id"]))["text"] == "shared!"


async def test_turning_the_link_off_and_on_makes_the_old_link_worthless(
    users: Users, server: ServerProcess
) -> None:
    owner, doc, public = await public_document(users)
    old = public["link_token"]
    path = f"/documents/{doc['id']}"
    off = await owner.set_public(doc["id"], False)
    assert off["link_token"] is None and off["link_path"] is None
    assert await status(server.url, path, link_headers(old)) == 401
    again = await owner.set_public(doc["id"], True)
    assert again["link_token"] and again["link_token"] != old
    assert await status(server.url, path, link_headers(old)) == 401
    assert await socket_close_code(server.url, doc["id"], link_headers(old)) == 4401
    assert await status(server.url, path, link_headers(again["link_token"])) == 200
    # Changing only the role keeps the link.
    editor_role = await owner.set_public(doc["id"], True, "editor")
    assert editor_role["link_token"] == again["link_token"]


async def test_resetting_the_link_cuts_off_everyone_who_used_the_old_one(
    users: Users, server: ServerProcess
) -> None:
    owner, doc, public = await public_document(users)
    old = public["link_token"]
    guest = await RawPeer.open(server.url, doc["id"], headers=link_headers(old))
    await guest.hello(replica())
    stranger = await users.new("stranger")
    stranger.use_link(old, doc["id"])
    await stranger.get_document(doc["id"])
    reset = await owner.reset_link(doc["id"])
    assert reset["link_token"] != old and reset["public_sharing_enabled"] is True
    assert (await guest.closed(timeout=2.0))[0] == 4403  # the live guest is disconnected
    assert await status(server.url, f"/documents/{doc['id']}", link_headers(old)) == 401
    with pytest.raises(ApiError) as refused:
        await stranger.get_document(doc["id"])
    assert refused.value.status == 404
    stranger.use_link(reset["link_token"], doc["id"])
    assert (await stranger.get_document(doc["id"]))["role"] == "viewer"
    # No link to reset while the link is off.
    await owner.set_public(doc["id"], False)
    with pytest.raises(ApiError) as conflict:
        await owner.reset_link(doc["id"])
    assert conflict.value.status == 409


async def test_only_the_owner_sees_or_resets_the_link(users: Users, server: ServerProcess) -> None:
    owner, doc, public = await public_document(users)
    editor, viewer = await users.new("editor"), await users.new("viewer")
    await owner.share(doc["id"], editor.user["email"], "editor")  # type: ignore[index]
    await owner.share(doc["id"], viewer.user["email"], "viewer")  # type: ignore[index]
    linked = await users.new("linked")
    linked.use_link(public["link_token"], doc["id"])
    for who in (editor, viewer, linked):
        for method, suffix in (("GET", ""), ("POST", "/reset")):
            with pytest.raises(ApiError) as refused:
                await who.request(method, f"/documents/{doc['id']}/share/public{suffix}")
            assert refused.value.status == 403
        listed = await who.get_document(doc["id"])
        assert public["link_token"] not in json.dumps(listed)
    mine = await owner.request("GET", f"/documents/{doc['id']}/share/public")
    assert mine["link_token"] == public["link_token"]
    # Nothing else the owner's collaborators read carries the token.
    documents = await editor.request("GET", "/documents")
    assert public["link_token"] not in json.dumps(documents)


async def write_then_delete_a_secret(owner: DocStreamClient, doc_id: str) -> int:
    """The owner types a secret, names a version with it, deletes it; returns that version."""
    async with owner.open(doc_id) as live:
        live.insert(0, SECRET)
        await live.synced()
    version = await owner.request("POST", f"/documents/{doc_id}/versions", {"label": "draft"})
    async with owner.open(doc_id) as live:
        live.delete(0, len(SECRET))
        live.insert(0, "Public notes")
        await live.synced()
    return int(version["version"])


async def test_a_link_guest_cannot_read_text_deleted_before_sharing(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    doc = await owner.create_document("Minutes")
    doc_id = doc["id"]
    old_version = await write_then_delete_a_secret(owner, doc_id)
    # The owner's own history shows the secret (it is theirs).
    history = await owner.request("GET", f"/documents/{doc_id}/history")
    assert any(SECRET in e["text"] for e in history)
    public = await owner.set_public(doc_id, True, "editor")
    token = public["link_token"]

    guest = users.anonymous()
    guest.use_link(token, doc_id)
    signed_in = await users.new("linked")  # signed in, no own grant: the same rules
    signed_in.use_link(token, doc_id)
    for who in (guest, signed_in):
        assert (await who.get_document(doc_id))["text"] == "Public notes"
        seen = await who.request("GET", f"/documents/{doc_id}/history")
        assert SECRET not in json.dumps(seen)
        versions = await who.request("GET", f"/documents/{doc_id}/versions")
        assert old_version not in [v["version"] for v in versions]
        with pytest.raises(ApiError) as hidden:
            await who.request("GET", f"/documents/{doc_id}/versions/{old_version}")
        assert hidden.value.status == 404
    # A link editor cannot bring the old text back by restoring the old version either.
    with pytest.raises(ApiError) as refused:
        await signed_in.request("POST", f"/documents/{doc_id}/versions/{old_version}/restore")
    assert refused.value.status == 404
    assert SECRET not in (await owner.get_document(doc_id))["text"]

    # The WebSocket catch-up: a hello that claims to have seen seq 1 gets the state (which keeps
    # no deleted text), never the log entries that inserted the secret.
    for since in (1, 2):
        peer = await RawPeer.open(server.url, doc_id, headers=link_headers(token))
        welcome = await peer.hello(replica(), since=since)
        await peer.close()
        assert welcome.get("ops") is None and welcome["state"]
        assert SECRET not in json.dumps(welcome)
        assert SECRET.encode() not in base64.b64decode(welcome["state"])

    # What happens after the link was made is for the link's holders to see.
    async with owner.open(doc_id) as live:
        live.insert(len("Public notes"), " - agenda")
        await live.synced()
    seen = await guest.request("GET", f"/documents/{doc_id}/history")
    assert [e["text"] for e in seen] == [" - agenda"]
    peer = await RawPeer.open(server.url, doc_id, headers=link_headers(token))
    welcome = await peer.hello(replica(), since=public["seq"])
    await peer.close()
    assert [len(e["ops"]) for e in welcome["ops"]] == [1]  # caught up from the link on
    # Collaborators with an own role still read everything.
    history = await owner.request("GET", f"/documents/{doc_id}/history")
    assert any(SECRET in e["text"] for e in history)


async def test_a_link_does_not_lower_what_a_collaborator_reads(
    users: Users, server: ServerProcess
) -> None:
    owner = await users.new("owner")
    viewer = await users.new("viewer")
    doc = await owner.create_document("Shared")
    await owner.share(doc["id"], viewer.user["email"], "viewer")  # type: ignore[index]
    await write_then_delete_a_secret(owner, doc["id"])
    public = await owner.set_public(doc["id"], True, "editor")
    viewer.use_link(public["link_token"], doc["id"])
    assert (await viewer.get_document(doc["id"]))["role"] == "editor"
    history = await viewer.request("GET", f"/documents/{doc['id']}/history")
    assert any(SECRET in e["text"] for e in history)


async def test_a_link_opens_only_its_own_document(users: Users, server: ServerProcess) -> None:
    """A link for one document does nothing for another (the token is per document)."""
    owner, _doc, public = await public_document(users)
    other = await owner.create_document("Private")
    headers = link_headers(public["link_token"])
    assert await status(server.url, f"/documents/{other['id']}", headers) == 401
    with pytest.raises(ConnectionClosed):
        ws_url = server.url.replace("http", "ws", 1)
        async with connect(f"{ws_url}/ws/document/{other['id']}?link={public['link_token']}") as ws:
            await ws.send(json.dumps({"type": "hello", "replica": replica(), "since": 0}))
            await ws.recv()
