/**
 * Trust anchors for signature verification.
 *
 * A {@link TrustStore} holds certificates the caller trusts, and says how:
 *
 * - CA certificates are anchors of certification paths (e.g. AgID CA1, or the public
 *   roots AgID CA1 chains to).
 * - Leaf certificates are trusted as themselves: this is how the IGPEC list works (the
 *   gestore signing certificates are listed with their SHA-1 hashes), so a signer
 *   found in the store needs no path.
 * - Anchors from {@link TrustStore.system} are public roots; a path to them only
 *   counts when the signer asserts the PEC gestore policy 1.3.76.16.3.1.1, otherwise
 *   any S/MIME certificate from a public CA would pass.
 *
 * Stores are immutable; {@link TrustStore.merge} makes a new one.
 *
 * @module
 */

import { PecError } from "../errors.js";
import { decodeBase64 } from "../util/base64.js";
import { equalBytes, utf8 } from "../util/bytes.js";
import { Certificate, certInternals, parseCertificate, parsePem, parsePemCertificates } from "../smime/certificate.js";
import { crlsOption, parseCrl, type Crl } from "../smime/crl.js";
import { parseSignedData } from "../smime/cms.js";
import { canDigest, CryptoFailure, type CryptoLike } from "../smime/digest.js";
import { parseLdif, type LdifEntry } from "./ldif.js";
import { isDenseArray } from "../util/arrays.js";

/** Where an anchor came from. */
export type TrustSource = "pem" | "der" | "certificates" | "ldif" | "system";

/** An anchor and how it is trusted. */
export interface TrustAnchor {
  /** The certificate. */
  readonly certificate: Certificate;
  /** A path ending here counts only if the signer asserts the PEC policy 1.3.76.16.3.1.1. */
  readonly requirePecPolicy: boolean;
  /** Where it came from (the first source, when merged). */
  readonly source: TrustSource;
  /** Lower-case hex SHA-1 of the DER. */
  readonly sha1: string;
  /** Lower-case hex SHA-256 of the DER. */
  readonly sha256: string;
}

/** A gestore as listed in IGPEC (one LDIF `provider` entry). */
export interface GestoreProvider {
  /** `providerName`. */
  readonly name: string;
  /** `providerUnit`, for a secondary operating environment. */
  readonly unit?: string;
  /** The entry's DN. */
  readonly dn: string;
  /** `mailReceipt`: where presa in carico and virus notices go. */
  readonly mailReceipt?: string;
  /** `managedDomains`, lower case. */
  readonly domains: readonly string[];
  /** The entry's certificates whose hash matched (the trusted ones). */
  readonly certificates: readonly Certificate[];
  /** `LDIFLocationURL`, when present. */
  readonly ldifLocationUrl?: string;
  /** `description`, when present. */
  readonly description?: string;
}

/** Something a trust source offered and the store refused. */
export interface RejectedEntry {
  /** DN of the LDIF entry, or `PEM block at line N`. */
  readonly dn: string;
  /** `providerName`, when known. */
  readonly name?: string;
  /** Why it was refused. */
  readonly reason: string;
  /** The refused certificate, when it could be parsed. */
  readonly certificate?: Certificate;
  /** 1-based line in the source text, when known. */
  readonly line?: number;
}

/** Options of the {@link TrustStore} factories. */
export interface TrustStoreOptions {
  /** Require the PEC gestore policy from signers whose path ends at these anchors. Default `false` (`true` for {@link TrustStore.system}). */
  requirePecPolicy?: boolean;
  /** WebCrypto implementation used to hash the certificates. Default `globalThis.crypto`. */
  crypto?: CryptoLike;
}

const norm = (s: string): string => s.trim().replace(/\s+/g, " ").toLowerCase();

async function makeAnchor(certificate: Certificate, requirePecPolicy: boolean, source: TrustSource, crypto: CryptoLike): Promise<TrustAnchor> {
  const [sha1, sha256] = await Promise.all([fingerprint(certificate, "SHA-1", crypto), fingerprint(certificate, "SHA-256", crypto)]);
  return { certificate, requirePecPolicy, source, sha1, sha256 };
}

/** A certificate's fingerprint; a failing crypto is the caller's `crypto` option at fault, not the source. */
function fingerprint(certificate: Certificate, algorithm: "SHA-1" | "SHA-256", crypto: CryptoLike): Promise<string> {
  return certificate.fingerprint(algorithm, crypto).catch((e: unknown) => {
    if (e instanceof CryptoFailure) throw new PecError("ERR_INVALID_ARGUMENT", `TrustStore: the \`crypto\` given cannot hash a certificate: ${e.message}`, {}, { cause: e });
    throw e;
  });
}

function toCertificate(c: Certificate | Uint8Array): Certificate {
  return c instanceof Uint8Array ? parseCertificate(c) : c;
}

/** The factories' options checked: an object (or nothing) whose `crypto`, if any, can hash. */
function checkOptions(options: unknown, where: string): TrustStoreOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw new PecError("ERR_INVALID_ARGUMENT", `TrustStore.${where}: options must be an object`);
  const crypto = (options as TrustStoreOptions).crypto;
  if (crypto !== undefined && !canDigest(crypto)) throw new PecError("ERR_INVALID_ARGUMENT", `TrustStore.${where}: \`crypto\` must be a WebCrypto implementation (with subtle.digest)`);
  return options as TrustStoreOptions;
}

function checkStores(stores: readonly unknown[], where: string): void {
  for (const s of stores) if (!(s instanceof TrustStore)) throw new PecError("ERR_INVALID_ARGUMENT", `TrustStore.${where}: expected TrustStores`);
}

/**
 * A set of trust anchors, IGPEC gestori and CRLs.
 *
 * @example
 * ```ts
 * const trust = await TrustStore.fromPem(await readFile("agid-ca1.pem", "utf8"));
 * const igpec = await TrustStore.fromLdif(ldif);
 * const both = trust.merge(igpec);
 * both.providerForDomain("pec.aruba.it")?.name;
 * ```
 */
export class TrustStore {
  /** Every anchor, in insertion order. */
  readonly anchors: readonly TrustAnchor[];
  /** IGPEC gestori (entries with at least one certificate whose hash matched). */
  readonly providers: readonly GestoreProvider[];
  /** What the sources offered and the store refused (e.g. an IGPEC entry whose hash does not match). */
  readonly rejected: readonly RejectedEntry[];
  /** CRLs found in the sources (PEM `X509 CRL` blocks); used by path validation. */
  readonly crls: readonly Crl[];

  private readonly bySubjectKey = new Map<string, TrustAnchor[]>();
  private readonly bySubjectText = new Map<string, TrustAnchor[]>();
  private readonly bySki = new Map<string, TrustAnchor[]>();
  private readonly byHash = new Map<string, TrustAnchor>();
  private readonly providerByHash = new Map<string, GestoreProvider>();
  private readonly providerByDomain = new Map<string, GestoreProvider>();

  private constructor(anchors: readonly TrustAnchor[], providers: readonly GestoreProvider[], rejected: readonly RejectedEntry[], crls: readonly Crl[]) {
    const unique: TrustAnchor[] = [];
    for (const a of anchors) {
      const prev = this.byHash.get(a.sha256);
      if (prev) {
        // Trusted by two sources: the less demanding one wins (an explicit anchor needs no policy).
        if (prev.requirePecPolicy && !a.requirePecPolicy) {
          const merged = { ...prev, requirePecPolicy: false };
          unique[unique.indexOf(prev)] = merged;
          this.byHash.set(a.sha256, merged);
          this.byHash.set(a.sha1, merged);
        }
        continue;
      }
      unique.push(a);
      this.byHash.set(a.sha256, a);
      this.byHash.set(a.sha1, a);
    }
    this.anchors = unique;
    for (const a of unique) {
      const push = (m: Map<string, TrustAnchor[]>, k: string): void => {
        const l = m.get(k);
        if (l) l.push(a);
        else m.set(k, [a]);
      };
      push(this.bySubjectKey, certInternals(a.certificate).subjectKey);
      push(this.bySubjectText, norm(a.certificate.subject));
      if (a.certificate.subjectKeyIdentifier) push(this.bySki, a.certificate.subjectKeyIdentifier);
    }
    this.providers = providers;
    this.rejected = rejected;
    this.crls = [...new Set(crls)];
    for (const p of providers) {
      for (const c of p.certificates) {
        const a = this.findExact(c);
        // Main environments first: they are listed before their units in IGPEC.
        if (a && (!this.providerByHash.has(a.sha256) || (this.providerByHash.get(a.sha256)!.unit && !p.unit))) this.providerByHash.set(a.sha256, p);
      }
      for (const d of p.domains) if (!this.providerByDomain.has(d)) this.providerByDomain.set(d, p);
    }
  }

  /**
   * An empty store (verification then reports `CERT_UNTRUSTED`; the signature itself is still checked).
   *
   * @example
   * ```ts
   * const res = await verifyPec(bytes, { trust: TrustStore.empty() });
   * res.valid; // the bytes match the signature, whoever signed them
   * ```
   */
  static empty(): TrustStore {
    return new TrustStore([], [], [], []);
  }

  /**
   * Anchors from PEM text: every `CERTIFICATE` block (also `X509 CERTIFICATE`,
   * `TRUSTED CERTIFICATE`), plus `X509 CRL` blocks as CRLs.
   *
   * @throws PecError `ERR_TRUST_MALFORMED` when a block does not decode or the text holds no certificate and no CRL.
   *
   * @example
   * ```ts
   * const trust = await TrustStore.fromPem(await readFile("agid-ca1.pem", "utf8"));
   * ```
   */
  static async fromPem(text: string, options: TrustStoreOptions = {}): Promise<TrustStore> {
    if (typeof text !== "string") throw new PecError("ERR_INVALID_ARGUMENT", "TrustStore.fromPem: expected a string");
    const opts = checkOptions(options, "fromPem");
    let certs: Certificate[];
    const crls: Crl[] = [];
    try {
      certs = parsePemCertificates(text);
      for (const b of parsePem(text)) if (b.label === "X509 CRL") crls.push(parseCrl(b.der));
    } catch (e) {
      throw new PecError("ERR_TRUST_MALFORMED", (e as Error).message, (e as PecError).details ?? {}, { cause: e });
    }
    if (certs.length === 0 && crls.length === 0) throw new PecError("ERR_TRUST_MALFORMED", "no certificate in the PEM text");
    return TrustStore.build(certs, "pem", opts, crls);
  }

  /**
   * Anchors from DER certificates.
   *
   * @throws PecError `ERR_TRUST_MALFORMED` when one is not a certificate.
   *
   * @example
   * ```ts
   * const trust = await TrustStore.fromDer(await readFile("agid-ca1.cer"));
   * ```
   */
  static async fromDer(der: Uint8Array | readonly Uint8Array[], options: TrustStoreOptions = {}): Promise<TrustStore> {
    const list = der instanceof Uint8Array ? [der] : der;
    if (!isDenseArray(list) || !list.every((d) => d instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", "TrustStore.fromDer: expected Uint8Array(s)");
    const opts = checkOptions(options, "fromDer");
    let certs: Certificate[];
    try {
      certs = list.map((d) => parseCertificate(d));
    } catch (e) {
      throw new PecError("ERR_TRUST_MALFORMED", (e as Error).message, {}, { cause: e });
    }
    return TrustStore.build(certs, "der", opts);
  }

  /**
   * Anchors from certificates already parsed (or DER).
   *
   * @example
   * ```ts
   * const trust = await TrustStore.fromCertificates([ca.certificate, parseCertificate(der)]);
   * ```
   */
  static async fromCertificates(certificates: readonly (Certificate | Uint8Array)[], options: TrustStoreOptions = {}): Promise<TrustStore> {
    if (!isDenseArray(certificates) || !certificates.every((c: unknown) => c instanceof Certificate || c instanceof Uint8Array)) {
      throw new PecError("ERR_INVALID_ARGUMENT", "TrustStore.fromCertificates: expected an array of Certificates or DER bytes");
    }
    const opts = checkOptions(options, "fromCertificates");
    return TrustStore.build(certificates.map(toCertificate), "certificates", opts);
  }

  private static async build(certs: readonly Certificate[], source: TrustSource, options: TrustStoreOptions, crls: Crl[] = []): Promise<TrustStore> {
    const crypto = options.crypto ?? globalThis.crypto;
    const anchors = await Promise.all(certs.map((c) => makeAnchor(c, options.requirePecPolicy ?? false, source, crypto)));
    return new TrustStore(anchors, [], [], crls);
  }

  /**
   * The IGPEC export (RFC 6109 §4.5, spec §7): every `provider` entry with its
   * `providerCertificate` values. A certificate is trusted only when its SHA-1 is
   * among the entry's `providerCertificateHash` values (hex, any case); the others are
   * listed in {@link TrustStore.rejected}, and an entry with no matching certificate
   * is refused as a whole. Accepts the LDIF text, its bytes, or the signed `.p7m`
   * (CMS SignedData holding the LDIF; the wrapper's signature is not checked here:
   * check it with `verifyCms` first if the file's origin matters).
   *
   * @throws PecError `ERR_TRUST_MALFORMED` when the text is not LDIF.
   *
   * @example
   * ```ts
   * const igpec = await TrustStore.fromLdif(ldif);
   * igpec.providerForDomain("pec.aruba.it")?.name; // "Aruba PEC S.p.A."
   * igpec.rejected; // entries whose hash did not match
   * ```
   */
  static async fromLdif(ldif: string | Uint8Array, options: TrustStoreOptions = {}): Promise<TrustStore> {
    const opts = checkOptions(options, "fromLdif");
    let text: string;
    if (typeof ldif === "string") text = ldif;
    else if (ldif instanceof Uint8Array) {
      if (ldif[0] === 0x30) {
        try {
          const content = parseSignedData(ldif).eContent;
          if (!content) throw new Error("the SignedData has no content");
          text = utf8(content);
        } catch (e) {
          throw new PecError("ERR_TRUST_MALFORMED", `not a signed LDIF: ${(e as Error).message}`, {}, { cause: e });
        }
      } else text = utf8(ldif);
    } else throw new PecError("ERR_INVALID_ARGUMENT", "TrustStore.fromLdif: expected a string or a Uint8Array");
    const entries = parseLdif(text);
    if (entries.length === 0) throw new PecError("ERR_TRUST_MALFORMED", "no LDIF entry found");
    const crypto = opts.crypto ?? globalThis.crypto;
    const anchors: TrustAnchor[] = [];
    const providers: GestoreProvider[] = [];
    const rejected: RejectedEntry[] = [];
    for (const e of entries) {
      const p = await readProvider(e, crypto, rejected);
      if (!p) continue;
      providers.push(p.provider);
      for (const c of p.provider.certificates) anchors.push(await makeAnchor(c, opts.requirePecPolicy ?? false, "ldif", crypto));
    }
    return new TrustStore(anchors, providers, rejected, []);
  }

  /**
   * Node's bundled root certificates (`tls.rootCertificates`), marked so that a path
   * to them counts only when the signer asserts the PEC gestore policy. Works in Node
   * only (through `process.getBuiltinModule`, so that browser bundles never see a
   * `node:` import); elsewhere it throws. `systemTrust()` in `src/node/system-trust.ts` does
   * the same with a static import.
   *
   * @throws PecError `ERR_UNSUPPORTED` outside Node.
   *
   * @example
   * ```ts
   * declare const cms: Uint8Array, content: Uint8Array; // a signature and the bytes it signs
   * const res = await verifySignedData({ cms, content, trust: await TrustStore.system() });
   * ```
   */
  static async system(options: Omit<TrustStoreOptions, "requirePecPolicy"> = {}): Promise<TrustStore> {
    checkOptions(options, "system");
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const tls = proc?.getBuiltinModule?.("node:tls") as { rootCertificates?: readonly string[] } | undefined;
    if (!tls?.rootCertificates) throw new PecError("ERR_UNSUPPORTED", "TrustStore.system() needs Node.js (tls.rootCertificates)");
    return TrustStore.fromSystemRoots(tls.rootCertificates, options);
  }

  /**
   * A store of public roots given as PEM strings (what {@link TrustStore.system} does
   * with Node's list), requiring the PEC policy. Roots that fail to parse are listed in
   * {@link TrustStore.rejected}.
   */
  static async fromSystemRoots(roots: readonly string[], options: Omit<TrustStoreOptions, "requirePecPolicy"> = {}): Promise<TrustStore> {
    if (!isDenseArray(roots)) throw new PecError("ERR_INVALID_ARGUMENT", "TrustStore.fromSystemRoots: expected an array of PEM strings");
    const crypto = checkOptions(options, "fromSystemRoots").crypto ?? globalThis.crypto;
    const anchors: TrustAnchor[] = [];
    const rejected: RejectedEntry[] = [];
    for (let i = 0; i < roots.length; i++) {
      try {
        for (const c of parsePemCertificates(roots[i]!)) anchors.push(await makeAnchor(c, true, "system", crypto));
      } catch (e) {
        rejected.push({ dn: `system root #${i}`, reason: (e as Error).message });
      }
    }
    return new TrustStore(anchors, [], rejected, []);
  }

  /**
   * A new store with the anchors, providers, rejections and CRLs of all the given stores (empty for none).
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` when one of them is not a TrustStore.
   *
   * @example
   * ```ts
   * const trust = TrustStore.merge(await TrustStore.fromLdif(ldif), await TrustStore.system());
   * ```
   */
  static merge(...stores: readonly TrustStore[]): TrustStore {
    checkStores(stores, "merge");
    return stores.length === 0 ? TrustStore.empty() : stores[0]!.merge(...stores.slice(1));
  }

  /**
   * A new store with the anchors, providers, rejections and CRLs of this one and the others.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` when one of them is not a TrustStore.
   */
  merge(...others: readonly TrustStore[]): TrustStore {
    checkStores(others, "merge");
    const all = [this, ...others];
    return new TrustStore(
      all.flatMap((s) => s.anchors),
      all.flatMap((s) => s.providers),
      all.flatMap((s) => s.rejected),
      all.flatMap((s) => s.crls),
    );
  }

  /**
   * A new store with these CRLs added (parsed DER or {@link Crl} objects).
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` when `crls` is not an array of those, `ERR_CERT_MALFORMED` for bytes that are not a CRL.
   *
   * @example
   * ```ts
   * const withRevocation = trust.withCrls([await (await fetch(cert.crlDistributionPoints[0]!)).bytes()]);
   * ```
   */
  withCrls(crls: readonly (Crl | Uint8Array)[]): TrustStore {
    return new TrustStore(this.anchors, this.providers, this.rejected, [...this.crls, ...crlsOption(crls, "TrustStore.withCrls")]);
  }

  /** Number of anchors. */
  get size(): number {
    return this.anchors.length;
  }

  /** Whether every anchor requires the PEC policy (true for {@link TrustStore.system}). */
  get requirePecPolicy(): boolean {
    return this.anchors.length > 0 && this.anchors.every((a) => a.requirePecPolicy);
  }

  /** Anchors whose subject DN is `dn` (string form as {@link Certificate.subject}; case and spacing ignored). */
  findBySubject(dn: string): Certificate[] {
    return (this.bySubjectText.get(norm(dn)) ?? []).map((a) => a.certificate);
  }

  /** Anchors with this subjectKeyIdentifier (hex, any case). */
  findBySubjectKeyIdentifier(ski: string): Certificate[] {
    return (this.bySki.get(ski.toLowerCase().replace(/[^0-9a-f]/g, "")) ?? []).map((a) => a.certificate);
  }

  /** The anchor with this SHA-1 or SHA-256 fingerprint (hex, any case, `:` separators allowed). */
  findByFingerprint(hex: string): Certificate | undefined {
    return this.byHash.get(hex.toLowerCase().replace(/[^0-9a-f]/g, ""))?.certificate;
  }

  /** The anchor entry for exactly this certificate (same DER), if it is one. */
  anchorFor(cert: Certificate): TrustAnchor | undefined {
    return this.findExact(cert);
  }

  /** Whether exactly this certificate is an anchor. */
  has(cert: Certificate): boolean {
    return this.findExact(cert) !== undefined;
  }

  /** @internal Anchors whose subject is the given comparison key (issuer lookup for path building). */
  anchorsBySubjectKey(key: string): readonly TrustAnchor[] {
    return this.bySubjectKey.get(key) ?? [];
  }

  private findExact(cert: Certificate): TrustAnchor | undefined {
    const list = this.bySubjectKey.get(certInternals(cert).subjectKey);
    if (!list) return undefined;
    for (const a of list) if (a.certificate === cert) return a;
    // Same bytes, another object (the parse cache evicted it): compare contents.
    for (const a of list) if (equalBytes(a.certificate.der, cert.der)) return a;
    return undefined;
  }

  /** The IGPEC gestore whose listed certificate this is. */
  providerForCertificate(cert: Certificate): GestoreProvider | undefined {
    const a = this.findExact(cert);
    return a ? this.providerByHash.get(a.sha256) : undefined;
  }

  /** The IGPEC gestore managing this PEC domain (case-insensitive), e.g. `pec.aruba.it`; an address works too. */
  providerForDomain(domain: string): GestoreProvider | undefined {
    const d = domain.trim().toLowerCase();
    return this.providerByDomain.get(d.includes("@") ? d.slice(d.lastIndexOf("@") + 1) : d);
  }
}

function normHash(h: string): string {
  return h.toLowerCase().replace(/[^0-9a-f]/g, "");
}

async function readProvider(e: LdifEntry, crypto: CryptoLike, rejected: RejectedEntry[]): Promise<{ provider: GestoreProvider } | undefined> {
  const a = e.attributes;
  const first = (n: string): string | undefined => a.get(n)?.[0]?.text.trim();
  const isProvider = a.has("providername") || (a.get("objectclass") ?? []).some((v) => v.text.trim().toLowerCase() === "provider");
  if (!isProvider) return undefined;
  const name = first("providername");
  const base = { dn: e.dn, line: e.line, ...(name ? { name } : {}) };
  const hashes = new Set((a.get("providercertificatehash") ?? []).map((v) => normHash(v.text)));
  const certValues = a.get("providercertificate") ?? [];
  if (!name) {
    rejected.push({ ...base, reason: "entry without providerName" });
    return undefined;
  }
  if (certValues.length === 0) {
    rejected.push({ ...base, reason: "entry without providerCertificate" });
    return undefined;
  }
  const trusted: Certificate[] = [];
  for (const v of certValues) {
    // `;binary::` base64 is the norm; tolerate a PEM or bare base64 text value.
    let cert: Certificate;
    try {
      cert = v.base64 ? parseCertificate(v.bytes) : (parsePemCertificates(v.text)[0] ?? parseCertificate(decodeBase64(v.text)));
    } catch (err) {
      rejected.push({ ...base, reason: `malformed providerCertificate: ${(err as Error).message}` });
      continue;
    }
    const sha1 = await fingerprint(cert, "SHA-1", crypto);
    if (hashes.has(sha1)) trusted.push(cert);
    else rejected.push({ ...base, certificate: cert, reason: `providerCertificateHash does not match the certificate (SHA-1 ${sha1})` });
  }
  if (trusted.length === 0) return undefined;
  const unit = first("providerunit");
  const mailReceipt = first("mailreceipt");
  const ldifLocationUrl = first("ldiflocationurl");
  const description = first("description");
  return {
    provider: {
      name,
      dn: e.dn,
      ...(unit ? { unit } : {}),
      ...(mailReceipt ? { mailReceipt } : {}),
      domains: [...new Set((a.get("manageddomains") ?? []).map((v) => v.text.trim().toLowerCase()).filter(Boolean))],
      certificates: trusted,
      ...(ldifLocationUrl ? { ldifLocationUrl } : {}),
      ...(description ? { description } : {}),
    },
  };
}

