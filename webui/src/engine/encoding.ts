/**
 * The compact, versioned state encoding: byte-for-byte the format of docs/state-format.md
 * (docstream/crdt/encoding.py is the reference implementation).
 *
 * Version 1 (unsigned LEB128 varints, minimal, at most 2**53 - 1):
 *
 *   0x01                                   version
 *   R, then R x (byte length, ASCII name)  replica table, in order of first use
 *   T, then T bytes                        UTF-8 of the visible text, in sequence order
 *   N, then N x run                        the sequence
 *       head = (length - 1) << 3 | deleted << 2 | has_counter << 1 | has_replica
 *       [replica index]   if has_replica (else: the previous run's replica)
 *       [counter]         if has_counter (else: the end of the previous run of that replica, or 0)
 *
 * Integers can pass 2**31, so this module uses arithmetic, never bitwise operators, on them.
 */
import { StateFormatError } from "./errors";
import { MAX_COUNTER, isReplica } from "./ids";
import { Document, type StateRun } from "./rga";
import { hasSurrogates } from "./utf16";

export const STATE_VERSION = 1;

class ByteWriter {
  buf = new Uint8Array(256);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  varint(value: number): void {
    this.room(8);
    while (value >= 0x80) {
      this.buf[this.len++] = (value % 0x80) + 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.len++] = value;
  }

  bytes(data: Uint8Array): void {
    this.room(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const utf8 = new TextEncoder();

/** Encode maximal runs in sequence order. */
export function encodeRuns(runs: Iterable<StateRun>): Uint8Array {
  const table = new Map<string, number>();
  const body = new ByteWriter();
  const texts: string[] = [];
  const lastEnd = new Map<string, number>();
  let prevReplica = "";
  let count = 0;
  for (const [replica, counter, length, text] of runs) {
    count++;
    let head = (length - 1) * 8;
    if (text === null) head += 4;
    else texts.push(text);
    const expected = lastEnd.get(replica) ?? 0;
    if (counter !== expected) head += 2;
    if (replica !== prevReplica) head += 1;
    body.varint(head);
    if (replica !== prevReplica) {
      let index = table.get(replica);
      if (index === undefined) {
        index = table.size;
        table.set(replica, index);
      }
      body.varint(index);
      prevReplica = replica;
    }
    if (counter !== expected) body.varint(counter);
    lastEnd.set(replica, counter + length);
  }
  const out = new ByteWriter();
  out.byte(STATE_VERSION);
  out.varint(table.size);
  for (const name of table.keys()) {
    out.varint(name.length);
    for (let i = 0; i < name.length; i++) out.byte(name.charCodeAt(i));
  }
  const textBytes = utf8.encode(texts.join(""));
  out.varint(textBytes.length);
  out.bytes(textBytes);
  out.varint(count);
  out.bytes(body.result());
  return out.result();
}

function varint(data: Uint8Array, pos: number, what: string): [number, number] {
  let value = 0;
  let shift = 0;
  let byte: number;
  for (;;) {
    if (pos >= data.length) throw new StateFormatError(`state truncated while reading ${what}`);
    byte = data[pos]!;
    pos++;
    value += (byte % 0x80) * 2 ** shift;
    if (byte < 0x80) break;
    shift += 7;
    if (shift > 49) throw new StateFormatError(`varint too long in ${what}`);
  }
  if (byte === 0 && shift) throw new StateFormatError(`non-minimal varint in ${what}`);
  if (value > MAX_COUNTER) throw new StateFormatError(`${what} out of range`);
  return [value, pos];
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decode a state blob into runs; checks the layout (the loader checks duplicate ids). */
export function decodeRuns(data: Uint8Array): StateRun[] {
  if (!data.length) throw new StateFormatError("empty state");
  if (data[0] !== STATE_VERSION) {
    throw new StateFormatError(`unknown state version ${data[0]} (this build reads ${STATE_VERSION})`);
  }
  const size = data.length;
  let [rCount, pos] = varint(data, 1, "replica count");
  const names: string[] = [];
  for (let i = 0; i < rCount; i++) {
    let length: number;
    [length, pos] = varint(data, pos, "replica name length");
    const raw = data.subarray(pos, pos + length);
    pos += length;
    let name = "";
    for (const b of raw) name += String.fromCharCode(b);
    if (!isReplica(name)) throw new StateFormatError(`invalid replica id ${JSON.stringify(name)} in state`);
    if (names.includes(name)) throw new StateFormatError(`replica ${JSON.stringify(name)} listed twice in state`);
    names.push(name);
  }
  let tSize: number;
  [tSize, pos] = varint(data, pos, "text length");
  if (pos + tSize > size) throw new StateFormatError("state truncated while reading text");
  let text: string;
  try {
    text = utf8Strict.decode(data.subarray(pos, pos + tSize));
  } catch {
    throw new StateFormatError("state text is not valid UTF-8");
  }
  pos += tSize;
  let count: number;
  [count, pos] = varint(data, pos, "run count");
  if (count > size) throw new StateFormatError("run count larger than the state");
  const astral = hasSurrogates(text);
  const cps = astral ? Array.from(text) : null;
  const textLength = cps === null ? text.length : cps.length;
  const runs: StateRun[] = [];
  const lastEnd: number[] = names.map(() => 0);
  let replica = -1;
  let name = "";
  let at = 0;
  for (let i = 0; i < count; i++) {
    let head: number;
    [head, pos] = varint(data, pos, "run head");
    const flags = head % 8;
    if (flags & 1) {
      [replica, pos] = varint(data, pos, "replica index");
      if (replica >= names.length) throw new StateFormatError("replica index out of range in state");
      name = names[replica]!;
    } else if (replica < 0) {
      throw new StateFormatError("the first run of a state must name its replica");
    }
    let counter: number;
    if (flags & 2) [counter, pos] = varint(data, pos, "counter");
    else counter = lastEnd[replica]!;
    const length = Math.floor(head / 8) + 1;
    const end = counter + length;
    if (end > MAX_COUNTER + 1) throw new StateFormatError("counter out of range in state");
    lastEnd[replica] = end;
    if (flags & 4) {
      runs.push([name, counter, length, null]);
    } else {
      const piece = cps === null ? text.slice(at, at + length) : cps.slice(at, at + length).join("");
      runs.push([name, counter, length, piece]);
      at += length;
    }
  }
  if (pos !== size) throw new StateFormatError(`${size - pos} unexpected trailing bytes in state`);
  if (at !== textLength) {
    throw new StateFormatError(`state text has ${textLength} code points but its runs use ${at}`);
  }
  return runs;
}

/** The whole document (tombstones included, their text dropped) as bytes. */
export function encodeState(doc: Document): Uint8Array {
  return encodeRuns(doc.runs());
}

/** A new document from `encodeState` bytes, editing as `replica`. */
export function decodeState(blob: Uint8Array, replica: string): Document {
  const doc = new Document(replica);
  doc.load(decodeRuns(blob));
  return doc;
}

/** Base64 (as `welcome.state` carries it) to bytes. */
export function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Bytes to base64. */
export function toBase64(data: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    bin += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}
