"""Accounts in memory: users, signed-in sessions and replica bindings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from msgspec.structs import replace

from docstream.errors import ConflictError, NotFoundError
from docstream.storage.base import RotateOutcome, User, utcnow
from docstream.storage.memory.state import MemoryState, ReplicaRow, SessionRow


class MemoryAccounts(MemoryState):
    """Users, sessions and replicas."""

    # --- users -----------------------------------------------------------------------------------

    async def register_user(self, email: str, name: str, password_hash: str) -> User:
        await self._enter()
        existing = self._user_by_email.get(email)
        if existing is not None:
            user = self._users[existing]
            if not user.pending:
                raise ConflictError("an account with this email already exists")
            # An invited user of an older version: whatever it was granted was meant for whoever
            # received the invitation, not for whoever registers the address.
            for doc in self._docs.values():
                doc.grants.pop(user.id, None)
                doc.granted_by_id.discard(user.id)
            user = replace(user, name=name, password_hash=password_hash)
        else:
            user = User(str(uuid.uuid4()), email, name, password_hash, utcnow())
            self._user_by_email[email] = user.id
        self._users[user.id] = user
        return user

    async def get_or_create_pending_user(self, email: str) -> User:
        await self._enter()
        existing = self._user_by_email.get(email)
        if existing is not None:
            return self._users[existing]
        user = User(str(uuid.uuid4()), email, "", None, utcnow())  # a name is never made from it
        self._users[user.id] = user
        self._user_by_email[email] = user.id
        return user

    async def get_user(self, user_id: str) -> User | None:
        await self._enter()
        return self._users.get(user_id)

    async def set_user_name(self, user_id: str, name: str) -> User | None:
        await self._enter()
        user = self._users.get(user_id)
        if user is None or user.pending:
            return None
        user = self._users[user_id] = replace(user, name=name)
        return user

    async def get_user_by_email(self, email: str) -> User | None:
        await self._enter()
        user_id = self._user_by_email.get(email)
        return None if user_id is None else self._users[user_id]

    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self._enter()
        user = self._users.get(user_id)
        if user is not None:
            self._users[user_id] = replace(user, password_hash=password_hash)

    # --- sessions (refresh token families) --------------------------------------------------------

    async def create_session(
        self, session_id: str, user_id: str, refresh_jti: str, expires_at: datetime
    ) -> None:
        await self._enter()
        if user_id not in self._users:
            raise NotFoundError("no such user")
        forgotten = utcnow() - timedelta(days=1)
        live = {sid: s for sid, s in self._sessions.items() if s.expires_at >= forgotten}
        if session_id in live:
            raise ConflictError("this already exists")
        live[session_id] = SessionRow(user_id, refresh_jti, expires_at)
        self._sessions = live

    async def rotate_session(
        self, session_id: str, old_jti: str, new_jti: str, expires_at: datetime
    ) -> RotateOutcome:
        await self._enter()
        session = self._sessions.get(session_id)
        if session is None:
            return "unknown"
        if session.revoked_at is not None or session.expires_at < utcnow():
            return "revoked"
        if session.refresh_jti != old_jti:
            session.revoked_at = utcnow()
            return "reused"
        session.refresh_jti, session.expires_at = new_jti, expires_at
        return "rotated"

    async def revoke_sessions(
        self, user_id: str, *, only: str | None = None, keep: str | None = None
    ) -> list[str]:
        await self._enter()
        now = utcnow()
        revoked: list[str] = []
        for sid, session in self._sessions.items():
            if (
                session.user_id == user_id
                and session.revoked_at is None
                and (only is None or sid == only)
                and (keep is None or sid != keep)
            ):
                session.revoked_at = now
                revoked.append(sid)
        return revoked

    async def dead_sessions(self, session_ids: Sequence[str]) -> set[str]:
        await self._enter()
        now = utcnow()
        dead: set[str] = set()
        for sid in session_ids:
            session = self._sessions.get(sid)
            if session is None or session.revoked_at is not None or session.expires_at <= now:
                dead.add(sid)
        return dead

    # --- replicas --------------------------------------------------------------------------------

    async def bind_replica(self, replica_id: str, user_id: str) -> str:
        await self._enter()
        now = utcnow()
        replica = self._replicas.get(replica_id)
        if replica is None:
            replica = self._replicas[replica_id] = ReplicaRow(user_id, now)
        elif replica.user_id == user_id:
            replica.last_seen_at = now
        return replica.user_id

    async def prune_replicas(self, unseen_since: datetime, limit: int = 10_000) -> int:
        await self._enter()
        idle = sorted(  # the longest unseen first (SQLite walks its last-seen index)
            (
                rid
                for rid, replica in self._replicas.items()
                if replica.last_seen_at < unseen_since and not self._writes_by_replica[rid]
            ),
            key=lambda rid: self._replicas[rid].last_seen_at,
        )[: max(limit, 0)]
        for rid in idle:
            del self._replicas[rid]
        return len(idle)
