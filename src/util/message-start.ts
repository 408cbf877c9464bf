/**
 * Where a message's first header line begins in bytes that storage may have prefixed: shared
 * by readPec (which skips the prefix) and the Node sources' sniffing (which must take the same
 * files for messages). Not part of the public API.
 *
 * @module
 * @internal
 */

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
