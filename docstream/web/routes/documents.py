"""``/documents``: create, list, open, rename, delete (move to the trash)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, patch, post

from docstream.bootstrap import Services
from docstream.services.identity import Identity
from docstream.web.auditing import record
from docstream.web.routes.trash import audit
from docstream.web.schemas import DocumentDetailOut, DocumentListItemOut, DocumentOut, TitleBody


@get("/", summary="Documents you own or were invited to")
async def list_documents(caller: Identity, services: Services) -> list[DocumentListItemOut]:
    rows = await services.documents.list_rows_for(caller)
    return [DocumentListItemOut.of_row(row) for row in rows]


@post("/", status_code=201, summary="Create a document")
async def create_document(
    data: TitleBody, caller: Identity, services: Services, request: Request[Any, Any, Any]
) -> DocumentOut:
    doc = await services.documents.create(caller, data.title)
    await record(request, services, "document.created", caller.user_id, doc_id=doc.id)
    return DocumentOut.of(doc, "owner")


@get("/{doc_id:str}", summary="Open a document (its current text included)")
async def get_document(
    doc_id: str, maybe_caller: Identity | None, services: Services
) -> DocumentDetailOut:
    access = await services.documents.access(maybe_caller, doc_id, "viewer")
    text, seq = await services.texts.current_text(doc_id)
    return DocumentDetailOut.of_text(access.doc, access.role, text, seq)


@patch("/{doc_id:str}", summary="Rename a document")
async def rename_document(
    doc_id: str,
    data: TitleBody,
    caller: Identity,
    services: Services,
    request: Request[Any, Any, Any],
) -> DocumentOut:
    access = await services.documents.rename(caller, doc_id, data.title)
    await record(
        request, services, "document.renamed", caller.user_id, doc_id=doc_id, title=access.doc.title
    )
    return DocumentOut.of(access.doc, access.role)


@delete(
    "/{doc_id:str}",
    status_code=204,
    summary="Move a document to your trash (owner only); to everyone else it is deleted",
)
async def delete_document(
    doc_id: str, caller: Identity, services: Services, request: Request[Any, Any, Any]
) -> None:
    await services.documents.delete(caller, doc_id)
    await audit(services, request, "document.trashed", caller, doc_id)


router = Router(
    path="/documents",
    route_handlers=[
        list_documents,
        create_document,
        get_document,
        rename_document,
        delete_document,
    ],
    tags=["documents"],
)
