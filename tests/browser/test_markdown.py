"""Markdown in real Chromium: the live preview (renders, toggles, remembered per document, follows
remote edits, scroll-synced, phone layout), the formatting toolbar and shortcuts (the text changes
and a second client sees it), task checkboxes, the three exports, and the hostile corpus."""

from __future__ import annotations

from typing import Any

import httpx

from testkit.browser import (
    editor_text,
    new_account,
    open_document,
    rest,
    screenshot,
    set_size,
    set_theme,
    sign_in,
    wait_saved,
)
from testkit.hostile_markdown import CORPUS, DANGEROUS_TAGS

SAMPLE = (
    "# Release notes\n\n"
    "Some **bold**, *italic* and `code`.\n\n"
    "- [ ] write the docs\n"
    "- [x] ship the preview\n\n"
    "> A quote.\n\n"
    "| Part | State |\n|:--|--:|\n| Preview | done |\n\n"
    "[DocStream](https://example.org/docs)\n"
)


def _shared(server, owner, other, role="editor", title="Notes"):
    doc = rest(server, owner, "POST", "/documents", {"title": title})
    rest(
        server, owner, "POST", f"/documents/{doc['id']}/share", {"email": other.email, "role": role}
    )
    return doc


def _set_text(page: Any, text: str) -> None:
    """Replace the text through an ordinary local transaction (it goes through the CRDT binding)."""
    page.evaluate(
        """t => { const v = window.__docstream.editor().debug.view;
                  v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: t}}); }""",
        text,
    )
    wait_saved(page)


def _wait_text(page: Any, text: str) -> None:
    page.wait_for_function(
        "t => window.__docstream.editor().debug.view.state.doc.toString() === t", arg=text
    )


def _preview(page: Any) -> Any:
    return page.get_by_role("region", name="Preview")


def _toggle(page: Any) -> Any:
    return page.get_by_role("toolbar", name="Markdown").get_by_role("button", name="Preview")


def _rendered(page: Any) -> None:
    page.evaluate("() => window.__docstream.editor().debug.markdown.rendered")


def test_the_preview_renders_toggles_and_is_remembered_per_document(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Notes"})
    other = rest(server, ada, "POST", "/documents", {"title": "Other"})
    w = open_page()
    page = w.page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    _set_text(page, SAMPLE)
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    assert not _preview(page).is_visible()
    _toggle(page).click()
    preview = _preview(page)
    preview.get_by_role("heading", name="Release notes", level=1).wait_for()
    assert _toggle(page).get_attribute("aria-pressed") == "true"
    # The renderer is loaded on demand, when the preview first opens.
    assert any("/render-" in url for url in scripts), scripts
    assert preview.locator("strong").inner_text() == "bold"
    assert preview.locator("em").inner_text() == "italic"
    assert preview.get_by_role("table").is_visible()
    link = preview.get_by_role("link", name="DocStream")
    assert link.get_attribute("href") == "https://example.org/docs"
    assert link.get_attribute("rel") == "noopener noreferrer"
    # Side by side on a wide screen: the text stays visible next to the preview.
    assert page.get_by_role("textbox", name="Document text").is_visible()
    # Remembered for this document (not for others), across a reload.
    page.reload()
    _preview(page).get_by_role("heading", name="Release notes").wait_for()
    assert _toggle(page).get_attribute("aria-pressed") == "true"
    open_document(page, server, other["id"])
    assert _toggle(page).get_attribute("aria-pressed") == "false"
    assert not _preview(page).is_visible()
    open_document(page, server, doc["id"])
    _preview(page).get_by_role("heading", name="Release notes").wait_for()
    _toggle(page).click()
    assert not _preview(page).is_visible()
    page.reload()
    page.locator(".cm-content").wait_for()
    assert _toggle(page).get_attribute("aria-pressed") == "false"
    assert not _preview(page).is_visible()


def test_a_remote_edit_re_renders_the_preview(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = _shared(server, ada, bob)
    a, b = open_page().page, open_page().page
    sign_in(a, server, ada)
    sign_in(b, server, bob)
    open_document(a, server, doc["id"])
    open_document(b, server, doc["id"])
    _toggle(a).click()
    b.get_by_role("textbox", name="Document text").click()
    b.keyboard.type("## From Bob\n\nHello *there*")
    wait_saved(b)
    _preview(a).get_by_role("heading", name="From Bob", level=2).wait_for()
    _preview(a).locator("em", has_text="there").wait_for()
    # Many edits in a row: the preview ends on the final text (one render per frame).
    b.keyboard.type(" and more")
    wait_saved(b)
    _preview(a).get_by_text("there and more").wait_for()


def test_toolbar_and_shortcuts_edit_the_text_and_a_second_client_sees_it(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = _shared(server, ada, bob)
    a, b = open_page().page, open_page().page
    sign_in(a, server, ada)
    sign_in(b, server, bob)
    open_document(a, server, doc["id"])
    open_document(b, server, doc["id"])
    a.get_by_role("textbox", name="Document text").click()
    a.keyboard.type("word")
    a.keyboard.press("Shift+Home")
    tools = a.get_by_role("toolbar", name="Markdown")
    tools.get_by_role("button", name="Bold").click()
    _wait_text(a, "**word**")
    a.keyboard.press("Control+i")  # the selection stays on "word"
    _wait_text(a, "***word***")
    a.keyboard.press("Control+i")  # again: unwrapped
    _wait_text(a, "**word**")
    tools.get_by_role("button", name="Heading").click()
    _wait_text(a, "# **word**")
    a.keyboard.press("End")
    a.keyboard.press("Enter")
    a.keyboard.type("one")
    a.keyboard.press("Control+Shift+8")
    _wait_text(a, "# **word**\n- one")
    a.keyboard.press("Control+Shift+7")
    _wait_text(a, "# **word**\n1. one")
    tools.get_by_role("button", name="Quote").click()
    _wait_text(a, "# **word**\n> 1. one")
    a.keyboard.press("End")
    a.keyboard.press("Enter")
    a.keyboard.type("x")
    a.keyboard.press("Shift+ArrowLeft")
    a.keyboard.press("Control+e")
    _wait_text(a, "# **word**\n> 1. one\n`x`")
    a.keyboard.press("End")
    a.keyboard.type(" ")
    a.keyboard.press("Control+Shift+l")
    a.keyboard.type("https://example.org")  # the URL part is selected: typed over
    expected = "# **word**\n> 1. one\n`x` [link text](https://example.org)"
    _wait_text(a, expected)
    tools.get_by_role("button", name="Task list").click()
    expected = "# **word**\n> 1. one\n- [ ] `x` [link text](https://example.org)"
    _wait_text(a, expected)
    wait_saved(a)
    _wait_text(b, expected)
    # Undo takes back one command at a time.
    a.keyboard.press("Control+z")
    _wait_text(a, "# **word**\n> 1. one\n`x` [link text](https://example.org)")
    # Ctrl+K is still the command palette, in the editor too.
    a.keyboard.press("Control+k")
    a.get_by_role("dialog", name="Command palette").wait_for()
    a.keyboard.press("Escape")
    # The toolbar is one tab stop, with the arrow keys inside it.
    tools.get_by_role("button", name="Bold").focus()
    a.keyboard.press("ArrowRight")
    assert a.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Italic"
    a.keyboard.press("End")
    assert a.evaluate("() => document.activeElement.textContent") == "Preview"


def test_a_viewer_gets_the_preview_but_no_formatting(open_page, server):
    ada, vic = new_account(server, "Ada"), new_account(server, "Vic")
    doc = _shared(server, ada, vic, role="viewer")
    a = open_page().page
    sign_in(a, server, ada)
    open_document(a, server, doc["id"])
    _set_text(a, SAMPLE)
    v = open_page().page
    sign_in(v, server, vic)
    open_document(v, server, doc["id"])
    _wait_text(v, SAMPLE)
    tools = v.get_by_role("toolbar", name="Markdown")
    assert not tools.get_by_role("button", name="Bold").is_visible()
    _toggle(v).click()
    box = _preview(v).get_by_role("checkbox").first
    box.wait_for()
    assert box.is_disabled()
    v.keyboard.press("Control+b")
    assert editor_text(v) == SAMPLE


def test_a_task_checkbox_toggles_its_source_line(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = _shared(server, ada, bob)
    a, b = open_page().page, open_page().page
    sign_in(a, server, ada)
    sign_in(b, server, bob)
    open_document(a, server, doc["id"])
    open_document(b, server, doc["id"])
    _set_text(a, SAMPLE)
    _toggle(a).click()
    boxes = _preview(a).get_by_role("checkbox", name="Done")
    boxes.first.wait_for()
    assert [boxes.nth(i).is_checked() for i in range(boxes.count())] == [False, True]
    boxes.first.click()
    done = SAMPLE.replace("- [ ] write", "- [x] write")
    _wait_text(a, done)
    a.wait_for_function(
        "() => document.querySelectorAll('.md-preview input.task-box:checked').length === 2"
    )
    boxes.nth(1).click()
    both = done.replace("- [x] ship", "- [ ] ship")
    _wait_text(a, both)
    wait_saved(a)
    _wait_text(b, both)


def test_the_preview_follows_the_editor_scroll(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Long"})
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    _set_text(page, "".join(f"## Section {i}\n\nParagraph {i} text.\n\n" for i in range(150)))
    _toggle(page).click()
    _preview(page).get_by_role("heading", name="Section 149").wait_for()
    # The editor scrolls "## Section 100" to its top: the preview follows.
    page.evaluate(
        """() => { const v = window.__docstream.editor().debug.view;
                   const pos = v.state.doc.line(401).from;  // "## Section 100"
                   v.dispatch({effects: v.constructor.scrollIntoView(pos, {y: 'start'})}); }"""
    )
    near = """([sel, text]) => { const p = document.querySelector(sel);
               const h = [...p.querySelectorAll('h2, .cm-line')].find(e => e.textContent === text);
               if (!h) return false;
               const box = sel === '.md-preview' ? p : p.querySelector('.cm-scroller');
               const d = h.getBoundingClientRect().top - box.getBoundingClientRect().top;
               return Math.abs(d) < 80; }"""
    page.wait_for_function(near, arg=[".md-preview", "Section 100"])
    # And the other way: the preview scrolls to "Section 30", the editor follows (after the
    # moment in which the preview's own scroll event is taken as the echo of the editor's).
    page.wait_for_timeout(300)
    page.evaluate(
        """() => { const p = document.querySelector('.md-preview');
                   const h = [...p.querySelectorAll('h2')]
                       .find(e => e.textContent === 'Section 30');
                   p.scrollTop += h.getBoundingClientRect().top
                       - p.getBoundingClientRect().top; }"""
    )
    page.wait_for_function(near, arg=[".editor-host", "## Section 30"])


def test_on_a_phone_the_preview_takes_the_editors_place(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Phone"})
    page = open_page().page
    set_size(page, "phone")
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    _set_text(page, SAMPLE)
    _toggle(page).click()
    _preview(page).get_by_role("heading", name="Release notes").wait_for()
    assert not page.get_by_role("textbox", name="Document text").is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    _toggle(page).click()
    page.get_by_role("textbox", name="Document text").wait_for()
    assert not _preview(page).is_visible()


def test_the_hostile_corpus_runs_nothing_in_the_preview(open_page, server):
    ada, bob = new_account(server, "Ada"), new_account(server, "Bob")
    doc = _shared(server, ada, bob)
    a = open_page().page
    sign_in(a, server, ada)
    open_document(a, server, doc["id"])
    _set_text(a, CORPUS)
    # The victim opens the preview of text someone else typed.
    b = open_page().page
    sign_in(b, server, bob)
    open_document(b, server, doc["id"])
    _wait_text(b, CORPUS)
    _toggle(b).click()
    _preview(b).get_by_role("heading", name="Hostile").wait_for()
    _rendered(b)
    b.wait_for_timeout(300)  # an onerror/onload would have fired by now
    report = b.evaluate(
        """(dangerous) => {
            const root = document.querySelector('.md-preview .md-content');
            const bad = [];
            // The preview's own wrappers, one per top-level block; the rendering is inside them.
            for (const el of root.children)
                if (el.localName !== 'div' || el.className !== 'md-block' ||
                    el.getAttributeNames().join() !== 'class,data-line')
                    bad.push('not a block wrapper: ' + el.outerHTML.slice(0, 80));
            for (const el of root.querySelectorAll('.md-block *')) {
                if (dangerous.includes(el.localName)) bad.push('element ' + el.localName);
                for (const a of el.attributes) {
                    const risky = ['srcdoc', 'action', 'formaction'].includes(a.name);
                    if (a.name.startsWith('on') || risky)
                        bad.push(`attribute ${a.name} on ${el.localName}`);
                    if (a.name === 'style' && !['th', 'td'].includes(el.localName))
                        bad.push('style on ' + el.localName);
                }
            }
            const urls = [...root.querySelectorAll('[href], [src]')].map(
                e => [e.localName, e.getAttribute('href') ?? e.getAttribute('src'),
                      e.href ?? e.src]);
            const rels = [...root.querySelectorAll('a')].map(a => a.rel);
            return {pwned: window.__pwned ?? null, bad, urls, rels,
                    text: root.textContent.includes("<script>window.__pwned = 'script'</script>")};
        }""",
        list(DANGEROUS_TAGS),
    )
    assert report["pwned"] is None, report
    assert report["bad"] == [], report["bad"]
    for tag, raw, resolved in report["urls"]:
        scheme = resolved.split(":", 1)[0].lower()
        assert scheme in {"http", "https", "mailto"}, (tag, raw, resolved)
    assert report["rels"] and all(r == "noopener noreferrer" for r in report["rels"])
    assert report["text"], "the raw HTML is shown as text"
    assert b.evaluate("() => window.__pwned ?? null") is None
    # The .html export of the same text, opened in Chromium: nothing runs there either.
    r = httpx.get(
        f"{server.url}/documents/{doc['id']}/export",
        params={"format": "html"},
        headers={"Authorization": f"Bearer {bob.token}"},
        timeout=30,
    )
    r.raise_for_status()
    exported = open_page().page
    exported.set_content(r.text)
    exported.get_by_role("heading", name="Hostile").wait_for()
    exported.wait_for_timeout(300)
    assert exported.evaluate("() => window.__pwned ?? null") is None
    found = exported.evaluate(
        "(tags) => [...document.querySelectorAll('main *')].map(e => e.localName)"
        ".filter(t => tags.includes(t))",
        list(DANGEROUS_TAGS),
    )
    assert found == []


def test_the_three_exports_from_the_menu(open_page, server):
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Export me"})
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    _set_text(page, SAMPLE)
    got = {}
    for fmt in ("md", "txt", "html"):
        with page.expect_download() as info:
            page.get_by_role("button", name="More actions").click()
            page.get_by_role("menu", name="More actions").get_by_role(
                "menuitem", name=f"Export .{fmt}"
            ).click()
        download = info.value
        assert download.suggested_filename == f"Export me.{fmt}"
        got[fmt] = open(download.path(), encoding="utf-8").read()  # noqa: SIM115
    assert got["md"] == got["txt"] == SAMPLE
    html = got["html"]
    assert html.startswith("<!doctype html>") and "<title>Export me</title>" in html
    assert "<h1>Release notes</h1>" in html and "<strong>bold</strong>" in html
    # The standalone page opens and shows the rendering (a file: no server needed).
    viewer = open_page().page
    viewer.set_content(html)
    viewer.get_by_role("heading", name="Release notes").wait_for()
    assert viewer.get_by_role("checkbox").count() == 2


def test_screenshots_of_the_editor_with_the_preview(open_page, server):
    ada, bob = new_account(server, "Ada Lovelace"), new_account(server, "Bob Kahn")
    doc = _shared(server, ada, bob, title="Release notes")
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    _set_text(
        page,
        SAMPLE + "\n## Next\n\n1. Comments\n2. Notifications\n\n"
        "```\ndocstream export --format html\n```\n",
    )
    page.get_by_role("textbox", name="Document text").click()
    _toggle(page).click()
    _preview(page).get_by_role("heading", name="Release notes").wait_for()
    for size in ("desktop", "phone"):
        set_size(page, size)
        for theme in ("light", "dark"):
            set_theme(page, theme)
            screenshot(page, f"markdown-preview-{size}-{theme}")
        if size == "phone":
            _toggle(page).click()
            page.get_by_role("textbox", name="Document text").wait_for()
            for theme in ("light", "dark"):
                set_theme(page, theme)
                screenshot(page, f"markdown-editor-{size}-{theme}")


SAME_AS_FULL_RENDER = """() => {
    const tools = window.__docstream.editor().debug.markdown;
    const text = window.__docstream.editor().debug.view.state.doc.toString();
    const full = document.createElement('div');
    tools.renderer.renderInto(full, text);
    const live = document.createElement('div');
    for (const block of document.querySelector('.md-content').children)
        live.append(...[...block.childNodes].map(n => n.cloneNode(true)));
    const norm = (el) => {
        for (const e of el.querySelectorAll('[data-line], [data-task-line]')) {
            e.removeAttribute('data-line'); e.removeAttribute('data-task-line');
        }
        return el.innerHTML.replace(/>\\s+</g, '><').trim();
    };
    return [norm(live), norm(full)];
}"""


def test_the_incremental_preview_matches_a_full_render_after_edits(open_page, server):
    """Only changed blocks are re-rendered: after edits that split, merge and re-link blocks the
    preview is what rendering the whole text afresh gives, and task lines stay right."""
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Edits"})
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    _set_text(
        page, SAMPLE + "\nSee [the docs][d].\n\n[d]: https://example.org/a\n\n- [ ] last task\n"
    )
    _toggle(page).click()
    _preview(page).get_by_role("heading", name="Release notes").wait_for()
    edits = [
        # Split the first paragraph into two, then merge it back.
        ("Some **bold**", "Some\n\n**bold**"),
        ("Some\n\n**bold**", "Some **bold**"),
        # Open a fence that swallows the rest, then close it.
        ("> A quote.", "```\n> A quote."),
        ("```\n> A quote.", "```\n> A quote.\n```"),
        # Change a link reference definition used by another block.
        ("[d]: https://example.org/a", "[d]: https://example.org/b"),
        # Lines inserted above the tasks: their source lines move.
        ("# Release notes\n", "# Release notes\n\nNew intro.\n\n"),
    ]
    text = editor_text(page)
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
        _set_text(page, text)
        _rendered(page)
        live, full = page.evaluate(SAME_AS_FULL_RENDER)
        assert live == full, (old, new)
    assert _preview(page).get_by_role("link", name="the docs").get_attribute("href") == (
        "https://example.org/b"
    )
    _preview(page).get_by_role("checkbox", name="Done").last.click()
    _wait_text(page, text.replace("- [ ] last task", "- [x] last task"))


def test_typing_inside_a_paragraph_patches_its_text_in_place(open_page, server):
    """A keystroke inside a paragraph changes the shown paragraph's text node (its element and
    the text node stay: the browser re-lays only what changed); a change of formatting replaces
    the paragraph. Either way the preview is what a full render gives."""
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Typing"})
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    _set_text(page, "# Notes\n\nA long paragraph of plain words.\n\nAnother one.\n")
    _toggle(page).click()
    _preview(page).get_by_text("A long paragraph of plain words.").wait_for()
    _rendered(page)
    page.evaluate("""() => { const p = document.querySelector('.md-content p');
                            window.__shown = [p, p.firstChild]; }""")
    same = """() => { const p = document.querySelector('.md-content p');
                     return p === window.__shown[0] && p.firstChild === window.__shown[1]; }"""

    text = editor_text(page).replace("plain words", "plain, simple words")
    _set_text(page, text)
    _rendered(page)
    assert page.evaluate(same), "the paragraph was replaced, not patched"
    assert page.evaluate("document.querySelector('.md-content p').textContent") == (
        "A long paragraph of plain, simple words."
    )
    live, full = page.evaluate(SAME_AS_FULL_RENDER)
    assert live == full

    _set_text(page, text.replace("simple", "**simple**"))  # now it has a bold part
    _rendered(page)
    assert not page.evaluate(same)
    assert _preview(page).locator("strong").inner_text() == "simple"
    live, full = page.evaluate(SAME_AS_FULL_RENDER)
    assert live == full


PREVIEW_UPDATES = """() => {
    const content = document.querySelector('.md-preview .md-content');
    window.__updates = [];
    new MutationObserver(() => window.__updates.push(performance.now()))
        .observe(content, {childList: true, subtree: true, characterData: true});
}"""


def test_a_preview_slow_to_lay_out_waits_for_a_pause_in_typing(open_page, server):
    """One paragraph of 200,000 characters: the browser takes milliseconds to lay it out again,
    so the preview updates at a pause in the typing (and at least every 2 s), not at every key."""
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "One long paragraph"})
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    _set_text(page, "lorem ipsum dolor sit amet " * 7400)
    _toggle(page).click()
    _rendered(page)
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    # The first rendering is out of sight until laid out; the first edit after it is timed.
    page.keyboard.type("Z")
    page.wait_for_function(
        "() => document.querySelector('.md-content p').textContent.endsWith('Z')", timeout=5000
    )
    assert page.evaluate("window.__docstream.editor().debug.markdown.paced")
    page.evaluate(PREVIEW_UPDATES)

    # A burst of keys 50 ms apart: nothing until the typing pauses, then all of it at once.
    page.keyboard.type("QQQQQ", delay=50)
    typed = page.evaluate("performance.now()")
    page.wait_for_function(
        "() => document.querySelector('.md-content p').textContent.endsWith('ZQQQQQ')", timeout=5000
    )
    updates = page.evaluate("window.__updates")
    # One update after the burst (two should the machine stall for 200 ms between two keys).
    assert 1 <= len(updates) <= 2 and updates[-1] - typed >= 100, (updates, typed)

    # Typing without a pause for 3 s: the preview still follows, at most 2 s behind.
    page.evaluate(PREVIEW_UPDATES)
    start = page.evaluate("performance.now()")
    page.keyboard.type("W" * 50, delay=60)
    end = page.evaluate("performance.now()")
    during = [t for t in page.evaluate("window.__updates") if start < t < end]
    assert 1 <= len(during) <= 3, (during, start, end)
    _rendered(page)
    assert page.evaluate(
        "document.querySelector('.md-content p').textContent.endsWith('ZQQQQQ' + 'W'.repeat(50))"
    )


def test_highlighting_is_on_for_markdown_and_off_for_a_huge_paragraph(open_page, server):
    """Markdown parses a paragraph whole: a plain-text document without blank lines is not
    re-parsed at every key (highlighting is off while one paragraph is over 10,000 characters)."""
    ada = new_account(server, "Ada")
    doc = rest(server, ada, "POST", "/documents", {"title": "Highlight"})
    page = open_page().page
    sign_in(page, server, ada)
    open_document(page, server, doc["id"])
    styled = "() => document.querySelectorAll('.cm-content .cm-line span').length > 0"
    _set_text(page, "# Title\n\nSome **bold** text.\n")
    page.wait_for_function(styled)
    _set_text(page, "# Title\n\n" + "word " * 2500 + "\n")
    page.wait_for_function(f"() => !({styled})()", timeout=5_000)
    _set_text(page, "# Title\n\n" + "word " * 25 + "\n")
    page.wait_for_function(styled, timeout=5_000)
