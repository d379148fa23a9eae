"""``GET /ws/document/{doc_id}``: the collaboration socket (PROTOCOL.md §2).

Order of events: Origin check (refused before the upgrade: HTTP 403) -> accept -> authenticate and
authorize (close 4401 / 4403 / 4404) -> wait for ``hello`` (4408 after ``hello_timeout``) -> live.
Every frame is validated; a bad frame gets an ``error`` and the connection stays open, except frames
above the size limit (close 1009) and persistent flooding (close 4429).
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

from docstream.bootstrap import Services
from docstream.collab import messages as m
from docstream.collab.connection import CloseRequest, Connection
from docstream.collab.hub import Hub
from docstream.collab.revocation import Revocations
from docstream.collab.room import Room
from docstream.crdt.ids import check_replica
from docstream.errors import (
    DocStreamError,
    ProtocolError,
    RateLimitedError,
    TooLargeError,
)
from docstream.protocol import codec
from docstream.protocol.messages import ErrorFrame, Hello, SetCursor, SubmitOps
from docstream.services.auth import Identity, Verified
from docstream.services.documents import Access
from docstream.web.deps import bearer_token, link_token
from docstream.web.errors import (
    CLOSE_HELLO_TIMEOUT,
    CLOSE_TOO_LARGE,
    close_code,
)
from docstream.web.limits import SocketBudget, frame_size

log = logging.getLogger("docstream.ws")
MAX_STRIKES = 20
#: The largest ``since`` a hello may carry (2^53 - 1: exact in JavaScript, fits every database).
MAX_SEQ = 2**53 - 1


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
        verified = await services.auth.verify(token)
        identity = Identity(user_id=verified.user.id, name=verified.user.name, link=link)
    else:
        suffix = secrets.token_hex(4)
        identity = Identity(
            user_id=f"guest-{suffix}", name=f"Guest {suffix[:4]}", guest=True, link=link
        )
    access = await services.documents.access(identity, doc_id, "viewer")
    return identity, access, verified


async def _sender(socket: WebSocket[Any, Any, Any], conn: Connection) -> None:
    while True:
        item = await conn.next_frame()
        if isinstance(item, CloseRequest):
            with contextlib.suppress(Exception):
                await socket.close(code=item.code, reason=item.reason[:120])
            return
        await socket.send(WebSocketSendEvent(type="websocket.send", text=item, bytes=None))


def _error(conn: Connection, exc: DocStreamError, ref: int | None = None) -> None:
    conn.send(codec.encode(ErrorFrame(exc.code, exc.detail, ref)).decode())


@websocket("/ws/document/{doc_id:str}")
async def document_socket(socket: WebSocket[Any, Any, Any], doc_id: str) -> None:
    services: Services = socket.app.state.services
    settings = services.settings
    if not origin_allowed(socket, settings.allowed_origins):
        log.info("websocket refused: origin %s not allowed", socket.headers.get("origin"))
        await socket.close(code=4403, reason="origin not allowed")  # before accept: HTTP 403
        return
    await socket.accept()
    try:
        identity, access, verified = await _identify(socket, services, doc_id)
    except DocStreamError as exc:
        await socket.close(code=close_code(exc), reason=exc.detail[:120])
        return
    hub: Hub = services.extras["hub"]
    conn = Connection(
        user_id=identity.user_id,
        name=identity.name,
        role=access.role,
        guest=identity.guest,
        queue_size=settings.send_queue_size,
        queue_bytes=settings.send_queue_bytes,
    )
    conn.link, conn.catch_up_floor = identity.link, access.history_floor
    revocations: Revocations = services.extras["revocations"]
    if verified is not None:  # closed (4401) when its session ends or its token expires
        revocations.register(conn, verified.session_id, verified.expires_at)
        if services.auth.known_signed_out(verified.session_id):  # signed out meanwhile
            conn.close(4401, "this session was signed out")
    sender = asyncio.get_running_loop().create_task(_sender(socket, conn))
    rooms: list[Room] = []  # the Room joined, if any (set before the session can fail)
    try:
        await _session(socket, services, hub, conn, doc_id, rooms)
    except WebSocketDisconnect:
        pass
    except DocStreamError as exc:
        conn.close(close_code(exc), exc.detail)
    except Exception:
        log.exception("websocket for %s crashed", doc_id)
        conn.close(1011, "server error")
    finally:
        revocations.unregister(conn)
        for room in rooms:
            with contextlib.suppress(Exception):
                await room.inbox.put(m.LeaveItem(conn))
        if conn.closing is None:
            conn.close(1000, "bye")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sender, 5)
        sender.cancel()
        await _drain(socket)


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


async def _receive(
    socket: WebSocket[Any, Any, Any], conn: Connection, max_bytes: int, budget: SocketBudget
) -> Any:
    """The next decoded client frame, or None for a frame that got an error reply.

    Every frame spends the connection's budget first (before ``hello`` too, and whether or not it
    decodes): one over budget gets ``error rate_limited``, and persistent flooding closes 4429.
    """
    message = await socket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(detail="client disconnected", code=message.get("code", 1000))
    text = message.get("text")
    if isinstance(text, str) and len(text) > max_bytes:
        raise TooLargeError(f"frame of {len(text)} characters exceeds the limit of {max_bytes}")
    if not budget.take(frame_size(message)):
        if budget.flooding:
            await _discard_until_quiet(socket)
            raise RateLimitedError("rate limited")
        ref = _ref_of(text if isinstance(text, str) else None)
        _error(conn, RateLimitedError("too many messages; slow down"), ref)
        return None
    if not isinstance(text, str):
        _error(conn, ProtocolError("frames must be JSON text, not binary"))
        return None
    try:
        return codec.decode_client_frame(text, max_bytes)
    except ProtocolError as exc:
        _error(conn, exc)
        return None


def _ref_of(text: str | None) -> int | None:
    """The ``ref`` of a refused ``ops`` frame, so the client knows which message to keep."""
    if text is None or '"ops"' not in text:
        return None
    with contextlib.suppress(ProtocolError, TooLargeError):
        frame = codec.decode_client_frame(text, len(text))
        if isinstance(frame, SubmitOps):
            return frame.ref
    return None


async def _session(
    socket: WebSocket[Any, Any, Any],
    services: Services,
    hub: Hub,
    conn: Connection,
    doc_id: str,
    rooms: list[Room],
) -> None:
    settings = services.settings
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.hello_timeout
    budget = SocketBudget(
        messages_per_second=settings.ws_messages_per_second,
        message_burst=settings.ws_message_burst,
        bytes_per_second=settings.ws_bytes_per_second,
        byte_burst=settings.ws_byte_burst,
        max_strikes=MAX_STRIKES,
    )
    hello: Hello | None = None
    while hello is None:
        remaining = deadline - loop.time()
        if remaining <= 0:
            conn.close(CLOSE_HELLO_TIMEOUT, "no hello within the time limit")
            return
        try:
            frame = await asyncio.wait_for(
                _receive(socket, conn, settings.max_frame_bytes, budget), remaining
            )
        except TimeoutError:
            conn.close(CLOSE_HELLO_TIMEOUT, "no hello within the time limit")
            return
        except TooLargeError as exc:
            await _discard_until_quiet(socket)  # frames left unread would reset our close frame
            conn.close(CLOSE_TOO_LARGE, exc.detail)
            return
        if isinstance(frame, Hello):
            hello = frame
        elif frame is not None:
            _error(conn, ProtocolError("the first frame must be hello"))
    try:
        check_replica(hello.replica)
        if hello.since < 0 or hello.since > MAX_SEQ:
            raise ProtocolError(f"since must be between 0 and {MAX_SEQ}")
    except DocStreamError as exc:
        _error(conn, exc)
        conn.close(4400, "invalid hello")
        return
    room = await hub.join(conn, doc_id, hello)
    rooms.append(room)
    while conn.closing is None:
        try:
            frame = await _receive(socket, conn, settings.max_frame_bytes, budget)
        except TooLargeError as exc:
            await _discard_until_quiet(socket)  # frames left unread would reset our close frame
            conn.close(CLOSE_TOO_LARGE, exc.detail)
            break
        if frame is None:
            continue
        if isinstance(frame, SubmitOps):
            await room.inbox.put(m.OpsItem(conn, frame))
        elif isinstance(frame, SetCursor):
            await room.inbox.put(m.CursorItem(conn, frame))
        else:
            _error(conn, ProtocolError("hello was already received"))
