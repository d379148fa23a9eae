"""A minimal Server-Sent Events reader for the ``GET /events`` tests (real HTTP, httpx)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from types import TracebackType
from typing import Any, Self

import httpx


class EventStream:
    """``async with EventStream(url, token) as events``: reads ``GET /events`` in the background.

    ``events.status`` is the response status; :meth:`next` the next ``event``'s data (``documents``
    unless told, e.g. ``notification``);
    :attr:`ended` is set when the server ends the stream. Comments are counted in ``comments``.
    """

    def __init__(self, base_url: str, access_token: str | None, event: str = "documents") -> None:
        self._event = event
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=None)
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._opened: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.ended = asyncio.Event()
        self.comments: list[str] = []
        self.status = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.get_running_loop().create_task(self._read())
        self.status = await asyncio.wait_for(self._opened, 10)
        if self.status == 200:  # connected: the server registered the stream
            await self._wait_for_comment("connected")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await self._task
        await self._client.aclose()

    async def next(self, timeout: float = 1.0) -> dict[str, Any]:
        data: dict[str, Any] = await asyncio.wait_for(self._queue.get(), timeout)
        return data

    async def nothing_for(self, seconds: float) -> bool:
        """True if no event arrives within ``seconds``."""
        try:
            await self.next(seconds)
        except TimeoutError:
            return True
        return False

    async def _wait_for_comment(self, text: str) -> None:
        for _ in range(500):
            if text in self.comments:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"no ': {text}' comment")

    async def _read(self) -> None:
        try:
            async with self._client.stream("GET", "/events") as response:
                self._opened.set_result(response.status_code)
                if response.status_code != 200:
                    await response.aread()
                    return
                event: dict[str, str] = {}
                async for line in response.aiter_lines():
                    if line.startswith(":"):
                        self.comments.append(line[1:].strip())
                    elif line == "":
                        if event.get("event") == self._event:
                            self._queue.put_nowait(json.loads(event["data"]))
                        event = {}
                    else:
                        field, _, value = line.partition(":")
                        event[field] = value.removeprefix(" ")
        finally:
            if not self._opened.done():
                self._opened.set_result(0)
            self.ended.set()
