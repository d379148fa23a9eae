"""MentionService on both backends: lookups, selections, sharing, persistence and the janitor."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from docstream.errors import InvalidInputError, NotFoundError
from docstream.services.identity import Identity
from docstream.services.typeahead.mentions import MentionService
from docstream.storage.base import DocumentRecord
from docstream.typeahead.durable import DurableTrie
from tests.typeahead.conftest import FakeClock
from tests.typeahead.services.conftest import World


@asynccontextmanager
async def mention_service(world: World, **kwargs: Any) -> AsyncIterator[MentionService]:
    settings = kwargs.pop("settings", None) or world.settings()
    async with MentionService(world.store, settings, **kwargs) as service:
        world.documents.extensions.add(service)
        try:
            yield service
        finally:
            world.documents.extensions.remove(service)


async def team(world: World, *names: str) -> tuple[list[Identity], DocumentRecord]:
    """Users with these names; the first owns a document shared with the others (editors)."""
    people = [await world.user(name) for name in names]
    doc = await world.doc(people[0], "Team doc")
    for person in people[1:]:
        await world.documents.share(people[0], doc.id, await world.email_of(person), "editor")
    return people, doc


def words(found: list[Any]) -> list[tuple[str, int]]:
    return [(s.word, s.frequency) for s in found]


async def test_lookups_ignore_case_and_the_at_sign_and_return_the_stored_names(
    world: World,
) -> None:
    _, doc = await team(world, "Ann Smith", "annabel", "Bob")
    async with mention_service(world) as mentions:
        expected = [("Ann Smith", 1), ("annabel", 1)]  # folded: "ann smith" < "annabel"
        assert words(await mentions.suggest(doc.id, "ANN", 10)) == expected
        assert words(await mentions.suggest(doc.id, "@an", 10)) == expected
        assert words(await mentions.suggest(doc.id, "@", 10)) == [
            ("Ann Smith", 1),
            ("annabel", 1),
            ("Bob", 1),
        ]
        assert words(await mentions.suggest(doc.id, "@zz", 10)) == []
        assert words(await mentions.suggest(doc.id, "@bo", 10)) == [("Bob", 1)]
        assert words(await mentions.suggest(doc.id, "@ob", 10)) == []  # 2 chars: no typos
        assert words(await mentions.suggest(doc.id, "annabl", 10)) == [("annabel", 1)]


async def test_selections_reorder_and_keep_the_stored_spelling(world: World) -> None:
    _, doc = await team(world, "Carol", "Cathy", "Cecil")
    async with mention_service(world) as mentions:
        assert [w for w, _ in words(await mentions.suggest(doc.id, "c", 3))] == [
            "Carol",
            "Cathy",
            "Cecil",
        ]
        picked = await mentions.select(doc.id, "@cecil")
        assert (picked.word, picked.frequency) == ("Cecil", 2)
        await mentions.select(doc.id, "CECIL")
        await mentions.select(doc.id, "cathy")
        assert words(await mentions.suggest(doc.id, "c", 3)) == [
            ("Cecil", 3),
            ("Cathy", 2),
            ("Carol", 1),
        ]
        with pytest.raises(InvalidInputError):
            await mentions.select(doc.id, "Mallory")  # not a collaborator: nothing planted
        assert words(await mentions.suggest(doc.id, "mal", 3)) == []


async def test_sharing_adds_and_unsharing_removes_a_collaborator(world: World) -> None:
    (owner, dave), doc = await team(world, "Owner", "Dave")
    erin = await world.user("Erin")
    async with mention_service(world) as mentions:
        await mentions.select(doc.id, "Dave")
        assert words(await mentions.suggest(doc.id, "", 10)) == [("Dave", 2), ("Owner", 1)]
        await world.documents.share(owner, doc.id, await world.email_of(erin), "viewer")
        assert [w for w, _ in words(await mentions.suggest(doc.id, "e", 10))] == ["Erin"]
        await world.documents.revoke(owner, doc.id, dave.user_id)
        assert words(await mentions.suggest(doc.id, "", 10)) == [("Erin", 1), ("Owner", 1)]
        with pytest.raises(InvalidInputError):
            await mentions.select(doc.id, "Dave")


async def test_frequencies_survive_a_restart_and_names_are_reconciled_on_load(
    world: World,
) -> None:
    (_owner, _frank, gina), doc = await team(world, "Owner", "Frank", "Gina")
    async with mention_service(world) as mentions:
        for _ in range(3):
            await mentions.select(doc.id, "frank")
        await mentions.select(doc.id, "gina")
    # While no index is loaded: Gina leaves, Hank joins (the database is the truth for names).
    await world.store.remove_permission(doc.id, gina.user_id)
    hank = await world.user("Hank")
    await world.store.set_permission(doc.id, hank.user_id, "viewer")
    async with mention_service(world) as mentions:
        assert words(await mentions.suggest(doc.id, "", 10)) == [
            ("Frank", 4),
            ("Hank", 1),
            ("Owner", 1),
        ]


async def test_document_ids_are_validated_before_any_path_is_built(world: World) -> None:
    async with mention_service(world) as mentions:
        for bad in ["../../etc/passwd", "x" * 40, "", "..", "0" * 36]:
            with pytest.raises(NotFoundError):
                await mentions.suggest(bad, "a", 5)
        missing = "0b9f4c2e-8a51-4f7e-9d7a-3c2b1a0f9e8d"
        with pytest.raises(NotFoundError):
            await mentions.suggest(missing, "a", 5)
        assert list(mentions.directory.iterdir()) == []  # no file for any of them
    assert sorted(p.name for p in (world.data_dir / "typeahead").iterdir()) == [
        "mentions-0",
        "mentions-0.lock",
    ]


async def test_a_deleted_documents_files_are_removed(world: World) -> None:
    (owner, _), doc = await team(world, "Owner", "Ivan")
    async with mention_service(world) as mentions:
        await mentions.select(doc.id, "ivan")
        assert list(mentions.directory.glob(f"{doc.id}.*"))
        await world.documents.delete(owner, doc.id)
        assert doc.id not in mentions.loaded
        assert list(mentions.directory.glob(f"{doc.id}.*")) == []
        with pytest.raises(NotFoundError):
            await mentions.suggest(doc.id, "", 5)


async def test_the_janitor_unloads_idle_tries_only(world: World) -> None:
    clock = FakeClock()
    settings = world.settings(mentions_idle_timeout=60.0)
    _, busy = await team(world, "Owner", "Jo")
    _, idle = await team(world, "Owner2", "Kim")
    async with mention_service(world, settings=settings, clock=clock) as mentions:
        await mentions.select(idle.id, "kim")
        clock.advance(30)
        await mentions.suggest(busy.id, "", 5)
        clock.advance(31)
        assert await mentions.sweep() == 1
        assert list(mentions.loaded) == [busy.id]
        assert list(mentions.directory.glob(f"{idle.id}.snapshot"))  # flushed on unload
        assert words(await mentions.suggest(idle.id, "k", 5)) == [("Kim", 2)]  # reloaded


async def test_the_janitor_runs_on_its_own(world: World) -> None:
    settings = world.settings(mentions_janitor_interval=0.02, mentions_idle_timeout=0.0)
    _, doc = await team(world, "Owner", "Lee")
    async with mention_service(world, settings=settings) as mentions:
        await mentions.suggest(doc.id, "", 5)
        for _ in range(200):
            if not mentions.loaded:
                break
            await asyncio.sleep(0.01)
        assert not mentions.loaded


class StallingStore:
    """A real DurableTrie whose ``close`` and ``select`` can be held at a gate."""

    def __init__(self, real: DurableTrie) -> None:
        self.real = real
        self.stall_close = False
        self.stall_select = False
        self.entered = threading.Event()
        self.gate = threading.Event()

    def _hold(self) -> None:
        self.entered.set()
        assert self.gate.wait(10), "the test never opened the gate"

    def close(self, **kwargs: Any) -> None:
        if self.stall_close:
            self._hold()
        self.real.close(**kwargs)

    def select(self, word: str) -> int:
        if self.stall_select:
            self._hold()
        return self.real.select(word)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class StallingOpener:
    def __init__(self) -> None:
        self.stores: list[StallingStore] = []

    def __call__(self, directory: Path | str, **kwargs: Any) -> StallingStore:
        store = StallingStore(DurableTrie.open(directory, **kwargs))
        self.stores.append(store)
        return store


async def test_requests_arriving_during_an_unload_wait_then_get_a_fresh_trie(
    world: World,
) -> None:
    clock = FakeClock()
    opener = StallingOpener()
    settings = world.settings(mentions_idle_timeout=10.0)
    _, doc = await team(world, "Owner", "Mia", "Max")
    async with mention_service(world, settings=settings, clock=clock, opener=opener) as mentions:
        await mentions.select(doc.id, "mia")
        first = mentions.loaded[doc.id]
        old = opener.stores[0]
        old.stall_close = True
        clock.advance(11)
        sweep = asyncio.create_task(mentions.sweep())
        assert await asyncio.to_thread(old.entered.wait, 5)
        assert first.closing
        arrivals = [
            asyncio.create_task(mentions.suggest(doc.id, "m", 5)),
            asyncio.create_task(mentions.select(doc.id, "MIA")),
            asyncio.create_task(mentions.select(doc.id, "max")),
        ]
        await asyncio.sleep(0.1)
        assert not any(task.done() for task in arrivals)  # they wait for the unload
        assert len(opener.stores) == 1  # ... and do not open the files while it runs
        old.gate.set()
        assert await sweep == 1
        found, mia, max_ = await asyncio.gather(*arrivals)
        assert len(opener.stores) == 2 and mentions.loaded[doc.id] is not first
        assert old.real.closed and not opener.stores[1].real.closed
        assert {w for w, _ in words(found)} == {"Mia", "Max"}
        assert (mia.word, mia.frequency) == ("Mia", 3)  # 1 + the pick before + the one during
        assert (max_.word, max_.frequency) == ("Max", 2)
    async with mention_service(world, settings=settings) as mentions:
        assert words(await mentions.suggest(doc.id, "m", 5)) == [("Mia", 3), ("Max", 2)]


async def test_an_unload_waits_for_a_selection_under_way(world: World) -> None:
    clock = FakeClock()
    opener = StallingOpener()
    settings = world.settings(mentions_idle_timeout=10.0)
    _, doc = await team(world, "Owner", "Noa")
    async with mention_service(world, settings=settings, clock=clock, opener=opener) as mentions:
        await mentions.suggest(doc.id, "", 5)
        store = opener.stores[0]
        store.stall_select = True
        picking = asyncio.create_task(mentions.select(doc.id, "noa"))
        assert await asyncio.to_thread(store.entered.wait, 5)
        clock.advance(11)
        sweep = asyncio.create_task(mentions.sweep())
        await asyncio.sleep(0.1)
        assert not sweep.done() and not store.real.closed  # the pick is written first
        store.gate.set()
        assert (await picking).frequency == 2
        assert await sweep == 1
        assert store.real.closed
    async with mention_service(world, settings=settings) as mentions:
        assert words(await mentions.suggest(doc.id, "noa", 5)) == [("Noa", 2)]


async def test_cluster_events_keep_two_nodes_in_step(world: World) -> None:
    (owner, _), doc = await team(world, "Owner", "Olga")
    sent: list[bytes] = []

    async def publish(kind: str, body: bytes) -> None:
        assert kind == "mentions"
        sent.append(body)

    async with (
        mention_service(world, publish=publish) as node_a,
        MentionService(world.store, world.settings()) as node_b,
    ):
        await node_b.suggest(doc.id, "", 5)  # loaded on B before the changes
        await node_a.select(doc.id, "olga")
        await node_a.select(doc.id, "olga")
        pia = await world.user("Pia")
        await world.documents.share(owner, doc.id, await world.email_of(pia), "viewer")
        for body in sent:
            await node_b.on_cluster_event(body)
        await node_b.on_cluster_event(b"{}")  # unreadable: ignored
        await node_b.events_applied()
        for node in (node_a, node_b):
            assert words(await node.suggest(doc.id, "", 5)) == [
                ("Olga", 3),
                ("Owner", 1),
                ("Pia", 1),
            ]
        await world.documents.delete(owner, doc.id)
        for body in sent[len(sent) - 1 :]:
            await node_b.on_cluster_event(body)
        await node_b.events_applied()
        assert doc.id not in node_b.loaded
        assert list(node_b.directory.glob(f"{doc.id}.*")) == []
