"""The pages before signing in: sign in, sign up and an invitation link. Each says what
DocStream is, lets you see the password you typed, announces errors under the field they are
about, and fits a phone in both themes."""

from __future__ import annotations

from typing import Any

import pytest

from testkit.browser import new_account, rest, screenshot

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
TAGLINE = "Write together in real time. Works offline; your server, your data."


def _page(open_page: Any, size: str, theme: str = "light") -> Any:
    w = open_page()
    w.allow_http_errors("/auth/refresh", "/auth/login", "/auth/register")
    w.page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    w.page.emulate_media(color_scheme=theme)
    return w.page


def _assert_no_sideways_scroll(page: Any) -> None:
    width, scroll = page.evaluate(
        "() => [window.innerWidth, document.scrollingElement.scrollWidth]"
    )
    assert scroll <= width


@pytest.mark.parametrize("size", SIZES)
def test_the_password_can_be_shown_and_hidden_again(open_page, server, size):
    page = _page(open_page, size)
    page.goto(f"{server.url}/signin")
    password = page.get_by_label("Password")
    password.fill("correct horse")
    toggle = page.get_by_role("button", name="Show password")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    assert password.get_attribute("type") == "text"
    assert toggle.get_attribute("aria-pressed") == "true"
    assert toggle.evaluate("el => el === document.activeElement")  # focus stays on the toggle
    screenshot(page, f"sign-in-password-shown-{size}")
    page.keyboard.press("Space")
    assert password.get_attribute("type") == "password"
    assert toggle.get_attribute("aria-pressed") == "false"
    assert password.input_value() == "correct horse"
    # The toggle sits inside the field, not beside it.
    field, button = password.bounding_box(), toggle.bounding_box()
    assert field["x"] < button["x"] and button["x"] + button["width"] <= field["x"] + field["width"]


@pytest.mark.parametrize("size", SIZES)
def test_field_errors_are_announced_by_their_field_and_cleared_by_typing(open_page, server, size):
    page = _page(open_page, size)
    page.goto(f"{server.url}/signup")
    page.get_by_role("button", name="Create account").click()
    email = page.get_by_label("Email")
    error = page.get_by_role("alert").filter(has_text="Please enter your email address.")
    error.wait_for()
    assert email.get_attribute("aria-invalid") == "true"
    assert error.get_attribute("id") in (email.get_attribute("aria-describedby") or "").split()
    assert email.evaluate("el => el === document.activeElement")  # the first wrong field
    screenshot(page, f"sign-up-errors-{size}")
    _assert_no_sideways_scroll(page)
    email.fill("ada@example.com")
    assert error.count() == 0
    assert email.get_attribute("aria-invalid") == "false"
    assert page.get_by_text("Please enter a password.").is_visible()  # the others stay


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_sign_in_sign_up_and_invitation_pages_say_what_docstream_is_and_fit(
    open_page, server, size, theme
):
    page = _page(open_page, size, theme)
    page.goto(f"{server.url}/signin")
    page.get_by_role("heading", name="Sign in to DocStream").wait_for()
    assert page.get_by_text(TAGLINE).is_visible()
    # Password resets exist (tests/browser/test_recovery.py): the link leads to them.
    assert page.get_by_role("link", name="Forgot password?").get_attribute("href") == "/forgot"
    screenshot(page, f"sign-in-{size}-{theme}")
    _assert_no_sideways_scroll(page)

    page.get_by_role("link", name="Create an account").click()
    page.get_by_role("heading", name="Create your DocStream account").wait_for()
    assert page.get_by_text(TAGLINE).is_visible()
    screenshot(page, f"sign-up-{size}-{theme}")
    _assert_no_sideways_scroll(page)

    owner = new_account(server, "Ada Lovelace")
    doc = rest(server, owner, "POST", "/documents", {"title": "Notes on the Analytical Engine"})
    invited = rest(
        server,
        owner,
        "POST",
        f"/documents/{doc['id']}/share",
        {"email": f"newcomer-{size}-{theme}@example.com", "role": "editor"},
    )
    page.goto(f"{server.url}/invite/{invited['invite_url'].rsplit('/invite/', 1)[1]}")
    page.get_by_text("Ada Lovelace invited you to edit").wait_for()
    assert page.get_by_role("link", name="Sign in").is_visible()
    screenshot(page, f"invitation-{size}-{theme}")
    _assert_no_sideways_scroll(page)
