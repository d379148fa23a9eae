"""The transport floor: the least an ASGI WebSocket server under granian can do per edit.

``/w/{room}`` (the writer): every frame received is answered with one small frame back (the
"ack") and forwarded unchanged to the reader of the same room. ``/r/{room}`` (the reader): only
receives. No parsing, no validation, no storage, no framework: whatever DocStream spends above this
per message is DocStream's own cost (Litestar, msgspec, the CRDT, the database).

With ``FLOOR_QUEUED=1`` each socket gets an ``asyncio.Queue`` drained by its own sender task (the
structure DocStream uses: the receive loop never waits for a send), instead of awaiting both sends
inline before receiving the next frame.

Run: ``granian --interface asgi benchmarks.peers.floor_app:app``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

ACK = {"type": "websocket.send", "text": '{"type":"ack","ref":0,"seq":0}'}
readers: dict[str, Send] = {}
QUEUED = os.environ.get("FLOOR_QUEUED") == "1"


def queued(send: Send) -> tuple[Send, asyncio.Task[None]]:
    """A send that only enqueues, and the task that really sends."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def drain() -> None:
        while True:
            await send(await queue.get())

    async def put(message: dict[str, Any]) -> None:
        queue.put_nowait(message)

    return put, asyncio.get_running_loop().create_task(drain())


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    _, role, room = scope["path"].split("/", 2)
    raw_send = send
    task = None
    if QUEUED:
        send, task = queued(raw_send)
    if role == "r":
        readers[room] = send  # registered before the client sees the upgrade
        await raw_send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
        readers.pop(room, None)
        if task is not None:
            task.cancel()
        return
    await raw_send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            if task is not None:
                task.cancel()
            return
        await send(ACK)
        reader = readers.get(room)
        if reader is not None:
            await reader({"type": "websocket.send", "text": message.get("text")})
