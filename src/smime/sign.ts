/**
 * CMS SignedData and S/MIME signing with WebCrypto keys, as PEC gestori sign every
 * message they emit (spec §6.1).
 *
 * Choices, and why:
 * - RSA PKCS#1 v1.5 SignerInfos carry `signatureAlgorithm = rsaEncryption` (with NULL
 *   parameters) by default, as every gestore and OpenSSL write it; RFC 3370 §3.2 makes
 *   verifiers accept it. `rsaSignatureAlgorithm: "sha-with-rsa"` writes
 *   `sha256WithRSAEncryption` and friends instead, as Aruba does since 2026.
 * - Digest AlgorithmIdentifiers have absent parameters (RFC 5754 §2 "MUST").
 * - Signed attributes are contentType, signingTime, messageDigest, SMIMECapabilities,
 *   each encoded once in DER and sorted as a DER SET OF; the signature covers exactly
 *   those bytes (with the SET tag), and the SignerInfo carries the same bytes.
 * - `encoding: "ber"` writes what InfoCert, Aruba and OpenSSL's streaming mode send:
 *   indefinite lengths on ContentInfo, its [0], SignedData, EncapsulatedContentInfo,
 *   eContent's [0] and the certificates [0], and an eContent OCTET STRING in
 *   constructed 1024-byte pieces. Signed attributes stay DER (they are signed as DER).
 *
 * Parsed signer certificates are cached per `Uint8Array` (a WeakMap), so signing many
 * receipts with one gestore identity parses its certificate once.
 *
 * @module
 */

import { PecError } from "../errors.js";
import { encodeBase64Bytes } from "../util/base64.js";
import { asBufferSource, concatBytes, equalBytes, indexOfBytes, latin1Bytes, toHex } from "../util/bytes.js";
import {
  type AsnNode,
  TAG,
  cons,
  encodeBer,
  encodeDer,
  int,
  nul,
  octets,
  oid,
  oidString,
  raw,
  readChildren,
  readTlv,
  seq,
  setOf,
  time,
} from "./asn1-der.js";
import { CMS, CURVES, SIG } from "./oids.js";
import { DIGEST_LENGTH, ECDSA_WITH, SHA_WITH_RSA, digestAlgId, ecdsaDer, isSignDigest, pssAlgId, rsaKeyFor } from "./sign-alg.js";
import { isDenseArray } from "../util/arrays.js";

/** Digest algorithms {@link signCms} can use. */
export type CmsDigest = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

/** How the ContentInfo is encoded: strict DER, or BER with indefinite lengths. */
export type CmsEncoding = "der" | "ber";

/** A signing identity: a certificate and its private key (e.g. a `TestGestore`). */
export interface CmsSigner {
  /** DER X.509 certificate of the signer. */
  certificate: Uint8Array;
  /**
   * The matching private key, usage `"sign"`: RSASSA-PKCS1-v1_5, RSA-PSS or ECDSA
   * (P-256, P-384, P-521). WebCrypto binds an RSA key to one hash; when another digest
   * (or PSS on a PKCS#1 key, or the reverse) is asked for, the key is re-imported from
   * its PKCS#8 export, which needs an extractable key.
   */
  privateKey: CryptoKey;
  /** Further certificates to include (issuers), nearest first. Duplicates are dropped. */
  chain?: readonly Uint8Array[];
}

/** Options of {@link signCms}. */
export interface CmsSignOptions {
  /** The bytes to sign (for S/MIME, a whole MIME entity with CRLF line ends). */
  content: Uint8Array;
  /** One signer, or several (one SignerInfo each, in this order). */
  signer: CmsSigner | readonly CmsSigner[];
  /** Digest algorithm. Default `"SHA-256"`. */
  digest?: CmsDigest;
  /** Leave eContent out (detached signature, the PEC norm). Default `true`. */
  detached?: boolean;
  /** The signingTime attribute. Default: now. Milliseconds are dropped (DER time). */
  signingTime?: Date;
  /**
   * Include signed attributes. Default `true`. With `false` the signature is computed
   * over the content itself (allowed for id-data by RFC 5652 §5.3) and there is no
   * signing time.
   */
  signedAttributes?: boolean;
  /** Output encoding. Default `"der"`. */
  encoding?: CmsEncoding;
  /** Sign RSA with RSASSA-PSS (salt = digest length, MGF1 with the same digest). Default: whether the key is an RSA-PSS key. */
  rsaPss?: boolean;
  /** SignerInfo algorithm for RSA PKCS#1 v1.5: `"rsaEncryption"` (default) or `"sha-with-rsa"`. */
  rsaSignatureAlgorithm?: "rsaEncryption" | "sha-with-rsa";
  /** WebCrypto implementation. Default `globalThis.crypto`. */
  crypto?: Crypto;
}

/** RFC 5751 `micalg` names. */
const MICALG: Readonly<Record<CmsDigest, string>> = {
  "SHA-1": "sha-1",
  "SHA-256": "sha-256",
  "SHA-384": "sha-384",
  "SHA-512": "sha-512",
};

/** AES-256/192/128-CBC: what a modern S/MIME agent announces it can decrypt. */
const SMIME_CAPABILITIES = ["2.16.840.1.101.3.4.1.42", "2.16.840.1.101.3.4.1.22", "2.16.840.1.101.3.4.1.2"];

/** What signing needs from a certificate, parsed once. */
interface CertInfo {
  /** IssuerAndSerialNumber, encoded from the certificate's own issuer and serial bytes. */
  issuerAndSerial: Uint8Array;
  /** SubjectPublicKeyInfo algorithm OID. */
  keyAlgorithm: string;
  /** Named curve OID for EC keys. */
  curve: string | undefined;
}

const certCache = new WeakMap<Uint8Array, CertInfo>();

function badCert(what: string): PecError {
  return new PecError("ERR_INVALID_ARGUMENT", `signer.certificate is not a DER X.509 certificate (${what})`);
}

function certInfo(der: Uint8Array): CertInfo {
  const hit = certCache.get(der);
  if (hit) return hit;
  if (!(der instanceof Uint8Array)) throw badCert("not a Uint8Array");
  const cert = readTlv(der, 0);
  if (!cert || cert.tag !== TAG.SEQUENCE || cert.end !== der.length) throw badCert("outer SEQUENCE");
  const top = readChildren(der, cert);
  const tbs = top?.[0];
  if (!tbs || tbs.tag !== TAG.SEQUENCE) throw badCert("tbsCertificate");
  const f = readChildren(der, tbs);
  if (!f) throw badCert("tbsCertificate fields");
  const i = f[0]?.tag === 0xa0 ? 1 : 0;
  const serial = f[i];
  const issuer = f[i + 2];
  const spki = f[i + 5];
  if (serial?.tag !== TAG.INTEGER || issuer?.tag !== TAG.SEQUENCE || spki?.tag !== TAG.SEQUENCE) throw badCert("fields");
  const algSeq = readChildren(der, spki)?.[0];
  const alg = algSeq && algSeq.tag === TAG.SEQUENCE ? readChildren(der, algSeq) : undefined;
  if (!alg || alg[0]?.tag !== TAG.OID) throw badCert("subjectPublicKeyInfo");
  const keyAlgorithm = oidString(der.subarray(alg[0].contentStart, alg[0].end));
  const curve = alg[1]?.tag === TAG.OID ? oidString(der.subarray(alg[1].contentStart, alg[1].end)) : undefined;
  const info: CertInfo = {
    issuerAndSerial: encodeDer(seq(raw(der.subarray(issuer.start, issuer.end)), raw(der.subarray(serial.start, serial.end)))),
    keyAlgorithm,
    curve,
  };
  certCache.set(der, info);
  return info;
}

type KeyFamily = "RSA" | "ECDSA";

function keyFamily(key: CryptoKey, cert: CertInfo): KeyFamily {
  const name = key.algorithm.name.toUpperCase();
  if (name === "RSASSA-PKCS1-V1_5" || name === "RSA-PSS") {
    if (cert.keyAlgorithm !== SIG.rsaEncryption && cert.keyAlgorithm !== SIG.rsaPSS) {
      throw new PecError("ERR_INVALID_ARGUMENT", "signer.privateKey is RSA but the certificate's key is not");
    }
    return "RSA";
  }
  if (name === "ECDSA") {
    const curve = (key.algorithm as EcKeyAlgorithm).namedCurve;
    if (cert.keyAlgorithm !== SIG.ecPublicKey || CURVES[cert.curve ?? ""] !== curve) {
      throw new PecError("ERR_INVALID_ARGUMENT", `signer.privateKey is ECDSA ${curve} but the certificate's key is not`);
    }
    return "ECDSA";
  }
  throw new PecError("ERR_UNSUPPORTED", `signing with ${key.algorithm.name} keys is not supported`);
}

interface Prepared {
  family: KeyFamily;
  info: CertInfo;
  signer: CmsSigner;
  pss: boolean;
}

function prepare(s: CmsSigner, rsaPss: boolean | undefined): Prepared {
  if (typeof s !== "object" || s === null) throw new PecError("ERR_INVALID_ARGUMENT", "signer must be an object");
  if (!(s.certificate instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", "signer.certificate must be a Uint8Array (DER)");
  const key = s.privateKey as CryptoKey | undefined;
  if (!key || typeof key !== "object" || !("algorithm" in key) || !("usages" in key)) {
    throw new PecError("ERR_INVALID_ARGUMENT", "signer.privateKey must be a WebCrypto CryptoKey");
  }
  if (key.type !== "private" || !key.usages.includes("sign")) {
    throw new PecError("ERR_INVALID_ARGUMENT", "signer.privateKey must be a private key with usage \"sign\"");
  }
  if (s.chain !== undefined && (!isDenseArray(s.chain) || s.chain.some((c) => !(c instanceof Uint8Array)))) {
    throw new PecError("ERR_INVALID_ARGUMENT", "signer.chain must be an array of DER certificates");
  }
  const info = certInfo(s.certificate);
  const family = keyFamily(key, info);
  const pss = family === "RSA" && (rsaPss ?? key.algorithm.name.toUpperCase() === "RSA-PSS");
  if (rsaPss && family !== "RSA") throw new PecError("ERR_INVALID_ARGUMENT", "rsaPss needs an RSA key");
  return { family, info, signer: s, pss };
}

function checkDate(d: Date, what: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new PecError("ERR_INVALID_ARGUMENT", `${what} must be a valid Date`);
  return d;
}

/**
 * Signs `content` and returns a DER (or BER) `ContentInfo` holding a CMS `SignedData`
 * (RFC 5652): version 1, one SignerInfo per signer identified by IssuerAndSerialNumber,
 * the signer certificates and their chains, and by default the signed attributes
 * contentType, signingTime, messageDigest and SMIMECapabilities.
 *
 * Throws `PecError` `ERR_INVALID_ARGUMENT` for malformed arguments (a key that does not
 * match the certificate, a certificate that is not DER X.509, …) and `ERR_UNSUPPORTED`
 * for digests, key types or key re-imports it cannot do.
 *
 * @example
 * ```ts
 * const ca = await createTestCa();
 * const gestore = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca });
 * const content = new TextEncoder().encode("Content-Type: text/plain\r\n\r\nCiao\r\n"); // the MIME entity to sign
 * const p7s = await signCms({ content, signer: gestore }); // detached, SHA-256, DER
 * const p7m = await signCms({ content, signer: gestore, detached: false, encoding: "ber", digest: "SHA-1" });
 * ```
 */
export async function signCms(opts: CmsSignOptions): Promise<Uint8Array<ArrayBuffer>> {
  if (typeof opts !== "object" || opts === null) throw new PecError("ERR_INVALID_ARGUMENT", "signCms needs an options object");
  const { content } = opts;
  if (!(content instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", "content must be a Uint8Array");
  const digest = opts.digest ?? "SHA-256";
  if (!isSignDigest(digest)) throw new PecError("ERR_UNSUPPORTED", `digest ${String(digest)} is not supported for signing`);
  const encoding = opts.encoding ?? "der";
  if (encoding !== "der" && encoding !== "ber") throw new PecError("ERR_INVALID_ARGUMENT", `encoding must be "der" or "ber"`);
  const rsaSigAlg = opts.rsaSignatureAlgorithm ?? "rsaEncryption";
  if (rsaSigAlg !== "rsaEncryption" && rsaSigAlg !== "sha-with-rsa") {
    throw new PecError("ERR_INVALID_ARGUMENT", `rsaSignatureAlgorithm must be "rsaEncryption" or "sha-with-rsa"`);
  }
  const detached = opts.detached ?? true;
  const withAttrs = opts.signedAttributes ?? true;
  if (!withAttrs && opts.signingTime !== undefined) {
    throw new PecError("ERR_INVALID_ARGUMENT", "signingTime is a signed attribute: it needs signedAttributes");
  }
  const signingTime = checkDate(opts.signingTime ?? new Date(), "signingTime");
  if (Array.isArray(opts.signer) && !isDenseArray(opts.signer)) throw new PecError("ERR_INVALID_ARGUMENT", "signer must be a signer or an array of signers without holes");
  const signers = Array.isArray(opts.signer) ? (opts.signer as readonly CmsSigner[]) : [opts.signer as CmsSigner];
  if (signers.length === 0) throw new PecError("ERR_INVALID_ARGUMENT", "at least one signer is needed");
  const prepared = signers.map((s) => prepare(s, opts.rsaPss));
  const crypto = opts.crypto ?? globalThis.crypto;
  const subtle = crypto?.subtle;
  if (!subtle) throw new PecError("ERR_UNSUPPORTED", "WebCrypto (crypto.subtle) is not available; pass opts.crypto");

  const data = asBufferSource(content);
  let signedAttrs: Uint8Array | undefined;
  if (withAttrs) {
    const md = new Uint8Array(await subtle.digest(digest, data));
    signedAttrs = encodeDer(
      setOf([
        seq(oid(CMS.contentType), setOf([oid(CMS.data)])),
        seq(oid(CMS.signingTime), setOf([time(signingTime)])),
        seq(oid(CMS.messageDigest), setOf([octets(md)])),
        seq(oid(CMS.smimeCapabilities), setOf([seq(...SMIME_CAPABILITIES.map((c) => seq(oid(c))))])),
      ]),
    );
  }
  const toSign = asBufferSource(signedAttrs ?? data);

  const signerInfos = await Promise.all(
    prepared.map(async (p): Promise<AsnNode> => {
      const key = p.signer.privateKey;
      let sigAlg: AsnNode;
      let signature: Uint8Array;
      if (p.family === "ECDSA") {
        const rawSig = new Uint8Array(await subtle.sign({ name: "ECDSA", hash: digest }, key, toSign));
        signature = ecdsaDer(rawSig);
        sigAlg = seq(oid(ECDSA_WITH[digest]));
      } else if (p.pss) {
        const k = await rsaKeyFor(subtle, key, "RSA-PSS", digest);
        signature = new Uint8Array(await subtle.sign({ name: "RSA-PSS", saltLength: DIGEST_LENGTH[digest] }, k, toSign));
        sigAlg = pssAlgId(digest);
      } else {
        const k = await rsaKeyFor(subtle, key, "RSASSA-PKCS1-v1_5", digest);
        signature = new Uint8Array(await subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, k, toSign));
        sigAlg = seq(oid(rsaSigAlg === "rsaEncryption" ? SIG.rsaEncryption : SHA_WITH_RSA[digest]), nul());
      }
      const fields: AsnNode[] = [int(1), raw(p.info.issuerAndSerial), digestAlgId(digest)];
      if (signedAttrs) {
        // Same content octets, IMPLICIT [0] instead of the SET tag.
        const implicit = new Uint8Array(signedAttrs);
        implicit[0] = 0xa0;
        fields.push(raw(implicit));
      }
      fields.push(sigAlg, octets(signature));
      return seq(...fields);
    }),
  );

  const certs: Uint8Array[] = [];
  for (const p of prepared) {
    for (const c of [p.signer.certificate, ...(p.signer.chain ?? [])]) {
      if (!certs.some((x) => x === c || equalBytes(x, c))) certs.push(c);
    }
  }

  const ber = encoding === "ber";
  const eci: AsnNode[] = [oid(CMS.data)];
  if (!detached) eci.push(cons(0xa0, [{ tag: TAG.OCTET_STRING, value: content, chunk: ber ? 1024 : 0 }], ber));
  const signedData = cons(
    TAG.SEQUENCE,
    [
      int(1),
      setOf([digestAlgId(digest)]),
      cons(TAG.SEQUENCE, eci, ber),
      { tag: 0xa0, children: certs.map(raw), sortSet: true, indefinite: ber },
      setOf(signerInfos),
    ],
    ber,
  );
  const contentInfo = cons(TAG.SEQUENCE, [oid(CMS.signedData), cons(0xa0, [signedData], ber)], ber);
  return ber ? encodeBer(contentInfo) : encodeDer(contentInfo);
}

/** Options of {@link signSmime}. */
export interface SmimeSignOptions extends Omit<CmsSignOptions, "content" | "signer" | "detached"> {
  /**
   * `"detached"` (default, the PEC norm): `multipart/signed` with the content as first
   * part and `smime.p7s`; `"opaque"`: `application/pkcs7-mime` with the content inside.
   */
  form?: "detached" | "opaque";
  /**
   * Header fields to put before the MIME headers of the outer entity (From, To,
   * Subject, …), written as given: values must already be folded/encoded, and may not
   * contain CR, LF or NUL. `Content-Type` and `Content-Transfer-Encoding` are refused;
   * a given `MIME-Version` replaces the default one.
   */
  headers?: readonly (readonly [string, string])[];
}

const CRLF = "\r\n";

/** concatBytes, typed as what it is: a view of a fresh ArrayBuffer (what WebCrypto wants). */
function bytesOf(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concatBytes(parts) as Uint8Array<ArrayBuffer>;
}

/** Random boundary not found in `content`. */
function boundaryFor(content: Uint8Array, crypto: Crypto): string {
  for (;;) {
    const b = `----=_postacert_${toHex(crypto.getRandomValues(new Uint8Array(12)))}`;
    if (indexOfBytes(content, latin1Bytes(`--${b}`)) < 0) return b;
  }
}

function headerBlock(headers: readonly (readonly [string, string])[] | undefined): { text: string; hasMimeVersion: boolean } {
  let text = "";
  let hasMimeVersion = false;
  for (const h of headers ?? []) {
    if (!Array.isArray(h) || typeof h[0] !== "string" || typeof h[1] !== "string") {
      throw new PecError("ERR_INVALID_ARGUMENT", "headers must be [name, value] pairs of strings");
    }
    const [name, value] = h;
    if (!/^[!-9;-~]+$/.test(name)) throw new PecError("ERR_INVALID_ARGUMENT", `invalid header name ${JSON.stringify(name)}`);
    if (/[\r\n\0]/.test(value)) throw new PecError("ERR_HEADER_INJECTION", `header ${name} contains CR, LF or NUL`);
    if (/[^\x00-\xff]/.test(value)) throw new PecError("ERR_INVALID_ARGUMENT", `header ${name} must be encoded (RFC 2047) first`);
    const lower = name.toLowerCase();
    if (lower === "content-type" || lower === "content-transfer-encoding") {
      throw new PecError("ERR_INVALID_ARGUMENT", `header ${name} is written by signSmime`);
    }
    if (lower === "mime-version") hasMimeVersion = true;
    text += `${name}: ${value}${CRLF}`;
  }
  return { text, hasMimeVersion };
}

/**
 * Signs a MIME entity as S/MIME and returns the whole message.
 *
 * Detached form: `multipart/signed; protocol="application/pkcs7-signature";
 * micalg=sha-256`, the first part being `content` byte for byte (it is not
 * canonicalised: pass CRLF line ends), the second `smime.p7s` (base64, 76 columns).
 * Opaque form: `application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"` with
 * the content encapsulated.
 *
 * @example
 * ```ts
 * const entity = new TextEncoder().encode("Content-Type: text/plain\r\n\r\nCiao\r\n");
 * const eml = await signSmime(entity, gestore, {
 *   headers: [["From", "posta-certificata@pec.alfa.test"], ["Subject", "ACCETTAZIONE: prova"]],
 * });
 * ```
 */
export async function signSmime(content: Uint8Array, signer: CmsSigner | readonly CmsSigner[], opts: SmimeSignOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  if (!(content instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", "content must be a Uint8Array");
  const form = opts.form ?? "detached";
  if (form !== "detached" && form !== "opaque") throw new PecError("ERR_INVALID_ARGUMENT", `form must be "detached" or "opaque"`);
  const { text: extra, hasMimeVersion } = headerBlock(opts.headers);
  const { form: _f, headers: _h, ...cmsOpts } = opts;
  const cms = await signCms({ ...cmsOpts, content, signer, detached: form === "detached" });
  const head = extra + (hasMimeVersion ? "" : `MIME-Version: 1.0${CRLF}`);
  const b64 = encodeBase64Bytes(cms, 76);
  if (form === "opaque") {
    return bytesOf([
      latin1Bytes(
        head +
          `Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"${CRLF}` +
          `Content-Transfer-Encoding: base64${CRLF}` +
          `Content-Disposition: attachment; filename="smime.p7m"${CRLF}${CRLF}`,
      ),
      b64,
    ]);
  }
  const crypto = opts.crypto ?? globalThis.crypto;
  const boundary = boundaryFor(content, crypto);
  return bytesOf([
    latin1Bytes(
      head +
        `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=${MICALG[opts.digest ?? "SHA-256"]};${CRLF}` +
        ` boundary="${boundary}"${CRLF}${CRLF}` +
        `This is an S/MIME signed message${CRLF}${CRLF}--${boundary}${CRLF}`,
    ),
    content,
    latin1Bytes(
      `${CRLF}--${boundary}${CRLF}` +
        `Content-Type: application/pkcs7-signature; name="smime.p7s"${CRLF}` +
        `Content-Transfer-Encoding: base64${CRLF}` +
        `Content-Disposition: attachment; filename="smime.p7s"${CRLF}` +
        `Content-Description: S/MIME Cryptographic Signature${CRLF}${CRLF}`,
    ),
    b64,
    latin1Bytes(`--${boundary}--${CRLF}`),
  ]);
}
