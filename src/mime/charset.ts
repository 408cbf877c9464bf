/**
 * Character set decoding for MIME bodies and RFC 2047 words.
 *
 * @module
 */
import { CP1252_HIGH, latin1 } from "../util/bytes.js";
import { decodeUtf7 } from "../util/utf7.js";

const UTF7_LABELS = new Set(["utf-7", "utf7", "unicode-1-1-utf-7", "x-utf-7", "csunicode11utf7"]);

// Labels that promise nothing useful: the bytes are decoded as UTF-8 when they are valid
// UTF-8 (what most "us-ascii" mail with 8-bit bytes really is) and as windows-1252 otherwise.
const SNIFF_LABELS = new Set([
  "",
  "us-ascii",
  "ascii",
  "us_ascii",
  "ansi_x3.4-1968",
  "iso646-us",
  "iso-ir-6",
  "us",
  "cp367",
  "ibm367",
  "csascii",
  "default",
  "unknown",
  "unknown-8bit",
  "x-unknown",
  "x-user-defined",
  "binary",
  "8bit",
  "7bit",
]);

// ignoreBOM keeps a leading U+FEFF: decoding must not silently drop characters.
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// Distinct labels in hostile input are unbounded, so the cache is capped.
const MAX_CACHED = 64;
// A TextDecoder, "cp1252" (decoded by decodeCp1252) or null (unknown: sniff).
type Decoder = TextDecoder | "cp1252" | null;
const decoders = new Map<string, Decoder>();

function decoderFor(label: string): Decoder {
  const cached = decoders.get(label);
  if (cached !== undefined) return cached;
  let d: Decoder = null;
  try {
    d = new TextDecoder(label, { ignoreBOM: true });
    // "replacement" turns every input into U+FFFD; guessing serves readers better.
    if (d.encoding === "replacement") d = null;
    else if (d.encoding === "windows-1252") d = "cp1252";
  } catch {
    d = null;
  }
  if (decoders.size < MAX_CACHED) decoders.set(label, d);
  return d;
}

// windows-1252 is decoded here (CP1252_HIGH) rather than by TextDecoder because Node's
// TextDecoder treats windows-1252 (and so "iso-8859-1") as true Latin-1, unlike browsers;
// doing it ourselves gives the same text in every runtime.
function decodeCp1252(bytes: Uint8Array): string {
  let high = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80 && b < 0xa0) {
      high = true;
      break;
    }
  }
  if (!high) return latin1(bytes);
  let out = "";
  const units: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    units.push(b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80]! : b);
    if (units.length === 0x2000) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode.apply(null, units);
}

function sniff(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return latin1(bytes);
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    // Not UTF-8: fall through to a single-byte reading.
  }
  return decodeCp1252(bytes);
}

/**
 * Normalizes a charset label as found in mail: trims white space and quotes, drops an
 * RFC 2231 language suffix (`utf-8*it`), lower-cases.
 */
export function normalizeCharsetLabel(label: string): string {
  let l = label.trim();
  if (l.length >= 2 && (l[0] === '"' || l[0] === "'") && l[l.length - 1] === l[0]) l = l.slice(1, -1).trim();
  const star = l.indexOf("*");
  if (star >= 0) l = l.slice(0, star);
  return l.toLowerCase();
}

/**
 * Decodes bytes in the character set named by a MIME `charset` label.
 *
 * Accepts every label `TextDecoder` knows (case-insensitive, so `ISO-8859-1`, `iso-8859-1`
 * and `utf8` all work), plus `utf-7`, which it decodes itself. For `us-ascii`, an empty or
 * unknown label it never throws: the bytes are read as UTF-8 when they are valid UTF-8,
 * else as windows-1252 (what mail labelled Latin-1 or ASCII usually is). Invalid sequences
 * in a known charset become U+FFFD.
 *
 * Note that, as in browsers, `iso-8859-1` and `latin1` decode as windows-1252 (bytes
 * 0x80–0x9F become typographic characters, not C1 controls), in Node too. A byte order
 * mark is kept as U+FEFF, not dropped.
 *
 * @param bytes - the encoded text
 * @param label - a charset label such as `"utf-8"`, `"ISO-8859-1"`, `"utf-7"`
 * @returns the decoded text
 *
 * @example
 * ```ts
 * decodeCharset(new Uint8Array([0x63, 0x61, 0x66, 0xe8]), "ISO-8859-1"); // "cafè"
 * decodeCharset(new TextEncoder().encode("+AOg-"), "utf-7"); // "è"
 * ```
 */
export function decodeCharset(bytes: Uint8Array, label: string | undefined): string {
  const l = normalizeCharsetLabel(label ?? "");
  if (SNIFF_LABELS.has(l)) return sniff(bytes);
  if (UTF7_LABELS.has(l)) return decodeUtf7(bytes);
  const d = decoderFor(l === "utf8" ? "utf-8" : l);
  if (d === "cp1252") return decodeCp1252(bytes);
  return d ? d.decode(bytes) : sniff(bytes);
}

/** Decodes header bytes: UTF-8 when valid (RFC 6532), else true Latin-1. Also reports which. */
export function decodeHeaderBytes(bytes: Uint8Array, start: number, end: number): { text: string; latin1: boolean } {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  // ASCII reads the same in UTF-8: for header-sized values (a few dozen bytes to a few KB)
  // TextDecoder is 2–4× faster than String.fromCharCode over a subarray.
  if (ascii) return { text: end - start > 16 && end - start <= 4096 ? fatalUtf8.decode(bytes.subarray(start, end)) : latin1(bytes, start, end), latin1: false };
  try {
    return { text: fatalUtf8.decode(bytes.subarray(start, end)), latin1: false };
  } catch {
    return { text: latin1(bytes, start, end), latin1: true };
  }
}
