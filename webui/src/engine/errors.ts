/**
 * Errors of the engine, with the same stable codes as the Python CRDT (docstream/errors.py):
 * `bad_message` for malformed input, `unknown_id`, `duplicate_id_conflict`.
 */

export type CrdtErrorCode = "bad_message" | "unknown_id" | "duplicate_id_conflict";

/** An op or state the CRDT refuses. `code` is the protocol error code the server would use. */
export class CrdtError extends Error {
  readonly code: CrdtErrorCode;

  constructor(message: string, code: CrdtErrorCode = "bad_message") {
    super(message);
    this.name = "CrdtError";
    this.code = code;
  }
}

/** A state blob that cannot be decoded (truncated, malformed, unknown version). */
export class StateFormatError extends CrdtError {
  constructor(message: string) {
    super(message, "bad_message");
    this.name = "StateFormatError";
  }
}
