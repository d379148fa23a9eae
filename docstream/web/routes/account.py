"""``DELETE /auth/me``: delete your own account (with your current password), handing your
documents over to another account or deleting them. The server's last administrator cannot.

An account made by single sign-on has no password to type: it confirms with its e-mail address
instead (``confirm_email``). The signed-in session is the proof of identity in both cases; what is
typed guards against a click on the wrong button and a session left open on a shared screen.

Served by the ``/auth`` router (one path, one router: Litestar answers ``OPTIONS`` per path).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, delete

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken
from docstream.errors import ForbiddenError, InvalidInputError
from docstream.services.identity import Verified, has_password
from docstream.web.cookies import AUTH_COOKIE
from docstream.web.deps import client_ip, refuse_api_token
from docstream.web.schemas import Password


class DeleteAccountBody(msgspec.Struct, forbid_unknown_fields=True):
    """``documents``: ``transfer`` (to ``transfer_to``: the e-mail address or user id of another
    account) or ``delete``. ``password``: the current one; an account without a password (single
    sign-on) gives its e-mail address as ``confirm_email`` instead."""

    documents: Literal["transfer", "delete"]
    password: Password | None = None
    confirm_email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    transfer_to: Annotated[str, msgspec.Meta(max_length=320)] | None = None


@delete(
    "/me",
    status_code=204,
    summary="Delete your account (needs the current password); your documents go to another "
    "account or are deleted; every session ends",
)
async def delete_me(
    data: DeleteAccountBody,
    verified: Verified,
    services: Services,
    request: Request[Any, Any, Any],
) -> Response[None]:
    refuse_api_token(verified, "delete the account")
    user = verified.user
    if not has_password(user):
        if (data.confirm_email or "").strip().lower() != user.email:
            raise ForbiddenError("type your e-mail address to confirm")
    elif data.password is None or not await services.auth.check_password(user, data.password):
        raise ForbiddenError("the current password is wrong")
    heir: str | None = None
    if data.documents == "transfer":
        if not data.transfer_to:
            raise InvalidInputError("name the account to hand your documents over to")
        heir = (await services.admin.find_user(data.transfer_to.strip())).id
    elif data.transfer_to:
        raise InvalidInputError("transfer_to is only for documents: transfer")
    await services.admin.delete_account(user, heir)
    await services.documents.extensions.emit(
        ActionTaken(
            action="account.deleted",
            actor_id=user.id,
            ip=client_ip(request),
            subject_id=user.id,
            detail=(("documents", "transferred" if heir else "deleted"),),
        )
    )
    response: Response[None] = Response(None, status_code=204)
    response.delete_cookie(AUTH_COOKIE, path="/")
    return response
