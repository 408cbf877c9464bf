/**
 * The MIME builder: serializes a tree of {@link MimeNode} to bytes.
 *
 * @module
 */
import { PecError } from "../errors.js";
import { encodeBase64Bytes } from "../util/base64.js";
import { concatBytes, latin1Bytes, toHex, utf8Bytes } from "../util/bytes.js";
import { DelimiterFinder } from "./boundary.js";
import { formatParams, parseParams, trimWs } from "./params.js";
import { encodeQuotedPrintable } from "./transfer.js";
import { encodeQ, qLength } from "./words.js";
import { isDenseArray } from "../util/arrays.js";

/** The transfer encodings the builder writes. */
export type MimeTransferEncoding = "7bit" | "8bit" | "binary" | "base64" | "quoted-printable";

/** A header field for the builder: `[name, value]`, the value as Unicode text. */
export type MimeHeaderField = readonly [name: string, value: string];

/**
 * One entity for {@link buildMime}.
 *
 * - A **leaf** has a `body` (or none: empty). A string body is text: it is encoded as
 *   UTF-8 and its line breaks are normalized to CRLF. A `Uint8Array` body is kept byte for
 *   byte. The transfer encoding is `transferEncoding`, else the value of a
 *   `Content-Transfer-Encoding` field in `headers`, else chosen: `7bit` for short-lined
 *   ASCII with CRLF line breaks only, `quoted-printable` for mostly-ASCII `text/*`, else
 *   `base64`. With `bodyEncoded: true` the body is written as is, already encoded.
 * - A **multipart** has `children` and a `Content-Type: multipart/…` field (default
 *   `multipart/mixed` when there is none). The boundary is `boundary`, else the
 *   `boundary` parameter of the field, else a fresh random one; it is added to the
 *   field when missing and is checked not to occur as a delimiter line in the content.
 *   `preamble` and `epilogue` are optional.
 * - A **message** has `Content-Type: message/rfc822` (or `message/global`) and exactly
 *   one child, the embedded message, written as its body (encoded when a
 *   `transferEncoding` of base64 or quoted-printable is asked for).
 * - A **raw** node has only `raw`: the complete entity bytes (header and body), written
 *   verbatim. Use it for parts whose bytes must not change, such as the signed
 *   `multipart/mixed` of a `multipart/signed`, or the original message inside a
 *   `message/rfc822` part.
 *
 * Header fields are written in the given order. The builder adds only what the structure
 * needs: `Content-Type` (a multipart without one, or a string body without one:
 * `text/plain; charset=utf-8`), a `boundary` parameter, `; charset=utf-8` on a `text/*`
 * type without charset whose string body is not ASCII, and `Content-Transfer-Encoding`
 * when the encoding is not 7bit (or was asked for explicitly). It does not add
 * `MIME-Version`, `Date` or `Message-ID`: give them in `headers`.
 */
export interface MimeNode {
  /** Header fields in order. Values are Unicode; see {@link formatHeader} for how they are written. */
  headers?: readonly MimeHeaderField[];
  /** Body of a leaf. */
  body?: Uint8Array | string;
  /** Transfer encoding to apply to a leaf body (or to the serialized child of a message node). */
  transferEncoding?: MimeTransferEncoding;
  /** `body` is already transfer-encoded: write it as is (its encoding is `transferEncoding` or the header's, default 7bit). */
  bodyEncoded?: boolean;
  /** Body parts of a multipart, or the one embedded message of a `message/rfc822` node. */
  children?: readonly MimeNode[];
  /** The complete bytes of this entity, written verbatim; excludes every other field. */
  raw?: Uint8Array;
  /** Boundary of a multipart (1–70 characters of RFC 2046 `bchars`). Default: random. */
  boundary?: string;
  /** Multipart preamble (ASCII string or bytes); none by default. */
  preamble?: string | Uint8Array;
  /** Multipart epilogue (ASCII string or bytes), after the close delimiter line; none by default. */
  epilogue?: string | Uint8Array;
}

const CRLF = new Uint8Array([13, 10]);
const MAX_LINE = 78;
const MAX_WORD = 75;
const MAX_NESTING = 1000;
const ENCODINGS: ReadonlySet<string> = new Set(["7bit", "8bit", "binary", "base64", "quoted-printable"]);

function invalid(message: string): PecError {
  return new PecError("ERR_INVALID_ARGUMENT", message);
}

function isWsChar(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function checkHeader(name: unknown, value: unknown): asserts name is string {
  if (typeof name !== "string" || typeof value !== "string") throw invalid("header name and value must be strings");
  if (/[\r\n\0]/.test(name) || /[\r\n\0]/.test(value)) {
    throw new PecError("ERR_HEADER_INJECTION", `header ${JSON.stringify(name)} contains CR, LF or NUL`);
  }
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw invalid(`invalid header name ${JSON.stringify(name)}`);
}

function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) return false;
  }
  return true;
}

function needsEncoding(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return true;
  }
  // A literal "=?" could be read back as the start of an encoded word.
  return word.includes("=?");
}

interface Token {
  sep: string;
  text: string;
  encode: boolean;
}

function tokens(value: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    const ws = i;
    while (i < n && isWsChar(value.charCodeAt(i))) i++;
    const ts = i;
    while (i < n && !isWsChar(value.charCodeAt(i))) i++;
    if (ts === i) break;
    const text = value.slice(ts, i);
    out.push({ sep: value.slice(ws, ts), text, encode: needsEncoding(text) });
  }
  return out;
}

class HeaderWriter {
  out: string;
  col: number;
  first = true;

  constructor(name: string) {
    this.out = name + ":";
    this.col = this.out.length;
  }

  // Folds before `sep` when the line would pass 78 columns; never before the first item.
  put(sep: string, text: string): void {
    const s = this.first ? " " : sep;
    if (!this.first && s.length > 0 && this.col + s.length + text.length > MAX_LINE) this.newLine();
    this.out += s + text;
    this.col += s.length + text.length;
    this.first = false;
  }

  canBreak(sep: string): boolean {
    return !this.first && sep.length > 0;
  }

  newLine(): void {
    this.out += "\r\n";
    this.col = 0;
  }
}

// Encodes one run of text as RFC 2047 words in UTF-8, each at most 75 characters and
// fitting the line when possible, split only between code points.
function putEncodedRun(w: HeaderWriter, sep: string, text: string): void {
  const bytes = utf8Bytes(text);
  // Q stays readable for mostly-Latin text; B is shorter for everything else.
  const useQ = qLength(bytes) <= Math.ceil(bytes.length / 3) * 6;
  const prefix = useQ ? "=?UTF-8?Q?" : "=?UTF-8?B?";
  const overhead = prefix.length + 2;
  const cps = Array.from(text);
  let k = 0;
  let s = sep;
  while (k < cps.length) {
    const sepLen = w.first ? 1 : s.length;
    let avail = Math.min(MAX_WORD, MAX_LINE - w.col - sepLen);
    if (avail < overhead + 4 && w.canBreak(s)) {
      w.newLine();
      avail = Math.min(MAX_WORD, MAX_LINE - sepLen);
    }
    const room = avail - overhead;
    let chunkBytes: number[] = [];
    let encLen = 0;
    while (k < cps.length) {
      const cb = utf8Bytes(cps[k]!);
      const nextLen = useQ ? encLen + qLength(cb) : Math.ceil((chunkBytes.length + cb.length) / 3) * 4;
      if (chunkBytes.length > 0 && nextLen > room) break;
      for (const b of cb) chunkBytes.push(b);
      encLen = nextLen;
      k++;
    }
    const chunk = Uint8Array.from(chunkBytes);
    chunkBytes = [];
    const body = useQ ? encodeQ(chunk) : latin1FromBytes(encodeBase64Bytes(chunk));
    // The writer must not fold here: the room was computed for this line already.
    const sepOut = w.first ? " " : s;
    w.out += sepOut + prefix + body + "?=";
    w.col += sepOut.length + overhead + body.length;
    w.first = false;
    s = " ";
  }
}

function latin1FromBytes(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/**
 * Formats one header field, CRLF included.
 *
 * The value is trimmed of leading and trailing white space. Words (runs between spaces
 * or tabs) that are not printable ASCII, or that contain `=?`, are written as RFC 2047
 * encoded words in UTF-8 (Q unless B is much shorter); consecutive such words form one
 * run, so the spaces between them are kept. Long lines are folded at white space to 78
 * columns where possible; encoded words are at most 75 characters and never split a
 * character. A `Content-Type` or `Content-Disposition` is never written with encoded
 * words, which would hide its parameters: when it holds anything but printable ASCII it
 * is rewritten with RFC 2231 parameters ({@link formatParams}, which also reduces file
 * names to their base name), otherwise it is written as given.
 *
 * @param name - the field name (printable ASCII, no colon)
 * @param value - the value, as Unicode text
 * @returns the folded field, ending with CRLF
 * @throws PecError `ERR_HEADER_INJECTION` when the name or value contains CR, LF or NUL;
 * `ERR_INVALID_ARGUMENT` for an invalid name
 *
 * @example
 * ```ts
 * formatHeader("Subject", "Città"); // "Subject: =?UTF-8?Q?Citt=C3=A0?=\r\n"
 * ```
 */
export function formatHeader(name: string, value: string): string {
  checkHeader(name, value);
  let v = trimWs(value);
  const lname = name.toLowerCase();
  // Parameter syntax must never become encoded words (the parameters would be lost):
  // these two headers are rewritten with RFC 2231 parameters when they hold anything but
  // printable ASCII, and otherwise written as given (a "=?" in them is the caller's).
  const structured = lname === "content-type" || lname === "content-disposition";
  if (structured && !isPrintableAscii(v)) {
    const p = parseParams(v);
    v = formatParams(p.value, p.params);
  }
  const w = new HeaderWriter(name);
  const list = tokens(v);
  if (structured) for (const t of list) t.encode = false;
  let i = 0;
  while (i < list.length) {
    const t = list[i]!;
    if (!t.encode) {
      w.put(t.sep, t.text);
      i++;
      continue;
    }
    let run = t.text;
    let j = i + 1;
    while (j < list.length && list[j]!.encode) {
      run += list[j]!.sep + list[j]!.text;
      j++;
    }
    putEncodedRun(w, t.sep, run);
    i = j;
  }
  return w.out + "\r\n";
}

function toBytes(v: string | Uint8Array, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v !== "string") throw invalid(`${what} must be a string or Uint8Array`);
  return utf8Bytes(v);
}

const BCHARS = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

function occursIn(finder: DelimiterFinder, parts: readonly Uint8Array[]): boolean {
  for (const p of parts) if (finder.find(p, 0, 0, p.length) !== null) return true;
  return false;
}

function randomBoundary(): string {
  const r = new Uint8Array(16);
  globalThis.crypto.getRandomValues(r);
  // "=_" can never appear in base64 or quoted-printable text.
  return "=_pc_" + toHex(r);
}

interface Analysis {
  nonAscii: number;
  nul: boolean;
  bare: boolean;
  longLine: boolean;
}

function analyze(b: Uint8Array): Analysis {
  let nonAscii = 0;
  let nul = false;
  let bare = false;
  let longLine = false;
  let lineStart = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x80) nonAscii++;
    else if (c === 0) nul = true;
    else if (c === 13) {
      if (b[i + 1] !== 10) bare = true;
    } else if (c === 10) {
      if (i === 0 || b[i - 1] !== 13) bare = true;
      if (i - 1 - lineStart > 998) longLine = true;
      lineStart = i + 1;
    }
  }
  if (b.length - lineStart > 998) longLine = true;
  return { nonAscii, nul, bare, longLine };
}

function chooseEncoding(body: Uint8Array, isText: boolean): MimeTransferEncoding {
  if (body.length === 0) return "7bit";
  const a = analyze(body);
  if (a.nonAscii === 0 && !a.nul && !a.bare && !a.longLine) return "7bit";
  // Mostly-ASCII text stays readable as quoted-printable.
  if (isText && !a.nul && !a.bare && a.nonAscii * 3 <= body.length) return "quoted-printable";
  return "base64";
}

function applyEncoding(body: Uint8Array, enc: string): Uint8Array {
  if (enc === "base64") return encodeBase64Bytes(body, 76);
  if (enc === "quoted-printable") return encodeQuotedPrintable(body);
  return body;
}

function encodingOf(node: MimeNode, headerValue: string | undefined): string | undefined {
  if (node.transferEncoding !== undefined) {
    if (!ENCODINGS.has(node.transferEncoding)) throw invalid(`unknown transferEncoding ${String(node.transferEncoding)}`);
    return node.transferEncoding;
  }
  if (headerValue === undefined) return undefined;
  const v = trimWs(headerValue).toLowerCase();
  if (!ENCODINGS.has(v)) throw invalid(`unknown Content-Transfer-Encoding ${headerValue}`);
  return v;
}

function findHeader(headers: [string, string][], lname: string): number {
  return headers.findIndex((h) => h[0].toLowerCase() === lname);
}

function serialize(node: MimeNode, built: Uint8Array[]): Uint8Array {
  if (node.raw !== undefined) return node.raw;
  const headers: [string, string][] = (node.headers ?? []).map((h) => {
    if (!Array.isArray(h) || h.length !== 2) throw invalid("each header must be a [name, value] pair");
    checkHeader(h[0], h[1]);
    return [h[0], h[1]];
  });
  const ctAt = findHeader(headers, "content-type");
  const cteAt = findHeader(headers, "content-transfer-encoding");
  const explicit = encodingOf(node, cteAt >= 0 ? headers[cteAt]![1] : undefined);
  let encoding: string;
  let body: Uint8Array[];

  if (node.children !== undefined) {
    const ctValue = ctAt >= 0 ? headers[ctAt]![1] : "multipart/mixed";
    const p = parseParams(ctValue);
    const mime = p.value.toLowerCase();
    if (mime.startsWith("multipart/")) {
      if (explicit !== undefined && explicit !== "7bit" && explicit !== "8bit" && explicit !== "binary") {
        throw invalid("a multipart must be 7bit, 8bit or binary");
      }
      encoding = explicit ?? "7bit";
      const pre = node.preamble === undefined ? undefined : toBytes(node.preamble, "preamble");
      const epi = node.epilogue === undefined ? undefined : toBytes(node.epilogue, "epilogue");
      const content = pre ? [...built, pre] : built;
      const given = node.boundary ?? p.params["boundary"];
      if (node.boundary !== undefined && p.params["boundary"] !== undefined && node.boundary !== p.params["boundary"]) {
        throw invalid("boundary differs from the Content-Type boundary parameter");
      }
      let boundary: string;
      if (given !== undefined) {
        if (typeof given !== "string" || !BCHARS.test(given)) throw invalid(`invalid boundary ${JSON.stringify(given)}`);
        if (occursIn(new DelimiterFinder(latin1Bytes(given)), content)) {
          throw invalid(`boundary ${JSON.stringify(given)} occurs in the content`);
        }
        boundary = given;
      } else {
        let attempts = 0;
        do {
          if (++attempts > 8) throw invalid("could not find a boundary absent from the content");
          boundary = randomBoundary();
        } while (occursIn(new DelimiterFinder(latin1Bytes(boundary)), content));
      }
      if (p.params["boundary"] === undefined) {
        const v = trimWs(ctValue) + '; boundary="' + boundary + '"';
        if (ctAt >= 0) headers[ctAt] = [headers[ctAt]![0], v];
        else headers.push(["Content-Type", v]);
      }
      const dash = latin1Bytes("--" + boundary + "\r\n");
      const close = latin1Bytes("--" + boundary + "--\r\n");
      body = [];
      if (pre) body.push(pre, CRLF);
      for (const c of built) body.push(dash, c, CRLF);
      body.push(close);
      if (epi) body.push(epi);
    } else if (mime === "message/rfc822" || mime === "message/global") {
      if (built.length !== 1) throw invalid(`${mime} needs exactly one child`);
      encoding = explicit ?? "7bit";
      body = [applyEncoding(built[0]!, encoding)];
    } else {
      throw invalid(`a node with children must be multipart/* or message/rfc822, not ${mime || "(none)"}`);
    }
  } else {
    if (node.body !== undefined && typeof node.body !== "string" && !(node.body instanceof Uint8Array)) {
      throw invalid("body must be a string or Uint8Array");
    }
    const isString = typeof node.body === "string";
    const bytes = isString ? utf8Bytes((node.body as string).replace(/\r\n|\r|\n/g, "\r\n")) : ((node.body as Uint8Array | undefined) ?? new Uint8Array(0));
    if (ctAt < 0) {
      if (isString) headers.push(["Content-Type", "text/plain; charset=utf-8"]);
    } else if (isString) {
      const p = parseParams(headers[ctAt]![1]);
      if (p.value.toLowerCase().startsWith("text/") && p.params["charset"] === undefined && /[^\x00-\x7f]/.test(node.body as string)) {
        headers[ctAt] = [headers[ctAt]![0], trimWs(headers[ctAt]![1]) + "; charset=utf-8"];
      }
    }
    if (node.bodyEncoded) {
      encoding = explicit ?? "7bit";
      body = [bytes];
    } else {
      const ctv = ctAt >= 0 ? headers[ctAt]![1] : isString ? "text/plain" : "";
      const isText = trimWs(ctv).toLowerCase().startsWith("text/") || (ctAt < 0 && isString);
      encoding = explicit ?? chooseEncoding(bytes, isText);
      body = [applyEncoding(bytes, encoding)];
    }
  }

  if (cteAt >= 0) headers[cteAt] = [headers[cteAt]![0], encoding];
  else if (encoding !== "7bit" || node.transferEncoding !== undefined) headers.push(["Content-Transfer-Encoding", encoding]);

  let head = "";
  for (const [n, v] of headers) head += formatHeader(n, v);
  head += "\r\n";
  return concatBytes([latin1Bytes(head), ...body]);
}

function checkNode(node: unknown): asserts node is MimeNode {
  if (node === null || typeof node !== "object") throw invalid("a MIME node must be an object");
  const n = node as MimeNode;
  if (n.raw !== undefined) {
    if (!(n.raw instanceof Uint8Array)) throw invalid("raw must be a Uint8Array");
    if (n.headers !== undefined || n.body !== undefined || n.children !== undefined) {
      throw invalid("a raw node cannot also have headers, body or children");
    }
  }
  if (n.headers !== undefined && !isDenseArray(n.headers)) throw invalid("headers must be an array");
  if (n.children !== undefined) {
    if (!isDenseArray(n.children)) throw invalid("children must be an array");
    if (n.body !== undefined) throw invalid("a node cannot have both body and children");
  }
}

/**
 * Serializes a MIME tree to bytes: CRLF line breaks, base64 at 76 columns,
 * quoted-printable with 76-column soft breaks, fresh random boundaries (from
 * `crypto.getRandomValues`) checked against the content, RFC 2047 encoding and folding
 * of header values ({@link formatHeader}). `parseMime(buildMime(node))` gives back the
 * node: the same header names and (decoded, trimmed) values, decoded bodies and structure.
 *
 * Works without recursion, so deep trees cannot overflow the stack (nesting is capped at
 * 1000 levels, which also stops cyclic trees).
 *
 * @param node - the root, see {@link MimeNode}
 * @returns the message bytes
 * @throws PecError `ERR_HEADER_INJECTION` for CR, LF or NUL in a header name or value;
 * `ERR_INVALID_ARGUMENT` for a malformed node, an invalid header name or boundary, a
 * given boundary that occurs in the content; `ERR_TOO_DEEP` beyond 1000 levels
 *
 * @example
 * ```ts
 * const pdf = await readFile("fattura.pdf");
 * const bytes = buildMime({
 *   headers: [["MIME-Version", "1.0"], ["Subject", "Fattura n° 12"], ["Content-Type", "multipart/mixed"]],
 *   children: [
 *     { headers: [["Content-Type", "text/plain; charset=utf-8"]], body: "Buongiorno,\nin allegato." },
 *     { headers: [["Content-Type", "application/pdf"], ["Content-Disposition", formatParams("attachment", { filename: "fattura.pdf" })]], body: pdf },
 *   ],
 * });
 * ```
 */
export function buildMime(node: MimeNode): Uint8Array {
  interface Frame {
    node: MimeNode;
    next: number;
    built: Uint8Array[];
  }
  checkNode(node);
  const stack: Frame[] = [{ node, next: 0, built: [] }];
  for (;;) {
    const f = stack[stack.length - 1]!;
    const kids = f.node.children;
    if (kids !== undefined && f.next < kids.length) {
      const child = kids[f.next++];
      checkNode(child);
      if (stack.length >= MAX_NESTING) throw new PecError("ERR_TOO_DEEP", "MIME tree nested too deeply", { limit: MAX_NESTING });
      stack.push({ node: child, next: 0, built: [] });
      continue;
    }
    stack.pop();
    const bytes = serialize(f.node, f.built);
    if (stack.length === 0) return bytes;
    stack[stack.length - 1]!.built.push(bytes);
  }
}
