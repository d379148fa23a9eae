"""Administrators and disabled accounts in memory."""

from __future__ import annotations

from msgspec.structs import replace

from docstream.storage.base import User, utcnow
from docstream.storage.memory.state import MemoryState


class MemoryAdmin(MemoryState):
    """Who administers the server, and which accounts are disabled."""

    async def set_admin(self, user_id: str, is_admin: bool) -> User | None:
        await self._enter()
        user = self._users.get(user_id)
        if user is None or user.pending:
            return None
        user = self._users[user_id] = replace(user, is_admin=is_admin)
        return user

    async def set_disabled(self, user_id: str, disabled: bool) -> User | None:
        await self._enter()
        user = self._users.get(user_id)
        if user is None:
            return None
        when = (user.disabled_at or utcnow()) if disabled else None
        user = self._users[user_id] = replace(user, disabled_at=when)
        return user

    async def count_admins(self) -> int:
        await self._enter()
        return sum(1 for u in self._users.values() if u.is_admin and not u.disabled)
