/**
 * CMS SignedData reader (RFC 5652 §5, PKCS #7 v1.5 compatible). Internal: the public
 * surface is {@link verifyCms}.
 *
 * Reads DER and BER alike: indefinite lengths at any level, eContent sent as a
 * constructed OCTET STRING in chunks (InfoCert, Telecom, Irideos and Aruba send BER).
 * Everything is kept as byte ranges; nothing is re-encoded except the signed
 * attributes, and only when they did not arrive in DER.
 *
 * @module
 */

import { BerError, BerReader, decodeOid, TAG, timeOf, toDer, type Tlv } from "./ber.js";
import { fnv } from "./cache.js";
import { readNameCached } from "./name.js";
import { CMS, DIGEST_OID } from "./oids.js";
import { equalBytes, toHex } from "../util/bytes.js";

/** How a SignerInfo names its certificate. */
export type SignerIdentifier =
  | { readonly kind: "issuerAndSerialNumber"; readonly issuer: string; readonly issuerKey: string; readonly serialNumber: string }
  | { readonly kind: "subjectKeyIdentifier"; readonly subjectKeyIdentifier: string };

/** A SignerInfo as read. */
export interface ParsedSignerInfo {
  readonly version: number;
  readonly sid: SignerIdentifier;
  readonly digestAlgorithm: string;
  readonly signatureAlgorithm: string;
  readonly signatureParams?: Uint8Array;
  readonly signature: Uint8Array;
  /** Signed attributes, when present. */
  readonly signedAttrs?: SignedAttributes;
}

/** Signed attributes: parsed values and the byte strings the signature may cover. */
export interface SignedAttributes {
  /** Decodes contentType, messageDigest, signingTime, CMSAlgorithmProtection and ESS signingCertificate(V2); throws `BerError` for malformed values. */
  readonly values: () => AttributeValues;
  /**
   * Candidate encodings of the SET OF, in the order to try: the received bytes with
   * the tag set to SET (correct whenever they arrived in DER), then DER re-encodings
   * (as received order, then sorted) when those differ.
   */
  readonly encodings: (all: boolean) => Uint8Array[];
}

/** A SignedData as read. */
export interface ParsedCms {
  readonly version: number;
  readonly digestAlgorithms: readonly string[];
  readonly eContentType: string;
  /** The encapsulated content, when not detached. */
  readonly eContent?: Uint8Array;
  /** DER of each certificate (CertificateChoices other than `certificate` are skipped). */
  readonly certificates: readonly Uint8Array[];
  /** DER of each CRL (other RevocationInfoChoices are skipped). */
  readonly crls: readonly Uint8Array[];
  readonly signerInfos: readonly ParsedSignerInfo[];
  /** Whether any indefinite length was seen (BER). */
  readonly ber: boolean;
  /**
   * Present when every byte before the first SignerInfo's signed attributes is that of
   * a SignedData read before (see {@link CmsTemplate}): the same object each time, a key
   * for whatever is derived from those bytes (parsed certificates, the signer lookup).
   */
  readonly template?: CmsTemplate;
}

function isDer(r: BerReader, t: Tlv): boolean {
  if (t.indefinite) return false;
  if (!(t.tag & 0x20)) return true;
  // Constructed universal string types are BER-only.
  if ((t.tag & 0xc0) === 0 && (t.tagNumber === 3 || t.tagNumber === 4 || t.tagNumber === 12 || t.tagNumber === 19 || t.tagNumber === 22)) return false;
  for (const c of r.children(t)) if (!isDer(r, c)) return false;
  return true;
}

/** Normalises one element to DER when it arrived in BER; zero copy when it is DER already. */
function derOf(r: BerReader, t: Tlv): Uint8Array {
  return isDer(r, t) ? r.raw(t) : toDer(r, t, false);
}

/** Copies up to this size are carved from a shared slab; larger ones get their own buffer. */
const SLAB_MAX_COPY = 4096;
const SLAB_SIZE = 65536;
let slab: ArrayBuffer | undefined;
let slabUsed = 0;

/**
 * A private copy of `buf[start, end)`. Each receipt needs one (its signed attributes,
 * re-tagged as a SET): a small typed array of its own costs an ArrayBuffer allocation
 * each, several times a view into a shared slab. Slab bytes are handed out once and never
 * written again, so a copy stays valid however long anyone keeps it.
 */
function copyOf(buf: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n > SLAB_MAX_COPY) return buf.slice(start, end);
  if (!slab || slabUsed + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  slabUsed += n;
  out.set(buf.subarray(start, end));
  return out;
}

/**
 * The candidate encodings of the signed attributes at `buf[start, end)` (see
 * {@link SignedAttributes.encodings}). Lazily: only when the received encoding fails do
 * the DER re-encodings get built (`tlv` gives the reader for them).
 */
function encodingsOf(buf: Uint8Array, start: number, end: number, tlv: () => readonly [BerReader, Tlv]): (all: boolean) => Uint8Array[] {
  let memo: Uint8Array[] | undefined;
  return (all: boolean): Uint8Array[] => {
    if (!memo) {
      const asReceived = copyOf(buf, start, end);
      asReceived[0] = TAG.SET;
      memo = [asReceived];
    }
    if (all && memo.length === 1) {
      const [r, sa] = tlv();
      for (const sorted of [false, true]) {
        let d: Uint8Array;
        try {
          d = toDer(r, sa, sorted, TAG.SET);
        } catch {
          break; // attribute values that are not BER inside: the received bytes are all there is
        }
        if (!memo.some((o) => o.length === d.length && o.every((b, k) => b === d[k]))) memo.push(d);
      }
    }
    return memo;
  };
}

/** The attribute values of a SignerInfo's signed attributes, by type (several entries = the type was repeated). */
function attributesByType(r: BerReader, sa: Tlv): Map<string, Tlv[][]> {
  const byType = new Map<string, Tlv[][]>();
  for (const attr of r.children(sa)) {
    const [typeT, valuesT] = r.expect(attr, TAG.SEQUENCE, "Attribute");
    if (!typeT || !valuesT) throw new BerError("Attribute: missing fields", attr.start);
    const type = r.oid(typeT);
    const values = r.expect(valuesT, TAG.SET, "AttributeValues");
    const list = byType.get(type);
    if (list) list.push(values);
    else byType.set(type, [values]);
  }
  return byType;
}

function readSignerInfo(r: BerReader, t: Tlv): ParsedSignerInfo {
  const f = r.expect(t, TAG.SEQUENCE, "SignerInfo");
  let i = 0;
  const version = r.smallInt(f[i++]!);
  const sidT = f[i++];
  if (!sidT) throw new BerError("SignerInfo: missing sid", t.start);
  let sid: SignerIdentifier;
  if (sidT.tag === TAG.SEQUENCE) {
    const [issuerT, serialT] = r.children(sidT);
    if (!issuerT || !serialT) throw new BerError("IssuerAndSerialNumber: missing fields", sidT.start);
    const name = readNameCached(r, issuerT);
    sid = { kind: "issuerAndSerialNumber", issuer: name.text, issuerKey: name.key, serialNumber: r.integerHex(serialT) };
  } else if (sidT.tag === 0x80 || sidT.tag === TAG.CTX0) {
    sid = { kind: "subjectKeyIdentifier", subjectKeyIdentifier: toHex(r.octets({ ...sidT, tag: sidT.tag === 0x80 ? TAG.OCTET_STRING : 0x24 })) };
  } else throw new BerError("SignerInfo: bad sid", sidT.start);
  const digT = f[i++];
  if (!digT) throw new BerError("SignerInfo: missing digestAlgorithm", t.start);
  const digestAlgorithm = r.oid(r.expect(digT, TAG.SEQUENCE, "DigestAlgorithmIdentifier")[0]!);
  let signedAttrs: SignedAttributes | undefined;
  if (f[i]?.tag === TAG.CTX0) {
    const sa = f[i++]!;
    const byType = attributesByType(r, sa);
    signedAttrs = { values: () => attributeValues(r, byType), encodings: encodingsOf(r.buf, sa.start, sa.end, () => [r, sa]) };
  }
  const sigAlgT = f[i++];
  const sigT = f[i++];
  if (!sigAlgT || !sigT) throw new BerError("SignerInfo: missing signature", t.start);
  const [sigOidT, sigParamsT] = r.expect(sigAlgT, TAG.SEQUENCE, "SignatureAlgorithmIdentifier");
  return {
    version,
    sid,
    digestAlgorithm,
    signatureAlgorithm: r.oid(sigOidT!),
    signatureParams: sigParamsT && sigParamsT.tag !== TAG.NULL ? derOf(r, sigParamsT) : undefined,
    signature: r.octets(sigT),
    signedAttrs,
  };
}

/**
 * Reads a ContentInfo holding a SignedData.
 *
 * @param maxCertificates - refuse a `certificates` field with more entries (the verifier's
 * cap, see `DEFAULT_MAX_CMS_CERTIFICATES`); unbounded for content extraction
 * @throws BerError for anything that is not one, and beyond `maxCertificates`.
 */
export function parseSignedData(bytes: Uint8Array, maxCertificates = Infinity): ParsedCms {
  // Receipts come in runs from one gestore: the previous template is tried first, with no
  // header walk and no hash (its leading bytes decide everything the walk would find).
  let hit = lastTemplate && fits(lastTemplate, bytes) ? lastTemplate : undefined;
  let attrs: number;
  if (hit) attrs = hit.prefix.length;
  else {
    attrs = readShape(bytes);
    if (attrs < 0) return parseGeneral(bytes, maxCertificates);
    hit = findTemplate(bytes, attrs);
  }
  if (hit) {
    lastTemplate = hit;
    const si = hit.certificateCount <= maxCertificates ? readSignerTail(bytes, attrs, hit) : undefined;
    if (!si) return parseGeneral(bytes, maxCertificates);
    return {
      version: hit.version,
      digestAlgorithms: hit.digestAlgorithms,
      eContentType: hit.eContentType,
      eContent: undefined,
      certificates: hit.certificates,
      crls: hit.crls,
      signerInfos: [si],
      ber: hit.ber,
      template: hit,
    };
  }
  const parsed = parseGeneral(bytes, maxCertificates);
  // readShape()'s results (shapeCerts, closing, shapeSignerEnd) are still those of `bytes`: the full reader does not touch them.
  const template = addTemplate(bytes, attrs, parsed);
  if (!template) return parsed;
  lastTemplate = template;
  return { ...parsed, template };
}

/** The reader for every SignedData: BER or DER, any number of signers, encapsulated or detached. */
function parseGeneral(bytes: Uint8Array, maxCertificates: number): ParsedCms {
  const r = new BerReader(bytes);
  // Trailing bytes after the ContentInfo (padding, a newline after base64) are tolerated.
  const ci = r.root(true);
  const [typeT, contentT] = r.expect(ci, TAG.SEQUENCE, "ContentInfo");
  if (!typeT || !contentT) throw new BerError("ContentInfo: missing fields", ci.start);
  const type = r.oid(typeT);
  if (type !== CMS.signedData) throw new BerError(`ContentInfo: content type ${type} is not signedData`, typeT.start);
  if (contentT.tag !== TAG.CTX0) throw new BerError("ContentInfo: content is not [0]", contentT.start);
  const sdT = r.children(contentT)[0];
  if (!sdT) throw new BerError("ContentInfo: empty content", contentT.start);
  const f = r.expect(sdT, TAG.SEQUENCE, "SignedData");
  let i = 0;
  const version = r.smallInt(f[i++]!);
  const digestAlgorithms = r.expect(f[i++]!, TAG.SET, "DigestAlgorithmIdentifiers").map((a) => r.oid(r.children(a)[0]!));
  const eciT = f[i++];
  if (!eciT) throw new BerError("SignedData: missing encapContentInfo", sdT.start);
  const [eTypeT, eContentT] = r.expect(eciT, TAG.SEQUENCE, "EncapsulatedContentInfo");
  const eContentType = r.oid(eTypeT!);
  let eContent: Uint8Array | undefined;
  if (eContentT) {
    if (eContentT.tag !== TAG.CTX0) throw new BerError("EncapsulatedContentInfo: eContent is not [0]", eContentT.start);
    const inner = r.children(eContentT)[0];
    if (inner) {
      // PKCS #7 v1.5 allowed any type here; the signed bytes are then its content octets.
      eContent = (inner.tag & 0xdf) === TAG.OCTET_STRING ? r.octets(inner) : r.buf.subarray(inner.contentStart, inner.contentEnd);
    }
  }
  const certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  if (f[i]?.tag === TAG.CTX0) {
    // A certificate is re-encoded only when it arrived with indefinite lengths (checking every TLV of every certificate of every receipt would cost more than the rest of the parse).
    const set = f[i++]!;
    const all = r.children(set);
    // Counted before any certificate is looked at: path building compares every pair of names.
    if (all.length > maxCertificates) throw new BerError(`the CMS carries ${all.length} certificates, more than the limit of ${maxCertificates}`, set.start);
    for (const c of all) if (c.tag === TAG.SEQUENCE) certificates.push(c.indefinite ? toDer(r, c, false) : r.raw(c));
  }
  if (f[i]?.tag === TAG.CTX1) {
    for (const c of r.children(f[i++]!)) if (c.tag === TAG.SEQUENCE) crls.push(c.indefinite ? toDer(r, c, false) : r.raw(c));
  }
  const siT = f[i++];
  if (!siT) throw new BerError("SignedData: missing signerInfos", sdT.start);
  const signerInfos = r.expect(siT, TAG.SET, "SignerInfos").map((s) => readSignerInfo(r, s));
  return { version, digestAlgorithms, eContentType, eContent, certificates, crls, signerInfos, ber: ci.indefinite || sdT.indefinite || contentT.indefinite };
}

// --- Fast path: a SignedData whose bytes up to the signed attributes were read before ---
//
// A gestore's receipts differ only from the signed attributes on: the version, digest
// algorithms, content type, certificates, CRLs and the SignerInfo's sid and digest
// algorithm are the same bytes in every one. Those leading bytes are compared whole with
// a private copy kept from the first full read (a "template"), which then supplies what
// the full reader found in them; only the signed attributes, the signature algorithm and
// the signature are read per message (and the end-of-contents octets closing the outer
// elements, when they have indefinite lengths). Anything this path does not expect
// (indefinite lengths inside, several signers, encapsulated content, unusual fields or
// values) goes to the full reader, which also reports every error: both read the same
// bytes the same way. A template never stands for a verdict: the signature and the
// messageDigest of every message are checked.

/** What the full reader found in a SignedData's leading bytes, kept with a private copy of them. */
export interface CmsTemplate {
  /** A private copy of the bytes before the first signed attribute. */
  readonly prefix: Uint8Array;
  /** Its key in the template map (see templateKey()). */
  readonly key: number;
  /** What the full reader found in {@link CmsTemplate.prefix}: see {@link ParsedCms}. */
  readonly version: number;
  readonly digestAlgorithms: readonly string[];
  readonly eContentType: string;
  /** DER of each certificate (views into {@link CmsTemplate.prefix}, or copies). */
  readonly certificates: readonly Uint8Array[];
  readonly crls: readonly Uint8Array[];
  /** Entries of the certificates field (what `maxCertificates` counts). */
  readonly certificateCount: number;
  /** Whether the outer elements have indefinite lengths. */
  readonly ber: boolean;
  /** End of the SignerInfo (absolute). */
  readonly signerEnd: number;
  /** Ends of the signerInfos SET, SignedData, [0] and ContentInfo; -1 for an indefinite length. */
  readonly closing: readonly number[];
  /** The SignerInfo's fields before its signed attributes. */
  readonly signer: Pick<ParsedSignerInfo, "version" | "sid" | "digestAlgorithm">;
}

/** Most templates kept (FIFO): a few per gestore; ≈ 2–4 KB each. */
const MAX_TEMPLATES = 128;
/** Most templates under one key (oldest dropped): a lookup compares against at most these. */
const MAX_BUCKET = 4;
/** Leading bytes longer than this (many certificates) are not kept. */
const MAX_TEMPLATE_BYTES = 16384;
const templates = new Map<number, CmsTemplate[]>();
let templateCount = 0;

// Content start and end of the last header read by hdr()/anyHdr() (no allocation per header).
let hs = 0;
let he = 0;
// Set by readShape(): end of the SignerInfo, offset of the certificates field (-1 when absent).
let shapeSignerEnd = 0;
let shapeCerts = -1;

/** A definite-length header with identifier `tag` at `pos`, fitting before `limit` (what readTlv accepts). */
function hdr(b: Uint8Array, pos: number, limit: number, tag: number): boolean {
  if (pos + 2 > limit || b[pos] !== tag) return false;
  let len = b[pos + 1]!;
  let p = pos + 2;
  if (len >= 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return false;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + b[p++]!;
  }
  if (p + len > limit) return false;
  hs = p;
  he = p + len;
  return true;
}

/** A definite-length header with any low tag number at `pos`. */
function anyHdr(b: Uint8Array, pos: number, limit: number): boolean {
  if (pos >= limit) return false;
  const tag = b[pos]!;
  return (tag & 0x1f) !== 0x1f && hdr(b, pos, limit, tag);
}

/** 1.2.840.113549.1.x.y as content octets. */
function isPkcs(b: Uint8Array, s: number, e: number, x: number, y: number): boolean {
  return e - s === 9 && b[s] === 0x2a && b[s + 1] === 0x86 && b[s + 2] === 0x48 && b[s + 3] === 0x86 && b[s + 4] === 0xf7 && b[s + 5] === 0x0d && b[s + 6] === 0x01 && b[s + 7] === x && b[s + 8] === y;
}

/** An indefinite-length header with identifier `tag` at `pos` (content from `hs`), or else what hdr() accepts (`he` = -1 when indefinite). */
function hdrOrOpen(b: Uint8Array, pos: number, limit: number, tag: number): boolean {
  if (pos + 2 > limit || b[pos] !== tag) return false;
  if (b[pos + 1] === 0x80) {
    hs = pos + 2;
    he = -1;
    return true;
  }
  return hdr(b, pos, limit, tag);
}

/** End-of-contents octets at `pos` (as readTlv finds them: `pos + 1 < limit`). */
function isEoc(b: Uint8Array, pos: number, limit: number): boolean {
  return pos + 1 < limit && b[pos] === 0 && b[pos + 1] === 0;
}

/**
 * The end of the field opened at `hs` (indefinite when `he` is -1, its children then all
 * definite) or -1; read with the header just read by hdrOrOpen().
 */
function fieldEnd(b: Uint8Array, limit: number): number {
  if (he >= 0) return he;
  let q = hs;
  for (;;) {
    if (isEoc(b, q, limit)) return q + 2;
    if (!anyHdr(b, q, limit)) return -1;
    q = he;
  }
}

// Set by readShape(), for the closing checks after the SignerInfo: the ends of the
// signerInfos SET, the SignedData, the [0] and the ContentInfo (-1: indefinite length,
// closed by end-of-contents octets).
const closing = [0, 0, 0, 0];

/**
 * Reads headers only: for a ContentInfo(SignedData), DER or with indefinite lengths on
 * its outer elements (as InfoCert and Aruba send), detached, with one SignerInfo that has
 * signed attributes and no field the full reader would skip, the offset of those signed
 * attributes; -1 for anything else.
 */
function readShape(b: Uint8Array): number {
  const n = b.length;
  if (!hdrOrOpen(b, 0, n, TAG.SEQUENCE)) return -1;
  const ciEnd = he;
  const ciLimit = ciEnd < 0 ? n : ciEnd;
  if (!hdr(b, hs, ciLimit, TAG.OID) || !isPkcs(b, hs, he, 7, 2)) return -1;
  if (!hdrOrOpen(b, he, ciLimit, TAG.CTX0)) return -1;
  const ctxEnd = he;
  const ctxLimit = ctxEnd < 0 ? ciLimit : ctxEnd;
  if (!hdrOrOpen(b, hs, ctxLimit, TAG.SEQUENCE)) return -1;
  const sdEnd = he;
  const sdLimit = sdEnd < 0 ? ctxLimit : sdEnd;
  if (!hdr(b, hs, sdLimit, TAG.INTEGER) || !hdr(b, he, sdLimit, TAG.SET) || !hdrOrOpen(b, he, sdLimit, TAG.SEQUENCE)) return -1;
  // encapContentInfo: the eContentType alone (detached).
  const eciEnd = he;
  if (!hdr(b, hs, eciEnd < 0 ? sdLimit : eciEnd, TAG.OID)) return -1;
  let p = he;
  if (eciEnd < 0) {
    if (!isEoc(b, p, sdLimit)) return -1;
    p += 2;
  } else if (p !== eciEnd) return -1;
  shapeCerts = -1;
  if (b[p] === TAG.CTX0) {
    shapeCerts = p;
    if (!hdrOrOpen(b, p, sdLimit, TAG.CTX0) || (p = fieldEnd(b, sdLimit)) < 0) return -1;
  }
  if (b[p] === TAG.CTX1) {
    if (!hdrOrOpen(b, p, sdLimit, TAG.CTX1) || (p = fieldEnd(b, sdLimit)) < 0) return -1;
  }
  if (!hdrOrOpen(b, p, sdLimit, TAG.SET)) return -1;
  const sisEnd = he;
  if (!hdr(b, hs, sisEnd < 0 ? sdLimit : sisEnd, TAG.SEQUENCE)) return -1;
  const siEnd = he;
  if (sisEnd >= 0 && sisEnd !== siEnd) return -1; // one SignerInfo
  if (!hdr(b, hs, siEnd, TAG.INTEGER)) return -1;
  p = he;
  const sid = b[p];
  if ((sid !== TAG.SEQUENCE && sid !== 0x80 && sid !== TAG.CTX0) || !hdr(b, p, siEnd, sid) || !hdr(b, he, siEnd, TAG.SEQUENCE)) return -1;
  if (he >= siEnd || b[he] !== TAG.CTX0) return -1;
  shapeSignerEnd = siEnd;
  closing[0] = sisEnd;
  closing[1] = sdEnd;
  closing[2] = ctxEnd;
  closing[3] = ciEnd;
  return he;
}

/**
 * Whether the SignerInfo ending at `pos` is the last element of the signerInfos SET, the
 * SET of the SignedData, the SignedData of the [0], the [0] of the ContentInfo, as the full
 * reader would find (end-of-contents octets for indefinite lengths).
 */
function closesAt(b: Uint8Array, pos: number, closing: readonly number[]): boolean {
  for (let level = 0; level < 4; level++) {
    const end = closing[level]!;
    if (end >= 0) {
      if (end !== pos) return false;
      continue;
    }
    // Found by a scan bounded by the nearest enclosing definite length (or the buffer).
    let limit = b.length;
    for (let up = level + 1; up < 4; up++) {
      if (closing[up]! >= 0) {
        limit = closing[up]!;
        break;
      }
    }
    if (!isEoc(b, pos, limit)) return false;
    pos += 2;
  }
  return true;
}

/** Hash of the length and the last 24 bytes before the signed attributes (the sid's serial number, the digest algorithm). */
function templateKey(b: Uint8Array, end: number): number {
  return (fnv(b, end > 24 ? end - 24 : 0, end) ^ Math.imul(end, 0x9e3779b1)) >>> 0;
}

/** Dotted forms of 1.2.840.113549.1.1.y (RSA signature algorithms), by y. */
const PKCS1_OIDS: readonly (string | undefined)[] = Array.from({ length: 15 }, (_, y) => (y >= 1 ? `1.2.840.113549.1.1.${y}` : undefined));

/** decodeOid() for `b[s, e)`, without its cache lookup for the OIDs every receipt has. */
function commonOid(b: Uint8Array, s: number, e: number): string {
  if (e - s === 9 && b[s + 6] === 0x01 && isPkcs(b, s, e, b[s + 7]!, b[s + 8]!)) {
    const x = b[s + 7];
    const y = b[s + 8]!;
    if (x === 1 && y < PKCS1_OIDS.length && PKCS1_OIDS[y]) return PKCS1_OIDS[y];
    if (x === 7 && y === 1) return CMS.data;
  }
  return decodeOid(b, s, e);
}

/** The template of the last SignedData read through one. */
let lastTemplate: CmsTemplate | undefined;

/**
 * Whether `b` begins with `t`'s bytes, and its definite lengths that reach past them
 * (the SignerInfo's and its ancestors') fit in `b`: then readShape() would find exactly
 * what it found for `t`.
 */
function fits(t: CmsTemplate, b: Uint8Array): boolean {
  const n = b.length;
  if (n <= t.prefix.length || t.signerEnd > n) return false;
  for (const end of t.closing) if (end > n) return false;
  return equalBytes(t.prefix, b.subarray(0, t.prefix.length));
}

/** The template whose bytes are exactly `b[0, end)`. */
function findTemplate(b: Uint8Array, end: number): CmsTemplate | undefined {
  const bucket = templates.get(templateKey(b, end));
  if (!bucket) return undefined;
  const head = b.subarray(0, end);
  for (const t of bucket) if (equalBytes(t.prefix, head)) return t;
  return undefined;
}

function addTemplate(b: Uint8Array, end: number, parsed: ParsedCms): CmsTemplate | undefined {
  if (end > MAX_TEMPLATE_BYTES || parsed.signerInfos.length !== 1 || parsed.eContent) return undefined;
  const prefix = b.slice(0, end);
  // Views into the message become views into the copy; re-encoded (BER) ones are copied.
  const own = (d: Uint8Array): Uint8Array => {
    const at = d.byteOffset - b.byteOffset;
    return d.buffer === b.buffer && at >= 0 && at + d.length <= end ? prefix.subarray(at, at + d.length) : d.slice();
  };
  let certificateCount = 0;
  if (shapeCerts >= 0) {
    const r = new BerReader(b);
    certificateCount = r.children(r.at(shapeCerts)).length;
  }
  const si = parsed.signerInfos[0]!;
  const key = templateKey(b, end);
  const t: CmsTemplate = {
    prefix,
    key,
    version: parsed.version,
    digestAlgorithms: parsed.digestAlgorithms,
    eContentType: parsed.eContentType,
    certificates: parsed.certificates.map(own),
    crls: parsed.crls.map(own),
    certificateCount,
    ber: parsed.ber,
    signerEnd: shapeSignerEnd,
    closing: closing.slice(),
    signer: { version: si.version, sid: si.sid, digestAlgorithm: si.digestAlgorithm },
  };
  if (templateCount >= MAX_TEMPLATES) {
    const first = templates.keys().next();
    if (!first.done) {
      templateCount -= templates.get(first.value)!.length;
      templates.delete(first.value);
    }
  }
  const bucket = templates.get(key);
  if (!bucket) templates.set(key, [t]);
  else {
    if (bucket.length >= MAX_BUCKET) {
      bucket.shift();
      templateCount--;
    }
    bucket.push(t);
  }
  templateCount++;
  return t;
}

/** @internal Forgets every template (tests). */
export function clearCmsTemplates(): void {
  templates.clear();
  lastTemplate = undefined;
  templateCount = 0;
}

/** @internal How many templates are kept (tests). */
export function cmsTemplateCount(): number {
  return templateCount;
}

/**
 * The SignerInfo from its signed attributes on, when they are DER as the fast path
 * expects; undefined otherwise (the full reader then reads the whole SignedData).
 */
function readSignerTail(b: Uint8Array, at: number, t: CmsTemplate): ParsedSignerInfo | undefined {
  const end = t.signerEnd;
  try {
    if (!hdr(b, at, end, TAG.CTX0)) return undefined;
    const saEnd = he;
    const found = scanAttributes(b, hs, saEnd);
    if (!found) return undefined;
    if (!hdr(b, saEnd, end, TAG.SEQUENCE)) return undefined;
    const algEnd = he;
    if (!hdr(b, hs, algEnd, TAG.OID)) return undefined;
    const signatureAlgorithm = commonOid(b, hs, he);
    if (he < algEnd) {
      // Parameters: only NULL (or none) here; others are normalised to DER by the full reader.
      if (b[he] !== TAG.NULL || !hdr(b, he, algEnd, TAG.NULL) || he !== algEnd) return undefined;
    }
    if (!hdr(b, algEnd, end, TAG.OCTET_STRING) || he !== end || !closesAt(b, end, t.closing)) return undefined;
    const signature = b.subarray(hs, he);
    const full = (): readonly [BerReader, Tlv] => {
      const r = new BerReader(b);
      return [r, r.at(at, end)];
    };
    const values = (): AttributeValues => {
      const fast = fastValues(b, found);
      if (fast) return fast;
      const [r, sa] = full();
      return attributeValues(r, attributesByType(r, sa));
    };
    return {
      version: t.signer.version,
      sid: t.signer.sid,
      digestAlgorithm: t.signer.digestAlgorithm,
      signatureAlgorithm,
      signatureParams: undefined,
      signature,
      signedAttrs: { values, encodings: encodingsOf(b, at, saEnd, full) },
    };
  } catch {
    return undefined; // the full reader reports it
  }
}

/** Where contentType, messageDigest, signingTime, CMSAlgorithmProtection and an ESS signingCertificate(V2) are: occurrences, values in the first, first value's offset. */
interface FoundAttributes {
  readonly occurrences: number[];
  readonly counts: number[];
  readonly first: number[];
}

/**
 * Index in {@link FoundAttributes} of 1.2.840.113549.1.9.y (contentType, messageDigest,
 * signingTime, CMSAlgorithmProtection), 4 for ESS signingCertificate(V2)
 * (1.2.840.113549.1.9.16.2.12 and .47), or -1.
 */
function knownAttribute(b: Uint8Array, s: number, e: number): number {
  if (e - s === 11 && isPkcs(b, s, s + 9, 9, 16) && b[s + 9] === 2 && (b[s + 10] === 12 || b[s + 10] === 47)) return 4;
  if (!isPkcs(b, s, e, 9, b[s + 8]!)) return -1;
  const y = b[s + 8];
  return y === 3 ? 0 : y === 4 ? 1 : y === 5 ? 2 : y === 52 ? 3 : -1;
}

/** The attributes at `b[s, e)`, checked as the full reader checks them; undefined when anything differs from plain DER. */
function scanAttributes(b: Uint8Array, s: number, e: number): FoundAttributes | undefined {
  const f: FoundAttributes = { occurrences: [0, 0, 0, 0, 0], counts: [0, 0, 0, 0, 0], first: [-1, -1, -1, -1, -1] };
  for (let p = s; p < e; ) {
    if (!hdr(b, p, e, TAG.SEQUENCE)) return undefined;
    const attrEnd = he;
    if (!hdr(b, hs, attrEnd, TAG.OID)) return undefined;
    const typeStart = hs;
    const typeEnd = he;
    if (!hdr(b, typeEnd, attrEnd, TAG.SET) || he !== attrEnd) return undefined;
    const valuesEnd = he;
    let count = 0;
    let first = -1;
    for (let q = hs; q < valuesEnd; q = he) {
      if (!anyHdr(b, q, valuesEnd)) return undefined;
      if (count++ === 0) first = q;
    }
    const k = knownAttribute(b, typeStart, typeEnd);
    // decodeOid() refuses exactly these (empty, last octet continued): the full reader then reports it.
    if (k < 0) {
      if (typeEnd === typeStart || b[typeEnd - 1]! & 0x80) return undefined;
    } else if (f.occurrences[k]!++ === 0) {
      f.counts[k] = count;
      f.first[k] = first;
    }
    p = attrEnd;
  }
  return f;
}

/** The attribute values in the common case (each present once, single-valued, primitive); undefined otherwise. */
function fastValues(b: Uint8Array, f: FoundAttributes): AttributeValues | undefined {
  const { occurrences: o, counts: c, first } = f;
  if (o[3] !== 0 || o[4] !== 0) return undefined; // CMSAlgorithmProtection, ESS signingCertificate(V2): the full reader
  const out: AttributeValues = { repeated: [] };
  for (let k = 0; k < 3; k++) {
    if (o[k] === 0) continue;
    if (o[k] !== 1 || c[k] !== 1) return undefined;
    const p = first[k]!;
    const tag = b[p]!;
    anyHdr(b, p, b.length);
    if (k === 0) {
      if (tag !== TAG.OID) return undefined;
      try {
        out.contentType = commonOid(b, hs, he);
      } catch {
        return undefined;
      }
    } else if (k === 1) {
      if (tag !== TAG.OCTET_STRING) return undefined;
      out.messageDigest = b.subarray(hs, he);
    } else {
      if (tag !== TAG.UTC_TIME && tag !== TAG.GENERALIZED_TIME) return undefined;
      try {
        out.signingTime = timeOf(b, { tag, tagNumber: tag, start: p, contentStart: hs, contentEnd: he, end: he, indefinite: false });
      } catch {
        return undefined;
      }
    }
  }
  return out;
}

/** The ESS attributes that name the signer's certificate. */
export type EssAttribute = "signingCertificate" | "signingCertificateV2";

/** Decoded signing-relevant attribute values. */
export interface AttributeValues {
  contentType?: string;
  messageDigest?: Uint8Array;
  signingTime?: Date;
  /** CMSAlgorithmProtection (RFC 6211): digest and signature algorithm OIDs. */
  algorithmProtection?: { digest?: string; signature?: string };
  /**
   * The certificate the signer signed for (ESS signingCertificate, RFC 2634, and
   * signingCertificateV2, RFC 5035): the first ESSCertID(v2) of each attribute present, its
   * hash algorithm OID and the hash of that certificate's DER; or why the attribute cannot be
   * read (the other attributes, signingTime among them, are still read).
   */
  signingCertificates?: ({ attribute: EssAttribute; hashAlgorithm: string; hash: Uint8Array } | { attribute: EssAttribute; unreadable: string })[];
  /** Attribute types that must be single-valued but were not. */
  repeated: string[];
}

/** Reads contentType, messageDigest, signingTime, CMSAlgorithmProtection and ESS signingCertificate(V2). */
export function readAttributeValues(sa: SignedAttributes): AttributeValues {
  return sa.values();
}

function attributeValues(r: BerReader, byType: ReadonlyMap<string, readonly Tlv[][]>): AttributeValues {
  const out: AttributeValues = { repeated: [] };
  const single = (oid: string): Tlv | undefined => {
    const list = byType.get(oid);
    if (!list) return undefined;
    if (list.length !== 1 || list[0]!.length !== 1) out.repeated.push(oid);
    return list[0]![0];
  };
  const ct = single(CMS.contentType);
  if (ct) out.contentType = r.oid(ct);
  const md = single(CMS.messageDigest);
  if (md) {
    if ((md.tag & 0xdf) !== TAG.OCTET_STRING) throw new BerError("messageDigest is not an OCTET STRING", md.start);
    out.messageDigest = r.octets(md);
  }
  const st = single(CMS.signingTime);
  if (st) out.signingTime = r.time(st);
  const ap = single(CMS.cmsAlgorithmProtection);
  if (ap) {
    const prot: { digest?: string; signature?: string } = {};
    for (const c of r.expect(ap, TAG.SEQUENCE, "CMSAlgorithmProtection")) {
      if (c.tag === TAG.SEQUENCE) prot.digest = r.oid(r.children(c)[0]!);
      else if (c.tag === TAG.CTX1) prot.signature = r.oid(r.children(c)[0]!);
    }
    out.algorithmProtection = prot;
  }
  for (const [attribute, oid] of [["signingCertificateV2", CMS.signingCertificateV2], ["signingCertificate", CMS.signingCertificate]] as const) {
    const sc = single(oid);
    if (!sc) continue;
    let entry: NonNullable<AttributeValues["signingCertificates"]>[number];
    try {
      entry = { attribute, ...essCertId(r, sc, attribute === "signingCertificateV2") };
    } catch (e) {
      entry = { attribute, unreadable: e instanceof BerError ? e.message : "malformed" };
    }
    (out.signingCertificates ??= []).push(entry);
  }
  return out;
}

/** The first ESSCertID (v1: a SHA-1 hash) or ESSCertIDv2 (its hashAlgorithm, SHA-256 by default) of a SigningCertificate(V2). */
function essCertId(r: BerReader, t: Tlv, v2: boolean): { hashAlgorithm: string; hash: Uint8Array } {
  const [certs] = r.expect(t, TAG.SEQUENCE, "SigningCertificate");
  const [first] = certs ? r.expect(certs, TAG.SEQUENCE, "ESSCertIDs") : [];
  if (!first) throw new BerError("SigningCertificate: no ESSCertID", t.start);
  const fields = r.expect(first, TAG.SEQUENCE, "ESSCertID");
  let k = 0;
  let hashAlgorithm = v2 ? DIGEST_OID["SHA-256"] : DIGEST_OID["SHA-1"];
  if (v2 && fields[0]?.tag === TAG.SEQUENCE) hashAlgorithm = r.oid(r.children(fields[k++]!)[0]!);
  const hashT = fields[k];
  if (!hashT || hashT.tag !== TAG.OCTET_STRING) throw new BerError("ESSCertID: no certHash", first.start);
  return { hashAlgorithm, hash: r.octets(hashT) };
}

/**
 * The encapsulated content of an opaque (`application/pkcs7-mime; smime-type=signed-data`)
 * CMS SignedData, DER or BER, without verifying anything; undefined when the bytes are
 * not a SignedData or the signature is detached. Never throws.
 *
 * @example
 * ```ts
 * const inner = extractEncapsulatedContent(bytes); // bytes: an smime.p7m; the signed MIME entity, or undefined
 * ```
 */
export function extractEncapsulatedContent(cms: Uint8Array): Uint8Array | undefined {
  try {
    return parseSignedData(cms).eContent;
  } catch {
    return undefined;
  }
}
