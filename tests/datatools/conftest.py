"""Stores filled with one of everything, and dumps that compare stores table by table."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from docstream.collab.loader import encode_payload
from docstream.crdt import Document
from docstream.storage.base import DocumentStore, NewLogEntry
from docstream.storage.packs import PACK_ROWS
from testkit.services import PostgresServer


async def fill(
    store: DocumentStore, *, docs: int = 3, edits: int = 20, packed: bool = False
) -> None:
    """Users (one invited), documents with a real CRDT log, a snapshot, versions, a grant, a
    session, an invitation, a public link, replicas; with ``packed``, one more document whose
    oldest thousand entries are packed."""
    await store.migrate()
    ann = await store.register_user("ann@example.com", "Ann", "$argon2id$v=19$m=1,t=1,p=1$abc$def")
    bob = await store.register_user("bob@example.com", "Bob Ünïcode", "$argon2id$hash-of-bob")
    await store.get_or_create_pending_user("pending@example.com")
    later = datetime.now(UTC) + timedelta(days=3)
    await store.create_session(str(uuid.uuid4()), ann.id, "jti-ann", later)
    for d in range(docs):
        doc = await store.create_document(ann.id, f"Doc {d} — “quoted” 📄")
        replica = f"replica{d:04d}"
        await store.bind_replica(replica, ann.id)
        crdt = Document(replica=replica)
        for i in range(edits):
            ops = crdt.insert(len(crdt), f"line {i} é\n")
            await store.append_ops(
                doc.id,
                [
                    NewLogEntry(
                        user_id=ann.id,
                        replica=replica,
                        payload=encode_payload(ops),
                        counter_lo=1,
                        counter_hi=2,
                        kind="insert",
                        position=i,
                        length=8,
                        preview=f"line {i}",
                    )
                ],
            )
        await store.save_snapshot(doc.id, edits, b"\x01state\x00\xff" * 10)
        await store.create_version(doc.id, edits, crdt.text, "named", "First", ann.id, keep=5)
        await store.create_version(doc.id, edits, crdt.text, "auto", None, None, keep=5)
        await store.set_permission(doc.id, bob.id, "editor" if d % 2 else "viewer")
        if d == 0:
            await store.set_public_sharing(doc.id, True, "editor")
            await store.set_public_link(doc.id, "link-token-0123456789abcdef")
            await store.create_invitation(
                doc.id, "new@example.com", "viewer", ann.id, f"hash{d}", later, 10
            )
    if not packed:
        return
    # A long log, its oldest thousand entries packed (ops_packs, ops_pack_authors).
    doc = await store.create_document(bob.id, "Packed")
    crdt = Document(replica="replicaPacked")
    await store.bind_replica(crdt.replica, bob.id)
    await store.append_ops(
        doc.id,
        [
            NewLogEntry(
                user_id=bob.id,
                replica=crdt.replica,
                payload=encode_payload(crdt.insert(len(crdt), "ü")),
                kind="insert",
                position=i,
                length=1,
                preview="ü",
            )
            for i in range(PACK_ROWS + 5)
        ],
    )
    assert await store.pack_log(doc.id, PACK_ROWS + 5) == PACK_ROWS


def fill_sqlite(path: Path, **kw: Any) -> Path:
    from docstream.storage.sqlite import SqliteDocumentStore

    async def run() -> None:
        async with SqliteDocumentStore(path) as store:
            await fill(store, **kw)

    asyncio.run(run())
    return path


def fill_postgres(dsn: str, **kw: Any) -> str:
    from docstream.storage.postgres import PostgresDocumentStore

    async def run() -> None:
        async with PostgresDocumentStore(dsn) as store:
            await fill(store, **kw)

    asyncio.run(run())
    return dsn


def sqlite_dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows with each value's SQLite storage class, in a fixed order."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT IN ('schema_migrations', 'docstream_backup') ORDER BY name"
            )
        ]
        out = {}
        for table in tables:
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            select = ", ".join(f'"{c}", typeof("{c}")' for c in cols)
            out[table] = sorted(
                conn.execute(f'SELECT {select} FROM "{table}"').fetchall(), key=repr
            )
        return out
    finally:
        conn.close()


def postgres_dump(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "current_schema() AND table_name <> 'schema_migrations' ORDER BY table_name"
            ).fetchall()
        ]
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
        }


@pytest.fixture
def new_pg(postgres_server: PostgresServer) -> Iterator[Callable[[], str]]:
    """``new_pg()``: the DSN of another fresh PostgreSQL database (dropped afterwards)."""
    made: list[str] = []

    def make() -> str:
        name = postgres_server.create_database()
        made.append(name)
        return postgres_server.dsn_for(name)

    yield make
    for name in made:
        postgres_server.drop_database(name)
