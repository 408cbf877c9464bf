/**
 * A test PKI for PEC: a certification authority standing in for AgID CA1, gestore
 * signing certificates with the real profile (spec §6.2), and CRLs. Everything runs on
 * WebCrypto (any implementation: pass `crypto`) and pkijs, so it works in browsers too.
 *
 * Certificates are assembled as pkijs `Certificate` objects, but names, extension
 * values and signature algorithm identifiers are encoded by postacert's own DER writer:
 * pkijs would put every attribute of a name in one multi-valued RDN and leave out the
 * NULL parameters of `sha256WithRSAEncryption`, and the tamper cases need exact control
 * anyway. The TBS is signed with WebCrypto directly (no pkijs crypto engine, so no
 * global state). CRLs are written entirely with the DER writer.
 *
 * Every identity's `chain` lists the issuer certificates from the direct issuer up to
 * and **including** the root (empty for a root): what a gestore puts in its CMS is
 * "signer + issuing CA" (spec §6.1), and a verifier must never take an anchor from the
 * CMS anyway.
 *
 * These keys and certificates are for tests only.
 *
 * @module
 */

import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { PecError } from "../errors.js";
import { encodeBase64 } from "../util/base64.js";
import { asBufferSource, fromHex, toHex, utf8Bytes } from "../util/bytes.js";
import {
  type AsnNode,
  TAG,
  cons,
  encodeDer,
  int,
  octets,
  oid,
  prim,
  raw,
  readChildren,
  readTlv,
  seq,
  time,
  uintValue,
} from "../smime/asn1-der.js";
import type { RevocationReason } from "../smime/crl.js";
import { X509 } from "../smime/oids.js";
import { signWithKey, signatureAlgorithmFor } from "../smime/sign-alg.js";
import { isDenseArray } from "../util/arrays.js";
import { quoted } from "../util/text.js";

/** Key types the test PKI can generate. */
export type KeyAlgorithm = "RSA-2048" | "RSA-3072" | "RSA-PSS-2048" | "ECDSA-P256" | "ECDSA-P384";

/** A certificate with its key pair. */
export interface TestIdentity {
  /** The DER certificate. */
  readonly certificate: Uint8Array;
  /** Private key (extractable, usages `sign`). */
  readonly privateKey: CryptoKey;
  /** Public key (usages `verify`). */
  readonly publicKey: CryptoKey;
  /** Issuer certificates (DER), direct issuer first, root last, root included; empty for a root. */
  readonly chain: Uint8Array[];
  /** Serial number, lower-case hex without a sign octet. */
  readonly serialNumber: string;
  /** Subject, RFC 4514-like with the most significant RDN first, e.g. `C=IT, O=…, CN=…`. */
  readonly subject: string;
  /** The key type. */
  readonly keyAlgorithm: KeyAlgorithm;
  /** Subject key identifier (SHA-1 of the public key bits). */
  readonly keyIdentifier: Uint8Array;
  /** Start of validity (whole seconds). */
  readonly notBefore: Date;
  /** End of validity (whole seconds). */
  readonly notAfter: Date;
  /** The certificate as PEM (`-----BEGIN CERTIFICATE-----`, 64 columns, LF). */
  pem(): string;
}

/** A certification authority (root or intermediate). */
export interface TestCa extends TestIdentity {
  /** Discriminant. */
  readonly kind: "ca";
}

/** A gestore (PEC provider) signing identity. */
export interface TestGestore extends TestIdentity {
  /** Discriminant. */
  readonly kind: "gestore";
  /** Gestore name (IGPEC `providerName`), e.g. `Gestore Alfa S.p.A.`. */
  readonly name: string;
  /** The PEC domain, e.g. `pec.alfa.test`. */
  readonly domain: string;
  /** The e-mail address in subjectAltName, e.g. `posta-certificata@pec.alfa.test`. */
  readonly email: string;
}

/** Key usage bit names (RFC 5280 §4.2.1.3); `contentCommitment` is the new name of `nonRepudiation`. */
export type KeyUsageName =
  | "digitalSignature"
  | "nonRepudiation"
  | "contentCommitment"
  | "keyEncipherment"
  | "dataEncipherment"
  | "keyAgreement"
  | "keyCertSign"
  | "cRLSign"
  | "encipherOnly"
  | "decipherOnly";

const KEY_USAGE_BITS: Readonly<Record<KeyUsageName, number>> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  contentCommitment: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
};

const EKU: Readonly<Record<string, string>> = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  codeSigning: "1.3.6.1.5.5.7.3.3",
  emailProtection: X509.emailProtection,
  timeStamping: "1.3.6.1.5.5.7.3.8",
  OCSPSigning: "1.3.6.1.5.5.7.3.9",
  anyExtendedKeyUsage: X509.anyExtendedKeyUsage,
};

const KEY_GEN: Readonly<Record<KeyAlgorithm, RsaHashedKeyGenParams | EcKeyGenParams>> = {
  "RSA-2048": { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  "RSA-3072": { name: "RSASSA-PKCS1-v1_5", modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  "RSA-PSS-2048": { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  "ECDSA-P256": { name: "ECDSA", namedCurve: "P-256" },
  "ECDSA-P384": { name: "ECDSA", namedCurve: "P-384" },
};

/** Options shared by {@link createTestCa} and {@link createGestore}. */
export interface IdentityOptions {
  /** Key type. Default `"RSA-2048"` (what gestori use). */
  keyAlgorithm?: KeyAlgorithm;
  /**
   * Reuse this key pair instead of generating one (RSA generation is slow). It must
   * match `keyAlgorithm` (which is then only a label) and be extractable to sign with
   * other digests or export as PKCS#8.
   */
  keyPair?: CryptoKeyPair;
  /** Start of validity. Default: an hour ago. */
  notBefore?: Date;
  /** End of validity. Default: 10 years (CA) or 3 years (gestore) after `notBefore`. */
  notAfter?: Date;
  /** Serial number in hex. Default: 16 random bytes, positive. */
  serialNumber?: string;
  /** WebCrypto implementation. Default `globalThis.crypto`. */
  crypto?: Crypto;
}

/** Options of {@link createTestCa}. */
export interface TestCaOptions extends IdentityOptions {
  /** Subject CN. Default `postacert Test CA` (or `postacert Test Intermediate CA`). */
  commonName?: string;
  /** Subject O. Default `postacert test PKI`. */
  organization?: string;
  /**
   * Issue under this CA (making an intermediate); default: self-signed root. Any
   * identity is accepted, so a gestore can be (wrongly) used as an issuer in tests.
   */
  issuer?: TestIdentity;
  /** Write basicConstraints cA:TRUE (critical). Default `true`; `false` omits the extension (a tamper case). */
  basicConstraints?: boolean;
  /** pathLenConstraint in basicConstraints. */
  pathLength?: number;
  /** Key usage bits (critical). Default `["keyCertSign", "cRLSign"]`; `[]` omits the extension. */
  keyUsage?: KeyUsageName[];
  /** Name constraints on e-mail addresses (critical), RFC 5280 rfc822Name forms: `pec.alfa.test`, `.test`, `a@b.test`. */
  nameConstraints?: {
    /** Permitted e-mail subtrees. */
    permittedEmail?: string[];
    /** Excluded e-mail subtrees. */
    excludedEmail?: string[];
  };
}

/** Options of {@link createGestore}. */
export interface GestoreOptions extends IdentityOptions {
  /** Gestore name, e.g. `Gestore Alfa S.p.A.`: subject `C=IT, O=<name>, CN=Posta Certificata <name>`. */
  name: string;
  /** PEC domain, e.g. `pec.alfa.test`. */
  domain: string;
  /** Issuing CA (any identity is accepted, see {@link TestCaOptions.issuer}). */
  ca: TestIdentity;
  /** subjectAltName rfc822Name. Default `posta-certificata@<domain>`. */
  email?: string;
  /** Key usage bits (critical). Default `["digitalSignature"]`; `null` omits the extension. */
  keyUsage?: KeyUsageName[] | null;
  /**
   * Extended key usages by name (`emailProtection`, `serverAuth`, `clientAuth`,
   * `codeSigning`, `timeStamping`, `OCSPSigning`, `anyExtendedKeyUsage`) or dotted OID.
   * Default `["emailProtection"]`; `null` omits the extension.
   */
  extKeyUsage?: string[] | null;
  /** Certificate policy OIDs. Default `["1.3.76.16.3.1.1"]` (PEC); `[]` omits the extension. */
  policies?: string[];
  /** `"absent"` (default, the PEC profile), `"leaf"` (cA:FALSE, not critical, as in 2014 certificates), `"ca"` (cA:TRUE, critical). */
  basicConstraints?: "absent" | "ca" | "leaf";
}

/** One revoked certificate in a CRL. */
export interface CrlEntry {
  /** Serial number in hex (as {@link TestIdentity.serialNumber}). */
  serialNumber: string;
  /** When it was revoked. */
  revocationDate: Date;
  /** CRLReason (RFC 5280 §5.3.1), written as an entry extension when given. */
  reason?: CrlReason;
}

/** CRL reason codes by name (the verifier's {@link RevocationReason}). */
export type CrlReason = RevocationReason;

const CRL_REASON: Readonly<Record<CrlReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** Options of {@link createCrl}. */
export interface CrlOptions {
  /** Revoked certificates (may be empty). */
  revoked: CrlEntry[];
  /** Issue time. Default: now. */
  thisUpdate?: Date;
  /** Next update. Default: 30 days after `thisUpdate`. */
  nextUpdate?: Date;
  /** cRLNumber. Default 1. */
  crlNumber?: number;
  /** WebCrypto implementation. Default `globalThis.crypto`. */
  crypto?: Crypto;
}

// ---------------------------------------------------------------------------------

const HOUR = 3600_000;

function addYears(d: Date, years: number): Date {
  const out = new Date(d.getTime());
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

function invalid(message: string): PecError {
  return new PecError("ERR_INVALID_ARGUMENT", message);
}

function subtleOf(crypto: Crypto | undefined): { crypto: Crypto; subtle: SubtleCrypto } {
  const c = crypto ?? globalThis.crypto;
  if (!c?.subtle) throw new PecError("ERR_UNSUPPORTED", "WebCrypto (crypto.subtle) is not available; pass opts.crypto");
  return { crypto: c, subtle: c.subtle };
}

/** Whole seconds: certificate times have no fractions, so the Date round-trips. */
function seconds(d: Date, what: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw invalid(`${what} must be a valid Date`);
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/**
 * PEM armour (64 columns, LF).
 *
 * @example
 * ```ts
 * const crlDer = await createCrl(ca, { revoked: [] });
 * await writeFile("gestore.pem", toPem(gestore.certificate));
 * await writeFile("ca.crl.pem", toPem(crlDer, "X509 CRL"));
 * ```
 */
export function toPem(der: Uint8Array, label = "CERTIFICATE"): string {
  const b64 = encodeBase64(der, 64).replace(/\r\n/g, "\n");
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/**
 * PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) of an extractable private key, e.g. to
 * write test fixtures or hand the key to `openssl`.
 *
 * @example
 * ```ts
 * await writeFile("gestore.key.pem", await exportPrivateKeyPem(gestore.privateKey));
 * ```
 */
export async function exportPrivateKeyPem(key: CryptoKey, crypto?: Crypto): Promise<string> {
  const { subtle } = subtleOf(crypto);
  if (!key?.extractable) throw invalid("the private key is not extractable");
  return toPem(new Uint8Array(await subtle.exportKey("pkcs8", key)), "PRIVATE KEY");
}

async function keyPairFor(subtle: SubtleCrypto, alg: KeyAlgorithm, given: CryptoKeyPair | undefined): Promise<CryptoKeyPair> {
  if (!Object.prototype.hasOwnProperty.call(KEY_GEN, alg)) throw new PecError("ERR_UNSUPPORTED", `unknown keyAlgorithm ${String(alg)}`);
  if (given) {
    if (given.privateKey?.type !== "private" || given.publicKey?.type !== "public") throw invalid("keyPair must hold a private and a public CryptoKey");
    const want = KEY_GEN[alg];
    const got = given.privateKey.algorithm as Partial<RsaHashedKeyAlgorithm & EcKeyAlgorithm>;
    const wantCurve = "namedCurve" in want ? want.namedCurve : undefined;
    const wantBits = "modulusLength" in want ? want.modulusLength : undefined;
    if (got.name !== want.name || got.namedCurve !== wantCurve || got.modulusLength !== wantBits) {
      throw invalid(`keyPair is not a ${alg} key pair`);
    }
    return given;
  }
  return (await subtle.generateKey(KEY_GEN[alg], true, ["sign", "verify"])) as CryptoKeyPair;
}

function serialBytes(crypto: Crypto, hex: string | undefined): Uint8Array {
  if (hex === undefined) {
    const b = crypto.getRandomValues(new Uint8Array(16));
    // Positive and exactly 16 octets in DER: top bit clear, first octet non-zero.
    b[0] = (b[0]! & 0x7f) | 0x01;
    return b;
  }
  const clean = typeof hex === "string" ? hex.replace(/^0x/i, "").replace(/[:\s]/g, "") : "";
  const bytes = fromHex(clean.length % 2 ? "0" + clean : clean);
  if (!bytes || bytes.length === 0 || bytes.length > 20) throw invalid(`serialNumber must be 1–20 bytes of hex, got ${JSON.stringify(hex)}`);
  if (bytes.every((x) => x === 0)) throw invalid("serialNumber must be positive");
  return bytes;
}

/** Minimal unsigned hex of a serial (what {@link TestIdentity.serialNumber} shows). */
function serialHex(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return toHex(bytes.subarray(i));
}

type Rdn = [type: "C" | "O" | "OU" | "CN", value: string];
const RDN_OID: Readonly<Record<Rdn[0], string>> = { C: "2.5.4.6", O: "2.5.4.10", OU: "2.5.4.11", CN: X509.commonName };

function nameDer(rdns: Rdn[]): Uint8Array {
  for (const [t, v] of rdns) {
    if (typeof v !== "string" || v.length === 0 || v.length > 64 || /[\0\r\n]/.test(v)) throw invalid(`invalid ${t} in a name: ${quoted(v)}`);
  }
  return encodeDer(
    seq(
      ...rdns.map(([t, v]) =>
        cons(TAG.SET, [seq(oid(RDN_OID[t]), prim(t === "C" ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING, utf8Bytes(v)))]),
      ),
    ),
  );
}

function nameString(rdns: Rdn[]): string {
  return rdns.map(([t, v]) => `${t}=${v.replace(/([,+"\\<>;])/g, "\\$1")}`).join(", ");
}

function keyUsageDer(names: readonly string[]): Uint8Array {
  let mask = 0;
  for (const n of names) {
    if (!Object.prototype.hasOwnProperty.call(KEY_USAGE_BITS, n)) throw invalid(`unknown keyUsage ${quoted(n)}`);
    mask |= 1 << KEY_USAGE_BITS[n as KeyUsageName];
  }
  if (mask === 0) throw invalid("keyUsage needs at least one bit");
  // Bits are numbered from the most significant bit of the first octet; DER drops
  // trailing zero bits and says how many bits of the last octet are unused.
  const octetsNeeded = mask > 0xff ? 2 : 1;
  const bytes = new Uint8Array(octetsNeeded);
  let highest = 0;
  for (let bit = 0; bit < 9; bit++) {
    if (mask & (1 << bit)) {
      bytes[bit >> 3]! |= 0x80 >> (bit & 7);
      highest = bit;
    }
  }
  const unused = 7 - (highest & 7);
  const value = new Uint8Array(octetsNeeded + 1);
  value[0] = unused;
  value.set(bytes, 1);
  return encodeDer(prim(TAG.BIT_STRING, value));
}

function oidList(items: readonly string[], names: Readonly<Record<string, string>>, what: string): string[] {
  if (!isDenseArray(items)) throw invalid(`${what} must be an array of strings`);
  return items.map((x) => {
    if (typeof x !== "string") throw invalid(`${what} entries must be strings`);
    const id = Object.prototype.hasOwnProperty.call(names, x) ? names[x]! : x;
    if (!/^[0-2](\.\d+)+$/.test(id)) throw invalid(`unknown ${what} ${JSON.stringify(x)}`);
    return id;
  });
}

const ASCII_EMAILISH = /^[\x21-\x7e]+$/;

function checkEmailForm(x: string, what: string): string {
  if (typeof x !== "string" || !ASCII_EMAILISH.test(x)) throw invalid(`${what} must be ASCII without spaces: ${quoted(x)}`);
  return x;
}

interface ExtensionSpec {
  id: string;
  critical: boolean;
  value: Uint8Array;
}

/** What issuing needs from the issuer certificate, parsed once per certificate. */
interface IssuerInfo {
  subject: Uint8Array;
}
const issuerCache = new WeakMap<Uint8Array, IssuerInfo>();

function issuerInfo(cert: Uint8Array): IssuerInfo {
  const hit = issuerCache.get(cert);
  if (hit) return hit;
  const top = readTlv(cert, 0);
  const tbs = top && readChildren(cert, top)?.[0];
  const f = tbs && readChildren(cert, tbs);
  if (!f) throw new PecError("ERR_CERT_MALFORMED", "issuer certificate cannot be decoded");
  const i = f[0]?.tag === 0xa0 ? 1 : 0;
  const subject = f[i + 4];
  if (!subject || subject.tag !== TAG.SEQUENCE) throw new PecError("ERR_CERT_MALFORMED", "issuer certificate has no subject");
  const info = { subject: cert.subarray(subject.start, subject.end) };
  issuerCache.set(cert, info);
  return info;
}

function checkIssuer(ca: TestIdentity | undefined, what: string): void {
  if (ca === undefined) return;
  if (
    typeof ca !== "object" ||
    ca === null ||
    !(ca.certificate instanceof Uint8Array) ||
    !(ca.keyIdentifier instanceof Uint8Array) ||
    !isDenseArray(ca.chain) ||
    ca.privateKey?.type !== "private"
  ) {
    throw invalid(`${what} must be a TestCa (or another TestIdentity) with a private key`);
  }
}

interface IssueParams {
  subjectRdns: Rdn[];
  keys: CryptoKeyPair;
  keyAlgorithm: KeyAlgorithm;
  issuer: TestIdentity | undefined;
  notBefore: Date;
  notAfter: Date;
  serial: Uint8Array;
  extensions: (ski: Uint8Array) => ExtensionSpec[];
  subtle: SubtleCrypto;
}

interface Issued {
  certificate: Uint8Array;
  keyIdentifier: Uint8Array;
}

async function issue(p: IssueParams): Promise<Issued> {
  if (p.notAfter.getTime() <= p.notBefore.getTime()) throw invalid("notAfter must be after notBefore");
  const spki = new Uint8Array(await p.subtle.exportKey("spki", p.keys.publicKey));
  const pki = pkijs.PublicKeyInfo.fromBER(spki);
  // Method (1) of RFC 5280 §4.2.1.2: SHA-1 of the subjectPublicKey bits.
  const keyIdentifier = new Uint8Array(await p.subtle.digest("SHA-1", pki.subjectPublicKey.valueBlock.valueHexView.slice()));
  const subject = nameDer(p.subjectRdns);
  const issuerName = p.issuer ? issuerInfo(p.issuer.certificate).subject : subject;
  const signingKey = p.issuer ? p.issuer.privateKey : p.keys.privateKey;

  const exts = p.extensions(keyIdentifier);
  if (p.issuer) {
    exts.push({ id: X509.authorityKeyIdentifier, critical: false, value: encodeDer(seq(prim(0x80, p.issuer.keyIdentifier))) });
  }

  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: uintValue(p.serial).slice() });
  cert.issuer = pkijs.RelativeDistinguishedNames.fromBER(issuerName.slice());
  cert.subject = pkijs.RelativeDistinguishedNames.fromBER(subject.slice());
  cert.notBefore = pkiTime(p.notBefore);
  cert.notAfter = pkiTime(p.notAfter);
  cert.subjectPublicKeyInfo = pki;
  cert.extensions = exts.map((e) => new pkijs.Extension({ extnID: e.id, critical: e.critical, extnValue: e.value.slice().buffer }));

  const algDer = signatureAlgorithmFor(signingKey);
  const algId = pkijs.AlgorithmIdentifier.fromBER(algDer.slice());
  cert.signature = algId;
  cert.signatureAlgorithm = algId;
  const tbs = new Uint8Array(cert.encodeTBS().toBER());
  const { signature } = await signWithKey(p.subtle, signingKey, tbs);
  // The outer algorithm identifier is written from the same bytes as the one in the TBS.
  const certificate = encodeDer(seq(raw(tbs), raw(algDer), prim(TAG.BIT_STRING, withUnusedBits(signature))));
  return { certificate, keyIdentifier };
}

function withUnusedBits(sig: Uint8Array): Uint8Array {
  const v = new Uint8Array(sig.length + 1);
  v.set(sig, 1);
  return v;
}

function pkiTime(d: Date): pkijs.Time {
  const y = d.getUTCFullYear();
  return new pkijs.Time({ type: y >= 1950 && y < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime, value: d });
}

function makeIdentity<K extends "ca" | "gestore">(
  kind: K,
  issued: Issued,
  keys: CryptoKeyPair,
  keyAlgorithm: KeyAlgorithm,
  issuer: TestIdentity | undefined,
  serial: Uint8Array,
  rdns: Rdn[],
  notBefore: Date,
  notAfter: Date,
): TestIdentity & { kind: K } {
  const { certificate } = issued;
  return {
    kind,
    certificate,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    chain: issuer ? [issuer.certificate, ...issuer.chain] : [],
    serialNumber: serialHex(serial),
    subject: nameString(rdns),
    keyAlgorithm,
    keyIdentifier: issued.keyIdentifier,
    notBefore,
    notAfter,
    pem: () => toPem(certificate),
  };
}

/**
 * Creates a test certification authority: a self-signed root, or an intermediate when
 * `issuer` is given. Profile: subject `C=IT, O=<organization>, CN=<commonName>`,
 * basicConstraints cA:TRUE critical, keyUsage keyCertSign+cRLSign critical, SKI, and
 * AKI when it has an issuer; each of these can be changed to build invalid CAs.
 *
 * @example
 * ```ts
 * const root = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
 * const broken = await createTestCa({ issuer: root, basicConstraints: false, commonName: "No BC CA" });
 * ```
 */
export async function createTestCa(opts: TestCaOptions = {}): Promise<TestCa> {
  if (typeof opts !== "object" || opts === null) throw invalid("createTestCa options must be an object");
  const { crypto, subtle } = subtleOf(opts.crypto);
  checkIssuer(opts.issuer, "issuer");
  const keyAlgorithm = opts.keyAlgorithm ?? "RSA-2048";
  const keys = await keyPairFor(subtle, keyAlgorithm, opts.keyPair);
  const notBefore = seconds(opts.notBefore ?? new Date(Date.now() - HOUR), "notBefore");
  const notAfter = seconds(opts.notAfter ?? addYears(notBefore, 10), "notAfter");
  const serial = serialBytes(crypto, opts.serialNumber);
  const rdns: Rdn[] = [
    ["C", "IT"],
    ["O", opts.organization ?? "postacert test PKI"],
    ["CN", opts.commonName ?? (opts.issuer ? "postacert Test Intermediate CA" : "postacert Test CA")],
  ];
  const keyUsage = opts.keyUsage ?? ["keyCertSign", "cRLSign"];
  if (!isDenseArray(keyUsage)) throw invalid("keyUsage must be an array");
  const pathLength = opts.pathLength;
  if (pathLength !== undefined && (!Number.isInteger(pathLength) || pathLength < 0)) throw invalid("pathLength must be a non-negative integer");
  const nc = opts.nameConstraints;
  const subtrees = (list: string[] | undefined, tag: number): AsnNode[] =>
    list && list.length ? [cons(tag, list.map((e) => seq(prim(0x81, utf8Bytes(checkEmailForm(e, "name constraint"))))))] : [];

  const issued = await issue({
    subjectRdns: rdns,
    keys,
    keyAlgorithm,
    issuer: opts.issuer,
    notBefore,
    notAfter,
    serial,
    subtle,
    extensions: (ski) => {
      const exts: ExtensionSpec[] = [];
      if (opts.basicConstraints ?? true) {
        const bc: AsnNode[] = [prim(TAG.BOOLEAN, new Uint8Array([0xff]))];
        if (pathLength !== undefined) bc.push(int(pathLength));
        exts.push({ id: X509.basicConstraints, critical: true, value: encodeDer(seq(...bc)) });
      }
      if (keyUsage.length) exts.push({ id: X509.keyUsage, critical: true, value: keyUsageDer(keyUsage) });
      if (nc && (nc.permittedEmail?.length || nc.excludedEmail?.length)) {
        // RFC 5280 §4.2.1.10: conforming CAs MUST mark name constraints critical.
        exts.push({
          id: X509.nameConstraints,
          critical: true,
          value: encodeDer(seq(...subtrees(nc.permittedEmail, 0xa0), ...subtrees(nc.excludedEmail, 0xa1))),
        });
      }
      exts.push({ id: X509.subjectKeyIdentifier, critical: false, value: encodeDer(octets(ski)) });
      return exts;
    },
  });
  return makeIdentity("ca", issued, keys, keyAlgorithm, opts.issuer, serial, rdns, notBefore, notAfter);
}

/**
 * Creates a gestore signing certificate with the PEC profile (spec §6.2): subject
 * `C=IT, O=<name>, CN=Posta Certificata <name>`, keyUsage digitalSignature (critical),
 * extKeyUsage emailProtection, certificatePolicies 1.3.76.16.3.1.1, subjectAltName
 * rfc822Name `posta-certificata@<domain>`, SKI and AKI, no basicConstraints. Options
 * change each item to build the certificates verification must reject.
 *
 * @example
 * ```ts
 * const ca = await createTestCa();
 * const alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca });
 * const wrongKu = await createGestore({ name: "Gestore Beta", domain: "pec.beta.test", ca, keyUsage: ["keyEncipherment"] });
 * ```
 */
export async function createGestore(opts: GestoreOptions): Promise<TestGestore> {
  if (typeof opts !== "object" || opts === null) throw invalid("createGestore needs an options object");
  const { name, domain } = opts;
  if (typeof name !== "string" || name.trim() === "") throw invalid("name must be a non-empty string");
  if (typeof domain !== "string" || !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(domain)) {
    throw invalid(`domain must be a DNS name like pec.example.test, got ${JSON.stringify(domain)}`);
  }
  if (!opts.ca) throw invalid("ca is required");
  checkIssuer(opts.ca, "ca");
  const email = checkEmailForm(opts.email ?? `posta-certificata@${domain}`, "email");
  const { crypto, subtle } = subtleOf(opts.crypto);
  const keyAlgorithm = opts.keyAlgorithm ?? "RSA-2048";
  const keys = await keyPairFor(subtle, keyAlgorithm, opts.keyPair);
  const notBefore = seconds(opts.notBefore ?? new Date(Date.now() - HOUR), "notBefore");
  const notAfter = seconds(opts.notAfter ?? addYears(notBefore, 3), "notAfter");
  const serial = serialBytes(crypto, opts.serialNumber);
  const rdns: Rdn[] = [
    ["C", "IT"],
    ["O", name],
    ["CN", `Posta Certificata ${name}`],
  ];
  const keyUsage = opts.keyUsage === undefined ? ["digitalSignature"] : opts.keyUsage;
  const eku = opts.extKeyUsage === undefined ? ["emailProtection"] : opts.extKeyUsage;
  if (keyUsage !== null && !isDenseArray(keyUsage)) throw invalid("keyUsage must be an array or null");
  const ekuOids = eku === null ? null : oidList(eku, EKU, "extKeyUsage");
  const policies = oidList(opts.policies ?? [X509.pecPolicy], {}, "policy");
  const bc = opts.basicConstraints ?? "absent";
  if (bc !== "absent" && bc !== "ca" && bc !== "leaf") throw invalid(`basicConstraints must be "absent", "ca" or "leaf"`);

  const issued = await issue({
    subjectRdns: rdns,
    keys,
    keyAlgorithm,
    issuer: opts.ca,
    notBefore,
    notAfter,
    serial,
    subtle,
    extensions: (ski) => {
      const exts: ExtensionSpec[] = [];
      if (keyUsage !== null) exts.push({ id: X509.keyUsage, critical: true, value: keyUsageDer(keyUsage) });
      if (ekuOids !== null) exts.push({ id: X509.extKeyUsage, critical: false, value: encodeDer(seq(...ekuOids.map(oid))) });
      if (policies.length) {
        exts.push({ id: X509.certificatePolicies, critical: false, value: encodeDer(seq(...policies.map((p) => seq(oid(p))))) });
      }
      exts.push({ id: X509.subjectAltName, critical: false, value: encodeDer(seq(prim(0x81, utf8Bytes(email)))) });
      exts.push({ id: X509.subjectKeyIdentifier, critical: false, value: encodeDer(octets(ski)) });
      if (bc === "ca") exts.push({ id: X509.basicConstraints, critical: true, value: encodeDer(seq(prim(TAG.BOOLEAN, new Uint8Array([0xff])))) });
      if (bc === "leaf") exts.push({ id: X509.basicConstraints, critical: false, value: encodeDer(seq()) });
      return exts;
    },
  });
  return { ...makeIdentity("gestore", issued, keys, keyAlgorithm, opts.ca, serial, rdns, notBefore, notAfter), name, domain, email };
}

/**
 * Creates a CRL (v2, DER) issued by `ca`, with authorityKeyIdentifier and cRLNumber,
 * listing `revoked` serial numbers.
 *
 * @example
 * ```ts
 * const crl = await createCrl(ca, { revoked: [{ serialNumber: gestore.serialNumber, revocationDate: new Date("2025-01-01") }] });
 * ```
 */
export async function createCrl(ca: TestIdentity, opts: CrlOptions): Promise<Uint8Array<ArrayBuffer>> {
  if (!ca) throw invalid("ca is required");
  checkIssuer(ca, "ca");
  if (typeof opts !== "object" || opts === null || !isDenseArray(opts.revoked)) throw invalid("createCrl needs { revoked: [...] }");
  const { crypto, subtle } = subtleOf(opts.crypto);
  const thisUpdate = seconds(opts.thisUpdate ?? new Date(), "thisUpdate");
  const nextUpdate = seconds(opts.nextUpdate ?? new Date(thisUpdate.getTime() + 30 * 24 * HOUR), "nextUpdate");
  if (nextUpdate.getTime() <= thisUpdate.getTime()) throw invalid("nextUpdate must be after thisUpdate");
  const crlNumber = opts.crlNumber ?? 1;
  if (!Number.isSafeInteger(crlNumber) || crlNumber < 0) throw invalid("crlNumber must be a non-negative integer");
  const entries = opts.revoked.map((r) => {
    if (typeof r !== "object" || r === null) throw invalid("revoked entries must be objects");
    const serial = serialBytes(crypto, r.serialNumber ?? "");
    const fields: AsnNode[] = [prim(TAG.INTEGER, uintValue(serial)), time(seconds(r.revocationDate, "revocationDate"))];
    if (r.reason !== undefined) {
      if (!Object.prototype.hasOwnProperty.call(CRL_REASON, r.reason)) throw invalid(`unknown CRL reason ${quoted(r.reason)}`);
      const reason = encodeDer(prim(TAG.ENUMERATED, new Uint8Array([CRL_REASON[r.reason]])));
      fields.push(seq(seq(oid("2.5.29.21"), octets(reason))));
    }
    return seq(...fields);
  });
  const algorithm = signatureAlgorithmFor(ca.privateKey);
  const tbsFields: AsnNode[] = [
    int(1), // v2
    raw(algorithm),
    raw(issuerInfo(ca.certificate).subject),
    time(thisUpdate),
    time(nextUpdate),
  ];
  if (entries.length) tbsFields.push(seq(...entries));
  tbsFields.push(
    cons(0xa0, [
      seq(
        seq(oid(X509.authorityKeyIdentifier), octets(encodeDer(seq(prim(0x80, ca.keyIdentifier))))),
        seq(oid("2.5.29.20"), octets(encodeDer(int(crlNumber)))),
      ),
    ]),
  );
  const tbs = encodeDer(seq(...tbsFields));
  const { signature } = await signWithKey(subtle, ca.privateKey, asBufferSource(tbs));
  return encodeDer(seq(raw(tbs), raw(algorithm), prim(TAG.BIT_STRING, withUnusedBits(signature))));
}
