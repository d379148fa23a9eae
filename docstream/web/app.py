"""The Litestar application factory."""

from __future__ import annotations

from litestar import Litestar, get

from docstream.settings import Settings


def create_app(settings: Settings) -> Litestar:
    """Build the ASGI application for ``settings``."""

    @get("/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "db": "ok", "redis": "disabled" if not settings.redis_url else "ok"}

    return Litestar(route_handlers=[health])
