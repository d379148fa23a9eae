"""``/admin``: the administrator's API (accounts, server invitations, the sign-up policy, an
overview of the server). Every route takes the ``admin`` dependency: an enabled administrator
or 401/403. Each change is an audit event (``admin.*``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.params import Parameter

from docstream import __version__
from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken
from docstream.errors import InvalidInputError
from docstream.services.signup import PolicyState
from docstream.storage.base import ServerInvitation, UserSummary
from docstream.web.cookies import serving_origin
from docstream.web.deps import Admin, client_ip
from docstream.web.schemas import Email
from docstream.web.static import index_response

MAX_PAGE = 100
PolicyName = Literal["open", "invite-only", "closed"]


class AdminUserOut(msgspec.Struct):
    id: str
    email: str
    name: str
    created_at: datetime
    is_admin: bool
    disabled: bool
    documents: int
    last_sign_in: datetime | None

    @classmethod
    def of(cls, s: UserSummary) -> AdminUserOut:
        u = s.user
        return cls(
            id=u.id,
            email=u.email,
            name=u.name,
            created_at=u.created_at,
            is_admin=u.is_admin,
            disabled=u.disabled,
            documents=s.documents,
            last_sign_in=s.last_sign_in,
        )


class UsersPageOut(msgspec.Struct):
    users: list[AdminUserOut]
    total: int
    offset: int
    limit: int


class UserChangeBody(msgspec.Struct, forbid_unknown_fields=True):
    """Set either or both; a field left out is not changed."""

    is_admin: bool | None = None
    disabled: bool | None = None


class DeleteUserBody(msgspec.Struct, forbid_unknown_fields=True):
    """``documents``: ``transfer`` (to ``transfer_to``, a user id or e-mail address of another
    account) or ``delete``."""

    documents: Literal["transfer", "delete"]
    transfer_to: Annotated[str, msgspec.Meta(max_length=320)] | None = None


class ServerInvitationBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class ServerInvitationOut(msgspec.Struct, omit_defaults=True):
    """``url`` only in the reply that created it (the link is shown once)."""

    id: str
    email: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    url: str | None = None

    @classmethod
    def of(cls, i: ServerInvitation, url: str | None = None) -> ServerInvitationOut:
        return cls(i.id, i.email, i.created_by, i.created_at, i.expires_at, url)


class SignupPolicyOut(msgspec.Struct):
    """The policy in force; ``configured``: the server's setting; ``overridden``: the admin page
    chose ``policy`` (it wins over the setting)."""

    policy: PolicyName
    configured: PolicyName
    overridden: bool

    @classmethod
    def of(cls, state: PolicyState) -> SignupPolicyOut:
        return cls(state.policy, state.configured, state.overridden)


class SignupPolicyBody(msgspec.Struct, forbid_unknown_fields=True):
    """``policy`` null: back to the server's setting."""

    policy: PolicyName | None


class OverviewOut(msgspec.Struct):
    version: str
    storage: Literal["SQLite", "PostgreSQL"]
    redis: str  # disabled | ok | unavailable | reconnecting
    users: int
    documents: int
    #: Documents open (with live editors) on the node that answered.
    open_documents: int


async def _audit(
    services: Services,
    request: Request[Any, Any, Any],
    action: str,
    admin: Admin,
    subject_id: str | None = None,
    detail: tuple[tuple[str, str], ...] = (),
) -> None:
    await services.documents.extensions.emit(
        ActionTaken(
            action=action,
            actor_id=admin.user.id,
            ip=client_ip(request),
            subject_id=subject_id,
            detail=detail,
        )
    )


@get("/", include_in_schema=False, sync_to_thread=False)
def admin_page() -> Response[bytes]:
    """``/admin`` is also the admin page of the web UI: Litestar matches this router for it, so
    the UI's fallback route never sees it."""
    return index_response()


@get("/overview", summary="The server at a glance: version, storage, Redis, counts")
async def overview(admin: Admin, services: Services) -> OverviewOut:
    users, documents = await services.store.server_counts()
    return OverviewOut(
        version=__version__,
        storage="PostgreSQL" if services.settings.uses_postgres else "SQLite",
        redis=await services.broker.health(),
        users=users,
        documents=documents,
        open_documents=len(services.hub.rooms),
    )


@get("/users", summary="Registered users, searched by address or name, a page at a time")
async def users(
    admin: Admin,
    services: Services,
    q: Annotated[str, Parameter(max_length=200, description="part of an address or name")] = "",
    offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE)] = 50,
) -> UsersPageOut:
    found, total = await services.admin.list_users(q, limit, offset)
    return UsersPageOut([AdminUserOut.of(s) for s in found], total, offset, limit)


async def _summary(services: Services, user_id: str) -> AdminUserOut:
    user = await services.store.get_user(user_id)
    assert user is not None
    found, _ = await services.store.list_users(user.email, 1, 0)
    summary = found[0] if found and found[0].user.id == user.id else UserSummary(user, 0, None)
    return AdminUserOut.of(summary)


@patch(
    "/users/{user_id:str}",
    summary="Make a user an administrator or not, disable or enable the account (a disabled "
    "account is signed out everywhere at once); never the last administrator, never yourself",
)
async def change_user(
    user_id: str,
    data: UserChangeBody,
    admin: Admin,
    services: Services,
    request: Request[Any, Any, Any],
) -> AdminUserOut:
    if data.is_admin is None and data.disabled is None:
        raise InvalidInputError("set is_admin or disabled")
    if data.is_admin is not None:
        before = await services.admin.set_admin(admin.user, user_id, data.is_admin)
        action = "admin.user_promoted" if data.is_admin else "admin.user_demoted"
        await _audit(services, request, action, admin, before.id)
    if data.disabled is not None:
        await services.admin.set_disabled(admin.user, user_id, data.disabled)
        action = "admin.user_disabled" if data.disabled else "admin.user_enabled"
        await _audit(services, request, action, admin, user_id)
    return await _summary(services, user_id)


@delete(
    "/users/{user_id:str}",
    status_code=204,
    summary="Delete an account; its documents go to another account or are deleted",
)
async def delete_user(
    user_id: str,
    data: DeleteUserBody,
    admin: Admin,
    services: Services,
    request: Request[Any, Any, Any],
) -> None:
    heir = await _heir(services, data.documents, data.transfer_to)
    await services.admin.delete_user(admin.user, user_id, heir)
    detail = "transferred" if heir else "deleted"
    await _audit(services, request, "admin.user_deleted", admin, user_id, (("documents", detail),))


async def _heir(services: Services, choice: str, transfer_to: str | None) -> str | None:
    """The id of the account to hand documents over to (``None``: delete them)."""
    if choice == "delete":
        if transfer_to:
            raise InvalidInputError("transfer_to is only for documents: transfer")
        return None
    if not transfer_to:
        raise InvalidInputError("name the account to hand the documents over to (transfer_to)")
    return (await services.admin.find_user(transfer_to.strip())).id


@get("/invitations", summary="Server invitations outstanding (unexpired, unused)")
async def invitations(admin: Admin, services: Services) -> list[ServerInvitationOut]:
    return [ServerInvitationOut.of(i) for i in await services.admin.invitations()]


@post(
    "/invitations",
    status_code=201,
    summary="Invite an address to create an account (a single-use, expiring link, shown once)",
)
async def invite(
    data: ServerInvitationBody,
    admin: Admin,
    services: Services,
    request: Request[Any, Any, Any],
) -> ServerInvitationOut:
    made = await services.admin.invite(
        admin.user, data.email, serving_origin(request, services.settings)
    )
    inv = made.invitation
    await _audit(
        services, request, "admin.invitation_created", admin, detail=(("email", inv.email),)
    )
    return ServerInvitationOut.of(inv, made.url)


@delete("/invitations/{invitation_id:str}", status_code=204, summary="Revoke a server invitation")
async def revoke(
    invitation_id: str, admin: Admin, services: Services, request: Request[Any, Any, Any]
) -> None:
    await services.admin.revoke_invitation(invitation_id)
    await _audit(
        services, request, "admin.invitation_revoked", admin, detail=(("id", invitation_id),)
    )


@get("/signup-policy", summary="Who may create an account, and whether this page chose it")
async def signup_policy(admin: Admin, services: Services) -> SignupPolicyOut:
    return SignupPolicyOut.of(await services.auth.signup.state())


@put(
    "/signup-policy",
    summary="Choose who may create an account (wins over the server's setting; null: back to "
    "the setting); every worker and node applies it within seconds",
)
async def set_signup_policy(
    data: SignupPolicyBody, admin: Admin, services: Services, request: Request[Any, Any, Any]
) -> SignupPolicyOut:
    state = await services.auth.signup.set(data.policy)
    detail = (("policy", data.policy or f"setting ({state.configured})"),)
    await _audit(services, request, "admin.signup_policy_changed", admin, detail=detail)
    return SignupPolicyOut.of(state)


router = Router(
    path="/admin",
    route_handlers=[
        admin_page,
        overview,
        users,
        change_user,
        delete_user,
        invitations,
        invite,
        revoke,
        signup_policy,
        set_signup_policy,
    ],
    tags=["admin"],
)
