"""A seeded network simulator: replicas edit while links drop, delay, reorder and duplicate.

Each replica broadcasts every local edit; each link delivers with a random delay (so out of order),
sometimes twice, and is cut by random partitions that later heal. A message that names ids its
receiver does not know yet is retried later. Replicas sometimes restart from their own encoded
state. After the network heals and drains, every replica must hold the same text and state.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import pytest

from docstream.crdt import Document, Op
from docstream.errors import UnknownIdError

WORDS = ["the ", "quick ", "br\u00f8wn ", "\u72d0\u72f8 ", "jumps ", "\U0001f98a ", "\n"]


@dataclass(order=True)
class Delivery:
    at: float
    seq: int
    target: int = field(compare=False)
    ops: list[Op] = field(compare=False)


class Network:
    def __init__(self, seed: int, n: int) -> None:
        self.rnd = random.Random(seed)
        self.names = [f"sim-replica-{i}" for i in range(n)]
        self.docs = [Document(name) for name in self.names]
        self.queue: list[Delivery] = []
        self.seq = 0
        self.now = 0.0
        self.cut: set[tuple[int, int]] = set()
        self.sent: list[list[Op]] = []

    def send(self, source: int, ops: list[Op]) -> None:
        self.sent.append(ops)
        for target in range(len(self.docs)):
            if target != source:
                copies = 2 if self.rnd.random() < 0.05 else 1
                for _ in range(copies):
                    self.post(target, ops, self.rnd.expovariate(1.0) * 5)

    def post(self, target: int, ops: list[Op], delay: float) -> None:
        self.seq += 1
        heapq.heappush(self.queue, Delivery(self.now + delay, self.seq, target, ops))

    def edit(self, who: int) -> None:
        doc = self.docs[who]
        roll = self.rnd.random()
        if roll < 0.6 or not len(doc):
            index = self.rnd.randint(0, len(doc))
            ops = doc.insert(index, self.rnd.choice(WORDS))
        elif roll < 0.9:
            index = self.rnd.randrange(len(doc))
            ops = doc.delete(index, min(len(doc) - index, self.rnd.randint(1, 8)))
        else:  # replace a selection
            index = self.rnd.randrange(len(doc))
            ops = doc.delete(index, min(len(doc) - index, 3)) + doc.insert(index, "XYZ")
        self.send(who, ops)

    def step(self, healed: bool = False) -> None:
        delivery = heapq.heappop(self.queue)
        self.now = max(self.now, delivery.at)
        source_cut = any(link[1] == delivery.target for link in self.cut)
        if not healed and source_cut:
            self.post(delivery.target, delivery.ops, 10.0)  # held back by the partition
            return
        try:
            self.docs[delivery.target].apply(delivery.ops)
        except UnknownIdError:
            self.post(delivery.target, delivery.ops, self.rnd.uniform(1, 10))

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            roll = self.rnd.random()
            if roll < 0.35:
                self.edit(self.rnd.randrange(len(self.docs)))
            elif roll < 0.40:
                a = self.rnd.randrange(len(self.docs))
                self.cut ^= {(0, a)}  # isolate or reconnect replica a
            elif roll < 0.42:
                who = self.rnd.randrange(len(self.docs))
                blob = self.docs[who].encode_state()
                self.docs[who] = Document.decode_state(blob, replica=self.names[who])
            elif self.queue:
                self.step()
            self.now += 0.5
        self.cut.clear()
        while self.queue:
            self.step(healed=True)


@pytest.mark.parametrize("seed", range(60))
def test_replicas_converge_after_partitions_heal(seed: int) -> None:
    net = Network(seed, n=3 + seed % 3)
    net.run(ticks=300)
    texts = {doc.text for doc in net.docs}
    states = {doc.encode_state() for doc in net.docs}
    assert len(texts) == 1
    assert len(states) == 1
    fresh = Document("sim-observer")
    pending = list(net.sent)
    while pending:  # a late joiner that receives the whole history in creation order
        waiting = []
        for ops in pending:
            try:
                fresh.apply(ops)
            except UnknownIdError:
                waiting.append(ops)
        pending = waiting
    assert fresh.text in texts
