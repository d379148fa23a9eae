"""``/auth``: register, login, refresh, me."""

from __future__ import annotations

from litestar import Response, Router, get, post

from docstream.bootstrap import Services
from docstream.services.auth import Identity, TokenPair
from docstream.storage.base import User
from docstream.web.deps import AUTH_COOKIE
from docstream.web.limits import AccountLimiter
from docstream.web.schemas import (
    AuthOut,
    LoginBody,
    LogoutBody,
    RefreshBody,
    RegisterBody,
    TokensOut,
    UserOut,
)


def _with_cookie(
    body: object, tokens: TokenPair, services: Services, status: int
) -> Response[object]:
    """The access token also goes into an HttpOnly, SameSite=Strict cookie for same-origin use."""
    response: Response[object] = Response(body, status_code=status)
    response.set_cookie(
        AUTH_COOKIE,
        tokens.access_token,
        httponly=True,
        samesite="strict",
        max_age=services.settings.access_token_ttl,
        path="/",
    )
    return response


def _auth_out(user: User, tokens: TokenPair, services: Services) -> AuthOut:
    return AuthOut(
        user=UserOut.of(user),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=services.settings.access_token_ttl,
    )


async def _account_attempt(services: Services, email: str) -> None:
    """Count a sign-in or sign-up attempt against the account (429 past its budget)."""
    limiter: AccountLimiter | None = services.extras.get("account_limiter")
    if limiter is not None:
        await limiter.check(email)


@post("/register", status_code=201, summary="Create an account")
async def register(data: RegisterBody, services: Services) -> Response[object]:
    await _account_attempt(services, data.email)
    user, tokens = await services.auth.register(data.email, data.password, data.name)
    return _with_cookie(_auth_out(user, tokens, services), tokens, services, 201)


@post("/login", status_code=200, summary="Sign in")
async def login(data: LoginBody, services: Services) -> Response[object]:
    await _account_attempt(services, data.email)
    user, tokens = await services.auth.login(data.email, data.password)
    return _with_cookie(_auth_out(user, tokens, services), tokens, services, 200)


@post("/refresh", status_code=200, summary="Exchange a refresh token for new tokens")
async def refresh(data: RefreshBody, services: Services) -> Response[object]:
    tokens = await services.auth.refresh(data.refresh_token)
    body = TokensOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=services.settings.access_token_ttl,
    )
    return _with_cookie(body, tokens, services, 200)


@post(
    "/logout",
    status_code=204,
    summary="Sign out: revoke the refresh token (if sent) and clear the auth cookie",
)
async def logout(services: Services, data: LogoutBody | None = None) -> Response[None]:
    await services.auth.logout(data.refresh_token if data else None)
    response: Response[None] = Response(None, status_code=204)
    response.delete_cookie(AUTH_COOKIE, path="/")
    return response


@get("/me", summary="The signed-in user")
async def me(caller: Identity, services: Services) -> UserOut:
    user = await services.store.get_user(caller.user_id)
    assert user is not None  # authenticate() checked it a moment ago
    return UserOut.of(user)


router = Router(path="/auth", route_handlers=[register, login, refresh, logout, me], tags=["auth"])
