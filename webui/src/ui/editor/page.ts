/**
 * The editor page: CodeMirror 6 bound to a LiveDocument (CRDT replica + WebSocket + offline
 * queue), with presence avatars, remote carets, a connection indicator, ghost text, @mentions,
 * the share dialog and the history panel.
 *
 * Binding rules: every local CodeMirror transaction becomes one local CRDT edit (changes taken in
 * order, in UTF-16, converted to code points by the engine); remote changes are dispatched with
 * the `remoteEdit` annotation and `addToHistory: false`, so they are never sent back and undo only
 * undoes one's own edits. After every update the lengths of both documents are compared; a
 * mismatch (a bug) resets the editor to the replica's text rather than letting them drift.
 */
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { EditorState, Prec, Transaction, type TransactionSpec } from "@codemirror/state";
import { EditorView, highlightActiveLine, keymap, placeholder, type ViewUpdate } from "@codemirror/view";
import { ApiError, type Api, type DocumentInfo } from "../../api";
import type { Change } from "../../engine";
import { LiveDocument, type ConnectionState } from "../../protocol/live";
import type { Peer, Role } from "../../protocol/messages";
import { colorFor } from "../../protocol/messages";
import { claimReplica, restoreSession } from "../../protocol/open";
import type { OfflineStore } from "../../protocol/store";
import { h, initials, toast } from "../dom";
import { download, historyPanel } from "../history";
import { openShareDialog } from "../share";
import {
  acceptGhost,
  collabExtensions,
  dismissGhost,
  editability,
  ghostField,
  readOnly,
  remoteEdit,
  setGhost,
  setRemoteCursors,
  type RemoteCursor,
} from "./extensions";
import { MentionPopup } from "./mentions";

const WORD_BEFORE = /[\p{L}\p{N}_]{2,}$/u;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

interface DocCache {
  title: string;
  role: Role;
}

function cachedDoc(id: string): DocCache | null {
  try {
    return JSON.parse(localStorage.getItem(`docstream.doc.${id}`) ?? "null") as DocCache | null;
  } catch {
    return null;
  }
}

export interface EditorHandle {
  element: HTMLElement;
  destroy(): Promise<void>;
  /** For tests and benchmarks: the live document and the view. */
  debug: { live: () => LiveDocument | null; view: EditorView };
}

export function editorPage(api: Api, storeIn: OfflineStore | null, docId: string): EditorHandle {
  // Not signed in: a guest through a public link (no offline queue: see ClientSession.carry).
  const guest = api.user === null;
  const user = api.user ?? { id: "guest", name: "Guest", email: "" };
  const store = guest ? null : storeIn;
  let info: DocumentInfo | null = null;
  let role: Role | null = guest ? null : cachedDoc(docId)?.role ?? null;
  let live: LiveDocument | null = null;
  let release: () => void = () => undefined;
  let destroyed = false;
  const cursors = new Map<string, { peer: Peer; anchor: string | null; head: string | null }>();
  const orphanFlushers: LiveDocument[] = [];

  // --- chrome --------------------------------------------------------------------------------
  const titleEl = h("h1", { class: "doc-heading" }, cachedDoc(docId)?.title ?? "Loading…");
  const statusText = h("span", { class: "status-text" }, "Connecting…");
  const status = h("div", { class: "conn-status", role: "status", "aria-live": "polite", "data-state": "connecting" }, h("span", { class: "dot", "aria-hidden": "true" }), statusText);
  const avatars = h("ul", { class: "avatars", "aria-label": "People here now" });
  const roleBadge = h("span", { class: "role-badge", hidden: true });
  const shareBtn = h("button", { type: "button", disabled: true }, "Share");
  const historyBtn = h("button", { type: "button", "aria-expanded": "false", disabled: true }, "History");
  const exportTxt = h("button", { type: "button", disabled: true }, "Download .txt");
  const notice = h("p", { class: "notice", role: "alert", hidden: true });
  const editorHost = h("div", { class: "editor-host" });
  const side = h("div", { class: "side" });
  const element = h(
    "main",
    { class: "editor-page", id: "main" },
    h(
      "div",
      { class: "editor-bar" },
      h("a", { href: "/", "data-link": true, class: "back" }, "← Documents"),
      titleEl,
      roleBadge,
      status,
      avatars,
      h("div", { class: "bar-actions" }, shareBtn, historyBtn, exportTxt),
    ),
    notice,
    h("div", { class: "editor-body" }, editorHost, side),
  );

  const showNotice = (text: string): void => {
    notice.textContent = text;
    notice.hidden = !text;
  };

  const canEdit = (): boolean => role === "owner" || role === "editor";

  // --- the editor ----------------------------------------------------------------------------
  let ghostTimer: ReturnType<typeof setTimeout> | null = null;
  let ghostAbort = 0;
  let ghostEnabled = true;
  let ghostPausedUntil = 0;
  let cursorTimer: ReturnType<typeof setTimeout> | null = null;
  let cursorsFrame = 0;
  /** The remote carets as shown (kept mapped through every change, like the decorations). */
  let shown: RemoteCursor[] = [];
  let mentions: MentionPopup | null = null;

  const onUpdate = (u: ViewUpdate): void => {
    if (!live) return;
    let local = false;
    for (const tr of u.transactions) {
      if (!tr.docChanged || tr.annotation(remoteEdit)) continue;
      local = true;
      const changes: { from16: number; to16: number; text: string }[] = [];
      tr.changes.iterChanges((fromA, toA, fromB, _toB, inserted) => {
        changes.push({ from16: fromB, to16: fromB + (toA - fromA), text: inserted.toString() });
      });
      live.replace16(changes);
    }
    if (u.view.state.doc.length !== live.session.doc.length16) {
      resetToReplica();
      return;
    }
    if (local || u.selectionSet) {
      scheduleCursor();
      mentions?.update();
      scheduleGhost(u);
    }
    if (u.docChanged) {
      shown = shown.map((c) => ({ ...c, anchor: u.changes.mapPos(c.anchor, 1), head: u.changes.mapPos(c.head, 1) }));
      scheduleCursors();
    }
  };

  const view = new EditorView({
    parent: editorHost,
    state: EditorState.create({
      doc: "",
      extensions: [
        history(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        placeholder("Start typing…"),
        editability.of(readOnly(true)),
        collabExtensions(),
        Prec.highest(
          keymap.of([
            { key: "Tab", run: (v) => mentions?.key("Tab") || acceptGhost(v) },
            { key: "Escape", run: (v) => mentions?.key("Escape") || dismissGhost(v) },
            { key: "ArrowDown", run: () => mentions?.key("ArrowDown") ?? false },
            { key: "ArrowUp", run: () => mentions?.key("ArrowUp") ?? false },
            { key: "Enter", run: () => mentions?.key("Enter") ?? false },
          ]),
        ),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.contentAttributes.of({ "aria-label": "Document text", "aria-multiline": "true" }),
        EditorView.updateListener.of(onUpdate),
      ],
    }),
  });
  mentions = new MentionPopup(view, api, docId);

  const setEditable = (): void => {
    const ro = !live || !canEdit() || live.state === "closed" || (guest && live.state !== "live");
    view.dispatch({ effects: editability.reconfigure(readOnly(ro)) });
    roleBadge.hidden = role === null;
    roleBadge.textContent = role === "viewer" ? "View only" : role ?? "";
    roleBadge.className = `role-badge role-${role ?? "none"}`;
  };

  /** Replace the editor's text with the replica's (start, and the safety net). */
  const resetToReplica = (): void => {
    if (!live) return;
    const text = live.session.doc.text;
    view.dispatch({
      changes: { from: 0, to: view.state.doc.length, insert: text },
      annotations: [remoteEdit.of(true), Transaction.addToHistory.of(false)],
    });
    scheduleCursors();
  };

  const applyRemote = (changes: Change[]): void => {
    if (!changes.length) return;
    const specs: TransactionSpec[] = changes.map((c, i) => ({
      changes: { from: c.from16, to: c.from16 + c.deleted16, insert: c.inserted },
      sequential: true,
      ...(i === 0 ? { annotations: [remoteEdit.of(true), Transaction.addToHistory.of(false)] } : {}),
    }));
    // The carets move in the same transaction (positions from the replica, which already has
    // these changes): one editor update per remote message, not two.
    const list = remoteCursors();
    specs[specs.length - 1] = { ...specs[specs.length - 1], effects: setRemoteCursors.of(list) };
    try {
      view.dispatch(...specs);
      shown = list;
    } catch {
      resetToReplica();
    }
  };

  // --- cursors -------------------------------------------------------------------------------
  const scheduleCursor = (): void => {
    if (cursorTimer !== null) return;
    cursorTimer = setTimeout(() => {
      cursorTimer = null;
      const sel = view.state.selection.main;
      live?.setCursor16(sel.anchor, sel.head);
    }, 50);
  };

  const remoteCursors = (): RemoteCursor[] => {
    const list: RemoteCursor[] = [];
    if (!live) return list;
    const s = live.session;
    for (const [replica, c] of cursors) {
      const anchor = s.doc.toUtf16(s.indexOfAnchor(c.anchor));
      const head = s.doc.toUtf16(s.indexOfAnchor(c.head));
      list.push({ replica, name: c.peer.name, color: c.peer.color, anchor, head });
    }
    return list;
  };

  const scheduleCursors = (): void => {
    if (cursorsFrame) return;
    cursorsFrame = requestAnimationFrame(() => {
      cursorsFrame = 0;
      if (!live || destroyed) return;
      const list = remoteCursors();
      // Mapping through edits usually keeps the carets right: dispatch only real moves.
      if (JSON.stringify(list) === JSON.stringify(shown)) return;
      shown = list;
      view.dispatch({ effects: setRemoteCursors.of(list) });
    });
  };

  // --- presence ------------------------------------------------------------------------------
  const renderPeers = (peers: Peer[]): void => {
    const people = new Map<string, { name: string; color: string; me: boolean }>();
    people.set(user.id, { name: user.name, color: colorFor(user.id), me: true });
    for (const p of peers) if (!people.has(p.user_id)) people.set(p.user_id, { name: p.name, color: p.color, me: false });
    avatars.replaceChildren(
      ...[...people.values()].map((p) =>
        h("li", { class: "avatar", style: `background:${p.color}`, title: p.me ? `${p.name} (you)` : p.name, "aria-label": p.me ? `${p.name} (you)` : p.name }, initials(p.name)),
      ),
    );
    for (const replica of [...cursors.keys()]) if (!peers.some((p) => p.replica === replica)) cursors.delete(replica);
    scheduleCursors();
  };

  // --- connection indicator -----------------------------------------------------------------
  const renderStatus = (state: ConnectionState): void => {
    const pending = live?.session.pending.size ?? 0;
    let key: string = state;
    let text: string;
    switch (state) {
      case "live":
        key = pending ? "saving" : "saved";
        text = pending ? "Connected · saving…" : "All changes saved";
        break;
      case "connecting":
        text = "Connecting…";
        break;
      case "reconnecting":
        text = pending ? `Reconnecting… ${pending} unsaved change${pending > 1 ? "s" : ""} kept` : "Reconnecting…";
        break;
      case "offline":
        text = pending ? `Offline · ${pending} change${pending > 1 ? "s" : ""} kept on this device` : "Offline";
        break;
      case "closed":
        text = "Disconnected";
        break;
    }
    if (status.dataset["state"] !== key) status.dataset["state"] = key;
    if (statusText.textContent !== text) statusText.textContent = text;
  };

  // --- ghost text ----------------------------------------------------------------------------
  const scheduleGhost = (u: ViewUpdate): void => {
    if (ghostTimer !== null) clearTimeout(ghostTimer);
    ghostTimer = null;
    ghostAbort++;
    if (!ghostEnabled || !canEdit() || Date.now() < ghostPausedUntil) return;
    const local = u.transactions.some((tr) => tr.docChanged && !tr.annotation(remoteEdit) && tr.isUserEvent("input.type"));
    if (!local) return;
    ghostTimer = setTimeout(() => void fetchGhost(), 150);
  };

  const fetchGhost = async (): Promise<void> => {
    ghostTimer = null;
    const mine = ++ghostAbort;
    const state = view.state;
    const sel = state.selection.main;
    if (!sel.empty || mentions?.isOpen) return;
    const pos = sel.head;
    const line = state.doc.lineAt(pos);
    const after = state.sliceDoc(pos, Math.min(line.to, pos + 2));
    if (after && WORD_CHAR.test(Array.from(after)[0]!)) return;
    const before = state.sliceDoc(Math.max(line.from, pos - 60), pos);
    const m = WORD_BEFORE.exec(before);
    if (!m) return;
    const prefix = m[0];
    let words;
    try {
      words = await api.suggestWords(docId, prefix, 5);
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 404) ghostEnabled = false; // route not there yet
      if (exc instanceof ApiError && exc.status === 429) ghostPausedUntil = Date.now() + 30_000;
      return;
    }
    if (mine !== ghostAbort || view.state.doc !== state.doc || view.state.selection.main.head !== pos) return;
    const lower = prefix.toLocaleLowerCase();
    const best = words.find((w) => w.word.length > prefix.length && w.word.toLocaleLowerCase().startsWith(lower));
    if (!best) return;
    view.dispatch({ effects: setGhost.of({ pos, text: best.word.slice(prefix.length) }) });
  };

  // --- start ---------------------------------------------------------------------------------
  /** The document's socket; a public link's token goes along (a browser cannot set headers). */
  const socketUrl = (): string => {
    const link = api.linkFor(docId);
    const base = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/document/${encodeURIComponent(docId)}`;
    return link ? `${base}?link=${encodeURIComponent(link)}` : base;
  };

  const start = async (): Promise<void> => {
    const claimed = await claimReplica(store, docId, user.id);
    if (destroyed) {
      claimed.release();
      for (const o of claimed.orphans) o.release();
      return;
    }
    release = claimed.release;
    live = new LiveDocument({
      docId,
      userId: user.id,
      session: claimed.session,
      store,
      guest,
      url: socketUrl,
      // A network failure is not the end of the session: keep reconnecting while signed in.
      refreshAuth: async () => (await api.refresh()) || api.user !== null,
      callbacks: {
        changes: (changes) => applyRemote(changes),
        status: (state) => {
          renderStatus(state);
          if (state === "closed" || guest) setEditable();
        },
        welcome: ({ role: r, peers }) => {
          role = r;
          setEditable();
          renderPeers(peers);
          showNotice("");
          if (view.state.doc.length !== live!.session.doc.length16) resetToReplica();
          void flushOrphans(claimed.orphans);
        },
        peers: (peers) => renderPeers(peers),
        peerLeft: (peer) => {
          cursors.delete(peer.replica);
          scheduleCursors();
        },
        cursor: (peer, anchor, head) => {
          cursors.set(peer.replica, { peer, anchor, head });
          scheduleCursors();
        },
        role: (r) => {
          role = r;
          setEditable();
          toast(r === "viewer" ? "You can now only view this document." : `Your role is now ${r}.`);
        },
        notice: (message, severity) => toast(message, severity),
        closed: (code) => {
          const reasons: Record<number, string> = {
            4403: "Your access to this document was removed.",
            4404: "This document no longer exists.",
            4401: "Your session has ended. Please sign in again.",
            4000: "This document was opened in another tab of this session; editing continues there.",
          };
          showNotice(reasons[code] ?? "The connection was closed.");
          setEditable();
        },
      },
    });
    // The replica's text (restored from the offline queue, or empty) goes into the editor.
    resetToReplica();
    if (claimed.restored) setEditable();
    live.start();
  };

  const flushOrphans = async (orphans: Awaited<ReturnType<typeof claimReplica>>["orphans"]): Promise<void> => {
    for (const o of orphans.splice(0)) {
      const flusher = new LiveDocument({
        docId,
        userId: user.id,
        session: restoreSession(o.record, o.pending),
        store,
        url: socketUrl,
        // A network failure is not the end of the session: keep reconnecting while signed in.
      refreshAuth: async () => (await api.refresh()) || api.user !== null,
        callbacks: {
          status: async (_state, saved) => {
            if (saved) {
              await flusher.stop();
              await store?.deleteReplica(o.record.replica).catch(() => undefined);
              o.release();
            }
          },
        },
      });
      orphanFlushers.push(flusher);
      flusher.start();
    }
  };

  const loadInfo = async (): Promise<void> => {
    try {
      info = await api.getDocument(docId);
      role = info.role;
      titleEl.textContent = info.title;
      document.title = `${info.title} — DocStream`;
      if (!guest) localStorage.setItem(`docstream.doc.${docId}`, JSON.stringify({ title: info.title, role: info.role }));
      shareBtn.disabled = guest;
      historyBtn.disabled = false;
      exportTxt.disabled = false;
      setEditable();
    } catch (exc) {
      if (exc instanceof ApiError && (exc.status === 404 || exc.status === 403)) {
        showNotice(exc.status === 404 ? "This document does not exist (or was deleted)." : "You do not have access to this document.");
        titleEl.textContent = "Unavailable";
        destroyed = true;
        void live?.stop();
      } else if (!(exc instanceof ApiError)) {
        showNotice("You are offline. Your changes are kept on this device and sent when you are back online.");
        setTimeout(() => {
          if (!destroyed && !info) void loadInfo();
        }, 5000);
      }
    }
  };

  shareBtn.addEventListener("click", () => {
    if (info) openShareDialog(api, { ...info, role: role ?? info.role }, user.id);
  });
  let panel: HTMLElement | null = null;
  historyBtn.addEventListener("click", () => {
    if (!info) return;
    if (panel) {
      panel.remove();
      panel = null;
      historyBtn.setAttribute("aria-expanded", "false");
      return;
    }
    panel = historyPanel(api, info, canEdit);
    side.append(panel);
    historyBtn.setAttribute("aria-expanded", "true");
    panel.querySelector<HTMLElement>("h2")?.setAttribute("tabindex", "-1");
    panel.querySelector<HTMLElement>("h2")?.focus();
  });
  exportTxt.addEventListener("click", () => {
    if (info) void download(api, info, "txt");
  });

  const onHide = (): void => {
    void live?.flushSnapshot();
  };
  window.addEventListener("pagehide", onHide);
  document.addEventListener("visibilitychange", onHide);

  void loadInfo();
  void start().then(() => view.focus());
  renderPeers([]);

  return {
    element,
    debug: { live: () => live, view },
    async destroy() {
      destroyed = true;
      window.removeEventListener("pagehide", onHide);
      document.removeEventListener("visibilitychange", onHide);
      if (ghostTimer !== null) clearTimeout(ghostTimer);
      if (cursorTimer !== null) clearTimeout(cursorTimer);
      if (cursorsFrame) cancelAnimationFrame(cursorsFrame);
      mentions?.destroy();
      await live?.stop();
      for (const f of orphanFlushers) await f.stop();
      release();
      view.destroy();
    },
  };
}

export { ghostField };
