/**
 * Verifying a PEC message: the gestore signature over the exact bytes, the certificate
 * path at signing time, the gestore profile, and that the signer is the gestore the
 * message names.
 *
 * @module
 */
import { PecError } from "../errors.js";
import type { Certificate } from "../smime/certificate.js";
import { checkCrlsOption } from "../smime/crl.js";
import { isCryptoLike } from "../smime/digest.js";
import type { SignatureIssue, SignatureIssueCode } from "../smime/issues.js";
import { verifySignedData } from "../smime/verify.js";
import type { SignedDataVerification, VerifySignedDataOptions } from "../smime/verify.js";
import type { GestoreProvider } from "../trust/store.js";
import { TrustStore } from "../trust/store.js";
import { readPec } from "./read.js";
import type { ReadPecOptions } from "./read.js";
import type { ReadPec } from "./types.js";
import { got } from "../util/got.js";

/**
 * Stable codes of {@link verifyPec}: every signature code, plus
 * - `NO_SIGNATURE`: the message carries no signature (or is not PEC);
 * - `LINE_ENDINGS_CANONICALIZED`: the signature verified only after bare LF line endings
 *   were turned into CRLF (files saved by Unix tools; the gestore signed CRLF);
 * - `MICALG_MISMATCH`: the `micalg` parameter names another digest than the CMS uses;
 * - `DOMAIN_NOT_MANAGED`: the signer is an IGPEC gestore, and an address that must be at
 *   one of its domains is not (RFC 6109 §7; see {@link verifyPec}). A warning: IGPEC
 *   lists today's domains, and a domain may have moved since an old message was signed.
 */
export type PecVerificationIssueCode = SignatureIssueCode | "NO_SIGNATURE" | "LINE_ENDINGS_CANONICALIZED" | "MICALG_MISMATCH" | "DOMAIN_NOT_MANAGED";

/** One finding of {@link verifyPec}. */
export interface PecVerificationIssue {
  /** Stable code. */
  readonly code: PecVerificationIssueCode;
  /** `error` means the signature or the signer cannot be relied upon. */
  readonly severity: "error" | "warning";
  /** Human-readable explanation (English). */
  readonly message: string;
}

/** Options of {@link verifyPec}. */
export interface VerifyPecOptions {
  /** Trust anchors and IGPEC gestori. Without it nothing is trusted (`CERT_UNTRUSTED`). */
  trust?: TrustStore;
  /** Validate at this time instead of the signing time. */
  at?: Date;
  /** CRLs (DER) to check revocation against. */
  crls?: readonly Uint8Array[];
  /** WebCrypto implementation (e.g. `@peculiar/webcrypto`). Default `globalThis.crypto`. */
  crypto?: Crypto;
  /** Options for reading, when bytes are given. */
  read?: ReadPecOptions;
}

/** Result of {@link verifyPec}. */
export interface PecVerification {
  /** A signature is present. */
  readonly present: boolean;
  /** The signature matches the signed bytes (every signer). */
  readonly valid: boolean;
  /** Valid, and the signer chains to an anchor at the signing time, fits the profile, is not revoked. */
  readonly trusted: boolean;
  /** Subject of the signer certificate (`C=IT, O=…, CN=…`). */
  readonly signer?: string;
  /** The signer certificate. */
  readonly signerCertificate?: Certificate;
  /** Signer first, anchor last (empty when no path was found). */
  readonly chain: readonly Certificate[];
  /** The signingTime attribute. */
  readonly signedAt?: Date;
  /** The time the path was validated at (`at`, signingTime, daticert date, Date header). */
  readonly validatedAt?: Date;
  /** `SHA-1`, `SHA-256`, … */
  readonly digestAlgorithm?: string;
  /** As named in the SignerInfo. */
  readonly signatureAlgorithm?: string;
  /** The signed bytes verified only with CRLF line endings. */
  readonly canonicalized: boolean;
  /** The IGPEC gestore of the signer, when the trust store lists it. */
  readonly gestore?: GestoreProvider;
  /** Every finding. */
  readonly issues: readonly PecVerificationIssue[];
  /** The message as read. */
  readonly pec: ReadPec;
  /** The CMS-level result, for details (every signer, certificates, CRLs). */
  readonly cms?: SignedDataVerification;
}

const EMPTY_TRUST = TrustStore.empty();

/**
 * Verifies the gestore signature of a PEC message. Never throws for a bad message:
 * everything wrong is in `issues`; throws {@link PecError} only for misuse (and for bytes
 * that are not a message at all, as {@link readPec} does).
 *
 * @example
 * ```ts
 * const trust = await TrustStore.fromLdif(ldif);
 * const res = await verifyPec(bytes, { trust });
 * if (res.valid && res.trusted) console.log("signed by", res.gestore?.name ?? res.signer, "at", res.signedAt);
 * ```
 */
export async function verifyPec(input: Uint8Array | ReadPec, options: VerifyPecOptions = {}): Promise<PecVerification> {
  // Misuse is refused here, whatever the message (even one without a signature).
  if (typeof options !== "object" || options === null) throw new PecError("ERR_INVALID_ARGUMENT", "verifyPec: options must be an object");
  if (options.trust !== undefined && !(options.trust instanceof TrustStore)) {
    throw new PecError("ERR_INVALID_ARGUMENT", "verifyPec: `trust` must be a TrustStore");
  }
  if (options.at !== undefined && !(options.at instanceof Date && !Number.isNaN(options.at.getTime()))) {
    throw new PecError("ERR_INVALID_ARGUMENT", "verifyPec: `at` must be a valid Date");
  }
  // Whether the bytes are a CRL is checked when they are parsed, by verifySignedData.
  if (options.crls !== undefined) checkCrlsOption(options.crls, "verifyPec");
  if (options.crypto !== undefined && !isCryptoLike(options.crypto)) {
    throw new PecError("ERR_INVALID_ARGUMENT", "verifyPec: `crypto` must be a WebCrypto implementation (with subtle.digest, subtle.importKey and subtle.verify)");
  }
  if (options.read !== undefined && (typeof options.read !== "object" || options.read === null)) {
    throw new PecError("ERR_INVALID_ARGUMENT", "verifyPec: `read` must be an object");
  }
  const pec = input instanceof Uint8Array ? readPec(input, options.read) : input;
  if (!pec || typeof pec !== "object" || !("type" in pec) || !("root" in pec)) {
    throw new PecError("ERR_INVALID_ARGUMENT", `verifyPec expects the message bytes (a Uint8Array) or the result of readPec; ${got(input)}`);
  }
  const sig = pec.signature;
  if (!sig) {
    return {
      present: false,
      valid: false,
      trusted: false,
      chain: [],
      canonicalized: false,
      issues: [{ code: "NO_SIGNATURE", severity: "error", message: pec.type === "not-pec" ? "not a PEC message: no gestore signature" : "the PEC message carries no signature" }],
      pec,
    };
  }
  // Options are built property by property: object spreads of these conditional shapes
  // cost several µs per message, a measurable part of a receipt's budget.
  const content = sig.form === "detached" ? sig.signedBytes : undefined;
  const base = (withContent: Uint8Array | undefined): VerifySignedDataOptions => {
    const o: VerifySignedDataOptions = { trust: options.trust ?? EMPTY_TRUST, cms: sig.cms };
    if (options.at) o.at = options.at;
    if (pec.date) o.fallbackTime = pec.date;
    if (options.crls) o.crls = options.crls;
    if (options.crypto) o.crypto = options.crypto;
    if (pec.from && pec.type !== "not-pec") o.expectedSigner = pec.from;
    if (withContent) o.content = withContent;
    return o;
  };
  let res = await verifySignedData(base(content));
  let canonicalized = false;
  if (content && !res.valid && res.issues.some((i) => i.code === "SIGNATURE_MISMATCH")) {
    const crlf = toCrlf(content);
    if (crlf !== content) {
      const retry = await verifySignedData(base(crlf));
      if (retry.valid) {
        res = retry;
        canonicalized = true;
      }
    }
  }
  const first = res.signers[0];
  let issues: PecVerificationIssue[] = res.issues.slice();
  // A PGP/MIME signature (RFC 3156) is well-formed mail, just not a PEC signature: say so
  // rather than only that the bytes are no CMS.
  if (sig.protocol !== undefined && /pgp/i.test(sig.protocol)) {
    issues = issues.map((i) =>
      i.code === "CMS_MALFORMED" ? { ...i, message: `the signature is OpenPGP (protocol ${sig.protocol}), not the CMS (S/MIME) signature of a PEC gestore: ${i.message}` } : i,
    );
  }
  if (canonicalized) {
    issues.push({ code: "LINE_ENDINGS_CANONICALIZED", severity: "warning", message: "the signature verifies only after bare LF line endings are turned into CRLF" });
  }
  // micalg is outside the signature and the CMS decides: a value that names no digest we know
  // (md5, garbage) is as much a mismatch as another known one.
  const micalg = normalizeMicalg(sig.micalg);
  if (sig.micalg !== undefined && first && micalg !== first.digestAlgorithm) {
    issues.push({ code: "MICALG_MISMATCH", severity: "warning", message: `micalg says ${sig.micalg} but the CMS uses ${first.digestAlgorithm}` });
  }
  if (first?.provider && res.valid) notManaged(pec, first.provider, issues);
  // Same keys in the same order as the spread-built object this replaced.
  const out: { -readonly [K in keyof PecVerification]: PecVerification[K] } = { present: true, valid: res.valid, trusted: res.trusted } as PecVerification;
  if (res.signer) {
    out.signer = res.signer.subject;
    out.signerCertificate = res.signer;
  }
  out.chain = first?.chain ?? [];
  if (res.signedAt) out.signedAt = res.signedAt;
  if (first) {
    out.validatedAt = first.validatedAt;
    out.digestAlgorithm = first.digestAlgorithm;
    out.signatureAlgorithm = first.signatureAlgorithm;
  }
  out.canonicalized = canonicalized;
  if (first?.provider) out.gestore = first.provider;
  out.issues = issues.length > 1 ? dedupe(issues) : issues;
  out.pec = pec;
  out.cms = res;
  return out;
}

const managedSets = new WeakMap<GestoreProvider, ReadonlySet<string>>();

/** Types only the sender's gestore signs (spec §2 table), whose daticert mittente must then be at one of its domains. */
const SENDER_SIDE: ReadonlySet<string> = new Set(["posta-certificata", "accettazione", "non-accettazione", "preavviso-errore-consegna"]);
/** Types only the recipient's gestore signs, whose daticert consegna must then be at one of its domains. */
const RECIPIENT_SIDE: ReadonlySet<string> = new Set(["avvenuta-consegna", "rilevazione-virus"]);

/**
 * RFC 6109 §7: the From address of a message signed by an IGPEC gestore is at one of the
 * gestore's managedDomains. So is, in what daticert says (signed), the sender of what only
 * the sender's gestore signs, and the recipient (or, in a presa in carico, each recipient
 * it covers) of what only the recipient's gestore signs: a gestore that signs for
 * another's users is impersonating them. A mancata consegna comes from either side (the
 * recipient's gestore, or the sender's for a virus), so one of its two ends must be the
 * signer's; a busta di anomalia wraps what arrived, and only its From is checked.
 */
function notManaged(pec: ReadPec, provider: GestoreProvider, issues: PecVerificationIssue[]): void {
  let managed = managedSets.get(provider);
  if (!managed) managedSets.set(provider, (managed = new Set(provider.domains)));
  /** The address's domain, lower case, when the signer does not manage it (undefined for a managed domain or no address). */
  const foreign = (address: string | undefined): string | undefined => {
    const at = address?.lastIndexOf("@") ?? -1;
    const domain = at < 0 ? undefined : address!.slice(at + 1).toLowerCase();
    return domain === undefined || managed.has(domain) ? undefined : domain;
  };
  const warn = (message: string): void => {
    issues.push({ code: "DOMAIN_NOT_MANAGED", severity: "warning", message });
  };
  const unlisted = `which IGPEC does not list among the managedDomains of the signer, ${provider.name}`;
  const d = pec.daticert;
  const checks: [string, string | undefined][] = [["the From address", pec.from]];
  if (SENDER_SIDE.has(pec.type)) checks.push(["the sender (daticert mittente)", d?.intestazione.mittente]);
  if (RECIPIENT_SIDE.has(pec.type)) checks.push(["the recipient (daticert consegna)", d?.dati.consegna]);
  if (pec.type === "presa-in-carico") for (const r of d?.dati.ricezione ?? []) checks.push(["a recipient (daticert ricezione)", r]);
  for (const [what, address] of checks) {
    const domain = foreign(address);
    if (domain !== undefined) warn(`${what} ${address} is at ${domain}, ${unlisted}`);
  }
  if (pec.type === "errore-consegna" && d) {
    const { mittente } = d.intestazione;
    const { consegna } = d.dati;
    const senderAt = foreign(mittente);
    const recipientAt = foreign(consegna);
    if (senderAt !== undefined && recipientAt !== undefined) {
      const domains = senderAt === recipientAt ? `are both at ${senderAt}` : `are at ${senderAt} and ${recipientAt}`;
      warn(`neither end of the mancata consegna is the signer's: the sender (daticert mittente) ${mittente} and the recipient (daticert consegna) ${consegna} ${domains}, ${unlisted}`);
    }
  }
}

function dedupe(issues: PecVerificationIssue[]): PecVerificationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = i.code + "\0" + i.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Spellings seen (a handful: `sha-256`, `sha1`, …) → digest names; bounded, the values come from messages. */
const MICALGS = new Map<string, string | undefined>();

/** RFC 5751 and legacy spellings → digest names. */
function normalizeMicalg(micalg: string | undefined): string | undefined {
  if (!micalg) return undefined;
  const known = MICALGS.get(micalg);
  if (known !== undefined || MICALGS.has(micalg)) return known;
  const m = /^(?:rsa-)?sha-?(1|224|256|384|512)$/i.exec(micalg.trim());
  const name = m ? `SHA-${m[1]}` : undefined;
  if (MICALGS.size < 64) MICALGS.set(micalg, name);
  return name;
}

/** Bare LF → CRLF; returns the same array when nothing changes. */
function toCrlf(bytes: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) if (i === 0 || bytes[i - 1] !== 13) bare++;
  if (bare === 0) return bytes;
  const out = new Uint8Array(bytes.length + bare);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 10 && (i === 0 || bytes[i - 1] !== 13)) out[o++] = 13;
    out[o++] = b;
  }
  return out;
}

/** Re-exported for convenience: the issue type of the CMS layer. */
export type { SignatureIssue };
