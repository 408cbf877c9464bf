/**
 * Signature algorithm plumbing shared by the CMS signer and the test PKI: algorithm
 * identifiers as gestori and OpenSSL write them, WebCrypto key re-imports, and the
 * ECDSA signature format. Internal: not part of the public API.
 *
 * @module
 */

import { PecError } from "../errors.js";
import { type AsnNode, TAG, cons, encodeDer, int, nul, oid, prim, seq, uintValue } from "./asn1-der.js";
import { DIGEST_OID, SIG } from "./oids.js";

/** Digests postacert signs with. */
export type SignDigest = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

/** Output length of each digest, which is also the RSA-PSS salt length we use. */
export const DIGEST_LENGTH: Readonly<Record<SignDigest, number>> = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };

/** shaXWithRSAEncryption per digest. */
export const SHA_WITH_RSA: Readonly<Record<SignDigest, string>> = {
  "SHA-1": SIG.sha1WithRSA,
  "SHA-256": SIG.sha256WithRSA,
  "SHA-384": SIG.sha384WithRSA,
  "SHA-512": SIG.sha512WithRSA,
};

/** ecdsa-with-SHAx per digest. */
export const ECDSA_WITH: Readonly<Record<SignDigest, string>> = {
  "SHA-1": SIG.ecdsaWithSHA1,
  "SHA-256": SIG.ecdsaWithSHA256,
  "SHA-384": SIG.ecdsaWithSHA384,
  "SHA-512": SIG.ecdsaWithSHA512,
};

/** Whether a string names a digest we sign with. */
export function isSignDigest(d: unknown): d is SignDigest {
  return typeof d === "string" && Object.prototype.hasOwnProperty.call(DIGEST_LENGTH, d);
}

/** Digest AlgorithmIdentifier with absent parameters (RFC 5754 §2). */
export function digestAlgId(digest: SignDigest): AsnNode {
  return seq(oid(DIGEST_OID[digest]));
}

/** RSASSA-PSS AlgorithmIdentifier (RFC 4055) for `digest`, salt = digest length; SHA-1 defaults are omitted as DER requires. */
export function pssAlgId(digest: SignDigest): AsnNode {
  if (digest === "SHA-1") return seq(oid(SIG.rsaPSS), seq());
  const h = digestAlgId(digest);
  return seq(
    oid(SIG.rsaPSS),
    seq(cons(0xa0, [h]), cons(0xa1, [seq(oid(SIG.mgf1), h)]), cons(0xa2, [int(DIGEST_LENGTH[digest])])),
  );
}

/** shaXWithRSAEncryption with the NULL parameters RFC 4055 §5 asks for. */
export function rsaAlgId(digest: SignDigest): AsnNode {
  return seq(oid(SHA_WITH_RSA[digest]), nul());
}

/** DER ECDSA-Sig-Value from WebCrypto's raw r||s. */
export function ecdsaDer(rawSig: Uint8Array): Uint8Array {
  const half = rawSig.length / 2;
  return encodeDer(seq(prim(TAG.INTEGER, uintValue(rawSig.subarray(0, half))), prim(TAG.INTEGER, uintValue(rawSig.subarray(half)))));
}

/** Re-imported RSA keys per original key and (algorithm, hash). */
const rsaKeyCache = new WeakMap<CryptoKey, Map<string, Promise<CryptoKey>>>();

/**
 * An RSA key usable for `name` with `hash`: the key itself when WebCrypto bound it to
 * those, otherwise a re-import of its PKCS#8 form (cached per key), because WebCrypto
 * fixes an RSA key's hash and padding at import time.
 */
export function rsaKeyFor(
  subtle: SubtleCrypto,
  key: CryptoKey,
  name: "RSASSA-PKCS1-v1_5" | "RSA-PSS",
  hash: SignDigest,
): Promise<CryptoKey> {
  const alg = key.algorithm as RsaHashedKeyAlgorithm;
  if (alg.name.toUpperCase() === name.toUpperCase() && alg.hash?.name.toUpperCase() === hash) return Promise.resolve(key);
  let perKey = rsaKeyCache.get(key);
  if (!perKey) rsaKeyCache.set(key, (perKey = new Map()));
  const id = `${name}/${hash}`;
  let p = perKey.get(id);
  if (!p) {
    const cache = perKey;
    p = (async () => {
      if (!key.extractable) {
        throw new PecError(
          "ERR_UNSUPPORTED",
          `the RSA key is bound to ${alg.name}/${alg.hash?.name} and is not extractable, so it cannot sign with ${name}/${hash}; ` +
            "import it for that algorithm or make it extractable",
        );
      }
      const pkcs8 = await subtle.exportKey("pkcs8", key);
      return subtle.importKey("pkcs8", pkcs8, { name, hash }, false, ["sign"]);
    })();
    cache.set(id, p);
    p.catch(() => cache.delete(id));
  }
  return p;
}

/** The hash an RSA key is bound to, or the natural hash of an EC key's curve. */
export function naturalDigest(key: CryptoKey): SignDigest {
  const alg = key.algorithm as Partial<RsaHashedKeyAlgorithm & EcKeyAlgorithm>;
  if (alg.name === "ECDSA") return alg.namedCurve === "P-384" ? "SHA-384" : alg.namedCurve === "P-521" ? "SHA-512" : "SHA-256";
  const h = alg.hash?.name.toUpperCase();
  return isSignDigest(h) ? h : "SHA-256";
}

/**
 * The AlgorithmIdentifier (DER) a certificate or CRL issuer with `key` signs with:
 * shaXWithRSAEncryption, RSASSA-PSS or ecdsa-with-SHAx, with the key's natural digest.
 */
export function signatureAlgorithmFor(key: CryptoKey, digest: SignDigest = naturalDigest(key)): Uint8Array {
  const name = key.algorithm.name.toUpperCase();
  if (name === "ECDSA") return encodeDer(seq(oid(ECDSA_WITH[digest])));
  if (name === "RSA-PSS") return encodeDer(pssAlgId(digest));
  if (name === "RSASSA-PKCS1-V1_5") return encodeDer(rsaAlgId(digest));
  throw new PecError("ERR_UNSUPPORTED", `signing with ${key.algorithm.name} keys is not supported`);
}

/**
 * Signs `data` with `key` the way a certificate or CRL issuer does (digest chosen by the
 * key, see {@link naturalDigest}); the matching identifier is {@link signatureAlgorithmFor}.
 */
export async function signWithKey(
  subtle: SubtleCrypto,
  key: CryptoKey,
  data: Uint8Array<ArrayBuffer>,
  digest: SignDigest = naturalDigest(key),
): Promise<{ algorithm: Uint8Array; signature: Uint8Array }> {
  const algorithm = signatureAlgorithmFor(key, digest);
  const name = key.algorithm.name.toUpperCase();
  if (name === "ECDSA") {
    const s = new Uint8Array(await subtle.sign({ name: "ECDSA", hash: digest }, key, data));
    return { algorithm, signature: ecdsaDer(s) };
  }
  if (name === "RSA-PSS") {
    const k = await rsaKeyFor(subtle, key, "RSA-PSS", digest);
    const s = new Uint8Array(await subtle.sign({ name: "RSA-PSS", saltLength: DIGEST_LENGTH[digest] }, k, data));
    return { algorithm, signature: s };
  }
  const k = await rsaKeyFor(subtle, key, "RSASSA-PKCS1-v1_5", digest);
  const s = new Uint8Array(await subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, k, data));
  return { algorithm, signature: s };
}
