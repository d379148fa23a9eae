"""Personal API tokens: long-lived credentials for scripts, checked like an access token.

A token is ``dst_`` followed by 43 random URL-safe characters; the prefix lets secret scanners
recognise a leaked one. Only its SHA-256 is stored, so the secret is shown once, at creation. A
token is named, has a scope (``read``: every request that changes something is refused with 403;
``read-write``: what its owner may do) and an optional expiry, and is revoked by its owner.

What a token cannot do, whatever its scope: create or revoke tokens, change the password, ask for
an administrator's reset link (the routes refuse ``Verified.api_token``), or open a WebSocket
(live sessions are watched for sign-outs by session id, and a token has no session: live editing
signs in with a password). A token stops working when it is revoked, expires, its account is
disabled or deleted (the rows cascade). It survives a password change or reset: revoke it on the
tokens page when it may have leaked.

``last_used_at`` is best effort: written at most once a minute per token and per process.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

from docstream.errors import InvalidInputError, NotFoundError, StorageError, UnauthorizedError
from docstream.services.identity import Verified, validate_name
from docstream.settings import Settings
from docstream.storage.base import ApiToken, DocumentStore, TokenScope, utcnow

log = logging.getLogger(__name__)
PREFIX = "dst_"
_SECRET = re.compile(r"^dst_[A-Za-z0-9_-]{43}$")
MAX_DAYS = 3650
_TOUCH_EVERY = 60.0
_INVALID = "this API token is invalid, expired or revoked"


def is_api_token(value: str) -> bool:
    """Whether a bearer credential is meant as a personal API token (by its prefix)."""
    return value.startswith(PREFIX)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokens:
    def __init__(self, store: DocumentStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._touched: dict[str, float] = {}

    async def create(
        self, user_id: str, name: str, scope: TokenScope, expires_in_days: int | None
    ) -> tuple[ApiToken, str]:
        """A new token and its secret (shown once)."""
        label = validate_name(name)
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
            raise InvalidInputError(f"expires_in_days must be between 1 and {MAX_DAYS}")
        expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        secret = PREFIX + secrets.token_urlsafe(32)
        token = await self._store.create_api_token(
            user_id, label, scope, secret_hash(secret), expires, self._settings.max_api_tokens
        )
        return token, secret

    async def list(self, user_id: str) -> list[ApiToken]:
        return await self._store.list_api_tokens(user_id)

    async def revoke(self, user_id: str, token_id: str) -> None:
        if not await self._store.delete_api_token(user_id, token_id):
            raise NotFoundError("you have no such API token")
        self._touched.pop(token_id, None)

    async def verify(self, secret: str) -> Verified:
        """The token's owner and scope; UnauthorizedError for an unknown, expired or revoked
        token and for a disabled or deleted account."""
        token = (
            await self._store.get_api_token(secret_hash(secret)) if _SECRET.match(secret) else None
        )
        if token is None:
            raise UnauthorizedError(_INVALID)
        user = await self._store.get_user(token.user_id)
        if user is None or user.pending:
            raise UnauthorizedError(_INVALID)
        if user.disabled:
            raise UnauthorizedError("this account is disabled")
        await self._touch(token.id)
        expires = (
            token.expires_at.timestamp() if token.expires_at else time.time() + 86400 * MAX_DAYS
        )
        return Verified(
            user=user, session_id="", expires_at=expires, scope=token.scope, token_id=token.id
        )

    async def _touch(self, token_id: str) -> None:
        now = time.monotonic()
        last = self._touched.get(token_id)
        if last is not None and now - last < _TOUCH_EVERY:
            return
        if len(self._touched) > 100_000:
            self._touched.clear()
        self._touched[token_id] = now
        try:
            await self._store.touch_api_token(token_id, datetime.now(UTC))
        except StorageError as exc:  # best effort: the request goes on
            log.warning("could not record the use of API token %s: %s", token_id, exc.detail)
