/**
 * Import .txt and .md files into new documents: an "Import" button beside "New document" (a file
 * picker) and files dropped anywhere on the document list. Each file goes to
 * `POST /documents/import` as it is (base64), so the server judges its bytes (UTF-8, no NUL, the
 * size limit) by the same rules as `docstream import`; one toast per file says what happened, and
 * the list is fetched again once all are done.
 */
import { Upload } from "lucide";
import type { Api } from "../../api";
import type { DocumentInfo, ImportBody } from "../../protocol/rest";
import { h, toast } from "../dom";
import { icon } from "../icons";
import { problem } from "./rows";

const ACCEPT = ".txt,.md,text/plain,text/markdown";

function isTextFile(file: File): boolean {
  return /\.(txt|md)$/i.test(file.name);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

export function importFile(api: Api, file: File): Promise<DocumentInfo> {
  return file.arrayBuffer().then((buffer) =>
    api.request<DocumentInfo>("POST", "/documents/import", {
      name: file.name,
      data: base64(new Uint8Array(buffer)),
    } satisfies ImportBody),
  );
}

/** Import the files one after another; a toast for each; `done` once all were tried. */
export async function importFiles(api: Api, files: File[], done: () => void): Promise<void> {
  for (const file of files) {
    if (!isTextFile(file)) {
      toast(`${file.name} was not imported: only .txt and .md files can be.`, "error");
      continue;
    }
    try {
      const doc = await importFile(api, file);
      toast(`Imported “${doc.title}”.`);
    } catch (exc) {
      toast(`${file.name} was not imported: ${problem(exc)}`, "error");
    }
  }
  done();
}

/** The "Import" button: picks .txt/.md files and imports them. */
export function importButton(api: Api, done: () => void): HTMLElement {
  const input = h("input", { type: "file", accept: ACCEPT, multiple: true, hidden: true, class: "import-input" });
  const button = h("button", { type: "button", class: "import-doc" }, icon(Upload), "Import");
  button.title = "Import .txt or .md files as new documents (or drop them on the list)";
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const files = [...(input.files ?? [])];
    input.value = "";
    if (!files.length) return;
    button.disabled = true;
    void importFiles(api, files, () => {
      button.disabled = false;
      done();
    });
  });
  return h("span", { class: "import" }, button, input);
}

/** Files dropped on `target` are imported (the target is outlined while files are over it). */
export function acceptDrops(target: HTMLElement, api: Api, done: () => void): void {
  const hasFiles = (e: DragEvent): boolean => e.dataTransfer?.types.includes("Files") ?? false;
  let depth = 0;
  target.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    target.classList.add("dropping");
  });
  target.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) target.classList.remove("dropping");
  });
  target.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault(); // allow the drop
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  });
  target.addEventListener("drop", (e) => {
    const files = [...(e.dataTransfer?.files ?? [])];
    if (!files.length) return;
    e.preventDefault();
    depth = 0;
    target.classList.remove("dropping");
    void importFiles(api, files, done);
  });
}
