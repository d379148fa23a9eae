"""Many clients, random concurrent edits, random disconnects: everyone ends with the same text."""

from __future__ import annotations

import asyncio
import random

import pytest

from testkit.accounts import Users
from testkit.typists import Typist, lost_acked_ops

SEEDS = range(6)


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_concurrent_editing_converges(users: Users, seed: int) -> None:
    rng = random.Random(seed)
    owner = await users.new("owner")
    doc = await owner.create_document(f"Convergence {seed}")
    clients = [owner]
    for i in range(4):
        other = await users.new(f"peer{i}")
        await owner.share(doc["id"], other.user["email"], "editor")  # type: ignore[index]
        clients.append(other)
    lives = [c.open(doc["id"]) for c in clients]
    lives.append(owner.open(doc["id"]))  # a second tab of the owner: its own replica
    await asyncio.gather(*(live.start() for live in lives))
    typists = [Typist(live, seed * 100 + i) for i, live in enumerate(lives)]
    try:

        async def chaos() -> None:
            for _ in range(6):
                await asyncio.sleep(rng.uniform(0.05, 0.25))
                rng.choice(lives).disconnect()

        await asyncio.gather(chaos(), *(t.type_for(1.5, pause=0.01) for t in typists))
        for live in lives:
            await live.synced(timeout=30)
        seq = max(live.seq for live in lives)
        for live in lives:
            await live.wait_for(lambda d, s=seq: d.seq >= s, timeout=30)
        texts = {live.text for live in lives}
        refused = [r for t in typists for r in t.refused]
        desynced = [d for t in typists for d in t.desynced]
        assert len(texts) == 1, f"seed {seed}: {len(texts)} different texts; {refused} {desynced}"
        stored = await owner.get_document(doc["id"])
        assert stored["text"] in texts and stored["seq"] == seq
        async with owner.open(doc["id"]) as reader:
            acked = [ops for t in typists for ops in t.acked]
            assert lost_acked_ops(acked, reader.session.doc) == 0
            assert len(acked) > 20
    finally:
        for t in typists:
            await t.stop()
        await asyncio.gather(*(live.close() for live in lives))
