"""Litestar dependencies: the services and the caller's identity."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.di import Provide

from docstream import logs
from docstream.bootstrap import Services
from docstream.errors import ForbiddenError, UnauthorizedError
from docstream.services.api_tokens import is_api_token
from docstream.services.identity import Identity, Verified
from docstream.storage.base import User
from docstream.web.cookies import AUTH_COOKIE, check_cookie_request

__all__ = [
    "AUTH_COOKIE",
    "DEPENDENCIES",
    "LINK_HEADER",
    "Admin",
    "bearer_token",
    "client_ip",
    "link_token",
    "refuse_api_token",
    "services_of",
]

#: Where a request presents a document's public link token: this header (the web UI and the
#: Python client use it, so the token stays out of URLs and access logs), or ``?link=``.
LINK_HEADER = "x-docstream-link"


def link_token(headers: Any, query: Any) -> str | None:
    """The public link token the request presents, if any (checked by the documents service)."""
    token = headers.get(LINK_HEADER) or (query.get("link") if query is not None else None)
    return str(token) if token else None


def bearer_token(headers: Any, cookies: Any, query: Any = None) -> str | None:
    header = headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedError("the Authorization header must be 'Bearer <token>'")
        return str(token.strip())
    if query is not None:
        token = query.get("token")
        if token:
            return str(token)
    cookie = cookies.get(AUTH_COOKIE)
    return str(cookie) if cookie else None


def client_ip(request: Request[Any, Any, Any]) -> str:
    """The caller's address, as the trusted proxies tell it (for the audit log)."""
    return str(request.app.state.web.proxies.client_ip(request.scope))


def services_of(request: Request[Any, Any, Any]) -> Services:
    services: Services = request.app.state.services
    return services


async def _services(request: Request[Any, Any, Any]) -> Services:
    return services_of(request)


async def _verified_or_none(request: Request[Any, Any, Any]) -> Verified | None:
    token = bearer_token(request.headers, request.cookies)
    if token is None:
        return None
    services = services_of(request)
    verified: Verified
    if not request.headers.get("authorization"):  # signed in by the cookie: CSRF rules apply
        check_cookie_request(request, services.settings)
        verified = await services.auth.verify(token)
    elif is_api_token(token):  # a personal API token (only ever in the Authorization header)
        verified = await services.recovery.tokens.verify(token)
        if verified.scope == "read" and request.method not in _READS:
            raise ForbiddenError("this API token may only read (its scope is 'read')")
    else:
        verified = await services.auth.verify(token)
    logs.remember_user(request.scope, verified.user.id)
    return verified


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_api_token(verified: Verified, what: str) -> None:
    """Some things need a signed-in session, never a personal API token (403)."""
    if verified.api_token:
        raise ForbiddenError(f"an API token cannot {what}; sign in with your password")


async def _verified(request: Request[Any, Any, Any]) -> Verified:
    verified = await _verified_or_none(request)
    if verified is None:
        raise UnauthorizedError("sign in first: send 'Authorization: Bearer <access token>'")
    return verified


async def _caller(request: Request[Any, Any, Any]) -> Identity:
    user = (await _verified(request)).user
    return Identity(
        user_id=user.id, name=user.name, link=link_token(request.headers, request.query_params)
    )


class Admin(msgspec.Struct, frozen=True):
    """The signed-in caller, checked to be an enabled administrator (the ``admin`` dependency)."""

    user: User


async def _admin(request: Request[Any, Any, Any]) -> Admin:
    user = (await _verified(request)).user
    if not user.is_admin or user.disabled:
        raise ForbiddenError("only an administrator of this server can do this")
    return Admin(user)


async def _optional_caller(request: Request[Any, Any, Any]) -> Identity | None:
    """The signed-in user, a guest holding a public link, or None (anonymous, no link)."""
    link = link_token(request.headers, request.query_params)
    verified = await _verified_or_none(request)
    if verified is None:
        return (
            None if link is None else Identity(user_id="guest", name="Guest", guest=True, link=link)
        )
    return Identity(user_id=verified.user.id, name=verified.user.name, link=link)


DEPENDENCIES = {
    "services": Provide(_services),
    "caller": Provide(_caller),
    "verified": Provide(_verified),
    "maybe_caller": Provide(_optional_caller),
    "admin": Provide(_admin),
}
