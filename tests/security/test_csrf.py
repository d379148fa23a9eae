"""The auth cookie cannot be ridden from another origin, and it is Secure over HTTPS.

The attacks are sent as a browser would send them from a page of another origin: with the
victim's cookie attached, a simple content type and the attacker's ``Origin``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from testkit.accounts import unique_email
from testkit.processes import ServerFactory, ServerProcess

PASSWORD = "password123"
EVIL = "https://evil.example"


@pytest.fixture
async def victim(server: ServerProcess) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser signed in on the server (its cookie jar holds the auth cookie), and the
    bearer token to look at the account's state from outside."""
    async with httpx.AsyncClient(base_url=server.url) as browser:
        reply = await browser.post(
            "/auth/register", json={"email": unique_email("victim"), "password": PASSWORD}
        )
        assert reply.status_code == 201 and browser.cookies.get("docstream_access")
        yield browser, reply.json()["access_token"]


async def titles(browser: httpx.AsyncClient, token: str) -> list[str]:
    listed = await browser.get("/documents", headers={"Authorization": f"Bearer {token}"})
    return [d["title"] for d in listed.json()]


async def test_a_cross_site_text_plain_post_with_the_cookie_is_refused(
    victim: tuple[httpx.AsyncClient, str],
) -> None:
    browser, token = victim
    response = await browser.post(
        "/documents",
        content=b'{"title": "planted by evil"}',
        headers={"Content-Type": "text/plain", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert await titles(browser, token) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},  # an old browser that sends no Origin
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": EVIL},
        {"Content-Type": "multipart/form-data; boundary=x", "Origin": EVIL},
        # A sibling origin of the same site (SameSite lets the cookie through) that got past
        # CORS somehow: JSON, but from an origin that is neither this one nor allowed.
        {"Content-Type": "application/json", "Origin": "http://evil.127.0.0.1.nip.io"},
        {"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"},
    ],
    ids=["text-no-origin", "form", "multipart", "json-foreign-origin", "json-same-site"],
)
async def test_other_state_changing_cookie_requests_from_elsewhere_are_refused(
    victim: tuple[httpx.AsyncClient, str], headers: dict[str, str]
) -> None:
    browser, token = victim
    created = await browser.post(
        "/documents", json={"title": "mine"}, headers={"Authorization": f"Bearer {token}"}
    )
    doc_id = created.json()["id"]
    body = b'{"title": "renamed by evil"}'
    for method, path in (
        ("POST", "/documents"),
        ("PATCH", f"/documents/{doc_id}"),
        ("DELETE", f"/documents/{doc_id}"),
        ("POST", "/auth/logout-all"),
    ):
        response = await browser.request(method, path, content=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
    assert await titles(browser, token) == ["mine"]


async def test_another_site_cannot_sign_a_visitor_in_to_its_account(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as attacker:
        email = unique_email("attacker")
        await attacker.post("/auth/register", json={"email": email, "password": PASSWORD})
    async with httpx.AsyncClient(base_url=server.url) as visitor:
        body = f'{{"email": "{email}", "password": "{PASSWORD}"}}'.encode()
        for headers in (
            {"Content-Type": "text/plain", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
            {"Content-Type": "application/json", "Origin": EVIL},
        ):
            response = await visitor.post("/auth/login", content=body, headers=headers)
            assert response.status_code == 403, response.text
            assert "set-cookie" not in response.headers
        assert not visitor.cookies.get("docstream_access")


async def test_the_web_uis_own_cookie_requests_keep_working(
    server: ServerProcess, victim: tuple[httpx.AsyncClient, str]
) -> None:
    browser, token = victim
    same_origin = [
        {"Origin": server.url, "Sec-Fetch-Site": "same-origin"},
        {"Origin": server.url},
        {"Sec-Fetch-Site": "same-origin"},
        {},  # not a browser: JSON is enough
    ]
    for n, headers in enumerate(same_origin):
        created = await browser.post("/documents", json={"title": f"ok {n}"}, headers=headers)
        assert created.status_code == 201, (headers, created.text)
    assert sorted(await titles(browser, token)) == [f"ok {n}" for n in range(len(same_origin))]
    # Reading with the cookie from anywhere is not a state change (CORS keeps the reply from
    # other origins' scripts).
    assert (await browser.get("/auth/me", headers={"Origin": EVIL})).status_code == 200


async def test_bearer_requests_are_not_affected(victim: tuple[httpx.AsyncClient, str]) -> None:
    browser, token = victim
    browser.cookies.clear()
    created = await browser.post(
        "/documents",
        content=b'{"title": "from a script"}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain", "Origin": EVIL},
    )
    assert created.status_code == 201, created.text


async def test_an_allowed_origin_may_use_the_cookie(start_server: ServerFactory) -> None:
    with start_server(env={"DOCSTREAM_ALLOWED_ORIGINS": "https://app.example"}) as server:
        async with httpx.AsyncClient(base_url=server.url) as browser:
            await browser.post(
                "/auth/register", json={"email": unique_email(), "password": PASSWORD}
            )
            ok = await browser.post(
                "/documents",
                json={"title": "from the dev server"},
                headers={"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site"},
            )
            assert ok.status_code == 201, ok.text
            refused = await browser.post(
                "/documents", json={"title": "x"}, headers={"Origin": EVIL}
            )
            assert refused.status_code == 403


def _secure(response: httpx.Response) -> bool:
    cookie = response.headers["set-cookie"].lower()
    assert "docstream_access=" in cookie and "httponly" in cookie
    return "; secure" in cookie


async def test_the_cookie_is_secure_when_a_trusted_proxy_says_https(
    start_server: ServerFactory,
) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    with start_server(env={"DOCSTREAM_TRUSTED_PROXIES": "127.0.0.1"}) as server:
        async with httpx.AsyncClient(base_url=server.url) as proxy:
            email = unique_email()
            reply = await proxy.post(
                "/auth/register", json={"email": email, "password": PASSWORD}, headers=forwarded
            )
            assert reply.status_code == 201 and _secure(reply)
            login = {"email": email, "password": PASSWORD}
            plain = await proxy.post("/auth/login", json=login)
            assert plain.status_code == 200 and not _secure(plain)
            refresh = await proxy.post(
                "/auth/refresh",
                json={"refresh_token": reply.json()["refresh_token"]},
                headers=forwarded,
            )
            assert refresh.status_code == 200 and _secure(refresh)
    # A client that is not a trusted proxy cannot decide what the connection was.
    with start_server() as server:
        async with httpx.AsyncClient(base_url=server.url) as stranger:
            reply = await stranger.post(
                "/auth/register",
                json={"email": unique_email(), "password": PASSWORD},
                headers=forwarded,
            )
            assert reply.status_code == 201 and not _secure(reply)
