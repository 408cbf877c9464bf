/**
 * Turns the bytes of a `daticert.xml` into text: BOM, XML declaration, UTF-8 with a
 * windows-1252 fallback. Internal to the daticert layer.
 *
 * @module
 */
import { latin1 } from "../util/bytes.js";
import type { DaticertWarningCode } from "./model.js";

/** Text decoded from bytes, with what is needed to map positions back to bytes. */
export interface Decoded {
  /** The text, without BOM. */
  text: string;
  /** WHATWG name of the encoding used. */
  encoding: string;
  /** Bytes skipped before `text` (the BOM). */
  bomLength: number;
  /** Set when the detection had to deviate from the declaration. */
  warning?: { code: DaticertWarningCode; message: string };
}

// Labels the WHATWG Encoding Standard maps to windows-1252. Decoded by hand because
// Node's TextDecoder (v20-v23) decodes them as plain ISO-8859-1 while browsers follow
// the standard; we want the same text everywhere.
const WINDOWS_1252_LABELS: ReadonlySet<string> = new Set([
  "ansi_x3.4-1968",
  "ascii",
  "cp1252",
  "cp819",
  "csisolatin1",
  "ibm819",
  "iso-8859-1",
  "iso-ir-100",
  "iso8859-1",
  "iso88591",
  "iso_8859-1",
  "iso_8859-1:1987",
  "l1",
  "latin1",
  "us-ascii",
  "windows-1252",
  "x-cp1252",
]);

const UTF8_LABELS: ReadonlySet<string> = new Set(["utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"]);

// 0x80-0x9F in windows-1252; the five undefined bytes keep their C1 code point, as
// the Encoding Standard says.
const CP1252_HIGH =
  "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F" +
  "\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178";
const C1 = /[\x80-\x9f]/g;
const C1_TEST = /[\x80-\x9f]/;

/** windows-1252 decoding, identical in every JavaScript engine. */
export function decodeWindows1252(bytes: Uint8Array, start = 0): string {
  const s = latin1(bytes, start);
  return C1_TEST.test(s) ? s.replace(C1, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : s;
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const decoders = new Map<string, TextDecoder | null>();

function otherDecoder(label: string): TextDecoder | null {
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label, { ignoreBOM: true });
    } catch {
      d = null;
    }
    if (decoders.size < 32) decoders.set(label, d);
  }
  return d;
}

function isXmlSpaceByte(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

const ENCODING_ATTR = /\sencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/;

/** The `encoding` of an XML declaration at `start` (after optional white space), lower-cased. */
function declaredEncoding(bytes: Uint8Array, start: number): string | undefined {
  let i = start;
  while (i < bytes.length && isXmlSpaceByte(bytes[i]!)) i++;
  // "<?xml" followed by white space.
  if (
    bytes[i] !== 0x3c ||
    bytes[i + 1] !== 0x3f ||
    bytes[i + 2] !== 0x78 ||
    bytes[i + 3] !== 0x6d ||
    bytes[i + 4] !== 0x6c ||
    !isXmlSpaceByte(bytes[i + 5] ?? 0)
  ) {
    return undefined;
  }
  // A declaration is short; do not scan a whole document for a missing "?>".
  const limit = Math.min(bytes.length, i + 512);
  let end = -1;
  for (let j = i + 5; j < limit; j++) {
    if (bytes[j] === 0x3e) {
      end = j;
      break;
    }
  }
  if (end < 0) return undefined;
  const n = end - i - 5;
  if (n === lastDeclaration.length) {
    let k = 0;
    while (k < n && bytes[i + 5 + k] === lastDeclaration[k]) k++;
    if (k === n) return lastLabel;
  }
  const m = ENCODING_ATTR.exec(latin1(bytes, i + 5, end));
  const label = m === null ? undefined : (m[1] ?? m[2] ?? "").trim().toLowerCase();
  // Only a whole, short declaration is kept: nothing of the document's content.
  if (n <= 80 && bytes[end - 1] === 0x3f) {
    lastDeclaration = bytes.slice(i + 5, end);
    lastLabel = label;
  }
  return label;
}

// The last declaration read (after "<?xml") and its label: a gestore writes the same
// declaration in every file, and reading it again (a string, a regular expression) cost
// ≈0.6 µs of every parseDaticert.
let lastDeclaration = new Uint8Array(0);
let lastLabel: string | undefined;

function utf8OrFallback(bytes: Uint8Array, start: number, why: string | undefined, ascii?: string): Decoded {
  try {
    const text = ascii !== undefined && start === 0 ? ascii : utf8Fatal.decode(start === 0 ? bytes : bytes.subarray(start));
    return why === undefined
      ? { text, encoding: "utf-8", bomLength: start }
      : { text, encoding: "utf-8", bomLength: start, warning: { code: "ENCODING_UNKNOWN", message: why } };
  } catch {
    return {
      text: decodeWindows1252(bytes, start),
      encoding: "windows-1252",
      bomLength: start,
      warning: {
        code: why === undefined ? "ENCODING_FALLBACK" : "ENCODING_UNKNOWN",
        message: (why === undefined ? "" : why + "; ") + "the bytes are not valid UTF-8: decoded as windows-1252 (ISO-8859-1)",
      },
    };
  }
}

/**
 * Decodes a `daticert.xml`. Order of evidence: a BOM (UTF-8, UTF-16LE/BE); UTF-16
 * without BOM recognised from `<?`; the XML declaration's `encoding` (any case);
 * otherwise UTF-8. Whenever UTF-8 is used and the bytes are not valid UTF-8, the
 * text is decoded as windows-1252 instead (the common mislabelled ISO-8859-1 case).
 *
 * `ascii`, when given, is the text of `bytes` that are all ASCII (one character per
 * byte), which UTF-8 and windows-1252 decode to exactly: it is used instead of decoding
 * them again.
 */
export function decodeXmlBytes(bytes: Uint8Array, ascii?: string): Decoded {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0xef && b1 === 0xbb && bytes[2] === 0xbf) return utf8OrFallback(bytes, 3, undefined);
  if (b0 === 0xff && b1 === 0xfe) return { text: otherDecoder("utf-16le")!.decode(bytes.subarray(2)), encoding: "utf-16le", bomLength: 2 };
  if (b0 === 0xfe && b1 === 0xff) return { text: otherDecoder("utf-16be")!.decode(bytes.subarray(2)), encoding: "utf-16be", bomLength: 2 };
  if (b0 === 0x3c && b1 === 0x00 && bytes[2] === 0x3f && bytes[3] === 0x00) {
    return { text: otherDecoder("utf-16le")!.decode(bytes), encoding: "utf-16le", bomLength: 0 };
  }
  if (b0 === 0x00 && b1 === 0x3c && bytes[2] === 0x00 && bytes[3] === 0x3f) {
    return { text: otherDecoder("utf-16be")!.decode(bytes), encoding: "utf-16be", bomLength: 0 };
  }
  const label = declaredEncoding(bytes, 0);
  if (label === undefined || UTF8_LABELS.has(label)) return utf8OrFallback(bytes, 0, undefined, ascii);
  if (WINDOWS_1252_LABELS.has(label)) return { text: ascii ?? decodeWindows1252(bytes), encoding: "windows-1252", bomLength: 0 };
  const dec = otherDecoder(label);
  // A declaration we could read as ASCII cannot be in UTF-16 (or another non-ASCII-compatible
  // form), so such a label is as wrong as an unknown one.
  if (dec === null || dec.encoding.startsWith("utf-16") || dec.encoding === "replacement") {
    return utf8OrFallback(bytes, 0, `unknown or impossible encoding ${JSON.stringify(label)}`, ascii);
  }
  if (dec.encoding === "utf-8") return utf8OrFallback(bytes, 0, undefined, ascii);
  if (dec.encoding === "windows-1252") return { text: ascii ?? decodeWindows1252(bytes), encoding: "windows-1252", bomLength: 0 };
  return { text: dec.decode(bytes), encoding: dec.encoding, bomLength: 0 };
}

/** Whether each character of the encoding takes one byte, so byte offsets equal string offsets. */
export function isSingleByte(encoding: string): boolean {
  return encoding === "windows-1252" || encoding.startsWith("iso-8859-") || encoding.startsWith("windows-125") || encoding.startsWith("koi8") || encoding === "macintosh" || encoding === "ibm866" || encoding === "x-mac-cyrillic" || encoding === "windows-874";
}
