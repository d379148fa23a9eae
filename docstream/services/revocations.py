"""Revocation reaches live sockets: signed-out sessions, expired tokens, withdrawn access.

A WebSocket (or a ``GET /events`` stream) is authenticated once, when it opens; without this
module it would outlive the session and the token it was opened with. Both are *watched* here
(anything with ``close(code, reason)``); "socket" below means either. Three ways in, so that no
single lost message leaves a socket open:

- **Events**: a sign-out on this node closes the session's sockets here at once (4401) and is
  published to the other nodes (a ``sessions`` peer message), which do the same.
- **Expiry**: each socket is closed (4401) when its access token expires; the clients refresh
  their token and reconnect, re-sending whatever was not acknowledged.
- **Periodic re-check** (every ``revocation_check_interval`` seconds, and after a reconnection to
  the broker): the sessions of every open socket are looked up in the store in one query, and the
  roles of every open document are re-checked through the Hub (``Hub.recheck_all``). A node cut
  off from Redis therefore still closes revoked sockets within the interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import msgspec

from docstream.collab.extensions import (
    BrokerReconnected,
    Extension,
    PeerMessage,
    SessionsRevoked,
)
from docstream.collab.hub import Hub
from docstream.collab.session import Session
from docstream.errors import DocStreamError
from docstream.protocol.codes import CLOSE_UNAUTHENTICATED
from docstream.services.auth import AuthService
from docstream.settings import Settings
from docstream.storage.base import DocumentStore

log = logging.getLogger(__name__)

#: The topic of the peer messages of sign-outs.
PEER_TOPIC = "sessions"


class _SessionsEvent(msgspec.Struct, frozen=True):
    sids: list[str]


class Watched(Protocol):
    """What revocation closes: a document socket (:class:`Session`) or a list-events stream."""

    def close(self, code: int, reason: str) -> None: ...


class Revocations(Extension):
    """Keeps the open sockets of this node honest about sessions and roles (an extension: peer
    messages of sign-outs, re-checks after a broker reconnection)."""

    name = "revocations"

    def __init__(
        self,
        hub: Hub,
        auth: AuthService,
        store: DocumentStore,
        settings: Settings,
        publish: Callable[[str, bytes], Awaitable[None]] | None = None,
    ) -> None:
        self.hub = hub
        self.auth = auth
        self.store = store
        self.settings = settings
        self.publish = publish
        self._by_session: dict[str, set[Watched]] = {}
        self._timers: dict[Watched, asyncio.TimerHandle] = {}
        self._sessions: dict[Watched, str] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Revocations:
        self._task = asyncio.get_running_loop().create_task(self._periodic())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # --- sockets ---------------------------------------------------------------------------------

    def register(self, conn: Session | Watched, session_id: str, expires_at: float) -> None:
        """Watch a signed-in socket: close it when its session ends or its token expires."""
        self._by_session.setdefault(session_id, set()).add(conn)
        self._sessions[conn] = session_id
        delay = max(0.0, expires_at - time.time())
        self._timers[conn] = asyncio.get_running_loop().call_later(
            delay, conn.close, CLOSE_UNAUTHENTICATED, "the access token expired; refresh it"
        )

    def unregister(self, conn: Session | Watched) -> None:
        timer = self._timers.pop(conn, None)
        if timer is not None:
            timer.cancel()
        sid = self._sessions.pop(conn, None)
        if sid is not None:
            conns = self._by_session.get(sid)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self._by_session[sid]

    def _close(self, session_ids: list[str] | set[str]) -> None:
        for sid in session_ids:
            for conn in list(self._by_session.get(sid, ())):
                conn.close(CLOSE_UNAUTHENTICATED, "this session was signed out")

    # --- events ----------------------------------------------------------------------------------

    async def sessions_revoked(self, event: SessionsRevoked) -> None:
        """A sign-out on this node (told by the AuthService)."""
        session_ids = list(event.session_ids)
        self._close(session_ids)
        if self.publish is not None:
            await self.publish(PEER_TOPIC, msgspec.json.encode(_SessionsEvent(session_ids)))

    async def peer_message(self, event: PeerMessage) -> None:
        if event.topic == PEER_TOPIC:
            await self.on_cluster_event(event.body)

    async def broker_reconnected(self, event: BrokerReconnected) -> None:
        await self.recheck_all()

    async def on_cluster_event(self, body: bytes) -> None:
        """A sign-out on another node."""
        try:
            sids = msgspec.json.decode(body, type=_SessionsEvent).sids
        except msgspec.ValidationError:
            log.warning("ignored a malformed sessions event")
            return
        self.auth.forget(sids)
        self._close(sids)

    # --- re-checks -------------------------------------------------------------------------------

    async def recheck_all(self) -> None:
        """Look every open socket's session and role up in the store (after a broker reconnect,
        and periodically)."""
        sids = list(self._by_session)
        if sids:
            try:
                dead = await self.store.dead_sessions(sids)
            except DocStreamError as exc:
                log.warning("cannot re-check sessions: %s", exc.detail)
            else:
                if dead:
                    self.auth.forget(list(dead))
                    self._close(dead)
        await self.hub.recheck_all()

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self.settings.revocation_check_interval)
            try:
                await self.recheck_all()
            except Exception:  # keep checking; the next round may succeed
                log.exception("revocation re-check failed")

    def watched(self) -> dict[str, Any]:
        """Counters for /health details."""
        return {"sockets": len(self._sessions), "sessions": len(self._by_session)}
