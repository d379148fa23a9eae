"""Health: ``/health/live`` for "restart me?", ``/health/ready`` for "send me traffic?".

A load balancer or an orchestrator asks two different questions. Liveness: the process answers
(a failure means restart it). Readiness: this node can serve right now (its database answers, its
schema is the one this code expects, Redis answers when configured, it is not shutting down); a
node that is not ready answers 503 so it is taken out of rotation until it recovers, without being
restarted (a database outage would otherwise restart every node at once).

``/health`` is the older combined check (always 200, ``status`` ok or degraded), kept for
monitoring that reads it. Each answers everyone with a status only; the details (which check
failed, versions, counters) only to a request from this host: they tell an attacker what to aim at.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

import msgspec
from litestar import Request, Response, get

from docstream import __version__
from docstream.bootstrap import Services
from docstream.web.limits import is_local
from docstream.web.schemas import HealthOut

log = logging.getLogger("docstream.health")

#: How long a check may take before it counts as failed (a probe's own timeout is a few seconds).
CHECK_TIMEOUT = 2.0


class ReadyOut(msgspec.Struct, omit_defaults=True):
    """``status`` for everyone; ``checks`` (each ``ok`` or why not) for local requests only."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, str] | None = None


async def _database(services: Services) -> str:
    try:
        await asyncio.wait_for(services.store.ping(), CHECK_TIMEOUT)
    except Exception as exc:  # any failure means "not ok"; the details are in the log
        log.warning("health: the database does not answer: %r", exc)
        return "unavailable"
    return "ok"


async def _schema(services: Services) -> str:
    try:
        pending = await asyncio.wait_for(services.store.pending_migrations(), CHECK_TIMEOUT)
    except Exception as exc:  # unreachable, or migrations this code does not know
        log.warning("health: cannot check the schema: %r", exc)
        return "unknown"
    return "ok" if not pending else f"{len(pending)} migrations not applied"


@get(
    "/health", summary="Combined check (component details for local requests only)", tags=["health"]
)
async def health(request: Request[Any, Any, Any], services: Services) -> HealthOut:
    """``{status}`` for everyone (HTTP 200 either way); the components, version, node id, pid
    and counters only for a request from this host (see :func:`docstream.web.limits.is_local`)."""
    db = await _database(services)
    redis = await services.broker.health()  # "disabled" without Redis
    status: Literal["ok", "degraded"] = (
        "ok" if db == "ok" and redis in ("ok", "disabled") else "degraded"
    )
    if not is_local(request.scope):
        return HealthOut(status=status)
    details = services.health.details()
    return HealthOut(status=status, db=db, redis=redis, version=__version__, details=details)


@get("/health/live", summary="Liveness: the process answers", tags=["health"])
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/health/ready",
    summary="Readiness: 200 when this node can serve, 503 when not",
    tags=["health"],
)
async def ready(request: Request[Any, Any, Any]) -> Response[ReadyOut]:
    services: Services | None = getattr(request.app.state, "services", None)
    checks: dict[str, str] = {}
    if services is None or getattr(request.app.state, "shutting_down", False):
        checks["shutdown"] = "shutting down" if services is not None else "starting"
    else:
        checks["database"] = await _database(services)
        if checks["database"] == "ok":
            checks["schema"] = await _schema(services)
        redis = await services.broker.health()
        if redis != "disabled":
            checks["redis"] = redis
    is_ready = all(value == "ok" for value in checks.values())
    body = ReadyOut(status="ready" if is_ready else "not_ready")
    if is_local(request.scope):
        body = ReadyOut(status=body.status, checks=checks)
    return Response(body, status_code=200 if is_ready else 503)


ROUTES = [health, live, ready]
