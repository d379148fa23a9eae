/**
 * "Recent edits" as people would tell them: the server logs one entry per message, and every
 * keystroke is a message, so typing "hello" would read as five lines ("typed h", "typed e"...).
 * Consecutive entries of one person that continue each other (typing on where the last insert
 * ended, or deleting on from the last deletion, within two minutes) become one run.
 */
import type { HistoryEntry } from "../protocol/rest";

export interface EditRun {
  user_name: string;
  kind: string;
  text: string;
  length: number;
  /** When the run ended (its newest entry). */
  created_at: string;
}

const GAP_MS = 120_000;

/** Does `next` (newer) continue `run`'s last entry `last` (older)? */
function continues(last: HistoryEntry, next: HistoryEntry): boolean {
  if (last.author !== next.author || last.kind !== next.kind) return false;
  if (Date.parse(next.created_at) - Date.parse(last.created_at) > GAP_MS) return false;
  if (next.kind === "insert") return next.position === last.position + last.length;
  if (next.kind === "delete") return next.position + next.length === last.position || next.position === last.position;
  return false;
}

/** Entries newest first (as the server sends them) into runs, newest first. */
export function editRuns(entries: readonly HistoryEntry[]): EditRun[] {
  const runs: EditRun[] = [];
  let last: HistoryEntry | null = null;
  // Oldest first, so each entry is compared with the one just before it in time.
  for (const e of [...entries].reverse()) {
    const run = runs[runs.length - 1];
    if (run && last && continues(last, e)) {
      run.text += e.text;
      run.length += e.length;
      run.created_at = e.created_at;
    } else {
      runs.push({ user_name: e.user_name, kind: e.kind, text: e.text, length: e.length, created_at: e.created_at });
    }
    last = e;
  }
  return runs.reverse();
}
