// Hand-made CMS SignedData for the tamper cases signCms (rightly) cannot produce:
// wrong contentType attribute, algorithm confusion, SHA-224, no signers, no
// certificates, SKI signer identifiers. Isomorphic: WebCrypto, plus BigInt RSA for
// SHA-224 (which WebCrypto cannot sign).
import { cons, encodeDer, int, nul, octets, oid, raw, seq, setOf, time, type AsnNode } from "../../../src/smime/asn1-der.js";
import { BerReader } from "../../../src/smime/ber.js";
import { digest as digestOf, sha224 } from "../../../src/smime/digest.js";
import { CMS, DIGEST_OID, SIG, type DigestName } from "../../../src/smime/oids.js";
import { asBufferSource, concatBytes, fromHex } from "../../../src/util/bytes.js";

export interface CraftSigner {
  certificate: Uint8Array;
  privateKey: CryptoKey;
}

export interface CraftOptions {
  content: Uint8Array;
  signer: CraftSigner;
  digest?: DigestName;
  detached?: boolean;
  /** Certificates to include. Default: the signer's. */
  certificates?: Uint8Array[];
  signedAttributes?: boolean;
  contentTypeAttr?: string;
  messageDigest?: Uint8Array;
  signingTime?: Date;
  eContentType?: string;
  /** signatureAlgorithm OID override (e.g. sha1WithRSA with a SHA-256 digestAlgorithm). */
  signatureAlgorithm?: string;
  /** Hash actually used to sign (default: `digest`). */
  signHash?: DigestName;
  /** No SignerInfo at all. */
  noSigners?: boolean;
  /** The SignerInfo this many times (default 1). */
  signerCopies?: number;
  /** DER of each CRL of the `crls` [1] field (none by default). */
  crls?: Uint8Array[];
  /** Identify the signer by subjectKeyIdentifier. */
  sidSki?: boolean;
  /** Extra signed attributes (encoded Attribute SEQUENCEs). */
  extraAttributes?: AsnNode[];
}

const RSA_SIG: Readonly<Record<DigestName, string>> = {
  "SHA-1": SIG.sha1WithRSA,
  "SHA-224": SIG.sha224WithRSA,
  "SHA-256": SIG.sha256WithRSA,
  "SHA-384": SIG.sha384WithRSA,
  "SHA-512": SIG.sha512WithRSA,
};

/** issuer Name and serial INTEGER TLVs, and SKI, of a DER certificate. */
export function certFields(der: Uint8Array): { issuer: Uint8Array; serial: Uint8Array; ski?: Uint8Array } {
  const r = new BerReader(der);
  const tbs = r.children(r.children(r.root())[0]!);
  const i = tbs[0]!.tag === 0xa0 ? 1 : 0;
  let ski: Uint8Array | undefined;
  const extsT = tbs.find((t) => t.tag === 0xa3);
  if (extsT) {
    for (const ext of r.children(r.children(extsT)[0]!)) {
      const parts = r.children(ext);
      if (r.oid(parts[0]!) === "2.5.29.14") {
        const v = new BerReader(r.content(parts[parts.length - 1]!));
        ski = v.content(v.root());
      }
    }
  }
  return { issuer: r.raw(tbs[i + 2]!), serial: r.raw(tbs[i]!), ...(ski ? { ski } : {}) };
}

function b64url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function big(b: Uint8Array): bigint {
  let h = "";
  for (const x of b) h += x.toString(16).padStart(2, "0");
  return BigInt("0x" + (h || "0"));
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** RSASSA-PKCS1-v1_5 with any digest, in BigInt (the key must be extractable). */
export async function rsaSignBigInt(key: CryptoKey, hash: DigestName, data: Uint8Array): Promise<Uint8Array> {
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const n = b64url(jwk.n!);
  const d = big(b64url(jwk.d!));
  const h = hash === "SHA-224" ? sha224(data) : await digestOf(globalThis.crypto, hash, data);
  const info = encodeDer(seq(seq(oid(DIGEST_OID[hash]), nul()), octets(h)));
  const em = new Uint8Array(n.length).fill(0xff);
  em[0] = 0;
  em[1] = 1;
  em[n.length - info.length - 1] = 0;
  em.set(info, n.length - info.length);
  const s = modPow(big(em), d, big(n)).toString(16).padStart(n.length * 2, "0");
  return fromHex(s)!;
}

async function sign(key: CryptoKey, hash: DigestName, data: Uint8Array): Promise<Uint8Array> {
  const subtle = crypto.subtle;
  if (key.algorithm.name === "ECDSA") {
    const raw = new Uint8Array(await subtle.sign({ name: "ECDSA", hash }, key, asBufferSource(data)));
    const half = raw.length / 2;
    const intOf = (b: Uint8Array): Uint8Array => {
      let i = 0;
      while (i < b.length - 1 && b[i] === 0) i++;
      const v = b.subarray(i);
      return v[0]! & 0x80 ? concatBytes([new Uint8Array([0]), v]) : v;
    };
    return encodeDer(seq({ tag: 2, value: intOf(raw.subarray(0, half)) }, { tag: 2, value: intOf(raw.subarray(half)) }));
  }
  if (hash === "SHA-224") return rsaSignBigInt(key, hash, data);
  const pkcs8 = await subtle.exportKey("pkcs8", key);
  const k = await subtle.importKey("pkcs8", pkcs8, { name: "RSASSA-PKCS1-v1_5", hash }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("RSASSA-PKCS1-v1_5", k, asBufferSource(data)));
}

/** Builds a DER ContentInfo(SignedData) exactly as told. */
export async function craftCms(o: CraftOptions): Promise<Uint8Array> {
  const digest = o.digest ?? "SHA-256";
  const signHash = o.signHash ?? digest;
  const ec = o.signer.privateKey.algorithm.name === "ECDSA";
  const certs = o.certificates ?? [o.signer.certificate];
  const signerInfos: AsnNode[] = [];
  if (!o.noSigners) {
    const f = certFields(o.signer.certificate);
    const fields: AsnNode[] = [int(o.sidSki ? 3 : 1), o.sidSki ? { tag: 0x80, value: f.ski! } : seq(raw(f.issuer), raw(f.serial)), seq(oid(DIGEST_OID[digest]))];
    let toSign = o.content;
    if (o.signedAttributes ?? true) {
      const md = o.messageDigest ?? (digest === "SHA-224" ? sha224(o.content) : await digestOf(globalThis.crypto, digest, o.content));
      const attrs = encodeDer(
        setOf([
          seq(oid(CMS.contentType), setOf([oid(o.contentTypeAttr ?? CMS.data)])),
          seq(oid(CMS.signingTime), setOf([time(o.signingTime ?? new Date())])),
          seq(oid(CMS.messageDigest), setOf([octets(md)])),
          ...(o.extraAttributes ?? []),
        ]),
      );
      toSign = attrs;
      const implicit = attrs.slice();
      implicit[0] = 0xa0;
      fields.push(raw(implicit));
    }
    const sigOid = o.signatureAlgorithm ?? (ec ? { "SHA-1": SIG.ecdsaWithSHA1, "SHA-224": SIG.ecdsaWithSHA224, "SHA-256": SIG.ecdsaWithSHA256, "SHA-384": SIG.ecdsaWithSHA384, "SHA-512": SIG.ecdsaWithSHA512 }[digest] : RSA_SIG[digest]);
    fields.push(ec ? seq(oid(sigOid)) : seq(oid(sigOid), nul()), octets(await sign(o.signer.privateKey, signHash, toSign)));
    for (let k = 0; k < (o.signerCopies ?? 1); k++) signerInfos.push(seq(...fields));
  }
  const eci: AsnNode[] = [oid(o.eContentType ?? CMS.data)];
  if (o.detached === false) eci.push(cons(0xa0, [octets(o.content)]));
  const sd: AsnNode[] = [int(o.sidSki ? 3 : 1), setOf([seq(oid(DIGEST_OID[digest]))]), seq(...eci)];
  if (certs.length) sd.push({ tag: 0xa0, children: certs.map(raw), sortSet: true });
  if (o.crls?.length) sd.push(cons(0xa1, o.crls.map(raw)));
  sd.push(setOf(signerInfos));
  return encodeDer(seq(oid(CMS.signedData), cons(0xa0, [seq(...sd)])));
}

/** Offset of the SignerInfo signature value (first signer) in a DER or BER CMS. */
export function signatureOffset(cms: Uint8Array): number {
  const r = new BerReader(cms);
  const sd = r.children(r.children(r.children(r.root(true))[1]!)[0]!);
  const si = r.children(sd[sd.length - 1]!)[0]!;
  const f = r.children(si);
  const sig = f.find((t, i) => i > 2 && t.tag === 0x04)!;
  return sig.contentStart;
}
