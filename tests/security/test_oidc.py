"""Single sign-on against a real OpenID Connect provider process, through real server processes.

The provider (testkit/oidc.py) issues real codes and signed ID tokens and requires PKCE; the test
plays the browser with httpx: ``/auth/oidc/start`` -> the provider's authorization page (the
subject typed in its form) -> ``/auth/oidc/callback`` -> ``/signin?sso=1`` -> ``POST
/auth/oidc/finish``. The attacks: an unverified address claiming an existing account, a forged or
mismatched state, a replayed callback, a code from another sign-in (its nonce), an open redirect in
``next``, a reused finishing cookie, password sign-in on a single-sign-on-only server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from testkit.config import BASE_ENV
from testkit.oidc import OidcProvider, run_oidc_provider
from testkit.processes import ServerProcess, run_server

STATE = "docstream_oidc"
DONE = "docstream_oidc_done"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with run_oidc_provider() as running:
        yield running


def _sso_env(provider: OidcProvider, **extra: str) -> dict[str, str]:
    return {
        **BASE_ENV,
        "DOCSTREAM_OIDC_ISSUER": provider.issuer,
        "DOCSTREAM_OIDC_CLIENT_ID": "docstream-test",
        "DOCSTREAM_OIDC_CLIENT_SECRET": "docstream-test-secret",
        "DOCSTREAM_OIDC_NAME": "Test ID",
        **extra,
    }


@pytest.fixture(scope="module")
def server(provider: OidcProvider) -> Iterator[ServerProcess]:
    with run_server(env=_sso_env(provider)) as running:
        yield running


@pytest.fixture
def browser(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def start(client: httpx.Client, next_path: str | None = None) -> str:
    """``/auth/oidc/start``: the provider's authorization URL it redirects to."""
    r = client.get("/auth/oidc/start", params={"next": next_path} if next_path else None)
    assert r.status_code == 303, r.text
    assert STATE in client.cookies
    return r.headers["location"]


def authorize(client: httpx.Client, url: str, sub: str) -> str:
    """Sign in at the provider's page as ``sub``: the callback URL it redirects to."""
    page = client.get(url)
    assert page.status_code == 200 and "Authorize" in page.text
    r = client.post(url, data={"sub": sub})
    assert r.status_code == 302, r.text
    return r.headers["location"]


def callback(client: httpx.Client, url: str) -> str:
    """Deliver the provider's answer: where DocStream sends the browser next."""
    r = client.get(url)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def sign_in(client: httpx.Client, sub: str, next_path: str | None = None) -> str:
    return callback(client, authorize(client, start(client, next_path), sub))


def finish(client: httpx.Client) -> httpx.Response:
    return client.post("/auth/oidc/finish", json={})


def error_of(location: str) -> str | None:
    parts = urlsplit(location)
    assert parts.path == "/signin" and not parts.netloc
    return parse_qs(parts.query).get("error", [None])[0]


def test_a_new_account_signs_in_through_the_provider_with_pkce(
    browser: httpx.Client, provider: OidcProvider, server: ServerProcess
) -> None:
    sub, email = unique("nina"), f"{unique('nina')}@example.com"
    provider.set_user(sub, {"email": email, "email_verified": True, "name": "Nina Nowak"})
    location = sign_in(browser, sub, "/d/some-doc")
    assert location == "/signin?sso=1&next=%2Fd%2Fsome-doc"
    assert STATE not in browser.cookies and DONE in browser.cookies
    # DocStream sent the PKCE verifier, and the provider checked it against the challenge.
    last = provider.token_requests()[-1]
    assert "code_verifier" in last["params"] and last["pkce_matched"] is True
    r = finish(browser)
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["user"]["email"] == email and reply["user"]["name"] == "Nina Nowak"
    assert DONE not in browser.cookies
    # A normal session: the bearer token, the cookie, and the refresh token all work.
    me = httpx.get(
        f"{server.url}/auth/me",
        headers={"Authorization": f"Bearer {reply['access_token']}"},
    )
    assert me.status_code == 200 and me.json()["id"] == reply["user"]["id"]
    assert browser.get("/auth/me").json()["id"] == reply["user"]["id"]
    refreshed = httpx.post(
        f"{server.url}/auth/refresh", json={"refresh_token": reply["refresh_token"]}
    )
    assert refreshed.status_code == 200
    # The account has no password: none signs in, and there is none to change.
    for password in ("", "!no-password", "password123"):
        r = httpx.post(f"{server.url}/auth/login", json={"email": email, "password": password})
        assert r.status_code in (400, 401), r.text
    r = httpx.post(
        f"{server.url}/auth/password",
        json={"current_password": "!no-password", "new_password": "a-new-password"},
        headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
    )
    assert r.status_code == 403 and "single sign-on" in r.json()["error"]["message"]
    # Signing in again finds the account by its subject, even with a new address.
    provider.set_user(sub, {"email": f"renamed-{email}", "email_verified": True})
    with httpx.Client(base_url=server.url, timeout=20) as again:
        assert sign_in(again, sub) == "/signin?sso=1"
        assert finish(again).json()["user"]["id"] == reply["user"]["id"]


def test_an_existing_account_is_linked_by_a_verified_address(
    browser: httpx.Client, provider: OidcProvider, server: ServerProcess
) -> None:
    email = f"{unique('olga')}@example.com"
    registered = httpx.post(
        f"{server.url}/auth/register",
        json={"email": email, "password": "olga-password", "name": "Olga"},
    ).json()
    sub = unique("olga")
    provider.set_user(sub, {"email": email.upper(), "email_verified": True})
    assert sign_in(browser, sub) == "/signin?sso=1"
    assert finish(browser).json()["user"]["id"] == registered["user"]["id"]
    # The password keeps working for the linked account.
    r = httpx.post(f"{server.url}/auth/login", json={"email": email, "password": "olga-password"})
    assert r.status_code == 200


@pytest.mark.parametrize("verified", [False, "false", None])
def test_an_unverified_address_does_not_take_over_an_account(
    browser: httpx.Client, provider: OidcProvider, server: ServerProcess, verified: object
) -> None:
    email = f"{unique('victim')}@example.com"
    victim = httpx.post(
        f"{server.url}/auth/register",
        json={"email": email, "password": "victim-password", "name": "Victim"},
    ).json()
    attacker = unique("attacker")
    claims: dict[str, object] = {"email": email}
    if verified is not None:
        claims["email_verified"] = verified
    provider.set_user(attacker, claims)
    assert error_of(sign_in(browser, attacker)) == "email_unverified"
    assert DONE not in browser.cookies and STATE not in browser.cookies
    assert finish(browser).status_code == 401
    # Nothing was linked: the attacker's next try fails the same way.
    assert error_of(sign_in(browser, attacker)) == "email_unverified"
    assert victim["user"]["email"] == email


def test_no_account_is_made_for_an_unverified_address(
    browser: httpx.Client, provider: OidcProvider, server: ServerProcess
) -> None:
    """Else the attacker would hold the address before its owner registers, and receive what
    others share with it."""
    email = f"{unique('future')}@example.com"
    squatter = unique("squatter")
    provider.set_user(squatter, {"email": email, "email_verified": False})
    assert error_of(sign_in(browser, squatter)) == "email_unverified"
    # The address is still free for its owner.
    r = httpx.post(
        f"{server.url}/auth/register",
        json={"email": email, "password": "owner-password", "name": "Owner"},
    )
    assert r.status_code == 201


def test_a_mismatched_missing_or_forged_state_is_refused(
    browser: httpx.Client, provider: OidcProvider, server: ServerProcess
) -> None:
    sub = unique("sam")
    provider.set_user(sub, {"email": f"{sub}@example.com", "email_verified": True})
    answer = authorize(browser, start(browser), sub)
    parts = urlsplit(answer)
    query = parse_qs(parts.query)
    wrong = f"{parts.path}?code={query['code'][0]}&state=not-the-state"
    assert error_of(callback(browser, wrong)) == "state"
    # Without the state cookie (another browser: login CSRF), or with a forged one.
    answer = authorize(browser, start(browser), sub)
    with httpx.Client(base_url=server.url, timeout=20) as other:
        assert error_of(callback(other, answer)) == "expired"
        forged = jwt.encode(
            {"typ": "oidc_state", "st": parse_qs(urlsplit(answer).query)["state"][0]},
            "not-the-server-key-not-the-server-key",
        )
        other.cookies.set(STATE, forged, domain="127.0.0.1", path="/auth/oidc")
        assert error_of(callback(other, answer)) == "state"
    assert finish(browser).status_code == 401


def test_a_replayed_callback_is_refused(browser: httpx.Client, provider: OidcProvider) -> None:
    sub = unique("rita")
    provider.set_user(sub, {"email": f"{sub}@example.com", "email_verified": True})
    answer = authorize(browser, start(browser), sub)
    state_cookie = browser.cookies[STATE]
    assert callback(browser, answer) == "/signin?sso=1"
    assert finish(browser).status_code == 200
    # The same answer again, even with the state cookie put back: the code is spent.
    browser.cookies.set(STATE, state_cookie, domain="127.0.0.1", path="/auth/oidc")
    assert error_of(callback(browser, answer)) == "token"
    assert DONE not in browser.cookies


def _inject_a_foreign_code(provider: OidcProvider, server: ServerProcess) -> str:
    """The attacker starts a sign-in of their own, stops at the provider's answer and slips the
    code into the victim's sign-in (with the victim's state and cookie): the refusal's reason."""
    with httpx.Client(base_url=server.url, timeout=20) as victim:
        victim_state = parse_qs(urlsplit(start(victim)).query)["state"][0]
        attacker = unique("mallory")
        provider.set_user(attacker, {"email": f"{attacker}@example.com", "email_verified": True})
        with httpx.Client(base_url=server.url, timeout=20) as evil:
            answer = authorize(evil, start(evil), attacker)
        code = parse_qs(urlsplit(answer).query)["code"][0]
        reason = error_of(callback(victim, f"/auth/oidc/callback?code={code}&state={victim_state}"))
        assert finish(victim).status_code == 401
        assert reason is not None
        return reason


def test_a_code_from_another_sign_in_fails_on_pkce(
    provider: OidcProvider, server: ServerProcess
) -> None:
    # The code is bound to the attacker's challenge; the victim's verifier does not match it.
    assert _inject_a_foreign_code(provider, server) == "token"
    assert provider.token_requests()[-1]["pkce_matched"] is False


def test_a_code_from_another_sign_in_fails_on_its_nonce() -> None:
    """With a provider that does not check PKCE, the ID token's nonce (the attacker's sign-in's)
    is what refuses the injected code."""
    with (
        run_oidc_provider(pkce=False) as lax,
        run_server(env=_sso_env(lax)) as lax_server,
    ):
        assert _inject_a_foreign_code(lax, lax_server) == "nonce"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "evil.example",
        "/d/x\nSet-Cookie: a=b",
        "javascript:alert(1)",
    ],
)
def test_next_must_be_a_local_path(browser: httpx.Client, target: str) -> None:
    r = browser.get("/auth/oidc/start", params={"next": target})
    assert r.status_code == 400 and "next" in r.json()["error"]["message"]
    assert STATE not in browser.cookies


def test_a_denied_sign_in_is_explained(browser: httpx.Client, provider: OidcProvider) -> None:
    url = start(browser)
    r = browser.post(url, data={"action": "deny"})
    assert r.status_code == 302
    assert error_of(callback(browser, r.headers["location"])) == "denied"


def test_the_finishing_cookie_works_once(browser: httpx.Client, provider: OidcProvider) -> None:
    sub = unique("fred")
    provider.set_user(sub, {"email": f"{sub}@example.com", "email_verified": True})
    sign_in(browser, sub)
    done = browser.cookies[DONE]
    first = finish(browser)
    assert first.status_code == 200
    browser.cookies.set(DONE, done, domain="127.0.0.1", path="/auth/oidc")
    assert finish(browser).status_code == 401
    # Finishing takes JSON from this origin only (it sets the auth cookie: no login CSRF).
    sign_in(browser, sub)
    r = browser.post("/auth/oidc/finish", content=b"{}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 403
    r = browser.post("/auth/oidc/finish", json={}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert finish(browser).status_code == 200


def test_providers_tell_the_sign_in_page_what_to_offer(browser: httpx.Client) -> None:
    assert browser.get("/auth/providers").json() == {
        "oidc": {"name": "Test ID"},
        "password": True,
    }


def test_an_sso_only_server_refuses_passwords(provider: OidcProvider) -> None:
    with (
        run_server(env=_sso_env(provider, DOCSTREAM_SSO_ONLY="true")) as only,
        httpx.Client(base_url=only.url, timeout=20) as client,
    ):
        assert client.get("/auth/providers").json()["password"] is False
        r = client.post(
            "/auth/register", json={"email": "pat@example.com", "password": "pat-password"}
        )
        assert r.status_code == 403 and "single sign-on" in r.json()["error"]["message"]
        r = client.post(
            "/auth/login", json={"email": "pat@example.com", "password": "pat-password"}
        )
        assert r.status_code == 403
        sub = unique("pat")
        provider.set_user(sub, {"email": f"{sub}@example.com", "email_verified": True})
        assert sign_in(client, sub) == "/signin?sso=1"
        reply = finish(client).json()
        r = client.post(
            "/auth/password",
            json={"current_password": "whatever-1", "new_password": "whatever-2"},
            headers={"Authorization": f"Bearer {reply['access_token']}"},
        )
        assert r.status_code == 403


def test_without_a_provider_the_routes_are_not_found() -> None:
    with run_server(env=BASE_ENV) as plain, httpx.Client(base_url=plain.url) as client:
        assert client.get("/auth/providers").json() == {"oidc": None, "password": True}
        assert client.get("/auth/oidc/start").status_code == 404
        assert client.get("/auth/oidc/callback?code=x&state=y").status_code == 404
        assert client.post("/auth/oidc/finish", json={}).status_code == 404
