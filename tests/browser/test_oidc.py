"""Single sign-on in the browser: the button on the sign-in page, the real provider's page, back
into the document list signed in; a cancelled sign-in explained; a single-sign-on-only server
shows no password form.

The provider is reached as ``localhost`` and DocStream as ``127.0.0.1``: two sites, so the
provider's redirect back is a cross-site navigation, as with a real provider (the state cookie
must survive it: ``SameSite=Lax``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from testkit.browser import (
    SIZES,
    THEMES,
    axe_violations,
    describe_violations,
    run_server,
    screenshot,
    set_size,
    set_theme,
    watch,
)
from testkit.oidc import OidcProvider, run_oidc_provider
from testkit.processes import ServerProcess


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with run_oidc_provider() as running:
        yield running


def _env(provider: OidcProvider, **extra: str) -> dict[str, str]:
    return {
        "DOCSTREAM_OIDC_ISSUER": f"http://localhost:{provider.port}",
        "DOCSTREAM_OIDC_CLIENT_ID": "docstream-browser",
        "DOCSTREAM_OIDC_CLIENT_SECRET": "docstream-browser-secret",
        "DOCSTREAM_OIDC_NAME": "Acme ID",
        **extra,
    }


@pytest.fixture(scope="module")
def sso_server(provider: OidcProvider) -> Iterator[ServerProcess]:
    with run_server(_env(provider)) as server:
        yield server


@pytest.fixture
def page(browser: Any, provider: OidcProvider) -> Iterator[Any]:
    """A page of a fresh context; DocStream's pages must log no error (the provider's own page
    fetches a style sheet from a CDN, unreachable here: its errors are not ours)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    watched = watch(context)
    yield watched.page
    context.close()
    ours = [
        e
        for e in watched.errors
        if f"localhost:{provider.port}" not in e and "cdn.jsdelivr.net" not in e
    ]
    assert not ours, "console errors:\n" + "\n".join(ours)


def test_signing_in_with_the_provider_opens_the_document_list(
    page: Any, sso_server: ServerProcess, provider: OidcProvider
) -> None:
    sub = f"grace-{uuid.uuid4().hex[:8]}"
    provider.set_user(
        sub, {"email": f"{sub}@example.com", "email_verified": True, "name": "Grace Hopper"}
    )
    page.goto(f"{sso_server.url}/signin")
    page.get_by_label("Email").wait_for()  # the password form stays
    page.get_by_role("link", name="Sign in with Acme ID").click()
    page.wait_for_url(f"http://localhost:{provider.port}/oauth2/authorize*")
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_role("heading", name="Documents").wait_for()
    assert page.url == f"{sso_server.url}/"
    user = page.evaluate("window.__docstream.api.user")
    assert user["name"] == "Grace Hopper" and user["email"] == f"{sub}@example.com"
    # A reload resumes the session like any other (the refresh token was kept).
    page.reload()
    page.get_by_role("heading", name="Documents").wait_for()
    assert page.evaluate("window.__docstream.api.user.name") == "Grace Hopper"


def test_an_account_made_by_single_sign_on_has_no_password_and_deletes_itself(
    page: Any, sso_server: ServerProcess, provider: OidcProvider
) -> None:
    # Somebody else may be the administrator (the first account is, and could not leave).
    other = {"email": f"admin-{uuid.uuid4().hex[:8]}@example.com", "password": "a passphrase"}
    httpx.post(f"{sso_server.url}/auth/register", json=other, timeout=10)
    sub = f"una-{uuid.uuid4().hex[:8]}"
    email = f"{sub}@example.com"
    provider.set_user(sub, {"email": email, "email_verified": True, "name": "Una Sso"})
    page.goto(f"{sso_server.url}/signin")
    page.get_by_role("link", name="Sign in with Acme ID").click()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_role("heading", name="Documents").wait_for()

    page.get_by_role("button", name="Una Sso").click()  # the user menu
    page.get_by_role("menuitem", name="Account").click()
    account = page.get_by_role("dialog", name="Account")
    account.get_by_role("button", name="Sign out everywhere").wait_for()
    expect(account.get_by_label("Current password")).to_be_hidden()  # no password to change
    expect(account.get_by_role("button", name="Change password")).to_be_hidden()
    screenshot(page, "account-sso-desktop-light")
    account.get_by_role("button", name="Delete account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account")
    expect(dialog.get_by_label("Current password")).to_have_count(0)
    dialog.get_by_label("Your e-mail address").fill(email)  # a wrong one: tests/web (403)
    dialog.get_by_text("Delete them, with their history, for everyone").click()
    dialog.get_by_label("Type “delete my account” to confirm").fill("delete my account")
    dialog.get_by_role("button", name="Delete my account").click()
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.evaluate("window.__docstream.api.user") is None


def test_a_cancelled_sign_in_is_explained_on_the_sign_in_page(
    page: Any, sso_server: ServerProcess, provider: OidcProvider
) -> None:
    page.goto(f"{sso_server.url}/signin")
    page.get_by_role("link", name="Sign in with Acme ID").click()
    page.get_by_role("button", name="Deny").click()
    page.get_by_role("alert").filter(has_text="cancelled at the identity provider").wait_for()
    assert page.url.startswith(f"{sso_server.url}/signin?error=denied")


def test_a_single_sign_on_only_server_shows_no_password_form(
    page: Any, provider: OidcProvider
) -> None:
    with run_server(_env(provider, DOCSTREAM_SSO_ONLY="true")) as only:
        page.goto(f"{only.url}/signin")
        button = page.get_by_role("link", name="Sign in with Acme ID")
        button.wait_for()
        assert page.get_by_label("Email").is_hidden()
        assert page.get_by_role("link", name="Create an account").is_hidden()
        page.goto(f"{only.url}/signup")
        page.get_by_text("Your account is created when you first sign in with Acme ID").wait_for()
        assert page.get_by_label("Password").is_hidden()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("theme", THEMES)
def test_the_sign_in_page_with_single_sign_on_fits_and_passes_the_audit(
    page: Any, sso_server: ServerProcess, size: str, theme: str
) -> None:
    set_size(page, size)
    page.goto(f"{sso_server.url}/signin?error=email_unverified")
    set_theme(page, theme)
    button = page.get_by_role("link", name="Sign in with Acme ID")
    button.wait_for()
    page.get_by_role("alert").filter(
        has_text="does not confirm that your email address is verified"
    ).wait_for()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= SIZES[size][0]
    violations = axe_violations(page)
    assert not violations, describe_violations(f"signin-sso {size} {theme}", violations)
    # By keyboard: the button is reachable with Tab and opens the provider with Enter.
    page.keyboard.press("Tab")
    for _ in range(10):
        if page.evaluate("() => document.activeElement?.textContent") == "Sign in with Acme ID":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement?.textContent") == "Sign in with Acme ID"
    screenshot(page, f"signin-sso-{size}-{theme}")
