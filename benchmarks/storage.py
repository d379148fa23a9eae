"""Bytes on disk per document: the whole automerge-paper trace with its full history.

Requirement: the whole-trace document (about 105,000 characters, 260,000 edits) takes at most
10 MB on both backends, with history, restore and catch-up by ``seq`` unchanged.

1. The log, built as a Room builds it: one replica types the trace, one ``ops`` message per patch,
   each turned into a log entry by the Room's own validation (``accept``: payload, counters,
   history summary), appended through the store API in commit groups of :data:`GROUP` messages
   (a server under load groups them so; the entries of a group share their time), then a
   sealed snapshot of the final state, as the Room stores one.
2. Bytes of everything the document holds (``ops_log`` with its indexes, ``ops_packs``,
   ``ops_pack_authors``, ``snapshots``): SQLite's ``dbstat`` pages, PostgreSQL's
   ``pg_total_relation_size`` after ``VACUUM FULL`` (live rows only, as dbstat counts).
   Measured before packing (a row per edit, as stores were before packs) and after packing what
   lies more than a pack below the snapshot (what a Room does at a pause in the typing, and the
   start-up packer for existing stores).
3. Exactness: the full catch-up (``read_ops`` from seq 0) returns the same entries before and
   after packing, and replaying it gives the trace's final text. Its time is reported both ways.
4. The peer: pycrdt-websocket's ``SQLiteYStore`` holding the same trace as its ``write`` leaves
   it (an update per edit, a checkpoint every 100), built by ``benchmarks.collab.build_ystore``;
   its file size.

``--quick`` uses the first 20,000 patches.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.collab import build_ystore, log, trace_patches, trace_text, yjs_updates
from benchmarks.report import Row
from docstream.storage.packs import PACK_ROWS
from testkit.services import postgres

#: Messages per append (one commit group).
GROUP = 4
TARGET_MB = 10.0
TABLES = ("ops_log", "ops_packs", "ops_pack_authors", "snapshots")


def _entries(patches: list[tuple[int, int, str]], user_id: str) -> tuple[list[Any], bytes]:
    """The log entries a Room stores for the trace typed by one replica, and its final state."""
    from docstream.collab.connection import Connection
    from docstream.collab.loader import seal_state
    from docstream.collab.room.validation import Accepted, accept
    from docstream.crdt import Document, Op
    from docstream.protocol.messages import SubmitOps
    from docstream.settings import Settings

    settings = Settings()
    writer, server = Document("benchReplica"), Document("serverSide")
    conn = Connection(user_id=user_id, name="Bench", role="editor", guest=False, queue_size=1)
    conn.replica = writer.replica
    entries = []
    for ref, (pos, deleted, text) in enumerate(patches, 1):
        ops: list[Op] = []
        if deleted:
            ops += writer.delete(pos, deleted)
        if text:
            ops += writer.insert(pos, text)
        result = accept(server, ref, settings, conn, SubmitOps(ref=ref, ops=ops), 1)
        assert isinstance(result, Accepted) and result.entry is not None, result
        entries.append(result.entry)
    return entries, seal_state(server.encode_state())


async def _fill(store: Any, entries: list[Any], state: bytes) -> str:
    await store.migrate()
    user = await store.register_user("bench@example.com", "Bench", "hash")
    doc = await store.create_document(user.id, "automerge-paper")
    for i in range(0, len(entries), GROUP):
        seq = await store.append_ops(doc.id, entries[i : i + GROUP])
    await store.save_snapshot(doc.id, seq, state)
    return str(doc.id)


async def _replayed(store: Any, doc_id: str) -> tuple[list[Any], float, str]:
    from docstream.collab.loader import decode_payload
    from docstream.crdt import Document

    t0 = time.perf_counter()
    entries = await store.read_ops(doc_id, 0)
    took = time.perf_counter() - t0
    doc = Document("replayCheck")
    for e in entries:
        doc.apply(decode_payload(e.payload))
    return entries, took, doc.text


def _sqlite_bytes(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        names = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM sqlite_schema WHERE tbl_name IN (?, ?, ?, ?)", TABLES
            )
        ]
        marks = ",".join("?" * len(names))
        (total,) = conn.execute(
            f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({marks})", names
        ).fetchone()
    return int(total)


async def _postgres_bytes(store: Any) -> int:
    async with store._conn() as conn:
        await conn.set_autocommit(True)
        for table in TABLES:
            await conn.execute(f"VACUUM FULL {table}".encode())
        cur = await conn.execute(
            b"SELECT SUM(pg_total_relation_size(t::regclass)) FROM unnest(%s::text[]) t",
            [list(TABLES)],
        )
        (total,) = await cur.fetchone()
        await conn.set_autocommit(False)
    return int(total)


def _measure(backend: str, entries: list[Any], state: bytes, text: str) -> dict[str, float]:
    from docstream.storage.postgres import PostgresDocumentStore
    from docstream.storage.sqlite import SqliteDocumentStore

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-storage-")))
        if backend == "sqlite":
            path = tmp / "docstream.sqlite3"
            store: Any = SqliteDocumentStore(path, synchronous="OFF")
        else:
            pg = stack.enter_context(postgres())
            store = PostgresDocumentStore(pg.dsn_for(pg.create_database()))

        async def go() -> dict[str, float]:
            async with store:
                doc_id = await _fill(store, entries, state)

                async def size() -> int:
                    if backend == "sqlite":
                        return await asyncio.to_thread(_sqlite_bytes, path)
                    return await _postgres_bytes(store)

                before, read_before, text_before = await _replayed(store, doc_id)
                rows_bytes = await size()
                t0 = time.perf_counter()
                moved = await store.pack_log(doc_id, len(entries) - PACK_ROWS)
                pack_s = time.perf_counter() - t0
                after, read_after, text_after = await _replayed(store, doc_id)
                packed_bytes = await size()
            assert after == before, "packing changed the log"
            assert text_before == text_after == text, "the replay is not the trace's text"
            log(
                f"{backend}: {rows_bytes / 1e6:.1f} MB a row per edit, {packed_bytes / 1e6:.2f} MB "
                f"packed ({moved:,} of {len(entries):,} entries packed in {pack_s:.1f} s)"
            )
            return {
                "rows": rows_bytes / 1e6,
                "packed": packed_bytes / 1e6,
                "moved": moved,
                "pack_s": pack_s,
                "read_before": read_before,
                "read_after": read_after,
            }

        return asyncio.run(go())


def _peer(patches: list[tuple[int, int, str]]) -> float:
    updates = yjs_updates(patches)
    with tempfile.TemporaryDirectory(prefix="bench-ystore-") as tmp:
        db = Path(tmp) / "ystore.db"
        build_ystore(db, "/paper", updates)
        return db.stat().st_size / 1e6


def run(quick: bool) -> list[Row]:
    prefix = 20_000 if quick else None
    patches = trace_patches(prefix)
    text = trace_text(prefix)
    entries, state = _entries(patches, "00000000-0000-4000-8000-000000000001")
    peer = _peer(patches)
    log(f"pycrdt-websocket SQLiteYStore: {peer:.1f} MB")
    what = f"{len(entries):,} edits" + (" (quick)" if quick else ", whole trace")
    rows = []
    for backend in ("sqlite", "postgres"):
        m = _measure(backend, entries, state, text)
        rows += [
            Row(
                "storage",
                f"{backend}: bytes for {what}, a row per edit",
                m["rows"],
                "MB",
                peer,
                "pycrdt-websocket SQLiteYStore",
                note="before packing (as stores were written before packs)",
            ),
            Row(
                "storage",
                f"{backend}: bytes for {what}, packed",
                m["packed"],
                "MB",
                peer,
                "pycrdt-websocket SQLiteYStore",
                target=f"<= {TARGET_MB:g} MB" if not quick else "",
                met=m["packed"] <= TARGET_MB if not quick else None,
                note=f"{m['moved']:,} entries packed in {m['pack_s']:.1f} s; history kept whole",
            ),
            Row(
                "storage",
                f"{backend}: full catch-up read (seq 0), packed",
                m["read_after"],
                "s",
                note=f"{m['read_before'] * 1000:.0f} ms with a row per edit; same entries",
            ),
        ]
    return rows
