"""The ``WHERE`` clause of an audit log query, shared by the SQL backends.

Both dialects understand the same SQL here; only the placeholder (``?`` or ``%s``) and how a time
is passed (SQLite compares ISO strings) differ. An action prefix is compared with ``substr`` rather
than ``LIKE``, so ``_`` and ``%`` in it mean themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from docstream.storage.records import AuditFilter

AUDIT_COLUMNS = (
    "id, at, action, actor_id, actor_email, actor_name, ip, doc_id, doc_title, subject_id, "
    "subject_name, detail"
)


def audit_where(
    where: AuditFilter, before_id: int | None, mark: str, when: Callable[[datetime], Any]
) -> tuple[str, list[Any]]:
    """``(" WHERE ...", params)`` (an empty clause when nothing filters)."""
    clauses: list[str] = []
    params: list[Any] = []
    if where.actor:
        clauses.append(f"(actor_id = {mark} OR actor_email = {mark})")
        params += [where.actor, where.actor.strip().lower()]
    if where.action:
        clauses.append(f"substr(action, 1, length({mark})) = {mark}")
        params += [where.action, where.action]
    if where.doc_id:
        clauses.append(f"doc_id = {mark}")
        params.append(where.doc_id)
    if where.since is not None:
        clauses.append(f"at >= {mark}")
        params.append(when(where.since))
    if where.until is not None:
        clauses.append(f"at < {mark}")
        params.append(when(where.until))
    if before_id is not None:
        clauses.append(f"id < {mark}")
        params.append(before_id)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
