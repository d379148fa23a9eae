"""The typed messages of notifications: the REST bodies, the ``event: notification`` payload of
``GET /events`` and the ``notifications`` peer message (docs/protocol.md).

Kept apart from the service so the routes, the digest and the tests share one definition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from docstream.storage.base import Notification, NotificationKind

#: The longest excerpt of a comment kept in a notification (the whole comment is in the document).
MAX_EXCERPT = 200


class NotificationOut(msgspec.Struct, frozen=True):
    """One notification as the client sees it (``detail``: ``role`` for a share, ``position``
    (a character offset) for a mention in the text, ``comment_id``, ``thread_id`` and
    ``excerpt`` for a comment)."""

    id: int
    kind: NotificationKind
    doc_id: str
    doc_title: str
    actor_id: str | None
    actor_name: str
    detail: dict[str, str]
    created_at: datetime
    read: bool

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            id=n.id,
            kind=n.kind,
            doc_id=n.doc_id,
            doc_title=n.doc_title,
            actor_id=n.actor_id,
            actor_name=n.actor_name,
            detail=n.detail,
            created_at=n.created_at,
            read=n.read_at is not None,
        )


class NotificationEvent(msgspec.Struct, frozen=True):
    """The data of one ``event: notification`` on ``GET /events``: a new notification, or some
    (``ids``; None: all) marked read elsewhere; ``unread`` is the user's count after it."""

    kind: Literal["new", "read"]
    unread: int
    notification: NotificationOut | None = None
    ids: list[int] | None = None


class NotificationPeer(msgspec.Struct, frozen=True):
    """Told to the other nodes, whose streams of ``user_id`` get ``event``."""

    user_id: str
    event: NotificationEvent


def describe(kind: str, actor: str, title: str) -> str:
    """One line saying what happened, for the e-mail digest (the web UI has its own)."""
    who = actor or "Someone"
    where = f"“{title}”" if title else "a document"
    match kind:
        case "mention":
            return f"{who} mentioned you in {where}"
        case "comment_mention":
            return f"{who} mentioned you in a comment on {where}"
        case "reply":
            return f"{who} replied in a thread on {where}"
        case "share":
            return f"{who} shared {where} with you"
    return f"{who}: {where}"
