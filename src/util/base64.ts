/**
 * Base64 (RFC 4648) for MIME and PEM. Internal: not part of the public API.
 *
 * Decoding is tolerant as mail requires: it skips whitespace and any byte outside the
 * alphabet, lets padding close a quantum (so separately padded chunks concatenate), and
 * keeps the whole bytes of a truncated final quantum. It works on bytes directly so a 100 MB body is never
 * turned into a string.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
// base64url letters too: some producers use them in PEM-like text.
DECODE["-".charCodeAt(0)] = 62;
DECODE["_".charCodeAt(0)] = 63;

/** Decodes base64 from ASCII bytes (tolerant, see module doc). */
export function decodeBase64Bytes(input: Uint8Array, start = 0, end = input.length): Uint8Array {
  const out = new Uint8Array(Math.floor(((end - start) * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    // Whole quanta of four alphabet characters (all of a line but its break) four at a time,
    // without the per-character branches: the p7s and daticert.xml of every receipt were a
    // twelfth of its read at ≈300 MB/s (≈450 MB/s now). Anything else goes through the loop body below.
    if (n === 0) {
      while (i + 4 <= end) {
        const a = DECODE[input[i]!]!;
        const b = DECODE[input[i + 1]!]!;
        const c = DECODE[input[i + 2]!]!;
        const d = DECODE[input[i + 3]!]!;
        if ((a | b | c | d) < 0) break;
        const v = (a << 18) | (b << 12) | (c << 6) | d;
        out[o] = v >> 16;
        out[o + 1] = (v >> 8) & 0xff;
        out[o + 2] = v & 0xff;
        o += 3;
        i += 4;
      }
      if (i >= end) break;
    }
    const c = input[i]!;
    const v = DECODE[c]!;
    if (v < 0) {
      // "=" closes a quantum: concatenated, separately padded chunks ("aGk=aGk=") stay aligned.
      if (c === 61 && n >= 2) {
        out[o++] = n === 2 ? (acc >> 4) & 0xff : (acc >> 10) & 0xff;
        if (n === 3) out[o++] = (acc >> 2) & 0xff;
        acc = 0;
        n = 0;
      }
      continue;
    }
    acc = (acc << 6) | v;
    if (++n === 4) {
      out[o++] = (acc >> 16) & 0xff;
      out[o++] = (acc >> 8) & 0xff;
      out[o++] = acc & 0xff;
      acc = 0;
      n = 0;
    }
  }
  if (n === 2) {
    out[o++] = (acc >> 4) & 0xff;
  } else if (n === 3) {
    out[o++] = (acc >> 10) & 0xff;
    out[o++] = (acc >> 2) & 0xff;
  }
  return out.subarray(0, o);
}

/** Decodes base64 text (tolerant, see module doc). */
export function decodeBase64(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    bytes[i] = c < 256 ? c : 0x20;
  }
  return decodeBase64Bytes(bytes);
}

const ENC = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENC[i] = ALPHABET.charCodeAt(i);

/**
 * Encodes bytes as base64 ASCII bytes, optionally broken into lines of `lineLength`
 * characters (a multiple of 4) ended by CRLF, the last line included.
 */
export function encodeBase64Bytes(input: Uint8Array, lineLength = 0): Uint8Array {
  const chars = Math.ceil(input.length / 3) * 4;
  const perLine = lineLength > 0 ? lineLength - (lineLength % 4) || 4 : 0;
  const lines = perLine ? Math.ceil(chars / perLine) : 0;
  const out = new Uint8Array(chars + lines * 2);
  let o = 0;
  let col = 0;
  const full = input.length - (input.length % 3);
  let i = 0;
  for (; i < full; i += 3) {
    const v = (input[i]! << 16) | (input[i + 1]! << 8) | input[i + 2]!;
    out[o++] = ENC[v >> 18]!;
    out[o++] = ENC[(v >> 12) & 63]!;
    out[o++] = ENC[(v >> 6) & 63]!;
    out[o++] = ENC[v & 63]!;
    if (perLine && (col += 4) === perLine) {
      out[o++] = 13;
      out[o++] = 10;
      col = 0;
    }
  }
  const rest = input.length - full;
  if (rest > 0) {
    const v = (input[i]! << 16) | (rest === 2 ? input[i + 1]! << 8 : 0);
    out[o++] = ENC[v >> 18]!;
    out[o++] = ENC[(v >> 12) & 63]!;
    out[o++] = rest === 2 ? ENC[(v >> 6) & 63]! : 61;
    out[o++] = 61;
    col += 4;
  }
  if (perLine && col > 0) {
    out[o++] = 13;
    out[o++] = 10;
  }
  return out.subarray(0, o);
}

/** Encodes bytes as a base64 string (no line breaks unless `lineLength` is given). */
export function encodeBase64(input: Uint8Array, lineLength = 0): string {
  const bytes = encodeBase64Bytes(input, lineLength);
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return out;
}
