"""The SQL of notifications shared by the SQLite and PostgreSQL backends.

Both dialects understand the same SQL here; only the placeholder (``?`` or ``%s``) differs. The
one rule every query repeats: a notification is visible only while its user can open its
document as a member (the owner, or a grant of any role) and the document is not in the trash,
so revoking access hides the document's notifications at once, without deleting them.
"""

from __future__ import annotations

from typing import Any

#: Columns of a listed notification, in :func:`row_parts` order (``n``: notifications,
#: ``d``: documents, ``u``: the actor).
COLUMNS = (
    "n.id, n.user_id, n.kind, n.doc_id, d.title, n.actor_id, COALESCE(u.name, ''), n.detail, "
    "n.created_at, n.read_at, n.mailed_at"
)

#: The rows of notifications a user may see (joined with the document and the actor).
FROM_VISIBLE = (
    " FROM notifications n JOIN documents d ON d.id = n.doc_id AND d.deleted_at IS NULL"
    " LEFT JOIN users u ON u.id = n.actor_id"
    " WHERE (d.owner_id = n.user_id OR EXISTS (SELECT 1 FROM document_permissions p"
    " WHERE p.doc_id = n.doc_id AND p.user_id = n.user_id))"
)


def member_check(mark: str) -> str:
    """``EXISTS`` true when the user can open the document; params ``(doc, user, user)``."""
    return (
        f"EXISTS (SELECT 1 FROM documents d WHERE d.id = {mark} AND d.deleted_at IS NULL AND "
        f"(d.owner_id = {mark} OR EXISTS (SELECT 1 FROM document_permissions p "
        f"WHERE p.doc_id = d.id AND p.user_id = {mark})))"
    )


def list_sql(
    mark: str, user_id: str, before_id: int | None, limit: int, unread_unmailed: bool
) -> tuple[str, list[Any]]:
    """``SELECT`` of one user's visible notifications, newest first."""
    sql = f"SELECT {COLUMNS}{FROM_VISIBLE} AND n.user_id = {mark}"
    params: list[Any] = [user_id]
    if before_id is not None:
        sql += f" AND n.id < {mark}"
        params.append(before_id)
    if unread_unmailed:
        sql += " AND n.read_at IS NULL AND n.mailed_at IS NULL"
    sql += f" ORDER BY n.id DESC LIMIT {mark}"
    params.append(limit)
    return sql, params


def unread_sql(mark: str) -> str:
    return f"SELECT count(*){FROM_VISIBLE} AND n.user_id = {mark} AND n.read_at IS NULL"


def due_sql(mark: str) -> str:
    """Users whose digest is due: params ``(daily cutoff, weekly cutoff, limit)``."""
    return (
        "SELECT user_id FROM notification_settings WHERE digest <> 'off' AND ("
        "last_digest_at IS NULL OR (digest = 'daily' AND last_digest_at <= "
        f"{mark}) OR (digest = 'weekly' AND last_digest_at <= {mark}))"
        f" ORDER BY user_id LIMIT {mark}"
    )


def claim_sql(mark: str) -> str:
    """Stamp one user's digest: params ``(now, user, daily cutoff, weekly cutoff)``."""
    return (
        f"UPDATE notification_settings SET last_digest_at = {mark} WHERE user_id = {mark} AND "
        "digest <> 'off' AND (last_digest_at IS NULL OR (digest = 'daily' AND last_digest_at <= "
        f"{mark}) OR (digest = 'weekly' AND last_digest_at <= {mark}))"
    )
