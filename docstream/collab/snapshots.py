"""Snapshots and automatic versions of one open document: the policy, apart from the Room.

A snapshot (the encoded CRDT state at a seq, sealed with its checksum) bounds what a load must
replay; an automatic version (the text at a seq) is a restore point the history panel offers. The
Room only says when its replica advanced, when it stops, and runs what this part queues in its
order; when and what to store is decided here:

- after a change, a snapshot once ``snapshot_every`` entries piled up since the last one, at most
  one per ``snapshot_min_interval`` (encoding a long document takes milliseconds; a burst that
  outpaces it is covered by the idle-time one);
- after ``version_idle_seconds`` without a change, a snapshot and an automatic version (the
  ``max_auto_versions`` latest are kept), then the log's entries a load no longer replays are
  packed (:mod:`docstream.storage.packs`): packing costs CPU, so it waits for a pause instead of
  running beside a burst of typing (a document typed into without a pause is packed at the next
  one, or by the next start's packer);
- when the Room stops, the same, awaited: the final snapshot and restore point.

Everything runs on the Room's worker (the idle timer queues its work in the Room's order), so the
state is encoded and the seq read with nothing changing the replica in between; nothing is stored
while the replica may differ from the log (``consistent`` false): the log alone is the truth until
the Room rebuilt it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from docstream import metrics
from docstream.collab.loader import seal_state
from docstream.errors import DocStreamError
from docstream.settings import Settings
from docstream.storage.base import DocumentStore
from docstream.storage.packs import PACK_ROWS

log = logging.getLogger(__name__)


class SnapshotSource(Protocol):
    """What this part reads of a Room (all from the Room's worker)."""

    @property
    def doc_id(self) -> str: ...

    @property
    def seq(self) -> int: ...

    @property
    def consistent(self) -> bool: ...

    async def encoded_state(self) -> bytes: ...

    async def text(self) -> str: ...

    def post(self, work: Callable[[], Awaitable[None]]) -> bool: ...

    def spawn(self, work: Awaitable[None]) -> None: ...


class Snapshots:
    """The snapshot and automatic-version policy of one Room (see the module docstring)."""

    def __init__(self, store: DocumentStore, settings: Settings, seq: int) -> None:
        self.store = store
        self.settings = settings
        #: The seq of the latest snapshot stored (or the Room's seq when it was loaded).
        self.snapshot_seq = seq
        #: The seq of the latest version (automatic or named) taken while the Room is open.
        self.version_seq = seq
        self._snapshot_at = float("-inf")  # when the last one was taken (monotonic clock)
        self._idle_timer: asyncio.TimerHandle | None = None
        self._stopped = False

    async def changed(self, room: SnapshotSource) -> None:
        """The Room's replica advanced (entries of this node or another): maybe a snapshot now,
        and an automatic version once the document is quiet."""
        settings = self.settings
        if room.seq - self.snapshot_seq >= settings.snapshot_every:
            now = time.monotonic()
            if now - self._snapshot_at >= settings.snapshot_min_interval:
                self._snapshot_at = now
                await self._snapshot(room)
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        if not self._stopped:
            self._idle_timer = asyncio.get_running_loop().call_later(
                settings.version_idle_seconds, self._idle, room
            )

    def _idle(self, room: SnapshotSource) -> None:
        self._idle_timer = None
        if not self._stopped:
            # Refused while the Room is busy or stopping: the next quiet moment, or the stop,
            # takes it.
            room.post(lambda: self._auto_version(room))

    async def stopping(self, room: SnapshotSource) -> None:
        """The Room stops: the final snapshot and restore point (awaited)."""
        self.cancel()
        await self._auto_version(room, wait=True)

    def cancel(self) -> None:
        """No more idle-time work (the Room stops)."""
        self._stopped = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    async def _snapshot(self, room: SnapshotSource, *, wait: bool = False) -> None:
        """Store the state at the Room's seq, unless the replica may differ from the log."""
        if not room.consistent:
            return
        seq = room.seq
        started = time.perf_counter()
        state = await room.encoded_state()
        self.snapshot_seq = seq
        save = self._save(room.doc_id, seq, seal_state(state), started)
        if wait:
            await save
        else:
            room.spawn(save)

    async def _save(self, doc_id: str, seq: int, state: bytes, started: float) -> None:
        await self.store.save_snapshot(doc_id, seq, state)
        metrics.SNAPSHOT_SECONDS.observe(time.perf_counter() - started)

    async def _pack(self, doc_id: str, seq: int) -> None:
        """Pack what a load from the snapshot at ``seq`` no longer replays (kept whole, a
        thousand entries to a row)."""
        try:
            await self.store.pack_log(doc_id, seq - PACK_ROWS)
        except DocStreamError as exc:
            log.warning("cannot pack the log of document %s: %s", doc_id, exc.detail)

    async def _auto_version(self, room: SnapshotSource, *, wait: bool = False) -> None:
        if not room.consistent:
            return
        if room.seq > self.snapshot_seq:
            await self._snapshot(room, wait=wait)
        if room.seq > self.version_seq:
            seq = room.seq
            text = await room.text()
            await self.store.create_version(
                room.doc_id, seq, text, "auto", None, None, keep=self.settings.max_auto_versions
            )
            self.version_seq = seq
        if not wait:  # a quiet moment (not the stop, which must not wait for it)
            room.spawn(self._pack(room.doc_id, self.snapshot_seq))
