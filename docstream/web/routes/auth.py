"""``/auth``: register, login, refresh, logout (this session or every one), password, me."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, patch, post

from docstream.bootstrap import Services
from docstream.services.auth import Identity, TokenPair, Verified
from docstream.storage.base import User
from docstream.web.cookies import AUTH_COOKIE, check_cookie_request, set_auth_cookie
from docstream.web.limits import AccountLimiter
from docstream.web.schemas import (
    AuthOut,
    LoginBody,
    LogoutBody,
    NameBody,
    PasswordBody,
    RefreshBody,
    RegisterBody,
    TokensOut,
    UserOut,
)


def _with_cookie(
    body: object,
    tokens: TokenPair,
    services: Services,
    status: int,
    request: Request[Any, Any, Any],
) -> Response[object]:
    """The access token also goes into an HttpOnly, SameSite=Strict cookie for same-origin use
    (``Secure`` when the request came over HTTPS)."""
    response: Response[object] = Response(body, status_code=status)
    set_auth_cookie(response, tokens.access_token, request, services.settings)
    return response


def _auth_out(user: User, tokens: TokenPair, services: Services) -> AuthOut:
    return AuthOut(
        user=UserOut.of(user),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=services.settings.access_token_ttl,
    )


def _signed_out(request: Request[Any, Any, Any]) -> Response[None]:
    response: Response[None] = Response(None, status_code=204)
    response.delete_cookie(AUTH_COOKIE, path="/")
    return response


async def _account_attempt(services: Services, email: str) -> None:
    """Count a sign-in or sign-up attempt against the account (429 past its budget)."""
    limiter: AccountLimiter | None = services.extras.get("account_limiter")
    if limiter is not None:
        await limiter.check(email)


@post("/register", status_code=201, summary="Create an account")
async def register(
    data: RegisterBody, services: Services, request: Request[Any, Any, Any]
) -> Response[object]:
    check_cookie_request(request, services.settings)  # it sets the cookie: no login CSRF
    await _account_attempt(services, data.email)
    user, tokens = await services.auth.register(data.email, data.password, data.name)
    return _with_cookie(_auth_out(user, tokens, services), tokens, services, 201, request)


@post("/login", status_code=200, summary="Sign in (starts a session)")
async def login(
    data: LoginBody, services: Services, request: Request[Any, Any, Any]
) -> Response[object]:
    check_cookie_request(request, services.settings)  # it sets the cookie: no login CSRF
    await _account_attempt(services, data.email)
    user, tokens = await services.auth.login(data.email, data.password)
    return _with_cookie(_auth_out(user, tokens, services), tokens, services, 200, request)


@post(
    "/refresh",
    status_code=200,
    summary="Swap a refresh token for new tokens; a refresh token works once (reusing one "
    "signs its session out)",
)
async def refresh(
    data: RefreshBody, services: Services, request: Request[Any, Any, Any]
) -> Response[object]:
    check_cookie_request(request, services.settings)  # it sets the cookie
    tokens = await services.auth.refresh(data.refresh_token)
    body = TokensOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=services.settings.access_token_ttl,
    )
    return _with_cookie(body, tokens, services, 200, request)


@post(
    "/logout",
    status_code=204,
    summary="Sign out: end this session (its refresh and access tokens, its open sockets) and "
    "clear the auth cookie",
)
async def logout(
    services: Services, request: Request[Any, Any, Any], data: LogoutBody | None = None
) -> Response[None]:
    header = request.headers.get("authorization", "")
    access = header.partition(" ")[2].strip() if header.lower().startswith("bearer ") else None
    cookie = request.cookies.get(AUTH_COOKIE)
    if cookie and not access:
        check_cookie_request(request, services.settings)
    await services.auth.logout(data.refresh_token if data else None, access, cookie)
    return _signed_out(request)


@post(
    "/logout-all",
    status_code=204,
    summary="Sign out everywhere: end every session of the signed-in user",
)
async def logout_all(
    caller: Identity, services: Services, request: Request[Any, Any, Any]
) -> Response[None]:
    await services.auth.logout_all(caller.user_id)
    return _signed_out(request)


@post(
    "/password",
    status_code=200,
    summary="Change the password (with the current one); every other session is signed out "
    "and this one continues with the returned tokens",
)
async def change_password(
    data: PasswordBody, verified: Verified, services: Services, request: Request[Any, Any, Any]
) -> Response[object]:
    user, tokens = await services.auth.change_password(
        verified, data.current_password, data.new_password
    )
    return _with_cookie(_auth_out(user, tokens, services), tokens, services, 200, request)


@get("/me", summary="The signed-in user")
async def me(caller: Identity, services: Services) -> UserOut:
    user = await services.store.get_user(caller.user_id)
    assert user is not None  # authenticate() checked it a moment ago
    return UserOut.of(user)


@patch("/me", summary="Change your display name (what other people see of you)")
async def rename_me(data: NameBody, caller: Identity, services: Services) -> UserOut:
    return UserOut.of(await services.auth.rename(caller.user_id, data.name))


router = Router(
    path="/auth",
    route_handlers=[register, login, refresh, logout, logout_all, change_password, me, rename_me],
    tags=["auth"],
)
