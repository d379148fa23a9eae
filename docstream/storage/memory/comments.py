"""Comments in memory: each document row holds its comments by id, oldest first (deleted with
the document, as the SQL backends' cascade does)."""

from __future__ import annotations

from msgspec.structs import replace

from docstream.errors import NotFoundError
from docstream.storage.base import Comment, NewComment, utcnow
from docstream.storage.memory.state import MemoryState


class MemoryComments(MemoryState):
    """Comment threads anchored to the text."""

    def _with_author(self, comment: Comment) -> Comment | None:
        user = self._users.get(comment.author_id)
        if user is None:  # the SQL backends delete an account's comments with it
            return None
        return replace(comment, author_name=user.name)

    async def add_comment(self, doc_id: str, comment: NewComment) -> tuple[Comment, bool]:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None or comment.author_id not in self._users:
            raise NotFoundError("no such document or user")
        existing = doc.comments.get(comment.id)
        if existing is not None:
            named = self._with_author(existing)
            if named is not None:
                return named, False
        stored = Comment(
            doc_id=doc_id,
            id=comment.id,
            thread_id=comment.thread_id,
            author_id=comment.author_id,
            author_name="",
            body=comment.body,
            created_at=utcnow(),
            anchor_start=comment.anchor_start,
            anchor_end=comment.anchor_end,
            quote=comment.quote,
            mentions=tuple(comment.mentions),
        )
        doc.comments[comment.id] = stored
        named = self._with_author(stored)
        assert named is not None
        return named, True

    async def get_comment(self, doc_id: str, comment_id: str) -> Comment | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        found = doc.comments.get(comment_id) if doc is not None else None
        return self._with_author(found) if found is not None else None

    async def list_comments(self, doc_id: str) -> list[Comment]:
        await self._enter()
        doc = self._docs.get(doc_id)
        if doc is None:
            return []
        named = (self._with_author(c) for c in doc.comments.values())
        return sorted((c for c in named if c is not None), key=lambda c: (c.created_at, c.id))

    async def edit_comment(
        self, doc_id: str, comment_id: str, body: str, mentions: tuple[str, ...]
    ) -> Comment | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        found = doc.comments.get(comment_id) if doc is not None else None
        if doc is None or found is None:
            return None
        changed = replace(
            found,
            body=body,
            mentions=tuple(mentions),
            edited_at=utcnow(),
            version=found.version + 1,
        )
        doc.comments[comment_id] = changed
        return self._with_author(changed)

    async def delete_comment(self, doc_id: str, comment_id: str) -> list[str]:
        await self._enter()
        doc = self._docs.get(doc_id)
        found = doc.comments.get(comment_id) if doc is not None else None
        if doc is None or found is None:
            return []
        gone = [comment_id]
        if found.thread_id == found.id:
            gone += [c.id for c in doc.comments.values() if c.thread_id == comment_id]
        for cid in set(gone):
            doc.comments.pop(cid, None)
        return sorted(set(gone))

    async def set_thread_resolved(
        self, doc_id: str, thread_id: str, resolved: bool
    ) -> Comment | None:
        await self._enter()
        doc = self._docs.get(doc_id)
        found = doc.comments.get(thread_id) if doc is not None else None
        if doc is None or found is None or found.thread_id != found.id:
            return None
        if found.resolved != resolved:
            found = replace(found, resolved=resolved, version=found.version + 1)
            doc.comments[thread_id] = found
        return self._with_author(found)
