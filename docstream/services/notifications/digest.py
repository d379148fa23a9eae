"""E-mail digests: one mail per user with the unread notifications not mailed yet.

A user chooses ``daily`` or ``weekly`` (``off`` by default) in the account dialog. Every
``notification_digest_interval`` seconds each node asks the store whose digest is due, *claims*
each user (an atomic stamp of ``last_digest_at`` only the first node wins, so a cluster sends one
mail, not one per node), lists that user's unread, unmailed notifications (the store already hides
those of documents they can no longer open), sends one plain-text mail through the configured
SMTP server and marks them mailed. A user with nothing new gets no mail (the period still starts
over). A failed delivery is logged; its notifications stay unmailed and go out with the next one.

Without ``smtp_host`` the job does not run and the setting is shown as unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from email.message import EmailMessage

from docstream.services.mail import Mailer
from docstream.services.notifications.messages import describe
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, Notification, utcnow

log = logging.getLogger(__name__)
#: The most notifications listed in one mail (older ones wait for the next).
PER_MAIL = 50


class DigestMailer:
    """The periodic task (an async context manager) and one round of it (:meth:`run_once`)."""

    def __init__(self, store: DocumentStore, settings: Settings, mailer: Mailer) -> None:
        self._store = store
        self._settings = settings
        self._mailer = mailer
        self._task: asyncio.Task[None] | None = None
        #: Digests that could not be delivered (for the logs and the tests).
        self.failures = 0

    @property
    def enabled(self) -> bool:
        return self._mailer.enabled

    async def run_once(self, now: datetime | None = None) -> int:
        """Send the digests due at ``now``; returns how many mails went out."""
        if not self.enabled:
            return 0
        now = now or utcnow()
        sent = 0
        for user_id in await self._store.digests_due(now):
            if not await self._store.claim_digest(user_id, now):
                continue  # another node is on it, or it is no longer due
            pending = await self._store.list_notifications(
                user_id, limit=PER_MAIL, unread_unmailed=True
            )
            user = await self._store.get_user(user_id)
            if not pending or user is None or user.disabled or user.pending:
                continue
            try:
                await self._mailer.send(self._message(user.email, pending))
            except Exception:
                self.failures += 1
                log.exception("notification digest to a user failed; retried with the next one")
                continue
            await self._store.mark_notifications_mailed(user_id, [n.id for n in pending])
            sent += 1
        return sent

    def _message(self, to: str, pending: list[Notification]) -> EmailMessage:
        base = (self._settings.public_url or "").rstrip("/")
        count = len(pending)
        lines = [
            f"You have {count} unread notification{'s' if count != 1 else ''} on DocStream:",
            "",
        ]
        for n in pending:
            lines.append(f"- {describe(n.kind, n.actor_name, n.doc_title)}")
            if excerpt := n.detail.get("excerpt"):
                lines.append(f"  “{excerpt}”")
            lines.append(f"  {base}/d/{n.doc_id}")
        lines += [
            "",
            "You get this mail because you chose e-mail digests. To stop them, open Account in",
            f"DocStream ({base}/) and set the digest to Off.",
        ]
        subject = f"DocStream: {count} unread notification{'s' if count != 1 else ''}"
        return self._mailer.message(to, subject, "\n".join(lines), sender_name="DocStream")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._settings.notification_digest_interval)
            try:
                await self.run_once()
            except Exception:  # the task must outlive any one failure
                log.exception("notification digests failed; will retry")

    async def __aenter__(self) -> DigestMailer:
        if self.enabled:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="digests")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
