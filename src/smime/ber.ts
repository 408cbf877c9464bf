/**
 * A zero-copy BER/DER reader for the verifier. Internal: not part of the public API.
 *
 * The verifier reads CMS, certificates and CRLs with this instead of asn1js/pkijs
 * because it needs exact byte ranges (a signature covers the bytes as received, the
 * `tbsCertificate` included), must accept what gestori send (indefinite lengths,
 * constructed OCTET STRINGs) and has to be fast: a receipt is verified in well under
 * 100 µs, and an asn1js object tree of a two-certificate CMS alone costs more.
 *
 * @module
 */

import { concatBytes, latin1, utf8 } from "../util/bytes.js";
import { fnv } from "./cache.js";

/** Thrown by the reader for bytes that are not BER. Caught by the verifier and reported. */
export class BerError extends Error {
  /** Byte offset where the problem was found. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = "BerError";
    this.offset = offset;
  }
}

/** One TLV: offsets into the buffer it was read from. */
export interface Tlv {
  /** Identifier octet (class, constructed bit, tag number); 0x1f-based for high tag numbers. */
  readonly tag: number;
  /** Tag number (differs from `tag & 0x1f` only for high tag numbers). */
  readonly tagNumber: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset after the last content octet (before the end-of-contents octets when indefinite). */
  readonly contentEnd: number;
  /** Offset after the whole element, end-of-contents octets included. */
  readonly end: number;
  /** Whether the length was indefinite (BER). */
  readonly indefinite: boolean;
}

/** Universal and context tags used by CMS and X.509 (read here, written by asn1-der.ts), as full identifier octets. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  CTX0: 0xa0,
  CTX1: 0xa1,
  CTX2: 0xa2,
  CTX3: 0xa3,
} as const;

/** Nesting limit: real CMS is < 15 deep; this stops stack exhaustion on hostile input. */
const MAX_DEPTH = 64;

/**
 * Reads the TLV at `pos`. For indefinite lengths the end is found by walking the
 * children; `ends` memoises those walks so nested indefinite elements (ContentInfo →
 * SignedData → eContent chunks) are scanned once, not once per level.
 */
export function readTlv(buf: Uint8Array, pos: number, limit = buf.length, ends?: Map<number, number>, depth = 0): Tlv {
  if (depth > MAX_DEPTH) throw new BerError("nesting too deep", pos);
  if (pos >= limit) throw new BerError("unexpected end of data", pos);
  const tag = buf[pos]!;
  let p = pos + 1;
  let tagNumber = tag & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    let b: number;
    let n = 0;
    do {
      if (p >= limit) throw new BerError("truncated tag", p);
      b = buf[p++]!;
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if (++n > 4) throw new BerError("tag number too large", pos);
    } while (b & 0x80);
  }
  if (p >= limit) throw new BerError("truncated length", p);
  const lb = buf[p++]!;
  if (lb < 0x80) {
    const contentEnd = p + lb;
    if (contentEnd > limit) throw new BerError("length exceeds the data", pos);
    return { tag, tagNumber, start: pos, contentStart: p, contentEnd, end: contentEnd, indefinite: false };
  }
  if (lb === 0x80) {
    if (!(tag & 0x20)) throw new BerError("indefinite length on a primitive element", pos);
    const known = ends?.get(pos);
    if (known !== undefined) {
      return { tag, tagNumber, start: pos, contentStart: p, contentEnd: known - 2, end: known, indefinite: true };
    }
    let q = p;
    for (;;) {
      if (q + 1 < limit && buf[q] === 0 && buf[q + 1] === 0) break;
      q = skipTlv(buf, q, limit, ends, depth + 1);
    }
    ends?.set(pos, q + 2);
    return { tag, tagNumber, start: pos, contentStart: p, contentEnd: q, end: q + 2, indefinite: true };
  }
  const n = lb & 0x7f;
  if (n > 4) throw new BerError("length too large", pos);
  if (p + n > limit) throw new BerError("truncated length", p);
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  const contentEnd = p + len;
  if (contentEnd > limit) throw new BerError("length exceeds the data", pos);
  return { tag, tagNumber, start: pos, contentStart: p, contentEnd, end: contentEnd, indefinite: false };
}

/**
 * The end offset of the TLV at `pos`, without building objects: the indefinite-length
 * scan walks every chunk of a BER eContent (100,000 of them for 100 MB in 1 KB
 * chunks), so this path must not allocate.
 */
function skipTlv(buf: Uint8Array, pos: number, limit: number, ends: Map<number, number> | undefined, depth: number): number {
  if (depth > MAX_DEPTH) throw new BerError("nesting too deep", pos);
  if (pos >= limit) throw new BerError("unexpected end of data", pos);
  const tag = buf[pos]!;
  let p = pos + 1;
  if ((tag & 0x1f) === 0x1f) {
    let n = 0;
    do {
      if (p >= limit) throw new BerError("truncated tag", p);
      if (++n > 4) throw new BerError("tag number too large", pos);
    } while (buf[p++]! & 0x80);
  }
  if (p >= limit) throw new BerError("truncated length", p);
  const lb = buf[p++]!;
  let end: number;
  if (lb < 0x80) end = p + lb;
  else if (lb === 0x80) return readTlv(buf, pos, limit, ends, depth).end;
  else {
    const n = lb & 0x7f;
    if (n > 4) throw new BerError("length too large", pos);
    if (p + n > limit) throw new BerError("truncated length", p);
    let len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    end = p + len;
  }
  if (end > limit) throw new BerError("length exceeds the data", pos);
  return end;
}

/** A reader over one buffer: keeps the memo of indefinite-length ends. */
export class BerReader {
  readonly buf: Uint8Array;
  private readonly ends = new Map<number, number>();
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  /** The TLV at `pos`. */
  at(pos: number, limit = this.buf.length): Tlv {
    return readTlv(this.buf, pos, limit, this.ends);
  }

  /** The single top-level element, which must fill the buffer (trailing bytes are an error unless `lenient`). */
  root(lenient = false): Tlv {
    const t = this.at(0);
    if (!lenient && t.end !== this.buf.length) throw new BerError("trailing data", t.end);
    return t;
  }

  /** Children of a constructed element. */
  children(t: Tlv): Tlv[] {
    if (!(t.tag & 0x20)) throw new BerError("expected a constructed element", t.start);
    const out: Tlv[] = [];
    for (let p = t.contentStart; p < t.contentEnd; ) {
      const c = this.at(p, t.contentEnd);
      out.push(c);
      p = c.end;
    }
    return out;
  }

  /** Children, checking the parent's tag first. */
  expect(t: Tlv, tag: number, what: string): Tlv[] {
    if (t.tag !== tag) throw new BerError(`${what}: unexpected tag 0x${t.tag.toString(16)}`, t.start);
    return this.children(t);
  }

  /** Content octets of a primitive element (zero copy). */
  content(t: Tlv): Uint8Array {
    return this.buf.subarray(t.contentStart, t.contentEnd);
  }

  /** The whole encoding of an element as received (zero copy). */
  raw(t: Tlv): Uint8Array {
    return this.buf.subarray(t.start, t.end);
  }

  /**
   * Content of an OCTET STRING (or any string type), primitive or constructed.
   * Zero copy when primitive; constructed segments (BER "chunked" eContent) are joined.
   */
  octets(t: Tlv): Uint8Array {
    if (!(t.tag & 0x20)) return this.content(t);
    // Constructed: collect the primitive segments' ranges (no objects per chunk), then copy once.
    const ranges: number[] = [];
    this.segmentRanges(t.contentStart, t.contentEnd, ranges, 0);
    if (ranges.length === 2) return this.buf.subarray(ranges[0], ranges[1]);
    let total = 0;
    for (let i = 0; i < ranges.length; i += 2) total += ranges[i + 1]! - ranges[i]!;
    const out = new Uint8Array(total);
    for (let i = 0, o = 0; i < ranges.length; i += 2) {
      out.set(this.buf.subarray(ranges[i]!, ranges[i + 1]!), o);
      o += ranges[i + 1]! - ranges[i]!;
    }
    return out;
  }

  private segmentRanges(start: number, end: number, out: number[], depth: number): void {
    if (depth > MAX_DEPTH) throw new BerError("nesting too deep", start);
    const buf = this.buf;
    for (let p = start; p < end; ) {
      const tag = buf[p]!;
      if ((tag & 0x1f) === 0x1f) {
        const c = this.at(p, end);
        this.segmentRanges(c.contentStart, c.contentEnd, out, depth + 1);
        p = c.end;
        continue;
      }
      let q = p + 1;
      if (q >= end) throw new BerError("truncated length", q);
      const lb = buf[q++]!;
      if (lb === 0x80 || tag & 0x20) {
        const c = this.at(p, end);
        if (c.tag & 0x20) this.segmentRanges(c.contentStart, c.contentEnd, out, depth + 1);
        else out.push(c.contentStart, c.contentEnd);
        p = c.end;
        continue;
      }
      let len = lb;
      if (lb > 0x80) {
        const n = lb & 0x7f;
        if (n > 4 || q + n > end) throw new BerError("bad length", p);
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + buf[q++]!;
      }
      if (q + len > end) throw new BerError("length exceeds the data", p);
      out.push(q, q + len);
      p = q + len;
    }
  }

  private collectSegments(t: Tlv, parts: Uint8Array[]): void {
    for (const c of this.children(t)) {
      if (c.tag & 0x20) this.collectSegments(c, parts);
      else parts.push(this.content(c));
    }
  }

  /** Dotted OID of an OBJECT IDENTIFIER element. */
  oid(t: Tlv): string {
    if (t.tag !== TAG.OID) throw new BerError("expected an OBJECT IDENTIFIER", t.start);
    return decodeOid(this.buf, t.contentStart, t.contentEnd);
  }

  /** Unsigned big-endian magnitude of an INTEGER as lower-case hex, sign byte dropped. */
  integerHex(t: Tlv): string {
    if (t.tag !== TAG.INTEGER) throw new BerError("expected an INTEGER", t.start);
    return integerHex(this.content(t));
  }

  /** Small non-negative INTEGER as a number. */
  smallInt(t: Tlv): number {
    if (t.tag !== TAG.INTEGER && t.tag !== TAG.ENUMERATED) throw new BerError("expected an INTEGER", t.start);
    const c = this.content(t);
    if (c.length === 0 || c.length > 6 || c[0]! & 0x80) throw new BerError("integer out of range", t.start);
    let v = 0;
    for (const b of c) v = v * 256 + b;
    return v;
  }

  /**
   * BIT STRING content without the unused-bits octet, plus that count. X.690 §8.6: the
   * count is 0–7, 0 when there are no bits, and in a constructed BIT STRING only the
   * last segment may leave bits unused (anywhere else they would shift every later bit).
   */
  bits(t: Tlv): { bytes: Uint8Array; unused: number } {
    if ((t.tag & 0xdf) !== TAG.BIT_STRING) throw new BerError("expected a BIT STRING", t.start);
    if (!(t.tag & 0x20)) return bitSegment(this.content(t), t.start);
    const segs: Uint8Array[] = [];
    this.collectSegments(t, segs);
    if (segs.length === 0) return { bytes: new Uint8Array(0), unused: 0 };
    const parts = segs.map((s, i) => {
      const { bytes, unused } = bitSegment(s, t.start);
      if (unused !== 0 && i < segs.length - 1) throw new BerError("unused bits in a BIT STRING segment that is not the last", t.start);
      return bytes;
    });
    return { bytes: concatBytes(parts), unused: segs[segs.length - 1]![0]! };
  }

  /** UTCTime or GeneralizedTime. */
  time(t: Tlv): Date {
    return timeOf(this.buf, t);
  }

  /** Decoded text of a directory string / IA5String element. */
  string(t: Tlv): string {
    return decodeString(this.buf, t);
  }

  /** BOOLEAN value (any non-zero octet is TRUE, as BER allows). */
  boolean(t: Tlv): boolean {
    if (t.tag !== TAG.BOOLEAN || t.contentEnd - t.contentStart !== 1) throw new BerError("expected a BOOLEAN", t.start);
    return this.buf[t.contentStart] !== 0;
  }
}

/** UTCTime or GeneralizedTime at `t` of `buf` (what {@link BerReader.time} reads). */
export function timeOf(buf: Uint8Array, t: Tlv): Date {
  const fast = derTime(buf, t);
  if (fast) return fast;
  const s = latin1(buf, t.contentStart, t.contentEnd);
  let d: Date | undefined;
  if (t.tag === TAG.UTC_TIME) d = parseTime(s, true);
  else if (t.tag === TAG.GENERALIZED_TIME) d = parseTime(s, false);
  if (!d) throw new BerError("bad time value", t.start);
  return d;
}

/** Lower-case hex of an INTEGER's magnitude; a leading 0x00 sign octet is dropped. */
export function integerHex(c: Uint8Array): string {
  let i = 0;
  while (i < c.length - 1 && c[i] === 0) i++;
  let out = "";
  for (; i < c.length; i++) out += (c[i]! < 16 ? "0" : "") + c[i]!.toString(16);
  return out;
}

const oidCache = new Map<number, { bytes: Uint8Array; text: string }[]>();

/** Dotted form of OID content octets (memoised by content: a few dozen OIDs recur everywhere). */
export function decodeOid(buf: Uint8Array, start: number, end: number): string {
  const k = fnv(buf, start, end);
  const bucket = oidCache.get(k);
  if (bucket) {
    for (const e of bucket) {
      if (e.bytes.length !== end - start) continue;
      let i = 0;
      while (i < e.bytes.length && e.bytes[i] === buf[start + i]) i++;
      if (i === e.bytes.length) return e.text;
    }
  }
  const text = decodeOidUncached(buf, start, end);
  if (oidCache.size < 4096) {
    const entry = { bytes: buf.slice(start, end), text };
    if (bucket) bucket.push(entry);
    else oidCache.set(k, [entry]);
  }
  return text;
}

function decodeOidUncached(buf: Uint8Array, start: number, end: number): string {
  if (end <= start) throw new BerError("empty OBJECT IDENTIFIER", start);
  const arcs: string[] = [];
  let v = 0n;
  let small = 0;
  let big = false;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (!big && small > 0x1ffffffffffff) {
      big = true;
      v = BigInt(small);
    }
    if (big) v = (v << 7n) | BigInt(b & 0x7f);
    else small = small * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      const value = big ? v : BigInt(small);
      if (arcs.length === 0) {
        const first = value < 40n ? 0n : value < 80n ? 1n : 2n;
        arcs.push(first.toString(), (value - first * 40n).toString());
      } else arcs.push(value.toString());
      v = 0n;
      small = 0;
      big = false;
    } else if (i === end - 1) throw new BerError("truncated OBJECT IDENTIFIER", i);
  }
  return arcs.join(".");
}

/** Days in month `mo` (1–12) of year `y` (proleptic Gregorian). */
function daysIn(y: number, mo: number): number {
  return mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

/**
 * The instant the fields name, or NaN when they name none: month 13, 31 April, 29 February
 * of a common year, hour 24, minute or second 60 (X.680 and RFC 5280 times have no leap
 * seconds). `Date.UTC` alone would roll such fields over into a real instant (month 13 into
 * the next January), so a certificate whose notAfter no other implementation can read would
 * get a validity of postacert's making; OpenSSL refuses these fields too.
 */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number {
  // NaN (a non-digit) fails every comparison.
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo) && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 59)) return NaN;
  // Date.UTC reads years 0–99 as 1900–1999: a GeneralizedTime year 0000 would be 1900, where
  // 29 February rolls over into March. 400 years later the calendar is the same (146,097 days).
  if (y < 100) return Date.UTC(y + 400, mo - 1, d, h, mi, s, ms) - 146_097 * 86_400_000;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

/** The DER forms (YYMMDDHHMMSSZ, YYYYMMDDHHMMSSZ), read straight from the bytes; undefined otherwise. */
function derTime(buf: Uint8Array, t: Tlv): Date | undefined {
  const utc = t.tag === TAG.UTC_TIME;
  const s = t.contentStart;
  const len = t.contentEnd - s;
  if (len !== (utc ? 13 : 15) || (!utc && t.tag !== TAG.GENERALIZED_TIME) || buf[t.contentEnd - 1] !== 0x5a) return undefined;
  const y = utc ? decimal(buf, s, 2) : decimal(buf, s, 4);
  const o = s + (utc ? 2 : 4);
  const ms = utcMs(utc ? y + (y >= 50 ? 1900 : 2000) : y, decimal(buf, o, 2), decimal(buf, o + 2, 2), decimal(buf, o + 4, 2), decimal(buf, o + 6, 2), decimal(buf, o + 8, 2));
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** The `n` ASCII digits at `buf[at]` as a number; NaN if one is not a digit. */
function decimal(buf: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/** Parses UTCTime (`utc`) or GeneralizedTime text; BER forms with offsets or no seconds are accepted. */
export function parseTime(s: string, utc: boolean): Date | undefined {
  // The DER forms (YYMMDDHHMMSSZ, YYYYMMDDHHMMSSZ) are all real certificates and CMS use: parse them without a regex.
  if (s.length === (utc ? 13 : 15) && s.charCodeAt(s.length - 1) === 90) {
    const y = utc ? digits(s, 0, 2) : digits(s, 0, 4);
    const o = utc ? 2 : 4;
    const t = utcMs(utc ? y + (y >= 50 ? 1900 : 2000) : y, digits(s, o, 2), digits(s, o + 2, 2), digits(s, o + 4, 2), digits(s, o + 6, 2), digits(s, o + 8, 2));
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  const m = utc
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?()(Z|[+-]\d{4})$/.exec(s)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/.exec(s);
  if (!m) return undefined;
  let year = Number(m[1]);
  // RFC 5280 §4.1.2.5.1: two-digit years 50-99 are 19xx.
  if (utc) year += year >= 50 ? 1900 : 2000;
  const ms = m[7] ? Math.round(Number("0." + m[7]) * 1000) : 0;
  let t = utcMs(year, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0), Number(m[6] ?? 0), ms);
  const zone = m[8];
  if (zone && zone !== "Z") {
    if (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(3, 5)) > 59) return undefined;
    const off = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60000;
    t -= zone[0] === "+" ? off : -off;
  }
  return Number.isNaN(t) ? undefined : new Date(t);
}

const utf16be = /* @__PURE__ */ (() => {
  try {
    return new TextDecoder("utf-16be");
  } catch {
    return undefined;
  }
})();

/** Decodes the string types X.500 names and GeneralNames use. */
export function decodeString(buf: Uint8Array, t: Tlv): string {
  const c = buf.subarray(t.contentStart, t.contentEnd);
  switch (t.tag) {
    case 0x0c: // UTF8String
      return utf8(c);
    case 0x1e: // BMPString
      if (utf16be) return utf16be.decode(c);
      return String.fromCharCode(...Array.from({ length: c.length >> 1 }, (_, i) => (c[2 * i]! << 8) | c[2 * i + 1]!));
    case 0x1c: {
      // UniversalString (UTF-32BE). What is no Unicode scalar value, a short last group
      // included, becomes U+FFFD, as the UTF-8 and UTF-16 decoders do.
      let s = "";
      for (let i = 0; i < c.length; i += 4) {
        const cp = i + 3 < c.length ? ((c[i]! << 24) | (c[i + 1]! << 16) | (c[i + 2]! << 8) | c[i + 3]!) >>> 0 : 0xfffd;
        s += String.fromCodePoint(cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0xfffd : cp);
      }
      return s;
    }
    // PrintableString, IA5String, VisibleString, NumericString, TeletexString (T.61 is
    // read as Latin-1, as every toolkit does in practice).
    default:
      return latin1(c);
  }
}

/** DER length octets. */
function lengthOctets(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

/** Encodes one TLV with a definite length. */
export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const len = lengthOctets(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

/** Universal string-like tag numbers that BER may send constructed. */
const STRING_TAGS = new Set([3, 4, 12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 29, 30]);

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** One primitive BIT STRING content: the unused-bits octet, then the bits. */
function bitSegment(c: Uint8Array, at: number): { bytes: Uint8Array; unused: number } {
  if (c.length === 0) throw new BerError("BIT STRING without its unused-bits octet", at);
  const unused = c[0]!;
  if (unused > 7 || (unused !== 0 && c.length === 1)) throw new BerError(`BIT STRING with ${unused} unused bits of ${(c.length - 1) * 8}`, at);
  return { bytes: c.subarray(1), unused };
}

/**
 * DER re-encoding of a BER element: definite minimal lengths, constructed strings made
 * primitive, and (with `sortSets`) SET members sorted by their encodings, as X.690
 * §11.6 wants for SET OF. `tagOverride` replaces the outer identifier octet (signed
 * attributes are signed as a SET, 0x31, although sent as [0] IMPLICIT, 0xA0).
 */
export function toDer(r: BerReader, t: Tlv, sortSets: boolean, tagOverride?: number): Uint8Array {
  const tag = tagOverride ?? t.tag;
  if (!(t.tag & 0x20)) return encodeTlv(tag, r.content(t));
  if ((t.tag & 0xc0) === 0 && STRING_TAGS.has(t.tagNumber)) {
    if (t.tagNumber === 3) {
      const { bytes, unused } = r.bits(t);
      const c = new Uint8Array(bytes.length + 1);
      c[0] = unused;
      c.set(bytes, 1);
      return encodeTlv(tag & 0xdf, c);
    }
    return encodeTlv(tag & 0xdf, r.octets(t));
  }
  const kids = r.children(t).map((c) => toDer(r, c, sortSets));
  if (sortSets && (tag === TAG.SET || tag === 0x31)) kids.sort(compareBytes);
  return encodeTlv(tag, concatBytes(kids));
}
