"""The Litestar application factory.

``create_app(settings)`` returns a Litestar app whose lifespan builds the services (``bootstrap``)
and closes them on shutdown. Raw ASGI layers wrap Litestar's own handler so that *every* response,
including unknown routes and wrong methods, carries ``X-Request-Id``, passes the ``Host`` check
(``web/hosts.py``) and counts against the rate limit.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig

from docstream import __version__, logs, tracing
from docstream.bootstrap import build
from docstream.settings import Settings
from docstream.web import static
from docstream.web.deps import DEPENDENCIES
from docstream.web.errors import EXCEPTION_HANDLERS
from docstream.web.hosts import AllowedHostsMiddleware
from docstream.web.limits import AccountLimiter, SocketLimitMiddleware, TokenPeek
from docstream.web.middleware import (
    Budget,
    DrainRefusedBodyMiddleware,
    ErrorEnvelopeMiddleware,
    FixedWindowCounter,
    MetricsMiddleware,
    RateLimitMiddleware,
    RequestIdMiddleware,
    TracingMiddleware,
    TrustedProxies,
)
from docstream.web.routes import (
    admin,
    audit,
    auth,
    comments,
    documents,
    events,
    handover,  # transfer, leave, duplicate
    health,
    imports,
    notifications,
    resets,
    search,
    sharing,
    signup,
    suggest,
    tokens,
    trash,
    versions,
    ws,
)
from docstream.web.routes import metrics as metrics_route
from docstream.web.routes import oidc as oidc_routes
from docstream.web.state import WebState

log = logging.getLogger("docstream")


class _SwappableCounter:
    """The rate limiter's counter; bootstrap swaps in the Redis one when Redis is configured."""

    def __init__(self) -> None:
        self.target: Any = FixedWindowCounter()

    async def hit(self, key: str, window: int) -> int:
        count: int = await self.target.hit(key, window)
        return count


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
    logs.configure(settings.log_level, settings.log_format)
    # Traces, if the OTEL_* variables ask for them: here, in the process that serves (each of
    # granian's workers calls this factory), once per process.
    tracing_on = tracing.setup()
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
            app.state.shutting_down = True  # /health/ready answers 503 from here on
            log.info("DocStream shutting down")
            started = time.monotonic()
            # Sockets first: their clients move to another node at once, and the rooms' final
            # snapshots are written while everything they tell (indexes, peers) still listens.
            await services.hub.close()
        tracing.flush()  # the last requests' and the final snapshots' spans
        log.info("DocStream stopped (shutdown took %.1f s)", time.monotonic() - started)

    app = Litestar(
        route_handlers=[
            *health.ROUTES,
            metrics_route.scrape,
            auth.router,
            signup.router,
            admin.router,
            documents.router,
            imports.router(settings),
            sharing.router,
            sharing.invitations_router,
            sharing.people_router,
            versions.router,
            comments.router,
            suggest.router,
            search.router,
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
            notifications.router,
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
    handler: Any = MetricsMiddleware(
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
    if tracing_on:  # without traces, not even a layer that passes requests on
        handler = TracingMiddleware(handler)
    app.asgi_handler = RequestIdMiddleware(handler)  # type: ignore[assignment]
    return app
