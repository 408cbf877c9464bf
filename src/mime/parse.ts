/**
 * The byte-exact MIME parser.
 *
 * One pass over each header block, one delimiter search per multipart body, no copies
 * (bodies are never turned into strings; only base64/QP `message/rfc822` parts are
 * decoded, because their message has to be parsed). Header values, dispositions and
 * file names are decoded on first access. Nesting is handled with an explicit stack,
 * never recursion, so hostile depth cannot overflow the call stack.
 *
 * @module
 */
import { PecError } from "../errors.js";
import { latin1, latin1Bytes, utf8Bytes } from "../util/bytes.js";
import { DashLines, DelimiterFinder } from "./boundary.js";
import { decodeCharset, decodeHeaderBytes } from "./charset.js";
import { parseParams, trimWs, type ParsedParams } from "./params.js";
import { decodeTransfer } from "./transfer.js";
import type {
  ByteRange,
  MimeContentType,
  MimeDisposition,
  MimeEntity,
  MimeHeader,
  MimeMultipartLayout,
  ParseMimeOptions,
} from "./types.js";
import { decodeHeaderValue } from "./words.js";

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** Default {@link ParseMimeOptions.maxSize}: 256 MiB. */
export const DEFAULT_MAX_SIZE = 256 * 1024 * 1024;
/** Default {@link ParseMimeOptions.maxDepth}. */
export const DEFAULT_MAX_DEPTH = 32;
/** Default {@link ParseMimeOptions.maxParts}. */
export const DEFAULT_MAX_PARTS = 10_000;
/** Default {@link ParseMimeOptions.maxHeaderBytes}: 1 MiB. */
export const DEFAULT_MAX_HEADER_BYTES = 1024 * 1024;

interface Limits {
  maxSize: number;
  maxDepth: number;
  maxParts: number;
  maxHeaderBytes: number;
  parts: number;
  /** Line-start "--" positions of the last multipart body searched (see {@link DashLines}). */
  lines?: DashLines | undefined;
}

class HeaderField implements MimeHeader {
  readonly name: string;
  readonly lname: string;
  private _value: string | undefined;
  private _latin1 = false;
  private _decoded: string | undefined;

  constructor(
    private readonly source: Uint8Array,
    readonly start: number,
    public end: number,
    private readonly valueStart: number,
    name: NameEntry,
  ) {
    this.name = name.name;
    this.lname = name.lname;
  }

  get raw(): Uint8Array {
    return this.source.subarray(this.start, this.end);
  }

  get value(): string {
    if (this._value === undefined) this.decodeValue();
    return this._value!;
  }

  get decoded(): string {
    if (this._decoded === undefined) this._decoded = decodeHeaderValue(this.value);
    return this._decoded;
  }

  /** Whether the value bytes were not valid UTF-8 and were read as Latin-1. */
  get isLatin1(): boolean {
    if (this._value === undefined) this.decodeValue();
    return this._latin1;
  }

  private decodeValue(): void {
    const src = this.source;
    // Trim at the byte level first (the white space is ASCII, so this is what trimming the
    // decoded text would do): most values then need no slice of their text.
    let s = this.valueStart;
    let e = this.end;
    while (s < e && isWsByte(src[s]!)) s++;
    while (e > s && isWsByte(src[e - 1]!)) e--;
    let bytes = src;
    // Unfold by removing every line break left inside (each one is followed by white space, by construction of the field).
    const firstLf = src.indexOf(LF, s);
    if ((firstLf === -1 || firstLf >= e) && e - s <= MAX_INTERNED_VALUE && this.lname.startsWith("content-")) {
      const v = internValue(src, s, e);
      this._value = v.value;
      this._latin1 = v.latin1;
      return;
    }
    if (firstLf !== -1 && firstLf < e) {
      const out = new Uint8Array(e - s);
      let o = 0;
      for (let i = s; i < e; i++) {
        const b = src[i]!;
        if (b === LF) {
          if (o > 0 && out[o - 1] === CR) o--;
          continue;
        }
        out[o++] = b;
      }
      bytes = out;
      s = 0;
      e = o;
    }
    const { text, latin1 } = decodeHeaderBytes(bytes, s, e);
    this._value = trimWs(text);
    this._latin1 = latin1;
  }
}

/** A decoded single-line header value, kept with the bytes it was decoded from. */
interface ValueEntry {
  readonly bytes: Uint8Array;
  readonly value: string;
  readonly latin1: boolean;
}
const VALUE_SLOTS = 1024;
const MAX_INTERNED_VALUE = 96;
const values: (ValueEntry | undefined)[] = new Array<ValueEntry | undefined>(VALUE_SLOTS).fill(undefined);

/**
 * The decoded (and trimmed) value of the single-line field value `src[start, end)`,
 * interned by its bytes. Used for `Content-*` fields only: Content-Type,
 * Content-Transfer-Encoding and Content-Disposition of leaf parts are byte-identical in
 * every message of a gestore, while other fields (dates, ids, subjects, addresses) are
 * unique, would only pay for the hash and the copy, and would keep personal data in a
 * module-wide table. Reusing the string skips a TextDecoder call per value and, because
 * V8 keeps a string's hash in the string, makes the memo tables keyed by value (media
 * types, parameters) hit without hashing the text again. Decoding depends on the bytes
 * only, so the result is the same as decoding them. A direct-mapped table compared byte
 * by byte.
 */
function internValue(src: Uint8Array, start: number, end: number): ValueEntry {
  const n = end - start;
  let h = 0x811c9dc5 ^ n;
  for (let i = start; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  const slot = (h ^ (h >>> 15)) & (VALUE_SLOTS - 1);
  const hit = values[slot];
  if (hit !== undefined && hit.bytes.length === n) {
    const b = hit.bytes;
    let i = 0;
    while (i < n && b[i] === src[start + i]) i++;
    if (i === n) return hit;
  }
  const { text, latin1 } = decodeHeaderBytes(src, start, end);
  const entry: ValueEntry = { bytes: src.slice(start, end), value: trimWs(text), latin1 };
  values[slot] = entry;
  return entry;
}

function isWsByte(b: number): boolean {
  return b === SP || b === HT || b === CR || b === LF;
}

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

function makeContentType(type: string, subtype: string, params: Readonly<Record<string, string>>): MimeContentType {
  return { type, subtype, mimeType: type + "/" + subtype, params };
}

const TEXT_PLAIN = makeContentType("text", "plain", EMPTY_PARAMS);

function isMessageType(mimeType: string): boolean {
  return mimeType === "message/rfc822" || mimeType === "message/global";
}

class Entity implements MimeEntity {
  headerEnd: number;
  bodyStart: number;
  headers: HeaderField[] = [];
  contentType: MimeContentType = TEXT_PLAIN;
  transferEncoding = "7bit";
  children: Entity[] = [];
  multipart: MimeMultipartLayout | undefined = undefined;
  private _disposition: MimeDisposition | null | undefined;
  private _filename: string | null | undefined;
  private _path: readonly number[] | undefined;

  constructor(
    readonly source: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly parent: Entity | undefined,
    readonly depth: number,
    /** Index among the parent's children (0 for an embedded message). */
    readonly index: number,
  ) {
    this.headerEnd = end;
    this.bodyStart = end;
  }

  // Computed on demand: storing a path per entity would cost O(depth²) memory on
  // deeply nested input.
  get path(): readonly number[] {
    if (this._path === undefined) {
      const p: number[] = [];
      for (let e: Entity | undefined = this; e?.parent !== undefined; e = e.parent) p.push(e.index);
      this._path = Object.freeze(p.reverse());
    }
    return this._path;
  }

  get headerStart(): number {
    return this.start;
  }

  get bodyEnd(): number {
    return this.end;
  }

  raw(): Uint8Array {
    return this.source.subarray(this.start, this.end);
  }

  headerBytes(): Uint8Array {
    return this.source.subarray(this.start, this.headerEnd);
  }

  bodyBytes(): Uint8Array {
    return this.source.subarray(this.bodyStart, this.end);
  }

  header(name: string): string | undefined {
    return this.field(name)?.value;
  }

  headerAll(name: string): string[] {
    const l = name.toLowerCase();
    const out: string[] = [];
    for (const h of this.headers) if (h.lname === l) out.push(h.value);
    return out;
  }

  /** The first field with this (case-insensitive) name. */
  field(name: string): HeaderField | undefined {
    const l = name.toLowerCase();
    for (const h of this.headers) if (h.lname === l) return h;
    return undefined;
  }

  get disposition(): MimeDisposition | undefined {
    if (this._disposition === undefined) {
      const v = this.header("content-disposition");
      if (v === undefined) {
        this._disposition = null;
      } else {
        const p = cachedParams(v);
        this._disposition = { type: p.value.toLowerCase(), params: p.params };
      }
    }
    return this._disposition ?? undefined;
  }

  get filename(): string | undefined {
    if (this._filename === undefined) {
      const raw = this.disposition?.params["filename"] ?? this.contentType.params["name"];
      this._filename = raw === undefined ? null : decodeHeaderValue(raw);
    }
    return this._filename ?? undefined;
  }

  decodedBody(): Uint8Array {
    return decodeTransfer(this.source, this.bodyStart, this.end, this.transferEncoding);
  }

  text(): string {
    return decodeCharset(this.decodedBody(), this.contentType.params["charset"]);
  }
}

function checkLimit(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0 || (Number.isFinite(value) && !Number.isInteger(value))) {
    throw new PecError("ERR_INVALID_ARGUMENT", `${name} must be a non-negative integer or Infinity`);
  }
  return value;
}

function makeLimits(options: ParseMimeOptions | undefined): Limits {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new PecError("ERR_INVALID_ARGUMENT", "options must be an object");
  }
  return {
    maxSize: checkLimit(options?.maxSize, DEFAULT_MAX_SIZE, "maxSize"),
    maxDepth: checkLimit(options?.maxDepth, DEFAULT_MAX_DEPTH, "maxDepth"),
    maxParts: checkLimit(options?.maxParts, DEFAULT_MAX_PARTS, "maxParts"),
    maxHeaderBytes: checkLimit(options?.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES, "maxHeaderBytes"),
    parts: 0,
  };
}

function newEntity(
  limits: Limits,
  source: Uint8Array,
  start: number,
  end: number,
  parent: Entity | undefined,
  depth: number,
  index: number,
): Entity {
  if (depth > limits.maxDepth) {
    throw new PecError("ERR_TOO_DEEP", `MIME nesting deeper than ${limits.maxDepth}`, { offset: start, limit: limits.maxDepth });
  }
  if (++limits.parts > limits.maxParts) {
    throw new PecError("ERR_TOO_MANY_PARTS", `more than ${limits.maxParts} MIME entities`, { offset: start, limit: limits.maxParts });
  }
  return new Entity(source, start, end, parent, depth, index);
}

// Field names are printable ASCII without ":" (RFC 5322); white space may precede the colon.
function fieldName(src: Uint8Array, pos: number, lineEnd: number): number {
  let i = pos;
  while (i < lineEnd) {
    const b = src[i]!;
    if (b <= SP || b >= 0x7f || b === COLON) break;
    i++;
  }
  if (i === pos) return -1;
  let j = i;
  while (j < lineEnd && (src[j] === SP || src[j] === HT)) j++;
  return j < lineEnd && src[j] === COLON ? i : -1;
}

/** An interned field name: the bytes it was read from, the name, and the name in lower case. */
interface NameEntry {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly lname: string;
}
const NAME_SLOTS = 512;
const MAX_INTERNED = 64;
const NO_NAME: NameEntry = { bytes: new Uint8Array(0), name: "", lname: "" };
const names: (NameEntry | undefined)[] = new Array<NameEntry | undefined>(NAME_SLOTS).fill(undefined);

/**
 * The field name at `src[start, end)` (printable ASCII by construction), interned: the
 * same few dozen names recur in every message, and building each one from its bytes
 * and lower-casing it was a fifth of the allocations of a parse. A direct-mapped table of
 * 512 names, compared byte by byte, so a collision only costs a rebuild.
 */
function internName(src: Uint8Array, start: number, end: number): NameEntry {
  const n = end - start;
  if (n > MAX_INTERNED) {
    const name = latin1(src, start, end);
    return { bytes: src.subarray(start, end), name, lname: name.toLowerCase() };
  }
  let h = 0x811c9dc5 ^ n;
  for (let i = start; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  const slot = (h ^ (h >>> 15)) & (NAME_SLOTS - 1);
  const hit = names[slot];
  if (hit !== undefined && hit.bytes.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (hit.bytes[i] !== src[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return hit;
  }
  const bytes = src.slice(start, end);
  const name = latin1(bytes);
  const entry: NameEntry = { bytes, name, lname: name.toLowerCase() };
  names[slot] = entry;
  return entry;
}

function parseHeaderBlock(e: Entity, limits: Limits): void {
  const src = e.source;
  const end = e.end;
  const limit = e.start + limits.maxHeaderBytes;
  let pos = e.start;
  let last: HeaderField | undefined;
  while (pos < end) {
    let lf = src.indexOf(LF, pos);
    let next: number;
    let contentEnd: number;
    if (lf === -1 || lf >= end) {
      next = end;
      contentEnd = end;
      lf = -1;
    } else {
      next = lf + 1;
      contentEnd = lf > pos && src[lf - 1] === CR ? lf - 1 : lf;
    }
    if (next > limit) {
      throw new PecError("ERR_TOO_LARGE", `header block larger than ${limits.maxHeaderBytes} bytes`, {
        offset: e.start,
        limit: limits.maxHeaderBytes,
      });
    }
    if (contentEnd === pos && lf !== -1) {
      e.headerEnd = e.bodyStart = next;
      return;
    }
    const first = src[pos]!;
    if ((first === SP || first === HT) && last !== undefined) {
      last.end = next;
    } else {
      const nameEnd = fieldName(src, pos, contentEnd);
      if (nameEnd < 0) {
        last = new HeaderField(src, pos, next, pos, NO_NAME);
      } else {
        let colon = nameEnd;
        while (src[colon] !== COLON) colon++;
        last = new HeaderField(src, pos, next, colon + 1, internName(src, pos, nameEnd));
      }
      e.headers.push(last);
    }
    pos = next;
  }
  e.headerEnd = e.bodyStart = end;
}

interface MediaType {
  readonly type: string;
  readonly subtype: string;
  readonly mimeType: string;
}
const mediaTypes = new Map<string, MediaType | null>();

/**
 * `type/subtype` of a Content-Type value (lower case), or undefined when it is not one;
 * memoized by the value as written, since a handful of media types make up all mail
 * (bounded: emptied when it reaches 256 entries).
 */
function mediaType(value: string): MediaType | undefined {
  let m = mediaTypes.get(value);
  if (m === undefined) {
    const slash = value.indexOf("/");
    const type = slash > 0 ? trimWs(value.slice(0, slash)).toLowerCase() : "";
    const subtype = slash > 0 ? trimWs(value.slice(slash + 1)).toLowerCase() : "";
    m = type !== "" && subtype !== "" && !/[\s"]/.test(type + subtype) ? { type, subtype, mimeType: type + "/" + subtype } : null;
    if (value.length > 100) return m ?? undefined;
    if (mediaTypes.size >= 256) mediaTypes.clear();
    mediaTypes.set(value, m);
  }
  return m ?? undefined;
}

/** A memoized {@link parseParams} result with its keys listed once (see {@link cachedParams}). */
interface CachedParams {
  readonly parsed: ParsedParams;
  readonly keys: readonly string[];
}
const paramCache = new Map<string, CachedParams>();

/**
 * {@link parseParams} memoized by the value as written: the Content-Type and
 * Content-Disposition values of leaf parts (`text/plain; charset=UTF-8`,
 * `application/pkcs7-signature; name=smime.p7s`, …) recur in every message of a gestore,
 * and tokenizing them was a twentieth of a receipt's read. Each caller gets its own
 * params object (a copy), as before. Bounded: emptied at 256 entries; long values
 * (unique boundaries, long file names) are not kept.
 */
function cachedParams(value: string): ParsedParams {
  let c = paramCache.get(value);
  if (c === undefined) {
    const parsed = parseParams(value);
    if (value.length > 120) return parsed;
    if (paramCache.size >= 256) paramCache.clear();
    // Never handed out: callers get copies. The keys are listed once because for-in over
    // a null-prototype (dictionary) object is slow, and Object.keys gives the same order.
    c = { parsed, keys: Object.keys(parsed.params) };
    paramCache.set(value, c);
  }
  const src = c.parsed.params;
  const keys = c.keys;
  const params = Object.create(null) as Record<string, string>;
  for (let i = 0; i < keys.length; i++) params[keys[i]!] = src[keys[i]!]!;
  return { value: c.parsed.value, params };
}

function resolveType(e: Entity): void {
  const ct = e.field("content-type");
  const inDigest = e.parent?.contentType.mimeType === "multipart/digest";
  if (ct !== undefined) {
    const p = cachedParams(ct.value);
    const known = mediaType(p.value);
    if (known !== undefined) {
      e.contentType = { type: known.type, subtype: known.subtype, mimeType: known.mimeType, params: p.params };
    } else {
      e.contentType = inDigest ? makeContentType("message", "rfc822", p.params) : makeContentType("text", "plain", p.params);
    }
  } else if (inDigest) {
    e.contentType = makeContentType("message", "rfc822", EMPTY_PARAMS);
  }
  const cte = e.header("content-transfer-encoding");
  if (cte !== undefined) {
    let v = trimWs(cte).toLowerCase();
    if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') v = trimWs(v.slice(1, -1));
    if (v !== "") e.transferEncoding = v;
  }
}

function boundaryBytes(e: Entity, boundary: string): Uint8Array {
  // ASCII (almost every boundary) is the same in both encodings; the loop beats TextEncoder on a few dozen bytes.
  let ascii = true;
  for (let i = 0; i < boundary.length; i++) {
    if (boundary.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return latin1Bytes(boundary);
  const latin = e.field("content-type")?.isLatin1 ?? false;
  return latin ? latin1Bytes(boundary) : utf8Bytes(boundary);
}

function splitMultipart(e: Entity, boundary: string, limits: Limits, stack: Entity[]): void {
  const src = e.source;
  const bs = e.bodyStart;
  const be = e.end;
  const finder = new DelimiterFinder(boundaryBytes(e, boundary));
  // Delimiter candidates are listed once (native search for "-") for this body and every
  // multipart nested in it, at any size: on a receipt this beats building a Horspool
  // table per multipart and searching the same bytes once per nesting level.
  let lines = limits.lines;
  if (!lines?.covers(src, bs, be)) lines = limits.lines = DashLines.collect(src, bs, be);
  const delimiters: ByteRange[] = [];
  const ranges: { start: number; end: number }[] = [];
  let preambleEnd = be;
  let epilogueStart = be;
  let closed = false;
  let segStart = bs;
  let from = bs;
  for (;;) {
    const m = finder.find(src, from, bs, be, lines);
    if (m === null) break;
    // The line break before "--" belongs to the delimiter, unless the previous
    // delimiter line already used it (an empty part).
    let ds = m.dash;
    if (ds - 1 >= segStart && src[ds - 1] === LF) {
      ds--;
      if (ds - 1 >= segStart && src[ds - 1] === CR) ds--;
    }
    if (delimiters.length === 0) preambleEnd = ds;
    else ranges[ranges.length - 1]!.end = ds;
    delimiters.push({ start: ds, end: m.lineEnd });
    if (m.close) {
      closed = true;
      epilogueStart = m.lineEnd;
      break;
    }
    if (limits.parts + ranges.length + 1 > limits.maxParts) {
      throw new PecError("ERR_TOO_MANY_PARTS", `more than ${limits.maxParts} MIME entities`, { offset: m.dash, limit: limits.maxParts });
    }
    ranges.push({ start: m.lineEnd, end: be });
    segStart = from = m.lineEnd;
  }
  e.multipart = {
    boundary,
    preamble: { start: bs, end: preambleEnd },
    delimiters,
    closed,
    epilogue: { start: epilogueStart, end: be },
  };
  const depth = e.depth + 1;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    e.children.push(newEntity(limits, src, r.start, r.end, e, depth, i));
  }
  for (let i = e.children.length - 1; i >= 0; i--) stack.push(e.children[i]!);
}

function openMessage(e: Entity, limits: Limits): Entity {
  const enc = e.transferEncoding;
  if (enc === "base64" || enc === "quoted-printable") {
    const decoded = e.decodedBody();
    return newEntity(limits, decoded, 0, decoded.length, e, e.depth + 1, 0);
  }
  return newEntity(limits, e.source, e.bodyStart, e.end, e, e.depth + 1, 0);
}

function build(root: Entity, limits: Limits): void {
  const stack: Entity[] = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    parseHeaderBlock(e, limits);
    resolveType(e);
    const ct = e.contentType;
    if (ct.type === "multipart") {
      const boundary = ct.params["boundary"];
      // A boundary with a line break (possible through RFC 2231 %0A) can never match a
      // delimiter line, and would break the linear bound of the search.
      if (boundary !== undefined && boundary.length > 0 && !/[\r\n]/.test(boundary)) splitMultipart(e, boundary, limits, stack);
    } else if (isMessageType(ct.mimeType)) {
      const child = openMessage(e, limits);
      e.children.push(child);
      stack.push(child);
    }
  }
}

function checkInput(bytes: unknown, limits: Limits): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", "input must be a Uint8Array");
  if (bytes.length > limits.maxSize) {
    throw new PecError("ERR_TOO_LARGE", `input of ${bytes.length} bytes exceeds maxSize ${limits.maxSize}`, { limit: limits.maxSize });
  }
}

/**
 * Parses a MIME message into a tree of entities that keep their exact byte ranges in
 * the input (no copies, no re-serialization).
 *
 * Accepts CRLF, bare LF and mixed line endings, folded and duplicate headers, 8-bit
 * header bytes, header lines without a colon (kept as fields named `""`), a missing
 * blank line, boundaries with any characters, transport padding, preamble and epilogue,
 * and a missing close delimiter. `message/rfc822` (and `message/global`) parts are
 * parsed too: in place when 7bit/8bit/binary, from their decoded bytes when base64 or
 * quoted-printable. Other parts, `application/octet-stream` included, are not opened
 * (see {@link parseEmbedded}).
 *
 * @param bytes - the message
 * @param options - limits, see {@link ParseMimeOptions}
 * @returns the root entity
 * @throws PecError `ERR_TOO_LARGE`, `ERR_TOO_DEEP`, `ERR_TOO_MANY_PARTS` when a limit is
 * exceeded, `ERR_INVALID_ARGUMENT` for a non-`Uint8Array` input or bad options; never
 * anything else (no input is "malformed" enough to refuse)
 *
 * @example
 * ```ts
 * const root = parseMime(bytes);
 * if (root.contentType.mimeType === "multipart/signed") {
 *   const signed = root.children[0]!.raw(); // exactly the bytes the signature covers
 * }
 * ```
 */
export function parseMime(bytes: Uint8Array, options?: ParseMimeOptions): MimeEntity {
  const limits = makeLimits(options);
  checkInput(bytes, limits);
  const root = newEntity(limits, bytes, 0, bytes.length, undefined, 0, 0);
  build(root, limits);
  return root;
}

/**
 * Parses the decoded body of an entity as a message: for attachments that hold a whole
 * message but are not typed `message/rfc822`, such as a PEC busta forwarded as
 * `application/octet-stream; name=postacert.eml`.
 *
 * The result's `parent` is `entity`, its depth `entity.depth + 1` and its path
 * `0`, but it is not added to `entity.children`. When the body is not
 * base64 or quoted-printable the message is parsed in place (same `source`); otherwise
 * its `source` is the decoded body. For an entity already opened as a message (a
 * `message/rfc822` part), it returns that child.
 *
 * @param entity - a parsed entity
 * @param options - limits; `maxDepth` counts from the original root, `maxParts` counts the new tree only
 * @returns the embedded message
 * @throws PecError as {@link parseMime}
 *
 * @example
 * ```ts
 * const att = findEntity(root, (e) => e.filename?.toLowerCase() === "postacert.eml");
 * if (att) console.log(parseEmbedded(att).header("x-trasporto"));
 * ```
 */
export function parseEmbedded(entity: MimeEntity, options?: ParseMimeOptions): MimeEntity {
  const limits = makeLimits(options);
  if (!(entity instanceof Entity)) throw new PecError("ERR_INVALID_ARGUMENT", "entity must come from parseMime");
  if (isMessageType(entity.contentType.mimeType) && entity.children.length === 1) return entity.children[0]!;
  const enc = entity.transferEncoding;
  let child: Entity;
  if (enc === "base64" || enc === "quoted-printable") {
    const decoded = entity.decodedBody();
    checkInput(decoded, limits);
    child = newEntity(limits, decoded, 0, decoded.length, entity, entity.depth + 1, 0);
  } else {
    checkInput(entity.source.subarray(entity.bodyStart, entity.end), limits);
    child = newEntity(limits, entity.source, entity.bodyStart, entity.end, entity, entity.depth + 1, 0);
  }
  build(child, limits);
  return child;
}
