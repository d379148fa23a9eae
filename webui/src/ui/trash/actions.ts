/**
 * Move to trash (with Undo), leave and duplicate: what the list's row menu and the editor's ⋯ menu
 * offer, done the same way from both.
 *
 * Moving a document to the trash asks nothing: it is undone from the toast, or restored from the
 * Trash page. Leaving asks first, and says so when the public link would still open the document.
 */
import { ApiError, NetworkError, type Api } from "../../api";
import { confirmDialog, toast } from "../dom";
import { editorPath, navigate } from "../router";
import { duplicateDocument, leaveDocument, restoreDocument } from "./api";

export function problem(exc: unknown): string {
  if (exc instanceof NetworkError) return "You are offline: try again when the server can be reached.";
  if (exc instanceof ApiError) return exc.message;
  return "Something went wrong.";
}

interface Named {
  id: string;
  title: string;
}

async function undoTrash(api: Api, doc: Named): Promise<void> {
  try {
    await restoreDocument(api, doc.id);
    toast(`“${doc.title}” is back.`);
  } catch (exc) {
    toast(problem(exc), "error");
  }
}

/** Move the document to the trash (owner); `after` runs once it is there. */
export async function moveToTrash(api: Api, doc: Named, after?: () => void): Promise<void> {
  try {
    await api.deleteDocument(doc.id);
  } catch (exc) {
    toast(problem(exc), "error");
    return;
  }
  after?.();
  toast(`Moved “${doc.title}” to the trash.`, "info", { label: "Undo", run: () => void undoTrash(api, doc) });
}

/** Remove one's own access to a shared document (after confirming); `after` runs once done. */
export async function leaveShared(
  api: Api,
  doc: Named & { public_sharing_enabled: boolean },
  after?: () => void,
): Promise<void> {
  const linkNote = doc.public_sharing_enabled
    ? " Its public link is on: you can still open it through the link."
    : " Only the owner or an editor can share it with you again.";
  const ok = await confirmDialog(
    "Leave this document?",
    `“${doc.title}” will leave your list and you will lose your access to it.${linkNote}`,
    "Leave",
    true,
  );
  if (!ok) return;
  try {
    await leaveDocument(api, doc.id);
  } catch (exc) {
    toast(problem(exc), "error");
    return;
  }
  after?.();
  toast(`You left “${doc.title}”.`);
}

/** Make a copy of the document (its current text) and open it. */
export async function duplicate(api: Api, id: string): Promise<void> {
  try {
    const copy = await duplicateDocument(api, id);
    navigate(editorPath(copy.id));
    toast(`Opened “${copy.title}”.`);
  } catch (exc) {
    toast(problem(exc), "error");
  }
}
