"""Acknowledged means durable: SIGKILL the server while people type; nothing acked is lost."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from testkit.accounts import Users
from testkit.processes import ServerFactory
from testkit.typists import Typist, lost_acked_ops

RUNS = 3


async def test_sigkill_while_typing_loses_no_acknowledged_edit(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    args = ["--data-dir", str(tmp_path / "data")]
    with contextlib.ExitStack() as servers:
        server = servers.enter_context(start_server(args=args))
        users = Users(server.url)
        owner = await users.new("owner")
        doc = await owner.create_document("Crash test")
        others = [await users.new(f"typist{i}") for i in range(2)]
        for other in others:
            await owner.share(doc["id"], other.user["email"], "editor")  # type: ignore[index]
        lives = [c.open(doc["id"]) for c in (owner, *others)]
        for live in lives:
            await live.start()
        typists = [Typist(live, seed) for seed, live in enumerate(lives)]
        try:
            for run in range(RUNS):
                await asyncio.gather(*(t.type_for(0.8) for t in typists))
                server.kill()  # SIGKILL mid-stream: some edits are in flight, unacknowledged
                await asyncio.gather(*(t.type_for(0.2) for t in typists))  # typed offline
                server = servers.enter_context(start_server(args=args, port=server.port))
                for live in lives:
                    await live.synced(timeout=30)
                async with owner.open(doc["id"]) as reader:
                    stored = reader.session.doc
                acked = [ops for t in typists for ops in t.acked]
                lost = lost_acked_ops(acked, stored)
                assert lost == 0, f"run {run}: {lost} of {len(acked)} acknowledged messages lost"
                seq = max(live.seq for live in lives)
                for live in lives:
                    await live.wait_for(lambda d, s=seq: d.seq >= s, timeout=30)
                assert {live.text for live in lives} == {stored.text}
            print(
                f"\nSIGKILL durability: {RUNS} kills, {len(acked)} acknowledged messages, "
                "0 acknowledged-then-lost"
            )
            assert len(acked) > 50
        finally:
            for t in typists:
                await t.stop()
            for live in lives:
                await live.close()
            await users.close()
