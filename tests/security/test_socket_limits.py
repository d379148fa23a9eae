"""One client's sockets cannot make the server hold unbounded memory or connections.

Each attack runs against a real ``docstream serve`` per backend: a reader that never reads, a
sender that floods bytes or frames (also before ``hello``), a user or address that opens socket
after socket, and a 200 MB frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from testkit.accounts import Users, shared_doc
from testkit.processes import ServerFactory, ServerProcess
from testkit.raw import RawPeer, replica


async def test_a_reader_that_never_reads_is_closed_once_its_queue_holds_too_many_bytes(
    start_server: ServerFactory,
) -> None:
    """Frames are bounded in bytes, not only in count: 400 frames of 60 KB (24 MB) would have fit
    the 1,024-frame bound, and the server held all of them for a client that never reads."""
    env = {
        "DOCSTREAM_SEND_QUEUE_BYTES": str(1024 * 1024),
        "DOCSTREAM_WS_BYTES_PER_SECOND": str(100 * 1024 * 1024),
        "DOCSTREAM_WS_BYTE_BURST": str(100 * 1024 * 1024),
        "DOCSTREAM_MAX_DOCUMENT_CHARS": str(30_000_000),  # 24 million characters are written
    }
    with start_server(env=env) as server:
        users = Users(server.url)
        try:
            ann, bob, doc_id = await shared_doc(users)
            writer = await RawPeer.open(server.url, doc_id, ann.access_token)
            rid = replica()
            await writer.hello(rid)
            # Bob's socket: a tiny receive buffer, and he reads nothing.
            sleeper = await RawPeer.open(server.url, doc_id, bob.access_token, max_queue=1)
            await sleeper.hello(replica())
            last = None
            counter = 1
            for ref in range(400):
                text = "x" * 60_000
                await writer.send(
                    {
                        "type": "ops",
                        "ref": ref,
                        "ops": [
                            {"kind": "ins", "id": f"{rid}:{counter}", "after": last, "text": text}
                        ],
                    }
                )
                last = f"{rid}:{counter + len(text) - 1}"
                counter += len(text)
                await writer.recv_type("ack", timeout=10)
            code, reason = await sleeper.closed(timeout=20)
            assert code == 1013, (code, reason)
            # The writer is unaffected.
            await writer.send({"type": "cursor", "anchor": None, "head": None})
            await writer.close()
        finally:
            await users.close()


async def test_a_client_sending_too_many_bytes_per_second_is_refused_then_closed(
    start_server: ServerFactory,
) -> None:
    env = {
        "DOCSTREAM_MAX_FRAME_BYTES": "65536",
        "DOCSTREAM_WS_BYTES_PER_SECOND": "50000",
        "DOCSTREAM_WS_BYTE_BURST": "65536",
    }
    with start_server(env=env) as server:
        users = Users(server.url)
        try:
            ann, _, doc_id = await shared_doc(users)
            peer = await RawPeer.open(server.url, doc_id, ann.access_token)
            await peer.hello(replica())
            codes: list[str] = []
            with contextlib.suppress(ConnectionClosed):
                for _ in range(60):  # 60 frames of 60 KB: 3.6 MB at once
                    await peer.send('{"type": "cursor", "anchor": "' + "x" * 60_000 + '"}')
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                while True:
                    frame = await peer.recv(timeout=5)
                    if frame["type"] == "error":
                        codes.append(frame["code"])
            assert "rate_limited" in codes, codes
            assert peer.ws.close_code == 4429, (peer.ws.close_code, codes[:5])
        finally:
            await users.close()


async def test_frames_before_hello_are_rate_limited_too(start_server: ServerFactory) -> None:
    env = {"DOCSTREAM_WS_MESSAGES_PER_SECOND": "1", "DOCSTREAM_WS_MESSAGE_BURST": "10"}
    with start_server(env=env) as server:
        users = Users(server.url)
        try:
            ann = await users.new("ann")
            doc = await ann.create_document("Before hello")
            peer = await RawPeer.open(server.url, doc["id"], ann.access_token)
            codes: list[str] = []
            with contextlib.suppress(ConnectionClosed):
                for _ in range(200):
                    await peer.send("not json, and no hello either")
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                while True:
                    codes.append((await peer.recv(timeout=5))["code"])
            assert codes[:10] == ["bad_message"] * 10, codes[:12]
            assert "rate_limited" in codes
            assert len(codes) < 100, "flooding before hello is cut short"
            assert peer.ws.close_code == 4429
        finally:
            await users.close()


async def test_one_user_cannot_hold_more_sockets_than_the_cap(start_server: ServerFactory) -> None:
    with start_server(env={"DOCSTREAM_WS_MAX_SOCKETS_PER_USER": "3"}) as server:
        users = Users(server.url)
        try:
            ann = await users.new("ann")
            doc = await ann.create_document("Sockets")
            url = f"{server.ws_url}/ws/document/{doc['id']}?token={ann.access_token}"
            held = [await connect(url) for _ in range(3)]
            with pytest.raises(InvalidStatus) as refused:
                await connect(url)
            assert refused.value.response.status_code == 429
            assert b"too many open connections" in bytes(refused.value.response.body or b"")
            # Another user from the same address is not affected.
            bob = await users.new("bob")
            other = await bob.create_document("Bob's")
            async with connect(
                f"{server.ws_url}/ws/document/{other['id']}?token={bob.access_token}"
            ):
                pass
            # Closing one frees a place.
            await held.pop().close()
            await asyncio.sleep(0.3)
            again = await connect(url)
            await again.close()
            for ws in held:
                await ws.close()
        finally:
            await users.close()


async def test_one_address_cannot_hold_more_sockets_than_the_cap(
    start_server: ServerFactory,
) -> None:
    """Guests on a public document have no account: the address cap still applies."""
    with start_server(env={"DOCSTREAM_WS_MAX_SOCKETS_PER_ADDRESS": "4"}) as server:
        users = Users(server.url)
        try:
            ann = await users.new("ann")
            doc = await ann.create_document("Public")
            link = await ann.request(
                "POST",
                f"/documents/{doc['id']}/share/public",
                json={"enabled": True, "role": "viewer"},
            )
            url = f"{server.ws_url}/ws/document/{doc['id']}?link={link['link_token']}"
            held = [await connect(url) for _ in range(4)]
            with pytest.raises(InvalidStatus) as refused:
                await connect(url)
            assert refused.value.response.status_code == 429
            for ws in held:
                await ws.close()
        finally:
            await users.close()


def _worker_pids(server: ServerProcess) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _peak_rss_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no VmHWM")


async def test_a_200_mb_frame_is_dropped_without_the_server_buffering_it(
    server: ServerProcess, users: Users
) -> None:
    """granian refuses a frame above 16 MiB from its header (its WebSocket library's default;
    granian has no setting for it): the server never buffers the 200 MB, logs no traceback, and
    keeps serving. Measured: the worker's peak RSS does not move (70 MiB before and after)."""
    ann, bob, doc_id = await shared_doc(users)
    (worker,) = _worker_pids(server)
    before = _peak_rss_mib(worker)
    attacker = await RawPeer.open(server.url, doc_id, ann.access_token)
    await attacker.hello(replica())
    started = time.monotonic()
    with contextlib.suppress(ConnectionClosed, OSError):
        await attacker.send("x" * (200 * 1024 * 1024))
        await attacker.recv(timeout=30)
    assert time.monotonic() - started < 30
    assert _peak_rss_mib(worker) - before < 64, "the server buffered the frame"
    async with bob.open(doc_id) as live:  # still serving
        live.insert(0, "still here")
        await live.synced()
    assert "Traceback" not in server.log()
