"""Contract: a document created together with its log (imports), on every backend."""

from __future__ import annotations

import uuid

import pytest

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.base import DocumentStore, NewLogEntry


def entries(user_id: str, replica: str, n: int) -> list[NewLogEntry]:
    return [
        NewLogEntry(
            user_id=user_id,
            replica=replica,
            payload=b"\x01[" + str(i).encode() + b"]",
            counter_lo=i,
            counter_hi=i,
            kind="insert",
            position=0,
            length=1,
            preview=f"p{i}\x00",
        )
        for i in range(1, n + 1)
    ]


async def test_a_document_is_created_with_its_whole_log(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    doc = await store.create_document_with_log(ann.id, "Imported", entries(ann.id, "imp_rep01", 3))
    assert doc.seq == 3 and doc.title == "Imported" and doc.owner_id == ann.id
    assert await store.get_document(doc.id) == doc
    log = await store.read_ops(doc.id, 0)
    assert [e.seq for e in log] == [1, 2, 3]
    assert [e.payload for e in log] == [b"\x01[1]", b"\x01[2]", b"\x01[3]"]
    assert log[0].user_id == ann.id and log[0].replica == "imp_rep01" and log[0].kind == "insert"
    assert await store.find_seq_of_payload(doc.id, "imp_rep01", b"\x01[2]", counter_hi=2) == 2
    # The replica is the owner's now: nobody else can take it over.
    assert await store.bind_replica("imp_rep01", ann.id) == ann.id
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    assert await store.bind_replica("imp_rep01", bob.id) == ann.id
    # It goes on like any document.
    assert await store.append_ops(doc.id, entries(ann.id, "imp_rep01", 1)) == 4
    assert [d.id for d, role in await store.list_documents(ann.id)] == [doc.id]


async def test_nothing_is_created_when_a_replica_is_someone_elses(store: DocumentStore) -> None:
    ann = await store.register_user("ann@example.com", "Ann", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    await store.bind_replica("bobs_replica", bob.id)
    mixed = entries(ann.id, "anns_replica", 2) + entries(ann.id, "bobs_replica", 1)
    with pytest.raises(ConflictError):
        await store.create_document_with_log(ann.id, "Nope", mixed)
    assert await store.list_documents(ann.id) == []
    assert await store.count_owned_documents(ann.id) == 0
    # The other replica of the refused import was not bound either: Bob can still take it.
    assert await store.bind_replica("anns_replica", bob.id) == bob.id


async def test_an_unknown_owner_is_not_found(store: DocumentStore) -> None:
    ghost = str(uuid.uuid4())
    with pytest.raises(NotFoundError):
        await store.create_document_with_log(ghost, "Nope", entries(ghost, "ghost_rep1", 1))
    with pytest.raises(NotFoundError):
        await store.create_document_with_log("not-a-uuid", "Nope", [])
