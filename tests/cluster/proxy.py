"""A small TCP proxy for cluster tests: a load balancer in front of nodes, or a cable to cut.

``TcpProxy(targets)`` listens on a free port and forwards each new connection to the first target
that accepts it (so it fails over when a node dies, like a load balancer with health checks).
``cut()`` closes every open connection and refuses new ones until ``restore()``.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, targets: list[tuple[str, int]]) -> None:
        self.targets = targets
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.down = False
        self.rotate = False
        self._next = 0

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()
            return
        order = list(range(len(self.targets)))
        if self.rotate:
            order = order[self._next :] + order[: self._next]
            self._next = (self._next + 1) % len(self.targets)
        for index in order:
            host, port = self.targets[index]
            try:
                up_reader, up_writer = await asyncio.open_connection(host, port)
            except OSError:
                continue
            break
        else:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.close()
            self._writers.discard(dst)

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self.down = True
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.down = False

    async def close(self) -> None:
        self.cut()
        for task in list(self._pipes):
            task.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
