"""``/documents/{id}/collaborators``, ``/documents/{id}/share``, the public link,
``/invitations/{token}`` and the people picker's ``/people/suggest``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, post

from docstream.bootstrap import Services
from docstream.errors import InvalidInputError
from docstream.services.identity import Identity, normalize_email
from docstream.services.invitations import InvitationService, Invited
from docstream.storage.base import Role
from docstream.web.auditing import record
from docstream.web.cookies import serving_origin
from docstream.web.routes.suggest import Limit, Query
from docstream.web.schemas import (
    AcceptedOut,
    CollaboratorOut,
    InvitationOut,
    PersonOut,
    PublicSharingBody,
    PublicSharingOut,
    ShareBody,
)


def _invitations(services: Services) -> InvitationService:
    return services.invitations


@get(
    "/{doc_id:str}/collaborators",
    summary="Who has access (e-mail addresses for the owner and editors only, and not of people "
    "shared with by user_id only); owners and editors also see pending invitations (user_id null)",
)
async def collaborators(doc_id: str, caller: Identity, services: Services) -> list[CollaboratorOut]:
    access, people = await services.documents.collaborators(caller, doc_id)
    out = [
        CollaboratorOut.of(
            c,
            with_email=access.sees_emails and (c.by_address or c.user_id == caller.user_id),
        )
        for c in people
    ]
    pending = await _invitations(services).pending(caller, doc_id)
    return out + [CollaboratorOut.of_invitation(i) for i in pending]


@post(
    "/{doc_id:str}/share",
    status_code=200,
    summary="Share by email or with a co-collaborator's user_id (editors invite viewers; the "
    "owner grants editor). An address without an account gets a single-use invitation link "
    "(invite_url), e-mailed when SMTP is configured; an unknown user_id is a 404",
)
async def share(
    doc_id: str,
    data: ShareBody,
    caller: Identity,
    services: Services,
    request: Request[Any, Any, Any],
) -> CollaboratorOut:
    before = await _role_before(services, doc_id, data.user_id, data.email)
    if data.user_id is not None:
        granted = await services.documents.share_with_user(caller, doc_id, data.user_id, data.role)
        await _granted(request, services, caller, doc_id, granted.user_id, before, data.role)
        return CollaboratorOut.of(granted, with_email=False)
    result = await services.documents.share(
        caller, doc_id, data.email or "", data.role, serving_origin(request, services.settings)
    )
    if isinstance(result, Invited):
        await record(
            request,
            services,
            "document.invited",
            caller.user_id,
            doc_id=doc_id,
            email=result.invitation.email,
            role=data.role,
        )
        return CollaboratorOut.of_invitation(result.invitation, result.url, result.emailed)
    await _granted(request, services, caller, doc_id, result.user_id, before, data.role)
    return CollaboratorOut.of(result)


async def _role_before(
    services: Services, doc_id: str, user_id: str | None, email: str | None
) -> Role | None:
    """The role the person being shared with had before (None: none, or unknown to us)."""
    if user_id is None:
        try:
            found = await services.store.get_user_by_email(normalize_email(email or ""))
        except InvalidInputError:
            return None  # the share itself refuses it
        if found is None:
            return None
        user_id = found.id
    held = await services.store.get_role(doc_id, user_id)
    return held[1] if held is not None else None


async def _granted(
    request: Request[Any, Any, Any],
    services: Services,
    caller: Identity,
    doc_id: str,
    user_id: str,
    before: Role | None,
    role: str,
) -> None:
    """``document.shared`` for a new grant, ``document.role_changed`` for a changed one
    (nothing when the role stayed the same)."""
    if before == role:
        return
    if before is None:
        await record(
            request,
            services,
            "document.shared",
            caller.user_id,
            doc_id=doc_id,
            subject_id=user_id,
            role=role,
        )
    else:
        await record(
            request,
            services,
            "document.role_changed",
            caller.user_id,
            doc_id=doc_id,
            subject_id=user_id,
            role=role,
            previous=before,
        )


@delete(
    "/{doc_id:str}/share/{user_id:str}",
    status_code=204,
    summary="Revoke a user's access (owner only); their live sessions are closed",
)
async def revoke(
    doc_id: str,
    user_id: str,
    caller: Identity,
    services: Services,
    request: Request[Any, Any, Any],
) -> None:
    await services.documents.revoke(caller, doc_id, user_id)
    await record(
        request,
        services,
        "document.access_removed",
        caller.user_id,
        doc_id=doc_id,
        subject_id=user_id,
    )


@delete(
    "/{doc_id:str}/invitations/{invitation_id:str}",
    status_code=204,
    summary="Withdraw a pending invitation (owner; editors: invitations to view)",
)
async def withdraw(
    doc_id: str,
    invitation_id: str,
    caller: Identity,
    services: Services,
    request: Request[Any, Any, Any],
) -> None:
    pending = await services.store.list_invitations(doc_id)
    email = next((i.email for i in pending if i.id == invitation_id), "")
    await _invitations(services).withdraw(caller, doc_id, invitation_id)
    await record(
        request,
        services,
        "document.invitation_withdrawn",
        caller.user_id,
        doc_id=doc_id,
        email=email,
    )


@post(
    "/{doc_id:str}/share/public",
    status_code=200,
    summary="Public link on/off (owner only); turning it on makes a new link token",
)
async def public_sharing(
    doc_id: str,
    data: PublicSharingBody,
    caller: Identity,
    services: Services,
    request: Request[Any, Any, Any],
) -> PublicSharingOut:
    access, link = await services.documents.set_public(caller, doc_id, data.enabled, data.role)
    await record(
        request,
        services,
        "document.public_link_changed",
        caller.user_id,
        doc_id=doc_id,
        enabled="true" if data.enabled else "false",
        role=data.role,
    )
    return PublicSharingOut.of_link(access.doc, access.role, link)


@get("/{doc_id:str}/share/public", summary="The public link (owner only)")
async def public_link(doc_id: str, caller: Identity, services: Services) -> PublicSharingOut:
    access, link = await services.documents.public_link(caller, doc_id)
    return PublicSharingOut.of_link(access.doc, access.role, link)


@post(
    "/{doc_id:str}/share/public/reset",
    status_code=200,
    summary="Replace the public link (owner only): old copies stop working",
)
async def reset_public_link(
    doc_id: str, caller: Identity, services: Services, request: Request[Any, Any, Any]
) -> PublicSharingOut:
    access, link = await services.documents.reset_link(caller, doc_id)
    await record(request, services, "document.public_link_reset", caller.user_id, doc_id=doc_id)
    return PublicSharingOut.of_link(access.doc, access.role, link)


router = Router(
    path="/documents",
    route_handlers=[
        collaborators,
        share,
        revoke,
        withdraw,
        public_sharing,
        public_link,
        reset_public_link,
    ],
    tags=["sharing"],
)


@get("/{token:str}", summary="What an invitation link invites to (it is not used up)")
async def invitation(token: str, services: Services) -> InvitationOut:
    found = await _invitations(services).preview(token)
    return InvitationOut(
        doc_title=found.doc_title,
        role=found.role,
        invited_by_name=found.inviter_name,
        expires_at=found.expires_at,
    )


@post(
    "/{token:str}/accept",
    status_code=200,
    summary="Redeem an invitation link as the signed-in user (single use)",
)
async def accept(token: str, caller: Identity, services: Services) -> AcceptedOut:
    doc_id, role = await _invitations(services).accept(caller, token)
    return AcceptedOut(doc_id=doc_id, role=role)


invitations_router = Router(
    path="/invitations", route_handlers=[invitation, accept], tags=["sharing"]
)


@get(
    "/suggest",
    summary="Co-collaborators (people who share a document with you) whose name has a word "
    "starting with q; a blank q lists the most recent few. Ids and names, never addresses",
)
async def suggest_people(
    caller: Identity, services: Services, q: Query = "", limit: Limit = 8
) -> list[PersonOut]:
    people = await services.documents.people.suggest(caller, q, limit)
    return [PersonOut(id=p.user_id, name=p.name) for p in people]


people_router = Router(path="/people", route_handlers=[suggest_people], tags=["sharing"])
