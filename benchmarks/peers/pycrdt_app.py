"""pycrdt-websocket (Yjs in Rust, pycrdt 0.14) with its SQLite store, as an ASGI app for granian.

Each room ``/{name}`` has a ``YRoom`` whose updates are written to ``SQLiteYStore`` (a checkpoint
every 100 updates, its default); a room is loaded from the store (``apply_updates``: the latest
checkpoint plus later updates) before its first client is served. The database file is
``$PEER_YSTORE``.

This mirrors how pycrdt-websocket is deployed with persistence (e.g. jupyter-collaboration): the
server applies each incoming update to its ``Doc`` and broadcasts it to every client of the room
(the sender included: Yjs has no acknowledgement, the echo is what the writer waits for); the store
write happens in the background, after the broadcast -- not before it as DocStream's ack does.

Run: ``PEER_YSTORE=/tmp/y.db granian --interface asgi benchmarks.peers.pycrdt_app:app``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable
from typing import Any

from pycrdt.store import SQLiteYStore, YDocNotFound
from pycrdt.websocket import ASGIServer, WebsocketServer, YRoom


class Store(SQLiteYStore):
    db_path = os.environ.get("PEER_YSTORE", "ystore.db")


class PersistentServer(WebsocketServer):
    """A WebsocketServer whose rooms are backed by ``Store`` and loaded from it on first use."""

    async def get_room(self, name: str) -> YRoom:
        room = self.rooms.get(name)
        if room is None:
            room = YRoom(ready=False, ystore=Store(path=name), log=self.log)
            self.rooms[name] = room  # before any await: concurrent first opens share it
            await self.start_room(room)
            assert room.ystore is not None
            await room.ystore.started.wait()
            with contextlib.suppress(YDocNotFound):
                await room.ystore.apply_updates(room.ydoc)
            room.ready = True
        else:
            await room.ready_event.wait()
        return room


server = PersistentServer(auto_clean_rooms=False)
_asgi = ASGIServer(server)

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        message = await receive()
        assert message["type"] == "lifespan.startup"
        async with server:
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            for room in list(server.rooms.values()):
                with contextlib.suppress(Exception):
                    await room.stop()
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] == "http":
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await _asgi(scope, receive, send)
