"""``POST /documents/import``: an uploaded .txt/.md file becomes a document of the caller."""

from __future__ import annotations

import base64
from typing import Any

from litestar.testing import AsyncTestClient

from docstream.collab.extensions import ActionTaken, Extension
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from tests.web.api import assert_error, register


class Heard(Extension):
    name = "heard"

    def __init__(self) -> None:
        self.actions: list[ActionTaken] = []

    async def action_taken(self, event: ActionTaken) -> None:
        self.actions.append(event)


def upload(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "data": base64.b64encode(data).decode()}


async def test_an_imported_file_opens_as_a_document_of_its_importer(
    make_settings: SettingsFactory,
) -> None:
    async with AsyncTestClient(create_app(make_settings())) as client:
        heard = Heard()
        client.app.state.services.documents.extensions.add(heard)
        ann, eve = await register(client), await register(client)
        text = "Intro\r\n# Plan “B” 📄\n\n- one\n- two\n"
        r = await client.post(
            "/documents/import", json=upload("plan.MD", text.encode()), headers=ann.headers
        )
        assert r.status_code == 201, r.text
        doc = r.json()
        assert doc["title"] == "Plan “B” 📄" and doc["role"] == "owner" and doc["seq"] == 1
        opened = (await client.get(f"/documents/{doc['id']}", headers=ann.headers)).json()
        assert opened["text"] == text.replace("\r\n", "\n") and opened["seq"] == 1
        listed = (await client.get("/documents", headers=ann.headers)).json()
        assert [d["id"] for d in listed] == [doc["id"]]
        imported = [a for a in heard.actions if a.action == "document.imported"]
        assert [(a.actor_id, a.doc_id, dict(a.detail)["file"]) for a in imported] == [
            (ann.id, doc["id"], "plan.MD")
        ]
        assert imported[0].ip
        # Nobody else sees it.
        assert_error(await client.get(f"/documents/{doc['id']}", headers=eve.headers), 404)
        r = await client.post(
            "/documents/import", json=upload("notes.txt", b"plain"), headers=ann.headers
        )
        assert r.json()["title"] == "notes"


async def test_bad_files_are_refused_and_create_nothing(make_settings: SettingsFactory) -> None:
    settings = make_settings(max_document_chars=100, import_max_bytes=1000)
    async with AsyncTestClient(create_app(settings)) as client:
        ann = await register(client)

        async def refused(body: Any, status: int, message: str, **kw: Any) -> None:
            r = await client.post("/documents/import", json=body, headers=ann.headers, **kw)
            error = assert_error(r, status)
            assert message in error["error"]["message"], error

        await refused(upload("bad.txt", b"ok \xc3\x28 no"), 400, "not UTF-8 text")
        await refused(upload("nul.md", b"a\x00b"), 400, "NUL")
        await refused(upload("long.txt", b"x" * 101), 413, "more than the limit of 100")
        await refused(upload("big.txt", b"x" * 1001), 413, "larger than 1000 bytes")
        await refused(upload("x.exe", b"MZ"), 400, "not a .txt or .md file")
        await refused(upload("../etc/passwd.txt", b"x"), 400, "name must be a file name")
        await refused(upload("", b"x"), 400, "name must be a file name")
        await refused({**upload("a.txt", b"x"), "owner": "someone"}, 400, "")
        await refused({"name": "a.txt", "data": "not base64!"}, 400, "")
        # A body far over the limit is cut off before it is read.
        huge = upload("huge.txt", b"x" * 10_000)
        r = await client.post("/documents/import", json=huge, headers=ann.headers)
        assert_error(r, 413)
        assert (await client.get("/documents", headers=ann.headers)).json() == []
        # Signed out: nothing.
        r = await client.post("/documents/import", json=upload("a.txt", b"x"))
        assert_error(r, 401)


async def test_the_document_quota_applies(make_settings: SettingsFactory) -> None:
    async with AsyncTestClient(create_app(make_settings(max_documents_per_user=1))) as client:
        ann = await register(client)
        body = upload("a.txt", b"one")
        assert (
            await client.post("/documents/import", json=body, headers=ann.headers)
        ).status_code == 201
        r = await client.post("/documents/import", json=body, headers=ann.headers)
        assert_error(r, 403, "QUOTA_EXCEEDED")
