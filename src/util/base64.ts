/**
 * Base64 (RFC 4648) for MIME and PEM. Internal: not part of the public API.
 *
 * Decoding is tolerant as mail requires: it skips whitespace and any byte outside the
 * alphabet, lets padding close a quantum (so separately padded chunks concatenate), and
 * keeps the whole bytes of a truncated final quantum. It works on bytes directly so a 100 MB body is never
 * turned into a string.
 */
import { sharedPrefix } from "./bytes.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
// No base64url letters: "-" and "_" are outside the alphabet, skipped as RFC 2045 §6.8 asks.
// A "-- " signature or a "____" footer after a base64 body (a damaged boundary line too)
// must not turn into data bytes.
/**
 * DECODE shifted to each position of a quantum, -1 outside the alphabet: one OR gives the
 * quantum's 24 bits, negative when any character is not in the alphabet.
 */
const [D0, D1, D2, D3] = [18, 12, 6, 0].map((shift) => Int32Array.from(DECODE, (v) => (v < 0 ? -1 : v << shift))) as [Int32Array, Int32Array, Int32Array, Int32Array];

/** Decodes base64 from ASCII bytes (tolerant, see module doc). */
export function decodeBase64Bytes(input: Uint8Array, start = 0, end = input.length): Uint8Array {
  const out = new Uint8Array(maxDecoded(end - start));
  return out.subarray(0, decodeInto(input, start, end, out, 0));
}

/** Room for the bytes `n` input bytes can decode to (a truncated final quantum included). */
function maxDecoded(n: number): number {
  return Math.floor((n * 3) / 4) + 3;
}

/**
 * Decodes `input[start, end)` into `out` from `o` on, starting with no pending quantum;
 * returns the end offset in `out`.
 */
function decodeInto(input: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  let acc = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    // Whole quanta of four alphabet characters (all of a line but its break) four at a time,
    // without the per-character branches, and CRLF line breaks skipped in the same loop: the
    // p7s and daticert.xml of every receipt were a twelfth of its read at ≈300 MB/s.
    // Anything else goes through the loop body below.
    if (n === 0) {
      while (i + 4 <= end) {
        const v = D0[input[i]!]! | D1[input[i + 1]!]! | D2[input[i + 2]!]! | D3[input[i + 3]!]!;
        if (v < 0) {
          if (input[i] === 13 && input[i + 1] === 10) {
            i += 2;
            continue;
          }
          break;
        }
        out[o] = v >> 16;
        out[o + 1] = v >> 8;
        out[o + 2] = v;
        o += 3;
        i += 4;
      }
      if (i >= end) break;
    }
    const c = input[i]!;
    const v = DECODE[c]!;
    if (v < 0) {
      // "=" closes a quantum: concatenated, separately padded chunks ("aGk=aGk=") stay aligned.
      if (c === 61 && n >= 2) {
        out[o++] = n === 2 ? (acc >> 4) & 0xff : (acc >> 10) & 0xff;
        if (n === 3) out[o++] = (acc >> 2) & 0xff;
        acc = 0;
        n = 0;
      }
      continue;
    }
    acc = (acc << 6) | v;
    if (++n === 4) {
      out[o++] = (acc >> 16) & 0xff;
      out[o++] = (acc >> 8) & 0xff;
      out[o++] = acc & 0xff;
      acc = 0;
      n = 0;
    }
  }
  if (n === 2) {
    out[o++] = (acc >> 4) & 0xff;
  } else if (n === 3) {
    out[o++] = (acc >> 10) & 0xff;
    out[o++] = (acc >> 2) & 0xff;
  }
  return o;
}

/** One input a {@link RepeatingBase64} remembers. */
interface Memo {
  /** A copy of the input's first bytes (at most {@link MEMO_BYTES}). */
  readonly enc: Uint8Array;
  /** What `enc` decodes to, up to its last resume point. */
  readonly dec: Uint8Array;
  /**
   * Pairs (offset in `enc`, alphabet characters before it), ascending: line starts with a
   * whole number of quanta before them and no "=". There the decoder holds nothing
   * pending and has written exactly `characters ÷ 4 × 3` bytes, so it can start afresh.
   */
  readonly resume: Int32Array;
}

/** Most inputs remembered (most recently used first). */
const MEMOS = 16;
/** Most leading bytes of an input remembered. */
const MEMO_BYTES = 16 * 1024;
/** A shared beginning shorter than this decodes in full: not worth the copy. */
const MIN_SAVED = 256;

/**
 * A base64 decoder for inputs that mostly repeat the beginning of an earlier one, giving
 * exactly what {@link decodeBase64Bytes} gives. A gestore's p7s holds the same certificates
 * on every message and differs only in its last few hundred characters (signed attributes
 * and signature): the shared beginning is compared byte for byte with a private copy of
 * an earlier p7s and its decoded bytes copied, and only the rest is decoded. Decoding is a
 * left-to-right state machine, so equal bytes up to a point where its state is empty give
 * equal output up to there.
 *
 * Bounded: {@link MEMOS} inputs of at most {@link MEMO_BYTES} bytes each.
 */
export class RepeatingBase64 {
  private readonly memos: Memo[] = [];

  /** `input[start, end)` decoded, as {@link decodeBase64Bytes} decodes it. */
  decode(input: Uint8Array, start = 0, end = input.length): Uint8Array {
    const len = end - start;
    const memos = this.memos;
    // The memo sharing the longest beginning; the most recently used first, and enough when
    // it covers most of the input. Gestori often share a CA certificate at the start of their
    // p7s: a memo of another gestore matches that far only.
    let best = -1;
    let from = 0;
    let done = 0;
    for (let m = 0; m < memos.length; m++) {
      const memo = memos[m]!;
      const p = sharedPrefix(input, start, memo.enc, Math.min(len, memo.enc.length));
      // The last resume point inside the shared beginning (pairs: offset, characters).
      const r = memo.resume;
      let at = -1;
      for (let lo = 0, hi = r.length / 2 - 1; lo <= hi; ) {
        const mid = (lo + hi) >>> 1;
        if (r[mid * 2]! <= p) {
          at = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (at < 0 || r[at * 2]! <= from) continue;
      best = m;
      from = r[at * 2]!;
      done = (r[at * 2 + 1]! / 4) * 3;
      if (from * 4 >= len * 3) break;
    }
    let out: Uint8Array;
    if (best >= 0 && done >= MIN_SAVED) {
      const memo = memos[best]!;
      const buf = new Uint8Array(done + maxDecoded(len - from));
      buf.set(memo.dec.subarray(0, done));
      out = buf.subarray(0, decodeInto(input, start + from, end, buf, done));
      if (best > 0) {
        memos.splice(best, 1);
        memos.unshift(memo);
      }
    } else out = decodeBase64Bytes(input, start, end);
    // Remembered when no memo covered most of it: the next input like it will be.
    if (from * 4 < Math.min(len, MEMO_BYTES) * 3) this.remember(input.subarray(start, Math.min(end, start + MEMO_BYTES)), out);
    return out;
  }

  private remember(head: Uint8Array, decoded: Uint8Array): void {
    // Bytes outside the alphabet leave the decoder's state alone, except "=" (it may close a
    // quantum early): resume points stop at the first one.
    const points: number[] = [];
    let chars = 0;
    for (let i = 0; i < head.length; i++) {
      const c = head[i]!;
      if (c === 61) break;
      if (DECODE[c]! >= 0) chars++;
      else if (c === 10 && (chars & 3) === 0) points.push(i + 1, chars);
    }
    const last = points.length ? points[points.length - 1]! : 0;
    if ((last / 4) * 3 < MIN_SAVED) return;
    this.memos.unshift({ enc: head.slice(), dec: decoded.slice(0, (last / 4) * 3), resume: Int32Array.from(points) });
    if (this.memos.length > MEMOS) this.memos.pop();
  }
}

/** Decodes base64 text (tolerant, see module doc). */
export function decodeBase64(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes[i] = c < 256 ? c : 0x20;
  }
  return decodeBase64Bytes(bytes);
}

const ENC = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENC[i] = ALPHABET.charCodeAt(i);

/**
 * Encodes bytes as base64 ASCII bytes, optionally broken into lines of `lineLength`
 * characters (a multiple of 4) ended by CRLF, the last line included.
 */
export function encodeBase64Bytes(input: Uint8Array, lineLength = 0): Uint8Array {
  const chars = Math.ceil(input.length / 3) * 4;
  const perLine = lineLength > 0 ? lineLength - (lineLength % 4) || 4 : 0;
  const lines = perLine ? Math.ceil(chars / perLine) : 0;
  const out = new Uint8Array(chars + lines * 2);
  let o = 0;
  let col = 0;
  const full = input.length - (input.length % 3);
  let i = 0;
  for (; i < full; i += 3) {
    const v = (input[i]! << 16) | (input[i + 1]! << 8) | input[i + 2]!;
    out[o++] = ENC[v >> 18]!;
    out[o++] = ENC[(v >> 12) & 63]!;
    out[o++] = ENC[(v >> 6) & 63]!;
    out[o++] = ENC[v & 63]!;
    if (perLine && (col += 4) === perLine) {
      out[o++] = 13;
      out[o++] = 10;
      col = 0;
    }
  }
  const rest = input.length - full;
  if (rest > 0) {
    const v = (input[i]! << 16) | (rest === 2 ? input[i + 1]! << 8 : 0);
    out[o++] = ENC[v >> 18]!;
    out[o++] = ENC[(v >> 12) & 63]!;
    out[o++] = rest === 2 ? ENC[(v >> 6) & 63]! : 61;
    out[o++] = 61;
    col += 4;
  }
  if (perLine && col > 0) {
    out[o++] = 13;
    out[o++] = 10;
  }
  return out.subarray(0, o);
}

/** Encodes bytes as a base64 string (no line breaks unless `lineLength` is given). */
export function encodeBase64(input: Uint8Array, lineLength = 0): string {
  const bytes = encodeBase64Bytes(input, lineLength);
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return out;
}
