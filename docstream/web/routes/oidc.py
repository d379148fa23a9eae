"""``/auth/oidc`` and ``/auth/providers``: single sign-on with an OpenID Connect provider.

The browser goes ``GET /auth/oidc/start`` -> the provider -> ``GET /auth/oidc/callback``, which
starts a DocStream session exactly as a password sign-in does. The tokens do not travel in the
address that follows (addresses end up in histories and logs): the callback puts the session's
refresh token in a one-use HttpOnly cookie and sends the browser to ``/signin?sso=1``, whose page
calls ``POST /auth/oidc/finish``; that swaps the cookie's refresh token for the usual sign-in
reply (the user and fresh tokens, the access token also as the auth cookie), so a copy of the
cookie taken later is worth nothing. A failure sends the browser to ``/signin?error=<reason>``,
which the page explains.

Without ``oidc_issuer`` the ``/auth/oidc`` routes answer 404; ``GET /auth/providers`` tells the
sign-in page what to offer either way.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.response import Redirect

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken
from docstream.errors import InvalidInputError, NotFoundError, UnauthorizedError
from docstream.services.oidc import OidcProvider, SignOnFailed, safe_next, sign_on
from docstream.web.cookies import check_cookie_request, is_https, serving_origin, set_auth_cookie
from docstream.web.deps import client_ip
from docstream.web.schemas import AuthOut, UserOut

log = logging.getLogger("docstream.web")

#: The sign-in in progress (state, nonce, PKCE verifier, next): sent back by the provider's
#: redirect, a cross-site top-level navigation, so ``SameSite=Lax``.
STATE_COOKIE = "docstream_oidc"
#: The session a completed sign-in started, until the page picks it up (same-site only).
DONE_COOKIE = "docstream_oidc_done"
COOKIE_PATH = "/auth/oidc"
CALLBACK = "/auth/oidc/callback"


class OidcProviderOut(msgspec.Struct):
    """The single sign-on provider: its name on the button."""

    name: str


class ProvidersOut(msgspec.Struct):
    """How one may sign in here: ``oidc`` (None: no single sign-on) and ``password`` (false: single
    sign-on only; no password sign-in, sign-up or password change)."""

    oidc: OidcProviderOut | None
    password: bool


def _provider(services: Services) -> OidcProvider:
    if services.oidc is None:
        raise NotFoundError("single sign-on is not configured on this server")
    return services.oidc


def redirect_uri(request: Request[Any, Any, Any], services: Services) -> str:
    """Where the provider sends the browser back: under ``public_url`` when set, else under the
    origin the request reached (its ``Host`` passed the allowed-hosts check)."""
    base = services.settings.public_url or serving_origin(request, services.settings)
    return base.rstrip("/") + CALLBACK


def _signin(**params: str) -> str:
    return "/signin?" + urlencode(params)


def _redirect(location: str) -> Response[Any]:
    response: Response[Any] = Redirect(path=location, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _audit(services: Services, event: ActionTaken) -> None:
    await services.hub.extensions.emit(event)


@get("/providers", summary="How one may sign in here (single sign-on, password)")
async def providers(services: Services) -> ProvidersOut:
    oidc = OidcProviderOut(services.settings.oidc_name) if services.oidc is not None else None
    return ProvidersOut(oidc=oidc, password=not services.settings.sso_only)


@get(
    "/oidc/start",
    summary="Start single sign-on: redirects to the provider (next: a path here to open after)",
)
async def start(
    services: Services, request: Request[Any, Any, Any], next: str | None = None
) -> Response[Any]:
    provider = _provider(services)
    try:
        target = safe_next(next)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    try:
        url, cookie = await provider.begin(redirect_uri(request, services), target)
    except SignOnFailed as failed:
        log.warning("single sign-on cannot start: %s", failed.detail)
        return _redirect(_signin(error=failed.reason))
    response = _redirect(url)
    response.set_cookie(
        STATE_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=is_https(request.scope, services.settings),
        max_age=600,
        path=COOKIE_PATH,
    )
    return response


@get("/oidc/callback", summary="The provider's answer: starts a session, or explains the failure")
async def callback(services: Services, request: Request[Any, Any, Any]) -> Response[Any]:
    provider = _provider(services)
    query = request.query_params
    ip = client_ip(request)
    try:
        pending = provider.pending(request.cookies.get(STATE_COOKIE))
        if query.get("error"):
            raise SignOnFailed("denied", f"the provider answered {query.get('error')!r}")
        who = await provider.finish(pending, query.get("state"), query.get("code"))
        done = await sign_on(
            services.store, services.auth, who, trust_email=services.settings.oidc_trust_email
        )
    except SignOnFailed as failed:
        log.info("single sign-on refused (%s): %s", failed.reason, failed.detail)
        await _audit(
            services,
            ActionTaken(
                action="auth.sign_in_failed",
                actor_id=None,
                ip=ip,
                detail=(("method", "oidc"), ("reason", failed.reason)),
            ),
        )
        response = _redirect(_signin(error=failed.reason))
        response.delete_cookie(STATE_COOKIE, path=COOKIE_PATH)
        return response
    user = done.user
    if done.outcome == "created":
        await _audit(
            services,
            ActionTaken(
                "auth.sign_up", user.id, ip, subject_id=user.id, detail=(("method", "oidc"),)
            ),
        )
    if done.outcome in ("created", "linked"):
        await _audit(
            services,
            ActionTaken(
                "auth.identity_linked",
                user.id,
                ip,
                subject_id=user.id,
                detail=(("issuer", who.issuer), ("subject", who.subject)),
            ),
        )
    await _audit(
        services,
        ActionTaken("auth.sign_in", user.id, ip, subject_id=user.id, detail=(("method", "oidc"),)),
    )
    params = {"sso": "1"}
    if pending.next != "/":
        params["next"] = pending.next
    response = _redirect(_signin(**params))
    response.delete_cookie(STATE_COOKIE, path=COOKIE_PATH)
    response.set_cookie(
        DONE_COOKIE,
        done.tokens.refresh_token,
        httponly=True,
        samesite="strict",
        secure=is_https(request.scope, services.settings),
        max_age=300,
        path=COOKIE_PATH,
    )
    return response


@post(
    "/oidc/finish",
    status_code=200,
    summary="Pick up the session a single sign-on started (once): the sign-in reply",
)
async def finish(services: Services, request: Request[Any, Any, Any]) -> Response[Any]:
    _provider(services)
    check_cookie_request(request, services.settings)  # JSON from this origin only
    token = request.cookies.get(DONE_COOKIE)
    if not token:
        raise UnauthorizedError("no single sign-on to finish in this browser; sign in again")
    tokens = await services.auth.refresh(token)  # one use: the cookie's token is spent now
    user = await services.store.get_user(services.auth.decode(tokens.access_token, "access")["sub"])
    if user is None:
        raise UnauthorizedError("the account no longer exists")
    body = AuthOut(
        user=UserOut.of(user),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=services.settings.access_token_ttl,
    )
    response: Response[Any] = Response(body, status_code=200)
    response.headers["Cache-Control"] = "no-store"
    set_auth_cookie(response, tokens.access_token, request, services.settings)
    response.delete_cookie(DONE_COOKIE, path=COOKIE_PATH)
    return response


router = Router(
    path="/auth",
    route_handlers=[providers, start, callback, finish],
    tags=["auth"],
)
