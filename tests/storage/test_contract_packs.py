"""Packing old log entries changes no answer: every read of the log (catch-up by seq, history,
runs, replicas, the re-send lookup) gives the same before and after ``pack_log``, on SQLite, a
real PostgreSQL and in memory (which keeps its entries as they are)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from docstream.collab.loader import encode_payload
from docstream.crdt import Document, Insert
from docstream.storage.base import DocumentStore, NewLogEntry, utcnow
from docstream.storage.packs import PACK_ROWS


def _typing(user: str, doc: Document, n: int, at: int) -> list[NewLogEntry]:
    """``n`` messages of ``doc``'s replica typing and deleting around position ``at``."""
    entries = []
    for i in range(n):
        if i % 7 == 6:
            ops = doc.delete(max(0, min(at, len(doc) - 2)), 2)
        else:
            ops = doc.insert(min(at + i % 5, len(doc)), "ab😀\x00c"[i % 5])
        inserts = [int(op.id.rpartition(":")[2]) for op in ops if isinstance(op, Insert)]
        entries.append(
            NewLogEntry(
                user_id=user,
                replica=doc.replica,
                payload=encode_payload(ops),
                counter_lo=min(inserts, default=None),
                counter_hi=max(inserts, default=None),
                kind="insert" if inserts else "delete",
                position=at,
                length=1 if inserts else 2,
                preview=ops[0].text if isinstance(ops[0], Insert) else "",
            )
        )
    return entries


async def _everything(store: DocumentStore, doc_id: str, last: int) -> dict[str, Any]:
    reads: dict[str, Any] = {"all": await store.read_ops(doc_id, 0)}
    for after in (0, 1, 999, 1000, 1500, 2000, 2001, last - 3, last):
        reads[f"ops>{after}"] = await store.read_ops(doc_id, after, 700)
    for before in (None, 2, 1001, 1700, 2300, last):
        reads[f"history<{before}"] = await store.read_history(doc_id, before, 900)
        for gap in (0.0, 3600.0):
            reads[f"runs<{before}/{gap}"] = await store.read_edit_runs(doc_id, before, 0, 1200, gap)
    reads["runs after 1500"] = await store.read_edit_runs(doc_id, None, 1500, 5000, 3600.0)
    for after in (0, 500, 1000, 1999, 2400, last):
        reads[f"replicas>{after}"] = await store.list_log_replicas(doc_id, after)
    for seq in (1, 2, 999, 1000, 1001, 2000, last):
        e = reads["all"][seq - 1]
        hi = max(
            (
                int(op["id"].rpartition(":")[2]) + len(op["text"]) - 1
                for op in json.loads(e.payload[1:])
                if op["kind"] == "ins"
            ),
            default=None,
        )
        reads[f"resend {seq}"] = await store.find_seq_of_payload(
            doc_id, e.replica, e.payload, counter_hi=hi
        )
    return reads


async def test_packing_the_log_changes_no_read(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    doc = await store.create_document(ann.id, "Packed")
    a, b, g = Document("annReplica1"), Document("bobReplica1"), Document("guestReplica1")
    for user, replica in ((ann.id, a.replica), (bob.id, b.replica)):
        await store.bind_replica(replica, user)
    # Three authors, runs of typing, a payload that is not the canonical JSON of any ops.
    await store.append_ops(doc.id, _typing(ann.id, a, 900, 0))
    await store.append_ops(doc.id, _typing(bob.id, b, 600, 3))
    odd = NewLogEntry(user_id="guest-x", replica=g.replica, payload=b"\x01[ ]", kind="edit")
    await store.append_ops(doc.id, [odd])
    await store.append_ops(doc.id, _typing("guest-x", g, 899, 1))
    last = await store.append_ops(doc.id, _typing(ann.id, a, 600, 2))
    assert last == 3000

    before = await _everything(store, doc.id, last)
    assert before["resend 2000"] == 2000
    moved = await store.pack_log(doc.id, below_seq=2500)
    assert moved == (0 if store.dialect == "memory" else 2 * PACK_ROWS)
    assert await store.pack_log(doc.id, below_seq=2500) == 0  # nothing more to pack
    after = await _everything(store, doc.id, last)
    for key, value in before.items():
        assert after[key] == value, key

    # Appending goes on as before, and packing it later changes nothing either.
    last = await store.append_ops(doc.id, _typing(bob.id, b, 400, 5))
    before = await _everything(store, doc.id, last)
    assert await store.pack_log(doc.id, below_seq=last) == (
        0 if store.dialect == "memory" else PACK_ROWS
    )
    after = await _everything(store, doc.id, last)
    for key, value in before.items():
        assert after[key] == value, key


async def test_the_newest_entry_is_never_packed(store: DocumentStore) -> None:
    """The document list names who edited last from the newest entry: it stays a row."""
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    doc = await store.create_document(ann.id, "Exactly a pack")
    await store.append_ops(doc.id, _typing(ann.id, Document("exactReplica"), PACK_ROWS, 0))
    assert await store.pack_log(doc.id, below_seq=PACK_ROWS) == 0
    [listed] = await store.list_document_rows(ann.id)
    assert listed.last_editor_id == ann.id
    await store.append_ops(doc.id, _typing(ann.id, Document("laterReplica"), 1, 0))
    assert await store.pack_log(doc.id, below_seq=PACK_ROWS + 1) == (
        0 if store.dialect == "memory" else PACK_ROWS
    )


async def test_a_replica_whose_entries_are_all_packed_stays_bound(store: DocumentStore) -> None:
    """Nobody may take over a replica that wrote, even once all it wrote is packed: they could
    forge its characters."""
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    mal = await store.register_user("mal@example.com", "Mal", "hash")
    doc = await store.create_document(ann.id, "Packed")
    early, late = Document("earlyReplica"), Document("lateReplica1")
    await store.bind_replica(early.replica, ann.id)
    await store.bind_replica(late.replica, ann.id)
    await store.append_ops(doc.id, _typing(ann.id, early, PACK_ROWS, 0))
    await store.append_ops(doc.id, _typing(ann.id, late, 10, 0))
    assert await store.pack_log(doc.id, below_seq=PACK_ROWS + 10) in (0, PACK_ROWS)
    assert await store.prune_replicas(utcnow() + timedelta(days=1)) == 0
    assert await store.bind_replica(early.replica, mal.id) == ann.id


async def test_a_purged_document_takes_its_packs_along(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    doc = await store.create_document(ann.id, "Packed")
    replica = Document("goneReplica1")
    await store.bind_replica(replica.replica, ann.id)
    await store.append_ops(doc.id, _typing(ann.id, replica, PACK_ROWS + 5, 0))
    await store.pack_log(doc.id, below_seq=PACK_ROWS + 5)
    assert await store.trash_document(doc.id, ann.id) is not None
    assert await store.purge_document(doc.id)
    assert await store.read_ops(doc.id, 0) == []
    assert await store.list_log_replicas(doc.id, 0) == []
    # The replica wrote nothing that is left: it may be forgotten now.
    assert await store.prune_replicas(utcnow() + timedelta(days=1)) == 1
