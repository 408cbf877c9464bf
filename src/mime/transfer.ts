/**
 * Content-Transfer-Encoding: quoted-printable both ways, and the dispatch for decoding.
 * Base64 lives in `src/util/base64.ts`.
 *
 * @module
 */
import { decodeBase64Bytes } from "../util/base64.js";

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const EQ = 0x3d;

const HEXVAL = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEXVAL[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEXVAL[65 + i] = 10 + i;
  HEXVAL[97 + i] = 10 + i;
}

/**
 * Decodes quoted-printable (RFC 2045 §6.7) from `input[start,end)`.
 *
 * Lenient as mail requires: lower-case hex is accepted, an `=` not followed by two hex
 * digits or a line break is kept literally, soft breaks may have white space between
 * `=` and the line break and may end in CRLF or bare LF. Trailing white space before a
 * hard line break is dropped, as RFC 2045 requires (transport may have added it). Hard
 * line breaks are kept as they are in the input (CRLF or LF).
 *
 * @param input - the encoded bytes
 * @param start - first byte (default 0)
 * @param end - end of the range (default `input.length`)
 * @returns a new array with the decoded bytes
 *
 * @example
 * ```ts
 * decodeQuotedPrintable(new TextEncoder().encode("Citt=E0 =\r\nok")); // bytes of "Citt\xe0 ok"
 * ```
 */
export function decodeQuotedPrintable(input: Uint8Array, start = 0, end = input.length): Uint8Array {
  const out = new Uint8Array(end - start);
  let o = 0;
  let i = start;
  while (i < end) {
    const b = input[i]!;
    if (b === EQ) {
      if (i + 2 < end && HEXVAL[input[i + 1]!]! >= 0 && HEXVAL[input[i + 2]!]! >= 0) {
        out[o++] = (HEXVAL[input[i + 1]!]! << 4) | HEXVAL[input[i + 2]!]!;
        i += 3;
        continue;
      }
      let j = i + 1;
      while (j < end && (input[j] === SP || input[j] === HT)) j++;
      if (j === end) {
        i = end;
        continue;
      }
      if (input[j] === LF) {
        i = j + 1;
        continue;
      }
      if (input[j] === CR && j + 1 < end && input[j + 1] === LF) {
        i = j + 2;
        continue;
      }
      out[o++] = EQ;
      i++;
    } else if (b === SP || b === HT) {
      let j = i;
      while (j < end && (input[j] === SP || input[j] === HT)) j++;
      const trailing = j === end || input[j] === LF || (input[j] === CR && j + 1 < end && input[j + 1] === LF);
      if (!trailing) while (i < j) out[o++] = input[i++]!;
      i = j;
    } else {
      out[o++] = b;
      i++;
    }
  }
  return out.subarray(0, o);
}

const HEX = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX[i] = "0123456789ABCDEF".charCodeAt(i);

/**
 * Encodes bytes as quoted-printable with lines of at most 76 characters (soft breaks
 * `=` CRLF). A CRLF pair in the input becomes a hard line break; a bare CR or LF is
 * encoded (`=0D`, `=0A`) so that decoding gives back exactly the input bytes. White
 * space before a line break or at the end is encoded, as are `=` and every byte outside
 * printable ASCII.
 *
 * @param input - the bytes to encode
 * @returns the encoded ASCII bytes (CRLF line breaks)
 *
 * @example
 * ```ts
 * new TextDecoder().decode(encodeQuotedPrintable(new TextEncoder().encode("città \r\n"))); // "citt=C3=A0=20\r\n"
 * ```
 */
export function encodeQuotedPrintable(input: Uint8Array): Uint8Array {
  // Worst case: every byte becomes "=XX", plus one soft break per 25 input bytes.
  const out = new Uint8Array(input.length * 3 + Math.ceil(input.length / 25) * 3 + 3);
  let o = 0;
  let col = 0;
  const n = input.length;
  for (let i = 0; i < n; i++) {
    const b = input[i]!;
    if (b === CR && i + 1 < n && input[i + 1] === LF) {
      out[o++] = CR;
      out[o++] = LF;
      col = 0;
      i++;
      continue;
    }
    let literal = b >= 33 && b <= 126 && b !== EQ;
    if (b === SP || b === HT) {
      const atLineEnd = i + 1 === n || (input[i + 1] === CR && i + 2 < n && input[i + 2] === LF);
      literal = !atLineEnd;
    }
    const len = literal ? 1 : 3;
    if (col + len > 75) {
      out[o++] = EQ;
      out[o++] = CR;
      out[o++] = LF;
      col = 0;
    }
    if (literal) {
      out[o++] = b;
    } else {
      out[o++] = EQ;
      out[o++] = HEX[b >> 4]!;
      out[o++] = HEX[b & 15]!;
    }
    col += len;
  }
  return out.subarray(0, o);
}

/**
 * Undoes a Content-Transfer-Encoding on `source[start,end)`. `base64` and
 * `quoted-printable` return new arrays; every other value (`7bit`, `8bit`, `binary`,
 * unknown ones) returns the range itself, without copying.
 */
export function decodeTransfer(source: Uint8Array, start: number, end: number, encoding: string): Uint8Array {
  if (encoding === "base64") return decodeBase64Bytes(source, start, end);
  if (encoding === "quoted-printable") return decodeQuotedPrintable(source, start, end);
  return source.subarray(start, end);
}
