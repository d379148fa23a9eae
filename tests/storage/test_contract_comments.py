"""The comments part of the store contract, on SQLite, PostgreSQL and memory: ids chosen by the
client (a re-send stores nothing new), threads, edits, deletes with replies, resolving, the
commenter grant, and the cascades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from docstream.errors import NotFoundError
from docstream.storage.base import DocumentStore, NewComment


async def _setup(store: DocumentStore) -> tuple[str, str, str]:
    alice = await store.register_user("alice@example.com", "Alice", "hash")
    bob = await store.register_user("bob@example.com", "Bob", "hash")
    doc = await store.create_document(alice.id, "Notes")
    return doc.id, alice.id, bob.id


def _thread(cid: str, author: str, body: str = "Why?") -> NewComment:
    return NewComment(
        id=cid,
        thread_id=cid,
        author_id=author,
        body=body,
        anchor_start="1@aaaaaaaa",
        anchor_end="4@aaaaaaaa",
        quote="word",
        mentions=("u1",),
    )


async def test_a_thread_and_its_replies_are_stored_and_listed_oldest_first(
    store: DocumentStore,
) -> None:
    doc_id, alice, bob = await _setup(store)
    first, created = await store.add_comment(doc_id, _thread("c-1", alice))
    assert created
    assert (first.id, first.thread_id, first.author_id, first.author_name) == (
        "c-1",
        "c-1",
        alice,
        "Alice",
    )
    assert (first.anchor_start, first.anchor_end, first.quote) == (
        "1@aaaaaaaa",
        "4@aaaaaaaa",
        "word",
    )
    assert first.mentions == ("u1",)
    assert not first.resolved and first.version == 1 and first.edited_at is None
    reply, _ = await store.add_comment(
        doc_id, NewComment(id="c-2", thread_id="c-1", author_id=bob, body="Because.")
    )
    assert reply.anchor_start == "" and reply.author_name == "Bob"
    listed = await store.list_comments(doc_id)
    assert [c.id for c in listed] == ["c-1", "c-2"]
    assert await store.get_comment(doc_id, "c-2") == reply
    assert await store.get_comment(doc_id, "nope") is None


async def test_a_resent_id_stores_nothing_new_and_returns_the_first(store: DocumentStore) -> None:
    doc_id, alice, bob = await _setup(store)
    first, _ = await store.add_comment(doc_id, _thread("c-1", alice, "original"))
    again, created = await store.add_comment(doc_id, _thread("c-1", bob, "impostor"))
    assert not created
    assert again == first and again.body == "original" and again.author_id == alice
    assert len(await store.list_comments(doc_id)) == 1


async def test_the_same_id_on_another_document_is_another_comment(store: DocumentStore) -> None:
    doc_id, alice, _ = await _setup(store)
    other = await store.create_document(alice, "Other")
    await store.add_comment(doc_id, _thread("c-1", alice, "here"))
    there, created = await store.add_comment(other.id, _thread("c-1", alice, "there"))
    assert created and there.body == "there"
    assert [c.body for c in await store.list_comments(doc_id)] == ["here"]


async def test_edit_changes_body_mentions_and_version(store: DocumentStore) -> None:
    doc_id, alice, _ = await _setup(store)
    await store.add_comment(doc_id, _thread("c-1", alice))
    edited = await store.edit_comment(doc_id, "c-1", "Better question", ("u2", "u3"))
    assert edited is not None
    assert edited.body == "Better question" and edited.mentions == ("u2", "u3")
    assert edited.version == 2 and edited.edited_at is not None
    assert await store.edit_comment(doc_id, "missing", "x", ()) is None


async def test_deleting_a_thread_deletes_its_replies_and_a_reply_only_itself(
    store: DocumentStore,
) -> None:
    doc_id, alice, bob = await _setup(store)
    await store.add_comment(doc_id, _thread("t-1", alice))
    await store.add_comment(doc_id, NewComment(id="r-1", thread_id="t-1", author_id=bob, body="a"))
    await store.add_comment(doc_id, NewComment(id="r-2", thread_id="t-1", author_id=bob, body="b"))
    await store.add_comment(doc_id, _thread("t-2", bob))
    assert await store.delete_comment(doc_id, "r-1") == ["r-1"]
    assert await store.delete_comment(doc_id, "r-1") == []
    assert await store.delete_comment(doc_id, "t-1") == ["r-2", "t-1"]
    assert [c.id for c in await store.list_comments(doc_id)] == ["t-2"]


async def test_resolve_and_reopen_only_a_thread(store: DocumentStore) -> None:
    doc_id, alice, bob = await _setup(store)
    await store.add_comment(doc_id, _thread("t-1", alice))
    await store.add_comment(doc_id, NewComment(id="r-1", thread_id="t-1", author_id=bob, body="a"))
    resolved = await store.set_thread_resolved(doc_id, "t-1", True)
    assert resolved is not None and resolved.resolved and resolved.version == 2
    same = await store.set_thread_resolved(doc_id, "t-1", True)
    assert same is not None and same.version == 2  # no change, no new version
    reopened = await store.set_thread_resolved(doc_id, "t-1", False)
    assert reopened is not None and not reopened.resolved and reopened.version == 3
    assert await store.set_thread_resolved(doc_id, "r-1", True) is None  # a reply is no thread
    assert await store.set_thread_resolved(doc_id, "missing", True) is None


async def test_comments_go_with_their_document(store: DocumentStore) -> None:
    doc_id, alice, _ = await _setup(store)
    await store.add_comment(doc_id, _thread("t-1", alice))
    assert await store.delete_document(doc_id)
    assert await store.list_comments(doc_id) == []
    assert await store.get_comment(doc_id, "t-1") is None


async def test_a_comment_on_a_missing_document_is_not_found(store: DocumentStore) -> None:
    _, alice, _ = await _setup(store)
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotFoundError):
        await store.add_comment(missing, _thread("t-1", alice))


async def test_the_commenter_role_can_be_granted_and_read_back(store: DocumentStore) -> None:
    doc_id, _, bob = await _setup(store)
    await store.set_permission(doc_id, bob, "commenter")
    found = await store.get_role(doc_id, bob)
    assert found is not None and found[1] == "commenter"
    collaborators = await store.list_collaborators(doc_id)
    assert [c.role for c in collaborators if c.user_id == bob] == ["commenter"]


async def test_a_commenter_redeeming_a_viewer_invitation_stays_a_commenter(
    store: DocumentStore,
) -> None:
    doc_id, alice, bob = await _setup(store)
    await store.set_permission(doc_id, bob, "commenter")
    later = datetime.now(UTC) + timedelta(days=1)
    await store.create_invitation(doc_id, "b@example.com", "viewer", alice, "h1", later, 50)
    redeemed = await store.redeem_invitation("h1", bob)
    assert redeemed is not None and redeemed[1] == "commenter"
    await store.create_invitation(doc_id, "b@example.com", "editor", alice, "h2", later, 50)
    promoted = await store.redeem_invitation("h2", bob)
    assert promoted is not None and promoted[1] == "editor"
