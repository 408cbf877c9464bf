/**
 * X.500 distinguished names and GeneralNames.
 *
 * String form: `C=IT, O=Agenzia per l'Italia Digitale, CN=AgID CA1`, i.e. the RDNs in
 * the order they are encoded (most significant first, as OpenSSL prints with
 * `-nameopt oneline` style and as the PEC rules quote issuers), short attribute names,
 * `", "` between RDNs and `" + "` inside a multi-valued RDN. Special characters are
 * escaped with a backslash as RFC 4514 does (`,` `+` `"` `\` `<` `>` `;`, and a leading
 * `#` or space, a trailing space). This is not RFC 4514's reversed order: gestori and
 * the PEC rules read names forwards, and users compare with what `openssl x509
 * -subject` shows.
 *
 * @module
 */

import { BerError, TAG, type BerReader, type Tlv } from "./ber.js";
import { equalBytes, toHex } from "../util/bytes.js";
import { fnv } from "./cache.js";

/** One attribute of a name, e.g. `{ type: "CN", oid: "2.5.4.3", value: "AgID CA1" }`. */
export interface NameAttribute {
  /** Short name (`CN`, `O`, `emailAddress`, …) or the dotted OID when unknown. */
  readonly type: string;
  /** Dotted OID of the attribute type. */
  readonly oid: string;
  /** Decoded value; `#` + hex of the DER value when it is not a string type. */
  readonly value: string;
}

/** A distinguished name: RDNs in encoding order, each a set of attributes (almost always one). */
export type DistinguishedName = readonly (readonly NameAttribute[])[];

/** Kinds of GeneralName (RFC 5280 §4.2.1.6). */
export type GeneralNameType =
  | "otherName"
  | "rfc822Name"
  | "dNSName"
  | "x400Address"
  | "directoryName"
  | "ediPartyName"
  | "uniformResourceIdentifier"
  | "iPAddress"
  | "registeredID";

/** A GeneralName: e-mail address, DNS name, URI, IP address, directory name, … */
export interface GeneralName {
  /** Which alternative. */
  readonly type: GeneralNameType;
  /**
   * Text form: the address, name or URI; dotted form for an IP address (with `/mask`
   * in name constraints); the DN string for a directoryName; hex for the rest.
   */
  readonly value: string;
  /** The parsed name, for `directoryName`. */
  readonly name?: DistinguishedName;
  /** Raw octets, for `iPAddress` (address, or address and mask in name constraints). */
  readonly bytes?: Uint8Array;
}

const NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.13": "description",
  "2.5.4.15": "businessCategory",
  "2.5.4.17": "postalCode",
  "2.5.4.42": "GN",
  "2.5.4.43": "initials",
  "2.5.4.44": "generationQualifier",
  "2.5.4.46": "dnQualifier",
  "2.5.4.65": "pseudonym",
  "2.5.4.97": "organizationIdentifier",
  "1.2.840.113549.1.9.1": "emailAddress",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
};

const STRING_TAGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1a, 0x1c, 0x1e, 0x12, 0x15, 0x19, 0x1b]);

/** Parses a Name (SEQUENCE OF RDN). */
export function readName(r: BerReader, t: Tlv): DistinguishedName {
  const rdns: NameAttribute[][] = [];
  for (const rdn of r.expect(t, TAG.SEQUENCE, "Name")) {
    const set: NameAttribute[] = [];
    for (const ava of r.expect(rdn, TAG.SET, "RDN")) {
      const [type, value] = r.expect(ava, TAG.SEQUENCE, "AttributeTypeAndValue");
      if (!type || !value) throw new BerError("bad AttributeTypeAndValue", ava.start);
      const oid = r.oid(type);
      const text = STRING_TAGS.has(value.tag) ? r.string(value) : "#" + toHex(r.raw(value));
      set.push({ type: NAMES[oid] ?? oid, oid, value: text });
    }
    rdns.push(set);
  }
  return rdns;
}

function escapeValue(v: string): string {
  if (v.startsWith("#") && /^#[0-9a-f]+$/.test(v)) return v;
  let out = v.replace(/[,+"\\<>;]/g, (c) => "\\" + c);
  if (out.startsWith("#") || out.startsWith(" ")) out = "\\" + out;
  if (out.endsWith(" ") && out.length > 1) out = out.slice(0, -1) + "\\ ";
  return out;
}

/**
 * String form of a name (see the module documentation).
 *
 * @example
 * ```ts
 * formatName(cert.subjectName); // "C=IT, O=Gestore Alfa S.p.A., CN=Posta Certificata Gestore Alfa S.p.A."
 * ```
 */
export function formatName(name: DistinguishedName): string {
  return name.map((rdn) => rdn.map((a) => `${a.type}=${escapeValue(a.value)}`).join(" + ")).join(", ");
}

/** Case-, space- and string-type-insensitive form of one value, for comparisons (RFC 5280 §7.1, simplified). */
function normalizeValue(v: string): string {
  return v.normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase();
}

/** Comparison key of each RDN, in order. */
export function rdnKeys(name: DistinguishedName): string[] {
  return name.map((rdn) =>
    rdn
      .map((a) => a.oid + "=" + normalizeValue(a.value))
      .sort()
      .join("+"),
  );
}

const nameCache = new Map<number, { bytes: Uint8Array; name: DistinguishedName; text: string; key: string }[]>();

/** {@link readName} plus its string form and comparison key, memoised by encoding (issuer names recur in every SignerInfo). */
export function readNameCached(r: BerReader, t: Tlv): { name: DistinguishedName; text: string; key: string } {
  const k = fnv(r.buf, t.start, t.end);
  const bucket = nameCache.get(k);
  const raw = r.buf.subarray(t.start, t.end);
  if (bucket) for (const e of bucket) if (equalBytes(e.bytes, raw)) return e;
  const name = readName(r, t);
  const entry = { bytes: raw.slice(), name, text: formatName(name), key: nameKey(name) };
  if (nameCache.size >= 1024) nameCache.clear();
  if (bucket) bucket.push(entry);
  else nameCache.set(k, [entry]);
  return entry;
}

/** Comparison key of a whole name: equal keys mean the same name for path building. */
export function nameKey(name: DistinguishedName): string {
  return rdnKeys(name).join("\u0000");
}

const GN_TYPES: readonly GeneralNameType[] = [
  "otherName",
  "rfc822Name",
  "dNSName",
  "x400Address",
  "directoryName",
  "ediPartyName",
  "uniformResourceIdentifier",
  "iPAddress",
  "registeredID",
];

function formatIp(b: Uint8Array): string {
  const fmt = (x: Uint8Array): string => {
    if (x.length === 4) return Array.from(x).join(".");
    const groups: string[] = [];
    for (let i = 0; i + 1 < x.length; i += 2) groups.push(((x[i]! << 8) | x[i + 1]!).toString(16));
    return groups.join(":");
  };
  if (b.length === 8 || b.length === 32) return fmt(b.subarray(0, b.length / 2)) + "/" + fmt(b.subarray(b.length / 2));
  return fmt(b);
}

/** Parses one GeneralName. */
export function readGeneralName(r: BerReader, t: Tlv): GeneralName {
  if ((t.tag & 0xc0) !== 0x80) throw new BerError("GeneralName: not a context tag", t.start);
  const type = GN_TYPES[t.tagNumber];
  if (!type) throw new BerError("GeneralName: unknown alternative", t.start);
  switch (type) {
    case "rfc822Name":
    case "dNSName":
    case "uniformResourceIdentifier":
      return { type, value: r.string({ ...t, tag: 0x16 }) };
    case "iPAddress": {
      const bytes = r.content(t);
      return { type, value: formatIp(bytes), bytes };
    }
    case "directoryName": {
      const inner = r.children(t)[0];
      if (!inner) throw new BerError("GeneralName: empty directoryName", t.start);
      const name = readName(r, inner);
      return { type, value: formatName(name), name };
    }
    case "registeredID":
      return { type, value: r.oid({ ...t, tag: TAG.OID }) };
    default:
      return { type, value: toHex(r.raw(t)) };
  }
}

/** Parses GeneralNames (SEQUENCE OF GeneralName), or the content of an IMPLICIT one. */
export function readGeneralNames(r: BerReader, t: Tlv): GeneralName[] {
  return r.children(t).map((c) => readGeneralName(r, c));
}

