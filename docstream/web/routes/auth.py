"""``/auth``: register, login, refresh, logout (this session or every one), password, me."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, patch, post

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken
from docstream.errors import DocStreamError, ForbiddenError, InvalidInputError, UnauthorizedError
from docstream.services.identity import Identity, TokenPair, Verified, normalize_email
from docstream.storage.base import User
from docstream.web.auditing import MAX_TYPED, record
from docstream.web.cookies import AUTH_COOKIE, check_cookie_request, set_auth_cookie
from docstream.web.deps import client_ip, refuse_api_token
from docstream.web.routes.account import delete_me
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
from docstream.web.state import web_state


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


async def _account_attempt(request: Request[Any, Any, Any], email: str) -> None:
    """Count a sign-in or sign-up attempt against the account (429 past its budget)."""
    state = web_state(request)
    if state is not None:
        await state.account_limiter.check(email)


@post("/register", status_code=201, summary="Create an account")
async def register(
    data: RegisterBody, services: Services, request: Request[Any, Any, Any]
) -> Response[object]:
    check_cookie_request(request, services.settings)  # it sets the cookie: no login CSRF
    await _account_attempt(request, data.email)
    emit = services.documents.extensions.emit
    try:
        user, tokens = await services.auth.register(data.email, data.password, data.name)
    except ForbiddenError as exc:
        tried = (("method", "password"), ("email", data.email.strip().lower()[:254]))
        await emit(ActionTaken("auth.sign_up_refused", None, client_ip(request), detail=tried))
        raise exc from None
    detail = (("method", "password"),)
    await emit(
        ActionTaken("auth.sign_up", user.id, client_ip(request), subject_id=user.id, detail=detail)
    )
    return _with_cookie(_auth_out(user, tokens, services), tokens, services, 201, request)


@post("/login", status_code=200, summary="Sign in (starts a session)")
async def login(
    data: LoginBody, services: Services, request: Request[Any, Any, Any]
) -> Response[object]:
    check_cookie_request(request, services.settings)  # it sets the cookie: no login CSRF
    await _account_attempt(request, data.email)
    try:
        user, tokens = await services.auth.login(data.email, data.password)
    except (UnauthorizedError, ForbiddenError) as exc:
        await _sign_in_failed(request, services, data.email, exc)
        raise
    await record(request, services, "auth.sign_in", user.id, method="password")
    return _with_cookie(_auth_out(user, tokens, services), tokens, services, 200, request)


async def _sign_in_failed(
    request: Request[Any, Any, Any], services: Services, typed: str, exc: DocStreamError
) -> None:
    """Record a refused sign-in: the account tried (None if no account has the address), the
    address as typed (truncated) and why (told to no one but the audit log's readers)."""
    try:
        known = await services.store.get_user_by_email(normalize_email(typed))
    except InvalidInputError:
        known = None
    if known is None or known.pending:
        actor, reason = None, "unknown_account"
    elif known.disabled or isinstance(exc, ForbiddenError):
        actor, reason = known.id, "disabled"
    else:
        actor, reason = known.id, "wrong_password"
    await record(
        request, services, "auth.sign_in_failed", actor, email=typed[:MAX_TYPED], reason=reason
    )


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
    verified: Verified, services: Services, request: Request[Any, Any, Any]
) -> Response[None]:
    refuse_api_token(verified, "sign out every session")
    await services.auth.logout_all(verified.user.id)
    await record(request, services, "auth.signed_out_everywhere", verified.user.id)
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
    refuse_api_token(verified, "change the password")
    user, tokens = await services.auth.change_password(
        verified, data.current_password, data.new_password
    )
    await services.recovery.extensions.emit(
        ActionTaken(
            action="auth.password_changed",
            actor_id=user.id,
            ip=client_ip(request),
            subject_id=user.id,
        )
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
    route_handlers=[
        register,
        login,
        refresh,
        logout,
        logout_all,
        change_password,
        me,
        rename_me,
        delete_me,
    ],
    tags=["auth"],
)
