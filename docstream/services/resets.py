"""Password reset by one-time link: e-mailed on request ("Forgot password?") or issued by an
administrator (REST or ``docstream admin reset-password``).

A link carries a random token; only its SHA-256 is stored (a copy of the database holds no usable
link), like invitations. It works once and expires (``password_reset_ttl`` for e-mailed links,
``admin_reset_ttl`` for an administrator's). Using it sets the new password, deletes every other
outstanding link of the user (one transaction in the store) and signs out every session of the
user, then signs the caller in. Personal API tokens survive a reset: they are revoked on the
tokens page, one by one.

A request by e-mail must not tell whether the address has an account: the route answers at once
and the same for every address, and the look-up, the link and the mail all happen in a
background task, so neither the reply nor its timing depends on the address. Only registered,
enabled accounts receive a link; only they are recorded in the audit log.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from docstream.collab.extensions import ActionTaken, Extensions
from docstream.errors import InvalidInputError, NotFoundError
from docstream.services.auth import AuthService
from docstream.services.identity import TokenPair, normalize_email
from docstream.services.mail import Mailer
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, User

log = logging.getLogger(__name__)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
#: The one error of a link that cannot be used: unknown, used, expired, malformed.
INVALID_LINK = "this password reset link is invalid, expired or already used; ask for a new one"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PasswordResets:
    """Issues and redeems reset links; e-mails them in the background (``async with`` waits for
    the mails in flight on the way out)."""

    def __init__(
        self,
        store: DocumentStore,
        auth: AuthService,
        settings: Settings,
        mailer: Mailer,
        extensions: Extensions,
    ) -> None:
        self._store = store
        self._auth = auth
        self._settings = settings
        self._mailer = mailer
        self._extensions = extensions
        self._working: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> PasswordResets:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._working:
            await asyncio.wait(set(self._working), timeout=self._settings.smtp_timeout)

    @property
    def emails(self) -> bool:
        """Whether "Forgot password?" sends e-mails (SMTP configured)."""
        return self._mailer.enabled

    def link_base(self, base_url: str | None) -> str:
        """Where links point: ``public_url`` when set, else the request's origin (else the
        address the server listens on, for the command line)."""
        s = self._settings
        return (s.public_url or base_url or f"http://{s.host}:{s.port}").rstrip("/")

    async def issue_link(
        self, user_id: str, *, base_url: str | None = None, ttl: int | None = None
    ) -> tuple[str, datetime]:
        """A new one-time link for a registered user (NotFoundError otherwise): its URL and
        when it expires. ``ttl`` defaults to ``admin_reset_ttl``."""
        token = secrets.token_urlsafe(32)
        seconds = self._settings.admin_reset_ttl if ttl is None else ttl
        expires = datetime.fromtimestamp(time.time() + seconds, UTC)
        await self._store.create_password_reset(user_id, token_hash(token), expires)
        return f"{self.link_base(base_url)}/reset/{token}", expires

    async def issue_link_for_email(
        self, email: str, *, base_url: str | None = None
    ) -> tuple[User, str, datetime]:
        """An administrator's link for an address (the command line): NotFoundError unless a
        registered account has it."""
        user = await self._store.get_user_by_email(normalize_email(email))
        if user is None or user.pending:
            raise NotFoundError(f"no account has the address {email.strip()}")
        url, expires = await self.issue_link(user.id, base_url=base_url)
        return user, url, expires

    def request(self, email: str, *, base_url: str | None, ip: str | None) -> None:
        """ "Forgot password?": validate the address's form only, then look it up and mail a link
        in the background (nothing is sent without SMTP). Returns before any look-up."""
        address = normalize_email(email)
        if not self._mailer.enabled:
            return
        task = asyncio.get_running_loop().create_task(self._send_link(address, base_url, ip))
        self._working.add(task)
        task.add_done_callback(self._working.discard)

    async def _send_link(self, email: str, base_url: str | None, ip: str | None) -> None:
        try:
            user = await self._store.get_user_by_email(email)
            if user is None or user.pending or user.disabled:
                return
            url, _ = await self.issue_link(
                user.id, base_url=base_url, ttl=self._settings.password_reset_ttl
            )
            await self._extensions.emit(
                ActionTaken(
                    action="auth.password_reset_requested",
                    actor_id=None,
                    ip=ip,
                    subject_id=user.id,
                )
            )
            minutes = max(1, round(self._settings.password_reset_ttl / 60))
            body = (
                "Someone (hopefully you) asked to reset the password of your DocStream account "
                f"{user.email}.\n\nOpen this link to choose a new password:\n\n{url}\n\n"
                f"The link works once and expires in {minutes} minutes. Setting a new password "
                "signs you out everywhere.\nIf you did not ask for this, ignore this message: "
                "your password stays as it is.\n"
            )
            await self._mailer.send(
                self._mailer.message(user.email, "Reset your DocStream password", body)
            )
        except Exception as exc:  # nobody is waiting for the answer: log it
            log.warning("could not e-mail a password reset link: %r", exc)
        else:
            log.info("e-mailed a password reset link to user %s", user.id)

    async def reset(self, token: str, new_password: str) -> tuple[User, TokenPair | None]:
        """Use a link: set the password (InvalidInputError for a weak one, before the link is
        used), end every session of the user and start a new one for the caller (None when the
        account is disabled: the password is set, but it cannot sign in)."""
        if not _TOKEN.match(token):
            raise InvalidInputError(INVALID_LINK)
        password_hash = await self._auth.new_password_hash(new_password)
        user = await self._store.redeem_password_reset(token_hash(token), password_hash)
        if user is None:
            raise InvalidInputError(INVALID_LINK)
        await self._auth.logout_all(user.id)
        if user.disabled:
            return user, None
        return user, await self._auth.start_session(user.id)
