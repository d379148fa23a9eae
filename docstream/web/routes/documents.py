"""``/documents``: create, list, open, rename, delete."""

from __future__ import annotations

from litestar import Router, delete, get, patch, post

from docstream.bootstrap import Services
from docstream.services.auth import Identity
from docstream.web.schemas import DocumentDetailOut, DocumentOut, TitleBody


@get("/", summary="Documents you own or were invited to")
async def list_documents(caller: Identity, services: Services) -> list[DocumentOut]:
    return [DocumentOut.of(doc, role) for doc, role in await services.documents.list_for(caller)]


@post("/", status_code=201, summary="Create a document")
async def create_document(data: TitleBody, caller: Identity, services: Services) -> DocumentOut:
    doc = await services.documents.create(caller, data.title)
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
    doc_id: str, data: TitleBody, caller: Identity, services: Services
) -> DocumentOut:
    access = await services.documents.rename(caller, doc_id, data.title)
    return DocumentOut.of(access.doc, access.role)


@delete("/{doc_id:str}", status_code=204, summary="Delete a document (owner only)")
async def delete_document(doc_id: str, caller: Identity, services: Services) -> None:
    await services.documents.delete(caller, doc_id)


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
