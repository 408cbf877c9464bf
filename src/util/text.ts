/**
 * String clean-ups shared by the readers, the builders and the outputs. Most work by index, where the obvious
 * regular expression is quadratic: V8 tries an
 * unanchored expression at every position, so `/[…]+$/` walks a long run of those characters
 * once per position when something else follows it, and `/<[^>]*>/g` scans the rest of the text
 * from every `<` that is never closed. 80,000 such characters took seconds; a header may hold a
 * mebibyte. Not part of the public API.
 *
 * @module
 * @internal
 */

/**
 * Whether a UTF-16 unit is white space as `\s` and `String.prototype.trim` count it.
 *
 * @internal
 */
export function isJsSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * Runs of white space as one space, trimmed: how a subject or a date is compared once folding
 * and clients' spacing are set aside.
 *
 * @internal
 */
export function squash(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/**
 * `s` without the trailing UTF-16 units that `drop` accepts: `/[…]+$/`, in linear time.
 *
 * @internal
 */
export function trimEndWhere(s: string, drop: (c: number) => boolean): string {
  let end = s.length;
  while (end > 0 && drop(s.charCodeAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * `s` with every span from `open` to the first `close` after it replaced by `by`, left to right:
 * what `/<[^>]*>/g` does for `<` and `>`, in linear time. An `open` that is never closed stays.
 *
 * @internal
 */
export function replaceSpans(s: string, open: string, close: string, by: string): string {
  let at = s.indexOf(open);
  if (at < 0) return s;
  let out = "";
  let from = 0;
  while (at >= 0) {
    const end = s.indexOf(close, at + 1);
    // No close after this open: none after any later one either.
    if (end < 0) break;
    out += s.slice(from, at) + by;
    from = end + 1;
    at = s.indexOf(open, from);
  }
  return out + s.slice(from);
}

/**
 * C0 and C1 control characters, DEL, the Unicode line and paragraph separators, and the bidi
 * controls (LRM, RLM, ALM, embeddings, overrides such as U+202E, isolates).
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Text from a message (subjects, addresses, attachment names, signer names, issue messages),
 * or a file name from an archive, made safe to print on a terminal or put in a CSV cell: every
 * control character (C0, C1: escape sequences, line breaks, clear-screen, OSC) and bidi control
 * becomes `replacement` (a space by default), so no text can forge a line of output, hide what
 * follows or reorder it. JSON escapes controls itself and must stay exact.
 *
 * @internal
 */
export function printable(text: string, replacement = " "): string {
  return text.replace(UNPRINTABLE, replacement);
}

/** Bidi embeddings, overrides and isolates: U+202A–U+202E, U+2066–U+2069. */
const REORDERING = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text for a web page: the bidi controls that reorder the characters after them (embeddings,
 * overrides such as U+202E, isolates) become U+FFFD, so `fattura\u202Efdp.exe` cannot show as
 * "fatturaexe.pdf". Line breaks and the RLM/LRM marks of right-to-left text stay.
 *
 * @internal
 */
export function unreordered(text: string): string {
  return text.replace(REORDERING, "\uFFFD");
}

/**
 * A value for an error message: strings quoted, other values by value or type. Never throws
 * (JSON.stringify throws on a BigInt, and an object's toString may).
 *
 * @internal
 */
export function quoted(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  if (typeof value === "bigint") return `${value}n`;
  return Array.isArray(value) ? "an array" : typeof value;
}
