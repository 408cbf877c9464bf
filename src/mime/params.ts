/**
 * Structured header values with parameters (`Content-Type`, `Content-Disposition`):
 * parsing with RFC 2231 continuations and charsets, and formatting for the builder.
 *
 * @module
 */
import { encodeBase64 } from "../util/base64.js";
import { utf8Bytes } from "../util/bytes.js";
import { trimEndWhere } from "../util/text.js";
import { decodeCharset } from "./charset.js";

/** A header value split into its main value and its parameters. */
export interface ParsedParams {
  /** The part before the first `;`, trimmed, comments removed (case kept). */
  value: string;
  /**
   * Parameters by lower-case name. RFC 2231 continuations (`name*0*=`, `name*1=`) are
   * joined and `charset'lang'%XX` values decoded; an extended value wins over a plain one
   * of the same name. The object has no prototype, so hostile names such as `__proto__`
   * are plain keys.
   */
  params: Record<string, string>;
}

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;

function isWs(c: number): boolean {
  return c === SP || c === HT || c === CR || c === LF;
}

/** Trims only the white space mail uses (SP, HT, CR, LF), never Unicode spaces. */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWs(s.charCodeAt(a))) a++;
  while (b > a && isWs(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function stripComments(s: string): string {
  if (s.indexOf("(") < 0) return s;
  let out = "";
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "(") depth++;
    else if (ch === ")" && depth > 0) depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

interface RawParam {
  name: string;
  value: string;
}

function tokenize(input: string): { value: string; list: RawParam[] } {
  const n = input.length;
  let i = 0;
  let value = "";
  // Main value: up to the first ";" outside quotes.
  let inQuote = false;
  for (; i < n; i++) {
    const ch = input.charCodeAt(i);
    if (ch === 0x22) inQuote = !inQuote;
    else if (ch === 0x3b && !inQuote) break;
  }
  value = trimWs(stripComments(input.slice(0, i)));
  const list: RawParam[] = [];
  while (i < n) {
    // Skip separators.
    while (i < n && (input.charCodeAt(i) === 0x3b || isWs(input.charCodeAt(i)))) i++;
    if (i >= n) break;
    const nameStart = i;
    while (i < n && input.charCodeAt(i) !== 0x3d && input.charCodeAt(i) !== 0x3b) i++;
    const name = trimWs(input.slice(nameStart, i)).toLowerCase();
    if (i >= n || input.charCodeAt(i) === 0x3b) continue; // a parameter without "=": ignored
    i++; // "="
    while (i < n && (input.charCodeAt(i) === SP || input.charCodeAt(i) === HT)) i++;
    let v: string;
    if (i < n && input.charCodeAt(i) === 0x22) {
      i++;
      const closer = closingQuoteBeforeSemicolon(input, i);
      let out = "";
      let segStart = i;
      while (i < n) {
        const ch = input.charCodeAt(i);
        if (ch === 0x5c && i + 1 < n) {
          out += input.slice(segStart, i);
          segStart = i + 1;
          i += 2;
        } else if (ch === 0x22) {
          // Some clients leave quotes unescaped inside a quoted value
          // (name="Richiesta L.C.A. "Istituto S.p.A.".msg"): a quote not followed by ";" or
          // the end is literal when a proper closing quote comes later.
          if (closer === -1 || i >= closer || closesValue(input, i + 1)) break;
          i++;
        } else {
          i++;
        }
      }
      out += input.slice(segStart, i);
      v = out;
      // Skip the closing quote and any junk up to the next ";".
      while (i < n && input.charCodeAt(i) !== 0x3b) i++;
    } else {
      const vs = i;
      while (i < n && input.charCodeAt(i) !== 0x3b) i++;
      v = withoutTrailingComment(trimWs(input.slice(vs, i)));
    }
    if (name.length > 0) list.push({ name, value: v });
  }
  return { value, list };
}

/**
 * An unquoted value without the comment that ends it after white space (RFC 2045 §5.1 allows
 * comments there): `fattura.pdf (scansione)` is `fattura.pdf`. A parenthesis inside the value
 * stays: `my file (1).pdf` keeps its name.
 */
function withoutTrailingComment(v: string): string {
  if (v.charCodeAt(v.length - 1) !== 0x29) return v;
  let depth = 0;
  for (let k = v.length - 1; k >= 0; k--) {
    const c = v.charCodeAt(k);
    if (c === 0x29) depth++;
    else if (c === 0x28 && --depth === 0) return k > 0 && isWs(v.charCodeAt(k - 1)) ? trimWs(v.slice(0, k)) : v;
  }
  return v;
}

/** Whether only white space, then ";" or the end, follows position i. */
function closesValue(input: string, i: number): boolean {
  while (i < input.length && isWs(input.charCodeAt(i))) i++;
  return i >= input.length || input.charCodeAt(i) === 0x3b;
}

/**
 * The first quote at or after i that closes a value (see {@link closesValue}), when it
 * comes before any ";"; else -1 (then the first quote closes, as the grammar says).
 * One forward scan, so a header full of quotes stays linear.
 */
function closingQuoteBeforeSemicolon(input: string, i: number): number {
  for (; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x3b) return -1;
    if (c === 0x22 && closesValue(input, i + 1)) return i;
  }
  return -1;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function percentDecode(s: string, out: number[]): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && hexValue(s.charCodeAt(i + 1)) >= 0 && hexValue(s.charCodeAt(i + 2)) >= 0) {
      out.push(hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      const ch = String.fromCodePoint(s.codePointAt(i)!);
      for (const b of utf8Bytes(ch)) out.push(b);
      i += ch.length - 1;
    }
  }
}

interface Segment {
  index: number;
  extended: boolean;
  value: string;
}

/** The value of one RFC 2231 parameter from its segments, in header order, duplicates included. */
function decodeExtended(segments: Segment[]): string {
  // The sort is stable, so among segments with the same index the first in the header
  // comes first, and only it is kept. Deduplicating here rather than on insertion keeps a
  // header of n segments at n log n (a lookup per segment made 80,000 segments take seconds).
  segments.sort((a, b) => a.index - b.index);
  const bytes: number[] = [];
  let charset = "";
  let prev = -1;
  segments.forEach((seg, k) => {
    if (seg.index === prev) return;
    prev = seg.index;
    let v = seg.value;
    if (seg.extended) {
      if (k === 0) {
        const q1 = v.indexOf("'");
        const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
        if (q2 >= 0) {
          charset = v.slice(0, q1);
          v = v.slice(q2 + 1);
        }
      }
      percentDecode(v, bytes);
    } else {
      for (const b of utf8Bytes(v)) bytes.push(b);
    }
  });
  // No charset: UTF-8 when valid, else windows-1252 (see decodeCharset).
  return decodeCharset(Uint8Array.from(bytes), charset);
}

/**
 * Parses a structured header value such as a `Content-Type` or `Content-Disposition`.
 *
 * Tolerant: quoted or unquoted values with odd characters (`=`, `?`, `:`, spaces),
 * backslash escapes, missing closing quotes, junk after a quoted value, empty
 * parameters. RFC 2231 continuations and charsets are decoded; RFC 2047 words inside
 * values are left as they are (see {@link decodeHeaderValue}).
 *
 * @param input - the unfolded header value
 * @returns the main value and the parameters
 *
 * @example
 * ```ts
 * parseParams('attachment; filename*0*=utf-8\'\'caf%C3%A8; filename*1=".pdf"');
 * // { value: "attachment", params: { filename: "cafè.pdf" } }
 * ```
 */
export function parseParams(input: string): ParsedParams {
  const { value, list } = tokenize(input);
  const params = Object.create(null) as Record<string, string>;
  // Created on the first RFC 2231 parameter only: most headers have none.
  let extended: Map<string, Segment[]> | undefined;
  for (const p of list) {
    let name = p.name;
    if (name.indexOf("*") === -1) {
      if (!(name in params)) params[name] = p.value;
      continue;
    }
    let ext = false;
    if (name.endsWith("*")) {
      ext = true;
      name = name.slice(0, -1);
    }
    const star = name.lastIndexOf("*");
    let index = -1;
    if (star > 0) {
      const digits = name.slice(star + 1);
      if (digits.length > 0 && digits.length <= 6 && /^[0-9]+$/.test(digits)) {
        index = Number(digits);
        name = name.slice(0, star);
      }
    }
    if (!ext && index < 0) {
      if (!(name in params)) params[name] = p.value;
      continue;
    }
    extended ??= new Map<string, Segment[]>();
    let segs = extended.get(name);
    if (!segs) extended.set(name, (segs = []));
    // A repeated index is dropped by decodeExtended (the first one counts).
    segs.push({ index: index < 0 ? 0 : index, extended: ext, value: p.value });
  }
  if (extended) for (const [name, segs] of extended) params[name] = decodeExtended(segs);
  return { value, params };
}

/** The text of ASCII bytes `src[start, end)` (see {@link parseParamsAscii}). */
export type AsciiText = (src: Uint8Array, start: number, end: number) => string;

// Byte classes for parseParamsAscii: one table load per byte instead of a chain of compares.
const C_WS = 1; // SP, HT, CR, LF
const C_BREAK = 2; // CR, LF
const C_SEMI = 4;
const C_EQUALS = 8;
const C_QUOTE = 16;
const C_PAREN = 32; // "(": a comment
const C_BACKSLASH = 64;
const C_STAR = 128; // RFC 2231 names
const C_HIGH = 256; // not ASCII
const CLASS = new Uint16Array(256);
CLASS[SP] = CLASS[HT] = C_WS;
CLASS[CR] = CLASS[LF] = C_WS | C_BREAK;
CLASS[0x3b] = C_SEMI;
CLASS[0x3d] = C_EQUALS;
CLASS[0x22] = C_QUOTE;
CLASS[0x28] = C_PAREN;
CLASS[0x5c] = C_BACKSLASH;
CLASS[0x2a] = C_STAR;
CLASS.fill(C_HIGH, 0x80);

/** End of `src[start, end)` with trailing white space trimmed. */
function trimEnd(src: Uint8Array, start: number, end: number): number {
  while (end > start && (CLASS[src[end - 1]!]! & C_WS) !== 0) end--;
  return end;
}

/**
 * {@link parseParams} of a header field value given as its raw bytes `src[start, end)`
 * (after the colon, folding and final line break included), for the common shape only:
 * ASCII, no comment or quote in the main value, no RFC 2231 (`*`) name, no backslash in a
 * quoted value, quoted values closed by the first quote, and line breaks only in white
 * space around the tokens. Anything else gives undefined, and the caller decodes the value
 * and calls {@link parseParams}: the result is the same, which
 * test/mime/fast-paths.test.ts checks on random input.
 *
 * It exists because the multipart Content-Type values of a message are unique (their
 * boundary) and folded: unfolding, decoding and tokenizing them as text was a fifth of a
 * receipt's parse. One pass, no copy.
 *
 * Why working on the bytes gives what tokenizing the unfolded text gives: unfolding
 * removes each LF and a CR right before it, and keeps other CRs. The skips of white space
 * skip CR and LF, as tokenizing skips a kept CR and never sees a removed byte (the skip
 * after "=", where tokenizing skips SP and HT only, stops at a kept CR); the scans for
 * ";", "=" and quotes pass over them both ways; and a range turned into a string (after
 * trimming) is refused when it holds one. ASCII bytes decode to the same code units
 * whatever the charset decision, so every string is the text of its bytes.
 *
 * @param text - turns an ASCII byte range into its string (lets the caller intern)
 * @internal
 */
export function parseParamsAscii(src: Uint8Array, start: number, end: number, text: AsciiText): ParsedParams | undefined {
  let s = start;
  while (s < end && (CLASS[src[s]!]! & C_WS) !== 0) s++;
  const e = trimEnd(src, s, end);
  // Main value: up to the first ";".
  let i = s;
  let brk = -1;
  for (; i < e; i++) {
    const c = CLASS[src[i]!]!;
    if (c === 0) continue;
    if ((c & C_SEMI) !== 0) break;
    if ((c & (C_QUOTE | C_PAREN | C_HIGH)) !== 0) return undefined;
    if ((c & C_BREAK) !== 0 && brk < 0) brk = i;
  }
  const ve = trimEnd(src, s, i);
  if (brk >= 0 && brk < ve) return undefined;
  const value = text(src, s, ve);
  const params = Object.create(null) as Record<string, string>;
  while (i < e) {
    while (i < e && (CLASS[src[i]!]! & (C_SEMI | C_WS)) !== 0) i++;
    if (i >= e) break;
    const nameStart = i;
    brk = -1;
    for (; i < e; i++) {
      const c = CLASS[src[i]!]!;
      if (c === 0) continue;
      if ((c & (C_EQUALS | C_SEMI)) !== 0) break;
      if ((c & (C_STAR | C_HIGH)) !== 0) return undefined;
      if ((c & C_BREAK) !== 0 && brk < 0) brk = i;
    }
    if (i >= e || src[i] === 0x3b) continue; // a parameter without "=": ignored
    const nameEnd = trimEnd(src, nameStart, i);
    if (brk >= 0 && brk < nameEnd) return undefined;
    i++; // "="
    // Tokenizing skips SP and HT only here: a CR that unfolding keeps ends the skip.
    for (; i < e; i++) {
      const b = src[i]!;
      if (b !== SP && b !== HT && b !== LF && (b !== CR || i + 1 === e || src[i + 1] !== LF)) break;
    }
    let vs = i;
    let vEnd: number;
    if (i < e && src[i] === 0x22) {
      vs = ++i;
      for (; i < e; i++) {
        const c = CLASS[src[i]!]!;
        if (c === 0) continue;
        if ((c & C_QUOTE) !== 0) break;
        if ((c & (C_BACKSLASH | C_BREAK | C_HIGH)) !== 0) return undefined;
      }
      if (i >= e) return undefined; // unterminated
      vEnd = i++;
      // The first quote must close the value: only white space up to ";" or the end.
      while (i < e && (CLASS[src[i]!]! & C_WS) !== 0) i++;
      if (i < e && src[i] !== 0x3b) return undefined;
    } else {
      brk = -1;
      for (; i < e; i++) {
        const c = CLASS[src[i]!]!;
        if (c === 0) continue;
        if ((c & C_SEMI) !== 0) break;
        // A parenthesis may end the value with a comment: parseParams decides.
        if ((c & (C_HIGH | C_PAREN)) !== 0) return undefined;
        if ((c & C_BREAK) !== 0 && brk < 0) brk = i;
      }
      vEnd = trimEnd(src, vs, i);
      if (brk >= 0 && brk < vEnd) return undefined;
    }
    if (nameEnd > nameStart) {
      const name = text(src, nameStart, nameEnd).toLowerCase();
      if (!(name in params)) params[name] = text(src, vs, vEnd);
    }
  }
  return { value, params };
}

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || TSPECIALS.includes(s[i]!)) return false;
  }
  return true;
}

function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== HT) || c >= 0x7f) return false;
  }
  return true;
}

const ATTR_SAFE = /^[A-Za-z0-9!#$&+.^_`|~-]$/;
const HEX = "0123456789ABCDEF";
const MAX_SEGMENT = 60;

/** What a file name becomes when nothing usable is left of it. */
const FALLBACK_FILE_NAME = "attachment";

/**
 * The file name a builder writes for `name`: control characters (U+0000–U+001F,
 * U+007F–U+009F) removed, then everything up to the last `/` or `\` and a leading
 * drive letter (`C:`) removed, then surrounding spaces trimmed; `"attachment"` when
 * nothing (or only `.` / `..`) is left. A receiver that joins the name to a folder
 * can then never write outside it (`../../etc/passwd` → `passwd`,
 * `C:\x\y.pdf` → `y.pdf`).
 *
 * @param name - the file name as given
 * @returns the base name written in `filename` / `name` parameters
 */
export function sanitizeFileName(name: string): string {
  let n = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
  n = n.slice(Math.max(n.lastIndexOf("/"), n.lastIndexOf("\\")) + 1);
  n = n.replace(/^[A-Za-z]:/, "");
  n = trimEndWhere(n.replace(/^ +/, ""), (c) => c === 0x20);
  return n === "" || n === "." || n === ".." ? FALLBACK_FILE_NAME : n;
}

/** Longest run of UTF-8 bytes in one `=?UTF-8?B?…?=` word: 60 base64 characters, 75 in all (RFC 2047 §2). */
const WORD_BYTES = 45;

/**
 * `text` as RFC 2047 B words separated by spaces, split between code points. Used for
 * parameter values that contain `=?`: mail readers (postal-mime, postacert, Thunderbird)
 * decode encoded words in parameter values, RFC 2231 ones included, so a literal
 * `=?utf-8?q?x?=` would come back as `x`; as encoded words it comes back exactly.
 */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk: number[] = [];
  for (const cp of text) {
    const b = utf8Bytes(cp);
    if (chunk.length + b.length > WORD_BYTES) {
      words.push("=?UTF-8?B?" + encodeBase64(Uint8Array.from(chunk)) + "?=");
      chunk = [];
    }
    for (const x of b) chunk.push(x);
  }
  if (chunk.length > 0 || words.length === 0) words.push("=?UTF-8?B?" + encodeBase64(Uint8Array.from(chunk)) + "?=");
  return words.join(" ");
}

/**
 * Formats a structured header value: `value; name=token; name="quoted"`. Values that are
 * not printable ASCII are written with RFC 2231 (`name*=utf-8''%XX`), split into
 * `name*0*`, `name*1*` continuations when long, so that no line needs to be longer than
 * the builder's folding allows. Values containing `=?` are written as RFC 2047 encoded
 * words inside a quoted string, because readers decode encoded words in parameter values
 * and would otherwise change them.
 *
 * Values are written as given: a formatter that silently changed one would surprise
 * its callers. Builders of attachments pass file names through {@link sanitizeFileName}
 * first (`composeMessage` and the PEC builders do).
 *
 * @param value - the main value, e.g. `"attachment"` or `"text/plain"`
 * @param params - parameters in the order they should appear
 * @returns the header value, ready for {@link buildMime}
 *
 * @example
 * ```ts
 * formatParams("attachment", { filename: "fattura è.pdf" });
 * // "attachment; filename*=utf-8''fattura%20%C3%A8.pdf"
 * formatParams("attachment", { filename: sanitizeFileName("../../etc/passwd") });
 * // "attachment; filename=passwd"
 * ```
 */
export function formatParams(value: string, params: Readonly<Record<string, string>>): string {
  let out = value;
  for (const [name, v] of Object.entries(params)) {
    if (v.includes("=?")) {
      out += "; " + name + '="' + encodedWords(v) + '"';
      continue;
    }
    if (isPrintableAscii(v)) {
      out += "; " + name + "=" + (isToken(v) ? v : '"' + v.replace(/[\\"]/g, "\\$&") + '"');
      continue;
    }
    const bytes = utf8Bytes(v);
    const pieces: string[] = [];
    let cur = "utf-8''";
    for (const b of bytes) {
      const ch = String.fromCharCode(b);
      const enc = b < 0x80 && ATTR_SAFE.test(ch) ? ch : "%" + HEX[b >> 4]! + HEX[b & 15]!;
      if (cur.length + enc.length > MAX_SEGMENT) {
        pieces.push(cur);
        cur = "";
      }
      cur += enc;
    }
    pieces.push(cur);
    if (pieces.length === 1) out += "; " + name + "*=" + pieces[0]!;
    else pieces.forEach((p, k) => (out += "; " + name + "*" + k + "*=" + p));
  }
  return out;
}
