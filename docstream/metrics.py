"""What a node counts for Prometheus: every metric DocStream exports, defined in one place.

The objects are prometheus-client's own, so the code that counts calls ``.inc()`` or
``.observe()`` where the event happens, with no indirection. Counting on the hot path is kept to
once per commit group or per frame (a few hundred nanoseconds each); values that change all the
time (open rooms, sockets, bytes queued for slow readers) are sampled once a second by
:class:`Sampler` instead of being updated on every change.

**Several workers.** ``docstream serve`` runs granian workers, each a process with its own
counters. prometheus-client's multiprocess mode keeps each process's values in memory-mapped files
in ``PROMETHEUS_MULTIPROC_DIR``; ``docstream serve`` sets that to a private, emptied folder of the
data dir before the workers start, and ``GET /metrics`` (whichever worker answers) adds them all
up. Without the variable (the desktop app, in-process tests) the values are the process's own.
Gauges are ``livesum``: the sum over the workers alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_FAST = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_SLOW = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

EDITS_COMMITTED = Counter(
    "docstream_edits_committed", "Edit messages committed to the ops log by this node"
)
COMMIT_SECONDS = Histogram(
    "docstream_commit_seconds", "Time to commit one group of edits (one transaction)", buckets=_FAST
)
COMMIT_GROUP_SIZE = Histogram(
    "docstream_commit_group_size",
    "Edit messages per committed group",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
ACKS = Counter("docstream_acks", "Acknowledgements sent (each after its edit was committed)")
BROADCASTS = Counter(
    "docstream_broadcast_frames", "Edit frames sent to the other clients of a document"
)
SLOW_CONSUMER_CLOSES = Counter(
    "docstream_slow_consumer_closes", "Sockets closed because they could not keep up"
)
REFUSED_FRAMES = Counter(
    "docstream_refused_frames", "Client frames answered with an error, by error code", ["code"]
)
SERVER_CLOSES = Counter(
    "docstream_server_closes", "Sockets the server closed on a client, by close code", ["code"]
)
RATE_LIMITED = Counter(
    "docstream_rate_limited", "Requests refused by a rate limit (429), by budget", ["budget"]
)
REDIS_GAPS_REPAIRED = Counter(
    "docstream_redis_gaps_repaired",
    "Times a document's entries from other nodes had a gap that was read back from the log",
)
SNAPSHOT_SECONDS = Histogram(
    "docstream_snapshot_seconds", "Time to encode and store a document snapshot", buckets=_SLOW
)
LOAD_SECONDS = Histogram(
    "docstream_document_load_seconds",
    "Time to load a document (snapshot and log tail) when its room opens",
    buckets=_SLOW,
)
HTTP_SECONDS = Histogram(
    "docstream_http_request_seconds",
    "HTTP request durations, by route template and status",
    ["method", "route", "status"],
    buckets=_SLOW,
)
TYPEAHEAD_FAILED_WRITES = Counter(
    "docstream_typeahead_failed_writes", "Typeahead index writes that failed (retried later)"
)
OPEN_ROOMS = Gauge(
    "docstream_open_rooms", "Documents open on this node", multiprocess_mode="livesum"
)
OPEN_SOCKETS = Gauge(
    "docstream_open_sockets", "Document WebSockets open", multiprocess_mode="livesum"
)
SEND_QUEUE_BYTES = Gauge(
    "docstream_send_queue_bytes",
    "Bytes of frames queued for clients that have not read them yet",
    multiprocess_mode="livesum",
)


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets, and its content type: every worker's values when several run."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class _Room(Protocol):
    @property
    def presence(self) -> Any: ...


class Sampler:
    """Once a second, this worker's open rooms and bytes queued for its clients, and the
    typeahead's failed writes since the last look (an async context manager)."""

    def __init__(
        self,
        rooms: Callable[[], Iterable[_Room]],
        failed_writes: Callable[[], int],
        interval: float = 1.0,
    ) -> None:
        self._rooms = rooms
        self._failed_writes = failed_writes
        self._interval = interval
        self._seen_failed = 0
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        rooms = list(self._rooms())
        OPEN_ROOMS.set(len(rooms))
        queued = 0
        for room in rooms:
            for conn in room.presence.local.values():
                queued += conn.queued_bytes
        SEND_QUEUE_BYTES.set(queued)
        failed = self._failed_writes()
        if failed > self._seen_failed:
            TYPEAHEAD_FAILED_WRITES.inc(failed - self._seen_failed)
        self._seen_failed = max(self._seen_failed, failed)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self._interval)

    async def __aenter__(self) -> Sampler:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="metrics-sampler")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
