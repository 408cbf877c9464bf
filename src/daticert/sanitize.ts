/**
 * Removal of what XML 1.0 forbids but real `daticert.xml` files contain (raw C0
 * controls, references to them), with a map back to the original positions.
 * Internal to the daticert layer.
 *
 * @module
 */

/**
 * One raw character XML 1.0 cannot carry: C0 controls but TAB, LF, CR; U+FFFE, U+FFFF;
 * lone surrogates (valid pairs are fine).
 */
export const ILLEGAL_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A cheap superset of {@link ILLEGAL_CHAR}: any surrogate counts. */
export const SUSPECT_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;

const ILLEGAL_OR_REF =
  /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|&#(?:([xX])([0-9A-Fa-f]+)|([0-9]+));/g;

const ILLEGAL_G = new RegExp(ILLEGAL_CHAR.source, "g");

/** `s` without the characters {@link ILLEGAL_CHAR} matches (as a gestore must write a subject carrying them). */
export function dropXmlIllegal(s: string): string {
  return SUSPECT_CHAR.test(s) ? s.replace(ILLEGAL_G, "") : s;
}

/** Whether a code point matches the XML 1.0 `Char` production. */
export function isXmlChar(cp: number): boolean {
  return cp >= 0x20
    ? cp <= 0xd7ff || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
    : cp === 0x09 || cp === 0x0a || cp === 0x0d;
}

/** The result of {@link sanitizeXml}. */
export interface Sanitized {
  /** The text to hand to the XML parser. */
  text: string;
  /**
   * Edits as flat triples `[sourceIndex, sourceLength, outputLength]`, in order; null
   * when nothing changed (the common case).
   */
  edits: number[] | null;
  /** Raw illegal characters replaced: count and index of the first. */
  chars: number;
  firstChar: number;
  /** Illegal character references replaced: count and index of the first. */
  refs: number;
  firstRef: number;
}

/**
 * Replaces every raw character and every numeric character reference that XML 1.0
 * forbids by `replacement`. References to allowed characters are left alone (an
 * upper-case `&#X…;` is lower-cased, as saxes accepts only `&#x…;`). Cost on
 * clean input: one regular-expression scan and one `indexOf`.
 */
export function sanitizeXml(source: string, replacement: string): Sanitized {
  const out: Sanitized = { text: source, edits: null, chars: 0, firstChar: -1, refs: 0, firstRef: -1 };
  // The gate treats every surrogate as suspect: far cheaper than the exact pattern,
  // and surrogate pairs (emoji) are rare in certification data.
  if (!SUSPECT_CHAR.test(source) && source.indexOf("&#") === -1) return out;
  const edits: number[] = [];
  out.text = source.replace(ILLEGAL_OR_REF, (m: string, x: string | undefined, hex: string | undefined, dec: string | undefined, at: number) => {
    if (hex !== undefined || dec !== undefined) {
      const cp = hex !== undefined ? parseInt(hex, 16) : parseInt(dec!, 10);
      // "&#X41;" is not XML but its meaning is plain; same length, so no edit to record.
      if (isXmlChar(cp)) return x === "X" ? "&#x" + hex + ";" : m;
      if (out.refs++ === 0) out.firstRef = at;
    } else if (out.chars++ === 0) {
      out.firstChar = at;
    }
    edits.push(at, m.length, replacement.length);
    return replacement;
  });
  if (edits.length > 0) out.edits = edits;
  return out;
}

/** Maps an index in the sanitised text back to the source text. */
export function toSourceIndex(index: number, edits: number[] | null): number {
  if (edits === null) return index;
  let delta = 0;
  for (let k = 0; k < edits.length; k += 3) {
    const at = edits[k]!;
    const srcLen = edits[k + 1]!;
    const outLen = edits[k + 2]!;
    const outAt = at - delta;
    if (index < outAt) break;
    if (index < outAt + outLen) return at;
    delta += srcLen - outLen;
  }
  return index + delta;
}
