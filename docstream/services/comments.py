"""Comments anchored to the text: who may write them, what is stored, who hears of it.

Comment frames arrive on the document's WebSocket (the sans-I/O session passes them on as
``Comment`` actions); the REST API lists them. Rules, checked here for every frame:

- the socket's role *now* decides (it changes while connected): owners, editors and commenters
  write comments; viewers and link guests read them (a guest has no account to sign one with);
- a comment id is chosen by the client, so a re-sent frame is harmless: adding an id that exists
  answers the stored comment to its author (and ``conflict`` to anyone else); deleting a comment
  that is gone answers ``comment_removed`` again;
- only the author edits or deletes a comment; anyone who may comment resolves or reopens a thread;
- a new thread's anchor must name characters the document knows (checked in the Room's order,
  after the ops the same socket sent before: a comment written offline on text typed offline);
- @mentions keep only people with a grant on the document (the owner included).

Every change reaches every socket of the document, here and on the other nodes
(:mod:`docstream.collab.comments`), and a new comment or reply is announced to the extensions as
:class:`CommentPosted` (with the thread's earlier participants and the mentioned users), once, on
the node that stored it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from docstream.collab import comments as relay
from docstream.collab.extensions import CommentPosted, Extensions, PeerChannel
from docstream.collab.hub import Hub
from docstream.collab.room import Room, RoomClosed
from docstream.collab.session import Session
from docstream.crdt import CharId
from docstream.errors import (
    ConflictError,
    DocStreamError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    StorageError,
    UnknownIdError,
)
from docstream.protocol import codec
from docstream.protocol.messages import (
    AddComment,
    CommentFrame,
    CommentInfo,
    CommentList,
    CommentsRemoved,
    CommentUpsert,
    DeleteComment,
    EditComment,
    ReplyComment,
    ResolveComment,
)
from docstream.services.documents import DocumentService
from docstream.services.identity import Identity
from docstream.storage.base import Comment, DocumentStore, NewComment
from docstream.storage.records import COMMENTING_ROLES


def comment_info(comment: Comment) -> CommentInfo:
    """A stored comment as the wire (and the REST API) show it."""
    return CommentInfo(
        id=comment.id,
        thread=comment.thread_id,
        author_id=comment.author_id,
        author_name=comment.author_name,
        body=comment.body,
        created_at=comment.created_at,
        anchor_start=comment.anchor_start,
        anchor_end=comment.anchor_end,
        quote=comment.quote,
        mentions=list(comment.mentions),
        resolved=comment.resolved,
        version=comment.version,
        edited_at=comment.edited_at,
    )


def _text(frame: CommentUpsert | CommentsRemoved | CommentList) -> str:
    return codec.encode(frame).decode()


def _body(text: str) -> str:
    body = text.strip()
    if not body:
        raise InvalidInputError("a comment needs some text")
    if "\x00" in body:
        raise InvalidInputError("a comment cannot contain NUL characters")
    return body


class CommentService:
    """Args:
    store: where comments are kept.
    hub: this node's rooms (anchor checks, sockets to tell).
    documents: who may open a document (the REST list).
    extensions: told ``CommentPosted``.
    peers: the other nodes (None: alone).
    """

    def __init__(
        self,
        store: DocumentStore,
        hub: Hub,
        documents: DocumentService,
        extensions: Extensions,
        peers: PeerChannel | None = None,
    ) -> None:
        self._store = store
        self._hub = hub
        self._documents = documents
        self._extensions = extensions
        self._peers = peers

    # --- reading ---------------------------------------------------------------------------------

    async def comments_of(self, caller: Identity | None, doc_id: str) -> list[Comment]:
        """Every comment of a document the caller may open (REST)."""
        await self._documents.access(caller, doc_id, "viewer")
        return await self._store.list_comments(doc_id)

    async def send_list(self, session: Session) -> None:
        """After a socket's ``welcome``: the document's comments, in the Room's order."""

        async def send(room: Room) -> None:
            comments = await self._store.list_comments(session.doc_id)
            session.send(_text(CommentList([comment_info(c) for c in comments])))

        # RoomClosed: the document closed under the socket (deleted); the socket closes too.
        with contextlib.suppress(RoomClosed):
            await session.in_room(send)

    # --- the frames ------------------------------------------------------------------------------

    async def handle(self, session: Session, frame: CommentFrame) -> None:
        """Apply one comment frame of ``session``; a refusal is answered with an ``error``
        naming the comment."""
        try:
            self._may_comment(session)
            if isinstance(frame, AddComment):
                await self._add(session, frame)
            elif isinstance(frame, ReplyComment):
                await self._reply(session, frame)
            elif isinstance(frame, EditComment):
                await self._edit(session, frame)
            elif isinstance(frame, DeleteComment):
                await self._delete(session, frame)
            elif isinstance(frame, ResolveComment):
                await self._resolve(session, frame)
        except DocStreamError as exc:
            session.error(exc, comment=frame.id)
        except RoomClosed:
            session.error(StorageError("the document was closed; send it again"), comment=frame.id)

    def _may_comment(self, session: Session) -> None:
        if session.guest:
            raise ForbiddenError("sign in to write comments")
        if session.role not in COMMENTING_ROLES:
            raise ForbiddenError(f"{session.role}s can read comments but not write them")

    async def _add(self, session: Session, frame: AddComment) -> None:
        body = _body(frame.body)
        start, end = CharId.parse(frame.start), CharId.parse(frame.end)

        async def known(room: Room) -> bool:
            return room.doc.has(start) and room.doc.has(end)

        if not await session.in_room(known):
            raise UnknownIdError("the comment's anchor names characters the document lacks")
        comment = NewComment(
            id=frame.id,
            thread_id=frame.id,
            author_id=session.user_id,
            body=body,
            anchor_start=str(start),
            anchor_end=str(end),
            quote=frame.quote,
            mentions=await self._mentions(session.doc_id, frame.mentions),
        )
        await self._store_new(session, comment)

    async def _reply(self, session: Session, frame: ReplyComment) -> None:
        body = _body(frame.body)
        thread = await self._store.get_comment(session.doc_id, frame.thread)
        if thread is None:
            raise NotFoundError("no such thread (it may have been deleted)")
        comment = NewComment(
            id=frame.id,
            thread_id=thread.thread_id,  # a reply to a reply joins the same thread
            author_id=session.user_id,
            body=body,
            mentions=await self._mentions(session.doc_id, frame.mentions),
        )
        await self._store_new(session, comment)

    async def _store_new(self, session: Session, comment: NewComment) -> None:
        stored, created = await self._store.add_comment(session.doc_id, comment)
        if not created:
            if stored.author_id != session.user_id:
                raise ConflictError("this comment id is taken; choose another")
            session.send(_text(CommentUpsert(comment_info(stored))))  # a re-send: answer it
            return
        await self._broadcast(session.doc_id, CommentUpsert(comment_info(stored)))
        earlier = await self._store.list_comments(session.doc_id)
        participants: list[str] = []
        for c in earlier:
            if (
                c.thread_id == stored.thread_id
                and c.author_id != stored.author_id
                and c.author_id not in participants
            ):
                participants.append(c.author_id)
        await self._extensions.emit(
            CommentPosted(
                doc_id=session.doc_id,
                comment_id=stored.id,
                thread_id=stored.thread_id,
                author_id=stored.author_id,
                body=stored.body,
                participants=tuple(participants),
                mentioned=stored.mentions,
            )
        )

    async def _own(self, session: Session, comment_id: str, verb: str) -> Comment | None:
        found = await self._store.get_comment(session.doc_id, comment_id)
        if found is not None and found.author_id != session.user_id:
            raise ForbiddenError(f"you can {verb} only your own comments")
        return found

    async def _edit(self, session: Session, frame: EditComment) -> None:
        body = _body(frame.body)
        if await self._own(session, frame.id, "edit") is None:
            raise NotFoundError("no such comment (it may have been deleted)")
        mentions = await self._mentions(session.doc_id, frame.mentions)
        edited = await self._store.edit_comment(session.doc_id, frame.id, body, mentions)
        if edited is None:
            raise NotFoundError("no such comment (it may have been deleted)")
        await self._broadcast(session.doc_id, CommentUpsert(comment_info(edited)))

    async def _delete(self, session: Session, frame: DeleteComment) -> None:
        if await self._own(session, frame.id, "delete") is None:
            session.send(_text(CommentsRemoved([frame.id])))  # gone already: a re-send
            return
        gone = await self._store.delete_comment(session.doc_id, frame.id)
        if gone:
            await self._broadcast(session.doc_id, CommentsRemoved(gone))

    async def _resolve(self, session: Session, frame: ResolveComment) -> None:
        thread = await self._store.set_thread_resolved(session.doc_id, frame.id, frame.resolved)
        if thread is None:
            raise NotFoundError("no such thread (it may have been deleted)")
        await self._broadcast(session.doc_id, CommentUpsert(comment_info(thread)))

    # --- helpers ---------------------------------------------------------------------------------

    async def _mentions(self, doc_id: str, user_ids: Sequence[str]) -> tuple[str, ...]:
        """The mentioned users who have access to the document (owner or grant), in order."""
        kept: list[str] = []
        for user_id in dict.fromkeys(user_ids):
            found = await self._store.get_role(doc_id, user_id)
            if found is not None and found[1] is not None:
                kept.append(user_id)
        return tuple(kept)

    async def _broadcast(self, doc_id: str, frame: CommentUpsert | CommentsRemoved) -> None:
        await relay.broadcast(self._hub, self._peers, doc_id, _text(frame))
