"""``/documents/{id}/collaborators`` and ``/documents/{id}/share``."""

from __future__ import annotations

from litestar import Router, delete, get, post

from docstream.bootstrap import Services
from docstream.services.auth import Identity
from docstream.web.schemas import CollaboratorOut, DocumentOut, PublicSharingBody, ShareBody


@get("/{doc_id:str}/collaborators", summary="Who has access")
async def collaborators(doc_id: str, caller: Identity, services: Services) -> list[CollaboratorOut]:
    return [CollaboratorOut.of(c) for c in await services.documents.collaborators(caller, doc_id)]


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


@post("/{doc_id:str}/share/public", status_code=200, summary="Public link on/off (owner only)")
async def public_sharing(
    doc_id: str, data: PublicSharingBody, caller: Identity, services: Services
) -> DocumentOut:
    access = await services.documents.set_public(caller, doc_id, data.enabled, data.role)
    return DocumentOut.of(access.doc, access.role)


router = Router(
    path="/documents",
    route_handlers=[collaborators, share, revoke, public_sharing],
    tags=["sharing"],
)
