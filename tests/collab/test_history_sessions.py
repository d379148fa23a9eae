"""History sessions (``GET /documents/{id}/sessions``) and the text at a seq
(``GET /documents/{id}/text``) on a real server, on each backend; the grouping rule on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from docstream.client import ApiError
from docstream.services.sessions import SessionGrouper
from docstream.storage.base import EditRun
from testkit.accounts import Users
from testkit.processes import ServerProcess

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def run(first: int, last: int, user: str, start: float, end: float, ins: int = 1, dels: int = 0):
    return EditRun(
        user_id=user,
        first_seq=first,
        last_seq=last,
        started_at=T0 + timedelta(seconds=start),
        ended_at=T0 + timedelta(seconds=end),
        inserted=ins,
        deleted=dels,
        edits=last - first + 1,
        user_name=user.title(),
    )


def test_a_session_is_one_authors_runs_without_a_two_minute_pause() -> None:
    # Runs as the store sums them up; a chunk boundary may cut one run in two (seqs 1-2 and 3).
    log = [
        run(1, 2, "ann", 0, 60, ins=8),
        run(3, 3, "ann", 179, 179, ins=0, dels=2),  # 119 s after the last: same session
        run(4, 4, "ann", 299, 299, ins=4),  # exactly 120 s: a new one
        run(5, 5, "bob", 300, 300),  # another author: a new one
        run(6, 6, "ann", 301, 301),  # back to Ann: a new one
    ]
    grouper = SessionGrouper()
    for r in reversed(log):
        grouper.feed(r)
    got = [
        (s.author, s.first_seq, s.last_seq, s.inserted, s.deleted, s.edits)
        for s in grouper.finish()
    ]
    assert got == [
        ("ann", 6, 6, 1, 0, 1),
        ("bob", 5, 5, 1, 0, 1),
        ("ann", 4, 4, 4, 0, 1),
        ("ann", 1, 3, 8, 2, 3),
    ]
    first = grouper.done[-1]
    assert first.started_at == T0 and first.ended_at == T0 + timedelta(seconds=179)


async def test_sessions_group_by_author_paginate_and_give_before_and_after_texts(
    server: ServerProcess,
) -> None:
    users = Users(server.url)
    try:
        ann = await users.new("ann")
        bob = await users.new("bob")
        doc = await ann.create_document("Sessions")
        doc_id = doc["id"]
        await ann.share(doc_id, bob.user["email"], "editor")  # type: ignore[index]
        async with ann.open(doc_id) as a, bob.open(doc_id) as b:
            for ch in "hello":  # five messages, one session
                a.insert(len(a.text), ch)
                await a.synced()
            await b.wait_for(lambda d: d.text == "hello")
            b.insert(5, " world")
            await b.synced()
            b.delete(0, 1)
            await b.synced()
            await a.wait_for(lambda d: d.text == "ello world")
            a.insert(0, "H")
            await a.synced()
        page = await ann.request("GET", f"/documents/{doc_id}/sessions")
        got = [(s["user_name"], s["inserted"], s["deleted"], s["edits"]) for s in page["sessions"]]
        assert got == [("Ann", 1, 0, 1), ("Bob", 6, 1, 2), ("Ann", 5, 0, 5)]
        assert page["next"] is None
        assert page["sessions"][0]["author"] == ann.user["id"]  # type: ignore[index]
        oldest = page["sessions"][2]
        assert (oldest["first_seq"], oldest["last_seq"]) == (1, 5)
        assert oldest["started_at"] <= oldest["ended_at"]

        # One session per page, following ``next``.
        seen, before = [], None
        while True:
            params = {"limit": 1, **({"before": before} if before else {})}
            one = await ann.request("GET", f"/documents/{doc_id}/sessions", params=params)
            seen += [(s["first_seq"], s["last_seq"]) for s in one["sessions"]]
            before = one["next"]
            if before is None:
                break
        assert seen == [(s["first_seq"], s["last_seq"]) for s in page["sessions"]]

        # The before and after of Bob's session, for the diff view.
        bobs = page["sessions"][1]
        before_text = await bob.request(
            "GET", f"/documents/{doc_id}/text", params={"seq": bobs["first_seq"] - 1}
        )
        after_text = await bob.request(
            "GET", f"/documents/{doc_id}/text", params={"seq": bobs["last_seq"]}
        )
        assert before_text == {"seq": 5, "text": "hello"}
        assert after_text == {"seq": 7, "text": "ello world"}
        # Whose each replica is, for the authorship colours.
        authors = await bob.request("GET", f"/documents/{doc_id}/authors")
        by_user = {a["user_id"]: a["user_name"] for a in authors}
        assert by_user == {ann.user["id"]: "Ann", bob.user["id"]: "Bob"}  # type: ignore[index]
        assert len(authors) == 2 and all(a["replica"] for a in authors)
        assert set(authors[0]) == {"replica", "user_id", "user_name"}  # no addresses
        empty = await ann.request("GET", f"/documents/{doc_id}/text", params={"seq": 0})
        assert empty == {"seq": 0, "text": ""}
        beyond = await ann.request("GET", f"/documents/{doc_id}/text", params={"seq": 10**9})
        assert beyond == {"seq": 8, "text": "Hello world"}
    finally:
        await users.close()


async def test_sessions_and_old_texts_are_closed_to_outsiders_and_bad_input(
    server: ServerProcess,
) -> None:
    users = Users(server.url)
    try:
        owner = await users.new("owner")
        stranger = await users.new("stranger")
        doc = await owner.create_document("Private past")
        doc_id = doc["id"]
        async with owner.open(doc_id) as live:
            live.insert(0, "secret draft")
            await live.synced()
            live.delete(0, len("secret draft"))
            live.insert(0, "public text")
            await live.synced()
        for path, params in (("sessions", {}), ("text", {"seq": 1}), ("authors", {})):
            with pytest.raises(ApiError) as refused:
                await stranger.request("GET", f"/documents/{doc_id}/{path}", params=params)
            assert refused.value.status in (403, 404)
            assert "secret" not in str(refused.value)
        # Someone with only the public link sees nothing from before the link was made.
        public = await owner.set_public(doc_id, True)
        guest = users.anonymous()
        guest.use_link(public["link_token"], doc_id)
        seen = await guest.request("GET", f"/documents/{doc_id}/sessions")
        assert seen == {"sessions": [], "next": None}
        assert await guest.request("GET", f"/documents/{doc_id}/authors") == []
        with pytest.raises(ApiError) as hidden:
            await guest.request("GET", f"/documents/{doc_id}/text", params={"seq": 1})
        assert hidden.value.status == 404
        # Garbage and out-of-range numbers are clear 400s.
        for path, params in (
            ("sessions", {"before": 0}),
            ("sessions", {"before": 2**63}),
            ("sessions", {"limit": 0}),
            ("sessions", {"limit": 101}),
            ("sessions", {"before": "x"}),
            ("text", {}),
            ("text", {"seq": -1}),
            ("text", {"seq": 2**64}),
            ("text", {"seq": "abc"}),
        ):
            with pytest.raises(ApiError) as bad:
                await owner.request("GET", f"/documents/{doc_id}/{path}", params=params)
            assert bad.value.status == 400, (path, params)
            assert bad.value.code == "VALIDATION_ERROR"
    finally:
        await users.close()
