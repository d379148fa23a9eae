"""TitleService on both backends: listener updates, the permission loop, reconciling, failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest

from docstream.errors import PersistenceError
from docstream.services.identity import Identity
from docstream.services.typeahead import titles as titles_module
from docstream.services.typeahead.title_entries import SetTitle, parse_entry
from docstream.services.typeahead.titles import TitleService
from docstream.typeahead.durable import DurableTrie
from tests.typeahead.services.conftest import World


class FlakyStore:
    """A real DurableTrie whose ``apply`` fails the next ``failures`` times."""

    def __init__(self, real: DurableTrie) -> None:
        self.real = real
        self.failures = 0
        self.calls = 0

    def apply(self, mutations: Any) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise PersistenceError("injected: the disk is full")
        self.real.apply(mutations)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __len__(self) -> int:
        return len(self.real)


class FlakyOpener:
    def __init__(self) -> None:
        self.stores: list[FlakyStore] = []

    def __call__(self, directory: Path | str, **kwargs: Any) -> FlakyStore:
        store = FlakyStore(DurableTrie.open(directory, **kwargs))
        self.stores.append(store)
        return store


@asynccontextmanager
async def title_service(world: World, **kwargs: Any) -> AsyncIterator[TitleService]:
    settings = kwargs.pop("settings", None) or world.settings()
    async with TitleService(world.store, world.documents, settings, **kwargs) as service:
        world.documents.extensions.add(service)
        try:
            yield service
        finally:
            world.documents.extensions.remove(service)


def titles_of(found: list[Any]) -> list[str]:
    return [s.word for s in found]


async def test_titles_follow_create_rename_and_delete(world: World) -> None:
    ann = await world.user("Ann")
    async with title_service(world) as titles:
        plan = await world.doc(ann, "Roadmap 2025")
        notes = await world.doc(ann, "Meeting notes")
        await titles.flush()
        assert titles_of(await titles.suggest(ann, "road", 10)) == ["Roadmap 2025"]
        assert [s.doc_id for s in await titles.suggest(ann, "MEET", 10)] == [notes.id]

        await world.documents.rename(ann, plan.id, "Strategy 2025")
        await world.documents.delete(ann, notes.id)
        await titles.flush()
        assert await titles.suggest(ann, "road", 10) == []
        assert await titles.suggest(ann, "meet", 10) == []
        assert titles_of(await titles.suggest(ann, "strat", 10)) == ["Strategy 2025"]
        assert titles.failed_writes == 0


async def test_same_title_on_two_documents_gives_two_results_ranked_by_entry(
    world: World,
) -> None:
    ann = await world.user("Ann")
    async with title_service(world) as titles:
        a = await world.doc(ann, "Plan")
        b = await world.doc(ann, "Plan")
        c = await world.doc(ann, "plan B")
        await titles.flush()
        found = await titles.suggest(ann, "plan", 10)
        # Entries rank by "<title>|<id>" folded: " " sorts before "|", so "plan b|" first.
        assert [s.doc_id for s in found[:1]] == [c.id]
        assert [s.doc_id for s in found[1:]] == sorted([a.id, b.id])
        assert all(s.frequency == 1 for s in found)


async def test_typos_and_pipes_in_queries(world: World) -> None:
    ann = await world.user("Ann")
    async with title_service(world) as titles:
        doc = await world.doc(ann, "Quarterly report")
        await titles.flush()
        assert titles_of(await titles.suggest(ann, "quxrtxrly", 5)) == []  # two edits away
        assert titles_of(await titles.suggest(ann, "quaterly", 5)) == ["Quarterly report"]
        # The separator is stripped: nobody can search inside the "|<id>" part.
        assert await titles.suggest(ann, f"|{doc.id[:8]}", 5) == []
        assert titles_of(await titles.suggest(ann, "Quarterly| report", 5)) == ["Quarterly report"]
        assert await titles.suggest(ann, "   ", 5) == []


async def test_only_documents_the_caller_can_open_are_suggested(world: World) -> None:
    ann, bob = await world.user("Ann"), await world.user("Bob")
    async with title_service(world) as titles:
        mine = await world.doc(ann, "Budget mine")
        theirs = await world.doc(bob, "Budget theirs")
        shared = await world.doc(bob, "Budget shared")
        await titles.flush()
        assert titles_of(await titles.suggest(ann, "budget", 10)) == ["Budget mine"]

        await world.documents.share(bob, shared.id, await world.email_of(ann), "viewer")
        assert titles_of(await titles.suggest(ann, "budget", 10)) == [
            "Budget mine",
            "Budget shared",
        ]
        await world.documents.revoke(bob, shared.id, ann.user_id)  # checked at query time
        assert titles_of(await titles.suggest(ann, "budget", 10)) == ["Budget mine"]
        assert {s.doc_id for s in await titles.suggest(bob, "budget", 10)} == {
            theirs.id,
            shared.id,
        }
        assert mine.id not in {s.doc_id for s in await titles.suggest(bob, "budget", 10)}


class AccessSpy:
    """Records how many ids each access check asked about."""

    def __init__(self, world: World) -> None:
        self.sizes: list[int] = []
        self._real = world.documents.accessible

    async def __call__(
        self, caller: Identity, doc_ids: list[str], *, include_public: bool = True
    ) -> set[str]:
        self.sizes.append(len(doc_ids))
        return await self._real(caller, doc_ids, include_public=include_public)


async def test_the_pool_starts_at_three_times_the_limit_and_doubles_one_query_each(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, bob = await world.user("Ann"), await world.user("Bob")
    async with title_service(world) as titles:
        for i in range(40):
            await world.doc(bob, f"Plan {i:02d}")
        for i in range(3):
            await world.doc(ann, f"Plan zz {i}")  # ranked after all of Bob's
        await titles.flush()
        spy = AccessSpy(world)
        monkeypatch.setattr(world.documents, "accessible", spy)

        found = await titles.suggest(ann, "plan", 2)
        assert titles_of(found) == ["Plan zz 0", "Plan zz 1"]
        # pools of 6, 12, 24, 48 candidates: each round checks only the new ones, in one query.
        assert spy.sizes == [6, 6, 12, 19]

        spy.sizes.clear()
        assert titles_of(await titles.suggest(ann, "plan zz", 2)) == ["Plan zz 0", "Plan zz 1"]
        assert spy.sizes == [3]  # the trie had fewer than the pool: one round


class ListSpy:
    def __init__(self, world: World) -> None:
        self.calls = 0
        self._real = world.documents.list_for

    async def __call__(self, caller: Identity) -> Any:
        self.calls += 1
        return await self._real(caller)


@pytest.mark.parametrize(
    ("others", "checks", "fallback"), [(30, [20, 13], False), (60, [20, 20], True)]
)
async def test_documents_ranked_after_the_largest_pool_are_still_found(
    world: World, monkeypatch: pytest.MonkeyPatch, others: int, checks: list[int], fallback: bool
) -> None:
    monkeypatch.setattr(titles_module, "MAX_POOL", 20)
    monkeypatch.setattr(titles_module, "LAST_POOL", 40)
    ann, bob = await world.user("Ann"), await world.user("Bob")
    async with title_service(world) as titles:
        hidden = {(await world.doc(bob, f"Plan {i:02d}")).id for i in range(others)}
        mine = [await world.doc(ann, f"Plan zz {i}") for i in range(3)]
        await titles.flush()
        access, listing = AccessSpy(world), ListSpy(world)
        monkeypatch.setattr(world.documents, "accessible", access)
        monkeypatch.setattr(world.documents, "list_for", listing)
        found = await titles.suggest(ann, "plan", 10)
        assert [s.doc_id for s in found] == [d.id for d in mine]
        assert not hidden & {s.doc_id for s in found}
        # 20 = the doubled pool's cap, then the last look at 40; only past that the listing.
        assert access.sizes == checks
        assert listing.calls == (1 if fallback else 0)


async def test_reconcile_on_start_adds_missing_and_removes_stale_titles(world: World) -> None:
    ann = await world.user("Ann")
    async with title_service(world) as titles:
        kept = await world.doc(ann, "Kept")
        gone = await world.doc(ann, "Gone")
        renamed = await world.doc(ann, "Old name")
        await titles.flush()
    # Changes while the index is closed (another node, or a crash before the write).
    await world.store.delete_document(gone.id)
    await world.store.rename_document(renamed.id, "New name")
    added = await world.store.create_document(ann.user_id, "Added")
    cased = await world.store.rename_document(kept.id, "KEPT")
    assert cased is not None
    async with title_service(world) as titles:
        entries = sorted(w for w, _ in titles.trie.items_lru())
        assert entries == sorted(
            [
                f"KEPT|{kept.id}",
                f"New name|{renamed.id}",
                f"name\x1fNew |{renamed.id}",
                f"Added|{added.id}",
            ]
        )
        assert titles_of(await titles.suggest(ann, "new", 5)) == ["New name"]
        assert titles_of(await titles.suggest(ann, "kept", 5)) == ["KEPT"]


async def test_a_transient_write_failure_is_retried(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    ann = await world.user("Ann")
    opener = FlakyOpener()
    async with title_service(world, opener=opener, backoff=0.01) as titles:
        opener.stores[0].failures = 2
        with caplog.at_level(logging.WARNING, logger="docstream.services.typeahead.titles"):
            await world.doc(ann, "Flaky")
            await titles.flush()
        assert titles_of(await titles.suggest(ann, "flaky", 5)) == ["Flaky"]
        assert titles.failed_writes == 0 and not titles.stale
        assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING"]


async def test_a_write_that_fails_three_times_is_counted_and_healed_by_reconciling(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    ann = await world.user("Ann")
    opener = FlakyOpener()
    async with title_service(world, opener=opener, backoff=0.01, housekeeping=0.05) as titles:
        store = opener.stores[0]
        store.failures = 3
        with caplog.at_level(logging.WARNING, logger="docstream.services.typeahead.titles"):
            await world.doc(ann, "Lost for now")
            await titles.flush()
        assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING", "ERROR"]
        assert store.calls == 3
        assert titles.failed_writes == 1 and titles.stale
        assert titles.health()["failed_writes"] == 1
        assert await titles.suggest(ann, "lost", 5) == []
        # The disk is back: the next housekeeping round reconciles with the database.
        for _ in range(100):
            if not titles.stale:
                break
            await asyncio.sleep(0.02)
        assert not titles.stale
        assert titles_of(await titles.suggest(ann, "lost", 5)) == ["Lost for now"]
        assert titles.failed_writes == 1  # a count of what failed, not of what is missing


async def test_a_damaged_store_is_set_aside_and_rebuilt_from_the_database(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    ann = await world.user("Ann")
    async with title_service(world) as titles:
        await world.doc(ann, "Survivor")
        await titles.flush()
    slot = world.data_dir / "typeahead" / "titles-0"
    (slot / "titles.snapshot").write_bytes(b"DSTA-SNP\x00\x01garbage")
    with caplog.at_level(logging.ERROR, logger="docstream.services.typeahead.stores"):
        async with title_service(world) as titles:
            assert titles_of(await titles.suggest(ann, "surv", 5)) == ["Survivor"]
    assert any("cannot be trusted" in r.getMessage() for r in caplog.records)
    assert list(slot.glob("titles.snapshot.damaged-*"))


async def test_worker_processes_sharing_a_data_dir_get_their_own_slots(world: World) -> None:
    ann = await world.user("Ann")
    await world.doc(ann, "Shared dir")
    async with title_service(world) as first, title_service(world) as second:
        assert first.trie is not second.trie
        for service in (first, second):
            assert titles_of(await service.suggest(ann, "shared", 5)) == ["Shared dir"]
    slots = sorted(p.name for p in (world.data_dir / "typeahead").iterdir() if p.is_dir())
    assert slots == ["titles-0", "titles-1"]


async def test_cluster_events_keep_two_nodes_in_step(world: World) -> None:
    ann = await world.user("Ann")
    sent: list[tuple[str, bytes]] = []

    async def publish(kind: str, body: bytes) -> None:
        sent.append((kind, body))

    async with (
        title_service(world, publish=publish) as node_a,
        TitleService(world.store, world.documents, world.settings()) as node_b,
    ):
        doc = await world.doc(ann, "Travels")  # only node A is an extension of the documents
        await world.documents.rename(ann, doc.id, "Travels far")
        await world.documents.delete(ann, (await world.doc(ann, "Temp")).id)
        assert [kind for kind, _ in sent] == ["titles"] * 4
        first = msgspec.json.decode(sent[0][1])
        assert first == {
            "type": "set",
            "doc_id": doc.id,
            "title": "Travels",
            "owner_id": doc.owner_id,  # per-owner fairness on every node
        }
        for _kind, body in sent:
            await node_b.on_cluster_event(body)
        await node_b.on_cluster_event(b"not json")  # ignored, logged
        await node_a.flush()
        await node_b.flush()
        for node in (node_a, node_b):
            assert [w for w, _ in node.trie.items_lru()] == [
                f"Travels far|{doc.id}",
                f"far\x1fTravels |{doc.id}",
            ]


def test_entries_parse_titles_with_pipes() -> None:
    doc_id = "0b9f4c2e-8a51-4f7e-9d7a-3c2b1a0f9e8d"
    assert parse_entry(f"a|b|{doc_id}") == ("a|b", doc_id, 0)
    assert parse_entry(f"b c\x1fa |{doc_id}") == ("a b c", doc_id, 2)
    assert parse_entry(f"\x1fa|{doc_id}") is None
    assert parse_entry("no id") is None
    assert parse_entry("title|not-a-uuid") is None
    assert parse_entry(f"|{doc_id}") is None
    assert SetTitle(doc_id, "x").title == "x"


async def test_any_word_of_a_title_matches_and_the_whole_title_ranks_first(world: World) -> None:
    ann = await world.user("Ann")
    async with title_service(world) as titles:
        team = await world.doc(ann, "Team notes")
        notes = await world.doc(ann, "Notes on notes")
        await world.doc(ann, "Denotes nothing")  # "notes" inside a word is not a word start
        await world.doc(ann, "Budget (draft)/Q3-review")
        await titles.flush()
        found = await titles.suggest(ann, "notes", 10)
        # The whole-title prefix first, then the word prefix; each document once.
        assert [s.doc_id for s in found] == [notes.id, team.id]
        assert [s.match for s in found] == [(0, 5), (5, 10)]
        assert titles_of(await titles.suggest(ann, "team no", 5)) == ["Team notes"]
        assert [(s.word, s.match) for s in await titles.suggest(ann, "on no", 5)] == [
            ("Notes on notes", (6, 11))
        ]
        # Punctuation separates words too.
        for query, span in [("draft", (8, 13)), ("q3", (15, 17)), ("REVIEW", (18, 24))]:
            assert [s.match for s in await titles.suggest(ann, query, 5)] == [span], query
        # A typo in a later word still finds it, after exact matches.
        assert titles_of(await titles.suggest(ann, "nootes", 5)) == [
            "Notes on notes",
            "Team notes",
        ]


async def test_match_offsets_are_utf16_and_survive_case_folding(world: World) -> None:
    ann = await world.user("Ann")
    async with title_service(world) as titles:
        await world.doc(ann, "😀 Straße Café")
        await titles.flush()
        # The emoji is two UTF-16 code units; "STRASS" folds to "strass" (6) = "Straß" (5).
        assert [s.match for s in await titles.suggest(ann, "STRASS", 5)] == [(3, 8)]
        assert [s.match for s in await titles.suggest(ann, "cafe\u0301", 5)] == [(10, 14)]


async def test_renames_and_deletes_remove_every_word_entry(world: World) -> None:
    ann = await world.user("Ann")
    async with title_service(world) as titles:
        doc = await world.doc(ann, "Alpha beta gamma")
        await titles.flush()
        assert len(titles.trie) == 3
        await world.documents.rename(ann, doc.id, "Alpha delta")
        await titles.flush()
        assert await titles.suggest(ann, "gamma", 5) == []
        assert await titles.suggest(ann, "beta", 5) == []
        assert titles_of(await titles.suggest(ann, "delta", 5)) == ["Alpha delta"]
        assert sorted(w for w, _ in titles.trie.items_lru()) == sorted(
            [f"Alpha delta|{doc.id}", f"delta\x1fAlpha |{doc.id}"]
        )
        await world.documents.delete(ann, doc.id)
        await titles.flush()
        assert len(titles.trie) == 0
    async with title_service(world) as titles:  # the restart path: nothing comes back
        assert len(titles.trie) == 0


async def test_mid_title_words_of_inaccessible_documents_are_never_suggested(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(titles_module, "MAX_POOL", 20)
    monkeypatch.setattr(titles_module, "LAST_POOL", 40)
    ann, bob = await world.user("Ann"), await world.user("Bob")
    async with title_service(world) as titles:
        hidden = {(await world.doc(bob, f"Secret {i:02d} roadmap")).id for i in range(60)}
        mine = await world.doc(ann, "My roadmap")
        shared = await world.doc(bob, "Shared zz roadmap")
        await world.documents.share(bob, shared.id, await world.email_of(ann), "viewer")
        await titles.flush()
        found = await titles.suggest(ann, "roadmap", 10)
        assert [s.doc_id for s in found] == [mine.id, shared.id]
        assert not hidden & {s.doc_id for s in await titles.suggest(ann, "road", 50)}
        await world.documents.revoke(bob, shared.id, ann.user_id)
        assert [s.doc_id for s in await titles.suggest(ann, "zz", 10)] == []


async def test_the_word_budget_keeps_the_newest_documents_whole(world: World) -> None:
    ann = await world.user("Ann")
    oldest = await world.doc(ann, "Alpha beta gamma")  # 3 entries
    await world.doc(ann, "Delta epsilon")  # 2
    await world.doc(ann, "Zeta eta")  # 2
    async with title_service(world, settings=world.settings(titles_max_words=5)) as titles:
        # 2 + 2 fit; the oldest title's 3 words would not: none of them is indexed.
        assert len(titles.trie) == 4
        assert await titles.suggest(ann, "gamma", 5) == []
        assert titles_of(await titles.suggest(ann, "eta", 5)) == ["Zeta eta"]
        assert oldest.id not in {s.doc_id for s in await titles.suggest(ann, "alpha", 5)}
