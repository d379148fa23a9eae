"""``/documents/{id}/collaborators``, ``/documents/{id}/share`` and the public link."""

from __future__ import annotations

from litestar import Router, delete, get, post

from docstream.bootstrap import Services
from docstream.services.auth import Identity
from docstream.web.schemas import (
    CollaboratorOut,
    PublicSharingBody,
    PublicSharingOut,
    ShareBody,
)


@get(
    "/{doc_id:str}/collaborators",
    summary="Who has access (e-mail addresses for the owner and editors only)",
)
async def collaborators(doc_id: str, caller: Identity, services: Services) -> list[CollaboratorOut]:
    access, people = await services.documents.collaborators(caller, doc_id)
    return [CollaboratorOut.of(c, with_email=access.sees_emails) for c in people]


@post(
    "/{doc_id:str}/share",
    status_code=200,
    summary="Invite by email (editors invite viewers; the owner grants editor)",
)
async def share(
    doc_id: str, data: ShareBody, caller: Identity, services: Services
) -> CollaboratorOut:
    return CollaboratorOut.of(await services.documents.share(caller, doc_id, data.email, data.role))


@delete(
    "/{doc_id:str}/share/{user_id:str}",
    status_code=204,
    summary="Revoke a user's access (owner only); their live sessions are closed",
)
async def revoke(doc_id: str, user_id: str, caller: Identity, services: Services) -> None:
    await services.documents.revoke(caller, doc_id, user_id)


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
    route_handlers=[collaborators, share, revoke, public_sharing, public_link, reset_public_link],
    tags=["sharing"],
)
