"""REST error replies: DocStream errors, Litestar's own and unexpected ones in one JSON envelope.

The status and REST code of a DocStream error come from the one error table
(``docstream/protocol/codes.py``, which also gives its WebSocket close code). REST errors are
``{"error": {"code", "message"}}`` (docs/protocol.md §7), with an optional ``details`` list for
validation failures. Three codes extend docs/protocol.md's list: ``METHOD_NOT_ALLOWED`` (405),
``QUOTA_EXCEEDED`` (403) and ``SERVICE_UNAVAILABLE`` (503, the database or Redis is unreachable;
retry later). Messages never contain stack traces or SQL.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from docstream.errors import DocStreamError, RateLimitedError
from docstream.protocol.codes import outcome_of

log = logging.getLogger("docstream.web")

_BY_STATUS: dict[int, str] = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMIT_EXCEEDED",
    503: "SERVICE_UNAVAILABLE",
}


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    details: list[str] | None = msgspec.field(default=None)


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


def code_for_status(status: int) -> str:
    """The REST error code for an HTTP status (``INTERNAL_ERROR`` for any 5xx not listed)."""
    return _BY_STATUS.get(status, "VALIDATION_ERROR" if status < 500 else "INTERNAL_ERROR")


def status_and_code(exc: DocStreamError) -> tuple[int, str]:
    """The HTTP status and REST error code of ``exc`` (from the error table)."""
    outcome = outcome_of(exc)
    return outcome.http_status, outcome.rest_code


def error_body(code: str, message: str, details: list[str] | None = None) -> bytes:
    return msgspec.json.encode(ErrorEnvelope(ErrorBody(code, message, details)))


def _response(
    status: int,
    code: str,
    message: str,
    details: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    return Response(
        error_body(code, message, details),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def handle_docstream_error(request: Request[Any, Any, Any], exc: DocStreamError) -> Response[bytes]:
    status, code = status_and_code(exc)
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(max(1, int(exc.retry_after + 0.999)))}
    if status >= 500:
        log.error(
            "%s %s failed: %r",
            request.method,
            request.url.path,
            exc,
            exc_info=exc.__cause__ is not None,
        )
    message = exc.detail if status < 500 or status == 503 else "internal server error"
    return _response(status, code, message, headers=headers)


def _validation_details(exc: ValidationException) -> list[str]:
    details: list[str] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            key, message = item.get("key"), item.get("message", "invalid")
            if item.get("source") == "body" and message == f"'{key}'":
                # Litestar reports a missing body as the KeyError of its ``data`` kwarg.
                details.append("a JSON request body is required")
                continue
            details.append(f"{key}: {message}" if key else str(message))
    return details


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.detail)
        return _response(status, "INTERNAL_ERROR", "internal server error")
    code = code_for_status(status)
    details = _validation_details(exc) if isinstance(exc, ValidationException) else None
    message = exc.detail or code.replace("_", " ").lower()
    if status == 404 and message == "Not Found":
        message = f"no route {request.method} {request.url.path}"
    if details:
        message = f"invalid request: {'; '.join(details)}"
    headers = dict(exc.headers) if exc.headers else None
    return _response(status, code, message, details or None, headers)


def handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[bytes]:
    """msgspec raises RecursionError (not a DecodeError) for JSON nested deeper than it recurses."""
    if "deserializ" in str(exc):
        return _response(400, "VALIDATION_ERROR", "JSON is nested too deeply")
    return handle_unexpected(request, exc)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("%s %s crashed", request.method, request.url.path, exc_info=exc)
    return _response(500, "INTERNAL_ERROR", "internal server error")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DocStreamError: handle_docstream_error,
    HTTPException: handle_http_exception,
    RecursionError: handle_recursion,
    Exception: handle_unexpected,
}
