/**
 * Ricevuta breve: the original message with its attachments replaced by `.hash` files
 * (spec §4.7.1, RFC 6109 §3.3.2.2).
 *
 * @module
 */
import { formatHeader, formatParams, parseMime } from "../../mime/index.js";
import type { MimeEntity } from "../../mime/index.js";
import { asBufferSource, latin1Bytes, toHex } from "../../util/bytes.js";
import { breveHashInput } from "../breve.js";
import { type BreveHash, type ByteEdit, applyEdits, invalid } from "./common.js";

/** Result of {@link brevify}. */
export interface BrevifiedOriginal {
  /** The original with every named part (and every attached message) replaced by its `.hash` file. */
  bytes: Uint8Array;
  /** The replacements, in document order. */
  hashes: BreveHash[];
}

const PKCS7_MIME = new Set(["application/pkcs7-mime", "application/x-pkcs7-mime"]);
const PKCS7_SIGNATURE = new Set(["application/pkcs7-signature", "application/x-pkcs7-signature"]);
const CONTENT_FIELDS = new Set(["content-type", "content-transfer-encoding", "content-disposition", "content-description", "content-length", "content-md5"]);

interface Target {
  entity: MimeEntity;
  filename: string;
  root: boolean;
}

/** Parts to replace, not descending into replaced ones (an attached message is replaced whole). */
function targets(root: MimeEntity): Target[] {
  const out: Target[] = [];
  // An opaque S/MIME original (signed or enveloped data inside the CMS) cannot be
  // edited: the breve then equals the completa (spec §4.7.1 point 3).
  if (PKCS7_MIME.has(root.contentType.mimeType)) return out;
  let unnamed = 0;
  const visit = (e: MimeEntity, isRoot: boolean): void => {
    const mt = e.contentType.mimeType;
    if (e.parent?.contentType.mimeType === "multipart/signed" && PKCS7_SIGNATURE.has(mt)) return; // the signature stays
    const named = e.filename !== undefined && e.filename !== "";
    if (named || (!isRoot && mt === "message/rfc822")) {
      // UNCONFIRMED: an attached message without a name gets "messaggio.eml" (then
      // "messaggio-2.eml", …) + ".hash"; the rules do not say.
      const filename = named ? e.filename! : `messaggio${++unnamed === 1 ? "" : `-${unnamed}`}.eml`;
      out.push({ entity: e, filename, root: isRoot });
      return;
    }
    if (e.contentType.type === "multipart") for (const c of e.children) visit(c, false);
  };
  visit(root, true);
  return out;
}

function eolOf(e: MimeEntity): string {
  const first = e.headers[0]?.raw;
  if (first && first.length >= 2 && first[first.length - 2] === 13 && first[first.length - 1] === 10) return "\r\n";
  if (first && first[first.length - 1] === 10) return "\n";
  return "\r\n";
}

/** The header fields of a `.hash` replacement, with the given line ending. */
function hashHeaders(hashFilename: string, disposition: string, eol: string): string {
  const fields =
    formatHeader("Content-Type", formatParams("text/plain", { charset: "us-ascii", name: hashFilename })) +
    formatHeader("Content-Transfer-Encoding", "7bit") +
    formatHeader("Content-Disposition", formatParams(disposition, { filename: hashFilename }));
  return eol === "\r\n" ? fields : fields.replace(/\r\n/g, eol);
}

/**
 * Makes the `postacert.eml` of a ricevuta breve: each MIME part with a `name`
 * (Content-Type) or `filename` (Content-Disposition) parameter, and each attached
 * `message/rfc822` as a whole, is replaced by a `text/plain` part named `<name>.hash`
 * holding the SHA-1 of the part, 40 lower-case hex digits and nothing else.
 *
 * - Hashed bytes: the part body exactly as transmitted (still transfer-encoded, CRLF
 *   line breaks included): RFC 6109 "calculated on base64 encoded parts". UNCONFIRMED
 *   (no real breve receipt was found); `checkBreveHashes` also accepts other forms.
 * - The replacement keeps the replaced part's disposition type (`attachment` when it had
 *   none) and carries the `.hash` name in both `name` and `filename` (UNCONFIRMED).
 * - Edited in place: every byte outside the replaced parts (headers, preamble, unnamed
 *   body text, boundaries) is kept as it was; a replaced part keeps none of its header
 *   fields. When the message itself is a named leaf (a bare attachment as the whole
 *   body), its content header fields and body are replaced and its other fields kept.
 * - `multipart/signed` originals keep their structure and signature part (the sender's
 *   signature no longer verifies, as the rules expect); opaque `application/pkcs7-mime`
 *   originals stay whole (the breve then equals the completa).
 *
 * @param original - the original message as it travels in the busta (prepared)
 * @param options.crypto - WebCrypto for SHA-1 (default `globalThis.crypto`)
 * @example
 * ```ts
 * const { bytes, hashes } = await brevify(prepareOriginal(original, { identificativo: tx.identificativo }));
 * ```
 */
export async function brevify(original: Uint8Array, options: { crypto?: Crypto } = {}): Promise<BrevifiedOriginal> {
  if (!(original instanceof Uint8Array)) throw invalid("original must be the message bytes (Uint8Array)");
  const subtle = (options.crypto ?? globalThis.crypto).subtle;
  const root = parseMime(original);
  const edits: ByteEdit[] = [];
  const hashes: BreveHash[] = [];
  for (const t of targets(root)) {
    const e = t.entity;
    const hash = toHex(new Uint8Array(await subtle.digest("SHA-1", asBufferSource(breveHashInput(e)))));
    const hashFilename = `${t.filename}.hash`;
    hashes.push({ filename: t.filename, hashFilename, hash });
    const disposition = e.disposition?.type === "inline" ? "inline" : "attachment";
    const eol = eolOf(e);
    if (!t.root) {
      edits.push({ start: e.start, end: e.end, bytes: latin1Bytes(hashHeaders(hashFilename, disposition, eol) + eol + hash) });
      continue;
    }
    // The message itself is the named leaf: drop its content fields, keep the others.
    for (const h of e.headers) if (CONTENT_FIELDS.has(h.lname)) edits.push({ start: h.start, end: h.end, bytes: new Uint8Array(0) });
    const last = e.headers[e.headers.length - 1];
    const at = last ? last.end : e.headerStart;
    const lead = last && last.raw[last.raw.length - 1] !== 10 ? eol : "";
    edits.push({ start: at, end: at, bytes: latin1Bytes(lead + hashHeaders(hashFilename, disposition, eol)) });
    edits.push({ start: e.bodyStart, end: e.bodyEnd, bytes: latin1Bytes((e.headerEnd === at ? eol : "") + hash) });
  }
  if (edits.length === 0) return { bytes: original, hashes };
  return { bytes: applyEdits(original, edits), hashes };
}
