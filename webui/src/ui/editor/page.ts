/**
 * The editor page: a shell that builds the top bar (topbar.ts), composes the editor's extensions (the CRDT
 * binding, remote carets, ghost text, @mentions, access) and connects a LiveDocument (CRDT
 * replica + WebSocket + offline queue) to them. Each concern lives in its own module; the shell
 * only routes the live document's callbacks to them and owns the page's lifecycle.
 *
 * When access ends (revoked, or the document deleted) the page says so and nothing stays
 * editable or shareable: the role chip reads "No access", Share, History and export are off.
 */
import { history } from "@codemirror/commands";
import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { ApiError, type Api, type DocumentInfo } from "../../api";
import { LiveDocument } from "../../protocol/live";
import type { Role } from "../../protocol/messages";
import { claimReplica } from "../../protocol/open";
import type { OfflineStore } from "../../protocol/store";
import { h, toast } from "../dom";
import { download } from "../history";
import { openShareDialog } from "../share";
import { brand, guestBox, userBox } from "../shell";
import { access, roleLabel, updateAccess } from "./access";
import { applyRemote, crdtBinding, resetToReplica } from "./binding";
import { carets, caretsExtension } from "./carets";
import { ghostText } from "./ghost";
import { HistoryToggle } from "./history-toggle";
import { editorKeys, SHORTCUTS } from "./keys";
import { mentionOpen, mentions } from "./mentions";
import { jumpToAddress } from "../notifications/jump";
import { OrphanFlushers } from "./orphans";
import { PresenceList } from "./presence";
import { canEdit, closeEditor, liveOf, roleOf } from "./state";
import { ConnectionStatus } from "./status";
import { TitleEditor } from "./title";
import { activityDialog } from "../audit/activity";
import { CommentsFeature } from "../comments";
import { deleteDocument, duplicateDocument, leaveDocument, moreMenu, shareButton, topBar } from "./topbar";
import { unavailableView } from "./unavailable";
import { WordCount, writingTools } from "./writing";
import { Authorship } from "./authorship";
import { MarkdownTools } from "../markdown";

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

/** Why the server closed the socket for good, as the person reads it. */
const CLOSED: Record<number, string> = {
  4403: "Your access to this document was removed.",
  4404: "This document no longer exists.",
  4401: "Your session has ended. Please sign in again.",
  4000: "This document was opened in another tab of this session; editing continues there.",
};

/** The close codes that mean this person's access is over (not only this connection). */
const ACCESS_ENDED = new Set([4403, 4404]);

const monoKey = (docId: string): string => `docstream.mono.${docId}`;

export interface EditorHandle {
  element: HTMLElement;
  destroy(): Promise<void>;
  /** For tests and benchmarks: the live document and the view. */
  debug: { live: () => LiveDocument | null; view: EditorView; markdown: MarkdownTools };
}

class EditorPage implements EditorHandle {
  /** Not signed in: a guest through a public link (no offline queue: see ClientSession.carry). */
  private readonly guest: boolean;
  private readonly me: { id: string; name: string };
  private readonly store: OfflineStore | null;
  private info: DocumentInfo | null = null;
  private destroyed = false;
  /** The person has typed or clicked in the text since the page opened. */
  private usedText = false;
  private release: () => void = () => undefined;

  private readonly title: TitleEditor;
  private readonly chip = h("span", { class: "role-chip", hidden: true });
  private readonly notice = h("p", { class: "notice", role: "alert", hidden: true });
  private readonly body: HTMLElement;
  private readonly hint: HTMLElement;
  /** The document does not exist or is not shared with this person: nothing to edit here. */
  private unavailable = false;
  /** Access ended while the page was open (revoked, or the document deleted). */
  private ended = false;
  private readonly status = new ConnectionStatus();
  private readonly words = new WordCount();
  private readonly authors: Authorship;
  private readonly presence: PresenceList;
  private readonly history: HistoryToggle;
  private readonly shareBtn = shareButton();
  private readonly more: ReturnType<typeof moreMenu>;
  private readonly user: ReturnType<typeof userBox> | null;
  /** The people here, by user id, with the replicas (tabs) each has open: for "go to cursor". */
  private peers: Parameters<PresenceList["render"]>[0] = [];
  private readonly orphans: OrphanFlushers;
  private readonly comments: CommentsFeature;
  private readonly markdown: MarkdownTools;
  readonly element: HTMLElement;
  readonly view: EditorView;
  readonly debug: EditorHandle["debug"];

  constructor(
    private readonly api: Api,
    storeIn: OfflineStore | null,
    private readonly docId: string,
  ) {
    this.guest = api.user === null;
    this.me = api.user ?? { id: "guest", name: "Guest" };
    this.store = this.guest ? null : storeIn;
    const cached = cachedDoc(docId);
    this.title = new TitleEditor(api, docId, cached?.title ?? "Loading…", (title) => this.retitled(title));
    const editorHost = h("div", { class: "editor-host" });
    const hintId = `shortcuts-${docId}`;
    const side = h("div", { class: "side" });
    this.presence = new PresenceList(this.me.id, (userId) => this.goTo(userId));
    this.body = h("div", { class: "editor-body" }, editorHost);
    this.markdown = new MarkdownTools(docId, this.body);
    this.body.append(this.markdown.preview, side);
    this.hint = h("p", { class: "shortcut-hint", id: hintId }, SHORTCUTS);
    this.authors = new Authorship(api, docId);
    this.history = new HistoryToggle(
      api,
      side,
      () => canEdit(this.view.state),
      () => this.more.button,
    );
    this.more = moreMenu({
      ready: () => this.info !== null && !this.ended,
      role: () => roleOf(this.view.state),
      historyOpen: () => this.history.open,
      toggleHistory: () => this.history.toggle(),
      exportAs: (format) => {
        if (this.info) void download(api, this.info, format);
      },
      monospace: () => this.element.classList.contains("mono"),
      toggleMonospace: () => this.setMonospace(!this.element.classList.contains("mono")),
      signedIn: () => !this.guest,
      duplicate: async () => {
        if (this.info) await duplicateDocument(api, this.info);
      },
      leave: async () => {
        if (this.info) await leaveDocument(api, this.info);
      },
      remove: async () => {
        if (this.info) await deleteDocument(api, this.info);
      },
      activity: () => {
        if (this.info) activityDialog(api, this.info);
      },
    });
    this.user = this.guest ? null : userBox(api, storeIn);
    this.comments = new CommentsFeature(api, this.body, this.me, docId, this.guest);
    this.element = h(
      "main",
      { class: "editor-page", id: "main" },
      topBar({
        brand: brand(this.guest),
        title: this.title.element,
        chip: this.chip,
        status: this.status.element,
        presence: this.presence.element,
        share: h("span", { class: "bar-share" }, this.comments.button, this.shareBtn),
        more: this.more.element,
        user: this.user?.element ?? guestBox(),
      }),
      this.status.banner,
      this.notice,
      this.markdown.toolbar,
      this.body,
      h("div", { class: "status-bar" }, this.hint, this.authors.legend, this.authors.toggle, this.words.element),
    );
    this.setMonospace(localStorage.getItem(monoKey(docId)) === "1");

    this.view = new EditorView({
      parent: editorHost,
      state: EditorState.create({
        doc: "",
        extensions: [
          crdtBinding(), // first: the other extensions read the replica it feeds
          history(),
          EditorView.lineWrapping,
          access(this.guest ? null : (cached?.role ?? null), (role) => this.showRole(role)),
          caretsExtension(),
          mentions(api, docId),
          jumpToAddress(), // from a notification: open at the mention
          ghostText({ suggest: (prefix) => api.suggestWords(docId, prefix, 5), blocked: mentionOpen }),
          editorKeys(),
          this.comments.extension(),
          writingTools(this.words),
          this.authors.extension(),
          this.markdown.extension(),
          EditorView.contentAttributes.of({
            "aria-label": "Document text",
            "aria-multiline": "true",
            "aria-describedby": hintId,
          }),
        ],
      }),
    });
    this.markdown.attach(this.view);
    this.debug = { live: () => liveOf(this.view.state), view: this.view, markdown: this.markdown };
    this.showRole(roleOf(this.view.state));
    this.orphans = new OrphanFlushers({
      docId,
      userId: this.me.id,
      store: this.store,
      url: () => this.socketUrl(),
      refreshAuth: () => this.refreshAuth(),
    });

    this.shareBtn.addEventListener("click", () => {
      if (this.info && !this.ended)
        openShareDialog(api, { ...this.info, role: roleOf(this.view.state) ?? this.info.role }, this.me.id);
    });
    window.addEventListener("pagehide", this.onHide);
    document.addEventListener("visibilitychange", this.onHide);
    window.addEventListener("keydown", this.onKey);

    const used = (): void => {
      this.usedText = true;
    };
    this.view.contentDOM.addEventListener("keydown", used, { once: true });
    this.view.contentDOM.addEventListener("pointerdown", used, { once: true });
    void this.loadInfo();
    void this.start().then(() => {
      // The text takes the focus, unless the person is already somewhere (a new document's title).
      const idle = document.activeElement === null || document.activeElement === document.body;
      if (!this.unavailable && idle) this.view.focus();
    });
    this.presence.render([]);
  }

  private readonly onHide = (): void => {
    void liveOf(this.view.state)?.flushSnapshot();
  };

  /**
   * Ctrl/Cmd+S anywhere on the page: edits are saved continuously, so instead of the browser's
   * "Save page as" the person is told where their edits are (saved, being saved, or kept here).
   */
  private readonly onKey = (ev: KeyboardEvent): void => {
    if (!(ev.ctrlKey || ev.metaKey) || ev.altKey || ev.shiftKey || ev.key.toLowerCase() !== "s") return;
    ev.preventDefault();
    const live = liveOf(this.view.state);
    if (!live) return;
    void live.flushSnapshot();
    toast(this.status.summary());
  };

  /** The role chip, who may rename, and Share follow the role (and the end of access). */
  private showRole(role: Role | null): void {
    const label = this.ended ? "No access" : roleLabel(role);
    this.chip.hidden = !label;
    this.chip.textContent = label;
    this.chip.className = `role-chip role-${this.ended ? "none" : (role ?? "none")}`;
    this.title.allow(!this.guest && !this.ended && (role === "owner" || role === "editor"));
    // A guest cannot share (sharing needs an account): no button rather than a dead one.
    this.shareBtn.hidden = this.guest;
    this.shareBtn.disabled = this.guest || this.ended || this.info === null;
    if (role && !this.ended) this.cacheInfo(); // a live role change is what opens offline next time
  }

  /** Access is over: say so, and leave nothing editable or shareable. */
  private endAccess(): void {
    this.ended = true;
    this.history.ready(null);
    this.showRole(null);
  }

  private retitled(title: string): void {
    document.title = `${title} — DocStream`;
    if (this.info) this.info = { ...this.info, title };
    this.cacheInfo();
  }

  private cacheInfo(): void {
    if (this.guest || !this.info) return;
    const role = roleOf(this.view.state) ?? this.info.role;
    localStorage.setItem(`docstream.doc.${this.docId}`, JSON.stringify({ title: this.title.text, role }));
  }

  private setMonospace(on: boolean): void {
    this.element.classList.toggle("mono", on);
    if (on) localStorage.setItem(monoKey(this.docId), "1");
    else localStorage.removeItem(monoKey(this.docId));
    this.view?.requestMeasure();
  }

  /** Scroll to a person's caret (any of their tabs). */
  private goTo(userId: string): void {
    const replicas = this.peers.filter((p) => p.user_id === userId).map((p) => p.replica);
    if (!carets(this.view)?.reveal(replicas)) {
      const name = this.peers.find((p) => p.user_id === userId)?.name ?? "This person";
      toast(`${name} has not placed their cursor yet.`);
    }
  }

  private showNotice(text: string): void {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  /** The document's socket; a public link's token goes along (a browser cannot set headers). */
  private socketUrl(): string {
    const link = this.api.linkFor(this.docId);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const base = `${scheme}://${location.host}/ws/document/${encodeURIComponent(this.docId)}`;
    return link ? `${base}?link=${encodeURIComponent(link)}` : base;
  }

  /** A network failure is not the end of the session: keep reconnecting while signed in. */
  private async refreshAuth(): Promise<boolean> {
    return (await this.api.refresh()) || this.api.user !== null;
  }

  private async start(): Promise<void> {
    const claimed = await claimReplica(this.store, this.docId, this.me.id);
    if (this.destroyed) {
      claimed.release();
      for (const o of claimed.orphans) o.release();
      return;
    }
    this.release = claimed.release;
    const view = this.view;
    const live: LiveDocument = new LiveDocument({
      docId: this.docId,
      userId: this.me.id,
      session: claimed.session,
      store: this.store,
      guest: this.guest,
      url: () => this.socketUrl(),
      refreshAuth: () => this.refreshAuth(),
      callbacks: {
        changes: (changes) => applyRemote(view, changes),
        status: (state) => {
          this.status.render(state, live.session.pending);
          if (state === "closed" || this.guest) updateAccess(view, this.guest);
        },
        welcome: ({ role, peers }) => {
          updateAccess(view, this.guest, role);
          this.renderPeers(peers);
          this.showNotice("");
          if (view.state.doc.length !== live.session.doc.length16) resetToReplica(view);
          this.orphans.flush(claimed.orphans);
        },
        peers: (peers) => this.renderPeers(peers),
        peerLeft: (peer) => carets(view)?.forget(peer.replica),
        cursor: (peer, anchor, head) => carets(view)?.report(peer, anchor, head),
        role: (role) => {
          updateAccess(view, this.guest, role);
          this.comments.update();
          toast(role === "viewer" ? "You can now only view this document." : `Your role is now ${role}.`);
        },
        notice: (message, severity) => toast(message, severity),
        comment: (frame) => this.comments.receive(frame),
        closed: (code) => {
          if (this.unavailable) return;
          this.showNotice(CLOSED[code] ?? "The connection was closed.");
          if (ACCESS_ENDED.has(code)) this.endAccess();
          updateAccess(view, this.guest);
        },
      },
    });
    this.authors.me(live.session.doc.replica, { user_id: this.me.id, user_name: this.me.name });
    // The replica's text (restored from the offline queue, or empty) goes into the editor.
    resetToReplica(view, live);
    if (claimed.restored) updateAccess(view, this.guest);
    live.start();
  }

  private renderPeers(peers: Parameters<PresenceList["render"]>[0]): void {
    this.peers = peers;
    this.presence.render(peers);
    carets(this.view)?.keep(peers);
    this.authors.peers(peers);
  }

  /**
   * A document just made by "New document" (`?new=1`) opens with its title ready to type, unless
   * the person is already typing in the text (the document's details can arrive after that): the
   * title is not worth taking their keystrokes away.
   */
  private focusNewTitle(): void {
    const params = new URLSearchParams(location.search);
    if (params.get("new") !== "1") return;
    params.delete("new");
    const query = params.toString();
    window.history.replaceState(
      window.history.state,
      "",
      `${location.pathname}${query ? `?${query}` : ""}${location.hash}`,
    );
    if (this.usedText && this.view.hasFocus) return;
    this.title.startEditing(() => this.view.focus());
  }

  private async loadInfo(): Promise<void> {
    try {
      const info = await this.api.getDocument(this.docId);
      if (this.ended) return;
      this.info = info;
      this.title.set(info.title);
      document.title = `${info.title} — DocStream`;
      this.history.ready(info);
      updateAccess(this.view, this.guest, info.role);
      this.cacheInfo();
      this.focusNewTitle();
    } catch (exc) {
      if (exc instanceof ApiError && (exc.status === 404 || exc.status === 403)) {
        this.showUnavailable(exc.status === 404);
      } else if (!(exc instanceof ApiError)) {
        // Offline: the banner under the bar says where the edits are; try again shortly.
        setTimeout(() => {
          if (!this.destroyed && !this.info) void this.loadInfo();
        }, 5000);
      }
    }
  }

  /** A missing (or not shared) document: nothing to edit here (see unavailable.ts). */
  private showUnavailable(missing: boolean): void {
    this.unavailable = true;
    this.destroyed = true;
    void liveOf(this.view.state)?.stop();
    const view = unavailableView(missing, this.guest, this.docId);
    this.title.allow(false);
    this.title.set(missing ? "Not found" : "No access");
    document.title = `${view.heading} — DocStream`;
    this.showNotice("");
    this.markdown.toolbar.remove(); // nothing to format or preview (its aria-controls would dangle)
    for (const el of [
      this.status.element,
      this.status.banner,
      this.shareBtn,
      this.more.element,
      this.hint,
      this.words.element,
    ])
      el.hidden = true;
    this.body.replaceWith(view.element);
    view.back.focus();
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.user?.destroy();
    this.comments.destroy();
    this.markdown.destroy();
    window.removeEventListener("pagehide", this.onHide);
    window.removeEventListener("keydown", this.onKey);
    document.removeEventListener("visibilitychange", this.onHide);
    this.view.dispatch({ effects: closeEditor.of(null) });
    await liveOf(this.view.state)?.stop();
    await this.orphans.stop();
    this.release();
    this.view.destroy();
  }
}

export function editorPage(api: Api, store: OfflineStore | null, docId: string): EditorHandle {
  return new EditorPage(api, store, docId);
}
