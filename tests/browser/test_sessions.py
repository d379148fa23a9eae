"""Sessions and invitations in the browser: tabs that share one refresh token refresh without
signing each other out (a refresh token works once); the share dialog shows an invitation link
with a copy button, and the link signs a newcomer up into the document."""

from __future__ import annotations

from testkit.browser import new_account, rest, screenshot, sign_in

LOOP = """async () => {
  const api = window.__docstream.api;
  let ok = true;
  for (let i = 0; i < 8; i++) ok = (await api.refresh()) && ok;
  return ok;
}"""


def test_two_tabs_refreshing_at_once_stay_signed_in(browser, server):
    context = browser.new_context()
    try:
        acc = new_account(server, "Two Tabs")
        first = context.new_page()
        sign_in(first, server, acc)
        second = context.new_page()  # same origin, same localStorage: the same session
        second.goto(f"{server.url}/")
        second.get_by_role("heading", name="Documents").wait_for()
        # Both tabs refresh eight times, at the same time.
        for page in (first, second):
            page.evaluate(f"() => {{ window.__loop = ({LOOP})(); }}")
        results = [page.evaluate("() => window.__loop") for page in (first, second)]
        assert results == [True, True]
        for page in (first, second):
            me = page.evaluate("() => window.__docstream.api.get('/auth/me').then(u => u.id)")
            assert me == acc.id
        # Still signed in after a reload, with the token the last refresh stored.
        second.reload()
        second.get_by_role("heading", name="Documents").wait_for()
    finally:
        context.close()


def test_an_invitation_link_from_the_share_dialog_brings_a_newcomer_in(open_page, server):
    owner = new_account(server, "Owner")
    doc = rest(server, owner, "POST", "/documents", {"title": "Guest list"})
    w = open_page()
    page = w.page
    sign_in(page, server, owner)
    page.goto(f"{server.url}/d/{doc['id']}")
    page.locator(".cm-content").wait_for()
    page.get_by_role("button", name="Share").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox", name="Add people").fill("newcomer-invite@example.com")
    dialog.get_by_role("button", name="Invite").click()
    link_input = page.locator("input[data-invite-url]")
    link_input.wait_for()
    link = link_input.input_value()
    assert "/invite/" in link
    assert page.get_by_role("button", name="Copy invitation link").is_visible()
    invited = page.locator('li[data-email="newcomer-invite@example.com"]')
    invited.wait_for()
    assert "Invited" in invited.inner_text()
    screenshot(page, "share-invitation-link")

    guest = open_page()
    guest.allow_http_errors("/auth/refresh", "/invitations/")  # the used-up link: 404
    visitor = guest.page
    visitor.goto(link)
    visitor.get_by_text("Owner invited you to view").wait_for()
    visitor.get_by_role("link", name="Create an account").click()
    visitor.get_by_label("Your name").fill("Newcomer")
    visitor.get_by_label("Email").fill("someone-else@example.com")  # any address: the link counts
    visitor.get_by_label("Password").fill("long enough password")
    visitor.get_by_role("button", name="Create account").click()
    visitor.locator(".cm-content").wait_for()
    assert f"/d/{doc['id']}" in visitor.url
    # Used up: the same link again says so.
    visitor.goto(link)
    visitor.get_by_text("invalid, expired or already used").wait_for()


def test_the_desktop_shell_sign_in_still_boots_the_ui_signed_in(browser, server, tmp_path):
    """What `docstream desktop` does (docstream/desktop/shell.py), with the pywebview bridge
    stood in for by a script: the shell signs the local profile in over REST and hands the
    refresh token to the page, which stores it and refreshes (rotating it) on boot."""
    from docstream.desktop.profile import sign_in as desktop_sign_in

    for start in range(2):  # first start registers the profile; the second logs it in
        tokens = desktop_sign_in(server.url, tmp_path)
        context = browser.new_context()
        try:
            context.add_init_script(
                "window.pywebview = {api: {session: async () => ("
                f"{{refresh_token: {tokens['refresh_token']!r}}})}}}};"
            )
            page = context.new_page()
            page.goto(f"{server.url}/?desktop")
            page.get_by_role("heading", name="Documents").wait_for()
            assert "desktop" not in page.url
            assert page.get_by_text(tokens["user"]["name"]).first.is_visible(), start
            page.reload()  # the rotated token was stored: a reload stays signed in
            page.get_by_role("heading", name="Documents").wait_for()
        finally:
            context.close()
