/**
 * Carets in both directions. Other people's carets and selections are decorations kept in a
 * StateField (mapped through every change, so they stay put between the peers' own reports); the
 * CRDT anchors they report are kept by a ViewPlugin, which turns them into positions at most once
 * a frame and dispatches only real moves. This editor's own caret is reported to the peers at
 * most every 50 ms after a local edit or a caret move.
 *
 * Labels of carets at the same or nearby places would cover each other: after every redraw they
 * are measured and the ones that would overlap are moved aside (`stackLabels`).
 *
 * Positions are UTF-16 offsets (CodeMirror's); anchors are CRDT ids (stable under concurrent
 * edits), resolved against the replica that `liveField` holds.
 */
import { StateEffect, StateField, type EditorState, type Extension, type Range } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  ViewPlugin,
  WidgetType,
  type DecorationSet,
  type PluginValue,
  type ViewUpdate,
} from "@codemirror/view";
import type { Peer } from "../../protocol/messages";
import { textOn } from "../contrast";
import { hasLocalEdit, isClosing, liveOf, syncedLive } from "./state";

export interface RemoteCursor {
  replica: string;
  name: string;
  color: string;
  anchor: number;
  head: number;
}

/** Show exactly these remote carets (positions in the new document). */
export const setRemoteCursors = StateEffect.define<RemoteCursor[]>();

class CaretWidget extends WidgetType {
  constructor(
    readonly color: string,
    readonly name: string,
    readonly replica: string,
  ) {
    super();
  }
  override eq(other: CaretWidget): boolean {
    return other.color === this.color && other.name === this.name && other.replica === this.replica;
  }
  toDOM(): HTMLElement {
    const caret = document.createElement("span");
    caret.className = "cm-remote-caret";
    caret.style.borderLeftColor = this.color;
    caret.setAttribute("data-replica", this.replica);
    caret.setAttribute("aria-hidden", "true");
    const label = document.createElement("span");
    label.className = "cm-remote-label";
    label.style.backgroundColor = this.color;
    label.style.color = textOn(this.color);
    label.textContent = this.name;
    caret.append(label);
    return caret;
  }
  override ignoreEvent(): boolean {
    return true;
  }
}

function cursorDecorations(cursors: RemoteCursor[], length: number): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  for (const c of cursors) {
    const anchor = Math.min(c.anchor, length);
    const head = Math.min(c.head, length);
    const from = Math.min(anchor, head);
    const to = Math.max(anchor, head);
    if (from < to) {
      ranges.push(
        Decoration.mark({
          class: "cm-remote-selection",
          attributes: { style: `background-color: ${c.color}33` },
        }).range(from, to),
      );
    }
    ranges.push(Decoration.widget({ widget: new CaretWidget(c.color, c.name, c.replica), side: 1 }).range(head));
  }
  return Decoration.set(ranges, true);
}

/** The carets as shown, and their decorations. */
interface Shown {
  cursors: RemoteCursor[];
  decorations: DecorationSet;
}

const shownField = StateField.define<Shown>({
  create: () => ({ cursors: [], decorations: Decoration.none }),
  update(value, tr) {
    for (const e of tr.effects) {
      if (e.is(setRemoteCursors))
        return { cursors: e.value, decorations: cursorDecorations(e.value, tr.newDoc.length) };
    }
    if (!tr.docChanged) return value;
    return {
      cursors: value.cursors.map((c) => ({
        ...c,
        anchor: tr.changes.mapPos(c.anchor, 1),
        head: tr.changes.mapPos(c.head, 1),
      })),
      decorations: value.decorations.map(tr.changes),
    };
  },
  provide: (f) => EditorView.decorations.from(f, (s) => s.decorations),
});

/** The remote carets as shown now (mapped through every change since they were set). */
export function shownCarets(state: EditorState): readonly RemoteCursor[] {
  return state.field(shownField, false)?.cursors ?? [];
}

interface PeerCaret {
  peer: Peer;
  anchor: string | null;
  head: string | null;
}

class Carets implements PluginValue {
  /** The last caret each connected replica reported (CRDT anchors). */
  private readonly peers = new Map<string, PeerCaret>();
  private frame = 0;
  private sendTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(private readonly view: EditorView) {}

  update(u: ViewUpdate): void {
    if (isClosing(u)) this.destroy();
    else if (u.geometryChanged || u.state.field(shownField) !== u.startState.field(shownField))
      this.view.requestMeasure({ key: this, read: readLabels, write: stackLabels });
  }

  /** Scroll the editor to this replica's caret (the page's "go to their cursor"); false if unknown. */
  reveal(replicas: readonly string[]): boolean {
    const caret = shownCarets(this.view.state).find((c) => replicas.includes(c.replica));
    if (!caret) return false;
    this.view.dispatch({ effects: EditorView.scrollIntoView(caret.head, { y: "center" }) });
    const label = this.view.contentDOM.querySelector(`.cm-remote-caret[data-replica="${CSS.escape(caret.replica)}"]`);
    label?.classList.remove("cm-remote-flash");
    requestAnimationFrame(() => label?.classList.add("cm-remote-flash"));
    return true;
  }

  /** Called after every update (from an update listener: dispatching is allowed there). */
  afterUpdate(u: ViewUpdate): void {
    if (this.closed || !syncedLive(u)) return;
    if (hasLocalEdit(u) || u.selectionSet) this.sendOwnCaret();
    if (u.docChanged) this.schedule();
  }

  report(peer: Peer, anchor: string | null, head: string | null): void {
    this.peers.set(peer.replica, { peer, anchor, head });
    this.schedule();
  }

  forget(replica: string): void {
    this.peers.delete(replica);
    this.schedule();
  }

  /** Drop the carets of replicas that are no longer connected. */
  keep(peers: readonly Peer[]): void {
    for (const replica of [...this.peers.keys()]) {
      if (!peers.some((p) => p.replica === replica)) this.peers.delete(replica);
    }
    this.schedule();
  }

  /** The reported carets resolved against the replica (UTF-16 positions). */
  positions(): RemoteCursor[] {
    const list: RemoteCursor[] = [];
    const live = liveOf(this.view.state);
    if (!live) return list;
    const s = live.session;
    for (const [replica, c] of this.peers) {
      const anchor = s.doc.toUtf16(s.indexOfAnchor(c.anchor));
      const head = s.doc.toUtf16(s.indexOfAnchor(c.head));
      list.push({ replica, name: c.peer.name, color: c.peer.color, anchor, head });
    }
    return list;
  }

  /** Re-resolve the carets at the next frame; dispatch only when one really moved. */
  schedule(): void {
    if (this.frame || this.closed) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (!liveOf(this.view.state)) return;
      const list = this.positions();
      // Mapping through edits usually keeps the carets right: dispatch only real moves.
      if (JSON.stringify(list) === JSON.stringify(this.view.state.field(shownField).cursors)) return;
      this.view.dispatch({ effects: setRemoteCursors.of(list) });
    });
  }

  private sendOwnCaret(): void {
    if (this.sendTimer !== null) return;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = null;
      const sel = this.view.state.selection.main;
      liveOf(this.view.state)?.setCursor16(sel.anchor, sel.head);
    }, 50);
  }

  destroy(): void {
    this.closed = true;
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}

interface LabelBox {
  el: HTMLElement;
  left: number;
  width: number;
  top: number;
  bottom: number;
}

/** The caret labels' boxes as drawn without any offset of ours. */
function readLabels(view: EditorView): LabelBox[] {
  return [...view.contentDOM.querySelectorAll<HTMLElement>(".cm-remote-label")].map((el) => {
    const r = el.getBoundingClientRect();
    const shift = Number(el.dataset["shift"] ?? 0);
    return { el, left: r.left - shift, width: r.width, top: r.top, bottom: r.bottom };
  });
}

/**
 * Move each label (in reading order) right, past any label placed before it that it would cover:
 * the names of carets at one place end up side by side ("Bob Carol"), each readable, without
 * covering more lines of text or leaving the top of the page.
 */
function stackLabels(labels: LabelBox[]): void {
  const placed: { left: number; right: number; top: number; bottom: number }[] = [];
  labels.sort((a, b) => a.top - b.top || a.left - b.left);
  for (const l of labels) {
    let left = l.left;
    for (let guard = 0; guard < labels.length; guard++) {
      const hit = placed.find(
        (p) => left < p.right + 2 && p.left < left + l.width && l.top < p.bottom && p.top < l.bottom,
      );
      if (!hit) break;
      left = hit.right + 2;
    }
    placed.push({ left, right: left + l.width, top: l.top, bottom: l.bottom });
    const shift = Math.round(left - l.left);
    if (Number(l.el.dataset["shift"] ?? 0) !== shift) {
      l.el.dataset["shift"] = String(shift);
      l.el.style.transform = shift ? `translateX(${shift}px)` : "";
    }
  }
}

const caretsPlugin = ViewPlugin.fromClass(Carets);

/** The carets of this view (null only if the extension is missing). */
export function carets(view: EditorView): Carets | null {
  return view.plugin(caretsPlugin);
}

export function caretsExtension(): Extension {
  return [shownField, caretsPlugin, EditorView.updateListener.of((u) => carets(u.view)?.afterUpdate(u))];
}
