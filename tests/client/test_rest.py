"""The Python client's REST side without a server: httpx answers from an in-process handler."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from docstream.client import ApiError, DocStreamClient, LiveDocument
from docstream.client.driver import LINK_HEADER

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


def client_with(handler: Handler, **kwargs: str) -> DocStreamClient:
    client = DocStreamClient("http://docstream.test/", **kwargs)  # type: ignore[arg-type]
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    client._http = httpx.AsyncClient(base_url=client.base_url, transport=transport)
    return client


def tokens(n: int) -> dict[str, object]:
    return {"access_token": f"access-{n}", "refresh_token": f"refresh-{n}", "user": {"id": "u1"}}


async def test_login_keeps_the_tokens_and_sends_the_access_token_afterwards() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/auth/login":
            return httpx.Response(200, json=tokens(1))
        return httpx.Response(200, json={"id": "d1"})

    async with client_with(handler) as client:
        await client.login("ann@example.com", "pw")
        assert (client.access_token, client.refresh_token) == ("access-1", "refresh-1")
        assert client.user == {"id": "u1"}
        assert await client.get_document("d1") == {"id": "d1"}
    assert "authorization" not in seen[0].headers
    assert json.loads(seen[0].content) == {"email": "ann@example.com", "password": "pw"}
    assert seen[1].headers["authorization"] == "Bearer access-1"


async def test_an_error_reply_raises_api_error_with_its_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "NOT_FOUND", "message": "no such document"}}
        return httpx.Response(404, json=body)

    async with client_with(handler) as client:
        with pytest.raises(ApiError) as info:
            await client.get_document("nope")
    assert (info.value.status, info.value.code, info.value.message) == (
        404,
        "NOT_FOUND",
        "no such document",
    )


async def test_an_error_reply_that_is_not_the_envelope_is_still_an_api_error() -> None:
    async with client_with(lambda request: httpx.Response(502, text="bad gateway")) as client:
        with pytest.raises(ApiError) as info:
            await client.request("GET", "/health")
    assert (info.value.status, info.value.code, info.value.message) == (
        502,
        "HTTP_ERROR",
        "bad gateway",
    )


async def test_an_empty_reply_is_none() -> None:
    async with client_with(lambda request: httpx.Response(204)) as client:
        assert await client.request("DELETE", "/documents/d1") is None


async def test_a_public_link_goes_with_every_request_about_its_document_only() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async with client_with(handler) as client:
        doc_id = client.use_link("https://host.example/d/doc%201#link=tok3n")
        assert doc_id == "doc 1" and client.links == {"doc 1": "tok3n"}
        await client.request("GET", "/documents/doc 1/history")
        await client.request("GET", "/documents/other")
        await client.request("GET", "/suggest/titles")
    assert seen[0].headers[LINK_HEADER] == "tok3n"
    assert LINK_HEADER not in seen[1].headers and LINK_HEADER not in seen[2].headers


@pytest.mark.parametrize(
    "link", ["https://host/elsewhere#link=x", "https://host/d/doc", "https://host/d/a/b#link=x"]
)
def test_a_link_that_is_not_a_document_link_is_refused(link: str) -> None:
    client = DocStreamClient("http://docstream.test")
    with pytest.raises(ValueError, match="not a DocStream document link"):
        client.use_link(link)


def test_a_bare_link_token_needs_its_document_id() -> None:
    client = DocStreamClient("http://docstream.test")
    assert client.use_link("tok", "d9") == "d9"
    assert client.links == {"d9": "tok"}


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws/document/d1"),
        ("https://docs.example/", "wss://docs.example/ws/document/d1"),
    ],
)
def test_the_socket_address_follows_the_base_url(base: str, url: str) -> None:
    assert DocStreamClient(base).ws_url("d1") == url


def test_open_makes_a_live_document_with_its_link() -> None:
    client = DocStreamClient("http://docstream.test")
    live = client.open("d1", replica="replica-xyz1", link="tok")
    assert isinstance(live, LiveDocument)
    assert live.replica == "replica-xyz1" and live.text == "" and live.seq == 0
    assert client.links == {"d1": "tok"}


async def test_concurrent_refreshes_of_one_stale_token_refresh_once() -> None:
    refreshes: list[str] = []

    async def refresh_once(request: httpx.Request) -> httpx.Response:
        refreshes.append(json.loads(request.content)["refresh_token"])
        await asyncio.sleep(0.01)
        return httpx.Response(200, json=tokens(len(refreshes) + 1))

    client = client_with(refresh_once, access_token="access-1")
    client.refresh_token = "refresh-1"
    async with client:
        await asyncio.gather(*(client.refresh(stale="access-1") for _ in range(3)))
    assert refreshes == ["refresh-1"]
    assert (client.access_token, client.refresh_token) == ("access-2", "refresh-2")


async def test_a_refresh_without_a_refresh_token_is_unauthorized() -> None:
    async with client_with(lambda request: httpx.Response(500)) as client:
        with pytest.raises(ApiError) as info:
            await client.refresh()
    assert info.value.status == 401
