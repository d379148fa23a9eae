"""The live document's transport: one WebSocket at a time, re-opened with backoff.

``LiveDocument`` owns the socket and the asyncio side (a writer task, waiting, notifying); what it
does with each frame and each closed connection is decided without a socket by
``client/driver.py`` over the sans-I/O ``ClientSession``. It says ``hello`` with the last applied
``seq``, re-sends every unacknowledged message and surfaces what happens as events
(``LiveDocument.events``). Edits made while disconnected are kept and sent on reconnect; nothing
typed is dropped unless the server refuses it permanently (then a ``Refused`` event with
``dropped`` tells which ops).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from docstream.client.driver import Backoff, LiveDriver, handshake_headers, reaction_to_close
from docstream.client.errors import ApiError
from docstream.protocol.codes import CLOSE_RESTART, FINAL_CLOSE_CODES
from docstream.protocol.messages import Peer
from docstream.protocol.session import ClientSession, Desynced, Event, Refused

if TYPE_CHECKING:
    from docstream.client.connection import DocStreamClient

log = logging.getLogger(__name__)


class LiveDocument:
    """A live replica of one document. ``async with`` waits for the first ``welcome``."""

    def __init__(
        self,
        client: DocStreamClient,
        doc_id: str,
        *,
        replica: str | None = None,
        max_backoff: float = 2.0,
    ) -> None:
        self.client = client
        self.doc_id = doc_id
        self.session = ClientSession(replica or secrets.token_urlsafe(12))
        self.driver = LiveDriver(self.session)
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.max_backoff = max_backoff
        self.connected = asyncio.Event()
        self.closed_reason: tuple[int, str] | None = None
        self._ws: ClientConnection | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self._stopping = False
        self.connects = 0

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- state -----------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.session.doc.text

    @property
    def seq(self) -> int:
        return self.session.since

    @property
    def peers(self) -> dict[str, Peer]:
        return self.session.peers

    @property
    def replica(self) -> str:
        return self.session.replica

    # --- edits -----------------------------------------------------------------------------------

    def insert(self, index: int, text: str) -> None:
        self._send(self.session.insert(index, text))

    def delete(self, index: int, length: int) -> None:
        self._send(self.session.delete(index, length))

    def set_cursor(self, anchor: int, head: int | None = None) -> None:
        self._send(self.session.cursor(anchor, head))

    def _send(self, frame: msgspec.Struct | None) -> None:
        """Queue a frame for the current connection (edits made offline wait in ``pending``)."""
        text = self.driver.outgoing(frame)
        if text is not None and self._outbox is not None:
            self._outbox.put_nowait(text)

    async def _writer(self, ws: ClientConnection, outbox: asyncio.Queue[str]) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.send(await outbox.get())

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self, timeout: float = 10.0) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        waiter = asyncio.ensure_future(self.connected.wait())
        done, _ = await asyncio.wait(
            {waiter, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            if self._task in done:
                self._task.result()
            raise TimeoutError(
                f"no welcome from the server within {timeout} s (closed: {self.closed_reason})"
            )

    async def close(self) -> None:
        self._stopping = True
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def disconnect(self) -> None:
        """Drop the connection (the loop reconnects): for tests and flaky networks."""
        if self._ws is not None:
            asyncio.get_running_loop().create_task(
                self._ws.close(code=CLOSE_RESTART, reason="client drop")
            )

    async def synced(self, timeout: float = 10.0) -> None:
        """Wait until connected and every local edit is acknowledged."""

        async def done() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.session.live and not self.session.pending)

        await asyncio.wait_for(done(), timeout)

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Wait until ``predicate(self)`` is true (re-checked after every frame)."""

        async def check() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self))

        await asyncio.wait_for(check(), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _run(self) -> None:
        backoff = Backoff(self.max_backoff)
        while not self._stopping:
            token = self.client.access_token
            headers = handshake_headers(token, self.client.links.get(self.doc_id))
            try:
                async with connect(
                    self.client.ws_url(self.doc_id),
                    additional_headers=headers,
                    max_size=None,
                    compression=None,
                ) as ws:
                    self._ws = ws
                    self._outbox = asyncio.Queue()
                    writer = asyncio.get_running_loop().create_task(self._writer(ws, self._outbox))
                    backoff.reset()
                    try:
                        await self._talk(ws, self._outbox)
                    finally:
                        writer.cancel()
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else 1006
                self.closed_reason = (code, exc.rcvd.reason if exc.rcvd else "")
                # Our own close (to resynchronise, or ``disconnect``) is answered with our code.
                await self._closed(code, token, exc.sent is not None and not exc.rcvd_then_sent)
            except (OSError, InvalidStatus, TimeoutError) as exc:
                self.closed_reason = (1006, str(exc))
            finally:
                self._ws = None
                self._outbox = None
                self.driver.disconnected()
                self.connected.clear()
                await self._notify()
            if not self._stopping:
                await asyncio.sleep(backoff.next())

    async def _closed(self, code: int, token: str | None, closed_by_us: bool) -> None:
        """The connection closed with ``code``: stop, or refresh before retrying."""
        reaction = reaction_to_close(
            code, can_refresh=bool(self.client.refresh_token), closed_by_us=closed_by_us
        )
        if reaction == "refresh":
            # The token expired or the session ended: refresh (once for all the live documents
            # of this client) and reconnect; pending edits are re-sent.
            try:
                await self.client.refresh(stale=token)
            except ApiError as refused:
                if refused.status == 401:
                    log.warning("document %s: signed out: %s", self.doc_id, refused)
                    self._stopping = True
            except httpx.HTTPError:
                pass  # the server is unreachable: retry with backoff
        elif reaction == "stop":
            # Signed out for good (pending edits stay in the session), or closed for good.
            if code in FINAL_CLOSE_CODES or code == CLOSE_RESTART:
                log.warning("document %s closed for good: %s", self.doc_id, self.closed_reason)
            self._stopping = True

    async def _talk(self, ws: ClientConnection, outbox: asyncio.Queue[str]) -> None:
        await ws.send(self.driver.opening())
        async for data in ws:
            step = self.driver.receive(data)
            for event in step.events:
                self.events.put_nowait(event)
                if isinstance(event, Desynced):
                    log.warning("document %s: %s; reconnecting", self.doc_id, event.reason)
                elif isinstance(event, Refused) and event.dropped:
                    log.error(
                        "document %s: the server refused edits for good: %s %s",
                        self.doc_id,
                        event.code,
                        event.message,
                    )
            for text in step.send:
                outbox.put_nowait(text)
            if step.welcomed:
                self.connects += 1
                self.connected.set()
            await self._notify()
            if step.restart is not None:
                if step.restart.pause:
                    log.info("document %s: edits refused for now; resynchronising", self.doc_id)
                    await asyncio.sleep(step.restart.pause)  # give the server a moment
                await ws.close(code=step.restart.code, reason=step.restart.reason)
                return


__all__ = ["LiveDocument"]
