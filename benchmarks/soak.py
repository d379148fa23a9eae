"""The soak: a two-node cluster under a changing crowd for 30 minutes (``--quick``: 2 minutes).

``python -m benchmarks soak [--quick]``. Two ``docstream serve`` nodes share a throwaway PostgreSQL
and a throwaway Redis (``testkit.services``); one client process drives everything through the
Python client (``docstream.client``), each person signed in on both nodes.

The crowd: 16 typists (quick: 6) over 6 documents (quick: 3). Each typist, over and over, opens a
random document on a random node, types random inserts and deletes (about 4 edits per second, as
``testkit.typists.Typist`` does) for 5-40 s (quick: 3-10 s), drops its connection once in a while
(one session in four: the client reconnects and re-sends what was not acknowledged), waits until
everything it typed is acknowledged, leaves, and pauses 0-3 s. Halfway through, node A is stopped
(SIGTERM) and started again on its port: its clients reconnect to it.

Measured:

* **acknowledged edits lost**: at the end, every document is read back on both nodes; every
  message any typist had acknowledged must be in it (``testkit.typists.lost_acked_ops``);
* **divergence**: documents whose text differs between the two nodes, or from the REST text;
* **memory**: each node's RSS (its process group) every 5 s. Node B runs throughout: its growth is
  the median of the last tenth of the run against the median of the tenth after the warm-up (the
  first quarter). Node A is judged the same way over its second life (after the restart).
* the number of sessions, reconnects (drops) and edits acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks.collab import BASE_ENV, group_stats, load_avg, pg_database
from benchmarks.report import Row
from docstream.client import DocStreamClient
from docstream.crdt import Op
from testkit.accounts import unique_email
from testkit.processes import ServerProcess, run_server
from testkit.services import postgres, redis
from testkit.typists import Typist, lost_acked_ops

SUITE = "soak"
PASSWORD = "password123"
SAMPLE_EVERY = 5.0


def log(message: str) -> None:
    print(f"  {SUITE}: {message}", file=sys.stderr, flush=True)


@dataclass
class Plan:
    seconds: float
    typists: int
    documents: int
    session: tuple[float, float]

    @staticmethod
    def of(quick: bool) -> Plan:
        if quick:
            return Plan(seconds=120, typists=6, documents=3, session=(3, 10))
        return Plan(seconds=1800, typists=16, documents=6, session=(5, 40))


@dataclass
class Tally:
    sessions: int = 0
    drops: int = 0
    unsynced: int = 0  # sessions that did not get every edit acknowledged in time
    acked: dict[str, list[list[Op]]] = field(default_factory=lambda: defaultdict(list))
    refused: int = 0
    desynced: int = 0


@dataclass
class Memory:
    """RSS samples (time, bytes) of one node process group."""

    samples: list[tuple[float, int]] = field(default_factory=list)

    def growth(self, start: float, end: float) -> tuple[float, float, float]:
        """(growth %, baseline MB, final MB) over [start, end]: warm-up is its first quarter."""
        span = end - start
        warm = start + span / 4
        base = [r for t, r in self.samples if warm <= t < warm + span / 10]
        last = [r for t, r in self.samples if t >= end - span / 10]
        if not base or not last:
            return float("nan"), 0.0, 0.0
        b, f = statistics.median(base), statistics.median(last)
        return (f - b) / b * 100, b / 2**20, f / 2**20


class Cluster:
    def __init__(self, db: str, redis_url: str) -> None:
        self.db, self.redis_url = db, redis_url
        self.stack = contextlib.ExitStack()
        self.a = self.start()
        self.b = self.start()

    def start(self, port: int | None = None) -> ServerProcess:
        args = ["--database-url", self.db, "--redis-url", self.redis_url]
        return self.stack.enter_context(run_server(args, BASE_ENV, port=port, stop_timeout=30))

    def restart_a(self) -> None:
        self.a.stop(timeout=30)
        self.a = self.start(port=self.a.port)

    def close(self) -> None:
        self.stack.close()


async def _sample(cluster: Cluster, memory: dict[str, Memory], stop: asyncio.Event) -> None:
    while not stop.is_set():
        now = time.monotonic()
        for name in ("a", "b"):
            node: ServerProcess = getattr(cluster, name)
            with contextlib.suppress(Exception):  # node A between its two lives
                memory[name].samples.append((now, group_stats(node.pid)[1]))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY)


async def _typist(
    seat: int,
    clients: list[DocStreamClient],
    docs: list[str],
    plan: Plan,
    until: float,
    tally: Tally,
) -> None:
    rng = random.Random(seat)
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        doc_id = rng.choice(docs)
        client = rng.choice(clients)
        tally.sessions += 1
        live = client.open(doc_id)
        try:
            await live.start(timeout=60)
            typist = Typist(live, rng.randrange(2**31))
            seconds = min(rng.uniform(*plan.session), max(0.0, until - loop.time()))
            drop = rng.random() < 0.25
            if drop:
                await typist.type_for(seconds / 2, pause=0.25)
                live.disconnect()  # the client reconnects and re-sends what is unacknowledged
                tally.drops += 1
                await typist.type_for(seconds / 2, pause=0.25)
            else:
                await typist.type_for(seconds, pause=0.25)
            try:
                await live.synced(timeout=120)
            except TimeoutError:
                tally.unsynced += 1
            await asyncio.sleep(0.2)  # the last acks' events reach the typist
            tally.acked[doc_id] += typist.acked
            tally.refused += len(typist.refused)
            tally.desynced += len(typist.desynced)
            await typist.stop()
        finally:
            await live.close()
        await asyncio.sleep(rng.uniform(0, 3))


async def _drive(cluster: Cluster, plan: Plan) -> tuple[Tally, dict[str, Memory], dict[str, Any]]:
    people: list[list[DocStreamClient]] = []
    owner_a = DocStreamClient(cluster.a.url)
    owner_email = unique_email("owner")
    await owner_a.register(owner_email, PASSWORD, "Owner")
    docs = [(await owner_a.create_document(f"soak {i}"))["id"] for i in range(plan.documents)]
    for i in range(plan.typists):
        email = unique_email(f"typist{i}")
        on_a, on_b = DocStreamClient(cluster.a.url), DocStreamClient(cluster.b.url)
        await on_a.register(email, PASSWORD, f"Typist {i}")
        await on_b.login(email, PASSWORD)
        for doc_id in docs:
            await owner_a.share(doc_id, email, "editor")
        people.append([on_a, on_b])
    memory = {"a": Memory(), "b": Memory()}
    stop = asyncio.Event()
    sampler = asyncio.get_running_loop().create_task(_sample(cluster, memory, stop))
    tally = Tally()
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    until = loop.time() + plan.seconds
    crowd = [
        loop.create_task(_typist(i, people[i], docs, plan, until, tally))
        for i in range(plan.typists)
    ]
    await asyncio.sleep(plan.seconds / 2)
    log("restarting node A (SIGTERM, then again on its port)")
    t_restart = time.monotonic()
    await asyncio.to_thread(cluster.restart_a)
    restarted = time.monotonic()
    log(f"node A back after {restarted - t_restart:.1f} s")
    await asyncio.gather(*crowd)
    ended = time.monotonic()
    stop.set()
    await sampler
    # Read every document back on both nodes: what was acknowledged is there, and they agree.
    # (Signed in again: a 30-minute run outlives an access token; the sockets refresh their own.)
    await owner_a.login(owner_email, PASSWORD)
    lost = divergent = 0
    for doc_id in docs:
        texts = []
        for client in people[0]:
            async with client.open(doc_id) as reader:
                await reader.synced(timeout=60)
                texts.append(reader.text)
                lost += lost_acked_ops(tally.acked[doc_id], reader.session.doc)
        rest = (await owner_a.get_document(doc_id))["text"]
        divergent += len({*texts, rest}) != 1
    for pair in people:
        for client in pair:
            await client.aclose()
    await owner_a.aclose()
    outcome = {
        "lost": lost,
        "divergent": divergent,
        "restart": (t_restart, restarted),
        "started": started,
        "ended": ended,
    }
    return tally, memory, outcome


def run(quick: bool) -> list[Row]:
    plan = Plan.of(quick)
    with postgres() as pg, redis() as rd:
        cluster = Cluster(pg_database(pg), rd.url)
        try:
            load_before = load_avg()
            log(f"{plan.typists} typists, {plan.documents} documents, {plan.seconds:.0f} s")
            tally, memory, outcome = asyncio.run(_drive(cluster, plan))
            load_after = load_avg()
        finally:
            cluster.close()
    acked = sum(len(v) for v in tally.acked.values())
    b_growth, b_base, b_final = memory["b"].growth(outcome["started"], outcome["ended"])
    a_growth, a_base, a_final = memory["a"].growth(outcome["restart"][1], outcome["ended"])
    label = f"{plan.seconds / 60:.0f} min, {plan.typists} typists, {plan.documents} documents"
    common = (
        f"{tally.sessions} sessions, {tally.drops} dropped connections, node A restarted once; "
        f"load average {load_before} -> {load_after}"
    )
    return [
        Row(SUITE, f"{label}: acknowledged edits", acked, "msgs", note=common),
        Row(
            SUITE,
            f"{label}: acknowledged edits lost",
            outcome["lost"],
            "msgs",
            target="0",
            met=outcome["lost"] == 0,
        ),
        Row(
            SUITE,
            f"{label}: documents diverging (node A, node B, REST)",
            outcome["divergent"],
            "docs",
            target="0",
            met=outcome["divergent"] == 0,
        ),
        Row(
            SUITE,
            f"{label}: node B memory growth after warm-up",
            round(b_growth, 2),
            "%",
            target="< 5 %",
            met=b_growth < 5,
            note=f"RSS {b_base:.0f} MB -> {b_final:.0f} MB ({len(memory['b'].samples)} samples)",
        ),
        Row(
            SUITE,
            f"{label}: node A memory growth after its restart and warm-up",
            round(a_growth, 2),
            "%",
            target="< 5 %",
            met=a_growth < 5,
            note=f"RSS {a_base:.0f} MB -> {a_final:.0f} MB",
        ),
        Row(
            SUITE,
            f"{label}: sessions not fully acknowledged within 120 s, refusals, desyncs",
            tally.unsynced + tally.refused + tally.desynced,
            "events",
            target="0",
            met=tally.unsynced + tally.refused + tally.desynced == 0,
            note=f"unsynced {tally.unsynced}, refused {tally.refused}, desynced {tally.desynced}",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.report import print_table

    print_table(run("--quick" in sys.argv))
