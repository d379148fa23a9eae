"""The Litestar application factory.

``create_app(settings)`` returns a Litestar app whose lifespan builds the services (``bootstrap``)
and closes them on shutdown. Raw ASGI layers wrap Litestar's own handler so that *every* response,
including unknown routes and wrong methods, carries ``X-Request-Id``, passes the ``Host`` check
(``web/hosts.py``) and counts against the rate limit.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

from litestar import Litestar, Request, get
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig

from docstream import __version__
from docstream.bootstrap import Services, build
from docstream.settings import Settings
from docstream.web import static
from docstream.web.deps import DEPENDENCIES
from docstream.web.errors import EXCEPTION_HANDLERS
from docstream.web.hosts import AllowedHostsMiddleware
from docstream.web.limits import AccountLimiter, SocketLimitMiddleware, TokenPeek, is_local
from docstream.web.middleware import (
    Budget,
    DrainRefusedBodyMiddleware,
    ErrorEnvelopeMiddleware,
    FixedWindowCounter,
    RateLimitMiddleware,
    RequestIdFilter,
    RequestIdMiddleware,
    TrustedProxies,
)
from docstream.web.routes import (
    admin,
    audit,
    auth,
    documents,
    events,
    handover,  # transfer, leave, duplicate
    imports,
    resets,
    sharing,
    signup,
    suggest,
    tokens,
    trash,
    versions,
    ws,
)
from docstream.web.routes import oidc as oidc_routes
from docstream.web.schemas import HealthOut
from docstream.web.state import WebState

log = logging.getLogger("docstream")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Log to stderr with the request id on every line (idempotent)."""
    root = logging.getLogger()
    if not any(getattr(h, "_docstream", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(RequestIdFilter())
        handler._docstream = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())


class _SwappableCounter:
    """The rate limiter's counter; bootstrap swaps in the Redis one when Redis is configured."""

    def __init__(self) -> None:
        self.target: Any = FixedWindowCounter()

    async def hit(self, key: str, window: int) -> int:
        count: int = await self.target.hit(key, window)
        return count


@get("/health", summary="Liveness (component details for local requests only)", tags=["health"])
async def health(request: Request[Any, Any, Any], services: Services) -> HealthOut:
    """``{status}`` for everyone (HTTP 200 either way, for load balancers); the components,
    version, node id, pid and counters only for a request from this host (see
    :func:`docstream.web.limits.is_local`): they tell an attacker what to aim at."""
    try:
        await asyncio.wait_for(services.store.ping(), 2.0)
        db = "ok"
    except Exception:  # any failure means "not ok"; the details are in the log
        log.warning("health: the database does not answer", exc_info=True)
        db = "unavailable"
    redis = await services.broker.health()  # "disabled" without Redis
    status: Literal["ok", "degraded"] = (
        "ok" if db == "ok" and redis in ("ok", "disabled") else "degraded"
    )
    if not is_local(request.scope):
        return HealthOut(status=status)
    details = services.health.details()
    return HealthOut(status=status, db=db, redis=redis, version=__version__, details=details)


def create_app(
    settings: Settings, *, clock: Callable[[], float] = time.time, freeze_heap: bool = False
) -> Litestar:
    """Build the ASGI application for ``settings`` (``clock`` drives the rate limiter).

    ``freeze_heap`` (for a process that exists to serve this app, as ``docstream serve``'s
    workers do): once the services are built, move every object alive to the collector's
    permanent generation (``gc.freeze``). They live as long as the process anyway, and a full
    collection no longer traverses them: measured in a worker, one full collection during a
    document load cost 34-55 ms before, more than the decode itself.
    """
    configure_logging(settings.log_level)
    counter = _SwappableCounter()
    peek = TokenPeek()
    proxies = TrustedProxies(
        settings.trusted_proxies, warn_interval=settings.forwarded_warning_interval
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with build(settings) as services:
            app.state.services = services
            if freeze_heap:
                gc.collect()  # nothing unreachable gets frozen
                gc.freeze()
            if settings.redis_url:  # one count per client for the whole cluster
                from docstream.pubsub.redis import RedisBroker
                from docstream.web.redis_counter import RedisWindowCounter

                assert isinstance(services.broker, RedisBroker)
                counter.target = RedisWindowCounter(services.broker.client)
            peek.decode = lambda token: str(services.auth.decode(token, "access")["sub"])
            app.state.web = WebState(
                account_limiter=AccountLimiter(
                    counter, settings.auth_rate_limit_per_account, clock
                ),
                proxies=proxies,
            )
            log.info(
                "DocStream %s ready (%s)",
                __version__,
                "PostgreSQL" if settings.uses_postgres else f"SQLite {settings.sqlite_path}",
            )
            yield
            log.info("DocStream shutting down")

    app = Litestar(
        route_handlers=[
            health,
            auth.router,
            signup.router,
            admin.router,
            documents.router,
            imports.router(settings),
            sharing.router,
            sharing.invitations_router,
            sharing.people_router,
            versions.router,
            suggest.router,
            events.router,
            oidc_routes.router,
            trash.router,
            handover.router,
            ws.document_socket,
            audit.router,
            audit.admin_router,
            resets.router,
            resets.admin_router,
            tokens.router,
            static.index_page,
            static.ui_files,
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        cors_config=CORSConfig(
            allow_origins=list(settings.allowed_origins),
            allow_credentials=True,
            allow_headers=["Authorization", "Content-Type", "X-Request-Id", "X-DocStream-Link"],
            expose_headers=["X-Request-Id", "Retry-After"],
        ),
        openapi_config=OpenAPIConfig(title="DocStream", version=__version__, path="/schema"),
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,
    )
    app.asgi_handler = RequestIdMiddleware(  # type: ignore[assignment]
        AllowedHostsMiddleware(
            DrainRefusedBodyMiddleware(
                RateLimitMiddleware(
                    SocketLimitMiddleware(
                        ErrorEnvelopeMiddleware(app.asgi_handler),  # type: ignore[arg-type]
                        per_user=settings.ws_max_sockets_per_user,
                        per_address=settings.ws_max_sockets_per_address,
                        proxies=proxies,
                        peek=peek,
                    ),
                    limit=settings.rate_limit_per_minute,
                    proxies=proxies,
                    counter=counter,
                    clock=clock,
                    budgets={
                        "auth": Budget(settings.auth_rate_limit_per_minute),
                        "ws": Budget(settings.ws_handshakes_per_minute),
                        "typeahead": Budget(
                            settings.typeahead_rate_limit_per_minute, per_user=True
                        ),
                    },
                    peek=peek,
                )
            ),
            allowed=settings.allowed_hosts,
        )
    )
    return app
