/**
 * mbox: messages stored one after another, each after a `From ` line (RFC 4155). Read here
 * from bytes, whole ({@link splitMbox}) or chunk by chunk ({@link MboxReader}, which
 * `readMbox` of `postacert/node` streams a file through), in browsers as in Node.
 *
 * @module
 */
import { PecError } from "../errors.js";
import { concatBytes } from "../util/bytes.js";
import { got } from "../util/got.js";

/** One message of an mbox. */
export interface MboxMessage {
  /** Byte offset of its `From ` line in the mbox. */
  offset: number;
  /** The message: `>From` unquoted, without its `From ` line and the blank line that separated it from the next. */
  bytes: Uint8Array;
}

const FROM_ = [0x46, 0x72, 0x6f, 0x6d, 0x20]; // "From "

/** Whether `line[start..]` begins with `From `. */
function fromAt(line: Uint8Array, start: number): boolean {
  if (line.length - start < 5) return false;
  for (let k = 0; k < 5; k++) if (line[start + k] !== FROM_[k]) return false;
  return true;
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
  return fromAt(bytes, 0);
}

/** Number of leading `>` when the line is `>+From `, else 0. */
function quotedFrom(line: Uint8Array): number {
  let i = 0;
  while (i < line.length && line[i] === 0x3e) i++;
  return i > 0 && fromAt(line, i) ? i : 0;
}

/**
 * Reads an mbox chunk by chunk: a line starting with `From ` begins a message; `>From `,
 * `>>From `… lose one `>` (mboxrd, which also reads mboxo correctly for the lines that
 * matter); LF or CRLF line ends are kept as they are. The blank line that separates two
 * messages is removed; a message that did not end with a line break gets the one its
 * writer had to add (mbox cannot tell). Text before the first `From ` line is no message.
 * Memory holds the message being read and the incomplete last line.
 *
 * @example
 * ```ts
 * const reader = new MboxReader();
 * for await (const chunk of stream) for (const m of reader.push(chunk)) handle(m);
 * for (const m of reader.end()) handle(m);
 * ```
 */
export class MboxReader {
  /** The current message's lines, copied together when it ends (a message never pins the chunks). */
  #parts: Uint8Array[] = [];
  /** Offset of the current message's From line; -1 before the first. */
  #start = -1;
  /** Offset of the start of the pending line. */
  #lineOffset = 0;
  /** The incomplete last line, in pieces: a line of megabytes is not re-copied on every chunk. */
  #carry: Uint8Array[] = [];
  #carrySize = 0;
  #ended = false;

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
    if (this.#carrySize > 0) {
      // Complete only the pending line: concatenating it with the whole chunk would copy every chunk.
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        this.#carry.push(chunk);
        this.#carrySize += chunk.length;
        return out;
      }
      this.#carry.push(chunk.subarray(0, nl + 1));
      const line = concatBytes(this.#carry);
      this.#carry = [];
      this.#carrySize = 0;
      pos = nl + 1;
      this.#line(line, out);
    }
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      if (nl < 0) break;
      this.#line(chunk.subarray(pos, nl + 1), out);
      pos = nl + 1;
    }
    if (pos < chunk.length) {
      // A copy (Uint8Array's slice, not Buffer's view): a view would pin the whole chunk until the line ends.
      this.#carry = [Uint8Array.prototype.slice.call(chunk, pos)];
      this.#carrySize = chunk.length - pos;
    }
    return out;
  }

  /**
   * Ends the mbox.
   *
   * @returns the last message, if any
   */
  end(): MboxMessage[] {
    if (this.#ended) return [];
    const out: MboxMessage[] = [];
    if (this.#carrySize > 0) this.#line(concatBytes(this.#carry), out);
    this.#carry = [];
    this.#carrySize = 0;
    this.#finish(out);
    this.#ended = true;
    return out;
  }

  #line(line: Uint8Array, out: MboxMessage[]): void {
    if (fromAt(line, 0)) {
      this.#finish(out);
      this.#start = this.#lineOffset;
    } else if (this.#start >= 0) {
      const kept = quotedFrom(line) > 0 ? line.subarray(1) : line;
      this.#parts.push(kept);
    }
    this.#lineOffset += line.length;
  }

  #finish(out: MboxMessage[]): void {
    if (this.#start < 0) return;
    out.push({ offset: this.#start, bytes: stripSeparator(concatBytes(this.#parts)) });
    this.#parts = [];
  }
}

/**
 * The messages of an mbox held in memory (see {@link MboxReader} for the rules; for a
 * file, `readMbox` of `postacert/node` streams it instead).
 *
 * @param bytes - the whole mbox
 * @returns its messages, in order
 * @throws PecError `ERR_INVALID_ARGUMENT` when `bytes` is not a Uint8Array
 * @example
 * ```ts
 * for (const m of splitMbox(bytes)) console.log(m.offset, readPec(m.bytes).type);
 * ```
 */
export function splitMbox(bytes: Uint8Array): MboxMessage[] {
  const reader = new MboxReader();
  return [...reader.push(bytes), ...reader.end()];
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

