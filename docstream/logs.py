"""How a log line looks: text for people reading a terminal, one JSON object per line for a log
collector (``log_format = "json"``).

A line says, where it applies, which request it belongs to, who was signed in, which document and
which node: with several nodes behind a load balancer that is what lets an operator follow one
edit or one failing client across the logs. The values come from context variables, so no call
site has to pass them along:

- ``request_id`` and the ASGI scope are set by the web layer's outermost middleware for every
  request and socket; the user (``scope["state"]["user_id"]``) and the document (the route's
  ``doc_id`` path parameter) are read from that scope when a line is written;
- ``doc_id_var`` is set by the code that works on one document outside a request (a Room's tasks);
- the node id is set once, when the node's services are built;
- ``trace_id`` and ``span_id`` (JSON lines only) come from the current OpenTelemetry span, when
  traces are on (:mod:`docstream.tracing`), so a collector can join a line to its trace.

The JSON lines come from python-json-logger (a maintained formatter made for this); the fields
are fixed (``time``, ``level``, ``logger``, ``message``, then the context and ``exc_info``) so a
collector can index them.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping, MutableMapping
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from docstream import tracing

#: The values of ``Settings.log_format``.
LOG_FORMATS = ("text", "json")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
#: The ASGI scope of the request or socket being served (user and document are read from it).
scope_var: contextvars.ContextVar[MutableMapping[str, Any] | None] = contextvars.ContextVar(
    "scope", default=None
)
#: The document being worked on outside a request (a Room's worker sets it).
doc_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("doc_id", default=None)

_node: list[str | None] = [None]

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_JSON_FIELDS = (
    "time",
    "level",
    "logger",
    "message",
    "request_id",
    "user_id",
    "doc_id",
    "node",
    "trace_id",
    "span_id",
)


def set_node(node_id: str) -> None:
    """Name this process's node on every line from now on (its pub/sub instance id)."""
    _node[0] = node_id


def remember_user(scope: Mapping[str, object], user_id: str) -> None:
    """Record who is signed in on this request or socket (for its log lines; the request-id
    middleware gave every scope its ``state``)."""
    state = scope.get("state")
    if isinstance(state, dict):
        state["user_id"] = user_id


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``user_id``, ``doc_id``, ``node``, ``trace_id`` and ``span_id`` to
    every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        scope = scope_var.get()
        user_id = doc_id = None
        if scope is not None:
            state = scope.get("state")
            if isinstance(state, dict):
                user_id = state.get("user_id")
            params = scope.get("path_params")
            if isinstance(params, dict):
                doc_id = params.get("doc_id")
        record.user_id = user_id
        record.doc_id = doc_id or doc_id_var.get()
        record.node = _node[0]
        ids = tracing.log_ids()
        record.trace_id, record.span_id = ids if ids is not None else (None, None)
        return True


class JsonLines(JsonFormatter):
    """One JSON object per line with the fixed fields above (absent context: the key is left
    out, so a collector never sees ``null`` for "does not apply")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            list(_JSON_FIELDS),
            rename_fields={"levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = self.formatTime(record)
        log_data["level"] = record.levelname.lower()
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        for key in ("request_id", "user_id", "doc_id", "node", "trace_id", "span_id"):
            value = getattr(record, key, None)
            if value not in (None, "-"):
                log_data[key] = value
        if record.exc_info:
            log_data["exc_info"] = self.formatException(record.exc_info)
        log_data.update(message_dict)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        from datetime import UTC, datetime

        stamp = datetime.fromtimestamp(record.created, UTC)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def formatter(fmt: str) -> logging.Formatter:
    return JsonLines() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: str, fmt: str = "text") -> None:
    """Log to stderr in ``fmt`` with the context on every line (idempotent: a second call only
    changes the level and the format)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_docstream", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.addFilter(ContextFilter())
        handler._docstream = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(formatter(fmt))
    root.setLevel(level.upper())


def server_config(fmt: str) -> dict[str, Any] | None:
    """The logging configuration for granian's own lines (start-up, workers): JSON too when the
    application logs JSON (``None``: granian's default text)."""
    if fmt != "json":
        return None
    return {
        "formatters": {
            "generic": {"()": "docstream.logs.JsonLines"},
            "access": {"()": "docstream.logs.JsonLines"},
        },
        "filters": {"context": {"()": "docstream.logs.ContextFilter"}},
        "handlers": {
            "console": {
                "formatter": "generic",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["context"],
            },
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["context"],
            },
        },
    }
