"""Server administration in memory: the first administrator, run-time server settings, server
invitations, the user list and deleting accounts (the same contract as the SQL backends)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

from msgspec.structs import replace

from docstream.errors import NotFoundError
from docstream.storage.base import AccountDeletion, ServerInvitation, UserSummary, utcnow
from docstream.storage.memory.state import MemoryState


class MemoryServerAdmin(MemoryState):
    """The server's administration: see the module docstring."""

    @property
    def _server_settings(self) -> dict[str, str]:
        found: dict[str, str] | None = self.__dict__.get("_settings_table")
        if found is None:
            found = self.__dict__["_settings_table"] = {}
        return found

    @property
    def _server_invitations(self) -> dict[str, tuple[ServerInvitation, str]]:
        """id -> (invitation, token hash)."""
        found: dict[str, tuple[ServerInvitation, str]] | None = self.__dict__.get(
            "_server_invitations_table"
        )
        if found is None:
            found = self.__dict__["_server_invitations_table"] = {}
        return found

    async def claim_first_admin(self, user_id: str) -> bool:
        await self._enter()
        user = self._users.get(user_id)
        if user is None or user.pending:
            return False
        if any(u.is_admin and not u.disabled for u in self._users.values()):
            return False
        self._users[user_id] = replace(user, is_admin=True)
        return True

    async def get_server_setting(self, key: str) -> str | None:
        await self._enter()
        return self._server_settings.get(key)

    async def set_server_setting(self, key: str, value: str | None) -> None:
        await self._enter()
        if value is None:
            self._server_settings.pop(key, None)
        else:
            self._server_settings[key] = value

    async def create_server_invitation(
        self, email: str, created_by: str, token_hash: str, expires_at: datetime
    ) -> ServerInvitation:
        await self._enter()
        if created_by not in self._users:
            raise NotFoundError("no such user")
        for key, (inv, _) in list(self._server_invitations.items()):
            if inv.email == email:
                del self._server_invitations[key]
        invitation = ServerInvitation(str(uuid.uuid4()), email, created_by, utcnow(), expires_at)
        self._server_invitations[invitation.id] = (invitation, token_hash)
        return invitation

    def _live_invitations(self) -> list[tuple[ServerInvitation, str]]:
        now = utcnow()
        found = [item for item in self._server_invitations.values() if item[0].expires_at > now]
        return sorted(found, key=lambda item: (item[0].created_at, item[0].id))

    async def list_server_invitations(self) -> list[ServerInvitation]:
        await self._enter()
        return [inv for inv, _ in self._live_invitations()]

    async def get_server_invitation(self, token_hash: str) -> ServerInvitation | None:
        await self._enter()
        return next((inv for inv, h in self._live_invitations() if h == token_hash), None)

    async def delete_server_invitation(self, invitation_id: str) -> bool:
        await self._enter()
        return self._server_invitations.pop(invitation_id, None) is not None

    async def signup_invited(self, email: str) -> bool:
        await self._enter()
        now = utcnow()
        if any(inv.email == email for inv, _ in self._live_invitations()):
            return True
        return any(i.email == email and i.expires_at > now for i in self._invitations.values())

    async def use_server_invitations(self, email: str) -> None:
        await self._enter()
        for key, (inv, _) in list(self._server_invitations.items()):
            if inv.email == email:
                del self._server_invitations[key]

    async def list_users(
        self, query: str, limit: int, offset: int
    ) -> tuple[list[UserSummary], int]:
        await self._enter()
        needle = query.lower()
        matching = sorted(
            (
                u
                for u in self._users.values()
                if not u.pending and (needle in u.email.lower() or needle in u.name.lower())
            ),
            key=lambda u: u.email,
        )
        owned = Counter(doc.record.owner_id for doc in self._docs.values())
        page = matching[offset : offset + limit]
        # Sessions in memory keep no start time: the last sign-in is not known here.
        return [UserSummary(u, owned[u.id], None) for u in page], len(matching)

    async def server_counts(self) -> tuple[int, int]:
        await self._enter()
        return sum(1 for u in self._users.values() if not u.pending), len(self._docs)

    async def delete_user(self, user_id: str, transfer_to: str | None) -> AccountDeletion | None:
        await self._enter()
        user = self._users.get(user_id)
        if user is None or user.pending:
            return None
        if transfer_to is not None:
            heir = self._users.get(transfer_to)
            if heir is None or heir.pending or transfer_to == user_id:
                raise NotFoundError("the new owner must be another registered user")
        owned = tuple(d.record.id for d in self._docs.values() if d.record.owner_id == user_id)
        granted = tuple(d.record.id for d in self._docs.values() if user_id in d.grants)
        for doc_id in owned:
            doc = self._docs[doc_id]
            if transfer_to is not None:
                doc.record = replace(doc.record, owner_id=transfer_to)
                doc.grants.pop(transfer_to, None)
                doc.granted_by_id.discard(transfer_to)
            else:
                del self._docs[doc_id]
                self._writes_by_replica.subtract(e.replica for e in doc.log)
                self._writes_by_replica += Counter()
        for doc in self._docs.values():
            doc.grants.pop(user_id, None)
            doc.granted_by_id.discard(user_id)
        for inv in [
            i
            for i in self._invitations.values()
            if i.invited_by == user_id or (transfer_to is None and i.doc_id in owned)
        ]:
            self._drop_invitation(inv)
        for key, (server_inv, _) in list(self._server_invitations.items()):
            if server_inv.created_by == user_id:
                del self._server_invitations[key]
        for sid in [s for s, row in self._sessions.items() if row.user_id == user_id]:
            del self._sessions[sid]
        del self._users[user_id]
        del self._user_by_email[user.email]
        if transfer_to is not None:
            return AccountDeletion(transferred=owned, grants_removed=granted)
        return AccountDeletion(deleted=owned, grants_removed=granted)
