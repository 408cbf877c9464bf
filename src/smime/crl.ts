/**
 * Certificate revocation lists (RFC 5280 §5), parsed once and cached by content.
 *
 * postacert never fetches anything: CRLs come from the caller (who can download the
 * URLs in {@link Certificate.crlDistributionPoints}) or from the CMS `crls` field.
 *
 * @module
 */

import { PecError } from "../errors.js";
import { BerError, BerReader, TAG, type Tlv } from "./ber.js";
import { ContentCache } from "./cache.js";
import { certInternals, signatureAlgorithmName, type Certificate } from "./certificate.js";
import { verifySignedObjectOnce, type VerifyOutcome } from "./algorithms.js";
import type { CryptoLike } from "./digest.js";
import { formatName, rdnKeys, readGeneralName, readGeneralNames, readName, type DistinguishedName } from "./name.js";
import { got } from "../util/got.js";
import { isDenseArray } from "../util/arrays.js";

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

const COMPROMISE: ReadonlySet<RevocationReason> = new Set<RevocationReason>(["keyCompromise", "cACompromise", "aACompromise"]);

/** One revoked certificate. */
export interface RevokedCertificate {
  /** Serial number, lower-case hex (same form as {@link Certificate.serialNumber}). */
  readonly serialNumber: string;
  /** When the CA revoked it. */
  readonly revocationDate: Date;
  /** The reason code, when given. */
  readonly reason?: RevocationReason;
}

/**
 * What a CRL can say about a certificate of its issuer (RFC 5280 §5.2, §6.3.3): a delta
 * CRL lists only changes since its base, and an issuingDistributionPoint restricts a CRL
 * to part of the issuer's certificates or reasons. Only a CRL that covers the whole of a
 * certificate's scope can show it was not revoked; a listed serial is revoked whatever
 * the scope.
 */
interface CrlScope {
  readonly delta: boolean;
  /** The fullName URIs of the issuingDistributionPoint; `null` when it names the point otherwise; absent: every point. */
  readonly distributionPoint?: readonly string[] | null;
  readonly onlyUserCerts: boolean;
  readonly onlyCaCerts: boolean;
  readonly onlyAttributeCerts: boolean;
  readonly onlySomeReasons: boolean;
}

const EXT = {
  reasonCode: "2.5.29.21",
  invalidityDate: "2.5.29.24",
  certificateIssuer: "2.5.29.29",
  crlNumber: "2.5.29.20",
  deltaCrlIndicator: "2.5.29.27",
  issuingDistributionPoint: "2.5.29.28",
} as const;

/** CRL extensions processed here, or harmless to accept when critical. */
const UNDERSTOOD_CRL = new Set<string>([EXT.crlNumber, EXT.deltaCrlIndicator, EXT.issuingDistributionPoint, "2.5.29.35", "2.5.29.18", "2.5.29.46", "1.3.6.1.5.5.7.1.1"]);
const UNDERSTOOD_ENTRY = new Set<string>([EXT.reasonCode, EXT.invalidityDate, EXT.certificateIssuer]);

/** The extensions of a CRL or of one of its entries: `[oid, critical, value]`. */
function extensionsOf(r: BerReader, t: Tlv): [string, boolean, Tlv][] {
  return r.expect(t, TAG.SEQUENCE, "Extensions").map((ext) => {
    const parts = r.expect(ext, TAG.SEQUENCE, "Extension");
    const critical = parts[1]?.tag === TAG.BOOLEAN && r.boolean(parts[1]);
    const value = parts[parts.length - 1]!;
    if (parts.length < 2 || value.tag !== TAG.OCTET_STRING) throw new BerError("Extension: missing value", ext.start);
    return [r.oid(parts[0]!), critical, value];
  });
}

function readScope(der: Uint8Array | undefined, delta: boolean): CrlScope {
  const scope = { delta, onlyUserCerts: false, onlyCaCerts: false, onlyAttributeCerts: false, onlySomeReasons: false } as { -readonly [K in keyof CrlScope]: CrlScope[K] };
  if (!der) return scope;
  const r = new BerReader(der);
  for (const f of r.expect(r.root(), TAG.SEQUENCE, "IssuingDistributionPoint")) {
    // [1], [2], [4] and [5] are IMPLICIT BOOLEANs; [3] a BIT STRING of reasons.
    const flag = (): boolean => r.content(f)[0] !== 0;
    switch (f.tag) {
      case 0xa0: {
        // fullName [0]; a nameRelativeToCRLIssuer [1] (or a fullName without URIs) cannot
        // be matched with a certificate's cRLDistributionPoints.
        const name = r.children(f)[0];
        const names = name?.tag === 0xa0 ? r.children(name).map((g) => readGeneralName(r, g)) : [];
        const uris = names.filter((g) => g.type === "uniformResourceIdentifier").map((g) => g.value);
        scope.distributionPoint = uris.length > 0 ? uris : null;
        break;
      }
      case 0x81:
        scope.onlyUserCerts = flag();
        break;
      case 0x82:
        scope.onlyCaCerts = flag();
        break;
      case 0x83:
      case 0xa3:
        scope.onlySomeReasons = true;
        break;
      case 0x85:
        scope.onlyAttributeCerts = flag();
        break;
    }
  }
  return scope;
}

interface CrlInternals {
  readonly scope: CrlScope;
  /** cRLNumber, when given. */
  readonly number?: bigint;
  /** A delta CRL's BaseCRLNumber: the complete CRL it updates, or any later one. */
  readonly baseNumber?: bigint;
  /** Critical extensions of the CRL or of an entry that are not processed: the CRL must not be used (RFC 5280 §5.2). */
  readonly unknownCritical: readonly string[];
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
 * const crl = parseCrl(await readFile("agid-ca1.crl"));
 * const signedAt = new Date("2025-06-15T10:00:07Z"); // when the message was signed
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
  /**
   * Revoked certificates of the CRL's issuer by serial number (lower-case hex); entries
   * an indirect CRL gives to another CA (certificateIssuer) are left out.
   */
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
    const issuerKey = rdnKeys(this.issuerName).join("\u0000");
    const unknownCritical: string[] = [];
    const revoked = new Map<string, RevokedCertificate>();
    if (f[i]?.tag === TAG.SEQUENCE) {
      // An indirect CRL's entries belong to the CRL issuer until a certificateIssuer
      // extension names another CA, and to that CA until the next one (RFC 5280 §5.3.3).
      let ours = true;
      for (const entry of r.children(f[i++]!)) {
        const [serialT, dateT, extsT] = r.expect(entry, TAG.SEQUENCE, "revokedCertificate");
        if (!serialT || !dateT) throw new BerError("revokedCertificate: missing fields", entry.start);
        const serialNumber = r.integerHex(serialT);
        let reason: RevocationReason | undefined;
        if (extsT) {
          for (const [id, critical, valueT] of extensionsOf(r, extsT)) {
            const v = new BerReader(r.content(valueT));
            if (id === EXT.reasonCode) reason = REASONS[v.smallInt(v.root())];
            else if (id === EXT.certificateIssuer) ours = readGeneralNames(v, v.root()).some((g) => g.type === "directoryName" && g.name && rdnKeys(g.name).join("\u0000") === issuerKey);
            else if (critical && !UNDERSTOOD_ENTRY.has(id)) unknownCritical.push(id);
          }
        }
        if (ours) revoked.set(serialNumber, { serialNumber, revocationDate: r.time(dateT), ...(reason ? { reason } : {}) });
      }
    }
    this.revoked = revoked;
    let delta = false;
    let idp: Uint8Array | undefined;
    let number: bigint | undefined;
    let baseNumber: bigint | undefined;
    const integer = (valueT: Tlv): bigint => {
      const v = new BerReader(r.content(valueT));
      const hex = v.integerHex(v.root());
      if (hex === "") throw new BerError("CRL number: an empty INTEGER", valueT.start);
      return BigInt(`0x${hex}`);
    };
    if (f[i]?.tag === TAG.CTX0) {
      for (const [id, critical, valueT] of extensionsOf(r, r.children(f[i]!)[0]!)) {
        if (id === EXT.deltaCrlIndicator) {
          delta = true;
          baseNumber = integer(valueT);
        } else if (id === EXT.crlNumber) number = integer(valueT);
        else if (id === EXT.issuingDistributionPoint) idp = r.content(valueT);
        else if (critical && !UNDERSTOOD_CRL.has(id)) unknownCritical.push(id);
      }
    }
    const [oidT, paramsT] = r.children(algT);
    const sigAlgOid = r.oid(oidT!);
    this.signatureAlgorithm = signatureAlgorithmName(sigAlgOid);
    internals.set(this, {
      scope: readScope(idp, delta),
      ...(number !== undefined && { number }),
      ...(baseNumber !== undefined && { baseNumber }),
      unknownCritical,
      tbs: r.raw(tbsT),
      sigAlgOid,
      sigAlgParams: paramsT && paramsT.tag !== TAG.NULL ? r.raw(paramsT) : undefined,
      signature: r.bits(sigT).bytes,
      issuerKey,
      checkedBy: new WeakMap(),
    });
  }

  /** @internal Parses without the cache; use {@link parseCrl}. */
  static parseUncached(der: Uint8Array): Crl {
    return new Crl(der);
  }

  /**
   * The revocation entry of `serialNumber` if it was revoked at or before `at`, or for a
   * key compromise (`keyCompromise`, `cACompromise`, `aACompromise`) at any time: whoever
   * holds a compromised key can sign with any signingTime, so a signature cannot be dated
   * before the compromise by what it says itself. removeFromCRL entries, used by delta
   * CRLs, do not count.
   */
  revokedAt(serialNumber: string, at: Date): RevokedCertificate | undefined {
    const e = this.revoked.get(serialNumber.toLowerCase());
    if (!e || e.reason === "removeFromCRL") return undefined;
    return e.revocationDate.getTime() <= at.getTime() || (e.reason !== undefined && COMPROMISE.has(e.reason)) ? e : undefined;
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
   * const crl = parseCrl(await readFile("agid-ca1.crl"));
   * const issuerCert = parseCertificate(der); // the CA that issued cert and the CRL
   * const signingTime = new Date("2025-06-15T10:00:07Z");
   * if (crl.covers(cert) && (await crl.verifySignature(issuerCert))) crl.revokedAt(cert.serialNumber, signingTime);
   * ```
   */
  verifySignature(issuer: Certificate, crypto: CryptoLike = globalThis.crypto): Promise<boolean> {
    const i = internals.get(this)!;
    return verifySignedObjectOnce(i.checkedBy, issuer, certInternals(issuer).key, i, crypto).then((o) => o.ok);
  }
}

/**
 * @internal What `crl` can tell about `cert` (which it {@link Crl.covers}): nothing when
 * it carries a critical extension that is not processed (`unusable`, naming them) or
 * speaks only of attribute certificates; else whether its serials apply, and whether it is
 * complete for `cert` at `at` (current then, not a delta, no reasons left out, `cert`'s
 * kind and distribution point within its scope), so that a serial it does not list was
 * not revoked.
 */
export function crlUse(crl: Crl, cert: Certificate, at: Date): { unusable: readonly string[] } | { complete: boolean } | undefined {
  const { scope, unknownCritical } = internals.get(crl)!;
  if (unknownCritical.length > 0) return { unusable: unknownCritical };
  if (scope.onlyAttributeCerts) return undefined;
  return { complete: current(crl, at) && !scope.delta && inScope(scope, cert) };
}

/**
 * @internal Whether `delta` and `base`, both of `cert`'s issuer and verified, are together
 * complete for `cert` at `at` (RFC 5280 §5.2.4, §6.3.3): `delta` is a delta CRL current
 * then, `base` a complete CRL (current or not: that is what a delta is for) whose cRLNumber
 * is at least the delta's BaseCRLNumber, and both have the same scope, which holds `cert`.
 */
export function completeWithDelta(delta: Crl, base: Crl, cert: Certificate, at: Date): boolean {
  const d = internals.get(delta)!;
  const b = internals.get(base)!;
  return updates(d, b) && !b.scope.delta && current(delta, at) && sameScope(d.scope, b.scope) && inScope(b.scope, cert);
}

/**
 * @internal Whether the certificateHold entry of `serialNumber` in `base` was over at `at`:
 * lifted by a removeFromCRL entry of `delta`, a delta CRL that updates `base`, issued at or
 * before `at`. The hold lasted at least until `base` was issued and ended by the time
 * `delta` was; a time between the two cannot be told from them, and the hold stands for it
 * (a signature made while suspended stays invalid after the suspension ends).
 */
export function holdLifted(base: Crl, delta: Crl, serialNumber: string, at: Date): boolean {
  return (
    updates(internals.get(delta)!, internals.get(base)!) &&
    delta.thisUpdate.getTime() <= at.getTime() &&
    delta.thisUpdate.getTime() > base.thisUpdate.getTime() &&
    delta.revoked.get(serialNumber.toLowerCase())?.reason === "removeFromCRL"
  );
}

/** Whether `d` is a delta CRL that updates `b`: `b`'s cRLNumber is at least the delta's BaseCRLNumber. */
function updates(d: CrlInternals, b: CrlInternals): boolean {
  return d.scope.delta && d.baseNumber !== undefined && b.number !== undefined && b.number >= d.baseNumber;
}

/** Issued at or after `at`, or still current then: one past its nextUpdate before `at` knows nothing of what was revoked since. */
function current(crl: Crl, at: Date): boolean {
  const t = at.getTime();
  return crl.thisUpdate.getTime() >= t || crl.nextUpdate === undefined || t <= crl.nextUpdate.getTime();
}

/** Whether a CRL of this scope speaks of every reason for `cert`: its kind, and its distribution point. */
function inScope(scope: CrlScope, cert: Certificate): boolean {
  const ca = cert.basicConstraints?.ca === true;
  const dp = scope.distributionPoint;
  return (
    !scope.onlySomeReasons &&
    !(scope.onlyUserCerts && ca) &&
    !(scope.onlyCaCerts && !ca) &&
    (dp === undefined || (dp !== null && dp.some((u) => cert.crlDistributionPoints.some((c) => sameUri(u, c)))))
  );
}

function sameScope(a: CrlScope, b: CrlScope): boolean {
  const same = (x: readonly string[] | null | undefined, y: readonly string[] | null | undefined): boolean =>
    x === y || (!!x && !!y && x.length === y.length && x.every((u) => y.some((v) => sameUri(u, v))));
  return a.onlyUserCerts === b.onlyUserCerts && a.onlyCaCerts === b.onlyCaCerts && a.onlySomeReasons === b.onlySomeReasons && same(a.distributionPoint, b.distributionPoint);
}

/**
 * Whether two URIs name the same distribution point: equal once the scheme and the host,
 * which RFC 3986 (§6.2.2.1) makes case-insensitive, are lower-cased. A CA that writes
 * `HTTP://CRL.Example.it/ca.crl` in its CRL and `http://crl.example.it/ca.crl` in its
 * certificates means one place; the path stays case-sensitive.
 */
function sameUri(a: string, b: string): boolean {
  return a === b || uriKey(a) === uriKey(b);
}

function uriKey(u: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*)(.*)$/s.exec(u);
  return m ? m[1]!.toLowerCase() + m[2]! : u;
}

const cache = new ContentCache<Crl>(256);

/**
 * Parses a DER CRL (cached by content).
 *
 * @throws PecError `ERR_CERT_MALFORMED` when the bytes are not a CRL.
 *
 * @example
 * ```ts
 * const crl = parseCrl(await (await fetch(cert.crlDistributionPoints[0]!)).bytes());
 * ```
 */
export function parseCrl(der: Uint8Array): Crl {
  if (!(der instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", `parseCrl: expected a Uint8Array; ${got(der)}`);
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
  if (!isDenseArray(crls)) throw new PecError("ERR_INVALID_ARGUMENT", `${where}: \`crls\` must be an array of CRLs (DER bytes or Crl objects)`);
  for (const c of crls as readonly unknown[]) {
    if (!(c instanceof Crl) && !(c instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", `${where}: \`crls\` must hold CRLs (DER bytes or Crl objects)`);
  }
}
