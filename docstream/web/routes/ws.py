"""``GET /ws/document/{doc_id}``: the collaboration socket (docs/protocol.md §5).

Order of events: Origin check (refused before the upgrade: HTTP 403) -> accept -> authenticate and
authorize (close 4401 / 4403 / 4404) -> the handshake -> live. The handshake and every
per-connection rule (the ``hello`` deadline, the first-frame rule, frame size, decoding, flood
control) are the sans-I/O ``ServerSession`` (``protocol/server.py``); the document side is the
collab ``Session`` (``Hub.connect``). This module is the pump between them and the socket: it
reads a frame, hands it to the server session with the time, and performs the actions it gets
back on the collab session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.types import WebSocketSendEvent

from docstream import logs, metrics, tracing
from docstream.bootstrap import Services
from docstream.collab.session import Member, Session
from docstream.errors import DocStreamError, UnauthorizedError
from docstream.protocol.codes import (
    CLOSE_FORBIDDEN,
    CLOSE_NORMAL,
    CLOSE_SERVER_ERROR,
    CLOSE_UNAUTHENTICATED,
    close_code,
)
from docstream.protocol.server import (
    Action,
    Close,
    Comment,
    Join,
    MoveCursor,
    Reply,
    ServerSession,
    SocketLimits,
    Submit,
)
from docstream.services.api_tokens import is_api_token
from docstream.services.comments import CommentService
from docstream.services.documents import Access
from docstream.services.identity import Identity, Verified
from docstream.web.deps import bearer_token, link_token

log = logging.getLogger("docstream.ws")
#: The span of one socket's session, from the upgrade to the close (:mod:`docstream.tracing`).
SESSION_SPAN = "WS /ws/document/{doc_id}"


def origin_allowed(socket: WebSocket[Any, Any, Any], allowed: tuple[str, ...]) -> bool:
    """No Origin (a non-browser client), the serving origin itself, or a configured one."""
    origin = socket.headers.get("origin")
    if not origin:
        return True
    if origin in allowed or "*" in allowed:
        return True
    host = socket.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


async def _identify(
    socket: WebSocket[Any, Any, Any], services: Services, doc_id: str
) -> tuple[Identity, Access, Verified | None]:
    token = bearer_token(socket.headers, socket.cookies, socket.query_params)
    link = link_token(socket.headers, socket.query_params)  # a public link: ?link=<token>
    identity: Identity
    verified: Verified | None = None
    if token is not None:
        if is_api_token(token):
            raise UnauthorizedError(
                "personal API tokens work with the REST API only; live editing signs in with "
                "an access token"
            )
        verified = await services.auth.verify(token)
        logs.remember_user(socket.scope, verified.user.id)
        identity = Identity(user_id=verified.user.id, name=verified.user.name, link=link)
    else:
        suffix = secrets.token_hex(4)
        identity = Identity(
            user_id=f"guest-{suffix}", name=f"Guest {suffix[:4]}", guest=True, link=link
        )
    access = await services.documents.access(identity, doc_id, "viewer")
    return identity, access, verified


class _SocketOutlet:
    """The session's frames, written to the socket (``collab.session.Outlet``)."""

    def __init__(self, socket: WebSocket[Any, Any, Any]) -> None:
        self._socket = socket

    async def send(self, text: str) -> None:
        await self._socket.send(WebSocketSendEvent(type="websocket.send", text=text, bytes=None))

    async def close(self, code: int, reason: str) -> None:
        await self._socket.close(code=code, reason=reason)


@websocket("/ws/document/{doc_id:str}")
async def document_socket(socket: WebSocket[Any, Any, Any], doc_id: str) -> None:
    if not tracing.enabled():
        await _serve(socket, doc_id, tracing.OFF)
        return
    headers = {k.lower(): v for k, v in socket.headers.items()}
    attributes = {"docstream.doc_id": doc_id, "docstream.request_id": logs.request_id_var.get()}
    with tracing.span(SESSION_SPAN, attributes, kind="server", parent_headers=headers) as span:
        await _serve(socket, doc_id, span)


def _closed(span: tracing.SpanLike, code: int, by: str) -> None:
    """Record how the socket ended on its session's span."""
    if span.is_recording():
        span.set_attribute("docstream.ws.close_code", code)
        span.set_attribute("docstream.ws.closed_by", by)
        if code == CLOSE_SERVER_ERROR:
            tracing.fail(span, "the server failed this socket")


async def _serve(socket: WebSocket[Any, Any, Any], doc_id: str, span: tracing.SpanLike) -> None:
    services: Services = socket.app.state.services
    settings = services.settings
    if not origin_allowed(socket, settings.allowed_origins):
        log.info("websocket refused: origin %s not allowed", socket.headers.get("origin"))
        # Before accept: the client reads HTTP 403.
        await socket.close(code=CLOSE_FORBIDDEN, reason="origin not allowed")
        _closed(span, CLOSE_FORBIDDEN, "server")
        return
    await socket.accept()
    try:
        identity, access, verified = await _identify(socket, services, doc_id)
    except DocStreamError as exc:
        await socket.close(code=close_code(exc), reason=exc.detail[:120])
        _closed(span, close_code(exc), "server")
        return
    if span.is_recording():
        span.set_attribute("docstream.role", access.role)
        span.set_attribute("docstream.guest", identity.guest)
    member = Member(
        user_id=identity.user_id,
        name=identity.name,
        role=access.role,
        guest=identity.guest,
        link=identity.link,
        history_floor=access.history_floor,
    )
    session = services.hub.connect(member, doc_id, _SocketOutlet(socket))
    revocations = services.revocations
    if verified is not None:  # closed (4401) when its session ends or its token expires
        revocations.register(session, verified.session_id, verified.expires_at)
        if services.auth.known_signed_out(verified.session_id):  # signed out meanwhile
            session.close(CLOSE_UNAUTHENTICATED, "this session was signed out")
    rules = ServerSession(SocketLimits.from_settings(settings), asyncio.get_running_loop().time())
    metrics.OPEN_SOCKETS.inc()
    client_code: int | None = None  # the client closed first, with this code
    try:
        await _pump(socket, rules, session, services.comments)
    except WebSocketDisconnect as exc:
        if session.closing is None:
            client_code = exc.code
    except DocStreamError as exc:
        await _close(socket, session, rules.fail(exc))
    except Exception:
        log.exception("websocket for %s crashed", doc_id)
        await _close(socket, session, rules.crash())
    finally:
        metrics.OPEN_SOCKETS.dec()
        revocations.unregister(session)
        server_close = session.closing
        await session.leave()
        await _drain(socket)
        if client_code is not None:
            _closed(span, client_code, "client")
        elif server_close is not None:
            _closed(span, server_close.code, "server")
        else:  # the pump ended without a close asked for: leave() closed normally
            _closed(span, CLOSE_NORMAL, "server")


async def _discard_until_quiet(
    socket: WebSocket[Any, Any, Any], quiet: float = 0.2, limit: float = 2.0
) -> None:
    """Read and drop frames until the client pauses, so the close frame that follows is not lost
    to a TCP reset (a socket closed with unread data resets the connection)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    with contextlib.suppress(TimeoutError, WebSocketDisconnect):
        while loop.time() < deadline:
            message = await asyncio.wait_for(socket.receive(), quiet)
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(detail="client disconnected")


async def _drain(socket: WebSocket[Any, Any, Any], timeout: float = 2.0) -> None:
    """After our close frame, read until the client's close arrives (or a timeout).

    Returning while the client is still sending would make the kernel reset the connection, and
    the client would lose our close frame (and its code) with it.
    """

    async def until_disconnect() -> None:
        while (await socket.receive())["type"] != "websocket.disconnect":
            pass

    with contextlib.suppress(Exception):
        await asyncio.wait_for(until_disconnect(), timeout)


async def _next_actions(socket: WebSocket[Any, Any, Any], rules: ServerSession) -> list[Action]:
    """Wait for the next frame (until the ``hello`` deadline, if any) and hand it to the rules."""
    loop = asyncio.get_running_loop()
    timeout = None if rules.deadline is None else rules.deadline - loop.time()
    if timeout is not None and timeout <= 0:
        return rules.expire(loop.time())
    try:
        message = await asyncio.wait_for(socket.receive(), timeout)
    except TimeoutError:
        return rules.expire(loop.time())
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(detail="client disconnected", code=message.get("code", 1000))
    text = message.get("text")
    if isinstance(text, str):
        return rules.receive(text, loop.time())
    data = message.get("bytes")
    binary = bytes(data) if isinstance(data, bytes | bytearray) else None
    return rules.receive(binary, loop.time())


async def _close(socket: WebSocket[Any, Any, Any], session: Session, close: Close) -> None:
    # The server closing a socket on a client (a bad frame, a flood) is worth a line: with the
    # request id, user, document and node on it, an operator can follow that client.
    log.info("websocket closed by the server (%d): %s", close.code, close.reason)
    metrics.SERVER_CLOSES.labels(str(close.code)).inc()
    if close.discard_first:
        await _discard_until_quiet(socket)  # frames left unread would reset our close frame
    session.close(close.code, close.reason)


async def _pump(
    socket: WebSocket[Any, Any, Any],
    rules: ServerSession,
    session: Session,
    comments: CommentService,
) -> None:
    """Frames from the socket through the rules; their actions to the session (comment frames
    to the comments service)."""
    while rules.state != "closing" and session.closing is None:
        for action in await _next_actions(socket, rules):
            if isinstance(action, Reply):
                session.error(action.error, action.ref, action.comment)
            elif isinstance(action, Close):
                await _close(socket, session, action)
            elif isinstance(action, Join):
                await session.join(action.hello)
                await comments.send_list(session)
            elif isinstance(action, Submit | MoveCursor):
                await session.submit(action.frame)
            elif isinstance(action, Comment):
                await comments.handle(session, action.frame)
