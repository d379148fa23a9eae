"""History sessions on a 260,000-entry log: the automerge-paper trace's edits, appended to a
SQLite store, with the trace's own times (one author, all within a second: one session of every
entry, the worst case for a page) and then with a pause of five minutes after every 500 entries
(520 sessions of 500 edits).

Measures the first page of sessions (20) and walking every page; the floors, same run: counting
the document's entries in SQL, and one read of the newest 200 raw log entries (what the panel
read before sessions existed).

Run: ``.venv/bin/python -m benchmarks.history_sessions``
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from docstream.services.sessions import read_sessions
from docstream.storage.base import NewLogEntry
from docstream.storage.sqlite import SqliteDocumentStore
from testkit.traces import load_trace


async def main() -> None:
    trace = load_trace("automerge-paper")
    txns = trace["txns"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        async with SqliteDocumentStore(path) as store:
            await store.migrate()
            user = await store.register_user("ann@example.com", "Ann", "hash")
            doc = await store.create_document(user.id, "Paper")
            batch: list[NewLogEntry] = []
            for txn in txns:
                pos, deleted, text = txn["patches"][0]
                kind = "delete" if deleted else "insert"
                batch.append(
                    NewLogEntry(
                        user_id=user.id,
                        replica="r1",
                        payload=b"\x01[]",
                        kind=kind,
                        position=pos,
                        length=deleted or len(text),
                    )
                )
                if len(batch) == 10_000:
                    await store.append_ops(doc.id, batch)
                    batch = []
            if batch:
                await store.append_ops(doc.id, batch)
        with sqlite3.connect(path) as conn:  # the trace's own times, not the load's
            conn.executemany(
                "UPDATE ops_log SET created_at = ? WHERE doc_id = ? AND seq = ?",
                [
                    (datetime.fromisoformat(t["time"]).isoformat(), doc.id, i)
                    for i, t in enumerate(txns, start=1)
                ],
            )
        await measure(path, doc.id, len(txns), "the trace's times")
        with sqlite3.connect(path) as conn:
            start = datetime.fromisoformat(txns[0]["time"])
            conn.executemany(
                "UPDATE ops_log SET created_at = ? WHERE doc_id = ? AND seq = ?",
                [
                    ((start + timedelta(seconds=i * 0.1 + (i // 500) * 300)).isoformat(), doc.id, i)
                    for i in range(1, len(txns) + 1)
                ],
            )
        await measure(path, doc.id, len(txns), "a pause after every 500 entries")


async def measure(path: Path, doc_id: str, entries: int, label: str) -> None:
    print(f"-- {label}")
    with sqlite3.connect(path) as conn:
        t = time.perf_counter()
        conn.execute("SELECT COUNT(*) FROM ops_log WHERE doc_id = ?", (doc_id,)).fetchone()
        counted = time.perf_counter() - t
    async with SqliteDocumentStore(path) as store:
        t = time.perf_counter()
        raw = await store.read_history(doc_id, None, 200)
        peer = time.perf_counter() - t
        t = time.perf_counter()
        page, more = await read_sessions(store, doc_id, None, 0, 20)
        first = time.perf_counter() - t
        t = time.perf_counter()
        pages, total, before = 1, len(page), more
        while before is not None:
            got, before = await read_sessions(store, doc_id, before, 0, 20)
            pages, total = pages + 1, total + len(got)
        walk = time.perf_counter() - t
        biggest = max(s.edits for s in page)
        print(f"log entries: {entries}; sessions: {total} in {pages} pages")
        print(f"first page of 20 sessions: {first * 1000:.1f} ms (largest has {biggest} edits)")
        print(f"every page: {walk * 1000:.0f} ms ({walk / pages * 1000:.1f} ms a page)")
        print(f"peer: newest 200 raw entries (read_history): {peer * 1000:.1f} ms ({len(raw)})")
        print(f"floor: COUNT(*) of the document's entries: {counted * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
