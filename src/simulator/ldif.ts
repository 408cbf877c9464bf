/**
 * An IGPEC-style LDIF (spec §7, RFC 6109 §4.5 schema) describing test gestori, so the
 * trust store's `fromLdif` can be tested end to end and the simulator can publish its
 * gestori the way AgID does.
 *
 * @module
 */

import { PecError } from "../errors.js";
import { encodeBase64 } from "../util/base64.js";
import { asBufferSource, toHex, utf8Bytes } from "../util/bytes.js";
import { isDenseArray } from "../util/arrays.js";
import { quoted } from "../util/text.js";

/** One gestore entry (or secondary environment, with `unit`). */
export interface IgpecProvider {
  /** `providerName`, e.g. `Gestore Alfa S.p.A.`. */
  name: string;
  /** DER signing certificates (`providerCertificate;binary`), each with its `providerCertificateHash`. */
  certificates: Uint8Array[];
  /** `mailReceipt`: the service mailbox for presa in carico and virus notices. */
  mailReceipt: string;
  /** `managedDomains`: the PEC domains (at least one). */
  domains: string[];
  /** `providerUnit`: makes this a secondary environment entry under the gestore. */
  unit?: string;
  /** `description`. */
  description?: string;
  /** `LDIFLocationURL` of the gestore's own LDIF (main entries only: RFC 6109 forbids it on units). */
  ldifLocationUrl?: string;
}

/** Options of {@link buildIgpecLdif}. */
export interface IgpecLdifOptions {
  /** Write a wrong `providerCertificateHash` for every certificate (to test that readers refuse them). */
  corruptHash?: boolean;
  /** Write hashes in lower case (both cases occur in the wild; default upper, as RFC 6109's example). */
  lowercaseHash?: boolean;
  /** `LDIFLocationURL` of `o=postacert`. Default `https://igpec.postacert.test/igpec.ldif.p7m`. */
  locationUrl?: string;
  /** WebCrypto implementation (for SHA-1). Default `globalThis.crypto`. */
  crypto?: Crypto;
}

const LINE = 76;

function invalid(message: string): PecError {
  return new PecError("ERR_INVALID_ARGUMENT", message);
}

/** RFC 2849 SAFE-STRING: ASCII without NUL/CR/LF, not starting with space, ':' or '<', not ending with space. */
function isSafe(value: string): boolean {
  return value === "" || (/^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value) && !/^[ :<]/.test(value) && !/ $/.test(value));
}

/** Folds a line to {@link LINE} columns: continuation lines start with one space (RFC 2849). */
function fold(line: string): string {
  if (line.length <= LINE) return line;
  const out = [line.slice(0, LINE)];
  for (let i = LINE; i < line.length; i += LINE - 1) out.push(" " + line.slice(i, i + LINE - 1));
  return out.join("\n");
}

function attr(name: string, value: string): string {
  return fold(isSafe(value) ? `${name}: ${value}` : `${name}:: ${encodeBase64(utf8Bytes(value))}`);
}

function binaryAttr(name: string, value: Uint8Array): string {
  return fold(`${name}:: ${encodeBase64(value)}`);
}

/** RFC 4514 escaping of an attribute value inside a DN. */
function dnValue(v: string): string {
  let out = v.replace(/([\\,+"<>;])/g, "\\$1");
  if (/^[ #]/.test(out)) out = "\\" + out;
  if (/ $/.test(out)) out = out.slice(0, -1) + "\\ ";
  return out;
}

function text(v: unknown, what: string): string {
  if (typeof v !== "string" || v.trim() === "" || /[\0\r\n]/.test(v)) throw invalid(`${what} must be a non-empty one-line string`);
  return v;
}

const DOT_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*";
const ADDR_SPEC = new RegExp(`^${DOT_ATOM}@${DOT_ATOM}$`);
const DOMAIN = new RegExp(`^${DOT_ATOM}$`);

/**
 * Builds an IGPEC LDIF (RFC 2849, LF line ends, UTF-8): the base entry `o=postacert`,
 * then one `providerName=<name>,o=postacert` entry per gestore (or
 * `providerUnit=<unit>,providerName=<name>,o=postacert` for a secondary environment)
 * with `providerCertificateHash` (hex SHA-1 of the DER) before each
 * `providerCertificate;binary::` (base64), `mailReceipt`, `managedDomains`. Lines are
 * folded at 76 columns; values that are not LDIF-safe (non-ASCII names) are base64.
 *
 * @example
 * ```ts
 * const ldif = await buildIgpecLdif([
 *   { name: alfa.name, certificates: [alfa.certificate], mailReceipt: `ricevute@${alfa.domain}`, domains: [alfa.domain] },
 * ]);
 * const store = await TrustStore.fromLdif(ldif);
 * ```
 */
export async function buildIgpecLdif(providers: readonly IgpecProvider[], opts: IgpecLdifOptions = {}): Promise<string> {
  if (!isDenseArray(providers)) throw invalid("providers must be an array");
  const crypto = opts.crypto ?? globalThis.crypto;
  if (!crypto?.subtle) throw new PecError("ERR_UNSUPPORTED", "WebCrypto (crypto.subtle) is not available; pass opts.crypto");
  const location = text(opts.locationUrl ?? "https://igpec.postacert.test/igpec.ldif.p7m", "locationUrl");

  const entries: string[][] = [
    [
      "dn: o=postacert",
      "objectclass: top",
      "objectclass: organization",
      "objectClass: LDIFLocationURLObject",
      "o: postacert",
      attr("LDIFLocationURL", location),
      "description: Base root for the PEC providers directory (postacert test PKI)",
    ],
  ];
  const seen = new Set<string>();
  for (const p of providers) {
    if (typeof p !== "object" || p === null) throw invalid("each provider must be an object");
    const name = text(p.name, "provider name");
    const unit = p.unit === undefined ? undefined : text(p.unit, "provider unit");
    const mailReceipt = text(p.mailReceipt, "mailReceipt");
    if (!ADDR_SPEC.test(mailReceipt)) throw invalid(`mailReceipt must be a plain addr-spec, got ${JSON.stringify(mailReceipt)}`);
    if (!isDenseArray(p.domains) || p.domains.length === 0) throw invalid(`provider ${name} needs at least one domain`);
    for (const d of p.domains) if (typeof d !== "string" || !DOMAIN.test(d)) throw invalid(`invalid domain ${quoted(d)}`);
    if (!isDenseArray(p.certificates) || p.certificates.length === 0) throw invalid(`provider ${name} needs at least one certificate`);
    if (unit !== undefined && p.ldifLocationUrl !== undefined) throw invalid("a providerUnit entry must not carry LDIFLocationURL (RFC 6109)");

    const dn = (unit !== undefined ? `providerUnit=${dnValue(unit)},` : "") + `providerName=${dnValue(name)},o=postacert`;
    const key = dn.toLowerCase();
    if (seen.has(key)) throw invalid(`duplicate entry ${dn}`);
    seen.add(key);

    const lines = [attr("dn", dn), "objectclass: top", "objectclass: provider", attr("providerName", name)];
    if (unit !== undefined) lines.push(attr("providerUnit", unit));
    for (const cert of p.certificates) {
      if (!(cert instanceof Uint8Array) || cert.length === 0) throw invalid(`provider ${name}: certificates must be DER Uint8Arrays`);
      let hash = toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", asBufferSource(cert))));
      if (opts.corruptHash) hash = hash.slice(0, -1) + (hash.endsWith("0") ? "1" : "0");
      lines.push(`providerCertificateHash: ${opts.lowercaseHash ? hash : hash.toUpperCase()}`);
      lines.push(binaryAttr("providerCertificate;binary", cert));
    }
    lines.push(attr("mailReceipt", mailReceipt));
    if (p.ldifLocationUrl !== undefined) lines.push(attr("LDIFLocationURL", text(p.ldifLocationUrl, "ldifLocationUrl")));
    for (const d of p.domains) lines.push(attr("managedDomains", d));
    if (p.description !== undefined) lines.push(attr("description", text(p.description, "description")));
    entries.push(lines);
  }
  return entries.map((e) => e.join("\n") + "\n").join("\n");
}
