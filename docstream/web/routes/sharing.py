"""``/documents/{id}/collaborators``, ``/documents/{id}/share``, the public link and
``/invitations/{token}``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, post

from docstream.bootstrap import Services
from docstream.services.auth import Identity
from docstream.services.invitations import InvitationService, Invited
from docstream.web.cookies import serving_origin
from docstream.web.schemas import (
    AcceptedOut,
    CollaboratorOut,
    InvitationOut,
    PublicSharingBody,
    PublicSharingOut,
    ShareBody,
)


def _invitations(services: Services) -> InvitationService:
    invitations: InvitationService = services.extras["invitations"]
    return invitations


@get(
    "/{doc_id:str}/collaborators",
    summary="Who has access (e-mail addresses for the owner and editors only); owners and "
    "editors also see pending invitations (user_id null)",
)
async def collaborators(doc_id: str, caller: Identity, services: Services) -> list[CollaboratorOut]:
    access, people = await services.documents.collaborators(caller, doc_id)
    out = [CollaboratorOut.of(c, with_email=access.sees_emails) for c in people]
    pending = await _invitations(services).pending(caller, doc_id)
    return out + [CollaboratorOut.of_invitation(i) for i in pending]


@post(
    "/{doc_id:str}/share",
    status_code=200,
    summary="Share by email (editors invite viewers; the owner grants editor). An address "
    "without an account gets a single-use invitation link (invite_url), e-mailed when SMTP is "
    "configured",
)
async def share(
    doc_id: str,
    data: ShareBody,
    caller: Identity,
    services: Services,
    request: Request[Any, Any, Any],
) -> CollaboratorOut:
    result = await services.documents.share(
        caller, doc_id, data.email, data.role, serving_origin(request, services.settings)
    )
    if isinstance(result, Invited):
        return CollaboratorOut.of_invitation(result.invitation, result.url, result.emailed)
    return CollaboratorOut.of(result)


@delete(
    "/{doc_id:str}/share/{user_id:str}",
    status_code=204,
    summary="Revoke a user's access (owner only); their live sessions are closed",
)
async def revoke(doc_id: str, user_id: str, caller: Identity, services: Services) -> None:
    await services.documents.revoke(caller, doc_id, user_id)


@delete(
    "/{doc_id:str}/invitations/{invitation_id:str}",
    status_code=204,
    summary="Withdraw a pending invitation (owner; editors: invitations to view)",
)
async def withdraw(doc_id: str, invitation_id: str, caller: Identity, services: Services) -> None:
    await _invitations(services).withdraw(caller, doc_id, invitation_id)


@post(
    "/{doc_id:str}/share/public",
    status_code=200,
    summary="Public link on/off (owner only); turning it on makes a new link token",
)
async def public_sharing(
    doc_id: str, data: PublicSharingBody, caller: Identity, services: Services
) -> PublicSharingOut:
    access, link = await services.documents.set_public(caller, doc_id, data.enabled, data.role)
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
async def reset_public_link(doc_id: str, caller: Identity, services: Services) -> PublicSharingOut:
    access, link = await services.documents.reset_link(caller, doc_id)
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
