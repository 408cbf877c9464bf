/**
 * A small LDIF (RFC 2849) reader, enough for the IGPEC export of the PEC gestori
 * (RFC 6109 §4.5): content records, folded lines, `::` base64 values, comments,
 * case-insensitive attribute names with options (`providerCertificate;binary`).
 * Lenient where real files are: missing blank lines between entries (a new `dn:`
 * starts a new entry), extra blank lines, CRLF or LF.
 *
 * @module
 */

import { PecError } from "../errors.js";
import { decodeBase64 } from "../util/base64.js";
import { utf8, utf8Bytes } from "../util/bytes.js";

/** One attribute value of an LDIF entry. */
export interface LdifValue {
  /** The value as text (UTF-8 decoded when it was base64). */
  readonly text: string;
  /** The value as bytes (base64-decoded, or the UTF-8 of the text). */
  readonly bytes: Uint8Array;
  /** Whether it was written base64 (`::`). */
  readonly base64: boolean;
  /** Options written after the name, lower case (e.g. `["binary"]`). */
  readonly options: readonly string[];
}

/** One LDIF content record. */
export interface LdifEntry {
  /** The entry's DN as written. */
  readonly dn: string;
  /** 1-based line of the `dn:` line. */
  readonly line: number;
  /** Values by attribute name in lower case, options stripped (`providercertificate`). */
  readonly attributes: ReadonlyMap<string, readonly LdifValue[]>;
}

/**
 * Parses LDIF text into its content records. Change records other than `add` are
 * skipped.
 *
 * @throws PecError `ERR_TRUST_MALFORMED` for a line that is not `name: value` (with its line number).
 *
 * @example
 * ```ts
 * for (const e of parseLdif(ldif)) console.log(e.dn, e.attributes.get("providername")?.[0]?.text);
 * ```
 */
export function parseLdif(text: string): LdifEntry[] {
  if (typeof text !== "string") throw new PecError("ERR_INVALID_ARGUMENT", "parseLdif: expected a string");
  const physical = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  // Unfold: a line starting with one space continues the previous one.
  const lines: { text: string; line: number }[] = [];
  for (let i = 0; i < physical.length; i++) {
    const l = physical[i]!;
    if (l.startsWith(" ") && lines.length > 0 && lines[lines.length - 1]!.text !== "") {
      lines[lines.length - 1]!.text += l.slice(1);
    } else lines.push({ text: l, line: i + 1 });
  }
  const entries: LdifEntry[] = [];
  let current: { dn: string; line: number; attributes: Map<string, LdifValue[]>; skip: boolean } | undefined;
  const flush = (): void => {
    if (current && !current.skip) entries.push({ dn: current.dn, line: current.line, attributes: current.attributes });
    current = undefined;
  };
  for (const { text: l, line } of lines) {
    if (l.trim() === "") {
      flush();
      continue;
    }
    if (l.startsWith("#")) continue;
    if (l === "-") continue; // separator inside modify records (skipped anyway)
    const m = /^([A-Za-z0-9][A-Za-z0-9.;-]*)\s*:(:|<)?\s?(.*)$/.exec(l);
    if (!m) throw new PecError("ERR_TRUST_MALFORMED", `LDIF line ${line}: expected "name: value"`, { line });
    const [name, ...options] = m[1]!.toLowerCase().split(";");
    const kind = m[2];
    const raw = m[3]!.replace(/^\s+/, "");
    // `:<` URL values would need I/O, which postacert never does: the URL is kept as text.
    const isB64 = kind === ":";
    const bytes = isB64 ? decodeBase64(raw) : utf8Bytes(raw);
    const value: LdifValue = { text: isB64 ? utf8(bytes) : raw, bytes, base64: isB64, options };
    if (name === "version" && !current) continue;
    if (name === "dn") {
      flush();
      current = { dn: value.text, line, attributes: new Map(), skip: false };
      continue;
    }
    if (!current) continue; // attributes before any dn: ignore, as lenient readers do
    if (name === "changetype") {
      if (value.text.trim().toLowerCase() !== "add") current.skip = true;
      continue;
    }
    const list = current.attributes.get(name!);
    if (list) list.push(value);
    else current.attributes.set(name!, [value]);
  }
  flush();
  return entries;
}
