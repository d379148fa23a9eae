"""Ghost-text completion and @mentions in the editor.

Both use the typeahead routes (docs/protocol.md §4), which the server must serve; when one answers
404 the UI degrades (no ghost text; mentions listed from the collaborators), which
``test_mentions_fall_back_to_collaborators...`` checks.
"""

from __future__ import annotations

from testkit.browser import editor_text, new_account, open_document, rest, sign_in, wait_saved

SUGGEST = "GET /documents/{doc_id}/suggest"
MENTIONS = "GET /documents/{doc_id}/mentions/suggest"
SELECT = "POST /documents/{doc_id}/mentions/select"


def test_the_server_serves_every_typeahead_route_the_ui_uses(server):
    assert {SUGGEST, MENTIONS, SELECT, "GET /suggest/titles"} <= server.routes()


def test_tab_accepts_ghost_text_as_an_ordinary_edit(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Ghost"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    a, b = open_page(), open_page()
    sign_in(a.page, server, ada)
    sign_in(b.page, server, bob)
    open_document(a.page, server, doc["id"])
    open_document(b.page, server, doc["id"])
    page = a.page
    page.locator(".cm-content").click()
    page.keyboard.type("collaboration matters. ")
    wait_saved(page)
    ghost = page.locator(".cm-ghost")
    for _attempt in range(20):  # the server's word index may lag the edit by a moment
        page.keyboard.type("colla")
        try:
            ghost.wait_for(timeout=1500)
            break
        except Exception:
            for _ in range(5):
                page.keyboard.press("Backspace")
    assert ghost.inner_text() == "boration"
    page.keyboard.press("Escape")
    ghost.wait_for(state="detached")
    page.keyboard.press("Backspace")
    page.keyboard.type("a")  # typing recomputes it
    ghost.wait_for()
    page.keyboard.press("Tab")
    ghost.wait_for(state="detached")
    wait_saved(page)
    assert editor_text(page) == "collaboration matters. collaboration"
    b.page.wait_for_function(
        "() => window.__docstream.editor().debug.view.state.doc.toString()"
        " === 'collaboration matters. collaboration'"
    )


def test_an_at_mention_inserts_the_name_and_records_the_choice(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bobby")
    doc = rest(server, ada, "POST", "/documents", {"title": "Mentions"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    page.locator(".cm-content").click()
    page.keyboard.type("Ask @Bob")
    option = page.get_by_role("option", name="@Bobby")
    option.wait_for(timeout=10_000)
    page.keyboard.press("Enter")
    wait_saved(page)
    assert editor_text(page) == "Ask @Bobby "


def test_mentions_fall_back_to_collaborators_when_the_route_answers_404(open_page, server):
    """Degrading without the mentions routes (a server older than typeahead)."""
    ada, bob = new_account(server, "Ada"), new_account(server, "Bobby")
    doc = rest(server, ada, "POST", "/documents", {"title": "Mentions"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    w = open_page()
    w.allow_http_errors("/mentions/")
    page = w.page
    not_found = '{"error": {"code": "NOT_FOUND", "message": "no route"}}'
    page.route(
        "**/mentions/**",
        lambda route: route.fulfill(status=404, content_type="application/json", body=not_found),
    )
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    page.locator(".cm-content").click()
    page.keyboard.type("Ask @Bo")
    page.get_by_role("option", name="@Bobby").wait_for(timeout=10_000)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    wait_saved(page)
    assert editor_text(page) == "Ask @Bobby "


def test_ghost_text_ui_with_the_suggest_route_stubbed_in_the_browser(open_page, server):
    """The UI half of ghost text, whatever the server has: debounce, grey suffix, Tab, Escape."""
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Ghost stub"})
    page = open_page().page
    calls: list[str] = []

    def suggest(route, request):
        calls.append(request.url)
        route.fulfill(
            status=200,
            content_type="application/json",
            body='[{"word": "collaboration", "frequency": 3}, {"word": "co", "frequency": 1}]',
        )

    page.route(f"**/documents/{doc['id']}/suggest?*", suggest)
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    page.locator(".cm-content").click()
    page.keyboard.type("colla")
    ghost = page.locator(".cm-ghost")
    ghost.wait_for()
    assert ghost.inner_text() == "boration"
    assert len(calls) == 1, "typing quickly makes one request (150 ms debounce)"
    assert "q=colla" in calls[0]
    page.keyboard.press("Escape")
    ghost.wait_for(state="detached")
    page.keyboard.type("b")
    ghost.wait_for()
    assert ghost.inner_text() == "oration"
    page.keyboard.press("Tab")
    wait_saved(page)
    assert editor_text(page) == "collaboration"
    assert rest(server, ada, "GET", f"/documents/{doc['id']}")["text"] == "collaboration"
