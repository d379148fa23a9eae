"""Full-text search: one contract for every backend (SQLite FTS5, PostgreSQL tsvector, memory).

The index holds a document's title and text as of a seq; a query is plain terms (never query
syntax), each a word prefix, all required; hits are only live documents the caller owns or was
granted, the best first.
"""

from __future__ import annotations

import uuid

from docstream.storage.base import DocumentStore
from docstream.storage.search import search_terms
from tests.storage.test_contract import entry, make_user


async def _ids(store: DocumentStore, user_id: str, query: str, limit: int = 50) -> list[str]:
    return [h.doc.id for h in await store.search_documents(user_id, search_terms(query), limit, 0)]


async def test_every_term_must_match_as_a_word_prefix_in_title_or_text(
    store: DocumentStore,
) -> None:
    ann = await make_user(store)
    plan = await store.create_document(ann.id, "Launch plan")
    notes = await store.create_document(ann.id, "Notes")
    assert await store.index_for_search(plan.id, plan.title, "We collaborate on rockets.", 0)
    assert await store.index_for_search(notes.id, notes.title, "Rockets are LOUD; plans too.", 0)

    assert sorted(await _ids(store, ann.id, "rockets")) == sorted([plan.id, notes.id])
    assert await _ids(store, ann.id, "colla") == [plan.id]  # a prefix of "collaborate"
    assert await _ids(store, ann.id, "loud rocket") == [notes.id]  # every term, any order
    assert await _ids(store, ann.id, "ROCKETS Launch") == [plan.id]  # case-insensitive
    assert await _ids(store, ann.id, "laborate") == []  # a prefix, not any substring
    assert await _ids(store, ann.id, "rockets nowhere") == []
    assert await _ids(store, ann.id, "") == []
    # A title word outranks a text word.
    assert (await _ids(store, ann.id, "plan"))[0] == plan.id


async def test_only_owned_or_granted_live_documents_are_found(store: DocumentStore) -> None:
    ann = await make_user(store)
    bob = await make_user(store, "bob@example.com", "Bob")
    eve = await make_user(store, "eve@example.com", "Eve")
    mine = await store.create_document(ann.id, "Mine")
    shared = await store.create_document(ann.id, "Shared")
    public = await store.create_document(ann.id, "Public")
    trashed = await store.create_document(bob.id, "Trashed")
    for d in (mine, shared, public, trashed):
        assert await store.index_for_search(d.id, d.title, "secret zebra", 0)
    await store.set_permission(shared.id, bob.id, "viewer")
    await store.set_public_sharing(public.id, True, "editor")
    await store.trash_document(trashed.id, bob.id)

    assert sorted(await _ids(store, ann.id, "zebra")) == sorted([mine.id, shared.id, public.id])
    hits = await store.search_documents(bob.id, ["zebra"], 10, 0)
    assert [(h.doc.id, h.role) for h in hits] == [(shared.id, "viewer")]  # not public, not trash
    assert await _ids(store, eve.id, "zebra") == []
    assert await _ids(store, str(uuid.uuid4()), "zebra") == []
    assert await _ids(store, "guest-abc", "zebra") == []

    await store.restore_document(trashed.id)
    assert sorted(await _ids(store, bob.id, "zebra")) == sorted([shared.id, trashed.id])
    await store.remove_permission(shared.id, bob.id)
    assert await _ids(store, bob.id, "zebra") == [trashed.id]


async def test_an_older_seq_never_replaces_a_newer_entry(store: DocumentStore) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Doc")
    await store.append_ops(doc.id, [entry(ann.id), entry(ann.id)])
    assert await store.index_for_search(doc.id, "Doc", "newer words", 2)
    assert await store.index_for_search(doc.id, "Doc", "older words", 1)  # ignored
    assert await _ids(store, ann.id, "newer") == [doc.id]
    assert await _ids(store, ann.id, "older") == []
    hit = (await store.search_documents(ann.id, ["newer"], 1, 0))[0]
    assert hit.seq == 2 and hit.body == "newer words"
    assert await store.index_for_search(doc.id, "Renamed", "same seq replaces", 2)
    assert await _ids(store, ann.id, "renamed replaces") == [doc.id]


async def test_the_backlog_lists_unindexed_behind_and_renamed_documents(
    store: DocumentStore,
) -> None:
    ann = await make_user(store)
    a = await store.create_document(ann.id, "A")
    b = await store.create_document(ann.id, "B")
    c = await store.create_document(ann.id, "C")
    assert sorted(await store.search_backlog(100)) == sorted([a.id, b.id, c.id])
    for d in (a, b, c):
        await store.index_for_search(d.id, d.title, "", 0)
    assert await store.search_backlog(100) == []

    await store.append_ops(a.id, [entry(ann.id)])  # a's log moved past its index
    await store.rename_document(b.id, "B2")  # b's title changed
    trashed = await store.create_document(ann.id, "T")
    await store.trash_document(trashed.id, ann.id)  # never listed while in the trash
    assert sorted(await store.search_backlog(100)) == sorted([a.id, b.id])
    assert len(await store.search_backlog(1)) == 1
    await store.index_for_search(a.id, "A", "", 1)
    await store.index_for_search(b.id, "B2", "", 0)
    assert await store.search_backlog(100) == []


async def test_a_missing_or_purged_document_is_not_indexed(store: DocumentStore) -> None:
    ann = await make_user(store)
    assert not await store.index_for_search(str(uuid.uuid4()), "x", "ghost", 0)
    assert not await store.index_for_search("not-a-uuid", "x", "ghost", 0)
    doc = await store.create_document(ann.id, "Doc")
    await store.index_for_search(doc.id, "Doc", "ephemeral", 0)
    await store.trash_document(doc.id, ann.id)
    assert await store.purge_document(doc.id)
    assert await _ids(store, ann.id, "ephemeral") == []
    assert await store.search_backlog(10) == []


async def test_pages_follow_the_ranking(store: DocumentStore) -> None:
    ann = await make_user(store)
    docs = [await store.create_document(ann.id, f"Doc {i}") for i in range(7)]
    for i, d in enumerate(docs):
        # More occurrences rank higher on every backend.
        await store.index_for_search(d.id, d.title, "filler " * 20 + "kiwi " * (i + 1), 0)
    every = await _ids(store, ann.id, "kiwi")
    assert every == [d.id for d in reversed(docs)]
    pages = [
        [h.doc.id for h in await store.search_documents(ann.id, ["kiwi"], 3, off)]
        for off in (0, 3, 6)
    ]
    assert pages[0] + pages[1] + pages[2] == every
    assert await store.search_documents(ann.id, ["kiwi"], 3, 9) == []


async def test_query_syntax_in_terms_is_only_text(store: DocumentStore) -> None:
    """Whatever reaches the store as a term (the web layer passes search_terms only, but the
    store must not trust that) is matched as a word, never run as FTS5 or tsquery syntax."""
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Doc")
    await store.index_for_search(doc.id, "Doc", 'near or not and "quoted" title body', 0)
    # Each would match (or fail to parse) if run as FTS5 or tsquery syntax; as text, it is a
    # phrase or word the document does not hold.
    hostile = [
        ['"', "*"],
        ["zz OR near"],
        ["zz | near"],
        ["zz NEAR near"],
        ["{title body} : near"],
        ["near:* | zz"],
        ["a' | 'b"],
        ["x\\", "':*"],
        ["(", ")"],
        ["!zz"],
        ["-zz"],
        ["zz & b"],
        ["x" * 5000],
    ]
    for terms in hostile:
        assert await store.search_documents(ann.id, terms, 10, 0) == [], terms
    for query in ['"quoted"', "NEAR OR NOT AND", "title:body", "(near) ^or -not*"]:
        assert await _ids(store, ann.id, query) == [doc.id], query


async def test_unicode_text_is_found(store: DocumentStore) -> None:
    ann = await make_user(store)
    doc = await store.create_document(ann.id, "Заметки")
    await store.index_for_search(doc.id, doc.title, "Ελληνικά κείμενα και हिन्दी", 0)
    assert await _ids(store, ann.id, "заметки") == [doc.id]
    assert await _ids(store, ann.id, "ΕΛΛΗΝΙΚΆ") == [doc.id]
    assert await _ids(store, ann.id, "κείμ") == [doc.id]
