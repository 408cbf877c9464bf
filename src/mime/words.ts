/**
 * RFC 2047 encoded words: decoding for header values, encoding for the builder.
 *
 * @module
 */
import { decodeBase64 } from "../util/base64.js";
import { concatBytes, utf8Bytes } from "../util/bytes.js";
import { decodeCharset, normalizeCharsetLabel } from "./charset.js";

const MAX_CHARSET = 100;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function decodeQ(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) {
      out.push(0x20);
    } else if (c === 0x3d && i + 2 < text.length && hexValue(text.charCodeAt(i + 1)) >= 0 && hexValue(text.charCodeAt(i + 2)) >= 0) {
      out.push(hexValue(text.charCodeAt(i + 1)) * 16 + hexValue(text.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      // Raw non-ASCII inside a word is malformed; keep the character as UTF-8 so that
      // decoding with a UTF-8 charset gives it back unchanged.
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of utf8Bytes(ch)) out.push(b);
      i += ch.length - 1;
    }
  }
  return Uint8Array.from(out);
}

interface Word {
  end: number;
  charset: string;
  bytes: Uint8Array;
}

// Returns the word at `at` ("=?"), null when it is malformed, or "stop" when no word can
// follow (there is no "?" left), which keeps a long value without words linear.
function parseWord(value: string, at: number): Word | null | "stop" {
  let k = at + 2;
  const n = value.length;
  while (k < n && k - at - 2 <= MAX_CHARSET) {
    const c = value.charCodeAt(k);
    if (c === 0x3f || c <= 0x20 || c >= 0x7f) break;
    k++;
  }
  if (k >= n) return "stop";
  if (value.charCodeAt(k) !== 0x3f || k === at + 2) return null;
  const enc = value.charCodeAt(k + 1) | 0x20;
  if ((enc !== 0x62 && enc !== 0x71) || value.charCodeAt(k + 2) !== 0x3f) return null;
  const textStart = k + 3;
  const textEnd = value.indexOf("?", textStart);
  if (textEnd < 0) return "stop";
  if (value.charCodeAt(textEnd + 1) !== 0x3d) return null;
  const text = value.slice(textStart, textEnd);
  return {
    end: textEnd + 2,
    charset: normalizeCharsetLabel(value.slice(at + 2, k)),
    bytes: enc === 0x62 ? decodeBase64(text) : decodeQ(text),
  };
}

function isBlank(value: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

/**
 * Decodes the RFC 2047 encoded words (`=?charset?B|Q?text?=`) in a header value.
 *
 * Words may use any charset {@link decodeCharset} knows (including `utf8`, `utf-7`,
 * `ISO-8859-1` in any case, and RFC 2231 language suffixes like `utf-8*it`). White space
 * between adjacent encoded words is dropped, and adjacent words in the same charset are
 * joined at the byte level before decoding, so a character split across two words (a
 * common encoder bug) comes out whole. Words glued to surrounding text are decoded too.
 * Malformed words are left as they are. Runs in linear time.
 *
 * @param value - an unfolded header value, e.g. {@link MimeHeader.value}
 * @returns the decoded text
 *
 * @example
 * ```ts
 * decodeHeaderValue("=?ISO-8859-1?Q?POSTA_CERTIFICATA:_Citt=E0?="); // "POSTA CERTIFICATA: Città"
 * decodeHeaderValue("=?utf8?B?w6g=?= =?utf8?B?w6A=?="); // "èà"
 * ```
 */
export function decodeHeaderValue(value: string): string {
  if (value.indexOf("=?") < 0) return value;
  let out = "";
  let cursor = 0;
  let search = 0;
  let pendingCharset: string | null = null;
  let pending: Uint8Array[] = [];
  const flush = (): void => {
    if (pendingCharset === null) return;
    out += decodeCharset(pending.length === 1 ? pending[0]! : concatBytes(pending), pendingCharset);
    pendingCharset = null;
    pending = [];
  };
  for (;;) {
    const at = value.indexOf("=?", search);
    if (at < 0) break;
    const w = parseWord(value, at);
    if (w === "stop") break;
    if (w === null) {
      search = at + 1;
      continue;
    }
    if (pendingCharset !== null && isBlank(value, cursor, at)) {
      if (w.charset !== pendingCharset) {
        flush();
        pendingCharset = w.charset;
      }
    } else {
      flush();
      out += value.slice(cursor, at);
      pendingCharset = w.charset;
    }
    pending.push(w.bytes);
    cursor = search = w.end;
  }
  flush();
  return out + value.slice(cursor);
}

// RFC 2047 §5(3): characters that may appear unencoded in a Q word in any header position.
const Q_SAFE = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/") Q_SAFE[c.charCodeAt(0)] = 1;

const HEX = "0123456789ABCDEF";

/** Length of the Q encoding of `bytes`. */
export function qLength(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    n += b === 0x20 || (b < 128 && Q_SAFE[b] === 1) ? 1 : 3;
  }
  return n;
}

/** Q-encodes bytes (RFC 2047 §4.2, restricted to the phrase-safe set). */
export function encodeQ(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x20) out += "_";
    else if (b < 128 && Q_SAFE[b] === 1) out += String.fromCharCode(b);
    else out += "=" + HEX[b >> 4]! + HEX[b & 15]!;
  }
  return out;
}
