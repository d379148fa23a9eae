"""Collaboration benchmarks through real server processes.

Everything runs against ``docstream serve`` (granian + Litestar) started by ``testkit.processes``;
PostgreSQL is a throwaway cluster from ``testkit.services``. Clients are separate processes
(``multiprocessing`` spawn) speaking raw WebSocket frames: they build every frame before the clock
starts and only count what they receive, so the Python client is not what is measured (each row
reports the clients' CPU next to the server's).

1. Throughput -- one writer replays automerge-paper (259,778 patches; ``--quick``: the first
   20,000) as one ``ops`` message per patch, pipelined (all sent back to back, the acks read
   concurrently and awaited at the end) while a reader in another process receives every broadcast.
   ops/s = patches / (last ack or last broadcast received - first send), on SQLite and on
   PostgreSQL. Peers in the same run, under the same granian:

   * the transport floor (``benchmarks/peers/floor_app.py``): a bare ASGI app that answers each
     frame with one small frame and forwards it to the reader -- the cost of granian + ASGI +
     the client, with no framework, validation or storage;
   * pycrdt-websocket 0.16 with its SQLite store (``benchmarks/peers/pycrdt_app.py``), the same
     trace as one Yjs update per patch (built with pycrdt, wrapped with pycrdt's
     ``create_update_message``); Yjs has no ack, so the writer waits for the echo of its own
     updates. pycrdt-websocket writes to its store *after* broadcasting, so its end-to-end number
     is not durable; the time until its store holds every update is in the note;
   * y-websocket (``@y/websocket-server``, its standalone server as shipped, without
     ``YPERSISTENCE``: nothing is stored) and Hocuspocus (``@hocuspocus/server`` with no
     extensions: the document lives in memory only), under Node, from the benchmark's own
     ``benchmarks/peers/node`` (``npm ci`` on first use; pinned in its lock). The same Yjs updates
     as for pycrdt-websocket; y-websocket speaks plain y-protocols messages, Hocuspocus puts the
     document's name before each message and wants an auth message before the sync (endpoint kind
     "hocuspocus"). Both broadcast to the sender too, so the writer again waits for its echoes. Each
     run ends with a fresh client syncing the room, whose text must be the trace's. y-websocket is
     the peer of DocStream's rows: DocStream acknowledges only what is durable, y-websocket stores
     nothing.

   The benchmark raises the per-connection flood limit (``DOCSTREAM_WS_MESSAGES_PER_SECOND`` /
   ``DOCSTREAM_WS_MESSAGE_BURST``, 200/s and 400 by default: a single socket replaying a trace as
   fast as it can is exactly what the limit exists to stop), the HTTP rate limit (every client is
   127.0.0.1) and ``DOCSTREAM_SEND_QUEUE_SIZE`` (the reader's bounded queue must hold the pipeline).
   Other defaults, snapshots every 100 entries included, are left alone.

2. Latency -- N clients (50; quick 20) on one document, each sending 5 single-insert messages/s for
   60 s (quick 10 s), split over 2 client processes, with the server's default flood limits. Each
   inserted text carries its send time (``time.monotonic_ns()``, one clock for every process of the
   machine); every other client records receipt - send. p50/p99 over all receipts; errors = error
   frames + unexpected closes + broadcasts or acks that never arrived. The same typists against
   y-websocket and Hocuspocus: each appends ``~t<send time>~`` to a pycrdt Doc of its own and sends
   the Yjs update; its own echo counts as its ack.

3. Open -- after the full-trace throughput run the server is SIGKILLed (so the log keeps the tail
   after the last periodic snapshot, as after a crash), then
   ``docstream.collab.loader.load_document`` is timed against the real store (median of 7), and a
   fresh client is timed from connect to ``welcome`` applied (``ClientSession.receive``) on a
   freshly restarted server, 5 times (each server SIGKILLed afterwards so every sample sees the
   same snapshot + tail). pycrdt-websocket:
   ``SQLiteYStore.apply_updates`` (checkpoint + later updates) into a fresh Doc, and a fresh
   client's sync step 1 -> step 2 applied after a restart.

4. Memory -- server RSS (the whole process group: granian's main process and its worker) before
   and after 200 idle clients (hello done) on one document, and before and after opening K
   documents of 104,852 characters (automerge-paper's full history: 182,315 inserted, 77,463
   deleted, written as ops messages of 5,000 ops), one client each; the per-document figure has the
   per-client figure subtracted.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import multiprocessing as mp
import os
import resource
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import httpx

from benchmarks.report import Row
from testkit import accounts
from testkit.ports import free_port
from testkit.processes import run_server
from testkit.services import postgres
from testkit.traces import load

SUITE = "collab"
TRACE = "automerge-paper"
QUICK_PREFIX = 20_000
THROUGHPUT_RUNS = 3
QUICK_THROUGHPUT_RUNS = 3
JWT_SECRET = "benchmark-secret-" + "x" * 32

#: The server settings every benchmark server gets (see the module docstring for why).
BASE_ENV = {
    "DOCSTREAM_JWT_SECRET": JWT_SECRET,
    "DOCSTREAM_ARGON2_MEMORY_KIB": "19456",
    "DOCSTREAM_RATE_LIMIT_PER_MINUTE": "10000000",
    "DOCSTREAM_AUTH_RATE_LIMIT_PER_MINUTE": "10000000",
    "DOCSTREAM_AUTH_RATE_LIMIT_PER_ACCOUNT": "10000000",
    "DOCSTREAM_WS_HANDSHAKES_PER_MINUTE": "10000000",
    "DOCSTREAM_TYPEAHEAD_RATE_LIMIT_PER_MINUTE": "10000000",
    "DOCSTREAM_WS_MAX_SOCKETS_PER_USER": "100000",
    "DOCSTREAM_WS_MAX_SOCKETS_PER_ADDRESS": "100000",
}
#: Added for the single-socket replays only (throughput, and filling the memory rows' documents).
FLOOD_ENV = {
    "DOCSTREAM_WS_MESSAGES_PER_SECOND": "10000000",
    "DOCSTREAM_WS_MESSAGE_BURST": "10000000",
    "DOCSTREAM_SEND_QUEUE_SIZE": "1000000",
    "DOCSTREAM_WS_BYTES_PER_SECOND": "1000000000",
    "DOCSTREAM_WS_BYTE_BURST": "1000000000",
}

_spawn = mp.get_context("spawn")


#: The latency target: p99 send -> receipt, and below every peer's p99 in the same run.
LATENCY_P99_MS = 15.0


def log(message: str) -> None:
    print(f"  {SUITE}: {message}", file=sys.stderr, flush=True)


def load_avg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}/{five:.2f}/{fifteen:.2f}"


# --------------------------------------------------------------------------- processes


def group_pids(pgid: int) -> list[int]:
    """Every live process of a process group (a server and its granian workers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def proc_stats(pid: int) -> tuple[float, int]:
    """(user + system CPU seconds, RSS bytes) of one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, int(fields[21]) * os.sysconf("SC_PAGESIZE")


def group_stats(pgid: int) -> tuple[float, int]:
    """CPU seconds and RSS bytes summed over a process group."""
    cpu, rss = 0.0, 0
    for pid in group_pids(pgid):
        c, r = proc_stats(pid)
        cpu, rss = cpu + c, rss + r
    return cpu, rss


def group_switches(pgid: int) -> int:
    """Context switches (voluntary + involuntary) of every thread of a process group so far."""
    total = 0
    for pid in group_pids(pgid):
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/status") as f:
                    for line in f:
                        if "ctxt_switches:" in line:
                            total += int(line.split()[-1])
    return total


def busiest_pid(pgid: int) -> int:
    """The process of a group that used the most CPU (granian's worker, not its supervisor)."""
    return max(group_pids(pgid), key=lambda pid: proc_stats(pid)[0])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@dataclass
class PeerServer:
    """A granian process serving one of the peer apps of ``benchmarks/peers``."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)


@contextlib.contextmanager
def _peer_process(
    argv: Sequence[str], cwd: Path, env: dict[str, str], port: int, name: str
) -> Iterator[PeerServer]:
    """``argv`` in a process group of its own (so ``group_stats`` sees all of it), its output in
    a log that failures quote; ready when ``/health`` answers 200."""
    workdir = Path(tempfile.mkdtemp(prefix="docstream-bench-peer-"))
    log_path = workdir / "server.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
        )
    server = PeerServer(proc, port, log_path)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", proc)
        yield server
    except BaseException as exc:
        exc.add_note(f"--- {name} log ---\n{log_path.read_text(errors='replace')[-4000:]}")
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def granian_app(
    target: str, env: dict[str, str] | None = None, args: Sequence[str] = ()
) -> Iterator[PeerServer]:
    """``granian --interface asgi <target>`` on a free port (``docstream serve``'s defaults)."""
    port = free_port()
    root = Path(__file__).resolve().parents[1]
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *args,
        target,
    ]
    with _peer_process(argv, root, {"PYTHONPATH": str(root), **(env or {})}, port, target) as peer:
        yield peer


#: The Node peers' own setup (``package.json`` + lock); ``npm ci`` fills its ``node_modules``.
NODE_DIR = Path(__file__).resolve().parent / "peers" / "node"
#: name -> the script ``node`` runs, relative to ``NODE_DIR`` (``HOST`` and ``PORT`` from the env).
NODE_PEERS = {
    # The standalone server of y-websocket (moved to @y/websocket-server with y-websocket 2), as
    # shipped: no YPERSISTENCE, so a document lives in memory only.
    "y-websocket": "node_modules/@y/websocket-server/src/server.js",
    "hocuspocus": "hocuspocus.mjs",
}


def ensure_node_peers() -> str:
    """``npm ci`` in ``NODE_DIR`` unless its ``node_modules`` matches the lock; node's version."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("node and npm are needed for the Node peers and were not found")
    lock = NODE_DIR / "package-lock.json"
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        log(f"npm ci in {NODE_DIR.relative_to(NODE_DIR.parents[2])}")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm ci failed: {(done.stderr or done.stdout)[-300:]}")
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def node_app(name: str) -> Iterator[PeerServer]:
    """One of ``NODE_PEERS`` under ``node`` on a free port of the loopback."""
    ensure_node_peers()
    port = free_port()
    argv = [shutil.which("node") or "node", NODE_PEERS[name]]
    with _peer_process(argv, NODE_DIR, {"HOST": "127.0.0.1", "PORT": str(port)}, port, name) as p:
        yield p


@contextlib.contextmanager
def docstream_server(
    args: Sequence[str] = (), env: dict[str, str] | None = None, **kwargs: Any
) -> Iterator[Any]:
    with run_server(list(args), {**BASE_ENV, **(env or {})}, **kwargs) as server:
        yield server


def pg_database(pg: Any) -> str:
    return str(pg.dsn_for(pg.create_database()))


# --------------------------------------------------------------------------- REST setup


@dataclass
class Account:
    url: str
    token: str
    user_id: str


def register(url: str, tag: str = "bench") -> Account:
    account = accounts.register(url, email=accounts.unique_email(tag), name=tag)
    return Account(url, account.access_token, account.id)


def create_document(account: Account, title: str = "bench") -> str:
    response = httpx.post(
        f"{account.url}/documents",
        json={"title": title},
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def replica_id() -> str:
    return "bench" + secrets.token_hex(6)


# --------------------------------------------------------------------------- frames


def trace_patches(prefix: int | None) -> list[tuple[int, int, str]]:
    return load(TRACE, prefix=prefix)


def docstream_frames(patches: list[tuple[int, int, str]], replica: str) -> list[str]:
    """One ``ops`` frame per patch, as the Python client would send them."""
    from docstream.crdt import Document, Op
    from docstream.protocol import codec
    from docstream.protocol.messages import SubmitOps

    doc = Document(replica)
    frames = []
    for ref, (pos, deleted, text) in enumerate(patches, 1):
        ops: list[Op] = []
        if deleted:
            ops += doc.delete(pos, deleted)
        if text:
            ops += doc.insert(pos, text)
        frames.append(codec.encode(SubmitOps(ref=ref, ops=ops)).decode())
    return frames


def yjs_frames(patches: list[tuple[int, int, str]], head: bytes = b"") -> list[bytes]:
    """One Yjs update message per patch (pycrdt's sync-protocol wrapper), each after ``head``
    (Hocuspocus: the document's name; see ``yjs_head``)."""
    from pycrdt import Doc, Text, create_update_message

    doc: Doc = Doc()
    text = doc.get("text", type=Text)
    updates: list[bytes] = []
    sub = doc.observe(lambda event: updates.append(event.update))
    for pos, deleted, inserted in patches:
        with doc.transaction():
            if deleted:
                del text[pos : pos + deleted]
            if inserted:
                text.insert(pos, inserted)
    doc.unobserve(sub)
    return [head + create_update_message(u) for u in updates]


def trace_text(prefix: int | None) -> str:
    """The text after the trace's first ``prefix`` patches (all of them: its end content)."""
    from testkit.traces import load_trace

    trace = load_trace(TRACE)
    if prefix is None:
        return str(trace["endContent"])
    text = str(trace["startContent"])
    for pos, deleted, inserted in trace_patches(prefix):
        text = text[:pos] + inserted + text[pos + deleted :]
    return text


def lib0_varuint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def lib0_varstring(value: str) -> bytes:
    data = value.encode()
    return lib0_varuint(len(data)) + data


# --------------------------------------------------------------------------- throughput clients

# kinds: "docstream" (hello/welcome, acks and broadcasts are JSON text), "floor" (no handshake,
# every frame back is an ack), "pycrdt" (a Yjs client: binary y-protocols sync messages built with
# pycrdt, the room in the URL's path; the writer counts the echoes of its own updates; spoken by
# pycrdt-websocket and y-websocket), "hocuspocus" (the same messages, each after the document's
# name as a lib0 varstring -- the URL's path here --, and an auth message before the sync).
YJS_KINDS = ("pycrdt", "hocuspocus")
ACK_PREFIX = '{"type":"ack"'
OPS_PREFIX = '{"type":"ops"'
ERROR_PREFIX = '{"type":"error"'
BATCH_PREFIX = '{"type":"batch"'


def tally(data: str) -> tuple[int, int, int]:
    """(entries, messages acknowledged, errors) in one DocStream text frame, a batch included.
    An entry's text is JSON-escaped, so the frame tags found by counting are only real ones."""
    if data.startswith(BATCH_PREFIX):
        acks = sum(f.get("n", 1) for f in json.loads(data)["frames"] if f["type"] == "ack")
        return data.count(OPS_PREFIX), acks, data.count(ERROR_PREFIX)
    if data.startswith(OPS_PREFIX):
        return 1, 0, 0
    if data.startswith(ACK_PREFIX):
        return 0, json.loads(data).get("n", 1) if '"n":' in data else 1, 0
    return 0, 0, int(data.startswith(ERROR_PREFIX))


Y_UPDATE = b"\x00\x02"  # y-protocols: messageSync, messageYjsUpdate
Y_SYNC_STEP2 = b"\x00\x01"
HOCUSPOCUS_AUTH = b"\x02"  # Hocuspocus' MessageType.Auth; then AuthMessageType (0: token)
HOCUSPOCUS_AUTHENTICATED = b"\x02\x02"
HOCUSPOCUS_DENIED = b"\x02\x01"


@dataclass
class Endpoint:
    kind: str
    url: str  # full ws:// URL of the socket
    token: str | None = None
    replica: str | None = None
    #: DocStream: say ``batch`` in ``hello`` (several frames per write, merged acks).
    batch: bool = True


async def _open(endpoint: Endpoint) -> Any:
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {endpoint.token}"} if endpoint.token else {}
    ws = await connect(
        endpoint.url,
        additional_headers=headers,
        max_size=None,
        compression=None,
        max_queue=4096,
        ping_interval=None,
        open_timeout=60,
    )
    if endpoint.kind == "docstream":
        batch = ',"batch":true' if endpoint.batch else ""
        await ws.send(f'{{"type":"hello","replica":"{endpoint.replica}","since":0{batch}}}')
        while not (await ws.recv()).startswith('{"type":"welcome"'):
            pass
    elif endpoint.kind == "pycrdt":
        await ws.recv()  # sync step 1 from the server: the room is joined
    elif endpoint.kind == "hocuspocus":
        await hocuspocus_join(ws, endpoint)
    return ws


def yjs_head(endpoint: Endpoint) -> bytes:
    """What comes before each y-protocols message on this endpoint's socket."""
    if endpoint.kind != "hocuspocus":
        return b""
    from urllib.parse import urlsplit

    return lib0_varstring(urlsplit(endpoint.url).path.lstrip("/"))


async def hocuspocus_join(ws: Any, endpoint: Endpoint, doc: Any = None) -> bytes:
    """What ``@hocuspocus/provider`` does on connect: an auth message (token; the server has no
    ``onAuthenticate`` hook, so any token passes), then sync step 1 (``doc``'s state vector, empty
    by default). Returns the server's sync step 2 once the document has added this connection."""
    from pycrdt import Doc, create_sync_message

    head = yjs_head(endpoint)
    await ws.send(head + HOCUSPOCUS_AUTH + b"\x00" + lib0_varstring(endpoint.token or "bench"))
    await ws.send(head + create_sync_message(doc if doc is not None else Doc()))
    authenticated = False
    while True:
        message = await ws.recv()
        if not isinstance(message, bytes) or not message.startswith(head):
            continue
        body = message[len(head) :]
        if body.startswith(HOCUSPOCUS_DENIED):
            raise RuntimeError(f"Hocuspocus denied {endpoint.url}: {body[2:]!r}")
        authenticated = authenticated or body.startswith(HOCUSPOCUS_AUTHENTICATED)
        if body.startswith(Y_SYNC_STEP2):
            if not authenticated:
                raise RuntimeError("Hocuspocus synced before saying authenticated")
            return body


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _use_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def reader_process(endpoint: Endpoint, expect: int, pipe: Pipe) -> None:
    _use_uvloop()
    asyncio.run(_reader(endpoint, expect, pipe))


async def _reader(endpoint: Endpoint, expect: int, pipe: Pipe) -> None:
    ws = await _open(endpoint)
    pipe.send("ready")
    cpu0 = _cpu()
    count = errors = 0
    first = last = 0.0
    kind = endpoint.kind
    update = yjs_head(endpoint) + Y_UPDATE
    try:
        async with asyncio.timeout(1800):
            async for data in ws:
                entries = 1
                if kind in YJS_KINDS:
                    hit = data.startswith(update)
                elif kind == "floor":
                    hit = True
                else:
                    entries, _, refused = tally(data)  # a batch holds several
                    hit = entries > 0
                    errors += refused
                if hit:
                    count += entries
                    if first == 0.0:
                        first = time.monotonic()
                    if count >= expect:
                        last = time.monotonic()
                        break
    except TimeoutError:
        errors += 1
    cpu = _cpu() - cpu0
    pipe.send({"count": count, "first": first, "last": last, "errors": errors, "cpu": cpu})
    await asyncio.to_thread(pipe.recv)  # "bye": the caller may SIGKILL the server first
    await ws.close()


def writer_process(endpoint: Endpoint, prefix: int | None, pipe: Pipe) -> None:
    _use_uvloop()
    patches = trace_patches(prefix)
    frames: Sequence[str | bytes]
    if endpoint.kind in YJS_KINDS:
        frames = yjs_frames(patches, yjs_head(endpoint))
    else:
        frames = docstream_frames(patches, endpoint.replica or replica_id())
    del patches
    gc.collect()
    gc.freeze()
    asyncio.run(_writer(endpoint, frames, pipe))


async def _writer(endpoint: Endpoint, frames: Sequence[str | bytes], pipe: Pipe) -> None:
    ws = await _open(endpoint)
    pipe.send(("ready", len(frames)))
    await asyncio.to_thread(pipe.recv)  # "go"
    n = len(frames)
    kind = endpoint.kind
    update = yjs_head(endpoint) + Y_UPDATE
    state = {"acks": 0, "errors": 0, "first_error": "", "last": 0.0}

    async def count() -> None:
        async for data in ws:
            if kind in YJS_KINDS:
                if not data.startswith(update):
                    continue
                state["acks"] += 1
            elif kind == "floor":
                state["acks"] += 1
            else:
                _, acked, refused = tally(data)
                if refused:
                    state["errors"] += refused
                    state["first_error"] = state["first_error"] or data[:300]
                if not acked and not refused:
                    continue
                state["acks"] += acked
            if state["acks"] + state["errors"] >= n:
                state["last"] = time.monotonic()
                return

    cpu0 = _cpu()
    t0 = time.monotonic()
    counter = asyncio.get_running_loop().create_task(count())
    send = ws.send
    for frame in frames:
        await send(frame)
    sent = time.monotonic()
    try:
        await asyncio.wait_for(counter, 1800)
    except TimeoutError:
        state["errors"] += 1
    pipe.send({**state, "t0": t0, "sent": sent, "cpu": _cpu() - cpu0})
    await asyncio.to_thread(pipe.recv)  # "bye"
    await ws.close()


@dataclass
class Throughput:
    n: int
    seconds: float
    server_cpu: float
    writer_cpu: float
    reader_cpu: float
    errors: int
    first_error: str = ""
    send_seconds: float = 0.0
    load: str = ""
    switches: int = 0

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds > 0 else 0.0


def replay(
    writer: Endpoint,
    reader: Endpoint,
    prefix: int | None,
    server_pgid: int | None,
    profile: Path | None = None,
    before_close: Callable[[], None] | None = None,
) -> Throughput:
    """One writer process replays the trace, one reader process receives it; both timed."""
    r_parent, r_child = _spawn.Pipe()
    w_parent, w_child = _spawn.Pipe()
    expect = len(trace_patches(prefix)) if writer.kind not in YJS_KINDS else None
    w = _spawn.Process(target=writer_process, args=(writer, prefix, w_child), daemon=True)
    w.start()
    ready, n = w_parent.recv()  # frames built, connected, hello done
    assert ready == "ready"
    assert expect is None or n == expect
    r = _spawn.Process(target=reader_process, args=(reader, n, r_child), daemon=True)
    r.start()
    assert r_parent.recv() == "ready"
    spy = None
    if profile is not None and server_pgid is not None:
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("py-spy")),
                "record",
                "--pid",
                str(busiest_pid(server_pgid)),
                "--format",
                "raw",
                "--output",
                str(profile),
                "--nonblocking",
                "--gil",
                "--rate",
                "200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    cpu0 = group_stats(server_pgid)[0] if server_pgid else 0.0
    switches0 = group_switches(server_pgid) if server_pgid else 0
    load = load_avg()
    w_parent.send("go")
    wres = w_parent.recv()
    rres = r_parent.recv()
    cpu1 = group_stats(server_pgid)[0] if server_pgid else 0.0
    switches = group_switches(server_pgid) - switches0 if server_pgid else 0
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            spy.wait(30)
    if before_close is not None:
        before_close()
    w_parent.send("bye")
    r_parent.send("bye")
    w.join(30)
    r.join(30)
    end = max(wres["last"], rres["last"])
    errors = wres["errors"] + rres["errors"] + (rres["count"] != n) + (wres["acks"] != n)
    return Throughput(
        n=n,
        seconds=end - wres["t0"] if end else float("inf"),
        server_cpu=cpu1 - cpu0,
        writer_cpu=wres["cpu"],
        reader_cpu=rres["cpu"],
        errors=errors,
        first_error=wres["first_error"],
        send_seconds=wres["sent"] - wres["t0"],
        load=load,
        switches=switches,
    )


def docstream_endpoints(
    base_ws: str, account: Account, doc_id: str, batch: bool = True
) -> tuple[Endpoint, Endpoint]:
    url = f"{base_ws}/ws/document/{doc_id}"
    return (
        Endpoint("docstream", url, account.token, replica_id(), batch),
        Endpoint("docstream", url, account.token, replica_id(), batch),
    )


def summarize(results: list[Throughput]) -> tuple[float, str]:
    """Median rate and a note with the samples, CPU per message and load averages."""
    rates = [t.rate for t in results]
    median = statistics.median(rates)
    mid = sorted(results, key=lambda t: t.rate)[len(results) // 2]
    per_msg = mid.server_cpu / mid.n * 1e6
    note = (
        f"samples {[round(r) for r in rates]} ops/s; median run: server CPU "
        f"{mid.server_cpu:.1f} s = {per_msg:.0f} us/message ({mid.server_cpu / mid.seconds:.0%} "
        f"of a core, {mid.switches / mid.n:.1f} context switches/message), writer CPU "
        f"{mid.writer_cpu:.1f} s, reader CPU {mid.reader_cpu:.1f} s, "
        f"send loop {mid.send_seconds:.1f} s of {mid.seconds:.1f} s; errors "
        f"{sum(t.errors for t in results)}; load {mid.load}"
    )
    if any(t.first_error for t in results):
        note += f"; first error {next(t.first_error for t in results if t.first_error)}"
    return median, note


# --------------------------------------------------------------------------- open


async def time_load(settings_kwargs: dict[str, Any], doc_id: str, runs: int) -> dict[str, Any]:
    from docstream.bootstrap import make_store
    from docstream.collab.loader import load_document
    from docstream.settings import Settings

    settings = Settings(jwt_secret=JWT_SECRET, **settings_kwargs)
    async with make_store(settings) as store:
        snapshot = await store.latest_snapshot(doc_id)
        samples = []
        doc: Any = None
        seq = 0
        for _ in range(runs):
            gc.collect()
            t0 = time.perf_counter()
            doc, seq = await load_document(store, doc_id)
            samples.append(time.perf_counter() - t0)
        snap_seq = snapshot.seq if snapshot else 0
        return {
            "median": statistics.median(samples),
            "samples": samples,
            "seq": seq,
            "snapshot_seq": snap_seq,
            "tail": seq - snap_seq,
            "chars": len(doc),
        }


async def fresh_sync(endpoint: Endpoint) -> tuple[float, int]:
    """Seconds from connect to the welcome's state applied by a ``ClientSession``; text length."""
    from websockets.asyncio.client import connect

    from docstream.protocol import codec
    from docstream.protocol.messages import Welcome
    from docstream.protocol.session import ClientSession

    session = ClientSession(endpoint.replica or replica_id())
    headers = {"Authorization": f"Bearer {endpoint.token}"}
    t0 = time.perf_counter()
    async with connect(
        endpoint.url, additional_headers=headers, max_size=None, compression=None
    ) as ws:
        await ws.send(codec.encode(session.hello()).decode())
        while True:
            frame = codec.decode_server_frame(await ws.recv())
            session.receive(frame)
            if isinstance(frame, Welcome):
                break
        elapsed = time.perf_counter() - t0
    return elapsed, len(session.doc.text)


async def yjs_fresh_sync(url: str) -> tuple[float, int]:
    from pycrdt import Doc, Text, create_sync_message, handle_sync_message
    from websockets.asyncio.client import connect

    doc: Doc = Doc()
    text = doc.get("text", type=Text)
    t0 = time.perf_counter()
    async with connect(url, max_size=None, compression=None) as ws:
        await ws.send(create_sync_message(doc))  # step 1: our (empty) state vector
        while True:
            message = await ws.recv()
            if message[:2] == b"\x00\x01":  # step 2: everything we miss
                handle_sync_message(message[1:], doc)
                break
        elapsed = time.perf_counter() - t0
    return elapsed, len(str(text))


async def yjs_synced_text(endpoint: Endpoint) -> str:
    """The text of the server's document, as a fresh Yjs client syncs it (step 1 -> step 2)."""
    from pycrdt import Doc, Text, create_sync_message, handle_sync_message
    from websockets.asyncio.client import connect

    doc: Doc = Doc()
    text = doc.get("text", type=Text)
    async with connect(endpoint.url, max_size=None, compression=None, open_timeout=60) as ws:
        if endpoint.kind == "hocuspocus":
            step2 = await hocuspocus_join(ws, endpoint, doc)
        else:
            await ws.send(create_sync_message(doc))
            while (step2 := await ws.recv())[:2] != Y_SYNC_STEP2:
                pass
        handle_sync_message(step2[1:], doc)
    return str(text)


async def yjs_time_load(db_path: Path, room: str, runs: int) -> tuple[float, list[float], int]:
    from pycrdt import Doc, Text
    from pycrdt.store import SQLiteYStore

    class Store(SQLiteYStore):
        pass

    Store.db_path = str(db_path)
    samples = []
    length = 0
    store = Store(path=room)
    async with store:
        for _ in range(runs):
            doc: Doc = Doc()
            text = doc.get("text", type=Text)
            gc.collect()
            t0 = time.perf_counter()
            await store.apply_updates(doc)
            samples.append(time.perf_counter() - t0)
            length = len(str(text))
    return statistics.median(samples), samples, length


def ystore_count(db_path: Path) -> int:
    try:
        with contextlib.closing(sqlite3.connect(db_path, timeout=5)) as db:
            return int(db.execute("SELECT count(*) FROM yupdates").fetchone()[0])
    except sqlite3.Error:
        return -1


# --------------------------------------------------------------------------- latency clients


@dataclass
class LatencyResult:
    samples_ms: list[float] = field(default_factory=list)
    sent: int = 0
    received: int = 0
    acks: int = 0
    errors: int = 0
    closes: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    first_error: str = ""


def latency_process(
    url: str | list[str],
    token: str,
    count: int,
    rate: float,
    duration: float,
    pipe: Pipe,
    tag: int,
    kind: str = "docstream",
) -> None:
    _use_uvloop()
    if kind in YJS_KINDS:
        assert isinstance(url, str)
        asyncio.run(_yjs_latency_clients(url, kind, count, rate, duration, pipe, tag))
    else:
        asyncio.run(_latency_clients(url, token, count, rate, duration, pipe, tag))


async def _yjs_latency_clients(
    url: str, kind: str, count: int, rate: float, duration: float, pipe: Pipe, tag: int
) -> None:
    """The Yjs typists: each has a pycrdt Doc of its own and appends ``~t<send time>~`` to it (one
    Yjs update per edit, as pycrdt encodes it); the server broadcasts the update to everyone, the
    sender included: a typist's own echo counts as its ack, everyone else's as a sample."""
    import re

    from pycrdt import Doc, Text, create_update_message
    from websockets.exceptions import ConnectionClosed

    stamp = re.compile(rb"~t(\d{6,20})~")
    result = LatencyResult()
    endpoint = Endpoint(kind, url)
    head = yjs_head(endpoint)
    update = head + Y_UPDATE
    sockets = [await _open(endpoint) for _ in range(count)]
    pipe.send("ready")
    start_at = await asyncio.to_thread(pipe.recv)
    cpu0 = _cpu()
    interval = 1.0 / rate
    stop_at = start_at + duration

    async def read(ws: Any, own: set[bytes]) -> None:
        try:
            async for data in ws:
                if not data.startswith(update):
                    continue
                now = time.monotonic_ns()
                for match in stamp.finditer(data):
                    sent = match.group(1)
                    if sent in own:
                        own.discard(sent)
                        result.acks += 1
                    else:
                        result.samples_ms.append((now - int(sent)) / 1e6)
                        result.received += 1
        except ConnectionClosed:
            result.closes += 1

    async def write(ws: Any, own: set[bytes], phase: float) -> None:
        doc: Doc = Doc()
        text = doc.get("text", type=Text)
        updates: list[bytes] = []
        doc.observe(lambda event: updates.append(event.update))
        next_at = start_at + phase
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= stop_at:
                return
            sent = str(time.monotonic_ns())
            text.insert(len(text), f"~t{sent}~")
            own.add(sent.encode())
            try:
                await ws.send(head + create_update_message(updates.pop()))
            except ConnectionClosed:
                return
            result.sent += 1
            next_at += interval

    owns: list[set[bytes]] = [set() for _ in sockets]
    readers = [
        asyncio.get_running_loop().create_task(read(ws, own))
        for ws, own in zip(sockets, owns, strict=True)
    ]
    t0 = time.monotonic()
    await asyncio.sleep(max(0.0, start_at - t0))
    await asyncio.gather(
        *(
            write(ws, own, interval * ((tag * count + i) % 97) / 97)
            for i, (ws, own) in enumerate(zip(sockets, owns, strict=True))
        )
    )
    pipe.send(("sent", result.sent))
    await asyncio.to_thread(pipe.recv)  # everyone has stopped sending: drain, then report
    await asyncio.sleep(3.0)
    result.cpu = _cpu() - cpu0
    result.wall = time.monotonic() - t0
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    pipe.send(result)


async def _latency_clients(
    url: str | list[str],
    token: str,
    count: int,
    rate: float,
    duration: float,
    pipe: Pipe,
    tag: int,
) -> None:
    from websockets.exceptions import ConnectionClosed

    result = LatencyResult()
    sockets = []
    urls = [url] if isinstance(url, str) else url
    replicas = [f"lat{tag:02d}x{i:03d}{secrets.token_hex(3)}" for i in range(count)]
    for i, replica in enumerate(replicas):  # client k of the run types into document k mod n
        where = urls[(tag * count + i) % len(urls)]
        sockets.append(await _open(Endpoint("docstream", where, token, replica)))
    pipe.send("ready")
    start_at = await asyncio.to_thread(pipe.recv)
    cpu0 = _cpu()
    interval = 1.0 / rate
    stop_at = start_at + duration

    async def read(ws: Any) -> None:
        try:
            async for data in ws:
                entries, acked, refused = tally(data)
                if entries:
                    now = time.monotonic_ns()
                    at = data.find('"text":"~', 0)
                    while at >= 0:
                        end = data.index("~", at + 9)
                        result.samples_ms.append((now - int(data[at + 9 : end])) / 1e6)
                        result.received += 1
                        at = data.find('"text":"~', end)
                result.acks += acked
                if refused:
                    result.errors += refused
                    result.first_error = result.first_error or data[:300]
        except ConnectionClosed:
            result.closes += 1

    async def write(ws: Any, replica: str, phase: float) -> None:
        counter = 0
        after = "null"
        ref = 0
        next_at = start_at + phase
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= stop_at:
                return
            text = f"~{time.monotonic_ns()}~"
            ref += 1
            frame = (
                f'{{"type":"ops","ref":{ref},"ops":[{{"kind":"ins","id":"{replica}:{counter}",'
                f'"after":{after},"text":"{text}"}}]}}'
            )
            after = f'"{replica}:{counter + len(text) - 1}"'
            counter += len(text)
            try:
                await ws.send(frame)
            except ConnectionClosed:
                return
            result.sent += 1
            next_at += interval

    readers = [asyncio.get_running_loop().create_task(read(ws)) for ws in sockets]
    t0 = time.monotonic()
    await asyncio.sleep(max(0.0, start_at - t0))
    await asyncio.gather(
        *(
            write(ws, replica, interval * ((tag * count + i) % 97) / 97)
            for i, (ws, replica) in enumerate(zip(sockets, replicas, strict=True))
        )
    )
    pipe.send(("sent", result.sent))
    await asyncio.to_thread(pipe.recv)  # everyone has stopped sending: drain, then report
    await asyncio.sleep(3.0)
    result.cpu = _cpu() - cpu0
    result.wall = time.monotonic() - t0
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    pipe.send(result)


def latency_run(
    url: str | list[str],
    token: str,
    clients: int,
    rate: float,
    duration: float,
    procs: int = 2,
    kind: str = "docstream",
) -> tuple[LatencyResult, int]:
    """``clients`` clients in ``procs`` processes; returns merged results and the sends total."""
    pipes, children = [], []
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    for tag, count in enumerate(per):
        parent, child = _spawn.Pipe()
        p = _spawn.Process(
            target=latency_process,
            args=(url, token, count, rate, duration, child, tag, kind),
            daemon=True,
        )
        p.start()
        pipes.append(parent)
        children.append(p)
    for parent in pipes:
        assert parent.recv() == "ready"
    start_at = time.monotonic() + 1.0
    for parent in pipes:
        parent.send(start_at)
    total_sent = 0
    for parent in pipes:
        _, sent = parent.recv()
        total_sent += sent
    for parent in pipes:
        parent.send("report")
    merged = LatencyResult()
    for parent in pipes:
        res: LatencyResult = parent.recv()
        merged.samples_ms += res.samples_ms
        merged.sent += res.sent
        merged.received += res.received
        merged.acks += res.acks
        merged.errors += res.errors
        merged.closes += res.closes
        merged.cpu += res.cpu
        merged.wall = max(merged.wall, res.wall)
        merged.first_error = merged.first_error or res.first_error
    for p in children:
        p.join(30)
    return merged, total_sent


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


# --------------------------------------------------------------------------- the suite


@dataclass
class Setup:
    quick: bool
    prefix: int | None = None
    runs: int = 3
    rows: list[Row] = field(default_factory=list)
    profile_dir: Path | None = None

    def __post_init__(self) -> None:
        self.prefix = QUICK_PREFIX if self.quick else None
        self.runs = QUICK_THROUGHPUT_RUNS if self.quick else THROUGHPUT_RUNS
        spy = os.environ.get("DOCSTREAM_BENCH_PYSPY")
        self.profile_dir = Path(spy) if spy else None

    @property
    def label(self) -> str:
        return f"{TRACE}{f' (first {self.prefix:,})' if self.prefix else ''}"

    @property
    def full(self) -> bool:
        return not self.quick


def throughput_docstream(
    setup: Setup, backend: str, args: list[str], data_dir: Path, batch: bool = True
) -> tuple[list[Throughput], str, Account]:
    """Several replays, each into a fresh document; the last document is left for ``open``.
    ``batch``: the clients say so in ``hello`` (as DocStream's own clients do)."""
    results = []
    with docstream_server(
        [*args, "--data-dir", str(data_dir)], FLOOD_ENV, stop_timeout=60
    ) as server:
        account = register(server.url)
        doc_id = ""
        for i in range(setup.runs):
            doc_id = create_document(account, f"throughput {i}")
            writer, reader = docstream_endpoints(server.ws_url, account, doc_id, batch)
            profile = None
            if setup.profile_dir is not None and i == setup.runs - 1:
                setup.profile_dir.mkdir(parents=True, exist_ok=True)
                profile = setup.profile_dir / f"docstream-{backend}.txt"
            last = i == setup.runs - 1
            # After the last run the server is SIGKILLed while both clients are still connected,
            # so the log keeps its tail after the last periodic snapshot (as after a crash).
            result = replay(
                writer, reader, setup.prefix, server.pid, profile, server.kill if last else None
            )
            log(f"docstream/{backend} run {i + 1}: {result.rate:,.0f} ops/s ({result.errors} err)")
            results.append(result)
    return results, doc_id, account


def open_docstream(
    setup: Setup, backend: str, args: list[str], data_dir: Path, account: Account, doc_id: str
) -> list[Row]:
    settings = {"database_url": args[1], "data_dir": data_dir} if args else {"data_dir": data_dir}
    load = asyncio.run(time_load(settings, doc_id, 7))
    syncs = []
    chars = 0
    for _ in range(5):
        with docstream_server([*args, "--data-dir", str(data_dir)]) as server:
            endpoint = Endpoint(
                "docstream", f"{server.ws_url}/ws/document/{doc_id}", account.token, replica_id()
            )
            elapsed, chars = asyncio.run(fresh_sync(endpoint))
            syncs.append(elapsed)
            server.kill()  # no final snapshot: every sample loads the same snapshot + tail
    sync = statistics.median(syncs)
    what = f"{load['chars']:,} chars, seq {load['seq']:,}, snapshot at {load['snapshot_seq']:,}"
    return [
        Row(
            SUITE,
            f"open {setup.label} ({backend}): load_document server side",
            load["median"],
            "s",
            target="< 100 ms" if setup.full else "",
            met=load["median"] < 0.100 if setup.full else None,
            samples=load["samples"],
            note=f"{what}, tail {load['tail']} entries; samples "
            f"{[round(s * 1000, 1) for s in load['samples']]} ms",
        ),
        Row(
            SUITE,
            f"open {setup.label} ({backend}): fresh client synced after restart",
            sync,
            "s",
            target="< 100 ms" if setup.full else "",
            met=sync < 0.100 if setup.full else None,
            samples=syncs,
            note=f"connect -> welcome applied ({chars:,} chars); samples "
            f"{[round(s * 1000, 1) for s in syncs]} ms",
        ),
    ]


def throughput_floor(
    setup: Setup, queued: bool = False, args: Sequence[str] = ()
) -> tuple[float, str]:
    results = []
    env = {"FLOOR_QUEUED": "1" if queued else "0"}
    with granian_app("benchmarks.peers.floor_app:app", env, args) as peer:
        for i in range(setup.runs):
            room = secrets.token_hex(4)
            writer = Endpoint("floor", f"{peer.ws_url}/w/{room}")
            reader = Endpoint("floor", f"{peer.ws_url}/r/{room}")
            result = replay(writer, reader, setup.prefix, peer.pid)
            log(f"floor run {i + 1}: {result.rate:,.0f} msgs/s")
            results.append(result)
    return summarize(results)


def yjs_updates(patches: list[tuple[int, int, str]]) -> list[bytes]:
    """One Yjs update per patch, as pycrdt encodes the edits of a ``Text``."""
    from pycrdt import Doc, Text

    updates: list[bytes] = []
    doc: Doc = Doc()
    text = doc.get("text", type=Text)
    sub = doc.observe(lambda event: updates.append(event.update))
    for pos, deleted, inserted in patches:
        with doc.transaction():
            if deleted:
                del text[pos : pos + deleted]
            if inserted:
                text.insert(pos, inserted)
    doc.unobserve(sub)
    return updates


def build_ystore(db: Path, room: str, updates: list[bytes]) -> int:
    """Write ``updates`` into a pycrdt SQLiteYStore database exactly as its ``write`` would leave
    them (a checkpoint at every 100th write holding the updates before it, every update a row),
    but in one transaction: going through ``write`` commits once per update (~4 ms each here,
    16 minutes for the whole trace). Returns the number of updates after the last checkpoint."""
    from pycrdt import Doc, Text
    from pycrdt.store import SQLiteYStore

    class Store(SQLiteYStore):
        pass

    Store.db_path = str(db)

    async def create_schema() -> None:
        async with Store(path=room) as store:
            assert store.db_initialized is not None
            await store.db_initialized.wait()

    asyncio.run(create_schema())
    n = len(updates)
    at = 100 * (n // 100)  # the last write that stored a checkpoint (1-based), as write() counts
    doc: Doc = Doc()
    doc.get("text", type=Text)
    for update in updates[: at - 1]:
        doc.apply_update(update)
    checkpoint = doc.get_update()
    base = time.time() - n * 1e-3
    stamps = [base + i * 1e-3 for i in range(n)]
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.executemany(
            "INSERT INTO yupdates VALUES (?, ?, ?, ?)",
            [(room, u, b"", t) for u, t in zip(updates, stamps, strict=True)],
        )
        conn.execute(
            "INSERT OR REPLACE INTO ycheckpoints (path, checkpoint, timestamp) VALUES (?, ?, ?)",
            (room, checkpoint, stamps[at - 1]),
        )
    return n - at + 1


def pycrdt_peer(setup: Setup) -> tuple[float, str, list[float], list[float]]:
    """Throughput runs (a fresh server and store each, killed after the run: its store writes lag
    far behind and would otherwise overlap the next run), then load time and fresh sync after a
    restart on a store holding the whole replay."""

    workdir = Path(tempfile.mkdtemp(prefix="docstream-bench-ystore-"))
    results = []
    lags = []
    runs = setup.runs if setup.quick else 1  # ~5 minutes per full-trace run
    try:
        for i in range(runs):
            db = workdir / f"run{i}.db"
            with granian_app("benchmarks.peers.pycrdt_app:app", {"PEER_YSTORE": str(db)}) as peer:
                room = f"room{secrets.token_hex(4)}"
                endpoint = Endpoint("pycrdt", f"{peer.ws_url}/{room}")
                stored: list[int] = []
                result = replay(
                    endpoint,
                    Endpoint("pycrdt", endpoint.url),
                    setup.prefix,
                    peer.pid,
                    before_close=lambda db=db, stored=stored: stored.append(ystore_count(db)),
                )
                peer.kill()
            lags.append(stored[0] / result.n if stored else 0.0)
            log(
                f"pycrdt-websocket run {i + 1}: {result.rate:,.0f} ops/s; "
                f"{stored[0] if stored else '?'} of {result.n} updates in its store at the end"
            )
            results.append(result)
        # The store for opening: the same updates, laid out as SQLiteYStore.write leaves them.
        updates = yjs_updates(trace_patches(setup.prefix))
        db = workdir / "open.db"
        room = "/opened"
        tail = build_ystore(db, room, updates)
        load_median, load_samples, chars = asyncio.run(yjs_time_load(db, room, 7))
        syncs = []
        for _ in range(5):
            with granian_app("benchmarks.peers.pycrdt_app:app", {"PEER_YSTORE": str(db)}) as peer:
                elapsed, synced_chars = asyncio.run(yjs_fresh_sync(f"{peer.ws_url}{room}"))
                assert synced_chars == chars, (synced_chars, chars)
                syncs.append(elapsed)
                peer.kill()
        median, note = summarize(results)
        note += (
            "; when the last update had been received, its store held "
            f"{', '.join(f'{lag:.0%}' for lag in lags)} of the updates (it writes after "
            f"broadcasting, one commit per update); open: checkpoint + {tail} updates, "
            f"{chars:,} chars"
        )
        return median, note, [load_median, *load_samples], syncs
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def node_peer(setup: Setup, name: str) -> tuple[float, str]:
    """Throughput runs against one of ``NODE_PEERS`` (one server, a fresh room per run, as
    DocStream's runs get a fresh document on one server). Each run ends with a fresh Yjs client
    syncing the room while the writer and reader are still connected: its text must be the
    trace's text (a mismatch counts as an error)."""
    version = ensure_node_peers()
    kind = "hocuspocus" if name == "hocuspocus" else "pycrdt"
    expected = trace_text(setup.prefix)
    results = []
    matched = 0
    with node_app(name) as peer:
        for i in range(setup.runs):
            room = f"room{secrets.token_hex(4)}"
            writer = Endpoint(kind, f"{peer.ws_url}/{room}")
            synced: list[str] = []

            def check(endpoint: Endpoint = writer, synced: list[str] = synced) -> None:
                synced.append(asyncio.run(yjs_synced_text(Endpoint(kind, endpoint.url))))

            result = replay(writer, Endpoint(kind, writer.url), setup.prefix, peer.pid, None, check)
            same = bool(synced) and synced[0] == expected
            matched += same
            if not same:
                result.errors += 1
                result.first_error = result.first_error or (
                    f"the synced text ({len(synced[0]) if synced else '?'} chars) is not the "
                    f"trace's ({len(expected):,} chars)"
                )
            log(f"{name} run {i + 1}: {result.rate:,.0f} ops/s ({result.errors} err)")
            results.append(result)
    median, note = summarize(results)
    note += (
        f"; node {version}; a fresh client synced the trace's final text ({len(expected):,} "
        f"chars) in {matched} of {len(results)} runs; nothing stored"
    )
    return median, note


def throughput_rows(setup: Setup) -> list[Row]:
    rows: list[Row] = []
    log(f"throughput: transport floor ({setup.label}, {setup.runs} runs)")
    floor, floor_note = throughput_floor(setup)
    log("throughput: transport floor with a sender task per socket")
    floor_q, floor_q_note = throughput_floor(setup, queued=True)
    pycrdt: tuple[float, str, list[float], list[float]] | None = None
    pycrdt_error = ""
    try:
        log("throughput: pycrdt-websocket + SQLiteYStore")
        pycrdt = pycrdt_peer(setup)
    except Exception as exc:  # reported, not hidden: the row says why the peer is missing
        pycrdt_error = f"pycrdt-websocket peer failed: {exc!r}"[:300]
        log(pycrdt_error)
    nodes: dict[str, tuple[float, str] | str] = {}  # name -> (ops/s, note), or why it failed
    for name in NODE_PEERS:
        try:
            log(f"throughput: {name} ({setup.runs} runs)")
            nodes[name] = node_peer(setup, name)
        except Exception as exc:  # reported in its row, as pycrdt's
            nodes[name] = f"{name} peer failed: {exc!r}"[:300]
            log(str(nodes[name]))
    ywebsocket = nodes["y-websocket"]
    rows.append(
        Row(
            SUITE,
            f"throughput {setup.label}: transport floor (bare ASGI under granian)",
            floor,
            "ops/s",
            note=floor_note,
        )
    )
    rows.append(
        Row(
            SUITE,
            f"throughput {setup.label}: transport floor, a sender task per socket",
            floor_q,
            "ops/s",
            note=floor_q_note,
        )
    )
    backends: list[tuple[str, list[str]]] = [("sqlite", [])]
    pg_ctx = postgres()
    with pg_ctx as pg:
        backends.append(("postgres", ["--database-url", pg_database(pg)]))
        for backend, args in backends:
            data_dir = Path(tempfile.mkdtemp(prefix=f"docstream-bench-{backend}-"))
            try:
                log(f"throughput: docstream on {backend} ({setup.runs} runs)")
                results, doc_id, account = throughput_docstream(setup, backend, args, data_dir)
                rate, note = summarize(results)
                # The peer: y-websocket (stores nothing) in the same run.
                peer_rate, peer_name, peer_note = (
                    (ywebsocket[0], "y-websocket (nothing durable)", "")
                    if isinstance(ywebsocket, tuple)
                    else (None, "", f"; {ywebsocket}")
                )
                rows.append(
                    Row(
                        SUITE,
                        f"throughput {setup.label}: ops/s end to end ({backend})",
                        rate,
                        "ops/s",
                        peer=peer_rate,
                        peer_name=peer_name,
                        target=">= y-websocket (same run)" if setup.full else "",
                        met=(rate >= peer_rate if peer_rate else False) if setup.full else None,
                        samples=[t.rate for t in results],
                        note=f"{note}; transport floor {floor:,.0f} / {floor_q:,.0f} msgs/s"
                        + (f"; pycrdt-websocket {pycrdt[0]:,.0f} ops/s" if pycrdt else "")
                        + peer_note
                        + (f"; {pycrdt_error}" if pycrdt_error else ""),
                    )
                )
                mid = sorted(results, key=lambda t: t.rate)[len(results) // 2]
                per_edit = mid.server_cpu / mid.n * 1e6
                rows.append(
                    Row(
                        SUITE,
                        f"throughput {setup.label}: server CPU per edit ({backend})",
                        round(per_edit, 1),
                        "us",
                        target="<= 80 us" if setup.full else "",
                        met=per_edit <= 80 if setup.full else None,
                        note="the median run's server CPU (user + system, every process of "
                        "the server) / edits",
                    )
                )
                if backend == "sqlite":
                    # The same replay by clients that do not say ``batch`` (older clients).
                    log(f"throughput: docstream on {backend}, clients without batching")
                    single_dir = Path(tempfile.mkdtemp(prefix=f"docstream-bench-{backend}-"))
                    try:
                        singles, _, _ = throughput_docstream(
                            setup, backend, args, single_dir, batch=False
                        )
                    finally:
                        shutil.rmtree(single_dir, ignore_errors=True)
                    single_rate, single_note = summarize(singles)
                    rows.append(
                        Row(
                            SUITE,
                            f"throughput {setup.label}: ops/s end to end ({backend}), "
                            "clients without batching",
                            single_rate,
                            "ops/s",
                            samples=[t.rate for t in singles],
                            note=single_note,
                        )
                    )
                log(f"open: docstream on {backend}")
                rows.extend(open_docstream(setup, backend, args, data_dir, account, doc_id))
            finally:
                shutil.rmtree(data_dir, ignore_errors=True)
    for name, title in (
        ("y-websocket", "y-websocket (peer, nothing durable)"),
        ("hocuspocus", "Hocuspocus (peer)"),
    ):
        outcome = nodes[name]
        rows.append(
            Row(
                SUITE,
                f"throughput {setup.label}: {title}",
                outcome[0] if isinstance(outcome, tuple) else float("nan"),
                "ops/s",
                note=outcome[1] if isinstance(outcome, tuple) else outcome,
            )
        )
    if pycrdt is None:
        rows.append(
            Row(
                SUITE,
                f"throughput {setup.label}: pycrdt-websocket + SQLiteYStore (peer)",
                float("nan"),
                "ops/s",
                note=pycrdt_error,
            )
        )
    else:
        _, pnote, loads, syncs = pycrdt
        rows.append(
            Row(
                SUITE,
                f"throughput {setup.label}: pycrdt-websocket + SQLiteYStore (peer)",
                pycrdt[0],
                "ops/s",
                note=pnote,
            )
        )
        rows.append(
            Row(
                SUITE,
                f"open {setup.label}: pycrdt-websocket SQLiteYStore.apply_updates (peer)",
                loads[0],
                "s",
                samples=loads[1:],
                note=f"samples {[round(s * 1000, 1) for s in loads[1:]]} ms",
            )
        )
        rows.append(
            Row(
                SUITE,
                f"open {setup.label}: pycrdt-websocket fresh client synced after restart (peer)",
                statistics.median(syncs),
                "s",
                samples=syncs,
                note=f"samples {[round(s * 1000, 1) for s in syncs]} ms",
            )
        )
    return rows


@dataclass
class LatencySummary:
    p50: float
    p99: float
    errors: int
    note: str


def summarize_latency(
    result: LatencyResult,
    sent: int,
    clients: int,
    server_cpu: float,
    load: str,
    per_document: int | None = None,
) -> LatencySummary:
    """``per_document``: the clients of one document (all of them, by default): each edit
    reaches the others of its document."""
    expected = sent * ((per_document or clients) - 1)
    missing = max(0, expected - result.received) + max(0, sent - result.acks)
    errors = result.errors + result.closes + missing
    note = (
        f"{sent:,} edits sent, {result.received:,} of {expected:,} broadcasts and "
        f"{result.acks:,} acks received; error frames {result.errors}, closes {result.closes}, "
        f"missing {missing}; max {max(result.samples_ms, default=0):.1f} ms; client CPU "
        f"{result.cpu:.1f} s over {result.wall:.0f} s in 2 processes "
        f"({result.cpu / result.wall:.0%} of a core); server CPU {server_cpu:.1f} s "
        f"({server_cpu / result.wall:.0%} of a core); load {load}"
    )
    if result.first_error:
        note += f"; first error {result.first_error}"
    return LatencySummary(
        percentile(result.samples_ms, 0.50), percentile(result.samples_ms, 0.99), errors, note
    )


def latency_node_peer(name: str, clients: int, rate: float, seconds: float) -> LatencySummary:
    """The same typists against one of ``NODE_PEERS`` (Yjs updates; a typist's echo is its ack)."""
    kind = "hocuspocus" if name == "hocuspocus" else "pycrdt"
    with node_app(name) as peer:
        url = f"{peer.ws_url}/latency{secrets.token_hex(4)}"
        cpu0 = group_stats(peer.pid)[0]
        load = load_avg()
        result, sent = latency_run(url, "", clients, rate, seconds, kind=kind)
        server_cpu = group_stats(peer.pid)[0] - cpu0
    return summarize_latency(result, sent, clients, server_cpu, load)


def latency_rows(setup: Setup) -> list[Row]:
    clients, seconds = (20, 10.0) if setup.quick else (50, 60.0)
    rate = 5.0
    label = f"latency {clients} clients x {rate:g}/s x {seconds:g} s"
    peers: dict[str, LatencySummary | str] = {}
    for name in NODE_PEERS:
        log(f"latency: {name}, {clients} clients x {rate:g} edits/s x {seconds:g} s")
        try:
            peers[name] = latency_node_peer(name, clients, rate, seconds)
        except Exception as exc:  # reported in its row
            peers[name] = f"{name} peer failed: {exc!r}"[:300]
            log(str(peers[name]))
    log(f"latency: {clients} clients x {rate:g} edits/s x {seconds:g} s")
    with docstream_server() as server:
        account = register(server.url)
        doc_id = create_document(account, "latency")
        url = f"{server.ws_url}/ws/document/{doc_id}"
        cpu0 = group_stats(server.pid)[0]
        load = load_avg()
        result, sent = latency_run(url, account.token, clients, rate, seconds)
        server_cpu = group_stats(server.pid)[0] - cpu0
    ours = summarize_latency(result, sent, clients, server_cpu, load)
    ywebsocket = peers["y-websocket"]
    rows = [
        Row(
            SUITE,
            f"{label}: p50 send -> receipt",
            ours.p50,
            "ms",
            target="< 20 ms" if setup.full else "",
            met=ours.p50 < 20 if setup.full else None,
            note=ours.note,
        ),
        Row(
            SUITE,
            f"{label}: p99 send -> receipt",
            ours.p99,
            "ms",
            peer=ywebsocket.p99 if isinstance(ywebsocket, LatencySummary) else None,
            peer_name="y-websocket" if isinstance(ywebsocket, LatencySummary) else "",
            target=f"<= {LATENCY_P99_MS:g} ms and below every peer" if setup.full else "",
            met=(
                ours.p99 <= LATENCY_P99_MS
                and all(isinstance(p, LatencySummary) and ours.p99 < p.p99 for p in peers.values())
                if setup.full
                else None
            ),
        ),
        Row(
            SUITE,
            f"{label}: errors",
            ours.errors,
            "",
            target="0",
            met=ours.errors == 0,
        ),
    ]
    for name, title in (("y-websocket", "y-websocket"), ("hocuspocus", "Hocuspocus")):
        outcome = peers[name]
        if isinstance(outcome, LatencySummary):
            rows.append(
                Row(
                    SUITE,
                    f"{label}: p99 send -> receipt, {title} (peer)",
                    outcome.p99,
                    "ms",
                    note=f"p50 {outcome.p50:.2f} ms; errors {outcome.errors}; {outcome.note}",
                )
            )
        else:
            rows.append(
                Row(
                    SUITE,
                    f"{label}: p99 send -> receipt, {title} (peer)",
                    float("nan"),
                    "ms",
                    note=outcome,
                )
            )
    return rows


async def _open_idle(url: str, token: str, count: int) -> list[Any]:
    sockets = []
    for i in range(count):
        endpoint = Endpoint("docstream", url, token, f"idle{i:04d}x{replica_id()}")
        sockets.append(await _open(endpoint))
    return sockets


async def _fill_documents(base_ws: str, token: str, doc_ids: list[str]) -> None:
    """Write automerge-paper's whole history into each document as ops messages of 5,000 ops."""
    from docstream.crdt import Document, Op
    from docstream.protocol import codec
    from docstream.protocol.messages import SubmitOps

    replica = replica_id()
    doc = Document(replica)
    ops: list[Op] = []
    for pos, deleted, text in trace_patches(None):
        if deleted:
            ops += doc.delete(pos, deleted)
        if text:
            ops += doc.insert(pos, text)
    chunks = [ops[i : i + 5000] for i in range(0, len(ops), 5000)]
    frames = [codec.encode(SubmitOps(ref=i, ops=c)).decode() for i, c in enumerate(chunks, 1)]
    for doc_id in doc_ids:
        ws = await _open(Endpoint("docstream", f"{base_ws}/ws/document/{doc_id}", token, replica))
        for frame in frames:
            await ws.send(frame)
        acks = 0
        while acks < len(frames):
            data = await ws.recv()
            if data.startswith(ERROR_PREFIX):
                raise RuntimeError(f"filling a document failed: {data[:300]}")
            acks += data.startswith(ACK_PREFIX)
        await ws.close()


def settle_rss(pgid: int, seconds: float = 2.0) -> int:
    time.sleep(seconds)
    return group_stats(pgid)[1]


def memory_rows(setup: Setup) -> list[Row]:
    idle = 200
    docs = 3 if setup.quick else 5
    log(f"memory: {idle} idle clients, {docs} documents of 104,852 chars")
    data_dir = Path(tempfile.mkdtemp(prefix="docstream-bench-mem-"))
    try:
        with docstream_server(["--data-dir", str(data_dir)], FLOOD_ENV) as server:  # a replay
            account = register(server.url)
            small = create_document(account, "idle")
            big = [create_document(account, f"big {i}") for i in range(docs)]
            asyncio.run(_fill_documents(server.ws_url, account.token, big))

        with docstream_server(["--data-dir", str(data_dir)]) as server:

            async def measure() -> tuple[int, int, int, int]:
                url = f"{server.ws_url}/ws/document/{small}"
                warm = await _open_idle(url, account.token, 5)  # imports, first room, pools
                before_idle = settle_rss(server.pid)
                sockets = await _open_idle(url, account.token, idle)
                after_idle = settle_rss(server.pid)
                before_docs = after_idle
                opened = []
                for doc_id in big:
                    opened += await _open_idle(
                        f"{server.ws_url}/ws/document/{doc_id}", account.token, 1
                    )
                after_docs = settle_rss(server.pid)
                for ws in [*warm, *sockets, *opened]:
                    await ws.close()
                return before_idle, after_idle, before_docs, after_docs

            before_idle, after_idle, before_docs, after_docs = asyncio.run(measure())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    per_client = (after_idle - before_idle) / idle
    per_doc = (after_docs - before_docs) / docs - per_client
    with granian_app("benchmarks.peers.floor_app:app") as peer:

        async def floor_idle() -> tuple[int, int]:
            warm = [await _open(Endpoint("floor", f"{peer.ws_url}/r/warm{i}")) for i in range(5)]
            before = settle_rss(peer.pid)
            sockets = [await _open(Endpoint("floor", f"{peer.ws_url}/r/{i}")) for i in range(idle)]
            after = settle_rss(peer.pid)
            for ws in [*warm, *sockets]:
                await ws.close()
            return before, after

        floor_before, floor_after = asyncio.run(floor_idle())
    return [
        Row(
            SUITE,
            f"memory: server RSS per idle connected client ({idle} clients)",
            per_client / 1000,
            "KB",
            peer=(floor_after - floor_before) / idle / 1000,
            peer_name="transport floor",
            note=f"RSS {before_idle / 1e6:.1f} MB -> {after_idle / 1e6:.1f} MB (process group); "
            f"transport floor {floor_before / 1e6:.1f} MB -> {floor_after / 1e6:.1f} MB",
        ),
        Row(
            SUITE,
            f"memory: server RSS per open 104,852-char document ({docs} documents)",
            per_doc / 1e6,
            "MB",
            note=f"RSS {before_docs / 1e6:.1f} MB -> {after_docs / 1e6:.1f} MB; automerge-paper's "
            "whole history (tombstones included), one client each (its cost subtracted)",
        ),
    ]


#: Many typists over many documents: clients, documents, edits per second each, seconds.
SPREAD_FULL = (500, 100, 2.0, 30.0)
SPREAD_QUICK = (100, 20, 2.0, 10.0)
SPREAD_P99_MS = 100.0


def spread_rows(setup: Setup) -> list[Row]:
    """500 typists spread over 100 documents (5 each) at 2 edits/s each, on one server: p99 send ->
    receipt by the document's other typists."""
    clients, documents, rate, seconds = SPREAD_QUICK if setup.quick else SPREAD_FULL
    label = f"{clients} typists over {documents} documents x {rate:g}/s x {seconds:g} s"
    log(f"latency: {label}")
    with docstream_server() as server:
        account = register(server.url)
        urls = [
            f"{server.ws_url}/ws/document/{create_document(account, f'spread {i}')}"
            for i in range(documents)
        ]
        cpu0 = group_stats(server.pid)[0]
        load = load_avg()
        result, sent = latency_run(urls, account.token, clients, rate, seconds)
        server_cpu = group_stats(server.pid)[0] - cpu0
    ours = summarize_latency(result, sent, clients, server_cpu, load, clients // documents)
    return [
        Row(
            SUITE,
            f"{label}: p99 send -> receipt",
            ours.p99,
            "ms",
            target=f"< {SPREAD_P99_MS:g} ms" if setup.full else "",
            met=ours.p99 < SPREAD_P99_MS and ours.errors == 0 if setup.full else None,
            note=f"p50 {ours.p50:.2f} ms; {ours.note}",
        ),
        Row(SUITE, f"{label}: errors", ours.errors, "", target="0", met=ours.errors == 0),
    ]


def run(quick: bool) -> list[Row]:
    setup = Setup(quick)
    log(f"load average {load_avg()} on {os.cpu_count()} cores")
    t0 = time.monotonic()
    rows = throughput_rows(setup)
    rows += latency_rows(setup)
    rows += spread_rows(setup)
    rows += memory_rows(setup)
    log(f"done in {time.monotonic() - t0:.0f} s; load average {load_avg()}")
    return rows


def _main(argv: list[str]) -> None:
    """``python -m benchmarks.collab [--quick] [throughput|latency|spread|memory ...]``: parts
    only."""
    from benchmarks.report import print_table

    quick = "--quick" in argv
    parts = [a for a in argv if not a.startswith("--")] or [
        "throughput",
        "latency",
        "spread",
        "memory",
    ]
    setup = Setup(quick)
    table: dict[str, Callable[[Setup], list[Row]]] = {
        "throughput": throughput_rows,
        "latency": latency_rows,
        "spread": spread_rows,
        "memory": memory_rows,
    }
    rows: list[Row] = []
    for part in parts:
        rows += table[part](setup)
    print_table(rows)


if __name__ == "__main__":
    from benchmarks import collab  # the spawned clients must find their code by module name

    collab._main(sys.argv[1:])
