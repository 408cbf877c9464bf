// Test-only splitter of S/MIME multipart/signed messages: the verifier's tests must not
// depend on the MIME layer, which is written in parallel. Byte-exact: the signed part
// is cut from the raw bytes, never re-serialised.
import { decodeBase64Bytes } from "../../../src/util/base64.js";
import { latin1 } from "../../../src/util/bytes.js";

/** The signed bytes and the CMS of a multipart/signed message. */
export interface SignedParts {
  /** First part as received: from after the first delimiter line to before the line break preceding the second. */
  signed: Uint8Array;
  /** The decoded smime.p7s. */
  p7s: Uint8Array;
}

function headerValue(text: string, at: number): string {
  // The header field starting at `at`, unfolded.
  let end = at;
  for (;;) {
    const nl = text.indexOf("\n", end);
    if (nl < 0) return text.slice(at);
    end = nl + 1;
    if (text[end] !== " " && text[end] !== "\t") return text.slice(at, nl).replace(/\r?\n[ \t]/g, " ");
  }
}

function boundaryOf(field: string): string | undefined {
  const m = /boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(field);
  return m?.[1] ?? m?.[2];
}

/** Offsets of lines starting with `--boundary`, from `from`. */
function delimiters(text: string, boundary: string, from: number): number[] {
  const out: number[] = [];
  const d = "--" + boundary;
  for (let i = text.indexOf(d, from); i >= 0; i = text.indexOf(d, i + 1)) {
    if (i === 0 || text[i - 1] === "\n") out.push(i);
  }
  return out;
}

/** Finds the outermost multipart/signed entity (also inside a base64 `postacert.eml` attachment). */
export function splitSigned(bytes: Uint8Array): SignedParts | undefined {
  const text = latin1(bytes);
  const ct = /^content-type:[ \t]*multipart\/signed/im.exec(text);
  if (!ct) {
    // A forwarded PEC: the busta is an attachment named postacert.eml (base64).
    const att = /name="?postacert\.eml"?/i.exec(text);
    if (!att) return undefined;
    const bodyStart = text.search(/\r?\n\r?\n/);
    const blank = /\r?\n\r?\n/g;
    blank.lastIndex = att.index;
    const m = blank.exec(text);
    if (!m || bodyStart < 0) return undefined;
    const start = m.index + m[0].length;
    const end = text.indexOf("\n--", start);
    return splitSigned(decodeBase64Bytes(bytes, start, end < 0 ? bytes.length : end));
  }
  const boundary = boundaryOf(headerValue(text, ct.index));
  if (!boundary) return undefined;
  const ds = delimiters(text, boundary, ct.index);
  if (ds.length < 3) return undefined;
  const afterLine = (i: number): number => text.indexOf("\n", i) + 1;
  const beforeBreak = (i: number): number => (text[i - 2] === "\r" ? i - 2 : i - 1);
  const signed = bytes.subarray(afterLine(ds[0]!), beforeBreak(ds[1]!));
  const part2 = text.slice(afterLine(ds[1]!), beforeBreak(ds[2]!));
  const hb = /\r?\n\r?\n/.exec(part2);
  if (!hb) return undefined;
  const bodyOff = afterLine(ds[1]!) + hb.index + hb[0].length;
  return { signed, p7s: decodeBase64Bytes(bytes, bodyOff, beforeBreak(ds[2]!)) };
}

/** LF → CRLF (bare LFs only), as OpenSSL canonicalises text before checking. */
export function toCrlf(bytes: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10 && bytes[i - 1] !== 13) extra++;
  if (extra === 0) return bytes;
  const out = new Uint8Array(bytes.length + extra);
  for (let i = 0, o = 0; i < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i - 1] !== 13) out[o++] = 13;
    out[o++] = bytes[i]!;
  }
  return out;
}
