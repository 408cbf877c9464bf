/**
 * Where a message's first header line begins in bytes that storage may have prefixed: shared
 * by readPec (which skips the prefix) and the Node sources' sniffing (which must take the same
 * files for messages). Not part of the public API.
 *
 * @module
 * @internal
 */
import { PecError } from "../errors.js";
import { CP1252_HIGH, isGzip } from "./bytes.js";

/**
 * The length of what a file may carry before a message's first header line: a UTF-8 byte
 * order mark (Windows editors write one) and blank lines, LF, CRLF or CR CR LF (a CRLF file
 * converted once more), with how many blank lines there were.
 *
 * @internal
 */
export function leadingBytes(bytes: Uint8Array): { length: number; bom: boolean; blank: number } {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  let i = bom ? 3 : 0;
  let blank = 0;
  for (;;) {
    if (bytes[i] === 0x0a) i += 1;
    else if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) i += 2;
    else if (bytes[i] === 0x0d && bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) i += 3;
    else break;
    blank++;
  }
  return { length: i, bom, blank };
}

/**
 * Whether an mbox `From ` line begins at `i` (RFC 4155: the separator before each message).
 *
 * @internal
 */
export function startsWithFrom(bytes: Uint8Array, i: number): boolean {
  return bytes[i] === 0x46 && bytes[i + 1] === 0x72 && bytes[i + 2] === 0x6f && bytes[i + 3] === 0x6d && bytes[i + 4] === 0x20;
}

/**
 * Whether a header field begins at `i`: a name of printable ASCII (RFC 5322 field-name
 * characters) of at most `maxName` bytes, then `:`.
 *
 * @internal
 */
export function startsWithField(bytes: Uint8Array, i: number, maxName = 80): boolean {
  const start = i;
  const end = Math.min(bytes.length, start + maxName + 1);
  for (; i < end; i++) {
    const b = bytes[i]!;
    if (b === 0x3a) return i > start;
    if (b <= 0x20 || b >= 0x7f) return false;
  }
  return false;
}

/** The byte each Windows-1252 character above U+00FF stands for (the inverse of {@link CP1252_HIGH}). */
const CP1252: ReadonlyMap<number, number> = new Map(CP1252_HIGH.map((u, i) => [u, 0x80 + i] as [number, number]).filter(([u]) => u >= 0x100));

/**
 * The bytes of a message saved as UTF-16 text, as Windows PowerShell 5's `>` and `Out-File`
 * write it (the file read as Windows-1252, written UTF-16LE with a byte order mark): each
 * character back to its byte. UTF-16 with a byte order mark, or without one when the first
 * two characters are printable ASCII (a header name). Undefined when the bytes are not such
 * text or hold a character no byte gives (the file was something else: left as it is).
 * With `partial`, a head cut anywhere is converted as far as it goes (for sniffing).
 *
 * @internal
 */
export function fromUtf16(bytes: Uint8Array, partial = false): Uint8Array | undefined {
  const b0 = bytes[0];
  const b1 = bytes[1];
  let le: boolean;
  let i = 2;
  if (b0 === 0xff && b1 === 0xfe) le = true;
  else if (b0 === 0xfe && b1 === 0xff) le = false;
  else {
    const ascii = (b: number | undefined): boolean => b !== undefined && b > 0x20 && b < 0x7f;
    if (b1 === 0 && bytes[3] === 0 && ascii(b0) && ascii(bytes[2])) le = true;
    else if (b0 === 0 && bytes[2] === 0 && ascii(b1) && ascii(bytes[3])) le = false;
    else return undefined;
    i = 0;
  }
  let end = bytes.length;
  if ((end - i) % 2 !== 0) {
    if (!partial) return undefined;
    end--;
  }
  const out = new Uint8Array((end - i) / 2);
  for (let o = 0; i < end; i += 2, o++) {
    const unit = le ? bytes[i]! | (bytes[i + 1]! << 8) : (bytes[i]! << 8) | bytes[i + 1]!;
    if (unit < 0x100) out[o] = unit;
    else {
      const byte = CP1252.get(unit);
      if (byte === undefined) return undefined;
      out[o] = byte;
    }
  }
  return out;
}

/** How much of a file {@link looksLikeMessage} looks at. */
const SNIFF_BYTES = 1024;

/**
 * Whether the start of a file looks like a message: the first line is a header field
 * (`Name: value`, RFC 5322 field-name characters) — cheap enough to run on every file of a
 * folder. Reads at most the first 1 KiB of `head`. Shared with the CLI's scan workers; not
 * part of the public API.
 *
 * @internal
 */
export function looksLikeMessage(head: Uint8Array): boolean {
  // UTF-16 text, a UTF-8 BOM and blank lines may come first, as readPec allows.
  head = fromUtf16(head.subarray(0, SNIFF_BYTES), true) ?? head;
  const start = leadingBytes(head).length;
  return start < SNIFF_BYTES && startsWithField(head.subarray(0, SNIFF_BYTES), start, SNIFF_BYTES);
}

/** Compressed formats recognised by their first bytes but not read (neither Node 20 nor browsers decode them). */
const UNREAD_COMPRESSIONS: readonly [name: "bzip2" | "xz" | "zstd", magic: readonly number[]][] = [
  ["bzip2", [0x42, 0x5a, 0x68]], // "BZh", then the block size and the block magic
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  for (let i = 0; i < magic.length; i++) if (bytes[at + i] !== magic[i]) return false;
  return true;
}

/**
 * The compression a stored message's first bytes show: gzip, which is read, or one of
 * Dovecot's others, which are not. Not part of the public API.
 *
 * @internal
 */
export function compressionOf(bytes: Uint8Array): "gzip" | "bzip2" | "xz" | "zstd" | undefined {
  if (isGzip(bytes)) return "gzip";
  const b0 = bytes[0];
  if (b0 !== 0x42 && b0 !== 0xfd && b0 !== 0x28) return undefined;
  for (const [name, magic] of UNREAD_COMPRESSIONS) {
    // "BZh" alone could begin a header name: bzip2 has a block size digit and the block magic after it.
    if (startsWith(bytes, magic) && (name !== "bzip2" || (bytes[3]! >= 0x31 && bytes[3]! <= 0x39 && startsWith(bytes, [0x31, 0x41, 0x59, 0x26, 0x53, 0x59], 4)))) return name;
  }
  return undefined;
}

/**
 * The error for a message stored in a compression that is not read, worded alike by the CLI,
 * the Node readers and the browser inspector. Not part of the public API.
 *
 * @internal
 */
export function unsupportedCompression(name: "bzip2" | "xz" | "zstd"): PecError {
  return new PecError("ERR_UNSUPPORTED", `the file is ${name}-compressed; decompress it first (or store it gzip-compressed)`);
}

/**
 * Whether a file that starts with `head` may be a message: a header field first, or compressed
 * (what it holds is known once decompressed). Not part of the public API.
 *
 * @internal
 */
export function mayBeMessage(head: Uint8Array): boolean {
  return compressionOf(head) !== undefined || looksLikeMessage(head);
}
