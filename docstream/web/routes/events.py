"""``GET /events``: a Server-Sent Events stream of changes to the caller's document list.

Signed in by the cookie or a bearer token, like the REST API. Sends ``event: documents`` with
data ``{"kind": "shared"|"unshared"|"renamed"|"deleted", "doc_id": ...}`` when a document enters,
leaves or changes in the caller's list (see :mod:`docstream.services.list_events`), a ``:
connected`` comment first and a ``: keep-alive`` comment after ``events_keepalive`` idle seconds.
The stream ends when the session is signed out, the access token expires, or the reader falls
too far behind; ``EventSource`` reconnects by itself. Other features send their own events on the
same stream (``event: notification``, see :mod:`docstream.services.notifications`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
from litestar import Router, get
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from docstream.bootstrap import Services
from docstream.services.identity import Verified
from docstream.services.list_events import Pushed, Stream

#: Tells a reconnecting ``EventSource`` how long to wait (milliseconds).
RETRY_MS = 2000


@get("/events", summary="Changes to your document list (Server-Sent Events)")
async def list_events(verified: Verified, services: Services) -> ServerSentEvent:
    streams = services.list_events
    stream = await streams.open(verified.user.id, verified.session_id, verified.expires_at)
    if services.auth.known_signed_out(verified.session_id):  # signed out meanwhile
        stream.close()
    return ServerSentEvent(
        _messages(services, stream),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _messages(services: Services, stream: Stream) -> AsyncIterator[ServerSentEventMessage]:
    keepalive = services.settings.events_keepalive
    try:
        yield ServerSentEventMessage(data=None, comment="connected", retry=RETRY_MS)
        while True:
            try:
                change = await stream.next(keepalive)
            except TimeoutError:
                yield ServerSentEventMessage(data=None, comment="keep-alive")
                continue
            if change is None:
                return
            if isinstance(change, Pushed):  # another feature's event (notifications)
                yield ServerSentEventMessage(event=change.event, data=change.data)
                continue
            yield ServerSentEventMessage(
                event="documents", data=msgspec.json.encode(change).decode()
            )
    finally:
        services.list_events.close(stream)


router = Router(path="/", route_handlers=[list_events], tags=["events"])
