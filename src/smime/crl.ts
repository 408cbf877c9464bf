/**
 * Certificate revocation lists (RFC 5280 §5), parsed once and cached by content.
 *
 * postacert never fetches anything: CRLs come from the caller (who can download the
 * URLs in {@link Certificate.crlDistributionPoints}) or from the CMS `crls` field.
 *
 * @module
 */

import { PecError } from "../errors.js";
import { BerError, BerReader, TAG } from "./ber.js";
import { ContentCache } from "./cache.js";
import { certInternals, signatureAlgorithmName, type Certificate } from "./certificate.js";
import { verifySignedObjectOnce, type VerifyOutcome } from "./algorithms.js";
import type { CryptoLike } from "./digest.js";
import { formatName, rdnKeys, readName, type DistinguishedName } from "./name.js";

/** CRL reason codes (RFC 5280 §5.3.1). */
export type RevocationReason =
  | "unspecified"
  | "keyCompromise"
  | "cACompromise"
  | "affiliationChanged"
  | "superseded"
  | "cessationOfOperation"
  | "certificateHold"
  | "removeFromCRL"
  | "privilegeWithdrawn"
  | "aACompromise";

const REASONS: readonly (RevocationReason | undefined)[] = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  undefined,
  "removeFromCRL",
  "privilegeWithdrawn",
  "aACompromise",
];

/** One revoked certificate. */
export interface RevokedCertificate {
  /** Serial number, lower-case hex (same form as {@link Certificate.serialNumber}). */
  readonly serialNumber: string;
  /** When the CA revoked it. */
  readonly revocationDate: Date;
  /** The reason code, when given. */
  readonly reason?: RevocationReason;
}

interface CrlInternals {
  readonly tbs: Uint8Array;
  readonly sigAlgOid: string;
  readonly sigAlgParams?: Uint8Array;
  readonly signature: Uint8Array;
  readonly issuerKey: string;
  readonly checkedBy: WeakMap<Certificate, Promise<VerifyOutcome>>;
}

const internals = new WeakMap<Crl, CrlInternals>();

/**
 * A parsed CRL. Obtain one with {@link parseCrl}.
 *
 * @example
 * ```ts
 * const crl = parseCrl(crlDer);
 * if (crl.covers(cert)) console.log(crl.revokedAt(cert.serialNumber, signedAt)?.revocationDate);
 * ```
 */
export class Crl {
  /** DER encoding (a private copy). */
  readonly der: Uint8Array;
  /** Issuer DN (same string form as certificates). */
  readonly issuer: string;
  /** Issuer DN, parsed. */
  readonly issuerName: DistinguishedName;
  /** thisUpdate. */
  readonly thisUpdate: Date;
  /** nextUpdate, when present. */
  readonly nextUpdate?: Date;
  /** Signature algorithm name, e.g. `sha256WithRSAEncryption`. */
  readonly signatureAlgorithm: string;
  /** Revoked certificates by serial number (lower-case hex). */
  readonly revoked: ReadonlyMap<string, RevokedCertificate>;

  private constructor(der: Uint8Array) {
    const r = new BerReader(der);
    const [tbsT, algT, sigT] = r.expect(r.root(), TAG.SEQUENCE, "CertificateList");
    if (!tbsT || !algT || !sigT) throw new BerError("CertificateList: missing fields", 0);
    const f = r.expect(tbsT, TAG.SEQUENCE, "TBSCertList");
    let i = f[0]?.tag === TAG.INTEGER ? 1 : 0;
    i++; // inner signature AlgorithmIdentifier
    const issuerT = f[i++];
    const thisT = f[i++];
    if (!issuerT || !thisT) throw new BerError("TBSCertList: missing fields", tbsT.start);
    this.der = der;
    this.issuerName = readName(r, issuerT);
    this.issuer = formatName(this.issuerName);
    this.thisUpdate = r.time(thisT);
    if (f[i] && (f[i]!.tag === TAG.UTC_TIME || f[i]!.tag === TAG.GENERALIZED_TIME)) this.nextUpdate = r.time(f[i++]!);
    const revoked = new Map<string, RevokedCertificate>();
    if (f[i]?.tag === TAG.SEQUENCE) {
      for (const entry of r.children(f[i]!)) {
        const [serialT, dateT, extsT] = r.expect(entry, TAG.SEQUENCE, "revokedCertificate");
        if (!serialT || !dateT) throw new BerError("revokedCertificate: missing fields", entry.start);
        const serialNumber = r.integerHex(serialT);
        let reason: RevocationReason | undefined;
        if (extsT) {
          for (const ext of r.expect(extsT, TAG.SEQUENCE, "crlEntryExtensions")) {
            const parts = r.children(ext);
            if (r.oid(parts[0]!) !== "2.5.29.21") continue;
            const v = new BerReader(r.content(parts[parts.length - 1]!));
            reason = REASONS[v.smallInt(v.root())];
          }
        }
        const e: RevokedCertificate = { serialNumber, revocationDate: r.time(dateT), ...(reason ? { reason } : {}) };
        revoked.set(serialNumber, e);
      }
    }
    this.revoked = revoked;
    const [oidT, paramsT] = r.children(algT);
    const sigAlgOid = r.oid(oidT!);
    this.signatureAlgorithm = signatureAlgorithmName(sigAlgOid);
    internals.set(this, {
      tbs: r.raw(tbsT),
      sigAlgOid,
      sigAlgParams: paramsT && paramsT.tag !== TAG.NULL ? r.raw(paramsT) : undefined,
      signature: r.bits(sigT).bytes,
      issuerKey: rdnKeys(this.issuerName).join("\u0000"),
      checkedBy: new WeakMap(),
    });
  }

  /** @internal Parses without the cache; use {@link parseCrl}. */
  static parseUncached(der: Uint8Array): Crl {
    return new Crl(der);
  }

  /**
   * The revocation entry of `serialNumber` if it was revoked at or before `at`
   * (removeFromCRL entries, used by delta CRLs, do not count).
   */
  revokedAt(serialNumber: string, at: Date): RevokedCertificate | undefined {
    const e = this.revoked.get(serialNumber.toLowerCase());
    if (!e || e.reason === "removeFromCRL") return undefined;
    return e.revocationDate.getTime() <= at.getTime() ? e : undefined;
  }

  /** Whether `cert`'s issuer name is this CRL's issuer. */
  covers(cert: Certificate): boolean {
    return internals.get(this)!.issuerKey === certInternals(cert).issuerKey;
  }

  /**
   * Whether the CRL's signature verifies with `issuer`'s key (cached per issuer).
   *
   * @example
   * ```ts
   * if (crl.covers(cert) && (await crl.verifySignature(issuerCert))) crl.revokedAt(cert.serialNumber, signingTime);
   * ```
   */
  verifySignature(issuer: Certificate, crypto: CryptoLike = globalThis.crypto): Promise<boolean> {
    const i = internals.get(this)!;
    return verifySignedObjectOnce(i.checkedBy, issuer, certInternals(issuer).key, i, crypto).then((o) => o.ok);
  }
}

const cache = new ContentCache<Crl>(256);

/**
 * Parses a DER CRL (cached by content).
 *
 * @throws PecError `ERR_CERT_MALFORMED` when the bytes are not a CRL.
 *
 * @example
 * ```ts
 * const crl = parseCrl(await (await fetch(cert.crlDistributionPoints[0])).bytes());
 * ```
 */
export function parseCrl(der: Uint8Array): Crl {
  if (!(der instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", "parseCrl: expected a Uint8Array");
  try {
    return cache.get(der, (copy) => Crl.parseUncached(copy));
  } catch (e) {
    throw new PecError("ERR_CERT_MALFORMED", `not a CRL: ${(e as Error).message}`, e instanceof BerError ? { offset: e.offset } : {}, { cause: e });
  }
}

/**
 * @internal A `crls` option (`readonly (Crl | Uint8Array)[]`) → CRLs. Anything but an
 * array of those is misuse (`ERR_INVALID_ARGUMENT`); bytes that are not a CRL are
 * `ERR_CERT_MALFORMED`, as with {@link parseCrl}.
 */
export function crlsOption(crls: unknown, where: string): Crl[] {
  checkCrlsOption(crls, where);
  return crls.map((c) => (c instanceof Crl ? c : parseCrl(c)));
}

/**
 * @internal The shape check of {@link crlsOption} without parsing: for a caller that must
 * refuse misuse before it knows whether the CRLs will be used (`verifyPec` on an unsigned message).
 */
export function checkCrlsOption(crls: unknown, where: string): asserts crls is readonly (Crl | Uint8Array)[] {
  if (!Array.isArray(crls)) throw new PecError("ERR_INVALID_ARGUMENT", `${where}: \`crls\` must be an array of CRLs (DER bytes or Crl objects)`);
  for (const c of crls as readonly unknown[]) {
    if (!(c instanceof Crl) && !(c instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", `${where}: \`crls\` must hold CRLs (DER bytes or Crl objects)`);
  }
}
