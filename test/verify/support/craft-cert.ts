// Hand-made X.509 certificates for the path checks the test PKI does not produce: name
// constraints and subject alternative names of every GeneralName form. One key pair can
// sign every certificate (paths are built by name), so only RSA generation is slow, once.
import { bits, cons, encodeDer, int, nul, octets, oid, prim, raw, seq, setOf, time, type AsnNode } from "../../../src/smime/asn1-der.js";
import { SIG, X509 } from "../../../src/smime/oids.js";
import { utf8Bytes } from "../../../src/util/bytes.js";

/** One GeneralName (RFC 5280 §4.2.1.6). `ip` is an address, or an address and a mask in a name constraint. */
export type Gn =
  | { email: string }
  | { dns: string }
  | { uri: string }
  | { ip: readonly number[] }
  | { dir: readonly (readonly [string, AttrValue])[] }
  | { registeredId: string };

/** Attribute types by the short names the tests write. */
const ATTR: Readonly<Record<string, string>> = { C: "2.5.4.6", O: "2.5.4.10", OU: "2.5.4.11", CN: X509.commonName, E: X509.emailAddress };

/** An attribute value as given: a string (UTF8String, or what CAs write for C and E), or a string type's tag and content octets. */
export type AttrValue = string | { tag: number; bytes: Uint8Array };

/** A Name of one attribute per RDN, as written (`[["C", "IT"], ["O", "Alfa"]]`). */
export function dn(rdns: readonly (readonly [string, AttrValue])[]): AsnNode {
  return seq(
    ...rdns.map(([type, value]) => {
      const id = ATTR[type] ?? type;
      if (typeof value !== "string") return setOf([seq(oid(id), prim(value.tag, value.bytes))]);
      // PrintableString for the country, IA5String for e-mail addresses, UTF8String otherwise: what CAs write.
      const tag = type === "C" ? 0x13 : type === "E" ? 0x16 : 0x0c;
      return setOf([seq(oid(id), prim(tag, utf8Bytes(value)))]);
    }),
  );
}

function generalName(g: Gn): AsnNode {
  if ("email" in g) return prim(0x81, utf8Bytes(g.email));
  if ("dns" in g) return prim(0x82, utf8Bytes(g.dns));
  if ("uri" in g) return prim(0x86, utf8Bytes(g.uri));
  if ("ip" in g) return prim(0x87, Uint8Array.from(g.ip));
  if ("dir" in g) return cons(0xa4, [dn(g.dir)]);
  const id = encodeDer(oid(g.registeredId));
  return prim(0x88, id.subarray(2));
}

/** What {@link craftCert} writes. */
export interface CertSpec {
  subject: readonly (readonly [string, AttrValue])[];
  /** Default: the subject (self-issued). */
  issuer?: readonly (readonly [string, AttrValue])[];
  /** The key the certificate certifies (SPKI DER). */
  spki: Uint8Array;
  /** The issuer's private key (RSASSA-PKCS1-v1_5 with SHA-256). */
  signWith: CryptoKey;
  ca?: boolean;
  san?: readonly Gn[];
  permitted?: readonly Gn[];
  excluded?: readonly Gn[];
  /** cRLDistributionPoints fullName URIs. */
  crlDp?: readonly string[];
  notBefore?: Date;
  notAfter?: Date;
  serial?: number;
}

function extension(id: string, critical: boolean, value: AsnNode): AsnNode {
  return critical ? seq(oid(id), prim(0x01, new Uint8Array([0xff])), octets(encodeDer(value))) : seq(oid(id), octets(encodeDer(value)));
}

/** A DER certificate as `spec` says, signed with `spec.signWith`. */
export async function craftCert(spec: CertSpec): Promise<Uint8Array> {
  const alg = seq(oid(SIG.sha256WithRSA), nul());
  const exts: AsnNode[] = [];
  if (spec.ca) {
    exts.push(extension(X509.basicConstraints, true, seq(prim(0x01, new Uint8Array([0xff])))));
    // keyCertSign and cRLSign (bits 5 and 6).
    exts.push(extension(X509.keyUsage, true, prim(0x03, new Uint8Array([1, 0x06]))));
  } else {
    exts.push(extension(X509.keyUsage, true, prim(0x03, new Uint8Array([7, 0x80]))));
  }
  if (spec.san?.length) exts.push(extension(X509.subjectAltName, false, seq(...spec.san.map(generalName))));
  if (spec.permitted?.length || spec.excluded?.length) {
    const subtrees = (tag: number, list: readonly Gn[] | undefined): AsnNode[] => (list?.length ? [cons(tag, list.map((g) => seq(generalName(g))))] : []);
    exts.push(extension(X509.nameConstraints, true, seq(...subtrees(0xa0, spec.permitted), ...subtrees(0xa1, spec.excluded))));
  }
  if (spec.crlDp?.length) exts.push(extension(X509.crlDistributionPoints, false, seq(...spec.crlDp.map((u) => seq(cons(0xa0, [cons(0xa0, [generalName({ uri: u })])]))))));
  const notBefore = spec.notBefore ?? new Date(Date.now() - 86_400_000);
  const notAfter = spec.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
  const tbs = encodeDer(
    seq(
      cons(0xa0, [int(2)]),
      int(spec.serial ?? 1),
      alg,
      dn(spec.issuer ?? spec.subject),
      seq(time(notBefore), time(notAfter)),
      dn(spec.subject),
      raw(spec.spki),
      cons(0xa3, [seq(...exts)]),
    ),
  );
  return signed(tbs, spec.signWith);
}

async function signed(tbs: Uint8Array<ArrayBuffer>, key: CryptoKey): Promise<Uint8Array> {
  const signature = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, tbs));
  return encodeDer(seq(raw(tbs), seq(oid(SIG.sha256WithRSA), nul()), bits(signature)));
}

/** One entry of a crafted CRL. */
export interface CrlEntrySpec {
  serial: number;
  revoked?: Date;
  /** certificateIssuer (an indirect CRL): this and the following entries are that CA's. */
  certificateIssuer?: readonly (readonly [string, AttrValue])[];
  /** A critical entry extension of this OID. */
  critical?: string;
  /** reasonCode (RFC 5280 §5.3.1): 6 certificateHold, 8 removeFromCRL. */
  reason?: number;
}

/** The issuingDistributionPoint of a crafted CRL. */
export interface IdpSpec {
  /** fullName URIs. */
  uris?: readonly string[];
  /** nameRelativeToCRLIssuer, an OU. */
  relative?: string;
  onlyUser?: boolean;
  onlyCa?: boolean;
  /** onlySomeReasons: keyCompromise only. */
  someReasons?: boolean;
  indirect?: boolean;
  onlyAttribute?: boolean;
}

/** A DER CRL of `issuer`, signed with `signWith`. */
export async function craftCrl(spec: {
  issuer: readonly (readonly [string, AttrValue])[];
  signWith: CryptoKey;
  entries?: readonly CrlEntrySpec[];
  /** deltaCRLIndicator with this base CRL number ("empty": an INTEGER with no content octets). */
  delta?: number | "empty";
  /** cRLNumber (default 2; "empty": an INTEGER with no content octets). */
  number?: number | "empty";
  idp?: IdpSpec;
  /** A critical CRL extension of this OID. */
  critical?: string;
  /** Default: two hours ago. */
  thisUpdate?: Date;
  /** Default: a day from now. */
  nextUpdate?: Date;
}): Promise<Uint8Array> {
  const yes = new Uint8Array([0xff]);
  const entries = (spec.entries ?? []).map((e) => {
    const exts: AsnNode[] = [];
    if (e.certificateIssuer) exts.push(extension("2.5.29.29", true, seq(generalName({ dir: e.certificateIssuer }))));
    if (e.critical) exts.push(extension(e.critical, true, nul()));
    if (e.reason !== undefined) exts.push(extension("2.5.29.21", false, prim(0x0a, new Uint8Array([e.reason]))));
    return seq(int(e.serial), time(e.revoked ?? new Date(Date.now() - 3_600_000)), ...(exts.length ? [seq(...exts)] : []));
  });
  const integer = (n: number | "empty"): AsnNode => (n === "empty" ? prim(0x02, new Uint8Array()) : int(n));
  const exts: AsnNode[] = [extension("2.5.29.20", false, integer(spec.number ?? 2))];
  if (spec.delta !== undefined) exts.push(extension("2.5.29.27", true, integer(spec.delta)));
  const idp = spec.idp;
  if (idp) {
    const fields: AsnNode[] = [];
    if (idp.uris) fields.push(cons(0xa0, [cons(0xa0, idp.uris.map((u) => generalName({ uri: u })))]));
    if (idp.relative) fields.push(cons(0xa0, [cons(0xa1, [seq(oid("2.5.4.11"), prim(0x0c, utf8Bytes(idp.relative)))])]));
    if (idp.onlyUser) fields.push(prim(0x81, yes));
    if (idp.onlyCa) fields.push(prim(0x82, yes));
    if (idp.someReasons) fields.push(prim(0x83, new Uint8Array([6, 0x40])));
    if (idp.indirect) fields.push(prim(0x84, yes));
    if (idp.onlyAttribute) fields.push(prim(0x85, yes));
    exts.push(extension("2.5.29.28", true, seq(...fields)));
  }
  if (spec.critical) exts.push(extension(spec.critical, true, nul()));
  const now = Date.now();
  const tbs = encodeDer(
    seq(
      int(1),
      seq(oid(SIG.sha256WithRSA), nul()),
      dn(spec.issuer),
      time(spec.thisUpdate ?? new Date(now - 7_200_000)),
      time(spec.nextUpdate ?? new Date(now + 86_400_000)),
      ...(entries.length ? [seq(...entries)] : []),
      cons(0xa0, [seq(...exts)]),
    ),
  );
  return signed(tbs, spec.signWith);
}

/** One RSA-2048 key pair and its SPKI, for every crafted certificate of a test file. */
export async function craftKeys(): Promise<{ keys: CryptoKeyPair; spki: Uint8Array }> {
  const keys = await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign", "verify"]);
  return { keys, spki: new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey)) };
}
