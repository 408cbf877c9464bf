// Shared helpers of the signing and test-PKI suites: decode what we produce with pkijs
// / asn1js (independent of postacert's own DER writer) and check signatures with WebCrypto.
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/** A pkijs engine passed explicitly (never the global one). */
export const engine = new pkijs.CryptoEngine({ name: "test", crypto: globalThis.crypto });

export const OID = {
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  certificatePolicies: "2.5.29.32",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  basicConstraints: "2.5.29.19",
  nameConstraints: "2.5.29.30",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  pecPolicy: "1.3.76.16.3.1.1",
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  smimeCapabilities: "1.2.840.113549.1.9.15",
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsaPSS: "1.2.840.113549.1.1.10",
  sha256WithRSA: "1.2.840.113549.1.1.11",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  ecdsaWithSHA384: "1.2.840.10045.4.3.3",
} as const;

export const DIGEST_BY_OID: Record<string, string> = {
  "1.3.14.3.2.26": "SHA-1",
  "2.16.840.1.101.3.4.2.1": "SHA-256",
  "2.16.840.1.101.3.4.2.2": "SHA-384",
  "2.16.840.1.101.3.4.2.3": "SHA-512",
};

export function ab(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

export function parseCert(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(ab(der));
}

export function ext(cert: pkijs.Certificate, id: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === id);
}

/** The inner value of an extension as an asn1js tree. */
export function extValue(cert: pkijs.Certificate, id: string): asn1js.AsnType | undefined {
  const e = ext(cert, id);
  if (!e) return undefined;
  return asn1js.fromBER(e.extnValue.valueBlock.valueHexView.slice()).result;
}

/** Attribute values of a Name as "C=IT, O=..., CN=..." with one attribute per RDN. */
export function nameOf(rdn: pkijs.RelativeDistinguishedNames): string {
  const short: Record<string, string> = { "2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN" };
  return rdn.typesAndValues.map((t) => `${short[t.type] ?? t.type}=${t.value.valueBlock.value}`).join(", ");
}

export function parseCms(bytes: Uint8Array): { contentInfo: pkijs.ContentInfo; signedData: pkijs.SignedData } {
  const contentInfo = pkijs.ContentInfo.fromBER(ab(bytes));
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  return { contentInfo, signedData };
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Lexicographic byte comparison with zero padding (X.690 §11.6). */
export function compareDer(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x - y;
  }
  return 0;
}

/**
 * Converts BER to DER for the subset our BER writer uses: indefinite lengths become
 * definite and constructed OCTET STRINGs are joined. Written independently of
 * src/smime/asn1-der.ts so it can check it.
 */
export function berToDer(ber: Uint8Array): Uint8Array {
  const read = (at: number): { out: number[]; end: number } => {
    const tag = ber[at]!;
    let p = at + 1;
    let len = ber[p++]!;
    let indefinite = false;
    if (len === 0x80) indefinite = true;
    else if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + ber[p++]!;
    }
    const constructed = (tag & 0x20) !== 0;
    if (!constructed) {
      return { out: [tag, ...lenBytes(len), ...ber.subarray(p, p + len)], end: p + len };
    }
    const children: number[][] = [];
    let q = p;
    for (;;) {
      if (indefinite ? ber[q] === 0 && ber[q + 1] === 0 : q >= p + len) break;
      const c = read(q);
      children.push(c.out);
      q = c.end;
    }
    const end = indefinite ? q + 2 : q;
    if (tag === 0x24) {
      // Constructed OCTET STRING: concatenate the pieces' contents.
      const content: number[] = [];
      for (const c of children) content.push(...c.slice(headerLength(c)));
      return { out: [0x04, ...lenBytes(content.length), ...content], end };
    }
    const content = children.flat();
    return { out: [tag, ...lenBytes(content.length), ...content], end };
  };
  return Uint8Array.from(read(0).out);
}

function lenBytes(len: number): number[] {
  if (len < 0x80) return [len];
  const out: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) out.unshift(l & 0xff);
  return [0x80 | out.length, ...out];
}

function headerLength(tlv: number[]): number {
  const l = tlv[1]!;
  return l < 0x80 ? 2 : 2 + (l & 0x7f);
}

/** Whether a BER encoding uses any indefinite length (a 0x80 length octet after a constructed tag). */
export function hasIndefiniteLength(bytes: Uint8Array): boolean {
  return bytes[1] === 0x80;
}

/** WebCrypto import parameters for a certificate's key under a CMS signature algorithm. */
async function publicKeyFor(
  cert: pkijs.Certificate,
  sigAlg: pkijs.AlgorithmIdentifier,
  digest: string,
): Promise<{ key: CryptoKey; params: Algorithm | RsaPssParams | EcdsaParams }> {
  const spki = cert.subjectPublicKeyInfo.toSchema().toBER(false);
  const keyOid = cert.subjectPublicKeyInfo.algorithm.algorithmId;
  if (keyOid === "1.2.840.10045.2.1") {
    const curveOid = (cert.subjectPublicKeyInfo.algorithm.algorithmParams as asn1js.ObjectIdentifier).valueBlock.toString();
    const namedCurve = curveOid === "1.3.132.0.34" ? "P-384" : "P-256";
    const key = await crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve }, false, ["verify"]);
    return { key, params: { name: "ECDSA", hash: digest } };
  }
  if (sigAlg.algorithmId === OID.rsaPSS) {
    const pss = new pkijs.RSASSAPSSParams({ schema: sigAlg.algorithmParams });
    const hash = DIGEST_BY_OID[pss.hashAlgorithm.algorithmId] ?? "SHA-1";
    const key = await crypto.subtle.importKey("spki", spki, { name: "RSA-PSS", hash }, false, ["verify"]);
    return { key, params: { name: "RSA-PSS", saltLength: pss.saltLength } as RsaPssParams };
  }
  const key = await crypto.subtle.importKey("spki", spki, { name: "RSASSA-PKCS1-v1_5", hash: digest }, false, ["verify"]);
  return { key, params: { name: "RSASSA-PKCS1-v1_5" } };
}

/**
 * Verifies every SignerInfo of a CMS with WebCrypto: messageDigest = digest of the
 * content, and the signature over the DER SET of signed attributes (or over the
 * content when there are none). Returns a description per signer.
 */
export async function verifyCms(cms: Uint8Array, detachedContent?: Uint8Array): Promise<{ digest: string; signed: boolean }[]> {
  const { signedData } = parseCms(cms);
  const content =
    detachedContent ??
    (signedData.encapContentInfo.eContent ? new Uint8Array(signedData.encapContentInfo.eContent.getValue()) : undefined);
  if (!content) throw new Error("no content");
  const certs = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const out: { digest: string; signed: boolean }[] = [];
  for (const si of signedData.signerInfos) {
    const sid = si.sid as pkijs.IssuerAndSerialNumber;
    const cert = certs.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
    if (!cert) throw new Error("signer certificate not in the CMS");
    const digest = DIGEST_BY_OID[si.digestAlgorithm.algorithmId];
    if (!digest) throw new Error("unknown digest");
    let data: Uint8Array = content;
    if (si.signedAttrs) {
      const md = si.signedAttrs.attributes.find((a) => a.type === OID.messageDigest)!;
      const expected = new Uint8Array(await crypto.subtle.digest(digest, content.slice()));
      const got = new Uint8Array((md.values[0] as asn1js.OctetString).valueBlock.valueHexView);
      if (toHex(expected) !== toHex(got)) throw new Error("messageDigest mismatch");
      data = new Uint8Array(si.signedAttrs.encodedValue);
    }
    const { key, params } = await publicKeyFor(cert, si.signatureAlgorithm, digest);
    let sig: Uint8Array = new Uint8Array(si.signature.valueBlock.valueHexView);
    if (params.name === "ECDSA") sig = ecdsaRaw(sig, (key.algorithm as EcKeyAlgorithm).namedCurve === "P-384" ? 48 : 32);
    const ok = await crypto.subtle.verify(params, key, sig.slice(), data.slice());
    out.push({ digest, signed: ok });
  }
  return out;
}

/** r||s from a DER ECDSA-Sig-Value. */
export function ecdsaRaw(der: Uint8Array, size: number): Uint8Array {
  const seq = asn1js.fromBER(der.slice()).result as asn1js.Sequence;
  const out = new Uint8Array(size * 2);
  seq.valueBlock.value.forEach((v, i) => {
    let b = new Uint8Array((v as asn1js.Integer).valueBlock.valueHexView);
    while (b.length > size && b[0] === 0) b = b.subarray(1);
    out.set(b, i * size + size - b.length);
  });
  return out;
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
