"""Accounts for tests and benchmarks: registered over REST, or as signed-in Python clients.

Registering is setup, not the subject, of almost every test: ``register`` (a base URL or an
``httpx.Client``), ``register_async`` (an ``httpx.AsyncClient``, e.g. Litestar's test client) and
``Users`` (``DocStreamClient`` objects closed at the end) all make a fresh account with a unique
email, so tests sharing one server never collide.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from docstream.client import DocStreamClient

PASSWORD = "correct horse battery"


def unique_email(tag: str = "user") -> str:
    """An address no other test (or earlier run against the same database) has used."""
    return f"{tag}-{secrets.token_hex(6)}@example.com"


@dataclass(frozen=True)
class Account:
    """A registered account with its tokens."""

    id: str
    email: str
    password: str
    name: str
    access_token: str
    refresh_token: str

    @property
    def token(self) -> str:
        return self.access_token

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _body(email: str | None, password: str, name: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"email": email or unique_email(), "password": password}
    if name is not None:
        body["name"] = name
    return body


def _account(response: httpx.Response, password: str) -> Account:
    assert response.status_code == 201, response.text
    data = response.json()
    return Account(
        id=data["user"]["id"],
        email=data["user"]["email"],
        password=password,
        name=data["user"]["name"],
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
    )


def register(
    http: str | httpx.Client,
    email: str | None = None,
    password: str = PASSWORD,
    name: str | None = None,
) -> Account:
    """Register through ``POST /auth/register`` of a base URL or a client with a base URL."""
    body = _body(email, password, name)
    if isinstance(http, str):
        response = httpx.post(f"{http}/auth/register", json=body, timeout=30)
    else:
        response = http.post("/auth/register", json=body)
        http.cookies.clear()
    return _account(response, password)


async def register_async(
    client: httpx.AsyncClient,
    email: str | None = None,
    password: str = PASSWORD,
    name: str | None = None,
) -> Account:
    """Register through an async client (Litestar's test client is one)."""
    response = await client.post("/auth/register", json=_body(email, password, name))
    # The response also sets the HttpOnly auth cookie; the tests authenticate with explicit
    # headers, so forget it (or every later "anonymous" request would be signed in).
    client.cookies.clear()
    return _account(response, password)


class Users:
    """Registers users as Python clients against a server and closes them at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clients: list[DocStreamClient] = []

    async def new(self, name: str = "user") -> DocStreamClient:
        client = DocStreamClient(self.url)
        self.clients.append(client)
        await client.register(unique_email(name), "password123", name.capitalize())
        return client

    def anonymous(self) -> DocStreamClient:
        client = DocStreamClient(self.url)
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


async def shared_doc(
    users: Users, role: str = "editor"
) -> tuple[DocStreamClient, DocStreamClient, str]:
    """A document of a new owner shared with another new user: (owner, other, document id)."""
    owner = await users.new("owner")
    other = await users.new("other")
    doc = await owner.create_document("Shared")
    assert owner.user is not None and other.user is not None
    await owner.share(doc["id"], other.user["email"], role)
    return owner, other, doc["id"]
