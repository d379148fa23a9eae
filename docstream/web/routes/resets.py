"""Password reset: ``/auth/password-reset`` ("Forgot password?" and using a link) and
``/admin/users/{user_id}/password-reset`` (an administrator's one-time link).

The request answers 202 and the same body for every address (registered, invited, unknown,
disabled): the look-up and the e-mail happen in the background (``services/resets.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from msgspec import Meta

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken
from docstream.errors import ForbiddenError, NotFoundError
from docstream.services.identity import Verified
from docstream.web.cookies import check_cookie_request, serving_origin, set_auth_cookie
from docstream.web.deps import Admin, client_ip, refuse_api_token
from docstream.web.schemas import AuthOut, Email, Password, UserOut
from docstream.web.state import web_state

#: What "Forgot password?" answers, with and without SMTP (never depending on the address).
EMAILED = (
    "If an account exists for that address, we sent it a link to choose a new password. "
    "Check your inbox (and spam folder)."
)
NOT_EMAILED = (
    "This server does not send e-mail. Ask an administrator of this server for a password "
    "reset link."
)


class ResetRequestBody(msgspec.Struct):
    email: Email


class ResetRequestedOut(msgspec.Struct):
    """``emailed``: whether this server e-mails links (the same for every address)."""

    emailed: bool
    message: str


class ResetConfirmBody(msgspec.Struct):
    token: Annotated[str, Meta(max_length=200)]
    password: Password


class ResetLinkOut(msgspec.Struct):
    """A one-time link to give to the user (it works once, until ``expires_at``)."""

    link: str
    expires_at: datetime


@get("/", summary="Whether this server e-mails password reset links (the sign-in page asks)")
async def reset_policy(services: Services) -> ResetRequestedOut:
    emailed = services.recovery.resets.emails
    return ResetRequestedOut(emailed=emailed, message=EMAILED if emailed else NOT_EMAILED)


@post(
    "/",
    status_code=202,
    summary="Forgot password: e-mail a one-time reset link to the address if it has an account "
    "(the reply is the same for every address)",
)
async def request_reset(
    data: ResetRequestBody, services: Services, request: Request[Any, Any, Any]
) -> ResetRequestedOut:
    state = web_state(request)
    if state is not None:
        await state.account_limiter.check(data.email)
    resets = services.recovery.resets
    resets.request(data.email, base_url=None, ip=client_ip(request))
    emailed = resets.emails
    return ResetRequestedOut(emailed=emailed, message=EMAILED if emailed else NOT_EMAILED)


@post(
    "/confirm",
    status_code=200,
    summary="Use a reset link: set the new password, sign out every session of the account and "
    "sign in (a link works once)",
)
async def confirm_reset(
    data: ResetConfirmBody, services: Services, request: Request[Any, Any, Any]
) -> Response[AuthOut]:
    check_cookie_request(request, services.settings)  # it sets the cookie: no login CSRF
    user, tokens = await services.recovery.resets.reset(data.token, data.password)
    await services.recovery.extensions.emit(
        ActionTaken(
            action="auth.password_reset",
            actor_id=user.id,
            ip=client_ip(request),
            subject_id=user.id,
        )
    )
    if tokens is None:
        raise ForbiddenError(
            "the new password is set, but this account is disabled: it cannot sign in"
        )
    body = AuthOut(
        user=UserOut.of(user),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=services.settings.access_token_ttl,
    )
    response = Response(body, status_code=200)
    set_auth_cookie(response, tokens.access_token, request, services.settings)
    return response


@post(
    "/{user_id:str}/password-reset",
    status_code=201,
    summary="Administrators: a one-time password reset link for a user (valid admin_reset_ttl)",
)
async def admin_reset_link(
    user_id: str,
    admin: Admin,
    verified: Verified,
    services: Services,
    request: Request[Any, Any, Any],
) -> ResetLinkOut:
    refuse_api_token(verified, "issue password reset links")
    user = await services.store.get_user(user_id)
    if user is None or user.pending:
        raise NotFoundError("no such user")
    link, expires = await services.recovery.resets.issue_link(
        user.id, base_url=serving_origin(request, services.settings)
    )
    await services.recovery.extensions.emit(
        ActionTaken(
            action="admin.password_reset_link",
            actor_id=admin.user.id,
            ip=client_ip(request),
            subject_id=user.id,
        )
    )
    return ResetLinkOut(link=link, expires_at=expires)


router = Router(
    path="/auth/password-reset",
    route_handlers=[reset_policy, request_reset, confirm_reset],
    tags=["auth"],
)
admin_router = Router(path="/admin/users", route_handlers=[admin_reset_link], tags=["admin"])
