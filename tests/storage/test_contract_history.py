"""What the history reads from the store: runs of edits (summed up by the store) and whose each
replica is, on every backend (SQLite, a real PostgreSQL, and in memory)."""

from __future__ import annotations

import uuid

from docstream.storage.base import DocumentStore, NewLogEntry


async def test_edit_runs_sum_up_the_log_newest_first_without_payloads(
    store: DocumentStore,
) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    doc = await store.create_document(ann.id, "Stats")

    def e(user: str, kind: str, length: int) -> NewLogEntry:
        return NewLogEntry(user_id=user, replica="r", payload=b"\x01[]", kind=kind, length=length)

    await store.append_ops(
        doc.id,
        [
            e(ann.id, "insert", 5),
            e(ann.id, "delete", 2),
            e(ann.id, "edit", 3),
            e(bob.id, "delete", 4),
            e("guest-x", "insert", 7),
            e(ann.id, "insert", 1),
        ],
    )
    # Everything was appended within the hour: one run per change of author.
    runs = await store.read_edit_runs(doc.id, None, 0, 100, 3600.0)
    got = [
        (r.user_id, r.user_name, r.first_seq, r.last_seq, r.inserted, r.deleted, r.edits)
        for r in runs
    ]
    assert got == [
        (ann.id, "Ann", 6, 6, 1, 0, 1),
        ("guest-x", "", 5, 5, 7, 0, 1),
        (bob.id, "Bob", 4, 4, 0, 4, 1),
        (ann.id, "Ann", 1, 3, 8, 2, 3),
    ]
    assert runs[-1].started_at <= runs[-1].ended_at <= runs[0].started_at
    history = await store.read_history(doc.id, None, 10)
    assert runs[0].started_at == history[0].created_at
    # No pause is short enough for a gap of 0 seconds: every entry is its own run.
    single = await store.read_edit_runs(doc.id, None, 0, 100, 0.0)
    assert [(r.first_seq, r.last_seq) for r in single] == [(i, i) for i in range(6, 0, -1)]
    # The last ``entries`` entries before ``before_seq``, none at or below ``after_seq``.
    assert [
        (r.first_seq, r.last_seq) for r in await store.read_edit_runs(doc.id, 4, 0, 100, 3600.0)
    ] == [(1, 3)]
    assert [
        (r.first_seq, r.last_seq) for r in await store.read_edit_runs(doc.id, None, 0, 4, 3600.0)
    ] == [
        (6, 6),
        (5, 5),
        (4, 4),
        (3, 3),
    ]
    assert [
        (r.first_seq, r.last_seq) for r in await store.read_edit_runs(doc.id, None, 1, 100, 3600.0)
    ][-1] == (2, 3)
    assert [
        (r.first_seq, r.last_seq) for r in await store.read_edit_runs(doc.id, 3, 0, 1, 3600.0)
    ] == [(2, 2)]
    assert await store.read_edit_runs(doc.id, 1, 0, 100, 3600.0) == []
    assert await store.read_edit_runs(str(uuid.uuid4()), None, 0, 100, 3600.0) == []
    assert await store.read_edit_runs("not-a-uuid", None, 0, 100, 3600.0) == []


async def test_log_replicas_name_whose_each_replica_is(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    doc = await store.create_document(ann.id, "Authors")
    other = await store.create_document(bob.id, "Elsewhere")
    await store.append_ops(
        other.id, [NewLogEntry(user_id=bob.id, replica="elsewhere", payload=b"\x01[]")]
    )
    await store.append_ops(
        doc.id,
        [
            NewLogEntry(user_id=ann.id, replica="annTab1", payload=b"\x01[]"),
            NewLogEntry(user_id=ann.id, replica="annTab1", payload=b"\x01[]"),
            NewLogEntry(user_id=bob.id, replica="bobTab1", payload=b"\x01[]"),
            NewLogEntry(user_id="guest-1", replica="guestTab", payload=b"\x01[]"),
            NewLogEntry(user_id=ann.id, replica="annTab2", payload=b"\x01[]"),
        ],
    )
    got = [(a.replica, a.user_id, a.user_name) for a in await store.list_log_replicas(doc.id, 0)]
    assert got == [
        ("annTab1", ann.id, "Ann"),
        ("annTab2", ann.id, "Ann"),
        ("bobTab1", bob.id, "Bob"),
        ("guestTab", "guest-1", ""),
    ]
    # After a seq (what a public link may see): only the replicas that wrote since.
    later = await store.list_log_replicas(doc.id, 3)
    assert [a.replica for a in later] == ["annTab2", "guestTab"]
    assert await store.list_log_replicas(str(uuid.uuid4()), 0) == []
    assert await store.list_log_replicas("not-a-uuid", 0) == []
