"""History, restore points, restore-as-edits, export, and snapshot + tail reloads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from docstream.collab.loader import decode_payload, load_document
from docstream.crdt import Document
from docstream.storage.base import DocumentStore
from docstream.storage.postgres import PostgresDocumentStore
from docstream.storage.sqlite import SqliteDocumentStore
from testkit.accounts import Users
from testkit.processes import ServerFactory, ServerProcess

ENV = {
    "DOCSTREAM_VERSION_IDLE_SECONDS": "0.5",
    "DOCSTREAM_MAX_AUTO_VERSIONS": "3",
    "DOCSTREAM_SNAPSHOT_EVERY": "5",
    "DOCSTREAM_SNAPSHOT_MIN_INTERVAL": "0",
}


@pytest.fixture(scope="module")
def vserver(start_server: ServerFactory) -> Iterator[ServerProcess]:
    with start_server(env=ENV) as proc:
        yield proc


def open_store(server: ServerProcess, backend: list[str]) -> DocumentStore:
    if backend:
        return PostgresDocumentStore(backend[backend.index("--database-url") + 1])
    assert server.data_dir is not None
    return SqliteDocumentStore(server.data_dir / "docstream.sqlite3")


async def test_named_versions_preview_restore_live_and_undo(vserver: ServerProcess) -> None:
    users = Users(vserver.url)
    try:
        ann = await users.new("ann")
        bob = await users.new("bob")
        doc = await ann.create_document("Versions")
        doc_id = doc["id"]
        await ann.share(doc_id, bob.user["email"], "editor")  # type: ignore[index]
        async with ann.open(doc_id) as a, bob.open(doc_id) as b:
            a.insert(0, "first draft")
            await a.synced()
            named = await ann.request("POST", f"/documents/{doc_id}/versions", {"label": "v1"})
            assert named["label"] == "v1" and named["length"] == len("first draft")
            a.delete(0, 6)
            a.insert(0, "second ")
            await a.synced()
            await b.wait_for(lambda d: d.text == "second draft")
            preview = await bob.request("GET", f"/documents/{doc_id}/versions/{named['version']}")
            assert preview["text"] == "first draft"
            restored = await bob.request(
                "POST", f"/documents/{doc_id}/versions/{named['version']}/restore"
            )
            assert restored["undo_version"] is not None
            # Everyone connected sees the restore arrive as ordinary edits.
            await a.wait_for(lambda d: d.text == "first draft")
            await b.wait_for(lambda d: d.text == "first draft")
            # ...and restoring the automatic version taken just before undoes it.
            await ann.request(
                "POST", f"/documents/{doc_id}/versions/{restored['undo_version']}/restore"
            )
            await b.wait_for(lambda d: d.text == "second draft")
            history = await ann.request("GET", f"/documents/{doc_id}/history?limit=2")
            assert history[0]["author"] == ann.user["id"] and history[0]["user_name"] == "Ann"  # type: ignore[index]
            assert history[1]["author"] == bob.user["id"]  # type: ignore[index]
            assert {h["kind"] for h in history} <= {"insert", "delete", "edit"}
            older = await ann.request(
                "GET", f"/documents/{doc_id}/history?from={history[1]['seq']}&limit=1"
            )
            assert [h["seq"] for h in older] == [history[1]["seq"]]
    finally:
        await users.close()


async def test_restore_points_are_taken_when_editing_pauses_and_retention_is_bounded(
    vserver: ServerProcess,
) -> None:
    users = Users(vserver.url)
    try:
        ann = await users.new("ann")
        doc = await ann.create_document("Auto")
        async with ann.open(doc["id"]) as a:
            for burst in range(5):
                a.insert(len(a.text), f"burst {burst}. ")
                await a.synced()
                await asyncio.sleep(0.9)  # quiet for longer than version_idle_seconds
        versions = await ann.request("GET", f"/documents/{doc['id']}/versions")
        autos = [v for v in versions if v["kind"] == "auto"]
        assert len(autos) == 3  # DOCSTREAM_MAX_AUTO_VERSIONS
        assert autos[0]["length"] == len("".join(f"burst {i}. " for i in range(5)))
        assert [v["version"] for v in versions] == sorted(
            (v["version"] for v in versions), reverse=True
        )
    finally:
        await users.close()


async def test_export_as_txt_and_md(vserver: ServerProcess) -> None:
    users = Users(vserver.url)
    try:
        ann = await users.new("ann")
        doc = await ann.create_document("Notes: 2026/11 ✓")
        async with ann.open(doc["id"]) as a:
            a.insert(0, "# Title\n\nBody — ünïcode 😀\n")
            await a.synced()
        async with httpx.AsyncClient(base_url=vserver.url) as http:
            headers = {"Authorization": f"Bearer {ann.access_token}"}
            for fmt, media in (("txt", "text/plain"), ("md", "text/markdown")):
                r = await http.get(
                    f"/documents/{doc['id']}/export", params={"format": fmt}, headers=headers
                )
                assert r.status_code == 200
                assert r.headers["content-type"] == f"{media}; charset=utf-8"  # once, not twice
                assert r.content.decode() == "# Title\n\nBody — ünïcode 😀\n"
                disposition = r.headers["content-disposition"]
                # RFC 6266: an ASCII fallback, then the UTF-8 name.
                assert disposition.startswith("attachment;")
                assert f'filename="Notes_ 2026_11.{fmt}"' in disposition
                assert disposition.endswith(f".{fmt}") and "filename*=UTF-8''" in disposition
                assert "/" not in disposition.split("filename=")[1]
            r = await http.get(
                f"/documents/{doc['id']}/export", params={"format": "pdf"}, headers=headers
            )
            assert r.status_code == 400
    finally:
        await users.close()


async def test_snapshot_plus_tail_equals_full_replay(
    vserver: ServerProcess, server_backend: list[str]
) -> None:
    users = Users(vserver.url)
    try:
        ann = await users.new("ann")
        doc = await ann.create_document("Snapshots")
        async with ann.open(doc["id"]) as a:
            for i in range(23):  # snapshot every 5 entries
                a.insert(i % 7, f"{i},")
                if i % 4 == 3:
                    a.delete(0, 2)
                await a.synced()
            text = a.text
        store = open_store(vserver, server_backend)
        async with store:
            snapshot = await store.latest_snapshot(doc["id"])
            assert snapshot is not None and snapshot.seq >= 20
            loaded, seq = await load_document(store, doc["id"])
            replay = Document(replica="fullreplay")
            for entry in await store.read_ops(doc["id"], 0):
                replay.apply(decode_payload(entry.payload))
            assert loaded.text == replay.text == text
            assert loaded.encode_state() == replay.encode_state()
            assert seq == len(await store.read_ops(doc["id"], 0))
    finally:
        await users.close()
