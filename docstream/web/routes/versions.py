"""History, versions (restore points) and export of a document.

Whoever opens a document through its public link only (no own role) sees the history and the
versions from the moment the current link was made (``Access.history_floor``): an edit or a
version from before it may hold text that was deleted before the document was shared.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import Parameter, QueryParameter

from docstream.bootstrap import Services
from docstream.errors import InvalidInputError, NotFoundError
from docstream.services.identity import Identity
from docstream.services.rendering import render_page
from docstream.services.versions import VersionService
from docstream.storage.base import VersionRecord
from docstream.web import auditing


def _nameless(user_id: str) -> str:
    """The name shown for an edit whose author has no account: a guest's, or a deleted one's
    (the log keeps the ids of deleted accounts' edits)."""
    return "Guest" if user_id.startswith("guest") else "Deleted user"


class HistoryEntryOut(msgspec.Struct):
    seq: int
    author: str
    user_name: str
    kind: str
    text: str
    position: int
    length: int
    created_at: datetime


class VersionOut(msgspec.Struct, omit_defaults=True):
    version: int
    seq: int
    kind: Literal["auto", "named"]
    length: int
    created_at: datetime
    author: str | None = None
    label: str | None = None

    @classmethod
    def of(cls, v: VersionRecord) -> VersionOut:
        return cls(
            version=v.version,
            seq=v.seq,
            kind=v.kind,
            length=v.length,
            created_at=v.created_at,
            author=v.author_id,
            label=v.label,
        )


class VersionTextOut(msgspec.Struct):
    version: int
    seq: int
    text: str
    label: str | None = None


class LabelBody(msgspec.Struct):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class RestoreOut(msgspec.Struct, omit_defaults=True):
    restored: int
    seq: int
    undo_version: int | None = None


#: The bound of every integer a route takes (seqs, versions): 2^53 - 1, exact in JavaScript and
#: within every database's integer type, so a larger one is a clear 400, never a 500 from SQLite.
MAX_INT = 2**53 - 1
VersionNumber = Annotated[int, Parameter(ge=1, le=MAX_INT, description="a version number")]


def _versions(services: Services) -> VersionService:
    return services.versions


@get("/{doc_id:str}/history", summary="Edits, newest first, with their authors")
async def history(
    doc_id: str,
    maybe_caller: Identity | None,
    services: Services,
    newest: Annotated[
        int | None, QueryParameter(name="from", description="newest seq to include")
    ] = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
) -> list[HistoryEntryOut]:
    if newest is not None and not 0 <= newest <= MAX_INT:
        # Checked here rather than by the parameter's ge/le: Litestar's message would name the
        # Python parameter (``newest``), not the query parameter the client sent.
        raise InvalidInputError(f"from must be between 0 and {MAX_INT}, got {newest}")
    access = await services.documents.access(maybe_caller, doc_id, "viewer")
    entries = await _versions(services).history(doc_id, newest, limit)
    entries = [e for e in entries if e.seq > access.history_floor]
    return [
        HistoryEntryOut(
            seq=e.seq,
            author=e.user_id,
            user_name=e.user_name or _nameless(e.user_id),
            kind=e.kind,
            text=e.preview,
            position=e.position,
            length=e.length,
            created_at=e.created_at,
        )
        for e in entries
    ]


class SessionOut(msgspec.Struct):
    author: str
    user_name: str
    first_seq: int
    last_seq: int
    started_at: datetime
    ended_at: datetime
    inserted: int
    deleted: int
    edits: int


class SessionsOut(msgspec.Struct):
    sessions: list[SessionOut]
    #: Pass as ``before`` for the next (older) page; null when there is none.
    next: int | None


class TextAtOut(msgspec.Struct):
    seq: int
    text: str


@get("/{doc_id:str}/sessions", summary="Editing sessions per author, newest first (paginated)")
async def sessions(
    doc_id: str,
    maybe_caller: Identity | None,
    services: Services,
    before: Annotated[
        int | None, QueryParameter(description="sessions of the edits before this seq")
    ] = None,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
) -> SessionsOut:
    if before is not None and not 1 <= before <= MAX_INT:
        raise InvalidInputError(f"before must be between 1 and {MAX_INT}, got {before}")
    access = await services.documents.access(maybe_caller, doc_id, "viewer")
    found, more = await _versions(services).sessions(doc_id, before, access.history_floor, limit)
    return SessionsOut(
        sessions=[
            SessionOut(
                author=s.author,
                user_name=s.user_name or _nameless(s.author),
                first_seq=s.first_seq,
                last_seq=s.last_seq,
                started_at=s.started_at,
                ended_at=s.ended_at,
                inserted=s.inserted,
                deleted=s.deleted,
                edits=s.edits,
            )
            for s in found
        ],
        next=more,
    )


@get("/{doc_id:str}/text", summary="The text as it was at a seq (a session's before and after)")
async def text_at(
    doc_id: str,
    maybe_caller: Identity | None,
    services: Services,
    seq: Annotated[int, QueryParameter(description="the seq whose text to return")],
) -> TextAtOut:
    if not 0 <= seq <= MAX_INT:
        raise InvalidInputError(f"seq must be between 0 and {MAX_INT}, got {seq}")
    access = await services.documents.access(maybe_caller, doc_id, "viewer")
    if seq < access.history_floor:
        # Text from before the public link was made may hold what was deleted before sharing.
        raise NotFoundError(f"the text at seq {seq} is not available through this link")
    text, at = await _versions(services).text_at(doc_id, seq)
    return TextAtOut(seq=at, text=text)


class ReplicaAuthorOut(msgspec.Struct):
    replica: str
    user_id: str
    user_name: str


@get("/{doc_id:str}/authors", summary="Whose each replica that wrote to the document is")
async def authors(
    doc_id: str, maybe_caller: Identity | None, services: Services
) -> list[ReplicaAuthorOut]:
    access = await services.documents.access(maybe_caller, doc_id, "viewer")
    return [
        ReplicaAuthorOut(
            replica=a.replica, user_id=a.user_id, user_name=a.user_name or _nameless(a.user_id)
        )
        for a in await _versions(services).authors(doc_id, access.history_floor)
    ]


@get("/{doc_id:str}/versions", summary="Restore points, newest first")
async def list_versions(
    doc_id: str, maybe_caller: Identity | None, services: Services
) -> list[VersionOut]:
    access = await services.documents.access(maybe_caller, doc_id, "viewer")
    return [
        VersionOut.of(v)
        for v in await _versions(services).list(doc_id)
        if v.seq >= access.history_floor
    ]


@get("/{doc_id:str}/versions/{version:int}", summary="A version's text")
async def get_version(
    doc_id: str, version: VersionNumber, maybe_caller: Identity | None, services: Services
) -> VersionTextOut:
    access = await services.documents.access(maybe_caller, doc_id, "viewer")
    found = await _versions(services).get(doc_id, version)
    if found.seq < access.history_floor:
        raise NotFoundError(f"no version {version} of this document")
    return VersionTextOut(
        version=found.version, seq=found.seq, text=found.text or "", label=found.label
    )


@post("/{doc_id:str}/versions", status_code=201, summary="Name the current state")
async def create_version(
    doc_id: str, data: LabelBody, caller: Identity, services: Services
) -> VersionOut:
    await services.documents.access(caller, doc_id, "editor")
    record = await _versions(services).create_named(caller, doc_id, data.label.strip())
    return VersionOut.of(record)


@post(
    "/{doc_id:str}/versions/{version:int}/restore",
    status_code=200,
    summary="Restore a version as ordinary edits (everyone connected sees it live)",
)
async def restore_version(
    doc_id: str,
    version: VersionNumber,
    caller: Identity,
    services: Services,
    request: Request[Any, Any, Any],
) -> RestoreOut:
    access = await services.documents.access(caller, doc_id, "editor")
    if access.history_floor and (await _versions(services).get(doc_id, version)).seq < (
        access.history_floor
    ):
        raise NotFoundError(f"no version {version} of this document")
    result = await _versions(services).restore(caller, doc_id, version)
    await auditing.record(
        request,
        services,
        "document.version_restored",
        caller.user_id,
        doc_id=doc_id,
        version=str(version),
    )
    return RestoreOut(restored=result.version, seq=result.seq, undo_version=result.undo_version)


_UNSAFE = re.compile(r"[^\w .()-]+", re.UNICODE)
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9 .()_-]+")


def content_disposition(title: str, extension: str) -> str:
    """An ``attachment`` header naming the file after ``title`` (RFC 6266).

    ``filename*=UTF-8''...`` carries the title itself, percent-encoded (RFC 8187), for every
    current browser; ``filename="..."`` is an ASCII fallback for older clients (accents dropped,
    anything else replaced by ``_``). A header value must be Latin-1 on the wire, so the raw
    title never goes into it: a title such as ``Отчёт 会议 ✓`` used to fail the response.
    """
    name = (_UNSAFE.sub("_", title).strip(" ._") or "document")[:100]
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = _NOT_ASCII_SAFE.sub("_", plain).strip(" ._") or "document"
    encoded = quote(f"{name}.{extension}", safe="")
    return f"attachment; filename=\"{fallback}.{extension}\"; filename*=UTF-8''{encoded}"


_MEDIA = {"txt": "text/plain", "md": "text/markdown", "html": "text/html"}


@get("/{doc_id:str}/export", summary="Download the text as .txt or .md, or rendered as .html")
async def export(
    doc_id: str,
    maybe_caller: Identity | None,
    services: Services,
    format: Literal["txt", "md", "html"] = "txt",
) -> Response[bytes]:
    access = await services.documents.access(maybe_caller, doc_id, "viewer")
    text, _ = await services.texts.current_text(doc_id)
    headers = {"Content-Disposition": content_disposition(access.doc.title, format)}
    if format == "html":
        # Rendering a large document takes a while: off the event loop.
        text = await asyncio.to_thread(render_page, access.doc.title, text)
        headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src http: https:"
        )
    return Response(
        text.encode("utf-8"),
        media_type=_MEDIA[format],  # Litestar adds "; charset=utf-8" to text types
        headers=headers,
    )


router = Router(
    path="/documents",
    route_handlers=[
        history,
        sessions,
        text_at,
        authors,
        list_versions,
        get_version,
        create_version,
        restore_version,
        export,
    ],
    tags=["versions"],
)
