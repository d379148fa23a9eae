"""What an administrator does to accounts and the server, and deleting an account.

The rules live here, not in the routes, so the REST API, the command line and the account dialog
("delete my account") share them: the server never loses its last enabled administrator (nobody
demotes, disables or deletes them), an administrator never demotes or disables themselves, a
disabled account's sessions end at once (their sockets close), and deleting an account tells the
live parts what changed (documents deleted or handed over, grants gone, sessions ended) through
the same events the document and sign-out paths use.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from docstream.collab.extensions import (
    AccessChanged,
    DocumentDeleted,
    DocumentRenamed,
    Extensions,
)
from docstream.errors import ConflictError, NotFoundError
from docstream.services.auth import AuthService
from docstream.services.identity import normalize_email
from docstream.services.invitations import token_hash
from docstream.settings import Settings
from docstream.storage.base import (
    AccountDeletion,
    DocumentStore,
    ServerInvitation,
    User,
    UserSummary,
)

LAST_ADMIN = "the server would have no enabled administrator left; make someone else one first"


@dataclass(frozen=True, slots=True)
class NewServerInvitation:
    """A new server invitation and its link (shown once: only a hash of the token is stored)."""

    invitation: ServerInvitation
    url: str


class AdminService:
    """Accounts and server invitations, for administrators (and account deletion for anyone)."""

    def __init__(
        self,
        store: DocumentStore,
        settings: Settings,
        auth: AuthService,
        extensions: Extensions,
    ) -> None:
        self._store = store
        self._settings = settings
        self._auth = auth
        self._extensions = extensions

    async def _registered(self, user_id: str) -> User:
        user = await self._store.get_user(user_id)
        if user is None or user.pending:
            raise NotFoundError("no such user")
        return user

    async def list_users(
        self, query: str, limit: int, offset: int
    ) -> tuple[list[UserSummary], int]:
        return await self._store.list_users(query.strip()[:200], limit, offset)

    async def _keeps_an_admin(self, undo: bool, user_id: str, field: str) -> None:
        """After a change that may have removed the last enabled administrator (two of them
        demoting each other at once): put it back and refuse."""
        if await self._store.count_admins() > 0:
            return
        if field == "is_admin":
            await self._store.set_admin(user_id, undo)
        else:
            await self._store.set_disabled(user_id, undo)
        raise ConflictError(LAST_ADMIN)

    async def set_admin(self, actor: User, user_id: str, is_admin: bool) -> User:
        user = await self._registered(user_id)
        if not is_admin and user.id == actor.id:
            raise ConflictError("you cannot remove your own administrator role")
        losing = not is_admin and user.is_admin and not user.disabled
        if losing and await self._store.count_admins() <= 1:
            raise ConflictError(LAST_ADMIN)
        changed = await self._store.set_admin(user_id, is_admin)
        if changed is None:
            raise NotFoundError("no such user")
        if not is_admin:
            await self._keeps_an_admin(True, user_id, "is_admin")
        return changed

    async def set_disabled(self, actor: User, user_id: str, disabled: bool) -> User:
        user = await self._registered(user_id)
        if disabled and user.id == actor.id:
            raise ConflictError("you cannot disable your own account")
        losing = disabled and user.is_admin and not user.disabled
        if losing and await self._store.count_admins() <= 1:
            raise ConflictError(LAST_ADMIN)
        changed = await self._store.set_disabled(user_id, disabled)
        if changed is None:
            raise NotFoundError("no such user")
        if disabled:
            await self._keeps_an_admin(False, user_id, "disabled")
            await self._auth.logout_all(user_id)  # sessions end, sockets close, on every node
        return changed

    async def delete_account(self, user: User, transfer_to: str | None) -> AccountDeletion:
        """Delete ``user``'s account; its documents go to ``transfer_to`` or are deleted."""
        if user.is_admin and not user.disabled and await self._store.count_admins() <= 1:
            raise ConflictError(
                "this is the server's last administrator; make someone else one first"
            )
        if transfer_to is not None:
            if transfer_to == user.id:
                raise ConflictError("the documents cannot be handed over to the deleted account")
            await self._registered(transfer_to)
        await self._auth.logout_all(user.id)  # first: nothing it holds may act meanwhile
        outcome = await self._store.delete_user(user.id, transfer_to)
        if outcome is None:
            raise NotFoundError("no such user")
        await self._told(user.id, transfer_to, outcome)
        return outcome

    async def _told(self, user_id: str, heir: str | None, outcome: AccountDeletion) -> None:
        emit = self._extensions.emit
        for doc_id in outcome.deleted:
            await emit(DocumentDeleted(doc_id))
        for doc_id in outcome.transferred:
            await emit(AccessChanged(doc_id, user_id))
            await emit(AccessChanged(doc_id, heir))
            doc = await self._store.get_document(doc_id)
            if doc is not None:  # the owner changed: titles and lists show the new one
                await emit(DocumentRenamed(doc))
        for doc_id in outcome.grants_removed:
            await emit(AccessChanged(doc_id, user_id))

    async def delete_user(
        self, actor: User, user_id: str, transfer_to: str | None
    ) -> tuple[User, AccountDeletion]:
        user = await self._registered(user_id)
        if user.id == actor.id:
            raise ConflictError("delete your own account from your account settings")
        return user, await self.delete_account(user, transfer_to)

    async def find_user(self, id_or_email: str) -> User:
        """A registered user by id or e-mail address (the new owner of documents)."""
        if "@" in id_or_email:
            user = await self._store.get_user_by_email(normalize_email(id_or_email))
            if user is None or user.pending:
                raise NotFoundError("no account has this e-mail address")
            return user
        return await self._registered(id_or_email)

    # --- server invitations ----------------------------------------------------------------------

    async def invite(self, actor: User, email: str, base_url: str) -> NewServerInvitation:
        address = normalize_email(email)
        existing = await self._store.get_user_by_email(address)
        if existing is not None and not existing.pending:
            raise ConflictError("an account with this e-mail address already exists")
        token = secrets.token_urlsafe(32)
        expires = datetime.fromtimestamp(time.time() + self._settings.invitation_ttl, UTC)
        invitation = await self._store.create_server_invitation(
            address, actor.id, token_hash(token), expires
        )
        base = (self._settings.public_url or base_url).rstrip("/")
        return NewServerInvitation(invitation, f"{base}/signup?invitation={token}")

    async def invitations(self) -> list[ServerInvitation]:
        return await self._store.list_server_invitations()

    async def revoke_invitation(self, invitation_id: str) -> None:
        if not await self._store.delete_server_invitation(invitation_id):
            raise NotFoundError("no such invitation")

    async def preview_invitation(self, token: str) -> ServerInvitation:
        found = await self._store.get_server_invitation(token_hash(token[:200]))
        if found is None:
            raise NotFoundError("this invitation link is invalid, expired or already used")
        return found
