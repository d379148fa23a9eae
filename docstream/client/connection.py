"""The client's transports: httpx for REST, websockets for the live document.

``LiveDocument`` wraps a ``ClientSession`` (sans-I/O) with a connection loop that reconnects with
backoff, says ``hello`` with the last applied ``seq``, re-sends every unacknowledged message and
surfaces what happens as events (``LiveDocument.events``). Edits made while disconnected are kept
and sent on reconnect; nothing typed is dropped unless the server refuses it permanently (then a
``Refused`` event with ``dropped`` tells which ops).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import urllib.parse
from types import TracebackType
from typing import Any, Self

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from docstream.protocol import codec
from docstream.protocol.messages import Peer
from docstream.protocol.session import ClientSession, Desynced, Event, Refused, Welcomed

log = logging.getLogger(__name__)

#: The header that carries a document's public link token (docs/protocol-notes.md).
LINK_HEADER = "X-DocStream-Link"
#: Close codes after which reconnecting cannot help.
FINAL_CLOSE_CODES = {4403, 4404, 4400}


class ApiError(Exception):
    """A REST error reply (PROTOCOL.md §4)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class DocStreamClient:
    """REST access and a factory for live documents. Use as an async context manager."""

    def __init__(
        self, base_url: str, *, access_token: str | None = None, timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.refresh_token: str | None = None
        self.user: dict[str, Any] | None = None
        #: Public link tokens by document id: sent (as ``X-DocStream-Link``) with every request
        #: about that document and on its WebSocket. See :meth:`use_link`.
        self.links: dict[str, str] = {}
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self._refreshing = asyncio.Lock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "documents" and parts[2] in self.links:
            headers[LINK_HEADER] = self.links[parts[2]]
        response = await self._http.request(method, path, json=json, params=params, headers=headers)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                code, message = error["code"], error["message"]
            except (ValueError, KeyError, TypeError):
                code, message = "HTTP_ERROR", response.text[:200]
            raise ApiError(response.status_code, code, message)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _take_tokens(self, body: dict[str, Any]) -> dict[str, Any]:
        self.access_token = body["access_token"]
        self.refresh_token = body["refresh_token"]
        if "user" in body:
            self.user = body["user"]
        return body

    async def register(self, email: str, password: str, name: str | None = None) -> dict[str, Any]:
        return self._take_tokens(
            await self.request(
                "POST", "/auth/register", {"email": email, "password": password, "name": name}
            )
        )

    async def login(self, email: str, password: str) -> dict[str, Any]:
        return self._take_tokens(
            await self.request("POST", "/auth/login", {"email": email, "password": password})
        )

    async def refresh(self, stale: str | None = None) -> None:
        """Swap the refresh token for new tokens (a refresh token works once).

        Refreshes are serialised: several live documents of this client that lose their token
        at once refresh once, not once each (a second use of the same refresh token would sign
        the whole session out). ``stale``: the access token the caller found expired; if it has
        been replaced meanwhile, there is nothing to do.
        """
        async with self._refreshing:
            if stale is not None and self.access_token != stale:
                return  # another caller refreshed while this one waited
            if self.refresh_token is None:
                raise ApiError(401, "UNAUTHORIZED", "no refresh token")
            self._take_tokens(
                await self.request("POST", "/auth/refresh", {"refresh_token": self.refresh_token})
            )

    async def logout(self) -> None:
        """Sign this session out (its tokens and open sockets, on every node)."""
        await self.request("POST", "/auth/logout", {"refresh_token": self.refresh_token})
        self.access_token = self.refresh_token = None

    async def logout_all(self) -> None:
        """Sign out every session of this user."""
        await self.request("POST", "/auth/logout-all", {})
        self.access_token = self.refresh_token = None

    async def change_password(self, current: str, new: str) -> dict[str, Any]:
        """Other sessions are signed out; this client continues with the new tokens."""
        return self._take_tokens(
            await self.request(
                "POST", "/auth/password", {"current_password": current, "new_password": new}
            )
        )

    async def accept_invitation(self, token: str) -> dict[str, Any]:
        """Redeem an invitation link's token (the part after ``/invite/``)."""
        result: dict[str, Any] = await self.request("POST", f"/invitations/{token}/accept")
        return result

    async def create_document(self, title: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("POST", "/documents", {"title": title})
        return result

    async def get_document(self, doc_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", f"/documents/{doc_id}")
        return result

    async def share(self, doc_id: str, email: str, role: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "POST", f"/documents/{doc_id}/share", {"email": email, "role": role}
        )
        return result

    async def set_public(self, doc_id: str, enabled: bool, role: str = "viewer") -> dict[str, Any]:
        """Turn the public link on or off (owner); the reply's ``link_token`` is the secret."""
        result: dict[str, Any] = await self.request(
            "POST", f"/documents/{doc_id}/share/public", {"enabled": enabled, "role": role}
        )
        return result

    async def reset_link(self, doc_id: str) -> dict[str, Any]:
        """Replace the public link (owner): every copy of the old one stops working."""
        result: dict[str, Any] = await self.request(
            "POST", f"/documents/{doc_id}/share/public/reset"
        )
        return result

    def use_link(self, link: str, doc_id: str | None = None) -> str:
        """Remember a public link for its document; return the document id.

        ``link`` is a shared page address (``https://host/d/<id>#link=<token>``) or, with
        ``doc_id``, the bare token.
        """
        if doc_id is None:
            parsed = urllib.parse.urlsplit(link)
            match = re.fullmatch(r"/d/([^/]+)/?", parsed.path)
            token = urllib.parse.parse_qs(parsed.fragment or parsed.query).get("link", [""])[0]
            if match is None or not token:
                raise ValueError(f"not a DocStream document link: {link!r}")
            doc_id, link = urllib.parse.unquote(match.group(1)), token
        self.links[doc_id] = link
        return doc_id

    def open(
        self, doc_id: str, *, replica: str | None = None, link: str | None = None
    ) -> LiveDocument:
        """A live replica of ``doc_id`` (``link``: a public link token, see :meth:`use_link`)."""
        if link is not None:
            self.use_link(link, doc_id)
        return LiveDocument(self, doc_id, replica=replica)

    def ws_url(self, doc_id: str) -> str:
        scheme = "wss" if self.base_url.startswith("https") else "ws"
        return f"{scheme}{self.base_url[self.base_url.index(':') :]}/ws/document/{doc_id}"


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
        if frame is None or self._outbox is None or not self.session.live:
            return
        self._outbox.put_nowait(codec.encode(frame).decode())

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
            asyncio.get_running_loop().create_task(self._ws.close(code=4000, reason="client drop"))

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
        backoff = 0.05
        while not self._stopping:
            token = self.client.access_token
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if self.doc_id in self.client.links:
                headers[LINK_HEADER] = self.client.links[self.doc_id]
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
                    backoff = 0.05
                    try:
                        await self._talk(ws, self._outbox)
                    finally:
                        writer.cancel()
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else 1006
                self.closed_reason = (code, exc.rcvd.reason if exc.rcvd else "")
                if code == 4401 and self.client.refresh_token:
                    # The token expired or the session ended: refresh (once for all the live
                    # documents of this client) and reconnect; pending edits are re-sent.
                    try:
                        await self.client.refresh(stale=token)
                    except ApiError as refused:
                        if refused.status == 401:
                            log.warning("document %s: signed out: %s", self.doc_id, refused)
                            self._stopping = True
                    except httpx.HTTPError:
                        pass  # the server is unreachable: retry with backoff
                elif code == 4401:
                    self._stopping = True  # signed out for good; pending edits stay in session
                elif code in FINAL_CLOSE_CODES:
                    log.warning("document %s closed for good: %s", self.doc_id, self.closed_reason)
                    self._stopping = True
            except (OSError, InvalidStatus, TimeoutError) as exc:
                self.closed_reason = (1006, str(exc))
            finally:
                self._ws = None
                self._outbox = None
                self.session.live = False
                self.connected.clear()
                await self._notify()
            if not self._stopping:
                await asyncio.sleep(backoff)
                backoff = min(self.max_backoff, backoff * 2)

    async def _talk(self, ws: ClientConnection, outbox: asyncio.Queue[str]) -> None:
        await ws.send(codec.encode(self.session.hello()).decode())
        async for data in ws:
            frame = codec.decode_server_frame(data)
            for event in self.session.receive(frame):
                self.events.put_nowait(event)
                if isinstance(event, Welcomed):
                    self.connects += 1
                    for msg in self.session.resend():
                        outbox.put_nowait(codec.encode(msg).decode())
                    self.connected.set()
                elif isinstance(event, Desynced):
                    log.warning("document %s: %s; reconnecting", self.doc_id, event.reason)
                    await ws.close(code=4000, reason="desync")
                elif isinstance(event, Refused) and event.dropped:
                    log.error(
                        "document %s: the server refused edits for good: %s %s",
                        self.doc_id,
                        event.code,
                        event.message,
                    )
            await self._notify()
            if self.session.resync:
                log.info("document %s: edits refused for now; resynchronising", self.doc_id)
                await asyncio.sleep(0.5)  # give the server (its database) a moment
                await ws.close(code=4000, reason="resync")
                return


__all__ = ["ApiError", "DocStreamClient", "LiveDocument"]
