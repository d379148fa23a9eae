"""The web UI suite in real Chromium: ``python -m benchmarks ui [--quick]``.

Measures the UI's targets on this machine and prints them (``run(quick)`` returns
``benchmarks.report.Row`` objects so that ``make bench`` includes the suite); the Chromium harness
is ``testkit.browser``, shared with the browser tests:

* the production bundle, gzipped (all chunks, JS and CSS), and the first screen's JavaScript:
  what the sign-in page loads in Chromium, counted from the network (target < 300 KB gzipped;
  the editor and CodeMirror load only when a document is opened);
* opening a 100,000-character document with a long editing history (many tombstones): from
  navigation to the editor showing the whole text, cold (nothing cached) and warm (the offline
  cache in IndexedDB) (target < 1 s);
* keystroke to local paint while 5 collaborators type in the same document and the Markdown
  preview is open beside it, against a bare CodeMirror view typed into in the same page while 5
  simulated collaborators type into it at the same rate as plain transactions (targets: processing
  p99 within 2 ms of the bare editor's, paint p99 within 10 % of it; the bare editor alone is
  reported too). Chromium runs
  with its frame clock uncapped (``--disable-frame-rate-limit --disable-gpu-vsync``), so that a
  paint is not a wait for a 60 Hz tick:
  - ``processing``: keydown -> CodeMirror has applied the edit, the CRDT has integrated it and the
    ops message is queued (what the page does per keystroke);
  - ``to paint``: keydown -> after the next frame is painted (rAF, then a message posted from it);
  - ``slow events``: keystrokes whose Event Timing duration (the browser's own input-to-paint,
    reported only from 16 ms up) reached 16 ms;
* the Markdown preview: keystroke to preview updated in a 100,000-character Markdown document
  (target <= 50 ms), with the floor (markdown-it + DOMPurify alone) from the same run
  (``benchmarks/markdown_preview.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.markdown_preview import preview_rows
from benchmarks.report import Row
from docstream.client.connection import DocStreamClient
from testkit.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    STATIC,
    ensure_ui_built,
    first_screen_scripts,
    new_account,
    rest,
    run_server,
    sign_in,
)
from testkit.processes import ServerProcess

SUITE = "ui"
UNCAPPED = ["--disable-frame-rate-limit", "--disable-gpu-vsync"]
DOC_CHARS = 100_000
WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
]


def bundle_gzip_kb() -> float:
    total = 0
    for path in (STATIC / "assets").iterdir():
        if path.suffix in (".js", ".css"):
            total += len(gzip.compress(path.read_bytes(), 9))
    total += len(gzip.compress((STATIC / "index.html").read_bytes(), 9))
    return total / 1024


def _words(rng: random.Random, n: int) -> str:
    out = []
    size = 0
    while size < n:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)[:n]


async def _fill(
    server: ServerProcess, email: str, password: str, doc_id: str, chars: int, quick: bool
) -> None:
    """Give the document a long history: chunks typed at random places, then scattered deletes."""
    rng = random.Random(7)
    async with DocStreamClient(server.url) as client:
        await client.login(email, password)
        async with client.open(doc_id) as live:
            target = int(chars * 1.2)
            chunk = 1200
            while len(live.text) < target:
                live.insert(rng.randint(0, len(live.text)), _words(rng, chunk) + "\n")
            await live.synced(120)
            deletes = 300 if quick else 2000
            for _ in range(deletes):
                excess = len(live.text) - chars
                if excess <= 0:
                    break
                n = min(excess, rng.randint(1, 2 * (excess // max(1, deletes // 4)) + 1))
                start = rng.randint(0, len(live.text) - n)
                live.delete(start, n)
            while len(live.text) > chars:
                live.delete(rng.randint(0, len(live.text) - 1), 1)
            while len(live.text) < chars:
                live.insert(rng.randint(0, len(live.text)), "x")
            await live.synced(120)


class Typists:
    """Five collaborators typing (about 6 characters per second each) in a background loop."""

    def __init__(self, server: ServerProcess, accounts: list[tuple[str, str]], doc_id: str) -> None:
        self.server, self.accounts, self.doc_id = server, accounts, doc_id
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.ready = threading.Event()
        self.typed = 0
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self._main(),), daemon=True
        )

    async def _one(self, email: str, password: str, seed: int) -> None:
        rng = random.Random(seed)
        async with DocStreamClient(self.server.url) as client:
            await client.login(email, password)
            async with client.open(self.doc_id) as live:
                pos = rng.randint(0, len(live.text))
                self.ready_count += 1
                if self.ready_count == len(self.accounts):
                    self.ready.set()
                while not self.stop.is_set():
                    pos = min(pos, len(live.text))
                    live.insert(pos, rng.choice("abcdefghij "))
                    live.set_cursor(pos + 1)
                    pos += 1
                    self.typed += 1
                    await asyncio.sleep(rng.uniform(0.1, 0.25))

    async def _main(self) -> None:
        self.stop = asyncio.Event()
        self.ready_count = 0
        await asyncio.gather(*(self._one(e, p, i) for i, (e, p) in enumerate(self.accounts)))

    def __enter__(self) -> Typists:
        self.thread.start()
        if not self.ready.wait(60):
            raise RuntimeError("the collaborators did not connect")
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


INSTRUMENT = """(which) => {
  const view = which === 'bare' ? window.__bare : window.__docstream.editor().debug.view;
  const lat = window.__lat = {proc: [], paint: [], slow: 0, events: 0};
  let t0 = 0, pending = false;
  const orig = view.update.bind(view);
  view.update = (trs) => {
    orig(trs);
    if (pending && trs.some((tr) => tr.docChanged && tr.isUserEvent('input'))) {
      pending = false;
      const start = t0;
      lat.proc.push(performance.now() - start);
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => lat.paint.push(performance.now() - start);
        ch.port2.postMessage(0);
      });
    }
  };
  window.addEventListener('keydown', () => {
    if (window.__lat === lat) { t0 = performance.now(); pending = true; }
  }, true);
  new PerformanceObserver((list) => {
    if (window.__lat !== lat) return;
    for (const e of list.getEntries()) {
      if (e.name === 'keydown') { lat.events++; if (e.duration >= 16) lat.slow++; }
    }
  }).observe({type: 'event', durationThreshold: 16, buffered: false});
}"""

#: The peer: a bare CodeMirror 6 view (no extensions, no collaboration) over the same text, made
#: from the classes of the page's own editor, on top of it in the same page.
BARE_EDITOR = """() => {
  const app = window.__docstream.editor().debug.view;
  const View = app.constructor, State = app.state.constructor;
  const host = document.createElement('div');
  host.style.cssText = 'position:fixed;inset:0;background:#fff;z-index:9999;overflow:auto';
  document.body.appendChild(host);
  window.__bare = new View({state: State.create({doc: app.state.doc}), parent: host});
  window.__bare.focus();
  return window.__bare.state.doc.length;
}"""

#: The same load as ``Typists`` on the bare view: 5 collaborators, each inserting a character at
#: its own place every 100-250 ms, as plain transactions (no CRDT, no network, no presence).
BARE_TYPISTS = """(on) => {
  const view = window.__bare;
  clearInterval(window.__bareTypists?.stop);
  if (!on) return 0;
  let seed = 11;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const typists = Array.from({length: 5}, () => ({pos: Math.floor(rnd() * view.state.doc.length),
                                                  next: performance.now() + 100 + 150 * rnd()}));
  const state = window.__bareTypists = {typed: 0};
  state.stop = setInterval(() => {
    const now = performance.now();
    for (const t of typists) {
      if (now < t.next) continue;
      t.next = now + 100 + 150 * rnd();
      const pos = Math.min(t.pos, view.state.doc.length);
      const ch = 'abcdefghij '[Math.floor(rnd() * 11)];
      const tr = view.state.update({changes: {from: pos, insert: ch}});
      view.dispatch(tr);
      for (const o of typists) o.pos = tr.changes.mapPos(o.pos, o === t ? 1 : -1);
      state.typed++;
    }
  }, 10);
  return 0;
}"""


def _type_keys(page: Any, keys: int) -> dict[str, Any]:
    """Press ``keys`` keys (with a PageUp now and then) 30 ms apart; the page's measurements."""
    rng = random.Random(3)
    for i in range(keys):
        if i % 60 == 59:  # move somewhere else now and then, like a person
            page.keyboard.press("PageUp")
        page.keyboard.press(rng.choice("abcdefghijklmnopqrstuvwxyz     "))
        page.wait_for_timeout(30)
    page.wait_for_timeout(500)
    return dict(page.evaluate("() => window.__lat"))


@contextlib.contextmanager
def _profiled(context: Any, page: Any) -> Iterator[None]:
    """With ``DOCSTREAM_BENCH_UI_PROFILE=<file>``: a CPU profile of the page (Chrome DevTools
    protocol, 100 µs sampling) while the block runs, saved as ``.cpuprofile`` (DevTools opens
    it), and the functions holding the most time printed."""
    path = os.environ.get("DOCSTREAM_BENCH_UI_PROFILE")
    if not path:
        yield
        return
    cdp = context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 100})
    cdp.send("Profiler.start")
    try:
        yield
    finally:
        profile = cdp.send("Profiler.stop")["profile"]
        Path(path).write_text(json.dumps(profile))
        print(f"  {SUITE}: profile written to {path}", file=sys.stderr)
        for line in profile_summary(profile):
            print(f"  {SUITE}:   {line}", file=sys.stderr)


@contextlib.contextmanager
def _traced(browser: Any, page: Any) -> Iterator[None]:
    """With ``DOCSTREAM_BENCH_UI_TRACE=<file>``: a Chromium performance trace (the DevTools
    timeline categories) while the block runs, saved as JSON (DevTools' Performance panel opens
    it), and the renderer main thread's time by event printed: where the time outside
    JavaScript goes (style, layout, paint, ...)."""
    path = os.environ.get("DOCSTREAM_BENCH_UI_TRACE")
    if not path:
        yield
        return
    browser.start_tracing(
        page=page,
        path=path,
        categories=[
            "devtools.timeline",
            "disabled-by-default-devtools.timeline",
            # which nodes made each layout necessary, and why
            "disabled-by-default-devtools.timeline.invalidationTracking",
        ],
    )
    try:
        yield
    finally:
        browser.stop_tracing()
        print(f"  {SUITE}: trace written to {path}", file=sys.stderr)
        for line in trace_summary(json.loads(Path(path).read_text())):
            print(f"  {SUITE}:   {line}", file=sys.stderr)


def trace_summary(trace: dict[str, Any], top: int = 20) -> list[str]:
    """Self time of the renderer main thread's complete events, by name, the largest first."""
    events = trace.get("traceEvents", trace) if isinstance(trace, dict) else trace
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    spans = sorted(
        (e for e in events if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in mains),
        key=lambda e: (e["ts"], -e.get("dur", 0)),
    )
    own: dict[str, float] = {}
    stack: list[tuple[float, str]] = []  # (end, name): time of a child is not its parent's own
    for e in spans:
        start, dur = float(e["ts"]), float(e.get("dur", 0))
        while stack and stack[-1][0] <= start:
            stack.pop()
        if stack:
            own[stack[-1][1]] = own.get(stack[-1][1], 0.0) - dur
        own[e["name"]] = own.get(e["name"], 0.0) + dur
        stack.append((start + dur, e["name"]))
    total = sum(v for v in own.values() if v > 0) or 1.0
    ranked = sorted(own.items(), key=lambda kv: -kv[1])[:top]
    return [f"{us / 1000:8.1f} ms {us / total:5.1%}  {name}" for name, us in ranked]


def profile_summary(profile: dict[str, Any], top: int = 25) -> list[str]:
    """Self time by function (name, file and line) of a CDP CPU profile, the largest first."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    deltas = profile.get("timeDeltas", [])
    spent: dict[str, float] = {}
    for node_id, dt in zip(profile.get("samples", [])[1:], deltas[1:], strict=False):
        frame = nodes[node_id]["callFrame"]
        url = frame.get("url", "").rsplit("/", 1)[-1]
        key = f"{frame.get('functionName') or '(anonymous)'} {url}:{frame.get('lineNumber', 0)}"
        spent[key] = spent.get(key, 0.0) + dt / 1000.0
    total = sum(spent.values()) or 1.0
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])[:top]
    return [f"{ms:8.1f} ms {ms / total:5.1%}  {key}" for key, ms in ranked]


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _open_ms(page: Any, url: str, length: int) -> float:
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function(
        "n => { const e = window.__docstream && window.__docstream.editor();"
        " return !!e && e.debug.view.state.doc.length >= n &&"
        " document.querySelector('.conn-status').dataset.state === 'saved'; }",
        arg=length,
        timeout=60_000,
        polling=10,
    )
    return (time.perf_counter() - t0) * 1000


def run(quick: bool) -> list[Row]:
    from playwright.sync_api import sync_playwright

    ensure_ui_built()
    rows = [
        Row(
            SUITE,
            "production bundle (gzip)",
            round(bundle_gzip_kb(), 1),
            "KB",
            note="every chunk, JS and CSS, and index.html",
        )
    ]
    keys = 120 if quick else 400
    with run_server() as server:
        owner = new_account(server, "Owner")
        doc = rest(server, owner, "POST", "/documents", {"title": "Big document"})
        others = [new_account(server, f"Typist{i}") for i in range(5)]
        for o in others:
            rest(
                server,
                owner,
                "POST",
                f"/documents/{doc['id']}/share",
                {"email": o.email, "role": "editor"},
            )
        asyncio.run(_fill(server, owner.email, owner.password, doc["id"], DOC_CHARS, quick))
        length16 = (
            len(rest(server, owner, "GET", f"/documents/{doc['id']}")["text"].encode("utf-16-le"))
            // 2
        )
        with sync_playwright() as pw:
            # The frame clock uncapped: a paint measures the page's work, not a 60 Hz tick.
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *UNCAPPED], headless=True
            )
            scripts = first_screen_scripts(browser, server)
            first_kb = sum(gz for _, gz in scripts.values()) / 1024
            rows.append(
                Row(
                    SUITE,
                    "first screen JavaScript (gzip)",
                    round(first_kb, 1),
                    "KB",
                    target="< 300 KB",
                    met=first_kb < 300,
                    note=f"{len(scripts)} scripts loaded by /signin, measured in Chromium",
                )
            )
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            sign_in(page, server, owner)
            url = f"{server.url}/d/{doc['id']}"
            cold = _open_ms(page, url, length16)
            page.goto(f"{server.url}/")
            page.get_by_role("heading", name="Documents").wait_for()
            warm = _open_ms(page, url, length16)
            rows.append(
                Row(
                    SUITE,
                    "open 100k-char document (cold)",
                    round(cold),
                    "ms",
                    target="< 1000 ms",
                    met=cold < 1000,
                    note="navigation -> whole text shown and connected",
                )
            )
            rows.append(
                Row(
                    SUITE,
                    "open 100k-char document (warm, offline cache)",
                    round(warm),
                    "ms",
                    target="< 1000 ms",
                    met=warm < 1000,
                )
            )
            # The Markdown preview open beside the text (remembered per document), as a writer
            # would have it; it re-renders on every local and remote change.
            page.evaluate("id => localStorage.setItem('docstream.preview.' + id, '1')", doc["id"])
            _open_ms(page, url, length16)
            page.locator(".with-preview").wait_for()
            with Typists(server, [(o.email, o.password) for o in others], doc["id"]) as typists:
                page.evaluate(INSTRUMENT, "app")
                page.locator(".cm-content").click()
                page.keyboard.press("Control+End")
                with _profiled(context, page), _traced(browser, page):
                    lat = _type_keys(page, keys)
                remote = typists.typed
            # The peers, in the same page after the collaborators stopped: a bare CodeMirror
            # alone (a best case), then the same with 5 simulated collaborators typing into it.
            page.evaluate(BARE_EDITOR)
            page.evaluate(INSTRUMENT, "bare")
            page.keyboard.press("Control+End")
            alone = _type_keys(page, keys)
            page.evaluate(BARE_TYPISTS, True)
            page.evaluate(INSTRUMENT, "bare")
            page.keyboard.press("Control+End")
            bare = _type_keys(page, keys)
            bare_remote = page.evaluate("() => window.__bareTypists.typed")
            page.evaluate(BARE_TYPISTS, False)
            context.close()
            rows += preview_rows(browser, server, quick)
            browser.close()
    proc, paint = lat["proc"], lat["paint"]
    bare_proc, bare_paint = bare["proc"], bare["paint"]
    peer = "bare CodeMirror, 5 typists"
    both = f"{len(proc)} / {len(bare_proc)} keys"
    rows += [
        Row(
            SUITE,
            "keystroke processing p50",
            round(statistics.median(proc), 2),
            "ms",
            peer=round(statistics.median(bare_proc), 2),
            peer_name=peer,
            samples=proc,
        ),
        Row(
            SUITE,
            "keystroke processing p99",
            round(_pct(proc, 99), 2),
            "ms",
            peer=round(_pct(bare_proc, 99), 2),
            peer_name=peer,
            target="<= bare + 2 ms",
            met=_pct(proc, 99) <= _pct(bare_proc, 99) + 2,
            note=f"{both}, 100k chars, preview open, 5 typists ({remote} remote chars; the "
            f"peer's 5 simulated typists: {bare_remote})",
        ),
        Row(
            SUITE,
            "keystroke to paint p50",
            round(statistics.median(paint), 2),
            "ms",
            peer=round(statistics.median(bare_paint), 2),
            peer_name=peer,
            samples=paint,
        ),
        Row(
            SUITE,
            "keystroke to paint p99",
            round(_pct(paint, 99), 2),
            "ms",
            peer=round(_pct(bare_paint, 99), 2),
            peer_name=peer,
            target="<= bare + 10 %",
            met=_pct(paint, 99) <= 1.1 * _pct(bare_paint, 99),
            note="headless Chromium, frame clock uncapped",
        ),
        Row(
            SUITE,
            "keystroke to paint p99, bare CodeMirror alone",
            round(_pct(alone["paint"], 99), 2),
            "ms",
            note="no collaborators: the best case, for comparison",
        ),
        Row(
            SUITE,
            "keys with Event Timing duration >= 16 ms",
            lat["slow"],
            "events",
            peer=bare["slow"],
            peer_name=peer,
            note=f"of {both}",
        ),
    ]
    return rows


def main() -> None:
    quick = "--quick" in sys.argv
    rows = run(quick)
    width = max(len(r.measure) for r in rows)
    print(f"{'measure':<{width}}  {'value':>10}  unit    target      met  note")
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        print(
            f"{r.measure:<{width}}  {r.ours:>10}  {r.unit:<6}  {r.target:<10}  {met:<3}  {r.note}"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    Path(ARTIFACTS / "bench-ui.json").write_text(
        json.dumps(
            [{k: v for k, v in r.__dict__.items() if k != "samples"} for r in rows], indent=1
        )
    )


if __name__ == "__main__":
    main()
