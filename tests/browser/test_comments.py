"""Comments in real Chromium: two people, a comment that stays on its words through concurrent
edits, replies, resolving, a thread on deleted text, a commenter who cannot type, and a comment
written offline that reaches the server on reconnect. Screenshots at desktop and phone size, and
the axe audit over the panel."""

from __future__ import annotations

from typing import Any

from testkit.browser import (
    axe_violations,
    describe_violations,
    new_account,
    open_document,
    rest,
    screenshot,
    set_size,
    set_theme,
    sign_in,
    wait_for_service_worker,
    wait_saved,
)

#: The highlighted text (every comment mark's text, in order).
MARKED = "[...document.querySelectorAll('.comment-mark')].map(e => e.textContent).join('')"


def _marked(page: Any, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function(f"t => {MARKED} === t", arg=text, timeout=timeout)


def _select(page: Any, text: str) -> None:
    """Select the first occurrence of ``text`` in the editor (UTF-16 offsets, as CodeMirror)."""
    page.evaluate(
        """(t) => {
            const view = window.__docstream.editor().debug.view;
            const at = view.state.doc.toString().indexOf(t);
            view.dispatch({selection: {anchor: at, head: at + t.length}});
            view.focus();
        }""",
        text,
    )


def _type_at(page: Any, index_of: str, text: str, after: bool = False) -> None:
    page.evaluate(
        """([anchor, text, after]) => {
            const view = window.__docstream.editor().debug.view;
            let at = view.state.doc.toString().indexOf(anchor);
            if (after) at += anchor.length;
            view.dispatch({changes: {from: at, insert: text}, userEvent: 'input.type'});
        }""",
        [index_of, text, after],
    )


def _delete(page: Any, text: str) -> None:
    page.evaluate(
        """(t) => {
            const view = window.__docstream.editor().debug.view;
            const at = view.state.doc.toString().indexOf(t);
            view.dispatch({changes: {from: at, to: at + t.length}, userEvent: 'delete'});
        }""",
        text,
    )


def _comment(page: Any, text: str, body: str) -> None:
    _select(page, text)
    page.keyboard.press("Control+Alt+m")
    form = page.get_by_role("form", name="New comment")
    form.get_by_role("textbox", name="Your comment").fill(body)
    form.get_by_role("button", name="Comment").click()


def test_a_comment_stays_on_its_words_while_two_people_edit_around_and_inside_them(
    open_page, server
):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = rest(server, ada, "POST", "/documents", {"title": "Reviewed"})
    rest(
        server, ada, "POST", f"/documents/{doc['id']}/share", {"email": bob.email, "role": "editor"}
    )
    a, b = open_page(), open_page()
    sign_in(a.page, server, ada)
    sign_in(b.page, server, bob)
    open_document(a.page, server, doc["id"])
    a.page.locator(".cm-content").click()
    a.page.keyboard.type("The quick brown fox jumps over the lazy dog.")
    wait_saved(a.page)
    open_document(b.page, server, doc["id"])

    _comment(b.page, "brown fox", "Which fox, @Ada?")
    card = a.page.locator(".comment-card", has_text="Which fox, @Ada?")
    card.wait_for(timeout=10_000)
    _marked(a.page, "brown fox")
    stored = rest(server, ada, "GET", f"/documents/{doc['id']}/comments")
    assert [(c["quote"], c["mentions"]) for c in stored] == [("brown fox", [ada.id])]

    # Both edit at once: Ada before and after the words, Bob inside them.
    _type_at(a.page, "The", "Look: ")
    _type_at(b.page, "brown", "ish", after=True)
    _delete(a.page, "lazy ")
    _type_at(b.page, "dog", "!!!", after=True)
    wait_saved(a.page)
    wait_saved(b.page)
    final = "Look: The quick brownish fox jumps over the dog!!!."
    for page in (a.page, b.page):
        page.wait_for_function(
            "t => window.__docstream.editor().debug.view.state.doc.toString() === t", arg=final
        )
        _marked(page, "brownish fox")

    # A reply, then Bob resolves the thread; Ada sees it and shows resolved threads.
    card.get_by_role("textbox", name="Reply").fill("The brown one.")
    card.get_by_role("button", name="Reply").click()
    b_card = b.page.locator(".comment-card", has_text="Which fox")
    b_card.get_by_text("The brown one.").wait_for(timeout=10_000)
    screenshot(b.page, "comments-desktop")
    violations = axe_violations(b.page)
    assert not violations, describe_violations("comments panel (desktop)", violations)
    b_card.get_by_role("button", name="Resolve").click()
    a.page.get_by_text("No open comments (1 resolved).").wait_for(timeout=10_000)
    _marked(a.page, "")
    a.page.get_by_label("Show resolved").check()
    a.page.locator(".comment-card.resolved").get_by_role("button", name="Reopen").click()
    _marked(b.page, "brownish fox")

    # All its words deleted: the thread stays, "on deleted text".
    _delete(a.page, "brownish fox ")
    wait_saved(a.page)
    for page in (a.page, b.page):
        page.locator(".comment-card", has_text="On deleted text").wait_for(timeout=10_000)
        _marked(page, "")

    # Phone: the cards are a sheet over the bottom of the screen.
    set_size(b.page, "phone")
    if not b.page.locator(".comments-panel").is_visible():
        b.page.get_by_role("button", name="Comments 1 open").click()
    b.page.locator(".comments-panel").wait_for()
    screenshot(b.page, "comments-phone")
    violations = axe_violations(b.page)
    assert not violations, describe_violations("comments panel (phone)", violations)
    set_theme(b.page, "dark")
    screenshot(b.page, "comments-phone-dark")
    violations = axe_violations(b.page)
    assert not violations, describe_violations("comments panel (phone, dark)", violations)


def test_a_commenter_comments_but_cannot_type_and_a_viewer_only_reads(open_page, server):
    ada, cat, vic = (new_account(server, n) for n in ("Ada", "Cat", "Vic"))
    doc = rest(server, ada, "POST", "/documents", {"title": "Roles"})
    for acc, role in ((cat, "commenter"), (vic, "viewer")):
        rest(
            server, ada, "POST", f"/documents/{doc['id']}/share", {"email": acc.email, "role": role}
        )
    a, c, v = open_page(), open_page(), open_page()
    sign_in(a.page, server, ada)
    open_document(a.page, server, doc["id"])
    a.page.locator(".cm-content").click()
    a.page.keyboard.type("Some words to discuss.")
    wait_saved(a.page)
    sign_in(c.page, server, cat)
    open_document(c.page, server, doc["id"])
    c.page.locator(".role-chip", has_text="Commenter").wait_for()
    assert c.page.locator(".cm-content").get_attribute("aria-readonly") == "true"
    hostile = 'Nice <img src=x onerror="window.__pwned=1"> words.'
    _comment(c.page, "words", hostile)
    a.page.locator(".comment-body", has_text=hostile).wait_for(timeout=10_000)
    sign_in(v.page, server, vic)
    open_document(v.page, server, doc["id"])
    v.page.locator(".comment-body", has_text=hostile).wait_for(timeout=10_000)
    for page in (a.page, v.page):  # shown as text, never run as markup
        assert page.locator(".comment-body img").count() == 0
        assert page.evaluate("() => window.__pwned") is None
    assert v.page.get_by_role("button", name="Comment", exact=True).count() == 0
    assert v.page.get_by_role("textbox", name="Reply").count() == 0


def test_a_comment_written_offline_is_sent_on_reconnect(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Offline comments"})
    w = open_page()
    page = w.page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    wait_for_service_worker(page)
    page.locator(".cm-content").click()
    page.keyboard.type("online text.")
    wait_saved(page)
    w.context.set_offline(True)
    page.wait_for_selector('.conn-status[data-state="offline"]')
    page.keyboard.type(" offline text.")
    _comment(page, "offline text", "Written on the train.")
    page.locator(".comment-card", has_text="Written on the train.").get_by_text(
        "sending…"
    ).wait_for()
    page.evaluate("() => window.__docstream.editor().debug.live().persisted()")
    page.reload()  # the outbox survives a reload
    page.locator(".cm-content").wait_for()
    assert rest(server, ada, "GET", f"/documents/{doc['id']}/comments") == []
    w.context.set_offline(False)
    wait_saved(page, timeout=30_000)
    card = page.locator(".comment-card", has_text="Written on the train.")
    card.wait_for(timeout=15_000)
    # The card was there all along (from the outbox): wait until the server confirmed it.
    card.get_by_text("sending…").wait_for(state="detached", timeout=15_000)
    _marked(page, "offline text")
    stored = rest(server, ada, "GET", f"/documents/{doc['id']}/comments")
    assert [(c["body"], c["quote"]) for c in stored] == [("Written on the train.", "offline text")]
    page.wait_for_function(
        "() => !Object.keys(localStorage).some(k => k.startsWith('docstream.comments.outbox.'))"
    )
