"""Documents in memory: records, grants, public links and invitations (which die with their
document, as the SQL cascades do)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from docstream.errors import ConflictError, NotFoundError, QuotaExceededError
from docstream.storage.base import (
    Collaborator,
    DocumentListing,
    DocumentRecord,
    GrantedRole,
    Invitation,
    Person,
    PublicLink,
    Role,
    utcnow,
)
from docstream.storage.memory.state import DocumentRow, InvitationRow, MemoryState


class MemoryDocuments(MemoryState):
    """Documents, permissions and invitations."""

    async def create_document(self, owner_id: str, title: str) -> DocumentRecord:
        await self._enter()
        if owner_id not in self._users:
            raise NotFoundError("no such document or user")
        now = utcnow()
        record = DocumentRecord(str(uuid.uuid4()), title, owner_id, 0, False, "viewer", now, now)
        self._docs[record.id] = DocumentRow(record)
        return record

    async def get_document(self, doc_id: str) -> DocumentRecord | None:
        await self._enter()
        doc = self._live(doc_id)
        return None if doc is None else doc.record

    async def list_documents(self, user_id: str) -> list[tuple[DocumentRecord, Role]]:
        await self._enter()
        found = [
            (doc.record, role)
            for doc in self._docs.values()
            if (role := self._role(doc, user_id)) is not None and doc.record.id not in self._trashed
        ]
        found.sort(key=lambda pair: pair[0].id)
        found.sort(key=lambda pair: pair[0].updated_at, reverse=True)
        return found

    async def list_document_rows(self, user_id: str) -> list[DocumentListing]:
        rows = []
        for record, role in await self.list_documents(user_id):
            doc = self._docs[record.id]
            owner = self._users.get(record.owner_id)
            seq = record.seq
            last = doc.log[seq - 1] if 0 < seq <= len(doc.log) else None
            editor = None if last is None else self._users.get(last.user_id)
            rows.append(
                DocumentListing(
                    record,
                    role,
                    owner.name if owner is not None else "",
                    None if last is None else last.user_id,
                    None if editor is None else editor.name,
                )
            )
        return rows

    async def rename_document(self, doc_id: str, title: str) -> DocumentRecord | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        return None if doc is None else self._touch(doc, title=title)

    async def delete_document(self, doc_id: str) -> bool:
        await self._enter()
        doc = self._docs.pop(doc_id, None)
        if doc is None:
            return False
        self._trashed.pop(doc_id, None)
        self._writes_by_replica.subtract(e.replica for e in doc.log)
        self._writes_by_replica += Counter()  # drop the replicas that wrote nowhere else
        for inv in [i for i in self._invitations.values() if i.doc_id == doc_id]:
            self._drop_invitation(inv)
        return True

    async def set_public_sharing(
        self, doc_id: str, enabled: bool, role: Literal["editor", "viewer"]
    ) -> DocumentRecord | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            return None
        return self._touch(doc, public_sharing_enabled=enabled, public_sharing_role=role)

    async def get_public_link(self, doc_id: str) -> PublicLink | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None or not doc.link_token:
            return None
        return PublicLink(doc.link_token, doc.link_seq)

    async def set_public_link(self, doc_id: str, token: str | None) -> PublicLink | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            return None
        doc.link_token, doc.link_seq = token, doc.record.seq
        return PublicLink(token, doc.link_seq) if token else None

    async def get_role(
        self, doc_id: str, user_id: str
    ) -> tuple[DocumentRecord, Role | None] | None:
        await self._enter()
        doc = self._live(doc_id)
        return None if doc is None else (doc.record, self._role(doc, user_id))

    async def accessible_document_ids(
        self, user_id: str, doc_ids: Sequence[str], *, include_public: bool = True
    ) -> set[str]:
        await self._enter()
        out: set[str] = set()
        for doc_id in doc_ids:
            doc = self._live(doc_id)
            if doc is not None and (
                (include_public and doc.record.public_sharing_enabled)
                or self._role(doc, user_id) is not None
            ):
                out.add(doc_id)
        return out

    async def set_permission(
        self,
        doc_id: str,
        user_id: str,
        role: GrantedRole,
        *,
        by_address: bool = True,
    ) -> None:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None or user_id not in self._users:
            raise NotFoundError("no such document or user")
        if by_address:
            doc.granted_by_id.discard(user_id)
        elif user_id not in doc.grants:
            doc.granted_by_id.add(user_id)
        doc.grants[user_id] = role

    async def remove_permission(self, doc_id: str, user_id: str) -> bool:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            return False
        doc.granted_by_id.discard(user_id)
        return doc.grants.pop(user_id, None) is not None

    async def list_collaborators(self, doc_id: str) -> list[Collaborator]:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None or doc_id in self._trashed:
            return []

        def collaborator(user_id: str, role: Role) -> Collaborator:
            user = self._users[user_id]
            by_address = user_id not in doc.granted_by_id
            return Collaborator(user.id, user.email, user.name, role, user.pending, by_address)

        granted = sorted(
            (collaborator(uid, role) for uid, role in doc.grants.items()), key=lambda c: c.email
        )
        return [collaborator(doc.record.owner_id, "owner"), *granted]

    async def co_collaborators(self, user_id: str) -> list[Person]:
        await self._enter()
        last: dict[str, datetime] = {}
        shared: Counter[str] = Counter()
        for doc in self._docs.values():
            members = {doc.record.owner_id, *doc.grants}
            if user_id not in members or doc.record.id in self._trashed:
                continue
            for other in members - {user_id}:
                shared[other] += 1
                last[other] = max(last.get(other, doc.record.updated_at), doc.record.updated_at)
        people = [self._users[uid] for uid in shared if not self._users[uid].pending]
        people.sort(key=lambda u: u.id)
        people.sort(key=lambda u: (last[u.id], shared[u.id]), reverse=True)
        return [Person(u.id, u.name) for u in people]

    async def all_document_titles(self) -> list[tuple[str, str, str]]:
        await self._enter()
        return [
            (d.record.id, d.record.title, d.record.owner_id)
            for d in self._docs.values()
            if d.record.id not in self._trashed
        ]

    async def count_owned_documents(self, owner_id: str) -> int:
        await self._enter()
        return sum(1 for d in self._docs.values() if d.record.owner_id == owner_id)

    def _public_invitation(self, inv: InvitationRow) -> Invitation:
        doc = self._docs.get(inv.doc_id)
        inviter = self._users.get(inv.invited_by)
        return Invitation(
            id=inv.id,
            doc_id=inv.doc_id,
            email=inv.email,
            role=inv.role,
            invited_by=inv.invited_by,
            created_at=inv.created_at,
            expires_at=inv.expires_at,
            doc_title="" if doc is None else doc.record.title,
            inviter_name="" if inviter is None else inviter.name,
        )

    def _pending_invitation(self, token_hash: str) -> InvitationRow | None:
        inv_id = self._invitation_by_token.get(token_hash)
        inv = None if inv_id is None else self._invitations[inv_id]
        return inv if inv is not None and inv.expires_at > utcnow() else None

    async def create_invitation(
        self,
        doc_id: str,
        email: str,
        role: Literal["editor", "viewer"],
        invited_by: str,
        token_hash: str,
        expires_at: datetime,
        max_pending: int,
    ) -> Invitation:
        await self._enter()
        now = utcnow()
        # Expired invitations and the one being replaced go; every check comes first, so a
        # refused call changes nothing (the SQL backends roll back).
        leaving = [
            inv
            for inv in self._invitations.values()
            if inv.expires_at <= now or (inv.doc_id == doc_id and inv.email == email)
        ]
        gone = {inv.id for inv in leaving}
        pending = sum(
            1
            for inv in self._invitations.values()
            if inv.invited_by == invited_by and inv.id not in gone
        )
        if pending >= max_pending:
            raise QuotaExceededError(
                f"you have {pending} pending invitations, the most allowed; withdraw some "
                "or wait until they are accepted or expire"
            )
        if doc_id not in self._docs or invited_by not in self._users:
            raise NotFoundError("no such document or user")
        taken = self._invitation_by_token.get(token_hash)
        if taken is not None and taken not in gone:
            raise ConflictError("this already exists")
        for inv in leaving:
            self._drop_invitation(inv)
        inv = InvitationRow(
            str(uuid.uuid4()), token_hash, doc_id, email, role, invited_by, now, expires_at
        )
        self._invitations[inv.id] = inv
        self._invitation_by_token[token_hash] = inv.id
        return self._public_invitation(inv)

    async def list_invitations(self, doc_id: str) -> list[Invitation]:
        await self._enter()
        now = utcnow()
        found = [i for i in self._invitations.values() if i.doc_id == doc_id and i.expires_at > now]
        found.sort(key=lambda i: (i.created_at, i.email))
        return [self._public_invitation(i) for i in found]

    async def get_invitation(self, token_hash: str) -> Invitation | None:
        await self._enter()
        inv = self._pending_invitation(token_hash)
        return None if inv is None else self._public_invitation(inv)

    async def delete_invitation(self, doc_id: str, invitation_id: str) -> bool:
        await self._enter()
        inv = self._invitations.get(invitation_id)
        if inv is None or inv.doc_id != doc_id:
            return False
        self._drop_invitation(inv)
        return True

    async def redeem_invitation(
        self, token_hash: str, user_id: str
    ) -> tuple[Invitation, Role | None] | None:
        await self._enter()
        inv = self._pending_invitation(token_hash)
        if inv is None:
            return None
        out = self._public_invitation(inv)
        doc = self._docs.get(inv.doc_id)
        role: Role | None = None
        grant = False
        if doc is not None:
            current = doc.grants.get(user_id)
            allowed = doc.record.owner_id == inv.invited_by or (
                inv.role == "viewer" and doc.grants.get(inv.invited_by) == "editor"
            )
            if doc.record.owner_id == user_id:
                role = "owner"
            elif (
                current == "editor"
                or (current == "commenter" and inv.role == "viewer")  # never lowered
                or (current in ("viewer", "commenter") and not allowed)
            ):
                role = current
            elif allowed:
                if user_id not in self._users:
                    raise NotFoundError("no such document or user")
                grant, role = True, inv.role
        self._drop_invitation(inv)
        if grant and doc is not None:
            doc.grants[user_id] = inv.role
        return out, role
