"""The audit log over REST: a document's activity for its owner, everything for administrators.

``GET /documents/{id}/activity``: the entries of one document, for its owner only (others get
the 404 or 403 every owner-only document route gives). ``GET /admin/audit`` and
``GET /admin/audit.csv``: every entry, filtered, for enabled administrators only; the CSV is
streamed page by page and every cell a spreadsheet could run as a formula is defused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get
from litestar.params import Parameter
from litestar.response import Stream

from docstream.bootstrap import Services
from docstream.errors import ForbiddenError, InvalidInputError
from docstream.services.identity import Identity
from docstream.storage.base import AuditEntry, AuditFilter
from docstream.web import static
from docstream.web.deps import Admin

#: Entries per page (the default and the most one request may ask for).
PAGE = 50
MAX_PAGE = 200
#: Entries per database read while a CSV streams.
CSV_BATCH = 500

Before = Annotated[
    int | None, Parameter(ge=1, le=2**53 - 1, description="only entries older than this id")
]
Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description="the most entries")]
Text = Annotated[str | None, Parameter(max_length=320)]


class AuditEntryOut(msgspec.Struct):
    """One entry: who (id, address and name as they were), from where, on what, and details."""

    id: int
    at: datetime
    action: str
    actor_id: str | None
    actor_email: str
    actor_name: str
    ip: str | None
    doc_id: str | None
    doc_title: str
    subject_id: str | None
    subject_name: str
    detail: dict[str, str]

    @classmethod
    def of(cls, entry: AuditEntry, *, with_email: bool = True) -> AuditEntryOut:
        return cls(
            id=entry.id,
            at=entry.at,
            action=entry.action,
            actor_id=entry.actor_id,
            actor_email=entry.actor_email if with_email else "",
            actor_name=entry.actor_name,
            ip=entry.ip,
            doc_id=entry.doc_id,
            doc_title=entry.doc_title,
            subject_id=entry.subject_id,
            subject_name=entry.subject_name,
            detail=entry.detail,
        )


class AuditPageOut(msgspec.Struct):
    """A page, newest first; ``next_before`` (null: no more) asks for the next one."""

    entries: list[AuditEntryOut]
    next_before: int | None


def _page(entries: list[AuditEntry], limit: int, *, with_email: bool = True) -> AuditPageOut:
    more = len(entries) > limit
    shown = entries[:limit]
    return AuditPageOut(
        entries=[AuditEntryOut.of(e, with_email=with_email) for e in shown],
        next_before=shown[-1].id if more and shown else None,
    )


@get("/{doc_id:str}/activity", summary="What happened to a document: who, what, when, from where")
async def activity(
    doc_id: str,
    caller: Identity,
    services: Services,
    before: Before = None,
    limit: Limit = PAGE,
) -> AuditPageOut:
    access = await services.documents.access(caller, doc_id, "viewer")
    if access.own_role != "owner":
        raise ForbiddenError("only the owner can see a document's activity")
    entries = await services.store.list_audit(AuditFilter(doc_id=doc_id), before, limit + 1)
    # The owner sees names, not the addresses behind them (as on the collaborators list).
    return _page(entries, limit, with_email=False)


def _filter(
    actor: str | None,
    action: str | None,
    doc: str | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditFilter:
    for when in (since, until):
        if when is not None and when.tzinfo is None:
            raise InvalidInputError("since and until need a time zone (e.g. 2026-01-31T00:00:00Z)")
    if since is not None and until is not None and until <= since:
        raise InvalidInputError("until must be after since")
    return AuditFilter(
        actor=(actor or "").strip() or None,
        action=(action or "").strip() or None,
        doc_id=(doc or "").strip() or None,
        since=since,
        until=until,
    )


async def _page_for_browsers(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """``/admin/audit`` is also the web UI's page: a browser navigating there (it asks for
    HTML; the UI's own calls ask for JSON) gets the app, which then calls this route."""
    accept = request.headers.get("accept", "").lower()
    return static.ui_page() if "text/html" in accept else None


@get(
    "/audit",
    summary="The audit log (administrators): filtered, newest first, by pages",
    before_request=_page_for_browsers,
)
async def audit_log(
    admin: Admin,
    services: Services,
    actor: Text = None,
    action: Text = None,
    doc: Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: Before = None,
    limit: Limit = PAGE,
) -> AuditPageOut:
    where = _filter(actor, action, doc, since, until)
    return _page(await services.store.list_audit(where, before, limit + 1), limit)


CSV_HEADER = [
    "id",
    "at",
    "action",
    "actor_id",
    "actor_email",
    "actor_name",
    "ip",
    "doc_id",
    "doc_title",
    "subject_id",
    "subject_name",
    "detail",
]
#: What a spreadsheet reads as the start of a formula (OWASP's list, tab and CR included).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell as text, with a ``'`` before anything a spreadsheet would evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_row(cells: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([safe_cell(c) for c in cells])
    return out.getvalue()


def _cells(e: AuditEntry) -> list[object]:
    detail = "; ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))
    return [
        e.id,
        e.at.isoformat(),
        e.action,
        e.actor_id,
        e.actor_email,
        e.actor_name,
        e.ip,
        e.doc_id,
        e.doc_title,
        e.subject_id,
        e.subject_name,
        detail,
    ]


@get("/audit.csv", summary="The audit log as CSV (administrators; the same filters)")
async def audit_csv(
    admin: Admin,
    services: Services,
    actor: Text = None,
    action: Text = None,
    doc: Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Stream:
    where = _filter(actor, action, doc, since, until)
    store = services.store

    async def rows() -> AsyncIterator[str]:
        yield csv_row(list(CSV_HEADER))
        before: int | None = None
        while True:
            batch = await store.list_audit(where, before, CSV_BATCH)
            for entry in batch:
                yield csv_row(_cells(entry))
            if len(batch) < CSV_BATCH:
                return
            before = batch[-1].id

    return Stream(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="docstream-audit.csv"',
            "Cache-Control": "no-store",
        },
    )


router = Router(path="/documents", route_handlers=[activity], tags=["audit"])
admin_router = Router(path="/admin", route_handlers=[audit_log, audit_csv], tags=["audit"])
