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
import { latin1, latin1Bytes, utf8, utf8Bytes } from "../util/bytes.js";
import { DashLines, DelimiterFinder, sourceText, type SourceText } from "./boundary.js";
import { decodeCharset, decodeHeaderBytes } from "./charset.js";
import { parseParams, parseParamsAscii, trimWs, type ParsedParams } from "./params.js";
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
import { got } from "../util/got.js";

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
  /** The last range {@link DashLines.collect} found too dense to list. */
  dense?: { readonly source: Uint8Array; readonly start: number; readonly end: number } | undefined;
  /** The range being parsed, and its text (see {@link makeText}): undefined until made, null when none is made. */
  source?: Uint8Array | undefined;
  start?: number | undefined;
  end?: number | undefined;
  text?: SourceText | null | undefined;
  /** The same for the last decoded embedded message. */
  innerSource?: Uint8Array | undefined;
  innerText?: SourceText | null | undefined;
}

/** Largest source range turned into a string (one-byte strings take as many bytes). */
const MAX_TEXT = 1 << 20;
/** Largest source range whose text is made before its first header block is parsed. */
const EAGER_TEXT = 16 * 1024;

/**
 * The text of a source range (see {@link sourceText}), or null when its bytes do not map
 * one to one or are too many. Made before the first header block when the range is small
 * (a receipt), else
 * on the first delimiter search in it: decoding costs about 0.1 ns a byte, which a
 * large single-part message would pay for nothing. V8 searches strings for a character
 * in C++ (memchr), a few nanoseconds a call, where TypedArray.prototype.indexOf costs
 * dozens of nanoseconds a call and a byte loop about one per byte: the delimiter
 * candidates of a 10 KB receipt are found in 2 µs instead of 6, decoding included, and
 * its header lines take 4 % less of the parse.
 */
function makeText(src: Uint8Array, start: number, end: number): SourceText | null {
  return end - start <= MAX_TEXT ? (sourceText(src, start, end) ?? null) : null;
}

/**
 * The text of `src` when made (or, with `make`, made now), else undefined. Only the
 * input and the last decoded embedded message have one; other sources use the byte loops.
 */
function textOf(src: Uint8Array, limits: Limits, make: boolean): SourceText | undefined {
  let t: SourceText | null | undefined;
  if (src === limits.source) {
    t = limits.text;
    if (t === undefined && make) t = limits.text = makeText(src, limits.start!, limits.end!);
  } else if (src === limits.innerSource) {
    t = limits.innerText;
    if (t === undefined && make) t = limits.innerText = makeText(src, 0, src.length);
  }
  return t ?? undefined;
}

// The interning tables below are direct-mapped, hashed with FNV-1a over the bytes.
const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function hashBytes(src: Uint8Array, start: number, end: number): number {
  let h = FNV_BASIS;
  for (let i = start; i < end; i++) h = Math.imul(h ^ src[i]!, FNV_PRIME);
  return h;
}

/** The slot of a table of `slots` (a power of two) for bytes of length `n` with FNV hash `hash`. */
function slotOf(hash: number, n: number, slots: number): number {
  const h = hash ^ n;
  return (h ^ (h >>> 15)) & (slots - 1);
}

/** Whether `bytes` (of length `n`) equal `src[start, start + n)`. */
function sameBytes(bytes: Uint8Array, src: Uint8Array, start: number, n: number): boolean {
  if (bytes.length !== n) return false;
  let i = 0;
  while (i < n && bytes[i] === src[start + i]) i++;
  return i === n;
}

class HeaderField implements MimeHeader {
  readonly name: string;
  readonly lname: string;
  private _value: string | undefined;
  private _latin1 = false;
  private _decoded: string | undefined;

  constructor(
    readonly source: Uint8Array,
    readonly start: number,
    public end: number,
    /** Where the value starts (after the colon). */
    readonly valueStart: number,
    /** The interned name, whose kind {@link Entity} looks at. */
    readonly nameEntry: NameEntry,
  ) {
    this.name = nameEntry.name;
    this.lname = nameEntry.lname;
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

  /**
   * The interned entry of the value, for a short single-line `Content-*` field seen
   * before (see {@link internValue}; `mark` notes a first sighting); undefined for other
   * fields. Sets the value too.
   */
  interned(mark = true): ValueEntry | undefined {
    if (!this.nameEntry.content) return undefined;
    const src = this.source;
    // Trim at the byte level first (the white space is ASCII, so this is what trimming the
    // decoded text would do): most values then need no slice of their text.
    let s = this.valueStart;
    let e = this.end;
    while (s < e && isWsByte(src[s]!)) s++;
    while (e > s && isWsByte(src[e - 1]!)) e--;
    if (e - s > MAX_INTERNED_VALUE) return undefined;
    let h = FNV_BASIS;
    for (let i = s; i < e; i++) {
      const b = src[i]!;
      if (b === LF) return undefined;
      h = Math.imul(h ^ b, FNV_PRIME);
    }
    const v = internValue(src, s, e, h, mark);
    if (v === undefined) return undefined;
    this._value = v.value;
    this._latin1 = v.latin1;
    return v;
  }

  private decodeValue(): void {
    if (this.interned(false) !== undefined) return;
    const src = this.source;
    let s = this.valueStart;
    let e = this.end;
    while (s < e && isWsByte(src[s]!)) s++;
    while (e > s && isWsByte(src[e - 1]!)) e--;
    let bytes = src;
    // Unfold by removing every line break left inside (each one is followed by white space, by construction of the field).
    let firstLf = s;
    while (firstLf < e && src[firstLf] !== LF) firstLf++;
    if (firstLf < e) {
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

/**
 * A decoded single-line header value, kept with the bytes it was decoded from, and what
 * the parser read from it, computed on first use (each is a function of the bytes).
 */
interface ValueEntry {
  readonly bytes: Uint8Array;
  readonly value: string;
  readonly latin1: boolean;
  // Filled in on first use (all present from the start, so every entry has one shape).
  /** {@link frozenParams} of the value. */
  params: ParsedParams | undefined;
  /** The content type, when the value is one with a media type; null when it is not. */
  contentType: MimeContentType | null | undefined;
  /** The Content-Transfer-Encoding this value gives, null for none (see {@link transferEncodingOf}). */
  transferEncoding: string | null | undefined;
  /** The disposition this value gives. */
  disposition: MimeDisposition | undefined;
}
const VALUE_SLOTS = 1024;
const MAX_INTERNED_VALUE = 96;
const values: (ValueEntry | undefined)[] = new Array<ValueEntry | undefined>(VALUE_SLOTS).fill(undefined);
/** Per slot, the hash and length of the last value seen there once (see {@link internValue}). */
const seen = new Int32Array(VALUE_SLOTS);

/**
 * The decoded (and trimmed) value of the single-line field value `src[start, end)`,
 * interned by its bytes. Used for `Content-*` fields only: Content-Type,
 * Content-Transfer-Encoding and Content-Disposition of leaf parts are byte-identical in
 * every message of a gestore, while other fields (dates, ids, subjects, addresses) are
 * unique, would only pay for the hash and the copy, and would keep personal data in a
 * module-wide table. Reusing the entry skips a TextDecoder call per value and the parse
 * of its parameters. Decoding depends on the bytes only, so the result is the same as
 * decoding them. A direct-mapped table compared byte by byte.
 *
 * A value is interned on its second sighting: the first only notes its hash (with
 * `mark`), and undefined sends the field down the path of any other value. An
 * attachment's type and disposition carry its file name, and so are seen once: making,
 * parsing and freezing their entry, and evicting a shared one from its slot, cost
 * ≈ 1 µs per receipt (≈ 1.4 % of a receipt read and verified).
 */
function internValue(src: Uint8Array, start: number, end: number, hash: number, mark: boolean): ValueEntry | undefined {
  const n = end - start;
  const slot = slotOf(hash, n, VALUE_SLOTS);
  const hit = values[slot];
  if (hit !== undefined && sameBytes(hit.bytes, src, start, n)) return hit;
  const key = (hash ^ n) | 0;
  if (seen[slot] !== key) {
    if (mark) seen[slot] = key;
    return undefined;
  }
  const { text, latin1 } = decodeHeaderBytes(src, start, end);
  const entry: ValueEntry = {
    bytes: src.slice(start, end),
    value: trimWs(text),
    latin1,
    params: undefined,
    contentType: undefined,
    transferEncoding: undefined,
    disposition: undefined,
  };
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
  /** The first Content-Type, Content-Transfer-Encoding and Content-Disposition fields, noted by the header parse. */
  ctField: HeaderField | undefined = undefined;
  cteField: HeaderField | undefined = undefined;
  cdField: HeaderField | undefined = undefined;
  /** Whether the Content-Type parameters were read by parseParamsAscii: their values are then ASCII without CR or LF. */
  asciiParams = false;
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
    if (this._disposition === undefined) this._disposition = this.cdField === undefined ? null : dispositionOf(this.cdField);
    return this._disposition ?? undefined;
  }

  get filename(): string | undefined {
    if (this._filename === undefined) {
      const fromDisposition = this.disposition?.params["filename"];
      const raw = fromDisposition ?? this.contentType.params["name"];
      // RFC 2047 words in a parameter are a common deviation, decoded; but an RFC 2231 value
      // (filename*=) is decoded already, and "=?…?=" there is the name's own text.
      // Extended means a name ending in "*" (filename*=, filename*0*=); plain continuations
      // (filename*0=) are not decoded by RFC 2231, and clients split encoded words across them.
      const extended =
        raw !== undefined &&
        raw.indexOf("=?") >= 0 &&
        (fromDisposition !== undefined ? /(?:^|[;\s])filename(?:\*\d+)?\*\s*=/i.test(this.cdField?.value ?? "") : /(?:^|[;\s])name(?:\*\d+)?\*\s*=/i.test(this.header("content-type") ?? ""));
      this._filename = raw === undefined ? null : extended ? raw : decodeHeaderValue(raw);
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

/**
 * A size or count limit option: a non-negative integer or Infinity; `fallback` when absent.
 *
 * @throws PecError `ERR_INVALID_ARGUMENT` for anything else
 * @internal
 */
export function checkLimit(value: unknown, fallback: number, name: string): number {
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
    // Set while parsing; present from the start so that every Limits has one shape.
    lines: undefined,
    dense: undefined,
    source: undefined,
    start: undefined,
    end: undefined,
    text: undefined,
    innerSource: undefined,
    innerText: undefined,
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

/** An interned field name: the bytes it was read from, the name, and the name in lower case. */
interface NameEntry {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly lname: string;
  /** Whether the name starts with `content-` (values interned, see {@link internValue}). */
  readonly content: boolean;
  /** Which field the parser reads: {@link CONTENT_TYPE}, {@link CONTENT_TRANSFER_ENCODING}, … or 0. */
  readonly kind: number;
}
const CONTENT_TYPE = 1;
const CONTENT_TRANSFER_ENCODING = 2;
const CONTENT_DISPOSITION = 3;

function nameEntry(bytes: Uint8Array, name: string): NameEntry {
  const lname = name.toLowerCase();
  const kind =
    lname === "content-type"
      ? CONTENT_TYPE
      : lname === "content-transfer-encoding"
        ? CONTENT_TRANSFER_ENCODING
        : lname === "content-disposition"
          ? CONTENT_DISPOSITION
          : 0;
  return { bytes, name, lname, content: lname.startsWith("content-"), kind };
}
const NAME_SLOTS = 512;
const MAX_INTERNED = 64;
const NO_NAME: NameEntry = nameEntry(new Uint8Array(0), "");
const names: (NameEntry | undefined)[] = new Array<NameEntry | undefined>(NAME_SLOTS).fill(undefined);

/**
 * The field name at `src[start, end)` (printable ASCII by construction), interned: the
 * same few dozen names recur in every message, and building each one from its bytes
 * and lower-casing it was a fifth of the allocations of a parse. A direct-mapped table of
 * 512 names, compared byte by byte, so a collision only costs a rebuild.
 */
function internName(src: Uint8Array, start: number, end: number, hash: number): NameEntry {
  const n = end - start;
  if (n > MAX_INTERNED) {
    return nameEntry(src.subarray(start, end), latin1(src, start, end));
  }
  const hit = names[slotOf(hash, n, NAME_SLOTS)];
  if (hit !== undefined && sameBytes(hit.bytes, src, start, n)) return hit;
  const bytes = src.slice(start, end);
  const entry = nameEntry(bytes, latin1(bytes));
  names[slotOf(hash, n, NAME_SLOTS)] = entry;
  return entry;
}

function parseHeaderBlock(e: Entity, limits: Limits): void {
  const src = e.source;
  const end = e.end;
  const limit = e.start + limits.maxHeaderBytes;
  // No line may end past the limit, so no search goes beyond it: a huge header block is
  // refused after reading the limit, not the whole input.
  const scanEnd = limit < end ? limit : end;
  const t = textOf(src, limits, false);
  const text = t?.text;
  const base = t === undefined ? 0 : t.start;
  let pos = e.start;
  let last: HeaderField | undefined;
  while (pos < end) {
    const first = src[pos]!;
    const continuation = (first === SP || first === HT) && last !== undefined;
    let i = pos;
    let nameEnd = -1;
    let nameHash = FNV_BASIS;
    let valueStart = pos;
    if (!continuation) {
      // Field names are printable ASCII without ":" (RFC 5322), hashed on the way for
      // internName; white space may precede the colon.
      while (i < scanEnd) {
        const b = src[i]!;
        if (b <= SP || b >= 0x7f || b === COLON) break;
        nameHash = Math.imul(nameHash ^ b, FNV_PRIME);
        i++;
      }
      if (i > pos) {
        let j = i;
        while (j < scanEnd && (src[j] === SP || src[j] === HT)) j++;
        if (j < scanEnd && src[j] === COLON) {
          nameEnd = i;
          valueStart = i = j + 1;
        }
      }
    }
    // The end of the line: searched in the text when there is one (see makeText).
    if (text !== undefined) {
      const k = text.indexOf("\n", i - base);
      i = k === -1 || k + base > scanEnd ? scanEnd : k + base;
    } else {
      while (i < scanEnd && src[i] !== LF) i++;
    }
    let next: number;
    let contentEnd: number;
    if (i < scanEnd) {
      next = i + 1;
      contentEnd = i > pos && src[i - 1] === CR ? i - 1 : i;
    } else {
      // No LF before the limit: the line ends past it, or the block does without an LF.
      if (end > limit) {
        throw new PecError("ERR_TOO_LARGE", `header block larger than ${limits.maxHeaderBytes} bytes`, {
          offset: e.start,
          limit: limits.maxHeaderBytes,
        });
      }
      next = end;
      contentEnd = -1;
    }
    if (contentEnd === pos) {
      e.headerEnd = e.bodyStart = next;
      return;
    }
    if (continuation) {
      last!.end = next;
    } else {
      if (nameEnd < 0) {
        last = new HeaderField(src, pos, next, pos, NO_NAME);
      } else {
        const name = internName(src, pos, nameEnd, nameHash);
        last = new HeaderField(src, pos, next, valueStart, name);
        if (name.kind === CONTENT_TYPE) e.ctField ??= last;
        else if (name.kind === CONTENT_TRANSFER_ENCODING) e.cteField ??= last;
        else if (name.kind === CONTENT_DISPOSITION) e.cdField ??= last;
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

const paramCache = new Map<string, ParsedParams>();

/**
 * {@link frozenParams} memoized by the value: for the values {@link fieldParams} leaves.
 * Bounded: emptied at 256 entries; long values (unique boundaries, long file names) are
 * not kept.
 */
function cachedParams(value: string): ParsedParams {
  let c = paramCache.get(value);
  if (c === undefined) {
    c = frozenParams(value);
    if (value.length > 120) return c;
    if (paramCache.size >= 256) paramCache.clear();
    paramCache.set(value, c);
  }
  return c;
}

/**
 * {@link parseParams} with its params object frozen, for the caches: entities share one
 * params object per distinct value (the type says read-only; freezing makes sure), where
 * copying a null-prototype object for each entity cost more than parsing a cached value.
 */
function frozenParams(value: string): ParsedParams {
  const p = parseParams(value);
  Object.freeze(p.params);
  return p;
}

const TEXT_SLOTS = 256;
const MAX_INTERNED_TEXT = 32;
const texts: ({ readonly bytes: Uint8Array; readonly text: string } | undefined)[] = new Array(TEXT_SLOTS).fill(undefined);

/**
 * The string of the ASCII bytes `src[start, end)`, interned when short: parameter names,
 * media types and most parameter values recur in every message, and making a string
 * from bytes costs more than hashing and comparing a few dozen bytes. Only Content-Type
 * and Content-Disposition text comes here, as in {@link internValue}.
 */
function asciiText(src: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > MAX_INTERNED_TEXT) return utf8(src.subarray(start, end));
  const slot = slotOf(hashBytes(src, start, end), n, TEXT_SLOTS);
  const hit = texts[slot];
  if (hit !== undefined && sameBytes(hit.bytes, src, start, n)) return hit.text;
  const bytes = src.slice(start, end);
  const text = latin1(bytes);
  texts[slot] = { bytes, text };
  return text;
}

/**
 * The parameters of a field whose value is not interned (see {@link HeaderField.interned}):
 * read from its bytes when {@link parseParamsAscii} takes them, else parsed from the
 * decoded value ({@link cachedParams}). Read from the bytes, they are not frozen: such a
 * value belongs to its entity alone (multipart types are unique by their boundary), and
 * freezing cost a third of the read.
 */
function fieldParams(f: HeaderField): ParsedParams | undefined {
  return parseParamsAscii(f.source, f.valueStart, f.end, asciiText);
}

function contentTypeOf(p: ParsedParams): MimeContentType | null {
  const known = mediaType(p.value);
  return known === undefined ? null : { type: known.type, subtype: known.subtype, mimeType: known.mimeType, params: p.params };
}

function dispositionOf(f: HeaderField): MimeDisposition {
  const v = f.interned();
  if (v === undefined) {
    const p = fieldParams(f) ?? cachedParams(f.value);
    return { type: p.value.toLowerCase(), params: p.params };
  }
  if (v.disposition === undefined) {
    const p = entryParams(v);
    // Shared by the entities with this value: frozen, as its params are.
    v.disposition = Object.freeze({ type: p.value.toLowerCase(), params: p.params });
  }
  return v.disposition;
}

/** {@link frozenParams} of an interned value, parsed once. */
function entryParams(v: ValueEntry): ParsedParams {
  return (v.params ??= frozenParams(v.value));
}

/** The transfer encoding a Content-Transfer-Encoding value gives: lower case, unquoted; null when empty. */
function transferEncodingOf(cte: string): string | null {
  let v = trimWs(cte).toLowerCase();
  if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') v = trimWs(v.slice(1, -1));
  return v === "" ? null : v;
}

function resolveType(e: Entity): void {
  const ct = e.ctField;
  const inDigest = e.parent?.contentType.mimeType === "multipart/digest";
  if (ct !== undefined) {
    const v = ct.interned();
    let p: ParsedParams;
    let known: MimeContentType | null;
    if (v !== undefined) {
      p = entryParams(v);
      // Shared by the entities with this value: frozen, as its params are.
      if (v.contentType === undefined) {
        const t = contentTypeOf(p);
        v.contentType = t === null ? null : Object.freeze(t);
      }
      known = v.contentType;
    } else {
      const ascii = fieldParams(ct);
      e.asciiParams = ascii !== undefined;
      p = ascii ?? cachedParams(ct.value);
      known = contentTypeOf(p);
    }
    e.contentType = known ?? (inDigest ? makeContentType("message", "rfc822", p.params) : makeContentType("text", "plain", p.params));
  } else if (inDigest) {
    e.contentType = makeContentType("message", "rfc822", EMPTY_PARAMS);
  }
  const cte = e.cteField;
  if (cte !== undefined) {
    const v = cte.interned();
    let enc: string | null;
    if (v !== undefined) {
      if (v.transferEncoding === undefined) v.transferEncoding = transferEncodingOf(v.value);
      enc = v.transferEncoding;
    } else {
      enc = transferEncodingOf(cte.value);
    }
    if (enc !== null) e.transferEncoding = enc;
  }
}

/**
 * The boundary as {@link DelimiterFinder} takes it: the string itself when it is ASCII
 * (almost every boundary: the same in both encodings), else its bytes in the encoding the
 * header was read in; undefined when it holds a line break (possible through RFC 2231
 * %0A): such a boundary can never match a delimiter line, and would break the linear
 * bound of the search.
 */
function boundaryBytes(e: Entity, boundary: string): Uint8Array | string | undefined {
  let ascii = true;
  for (let i = 0; i < boundary.length; i++) {
    const c = boundary.charCodeAt(i);
    if (c === LF || c === CR) return undefined;
    if (c >= 0x80) ascii = false;
  }
  if (ascii) return boundary;
  const latin = e.field("content-type")?.isLatin1 ?? false;
  return latin ? latin1Bytes(boundary) : utf8Bytes(boundary);
}

function splitMultipart(e: Entity, boundary: string, bytes: Uint8Array | string, limits: Limits, stack: Entity[]): void {
  const src = e.source;
  const bs = e.bodyStart;
  const be = e.end;
  const finder = new DelimiterFinder(bytes);
  // Delimiter candidates are listed once (in the text, else by a native search for "-")
  // for this body and every multipart nested in it, at any size: on a receipt this beats
  // building a Horspool table per multipart and searching the same bytes once per level.
  let lines = limits.lines;
  if (!lines?.covers(src, bs, be)) {
    // A range too dense in candidates for a list (see DashLines.collect) holds bodies as
    // dense: they are searched without one, rather than listed again at every level
    // (the 32 levels of a 6 MB hostile nesting: 1.6 s → 0.5 s).
    const d = limits.dense;
    if (d !== undefined && d.source === src && bs >= d.start && be <= d.end) {
      lines = undefined;
    } else {
      lines = limits.lines = DashLines.collect(src, bs, be, textOf(src, limits, true));
      if (lines === undefined) limits.dense = { source: src, start: bs, end: be };
    }
  }
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
    const child = newEntity(limits, decoded, 0, decoded.length, e, e.depth + 1, 0);
    limits.innerSource = decoded;
    limits.innerText = decoded.length <= EAGER_TEXT ? makeText(decoded, 0, decoded.length) : undefined;
    return child;
  }
  return newEntity(limits, e.source, e.bodyStart, e.end, e, e.depth + 1, 0);
}

function build(root: Entity, limits: Limits): void {
  limits.source = root.source;
  limits.start = root.start;
  limits.end = root.end;
  limits.text = root.end - root.start <= EAGER_TEXT ? makeText(root.source, root.start, root.end) : undefined;
  const stack: Entity[] = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    parseHeaderBlock(e, limits);
    resolveType(e);
    const ct = e.contentType;
    if (ct.type === "multipart") {
      const boundary = ct.params["boundary"];
      const bytes = boundary === undefined || boundary.length === 0 ? undefined : e.asciiParams ? boundary : boundaryBytes(e, boundary);
      if (bytes !== undefined) splitMultipart(e, boundary!, bytes, limits, stack);
    } else if (isMessageType(ct.mimeType)) {
      const child = openMessage(e, limits);
      e.children.push(child);
      stack.push(child);
    }
  }
}

function checkInput(bytes: unknown, limits: Limits): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", `input must be a Uint8Array; ${got(bytes)}`);
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
 * const root = parseMime(bytes);
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
