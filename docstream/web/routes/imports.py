"""``POST /documents/import``: a .txt or .md file uploaded into a new document of the caller.

The same rules as ``docstream import`` (:mod:`docstream.datatools.textimport`): UTF-8 without NUL,
at most ``max_document_chars`` characters, the title from the first ``# heading`` of a .md file or
the file name; the caller's document quota applies. The file travels base64-encoded in JSON (so
the server, not the browser, judges its bytes) in a body of at most ``import_max_bytes`` plus the
encoding's third. Audited as ``document.imported``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Router, post

from docstream.bootstrap import Services
from docstream.collab.extensions import ActionTaken, DocumentCreated
from docstream.datatools.textimport import Limits, import_file
from docstream.errors import InvalidInputError, TooLargeError
from docstream.services.identity import Identity
from docstream.settings import Settings
from docstream.web.deps import client_ip
from docstream.web.schemas import DocumentOut

#: The longest file name accepted.
MAX_NAME = 255


class ImportBody(msgspec.Struct, forbid_unknown_fields=True):
    #: The file's name (its extension decides: .txt or .md).
    name: str
    #: The file's bytes, base64-encoded.
    data: bytes


@post("/import", status_code=201, summary="Import a .txt or .md file as a new document")
async def import_document(
    data: ImportBody, request: Request[Any, Any, Any], caller: Identity, services: Services
) -> DocumentOut:
    settings = services.settings
    if not data.name or len(data.name) > MAX_NAME or "/" in data.name or "\\" in data.name:
        raise InvalidInputError(f"name must be a file name of 1 to {MAX_NAME} characters")
    if len(data.data) > settings.import_max_bytes:
        raise TooLargeError(f"the file is larger than {settings.import_max_bytes} bytes")
    limits = Limits(settings.max_document_chars, settings.max_documents_per_user)
    doc = await import_file(services.store, caller.user_id, data.name, data.data, limits)
    await services.documents.extensions.emit(DocumentCreated(doc))
    await services.documents.extensions.emit(
        ActionTaken(
            action="document.imported",
            actor_id=caller.user_id,
            ip=client_ip(request),
            doc_id=doc.id,
            detail=(("file", data.name), ("bytes", str(len(data.data)))),
        )
    )
    return DocumentOut.of(doc, "owner")


def router(settings: Settings) -> Router:
    """The route, with a body limit that fits ``import_max_bytes`` in base64."""
    limit = (settings.import_max_bytes + 2) // 3 * 4 + 4096
    return Router(
        path="/documents",
        route_handlers=[import_document],
        request_max_body_size=limit,
        tags=["documents"],
    )
