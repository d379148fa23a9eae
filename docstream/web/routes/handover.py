"""Transfer ownership, leave a shared document, duplicate a document (``services/handover.py``)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Router, delete, post

from docstream.bootstrap import Services
from docstream.services.identity import Identity
from docstream.web.routes.trash import audit
from docstream.web.schemas import DocumentOut


class TransferBody(msgspec.Struct):
    """Who becomes the owner: a registered collaborator, or a co-collaborator picked by id."""

    user_id: str


@post(
    "/{doc_id:str}/transfer",
    status_code=200,
    summary="Make another registered person the owner (owner only); you keep editor access",
)
async def transfer(
    doc_id: str,
    data: TransferBody,
    caller: Identity,
    services: Services,
    request: Request[Any, Any, Any],
) -> DocumentOut:
    doc = await services.handover.transfer(caller, doc_id, data.user_id)
    await audit(
        services,
        request,
        "document.ownership_transferred",
        caller,
        doc_id,
        subject_id=data.user_id,
    )
    return DocumentOut.of(doc, "editor")


@delete(
    "/{doc_id:str}/access/me",
    status_code=204,
    summary="Leave a document shared with you (not the owner); your live sessions on it close",
)
async def leave(
    doc_id: str, caller: Identity, services: Services, request: Request[Any, Any, Any]
) -> None:
    await services.handover.leave(caller, doc_id)
    await audit(services, request, "document.left", caller, doc_id)


@post(
    "/{doc_id:str}/duplicate",
    status_code=201,
    summary="A new document of yours with this one's current text (anyone who can read it)",
)
async def duplicate(
    doc_id: str, caller: Identity, services: Services, request: Request[Any, Any, Any]
) -> DocumentOut:
    doc = await services.handover.duplicate(caller, doc_id)
    await audit(
        services, request, "document.duplicated", caller, doc.id, detail=(("source", doc_id),)
    )
    return DocumentOut.of(doc, "owner")


router = Router(path="/documents", route_handlers=[transfer, leave, duplicate], tags=["sharing"])
