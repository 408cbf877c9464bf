/**
 * Signature algorithms: AlgorithmIdentifier parsing and verification with WebCrypto
 * (BigInt fallback for SHA-224 and unusual PSS parameters). Internal.
 *
 * @module
 */

import { asBufferSource } from "../util/bytes.js";
import { BerReader, TAG } from "./ber.js";
import type { PublicKeyData } from "./certificate.js";
import { digest, DIGEST_SIZE, errorText, type CryptoLike } from "./digest.js";
import { bytesToBigInt, ecdsaVerify, hasCurve, rsaPkcs1Verify, rsaPssVerify } from "./fallback.js";
import { DIGESTS, SIG, type DigestName } from "./oids.js";

/** A parsed signature AlgorithmIdentifier. */
export interface SignatureAlgorithm {
  readonly oid: string;
  readonly scheme: "pkcs1" | "pss" | "ecdsa";
  /** Hash fixed by the algorithm (undefined for rsaEncryption / ecPublicKey, where the digestAlgorithm decides). */
  readonly hash?: DigestName;
  /** RSASSA-PSS parameters. */
  readonly pss?: { readonly mgfHash: DigestName; readonly saltLength: number; readonly trailer: number };
}

const FIXED: Readonly<Record<string, { scheme: "pkcs1" | "ecdsa"; hash?: DigestName }>> = {
  [SIG.rsaEncryption]: { scheme: "pkcs1" },
  [SIG.sha1WithRSA]: { scheme: "pkcs1", hash: "SHA-1" },
  "1.3.14.3.2.29": { scheme: "pkcs1", hash: "SHA-1" }, // OIW sha1WithRSASignature
  [SIG.sha224WithRSA]: { scheme: "pkcs1", hash: "SHA-224" },
  [SIG.sha256WithRSA]: { scheme: "pkcs1", hash: "SHA-256" },
  [SIG.sha384WithRSA]: { scheme: "pkcs1", hash: "SHA-384" },
  [SIG.sha512WithRSA]: { scheme: "pkcs1", hash: "SHA-512" },
  [SIG.ecPublicKey]: { scheme: "ecdsa" },
  [SIG.ecdsaWithSHA1]: { scheme: "ecdsa", hash: "SHA-1" },
  [SIG.ecdsaWithSHA224]: { scheme: "ecdsa", hash: "SHA-224" },
  [SIG.ecdsaWithSHA256]: { scheme: "ecdsa", hash: "SHA-256" },
  [SIG.ecdsaWithSHA384]: { scheme: "ecdsa", hash: "SHA-384" },
  [SIG.ecdsaWithSHA512]: { scheme: "ecdsa", hash: "SHA-512" },
};

/** The parsed form of each algorithm with no parameters to read, made once (callers never modify it). */
const FIXED_PARSED: ReadonlyMap<string, SignatureAlgorithm> = new Map(Object.entries(FIXED).map(([oid, f]) => [oid, Object.freeze({ oid, ...f })]));

/** Digest name of a digest AlgorithmIdentifier OID, or undefined when unsupported. */
export function digestByOid(oid: string): DigestName | undefined {
  return DIGESTS[oid]?.name;
}

function readHashAlg(r: BerReader, explicit: ReturnType<BerReader["at"]>): DigestName | string {
  const alg = r.children(explicit)[0];
  if (!alg) return "missing";
  const oid = r.oid(r.children(alg)[0]!);
  return digestByOid(oid) ?? oid;
}

/**
 * Parses a signature AlgorithmIdentifier (its OID and the DER of its parameters, if
 * any). Returns a string saying why when the algorithm is not supported.
 */
export function parseSignatureAlgorithm(oid: string, params?: Uint8Array): SignatureAlgorithm | string {
  const fixed = FIXED_PARSED.get(oid);
  if (fixed) return fixed;
  if (oid !== SIG.rsaPSS) return `signature algorithm ${oid} is not supported`;
  // RSASSA-PSS-params (RFC 4055 §3.1); every field has a SHA-1-era default.
  let hash: DigestName | string = "SHA-1";
  let mgfHash: DigestName | string = "SHA-1";
  let saltLength = 20;
  let trailer = 1;
  if (params && params.length > 0) {
    const r = new BerReader(params);
    for (const f of r.expect(r.root(), TAG.SEQUENCE, "RSASSA-PSS-params")) {
      if (f.tag === TAG.CTX0) hash = readHashAlg(r, f);
      else if (f.tag === TAG.CTX1) {
        const mgf = r.children(f)[0]!;
        const [mgfOid, mgfParams] = r.children(mgf);
        if (r.oid(mgfOid!) !== SIG.mgf1) return "RSASSA-PSS with a mask generation function other than MGF1";
        if (!mgfParams) return "RSASSA-PSS: MGF1 without a hash";
        const h = r.oid(r.children(mgfParams)[0]!);
        mgfHash = digestByOid(h) ?? h;
      } else if (f.tag === TAG.CTX2) saltLength = r.smallInt(r.children(f)[0]!);
      else if (f.tag === TAG.CTX3) trailer = r.smallInt(r.children(f)[0]!);
    }
  }
  if (!(hash in DIGEST_SIZE)) return `RSASSA-PSS with hash ${hash} is not supported`;
  if (!(mgfHash in DIGEST_SIZE)) return `RSASSA-PSS with MGF1 hash ${mgfHash} is not supported`;
  if (trailer !== 1) return `RSASSA-PSS trailer field ${trailer} is not supported`;
  return { oid, scheme: "pss", hash: hash as DigestName, pss: { mgfHash: mgfHash as DigestName, saltLength, trailer } };
}

/** Outcome of one verification. */
export type VerifyOutcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: "SIGNATURE_INVALID" | "UNSUPPORTED_ALGORITHM";
      readonly message: string;
      /** What `subtle.verify` threw: a hostile signature or a failing crypto, which cannot be told apart, so never remembered. */
      readonly thrown?: string;
      /** The algorithm does not fit the key (an ECDSA signature with an RSA key…): no value could verify, whatever the data. */
      readonly misfit?: true;
    };

const OK: VerifyOutcome = { ok: true };
const BAD: VerifyOutcome = { ok: false, code: "SIGNATURE_INVALID", message: "the signature value does not verify with the signer's public key" };

/** Imported keys already settled, for a synchronous fast path (no extra await per receipt). */
const settled = new WeakMap<Promise<CryptoKey | undefined>, CryptoKey | undefined>();

function importKey(crypto: CryptoLike, key: PublicKeyData, algo: RsaHashedImportParams | EcKeyImportParams, id: string): Promise<CryptoKey | undefined> {
  let perCrypto = key.keys.get(crypto.subtle);
  if (!perCrypto) {
    perCrypto = new Map();
    key.keys.set(crypto.subtle, perCrypto);
  }
  let p = perCrypto.get(id);
  if (!p) {
    const spki = key.kind === "RSA" ? key.rsaSpki! : key.spki;
    let imported: Promise<CryptoKey>;
    try {
      imported = Promise.resolve(crypto.subtle.importKey("spki", asBufferSource(spki), algo, false, ["verify"]));
    } catch (e) {
      imported = Promise.reject(e); // a synchronous throw is a refusal like a rejection
    }
    const pending: Promise<CryptoKey | undefined> = imported.then(
      (k) => {
        settled.set(pending, k);
        return k;
      },
      () => {
        settled.set(pending, undefined);
        return undefined; // refused (odd size, curve, a failing crypto): the BigInt fallback takes over where it can
      },
    );
    p = pending;
    perCrypto.set(id, p);
  }
  return p;
}

/**
 * The key when its import has settled (the common case after the first receipt of a
 * gestore): lets the verification be posted in the same tick as the content digest.
 */
function keyNow(crypto: CryptoLike, key: PublicKeyData, id: string): CryptoKey | undefined {
  const p = key.keys.get(crypto.subtle)?.get(id);
  return p ? settled.get(p) : undefined;
}

/** Whether INTEGER content octets are a positive number in minimal form (DER). */
function positiveMinimal(c: Uint8Array): boolean {
  return c.length > 0 && !(c[0]! & 0x80) && !(c.length > 1 && c[0] === 0 && !(c[1]! & 0x80));
}

/**
 * DER ECDSA-Sig-Value → r and s, or undefined when malformed or not DER. BER forms (long or
 * indefinite lengths, padded or negative integers) are refused as OpenSSL refuses them
 * (CVE-2014-8275): they would let anyone re-encode a valid signature, and with it the
 * fingerprint of an ECDSA-signed certificate, without invalidating it.
 */
function ecdsaRs(sig: Uint8Array): { r: Uint8Array; s: Uint8Array } | undefined {
  try {
    const rd = new BerReader(sig);
    const seq = rd.root();
    const [rT, sT, extra] = rd.expect(seq, TAG.SEQUENCE, "ECDSA-Sig-Value");
    if (!rT || !sT || extra || rT.tag !== TAG.INTEGER || sT.tag !== TAG.INTEGER) return undefined;
    const r = rd.content(rT);
    const s = rd.content(sT);
    if (!positiveMinimal(r) || !positiveMinimal(s)) return undefined;
    // Minimal definite lengths everywhere: the encoding is exactly as long as DER's.
    const intLen = (n: number): number => 1 + (n < 0x80 ? 1 : n < 0x100 ? 2 : 3) + n;
    const body = intLen(r.length) + intLen(s.length);
    if (sig.length !== 1 + (body < 0x80 ? 1 : body < 0x100 ? 2 : 3) + body) return undefined;
    const strip = (b: Uint8Array): Uint8Array => (b.length > 1 && b[0] === 0 ? b.subarray(1) : b);
    return { r: strip(r), s: strip(s) };
  } catch {
    return undefined;
  }
}

const toOutcome = (ok: unknown): VerifyOutcome => (ok ? OK : BAD);
/** An exception of `subtle.verify`: a mismatch, with what was thrown in the message (it may be the crypto's fault, not the signature's). */
const toBad = (e: unknown): VerifyOutcome => {
  const thrown = errorText(e);
  return { ok: false, code: "SIGNATURE_INVALID", message: `the signature value does not verify with the signer's public key (subtle.verify failed: ${thrown})`, thrown };
};

/** WebCrypto verify; an exception (e.g. a signature of the wrong length) counts as a mismatch. */
function subtleVerify(crypto: CryptoLike, algo: AlgorithmIdentifier | RsaPssParams | EcdsaParams, k: CryptoKey, sig: Uint8Array, data: Uint8Array): Promise<VerifyOutcome> {
  let p: Promise<boolean>;
  try {
    p = crypto.subtle.verify(algo, k, asBufferSource(sig), asBufferSource(data));
  } catch (e) {
    return Promise.resolve(toBad(e));
  }
  return Promise.resolve(p).then(toOutcome, toBad);
}

/** Key cache ids of PKCS#1 v1.5 keys, by hash (no string built per verification). */
const PKCS1_IDS: Readonly<Record<DigestName, string>> = { "SHA-1": "PKCS1|SHA-1", "SHA-224": "PKCS1|SHA-224", "SHA-256": "PKCS1|SHA-256", "SHA-384": "PKCS1|SHA-384", "SHA-512": "PKCS1|SHA-512" };

const CURVE_BYTES: Readonly<Record<string, number>> = { "P-256": 32, "P-384": 48, "P-521": 66 };

/**
 * Verifies `sig` over `data` with `key`, using `alg` and the digest `hash` (already
 * reconciled with the algorithm by the caller).
 */
export function verifySignature(
  crypto: CryptoLike,
  key: PublicKeyData,
  alg: SignatureAlgorithm,
  hash: DigestName,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<VerifyOutcome> {
  // Fast path, what every gestore receipt takes: PKCS#1 v1.5 with a key already imported.
  if (alg.scheme === "pkcs1" && key.kind === "RSA" && !key.pssOnly && hash !== "SHA-224") {
    const k = keyNow(crypto, key, PKCS1_IDS[hash]);
    if (k) return subtleVerify(crypto, "RSASSA-PKCS1-v1_5", k, sig, data);
  }
  return verifySlow(crypto, key, alg, hash, data, sig);
}

async function verifySlow(
  crypto: CryptoLike,
  key: PublicKeyData,
  alg: SignatureAlgorithm,
  hash: DigestName,
  data: Uint8Array,
  sig: Uint8Array,
): Promise<VerifyOutcome> {
  if (alg.scheme === "ecdsa") {
    if (key.kind !== "EC") return { ok: false, code: "SIGNATURE_INVALID", message: "ECDSA signature with a non-EC key", misfit: true };
    const curve = key.curve ?? "";
    const size = CURVE_BYTES[curve];
    if (!size) return { ok: false, code: "UNSUPPORTED_ALGORITHM", message: `elliptic curve ${curve} is not supported` };
    const rs = ecdsaRs(sig);
    if (!rs || rs.r.length > size || rs.s.length > size) return BAD;
    if (hash !== "SHA-224") {
      const k = await importKey(crypto, key, { name: "ECDSA", namedCurve: curve }, "ECDSA|" + curve);
      if (k) {
        const raw = new Uint8Array(size * 2);
        raw.set(rs.r, size - rs.r.length);
        raw.set(rs.s, 2 * size - rs.s.length);
        return subtleVerify(crypto, { name: "ECDSA", hash }, k, raw, data);
      }
    }
    if (!hasCurve(curve)) return { ok: false, code: "UNSUPPORTED_ALGORITHM", message: `ECDSA on ${curve} with ${hash} is not supported` };
    const h = await digest(crypto, hash, data);
    return ecdsaVerify(curve, key.point!, h, bytesToBigInt(rs.r), bytesToBigInt(rs.s)) ? OK : BAD;
  }
  if (key.kind !== "RSA") return { ok: false, code: "SIGNATURE_INVALID", message: "RSA signature with a non-RSA key", misfit: true };
  if (alg.scheme === "pkcs1") {
    if (key.pssOnly) return { ok: false, code: "SIGNATURE_INVALID", message: "PKCS#1 v1.5 signature with a key restricted to RSASSA-PSS", misfit: true };
    if (hash !== "SHA-224") {
      const k = await importKey(crypto, key, { name: "RSASSA-PKCS1-v1_5", hash }, PKCS1_IDS[hash]);
      if (k) return subtleVerify(crypto, "RSASSA-PKCS1-v1_5", k, sig, data);
    }
    return rsaPkcs1Verify(key.n!, key.e!, hash, await digest(crypto, hash, data), sig) ? OK : BAD;
  }
  const pss = alg.pss!;
  if (hash !== "SHA-224" && pss.mgfHash === hash) {
    const k = await importKey(crypto, key, { name: "RSA-PSS", hash }, "PSS|" + hash);
    if (k) return subtleVerify(crypto, { name: "RSA-PSS", saltLength: pss.saltLength }, k, sig, data);
  }
  return (await rsaPssVerify(crypto, key.n!, key.e!, hash, pss.mgfHash, pss.saltLength, await digest(crypto, hash, data), sig)) ? OK : BAD;
}

/** The signed parts of an X.509 object (certificate or CRL), as its internals keep them. */
export interface SignedObject {
  readonly tbs: Uint8Array;
  readonly sigAlgOid: string;
  readonly sigAlgParams?: Uint8Array | undefined;
  readonly signature: Uint8Array;
}

/**
 * {@link verifySignedObject} of `signed` with `issuerKey`, remembered in `cache` under `issuer`
 * (certificates and CRLs keep one per issuer). Only a definite answer is kept: what
 * `subtle.verify` threw (a hostile signature or a failing crypto, which cannot be told apart)
 * and a failing crypto's rejection are forgotten once settled, so the next call asks again.
 */
export function verifySignedObjectOnce<K extends object>(
  cache: WeakMap<K, Promise<VerifyOutcome>>,
  issuer: K,
  issuerKey: PublicKeyData,
  signed: SignedObject,
  crypto: CryptoLike,
): Promise<VerifyOutcome> {
  const known = cache.get(issuer);
  if (known) return known;
  const fresh = verifySignedObject(crypto, issuerKey, signed.sigAlgOid, signed.sigAlgParams, signed.tbs, signed.signature);
  cache.set(issuer, fresh);
  const forget = (): void => {
    if (cache.get(issuer) === fresh) cache.delete(issuer);
  };
  fresh.then((o) => {
    if (!o.ok && o.thrown !== undefined) forget();
  }, forget);
  return fresh;
}

/**
 * Verifies a signed X.509 object (certificate or CRL): `tbs` signed with the
 * algorithm `sigAlgOid`/`params` by `issuerKey`.
 */
async function verifySignedObject(
  crypto: CryptoLike,
  issuerKey: PublicKeyData,
  sigAlgOid: string,
  params: Uint8Array | undefined,
  tbs: Uint8Array,
  signature: Uint8Array,
): Promise<VerifyOutcome> {
  let alg: SignatureAlgorithm | string;
  try {
    alg = parseSignatureAlgorithm(sigAlgOid, params);
  } catch {
    return { ok: false, code: "UNSUPPORTED_ALGORITHM", message: "malformed signature algorithm parameters" };
  }
  if (typeof alg === "string") return { ok: false, code: "UNSUPPORTED_ALGORITHM", message: alg };
  if (!alg.hash) return { ok: false, code: "UNSUPPORTED_ALGORITHM", message: `signature algorithm ${sigAlgOid} names no hash` };
  return verifySignature(crypto, issuerKey, alg, alg.hash, tbs, signature);
}
