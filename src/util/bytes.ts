/**
 * Byte helpers shared by every layer. Internal: not part of the public API.
 * Everything here works on `Uint8Array` and never copies unless it says so.
 */

const utf8Decoder = new TextDecoder("utf-8");
const utf8Encoder = new TextEncoder();

/** Decodes UTF-8 (replacing invalid sequences with U+FFFD). */
export function utf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Encodes a string as UTF-8. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

const CHUNK = 0x8000;

/**
 * Maps each byte to the code unit of the same value ("binary string", true ISO-8859-1).
 * TextDecoder("latin1") is windows-1252 in browsers, which changes 0x80-0x9F.
 */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end - start <= CHUNK) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let out = "";
  for (let i = start; i < end; i += CHUNK) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(i + CHUNK, end)) as unknown as number[]);
  }
  return out;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A name whose encoding was not recorded (a ZIP entry without the UTF-8 flag, a tar header):
 * UTF-8 when it is valid, as most tools write it, else byte for byte ({@link latin1}), so that
 * two names stay two and read the same in every runtime.
 */
export function utf8OrLatin1(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}

/** The inverse of {@link latin1}: code units above 0xFF are truncated to their low byte. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The characters WHATWG windows-1252 gives bytes 0x80–0x9F (the other bytes are their own code points). */
export const CP1252_HIGH: readonly number[] = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/** Whether bytes begin as a gzip stream does (its magic number 1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Index of `needle` in `haystack` at or after `from`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const n = needle.length;
  if (n === 0) return from <= haystack.length ? from : -1;
  const first = needle[0]!;
  const last = haystack.length - n;
  for (let i = haystack.indexOf(first, from); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < n && haystack[i + j] === needle[j]) j++;
    if (j === n) return i;
  }
  return -1;
}

/** Byte-wise equality (see {@link sharedPrefix}). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sharedPrefix(a, 0, b, a.length) === a.length;
}

/**
 * How many bytes `a[start, start + n)` and `b[0, n)` share at their beginning. Sixteen bytes
 * per step (four little-endian words whose XORs are ORed: one branch per step), then bytes
 * within the step that differs. Certificates are compared on every cache hit: over the two of
 * a receipt a byte loop measured 2 µs, big-endian words one at a time 0.6 µs, this ≈ 0.35 µs;
 * on the ≈ 3 KB a receipt's p7s shares with the last one, half the time of a word at a time.
 */
export function sharedPrefix(a: Uint8Array, start: number, b: Uint8Array, n: number): number {
  const av = new DataView(a.buffer, a.byteOffset + start, n);
  const bv = new DataView(b.buffer, b.byteOffset, n);
  let p = 0;
  while (
    p + 16 <= n &&
    ((av.getInt32(p, true) ^ bv.getInt32(p, true)) |
      (av.getInt32(p + 4, true) ^ bv.getInt32(p + 4, true)) |
      (av.getInt32(p + 8, true) ^ bv.getInt32(p + 8, true)) |
      (av.getInt32(p + 12, true) ^ bv.getInt32(p + 12, true))) ===
      0
  ) {
    p += 16;
  }
  while (p < n && a[start + p] === b[p]) p++;
  return p;
}

const HEX = "0123456789abcdef";

/** Lower-case hexadecimal encoding. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return out;
}

/** Decodes hexadecimal (either case); returns undefined when the text is not even-length hex. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

/**
 * A Uint8Array backed by a plain ArrayBuffer, as WebCrypto's `BufferSource` typing wants.
 * Copies only when the view is over a SharedArrayBuffer or is a subclass view.
 */
export function asBufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
