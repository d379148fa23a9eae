"""In-app notifications: who is told what, stored, and pushed live.

Four kinds, each following from an extension event (so nothing that causes one waits for it or
knows about it):

- ``share``: ``ActionTaken("document.shared")`` (a new grant; a changed role is not news);
- ``comment_mention`` and ``reply``: ``CommentPosted``: the people @mentioned in the comment, and
  the other people who wrote in the thread before (a person both mentioned and a participant gets
  the mention only);
- ``mention``: ``MentionPicked``, emitted by ``POST /documents/{id}/mentions/select``.

**Why the pick triggers text mentions.** The editor's @mention popup inserts ``@Name `` into the
text as an ordinary local edit and, in the same gesture, tells the server with ``.../mentions/
select`` (the name, and now where). That call is the one moment the server learns *intent*: the
text itself only holds ``@Name``, which a person can also type by hand, paste, or which may be
someone else's name in prose; scanning every committed change for names would be costly and
guess. The client does not know user ids (suggestions carry names only), so the name is resolved
here against the document's current collaborators: exactly one must carry it (case-insensitive);
with two people of the same name nobody is notified rather than the wrong one. Only a caller who
can edit (the only ones whose pick reaches the text) triggers it, and picking the same person again
while they have not read the last mention by the same actor on that document adds nothing.

**Rules for every kind.** Never the actor; only people who can open the document as members (the
store refuses others, and hides a notification once access goes). Each stored notification is
pushed to the user's ``GET /events`` streams on this node as ``event: notification``, and told to
the other nodes as a ``notifications`` peer message so their streams get it too. Marking read is
pushed the same way (other tabs' counts follow).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

import msgspec

from docstream.collab.extensions import (
    ActionTaken,
    CommentPosted,
    Extension,
    MentionPicked,
    PeerMessage,
)
from docstream.services.list_events import ListEvents, Pushed
from docstream.services.notifications.messages import (
    MAX_EXCERPT,
    NotificationEvent,
    NotificationOut,
    NotificationPeer,
)
from docstream.storage.base import DocumentStore, NewNotification, Notification, NotificationKind
from docstream.typeahead.trie import fold

log = logging.getLogger(__name__)

#: The topic of this service's peer messages.
PEER_TOPIC = "notifications"
#: The SSE event name on ``GET /events``.
SSE_EVENT = "notification"
#: How many recent notifications are looked at to skip a repeated mention.
RECENT = 20

Publish = Callable[[str, bytes], Awaitable[None]]
_peer_decoder = msgspec.json.Decoder(NotificationPeer)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split()).replace("\x00", "\ufffd")
    return flat if len(flat) <= MAX_EXCERPT else flat[: MAX_EXCERPT - 1] + "…"


class NotificationService(Extension):
    """The extension hooks and what the routes call (list, mark read)."""

    name = "notifications"

    def __init__(
        self, store: DocumentStore, streams: ListEvents, *, publish: Publish | None = None
    ) -> None:
        self._store = store
        self._streams = streams
        self._publish = publish
        #: Notifications that could not be stored (for the logs and the tests).
        self.failures = 0

    # --- what the routes call --------------------------------------------------------------------

    async def page(
        self, user_id: str, before: int | None, limit: int
    ) -> tuple[list[Notification], int]:
        """A page of the user's notifications (newest first) and their unread count."""
        found = await self._store.list_notifications(user_id, before, limit)
        return found, await self._store.count_unread_notifications(user_id)

    async def mark_read(self, user_id: str, ids: Sequence[int] | None) -> tuple[int, int]:
        """Mark some (None: all) of the user's notifications read: ``(changed, unread)``."""
        changed = await self._store.mark_notifications_read(user_id, ids)
        unread = await self._store.count_unread_notifications(user_id)
        if changed:
            event = NotificationEvent("read", unread, ids=list(ids) if ids is not None else None)
            await self._deliver(user_id, event)
        return changed, unread

    # --- extension hooks ----------------------------------------------------------------------

    async def action_taken(self, event: ActionTaken) -> None:
        if event.action != "document.shared" or not (event.doc_id and event.subject_id):
            return
        role = dict(event.detail).get("role", "")
        await self.notify(event.subject_id, "share", event.doc_id, event.actor_id, {"role": role})

    async def comment_posted(self, event: CommentPosted) -> None:
        detail = {
            "comment_id": event.comment_id,
            "thread_id": event.thread_id,
            "excerpt": _excerpt(event.body),
        }
        mentioned = list(dict.fromkeys(event.mentioned))
        for user_id in mentioned:
            await self.notify(user_id, "comment_mention", event.doc_id, event.author_id, detail)
        for user_id in dict.fromkeys(event.participants):
            if user_id not in mentioned:
                await self.notify(user_id, "reply", event.doc_id, event.author_id, detail)

    async def mention_picked(self, event: MentionPicked) -> None:
        key = fold(event.name.strip().removeprefix("@"))
        people = [
            c
            for c in await self._store.list_collaborators(event.doc_id)
            if not c.pending and fold(c.name) == key
        ]
        if len(people) != 1:
            if len(people) > 1:
                log.info("mention of a name two collaborators share: nobody notified")
            return
        target = people[0].user_id
        if target == event.actor_id:
            return
        for n in await self._store.list_notifications(target, limit=RECENT):
            if (n.kind, n.doc_id, n.actor_id, n.read_at) == (
                "mention",
                event.doc_id,
                event.actor_id,
                None,
            ):
                return  # still unread: one is enough
        detail = {"position": str(event.position)} if event.position is not None else {}
        await self.notify(target, "mention", event.doc_id, event.actor_id, detail)

    async def peer_message(self, event: PeerMessage) -> None:
        if event.topic != PEER_TOPIC:
            return
        try:
            told = _peer_decoder.decode(event.body)
        except msgspec.DecodeError:
            log.warning("notifications: ignored an unreadable peer message")
            return
        self._push(told.user_id, told.event)

    # --- storing and delivering -------------------------------------------------------------------

    async def notify(
        self,
        user_id: str,
        kind: NotificationKind,
        doc_id: str,
        actor_id: str | None,
        detail: dict[str, str],
    ) -> Notification | None:
        """Store one notification (unless ``user_id`` acted, or cannot open the document) and push
        it live; never raises (a notification is never the reason an action fails)."""
        if user_id == actor_id:
            return None
        try:
            made = await self._store.add_notification(
                NewNotification(user_id, kind, doc_id, actor_id, detail)
            )
            if made is None:
                return None
            unread = await self._store.count_unread_notifications(user_id)
        except Exception:
            self.failures += 1
            log.exception("notification lost: %s for %s on %s", kind, user_id, doc_id)
            return None
        await self._deliver(user_id, NotificationEvent("new", unread, NotificationOut.of(made)))
        return made

    async def _deliver(self, user_id: str, event: NotificationEvent) -> None:
        self._push(user_id, event)
        if self._publish is not None:
            await self._publish(PEER_TOPIC, msgspec.json.encode(NotificationPeer(user_id, event)))

    def _push(self, user_id: str, event: NotificationEvent) -> None:
        if self._streams.has_streams(user_id):
            data = msgspec.json.encode(event).decode()
            self._streams.push_to_user(user_id, Pushed(SSE_EVENT, data))
