/**
 * CMS SignedData verification: {@link verifyCms} (does the signature match the
 * bytes?) and {@link verifySignedData} (…and is the signer a trusted gestore at the
 * signing time?). `verifyPec` is a thin layer on top of the latter.
 *
 * Neither throws for a bad signature or a malformed CMS: the answer is `valid: false`
 * with issues (`CMS_MALFORMED` for undecodable input). They throw `PecError`
 * `ERR_INVALID_ARGUMENT` only for misuse (arguments of the wrong type).
 *
 * @module
 */

import { PecError } from "../errors.js";
import { equalBytes, latin1, toHex } from "../util/bytes.js";
import { digestByOid, parseSignatureAlgorithm, verifySignature, type SignatureAlgorithm } from "./algorithms.js";
import { BerError } from "./ber.js";
import { certInternals, Certificate, parseCertificate, parsePem, signatureAlgorithmName } from "./certificate.js";
import { parseSignedData, readAttributeValues, type AttributeValues, type CmsTemplate, type ParsedCms, type ParsedSignerInfo } from "./cms.js";
import { Crl, crlsOption, parseCrl } from "./crl.js";
import { CryptoFailure, digest, digestSettled, errorText, isCryptoLike, type CryptoLike } from "./digest.js";
import { hasError, issue, type SignatureIssue } from "./issues.js";
import { CMS, type DigestName } from "./oids.js";
import { pathAt, type PathValidation } from "./path.js";
import { checkGestoreProfile } from "./profile.js";
import type { GestoreProvider, TrustStore } from "../trust/store.js";
import { got } from "../util/got.js";
import { isDenseArray } from "../util/arrays.js";

/** Options of {@link verifyCms}. */
export interface VerifyCmsOptions {
  /** The CMS ContentInfo(SignedData): DER or BER bytes (PEM `PKCS7`/`CMS` text as bytes is accepted too). */
  cms: Uint8Array;
  /** The signed content, for a detached signature (e.g. the first part of a `multipart/signed`). */
  content?: Uint8Array;
  /** Extra certificates to look for signers in (when the CMS omits them). */
  certificates?: readonly (Certificate | Uint8Array)[];
  /** WebCrypto implementation (e.g. `@peculiar/webcrypto`, or `nodeCrypto()` of `postacert/node`). Default `globalThis.crypto`. */
  crypto?: CryptoLike;
  /**
   * Most certificates the CMS may carry ({@link DEFAULT_MAX_CMS_CERTIFICATES}, 64). More is
   * not refused with an exception: the result is `valid: false` with a `CMS_MALFORMED`
   * issue, before any certificate is parsed (path building compares certificates pairwise).
   */
  maxCertificates?: number;
}

/**
 * Default of {@link VerifyCmsOptions.maxCertificates}: 64 certificates in one CMS. A PEC
 * signature carries 1 to 3 (the gestore's, sometimes its CA and the root); 64 leaves room
 * for any real bundle while bounding the work a hostile CMS can cause.
 */
export const DEFAULT_MAX_CMS_CERTIFICATES = 64;

/** Most SignerInfos a CMS may carry: a PEC signature has one (docs/limits.md). */
const MAX_CMS_SIGNERS = 16;

/** Most CRLs a CMS may carry: PEC signatures carry none (docs/limits.md). */
const MAX_CMS_CRLS = 64;

/** The verification of one SignerInfo. */
export interface SignerResult {
  /** The signature of this signer matches the content (warnings allowed). */
  readonly valid: boolean;
  /** The signer certificate, when found. */
  readonly certificate?: Certificate;
  /** Digest algorithm: `SHA-1`, `SHA-224`, `SHA-256`, `SHA-384`, `SHA-512`, or the OID when unknown. */
  readonly digestAlgorithm: string;
  /** Signature algorithm as named in the SignerInfo, e.g. `rsaEncryption`, `sha256WithRSAEncryption`, `RSASSA-PSS`, `ecdsa-with-SHA256`. */
  readonly signatureAlgorithm: string;
  /** The signingTime signed attribute, when present. */
  readonly signingTime?: Date;
  /** What was found for this signer. */
  readonly issues: readonly SignatureIssue[];
}

/** Result of {@link verifyCms}. */
export interface CmsVerification {
  /** At least one signer, and every signer's signature matches the content. */
  readonly valid: boolean;
  /** One entry per SignerInfo, in order. */
  readonly signers: readonly SignerResult[];
  /** Certificates carried by the CMS (those that parse). */
  readonly certificates: readonly Certificate[];
  /** CRLs carried by the CMS (those that parse). */
  readonly crls: readonly Crl[];
  /** The signed content: the encapsulated eContent, or the detached content given. */
  readonly content?: Uint8Array;
  /** eContentType OID (`1.2.840.113549.1.7.1` for id-data). */
  readonly contentType?: string;
  /** Whether the signature was detached (no eContent). */
  readonly detached: boolean;
  /** Whether the CMS used BER indefinite lengths. */
  readonly ber: boolean;
  /** Every issue: CMS-level ones and each signer's. */
  readonly issues: readonly SignatureIssue[];
}

function dedupe(issues: readonly SignatureIssue[]): SignatureIssue[] {
  if (issues.length < 2) return issues.slice();
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = i.code + "\u0000" + i.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** PEM-armoured CMS as bytes → DER; anything else unchanged. */
function unarmor(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] !== 0x2d) return bytes; // '-'
  const text = latin1(bytes, i);
  const block = parsePem(text).find((b) => /^(PKCS7|PKCS #7 SIGNED DATA|CMS)$/.test(b.label));
  return block ? block.der : bytes;
}

function findSigner(si: Pick<ParsedSignerInfo, "sid">, certs: readonly Certificate[]): Certificate | undefined {
  const sid = si.sid;
  for (const c of certs) {
    if (sid.kind === "issuerAndSerialNumber") {
      if (c.serialNumber === sid.serialNumber && certInternals(c).issuerKey === sid.issuerKey) return c;
    } else if (c.subjectKeyIdentifier === sid.subjectKeyIdentifier) return c;
  }
  return undefined;
}

function sidText(si: ParsedSignerInfo): string {
  return si.sid.kind === "issuerAndSerialNumber" ? `issuer "${si.sid.issuer}", serial ${si.sid.serialNumber}` : `subjectKeyIdentifier ${si.sid.subjectKeyIdentifier}`;
}

const WEAK_DIGESTS = new Set<string>(["SHA-1"]);

/** @param known - the signer certificate when already looked up (`null`: none matches) */
async function verifySigner(
  si: ParsedSignerInfo,
  parsed: ParsedCms,
  certs: readonly Certificate[],
  content: Uint8Array | undefined,
  digestOf: (h: DigestName) => Promise<Uint8Array | CryptoFailure>,
  crypto: CryptoLike,
  known: Certificate | null | undefined,
): Promise<SignerResult> {
  const issues: SignatureIssue[] = [];
  const hash = digestByOid(si.digestAlgorithm);
  const digestAlgorithm = hash ?? si.digestAlgorithm;
  const signatureAlgorithm = signatureAlgorithmName(si.signatureAlgorithm);
  const certificate = known === undefined ? findSigner(si, certs) : (known ?? undefined);

  let signingTime: Date | undefined;
  let attrs: ReturnType<typeof readAttributeValues> | undefined;
  if (si.signedAttrs) {
    try {
      attrs = readAttributeValues(si.signedAttrs);
      signingTime = attrs.signingTime;
    } catch (e) {
      issues.push(issue("CMS_MALFORMED", `unreadable signed attribute: ${(e as Error).message}`));
    }
  }
  // `checked`: the signature was actually verified (not merely free of errors, e.g. with no content to check).
  let checked = false;
  // Results are built property by property, not with spreads: object spread of these
  // variably-shaped objects measured at several µs each, a tenth of a receipt's budget.
  const done = (): SignerResult => {
    const r: { -readonly [K in keyof SignerResult]: SignerResult[K] } = { valid: checked && !hasError(issues), digestAlgorithm, signatureAlgorithm, issues: dedupe(issues) };
    if (certificate) r.certificate = certificate;
    if (signingTime) r.signingTime = signingTime;
    return r;
  };

  if (!hash) issues.push(issue("UNSUPPORTED_ALGORITHM", `digest algorithm ${si.digestAlgorithm} is not supported`));
  let alg: SignatureAlgorithm | string;
  try {
    alg = parseSignatureAlgorithm(si.signatureAlgorithm, si.signatureParams);
  } catch {
    alg = "malformed signature algorithm parameters";
  }
  if (typeof alg === "string") issues.push(issue("UNSUPPORTED_ALGORITHM", alg));
  else if (hash && alg.hash && alg.hash !== hash) {
    issues.push(issue("SIGNATURE_INVALID", `algorithm confusion: signatureAlgorithm ${signatureAlgorithm} uses ${alg.hash}, the digestAlgorithm is ${hash}`));
  }
  if (!certificate) {
    issues.push(issue("SIGNER_CERT_MISSING", `no certificate for the signer (${sidText(si)}) in the CMS`));
  } else {
    const pk = certificate.publicKey;
    if (pk.algorithm.startsWith("RSA") && pk.size < 2048) issues.push(issue("WEAK_ALGORITHM", `the signer's RSA key has ${pk.size} bits`));
  }
  if (hash && WEAK_DIGESTS.has(hash)) issues.push(issue("WEAK_ALGORITHM", `digest algorithm ${hash}`));
  if (!content) return done();
  if (hasError(issues) || !hash || typeof alg === "string" || !certificate) return done();

  const key = certInternals(certificate).key;
  if (attrs) {
    if (attrs.repeated.length) issues.push(issue("CMS_MALFORMED", `signed attribute(s) ${attrs.repeated.join(", ")} must have exactly one value`));
    if (attrs.contentType === undefined) issues.push(issue("CMS_MALFORMED", "the contentType signed attribute is missing"));
    else if (attrs.contentType !== parsed.eContentType) {
      issues.push(issue("SIGNATURE_MISMATCH", `the contentType attribute (${attrs.contentType}) differs from the eContentType (${parsed.eContentType})`));
    }
    if (!attrs.messageDigest) issues.push(issue("CMS_MALFORMED", "the messageDigest signed attribute is missing"));
    const prot = attrs.algorithmProtection;
    if (prot) {
      if (prot.digest !== undefined && prot.digest !== si.digestAlgorithm) issues.push(issue("SIGNATURE_INVALID", "CMSAlgorithmProtection names another digest algorithm"));
      if (prot.signature !== undefined && prot.signature !== si.signatureAlgorithm) issues.push(issue("SIGNATURE_INVALID", "CMSAlgorithmProtection names another signature algorithm"));
    }
    if (!attrs.messageDigest) return done();
    const sa = si.signedAttrs!;
    // The content digest and the signature check are independent: both jobs are posted in the same tick.
    // digestP never rejects (a failing crypto is its value), so awaiting firstP first cannot leave a rejection unobserved.
    const digestP = digestOf(hash);
    const firstP = verifySignature(crypto, key, alg, hash, sa.encodings(false)[0]!, si.signature);
    // Two plain awaits rather than Promise.all: both jobs are already running, and
    // Promise.all's extra promises and array were a measurable part of a receipt.
    const first = await firstP;
    const d = await digestP;
    if (d instanceof CryptoFailure) {
      // The crypto, not the message: the digest could not be computed, so nothing is verified.
      issues.push(issue("UNSUPPORTED_ALGORITHM", `cannot compute the ${hash} digest of the content: ${d.message}`));
      return done();
    }
    let sigOk = first;
    if (!sigOk.ok && sigOk.code === "SIGNATURE_INVALID") {
      // Only when the attributes arrived in BER (or unsorted) do the DER re-encodings differ; try them then.
      const more = sa.encodings(true);
      for (let k = 1; !sigOk.ok && k < more.length; k++) sigOk = await verifySignature(crypto, key, alg, hash, more[k]!, si.signature);
    }
    checked = true;
    if (!equalBytes(d, attrs.messageDigest)) issues.push(issue("SIGNATURE_MISMATCH", `the ${hash} digest of the content differs from the signed messageDigest: the content was altered`));
    if (!sigOk.ok) issues.push(issue(sigOk.code, sigOk.message));
    if (attrs.signingCertificates) {
      try {
        const found = await essMismatch(attrs.signingCertificates, certificate, crypto);
        if (found) issues.push(found);
      } catch (e) {
        issues.push(issue("UNSUPPORTED_ALGORITHM", `cannot compute the hash of the signer certificate: ${errorText(e)}`));
      }
    }
    return done();
  }
  if (parsed.eContentType !== CMS.data) issues.push(issue("CMS_MALFORMED", "signed attributes are required when the content type is not id-data"));
  const out = await verifySignature(crypto, key, alg, hash, content, si.signature);
  checked = true;
  if (!out.ok) {
    // Without signed attributes the signature covers the content itself: a failure cannot tell an altered content from an altered
    // signature. An algorithm that does not fit the key is neither: no signature value could verify.
    issues.push(out.code === "SIGNATURE_INVALID" && !out.misfit ? issue("SIGNATURE_MISMATCH", "the signature (over the content, no signed attributes) does not match: the content or the signature was altered") : issue(out.code, out.message));
  }
  return done();
}

/**
 * The issue when the ESS signingCertificate(V2) attributes name another certificate than
 * `cert`, undefined when they name it. The signer signed for one certificate: another of the
 * same issuer and serial number, or the same key (a re-issued certificate with other names,
 * policies or validity), must not pass for it (RFC 5035 §5.4). A hash algorithm postacert
 * cannot compute leaves the binding unchecked: refused, as an unknown digest is (and as
 * OpenSSL's `cms -verify -cades` does).
 */
async function essMismatch(named: NonNullable<AttributeValues["signingCertificates"]>, cert: Certificate, crypto: CryptoLike): Promise<SignatureIssue | undefined> {
  for (const n of named) {
    if ("unreadable" in n) return issue("CMS_MALFORMED", `unreadable signed ${n.attribute} attribute: ${n.unreadable}`);
    const name = digestByOid(n.hashAlgorithm);
    if (!name) return issue("UNSUPPORTED_ALGORITHM", `the signed ${n.attribute} attribute hashes the signer's certificate with ${n.hashAlgorithm}, which postacert cannot compute: the certificate signed for cannot be checked`);
    // SHA-1 and SHA-256 are cached on the certificate: a gestore's receipts all name the same one.
    const hex = name === "SHA-1" || name === "SHA-256" ? await cert.fingerprint(name, crypto) : toHex(await digest(crypto, name, cert.der));
    if (hex !== toHex(n.hash)) {
      return issue("SIGNATURE_INVALID", `the signed ${n.attribute} attribute names another certificate (${name} ${toHex(n.hash)}) than the signer's, "${cert.subject}" (${hex}): not the certificate the signer signed for`);
    }
  }
  return undefined;
}

/**
 * Verifies a CMS SignedData: for every SignerInfo, finds the signer certificate,
 * checks the contentType and messageDigest signed attributes against the content and
 * an ESS signingCertificate(V2) attribute, when present, against the signer
 * certificate, and verifies the signature (over the DER SET OF the signed attributes, or over the
 * content when there are none). RSA PKCS#1 v1.5, RSA-PSS and ECDSA (P-256, P-384,
 * P-521); SHA-1 (with a `WEAK_ALGORITHM` warning), SHA-224, SHA-256, SHA-384,
 * SHA-512. Trust is not evaluated here: see {@link verifySignedData}.
 *
 * @throws PecError `ERR_INVALID_ARGUMENT` for arguments of the wrong type only.
 *
 * @example
 * ```ts
 * declare const p7s: Uint8Array, signedPart: Uint8Array; // a multipart/signed message's signature and first part
 * const res = await verifyCms({ cms: p7s, content: signedPart });
 * if (!res.valid) console.log(res.issues.map((i) => i.code)); // e.g. ["SIGNATURE_MISMATCH"]
 * ```
 */
export async function verifyCms(options: VerifyCmsOptions): Promise<CmsVerification> {
  const run = startCms(options);
  if (!(run instanceof CmsRun)) return run;
  return finishCms(run, run.signers.length === 1 ? [await run.signers[0]!] : await Promise.all(run.signers));
}

const NONE: readonly never[] = Object.freeze([]);

/** What is derived from a {@link CmsTemplate}'s bytes, once: they are the same in every receipt of a gestore. */
interface Derived {
  /** The certificates that parse, in order. */
  readonly certificates: readonly Certificate[];
  /** The CRLs that parse, in order. */
  readonly crls: readonly Crl[];
  /** `CRL_INVALID` for those that do not, in order. */
  readonly crlIssues: readonly SignatureIssue[];
  /** The certificate the template's SignerInfo names among `certificates` (null: none). */
  readonly signer: Certificate | null;
}

const derivedByTemplate = new WeakMap<CmsTemplate, Derived>();

function certificatesOf(ders: readonly Uint8Array[]): Certificate[] {
  const certificates: Certificate[] = [];
  for (const der of ders) {
    try {
      certificates.push(parseCertificate(der));
    } catch {
      // An undecodable certificate is only a problem if it was the signer's; that shows as SIGNER_CERT_MISSING.
    }
  }
  return certificates;
}

function crlsOf(ders: readonly Uint8Array[], issues: SignatureIssue[]): Crl[] {
  const crls: Crl[] = [];
  for (const der of ders) {
    try {
      crls.push(parseCrl(der));
    } catch (e) {
      issues.push(issue("CRL_INVALID", `a CRL in the CMS cannot be decoded: ${(e as Error).message}`));
    }
  }
  return crls;
}

function derive(t: CmsTemplate): Derived {
  let d = derivedByTemplate.get(t);
  if (!d) {
    const certificates = certificatesOf(t.certificates);
    const crlIssues: SignatureIssue[] = [];
    const crls = crlsOf(t.crls, crlIssues);
    d = { certificates, crls, crlIssues, signer: findSigner(t.signer, certificates) ?? null };
    derivedByTemplate.set(t, d);
  }
  return d;
}

/** What a signature says of its first signer, unverified (see {@link claimedSigner}). */
export interface ClaimedSigner {
  /** Subject of the certificate the SignerInfo names, when the CMS carries it. */
  readonly signer?: string;
  /** The signingTime signed attribute. */
  readonly signedAt?: Date;
  /** The digest algorithm (`SHA-256`), or its OID when postacert does not know it. */
  readonly digestAlgorithm?: string;
}

/**
 * What a CMS SignedData says of its first signer, read without any cryptography: the
 * subject of the certificate its SignerInfo names, its signingTime and its digest algorithm.
 * Nothing of it is verified: a forger can write any of it (`postacert inspect` shows it as
 * what the signature names). Empty for bytes that are not a SignedData; never throws.
 *
 * @internal
 */
export function claimedSigner(cms: Uint8Array): ClaimedSigner {
  let parsed: ParsedCms;
  try {
    parsed = parseSignedData(unarmor(cms), DEFAULT_MAX_CMS_CERTIFICATES);
  } catch {
    return {};
  }
  const si = parsed.signerInfos[0];
  if (!si) return {};
  let signer: string | undefined;
  try {
    signer = (parsed.template ? derive(parsed.template).signer : findSigner(si, certificatesOf(parsed.certificates)))?.subject;
  } catch {
    // A certificate whose name does not decode: verification names it; here there is no name.
  }
  let signedAt: Date | undefined;
  try {
    signedAt = si.signedAttrs && readAttributeValues(si.signedAttrs).signingTime;
  } catch {
    // A malformed attribute: verification names it; here there is just no time.
  }
  return {
    ...(signer !== undefined && { signer }),
    ...(signedAt && { signedAt }),
    digestAlgorithm: digestByOid(si.digestAlgorithm) ?? si.digestAlgorithm,
  };
}

/** A verification under way: the SignedData read, each signer's job posted. */
class CmsRun {
  constructor(
    readonly parsed: ParsedCms,
    readonly certificates: Certificate[],
    readonly crls: Crl[],
    readonly issues: SignatureIssue[],
    readonly content: Uint8Array | undefined,
    readonly detached: boolean,
    readonly signers: readonly Promise<SignerResult>[],
  ) {}
}

/**
 * The synchronous part of {@link verifyCms}: argument checks, the parse, every signer's
 * job (their digests and signature checks are posted here). A malformed CMS is answered
 * at once.
 */
function startCms(options: VerifyCmsOptions): CmsVerification | CmsRun {
  if (!options || typeof options !== "object") throw new PecError("ERR_INVALID_ARGUMENT", "verifyCms: options object required");
  if (!(options.cms instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", `verifyCms: \`cms\` must be a Uint8Array; ${got(options.cms)}`);
  if (options.content !== undefined && !(options.content instanceof Uint8Array)) {
    throw new PecError("ERR_INVALID_ARGUMENT", `verifyCms: \`content\` must be a Uint8Array; ${got(options.content)}`);
  }
  const crypto = options.crypto ?? globalThis.crypto;
  if (!isCryptoLike(crypto)) throw new PecError("ERR_INVALID_ARGUMENT", "verifyCms: `crypto` must be a WebCrypto implementation (with subtle.digest, subtle.importKey and subtle.verify)");
  const maxCertificates = options.maxCertificates ?? DEFAULT_MAX_CMS_CERTIFICATES;
  if (typeof maxCertificates !== "number" || Number.isNaN(maxCertificates) || maxCertificates < 0 || (Number.isFinite(maxCertificates) && !Number.isInteger(maxCertificates))) {
    throw new PecError("ERR_INVALID_ARGUMENT", "verifyCms: `maxCertificates` must be a non-negative integer or Infinity");
  }
  if (options.certificates !== undefined && !isDenseArray(options.certificates)) throw new PecError("ERR_INVALID_ARGUMENT", "verifyCms: `certificates` must be an array");
  const extra =
    options.certificates === undefined
      ? NONE
      : options.certificates.map((c) => {
          if (c instanceof Certificate) return c;
          if (c instanceof Uint8Array) return parseCertificate(c);
          throw new PecError("ERR_INVALID_ARGUMENT", "verifyCms: `certificates` must hold Certificates or Uint8Arrays");
        });

  let parsed: ParsedCms;
  try {
    parsed = parseSignedData(unarmor(options.cms), maxCertificates);
  } catch (e) {
    const msg = e instanceof BerError ? e.message : String((e as Error)?.message ?? e);
    return { valid: false, signers: [], certificates: [], crls: [], detached: options.content !== undefined, ber: false, issues: [issue("CMS_MALFORMED", `not a CMS SignedData: ${msg}`)] };
  }
  // Every signer costs a signature verification and a path, every CRL a parse and a look-up
  // for each certificate of each path: bounded before any of it starts.
  const excess =
    parsed.signerInfos.length > MAX_CMS_SIGNERS
      ? `the CMS carries ${parsed.signerInfos.length} SignerInfos, more than the limit of ${MAX_CMS_SIGNERS}`
      : parsed.crls.length > MAX_CMS_CRLS
        ? `the CMS carries ${parsed.crls.length} CRLs, more than the limit of ${MAX_CMS_CRLS}`
        : undefined;
  if (excess) return { valid: false, signers: [], certificates: [], crls: [], detached: parsed.eContent === undefined, ber: parsed.ber, issues: [issue("CMS_MALFORMED", excess)] };
  const issues: SignatureIssue[] = [];
  let certificates: Certificate[];
  let crls: Crl[];
  const derived = parsed.template ? derive(parsed.template) : undefined;
  if (derived) {
    certificates = derived.certificates.slice();
    crls = derived.crls.slice();
    for (const i of derived.crlIssues) issues.push(i);
  } else {
    certificates = certificatesOf(parsed.certificates);
    crls = crlsOf(parsed.crls, issues);
  }
  const detached = parsed.eContent === undefined;
  const content = parsed.eContent ?? options.content;
  if (!detached && options.content !== undefined && !equalBytes(options.content, parsed.eContent!)) {
    issues.push(issue("SIGNATURE_MISMATCH", "the content given differs from the content encapsulated in the CMS"));
  }
  if (!content) issues.push(issue("CONTENT_MISSING", "detached signature: the signed content was not given"));
  if (parsed.signerInfos.length === 0) issues.push(issue("NO_SIGNER", "the SignedData has no SignerInfo"));

  let digests: Map<DigestName, Promise<Uint8Array | CryptoFailure>> | undefined;
  const digestOf = (h: DigestName): Promise<Uint8Array | CryptoFailure> => {
    digests ??= new Map();
    let p = digests.get(h);
    if (!p) digests.set(h, (p = digestSettled(crypto, h, content!)));
    return p;
  };
  const pool = extra.length ? [...certificates, ...extra] : certificates;
  // The template's signer lookup holds for its own SignerInfo among its own certificates.
  const known = derived && pool === certificates ? derived.signer : undefined;
  const one = (si: ParsedSignerInfo, known: Certificate | null | undefined): Promise<SignerResult> =>
    // Defence in depth: whatever a hostile SignerInfo triggers deeper down becomes an issue, never an exception.
    verifySigner(si, parsed, pool, content, digestOf, crypto, known).catch(
      (e: unknown): SignerResult => ({
        valid: false,
        digestAlgorithm: digestByOid(si.digestAlgorithm) ?? si.digestAlgorithm,
        signatureAlgorithm: signatureAlgorithmName(si.signatureAlgorithm),
        issues: [
          e instanceof CryptoFailure
            ? issue("UNSUPPORTED_ALGORITHM", `cannot verify the signature: ${e.message}`)
            : issue("CMS_MALFORMED", `unreadable SignerInfo: ${(e as Error)?.message ?? String(e)}`),
        ],
      }),
    );
  const sis = parsed.signerInfos;
  const signers = sis.length === 1 ? [one(sis[0]!, known)] : sis.map((si, i) => one(si, i === 0 ? known : undefined));
  return new CmsRun(parsed, certificates, crls, issues, content, detached, signers);
}

function finishCms(run: CmsRun, signers: SignerResult[]): CmsVerification {
  const { parsed, issues } = run;
  const all = dedupe(signers.length === 1 && issues.length === 0 ? signers[0]!.issues : [...issues, ...signers.flatMap((s) => s.issues)]);
  const result: { -readonly [K in keyof CmsVerification]: CmsVerification[K] } = {
    valid: signers.length > 0 && signers.every((s) => s.valid) && !hasError(issues),
    signers,
    certificates: run.certificates,
    crls: run.crls,
    contentType: parsed.eContentType,
    detached: run.detached,
    ber: parsed.ber,
    issues: all,
  };
  if (run.content) result.content = run.content;
  return result;
}

/** Options of {@link verifySignedData}. */
export interface VerifySignedDataOptions extends VerifyCmsOptions {
  /** Trust anchors (and IGPEC gestori). */
  trust: TrustStore;
  /** Validate the certificates at this time, whatever the signature says. */
  at?: Date;
  /** Time to use for a signer without a signingTime attribute (e.g. the daticert date, then the Date header). Default: now. */
  fallbackTime?: Date;
  /** CRLs to check revocation against (CRLs in the CMS and the store are used too). */
  crls?: readonly (Crl | Uint8Array)[];
  /** The gestore the message names (address or domain): compared with the signer's subjectAltName. */
  expectedSigner?: string;
  /** Require the PEC gestore policy 1.3.76.16.3.1.1 whatever the anchor. */
  requirePecPolicy?: boolean;
}

/** One signer, verified and validated. */
export interface SignerVerification extends SignerResult {
  /** Signature valid, path to an anchor valid at {@link SignerVerification.validatedAt}, profile fits, not revoked. */
  readonly trusted: boolean;
  /** The time the path was validated at. */
  readonly validatedAt: Date;
  /** Signer first, anchor last. */
  readonly chain: readonly Certificate[];
  /**
   * Whether a CRL complete for it showed each certificate of `chain` was not revoked
   * (same order; see {@link PathValidation.revocationChecked}). All `false` without CRLs.
   */
  readonly revocationChecked: readonly boolean[];
  /** The IGPEC gestore of the signer certificate, when the store lists it. */
  readonly provider?: GestoreProvider;
}

/** Result of {@link verifySignedData}. */
export interface SignedDataVerification extends Omit<CmsVerification, "signers"> {
  /** `valid`, and every signer trusted. */
  readonly trusted: boolean;
  /** Each signer with its path. */
  readonly signers: readonly SignerVerification[];
  /** The first signer's certificate. */
  readonly signer?: Certificate;
  /** The first signer's signingTime. */
  readonly signedAt?: Date;
}

/** Absent, or a Date that is not Invalid Date. */
function validTime(d: Date | undefined): boolean {
  return d === undefined || (d instanceof Date && !Number.isNaN(d.getTime()));
}

function signerVerification(
  s: SignerResult,
  issues: readonly SignatureIssue[],
  trusted: boolean,
  validatedAt: Date,
  chain: readonly Certificate[],
  revocationChecked: readonly boolean[],
  provider?: GestoreProvider,
): SignerVerification {
  const r: { -readonly [K in keyof SignerVerification]: SignerVerification[K] } = {
    valid: s.valid,
    trusted,
    digestAlgorithm: s.digestAlgorithm,
    signatureAlgorithm: s.signatureAlgorithm,
    issues,
    validatedAt,
    chain,
    revocationChecked,
  };
  if (s.certificate) r.certificate = s.certificate;
  if (s.signingTime) r.signingTime = s.signingTime;
  if (provider) r.provider = provider;
  return r;
}

/**
 * {@link verifyCms}, then for each signer: the certification path at the signing time
 * (`at` if given, else the signingTime attribute, else `fallbackTime`, else now),
 * revocation, and the gestore profile.
 *
 * @throws PecError `ERR_INVALID_ARGUMENT` for arguments of the wrong type only.
 *
 * @example
 * ```ts
 * declare const p7s: Uint8Array, signedPart: Uint8Array; // a multipart/signed message's signature and first part
 * const trust = await TrustStore.fromPem(await readFile("agid-ca1.pem", "utf8"));
 * const res = await verifySignedData({ cms: p7s, content: signedPart, trust, expectedSigner: "pec.aruba.it" });
 * res.valid;    // the bytes are what the gestore signed
 * res.trusted;  // …and the gestore's certificate chains to an anchor at res.signedAt
 * ```
 */
export async function verifySignedData(options: VerifySignedDataOptions): Promise<SignedDataVerification> {
  // Misuse first, before any work is posted.
  if (!options || typeof options !== "object") throw new PecError("ERR_INVALID_ARGUMENT", "verifySignedData: options object required");
  const { trust } = options;
  if (!trust || typeof trust.anchorsBySubjectKey !== "function") throw new PecError("ERR_INVALID_ARGUMENT", "verifySignedData: `trust` must be a TrustStore");
  if (!validTime(options.at)) throw new PecError("ERR_INVALID_ARGUMENT", "verifySignedData: `at` must be a valid Date");
  if (!validTime(options.fallbackTime)) throw new PecError("ERR_INVALID_ARGUMENT", "verifySignedData: `fallbackTime` must be a valid Date");
  if (options.expectedSigner !== undefined && typeof options.expectedSigner !== "string") throw new PecError("ERR_INVALID_ARGUMENT", "verifySignedData: `expectedSigner` must be a string");
  const given = options.crls === undefined ? undefined : crlsOption(options.crls, "verifySignedData");
  const run = startCms(options);
  // One signer (every PEC message): no Promise.all.
  const cms = run instanceof CmsRun ? finishCms(run, run.signers.length === 1 ? [await run.signers[0]!] : await Promise.all(run.signers)) : run;
  const crypto = options.crypto ?? globalThis.crypto;
  // Read only when needed: reading the clock is a system call on some virtual machines (≈ 1 µs).
  let now: Date | undefined;
  const crls = given?.length ? [...given, ...cms.crls] : cms.crls;
  const extra = options.certificates === undefined ? NONE : options.certificates.map((c) => (c instanceof Uint8Array ? parseCertificate(c) : c));
  const pool = extra.length ? [...cms.certificates, ...extra] : cms.certificates;
  const requirePecPolicy = options.requirePecPolicy ?? false;
  const profileOptions = options.expectedSigner ? { expected: options.expectedSigner } : {};
  const withPath = (s: SignerResult, validatedAt: Date, path: PathValidation): SignerVerification => {
    const profile = checkGestoreProfile(s.certificate!, profileOptions);
    const issues = s.issues.length + path.issues.length + profile.length === 0 ? [] : dedupe([...s.issues, ...path.issues, ...profile]);
    return signerVerification(s, issues, s.valid && !hasError(issues), validatedAt, path.chain, path.revocationChecked, path.provider);
  };
  const one = (s: SignerResult): SignerVerification | Promise<SignerVerification> => {
    const validatedAt = options.at ?? s.signingTime ?? options.fallbackTime ?? (now ??= new Date());
    if (!s.certificate) return signerVerification(s, s.issues, false, validatedAt, [], []);
    // Synchronous when the path's result is remembered (see pathAt).
    const path = pathAt(s.certificate, pool, trust, validatedAt, crls, requirePecPolicy, crypto);
    return path instanceof Promise
      ? path.then(
          (p) => withPath(s, validatedAt, p),
          (e: unknown) => {
            // Only a failing crypto rejects here: the path is unknown, the message is not blamed.
            if (!(e instanceof CryptoFailure)) throw e;
            const issues = dedupe([...s.issues, issue("UNSUPPORTED_ALGORITHM", `cannot validate the certification path: ${e.message}`)]);
            return signerVerification(s, issues, false, validatedAt, [s.certificate!], [false]);
          },
        )
      : withPath(s, validatedAt, path);
  };
  const signers: SignerVerification[] = [];
  if (cms.signers.length === 1) {
    const v = one(cms.signers[0]!);
    signers.push(v instanceof Promise ? await v : v);
  } else signers.push(...(await Promise.all(cms.signers.map(one))));
  const first = signers[0];
  const issues = signers.length === 1 && cms.issues.length === 0 ? dedupe(first!.issues) : dedupe([...cms.issues, ...signers.flatMap((s) => s.issues)]);
  const out: { -readonly [K in keyof SignedDataVerification]: SignedDataVerification[K] } = {
    valid: cms.valid,
    trusted: cms.valid && signers.length > 0 && signers.every((s) => s.trusted),
    signers,
    certificates: cms.certificates,
    crls: cms.crls,
    contentType: cms.contentType,
    detached: cms.detached,
    ber: cms.ber,
    issues,
  };
  if (cms.content) out.content = cms.content;
  if (first?.certificate) out.signer = first.certificate;
  if (first?.signingTime) out.signedAt = first.signingTime;
  return out;
}
