"""What the web layer keeps for itself beside the services (``app.state.web``).

The services are the node's; these are the HTTP front's own parts (the per-account sign-in
limiter, the trusted proxies), made by the app factory and read by the routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from docstream.web.limits import AccountLimiter
from docstream.web.middleware import TrustedProxies


@dataclass(frozen=True, slots=True)
class WebState:
    account_limiter: AccountLimiter
    proxies: TrustedProxies


def web_state(request: Request[Any, Any, Any]) -> WebState | None:
    """The app's web state (None before the lifespan made it)."""
    state: WebState | None = getattr(request.app.state, "web", None)
    return state
