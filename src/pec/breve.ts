/**
 * Ricevuta breve: the `.hash` files that replace attachments (spec §4.7.1).
 *
 * UNCONFIRMED in the rules: which bytes are hashed, the hex case. postacert **writes**
 * SHA-1 over the part body exactly as transmitted (the base64 text with its CRLF line
 * breaks, RFC 6109: "calculated on base64 encoded parts"), lower-case hex; and **accepts**
 * on input, in this order: that form, the body with line breaks removed, and the decoded
 * bytes; SHA-256 of the same three forms too (64 hex digits); any hex case.
 *
 * @module
 */
import { PecError } from "../errors.js";
import type { MimeEntity } from "../mime/index.js";
import { parseMime } from "../mime/index.js";
import { asBufferSource, toHex } from "../util/bytes.js";
import type { ReadPec } from "./types.js";

/** Which bytes of an attachment matched its `.hash` file. */
export type BreveHashForm = "encoded" | "encoded-no-linebreaks" | "decoded";

/** Result of checking one `.hash` file of a ricevuta breve. */
export interface BreveHashCheck {
  /** The `.hash` file name. */
  filename: string;
  /** The attachment it stands for. */
  originalFilename: string;
  /** The hash written in the receipt. */
  expected: string;
  /** True when one of the accepted forms of the attachment hashes to `expected`. */
  matches: boolean;
  /** The form that matched. */
  form?: BreveHashForm;
  /** The digest algorithm that matched. */
  algorithm?: "SHA-1" | "SHA-256";
  /** False when the original message holds no attachment of that name. */
  found: boolean;
}

/**
 * The bytes a `.hash` file is computed over, in the form postacert writes: a view into the
 * message, over a plain ArrayBuffer (WebCrypto's `BufferSource`; copied only when the message
 * was given in a SharedArrayBuffer).
 *
 * @example
 * ```ts
 * const attachment = findEntity(parseMime(original), (e) => e.filename === "offerta.pdf")!;
 * const sha1 = new Uint8Array(await crypto.subtle.digest("SHA-1", breveHashInput(attachment)));
 * ```
 */
export function breveHashInput(part: MimeEntity): Uint8Array<ArrayBuffer> {
  return asBufferSource(part.bodyBytes());
}

function stripLineBreaks(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 13 && b !== 10) out[o++] = b;
  }
  return out.subarray(0, o);
}

/** Which form of the part's bytes, if any, has the digest `expected` (lower-case hex). */
async function matchingForm(subtle: SubtleCrypto, algorithm: "SHA-256" | "SHA-1", part: MimeEntity, expected: string): Promise<BreveHashForm | undefined> {
  const encoded = breveHashInput(part);
  const forms: [BreveHashForm, () => Uint8Array][] = [
    ["encoded", () => encoded],
    ["encoded-no-linebreaks", () => stripLineBreaks(encoded)],
    ["decoded", () => part.decodedBody()],
  ];
  for (const [form, bytes] of forms) {
    if (toHex(new Uint8Array(await subtle.digest(algorithm, asBufferSource(bytes())))) === expected) return form;
  }
  return undefined;
}

/**
 * Checks every `.hash` file of a ricevuta breve against the attachments of the original
 * message, which the sender must keep (the receipt holds only hashes).
 *
 * @param pec - a read ricevuta breve
 * @param originalMessage - the message as the sender submitted it (bytes or parsed)
 * @param options.crypto - WebCrypto to use (default `globalThis.crypto`)
 * @example
 * ```ts
 * const checks = await checkBreveHashes(readPec(bytes), original); // the ricevuta breve, the message as sent
 * const allGood = checks.every((c) => c.matches);
 * ```
 */
export async function checkBreveHashes(
  pec: ReadPec,
  originalMessage: Uint8Array | MimeEntity,
  options: { crypto?: Crypto } = {},
): Promise<BreveHashCheck[]> {
  const hashes = pec.original?.hashes;
  if (!hashes) throw new PecError("ERR_INVALID_ARGUMENT", "the message carries no original with .hash files");
  const subtle = (options.crypto ?? globalThis.crypto).subtle;
  const root = originalMessage instanceof Uint8Array ? parseMime(originalMessage) : originalMessage;
  // Every part of each name, in document order: two attachments may share a name.
  const byName = new Map<string, MimeEntity[]>();
  const stack: MimeEntity[] = [root];
  while (stack.length) {
    const e = stack.pop()!;
    if (e.filename !== undefined) {
      const same = byName.get(e.filename);
      if (same) same.push(e);
      else byName.set(e.filename, [e]);
    }
    if (e.contentType.mimeType !== "message/rfc822") for (let i = e.children.length - 1; i >= 0; i--) stack.push(e.children[i]!);
  }
  const used = new Set<MimeEntity>();
  const results: BreveHashCheck[] = [];
  for (const h of hashes) {
    const parts = byName.get(h.originalFilename);
    const base = { filename: h.filename, originalFilename: h.originalFilename, expected: h.hash };
    if (!parts) {
      results.push({ ...base, matches: false, found: false });
      continue;
    }
    const algorithm = h.hash.length === 64 ? "SHA-256" : "SHA-1";
    let match: BreveHashForm | undefined;
    // The first part of that name not yet matched by an earlier .hash file whose bytes match.
    for (const part of parts) {
      if (used.has(part)) continue;
      match = await matchingForm(subtle, algorithm, part, h.hash.toLowerCase());
      if (match) {
        used.add(part);
        break;
      }
    }
    results.push(match ? { ...base, matches: true, form: match, algorithm, found: true } : { ...base, matches: false, found: true });
  }
  return results;
}
