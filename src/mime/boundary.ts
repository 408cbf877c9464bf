/**
 * Finding multipart delimiter lines (RFC 2046 §5.1.1) fast and in linear time.
 *
 * A delimiter line is `--boundary`, optionally `--` (close delimiter), optional transport
 * padding (spaces, tabs), then a line break or the end of the body. It must start a line.
 * Anything else after the boundary (as in `--boundary-2`) means it is not a delimiter, so
 * a boundary that is a prefix of another never matches the longer one.
 *
 * The search is Horspool over the pattern LF "--" boundary: in base64 bodies most
 * bytes do not occur near the end of the pattern, so it skips about a pattern length per
 * step, faster than scanning every byte. Candidates are verified front to back; since the
 * pattern holds a single LF (its first byte), a verification longer than one byte starts
 * only at an LF of the text and stops before the next one, which bounds the total work
 * to O(n) even for hostile boundaries and bodies.
 *
 * @module
 */

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const SP = 0x20;
const HT = 0x09;

/** A delimiter line found by {@link DelimiterFinder.find}. */
export interface DelimiterMatch {
  /** Position of the leading `--`. */
  dash: number;
  /** End of the line, after its line break (or the end of the searched range). */
  lineEnd: number;
  /** Whether it is the close delimiter (`--boundary--`). */
  close: boolean;
}

/** Finds the delimiter lines of one boundary. */
export class DelimiterFinder {
  private readonly pattern: Uint8Array;
  private readonly shift: Int32Array;
  private readonly boundaryLength: number;

  /**
   * @param boundary - the boundary parameter, as bytes (without the leading `--`); it must
   * not contain CR or LF (callers reject such boundaries), which the linear bound relies on
   */
  constructor(boundary: Uint8Array) {
    const m = boundary.length + 3;
    const pattern = new Uint8Array(m);
    pattern[0] = LF;
    pattern[1] = DASH;
    pattern[2] = DASH;
    pattern.set(boundary, 3);
    const shift = new Int32Array(256).fill(m);
    for (let k = 0; k < m - 1; k++) shift[pattern[k]!] = m - 1 - k;
    this.pattern = pattern;
    this.shift = shift;
    this.boundaryLength = boundary.length;
  }

  /**
   * The first delimiter line of `src[start,end)` whose `--` is at or after `from`. A line
   * starts at `start` or right after an LF inside the range.
   */
  find(src: Uint8Array, from: number, start: number, end: number): DelimiterMatch | null {
    if (from <= start) {
      const m = this.verifyAt(src, start, end);
      if (m) return m;
    }
    const pattern = this.pattern;
    const shift = this.shift;
    const m = pattern.length;
    const last = pattern[m - 1]!;
    let i = Math.max(start, from - 1);
    const stop = end - m;
    while (i <= stop) {
      const c = src[i + m - 1]!;
      if (c === last && src[i] === LF) {
        const hit = this.verifyAt(src, i + 1, end);
        if (hit) return hit;
      }
      i += shift[c]!;
    }
    return null;
  }

  /** Checks for a delimiter line whose `--` is at `p`. */
  private verifyAt(src: Uint8Array, p: number, end: number): DelimiterMatch | null {
    let q = p + 2 + this.boundaryLength;
    if (q > end) return null;
    if (src[p] !== DASH || src[p + 1] !== DASH) return null;
    const pattern = this.pattern;
    for (let k = 3; k < pattern.length; k++) if (src[p + k - 1] !== pattern[k]) return null;
    let close = false;
    if (q + 2 <= end && src[q] === DASH && src[q + 1] === DASH) {
      close = true;
      q += 2;
    }
    while (q < end && (src[q] === SP || src[q] === HT)) q++;
    if (q === end) return { dash: p, lineEnd: end, close };
    if (src[q] === LF) return { dash: p, lineEnd: q + 1, close };
    if (src[q] === CR) {
      if (q + 1 === end) return { dash: p, lineEnd: end, close };
      if (src[q + 1] === LF) return { dash: p, lineEnd: q + 2, close };
    }
    return null;
  }
}
