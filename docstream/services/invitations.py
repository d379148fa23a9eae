"""Invitations by e-mail to addresses that have no account yet.

Sharing with an address used to create a placeholder account holding the grant, and whoever
registered that address first got the document (an address is not proof of anything until it is
verified, and DocStream does not verify addresses). Now registering grants nothing: the inviter
gets a single-use, expiring link (``invitation_ttl``) to send, which DocStream also e-mails when
SMTP is configured, and the grant goes to whoever redeems the link while signed in. Only the
SHA-256 of the link's token is stored, so a copy of the database holds no usable link.

Rules: the same as sharing (editors invite viewers; the owner invites editors too), checked again
when the link is redeemed (an editor who lost the role can no longer bring people in). A user has
at most ``max_pending_invitations`` pending ones. Owners and editors see the pending invitations
in the collaborators list and may withdraw them (editors: viewer invitations).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from docstream.errors import ForbiddenError, NotFoundError
from docstream.services.documents import DocumentService
from docstream.services.identity import Identity
from docstream.services.mail import Mailer
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, Invitation, Role

log = logging.getLogger(__name__)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_INVALID = "this invitation link is invalid, expired or already used"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Invited:
    """A new invitation: the stored record, its link (shown once), and whether it is e-mailed."""

    invitation: Invitation
    url: str
    emailed: bool


class InvitationService:
    def __init__(
        self,
        store: DocumentStore,
        documents: DocumentService,
        settings: Settings,
        mailer: Mailer,
    ) -> None:
        self._store = store
        self._documents = documents
        self._settings = settings
        self._mailer = mailer
        self._sending: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> InvitationService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sending:  # let the e-mails in flight go out
            await asyncio.wait(set(self._sending), timeout=self._settings.smtp_timeout)

    async def invite(
        self,
        caller: Identity,
        doc_id: str,
        email: str,
        role: Literal["editor", "viewer"],
        base_url: str,
    ) -> Invited:
        """Create (or renew) the invitation of ``email``; the caller's rights are checked by the
        DocumentService before it calls this."""
        token = secrets.token_urlsafe(32)
        expires = datetime.fromtimestamp(time.time() + self._settings.invitation_ttl, UTC)
        invitation = await self._store.create_invitation(
            doc_id,
            email,
            role,
            caller.user_id,
            token_hash(token),
            expires,
            self._settings.max_pending_invitations,
        )
        base = (self._settings.public_url or base_url).rstrip("/")
        url = f"{base}/invite/{token}"
        emailed = self._mailer.enabled
        if emailed:
            task = asyncio.get_running_loop().create_task(self._mail(invitation, url))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return Invited(invitation=invitation, url=url, emailed=emailed)

    async def _mail(self, invitation: Invitation, url: str) -> None:
        who = invitation.inviter_name or "Someone"
        can = "edit" if invitation.role == "editor" else "view"
        days = max(1, round(self._settings.invitation_ttl / 86400))
        body = (
            f"{who} invited you to {can} the document “{invitation.doc_title}” on DocStream.\n\n"
            f"Open this link to accept (sign in or create an account first):\n\n{url}\n\n"
            f"The link works once and expires in {days} day{'s' if days > 1 else ''}. "
            "If you did not expect this invitation, ignore this message.\n"
        )
        msg = self._mailer.message(
            invitation.email, f"{who} shared “{invitation.doc_title}” with you", body, who
        )
        try:
            await self._mailer.send(msg)
        except Exception as exc:  # the link is shown to the inviter all the same
            log.warning("could not e-mail the invitation %s: %r", invitation.id, exc)
        else:
            log.info("e-mailed the invitation %s", invitation.id)

    async def pending(self, caller: Identity, doc_id: str) -> list[Invitation]:
        """Pending invitations, for the owner and editors (viewers see none)."""
        access = await self._documents.access(caller, doc_id, "viewer")
        if access.own_role not in ("owner", "editor"):
            return []
        return await self._store.list_invitations(doc_id)

    async def withdraw(self, caller: Identity, doc_id: str, invitation_id: str) -> None:
        access = await self._documents.access(caller, doc_id, "viewer")
        if access.own_role not in ("owner", "editor"):
            raise ForbiddenError("only the owner and editors can withdraw invitations")
        found = next(
            (i for i in await self._store.list_invitations(doc_id) if i.id == invitation_id), None
        )
        if found is None:
            raise NotFoundError("no such pending invitation")
        if access.own_role != "owner" and found.role == "editor":
            raise ForbiddenError("only the owner can withdraw an invitation to edit")
        if not await self._store.delete_invitation(doc_id, invitation_id):
            raise NotFoundError("no such pending invitation")

    async def preview(self, token: str) -> Invitation:
        """What a link invites to (document title, role, inviter), without using it up."""
        found = await self._store.get_invitation(token_hash(token)) if _TOKEN.match(token) else None
        if found is None:
            raise NotFoundError(_INVALID)
        return found

    async def accept(self, caller: Identity, token: str) -> tuple[str, Role]:
        """Redeem a link as the signed-in caller; return the document id and the caller's role."""
        if caller.guest:
            raise ForbiddenError("sign in to accept an invitation")
        redeemed = (
            await self._store.redeem_invitation(token_hash(token), caller.user_id)
            if _TOKEN.match(token)
            else None
        )
        if redeemed is None:
            raise NotFoundError(_INVALID)
        invitation, role = redeemed
        if role is None:
            raise ForbiddenError(
                "this invitation is no longer valid: whoever sent it can no longer grant access"
            )
        await self._documents.notify_access_changed(invitation.doc_id, caller.user_id)
        return invitation.doc_id, role
