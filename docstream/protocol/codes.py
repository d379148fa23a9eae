"""Every error code with its HTTP status, REST code and WebSocket close code, and every close code.

One table, so that an error means the same thing wherever it ends a request or a connection: the
REST error handler (``docstream.web.errors``), the pure server session (``protocol/server.py``),
the collaboration core when it closes sockets, and the Python client when it decides whether a
closed connection is worth re-opening all look codes up here. It lives in ``protocol`` (not in
``web``) because the sans-I/O session closes sockets too and must not import the web layer.

The table is keyed by the stable machine code of ``docstream.errors`` (an error's ``code``, which
an instance may override, e.g. the code of a refusal it relays). A code missing from the table is
answered as ``internal``; a test keeps every error class's code in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from docstream.errors import DocStreamError

# --- WebSocket close codes (docs/protocol.md §5 and §7) ------------------------------------------

#: The connection ended normally (the client left).
CLOSE_NORMAL: Final = 1000
#: The server is shutting down.
CLOSE_GOING_AWAY: Final = 1001
#: A frame above ``max_frame_bytes``.
CLOSE_TOO_LARGE: Final = 1009
#: The server failed.
CLOSE_SERVER_ERROR: Final = 1011
#: Try again later: the client is too slow to keep up (its send queue overflowed), or the database
#: is unavailable as it joins. Reconnect and catch up by ``since``.
CLOSE_TRY_AGAIN_LATER: Final = 1013
#: The connection is being replaced by a new one: by the server, when a newer connection of the
#: same replica arrives; by a client, when it reconnects to resynchronise.
CLOSE_RESTART: Final = 4000
#: The ``hello`` was invalid (replica id, ``since`` out of range).
CLOSE_INVALID_HELLO: Final = 4400
#: No or bad credentials, an expired token, a signed-out session.
CLOSE_UNAUTHENTICATED: Final = 4401
#: Forbidden, access revoked, the public link used was turned off or reset.
CLOSE_FORBIDDEN: Final = 4403
#: No such document (or one the caller cannot open), or the document was deleted.
CLOSE_NOT_FOUND: Final = 4404
#: No ``hello`` within ``hello_timeout``.
CLOSE_HELLO_TIMEOUT: Final = 4408
#: Persistent flooding (messages or bytes), or a refused upgrade on a server that cannot answer it
#: with HTTP 429.
CLOSE_RATE_LIMITED: Final = 4429

#: Close codes after which re-opening the same connection cannot help.
FINAL_CLOSE_CODES: Final = frozenset({CLOSE_INVALID_HELLO, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND})


@dataclass(frozen=True, slots=True)
class ErrorOutcome:
    """What one error code becomes on each transport."""

    http_status: int
    rest_code: str
    close_code: int


_INTERNAL = ErrorOutcome(500, "INTERNAL_ERROR", CLOSE_SERVER_ERROR)
_INVALID = ErrorOutcome(400, "VALIDATION_ERROR", CLOSE_SERVER_ERROR)
_FORBIDDEN = ErrorOutcome(403, "FORBIDDEN", CLOSE_FORBIDDEN)
_UNAVAILABLE = ErrorOutcome(503, "SERVICE_UNAVAILABLE", CLOSE_SERVER_ERROR)

#: Error code -> HTTP status, REST code, close code. An error that ends a WebSocket connection
#: the client can do nothing about (bad input the server only meets while joining, a conflict, the
#: database down) closes it as a server error (1011).
ERRORS: Final = MappingProxyType(
    {
        "internal": _INTERNAL,
        # Input the caller sent that cannot be accepted.
        "bad_message": _INVALID,
        "unknown_id": _INVALID,
        "duplicate_id_conflict": _INVALID,
        "host_not_allowed": _INVALID,
        "too_large": ErrorOutcome(413, "PAYLOAD_TOO_LARGE", CLOSE_TOO_LARGE),
        # Who may do what.
        "unauthorized": ErrorOutcome(401, "UNAUTHORIZED", CLOSE_UNAUTHENTICATED),
        "forbidden": _FORBIDDEN,
        "read_only": _FORBIDDEN,
        "forbidden_replica": _FORBIDDEN,
        "quota_exceeded": ErrorOutcome(403, "QUOTA_EXCEEDED", CLOSE_FORBIDDEN),
        "not_found": ErrorOutcome(404, "NOT_FOUND", CLOSE_NOT_FOUND),
        "conflict": ErrorOutcome(409, "CONFLICT", CLOSE_SERVER_ERROR),
        "rate_limited": ErrorOutcome(429, "RATE_LIMIT_EXCEEDED", CLOSE_RATE_LIMITED),
        # A component is down: retry later.
        "storage_unavailable": _UNAVAILABLE,
        "broker_unavailable": _UNAVAILABLE,
        # The server's own fault (a state or file it stored and cannot read, its configuration):
        # logged, never described to the caller.
        "corrupt_state": _INTERNAL,
        "persistence": _INTERNAL,
        "unsupported_format": _INTERNAL,
        "configuration": _INTERNAL,
        "desktop": _INTERNAL,
    }
)


def outcome_of(exc: DocStreamError) -> ErrorOutcome:
    """What ``exc`` becomes on the wire (an unknown code is an internal error)."""
    return ERRORS.get(exc.code, _INTERNAL)


def close_code(exc: DocStreamError) -> int:
    """The WebSocket close code for an error that ends a connection."""
    return outcome_of(exc).close_code
