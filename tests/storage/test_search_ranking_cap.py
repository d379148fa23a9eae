"""The SQL backends rank at most ``RANKED`` matches: the caller's most recently changed ones (see
docstream/storage/sqlite/search.py and postgres/search.py). Checked with a small cap on real
databases; other people's newer matches never take the caller's places."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from docstream.storage.base import DocumentStore
from docstream.storage.postgres import search as pg_search
from docstream.storage.sqlite import search as sqlite_search
from testkit.config import BACKENDS
from tests.storage.test_contract import make_user


@pytest.mark.parametrize("backend", BACKENDS)
async def test_only_the_most_recently_changed_matches_are_ranked(
    backend: str, make_store: Callable[[str], DocumentStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_search if backend == "postgres" else sqlite_search, "RANKED", 3)
    async with make_store(backend) as store:
        await store.migrate()
        ann = await make_user(store)
        bob = await make_user(store, "bob@example.com", "Bob")
        docs = []
        for i in range(6):
            doc = await store.create_document(ann.id, f"Doc {i}")
            # The oldest say "otter" most often: they would rank first if all were ranked.
            await store.index_for_search(doc.id, doc.title, "otter " * (10 - i), 0)
            docs.append(doc)
        for _ in range(3):  # Bob's newer matches
            theirs = await store.create_document(bob.id, "Bob's")
            await store.index_for_search(theirs.id, theirs.title, "otter", 0)
        hits = await store.search_documents(ann.id, ["otter"], 10, 0)
        # Ann's 3 most recently changed, ranked among themselves (more "otter" first).
        assert [h.doc.id for h in hits] == [docs[3].id, docs[4].id, docs[5].id]
        assert [h.role for h in hits] == ["owner"] * 3
        # Doc 0 changes (renamed and re-indexed, as the indexer does): now it is ranked.
        renamed = await store.rename_document(docs[0].id, "Doc 0, renamed")
        assert renamed is not None
        await store.index_for_search(renamed.id, renamed.title, "otter " * 10, 0)
        hits = await store.search_documents(ann.id, ["otter"], 10, 0)
        assert [h.doc.id for h in hits] == [docs[0].id, docs[4].id, docs[5].id]
        assert await store.search_documents(ann.id, ["otter"], 10, 3) == []
