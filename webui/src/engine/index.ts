/** The TypeScript replica of the DocStream CRDT (see rga.ts for the invariants). */
export { CrdtError, StateFormatError } from "./errors";
export { MAX_COUNTER, compareIds, newReplicaId, parseId, wireId, type CharId } from "./ids";
export { MAX_INSERT_LENGTH, type Change, type DeleteOp, type InsertOp, type Op } from "./ops";
export { Document, type StateRun } from "./rga";
export { resolveAnchor, type AnchorSpan } from "./anchors";
export { decodeRuns, decodeState, encodeRuns, encodeState, fromBase64, toBase64, STATE_VERSION } from "./encoding";
