/**
 * mbox: messages stored one after another, each after a `From ` line (RFC 4155). Read here
 * from bytes, whole ({@link splitMbox}) or chunk by chunk ({@link MboxReader}, which
 * `readMbox` of `postacert/node` streams a file through), in browsers as in Node.
 *
 * @module
 */
import { PecError } from "../errors.js";
import { concatBytes } from "../util/bytes.js";
import { DEFAULT_MAX_SIZE, checkLimit } from "./parse.js";
import { got } from "../util/got.js";
import { startsWithFrom } from "../util/message-start.js";

/** One message of an mbox. */
export interface MboxMessage {
  /** Byte offset of its `From ` line in the mbox. */
  offset: number;
  /**
   * The message: `>From` unquoted, without its `From ` line and the blank line that
   * separated it from the next. Empty when {@link tooLarge}.
   */
  bytes: Uint8Array;
  /** Set when the message was larger than `maxMessageSize`: it was not kept. */
  tooLarge?: true;
  /** Its size in bytes (as stored, with the separating line), given when {@link tooLarge}. */
  size?: number;
}

/** Options of {@link MboxReader} and {@link splitMbox}. */
export interface MboxReaderOptions {
  /**
   * Largest message kept, in bytes (default {@link DEFAULT_MAX_SIZE}, what readPec reads):
   * a larger one is given as `tooLarge`, without its bytes, and reading goes on. Bounds
   * memory however the mbox is made (a gzip-compressed mbox may unpack to one huge line).
   */
  maxMessageSize?: number;
}

/**
 * Whether bytes begin as an mbox does: `From ` on the first line.
 *
 * @example
 * ```ts
 * const messages = isMbox(bytes) ? splitMbox(bytes).map((m) => m.bytes) : [bytes];
 * ```
 */
export function isMbox(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", `isMbox expects bytes (a Uint8Array); ${got(bytes)}`);
  return startsWithFrom(bytes, 0);
}

/**
 * Whether the line at `start` is `>+From ` (a quoted From line, which loses one `>`). Reading
 * past the line's end is harmless: `From ` holds no line break to match one.
 */
function quotedFrom(bytes: Uint8Array, start: number): boolean {
  let i = start;
  while (i < bytes.length && bytes[i] === 0x3e) i++;
  return i > start && startsWithFrom(bytes, i);
}

/**
 * Reads an mbox chunk by chunk: a line starting with `From ` begins a message; `>From `,
 * `>>From `… lose one `>` (mboxrd, which also reads mboxo correctly for the lines that
 * matter); LF or CRLF line ends are kept as they are. The blank line that separates two
 * messages is removed; a message that did not end with a line break gets the one its
 * writer had to add (mbox cannot tell). Text before the first `From ` line is no message.
 * Memory holds the message being read and the incomplete last line, each at most
 * `maxMessageSize`.
 *
 * @example
 * ```ts
 * declare const stream: AsyncIterable<Uint8Array>; // the mbox in chunks, e.g. a Node ReadStream
 * const reader = new MboxReader();
 * for await (const chunk of stream) for (const m of reader.push(chunk)) console.log(m.offset, m.bytes.length);
 * for (const m of reader.end()) console.log(m.offset, m.bytes.length);
 * ```
 */
export class MboxReader {
  readonly #max: number;
  /**
   * Longest line held: longer, it is only counted (it makes its message too large). Above
   * `#max` by a margin, so that a `From ` line, which is no part of a message, is always read.
   */
  readonly #lineMax: number;
  /** The current message's lines, copied together when it ends (a message never pins the chunks). */
  #parts: Uint8Array[] = [];
  /** The current message's size so far (with what was not kept when it is too large). */
  #size = 0;
  #tooLarge = false;
  /** In a line longer than `#lineMax`: its bytes so far, not kept, until its line break. */
  #longLine = -1;
  /** Offset of the current message's From line; -1 before the first. */
  #start = -1;
  /** Offset of the start of the pending line. */
  #lineOffset = 0;
  /** The incomplete last line, in pieces: a line of megabytes is not re-copied on every chunk. */
  #carry: Uint8Array[] = [];
  #carrySize = 0;
  #ended = false;

  /**
   * @param options - the largest message kept
   * @throws PecError `ERR_INVALID_ARGUMENT` for a `maxMessageSize` that is not a non-negative integer or `Infinity`
   */
  constructor(options: MboxReaderOptions = {}) {
    this.#max = checkLimit(options.maxMessageSize, DEFAULT_MAX_SIZE, "maxMessageSize");
    this.#lineMax = this.#max + 65_536;
  }

  /**
   * Reads the next bytes of the mbox.
   *
   * @param chunk - the next bytes (kept by reference until the message they belong to ends: do not reuse the buffer)
   * @returns the messages that ended in it
   * @throws PecError `ERR_INVALID_ARGUMENT` for a chunk that is not a Uint8Array, or after {@link end}
   */
  push(chunk: Uint8Array): MboxMessage[] {
    if (!(chunk instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", `MboxReader.push expects bytes (a Uint8Array); ${got(chunk)}`);
    if (this.#ended) throw new PecError("ERR_INVALID_ARGUMENT", "MboxReader.push after end()");
    const out: MboxMessage[] = [];
    let pos = 0;
    if (this.#longLine >= 0) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        this.#longLine += chunk.length;
        return out;
      }
      this.#endLongLine(nl + 1);
      pos = nl + 1;
    } else if (this.#carrySize > 0) {
      // Complete only the pending line: concatenating it with the whole chunk would copy every chunk.
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        this.#carry.push(chunk);
        this.#carrySize += chunk.length;
        // No message may hold this line: count it, keep none of it (see #endLongLine).
        if (this.#carrySize > this.#lineMax) {
          this.#longLine = this.#carrySize;
          this.#carry = [];
          this.#carrySize = 0;
        }
        return out;
      }
      this.#carry.push(chunk.subarray(0, nl + 1));
      const line = concatBytes(this.#carry);
      this.#carry = [];
      this.#carrySize = 0;
      pos = nl + 1;
      this.#line(line, out);
    }
    // A plain view: a Buffer's subarray costs far more, and this runs over every byte of the mbox.
    const c = chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const base = this.#lineOffset - pos; // offset of c[0] in the mbox
    // The lines since the last From or quoted From line are kept as one view, not one per line.
    let run = pos;
    while (pos < c.length) {
      const nl = c.indexOf(0x0a, pos);
      if (nl < 0) break;
      const b = c[pos];
      if (b === 0x46 && startsWithFrom(c, pos)) {
        this.#keepRun(c, run, pos);
        this.#finish(out);
        this.#start = base + pos;
        run = nl + 1;
      } else if (b === 0x3e && quotedFrom(c, pos)) {
        this.#keepRun(c, run, pos);
        run = pos + 1;
      }
      pos = nl + 1;
    }
    this.#keepRun(c, run, pos);
    this.#lineOffset = base + pos;
    if (pos < c.length) {
      if (c.length - pos > this.#lineMax) this.#longLine = c.length - pos;
      else {
        // A copy: a view would pin the whole chunk until the line ends.
        this.#carry = [c.slice(pos)];
        this.#carrySize = c.length - pos;
      }
    }
    return out;
  }

  #keepRun(c: Uint8Array, from: number, to: number): void {
    if (to > from && this.#start >= 0) this.#keep(c.subarray(from, to));
  }

  /** A line longer than any message may be ends after `tail` more bytes: it makes its message too large. */
  #endLongLine(tail: number): void {
    const length = this.#longLine + tail;
    this.#longLine = -1;
    if (this.#start >= 0) {
      this.#tooLarge = true;
      this.#parts = [];
      this.#size += length;
    }
    this.#lineOffset += length;
  }

  /**
   * Ends the mbox.
   *
   * @returns the last message, if any
   */
  end(): MboxMessage[] {
    if (this.#ended) return [];
    const out: MboxMessage[] = [];
    if (this.#longLine >= 0) this.#endLongLine(0);
    if (this.#carrySize > 0) this.#line(concatBytes(this.#carry), out);
    this.#carry = [];
    this.#carrySize = 0;
    this.#finish(out);
    this.#ended = true;
    return out;
  }

  #line(line: Uint8Array, out: MboxMessage[]): void {
    if (startsWithFrom(line, 0)) {
      this.#finish(out);
      this.#start = this.#lineOffset;
    } else if (this.#start >= 0) this.#keep(quotedFrom(line, 0) ? line.subarray(1) : line);
    this.#lineOffset += line.length;
  }

  /** Adds bytes to the current message, or only counts them once it is too large. */
  #keep(bytes: Uint8Array): void {
    this.#size += bytes.length;
    if (this.#tooLarge) return;
    // + 2: the separating blank line, which is no part of the message, may be what crosses the limit.
    if (this.#size > this.#max + 2) {
      this.#tooLarge = true;
      this.#parts = [];
    } else this.#parts.push(bytes);
  }

  #finish(out: MboxMessage[]): void {
    if (this.#start < 0) return;
    const bytes = this.#tooLarge ? undefined : stripSeparator(concatBytes(this.#parts));
    if (bytes && bytes.length <= this.#max) out.push({ offset: this.#start, bytes });
    else out.push({ offset: this.#start, bytes: new Uint8Array(0), tooLarge: true, size: this.#size });
    this.#parts = [];
    this.#size = 0;
    this.#tooLarge = false;
  }
}

/**
 * The messages of an mbox held in memory (see {@link MboxReader} for the rules; for a
 * file, `readMbox` of `postacert/node` streams it instead).
 *
 * @param bytes - the whole mbox
 * @param options - the largest message kept
 * @returns its messages, in order
 * @throws PecError `ERR_INVALID_ARGUMENT` when `bytes` is not a Uint8Array
 * @example
 * ```ts
 * for (const m of splitMbox(bytes)) console.log(m.offset, readPec(m.bytes).type);
 * ```
 */
export function splitMbox(bytes: Uint8Array, options: MboxReaderOptions = {}): MboxMessage[] {
  const reader = new MboxReader(options);
  return [...reader.push(bytes), ...reader.end()];
}

/**
 * A message of an mbox as its readers give it: its bytes, or, when the reader kept it out as
 * too large, the `ERR_TOO_LARGE` error that says so. Every reader of an mbox (files, standard
 * input, ZIP entries, the inspector) goes through this, so that none gives an empty message
 * in place of one it did not keep. Not part of the public API.
 *
 * @param m - a message from {@link MboxReader} or {@link splitMbox}
 * @param id - its name (`path#offset`)
 * @param limit - the reader's `maxMessageSize`
 * @internal
 */
export function mboxEntry(m: MboxMessage, id: string, limit: number = DEFAULT_MAX_SIZE): { id: string; bytes: Uint8Array } | { id: string; error: PecError } {
  if (!m.tooLarge) return { id, bytes: m.bytes };
  return { id, error: new PecError("ERR_TOO_LARGE", `the message at ${id} is ${m.size} bytes, more than the ${limit} read`, { limit }) };
}

/** Drops the one empty line (LF or CRLF) that an mbox writer puts before the next `From `. */
function stripSeparator(b: Uint8Array): Uint8Array {
  const n = b.length;
  if (n < 2 || b[n - 1] !== 0x0a) return b;
  // The separator is an empty last line; the message's own last line must still end in LF.
  if (b[n - 2] === 0x0a) return b.subarray(0, n - 1);
  if (b[n - 2] === 0x0d && n >= 3 && b[n - 3] === 0x0a) return b.subarray(0, n - 2);
  return b;
}

