"""Password reset links and personal API tokens in memory (hashes only, never the secrets)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from msgspec.structs import replace

from docstream.errors import NotFoundError, QuotaExceededError
from docstream.storage.base import ApiToken, TokenScope, User, utcnow
from docstream.storage.memory.state import MemoryState


@dataclass(slots=True)
class _ResetRow:
    user_id: str
    expires_at: datetime


class MemoryRecovery(MemoryState):
    """Password resets and API tokens (tables kept beside the shared ones of ``MemoryState``)."""

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self._resets: dict[str, _ResetRow] = {}  # token hash -> reset
        self._api_tokens: dict[str, ApiToken] = {}  # id -> token
        self._api_token_by_hash: dict[str, str] = {}  # token hash -> id

    # --- password resets -------------------------------------------------------------------------

    async def create_password_reset(
        self, user_id: str, token_hash: str, expires_at: datetime
    ) -> None:
        await self._enter()
        user = self._users.get(user_id)
        if user is None or user.pending:
            raise NotFoundError("no such user")
        now = utcnow()
        self._resets = {h: r for h, r in self._resets.items() if r.expires_at > now}
        self._resets[token_hash] = _ResetRow(user_id, expires_at)

    async def redeem_password_reset(self, token_hash: str, password_hash: str) -> User | None:
        await self._enter()
        reset = self._resets.get(token_hash)
        if reset is None or reset.expires_at <= utcnow():
            return None
        self._resets = {h: r for h, r in self._resets.items() if r.user_id != reset.user_id}
        user = self._users.get(reset.user_id)
        if user is None:
            return None
        user = self._users[user.id] = replace(user, password_hash=password_hash)
        return user

    # --- API tokens ------------------------------------------------------------------------------

    def _live_token(self, token: ApiToken) -> bool:
        return token.expires_at is None or token.expires_at > utcnow()

    async def create_api_token(
        self,
        user_id: str,
        name: str,
        scope: TokenScope,
        token_hash: str,
        expires_at: datetime | None,
        max_tokens: int,
    ) -> ApiToken:
        await self._enter()
        if user_id not in self._users:
            raise NotFoundError("no such user")
        live = [t for t in self._api_tokens.values() if self._live_token(t)]
        count = sum(1 for t in live if t.user_id == user_id)
        if count >= max_tokens:  # refused as a whole: the databases roll the pruning back too
            raise QuotaExceededError(
                f"you have {count} API tokens, the most allowed; revoke some first"
            )
        for expired in [t for t in self._api_tokens.values() if not self._live_token(t)]:
            self._drop_api_token(expired.id)
        token = ApiToken(str(uuid.uuid4()), user_id, name, scope, utcnow(), expires_at)
        self._api_tokens[token.id] = token
        self._api_token_by_hash[token_hash] = token.id
        return token

    def _drop_api_token(self, token_id: str) -> None:
        del self._api_tokens[token_id]
        self._api_token_by_hash = {
            h: i for h, i in self._api_token_by_hash.items() if i != token_id
        }

    async def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        await self._enter()
        found = [
            t for t in self._api_tokens.values() if t.user_id == user_id and self._live_token(t)
        ]
        return sorted(found, key=lambda t: (t.created_at, t.id))

    async def get_api_token(self, token_hash: str) -> ApiToken | None:
        await self._enter()
        token_id = self._api_token_by_hash.get(token_hash)
        token = self._api_tokens.get(token_id) if token_id else None
        return token if token is not None and self._live_token(token) else None

    async def delete_api_token(self, user_id: str, token_id: str) -> bool:
        await self._enter()
        token = self._api_tokens.get(token_id)
        if token is None or token.user_id != user_id:
            return False
        self._drop_api_token(token_id)
        return True

    async def touch_api_token(self, token_id: str, used_at: datetime) -> None:
        await self._enter()
        token = self._api_tokens.get(token_id)
        if token is not None:
            self._api_tokens[token_id] = replace(token, last_used_at=used_at)
