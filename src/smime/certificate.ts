/**
 * X.509 certificates, parsed once and cached by content.
 *
 * The certificates of one gestore recur in every receipt it signs, so
 * {@link parseCertificate} keeps a bounded cache keyed by the DER bytes: the second
 * receipt costs a lookup, and the objects it returns also carry the imported WebCrypto
 * keys and the results of issuer signature checks (see `path.ts`).
 *
 * Distinguished names are strings in encoding order, `C=IT, O=…, CN=…` (see
 * {@link formatName}).
 *
 * @module
 */

import { PecError } from "../errors.js";
import type { VerifyOutcome } from "./algorithms.js";
import { decodeBase64, encodeBase64 } from "../util/base64.js";
import { equalBytes, toHex } from "../util/bytes.js";
import { BerError, BerReader, encodeTlv, TAG, type Tlv } from "./ber.js";
import { ContentCache } from "./cache.js";
import { digest, type CryptoLike } from "./digest.js";
import { formatName, readGeneralName, readGeneralNames, readName, rdnKeys, type DistinguishedName, type GeneralName } from "./name.js";
import { CURVES, SIG, X509 } from "./oids.js";
import { got } from "../util/got.js";

/** keyUsage bits (RFC 5280 §4.2.1.3), by name. */
export type KeyUsage =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyEncipherment"
  | "dataEncipherment"
  | "keyAgreement"
  | "keyCertSign"
  | "cRLSign"
  | "encipherOnly"
  | "decipherOnly";

const KEY_USAGE_BITS: readonly KeyUsage[] = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
];

/** One extension as found in the certificate. */
export interface CertificateExtension {
  /** Dotted OID. */
  readonly oid: string;
  /** The critical flag. */
  readonly critical: boolean;
  /** DER of the extension value (the content of the extnValue OCTET STRING). */
  readonly value: Uint8Array;
}

/** The subject public key, described. */
export interface PublicKeyDescription {
  /** `RSA` (rsaEncryption), `RSA-PSS` (id-RSASSA-PSS key), `EC`, `Ed25519`, `Ed448`, or the dotted OID. */
  readonly algorithm: string;
  /** Key size in bits (RSA modulus length, curve size); 0 when unknown. */
  readonly size: number;
  /** Named curve for EC keys (`P-256`, `P-384`, `P-521`, or the curve OID). */
  readonly curve?: string;
}

/** basicConstraints (RFC 5280 §4.2.1.9). */
export interface BasicConstraints {
  /** Whether the subject is a CA. */
  readonly ca: boolean;
  /** pathLenConstraint, when present. */
  readonly pathLength?: number;
}

/** nameConstraints (RFC 5280 §4.2.1.10): subtree bases (minimum/maximum are ignored, as RFC 5280 requires them absent). */
export interface NameConstraints {
  /** permittedSubtrees bases. */
  readonly permitted: readonly GeneralName[];
  /** excludedSubtrees bases. */
  readonly excluded: readonly GeneralName[];
}

/** @internal Parsed public key material, shared by the verification code. */
export interface PublicKeyData {
  readonly kind: "RSA" | "EC" | "other";
  readonly oid: string;
  readonly spki: Uint8Array;
  /** SPKI re-labelled rsaEncryption: WebCrypto refuses id-RSASSA-PSS SPKIs. */
  readonly rsaSpki?: Uint8Array;
  readonly n?: Uint8Array;
  readonly e?: Uint8Array;
  readonly curve?: string;
  readonly point?: Uint8Array;
  readonly pssOnly: boolean;
  /** Imported keys per SubtleCrypto instance and algorithm. */
  readonly keys: WeakMap<SubtleCrypto, Map<string, Promise<CryptoKey | undefined>>>;
}

/** @internal What the verifier needs beyond the public fields. */
export interface CertInternals {
  readonly tbs: Uint8Array;
  readonly sigAlgOid: string;
  readonly sigAlgParams?: Uint8Array;
  readonly signature: Uint8Array;
  readonly key: PublicKeyData;
  readonly subjectKey: string;
  readonly issuerKey: string;
  readonly subjectRdns: readonly string[];
  readonly issuerRdns: readonly string[];
  readonly unknownCritical: readonly string[];
  /** Extensions present more than once (RFC 5280 §4.2 allows one instance each): which one counts is anyone's guess. */
  readonly duplicateExtensions: readonly string[];
  /**
   * The signed tbsCertificate's signature field names another AlgorithmIdentifier than the
   * outer, unsigned one the signature is checked with (RFC 5280 §4.1.1.2: they MUST be the same).
   */
  readonly algorithmsDiffer: boolean;
  /** Issuer signature checks: issuer → outcome. */
  readonly checkedBy: WeakMap<Certificate, Promise<VerifyOutcome>>;
  readonly fingerprints: Map<string, Promise<string>>;
}

const internals = new WeakMap<Certificate, CertInternals>();

/** @internal */
export function certInternals(c: Certificate): CertInternals {
  return internals.get(c)!;
}

const SIG_NAMES: Readonly<Record<string, string>> = {
  [SIG.rsaEncryption]: "rsaEncryption",
  [SIG.sha1WithRSA]: "sha1WithRSAEncryption",
  [SIG.sha224WithRSA]: "sha224WithRSAEncryption",
  [SIG.sha256WithRSA]: "sha256WithRSAEncryption",
  [SIG.sha384WithRSA]: "sha384WithRSAEncryption",
  [SIG.sha512WithRSA]: "sha512WithRSAEncryption",
  [SIG.rsaPSS]: "RSASSA-PSS",
  [SIG.ecdsaWithSHA1]: "ecdsa-with-SHA1",
  [SIG.ecdsaWithSHA224]: "ecdsa-with-SHA224",
  [SIG.ecdsaWithSHA256]: "ecdsa-with-SHA256",
  [SIG.ecdsaWithSHA384]: "ecdsa-with-SHA384",
  [SIG.ecdsaWithSHA512]: "ecdsa-with-SHA512",
  [SIG.ecPublicKey]: "ecPublicKey",
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
  "1.3.14.3.2.29": "sha1WithRSASignature",
  "1.3.101.112": "Ed25519",
  "1.3.101.113": "Ed448",
};

/** Display name of a signature algorithm OID (the dotted OID when unknown). */
export function signatureAlgorithmName(oid: string): string {
  return SIG_NAMES[oid] ?? oid;
}

/** Extensions whose semantics are processed (or harmless to accept) when critical. */
const UNDERSTOOD = new Set<string>([
  X509.subjectKeyIdentifier,
  X509.keyUsage,
  X509.subjectAltName,
  X509.basicConstraints,
  X509.nameConstraints,
  X509.crlDistributionPoints,
  X509.certificatePolicies,
  X509.authorityKeyIdentifier,
  X509.extKeyUsage,
  "2.5.29.18", // issuerAltName
  "2.5.29.33", // policyMappings
  "2.5.29.36", // policyConstraints
  "2.5.29.46", // freshestCRL
  "2.5.29.54", // inhibitAnyPolicy
  "1.3.6.1.5.5.7.1.1", // authorityInfoAccess
  "1.3.6.1.5.5.7.1.11", // subjectInfoAccess
]);

/**
 * An X.509 certificate. Obtain one with {@link parseCertificate} (cached by content:
 * the same bytes give the same object).
 *
 * @example
 * ```ts
 * const cert = parseCertificate(der);
 * console.log(cert.subject, cert.emails, cert.policies, cert.isValidAt(new Date()));
 * console.log(await cert.fingerprint("SHA-256"));
 * ```
 */
export class Certificate {
  /** The DER encoding (a private copy). */
  readonly der: Uint8Array;
  /** X.509 version: 1, 2 or 3. */
  readonly version: number;
  /** Serial number, lower-case hex without sign octet (e.g. `2a90b10d6ca62784`). */
  readonly serialNumber: string;
  /** Subject DN, e.g. `C=IT, O=Aruba PEC S.p.A., CN=Posta Certificata ARUBA PEC`. */
  readonly subject: string;
  /** Issuer DN, same form. */
  readonly issuer: string;
  /** Subject DN, parsed. */
  readonly subjectName: DistinguishedName;
  /** Issuer DN, parsed. */
  readonly issuerName: DistinguishedName;
  /** Start of validity. */
  readonly notBefore: Date;
  /** End of validity. */
  readonly notAfter: Date;
  /** Signature algorithm of the certificate, e.g. `sha256WithRSAEncryption`. */
  readonly signatureAlgorithm: string;
  /** The subject public key. */
  readonly publicKey: PublicKeyDescription;
  /** Every subjectAltName entry. */
  readonly subjectAltNames: readonly GeneralName[];
  /** The rfc822Name entries of subjectAltName (PEC: the gestore's address), plus `emailAddress` attributes of the subject. */
  readonly emails: readonly string[];
  /** keyUsage bits set, or undefined when the extension is absent. */
  readonly keyUsage?: readonly KeyUsage[];
  /** Whether keyUsage is marked critical. */
  readonly keyUsageCritical: boolean;
  /** extendedKeyUsage purposes (dotted OIDs), or undefined when absent. */
  readonly extendedKeyUsage?: readonly string[];
  /** certificatePolicies OIDs, or undefined when absent. */
  readonly policies?: readonly string[];
  /** basicConstraints, or undefined when absent. */
  readonly basicConstraints?: BasicConstraints;
  /** subjectKeyIdentifier, lower-case hex. */
  readonly subjectKeyIdentifier?: string;
  /** authorityKeyIdentifier keyIdentifier, lower-case hex. */
  readonly authorityKeyIdentifier?: string;
  /** nameConstraints, when present. */
  readonly nameConstraints?: NameConstraints;
  /** URIs of the cRLDistributionPoints (for callers who fetch CRLs themselves). */
  readonly crlDistributionPoints: readonly string[];
  /** All extensions, in order. */
  readonly extensions: readonly CertificateExtension[];

  private constructor(der: Uint8Array) {
    const r = new BerReader(der);
    const [tbsT, algT, sigT] = r.expect(r.root(), TAG.SEQUENCE, "Certificate");
    if (!tbsT || !algT || !sigT) throw new BerError("Certificate: missing fields", 0);
    const tbs = r.expect(tbsT, TAG.SEQUENCE, "TBSCertificate");
    let i = 0;
    let version = 1;
    if (tbs[0]?.tag === TAG.CTX0) {
      version = r.smallInt(r.children(tbs[0])[0]!) + 1;
      i++;
    }
    const [serialT, innerAlgT, issuerT, validityT, subjectT, spkiT] = tbs.slice(i, i + 6);
    if (!serialT || !innerAlgT || !issuerT || !validityT || !subjectT || !spkiT) throw new BerError("TBSCertificate: missing fields", tbsT.start);
    this.der = der;
    this.version = version;
    this.serialNumber = r.integerHex(serialT);
    this.issuerName = readName(r, issuerT);
    this.subjectName = readName(r, subjectT);
    this.issuer = formatName(this.issuerName);
    this.subject = formatName(this.subjectName);
    const [nb, na] = r.expect(validityT, TAG.SEQUENCE, "Validity");
    if (!nb || !na) throw new BerError("Validity: missing fields", validityT.start);
    this.notBefore = r.time(nb);
    this.notAfter = r.time(na);

    const [sigAlgOidT, sigAlgParamsT] = r.expect(algT, TAG.SEQUENCE, "AlgorithmIdentifier");
    const sigAlgOid = r.oid(sigAlgOidT!);
    this.signatureAlgorithm = signatureAlgorithmName(sigAlgOid);
    const key = readSpki(r, spkiT);
    this.publicKey = key.description;

    // Extensions.
    const extensions: CertificateExtension[] = [];
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    for (const t of tbs.slice(i + 6)) {
      if (t.tag !== TAG.CTX3) continue;
      for (const ext of r.expect(r.children(t)[0]!, TAG.SEQUENCE, "Extensions")) {
        const parts = r.expect(ext, TAG.SEQUENCE, "Extension");
        const oid = r.oid(parts[0]!);
        if (seen.has(oid)) duplicates.add(oid);
        else seen.add(oid);
        let critical = false;
        let valueT = parts[1];
        if (valueT?.tag === TAG.BOOLEAN) {
          critical = r.boolean(valueT);
          valueT = parts[2];
        }
        if (!valueT || valueT.tag !== TAG.OCTET_STRING) throw new BerError("Extension: missing value", ext.start);
        extensions.push({ oid, critical, value: r.content(valueT) });
      }
    }
    this.extensions = extensions;

    let keyUsage: KeyUsage[] | undefined;
    let keyUsageCritical = false;
    let eku: string[] | undefined;
    let policies: string[] | undefined;
    let bc: BasicConstraints | undefined;
    let ski: string | undefined;
    let aki: string | undefined;
    let nc: NameConstraints | undefined;
    let san: GeneralName[] = [];
    const crlDps: string[] = [];
    const unknownCritical: string[] = [];
    for (const ext of extensions) {
      const er = new BerReader(ext.value);
      const root = (): Tlv => er.root();
      switch (ext.oid) {
        case X509.keyUsage: {
          const { bytes } = er.bits(root());
          keyUsage = KEY_USAGE_BITS.filter((_, bit) => (bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7)));
          keyUsageCritical = ext.critical;
          break;
        }
        case X509.extKeyUsage:
          eku = er.expect(root(), TAG.SEQUENCE, "ExtKeyUsage").map((t) => er.oid(t));
          break;
        case X509.certificatePolicies:
          policies = er.expect(root(), TAG.SEQUENCE, "CertificatePolicies").map((p) => er.oid(er.children(p)[0]!));
          break;
        case X509.basicConstraints: {
          const kids = er.expect(root(), TAG.SEQUENCE, "BasicConstraints");
          let ca = false;
          let pathLength: number | undefined;
          for (const k of kids) {
            if (k.tag === TAG.BOOLEAN) ca = er.boolean(k);
            else if (k.tag === TAG.INTEGER) pathLength = er.smallInt(k);
          }
          bc = pathLength === undefined ? { ca } : { ca, pathLength };
          break;
        }
        case X509.subjectKeyIdentifier:
          ski = toHex(er.octets(root()));
          break;
        case X509.authorityKeyIdentifier:
          for (const k of er.expect(root(), TAG.SEQUENCE, "AuthorityKeyIdentifier")) if (k.tag === 0x80) aki = toHex(er.content(k));
          break;
        case X509.subjectAltName:
          san = readGeneralNames(er, root());
          break;
        case X509.nameConstraints: {
          const permitted: GeneralName[] = [];
          const excluded: GeneralName[] = [];
          for (const k of er.expect(root(), TAG.SEQUENCE, "NameConstraints")) {
            const target = k.tag === TAG.CTX0 ? permitted : k.tag === TAG.CTX1 ? excluded : undefined;
            if (!target) continue;
            for (const sub of er.children(k)) target.push(readGeneralName(er, er.children(sub)[0]!));
          }
          nc = { permitted, excluded };
          break;
        }
        case X509.crlDistributionPoints:
          for (const dp of er.expect(root(), TAG.SEQUENCE, "CRLDistributionPoints")) {
            for (const f of er.children(dp)) {
              if (f.tag !== TAG.CTX0) continue;
              for (const dpn of er.children(f)) {
                if (dpn.tag !== TAG.CTX0) continue;
                for (const g of er.children(dpn)) {
                  const gn = readGeneralName(er, g);
                  if (gn.type === "uniformResourceIdentifier") crlDps.push(gn.value);
                }
              }
            }
          }
          break;
        default:
          if (ext.critical && !UNDERSTOOD.has(ext.oid)) unknownCritical.push(ext.oid);
      }
    }
    this.keyUsage = keyUsage;
    this.keyUsageCritical = keyUsageCritical;
    this.extendedKeyUsage = eku;
    this.policies = policies;
    this.basicConstraints = bc;
    this.subjectKeyIdentifier = ski;
    this.authorityKeyIdentifier = aki;
    this.nameConstraints = nc;
    this.subjectAltNames = san;
    this.crlDistributionPoints = crlDps;
    const emails = san.filter((g) => g.type === "rfc822Name").map((g) => g.value);
    for (const rdn of this.subjectName) for (const a of rdn) if (a.oid === X509.emailAddress && !emails.includes(a.value)) emails.push(a.value);
    this.emails = emails;

    const subjectRdns = rdnKeys(this.subjectName);
    const issuerRdns = rdnKeys(this.issuerName);
    const sig = r.bits(sigT);
    internals.set(this, {
      tbs: r.raw(tbsT),
      sigAlgOid,
      sigAlgParams: sigAlgParamsT && sigAlgParamsT.tag !== TAG.NULL ? r.raw(sigAlgParamsT) : undefined,
      signature: sig.bytes,
      key: key.data,
      subjectKey: subjectRdns.join("\u0000"),
      issuerKey: issuerRdns.join("\u0000"),
      subjectRdns,
      issuerRdns,
      unknownCritical,
      duplicateExtensions: [...duplicates],
      // Compared as encoded: OpenSSL also tells absent parameters from NULL ones here.
      algorithmsDiffer: !equalBytes(r.raw(innerAlgT), r.raw(algT)),
      checkedBy: new WeakMap(),
      fingerprints: new Map(),
    });
  }

  /** @internal Parses without the cache; use {@link parseCertificate}. */
  static parseUncached(der: Uint8Array): Certificate {
    return new Certificate(der);
  }

  /** Whether subject and issuer are the same name (a root, or a self-issued key rollover certificate). */
  get selfIssued(): boolean {
    const i = internals.get(this)!;
    return i.subjectKey === i.issuerKey;
  }

  /** Whether `date` falls within notBefore … notAfter (inclusive). */
  isValidAt(date: Date): boolean {
    const t = date.getTime();
    return t >= this.notBefore.getTime() && t <= this.notAfter.getTime();
  }

  /**
   * Hex fingerprint (lower case) of the DER: `SHA-1` is what IGPEC's
   * `providerCertificateHash` holds. Cached per certificate.
   *
   * @example
   * ```ts
   * const sha1 = await cert.fingerprint("SHA-1"); // "3666d9ec4e63…"
   * ```
   */
  fingerprint(algorithm: "SHA-1" | "SHA-256", crypto: CryptoLike = globalThis.crypto): Promise<string> {
    const cache = internals.get(this)!.fingerprints;
    let p = cache.get(algorithm);
    if (!p) {
      p = digest(crypto, algorithm, this.der).then(toHex);
      cache.set(algorithm, p);
      p.catch(() => cache.delete(algorithm));
    }
    return p;
  }

  /** PEM text (`-----BEGIN CERTIFICATE-----`, 64-column base64, LF line ends). */
  toPem(): string {
    return `-----BEGIN CERTIFICATE-----\n${encodeBase64(this.der, 64).replace(/\r\n/g, "\n")}-----END CERTIFICATE-----\n`;
  }

  /** The subject, for logs. */
  toString(): string {
    return this.subject;
  }
}

function readSpki(r: BerReader, spkiT: Tlv): { description: PublicKeyDescription; data: PublicKeyData } {
  const [algT, keyT] = r.expect(spkiT, TAG.SEQUENCE, "SubjectPublicKeyInfo");
  if (!algT || !keyT) throw new BerError("SubjectPublicKeyInfo: missing fields", spkiT.start);
  const [oidT, paramsT] = r.children(algT);
  const oid = r.oid(oidT!);
  const spki = r.raw(spkiT);
  const { bytes } = r.bits(keyT);
  const keys = new WeakMap<SubtleCrypto, Map<string, Promise<CryptoKey | undefined>>>();
  if (oid === SIG.rsaEncryption || oid === SIG.rsaPSS) {
    const kr = new BerReader(bytes);
    const [nT, eT] = kr.expect(kr.root(), TAG.SEQUENCE, "RSAPublicKey");
    if (!nT || !eT) throw new BerError("RSAPublicKey: missing fields", 0);
    let n = kr.content(nT);
    while (n.length > 1 && n[0] === 0) n = n.subarray(1);
    let e = kr.content(eT);
    while (e.length > 1 && e[0] === 0) e = e.subarray(1);
    const size = n.length * 8 - Math.clz32(n[0]!) + 24;
    const rsaSpki =
      oid === SIG.rsaEncryption
        ? spki
        : encodeTlv(TAG.SEQUENCE, new Uint8Array([...RSA_ALG_ID, ...encodeTlv(TAG.BIT_STRING, new Uint8Array([0, ...bytes]))]));
    return {
      description: { algorithm: oid === SIG.rsaPSS ? "RSA-PSS" : "RSA", size },
      data: { kind: "RSA", oid, spki, rsaSpki, n, e, pssOnly: oid === SIG.rsaPSS, keys },
    };
  }
  if (oid === SIG.ecPublicKey) {
    const curveOid = paramsT?.tag === TAG.OID ? r.oid(paramsT) : "";
    const curve = CURVES[curveOid] ?? curveOid;
    const size = curve === "P-256" ? 256 : curve === "P-384" ? 384 : curve === "P-521" ? 521 : 0;
    return {
      description: { algorithm: "EC", size, curve },
      data: { kind: "EC", oid, spki, curve, point: bytes, pssOnly: false, keys },
    };
  }
  const name = oid === "1.3.101.112" ? "Ed25519" : oid === "1.3.101.113" ? "Ed448" : oid;
  return { description: { algorithm: name, size: 0 }, data: { kind: "other", oid, spki, pssOnly: false, keys } };
}

/** DER of AlgorithmIdentifier { rsaEncryption, NULL }. */
const RSA_ALG_ID = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

const cache = new ContentCache<Certificate>(2048);

/**
 * Parses a DER certificate. Cached by content: parsing the same bytes again returns
 * the same object (with its imported keys and checked signatures).
 *
 * @throws PecError `ERR_CERT_MALFORMED` when the bytes are not an X.509 certificate.
 *
 * @example
 * ```ts
 * const cert = parseCertificate(der);
 * console.log(cert.subject, cert.emails, cert.notAfter);
 * ```
 */
export function parseCertificate(der: Uint8Array): Certificate {
  if (!(der instanceof Uint8Array)) throw new PecError("ERR_INVALID_ARGUMENT", `parseCertificate: expected a Uint8Array; ${got(der)}`);
  try {
    return cache.get(der, (copy) => Certificate.parseUncached(copy));
  } catch (e) {
    if (e instanceof PecError) throw e;
    throw new PecError("ERR_CERT_MALFORMED", `not an X.509 certificate: ${(e as Error).message}`, e instanceof BerError ? { offset: e.offset } : {}, { cause: e });
  }
}

/** One PEM block: its label (`CERTIFICATE`, `X509 CRL`, …) and DER bytes. */
export interface PemBlock {
  /** The label between `BEGIN ` and the dashes. */
  readonly label: string;
  /** Decoded bytes. */
  readonly der: Uint8Array;
  /** 1-based line of the BEGIN line. */
  readonly line: number;
}

/**
 * Splits PEM text into its blocks (text outside blocks is ignored, as OpenSSL does).
 *
 * @example
 * ```ts
 * const bundle = await readFile("ca-bundle.pem", "utf8");
 * for (const block of parsePem(bundle)) console.log(block.label, block.der.length, "bytes at line", block.line);
 * ```
 */
export function parsePem(text: string): PemBlock[] {
  // By index: the expression /-----BEGIN (L)-----([\s\S]*?)-----END \1-----/g scanned the rest
  // of the text from every BEGIN without its END, and counting lines from the start for every
  // block was quadratic too. Each END is indexed once, then each BEGIN takes the first END of its
  // label after it.
  const ends = new Map<string, number[]>();
  for (let at = text.indexOf("-----END "); at >= 0; at = text.indexOf("-----END ", at + 1)) {
    const label = pemLabel(text, at + 9);
    if (label === undefined) continue;
    const list = ends.get(label);
    if (list) list.push(at);
    else ends.set(label, [at]);
  }
  const used = new Map<string, number>();
  const out: PemBlock[] = [];
  let line = 1;
  let counted = 0;
  for (let at = text.indexOf("-----BEGIN "); at >= 0; ) {
    const label = pemLabel(text, at + 11);
    const list = label === undefined ? undefined : ends.get(label);
    if (label === undefined || list === undefined) {
      at = text.indexOf("-----BEGIN ", at + 1);
      continue;
    }
    const bodyStart = at + 11 + label.length + 5;
    let k = used.get(label) ?? 0;
    while (k < list.length && list[k]! < bodyStart) k++;
    used.set(label, k);
    const end = list[k];
    if (end === undefined) {
      at = text.indexOf("-----BEGIN ", at + 1);
      continue;
    }
    let body = text.slice(bodyStart, end);
    // RFC 1421 headers (Proc-Type: …) end at a blank line; certificates never have them.
    if (/^[\s]*[A-Za-z-]+:/.test(body)) body = body.replace(/^[\s\S]*?\r?\n\r?\n/, "");
    for (let i = counted; i < at; i++) if (text.charCodeAt(i) === 0x0a) line++;
    counted = at;
    out.push({ label, der: decodeBase64(body), line });
    at = text.indexOf("-----BEGIN ", end + 9 + label.length + 5);
  }
  return out;
}

/** The PEM label at `from` (`[A-Z0-9 #]+` followed by five dashes), or undefined. */
function pemLabel(text: string, from: number): string | undefined {
  let i = from;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x20 || c === 0x23)) break;
  }
  return i > from && text.startsWith("-----", i) ? text.slice(from, i) : undefined;
}

/**
 * Parses every certificate of PEM text (`CERTIFICATE`, `X509 CERTIFICATE`,
 * `TRUSTED CERTIFICATE` blocks).
 *
 * @throws PecError `ERR_CERT_MALFORMED` when a block does not decode.
 * @example
 * ```ts
 * const [ca] = parsePemCertificates(await readFile("ca.pem", "utf8"));
 * console.log(ca?.subject, ca?.notAfter.toISOString());
 * ```
 */
export function parsePemCertificates(text: string): Certificate[] {
  const out: Certificate[] = [];
  for (const b of parsePem(text)) {
    if (!/^(X509 |TRUSTED )?CERTIFICATE$/.test(b.label)) continue;
    try {
      out.push(parseCertificate(trustedCertPrefix(b)));
    } catch (e) {
      throw new PecError("ERR_CERT_MALFORMED", `PEM block at line ${b.line}: ${(e as Error).message}`, { line: b.line }, { cause: e });
    }
  }
  return out;
}

/** OpenSSL's TRUSTED CERTIFICATE is the certificate followed by trust settings: keep the certificate. */
function trustedCertPrefix(b: PemBlock): Uint8Array {
  if (b.label !== "TRUSTED CERTIFICATE") return b.der;
  try {
    return b.der.subarray(0, new BerReader(b.der).at(0).end);
  } catch {
    return b.der;
  }
}

