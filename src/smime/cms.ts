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

import { BerError, BerReader, T, toDer, type Tlv } from "./ber.js";
import { readNameCached } from "./name.js";
import { CMS } from "./oids.js";
import { toHex } from "../util/bytes.js";

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
  /** Values by attribute type OID (several entries = the type was repeated). */
  readonly byType: ReadonlyMap<string, readonly Tlv[][]>;
  readonly reader: BerReader;
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

function readSignerInfo(r: BerReader, t: Tlv): ParsedSignerInfo {
  const f = r.expect(t, T.SEQUENCE, "SignerInfo");
  let i = 0;
  const version = r.smallInt(f[i++]!);
  const sidT = f[i++];
  if (!sidT) throw new BerError("SignerInfo: missing sid", t.start);
  let sid: SignerIdentifier;
  if (sidT.tag === T.SEQUENCE) {
    const [issuerT, serialT] = r.children(sidT);
    if (!issuerT || !serialT) throw new BerError("IssuerAndSerialNumber: missing fields", sidT.start);
    const name = readNameCached(r, issuerT);
    sid = { kind: "issuerAndSerialNumber", issuer: name.text, issuerKey: name.key, serialNumber: r.integerHex(serialT) };
  } else if (sidT.tag === 0x80 || sidT.tag === T.CTX0) {
    sid = { kind: "subjectKeyIdentifier", subjectKeyIdentifier: toHex(r.octets({ ...sidT, tag: sidT.tag === 0x80 ? T.OCTET_STRING : 0x24 })) };
  } else throw new BerError("SignerInfo: bad sid", sidT.start);
  const digT = f[i++];
  if (!digT) throw new BerError("SignerInfo: missing digestAlgorithm", t.start);
  const digestAlgorithm = r.oid(r.expect(digT, T.SEQUENCE, "DigestAlgorithmIdentifier")[0]!);
  let signedAttrs: SignedAttributes | undefined;
  if (f[i]?.tag === T.CTX0) {
    const sa = f[i++]!;
    const byType = new Map<string, Tlv[][]>();
    for (const attr of r.children(sa)) {
      const [typeT, valuesT] = r.expect(attr, T.SEQUENCE, "Attribute");
      if (!typeT || !valuesT) throw new BerError("Attribute: missing fields", attr.start);
      const type = r.oid(typeT);
      const values = r.expect(valuesT, T.SET, "AttributeValues");
      const list = byType.get(type);
      if (list) list.push(values);
      else byType.set(type, [values]);
    }
    // Lazily: only when the received encoding fails do the DER re-encodings get built.
    let memo: Uint8Array[] | undefined;
    const encodings = (all: boolean): Uint8Array[] => {
      if (!memo) {
        const asReceived = r.raw(sa).slice();
        asReceived[0] = T.SET;
        memo = [asReceived];
      }
      if (all && memo.length === 1) {
        for (const sorted of [false, true]) {
          let d: Uint8Array;
          try {
            d = toDer(r, sa, sorted, T.SET);
          } catch {
            break; // attribute values that are not BER inside: the received bytes are all there is
          }
          if (!memo.some((o) => o.length === d.length && o.every((b, k) => b === d[k]))) memo.push(d);
        }
      }
      return memo;
    };
    signedAttrs = { byType, reader: r, encodings };
  }
  const sigAlgT = f[i++];
  const sigT = f[i++];
  if (!sigAlgT || !sigT) throw new BerError("SignerInfo: missing signature", t.start);
  const [sigOidT, sigParamsT] = r.expect(sigAlgT, T.SEQUENCE, "SignatureAlgorithmIdentifier");
  return {
    version,
    sid,
    digestAlgorithm,
    signatureAlgorithm: r.oid(sigOidT!),
    signatureParams: sigParamsT && sigParamsT.tag !== T.NULL ? derOf(r, sigParamsT) : undefined,
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
  const r = new BerReader(bytes);
  // Trailing bytes after the ContentInfo (padding, a newline after base64) are tolerated.
  const ci = r.root(true);
  const [typeT, contentT] = r.expect(ci, T.SEQUENCE, "ContentInfo");
  if (!typeT || !contentT) throw new BerError("ContentInfo: missing fields", ci.start);
  const type = r.oid(typeT);
  if (type !== CMS.signedData) throw new BerError(`ContentInfo: content type ${type} is not signedData`, typeT.start);
  if (contentT.tag !== T.CTX0) throw new BerError("ContentInfo: content is not [0]", contentT.start);
  const sdT = r.children(contentT)[0];
  if (!sdT) throw new BerError("ContentInfo: empty content", contentT.start);
  const f = r.expect(sdT, T.SEQUENCE, "SignedData");
  let i = 0;
  const version = r.smallInt(f[i++]!);
  const digestAlgorithms = r.expect(f[i++]!, T.SET, "DigestAlgorithmIdentifiers").map((a) => r.oid(r.children(a)[0]!));
  const eciT = f[i++];
  if (!eciT) throw new BerError("SignedData: missing encapContentInfo", sdT.start);
  const [eTypeT, eContentT] = r.expect(eciT, T.SEQUENCE, "EncapsulatedContentInfo");
  const eContentType = r.oid(eTypeT!);
  let eContent: Uint8Array | undefined;
  if (eContentT) {
    if (eContentT.tag !== T.CTX0) throw new BerError("EncapsulatedContentInfo: eContent is not [0]", eContentT.start);
    const inner = r.children(eContentT)[0];
    if (inner) {
      // PKCS #7 v1.5 allowed any type here; the signed bytes are then its content octets.
      eContent = (inner.tag & 0xdf) === T.OCTET_STRING ? r.octets(inner) : r.buf.subarray(inner.contentStart, inner.contentEnd);
    }
  }
  const certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  if (f[i]?.tag === T.CTX0) {
    // A certificate is re-encoded only when it arrived with indefinite lengths (checking every TLV of every certificate of every receipt would cost more than the rest of the parse).
    const set = f[i++]!;
    const all = r.children(set);
    // Counted before any certificate is looked at: path building compares every pair of names.
    if (all.length > maxCertificates) throw new BerError(`the CMS carries ${all.length} certificates, more than the limit of ${maxCertificates}`, set.start);
    for (const c of all) if (c.tag === T.SEQUENCE) certificates.push(c.indefinite ? toDer(r, c, false) : r.raw(c));
  }
  if (f[i]?.tag === T.CTX1) {
    for (const c of r.children(f[i++]!)) if (c.tag === T.SEQUENCE) crls.push(c.indefinite ? toDer(r, c, false) : r.raw(c));
  }
  const siT = f[i++];
  if (!siT) throw new BerError("SignedData: missing signerInfos", sdT.start);
  const signerInfos = r.expect(siT, T.SET, "SignerInfos").map((s) => readSignerInfo(r, s));
  return { version, digestAlgorithms, eContentType, eContent, certificates, crls, signerInfos, ber: ci.indefinite || sdT.indefinite || contentT.indefinite };
}

/** Decoded signing-relevant attribute values. */
export interface AttributeValues {
  contentType?: string;
  messageDigest?: Uint8Array;
  signingTime?: Date;
  /** CMSAlgorithmProtection (RFC 6211): digest and signature algorithm OIDs. */
  algorithmProtection?: { digest?: string; signature?: string };
  /** Attribute types that must be single-valued but were not. */
  repeated: string[];
}

/** Reads contentType, messageDigest, signingTime and CMSAlgorithmProtection. */
export function readAttributeValues(sa: SignedAttributes): AttributeValues {
  const r = sa.reader;
  const out: AttributeValues = { repeated: [] };
  const single = (oid: string): Tlv | undefined => {
    const list = sa.byType.get(oid);
    if (!list) return undefined;
    if (list.length !== 1 || list[0]!.length !== 1) out.repeated.push(oid);
    return list[0]![0];
  };
  const ct = single(CMS.contentType);
  if (ct) out.contentType = r.oid(ct);
  const md = single(CMS.messageDigest);
  if (md) {
    if ((md.tag & 0xdf) !== T.OCTET_STRING) throw new BerError("messageDigest is not an OCTET STRING", md.start);
    out.messageDigest = r.octets(md);
  }
  const st = single(CMS.signingTime);
  if (st) out.signingTime = r.time(st);
  const ap = single(CMS.cmsAlgorithmProtection);
  if (ap) {
    const prot: { digest?: string; signature?: string } = {};
    for (const c of r.expect(ap, T.SEQUENCE, "CMSAlgorithmProtection")) {
      if (c.tag === T.SEQUENCE) prot.digest = r.oid(r.children(c)[0]!);
      else if (c.tag === T.CTX1) prot.signature = r.oid(r.children(c)[0]!);
    }
    out.algorithmProtection = prot;
  }
  return out;
}

/**
 * The encapsulated content of an opaque (`application/pkcs7-mime; smime-type=signed-data`)
 * CMS SignedData, DER or BER, without verifying anything; undefined when the bytes are
 * not a SignedData or the signature is detached. Never throws.
 *
 * @example
 * ```ts
 * const inner = extractEncapsulatedContent(p7mBytes); // the signed MIME entity, or undefined
 * ```
 */
export function extractEncapsulatedContent(cms: Uint8Array): Uint8Array | undefined {
  try {
    return parseSignedData(cms).eContent;
  } catch {
    return undefined;
  }
}
