"""``/notifications``: your notifications, newest first, marking them read, and the digest setting.

Every route answers about the caller only: the user comes from the session (or API token), never
from the request, so nobody can read or mark another person's notifications (ids of someone
else's are ignored, not refused: they reveal nothing). New ones arrive live on ``GET /events``
(``event: notification``). See :mod:`docstream.services.notifications`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, get, post, put
from litestar.params import Parameter

from docstream.bootstrap import Services
from docstream.errors import InvalidInputError
from docstream.services.identity import Verified
from docstream.services.notifications.messages import NotificationOut
from docstream.storage.base import DigestFrequency

MAX_LIMIT = 100
#: The most ids one ``POST /notifications/read`` may name.
MAX_IDS = 500
#: Ids are positive 64-bit integers (PostgreSQL ``bigint``).
MAX_ID = 2**63 - 1

NotificationId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


class NotificationsPage(msgspec.Struct, frozen=True):
    """A page, the caller's unread count, and ``next_before`` (pass it as ``before`` for the next
    page; None: this was the last)."""

    notifications: list[NotificationOut]
    unread: int
    next_before: int | None


class ReadBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Either ``ids`` (some of your notifications) or ``all: true``."""

    ids: Annotated[list[NotificationId], msgspec.Meta(max_length=MAX_IDS)] | None = None
    all: bool = False


class ReadOut(msgspec.Struct, frozen=True):
    marked: int
    unread: int


class DigestBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    digest: DigestFrequency


class SettingsOut(msgspec.Struct, frozen=True):
    """``digest``: your e-mail digest; ``email``: whether this server can send mail at all."""

    digest: DigestFrequency
    email: bool


@get("/", summary="Your notifications, newest first, with the unread count")
async def list_notifications(
    verified: Verified,
    services: Services,
    before: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 30,
) -> NotificationsPage:
    found, unread = await services.notifications.page(verified.user.id, before, limit)
    next_before = found[-1].id if len(found) == limit else None
    return NotificationsPage([NotificationOut.of(n) for n in found], unread, next_before)


@post("/read", status_code=200, summary="Mark some (ids) or all of your notifications read")
async def mark_read(data: ReadBody, verified: Verified, services: Services) -> ReadOut:
    if data.all == (data.ids is not None):
        raise InvalidInputError("send either ids or all: true")
    marked, unread = await services.notifications.mark_read(
        verified.user.id, None if data.all else data.ids
    )
    return ReadOut(marked, unread)


@get("/settings", summary="Your notification settings (the e-mail digest)")
async def get_settings(verified: Verified, services: Services) -> SettingsOut:
    digest = await services.store.get_digest(verified.user.id)
    return SettingsOut(digest, services.digests.enabled)


@put("/settings", summary="Choose the e-mail digest: off, daily or weekly")
async def put_settings(data: DigestBody, verified: Verified, services: Services) -> SettingsOut:
    await services.store.set_digest(verified.user.id, data.digest)
    return SettingsOut(data.digest, services.digests.enabled)


router = Router(
    path="/notifications",
    route_handlers=[list_notifications, mark_read, get_settings, put_settings],
    tags=["notifications"],
)
