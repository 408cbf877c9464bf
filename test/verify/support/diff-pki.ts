// The certificate side of the differential test (differential.node.test.ts): a small
// X.509 writer that can get everything wrong on purpose, and a catalogue of "worlds"
// (trust anchors, the certificates a CMS carries, the signer), one per way a
// certification path can be good or bad.
import { SIG, X509 } from "../../../src/smime/oids.js";
import { ECDSA_WITH, SHA_WITH_RSA, ecdsaDer, pssAlgId, rsaKeyFor, type SignDigest } from "../../../src/smime/sign-alg.js";
import { encodeDer } from "../../../src/smime/asn1-der.js";
import { asBufferSource } from "../../../src/util/bytes.js";
import { T, encode, parse, timeNode, type Node } from "./asn1-tree.js";

export const DAY = 86_400_000;

/** How a signature is made. */
export interface SignPlan {
  scheme: "pkcs1" | "pss" | "ecdsa";
  hash: SignDigest;
  /** RSA-PSS salt length (default: the digest length). */
  saltLength?: number;
}

const DIGEST_BYTES: Readonly<Record<SignDigest, number>> = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };

/** Signs `data` as `plan` says (ECDSA signatures DER-encoded). */
export async function signWith(key: CryptoKey, plan: SignPlan, data: Uint8Array): Promise<Uint8Array> {
  const subtle = crypto.subtle;
  if (plan.scheme === "ecdsa") return ecdsaDer(new Uint8Array(await subtle.sign({ name: "ECDSA", hash: plan.hash }, key, asBufferSource(data))));
  if (plan.scheme === "pss") {
    const k = await rsaKeyFor(subtle, key, "RSA-PSS", plan.hash);
    return new Uint8Array(await subtle.sign({ name: "RSA-PSS", saltLength: plan.saltLength ?? DIGEST_BYTES[plan.hash] }, k, asBufferSource(data)));
  }
  const k = await rsaKeyFor(subtle, key, "RSASSA-PKCS1-v1_5", plan.hash);
  return new Uint8Array(await subtle.sign("RSASSA-PKCS1-v1_5", k, asBufferSource(data)));
}

/** The AlgorithmIdentifier a certificate signed as `plan` names. */
export function algNode(plan: SignPlan): Node {
  if (plan.scheme === "ecdsa") return T.seq(T.oid(ECDSA_WITH[plan.hash]));
  if (plan.scheme === "pss") return parse(encodeDer(pssAlgId(plan.hash)));
  return T.seq(T.oid(SHA_WITH_RSA[plan.hash]), T.null());
}

// --- names and extensions ---

const ATTR: Readonly<Record<string, string>> = { C: "2.5.4.6", O: "2.5.4.10", OU: "2.5.4.11", CN: X509.commonName, E: X509.emailAddress };

/** An attribute as [type, value] (UTF8String; PrintableString for C, IA5String for E) or [type, value, tag]. */
export type Rdn = readonly [string, string, number?];

export function nameNode(rdns: readonly Rdn[]): Node {
  return T.seq(
    ...rdns.map(([type, value, tag]) => {
      const t = tag ?? (type === "C" ? 0x13 : type === "E" ? 0x16 : 0x0c);
      return T.set(T.seq(T.oid(ATTR[type] ?? type), { tag: t, value: new TextEncoder().encode(value) }));
    }),
  );
}

export interface Ext {
  oid: string;
  critical?: boolean;
  value: Node;
}

export const ext = {
  bc: (ca: boolean, pathLen?: number, critical = true): Ext => ({
    oid: X509.basicConstraints,
    critical,
    value: T.seq(...(ca ? [T.bool(true)] : []), ...(pathLen === undefined ? [] : [T.int(pathLen)])),
  }),
  /** keyUsage with these bit numbers (0 digitalSignature … 5 keyCertSign, 6 cRLSign). */
  ku: (bits: readonly number[], critical = true): Ext => {
    const bytes = new Uint8Array(2);
    let top = 0;
    for (const b of bits) {
      bytes[b >> 3]! |= 0x80 >> (b & 7);
      top = Math.max(top, b);
    }
    const n = (top >> 3) + 1;
    return { oid: X509.keyUsage, critical, value: T.bits(bytes.subarray(0, n), 7 - (top & 7)) };
  },
  eku: (oids: readonly string[]): Ext => ({ oid: X509.extKeyUsage, value: T.seq(...oids.map(T.oid)) }),
  policies: (oids: readonly string[]): Ext => ({ oid: X509.certificatePolicies, value: T.seq(...oids.map((o) => T.seq(T.oid(o)))) }),
  san: (email: string, critical = false): Ext => ({ oid: X509.subjectAltName, critical, value: T.seq({ tag: 0x81, value: new TextEncoder().encode(email) }) }),
  ski: (id: Uint8Array): Ext => ({ oid: X509.subjectKeyIdentifier, value: T.octets(id) }),
  aki: (id: Uint8Array): Ext => ({ oid: X509.authorityKeyIdentifier, value: T.seq({ tag: 0x80, value: id }) }),
  /** An extension nobody knows (a NULL value). */
  unknown: (critical: boolean): Ext => ({ oid: "1.3.6.1.4.1.55555.1.1", critical, value: T.null() }),
  /** nameConstraints on rfc822Name (critical). */
  emailConstraints: (permitted: readonly string[], excluded: readonly string[] = []): Ext => {
    const subtrees = (tag: number, list: readonly string[]): Node[] =>
      list.length ? [T.ctx(tag, ...list.map((e) => T.seq({ tag: 0x81, value: new TextEncoder().encode(e) })))] : [];
    return { oid: X509.nameConstraints, critical: true, value: T.seq(...subtrees(0, permitted), ...subtrees(1, excluded)) };
  },
};

function extensionsNode(exts: readonly Ext[]): Node {
  return T.ctx(3, T.seq(...exts.map((e) => T.seq(T.oid(e.oid), ...(e.critical ? [T.bool(true)] : []), T.octets(encode(e.value))))));
}

// --- certificates ---

export interface Key {
  pair: CryptoKeyPair;
  spki: Uint8Array;
  /** A stable identifier of the key (SHA-1 of the SPKI): subject/authority key identifiers. */
  id: Uint8Array;
  kind: "rsa" | "ec";
}

export async function makeKey(kind: "rsa" | "ec"): Promise<Key> {
  const pair = (await crypto.subtle.generateKey(
    kind === "rsa" ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } : { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const id = new Uint8Array(await crypto.subtle.digest("SHA-1", spki));
  return { pair, spki, id, kind };
}

export interface CertSpec {
  /** 1 (no extensions written) or 3. */
  version: 1 | 3;
  serial: number;
  issuer: readonly Rdn[];
  subject: readonly Rdn[];
  notBefore: Date | Node;
  notAfter: Date | Node;
  key: Key;
  /** The issuer's key and how it signs. */
  signer: Key;
  plan: SignPlan;
  extensions: Ext[];
  /** The tbsCertificate's signature field, when it must differ from the outer one. */
  innerAlg?: Node;
  /** Flip a bit of the signature. */
  corrupt?: boolean;
}

export async function makeCert(s: CertSpec): Promise<Uint8Array> {
  const alg = algNode(s.plan);
  const time = (t: Date | Node): Node => (t instanceof Date ? timeNode(t) : t);
  const tbs = T.seq(
    ...(s.version === 3 ? [T.ctx(0, T.int(2))] : []),
    T.int(s.serial),
    s.innerAlg ?? alg,
    nameNode(s.issuer),
    T.seq(time(s.notBefore), time(s.notAfter)),
    nameNode(s.subject),
    parse(s.key.spki),
    ...(s.version === 3 && s.extensions.length ? [extensionsNode(s.extensions)] : []),
  );
  const sig = await signWith(s.signer.pair.privateKey, s.plan, encode(tbs));
  if (s.corrupt) sig[sig.length >> 1]! ^= 0x10;
  return encode(T.seq(tbs, alg, T.bits(sig)));
}

/** A CRL of `issuer` listing `serials`. */
export async function makeCrl(o: { issuer: readonly Rdn[]; signer: Key; thisUpdate: Date; nextUpdate: Date; serials: readonly number[]; revokedAt: Date; innerAlg?: Node }): Promise<Uint8Array> {
  const plan: SignPlan = { scheme: o.signer.kind === "ec" ? "ecdsa" : "pkcs1", hash: "SHA-256" };
  const alg = algNode(plan);
  const tbs = T.seq(
    T.int(1),
    o.innerAlg ?? alg,
    nameNode(o.issuer),
    timeNode(o.thisUpdate),
    timeNode(o.nextUpdate),
    ...(o.serials.length ? [T.seq(...o.serials.map((s) => T.seq(T.int(s), timeNode(o.revokedAt))))] : []),
    T.ctx(0, T.seq(T.seq(T.oid("2.5.29.20"), T.octets(encode(T.int(1)))), T.seq(T.oid(X509.authorityKeyIdentifier), T.octets(encode(T.seq({ tag: 0x80, value: o.signer.id })))))),
  );
  const sig = await signWith(o.signer.pair.privateKey, plan, encode(tbs));
  return encode(T.seq(tbs, alg, T.bits(sig)));
}

// --- worlds ---

/** Keys shared by every world of a run (RSA generation is slow). */
export interface Keys {
  root: Key;
  int: Key;
  int2: Key;
  leaf: Key;
  other: Key;
  intEc: Key;
  leafEc: Key;
}

export async function makeKeys(): Promise<Keys> {
  const [root, int, int2, leaf, other, intEc, leafEc] = await Promise.all([
    makeKey("rsa"),
    makeKey("rsa"),
    makeKey("rsa"),
    makeKey("rsa"),
    makeKey("rsa"),
    makeKey("ec"),
    makeKey("ec"),
  ]);
  return { root, int, int2, leaf, other, intEc, leafEc };
}

/** A certification set-up: what is trusted, what the CMS carries, who signs. */
export interface World {
  readonly id: string;
  readonly anchors: readonly Uint8Array[];
  /** The CMS certificates field, in order. */
  readonly bag: readonly Uint8Array[];
  /** The signer's certificate (what the SignerInfo names) and key. */
  readonly signerCert: Uint8Array;
  readonly signerKey: Key;
  /** Other certificates of the world (for SignerInfo identifiers that name the wrong one). */
  readonly int: Uint8Array;
  readonly other: Uint8Array;
  /** A certificate with the signer's issuer, serial number, subject and key identifier but another key. */
  readonly decoy: Uint8Array;
  /** CRLs for the CMS crls field. */
  readonly crls: readonly Uint8Array[];
}

export const ROOT_NAME: readonly Rdn[] = [["C", "IT"], ["O", "postacert diff PKI"], ["CN", "Diff Root CA"]];
export const INT_NAME: readonly Rdn[] = [["C", "IT"], ["O", "postacert diff PKI"], ["CN", "Diff Intermediate CA"]];
const INT2_NAME: readonly Rdn[] = [["C", "IT"], ["O", "postacert diff PKI"], ["CN", "Diff Second Intermediate CA"]];
export const LEAF_NAME: readonly Rdn[] = [["C", "IT"], ["O", "Gestore Diff S.p.A."], ["CN", "Posta Certificata Gestore Diff"]];
export const LEAF_EMAIL = "posta-certificata@pec.diff.test";
const OTHER_NAME: readonly Rdn[] = [["C", "IT"], ["O", "Altro"], ["CN", "Unrelated Self-Signed"]];

const CA_KU = [5, 6];

/** The specs of a good three-level path at `t0`, for a world to change. */
function defaults(k: Keys, t0: number, ec: boolean): { root: CertSpec; int: CertSpec; leaf: CertSpec } {
  const rsa: SignPlan = { scheme: "pkcs1", hash: "SHA-256" };
  const intKey = ec ? k.intEc : k.int;
  const root: CertSpec = {
    version: 3,
    serial: 1,
    issuer: ROOT_NAME,
    subject: ROOT_NAME,
    notBefore: new Date(t0 - 5 * 365 * DAY),
    notAfter: new Date(t0 + 10 * 365 * DAY),
    key: k.root,
    signer: k.root,
    plan: rsa,
    extensions: [ext.bc(true), ext.ku(CA_KU), ext.ski(k.root.id)],
  };
  const int: CertSpec = {
    version: 3,
    serial: 2,
    issuer: ROOT_NAME,
    subject: INT_NAME,
    notBefore: new Date(t0 - 2 * 365 * DAY),
    notAfter: new Date(t0 + 5 * 365 * DAY),
    key: intKey,
    signer: k.root,
    plan: rsa,
    extensions: [ext.bc(true), ext.ku(CA_KU), ext.ski(intKey.id), ext.aki(k.root.id)],
  };
  const leaf: CertSpec = {
    version: 3,
    serial: 0x1234,
    issuer: INT_NAME,
    subject: LEAF_NAME,
    notBefore: new Date(t0 - 365 * DAY),
    notAfter: new Date(t0 + 2 * 365 * DAY),
    key: ec ? k.leafEc : k.leaf,
    signer: intKey,
    plan: ec ? { scheme: "ecdsa", hash: "SHA-256" } : rsa,
    extensions: [ext.ku([0]), ext.eku([X509.emailProtection]), ext.policies([X509.pecPolicy]), ext.san(LEAF_EMAIL), ext.ski((ec ? k.leafEc : k.leaf).id), ext.aki(intKey.id)],
  };
  return { root, int, leaf };
}

type Specs = ReturnType<typeof defaults>;

/** How a world differs from the default path (root → intermediate → leaf; bag [leaf, intermediate]). */
interface WorldRecipe {
  ec?: boolean;
  specs?: (s: Specs, k: Keys, t0: number) => void;
  /** A second intermediate between the first and the leaf. */
  int2?: (s: CertSpec, k: Keys) => void;
  /** Further certificates for the bag (appended after the default ones). */
  extra?: (s: Specs, k: Keys, t0: number) => CertSpec[];
  /** Another certificate for the intermediate's name (a renewal), from the intermediate's spec. */
  twin?: (int: CertSpec, k: Keys, t0: number) => CertSpec;
  /** Anchors and bag from the built certificates (default [root], [leaf, int(, int2)]). */
  layout?: (c: Built) => { anchors?: Uint8Array[]; bag?: Uint8Array[] };
  crl?: "revoked" | "clean" | "revoked-alg";
}

interface Built {
  root: Uint8Array;
  int: Uint8Array;
  int2?: Uint8Array;
  twin?: Uint8Array;
  leaf: Uint8Array;
  other: Uint8Array;
}

const drop = (list: Ext[], oid: string): Ext[] => list.filter((e) => e.oid !== oid);
const set = (list: Ext[], e: Ext): Ext[] => [...drop(list, e.oid), e];
const at = (t0: number, days: number): Date => new Date(t0 + days * DAY);

function rollover(pathLen: number): WorldRecipe {
  return {
    specs: (s, k) => {
      s.root.extensions = set(s.root.extensions, ext.bc(true, pathLen));
      s.int.signer = k.other;
      s.int.extensions = set(s.int.extensions, ext.aki(k.other.id));
    },
    extra: (s, k) => [{ ...s.root, serial: 30, key: k.other, signer: k.root, extensions: [ext.bc(true), ext.ku(CA_KU), ext.ski(k.other.id), ext.aki(k.root.id)] }],
  };
}

/** Every world, by name. */
export const WORLDS: Readonly<Record<string, WorldRecipe>> = {
  ok: {},
  "ok-ec": { ec: true },
  "ok-pss-certs": {
    specs: (s) => {
      s.int.plan = { scheme: "pss", hash: "SHA-256" };
      s.leaf.plan = { scheme: "pss", hash: "SHA-256" };
    },
  },
  "ok-sha384-certs": { specs: (s) => (s.leaf.plan = { scheme: "pkcs1", hash: "SHA-384" }) },
  "sha1-certs": { specs: (s) => (s.leaf.plan = { scheme: "pkcs1", hash: "SHA-1" }) },
  "leaf-anchor": { layout: (c) => ({ anchors: [c.leaf], bag: [c.leaf] }) },
  "int-anchor": { layout: (c) => ({ anchors: [c.int], bag: [c.leaf] }) },
  "int-missing": { layout: (c) => ({ bag: [c.leaf] }) },
  "bag-reversed": { layout: (c) => ({ bag: [c.int, c.leaf] }) },
  "bag-with-root": { layout: (c) => ({ bag: [c.root, c.leaf, c.int] }) },
  "bag-duplicates": { layout: (c) => ({ bag: [c.leaf, c.int, c.leaf, c.int] }) },
  "bag-unrelated": { layout: (c) => ({ bag: [c.other, c.leaf, c.int] }) },
  "untrusted-root": { layout: (c) => ({ anchors: [c.other] }) },
  "leaf-expired": { specs: (s, _k, t0) => (s.leaf.notAfter = at(t0, -1)) },
  "leaf-not-yet-valid": { specs: (s, _k, t0) => (s.leaf.notBefore = at(t0, 1)) },
  "leaf-notafter-is-signing-time": { specs: (s, _k, t0) => (s.leaf.notAfter = new Date(t0)) },
  "leaf-notbefore-is-signing-time": { specs: (s, _k, t0) => (s.leaf.notBefore = new Date(t0)) },
  "leaf-generalized-validity": {
    specs: (s, _k, t0) => {
      const g = (d: Date): Node => T.timeText(d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z", true);
      s.leaf.notBefore = g(at(t0, -365));
      s.leaf.notAfter = g(at(t0, 730));
    },
  },
  "leaf-notafter-month-13": {
    // Month 13 of the year before: OpenSSL refuses the field; a lenient reader that rolls it into January accepts the certificate.
    specs: (s, _k, t0) => (s.leaf.notAfter = T.timeText(String((new Date(t0).getUTCFullYear() + 1) % 100).padStart(2, "0") + "1301000000Z")),
  },
  "leaf-notbefore-day-32": {
    specs: (s, _k, t0) => (s.leaf.notBefore = T.timeText(String((new Date(t0).getUTCFullYear() - 1) % 100).padStart(2, "0") + "0132000000Z")),
  },
  "int-expired": { specs: (s, _k, t0) => (s.int.notAfter = at(t0, -1)) },
  "int-not-yet-valid": { specs: (s, _k, t0) => (s.int.notBefore = at(t0, 1)) },
  "root-expired": { specs: (s, _k, t0) => (s.root.notAfter = at(t0, -1)) },
  "root-not-yet-valid": { specs: (s, _k, t0) => (s.root.notBefore = at(t0, 1)) },
  "int-no-bc": { specs: (s) => (s.int.extensions = drop(s.int.extensions, X509.basicConstraints)) },
  "int-bc-false": { specs: (s) => (s.int.extensions = set(s.int.extensions, ext.bc(false))) },
  "int-bc-not-critical": { specs: (s) => (s.int.extensions = set(s.int.extensions, ext.bc(true, undefined, false))) },
  "int-ku-no-certsign": { specs: (s) => (s.int.extensions = set(s.int.extensions, ext.ku([0, 6]))) },
  "int-no-ku": { specs: (s) => (s.int.extensions = drop(s.int.extensions, X509.keyUsage)) },
  "int-dup-bc": { specs: (s) => (s.int.extensions = [ext.bc(false), ...s.int.extensions]) },
  "leaf-dup-ku": { specs: (s) => (s.leaf.extensions = [...s.leaf.extensions, ext.ku([2])]) },
  "root-no-bc": { specs: (s) => (s.root.extensions = drop(s.root.extensions, X509.basicConstraints)) },
  "root-bc-false": { specs: (s) => (s.root.extensions = set(s.root.extensions, ext.bc(false))) },
  "root-v3-no-extensions": { specs: (s) => (s.root.extensions = []) },
  "root-v1": {
    specs: (s) => {
      s.root.version = 1;
      s.int.extensions = drop(s.int.extensions, X509.authorityKeyIdentifier);
    },
  },
  "root-ku-no-certsign": { specs: (s) => (s.root.extensions = set(s.root.extensions, ext.ku([0, 6]))) },
  "root-pathlen-0": { specs: (s) => (s.root.extensions = set(s.root.extensions, ext.bc(true, 0))) },
  "int-pathlen-0": { specs: (s) => (s.int.extensions = set(s.int.extensions, ext.bc(true, 0))) },
  "int-pathlen-0-two-ints": {
    specs: (s) => (s.int.extensions = set(s.int.extensions, ext.bc(true, 0))),
    int2: () => {},
  },
  "root-pathlen-1-two-ints": {
    specs: (s) => (s.root.extensions = set(s.root.extensions, ext.bc(true, 1))),
    int2: () => {},
  },
  "two-ints": { int2: () => {} },
  "leaf-crit-unknown": { specs: (s) => s.leaf.extensions.push(ext.unknown(true)) },
  "leaf-noncrit-unknown": { specs: (s) => s.leaf.extensions.push(ext.unknown(false)) },
  "int-crit-unknown": { specs: (s) => s.int.extensions.push(ext.unknown(true)) },
  "root-crit-unknown": { specs: (s) => s.root.extensions.push(ext.unknown(true)) },
  "root-dup-ku": { specs: (s) => (s.root.extensions = [...s.root.extensions, ext.ku(CA_KU)]) },
  "leaf-dup-san": { specs: (s) => s.leaf.extensions.push(ext.san(LEAF_EMAIL)) },
  "leaf-no-eku": { specs: (s) => (s.leaf.extensions = drop(s.leaf.extensions, X509.extKeyUsage)) },
  "leaf-eku-any": { specs: (s) => (s.leaf.extensions = set(s.leaf.extensions, ext.eku([X509.anyExtendedKeyUsage]))) },
  "leaf-no-ku": { specs: (s) => (s.leaf.extensions = drop(s.leaf.extensions, X509.keyUsage)) },
  "leaf-ku-nonrepudiation": { specs: (s) => (s.leaf.extensions = set(s.leaf.extensions, ext.ku([1]))) },
  "int-eku-server": { specs: (s) => s.int.extensions.push(ext.eku(["1.3.6.1.5.5.7.3.1"])) },
  "int-eku-email": { specs: (s) => s.int.extensions.push(ext.eku([X509.emailProtection])) },
  "leaf-san-critical": { specs: (s) => (s.leaf.extensions = set(s.leaf.extensions, ext.san(LEAF_EMAIL, true))) },
  "leaf-ca-true": { specs: (s) => s.leaf.extensions.push(ext.bc(true)) },
  "leaf-ca-false": { specs: (s) => s.leaf.extensions.push(ext.bc(false, undefined, false)) },
  "leaf-eku-server": { specs: (s) => (s.leaf.extensions = set(s.leaf.extensions, ext.eku(["1.3.6.1.5.5.7.3.1"]))) },
  "leaf-ku-keyenc": { specs: (s) => (s.leaf.extensions = set(s.leaf.extensions, ext.ku([2]))) },
  "leaf-issuer-mismatch": { specs: (s) => (s.leaf.issuer = [["C", "IT"], ["O", "postacert diff PKI"], ["CN", "Some Other CA"]]) },
  "leaf-issuer-case": { specs: (s) => (s.leaf.issuer = [["C", "it"], ["O", "POSTACERT DIFF PKI"], ["CN", "diff intermediate ca"]]) },
  "leaf-issuer-spaces": { specs: (s) => (s.leaf.issuer = [["C", "IT"], ["O", " postacert  diff PKI"], ["CN", "Diff   Intermediate CA "]]) },
  "leaf-issuer-printable": { specs: (s) => (s.leaf.issuer = INT_NAME.map(([t, v]) => [t, v, 0x13] as const)) },
  "leaf-issuer-unicode-case": {
    specs: (s) => {
      s.int.subject = [["C", "IT"], ["O", "postacert diff PKI"], ["CN", "Città Intermedia"]];
      s.leaf.issuer = [["C", "IT"], ["O", "postacert diff PKI"], ["CN", "CITTÀ INTERMEDIA"]];
    },
  },
  "leaf-aki-mismatch": { specs: (s, k) => (s.leaf.extensions = set(s.leaf.extensions, ext.aki(k.other.id))) },
  "leaf-no-aki": { specs: (s) => (s.leaf.extensions = drop(s.leaf.extensions, X509.authorityKeyIdentifier)) },
  "leaf-wrong-issuer-key": { specs: (s, k) => (s.leaf.signer = k.other) },
  "leaf-bad-signature": { specs: (s) => (s.leaf.corrupt = true) },
  "int-bad-signature": { specs: (s) => (s.int.corrupt = true) },
  "root-bad-self-signature": { specs: (s) => (s.root.corrupt = true) },
  "leaf-inner-alg-differs": {
    // Signed with SHA-256 and named so outside; the signed tbsCertificate names sha512WithRSAEncryption.
    specs: (s) => (s.leaf.innerAlg = T.seq(T.oid(SIG.sha512WithRSA), T.null())),
  },
  "int-inner-alg-differs": { specs: (s) => (s.int.innerAlg = T.seq(T.oid(SIG.sha384WithRSA), T.null())) },
  "int-nc-permits": { specs: (s) => s.int.extensions.push(ext.emailConstraints(["pec.diff.test"])) },
  "int-nc-excludes": { specs: (s) => s.int.extensions.push(ext.emailConstraints([], ["pec.diff.test"])) },
  "int-nc-other-domain": { specs: (s) => s.int.extensions.push(ext.emailConstraints([".other.test"])) },
  "leaf-v1": {
    specs: (s) => {
      s.leaf.version = 1;
    },
  },
  // AgID CA1 was re-issued under the same name: paths must pick the right one of two same-named CAs.
  "int-renewed-new-key-old-first": {
    specs: (s) => (s.leaf.extensions = drop(s.leaf.extensions, X509.authorityKeyIdentifier)),
    twin: (int, k, t0) => ({ ...int, serial: 20, key: k.int2, notBefore: at(t0, -2000), notAfter: at(t0, -100), extensions: [ext.bc(true), ext.ku(CA_KU), ext.ski(k.int2.id), ext.aki(k.root.id)] }),
    layout: (c) => ({ bag: [c.leaf, c.twin!, c.int] }),
  },
  "int-renewed-same-key-expired-first": {
    twin: (int, _k, t0) => ({ ...int, serial: 21, notBefore: at(t0, -2000), notAfter: at(t0, -100) }),
    layout: (c) => ({ bag: [c.leaf, c.twin!, c.int] }),
  },
  "int-renewed-only-expired": {
    twin: (int, _k, t0) => ({ ...int, serial: 22, notBefore: at(t0, -2000), notAfter: at(t0, -100) }),
    layout: (c) => ({ bag: [c.leaf, c.twin!] }),
  },
  // A root key rollover: the old root (the anchor) certifies the new root's key under the same name (self-issued),
  // which issued the intermediate. pathLenConstraint does not count self-issued certificates (RFC 5280 §6.1.4 (l)).
  "rollover-pathlen-1": rollover(1),
  "rollover-pathlen-0": rollover(0),
  "crl-leaf-revoked": { crl: "revoked" },
  "crl-leaf-clean": { crl: "clean" },
  "crl-leaf-revoked-inner-alg-differs": { crl: "revoked-alg" },
};

/** Builds a world (certificates signed now; times relative to `t0`). */
export async function buildWorld(id: string, k: Keys, t0: number): Promise<World> {
  const recipe = WORLDS[id];
  if (!recipe) throw new Error(`no world ${id}`);
  const s = defaults(k, t0, recipe.ec ?? false);
  recipe.specs?.(s, k, t0);
  let int2Spec: CertSpec | undefined;
  if (recipe.int2) {
    int2Spec = {
      ...s.int,
      serial: 3,
      issuer: s.int.subject,
      subject: INT2_NAME,
      key: k.int2,
      signer: s.int.key,
      extensions: [ext.bc(true), ext.ku(CA_KU), ext.ski(k.int2.id), ext.aki(s.int.key.id)],
      corrupt: false,
      innerAlg: undefined,
    };
    recipe.int2(int2Spec, k);
    s.leaf.issuer = INT2_NAME;
    s.leaf.signer = k.int2;
    s.leaf.extensions = set(s.leaf.extensions, ext.aki(k.int2.id));
  }
  const root = await makeCert(s.root);
  const int = await makeCert(s.int);
  const int2 = int2Spec ? await makeCert(int2Spec) : undefined;
  const leaf = await makeCert(s.leaf);
  const twin = recipe.twin ? await makeCert(recipe.twin(s.int, k, t0)) : undefined;
  const extra = await Promise.all((recipe.extra?.(s, k, t0) ?? []).map(makeCert));
  const other = await makeCert({
    version: 3,
    serial: 99,
    issuer: OTHER_NAME,
    subject: OTHER_NAME,
    notBefore: at(t0, -100),
    notAfter: at(t0, 1000),
    key: k.other,
    signer: k.other,
    plan: { scheme: "pkcs1", hash: "SHA-256" },
    extensions: [ext.bc(true), ext.ku(CA_KU), ext.ski(k.other.id)],
  });
  const decoy = await makeCert({
    ...s.leaf,
    key: k.other,
    signer: k.other,
    plan: { scheme: "pkcs1", hash: "SHA-256" },
    extensions: [...drop(s.leaf.extensions, X509.subjectKeyIdentifier), ext.ski(s.leaf.key.id)],
    corrupt: false,
    innerAlg: undefined,
  });
  const built: Built = { root, int, leaf, other, ...(int2 ? { int2 } : {}), ...(twin ? { twin } : {}) };
  const layout = recipe.layout?.(built) ?? {};
  const crls: Uint8Array[] = [];
  if (recipe.crl) {
    crls.push(
      await makeCrl({
        issuer: s.int.subject,
        signer: s.int.key,
        thisUpdate: at(t0, -1),
        nextUpdate: at(t0, 30),
        serials: recipe.crl === "clean" ? [7777] : [s.leaf.serial],
        revokedAt: at(t0, -2),
        ...(recipe.crl === "revoked-alg" ? { innerAlg: T.seq(T.oid(SIG.sha512WithRSA), T.null()) } : {}),
      }),
    );
  }
  return {
    id,
    anchors: layout.anchors ?? [root],
    bag: layout.bag ?? [...(int2 ? [leaf, int2, int] : [leaf, int]), ...extra],
    signerCert: leaf,
    signerKey: s.leaf.key,
    int,
    other,
    decoy,
    crls,
  };
}

