/**
 * File names that are not valid UTF-8 (Latin-1 names from old Windows archives), kept lossless
 * by the surrogateescape convention, as Python does: each byte that is not part of a valid
 * UTF-8 sequence becomes the lone surrogate U+DC00 + byte. Node decodes such a name with
 * U+FFFD, which can be neither opened again nor told apart from another one. Not part of the
 * public API.
 *
 * @module
 */

/**
 * An escaped byte, never part of a valid name: in `u` mode a surrogate pair is one code point,
 * so only a lone surrogate matches.
 */
const ESCAPED = /[\udc80-\udcff]/u;
const ESCAPED_SPLIT = /([\udc80-\udcff])/u;

// ignoreBOM keeps a leading U+FEFF: it is part of the name.
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Length of the valid UTF-8 sequence at `b[i]`, 0 when none starts there (RFC 3629: no overlong form, surrogate or code point past U+10FFFF). */
function sequenceAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  // The second byte's range is narrower after E0, ED, F0 and F4.
  const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
  const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
  if (b[i + 1]! < lo || b[i + 1]! > hi) return 0;
  for (let k = 2; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  return n;
}

/**
 * A file name as the directory holds it, decoded: UTF-8 when it is valid (a U+FFFD it holds
 * then stays), else with each byte outside a valid sequence as U+DC00 + byte.
 *
 * @param buf - the raw name (`readdir` with `encoding: "buffer"`)
 */
export function nameFromBytes(buf: Uint8Array): string {
  try {
    return strict.decode(buf);
  } catch {
    let out = "";
    for (let i = 0; i < buf.length; ) {
      const n = sequenceAt(buf, i);
      out += n === 0 ? String.fromCharCode(0xdc00 + buf[i]!) : strict.decode(buf.subarray(i, i + n));
      i += n || 1;
    }
    return out;
  }
}

/**
 * The path to give `fs` for a path that may hold names from {@link nameFromBytes}: the string
 * itself when it has no escaped byte (the usual case, checked without allocating: it runs for
 * every file of a scan), else its bytes, the escaped ones restored.
 *
 * @param path - a path built from listed names
 */
export function fsPath(path: string): string | Buffer {
  if (!ESCAPED.test(path)) return path;
  // split with a capture group puts each escaped byte at an odd index.
  return Buffer.concat(path.split(ESCAPED_SPLIT).map((s, i) => (i % 2 ? Buffer.of(s.charCodeAt(0) - 0xdc00) : Buffer.from(s, "utf8"))));
}
