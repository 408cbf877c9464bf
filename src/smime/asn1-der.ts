/**
 * A small DER writer (and the BER variant real gestori send) plus a TLV reader, for the
 * CMS signer and the test PKI. Internal: not part of the public API.
 *
 * The signer builds its output with this instead of pkijs's object model because it
 * needs byte-level control pkijs does not offer: SET OF sorted as DER requires, signed
 * attributes encoded once and reused verbatim, and a BER form with indefinite lengths
 * and a chunked eContent. It is also much faster, which matters for the receipt
 * benchmark.
 *
 * @module
 */

import { PecError } from "../errors.js";
import { concatBytes } from "../util/bytes.js";
import { TAG } from "./ber.js";

// One table of tag octets for reading (ber.ts) and writing; writers take it from here with the rest.
export { TAG };

/**
 * A node of an ASN.1 tree to encode.
 *
 * - `{ tag, children }`: constructed; `indefinite` asks the BER writer for an
 *   indefinite length (the DER writer ignores it); `sortSet` sorts the children's
 *   encodings as DER wants for SET OF.
 * - `{ tag, value }`: primitive with these content octets; `chunk` asks the BER writer
 *   to emit it constructed (indefinite, in pieces of `chunk` bytes), which is how
 *   streaming signers write eContent.
 * - `{ raw }`: an already encoded TLV, copied verbatim (certificates, signed attributes).
 */
export type AsnNode =
  | { tag: number; children: AsnNode[]; indefinite?: boolean; sortSet?: boolean }
  | { tag: number; value: Uint8Array; chunk?: number }
  | { raw: Uint8Array };

/** Constructed node. */
export function cons(tag: number, children: AsnNode[], indefinite = false): AsnNode {
  return { tag, children, indefinite };
}
/** SEQUENCE. */
export function seq(...children: AsnNode[]): AsnNode {
  return { tag: TAG.SEQUENCE, children };
}
/** SET OF, sorted as DER requires. */
export function setOf(children: AsnNode[]): AsnNode {
  return { tag: TAG.SET, children, sortSet: true };
}
/** Primitive node. */
export function prim(tag: number, value: Uint8Array): AsnNode {
  return { tag, value };
}
/** Pre-encoded TLV. */
export function raw(bytes: Uint8Array): AsnNode {
  return { raw: bytes };
}

const NULL_NODE: AsnNode = { tag: TAG.NULL, value: new Uint8Array(0) };
/** NULL. */
export function nul(): AsnNode {
  return NULL_NODE;
}

const oidCache = new Map<string, Uint8Array>();

/** Content octets of an OBJECT IDENTIFIER in dotted form (cached: the same few OIDs recur). */
export function oidValue(dotted: string): Uint8Array {
  const hit = oidCache.get(dotted);
  if (hit) return hit;
  const arcs = dotted.split(".");
  if (arcs.length < 2 || arcs.some((a) => !/^\d+$/.test(a))) {
    throw new PecError("ERR_INVALID_ARGUMENT", `not an object identifier: ${JSON.stringify(dotted)}`);
  }
  const nums = arcs.map((a) => BigInt(a));
  const first = nums[0]!;
  const second = nums[1]!;
  if (first > 2n || (first < 2n && second > 39n)) {
    throw new PecError("ERR_INVALID_ARGUMENT", `not an object identifier: ${JSON.stringify(dotted)}`);
  }
  const out: number[] = [];
  const put = (n: bigint): void => {
    const bytes: number[] = [Number(n & 0x7fn)];
    for (n >>= 7n; n > 0n; n >>= 7n) bytes.unshift(Number(n & 0x7fn) | 0x80);
    out.push(...bytes);
  };
  put(first * 40n + second);
  for (let i = 2; i < nums.length; i++) put(nums[i]!);
  const value = Uint8Array.from(out);
  oidCache.set(dotted, value);
  return value;
}

/** Dotted form of OBJECT IDENTIFIER content octets. */
export function oidString(value: Uint8Array): string {
  const arcs: bigint[] = [];
  let n = 0n;
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    n = (n << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(n);
      n = 0n;
    }
  }
  if (arcs.length === 0) return "";
  const head = arcs[0]!;
  const first = head < 40n ? 0n : head < 80n ? 1n : 2n;
  return [first, head - first * 40n, ...arcs.slice(1)].join(".");
}

/** OBJECT IDENTIFIER node. */
export function oid(dotted: string): AsnNode {
  return { tag: TAG.OID, value: oidValue(dotted) };
}

/** INTEGER from unsigned big-endian magnitude bytes (adds the sign octet, strips extra zeros). */
export function uintValue(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const m = magnitude.subarray(start);
  if (m.length === 0) return new Uint8Array([0]);
  if (m[0]! & 0x80) {
    const out = new Uint8Array(m.length + 1);
    out.set(m, 1);
    return out;
  }
  return m;
}

/** INTEGER node from a small non-negative number. */
export function int(n: number): AsnNode {
  const bytes: number[] = [];
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  return { tag: TAG.INTEGER, value: uintValue(Uint8Array.from(bytes)) };
}

/** OCTET STRING node. */
export function octets(value: Uint8Array): AsnNode {
  return { tag: TAG.OCTET_STRING, value };
}

/** BIT STRING node over whole bytes (0 unused bits). */
export function bits(value: Uint8Array): AsnNode {
  const v = new Uint8Array(value.length + 1);
  v.set(value, 1);
  return { tag: TAG.BIT_STRING, value: v };
}

const pad2 = (n: number): string => (n < 10 ? "0" : "") + n;

/**
 * UTCTime for 1950–2049 and GeneralizedTime otherwise (RFC 5280 §4.1.2.5, RFC 5652
 * §11.3), to the second, always in Z: the DER forms.
 */
export function time(date: Date): AsnNode {
  const y = date.getUTCFullYear();
  const rest =
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds()) +
    "Z";
  if (y >= 1950 && y < 2050) return { tag: TAG.UTC_TIME, value: ascii(pad2(y % 100) + rest) };
  return { tag: TAG.GENERALIZED_TIME, value: ascii(String(y).padStart(4, "0") + rest) };
}

/** ASCII bytes of a string already known to be ASCII. */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function lengthSize(len: number): number {
  if (len < 0x80) return 1;
  let n = 1;
  while (len > 0xff) {
    len = Math.floor(len / 256);
    n++;
  }
  return n + 1;
}

function writeLength(out: Uint8Array, at: number, len: number): number {
  if (len < 0x80) {
    out[at] = len;
    return at + 1;
  }
  const n = lengthSize(len) - 1;
  out[at++] = 0x80 | n;
  for (let i = n - 1; i >= 0; i--) {
    out[at + i] = len & 0xff;
    len = Math.floor(len / 256);
  }
  return at + n;
}

/** Compares two encodings as X.690 §11.6 orders SET OF components. */
function compareDer(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  // The shorter one is padded with zero octets, so a longer one whose tail is all
  // zeros compares equal; otherwise it sorts after.
  const longer = a.length > b.length ? a : b;
  for (let i = n; i < longer.length; i++) if (longer[i] !== 0) return a.length > b.length ? 1 : -1;
  return 0;
}

/**
 * A tree with every sorted SET replaced by its children pre-encoded in order, so both
 * writers agree on the order (BER keeps the DER order).
 */
function resolveSets(node: AsnNode): AsnNode {
  if ("raw" in node || "value" in node) return node;
  const children = node.children.map(resolveSets);
  if (!node.sortSet) return { tag: node.tag, children, indefinite: node.indefinite ?? false };
  // Pre-encoded children (certificates) are compared in place, without a copy.
  const encoded = children.map((c) => ("raw" in c ? c.raw : encodeDer(c))).sort(compareDer);
  return { tag: node.tag, children: encoded.map(raw), indefinite: node.indefinite ?? false };
}

/** Size of the DER encoding of a node whose sets are already resolved; fills `sizes`. */
function derSize(node: AsnNode, sizes: Map<AsnNode, number>): number {
  if ("raw" in node) return node.raw.length;
  let content: number;
  if ("value" in node) content = node.value.length;
  else {
    content = 0;
    for (const c of node.children) content += derSize(c, sizes);
  }
  sizes.set(node, content);
  return 1 + lengthSize(content) + content;
}

function derWrite(node: AsnNode, out: Uint8Array, at: number, sizes: Map<AsnNode, number>): number {
  if ("raw" in node) {
    out.set(node.raw, at);
    return at + node.raw.length;
  }
  out[at++] = node.tag;
  at = writeLength(out, at, sizes.get(node)!);
  if ("value" in node) {
    out.set(node.value, at);
    return at + node.value.length;
  }
  for (const c of node.children) at = derWrite(c, out, at, sizes);
  return at;
}

/** DER encoding of a tree. */
export function encodeDer(node: AsnNode): Uint8Array<ArrayBuffer> {
  const resolved = resolveSets(node);
  const sizes = new Map<AsnNode, number>();
  const total = derSize(resolved, sizes);
  const out = new Uint8Array(total);
  derWrite(resolved, out, 0, sizes);
  return out;
}

/**
 * BER encoding of a tree: nodes marked `indefinite` get indefinite lengths closed by
 * end-of-contents octets, and primitive nodes with `chunk` become constructed strings
 * of definite-length pieces. Everything else is written as DER.
 */
export function encodeBer(node: AsnNode): Uint8Array<ArrayBuffer> {
  const resolved = resolveSets(node);
  const parts: Uint8Array[] = [];
  const EOC = new Uint8Array([0, 0]);
  const header = (tag: number, len: number | undefined): Uint8Array => {
    if (len === undefined) return new Uint8Array([tag, 0x80]);
    const h = new Uint8Array(1 + lengthSize(len));
    h[0] = tag;
    writeLength(h, 1, len);
    return h;
  };
  const walk = (n: AsnNode): void => {
    if ("raw" in n) {
      parts.push(n.raw);
      return;
    }
    if ("value" in n) {
      if (n.chunk && n.chunk > 0) {
        parts.push(header(n.tag | 0x20, undefined));
        for (let i = 0; i < n.value.length; i += n.chunk) {
          const piece = n.value.subarray(i, Math.min(i + n.chunk, n.value.length));
          parts.push(header(n.tag, piece.length), piece);
        }
        parts.push(EOC);
        return;
      }
      parts.push(header(n.tag, n.value.length), n.value);
      return;
    }
    if (n.indefinite) {
      parts.push(header(n.tag, undefined));
      for (const c of n.children) walk(c);
      parts.push(EOC);
      return;
    }
    // A definite-length node whose descendants are indefinite still needs its length:
    // encode the subtree first.
    if (hasBerOnly(n)) {
      const inner: Uint8Array[] = [];
      for (const c of n.children) inner.push(encodeBer(c));
      const body = concatBytes(inner);
      parts.push(header(n.tag, body.length), body);
      return;
    }
    parts.push(encodeDer(n));
  };
  walk(resolved);
  // concatBytes allocates a fresh ArrayBuffer.
  return concatBytes(parts) as Uint8Array<ArrayBuffer>;
}

function hasBerOnly(n: AsnNode): boolean {
  if ("raw" in n) return false;
  if ("value" in n) return !!n.chunk;
  if (n.indefinite) return true;
  return n.children.some(hasBerOnly);
}

/** One decoded TLV: where its header and content are in the input. */
export interface Tlv {
  /** Identifier octet (low tag numbers only, which is all X.509 and CMS use). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just after the last content octet. */
  end: number;
}

/**
 * Reads the DER TLV at `at` (definite lengths only: certificates are DER), or returns
 * undefined when the bytes there are not one, so each caller picks its error code.
 */
export function readTlv(bytes: Uint8Array, at: number, limit = bytes.length): Tlv | undefined {
  if (at + 2 > limit) return undefined;
  const tag = bytes[at]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  let p = at + 1;
  let len = bytes[p++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[p++]!;
  }
  if (p + len > limit) return undefined;
  return { tag, start: at, contentStart: p, end: p + len };
}

/** The children of a constructed TLV, or undefined when they do not tile its content exactly. */
export function readChildren(bytes: Uint8Array, parent: Tlv): Tlv[] | undefined {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const t = readTlv(bytes, at, parent.end);
    if (!t) return undefined;
    out.push(t);
    at = t.end;
  }
  return out;
}
