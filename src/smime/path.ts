/**
 * Certification path building and validation at a given time (RFC 5280 §6, the parts
 * that matter for PEC).
 *
 * Checked: each issuer's signature (and that the signed tbsCertificate names the algorithm it is checked with),
 * validity of every certificate at `at` (the signing time, not now: receipts outlive
 * their signers' certificates), basicConstraints cA on every issuer (a leaf acting as CA
 * is refused), pathLenConstraint, keyUsage keyCertSign on issuers, name constraints
 * (rfc822Name, dNSName, directoryName, iPAddress, URI hosts; AgID CA1 relies on them),
 * unknown critical extensions, extensions present twice, the PEC policy where the anchor
 * requires it, and revocation against the CRLs at hand.
 * Not done: the full RFC 5280 policy tree (policy mappings and constraints are
 * accepted, not processed), and fetching anything: postacert never goes to the
 * network.
 *
 * Speed: certificates are parsed once (content cache), and each issuer signature is
 * checked once per (certificate, issuer) pair and remembered on the certificate, so
 * validating the path of the thousandth receipt of a gestore costs map lookups and
 * date comparisons. Without any CRL, the whole answer is remembered per (store, signer,
 * intermediates, policy requirement) for the times inside the validity of every
 * certificate of the candidate paths (where it cannot depend on the time): then it is a
 * copy of that answer. A CRL anywhere (given, in the CMS, in the store) means a full
 * validation every time.
 *
 * @module
 */

import { PecError } from "../errors.js";
import { verifySignedObjectOnce, type VerifyOutcome } from "./algorithms.js";
import { certInternals, parseCertificate, Certificate } from "./certificate.js";
import { Crl, completeWithDelta, crlUse, crlsOption, holdLifted } from "./crl.js";
import { CryptoFailure, isCryptoLike, type CryptoLike } from "./digest.js";
import { issue, type SignatureIssue } from "./issues.js";
import { rdnKeys, type GeneralName } from "./name.js";
import { X509 } from "./oids.js";
import type { GestoreProvider, TrustAnchor, TrustStore } from "../trust/store.js";
import { isDenseArray } from "../util/arrays.js";

/** Options of {@link validatePath}. */
export interface ValidatePathOptions {
  /** The end-entity certificate (the signer). */
  certificate: Certificate | Uint8Array;
  /** Other certificates that may serve as intermediates (e.g. those in the CMS). */
  intermediates?: readonly (Certificate | Uint8Array)[];
  /** The anchors. */
  trust: TrustStore;
  /** The time to validate at: the signing time. */
  at: Date;
  /** CRLs to check revocation against (the store's CRLs are used too). */
  crls?: readonly (Crl | Uint8Array)[];
  /** Require the PEC gestore policy 1.3.76.16.3.1.1 on the signer whatever the anchor. */
  requirePecPolicy?: boolean;
  /** WebCrypto implementation. Default `globalThis.crypto`. */
  crypto?: CryptoLike;
}

/** Result of {@link validatePath}. */
export interface PathValidation {
  /** A path to an anchor exists and every check passed (warnings allowed). */
  readonly trusted: boolean;
  /** The path, signer first, anchor last; when no path was found, the signer and what could be chained to it. */
  readonly chain: readonly Certificate[];
  /** The anchor the path ends at. */
  readonly anchor?: Certificate;
  /** The IGPEC gestore of the signer certificate, when the store lists it. */
  readonly provider?: GestoreProvider;
  /**
   * Whether a usable CRL covered each certificate of `chain` (same order): signed by its
   * issuer, current at the validation time (issued after it, or before its nextUpdate),
   * complete for it (a delta CRL alone, or one whose issuingDistributionPoint leaves the
   * certificate or some reasons out, is not; a current delta CRL with the complete CRL it
   * updates is, RFC 5280 §5.2.4), and without critical extensions that are not
   * processed. A serial listed in any usable CRL of the issuer is revoked all the same,
   * unless a certificateHold that a delta CRL issued by the validation time lifts (removeFromCRL).
   */
  readonly revocationChecked: readonly boolean[];
  /** What was found. */
  readonly issues: readonly SignatureIssue[];
}

const MAX_PATH = 8;
const MAX_CANDIDATES = 8;
/**
 * Chains extended while looking for paths, at most. Certificates that share a name can be
 * chained in factorially many orders: 20 self-issued "CN=Loop CA" in a CMS, none leading to an
 * anchor, took 75 s to rule out when every order was tried. A real path takes a few steps.
 */
const MAX_STEPS = 256;

interface Candidate {
  chain: Certificate[];
  anchor: TrustAnchor;
  /** Time-independent check results, without and with the PEC policy requirement. */
  static: [Promise<SignatureIssue[]>?, Promise<SignatureIssue[]>?];
}

function toCert(c: Certificate | Uint8Array): Certificate {
  return c instanceof Uint8Array ? parseCertificate(c) : c;
}

/** 0 when the child's authority key identifier names the issuer's key, 2 when it names another, 1 when either is missing. */
function keyIdScore(child: Certificate, issuer: Certificate): number {
  return child.authorityKeyIdentifier && issuer.subjectKeyIdentifier ? (child.authorityKeyIdentifier === issuer.subjectKeyIdentifier ? 0 : 2) : 1;
}

/** How many links of a chain contradict its key identifiers. */
function keyIdMismatches(chain: readonly Certificate[]): number {
  let n = 0;
  for (let i = 1; i < chain.length; i++) if (keyIdScore(chain[i - 1]!, chain[i]!) === 2) n++;
  return n;
}

/**
 * Paths from `leaf` to an anchor, by names and key identifiers; most plausible first (fewest
 * key identifier contradictions, then shortest). Breadth first, within {@link MAX_STEPS}: the
 * CMS certificates are not signed, so anyone can add same-named decoys, and depth first a real
 * path could lie behind their subtrees beyond the budget; breadth first it is found at its own
 * length.
 */
function buildPaths(leaf: Certificate, pool: readonly Certificate[], trust: TrustStore): Candidate[] {
  const out: Candidate[] = [];
  const found = (chain: Certificate[], anchor: TrustAnchor): boolean => {
    out.push({ chain, anchor, static: [] });
    return out.length >= MAX_CANDIDATES;
  };
  const self = trust.anchorFor(leaf);
  if (self) found([leaf], self);
  const queue: Certificate[][] = self ? [] : [[leaf]];
  search: for (let next = 0; next < queue.length && next < MAX_STEPS; next++) {
    const chain = queue[next]!;
    if (chain.length >= MAX_PATH) continue;
    const cert = chain[chain.length - 1]!;
    const key = certInternals(cert).issuerKey;
    const options: { cert: Certificate; anchor?: TrustAnchor }[] = [];
    for (const a of trust.anchorsBySubjectKey(key)) if (!chain.includes(a.certificate)) options.push({ cert: a.certificate, anchor: a });
    for (const c of pool) {
      if (certInternals(c).subjectKey !== key || chain.includes(c) || options.some((o) => o.cert === c)) continue;
      options.push({ cert: c, anchor: trust.anchorFor(c) });
    }
    // Several issuers may share a name (AgID CA1 was re-issued with new keys): AKI/SKI matches first.
    options.sort((x, y) => keyIdScore(cert, x.cert) - keyIdScore(cert, y.cert) || (x.anchor ? 0 : 1) - (y.anchor ? 0 : 1));
    for (const o of options) {
      if (o.anchor) {
        if (found([...chain, o.cert], o.anchor)) break search;
      } else if (queue.length < MAX_STEPS) queue.push([...chain, o.cert]);
    }
  }
  // Stable: among equally plausible paths, the shorter and the better-ranked option first.
  return out.sort((a, b) => keyIdMismatches(a.chain) - keyIdMismatches(b.chain));
}

/**
 * The whole answer of {@link validatePath} for one (store, signer, pool) without CRLs,
 * for any time in `[from, to]`: inside the validity of every certificate of every
 * candidate path, the answer no longer depends on the time (no expiry issue, the same
 * candidate order), only on the time-independent checks, which are themselves remembered.
 */
interface Settled {
  readonly from: number;
  readonly to: number;
  /** Without and with the PEC policy requirement. */
  readonly results: [PathValidation?, PathValidation?];
}

interface PathEntry {
  readonly pool: readonly Certificate[];
  readonly candidates: Candidate[];
  settled?: Settled;
}

const pathCache = new WeakMap<TrustStore, WeakMap<Certificate, PathEntry[]>>();

/**
 * {@link buildPaths}, remembered per (store, signer, pool of certificates): the same
 * gestore sends the same certificates in every receipt, and the parse cache returns
 * the same objects, so the lookup is a few identity comparisons.
 */
function cachedPaths(leaf: Certificate, pool: readonly Certificate[], trust: TrustStore): PathEntry {
  let byLeaf = pathCache.get(trust);
  if (!byLeaf) pathCache.set(trust, (byLeaf = new WeakMap()));
  let entries = byLeaf.get(leaf);
  if (!entries) byLeaf.set(leaf, (entries = []));
  for (const e of entries) {
    if (e.pool.length !== pool.length) continue;
    let same = true;
    for (let i = 0; i < pool.length; i++) if (e.pool[i] !== pool[i]) same = false;
    if (same) return e;
  }
  const entry: PathEntry = { pool: [...pool], candidates: buildPaths(leaf, pool, trust) };
  if (entries.length >= 8) entries.shift();
  entries.push(entry);
  return entry;
}

/** The times every certificate of every candidate is valid at (the whole line when there is no candidate). */
function validityWindow(candidates: readonly Candidate[]): { from: number; to: number } {
  let from = -Infinity;
  let to = Infinity;
  for (const c of candidates) {
    for (const cert of c.chain) {
      from = Math.max(from, cert.notBefore.getTime());
      to = Math.min(to, cert.notAfter.getTime());
    }
  }
  return { from, to };
}

/** A copy of a remembered answer: callers get arrays of their own, as from a fresh validation. */
function copyOf(r: PathValidation): PathValidation {
  // The keys in the order validatePath builds them.
  const out: { -readonly [K in keyof PathValidation]: PathValidation[K] } = r.anchor
    ? { trusted: r.trusted, chain: r.chain.slice(), anchor: r.anchor, revocationChecked: r.revocationChecked.slice(), issues: r.issues.slice() }
    : { trusted: r.trusted, chain: r.chain.slice(), revocationChecked: r.revocationChecked.slice(), issues: r.issues.slice() };
  if (r.provider) out.provider = r.provider;
  return out;
}

/**
 * Issues that came from an exception of `subtle.verify`: a hostile signature or a failing
 * crypto, which cannot be told apart, so no cache keeps an answer that holds one.
 */
const unsettled = new WeakSet<SignatureIssue>();

function isSettled(issues: readonly SignatureIssue[]): boolean {
  for (const i of issues) if (unsettled.has(i)) return false;
  return true;
}

/** Issuer signature on `cert`, checked once per pair (an exception is not remembered). */
function checkIssuedBy(cert: Certificate, issuer: Certificate, crypto: CryptoLike): Promise<VerifyOutcome> {
  const i = certInternals(cert);
  return verifySignedObjectOnce(i.checkedBy, issuer, certInternals(issuer).key, i, crypto);
}

// --- name constraints (RFC 5280 §4.2.1.10) ---

function lower(s: string): string {
  return s.toLowerCase();
}

/** dNSName: the constraint's host and every name below it; with a leading dot, only the names below. */
function dnsMatches(host: string, base: string): boolean {
  host = lower(host);
  base = lower(base);
  if (base === "") return true;
  if (base.startsWith(".")) return host.endsWith(base);
  return host === base || host.endsWith("." + base);
}

/** The host part of rfc822Name and URI constraints: that host only; with a leading dot, only the hosts below it. */
function hostMatches(host: string, base: string): boolean {
  host = lower(host);
  base = lower(base);
  return base.startsWith(".") ? host.endsWith(base) : host === base;
}

function emailMatches(address: string, base: string): boolean {
  const at = address.lastIndexOf("@");
  if (at < 0) return false;
  // A whole mailbox: RFC 5280 leaves the local part case-sensitive, hosts are not; mail systems treat both alike.
  if (base.includes("@")) return lower(address) === lower(base);
  return hostMatches(address.slice(at + 1), base);
}

function dirMatches(nameRdns: readonly string[], base: GeneralName): boolean {
  const b = rdnKeys(base.name ?? []);
  if (b.length > nameRdns.length) return false;
  for (let i = 0; i < b.length; i++) if (b[i] !== nameRdns[i]) return false;
  return true;
}

function ipMatches(addr: Uint8Array, base: Uint8Array): boolean {
  if (base.length !== addr.length * 2) return false;
  for (let i = 0; i < addr.length; i++) {
    const m = base[addr.length + i]!;
    if ((addr[i]! & m) !== (base[i]! & m)) return false;
  }
  return true;
}

/**
 * The host name of a URI, or undefined when it has none to check: no authority, or an IP
 * literal (RFC 5280 requires rejecting such a URI where URI constraints apply).
 */
function uriHost(uri: string): string | undefined {
  const host = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(uri)?.[1];
  if (!host || host.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(host)) return undefined;
  return host;
}

/**
 * A name of a certificate, with what its form's matching needs and how a message shows it.
 * `unchecked` says why a name cannot be matched: RFC 5280 then requires rejecting the
 * certificate wherever its form is constrained.
 */
type Named = { text: string; unchecked?: string } & (
  | { form: "directoryName"; rdns: readonly string[] }
  | { form: "rfc822Name" | "dNSName" | "uniformResourceIdentifier"; value: string }
  | { form: "iPAddress"; bytes: Uint8Array }
  | { form: Exclude<GeneralName["type"], "directoryName" | "rfc822Name" | "dNSName" | "uniformResourceIdentifier" | "iPAddress"> }
);

function namesOf(cert: Certificate): Named[] {
  const out: Named[] = [];
  if (cert.subjectName.length > 0) out.push({ form: "directoryName", rdns: certInternals(cert).subjectRdns, text: `the subject "${cert.subject}"` });
  // RFC 5280 asks this only of a certificate without subjectAltName; checking it always is stricter.
  for (const rdn of cert.subjectName) for (const a of rdn) if (a.oid === X509.emailAddress) out.push({ form: "rfc822Name", value: a.value, text: a.value });
  for (const g of cert.subjectAltNames) {
    switch (g.type) {
      case "rfc822Name":
      case "dNSName":
        out.push({ form: g.type, value: g.value, text: g.value });
        break;
      case "uniformResourceIdentifier": {
        const host = uriHost(g.value);
        const name: Named = { form: g.type, value: host ?? "", text: g.value };
        if (host === undefined) name.unchecked = `${g.value} has no host name to check against the uniformResourceIdentifier constraints`;
        out.push(name);
        break;
      }
      case "iPAddress":
        if (g.bytes) out.push({ form: g.type, bytes: g.bytes, text: `an IP address (${g.value})` });
        break;
      case "directoryName":
        if (g.name) out.push({ form: g.type, rdns: rdnKeys(g.name), text: `"${g.value}"` });
        break;
      default:
        out.push({ form: g.type, text: g.value, unchecked: `${g.value} is a ${g.type} name, which the name constraints restrict and postacert cannot check` });
    }
  }
  return out;
}

/** Whether `n` is inside the subtree `base`, of the same form. */
function matches(n: Named, base: GeneralName): boolean {
  switch (n.form) {
    case "directoryName":
      return dirMatches(n.rdns, base);
    case "rfc822Name":
      return emailMatches(n.value, base.value);
    case "dNSName":
      return dnsMatches(n.value, base.value);
    case "uniformResourceIdentifier":
      return hostMatches(n.value, base.value);
    case "iPAddress":
      return base.bytes ? ipMatches(n.bytes, base.bytes) : false;
    default:
      return false;
  }
}

/** A name of `cert` outside the constraints of `ca`, described, or undefined. */
function nameConstraintViolation(ca: Certificate, cert: Certificate): string | undefined {
  const nc = ca.nameConstraints!;
  for (const n of namesOf(cert)) {
    const permitted = nc.permitted.filter((g) => g.type === n.form);
    const excluded = nc.excluded.filter((g) => g.type === n.form);
    if (permitted.length === 0 && excluded.length === 0) continue;
    if (n.unchecked) return n.unchecked;
    const ex = excluded.find((g) => matches(n, g));
    if (ex) return `${n.text} is in an excluded subtree (${ex.value})`;
    if (permitted.length > 0 && !permitted.some((g) => matches(n, g))) return `${n.text} is outside the permitted ${n.form} subtrees`;
  }
  return undefined;
}

const WEAK_SIG = new Set(["sha1WithRSAEncryption", "sha1WithRSASignature", "ecdsa-with-SHA1", "md5WithRSAEncryption", "md2WithRSAEncryption"]);

function roleOf(i: number, n: number): string {
  return i === 0 ? "signer certificate" : i === n ? "trust anchor" : "intermediate certificate";
}

/**
 * The time-independent checks of a candidate path: issuer signatures, CA flags,
 * keyUsage, pathLenConstraint, name constraints, critical extensions, algorithms, the
 * PEC policy. They depend only on the certificates, so they run once per path and are
 * remembered with it.
 */
async function staticChecks(c: Candidate, requirePecPolicy: boolean, crypto: CryptoLike): Promise<SignatureIssue[]> {
  const { chain, anchor } = c;
  const issues: SignatureIssue[] = [];
  const n = chain.length - 1; // index of the anchor
  const leafIsAnchor = n === 0;

  const sigChecks = await Promise.all(chain.slice(0, n).map((cert, i) => checkIssuedBy(cert, chain[i + 1]!, crypto)));
  sigChecks.forEach((o, i) => {
    const cert = chain[i]!;
    if (certInternals(cert).algorithmsDiffer) {
      // The outer AlgorithmIdentifier is not signed: what the issuer signed must say the same (RFC 5280 §4.1.1.2).
      issues.push(issue("CERT_CHAIN_INVALID", `the signature algorithm of "${cert.subject}" (${cert.signatureAlgorithm}) is not the one its signed tbsCertificate names`));
    }
    if (o.ok) return;
    if (o.code === "UNSUPPORTED_ALGORITHM") issues.push(issue("UNSUPPORTED_ALGORITHM", `cannot check the signature on "${cert.subject}": ${o.message}`));
    else {
      const why = o.thrown === undefined ? "" : ` (subtle.verify failed: ${o.thrown})`;
      const found = issue("CERT_CHAIN_INVALID", `the signature on "${cert.subject}" does not verify with the key of "${chain[i + 1]!.subject}"${why}`);
      if (o.thrown !== undefined) unsettled.add(found);
      issues.push(found);
    }
  });

  for (let i = 0; i <= n; i++) {
    const cert = chain[i]!;
    const role = roleOf(i, n);
    // The anchor's own extensions are not processed (RFC 5280 §6.1: it is trusted as given), unless it is the signer itself.
    if (i < n || leafIsAnchor) {
      const crit = certInternals(cert).unknownCritical;
      if (crit.length > 0) issues.push(issue("CERT_CHAIN_INVALID", `${role} "${cert.subject}" has unknown critical extension(s) ${crit.join(", ")}`));
    }
    // Of an extension present twice, postacert reads the last and another implementation the first (a cA
    // FALSE then TRUE is a CA to one, not to the other): RFC 5280 §4.2 allows one instance. The anchor too,
    // as its basicConstraints and keyUsage are read below.
    const dup = certInternals(cert).duplicateExtensions;
    if (dup.length > 0) issues.push(issue("CERT_CHAIN_INVALID", `${role} "${cert.subject}" has the extension(s) ${dup.join(", ")} more than once`));
    if (i > 0) {
      // cert issued chain[i-1]: it must be a CA. v1 certificates (no extensions) are tolerated only as anchors.
      const bc = cert.basicConstraints;
      if (!bc?.ca && !(i === n && cert.version === 1)) {
        issues.push(issue("CERT_CHAIN_INVALID", `"${cert.subject}" issued "${chain[i - 1]!.subject}" but is not a CA (basicConstraints cA ${bc ? "false" : "absent"})`));
      }
      if (cert.keyUsage && !cert.keyUsage.includes("keyCertSign")) {
        issues.push(issue("CERT_CHAIN_INVALID", `"${cert.subject}" issued "${chain[i - 1]!.subject}" but its keyUsage lacks keyCertSign`));
      }
      if (bc?.pathLength !== undefined) {
        let below = 0;
        for (let k = 1; k < i; k++) if (!chain[k]!.selfIssued) below++;
        if (below > bc.pathLength) issues.push(issue("CERT_CHAIN_INVALID", `"${cert.subject}" allows ${bc.pathLength} intermediate certificate(s) below it (pathLenConstraint); the path has ${below}`));
      }
      if (cert.nameConstraints) {
        for (let k = 0; k < i; k++) {
          const sub = chain[k]!;
          if (k > 0 && sub.selfIssued) continue;
          const v = nameConstraintViolation(cert, sub);
          if (v) issues.push(issue("CERT_CHAIN_INVALID", `"${sub.subject}" violates the name constraints of "${cert.subject}": ${v}`));
        }
      }
      if (i < n && cert.publicKey.algorithm.startsWith("RSA") && cert.publicKey.size < 2048) {
        issues.push(issue("WEAK_ALGORITHM", `${role} "${cert.subject}" has a ${cert.publicKey.size}-bit RSA key`));
      }
    }
    if (i < n && WEAK_SIG.has(cert.signatureAlgorithm)) issues.push(issue("WEAK_ALGORITHM", `${role} "${cert.subject}" is signed with ${cert.signatureAlgorithm}`));
  }

  const leaf = chain[0]!;
  if ((requirePecPolicy || anchor.requirePecPolicy) && !leaf.policies?.includes(X509.pecPolicy)) {
    issues.push(
      issue(
        "PEC_POLICY_MISSING",
        `the signer certificate does not assert the PEC gestore policy ${X509.pecPolicy}${anchor.requirePecPolicy ? ` (required for a path to the public root "${anchor.certificate.subject}")` : ""}`,
      ),
    );
  }
  return issues;
}

/** Validity at `at`, every certificate of the path (the anchor too). */
function timeChecks(chain: readonly Certificate[], at: Date, issues: SignatureIssue[]): void {
  const t = at.getTime();
  const n = chain.length - 1;
  for (let i = 0; i <= n; i++) {
    const cert = chain[i]!;
    if (t < cert.notBefore.getTime()) {
      issues.push(issue("CERT_NOT_YET_VALID_AT_SIGNING", `${roleOf(i, n)} "${cert.subject}" is valid from ${cert.notBefore.toISOString()}, after ${at.toISOString()}`));
    } else if (t > cert.notAfter.getTime()) {
      issues.push(issue("CERT_EXPIRED_AT_SIGNING", `${roleOf(i, n)} "${cert.subject}" expired on ${cert.notAfter.toISOString()}, before ${at.toISOString()}`));
    }
  }
}

/** Revocation of every certificate but a CA anchor, against the CRLs at hand. */
async function revocationChecks(
  chain: readonly Certificate[],
  at: Date,
  crls: readonly Crl[],
  pool: readonly Certificate[],
  trust: TrustStore,
  crypto: CryptoLike,
  issues: SignatureIssue[],
): Promise<boolean[]> {
  const revocationChecked = chain.map(() => false);
  if (crls.length === 0) return revocationChecked;
  const n = chain.length - 1;
  const last = n === 0 ? 0 : n - 1;
  for (let i = 0; i <= last; i++) {
    const cert = chain[i]!;
    const relevant = crls.filter((crl) => crl.covers(cert));
    if (relevant.length === 0) continue;
    let issuers: Certificate[] = chain[i + 1] ? [chain[i + 1]!] : [];
    if (issuers.length === 0) {
      // An anchored leaf: its issuer may still be among the CMS certificates or the anchors.
      const key = certInternals(cert).issuerKey;
      issuers = [...pool.filter((p) => certInternals(p).subjectKey === key && p !== cert), ...trust.anchorsBySubjectKey(key).map((a) => a.certificate)];
    }
    // The CRLs that may be used: signed by the issuer, every critical extension processed.
    const usable: Crl[] = [];
    for (const crl of relevant) {
      const use = crlUse(crl, cert, at);
      if (!use) continue;
      if ("unusable" in use) {
        issues.push(issue("CRL_INVALID", `a CRL of "${crl.issuer}" has critical extension(s) postacert does not process (${use.unusable.join(", ")}); ignored`));
        continue;
      }
      let signer: Certificate | undefined;
      for (const cand of issuers) {
        if (await crl.verifySignature(cand, crypto)) {
          signer = cand;
          break;
        }
      }
      if (!signer) {
        issues.push(issue("CRL_INVALID", `a CRL of "${crl.issuer}" ${issuers.length ? "does not verify with the issuer's key" : "cannot be checked: its issuer certificate is not available"}; ignored`));
        continue;
      }
      if (signer.keyUsage && !signer.keyUsage.includes("cRLSign")) {
        issues.push(issue("CRL_INVALID", `a CRL of "${crl.issuer}" is signed by a key without cRLSign; ignored`));
        continue;
      }
      if (use.complete) revocationChecked[i] = true;
      usable.push(crl);
    }
    // A stale complete CRL brought up to date by a current delta CRL is complete too.
    revocationChecked[i] ||= usable.some((d) => usable.some((b) => completeWithDelta(d, b, cert, at)));
    for (const crl of usable) {
      const r = crl.revokedAt(cert.serialNumber, at);
      // A suspension (certificateHold) that a delta CRL issued by then lifts (removeFromCRL) is over.
      if (!r || (r.reason === "certificateHold" && usable.some((d) => holdLifted(crl, d, cert.serialNumber, at)))) continue;
      const when = r.revocationDate.getTime() <= at.getTime() ? `at or before ${at.toISOString()}` : `after ${at.toISOString()}, but a compromised key can sign with any signing time`;
      issues.push(issue("CERT_REVOKED", `"${cert.subject}" (serial ${cert.serialNumber}) was revoked on ${r.revocationDate.toISOString()}${r.reason ? ` (${r.reason})` : ""}, ${when}`));
      break;
    }
  }
  return revocationChecked;
}

/** Validates one candidate path at `at`. */
async function check(c: Candidate, opts: { at: Date; crls: readonly Crl[]; pool: readonly Certificate[]; trust: TrustStore; requirePecPolicy: boolean; crypto: CryptoLike }): Promise<{ issues: SignatureIssue[]; revocationChecked: boolean[] }> {
  const slot = opts.requirePecPolicy ? 1 : 0;
  let st = c.static[slot];
  if (!st) {
    const fresh = (st = c.static[slot] = staticChecks(c, opts.requirePecPolicy, opts.crypto));
    // Only a failing crypto rejects: forget it, so that the next call computes again.
    fresh.catch(() => {
      if (c.static[slot] === fresh) c.static[slot] = undefined;
    });
  }
  const found = await st;
  if (!isSettled(found) && c.static[slot] === st) c.static[slot] = undefined;
  const issues = [...found];
  timeChecks(c.chain, opts.at, issues);
  const revocationChecked = await revocationChecks(c.chain, opts.at, opts.crls, opts.pool, opts.trust, opts.crypto, issues);
  return { issues: issues.length > 1 ? dedupe(issues) : issues, revocationChecked };
}

function dedupe(issues: SignatureIssue[]): SignatureIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = i.code + "\u0000" + i.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Builds and validates a certification path for `certificate` at time `at`.
 *
 * Never throws for a bad certificate or path: the answer is in `issues`
 * (`CERT_UNTRUSTED` when no path reaches an anchor). Throws `PecError`
 * `ERR_INVALID_ARGUMENT` for misuse only.
 *
 * @example
 * ```ts
 * const signer = parseCertificate(der); // the gestore's certificate
 * const res = await validatePath({
 *   certificate: signer,
 *   intermediates: [], // the other certificates the CMS carries
 *   trust: await TrustStore.system(),
 *   at: new Date("2025-06-15T10:00:07Z"), // the signing time
 * });
 * if (!res.trusted) console.log(res.issues);
 * ```
 */
export async function validatePath(options: ValidatePathOptions): Promise<PathValidation> {
  if (!options || typeof options !== "object") throw new PecError("ERR_INVALID_ARGUMENT", "validatePath: options object required");
  const { trust, at } = options;
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new PecError("ERR_INVALID_ARGUMENT", "validatePath: `at` must be a valid Date");
  if (!trust || typeof trust.anchorsBySubjectKey !== "function") throw new PecError("ERR_INVALID_ARGUMENT", "validatePath: `trust` must be a TrustStore");
  if (!(options.certificate instanceof Certificate) && !(options.certificate instanceof Uint8Array)) {
    throw new PecError("ERR_INVALID_ARGUMENT", "validatePath: `certificate` must be a Certificate or DER bytes");
  }
  const crypto = options.crypto ?? globalThis.crypto;
  if (!isCryptoLike(crypto)) throw new PecError("ERR_INVALID_ARGUMENT", "validatePath: `crypto` must be a WebCrypto implementation (with subtle.digest, subtle.importKey and subtle.verify)");
  const intermediates: readonly unknown[] = options.intermediates ?? [];
  if (!isDenseArray(intermediates) || !intermediates.every((c) => c instanceof Certificate || c instanceof Uint8Array)) {
    throw new PecError("ERR_INVALID_ARGUMENT", "validatePath: `intermediates` must be an array of Certificates or DER bytes");
  }
  const leaf = toCert(options.certificate);
  const pool = (intermediates as readonly (Certificate | Uint8Array)[]).map(toCert);
  const crls = options.crls === undefined ? [] : crlsOption(options.crls, "validatePath");
  try {
    return await pathAt(leaf, pool, trust, at, crls, options.requirePecPolicy ?? false, crypto);
  } catch (e) {
    // Only a failing crypto rejects: a result that says so, not an exception blaming the input.
    if (!(e instanceof CryptoFailure)) throw e;
    return { trusted: false, chain: [leaf], revocationChecked: [false], issues: [issue("UNSUPPORTED_ALGORITHM", `cannot validate the certification path: ${e.message}`)] };
  }
}

/**
 * @internal {@link validatePath} with its arguments checked and parsed (`crls` without
 * the store's, which are added here). Synchronous when the answer is remembered: no CRL
 * anywhere and `at` inside the validity of every candidate path's certificates (see
 * {@link Settled}); revocation is never skipped, a CRL simply makes every call compute.
 */
export function pathAt(
  leaf: Certificate,
  pool: readonly Certificate[],
  trust: TrustStore,
  at: Date,
  crls: readonly Crl[],
  requirePecPolicy: boolean,
  crypto: CryptoLike,
): PathValidation | Promise<PathValidation> {
  const t = at.getTime();
  if (Number.isNaN(t)) throw new PecError("ERR_INVALID_ARGUMENT", "validatePath: `at` must be a valid Date");
  const all = trust.crls.length === 0 ? crls : [...crls, ...trust.crls];
  const entry = cachedPaths(leaf, pool, trust);
  const slot = requirePecPolicy ? 1 : 0;
  if (all.length === 0) {
    const s = entry.settled;
    const r = s && t >= s.from && t <= s.to ? s.results[slot] : undefined;
    if (r) return copyOf(r);
  }
  return validateEntry(entry, leaf, pool, trust, at, all, requirePecPolicy, crypto).then((r) => {
    if (all.length === 0 && isSettled(r.issues)) {
      const s = (entry.settled ??= { ...validityWindow(entry.candidates), results: [] });
      if (t >= s.from && t <= s.to) s.results[slot] = copyOf(r);
    }
    return r;
  });
}

async function validateEntry(
  entry: PathEntry,
  leaf: Certificate,
  pool: readonly Certificate[],
  trust: TrustStore,
  at: Date,
  crls: readonly Crl[],
  requirePecPolicy: boolean,
  crypto: CryptoLike,
): Promise<PathValidation> {
  const provider = trust.providerForCertificate(leaf);
  let candidates = entry.candidates;
  if (candidates.length > 1) {
    // Try first the paths whose certificates are all valid at `at`.
    const stale = (c: Candidate): number => (c.chain.every((x) => x.isValidAt(at)) ? 0 : 1);
    candidates = [...candidates].sort((a, b) => stale(a) - stale(b));
  }
  if (candidates.length === 0) {
    // Show how far the chain goes, for the message and for the caller.
    const partial = [leaf];
    for (let cur = leaf; partial.length < MAX_PATH; ) {
      const key = certInternals(cur).issuerKey;
      const next = pool.find((p) => certInternals(p).subjectKey === key && !partial.includes(p));
      if (!next) break;
      partial.push(next);
      cur = next;
    }
    const top = partial[partial.length - 1]!;
    const untrusted: { -readonly [K in keyof PathValidation]: PathValidation[K] } = {
      trusted: false,
      chain: partial,
      revocationChecked: partial.map(() => false),
      issues: [issue("CERT_UNTRUSTED", `no path from "${leaf.subject}" to a trust anchor (the chain ends at "${top.subject}", issued by "${top.issuer}")`)],
    };
    if (provider) untrusted.provider = provider;
    return untrusted;
  }
  let best: { result: PathValidation; errors: number } | undefined;
  for (const c of candidates) {
    const r = await check(c, { at, crls, pool, trust, requirePecPolicy, crypto });
    const errors = r.issues.filter((i) => i.severity === "error").length;
    const result: { -readonly [K in keyof PathValidation]: PathValidation[K] } = {
      trusted: errors === 0,
      chain: c.chain,
      anchor: c.anchor.certificate,
      revocationChecked: r.revocationChecked,
      issues: r.issues,
    };
    if (provider) result.provider = provider;
    if (errors === 0) return result;
    if (!best || errors < best.errors) best = { result, errors };
  }
  return best!.result;
}

