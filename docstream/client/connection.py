"""The client's REST side: ``DocStreamClient`` (httpx) and a factory for live documents.

Every REST route the client uses is one method here; a live document (``client.open``) is a
``LiveDocument`` (``client/live.py``) that shares this client's tokens and public links. Tokens
are refreshed one caller at a time, because a refresh token works once (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from typing import Any, Self

import httpx

from docstream.client.driver import LINK_HEADER
from docstream.client.errors import ApiError
from docstream.client.live import LiveDocument


class DocStreamClient:
    """REST access and a factory for live documents. Use as an async context manager."""

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        """``token``: a personal API token (``dst_...``, made on the API tokens page or with
        :meth:`create_token`), for scripts: it works for every REST call its scope allows, never
        expires unless it was made to, and needs no refresh. Live documents need a signed-in
        session (:meth:`login`)."""
        if access_token is not None and token is not None:
            raise ValueError("give access_token or token, not both")
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token or token
        #: Whether this client calls with a personal API token.
        self.api_token = token is not None
        self.refresh_token: str | None = None
        self.user: dict[str, Any] | None = None
        #: Public link tokens by document id: sent (as ``X-DocStream-Link``) with every request
        #: about that document and on its WebSocket. See :meth:`use_link`.
        self.links: dict[str, str] = {}
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self._refreshing = asyncio.Lock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "documents" and parts[2] in self.links:
            headers[LINK_HEADER] = self.links[parts[2]]
        response = await self._http.request(method, path, json=json, params=params, headers=headers)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                code, message = error["code"], error["message"]
            except (ValueError, KeyError, TypeError):
                code, message = "HTTP_ERROR", response.text[:200]
            raise ApiError(response.status_code, code, message)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _take_tokens(self, body: dict[str, Any]) -> dict[str, Any]:
        self.api_token = False
        self.access_token = body["access_token"]
        self.refresh_token = body["refresh_token"]
        if "user" in body:
            self.user = body["user"]
        return body

    async def register(self, email: str, password: str, name: str | None = None) -> dict[str, Any]:
        return self._take_tokens(
            await self.request(
                "POST", "/auth/register", {"email": email, "password": password, "name": name}
            )
        )

    async def login(self, email: str, password: str) -> dict[str, Any]:
        return self._take_tokens(
            await self.request("POST", "/auth/login", {"email": email, "password": password})
        )

    async def refresh(self, stale: str | None = None) -> None:
        """Swap the refresh token for new tokens (a refresh token works once).

        Refreshes are serialised: several live documents of this client that lose their token
        at once refresh once, not once each (a second use of the same refresh token would sign
        the whole session out). ``stale``: the access token the caller found expired; if it has
        been replaced meanwhile, there is nothing to do.
        """
        async with self._refreshing:
            if stale is not None and self.access_token != stale:
                return  # another caller refreshed while this one waited
            if self.refresh_token is None:
                raise ApiError(401, "UNAUTHORIZED", "no refresh token")
            self._take_tokens(
                await self.request("POST", "/auth/refresh", {"refresh_token": self.refresh_token})
            )

    async def logout(self) -> None:
        """Sign this session out (its tokens and open sockets, on every node)."""
        await self.request("POST", "/auth/logout", {"refresh_token": self.refresh_token})
        self.access_token = self.refresh_token = None

    async def logout_all(self) -> None:
        """Sign out every session of this user."""
        await self.request("POST", "/auth/logout-all", {})
        self.access_token = self.refresh_token = None

    async def change_password(self, current: str, new: str) -> dict[str, Any]:
        """Other sessions are signed out; this client continues with the new tokens."""
        return self._take_tokens(
            await self.request(
                "POST", "/auth/password", {"current_password": current, "new_password": new}
            )
        )

    async def request_password_reset(self, email: str) -> dict[str, Any]:
        """ "Forgot password?": the same answer whatever the address (``emailed``: whether this
        server e-mails links)."""
        result: dict[str, Any] = await self.request(
            "POST", "/auth/password-reset", {"email": email}
        )
        return result

    async def reset_password(self, token: str, password: str) -> dict[str, Any]:
        """Use a reset link's token (the part after ``/reset/``): sets the password, signs out
        every session of the account and signs this client in."""
        return self._take_tokens(
            await self.request(
                "POST", "/auth/password-reset/confirm", {"token": token, "password": password}
            )
        )

    async def create_token(
        self, name: str, scope: str = "read", expires_in_days: int | None = None
    ) -> dict[str, Any]:
        """A personal API token (needs a signed-in session): ``secret`` is in this reply only."""
        result: dict[str, Any] = await self.request(
            "POST",
            "/auth/tokens",
            {"name": name, "scope": scope, "expires_in_days": expires_in_days},
        )
        return result

    async def list_tokens(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.request("GET", "/auth/tokens")
        return result

    async def revoke_token(self, token_id: str) -> None:
        await self.request("DELETE", f"/auth/tokens/{token_id}")

    async def accept_invitation(self, token: str) -> dict[str, Any]:
        """Redeem an invitation link's token (the part after ``/invite/``)."""
        result: dict[str, Any] = await self.request("POST", f"/invitations/{token}/accept")
        return result

    async def create_document(self, title: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("POST", "/documents", {"title": title})
        return result

    async def get_document(self, doc_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", f"/documents/{doc_id}")
        return result

    async def share(self, doc_id: str, email: str, role: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "POST", f"/documents/{doc_id}/share", {"email": email, "role": role}
        )
        return result

    async def set_public(self, doc_id: str, enabled: bool, role: str = "viewer") -> dict[str, Any]:
        """Turn the public link on or off (owner); the reply's ``link_token`` is the secret."""
        result: dict[str, Any] = await self.request(
            "POST", f"/documents/{doc_id}/share/public", {"enabled": enabled, "role": role}
        )
        return result

    async def reset_link(self, doc_id: str) -> dict[str, Any]:
        """Replace the public link (owner): every copy of the old one stops working."""
        result: dict[str, Any] = await self.request(
            "POST", f"/documents/{doc_id}/share/public/reset"
        )
        return result

    def use_link(self, link: str, doc_id: str | None = None) -> str:
        """Remember a public link for its document; return the document id.

        ``link`` is a shared page address (``https://host/d/<id>#link=<token>``) or, with
        ``doc_id``, the bare token.
        """
        if doc_id is None:
            parsed = urllib.parse.urlsplit(link)
            match = re.fullmatch(r"/d/([^/]+)/?", parsed.path)
            token = urllib.parse.parse_qs(parsed.fragment or parsed.query).get("link", [""])[0]
            if match is None or not token:
                raise ValueError(f"not a DocStream document link: {link!r}")
            doc_id, link = urllib.parse.unquote(match.group(1)), token
        self.links[doc_id] = link
        return doc_id

    def open(
        self, doc_id: str, *, replica: str | None = None, link: str | None = None
    ) -> LiveDocument:
        """A live replica of ``doc_id`` (``link``: a public link token, see :meth:`use_link`).

        Not with a personal API token: the WebSocket refuses them (sign in instead)."""
        if self.api_token:
            raise ApiError(
                401,
                "UNAUTHORIZED",
                "personal API tokens work with the REST API only; live editing needs login()",
            )
        if link is not None:
            self.use_link(link, doc_id)
        return LiveDocument(self, doc_id, replica=replica)

    def ws_url(self, doc_id: str) -> str:
        scheme = "wss" if self.base_url.startswith("https") else "ws"
        return f"{scheme}{self.base_url[self.base_url.index(':') :]}/ws/document/{doc_id}"


__all__ = ["ApiError", "DocStreamClient", "LiveDocument"]
