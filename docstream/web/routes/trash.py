"""``/trash``: the owner's trashed documents (list, restore, delete forever, empty), and the
audit events of moving a document there (``DELETE /documents/{id}``, in ``documents.py``).

``/trash`` is also the web UI's Trash page: a browser navigating there (``Accept: text/html``)
gets the UI, before any sign-in check; the UI itself and API clients ask for JSON.

See ``services/trash.py`` for the rules: only the owner sees their trash, and every other caller
or id is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, Response, Router, delete, get, post

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken
from docstream.services.identity import Identity
from docstream.storage.base import TrashedDocument
from docstream.web import static
from docstream.web.deps import client_ip
from docstream.web.schemas import DocumentOut


class TrashItemOut(msgspec.Struct):
    """A document in the caller's trash."""

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    #: When it was moved to the trash...
    deleted_at: datetime
    #: ...and when it will be deleted for good (``trash_retention_days`` later).
    purge_at: datetime

    @classmethod
    def of(cls, trashed: TrashedDocument, purge_at: datetime) -> TrashItemOut:
        doc = trashed.doc
        return cls(
            id=doc.id,
            title=doc.title,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            deleted_at=trashed.deleted_at,
            purge_at=purge_at,
        )


class TrashEmptiedOut(msgspec.Struct):
    """How many documents ``DELETE /trash`` deleted for good."""

    purged: int


async def audit(
    services: Services,
    request: Request[Any, Any, Any],
    action: str,
    caller: Identity,
    doc_id: str | None,
    *,
    subject_id: str | None = None,
    detail: tuple[tuple[str, str], ...] = (),
) -> None:
    """Tell the extensions (the audit log) that ``caller`` did ``action``."""
    await services.documents.extensions.emit(
        ActionTaken(
            action=action,
            actor_id=caller.user_id,
            ip=client_ip(request),
            doc_id=doc_id,
            subject_id=subject_id,
            detail=detail,
        )
    )


async def _page_for_browsers(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """A browser opening the Trash page gets the web UI, not this route's JSON."""
    if "text/html" not in request.headers.get("accept", ""):
        return None
    page = static.ui_page()
    page.headers["Vary"] = "Accept"
    return page


@get(
    "/",
    summary="Your trashed documents, the most recently trashed first",
    before_request=_page_for_browsers,
)
async def list_trash(caller: Identity, services: Services) -> list[TrashItemOut]:
    trash = services.trash
    return [TrashItemOut.of(t, trash.purge_at(t)) for t in await trash.list_for(caller)]


@post(
    "/{doc_id:str}/restore",
    status_code=200,
    summary="Restore a trashed document as it was (owner only)",
)
async def restore(
    doc_id: str, caller: Identity, services: Services, request: Request[Any, Any, Any]
) -> DocumentOut:
    doc = await services.trash.restore(caller, doc_id)
    await audit(services, request, "document.restored", caller, doc_id)
    return DocumentOut.of(doc, "owner")


@delete("/{doc_id:str}", status_code=204, summary="Delete a trashed document for good")
async def purge(
    doc_id: str, caller: Identity, services: Services, request: Request[Any, Any, Any]
) -> None:
    await services.trash.purge(caller, doc_id)
    await audit(services, request, "document.purged", caller, doc_id)


@delete("/", status_code=200, summary="Empty your trash: delete every trashed document for good")
async def empty(
    caller: Identity, services: Services, request: Request[Any, Any, Any]
) -> TrashEmptiedOut:
    purged = await services.trash.empty(caller)
    await audit(
        services,
        request,
        "document.trash_emptied",
        caller,
        None,
        detail=(("count", str(len(purged))),),
    )
    return TrashEmptiedOut(purged=len(purged))


router = Router(
    path="/trash", route_handlers=[list_trash, restore, purge, empty], tags=["documents"]
)
