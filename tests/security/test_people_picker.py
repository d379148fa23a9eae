"""The people picker: ``GET /people/suggest`` and sharing by ``user_id``.

Attacks: harvesting strangers (and addresses) through the suggestions, probing which user ids
exist by sharing with them, and a viewer or an editor sharing beyond their rights by id.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from docstream.web.limits import budget_of
from tests.web.api import Account, assert_error, create_document, register

Client = AsyncTestClient[Litestar]


async def share(client: Client, doc_id: str, by: Account, **body: Any) -> Any:
    return await client.post(f"/documents/{doc_id}/share", json=body, headers=by.headers)


async def suggest(client: Client, by: Account, q: str = "", **params: Any) -> list[dict[str, str]]:
    response = await client.get("/people/suggest", params={"q": q, **params}, headers=by.headers)
    assert response.status_code == 200, response.text
    people: list[dict[str, str]] = response.json()
    return people


async def circle(client: Client) -> dict[str, Any]:
    """Me, Ann Lee (editor of my document), Bob Stone (viewer of it), Carol (who shares a
    document with Ann only: a stranger to me) and an address I invited (no account)."""
    tag = secrets.token_hex(3)
    names = {"me": "Me Myself", "ann": "Ann Lee", "bob": "Bob Stone", "carol": "Carol Lee"}
    people = {
        key: await register(client, f"{key}.{tag}@example.com", name=name)
        for key, name in names.items()
    }
    mine = await create_document(client, people["me"], "Mine")
    assert (
        await share(client, mine["id"], people["me"], email=people["ann"].email, role="editor")
    ).status_code == 200
    assert (
        await share(client, mine["id"], people["me"], email=people["bob"].email, role="viewer")
    ).status_code == 200
    invited = await share(
        client, mine["id"], people["me"], email=f"new.{tag}@example.com", role="viewer"
    )
    assert invited.status_code == 200 and invited.json()["invitation_id"]
    carols = await create_document(client, people["carol"], "Carol's")
    assert (
        await share(client, carols["id"], people["carol"], email=people["ann"].email, role="viewer")
    ).status_code == 200
    return {"people": people, "mine": mine, "carols": carols}


async def test_suggestions_are_co_collaborators_by_word_prefix_without_addresses(
    client: Client,
) -> None:
    c = await circle(client)
    p = c["people"]
    listed = await suggest(client, p["me"])
    assert {x["id"] for x in listed} == {p["ann"].id, p["bob"].id}
    assert all(set(x) == {"id", "name"} for x in listed), listed
    assert [x["name"] for x in await suggest(client, p["me"], "lee")] == ["Ann Lee"]
    assert [x["name"] for x in await suggest(client, p["me"], "ST")] == ["Bob Stone"]
    assert [x["name"] for x in await suggest(client, p["me"], "ann l")] == ["Ann Lee"]
    assert await suggest(client, p["me"], "carol") == []  # Ann's collaborator, not mine
    assert await suggest(client, p["me"], "new") == []  # invited, no account yet
    assert len(await suggest(client, p["me"], "", limit=1)) == 1
    # Ann works with both me and Carol; Carol only with Ann.
    assert {x["name"] for x in await suggest(client, p["ann"])} == {
        "Me Myself",
        "Bob Stone",
        "Carol Lee",
    }
    assert [x["name"] for x in await suggest(client, p["carol"])] == ["Ann Lee"]
    text = str([await suggest(client, p[k]) for k in p])
    assert "@example.com" not in text


async def test_suggestions_need_a_signed_in_user_and_bounded_input(client: Client) -> None:
    assert_error(await client.get("/people/suggest?q=a"), 401)
    me = await register(client)
    for bad in ("limit=0", "limit=51", "q=" + "a" * 101):
        assert_error(await client.get(f"/people/suggest?{bad}", headers=me.headers), 400)


async def test_sharing_by_user_id_grants_a_co_collaborator_and_shows_no_address(
    client: Client,
) -> None:
    c = await circle(client)
    p = c["people"]
    mine2 = await create_document(client, p["me"], "Second")
    reply = await share(client, mine2["id"], p["me"], user_id=p["bob"].id, role="editor")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["user_id"] == p["bob"].id and body["name"] == "Bob Stone"
    assert body["role"] == "editor" and body["email"] is None
    opened = await client.get(f"/documents/{mine2['id']}", headers=p["bob"].headers)
    assert opened.status_code == 200 and opened.json()["role"] == "editor"


async def test_a_user_id_who_is_not_a_co_collaborator_is_answered_like_an_unknown_one(
    client: Client,
) -> None:
    c = await circle(client)
    p = c["people"]
    mine2 = await create_document(client, p["me"], "Second")
    answers = []
    for probe in (p["carol"].id, str(uuid.uuid4()), "not-an-id", p["me"].id):
        reply = await share(client, mine2["id"], p["me"], user_id=probe, role="viewer")
        answers.append(assert_error(reply, 404))
    assert all(a == answers[0] for a in answers), answers
    # Carol was not granted anything.
    assert_error(await client.get(f"/documents/{mine2['id']}", headers=p["carol"].headers), 404)


async def test_a_viewer_cannot_share_and_an_editor_cannot_grant_editor_by_user_id(
    client: Client,
) -> None:
    c = await circle(client)
    p, doc = c["people"], c["mine"]["id"]
    # Bob (viewer) cannot share at all, not even with his co-collaborator Ann.
    assert_error(await share(client, doc, p["bob"], user_id=p["ann"].id, role="viewer"), 403)
    # Ann (editor) cannot make Bob an editor, but can share her own document's viewers onward.
    assert_error(await share(client, doc, p["ann"], user_id=p["bob"].id, role="editor"), 403)
    role = await client.get(f"/documents/{doc}", headers=p["bob"].headers)
    assert role.json()["role"] == "viewer"
    # Ann cannot pull Carol (her co-collaborator, a stranger to the owner) up to editor either,
    # but may invite her to view.
    assert_error(await share(client, doc, p["ann"], user_id=p["carol"].id, role="editor"), 403)
    ok = await share(client, doc, p["ann"], user_id=p["carol"].id, role="viewer")
    assert ok.status_code == 200, ok.text
    # A link holder has no own role: cannot share by id either.
    public = await client.post(
        f"/documents/{doc}/share/public",
        json={"enabled": True, "role": "editor"},
        headers=p["me"].headers,
    )
    stranger = await register(client)
    linked = {**stranger.headers, "X-DocStream-Link": public.json()["link_token"]}
    reply = await client.post(
        f"/documents/{doc}/share", json={"user_id": p["ann"].id, "role": "viewer"}, headers=linked
    )
    assert_error(reply, 403)


async def test_a_share_body_names_exactly_one_person(client: Client) -> None:
    me = await register(client)
    doc = await create_document(client, me)
    for body in (
        {"role": "viewer"},
        {"role": "viewer", "email": "x@example.com", "user_id": str(uuid.uuid4())},
        {"role": "viewer", "user_id": "x" * 65},
    ):
        assert_error(await share(client, doc["id"], me, **body), 400, "VALIDATION_ERROR")


async def test_sharing_by_id_does_not_reveal_the_address_through_the_collaborators_list(
    client: Client,
) -> None:
    """Bob (a viewer of my document: he sees Ann's name, not her address) owns a document of
    his own and shares it with Ann by id: his collaborators list must not tell him her address.
    Once someone shares it with her address, the address was known and is shown."""
    c = await circle(client)
    p = c["people"]
    bobs = await create_document(client, p["bob"], "Bob's")
    assert (
        await share(client, bobs["id"], p["bob"], user_id=p["ann"].id, role="editor")
    ).status_code == 200
    path = f"/documents/{bobs['id']}/collaborators"
    listed = (await client.get(path, headers=p["bob"].headers)).json()
    ann = next(x for x in listed if x["user_id"] == p["ann"].id)
    assert ann["email"] is None and ann["name"] == "Ann Lee"
    assert p["ann"].email not in str(listed)
    # Ann herself sees her own address; a role change by id still hides it from Bob.
    mine = (await client.get(path, headers=p["ann"].headers)).json()
    assert next(x for x in mine if x["user_id"] == p["ann"].id)["email"] == p["ann"].email
    assert (
        await share(client, bobs["id"], p["bob"], user_id=p["ann"].id, role="viewer")
    ).status_code == 200
    assert p["ann"].email not in (await client.get(path, headers=p["bob"].headers)).text
    # Shared by address (Bob learnt it elsewhere): shown from now on.
    assert (
        await share(client, bobs["id"], p["bob"], email=p["ann"].email, role="viewer")
    ).status_code == 200
    assert p["ann"].email in (await client.get(path, headers=p["bob"].headers)).text


def test_the_picker_spends_the_typeahead_budget_like_the_other_suggestions() -> None:
    """One keystroke, one request: typing names must not eat the general API budget."""
    scope = {"type": "http", "path": "/people/suggest", "method": "GET"}
    assert budget_of(scope) == "typeahead"
