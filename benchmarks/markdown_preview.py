"""The Markdown preview's keystroke latency, part of the ``ui`` suite (``benchmarks/ui.py``).

A 100,000-character Markdown document (headings, paragraphs with emphasis, code and links, lists,
task lists, quotes, tables, fenced code) is opened with the preview side by side; keys are typed
in the middle of the text, 120 ms apart (each render finishes before the next key). Measured in
the page:

* *keystroke → preview updated*: keydown (capture phase) → the preview's DOM replaced with the new
  rendering (a MutationObserver on the preview, delivered right after the render). This includes
  the wait for the next animation frame, into which the preview coalesces its renders;
* *keystroke → preview painted*: the same, to after the next frame is painted;
* the floor, in the same page and run: markdown-it's render plus DOMPurify's sanitising of the same
  text into a detached element, alone (no editor, no CRDT, no frame wait).
"""

from __future__ import annotations

import base64
import random
import statistics
from typing import Any

import httpx

from benchmarks.report import Row
from testkit.browser import new_account, sign_in
from testkit.processes import ServerProcess

SUITE = "ui"
CHARS = 100_000


def markdown_document(chars: int = CHARS, seed: int = 11) -> str:
    """A varied Markdown document of exactly ``chars`` characters."""
    rng = random.Random(seed)
    words = ["plan", "ship", "edit", "text", "merge", "quote", "table", "list", "render", "sync"]

    def sentence() -> str:
        parts = [rng.choice(words) for _ in range(rng.randint(6, 14))]
        i = rng.randrange(len(parts))
        parts[i] = rng.choice(
            [
                f"**{parts[i]}**",
                f"*{parts[i]}*",
                f"`{parts[i]}`",
                f"[{parts[i]}](https://example.org/{parts[i]})",
            ]
        )
        return " ".join(parts).capitalize() + "."

    blocks: list[str] = []
    size = 0
    n = 0
    while size < chars:
        n += 1
        kind = n % 8
        if kind == 0:
            block = f"## Section {n}"
        elif kind == 1:
            block = "\n".join(f"- {sentence()}" for _ in range(4))
        elif kind == 2:
            block = "\n".join(f"- [{rng.choice(' x')}] {sentence()}" for _ in range(3))
        elif kind == 3:
            block = "\n".join(f"{i}. {sentence()}" for i in range(1, 4))
        elif kind == 4:
            block = f"> {sentence()} {sentence()}"
        elif kind == 5:
            rows = "\n".join(f"| {rng.choice(words)} | {rng.randint(1, 99)} |" for _ in range(3))
            block = f"| Name | Count |\n|:--|--:|\n{rows}"
        elif kind == 6:
            block = (
                "```\n" + "\n".join(" ".join(rng.choices(words, k=6)) for _ in range(3)) + "\n```"
            )
        else:
            block = " ".join(sentence() for _ in range(5))
        blocks.append(block)
        size += len(block) + 2
    text = "\n\n".join(blocks)
    return text[:chars]


INSTRUMENT = """() => {
  const content = document.querySelector('.md-preview .md-content');
  const lat = window.__mdlat = {updated: [], painted: []};
  let t0 = 0, pending = false;
  window.addEventListener('keydown', () => { t0 = performance.now(); pending = true; }, true);
  new MutationObserver(() => {
    if (!pending) return;
    pending = false;
    const start = t0;
    lat.updated.push(performance.now() - start);
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => lat.painted.push(performance.now() - start);
      ch.port2.postMessage(0);
    });
  }).observe(content, {childList: true, subtree: true, characterData: true});  // or patched
}"""

FLOOR = """async (runs) => {
  const tools = window.__docstream.editor().debug.markdown;
  const renderer = tools.renderer;  // loaded when the preview opened
  const text = window.__docstream.editor().debug.view.state.doc.toString();
  const target = document.createElement('div');
  const both = [], raw = [];
  for (let i = 0; i < runs; i++) {
    const t = text.slice(0, 50000) + String.fromCharCode(97 + (i % 26)) + text.slice(50000);
    let t0 = performance.now();
    renderer.renderInto(target, t);
    both.push(performance.now() - t0);
    t0 = performance.now();
    renderer.renderRaw(t);
    raw.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {both, raw, blocks: target.querySelectorAll('[data-line]').length};
}"""


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def preview_rows(browser: Any, server: ServerProcess, quick: bool) -> list[Row]:
    owner = new_account(server, "Writer")
    text = markdown_document()
    r = httpx.post(
        f"{server.url}/documents/import",
        json={"name": "big.md", "data": base64.b64encode(text.encode()).decode()},
        headers={"Authorization": f"Bearer {owner.token}"},
        timeout=60,
    )
    r.raise_for_status()
    doc_id = r.json()["id"]
    keys = 60 if quick else 200
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        sign_in(page, server, owner)
        page.goto(f"{server.url}/d/{doc_id}")
        page.wait_for_function(
            "n => window.__docstream?.editor()?.debug.view.state.doc.length === n",
            arg=len(text),
            timeout=60_000,
        )
        page.get_by_role("toolbar", name="Markdown").get_by_role("button", name="Preview").click()
        page.get_by_role("region", name="Preview").get_by_role("heading").first.wait_for()
        page.evaluate("() => window.__docstream.editor().debug.markdown.rendered")
        page.evaluate(INSTRUMENT)
        page.evaluate(
            """() => { const v = window.__docstream.editor().debug.view;
                       v.dispatch({selection: {anchor: 50000}, scrollIntoView: true});
                       v.focus(); }"""
        )
        page.wait_for_timeout(300)
        rng = random.Random(5)
        for _ in range(keys):
            page.keyboard.press(rng.choice("abcdefghijklmnopqrstuvwxyz "))
            page.wait_for_timeout(120)
        page.wait_for_timeout(500)
        lat = page.evaluate("() => window.__mdlat")
        floor = page.evaluate(FLOOR, keys // 2)
    finally:
        context.close()
    updated, painted = lat["updated"], lat["painted"]
    both, raw = floor["both"], floor["raw"]
    note = f"{len(updated)} keys, {CHARS:,} chars of Markdown, {floor['blocks']} blocks"
    return [
        Row(
            SUITE,
            "markdown: keystroke -> preview updated p50",
            round(statistics.median(updated), 1),
            "ms",
            peer=round(statistics.median(both), 1),
            peer_name="floor: markdown-it + DOMPurify alone",
            samples=updated,
        ),
        Row(
            SUITE,
            "markdown: keystroke -> preview updated p95",
            round(_pct(updated, 95), 1),
            "ms",
            peer=round(_pct(both, 95), 1),
            peer_name="floor: markdown-it + DOMPurify alone",
            target="<= 50 ms",
            met=_pct(updated, 95) <= 50,
            note=note,
        ),
        Row(
            SUITE,
            "markdown: keystroke -> preview painted p50",
            round(statistics.median(painted), 1),
            "ms",
            note="includes waiting for the next frame",
            samples=painted,
        ),
        Row(
            SUITE,
            "markdown: markdown-it render alone p50",
            round(statistics.median(raw), 1),
            "ms",
            note="part of the floor",
            samples=raw,
        ),
    ]


def main() -> None:
    """``python -m benchmarks.markdown_preview [--quick]``: this part of the ui suite alone."""
    import sys

    from playwright.sync_api import sync_playwright

    from testkit.browser import ensure_ui_built, launch_chromium, run_server

    quick = "--quick" in sys.argv
    ensure_ui_built()
    with run_server() as server, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            rows = preview_rows(browser, server, quick)
        finally:
            browser.close()
    for row in rows:
        peer = f"  floor {row.peer} {row.unit}" if row.peer is not None else ""
        met = "" if row.met is None else f"  target {row.target}: {'met' if row.met else 'NOT met'}"
        print(f"{row.measure:<45} {row.ours:>8} {row.unit}{peer}{met}  {row.note}")


if __name__ == "__main__":
    main()
