"""Single sign-on, in process (the provider is still the real one of testkit/oidc.py): the audit
events (``ActionTaken``) a recording extension hears, the sign-up policy, trusted addresses, an
unreachable provider."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient

from docstream.collab.extensions import ActionTaken, Extension
from docstream.errors import ForbiddenError
from docstream.web.app import create_app
from testkit.config import SettingsFactory
from testkit.oidc import OidcProvider, run_oidc_provider
from testkit.ports import free_port


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with run_oidc_provider() as running:
        yield running


class AuditRecorder(Extension):
    name = "audit-recorder"

    def __init__(self) -> None:
        self.heard: list[ActionTaken] = []

    async def action_taken(self, event: ActionTaken) -> None:
        self.heard.append(event)


async def _sign_in(client: AsyncTestClient, sub: str) -> str:  # type: ignore[type-arg]
    r = await client.get("/auth/oidc/start", follow_redirects=False)
    assert r.status_code == 303
    async with httpx.AsyncClient(timeout=20) as at_provider:
        answer = await at_provider.post(r.headers["location"], data={"sub": sub})
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    r = await client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert r.status_code == 303
    return str(r.headers["location"])


async def test_single_sign_on_is_audited(
    provider: OidcProvider, make_settings: SettingsFactory
) -> None:
    app = create_app(
        make_settings(
            oidc_issuer=provider.issuer,
            oidc_client_id="docstream-audit",
            oidc_client_secret="audit-secret",
        )
    )
    recorder = AuditRecorder()
    async with AsyncTestClient(app) as client:
        app.state.services.hub.extensions.add(recorder)
        sub, email = f"ada-{uuid.uuid4().hex[:8]}", f"ada-{uuid.uuid4().hex[:8]}@example.com"
        provider.set_user(sub, {"email": email, "email_verified": True})
        assert await _sign_in(client, sub) == "/signin?sso=1"
        user_id = (await client.post("/auth/oidc/finish", json={})).json()["user"]["id"]
        assert [e.action for e in recorder.heard] == [
            "auth.sign_up",
            "auth.identity_linked",
            "auth.sign_in",
        ]
        assert all(e.actor_id == user_id and e.ip for e in recorder.heard)
        assert recorder.heard[0].detail == (("method", "oidc"),)
        assert recorder.heard[2].detail == (("method", "oidc"),)
        assert ("subject", sub) in recorder.heard[1].detail

        # An existing account linked by its verified address: no sign-up.
        recorder.heard.clear()
        other = f"ada-work-{uuid.uuid4().hex[:8]}"
        provider.set_user(other, {"email": email, "email_verified": True})
        assert await _sign_in(client, other) == "/signin?sso=1"
        assert [e.action for e in recorder.heard] == ["auth.identity_linked", "auth.sign_in"]

        # Refused: an unverified address of an existing account.
        recorder.heard.clear()
        attacker = f"eve-{uuid.uuid4().hex[:8]}"
        provider.set_user(attacker, {"email": email, "email_verified": False})
        assert (await _sign_in(client, attacker)).endswith("error=email_unverified")
        assert [(e.action, e.actor_id, e.detail) for e in recorder.heard] == [
            (
                "auth.sign_in_failed",
                None,
                (("method", "oidc"), ("reason", "email_unverified")),
            )
        ]


async def test_trusting_the_providers_addresses_accepts_them_unverified(
    provider: OidcProvider, make_settings: SettingsFactory
) -> None:
    """``oidc_trust_email`` (a provider that manages every address but sends no
    ``email_verified``, such as Entra ID): its addresses create and link accounts."""
    app = create_app(
        make_settings(
            oidc_issuer=provider.issuer,
            oidc_client_id="docstream-trust",
            oidc_client_secret="trust-secret",
            oidc_trust_email=True,
        )
    )
    async with AsyncTestClient(app) as client:
        sub, email = f"tia-{uuid.uuid4().hex[:8]}", f"tia-{uuid.uuid4().hex[:8]}@example.com"
        provider.set_user(sub, {"email": email})  # no email_verified claim at all
        assert await _sign_in(client, sub) == "/signin?sso=1"
        user = (await client.post("/auth/oidc/finish", json={})).json()["user"]
        assert user["email"] == email


async def test_the_sign_up_policy_applies_to_single_sign_on(
    provider: OidcProvider, make_settings: SettingsFactory
) -> None:
    """Accounts made by single sign-on go through ``AuthService.check_signup``: a policy that
    refuses the address refuses the sign-in, and no account is made."""
    app = create_app(
        make_settings(
            oidc_issuer=provider.issuer,
            oidc_client_id="docstream-policy",
            oidc_client_secret="policy-secret",
        )
    )
    recorder = AuditRecorder()
    async with AsyncTestClient(app) as client:
        services = app.state.services
        services.hub.extensions.add(recorder)
        checked: list[str] = []

        async def refuse(email: str) -> None:  # what a sign-up policy does with this address
            checked.append(email)
            raise ForbiddenError("sign-up is closed")

        services.auth.check_signup = refuse
        sub, email = f"zoe-{uuid.uuid4().hex[:8]}", f"Zoe-{uuid.uuid4().hex[:8]}@Example.com"
        provider.set_user(sub, {"email": email, "email_verified": True})
        assert (await _sign_in(client, sub)).endswith("error=signup_refused")
        assert checked == [email.lower()]
        assert await services.store.get_user_by_email(email.lower()) is None
        assert await services.store.identity_user(provider.issuer, sub) is None
        assert [e.detail for e in recorder.heard] == [
            (("method", "oidc"), ("reason", "signup_refused"))
        ]


async def test_an_unreachable_provider_is_explained(make_settings: SettingsFactory) -> None:
    app = create_app(
        make_settings(oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_client_id="nobody")
    )
    async with AsyncTestClient(app) as client:
        r = await client.get("/auth/oidc/start", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin?error=provider"
        assert "docstream_oidc" not in client.cookies


async def test_an_account_without_a_password_deletes_itself_by_typing_its_address(
    provider: OidcProvider, make_settings: SettingsFactory
) -> None:
    app = create_app(
        make_settings(
            oidc_issuer=provider.issuer,
            oidc_client_id="docstream-delete",
            oidc_client_secret="delete-secret",
        )
    )
    async with AsyncTestClient(app) as client:
        # The first account is the administrator (who could not delete itself): a registered one.
        registered = await client.post(
            "/auth/register",
            json={"email": f"pat-{uuid.uuid4().hex[:8]}@example.com", "password": "a passphrase"},
        )
        pat = registered.json()
        client.cookies.clear()
        sub, email = f"una-{uuid.uuid4().hex[:8]}", f"una-{uuid.uuid4().hex[:8]}@example.com"
        provider.set_user(sub, {"email": email, "email_verified": True})
        assert await _sign_in(client, sub) == "/signin?sso=1"
        finished = (await client.post("/auth/oidc/finish", json={})).json()
        client.cookies.clear()
        headers = {"Authorization": f"Bearer {finished['access_token']}"}
        me = await client.get("/auth/me", headers=headers)
        assert me.json()["has_password"] is False

        async def delete_me(**proof: str) -> httpx.Response:
            body = {"documents": "delete", **proof}
            return await client.request("DELETE", "/auth/me", json=body, headers=headers)

        for proof in ({}, {"password": "anything at all"}, {"confirm_email": "eve@example.com"}):
            refused = await delete_me(**proof)
            assert refused.status_code == 403, refused.text
            assert "e-mail address" in refused.json()["error"]["message"]
        assert (await client.get("/auth/me", headers=headers)).status_code == 200
        assert (await delete_me(confirm_email=f" {email.upper()} ")).status_code == 204
        assert (await client.get("/auth/me", headers=headers)).status_code == 401

        # An account with a password must give it: its address is not enough.
        assert pat["user"]["has_password"] is True
        refused = await client.request(
            "DELETE",
            "/auth/me",
            json={"documents": "delete", "confirm_email": pat["user"]["email"]},
            headers={"Authorization": f"Bearer {pat['access_token']}"},
        )
        assert refused.status_code == 403 and "password" in refused.json()["error"]["message"]
