"""Cluster benchmarks: two real ``docstream serve`` nodes sharing one throwaway PostgreSQL and one
throwaway Redis (``testkit.services``), clients in separate processes.

1. Cross-node latency at 1,000 ops/s -- one writer socket on node A sends 1,000 single-insert
   ``ops`` messages per second (paced evenly, each carrying its send time, ``time.monotonic_ns()``)
   for 30 s (quick 10 s); one receiver on node A (same node) and one on node B (one Redis hop
   away), each in its own process, record receipt - send. The extra p50/p99 of B over A in the
   same run is what the hop adds (target: p99 added < 25 ms). The writer's socket needs the flood
   limit raised (``DOCSTREAM_WS_MESSAGES_PER_SECOND``, 200/s by default) to send 1,000/s.

2. Throughput of one document over 2 nodes vs 1 node -- the collab suite's replay (automerge-paper,
   one ``ops`` message per patch, pipelined; first 50,000 patches, quick 20,000) with the writer and
   the reader on node A (1 node; Redis is still configured, so A still publishes every entry), then
   with the writer on node A and the reader on node B (the reader's node applies every entry from
   Redis to its own Room before forwarding it). Medians of 3 runs each.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import Any

from benchmarks import collab
from benchmarks.collab import (
    FLOOD_ENV,
    Endpoint,
    _cpu,
    _open,
    _spawn,
    _use_uvloop,
    create_document,
    docstream_server,
    group_stats,
    load_avg,
    percentile,
    pg_database,
    register,
    replay,
    replica_id,
    summarize,
    tally,
)
from benchmarks.report import Row
from testkit.services import postgres, redis

SUITE = "cluster"
RATE = 1000.0


def log(message: str) -> None:
    print(f"  {SUITE}: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def cluster(nodes: int = 2) -> Iterator[list[Any]]:
    """``nodes`` servers on one fresh PostgreSQL database and one Redis."""
    with postgres() as pg, redis() as rd, contextlib.ExitStack() as stack:
        dsn = pg_database(pg)
        args = ["--database-url", dsn, "--redis-url", rd.url]
        yield [
            stack.enter_context(docstream_server(args, FLOOD_ENV, stop_timeout=30))
            for _ in range(nodes)
        ]


# --------------------------------------------------------------------------- latency probes


@dataclass
class Probe:
    samples_ms: list[float] = field(default_factory=list)
    sent: int = 0
    acks: int = 0
    errors: int = 0
    first_error: str = ""
    cpu: float = 0.0


def receiver_process(endpoint: Endpoint, pipe: Pipe) -> None:
    _use_uvloop()
    asyncio.run(_receiver(endpoint, pipe))


async def _receiver(endpoint: Endpoint, pipe: Pipe) -> None:
    ws = await _open(endpoint)
    pipe.send("ready")
    probe = Probe()
    cpu0 = _cpu()

    async def read() -> None:
        async for data in ws:
            entries, _, refused = tally(data)  # a batch holds several
            if entries:
                now = time.monotonic_ns()
                at = data.find('"text":"~')
                while at >= 0:
                    end = data.index("~", at + 9)
                    probe.samples_ms.append((now - int(data[at + 9 : end])) / 1e6)
                    at = data.find('"text":"~', end)
            if refused:
                probe.errors += refused
                probe.first_error = probe.first_error or data[:300]

    task = asyncio.get_running_loop().create_task(read())
    await asyncio.to_thread(pipe.recv)  # "stop"
    task.cancel()
    probe.cpu = _cpu() - cpu0
    pipe.send(probe)
    await ws.close()


def sender_process(endpoint: Endpoint, rate: float, duration: float, pipe: Pipe) -> None:
    _use_uvloop()
    asyncio.run(_sender(endpoint, rate, duration, pipe))


async def _sender(endpoint: Endpoint, rate: float, duration: float, pipe: Pipe) -> None:
    ws = await _open(endpoint)
    pipe.send("ready")
    start_at = await asyncio.to_thread(pipe.recv)
    probe = Probe()
    replica = endpoint.replica

    async def read() -> None:
        async for data in ws:
            _, acked, refused = tally(data)
            probe.acks += acked
            if refused:
                probe.errors += refused
                probe.first_error = probe.first_error or data[:300]

    reader = asyncio.get_running_loop().create_task(read())
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    cpu0 = _cpu()
    counter, after, ref = 0, "null", 0
    total = int(rate * duration)
    while ref < total:
        due = min(total, int((time.monotonic() - start_at) * rate) + 1)
        while ref < due:
            text = f"~{time.monotonic_ns()}~"
            ref += 1
            await ws.send(
                f'{{"type":"ops","ref":{ref},"ops":[{{"kind":"ins","id":"{replica}:{counter}",'
                f'"after":{after},"text":"{text}"}}]}}'
            )
            after = f'"{replica}:{counter + len(text) - 1}"'
            counter += len(text)
        await asyncio.sleep(0.001)
    probe.sent = ref
    deadline = time.monotonic() + 10
    while probe.acks + probe.errors < ref and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    probe.cpu = _cpu() - cpu0
    reader.cancel()
    pipe.send(probe)
    await ws.close()


def latency_rows(quick: bool) -> list[Row]:
    """At the target rate, and at a quarter of it (where a saturated node does not hide the hop)."""
    return latency_at(RATE, quick, target=True) + latency_at(RATE / 4, quick, target=False)


def latency_at(rate: float, quick: bool, target: bool) -> list[Row]:
    duration = 10.0 if quick else 30.0
    log(f"latency: 1 writer on node A at {rate:g} ops/s for {duration:g} s, receivers on A and B")
    with cluster(2) as (a, b):
        account = register(a.url)
        doc_id = create_document(account, "cluster latency")

        def endpoint(node: Any) -> Endpoint:
            return Endpoint(
                "docstream", f"{node.ws_url}/ws/document/{doc_id}", account.token, replica_id()
            )

        pipes, procs = {}, []
        for name, node in (("same", a), ("cross", b)):
            parent, child = _spawn.Pipe()
            p = _spawn.Process(target=receiver_process, args=(endpoint(node), child), daemon=True)
            p.start()
            assert parent.recv() == "ready"
            pipes[name], procs = parent, [*procs, p]
        parent, child = _spawn.Pipe()
        w = _spawn.Process(
            target=sender_process, args=(endpoint(a), rate, duration, child), daemon=True
        )
        w.start()
        assert parent.recv() == "ready"
        time.sleep(1.0)  # presence settles on both nodes
        cpu0 = group_stats(a.pid)[0], group_stats(b.pid)[0]
        load = load_avg()
        parent.send(time.monotonic() + 0.5)
        sent: Probe = parent.recv()
        time.sleep(2.0)  # the last broadcasts arrive
        cpu1 = group_stats(a.pid)[0], group_stats(b.pid)[0]
        probes: dict[str, Probe] = {}
        for name, pipe in pipes.items():
            pipe.send("stop")
            probes[name] = pipe.recv()
        for p in [*procs, w]:
            p.join(30)
    same, cross = probes["same"], probes["cross"]
    stats = {
        name: (percentile(p.samples_ms, 0.5), percentile(p.samples_ms, 0.99))
        for name, p in probes.items()
    }
    missing = sum(max(0, sent.sent - len(p.samples_ms)) for p in probes.values())
    errors = sent.errors + same.errors + cross.errors + missing + max(0, sent.sent - sent.acks)
    saturated = stats["same"][1] >= 100  # the collab suite's p99 target on one node
    added_p50 = stats["cross"][0] - stats["same"][0]
    added_p99 = stats["cross"][1] - stats["same"][1]
    note = (
        f"{sent.sent:,} sent, {sent.acks:,} acks, received same node {len(same.samples_ms):,} / "
        f"other node {len(cross.samples_ms):,}; same node p50 {stats['same'][0]:.2f} / p99 "
        f"{stats['same'][1]:.2f} ms, other node p50 {stats['cross'][0]:.2f} / p99 "
        f"{stats['cross'][1]:.2f} ms (max {max(cross.samples_ms, default=0):.1f}); server CPU "
        f"node A {(cpu1[0] - cpu0[0]) / duration:.0%}, node B {(cpu1[1] - cpu0[1]) / duration:.0%} "
        f"of a core; writer CPU {sent.cpu / duration:.0%}, receivers "
        f"{same.cpu / duration:.0%} / {cross.cpu / duration:.0%}; errors {errors}; load {load}"
    )
    if sent.first_error or same.first_error or cross.first_error:
        note += f"; first error {sent.first_error or same.first_error or cross.first_error}"
    label = f"{rate:,.0f} ops/s for {duration:g} s"
    return [
        Row(
            SUITE,
            f"latency {label}: p50 writer on A -> reader on B",
            stats["cross"][0],
            "ms",
            peer=stats["same"][0],
            peer_name="same node",
            note=note,
        ),
        Row(
            SUITE,
            f"latency {label}: p99 writer on A -> reader on B",
            stats["cross"][1],
            "ms",
            peer=stats["same"][1],
            peer_name="same node",
        ),
        Row(SUITE, f"latency {label}: p50 added by the hop", added_p50, "ms"),
        Row(
            SUITE,
            f"latency {label}: p99 added by the hop",
            added_p99,
            "ms",
            target="< 25 ms (node not saturated)" if target else "",
            # A saturated node A queues for seconds; B's receiver then looks *faster* than A's and
            # the difference says nothing about the hop: that is a miss, not a pass.
            met=(added_p99 < 25 and not saturated) if target and not quick else None,
            note=f"saturated: same-node p99 {stats['same'][1]:,.0f} ms >= 100 ms, so the hop "
            "cannot be isolated at this rate"
            if saturated
            else "",
        ),
        Row(SUITE, f"latency {label}: errors", errors, "", target="0", met=errors == 0),
    ]


# --------------------------------------------------------------------------- throughput


def throughput_rows(quick: bool) -> list[Row]:
    prefix = 20_000 if quick else 50_000
    runs = 3
    label = f"{collab.TRACE} (first {prefix:,})"
    results: dict[str, list[collab.Throughput]] = {"one": [], "two": []}
    with cluster(2) as (a, b):
        account = register(a.url)
        for i in range(runs):
            for layout, reader_node in (("one", a), ("two", b)):
                doc_id = create_document(account, f"cluster throughput {layout} {i}")
                writer = Endpoint(
                    "docstream", f"{a.ws_url}/ws/document/{doc_id}", account.token, replica_id()
                )
                reader = Endpoint(
                    "docstream",
                    f"{reader_node.ws_url}/ws/document/{doc_id}",
                    account.token,
                    replica_id(),
                )
                cpu0 = group_stats(a.pid)[0] + group_stats(b.pid)[0]
                result = replay(writer, reader, prefix, a.pid)
                result.server_cpu = group_stats(a.pid)[0] + group_stats(b.pid)[0] - cpu0
                log(f"throughput {layout} node(s) run {i + 1}: {result.rate:,.0f} ops/s")
                results[layout].append(result)
    one, one_note = summarize(results["one"])
    two, two_note = summarize(results["two"])
    return [
        Row(
            SUITE,
            f"throughput {label}: writer on A -> reader on B (2 nodes)",
            two,
            "ops/s",
            peer=one,
            peer_name="1 node",
            samples=[t.rate for t in results["two"]],
            note=f"{two_note} (server CPU: both nodes; context switches: node A)",
        ),
        Row(
            SUITE,
            f"throughput {label}: writer and reader on A (1 node, Redis configured)",
            one,
            "ops/s",
            samples=[t.rate for t in results["one"]],
            note=f"{one_note} (server CPU: both nodes; context switches: node A)",
        ),
    ]


def run(quick: bool) -> list[Row]:
    log(f"load average {load_avg()}")
    t0 = time.monotonic()
    rows = latency_rows(quick) + throughput_rows(quick)
    log(f"done in {time.monotonic() - t0:.0f} s; load average {load_avg()}")
    return rows


def _main(argv: list[str]) -> None:
    from benchmarks.report import print_table

    quick = "--quick" in argv
    parts = [a for a in argv if not a.startswith("--")] or ["latency", "throughput"]
    rows: list[Row] = []
    for part in parts:
        rows += {"latency": latency_rows, "throughput": throughput_rows}[part](quick)
    print_table(rows)


if __name__ == "__main__":
    from benchmarks import cluster as module  # spawned clients find their code by module name

    module._main(sys.argv[1:])
