"""Password reset and API tokens in the browser, at desktop and phone sizes: "Forgot password?"
-> the e-mail (a real SMTP server) -> the reset page -> signed in; the tokens page: create (the
secret shown once, copied), use, revoke with a confirmation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testkit.browser import new_account, run_server, screenshot, set_size, sign_in
from testkit.processes import ServerProcess
from tests.web.recovery_kit import Inbox, reset_token_in, smtp_inbox

SIZES = ("desktop", "phone")


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[int, Inbox]]:
    yield from smtp_inbox()


@pytest.fixture(scope="module")
def mail_server(inbox: tuple[int, Inbox]) -> Iterator[ServerProcess]:
    """A server that e-mails reset links through the test's SMTP server."""
    port, _ = inbox
    env = {
        "DOCSTREAM_SMTP_HOST": "127.0.0.1",
        "DOCSTREAM_SMTP_PORT": str(port),
        "DOCSTREAM_SMTP_FROM": "docstream@example.com",
        "DOCSTREAM_SMTP_STARTTLS": "0",
        "DOCSTREAM_PUBLIC_URL": "https://docs.example.com",
    }
    with run_server(env) as server:
        yield server


def _no_sideways_scroll(page: Any) -> None:
    width, scroll = page.evaluate(
        "() => [window.innerWidth, document.scrollingElement.scrollWidth]"
    )
    assert scroll <= width


def _mail_to(inbox: Inbox, email: str) -> Any:
    """The message to ``email`` (the SMTP server runs in its own thread)."""
    for _ in range(200):
        for envelope, message in inbox.messages:
            if envelope.rcpt_tos == [email]:
                return message
        time.sleep(0.05)
    raise AssertionError(f"no e-mail reached {email}")


@pytest.mark.parametrize("size", SIZES)
def test_forgot_password_mail_reset_page_then_signed_in(
    open_page: Any, mail_server: ServerProcess, inbox: tuple[int, Inbox], size: str
) -> None:
    acc = new_account(mail_server, "Grace Hopper")
    w = open_page()
    w.allow_http_errors("/auth/refresh")
    page = w.page
    set_size(page, size)
    page.goto(f"{mail_server.url}/signin")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_role("heading", name="Forgot your password?").wait_for()
    page.get_by_label("Email").fill(acc.email)
    screenshot(page, f"recovery-forgot-{size}")
    page.get_by_role("button", name="Send me a link").click()
    page.get_by_text("If an account exists for that address").wait_for()
    _no_sideways_scroll(page)
    screenshot(page, f"recovery-forgot-sent-{size}")

    token = reset_token_in(_mail_to(inbox[1], acc.email))
    page.goto(f"{mail_server.url}/reset/{token}")
    page.get_by_role("heading", name="Choose a new password").wait_for()
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_role("button", name="Set the new password").click()
    page.get_by_text("at least 8 characters").first.wait_for()
    page.get_by_label("New password", exact=True).fill("my brand new passphrase")
    _no_sideways_scroll(page)
    screenshot(page, f"recovery-reset-{size}")
    page.get_by_role("button", name="Set the new password").click()
    page.get_by_role("heading", name="Documents").wait_for()  # signed in
    screenshot(page, f"recovery-signed-in-{size}")

    old = httpx.post(
        f"{mail_server.url}/auth/login", json={"email": acc.email, "password": acc.password}
    )
    assert old.status_code == 401
    new = httpx.post(
        f"{mail_server.url}/auth/login",
        json={"email": acc.email, "password": "my brand new passphrase"},
    )
    assert new.status_code == 200
    # The link worked once.
    page.goto(f"{mail_server.url}/reset/{token}")
    w.allow_http_errors("/auth/password-reset/confirm")
    page.get_by_label("New password", exact=True).fill("yet another passphrase")
    page.get_by_role("button", name="Set the new password").click()
    page.get_by_text("invalid, expired or already used").wait_for()


def test_without_e_mail_the_page_says_to_ask_an_administrator(
    open_page: Any, server: ServerProcess
) -> None:
    w = open_page()
    w.allow_http_errors("/auth/refresh")
    page = w.page
    page.goto(f"{server.url}/signin")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_text("Ask an administrator of this server").wait_for()
    assert page.get_by_label("Email").count() == 0


@pytest.mark.parametrize("size", SIZES)
def test_tokens_page_creates_shows_once_and_revokes(
    open_page: Any, server: ServerProcess, size: str
) -> None:
    acc = new_account(server, "Linus Scripter")
    w = open_page()
    w.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = w.page
    set_size(page, size)
    sign_in(page, server, acc)
    page.get_by_role("button", name=acc.name).click()
    page.get_by_role("menuitem", name="API tokens").click()
    page.get_by_role("heading", name="API tokens").wait_for()
    page.get_by_text("You have no API tokens.").wait_for()

    page.get_by_label("Name").fill("Nightly export")
    page.get_by_label("Access").select_option("read")
    page.get_by_label("Expires").select_option("30")
    page.get_by_role("button", name="Create token").click()
    secret_box = page.get_by_label("The secret of Nightly export")
    secret_box.wait_for()
    secret = secret_box.input_value()
    assert secret.startswith("dst_")
    page.get_by_text("it is shown only this once").wait_for()
    _no_sideways_scroll(page)
    screenshot(page, f"recovery-token-created-{size}")
    page.get_by_role("button", name="Copy", exact=True).click()
    page.get_by_text("Token copied.").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret

    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{server.url}/auth/me", headers=headers).status_code == 200
    refused = httpx.post(f"{server.url}/documents", json={"title": "x"}, headers=headers)
    assert refused.status_code == 403  # a read-only token

    page.get_by_role("button", name="I have copied it").click()
    assert page.get_by_label("The secret of Nightly export").count() == 0  # never again
    page.reload()
    item = page.get_by_role("list", name="Your API tokens").get_by_role("listitem")
    item.filter(has_text="Nightly export").wait_for()
    assert "Read only" in item.inner_text() and secret not in page.content()
    screenshot(page, f"recovery-tokens-{size}")

    page.get_by_role("button", name="Revoke Nightly export").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("stop working at once").wait_for()
    dialog.get_by_role("button", name="Revoke").click()
    page.get_by_text("You have no API tokens.").wait_for()
    assert httpx.get(f"{server.url}/auth/me", headers=headers).status_code == 401


def test_a_token_is_created_and_revoked_by_keyboard(open_page: Any, server: ServerProcess) -> None:
    acc = new_account(server, "Kay Board")
    w = open_page()
    page = w.page
    sign_in(page, server, acc)
    page.goto(f"{server.url}/tokens")
    page.get_by_text("You have no API tokens.").wait_for()
    page.get_by_label("Name").focus()
    page.keyboard.type("Keyboard token")
    page.keyboard.press("Tab")  # Access
    page.keyboard.press("ArrowDown")  # Read and write
    page.keyboard.press("Tab")  # Expires
    page.keyboard.press("Tab")  # Create token
    page.keyboard.press("Enter")
    secret = page.get_by_label("The secret of Keyboard token")
    secret.wait_for()
    assert secret.evaluate("el => el === document.activeElement")  # ready to copy
    page.keyboard.press("Tab")  # Copy
    page.keyboard.press("Tab")  # I have copied it
    page.keyboard.press("Enter")
    assert page.get_by_label("Name").evaluate("el => el === document.activeElement")
    item = page.get_by_role("list", name="Your API tokens").get_by_role("listitem")
    assert "Read and write" in item.inner_text()
    page.get_by_role("button", name="Revoke Keyboard token").focus()
    page.keyboard.press("Enter")
    page.get_by_role("dialog").get_by_text("stop working at once").wait_for()
    page.keyboard.press("Tab")  # from Cancel (focused first) to Revoke
    page.keyboard.press("Enter")
    page.get_by_text("You have no API tokens.").wait_for()
