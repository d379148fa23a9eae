"""A backup taken while a real server takes edits is one consistent snapshot.

Typists edit two documents through ``docstream serve`` while backups run. Restored, every
document's log runs from seq 1 to the document's seq with no gap, replaying the log from scratch
gives the same text as the server's own loading (snapshot + tail), and the log is a prefix of what
the server holds afterwards.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from docstream.collab.loader import decode_payload, load_document
from docstream.crdt import Document
from docstream.datatools.backup import backup, restore
from docstream.datatools.endpoints import Endpoint, PostgresUrl, SqliteFile
from docstream.storage.base import DocumentStore
from docstream.storage.sqlite import SqliteDocumentStore
from testkit.accounts import Users
from testkit.processes import ServerFactory
from testkit.typists import Typist


async def logs(store: DocumentStore) -> dict[str, list[bytes]]:
    out = {}
    for doc_id, _title, _owner in await store.all_document_titles():
        out[doc_id] = [e.payload for e in await store.read_ops(doc_id, 0)]
    return out


async def test_a_backup_during_edits_restores_to_gap_free_replayable_logs(
    start_server: ServerFactory, server_backend: list[str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    source: Endpoint = (
        PostgresUrl(server_backend[1]) if server_backend else SqliteFile(data / "docstream.sqlite3")
    )
    files = [tmp_path / f"during-{i}.db" for i in range(3)]
    with start_server(args=["--data-dir", str(data)]) as server:
        users = Users(server.url)
        owner = await users.new("owner")
        docs = [await owner.create_document(f"Live {i}") for i in range(2)]
        lives = [owner.open(d["id"]) for d in docs for _ in range(2)]
        for live in lives:
            await live.start()
        typists = [Typist(live, seed) for seed, live in enumerate(lives)]
        try:
            typing = [asyncio.create_task(t.type_for(4.0)) for t in typists]
            for file in files:
                await asyncio.sleep(0.8)
                await asyncio.to_thread(backup, source, file)
            await asyncio.gather(*typing)
            for live in lives:
                await live.synced(timeout=30)
            served = {d["id"]: (await owner.get_document(d["id"]))["text"] for d in docs}
        finally:
            for t in typists:
                await t.stop()
            for live in lives:
                await live.close()
            await users.close()
        final = tmp_path / "final.db"
        await asyncio.to_thread(backup, source, final)

    async with SqliteDocumentStore(final) as store:
        after = await logs(store)
    # The server's documents are the replay of their logs.
    for doc_id, text in served.items():
        replay = Document(replica="checker0")
        for payload in after[doc_id]:
            replay.apply(decode_payload(payload))
        assert replay.text == text
    assert all(len(payloads) > 10 for payloads in after.values())
    shorter = 0
    for file in files:
        restored = tmp_path / f"{file.stem}.sqlite3"
        await asyncio.to_thread(restore, file, SqliteFile(restored))
        async with SqliteDocumentStore(restored) as store:
            for doc_id, _title, _owner in await store.all_document_titles():
                record = await store.get_document(doc_id)
                assert record is not None
                log = await store.read_ops(doc_id, 0)
                assert [e.seq for e in log] == list(range(1, record.seq + 1)), "a gap in the log"
                replay = Document(replica="checker1")
                for entry in log:
                    replay.apply(decode_payload(entry.payload))
                loaded, seq = await load_document(store, doc_id)
                assert seq == record.seq and loaded.text == replay.text
                assert [e.payload for e in log] == after[doc_id][: len(log)]
                shorter += len(log) < len(after[doc_id])
    assert shorter, "no backup was taken while the edits went on"
