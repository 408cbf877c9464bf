// A mutable ASN.1 tree for the differential test: parse DER or BER into nodes, change
// them, write them back with per-node control over the length form (minimal DER,
// non-minimal long form, indefinite). Independent of the verifier's reader on purpose:
// a mutation must mean the same bytes whatever postacert thinks of them.
import { oidString, oidValue } from "../../../src/smime/asn1-der.js";
import { concatBytes } from "../../../src/util/bytes.js";

/** How a node's length is written. */
export type LengthForm = "min" | "long" | "indef";

/** One node: constructed (children) or primitive (value). */
export interface Node {
  /** Identifier octet (low tag numbers only, as CMS and X.509 use). */
  tag: number;
  children?: Node[];
  value?: Uint8Array;
  /** Length encoding; default "min" (DER). "indef" only on constructed nodes. */
  len?: LengthForm;
}

export class TreeError extends Error {}

function readLen(b: Uint8Array, p: number): { len: number | undefined; next: number; form: LengthForm } {
  const lb = b[p];
  if (lb === undefined) throw new TreeError("truncated length");
  if (lb < 0x80) return { len: lb, next: p + 1, form: "min" };
  if (lb === 0x80) return { len: undefined, next: p + 1, form: "indef" };
  const n = lb & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[p + 1 + i]!;
  // Minimal: a long form only for lengths of 128 and more, without leading zero octets.
  const minimal = len >= 0x80 && b[p + 1] !== 0;
  return { len, next: p + 1 + n, form: minimal ? "min" : "long" };
}

function parseAt(b: Uint8Array, p: number, limit: number): { node: Node; end: number } {
  const tag = b[p];
  if (tag === undefined || p >= limit) throw new TreeError("truncated");
  if ((tag & 0x1f) === 0x1f) throw new TreeError("high tag number");
  const { len, next, form } = readLen(b, p + 1);
  if (tag & 0x20) {
    const children: Node[] = [];
    let q = next;
    if (len === undefined) {
      while (!(b[q] === 0 && b[q + 1] === 0)) {
        if (q >= limit) throw new TreeError("unterminated indefinite length");
        const c = parseAt(b, q, limit);
        children.push(c.node);
        q = c.end;
      }
      return { node: { tag, children, len: "indef" }, end: q + 2 };
    }
    const end = next + len;
    if (end > limit) throw new TreeError("length exceeds data");
    while (q < end) {
      const c = parseAt(b, q, end);
      children.push(c.node);
      q = c.end;
    }
    return { node: form === "min" ? { tag, children } : { tag, children, len: form }, end };
  }
  if (len === undefined) throw new TreeError("indefinite primitive");
  const end = next + len;
  if (end > limit) throw new TreeError("length exceeds data");
  const value = b.slice(next, end);
  return { node: form === "min" ? { tag, value } : { tag, value, len: form }, end };
}

/** Parses one element (trailing bytes are ignored). */
export function parse(bytes: Uint8Array): Node {
  return parseAt(bytes, 0, bytes.length).node;
}

function lengthBytes(n: number, form: LengthForm): number[] {
  if (form === "indef") return [0x80];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  if (form === "long") return [0x80 | (out.length + 1), 0, ...out];
  if (n < 0x80) return [n];
  return [0x80 | out.length, ...out];
}

/** Writes a node (DER unless a node says otherwise). */
export function encode(node: Node): Uint8Array {
  const content = node.children ? concatBytes(node.children.map(encode)) : node.value!;
  const form = node.len ?? "min";
  if (form === "indef" && node.children) return concatBytes([Uint8Array.of(node.tag, 0x80), content, Uint8Array.of(0, 0)]);
  return concatBytes([Uint8Array.of(node.tag, ...lengthBytes(content.length, form === "indef" ? "min" : form)), content]);
}

/** X.690 SET OF order of the children's encodings. */
export function sortSet(node: Node): void {
  const enc = node.children!.map((c) => ({ c, e: encode(c) }));
  enc.sort((a, b) => {
    const n = Math.min(a.e.length, b.e.length);
    for (let i = 0; i < n; i++) if (a.e[i] !== b.e[i]) return a.e[i]! - b.e[i]!;
    return a.e.length - b.e.length;
  });
  node.children = enc.map((x) => x.c);
}

/** Deep copy. */
export function clone(node: Node): Node {
  return structuredClone(node);
}

/** Every node below and including `node` (pre-order). */
export function walk(node: Node, visit: (n: Node) => void): void {
  visit(node);
  for (const c of node.children ?? []) walk(c, visit);
}

/** DER node builders. */
export const T = {
  seq: (...children: Node[]): Node => ({ tag: 0x30, children }),
  set: (...children: Node[]): Node => ({ tag: 0x31, children }),
  ctx: (n: number, ...children: Node[]): Node => ({ tag: 0xa0 | n, children }),
  oid: (dotted: string): Node => ({ tag: 0x06, value: oidValue(dotted) }),
  int: (v: number | Uint8Array): Node => {
    if (typeof v !== "number") return { tag: 0x02, value: v };
    const bytes: number[] = [];
    do {
      bytes.unshift(v & 0xff);
      v = Math.floor(v / 256);
    } while (v > 0);
    if (bytes[0]! & 0x80) bytes.unshift(0);
    return { tag: 0x02, value: Uint8Array.from(bytes) };
  },
  octets: (value: Uint8Array): Node => ({ tag: 0x04, value }),
  bits: (value: Uint8Array, unused = 0): Node => ({ tag: 0x03, value: concatBytes([Uint8Array.of(unused), value]) }),
  null: (): Node => ({ tag: 0x05, value: new Uint8Array(0) }),
  bool: (v: boolean): Node => ({ tag: 0x01, value: Uint8Array.of(v ? 0xff : 0) }),
  utf8: (s: string): Node => ({ tag: 0x0c, value: new TextEncoder().encode(s) }),
  printable: (s: string): Node => ({ tag: 0x13, value: new TextEncoder().encode(s) }),
  ia5: (s: string): Node => ({ tag: 0x16, value: new TextEncoder().encode(s) }),
  /** UTCTime (or GeneralizedTime with `generalized`) from literal text. */
  timeText: (text: string, generalized = false): Node => ({ tag: generalized ? 0x18 : 0x17, value: new TextEncoder().encode(text) }),
  raw: (der: Uint8Array): Node => parse(der),
};

/** Dotted OID of an OID node. */
export function oidOf(n: Node): string {
  return oidString(n.value!);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** DER time node for a date (UTCTime 1950–2049, else GeneralizedTime). */
export function timeNode(d: Date): Node {
  const y = d.getUTCFullYear();
  const rest = pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + pad(d.getUTCHours()) + pad(d.getUTCMinutes()) + pad(d.getUTCSeconds()) + "Z";
  return y >= 1950 && y < 2050 ? T.timeText(pad(y % 100) + rest) : T.timeText(pad(y, 4) + rest, true);
}
