/**
 * UTF-7 (RFC 2152) decoding. Internal: not part of the public API.
 *
 * `TextDecoder` does not know UTF-7, yet real PEC messages (InfoCert Legalmail, 2019)
 * carry `charset=utf-7` bodies, so postacert decodes it itself. Decoding is lenient:
 * bytes that RFC 2152 forbids outside a shifted run are passed through as Latin-1,
 * leftover bits at the end of a run are dropped, and a lone high surrogate stays as is.
 */

const B64 = new Int8Array(256).fill(-1);
{
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < 64; i++) B64[alphabet.charCodeAt(i)] = i;
}

const PLUS = 0x2b;
const MINUS = 0x2d;

/** Decodes UTF-7 bytes to a string. Never throws. */
export function decodeUtf7(bytes: Uint8Array): string {
  const units: number[] = [];
  let out = "";
  const flush = (): void => {
    // String.fromCharCode.apply has an argument-count ceiling, so flush in chunks.
    out += String.fromCharCode.apply(null, units);
    units.length = 0;
  };
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b !== PLUS) {
      units.push(b);
      i++;
    } else if (i + 1 < n && bytes[i + 1] === MINUS) {
      // "+-" is the escape for a literal "+".
      units.push(PLUS);
      i += 2;
    } else {
      i++;
      let acc = 0;
      let bits = 0;
      while (i < n) {
        const v = B64[bytes[i]!]!;
        if (v < 0) break;
        acc = ((acc << 6) | v) & 0xffffff;
        bits += 6;
        if (bits >= 16) {
          bits -= 16;
          units.push((acc >> bits) & 0xffff);
          // A shifted run may be the whole text: flushed as it grows, or apply() overflows the stack.
          if (units.length >= 0x4000) flush();
        }
        i++;
      }
      // A "-" that ends a shifted run is absorbed; any other terminator is kept.
      if (i < n && bytes[i] === MINUS) i++;
    }
    if (units.length >= 0x4000) flush();
  }
  flush();
  return out;
}
