"""Many idle WebSocket clients on one worker: what each costs, and whether the server stays prompt.

Requirement: one worker holds 10,000 concurrent idle clients spread over 1,000 open documents at
no more than 60 KB of server memory each, and still answers a typing client promptly.

Everything runs against one real ``docstream serve`` (SQLite, one worker, the defaults except the
limits every benchmark raises, see ``benchmarks.collab.BASE_ENV``: all clients come from
127.0.0.1 as one user, so the per-address and per-user socket caps and the handshake rate are
raised; the access token lives an hour so that no socket is closed at its expiry mid-run).

1. Setup: one account, ``clients / 10`` documents (created over HTTP, empty).
2. Floor: one *typist* (in this process) opens its own document and sends a one-character insert
   5 times a second for 10 s (quick: 5 s), recording send -> ``ack`` for each: p50 and p99 with
   no idle client connected.
3. Idle clients, in :data:`PROCS` client processes (``multiprocessing`` spawn; each raises its own
   open-file limit and owns a slice of the documents), raw ``websockets`` connections, each
   authenticated with the bearer token, sending ``hello`` (a fresh replica id) and reading until
   its ``welcome``; at most :data:`CONCURRENCY` handshakes in flight per process. In two phases:
   first one client per document (every Room opens), then the other nine per document. The
   server's RSS (the sum of ``VmRSS`` over its process group: granian's main process and its
   worker) is read after each phase has settled, and before the first.
4. With everyone connected and idle, the typist types again (same measure, same document): the
   p99 against the floor's.
5. Everyone is checked to be still open (a socket the server closed while idle is an error), and
   the processes close their sockets.
6. Peer, same run: the transport floor (``benchmarks/peers/floor_app.py``: granian and a bare ASGI
   loop per socket, no framework, no handshake frame) with the same number of idle sockets from
   the same client processes, in the same two phases: what granian itself costs per socket.

Rows: bytes per idle client = (RSS after all clients - RSS before) / clients (the target row;
the cost of a Room, the first client of a document, is in it, 1 in 10), the split into the first
client of a document and each further client, the time to connect them all, the typist's p99
with and without them, and errors (failed handshakes + sockets closed while idle). The note of
each row has the load average and the server's CPU time.

``DOCSTREAM_BENCH_IDLE_CLIENTS=<n>`` overrides the number of clients (to find where a limit is
reached). Past the server's open-file limit granian cannot accept (``EMFILE``, logged by granian):
the handshakes beyond it wait in the listen queue until they time out, and the typist cannot
connect either; the errors row counts both.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import shutil
import sys
import tempfile
import time
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx

from benchmarks.collab import (
    ACK_PREFIX,
    ERROR_PREFIX,
    _cpu,
    _spawn,
    _use_uvloop,
    docstream_server,
    granian_app,
    group_pids,
    group_stats,
    load_avg,
    register,
)
from benchmarks.large_document import GcPause, gc_recorder_env, read_gc_log
from benchmarks.report import Row

SUITE = "idle_sockets"
CLIENTS = 10_000
QUICK_CLIENTS = 1_000
PER_DOCUMENT = 10
PROCS = 4
CONCURRENCY = 32
TYPE_RATE = 5.0
TYPE_SECONDS = 10.0
QUICK_TYPE_SECONDS = 5.0
TARGET_BYTES = 60_000
ENV = {"DOCSTREAM_LOG_LEVEL": "warning", "DOCSTREAM_ACCESS_TOKEN_TTL": "3600"}


def log(message: str) -> None:
    print(f"  {SUITE}: {message}", file=sys.stderr, flush=True)


def vm_rss(pgid: int) -> int:
    """``VmRSS`` summed over a process group, in bytes."""
    total = 0
    for pid in group_pids(pgid):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def settled_rss(pgid: int, seconds: float = 3.0) -> int:
    time.sleep(seconds)
    return vm_rss(pgid)


def open_files(pgid: int) -> int:
    total = 0
    for pid in group_pids(pgid):
        with contextlib.suppress(OSError):
            total += len(os.listdir(f"/proc/{pid}/fd"))
    return total


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --------------------------------------------------------------------------- idle clients


def idle_process(base_ws: str, token: str | None, doc_ids: list[str], pipe: Pipe) -> None:
    from docstream.fdlimit import raise_nofile_limit

    raise_nofile_limit()
    _use_uvloop()
    asyncio.run(_idle(base_ws, token, doc_ids, pipe))


async def _idle(base_ws: str, token: str | None, doc_ids: list[str], pipe: Pipe) -> None:
    """Open sockets phase by phase (``token`` None: the transport floor app, no handshake)."""
    from websockets.asyncio.client import connect

    sockets: list[Any] = []
    failures: list[str] = []
    gate = asyncio.Semaphore(CONCURRENCY)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    serial = itertools.count()

    async def one(doc_id: str) -> None:
        path = f"/ws/document/{doc_id}" if token else f"/r/{doc_id}-{next(serial)}"
        async with gate:
            try:
                ws = await connect(
                    f"{base_ws}{path}",
                    additional_headers=headers,
                    compression=None,
                    max_queue=64,
                    ping_interval=None,
                    open_timeout=120,
                )
                replica = f"idle{secrets.token_hex(8)}"
                if token:
                    await ws.send(f'{{"type":"hello","replica":"{replica}","since":0}}')
                while token:
                    frame = await asyncio.wait_for(ws.recv(), 120)
                    if frame.startswith('{"type":"welcome"'):
                        break
                    if frame.startswith(ERROR_PREFIX):
                        raise RuntimeError(frame[:200])
                sockets.append(ws)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}"[:300])

    while True:
        command = await asyncio.to_thread(pipe.recv)
        if command == "close":
            break
        cpu0, t0 = _cpu(), time.monotonic()
        counts = 1 if command == "first" else PER_DOCUMENT - 1
        await asyncio.gather(*(one(d) for d in doc_ids for _ in range(counts)))
        pipe.send((len(sockets), list(failures), _cpu() - cpu0, time.monotonic() - t0))
    from websockets.protocol import State

    closed = [ws for ws in sockets if ws.state is not State.OPEN]
    reasons = [f"closed {ws.close_code} {ws.close_reason}" for ws in closed[:3]]
    pipe.send((len(closed), reasons))
    for ws in sockets:
        ws.transport.abort()  # 10,000 closing handshakes would measure nothing


class IdleClients:
    """The client processes, each with its slice of the documents."""

    def __init__(self, base_ws: str, token: str | None, doc_ids: list[str]) -> None:
        self.pipes: list[Pipe] = []
        self.procs: list[Any] = []
        for i in range(PROCS):
            parent, child = _spawn.Pipe()
            p = _spawn.Process(
                target=idle_process, args=(base_ws, token, doc_ids[i::PROCS], child), daemon=True
            )
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)

    def phase(self, command: str) -> tuple[int, list[str], float, float]:
        """Run one phase in every process; (sockets open, failures, client CPU, wall seconds)."""
        t0 = time.monotonic()
        for pipe in self.pipes:
            pipe.send(command)
        opened, failures, cpu = 0, [], 0.0
        for pipe in self.pipes:
            n, failed, c, _ = pipe.recv()
            opened, cpu = opened + n, cpu + c
            failures += failed
        return opened, failures, cpu, time.monotonic() - t0

    def close(self) -> tuple[int, list[str]]:
        closed, reasons = 0, []
        for pipe in self.pipes:
            pipe.send("close")
        for pipe in self.pipes:
            n, why = pipe.recv()
            closed, reasons = closed + n, reasons + why
        for p in self.procs:
            p.join(60)
            if p.is_alive():
                p.kill()
        return closed, reasons


# --------------------------------------------------------------------------- the typist


async def typist(url: str, token: str, seconds: float) -> tuple[list[float], int]:
    """One client typing :data:`TYPE_RATE` one-character inserts a second: send -> ack in ms."""
    from websockets.asyncio.client import connect

    replica = f"typist{secrets.token_hex(6)}"
    ws = await connect(
        url,
        additional_headers={"Authorization": f"Bearer {token}"},
        compression=None,
        ping_interval=None,
        open_timeout=30,
    )
    await ws.send(f'{{"type":"hello","replica":"{replica}","since":0}}')
    while not (await ws.recv()).startswith('{"type":"welcome"'):
        pass
    sent: dict[int, int] = {}
    samples: list[float] = []
    errors = 0
    done_sending = False
    all_acked = asyncio.Event()

    async def read() -> None:
        nonlocal errors
        async for frame in ws:
            now = time.monotonic_ns()
            if frame.startswith(ACK_PREFIX):
                ref = int(frame.split('"ref":', 1)[1].split(",", 1)[0].rstrip("}"))
                samples.append((now - sent.pop(ref)) / 1e6)
                if done_sending and not sent:
                    all_acked.set()
            elif frame.startswith(ERROR_PREFIX):
                errors += 1

    reader = asyncio.get_running_loop().create_task(read())
    after = "null"
    count = int(seconds * TYPE_RATE)
    next_at = time.monotonic()
    for ref in range(1, count + 1):
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        char_id = f"{replica}:{ref - 1}"
        frame = (
            f'{{"type":"ops","ref":{ref},"ops":[{{"kind":"ins","id":"{char_id}",'
            f'"after":{after},"text":"x"}}]}}'
        )
        after = f'"{char_id}"'
        sent[ref] = time.monotonic_ns()
        await ws.send(frame)
        next_at += 1.0 / TYPE_RATE
    done_sending = True
    if not sent:
        all_acked.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_acked.wait(), 10)
    reader.cancel()
    await ws.close()
    return samples, errors + len(sent)


def type_for(url: str, token: str, seconds: float) -> tuple[float, float, int]:
    """(p50, p99, errors); a typist that cannot connect (the server is out of descriptors) is
    one error and no samples."""
    try:
        samples, errors = asyncio.run(typist(url, token, seconds))
    except (OSError, TimeoutError) as exc:
        log(f"the typist could not type: {type(exc).__name__}: {exc}")
        return float("nan"), float("nan"), 1
    return percentile(samples, 0.5), percentile(samples, 0.99), errors


# --------------------------------------------------------------------------- the run


def create_documents(base_url: str, token: str, count: int) -> list[str]:
    ids = []
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        for i in range(count):
            response = http.post("/documents", json={"title": f"idle {i}"})
            response.raise_for_status()
            ids.append(str(response.json()["id"]))
    return ids


def transport_floor(clients: int) -> tuple[float, str]:
    """RSS per idle socket of the transport floor app (granian + a bare ASGI loop per socket):
    the same clients, processes and phases, no handshake frame."""
    with granian_app("benchmarks.peers.floor_app:app") as peer:
        idle = IdleClients(peer.ws_url, None, [f"room{i}" for i in range(clients // PER_DOCUMENT)])
        rss0 = settled_rss(peer.pid)
        failures = idle.phase("first")[1]
        opened, more, _, _ = idle.phase("rest")
        failures += more
        rss1 = settled_rss(peer.pid)
        load = load_avg()
        idle.close()
    log(f"transport floor: {opened:,} sockets; RSS {rss0 / 1e6:.1f} -> {rss1 / 1e6:.1f} MB")
    failed = f", {len(failures)} failed" if failures else ""
    return (rss1 - rss0) / max(1, opened), (
        f"transport floor {opened:,} sockets{failed}: RSS {rss0 / 1e6:.1f} MB -> "
        f"{rss1 / 1e6:.1f} MB, load {load}"
    )


def run(quick: bool) -> list[Row]:
    clients = int(os.environ.get("DOCSTREAM_BENCH_IDLE_CLIENTS") or 0) or (
        QUICK_CLIENTS if quick else CLIENTS
    )
    documents = max(1, clients // PER_DOCUMENT)
    clients = documents * PER_DOCUMENT
    log(f"{clients:,} idle clients over {documents:,} documents; load average {load_avg()}")
    workdir = Path(tempfile.mkdtemp(prefix="docstream-bench-idle-"))
    try:
        return _run(clients, documents, quick, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def pauses_in(pauses: list[GcPause], window: tuple[float, float]) -> str:
    """The server's collections longer than 10 ms that started in ``window`` (monotonic)."""
    inside = [p for p in pauses if window[0] <= p.start <= window[1]]
    if not inside:
        return "no gc pause > 10 ms"
    longest = max(inside, key=lambda p: p.ms)
    return (
        f"{len(inside)} gc pauses > 10 ms, longest {longest.ms:.0f} ms (generation "
        f"{longest.generation})"
    )


def _run(clients: int, documents: int, quick: bool, workdir: Path) -> list[Row]:
    seconds = QUICK_TYPE_SECONDS if quick else TYPE_SECONDS
    gc_env, gc_log = gc_recorder_env(workdir)
    with docstream_server([], {**ENV, **gc_env}, ready_timeout=60) as server:
        pgid = server.pid
        account = register(server.url, "idle")
        t0 = time.monotonic()
        doc_ids = create_documents(server.url, account.token, documents)
        typed = create_documents(server.url, account.token, 1)[0]
        log(f"{documents:,} documents created in {time.monotonic() - t0:.1f} s")
        typist_url = f"{server.ws_url}/ws/document/{typed}"
        type_for(typist_url, account.token, 2.0)  # warm: imports, the typist's Room, the pools
        t_floor = time.monotonic()
        floor_p50, floor_p99, floor_errors = type_for(typist_url, account.token, seconds)
        floor_window = (t_floor, time.monotonic())
        floor_load = load_avg()
        log(f"floor: typist p50 {floor_p50:.2f} ms, p99 {floor_p99:.2f} ms; load {floor_load}")

        idle = IdleClients(server.ws_url, account.token, doc_ids)
        t_connect = time.monotonic()
        cpu0 = group_stats(pgid)[0]
        rss0 = settled_rss(pgid)
        first, failed1, ccpu1, wall1 = idle.phase("first")
        rss1 = settled_rss(pgid)
        log(f"{first:,} first clients in {wall1:.1f} s; RSS {rss0 / 1e6:.1f} -> {rss1 / 1e6:.1f}")
        total, failed2, ccpu2, wall2 = idle.phase("rest")
        rss2 = settled_rss(pgid)
        connect_cpu = group_stats(pgid)[0] - cpu0
        fds = open_files(pgid)
        load_connected = load_avg()
        failures = failed1 + failed2
        log(
            f"{total:,} clients in {wall1 + wall2:.1f} s ({len(failures)} failed); RSS "
            f"{rss2 / 1e6:.1f} MB; {fds:,} descriptors open in the server; load {load_connected}"
        )
        t_busy = time.monotonic()
        busy_p50, busy_p99, busy_errors = type_for(typist_url, account.token, seconds)
        busy_window = (t_busy, time.monotonic())
        busy_load = load_avg()
        log(f"with them: typist p50 {busy_p50:.2f} ms, p99 {busy_p99:.2f} ms; load {busy_load}")
        connect_window = (t_connect, t_busy)
        closed, reasons = idle.close()
    pauses = read_gc_log(gc_log)

    floor_per_client, floor_note = transport_floor(clients)
    per_client = (rss2 - rss0) / max(1, total)
    first_client = (rss1 - rss0) / max(1, first)
    further = (rss2 - rss1) / max(1, total - first)
    errors = len(failures) + closed + floor_errors + busy_errors
    target = not quick
    rss_note = (
        f"RSS {rss0 / 1e6:.1f} MB -> {rss1 / 1e6:.1f} MB (first client per document) -> "
        f"{rss2 / 1e6:.1f} MB (all); {fds:,} descriptors open; load {load_connected}"
    )
    return [
        Row(
            SUITE,
            f"server RSS per idle client ({total:,} clients, {documents:,} documents)",
            per_client / 1000,
            "KB",
            peer=floor_per_client / 1000,
            peer_name="transport floor",
            target="<= 60 KB",
            met=per_client <= TARGET_BYTES if target else None,
            note=f"{rss_note}; {floor_note}",
        ),
        Row(
            SUITE,
            "  of which: the first client of a document (its Room opens)",
            first_client / 1000,
            "KB",
        ),
        Row(SUITE, "  of which: each further client of a document", further / 1000, "KB"),
        Row(
            SUITE,
            f"time to connect {total:,} clients (hello -> welcome, {PROCS} processes)",
            wall1 + wall2,
            "s",
            note=f"{(wall1 + wall2) / max(1, total) * 1e6:.0f} us per client; server CPU "
            f"{connect_cpu:.1f} s, clients' CPU {ccpu1 + ccpu2:.1f} s; while connecting and "
            f"settling: {pauses_in(pauses, connect_window)}",
        ),
        Row(
            SUITE,
            f"typist p99 send -> ack with {total:,} idle clients",
            busy_p99,
            "ms",
            peer=floor_p99,
            peer_name="no idle clients",
            target="< floor + 50 ms",
            met=busy_p99 - floor_p99 < 50 if target else None,  # False when nan
            note=f"p50 {busy_p50:.2f} ms (no idle clients: {floor_p50:.2f} ms); "
            f"{TYPE_RATE:g} chars/s for {seconds:g} s; load {busy_load} (floor: {floor_load}); "
            f"server: {pauses_in(pauses, busy_window)} (floor: {pauses_in(pauses, floor_window)})",
        ),
        Row(
            SUITE,
            "errors (failed handshakes + sockets closed while idle + lost acks)",
            errors,
            "",
            target="0",
            met=errors == 0,
            note="; ".join([*failures[:3], *reasons][:4]),
        ),
    ]
