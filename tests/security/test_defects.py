"""Small defects found on the way: hostile input gets a clear 4xx (or an error frame), never a 500.

An export title outside Latin-1, a WebSocket frame nested 5,000 deep, integers beyond 64 bits in
paths and queries, and a JSON-only request for an unknown page.
"""

from __future__ import annotations

from urllib.parse import unquote

from litestar import Litestar
from litestar.testing import AsyncTestClient

from testkit.accounts import Users
from testkit.processes import ServerProcess
from testkit.raw import RawPeer, replica
from tests.web.api import assert_error, create_document, register

Client = AsyncTestClient[Litestar]


async def test_export_of_a_title_outside_latin_1_names_the_file_per_rfc_6266(
    client: Client,
) -> None:
    ann = await register(client)
    doc = await create_document(client, ann, "Отчёт 会议 ✓")
    response = await client.get(f"/documents/{doc['id']}/export", headers=ann.headers)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.isascii()
    assert 'filename="' in disposition  # the ASCII fallback for old clients
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "Отчёт 会议.txt"
    accented = await create_document(client, ann, 'Café "menu"; v2')
    response = await client.get(
        f"/documents/{accented['id']}/export", params={"format": "md"}, headers=ann.headers
    )
    assert response.status_code == 200
    assert 'filename="Cafe _menu_ v2.md"' in response.headers["content-disposition"]


async def test_integers_beyond_range_in_paths_and_queries_are_400_not_500(client: Client) -> None:
    ann = await register(client)
    doc = await create_document(client, ann, "Ranges")
    base = f"/documents/{doc['id']}"
    for method, path in (
        ("GET", f"{base}/history?from=9223372036854775807"),
        ("GET", f"{base}/history?from=-1"),
        ("GET", f"{base}/history?limit=18446744073709551616"),
        ("GET", f"{base}/versions/18446744073709551615"),
        ("GET", f"{base}/versions/0"),
        ("POST", f"{base}/versions/18446744073709551615/restore"),
        ("GET", "/suggest/titles?q=a&limit=99999999999999999999"),
        ("GET", f"{base}/suggest?q=a&limit=-9223372036854775809"),
    ):
        response = await client.request(method, path, headers=ann.headers)
        body = assert_error(response, 400, "VALIDATION_ERROR")
        assert body["error"]["message"], path
    message = (
        await client.get(f"{base}/history?from=99999999999999999", headers=ann.headers)
    ).json()
    assert "from must be between 0 and 9007199254740991" in message["error"]["message"]
    # In range, the same routes answer normally.
    assert (
        await client.get(f"{base}/history?from=9007199254740991", headers=ann.headers)
    ).status_code == 200
    assert_error(await client.get(f"{base}/versions/9007199254740991", headers=ann.headers), 404)


async def test_an_unknown_page_requested_as_json_gets_a_json_404(client: Client) -> None:
    response = await client.get("/no/such/page", headers={"Accept": "application/json"})
    assert_error(response, 404, "NOT_FOUND")
    assert_error(
        await client.get("/settings/profile", headers={"Accept": "application/problem+json"}), 404
    )
    # A browser (or anyone who accepts HTML) still gets the web app for its client-side routes.
    for accept in ("text/html,application/xhtml+xml,*/*;q=0.8", "*/*", "application/json, */*"):
        page = await client.get("/no/such/page", headers={"Accept": accept})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


async def test_a_frame_nested_5000_deep_gets_bad_message_and_the_socket_stays_open(
    users: Users, server: ServerProcess
) -> None:
    ann = await users.new("ann")
    doc = await ann.create_document("Deep")
    peer = await RawPeer.open(server.url, doc["id"], ann.access_token)
    rid = replica()
    deep = '{"type": "cursor", "extra": ' + "[" * 5000 + "]" * 5000 + "}"
    deeper = '{"x":' * 5000 + "1" + "}" * 5000
    await peer.send(deep)  # before hello
    assert (await peer.recv_type("error"))["code"] == "bad_message"
    await peer.hello(rid)
    for frame in (deep, deeper):
        await peer.send(frame)
        assert (await peer.recv_type("error"))["code"] == "bad_message"
    await peer.send(
        {
            "type": "ops",
            "ref": 1,
            "ops": [{"kind": "ins", "id": f"{rid}:1", "after": None, "text": "alive"}],
        }
    )
    assert (await peer.recv_type("ack"))["ref"] == 1
    await peer.close()
    assert "RecursionError" not in server.log()


async def test_a_hello_with_a_since_beyond_range_is_refused_with_4400(
    users: Users, server: ServerProcess
) -> None:
    ann = await users.new("ann")
    doc = await ann.create_document("Since")
    peer = await RawPeer.open(server.url, doc["id"], ann.access_token)
    await peer.send({"type": "hello", "replica": replica(), "since": 2**63 - 1})
    assert (await peer.recv_type("error"))["code"] == "bad_message"
    code, _ = await peer.closed()
    assert code == 4400
