/**
 * Wire ops (docs/protocol.md §6) and the visible changes a UI replays.
 *
 *   {"kind": "ins", "id": "Ab3xQ9kZ:41", "after": "Zz81mmQa:40", "text": "hello"}
 *   {"kind": "del", "id": "Ab3xQ9kZ:41", "len": 3}
 */

/** Most code points one `ins` op may carry; longer local inserts are chained. */
export const MAX_INSERT_LENGTH = 65_536;

export interface InsertOp {
  kind: "ins";
  id: string;
  after: string | null;
  text: string;
}

export interface DeleteOp {
  kind: "del";
  id: string;
  len: number;
}

export type Op = InsertOp | DeleteOp;

/**
 * One change of the visible text. `index`/`deleted` count code points (as the Python engine's
 * `Change`); `from16`/`deleted16` are the same change in UTF-16 units (CodeMirror positions).
 * A list of changes is applied in order, each relative to the text left by the previous one.
 */
export interface Change {
  index: number;
  deleted: number;
  inserted: string;
  from16: number;
  deleted16: number;
}
