"""A raw WebSocket peer for tests that need to send exactly what they want (any frame, any order,
malformed ones included), where the Python client would refuse or repair."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


def replica() -> str:
    """A fresh replica id for a peer's ``hello``."""
    return secrets.token_urlsafe(9)


class RawPeer:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(
        cls,
        base_url: str,
        doc_id: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> RawPeer:
        url = base_url.replace("http", "ws", 1) + f"/ws/document/{doc_id}"
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        ws = await connect(
            url, additional_headers=all_headers, max_size=None, compression=None, **kwargs
        )
        return cls(ws)

    async def send(self, frame: Any) -> None:
        await self.ws.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        parsed: dict[str, Any] = json.loads(data)
        return parsed

    async def recv_type(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame of this type (others are skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            if frame["type"] == kind:
                return frame

    async def hello(self, replica: str, since: int = 0) -> dict[str, Any]:
        await self.send({"type": "hello", "replica": replica, "since": since})
        return await self.recv_type("welcome")

    async def closed(self, timeout: float = 5.0) -> tuple[int, str]:
        """Wait for the server to close; return (code, reason)."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as exc:
            assert exc.rcvd is not None, "closed without a close frame"
            return exc.rcvd.code, exc.rcvd.reason

    async def close(self) -> None:
        await self.ws.close()
