"""Opening a very large document must not stall everyone else on the worker.

Requirement: decoding, encoding and extracting the text of a large state run off the event loop,
so that opening a 1,000,000-run document while 20 clients type in other documents adds less than
50 ms to their p99 acknowledgement latency.

Everything runs against one real ``docstream serve`` (SQLite, one worker, the defaults except the
HTTP rate limit, see ``benchmarks.collab.BASE_ENV``), with the helpers of ``benchmarks.collab``.

1. The big document. A state of :data:`RUNS` runs is built directly with
   ``docstream.crdt.encoding.encode_runs`` (building it through ``Document`` edits would take
   minutes): four authors taking turns every 2,000 runs, each visible run (1-5 characters of
   words) followed by a run of 1-3 deleted characters -- text interleaved with tombstones, 1.37
   million visible characters. With the server stopped, it is stored through the store API
   (``save_snapshot``, sealed with ``seal_state``) at seq 1, and the document row's seq is set to
   1 with one SQL ``UPDATE`` (the store has no call for that; the log stays empty, so the snapshot
   is the whole truth). The server is then started again: nothing has the document open.
2. Typists: :data:`TYPISTS` clients in 2 processes, each in its own document, each sending one
   single-character insert every 200 ms over a raw WebSocket and recording send -> ``ack`` for
   every edit (the frames are built as in ``benchmarks.collab``; only the ack's prefix is parsed).
3. Rounds, each on a freshly started server (no garbage of an earlier round left over). Each
   round first measures a baseline (typists alone for a few seconds), then the load:
   a few *cycles*, each a cold open of the big document the way the web UI opens one -- the
   WebSocket ``hello`` (since 0) and ``GET /documents/{id}`` (its full text) sent at the same
   time -- then one single-character edit into it (acked), then the socket is closed and the
   benchmark waits until the Room has closed: its final snapshot (an encode of the whole state)
   and restore point (its text) are in the database. So each cycle decodes the state once (the
   REST read shares the Room's load, or is answered from the text the server remembered at the
   document's seq: the previous cycle's restore point), encodes it once and extracts its text
   once or twice, and frees it. The load window runs from the first ``hello`` to :data:`SETTLE`
   seconds after the last Room closed.
   p99 of the edits *sent* in each window; the added p99 is load - baseline of the same round.
4. Rows: baseline p99 (the floor), p99 during the opens, their difference (target < 50 ms), the
   cold open (``hello`` -> ``welcome`` received), the ``welcome`` frame's size, and errors.
   Medians over rounds (p99s) and cycles (open times). The notes add the server's garbage
   collections longer than 10 ms in each window (recorded by a ``sitecustomize`` put on the
   server's path, see :data:`_GC_RECORDER`) and its RSS.

``DOCSTREAM_BENCH_PYSPY=<dir>`` records a py-spy profile (``--gil --threads``, raw, 200 Hz) of the
server worker during the last round's load, to ``<dir>/large-document.txt``, and prints the share
of the GIL each thread held. ``DOCSTREAM_BENCH_GET_AFTER_WELCOME=1``: see :data:`REST_WITH_HELLO`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx

from benchmarks.collab import (
    ACK_PREFIX,
    ERROR_PREFIX,
    JWT_SECRET,
    Account,
    Endpoint,
    _cpu,
    _open,
    _spawn,
    _use_uvloop,
    busiest_pid,
    create_document,
    docstream_server,
    group_stats,
    load_avg,
    percentile,
    register,
    replica_id,
)
from benchmarks.report import Row

SUITE = "large_document"
RUNS = 1_000_000
TYPISTS = 20
TYPIST_PROCS = 2
RATE = 5.0  # edits per second per typist
TARGET_MS = 50.0
SETTLE = 1.0  # seconds of the load window after the last Room closed
BIG_SEQ = 1
#: The web UI sends ``GET /documents/{id}`` and the WebSocket ``hello`` at the same time.
#: ``DOCSTREAM_BENCH_GET_AFTER_WELCOME=1`` sends the GET once the ``welcome`` arrived instead (the
#: Room is open, so the text is read from it; before the server shared the load with the REST read,
#: this was the way to measure one decode per open instead of two).
REST_WITH_HELLO = os.environ.get("DOCSTREAM_BENCH_GET_AFTER_WELCOME") != "1"

_PROSE = "the quick brown fox jumps over a lazy dog while editors type and delete text"
_WORDS = _PROSE.split()
_AUTHORS = [f"author{i:02d}big" for i in range(4)]


@dataclass
class Plan:
    rounds: int
    baseline: float  # seconds
    cycles: int  # cold opens per round


FULL = Plan(rounds=3, baseline=20.0, cycles=3)
QUICK = Plan(rounds=1, baseline=8.0, cycles=2)


def log(message: str) -> None:
    print(f"  {SUITE}: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the big document


def big_runs(count: int) -> Iterator[tuple[str, int, int, str | None]]:
    """``count`` runs ``(replica, counter, length, text or None)``: visible words and deleted
    characters alternating, four authors taking turns every 2,000 runs."""
    counters = [0] * len(_AUTHORS)
    word = 0
    for i in range(count):
        author = (i // 2000) % len(_AUTHORS)
        text: str | None
        if i % 2 == 0:
            text = _WORDS[word % len(_WORDS)][: 1 + word % 5]
            word += 1
            length = len(text)
        else:
            text = None
            length = 1 + (i // 2) % 3
        yield _AUTHORS[author], counters[author], length, text
        counters[author] += length


#: The written document: this many visible characters, four authors taking turns every
#: :data:`TURN` characters, a deleted stretch of 1-20 characters after every other turn.
CHARS = 1_000_000
TURN = 250
MILLION_TYPISTS = 5
MILLION_SECONDS = 20.0
MILLION_OPENS = 5
OPEN_TARGET_S = 0.300
TYPING_TARGET_MS = 20.0


def written_runs(chars: int = CHARS) -> Iterator[tuple[str, int, int, str | None]]:
    """A document as people write one: prose, four authors taking turns every :data:`TURN`
    characters, some of it deleted (a run of 1-20 deleted characters after every other turn)."""
    counters = [0] * len(_AUTHORS)
    prose = (_PROSE + ". ") * (TURN // len(_PROSE) + 2)
    written = turn = 0
    while written < chars:
        author = turn % len(_AUTHORS)
        text = prose[: min(TURN, chars - written)]
        yield _AUTHORS[author], counters[author], len(text), text
        counters[author] += len(text)
        written += len(text)
        if turn % 2:
            deleted = 1 + turn % 20
            yield _AUTHORS[author], counters[author], deleted, None
            counters[author] += deleted
        turn += 1


def big_state(count: int = RUNS) -> bytes:
    from docstream.crdt.encoding import encode_runs

    return encode_runs(big_runs(count))


def store_big_document(data_dir: Path, doc_id: str, state: bytes, seq: int = BIG_SEQ) -> None:
    """With the server stopped: the state as the document's only snapshot, at ``seq``."""
    from docstream.bootstrap import make_store
    from docstream.collab.loader import seal_state
    from docstream.settings import Settings

    settings = Settings(jwt_secret=JWT_SECRET, data_dir=data_dir)

    async def save() -> None:
        async with make_store(settings) as store:
            await store.save_snapshot(doc_id, seq, seal_state(state))

    asyncio.run(save())
    with contextlib.closing(sqlite3.connect(settings.sqlite_path)) as db, db:
        updated = db.execute("UPDATE documents SET seq = ? WHERE id = ?", (seq, doc_id)).rowcount
    assert updated == 1, f"document {doc_id} not found"


def room_closed_at(db_path: Path, doc_id: str, seq: int) -> bool:
    """Whether the Room's final restore point (taken after its final snapshot) is stored."""
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)) as db:
        row = db.execute(
            "SELECT count(*) FROM versions WHERE doc_id = ? AND seq >= ?", (doc_id, seq)
        ).fetchone()
    return bool(row[0])


# --------------------------------------------------------------------------- server gc pauses

#: Put on the measured server's PYTHONPATH: every collection of the cyclic garbage collector that
#: takes more than 10 ms is appended to $DOCSTREAM_BENCH_GC_LOG (monotonic start, ms, generation,
#: objects collected, thread). A collection holds the GIL from start to end, so nothing else of
#: the process runs meanwhile. Costs two Python calls per collection; changes no setting.
_GC_RECORDER = """
import gc, os, threading, time
_path = os.environ.get("DOCSTREAM_BENCH_GC_LOG")
if _path:
    _t = [0.0]
    def _record(phase, info):
        now = time.monotonic()
        if phase == "start":
            _t[0] = now
        elif now - _t[0] > 0.010:
            with open(_path, "a") as out:
                out.write(f"{_t[0]:.4f} {(now - _t[0]) * 1000:.1f} {info['generation']} "
                          f"{info['collected']} {threading.current_thread().name}\\n")
    gc.callbacks.append(_record)
"""


@dataclass
class GcPause:
    start: float
    ms: float
    generation: int
    collected: int
    thread: str


def gc_recorder_env(workdir: Path) -> tuple[dict[str, str], Path]:
    """Environment for a server that records its long gc pauses, and the log's path."""
    site = workdir / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_GC_RECORDER)
    root = Path(__file__).resolve().parents[1]
    path = workdir / "gc.log"
    return {"PYTHONPATH": f"{site}{os.pathsep}{root}", "DOCSTREAM_BENCH_GC_LOG": str(path)}, path


def read_gc_log(path: Path) -> list[GcPause]:
    pauses = []
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines():
            start, ms, gen, collected, thread = line.split(" ", 4)
            pauses.append(GcPause(float(start), float(ms), int(gen), int(collected), thread))
    return pauses


# --------------------------------------------------------------------------- typists


@dataclass
class TypistResult:
    samples: list[tuple[float, float]] = field(default_factory=list)  # (send time, ms to ack)
    sent: int = 0
    unacked: int = 0
    errors: int = 0
    closes: int = 0
    cpu: float = 0.0
    first_error: str = ""


def typist_process(
    base_ws: str, token: str, doc_ids: list[str], rate: float, pipe: Pipe, tag: int
) -> None:
    _use_uvloop()
    asyncio.run(_typists(base_ws, token, doc_ids, rate, pipe, tag))


async def _typists(
    base_ws: str, token: str, doc_ids: list[str], rate: float, pipe: Pipe, tag: int
) -> None:
    from websockets.exceptions import ConnectionClosed

    result = TypistResult()
    replicas = [f"typist{tag:02d}x{i:03d}{replica_id()}" for i in range(len(doc_ids))]
    sockets = []
    for doc_id, replica in zip(doc_ids, replicas, strict=True):
        url = f"{base_ws}/ws/document/{doc_id}"
        # One ack at a time is what is timed here: these clients read no batches.
        sockets.append(await _open(Endpoint("docstream", url, token, replica, batch=False)))
    pipe.send("ready")
    start_at = await asyncio.to_thread(pipe.recv)
    stop = threading.Event()
    stopper = asyncio.get_running_loop().create_task(
        asyncio.to_thread(lambda: (pipe.recv(), stop.set()))
    )
    cpu0 = _cpu()
    interval = 1.0 / rate
    pending: list[dict[int, float]] = [{} for _ in sockets]
    ack_at = len(ACK_PREFIX) + len(',"ref":')

    async def read(ws: Any, waiting: dict[int, float]) -> None:
        try:
            async for data in ws:
                if data.startswith(ACK_PREFIX):
                    now = time.monotonic()
                    ref = int(data[ack_at : data.index(",", ack_at)])
                    sent = waiting.pop(ref, None)
                    if sent is not None:
                        result.samples.append((sent, (now - sent) * 1000))
                elif data.startswith(ERROR_PREFIX):
                    result.errors += 1
                    result.first_error = result.first_error or data[:300]
        except ConnectionClosed:
            result.closes += 1

    async def write(ws: Any, replica: str, waiting: dict[int, float], phase: float) -> None:
        after = "null"
        ref = 0
        next_at = start_at + phase
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if stop.is_set():
                return
            frame = (
                f'{{"type":"ops","ref":{ref + 1},"ops":[{{"kind":"ins","id":"{replica}:{ref}",'
                f'"after":{after},"text":"{"abcdefghij"[ref % 10]}"}}]}}'
            )
            after = f'"{replica}:{ref}"'
            ref += 1
            waiting[ref] = time.monotonic()
            try:
                await ws.send(frame)
            except ConnectionClosed:
                return
            result.sent += 1
            next_at += interval

    loop = asyncio.get_running_loop()
    readers = [loop.create_task(read(ws, w)) for ws, w in zip(sockets, pending, strict=True)]
    count = len(sockets)
    await asyncio.gather(
        *(
            write(ws, replica, w, interval * ((tag * count + i) % 97) / 97)
            for i, (ws, replica, w) in enumerate(zip(sockets, replicas, pending, strict=True))
        )
    )
    await stopper
    await asyncio.sleep(3.0)  # the last acks
    result.cpu = _cpu() - cpu0
    result.unacked = sum(len(w) for w in pending)
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    pipe.send(result)


@contextlib.contextmanager
def typists(base_ws: str, token: str, doc_ids: list[str]) -> Iterator[list[Pipe]]:
    """Typist processes, connected and ready; the caller sends them the start time."""
    pipes, children = [], []
    for tag in range(TYPIST_PROCS):
        parent, child = _spawn.Pipe()
        share = doc_ids[tag::TYPIST_PROCS]
        p = _spawn.Process(
            target=typist_process, args=(base_ws, token, share, RATE, child, tag), daemon=True
        )
        p.start()
        pipes.append(parent)
        children.append(p)
    try:
        for parent in pipes:
            assert parent.recv() == "ready"
        yield pipes
    finally:
        for p in children:
            p.join(30)
            if p.is_alive():
                p.kill()


# --------------------------------------------------------------------------- the opener


@dataclass
class Cycle:
    start: float
    welcome: float  # seconds, hello -> welcome received
    welcome_bytes: int
    get: float  # seconds, GET /documents/{id} (with the hello, or after the welcome)
    chars: int
    edit: float  # seconds, one insert into the big document -> ack
    closed: float  # seconds from the socket's close to the Room closed (final snapshot + version)
    end: float


async def open_cycle(base_url: str, account: Account, doc_id: str, db_path: Path) -> Cycle:
    """One cold open of the big document (WebSocket + REST at once), one edit, close, wait for
    the Room to close."""
    replica = replica_id()
    endpoint = f"{base_url.replace('http', 'ws', 1)}/ws/document/{doc_id}"
    from websockets.asyncio.client import connect

    async with httpx.AsyncClient(timeout=120) as http:
        ws = await connect(
            endpoint,
            additional_headers={"Authorization": f"Bearer {account.token}"},
            max_size=None,
            compression=None,
            ping_interval=None,
            open_timeout=60,
        )

        async def rest() -> tuple[float, int]:
            t0 = time.monotonic()
            response = await http.get(
                f"{base_url}/documents/{doc_id}",
                headers={"Authorization": f"Bearer {account.token}"},
            )
            response.raise_for_status()
            return time.monotonic() - t0, len(response.json()["text"])

        async def welcome() -> tuple[float, int]:
            t0 = time.monotonic()
            await ws.send(f'{{"type":"hello","replica":"{replica}","since":0}}')
            while True:
                data = await ws.recv()
                if data.startswith('{"type":"welcome"'):
                    return time.monotonic() - t0, len(data)
                if data.startswith(ERROR_PREFIX):
                    raise RuntimeError(f"opening the big document failed: {data[:300]}")

        start = time.monotonic()
        if REST_WITH_HELLO:
            (opened, size), (got, chars) = await asyncio.gather(welcome(), rest())
        else:
            opened, size = await welcome()
            got, chars = await rest()
        t0 = time.monotonic()
        await ws.send(
            f'{{"type":"ops","ref":1,"ops":[{{"kind":"ins","id":"{replica}:0",'
            f'"after":null,"text":"x"}}]}}'
        )
        while True:
            data = await ws.recv()
            if data.startswith(ACK_PREFIX):
                seq = int(data[data.index('"seq":') + 6 : data.index("}")])
                break
            if data.startswith(ERROR_PREFIX):
                raise RuntimeError(f"editing the big document failed: {data[:300]}")
        edit = time.monotonic() - t0
        await ws.close()
        t_close = time.monotonic()
        deadline = t_close + 120
        while not await asyncio.to_thread(room_closed_at, db_path, doc_id, seq):
            if time.monotonic() > deadline:
                raise RuntimeError("the big document's Room did not close within 120 s")
            await asyncio.sleep(0.05)
        end = time.monotonic()
    return Cycle(start, opened, size, got, chars, edit, end - t_close, end)


# --------------------------------------------------------------------------- the suite


@dataclass
class Round:
    baseline: tuple[float, float]
    load: tuple[float, float]
    cycles: list[Cycle]
    typists: list[TypistResult]
    gc: list[GcPause]
    server_cpu: float
    rss: tuple[int, int]  # server RSS (bytes): at the end of the baseline, highest during the load
    load_avg: str


def _spy(server_pgid: int, out: Path) -> subprocess.Popen[bytes]:
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(busiest_pid(server_pgid)),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
            "--gil",
            "--threads",
            "--rate",
            "200",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def spy_summary(path: Path) -> str:
    """Share of the GIL-holding samples of a raw py-spy profile (``--gil --threads``) by thread."""
    threads: dict[str, int] = {}
    total = 0
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            name = stack.split(";", 1)[0]
            name = name.split(": ", 1)[1] if ": " in name else "unnamed"
            threads[name] = threads.get(name, 0) + int(count)
            total += int(count)
    if not total:
        return "no py-spy samples"
    shares = sorted(threads.items(), key=lambda kv: -kv[1])
    return f"GIL held (py-spy, {total} samples): " + ", ".join(
        f"{name} {n / total:.0%}" for name, n in shares[:6]
    )


def window(samples: list[tuple[float, float]], span: tuple[float, float]) -> list[float]:
    lo, hi = span
    return [ms for sent, ms in samples if lo <= sent < hi]


@dataclass
class Measured:
    plan: Plan
    rounds: list[Round]
    state_bytes: int
    profile: str = ""


class RssWatch:
    """The highest RSS of a process group, polled every 0.2 s in a thread."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, group_stats(self.pgid)[1])

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def one_round(
    r: int,
    plan: Plan,
    workdir: Path,
    data_dir: Path,
    account: Account,
    big: str,
    docs: list[str],
    spy_path: Path | None,
) -> Round:
    """A fresh server (no garbage left by an earlier round), the typists, a baseline, the opens."""
    db_path = data_dir / "docstream.sqlite3"
    round_dir = workdir / f"round{r}"
    round_dir.mkdir()
    env, gc_log = gc_recorder_env(round_dir)
    results: list[TypistResult] = []
    with docstream_server(["--data-dir", str(data_dir)], env) as server:
        cpu0 = group_stats(server.pid)[0]
        load = load_avg()
        with typists(server.ws_url, account.token, docs) as pipes:
            begin = time.monotonic() + 1.0
            for parent in pipes:
                parent.send(begin)
            time.sleep(max(0.0, begin - time.monotonic()) + 2.0)  # warm up
            b0 = time.monotonic()
            time.sleep(plan.baseline)
            b1 = time.monotonic()
            rss_base = group_stats(server.pid)[1]
            spy = _spy(server.pid, spy_path) if spy_path is not None else None
            cycles = []
            with RssWatch(server.pid) as rss:
                for c in range(plan.cycles):
                    cycle = asyncio.run(open_cycle(server.url, account, big, db_path))
                    log(
                        f"round {r + 1} cycle {c + 1}: welcome {cycle.welcome:.2f} s "
                        f"({cycle.welcome_bytes / 1e6:.1f} MB), GET {cycle.get:.2f} s, "
                        f"edit {cycle.edit * 1000:.0f} ms, Room closed "
                        f"{cycle.closed:.2f} s after the socket"
                    )
                    cycles.append(cycle)
                time.sleep(SETTLE)
                l1 = time.monotonic()
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    spy.wait(30)
            for parent in pipes:
                parent.send("stop")
            for parent in pipes:
                results.append(parent.recv())
        server_cpu = group_stats(server.pid)[0] - cpu0
    return Round(
        (b0, b1),
        (cycles[0].start, l1),
        cycles,
        results,
        read_gc_log(gc_log),
        server_cpu,
        (rss_base, rss.peak),
        load,
    )


@dataclass
class Million:
    opens: list[Cycle]
    typing: list[TypistResult]
    runs: int
    state_bytes: int
    load_avg: str


def million_chars(workdir: Path, quick: bool) -> Million:
    """The written 1,000,000-character document: cold opens (each after its Room closed), then
    :data:`MILLION_TYPISTS` clients typing into it at :data:`RATE` edits/s each."""
    data_dir = workdir / "million"
    with docstream_server(["--data-dir", str(data_dir)]) as server:
        account = register(server.url, "million")
        doc = create_document(account, "a million characters")
    runs = list(written_runs())
    from docstream.crdt.encoding import encode_runs

    state = encode_runs(runs)
    store_big_document(data_dir, doc, state)
    db_path = data_dir / "docstream.sqlite3"
    load = load_avg()
    with docstream_server(["--data-dir", str(data_dir)]) as server:
        opens = []
        for i in range(2 if quick else MILLION_OPENS):
            opens.append(asyncio.run(open_cycle(server.url, account, doc, db_path)))
            log(
                f"1,000,000 characters, open {i + 1}: welcome {opens[-1].welcome * 1000:.0f} ms "
                f"({opens[-1].welcome_bytes / 1e6:.1f} MB), GET {opens[-1].get * 1000:.0f} ms"
            )
        results: list[TypistResult] = []
        with typists(server.ws_url, account.token, [doc] * MILLION_TYPISTS) as pipes:
            begin = time.monotonic() + 1.0
            for parent in pipes:
                parent.send(begin)
            time.sleep(max(0.0, begin - time.monotonic()) + (5.0 if quick else MILLION_SECONDS))
            for parent in pipes:
                parent.send("stop")
            for parent in pipes:
                results.append(parent.recv())
    return Million(opens, results, len(runs), len(state), load)


def million_rows(m: Million, quick: bool) -> list[Row]:
    what = f"written {CHARS:,}-character document ({m.runs:,} runs)"
    opens = [c.welcome for c in m.opens]
    # The first edits wait for the Room's load: the typing is timed once every socket is in.
    samples = sorted(ms for r in m.typing for _, ms in r.samples)
    p99 = percentile(samples, 0.99)
    errors = sum(r.errors + r.closes + r.unacked for r in m.typing)
    return [
        Row(
            SUITE,
            f"cold open of the {what}: hello -> welcome",
            statistics.median(opens),
            "s",
            samples=opens,
            target=f"< {OPEN_TARGET_S * 1000:g} ms" if not quick else "",
            met=statistics.median(opens) < OPEN_TARGET_S if not quick else None,
            note=f"samples {[round(s * 1000) for s in opens]} ms with GET /documents/{{id}} at "
            f"the same time ({[round(c.get * 1000) for c in m.opens]} ms); welcome "
            f"{m.opens[0].welcome_bytes / 1e6:.1f} MB, state {m.state_bytes / 1e6:.2f} MB; "
            f"load {m.load_avg}",
        ),
        Row(
            SUITE,
            f"{MILLION_TYPISTS} typists x {RATE:g}/s in the {what}: p99 send -> ack",
            p99,
            "ms",
            target=f"< {TYPING_TARGET_MS:g} ms" if not quick else "",
            met=p99 < TYPING_TARGET_MS and errors == 0 if not quick else None,
            note=f"{len(samples)} edits, p50 {percentile(samples, 0.5):.1f} ms, max "
            f"{max(samples, default=float('nan')):.1f} ms; {errors} errors or edits never acked",
        ),
    ]


def run(quick: bool) -> list[Row]:
    plan = QUICK if quick else FULL
    log(f"load average {load_avg()} on {os.cpu_count()} cores")
    t_start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="docstream-bench-large-"))
    data_dir = workdir / "data"
    spy_dir = os.environ.get("DOCSTREAM_BENCH_PYSPY")
    spy_path = Path(spy_dir) / "large-document.txt" if spy_dir else None
    if spy_path is not None:
        spy_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with docstream_server(["--data-dir", str(data_dir)]) as server:
            account = register(server.url, "large")
            big = create_document(account, "a million runs")
            docs = [create_document(account, f"typist {i}") for i in range(TYPISTS)]
        t0 = time.perf_counter()
        state = big_state()
        built = time.perf_counter() - t0
        store_big_document(data_dir, big, state)
        log(f"state of {RUNS:,} runs: {len(state):,} bytes, built in {built:.1f} s")
        million = million_chars(workdir, quick)
        rounds = [
            one_round(
                r,
                plan,
                workdir,
                data_dir,
                account,
                big,
                docs,
                spy_path if r == plan.rounds - 1 else None,
            )
            for r in range(plan.rounds)
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    measured = Measured(plan, rounds, len(state))
    if spy_path is not None:
        measured.profile = spy_summary(spy_path)
        log(f"profile of the last round's load ({spy_path}): {measured.profile}")
    log(f"done in {time.monotonic() - t_start:.0f} s; load average {load_avg()}")
    return million_rows(million, quick) + rows(measured, quick)


def gc_note(pauses: list[GcPause], spans: list[tuple[float, float]]) -> str:
    inside = [p for p in pauses if any(lo <= p.start < hi for lo, hi in spans)]
    if not inside:
        return "no gc pause > 10 ms in the server"
    total = sum(p.ms for p in inside)
    return (
        f"server gc pauses > 10 ms: {len(inside)}, {total:.0f} ms in all, longest "
        f"{max(p.ms for p in inside):.0f} ms ("
        + ", ".join(f"gen{p.generation} {p.ms:.0f} ms" for p in inside[:8])
        + (", ..." if len(inside) > 8 else "")
        + ")"
    )


def rows(m: Measured, quick: bool) -> list[Row]:
    base_p99, load_p99, added, base_max, load_max, base_n, load_n = [], [], [], [], [], [], []
    all_base: list[float] = []
    all_load: list[float] = []
    for rnd in m.rounds:
        samples = [s for res in rnd.typists for s in res.samples]
        base = window(samples, rnd.baseline)
        during = window(samples, rnd.load)
        all_base += base
        all_load += during
        base_p99.append(percentile(base, 0.99))
        load_p99.append(percentile(during, 0.99))
        added.append(load_p99[-1] - base_p99[-1])
        base_max.append(max(base, default=float("nan")))
        load_max.append(max(during, default=float("nan")))
        base_n.append(len(base))
        load_n.append(len(during))
    typists = [res for rnd in m.rounds for res in rnd.typists]
    cycles = [c for rnd in m.rounds for c in rnd.cycles]
    opens = [c.welcome for c in cycles]
    sent = sum(r.sent for r in typists)
    errors = sum(r.errors + r.closes + r.unacked for r in typists)
    first_error = next((r.first_error for r in typists if r.first_error), "")
    label = f"{TYPISTS} typists x {RATE:g}/s"
    what = f"{RUNS:,}-run document"

    def ms(values: list[float]) -> str:
        return "/".join(f"{v:.1f}" for v in values)

    def gc_in(span: str) -> str:
        return "; ".join(
            f"round {i + 1}: {gc_note(rnd.gc, [getattr(rnd, span)])}"
            for i, rnd in enumerate(m.rounds)
        )

    rss = "; ".join(f"{rnd.rss[0] / 1e6:.0f} -> {rnd.rss[1] / 1e6:.0f} MB" for rnd in m.rounds)
    common = (
        f"{len(m.rounds)} round(s), each on a fresh server: {m.plan.baseline:g} s baseline, then "
        f"{m.plan.cycles} cold opens; server CPU per round "
        f"{'/'.join(f'{rnd.server_cpu:.0f}' for rnd in m.rounds)} s; typists' CPU "
        f"{sum(r.cpu for r in typists):.1f} s in all; load "
        f"{', '.join(rnd.load_avg for rnd in m.rounds)}"
    )
    return [
        Row(
            SUITE,
            f"{label}: p99 send -> ack, baseline (nothing else)",
            statistics.median(base_p99),
            "ms",
            samples=base_p99,
            note=f"per round {ms(base_p99)} ms over {base_n} edits; p50 "
            f"{percentile(all_base, 0.5):.1f} ms; max {ms(base_max)} ms; {gc_in('baseline')}; "
            f"{common}",
        ),
        Row(
            SUITE,
            f"{label}: p99 send -> ack, while the {what} is opened",
            statistics.median(load_p99),
            "ms",
            samples=load_p99,
            note=f"per round {ms(load_p99)} ms over {load_n} edits; p50 "
            f"{percentile(all_load, 0.5):.1f} ms; max {ms(load_max)} ms; {gc_in('load')}; "
            f"server RSS (end of baseline -> highest during the opens) {rss}"
            + (f"; last round's {m.profile}" if m.profile else ""),
        ),
        Row(
            SUITE,
            f"{label}: p99 added by opening the {what}",
            statistics.median(added),
            "ms",
            samples=added,
            target=f"< {TARGET_MS:g} ms" if not quick else "",
            met=statistics.median(added) < TARGET_MS if not quick else None,
            note=f"per round {ms(added)} ms (load - baseline of the same round)",
        ),
        Row(
            SUITE,
            f"cold open of the {what}: hello -> welcome",
            statistics.median(opens),
            "s",
            samples=opens,
            note=f"samples {[round(s, 2) for s in opens]} s, "
            + (
                "with GET /documents/{id} at the same time"
                if REST_WITH_HELLO
                else "then GET /documents/{id}"
            )
            + f" ({[round(c.get, 2) for c in cycles]} s, {cycles[0].chars:,} chars); then one "
            f"edit acked in {[round(c.edit * 1000) for c in cycles]} ms; the Room closed (final "
            f"snapshot and restore point) {[round(c.closed, 2) for c in cycles]} s after the "
            "socket",
        ),
        Row(
            SUITE,
            f"cold open of the {what}: welcome frame",
            statistics.median(c.welcome_bytes for c in cycles) / 1e6,
            "MB",
            note=f"state {m.state_bytes / 1e6:.2f} MB, base64 in JSON",
        ),
        Row(
            SUITE,
            f"{label}: errors",
            errors,
            "",
            target="0",
            met=errors == 0,
            note=f"{sent:,} edits sent; error frames, unexpected closes and edits never acked"
            + (f"; first error {first_error}" if first_error else ""),
        ),
    ]


if __name__ == "__main__":
    from benchmarks import large_document  # the spawned clients must find their code by name
    from benchmarks.report import print_table

    print_table(large_document.run("--quick" in sys.argv[1:]))
