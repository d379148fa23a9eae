/**
 * The history panel: versions (automatic and named), a preview of each, "name the current
 * version", restore (applied by the server as ordinary ops, so it arrives live), the editing
 * sessions per author (history/sessions.ts), the changes between any two versions or within a
 * session (history/diff.ts, loaded on first use), and export as .txt / .md. Its close button hands
 * back to the editor (history-toggle.ts).
 */
import { ApiError, type Api, type DocumentInfo, type Version } from "../api";
import { X } from "lucide";
import { ago, confirmDialog, field, h, onAsync, toast } from "./dom";
import { icon } from "./icons";
import { textAt, type EditSession } from "./history/api";
import { SessionList, summary } from "./history/sessions";

/** The largest seq a route takes: "the text now". */
const NOW = Number.MAX_SAFE_INTEGER;

function msg(exc: unknown): string {
  return exc instanceof ApiError ? exc.message : "The server cannot be reached.";
}

export async function download(api: Api, doc: DocumentInfo, format: "txt" | "md" | "html"): Promise<void> {
  try {
    const blob = await api.exportBlob(doc.id, format);
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: `${doc.title.replace(/[\\/:*?"<>|]+/g, "_") || "document"}.${format}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (exc) {
    toast(msg(exc), "error");
  }
}

export function historyPanel(api: Api, doc: DocumentInfo, canEdit: () => boolean, close: () => void): HTMLElement {
  const list = h("ol", { class: "versions", "aria-label": "Versions" });
  const preview = h("pre", { class: "preview", tabindex: 0, "aria-label": "Version preview" });
  const previewHead = h("p", { class: "muted", role: "status" }, "Choose a version to preview it.");
  const restore = h("button", { type: "button", class: "primary", hidden: true }, "Restore this version");
  let chosen: Version | null = null;
  let versions: Version[] = [];

  // The diff view: what changed between two texts, below the lists.
  const diffHead = h("h3", { id: `diff-${doc.id}`, tabindex: -1 }, "Changes");
  const diffSummary = h("p", { class: "muted", role: "status" });
  const diffBody = h("div", { class: "diff-body" });
  const diffView = h(
    "section",
    { class: "diff-view", "aria-labelledby": diffHead.id, hidden: true },
    diffHead,
    h("p", { class: "diff-legend muted" }, h("ins", {}, "added"), " ", h("del", {}, "removed")),
    diffSummary,
    diffBody,
  );
  const showDiff = async (
    title: string,
    before: () => Promise<string>,
    after: () => Promise<string>,
  ): Promise<void> => {
    diffView.hidden = false;
    diffHead.textContent = title;
    diffSummary.textContent = "Loading…";
    diffBody.replaceChildren();
    diffHead.scrollIntoView({ block: "nearest" });
    diffHead.focus();
    try {
      const [a, b] = await Promise.all([before(), after()]);
      const { renderDiff } = await import("./history/diff");
      const got = await renderDiff(a, b);
      diffSummary.textContent = summary({ inserted: got.added, deleted: got.removed });
      diffBody.replaceChildren(got.element);
    } catch (exc) {
      diffSummary.textContent = msg(exc);
    }
  };
  const versionText = async (v: number): Promise<string> => (await api.version(doc.id, v)).text;
  const versionName = (v: Version): string => v.label ?? `the version of ${new Date(v.created_at).toLocaleString()}`;
  const compareWith = h("select", { id: `compare-${doc.id}` });
  const compareBtn = h("button", { type: "button" }, "Show changes");
  const compare = h(
    "div",
    { class: "compare", hidden: true },
    h("label", { for: compareWith.id }, "Compare with"),
    compareWith,
    compareBtn,
  );
  compareBtn.addEventListener("click", () => {
    if (!chosen) return;
    const from = chosen;
    const other = compareWith.value;
    const to = versions.find((v) => String(v.version) === other);
    void showDiff(
      to ? `From ${versionName(from)} to ${versionName(to)}` : `From ${versionName(from)} to the current text`,
      () => versionText(from.version),
      () => (to ? versionText(to.version) : textAt(api, doc.id, NOW)),
    );
  });
  const sessionDiff = (s: EditSession): void =>
    void showDiff(
      `${s.user_name}’s edits, ${new Date(s.ended_at).toLocaleString()}`,
      () => textAt(api, doc.id, s.first_seq - 1),
      () => textAt(api, doc.id, s.last_seq),
    );
  const sessionList = new SessionList(api, doc.id, sessionDiff);

  const label = field("Name the current version", {
    type: "text",
    maxlength: 200,
    required: true,
    placeholder: "e.g. First draft",
  });
  const saveBtn = h("button", { type: "submit" }, "Save version");
  const nameForm = h("form", { class: "stack", "aria-label": "Name the current version" }, label.wrap, saveBtn);
  onAsync(nameForm, "submit", async (ev) => {
    ev.preventDefault();
    const text = label.input.value.trim();
    label.error.textContent = "";
    if (!text) {
      label.error.textContent = "Please enter a name for this version.";
      return;
    }
    try {
      await api.nameVersion(doc.id, text);
      label.input.value = "";
      toast(`Saved version “${text}”.`);
      await load();
    } catch (exc) {
      label.error.textContent = msg(exc);
    }
  });

  const show = async (v: Version): Promise<void> => {
    chosen = v;
    for (const b of list.querySelectorAll("button[aria-pressed]"))
      b.setAttribute("aria-pressed", String(b.getAttribute("data-version") === String(v.version)));
    previewHead.textContent = "Loading…";
    try {
      const got = await api.version(doc.id, v.version);
      preview.textContent = got.text;
      previewHead.textContent = `${v.label ?? "Automatic version"} — ${new Date(v.created_at).toLocaleString()} (${v.length} characters)`;
      restore.hidden = !canEdit();
      compareWith.replaceChildren(
        h("option", { value: "now" }, "Current text"),
        ...versions
          .filter((o) => o.version !== v.version)
          .map((o) =>
            h("option", { value: o.version }, `${o.label ?? "Automatic"} — ${new Date(o.created_at).toLocaleString()}`),
          ),
      );
      compare.hidden = false;
    } catch (exc) {
      previewHead.textContent = msg(exc);
    }
  };

  onAsync(restore, "click", async () => {
    if (!chosen) return;
    const v = chosen;
    const ok = await confirmDialog(
      "Restore this version?",
      `The document will be changed back to “${v.label ?? `version ${v.version}`}” for everyone. The current text is kept as a version you can go back to.`,
      "Restore",
    );
    if (!ok) return;
    try {
      const res = await api.restore(doc.id, v.version);
      toast(res.restored ? `Restored “${v.label ?? `version ${v.version}`}”.` : "The document already had this text.");
      await load();
    } catch (exc) {
      toast(msg(exc), "error");
    }
  });

  const load = async (): Promise<void> => {
    try {
      versions = await api.versions(doc.id);
      list.replaceChildren();
      if (!versions.length)
        list.append(
          h("li", { class: "muted" }, "No versions yet: they are taken automatically after a pause in editing."),
        );
      for (const v of versions) {
        const b = h(
          "button",
          {
            type: "button",
            class: "version",
            // The chosen version keeps its highlight when the list reloads (after a restore or a
            // refresh) while its preview is still showing.
            "aria-pressed": String(chosen?.version === v.version),
            "data-version": v.version,
          },
          h("span", { class: "version-label" }, v.label ?? "Automatic"),
          h("span", { class: "muted" }, `${ago(v.created_at)} · ${v.length} chars`),
        );
        b.addEventListener("click", () => void show(v));
        list.append(h("li", {}, b));
      }
    } catch (exc) {
      list.replaceChildren(h("li", { class: "field-error" }, msg(exc)));
    }
    await sessionList.load();
  };

  const txt = h("button", { type: "button" }, "Export .txt");
  const md = h("button", { type: "button" }, "Export .md");
  txt.addEventListener("click", () => void download(api, doc, "txt"));
  md.addEventListener("click", () => void download(api, doc, "md"));
  const refresh = h("button", { type: "button", class: "link-button" }, "Refresh");
  refresh.addEventListener("click", () => void load());
  const closeBtn = h(
    "button",
    { type: "button", class: "icon-only close-button", "aria-label": "Close history", title: "Close history" },
    icon(X),
  );
  closeBtn.addEventListener("click", close);

  const panel = h(
    "aside",
    { class: "history-panel", "aria-label": "History" },
    h("div", { class: "panel-head" }, h("h2", {}, "History"), refresh, closeBtn),
    canEdit() ? nameForm : null,
    h("h3", {}, "Versions"),
    list,
    previewHead,
    preview,
    compare,
    restore,
    h("h3", {}, "Sessions"),
    sessionList.element,
    diffView,
    h("h3", {}, "Export"),
    h("div", { class: "actions" }, txt, md),
  );
  void load();
  return panel;
}
