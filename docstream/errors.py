"""The one error hierarchy of DocStream.

Every error carries a stable machine ``code`` (the WebSocket error codes of docs/protocol.md §7
where one applies) and a human ``detail``. Library exceptions are translated into these at the
adapter that calls the library; exactly one table (``docstream/protocol/codes.py``) maps the codes
to HTTP statuses, REST error codes and WebSocket close codes, so every class here needs its own
code when it must be answered differently from its parent.
"""

from __future__ import annotations


class DocStreamError(Exception):
    """Root of every error DocStream raises on purpose."""

    code: str = "internal"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, detail={self.detail!r})"


class InvalidInputError(DocStreamError):
    """Input that is well-formed JSON but not acceptable (wrong shape, out of range...)."""

    code = "bad_message"


class ProtocolError(InvalidInputError):
    """A frame or message that does not follow the wire protocol."""


class CrdtError(InvalidInputError):
    """An op the CRDT cannot integrate."""


class UnknownIdError(CrdtError):
    """An op names a character id this replica has never seen."""

    code = "unknown_id"


class DuplicateIdError(CrdtError):
    """A character id is re-used with different content."""

    code = "duplicate_id_conflict"


class StateFormatError(CrdtError):
    """A stored or transmitted state blob that cannot be decoded.

    Its own code because the server only decodes states it stored itself: one it cannot read is
    its own fault (HTTP 500), never the caller's (a ``bad_message``).
    """

    code = "corrupt_state"


class TooLargeError(InvalidInputError):
    """A frame, body, op list or text above the configured limit."""

    code = "too_large"


class HostNotAllowedError(InvalidInputError):
    """A request whose ``Host`` names a host this server does not serve (DNS rebinding)."""

    code = "host_not_allowed"


class UnauthorizedError(DocStreamError):
    """Missing, expired or invalid credentials."""

    code = "unauthorized"


class ForbiddenError(DocStreamError):
    """Authenticated, but the role is too low for this action."""

    code = "forbidden"


class QuotaExceededError(ForbiddenError):
    """A per-user quota is used up (documents owned, pending invitations): freeing some (deleting
    a document, withdrawing an invitation) makes room again."""

    code = "quota_exceeded"


class ReadOnlyError(ForbiddenError):
    """A viewer tried to edit."""

    code = "read_only"


class ForbiddenReplicaError(ForbiddenError):
    """A replica id that is bound to another user."""

    code = "forbidden_replica"


class NotFoundError(DocStreamError):
    """No such resource, or one the caller may not know exists."""

    code = "not_found"


class ConflictError(DocStreamError):
    """The request conflicts with the current state (e.g. the email is taken)."""

    code = "conflict"


class RateLimitedError(DocStreamError):
    """Too many requests or messages."""

    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: float = 60.0) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class StorageError(DocStreamError):
    """The database failed or is unreachable."""

    code = "storage_unavailable"


class BrokerError(DocStreamError):
    """The message broker (Redis) failed or is unreachable."""

    code = "broker_unavailable"


class ConfigurationError(DocStreamError):
    """Settings that cannot work together; raised at start-up with a clear message."""

    code = "configuration"


class PersistenceError(DocStreamError):
    """Local files (the typeahead WAL and snapshots) cannot be written, read or trusted."""

    code = "persistence"


class UnsupportedFormatError(PersistenceError):
    """A stored file in a format or version this build does not read (written by a newer build?)."""

    code = "unsupported_format"


class DesktopError(DocStreamError):
    """The desktop shell cannot start: no window toolkit, no local server, a broken profile..."""

    code = "desktop"
