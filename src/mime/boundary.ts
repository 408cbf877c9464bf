/**
 * Finding multipart delimiter lines (RFC 2046 §5.1.1) fast and in linear time.
 *
 * A delimiter line is `--boundary`, optionally `--` (close delimiter), optional transport
 * padding (spaces, tabs), then a line break or the end of the body. It must start a line.
 * Anything else after the boundary (as in `--boundary-2`) means it is not a delimiter, so
 * a boundary that is a prefix of another never matches the longer one.
 *
 * The search is Horspool over the pattern LF "--" boundary: in base64 bodies most
 * bytes do not occur near the end of the pattern, so it skips several bytes per step.
 * Bodies nest (multipart/signed → mixed → message/rfc822 → mixed: the same bytes
 * searched three or four times for different boundaries), so the parser has
 * {@link DashLines} list once where lines start with "--", the only places a delimiter
 * can be, and looks for every boundary of the nested entities there only; Horspool is
 * the fallback for text with too many such lines. Either way a candidate is
 * verified only at an LF "--" and the verification stops before the next LF (the boundary
 * holds none), which bounds the total work to O(n) even for hostile boundaries and bodies.
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
  private shift: number[] | undefined;
  private readonly boundaryLength: number;

  /**
   * @param boundary - the boundary parameter (without the leading `--`), as bytes or as a
   * string of code units below 0x100 taken as bytes (Latin-1); it must not contain CR or
   * LF (callers reject such boundaries), which the linear bound relies on
   */
  constructor(boundary: Uint8Array | string) {
    const m = boundary.length + 3;
    const pattern = new Uint8Array(m);
    pattern[0] = LF;
    pattern[1] = DASH;
    pattern[2] = DASH;
    if (typeof boundary === "string") {
      for (let i = 0; i < boundary.length; i++) pattern[i + 3] = boundary.charCodeAt(i);
    } else {
      pattern.set(boundary, 3);
    }
    this.pattern = pattern;
    this.boundaryLength = boundary.length;
  }

  /**
   * The Horspool shift table, built on the first search that needs it: searches given
   * {@link DashLines} never do, and filling 256 entries per multipart was a fifteenth of
   * a receipt's MIME parse. A plain array of small integers lives in the JS heap; a 1 KB
   * Int32Array needs an off-heap backing store, whose allocation and release cost more
   * than the search of a receipt-sized body.
   */
  private shiftTable(): number[] {
    if (this.shift === undefined) {
      const pattern = this.pattern;
      const m = pattern.length;
      const shift = new Array<number>(256).fill(m);
      for (let k = 0; k < m - 1; k++) shift[pattern[k]!] = m - 1 - k;
      this.shift = shift;
    }
    return this.shift;
  }

  /**
   * The first delimiter line of `src[start,end)` whose `--` is at or after `from`. A line
   * starts at `start` or right after an LF inside the range. `lines`, when given, must
   * come from {@link DashLines.collect} on `src` over a range that contains `[start, end)`.
   */
  find(src: Uint8Array, from: number, start: number, end: number, lines?: DashLines): DelimiterMatch | null {
    if (from <= start) {
      const m = this.verifyAt(src, start, end);
      if (m) return m;
    }
    if (lines !== undefined) {
      // Candidates: positions of "--" right after an LF, collected once for an enclosing range.
      const pos = lines.positions;
      for (let k = lines.firstAtOrAfter(Math.max(from, start + 1)); k < pos.length; k++) {
        const p = pos[k]!;
        if (p >= end) break;
        const hit = this.verifyAt(src, p, end);
        if (hit) return hit;
      }
      return null;
    }
    return this.horspool(src, from, start, end);
  }

  /** {@link find} without its first-line check, by Horspool over LF "--" boundary. */
  private horspool(src: Uint8Array, from: number, start: number, end: number): DelimiterMatch | null {
    const pattern = this.pattern;
    const shift = this.shiftTable();
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

/** The bytes `source[start, start + text.length)` as a string with one UTF-16 unit per byte. */
export interface SourceText {
  readonly source: Uint8Array;
  readonly start: number;
  readonly text: string;
}

// Non-fatal, so that invalid bytes cost no exception; ignoreBOM so that a BOM is not dropped.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * `src[start, end)` as a {@link SourceText}, or undefined when the bytes hold UTF-8
 * sequences (or a BOM). UTF-8 decoding turns each byte into at most one UTF-16 unit, and
 * into exactly one only when it is ASCII (itself) or an invalid byte on its own (U+FFFD,
 * which is no byte the searches look for): a string as long as the range maps byte to
 * unit. ASCII decodes at memory speed.
 */
export function sourceText(src: Uint8Array, start: number, end: number): SourceText | undefined {
  const text = utf8Decoder.decode(src.subarray(start, end));
  return text.length === end - start ? { source: src, start, text } : undefined;
}

/**
 * Adds to `positions` the line-start "--" whose first dash is in `[from, dashEnd)`, found in
 * `t`, the text of `src` from `base` on (one unit per byte); false when that makes more than
 * `max`. A "--" found in `t` has both dashes inside it.
 */
function scanText(src: Uint8Array, t: string, base: number, from: number, dashEnd: number, positions: number[], max: number): boolean {
  let k = t.indexOf("--", from - base);
  while (k !== -1 && base + k < dashEnd) {
    if (src[base + k - 1] === LF) {
      if (positions.length >= max) return false;
      positions.push(base + k);
    }
    // The next candidate starts a line: skip the rest of this one, so a text line of
    // dashes (a signature separator, a table rule) costs two calls, not one per dash.
    const lf = t.indexOf("\n", k + 2);
    if (lf === -1) break;
    k = t.indexOf("--", lf + 1);
  }
  return true;
}

/** Bytes per text chunk of {@link DashLines.collect} over a range without a text. */
const CHUNK = 64 * 1024;

/**
 * Adds to `positions` the line-start "--" of `src` whose first dash is in `[from, to)` and
 * whose second is before `end`; false when that makes more than `max`.
 */
function collectBytes(src: Uint8Array, from: number, to: number, end: number, positions: number[], max: number): boolean {
  const view = src.subarray(0, Math.min(end, to + 1));
  for (let lf = view.indexOf(LF, from - 1); lf !== -1 && lf + 1 < to; lf = view.indexOf(LF, lf + 1)) {
    if (src[lf + 1] === DASH && lf + 2 < end && src[lf + 2] === DASH) {
      if (positions.length >= max) return false;
      positions.push(lf + 1);
    }
  }
  return true;
}

/**
 * The positions of "--" at the start of a line (right after an LF) in one range of a
 * buffer, found once with the engine's native string `indexOf` ("--" in the ASCII text of
 * the bytes: the caller's, or the range decoded 64 KiB at a time; base64 holds no dash, so
 * the scan runs at memory speed over attachments; chunks holding UTF-8 are scanned line by
 * line in the bytes) and shared by the delimiter searches of every multipart nested in that
 * range.
 */
export class DashLines {
  private constructor(
    readonly source: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly positions: readonly number[],
  ) {}

  /**
   * Collects the candidates of `src[start, end)`; undefined when the range holds more
   * than one per 64 bytes (plus 1,024): hostile or odd text, where the memory would not
   * pay off and the plain search is used instead.
   */
  static collect(src: Uint8Array, start: number, end: number, text?: SourceText): DashLines | undefined {
    const max = 1024 + ((end - start) >> 6);
    const positions: number[] = [];
    if (text !== undefined && text.source === src && start >= text.start && end <= text.start + text.text.length) {
      // The same scan over the text: V8 searches strings in C++ with memchr, at a few
      // nanoseconds a call where TypedArray.prototype.indexOf costs dozens (6 µs → 2 µs on
      // a 10 KB receipt, decoding included). "--" at the start of a line ends no later
      // than `end`, as in the byte scan.
      return scanText(src, text.text, text.start, start + 1, end - 1, positions, max) ? new DashLines(src, start, end, positions) : undefined;
    }
    // Larger ranges (no text of the whole): the same string scan a chunk at a time, so the
    // transient text stays small. TypedArray.prototype.indexOf runs at ≈2 bytes/ns, half the
    // parse of a 1 MB busta; decoding a chunk and searching its text costs a third of that.
    for (let c = start + 1; c < end; c += CHUNK) {
      const ce = Math.min(end, c + CHUNK);
      // Dashes at [c, ce); one more byte so that a "--" across the chunk's end is seen whole.
      const te = Math.min(end, ce + 1);
      const t = utf8Decoder.decode(src.subarray(c, te));
      if (t.length !== te - c) {
        // UTF-8 in the chunk: its text does not map byte to unit.
        if (!collectBytes(src, c, ce, end, positions, max)) return undefined;
        continue;
      }
      if (!scanText(src, t, c, c, ce, positions, max)) return undefined;
    }
    return new DashLines(src, start, end, positions);
  }

  /** Whether these candidates serve a search of `src[start, end)`. */
  covers(src: Uint8Array, start: number, end: number): boolean {
    return src === this.source && start >= this.start && end <= this.end;
  }

  /** Index of the first position ≥ `pos` (binary search). */
  firstAtOrAfter(pos: number): number {
    const a = this.positions;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
