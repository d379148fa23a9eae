"""``GET /documents`` rows over HTTP on both backends: the owner's name, never an address."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.web.api import create_document, register

Client = AsyncTestClient[Litestar]


async def test_rows_name_the_owner_and_say_nobody_edited_yet(client: Client) -> None:
    ann, bob = await register(client), await register(client)
    doc = await create_document(client, ann, "Shared plan")
    response = await client.post(
        f"/documents/{doc['id']}/share",
        json={"email": bob.email, "role": "viewer"},
        headers=ann.headers,
    )
    assert response.status_code == 200, response.text
    response = await client.get("/documents", headers=bob.headers)
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == doc["id"] and row["role"] == "viewer"
    assert row["owner_name"] == ann.name
    assert row["last_edited_by"] is None
    assert row["updated_at"] == doc["updated_at"]
    assert ann.email not in response.text  # a viewer does not learn the owner's address
