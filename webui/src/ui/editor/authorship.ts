/**
 * "Who wrote this": the text tinted by author (Etherpad's authorship colours), toggled from the
 * status bar, with a legend of the people whose text is in the document.
 *
 * The CRDT knows the replica of every character (`replicaSpans`); the server knows whose each
 * replica is (GET /documents/{id}/authors, from the log) and presence tells the replicas of the
 * people here now. A character's tint is its author's protocol colour, so it matches their caret
 * and avatar.
 *
 * Typing stays fast: decorations cover only the visible lines, existing ones are mapped through
 * each change, and the spans are recomputed from the replica once typing pauses (the replica takes
 * a local edit after the editor has already shown it, so it is read after the update anyway).
 */
import { StateEffect, StateField, type Extension, type Range } from "@codemirror/state";
import { Decoration, EditorView, ViewPlugin, type DecorationSet, type ViewUpdate } from "@codemirror/view";
import type { Api } from "../../api";
import { COLORS, colorFor, type Peer } from "../../protocol/messages";
import type { ReplicaAuthor } from "../../protocol/rest";
import { h } from "../dom";
import { liveOf } from "./state";

interface Author {
  user_id: string;
  user_name: string;
}

const setDecos = StateEffect.define<DecorationSet>();

const decoField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(decos, tr) {
    for (const e of tr.effects) if (e.is(setDecos)) return e.value;
    return tr.docChanged ? decos.map(tr.changes) : decos;
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** One mark per palette colour, made once (the class picks the tint in CSS). */
const MARKS = COLORS.map((_, i) => Decoration.mark({ class: `cm-author cm-author-${i}` }));
const colorIndex = new Map<string, number>(COLORS.map((c, i) => [c, i]));

/**
 * The tint of each author: their caret colour, unless an author before them (by user id, so
 * every viewer agrees) has it already; then the next free one. Two authors whose ids hash to
 * the same caret colour (one pair in eight) would otherwise be told apart by nothing.
 */
export function authorTints(userIds: Iterable<string>): Map<string, number> {
  const tints = new Map<string, number>();
  const used = new Set<number>();
  for (const id of [...new Set(userIds)].sort()) {
    const own = colorIndex.get(colorFor(id)) ?? 0;
    let tint = own;
    for (let step = 0; step < COLORS.length && used.has(tint); step++) tint = (own + step + 1) % COLORS.length;
    tints.set(id, used.has(tint) ? own : tint);
    used.add(tint);
  }
  return tints;
}

export class Authorship {
  private on = false;
  private view: EditorView | null = null;
  private readonly byReplica = new Map<string, Author>();
  private fetched = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  readonly toggle = h(
    "button",
    { type: "button", class: "link-button authors-toggle", "aria-pressed": "false" },
    "Authors",
  );
  readonly legend = h("ul", { class: "authors-legend", "aria-label": "Authors", hidden: true });

  constructor(
    private readonly api: Api,
    private readonly docId: string,
  ) {
    this.toggle.title = "Colour the text by who wrote it";
    this.toggle.addEventListener("click", () => this.set(!this.on));
  }

  /** The people here now, with their replicas (their text is coloured before the next fetch). */
  peers(peers: readonly Peer[]): void {
    for (const p of peers) this.byReplica.set(p.replica, { user_id: p.user_id, user_name: p.name });
    if (this.on) this.schedule(0);
  }

  /** Whose this editor's own replica is. */
  me(replica: string, user: Author): void {
    this.byReplica.set(replica, user);
  }

  set(on: boolean): void {
    this.on = on;
    this.toggle.setAttribute("aria-pressed", String(on));
    this.legend.hidden = !on;
    this.view?.dom.classList.toggle("show-authors", on);
    if (on) void this.fetch().then(() => this.schedule(0));
    else this.view?.dispatch({ effects: setDecos.of(Decoration.none) });
  }

  extension(): Extension {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return [
      decoField,
      ViewPlugin.define((view) => {
        self.view = view;
        return {
          update(u: ViewUpdate) {
            if (self.on && (u.docChanged || u.viewportChanged)) self.schedule(u.docChanged ? 150 : 30);
          },
          destroy() {
            if (self.timer) clearTimeout(self.timer);
            self.view = null;
          },
        };
      }),
    ];
  }

  private async fetch(): Promise<void> {
    this.fetched = Date.now();
    try {
      const got = await this.api.get<ReplicaAuthor[]>(`/documents/${encodeURIComponent(this.docId)}/authors`);
      for (const a of got) this.byReplica.set(a.replica, { user_id: a.user_id, user_name: a.user_name });
    } catch {
      // Offline: colour what presence and this tab know; the next toggle tries again.
    }
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.paint(), delay);
  }

  /** Decorations for the visible lines from the replica, and the legend from the whole text. */
  private paint(): void {
    this.timer = null;
    const view = this.view;
    const live = view && liveOf(view.state);
    if (!this.on || !view || !live) return;
    const doc = live.session.doc;
    if (doc.length16 !== view.state.doc.length) {
      this.schedule(100); // the replica has not taken the last edit yet
      return;
    }
    const ranges: Range<Decoration>[] = [];
    let unknown = false;
    const everyone = [...doc.replicaSpans(0, doc.length16)];
    const tints = authorTints(
      everyone.flatMap(([replica]) => {
        const who = this.byReplica.get(replica);
        return who ? [who.user_id] : [];
      }),
    );
    for (const { from, to } of view.visibleRanges) {
      for (const [replica, lo, hi] of doc.replicaSpans(from, to)) {
        const who = this.byReplica.get(replica);
        if (!who) {
          unknown = true;
          continue;
        }
        ranges.push(MARKS[tints.get(who.user_id) ?? 0]!.range(lo, hi));
      }
    }
    view.dispatch({ effects: setDecos.of(Decoration.set(ranges, true)) });
    this.renderLegend(everyone, tints);
    // Someone new wrote (a replica the last answer did not know): ask again, at most every 5 s.
    if (unknown && Date.now() - this.fetched > 5000) void this.fetch().then(() => this.schedule(0));
  }

  private renderLegend(spans: Iterable<[string, number, number]>, tints: Map<string, number>): void {
    const chars = new Map<string, { name: string; n: number }>();
    for (const [replica, lo, hi] of spans) {
      const who = this.byReplica.get(replica);
      const key = who?.user_id ?? "";
      const entry = chars.get(key) ?? { name: who?.user_name ?? "Unknown", n: 0 };
      entry.n += hi - lo;
      chars.set(key, entry);
    }
    const items = [...chars.entries()].sort((a, b) => b[1].n - a[1].n);
    this.legend.replaceChildren(
      ...items.map(([userId, { name }]) =>
        h(
          "li",
          {},
          h("span", {
            class: `author-swatch ${userId ? `cm-author-${tints.get(userId) ?? 0}` : ""}`,
            "aria-hidden": "true",
          }),
          name,
        ),
      ),
    );
  }
}
