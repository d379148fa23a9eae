"""Simulated typists for soak-style tests: random edits, with every acknowledgement recorded."""

from __future__ import annotations

import asyncio
import random

from docstream.client import LiveDocument
from docstream.crdt import CharId, Delete, Document, Insert, Op
from docstream.protocol.session import Acked, Desynced, Refused


class Typist:
    """Types random edits into a LiveDocument and remembers which ops the server acknowledged."""

    def __init__(self, live: LiveDocument, seed: int) -> None:
        self.live = live
        self.rng = random.Random(seed)
        self.sent: dict[int, list[Op]] = {}
        self.acked: list[list[Op]] = []
        self.refused: list[Refused] = []
        self.desynced: list[Desynced] = []
        self._watch = asyncio.get_running_loop().create_task(self._collect())

    async def _collect(self) -> None:
        while True:
            event = await self.live.events.get()
            if isinstance(event, Acked) and event.ref in self.sent:
                self.acked.append(self.sent.pop(event.ref))
            elif isinstance(event, Refused):
                self.refused.append(event)
            elif isinstance(event, Desynced):
                self.desynced.append(event)

    def edit(self) -> None:
        session = self.live.session
        length = len(session.doc)
        if length and self.rng.random() < 0.3:
            index = self.rng.randrange(length)
            self.live.delete(index, min(length - index, self.rng.randint(1, 3)))
        else:
            text = "".join(self.rng.choice("abcdefgh é😀\n") for _ in range(self.rng.randint(1, 4)))
            self.live.insert(self.rng.randint(0, length), text)
        ref = session.next_ref - 1
        if ref in session.pending:
            self.sent[ref] = session.pending[ref]

    async def type_for(self, seconds: float, pause: float = 0.005) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            self.edit()
            await asyncio.sleep(pause * self.rng.random() * 2)

    async def stop(self) -> None:
        self._watch.cancel()


def lost_acked_ops(acked: list[list[Op]], stored: Document) -> int:
    """How many acknowledged messages are not fully in ``stored`` (must be 0)."""
    lost = 0
    for ops in acked:
        for op in ops:
            cid = CharId.parse(op.id)
            if isinstance(op, Insert):
                last = CharId(cid.counter + len(op.text) - 1, cid.replica)
                present = stored.has(cid) and stored.has(last)
            else:
                assert isinstance(op, Delete)
                last = CharId(cid.counter + op.length - 1, cid.replica)
                present = stored.has(cid) and stored.has(last) and _deleted(stored, cid)
            if not present:
                lost += 1
                break
    return lost


def _deleted(doc: Document, cid: CharId) -> bool:
    index = doc.index_of(cid)
    return index >= len(doc) or doc.id_at(index) != cid
