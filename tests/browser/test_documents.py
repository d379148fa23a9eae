"""Accounts and the document list: sign up with validation, sign out, create/rename/delete/search,
keyboard-only use, history (versions, restore, export)."""

from __future__ import annotations

import re

from testkit.browser import (
    editor_text,
    new_account,
    open_document,
    rest,
    save_named_version,
    screenshot,
    sign_in,
    wait_new_document,
    wait_saved,
)


def test_sign_up_shows_clear_validation_messages_then_signs_in_and_out(open_page, server):
    w = open_page()
    w.allow_http_errors("/auth/register", "/auth/login")
    page = w.page
    page.goto(f"{server.url}/")
    page.get_by_role("heading", name="Sign in to DocStream").wait_for()
    screenshot(page, "sign-in")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_role("button", name="Create account").click()
    assert page.get_by_text("Please enter your email address.").is_visible()
    assert page.get_by_text("Please enter a password.").is_visible()
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    assert page.get_by_text("This does not look like an email address").is_visible()
    assert page.get_by_text("at least 8 characters", exact=False).first.is_visible()
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    screenshot(page, "sign-up-errors")

    taken = new_account(server, "Taken")
    page.get_by_label("Email").fill(taken.email)
    page.get_by_label("Your name").fill("Someone")
    page.get_by_label("Password").fill("long enough password")
    page.get_by_role("button", name="Create account").click()
    error = page.locator(".form-error:not(.sso-error)")  # the form's own message
    error.wait_for()
    assert error.inner_text().strip() != ""

    page.get_by_label("Email").fill("grace-signup@example.com")
    page.get_by_label("Your name").fill("Grace Hopper")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Documents").wait_for()
    assert page.get_by_text("Grace Hopper").is_visible()
    page.reload()  # the session survives a reload (refresh token)
    page.get_by_role("heading", name="Documents").wait_for()
    page.get_by_role("button", name="Grace Hopper").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to DocStream").wait_for()
    page.get_by_label("Email").fill("grace-signup@example.com")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong email or password.").wait_for()


def test_documents_can_be_created_renamed_searched_and_deleted(open_page, server):
    ada = new_account(server, "Ada")
    for title in ("Quarterly report", "Quiz answers", "Recipes"):
        rest(server, ada, "POST", "/documents", {"title": title})
    w = open_page()
    page = w.page
    sign_in(page, server, ada)
    page.get_by_role("link", name="Recipes").wait_for()
    screenshot(page, "document-list")

    search = page.get_by_role("combobox", name="Search documents by title")
    search.fill("qu")
    page.get_by_role("option", name="Quarterly report").wait_for()
    assert page.get_by_role("option", name="Quiz answers").is_visible()
    assert page.get_by_role("option", name="Recipes").count() == 0
    search.press("ArrowDown")
    search.press("Enter")
    page.locator(".cm-content").wait_for()
    # The heading says "Loading…" until the document has opened.
    page.locator(".doc-heading").filter(
        has_text=re.compile(r"^(Quarterly report|Quiz answers)$")
    ).wait_for()
    page.get_by_role("link", name="DocStream").click()

    page.get_by_role("button", name="Actions for Recipes").click()
    page.get_by_role("menuitem", name="Rename").click()
    page.get_by_role("dialog").get_by_label("Title").fill("Family recipes")
    page.get_by_role("dialog").get_by_role("button", name="Rename").click()
    page.get_by_role("link", name="Family recipes").wait_for()

    page.get_by_role("button", name="Actions for Family recipes").click()
    page.get_by_role("menuitem", name="Move to trash").click()
    page.get_by_role("link", name="Family recipes").wait_for(state="detached")
    # Focus is not lost with the deleted row: it moves to the first row.
    page.wait_for_function("() => document.activeElement?.classList.contains('doc-title')")
    titles = {d["title"] for d in rest(server, ada, "GET", "/documents")}
    assert titles == {"Quarterly report", "Quiz answers"}

    page.get_by_role("button", name="New document").click()
    wait_new_document(page)


def test_a_new_documents_title_does_not_take_the_keys_of_someone_already_typing(open_page, server):
    """The document's details can arrive after its text: whoever is typing by then keeps typing."""
    ada = new_account(server, "Ada")
    page = open_page().page
    sign_in(page, server, ada)
    held: list = []
    details = re.compile(r"/documents/[^/?]+$")
    page.route(
        details,
        lambda route: held.append(route) if route.request.method == "GET" else route.fallback(),
    )
    page.get_by_role("button", name="New document").click()
    wait_saved(page)  # the text is live; its details are held back
    page.locator(".cm-content").click()
    page.keyboard.type("First words")
    assert held, "the details were not held back: the test proves nothing"
    for route in held:
        route.continue_()
    page.unroute(details)
    page.wait_for_function("() => !location.search.includes('new=1')")  # the details arrived
    page.keyboard.type(" and more.")
    wait_saved(page)
    assert page.evaluate("document.activeElement?.classList.contains('cm-content')")
    assert editor_text(page) == "First words and more."
    assert [d["title"] for d in rest(server, ada, "GET", "/documents")] == ["Untitled"]


def test_keyboard_only_sign_in_create_and_type(open_page, server):
    ada = new_account(server, "Ada")
    page = open_page().page
    page.goto(f"{server.url}/signin")
    page.get_by_label("Email").wait_for()
    page.keyboard.type(ada.email)  # the email field has focus on arrival
    page.keyboard.press("Tab")
    page.keyboard.type(ada.password)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Documents").wait_for()
    page.get_by_role("button", name="New document").focus()
    page.keyboard.press("Enter")
    wait_new_document(page)  # the title first
    page.keyboard.type("Keyboard notes")
    page.keyboard.press("Enter")  # then the text
    wait_saved(page)
    page.wait_for_function("() => document.activeElement?.classList.contains('cm-content')")
    page.keyboard.type("No mouse needed.")
    wait_saved(page)
    assert editor_text(page) == "No mouse needed."
    assert [d["title"] for d in rest(server, ada, "GET", "/documents")] == ["Keyboard notes"]
    # Every input and select on the page has an accessible name.
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.outerHTML)""")
    assert unlabelled == []


def test_restoring_a_named_version_brings_the_text_back_live(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Versions"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "viewer"}
    )
    a, b = open_page(), open_page()
    sign_in(a.page, server, ada)
    sign_in(b.page, server, bob)
    open_document(a.page, server, doc["id"])
    open_document(b.page, server, doc["id"])
    page = a.page
    page.locator(".cm-content").click()
    page.keyboard.type("First draft.")
    wait_saved(page)
    panel = save_named_version(page, "Draft one")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Second thoughts that we regret.")
    wait_saved(page)
    panel.get_by_role("button", name="Draft one").click()
    panel.get_by_text("First draft.", exact=True).wait_for()
    screenshot(page, "history-panel")
    panel.get_by_role("button", name="Restore this version").click()
    page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    page.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString() === 'First draft.'"
    )
    b.page.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString() === 'First draft.'"
    )
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["text"] == "First draft."

    with page.expect_download() as info:
        panel.get_by_role("button", name="Export .md").click()
    download = info.value
    assert download.suggested_filename.endswith(".md")
    with open(download.path(), encoding="utf-8") as exported:
        assert "First draft." in exported.read()
