/**
 * The history panel: versions (automatic and named), a preview of each, "name the current
 * version", restore (applied by the server as ordinary ops, so it arrives live), recent edits,
 * and export as .txt / .md. Its close button hands back to the editor (history-toggle.ts).
 */
import { ApiError, type Api, type DocumentInfo, type Version } from "../api";
import { X } from "lucide";
import { ago, confirmDialog, field, h, onAsync, toast } from "./dom";
import { editRuns } from "./history-runs";
import { icon } from "./icons";

function msg(exc: unknown): string {
  return exc instanceof ApiError ? exc.message : "The server cannot be reached.";
}

export async function download(api: Api, doc: DocumentInfo, format: "txt" | "md"): Promise<void> {
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

  const edits = h("ol", { class: "edits", "aria-label": "Recent edits" });
  const load = async (): Promise<void> => {
    try {
      const versions = await api.versions(doc.id);
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
    try {
      const runs = editRuns(await api.history(doc.id, 200)).slice(0, 20);
      edits.replaceChildren(
        ...runs.map((e) =>
          h(
            "li",
            {},
            h("strong", {}, e.user_name),
            ` ${e.kind === "insert" ? "typed" : e.kind === "delete" ? "deleted" : "edited"} `,
            h(
              "span",
              { class: "muted" },
              e.text ? `“${e.text.length > 40 ? `${e.text.slice(0, 40)}…` : e.text}”` : `${e.length} chars`,
            ),
            " ",
            h("span", { class: "muted" }, ago(e.created_at)),
          ),
        ),
      );
    } catch {
      edits.replaceChildren();
    }
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
    restore,
    h("h3", {}, "Recent edits"),
    edits,
    h("h3", {}, "Export"),
    h("div", { class: "actions" }, txt, md),
  );
  void load();
  return panel;
}
