"""Single sign-on identities in memory: which account an OpenID Connect ``(issuer, subject)``
signs in to (kept apart from the accounts mixin: only the OIDC sign-in uses them)."""

from __future__ import annotations

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.memory.state import MemoryState


class MemoryIdentities(MemoryState):
    """Provider identities linked to accounts."""

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self._identities: dict[tuple[str, str], str] = {}

    # --- single sign-on (OpenID Connect) ---------------------------------------------------------

    async def identity_user(self, issuer: str, subject: str) -> str | None:
        await self._enter()
        return self._identities.get((issuer, subject))

    async def link_identity(self, issuer: str, subject: str, user_id: str) -> bool:
        await self._enter()
        user = self._users.get(user_id)
        if user is None or user.pending:
            raise NotFoundError("no such account")
        linked = self._identities.get((issuer, subject))
        if linked is not None:
            if linked != user_id:
                raise ConflictError("this identity is linked to another account")
            return False
        self._identities[(issuer, subject)] = user_id
        return True
