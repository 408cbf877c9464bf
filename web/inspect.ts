// What the inspector does with a file, without any DOM: read, classify, verify, and turn
// every failure into data the card can show. Nothing here throws.
import { PecError } from "../src/errors.js";
import type { MimeEntity } from "../src/mime/index.js";
import { isMbox, mboxEntry, splitMbox } from "../src/mime/mbox.js";
import { DEFAULT_MAX_SIZE } from "../src/mime/parse.js";
import { concatBytes, isGzip } from "../src/util/bytes.js";
import { nestedArchive, zipEntryKind } from "../src/util/file-kind.js";
import { compressionOf, looksLikeMessage, unsupportedCompression } from "../src/util/message-start.js";
import { isZipStart, listZipEntries, readZipEntryData } from "../src/util/zip.js";
import { isTarStart, tarFiles } from "../src/util/tar.js";
import { once, readAll } from "../src/util/chunks.js";
import { readPec } from "../src/pec/read.js";
import type { ReadPec } from "../src/pec/types.js";
import { verifyPec } from "../src/pec/verify.js";
import type { PecVerification } from "../src/pec/verify.js";
import { TrustStore } from "../src/trust/store.js";

/** A failure shown on a card instead of the message. */
export interface CardError {
  /** `ERR_…` of a PecError, or the page's own `NOT_A_MESSAGE` / `UNEXPECTED`. */
  code: string;
  /** Short title. */
  it: string;
  en: string;
  /** Details (English, from the library). */
  message: string;
}

/** One file and what the library found in it. */
export interface Inspection {
  id: number;
  name: string;
  size: number;
  bytes: Uint8Array;
  pec?: ReadPec;
  /** The file could not be read as a message. */
  error?: CardError;
  /** Latest signature verification (for the current trust). */
  verification?: PecVerification;
  /** verifyPec itself failed (misuse; not expected). */
  verifyError?: CardError;
  /** A verification is running. */
  verifying: boolean;
}

/** Header fields at least one of which every e-mail carries. */
const MESSAGE_FIELDS = new Set([
  "from",
  "to",
  "cc",
  "subject",
  "date",
  "message-id",
  "mime-version",
  "content-type",
  "received",
  "return-path",
  "delivered-to",
  "reply-to",
  "sender",
  "x-trasporto",
  "x-ricevuta",
]);

/**
 * readPec reads any bytes (mail that is not PEC is `not-pec`); a file with no header
 * field of an e-mail at all (a PDF, an image, random bytes) is not a message, and the
 * card says so instead of calling it "not PEC".
 */
function notAMessage(root: MimeEntity): string | undefined {
  if (root.source.length === 0) return "the file is empty";
  const fields = root.headers.filter((h) => h.name !== "" && /^[\x21-\x39\x3b-\x7e]+$/.test(h.name));
  if (!fields.some((f) => MESSAGE_FIELDS.has(f.lname))) {
    return "no e-mail header field (From, To, Subject, Date, Message-ID, Content-Type, …) at the start of the file";
  }
  return undefined;
}

/** A thrown value as a card error. */
export function toCardError(e: unknown): CardError {
  if (e instanceof PecError) return { code: e.code, it: "Messaggio illeggibile", en: "Unreadable message", message: e.message };
  return { code: "UNEXPECTED", it: "Errore imprevisto", en: "Unexpected error", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

/** The largest message a compressed file or a ZIP entry may unpack to (as readPec's own limit). */
const MAX_UNPACKED = DEFAULT_MAX_SIZE;

/** One message found in a dropped file, or why one could not be read. */
export type Unpacked = { name: string; bytes: Uint8Array } | { name: string; error: PecError };

/**
 * What one dropped file holds, as the CLI reads it: its message, each message of an mbox
 * (named `file#offset`), each message of a ZIP or tar archive (`file#entry`, chosen as in a folder:
 * hidden entries and files that are never messages are left out); a gzip-compressed file or
 * entry is decompressed first. An entry that cannot be read is given with its error; the
 * others are read.
 *
 * @throws PecError `ERR_SOURCE` for damaged gzip data or a damaged archive, `ERR_TOO_LARGE` past {@link MAX_UNPACKED}
 */
export async function unpack(name: string, bytes: Uint8Array, sniff = false, inArchive = false): Promise<Unpacked[]> {
  const data = isGzip(bytes) ? await decompress("gzip", bytes, MAX_UNPACKED) : bytes;
  if (isMbox(data)) {
    return splitMbox(data).map((m) => {
      const e = mboxEntry(m, `${name}#${m.offset}`);
      return "bytes" in e ? { name: e.id, bytes: e.bytes } : { name: e.id, error: e.error };
    });
  }
  // An archive inside an archive is not opened, as the CLI does not open it: an entry named
  // .eml that holds a ZIP, itself holding one… was unpacked level after level, without end.
  if (!inArchive && isZipStart(data)) return unzip(name, data);
  if (!inArchive && isTarStart(data)) return untar(name, data);
  // Dovecot's other compressions: named, as the CLI names them, not skipped or read as "not PEC".
  const packed = compressionOf(data);
  if (packed !== undefined && packed !== "gzip") return [{ name, error: unsupportedCompression(packed) }];
  // An archive's entry not named .eml is a message only when it starts as one.
  return sniff && !looksLikeMessage(data) ? [] : [{ name, bytes: data }];
}

async function unzip(name: string, data: Uint8Array): Promise<Unpacked[]> {
  const read = (offset: number, length: number): Promise<Uint8Array> => Promise.resolve(data.subarray(offset, offset + length));
  const out: Unpacked[] = [];
  for (const entry of await listZipEntries(read, data.length, name)) {
    out.push(...(await member(name, entry.name, () => readZipEntryData(read, data.length, name, entry, MAX_UNPACKED, (d, limit) => decompress("deflate-raw", d, limit)))));
  }
  return out;
}

async function untar(name: string, data: Uint8Array): Promise<Unpacked[]> {
  const out: Unpacked[] = [];
  try {
    for await (const file of tarFiles(once(data), name)) {
      out.push(
        ...(await member(name, file.name, () => {
          const id = `${name}#${file.name}`;
          if (file.size > MAX_UNPACKED) throw new PecError("ERR_TOO_LARGE", `${id} is ${file.size} bytes, more than the ${MAX_UNPACKED} read`, { limit: MAX_UNPACKED });
          return readAll(file.content, id, MAX_UNPACKED);
        })),
      );
    }
  } catch (e) {
    // A damaged archive: the files before the damage, and the damage.
    out.push({ name, error: cardPecError(e, name) });
  }
  return out;
}

/** One file of an archive, chosen as in a folder: skipped, named as an archive inside it, or read and unpacked; its failure is its own. */
async function member(archive: string, entry: string, read: () => Promise<Uint8Array>): Promise<Unpacked[]> {
  const kind = zipEntryKind(entry);
  const id = `${archive}#${entry}`;
  if (kind === "skip") return [];
  if (kind === "archive") return [{ name: id, error: nestedArchive(id) }];
  try {
    return await unpack(id, await read(), kind === "sniff", true);
  } catch (e) {
    return [{ name: id, error: cardPecError(e, id) }];
  }
}

function cardPecError(e: unknown, id: string): PecError {
  return e instanceof PecError ? e : new PecError("ERR_SOURCE", `${id}: ${String(e)}`);
}

/** Decompresses with the browser's DecompressionStream, stopping past `limit` bytes (a small file may unpack to gigabytes). */
async function decompress(format: "gzip" | "deflate-raw", bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  // A copy typed as ArrayBuffer-backed, which Blob takes (the file's own bytes may be a view).
  const reader = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream(format)).getReader();
  const what = format === "gzip" ? "the gzip-compressed file" : "the deflated entry";
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        void reader.cancel();
        throw new PecError("ERR_TOO_LARGE", `${what} unpacks to more than ${limit} bytes`, { limit });
      }
      parts.push(value);
    }
  } catch (e) {
    if (e instanceof PecError) throw e;
    throw new PecError("ERR_SOURCE", `${what} is damaged: ${e instanceof Error ? e.message : String(e)}`, {}, { cause: e });
  }
  return concatBytes(parts);
}

/** Reads one file (synchronous, no crypto). */
export function inspect(id: number, name: string, bytes: Uint8Array): Inspection {
  const base: Inspection = { id, name, size: bytes.length, bytes, verifying: false };
  let pec: ReadPec;
  try {
    pec = readPec(bytes);
  } catch (e) {
    return { ...base, error: toCardError(e) };
  }
  if (pec.type === "not-pec") {
    const why = notAMessage(pec.root);
    if (why) return { ...base, error: { code: "NOT_A_MESSAGE", it: "Non è un messaggio e-mail", en: "Not an e-mail message", message: why } };
  }
  return { ...base, pec, verifying: true };
}

/** Verifies the gestore signature; never throws. */
export async function verify(insp: Inspection, trust: TrustStore): Promise<Pick<Inspection, "verification" | "verifyError">> {
  if (!insp.pec) return {};
  try {
    return { verification: await verifyPec(insp.pec, { trust }) };
  } catch (e) {
    return { verifyError: toCardError(e) };
  }
}

// ---------------------------------------------------------------------------------------------
// Trust

/** A loaded trust store and what it holds, for the status line. */
export interface LoadedTrust {
  store: TrustStore;
  files: string[];
  anchors: number;
  providers: number;
  rejected: number;
  crls: number;
  /** Subjects of the first anchors. */
  subjects: string[];
}

function looksLikeLdif(text: string): boolean {
  return /^\s*dn\s*:/im.test(text) && /^\s*(objectclass|providername|providercertificate)/im.test(text);
}

/** One trust file: IGPEC LDIF (also its signed .p7m), PEM bundle, or a DER certificate. */
async function trustFrom(name: string, bytes: Uint8Array): Promise<TrustStore> {
  const text = new TextDecoder().decode(bytes);
  if (looksLikeLdif(text)) return TrustStore.fromLdif(text);
  if (text.includes("-----BEGIN")) return TrustStore.fromPem(text);
  if (bytes[0] === 0x30) {
    try {
      return await TrustStore.fromDer(bytes);
    } catch (e) {
      // Not a certificate: perhaps the signed IGPEC export (CMS holding the LDIF).
      try {
        return await TrustStore.fromLdif(bytes);
      } catch {
        throw e;
      }
    }
  }
  throw new PecError("ERR_TRUST_MALFORMED", `${name}: neither PEM certificates, a DER certificate nor IGPEC LDIF`);
}

/** Loads and merges trust files; throws PecError (or Error) for the first unreadable one. */
export async function loadTrust(files: readonly { name: string; bytes: Uint8Array }[]): Promise<LoadedTrust> {
  const stores: TrustStore[] = [];
  for (const f of files) {
    try {
      stores.push(await trustFrom(f.name, f.bytes));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new PecError(e instanceof PecError ? e.code : "ERR_TRUST_MALFORMED", msg.startsWith(f.name) ? msg : `${f.name}: ${msg}`, {}, { cause: e });
    }
  }
  const store = TrustStore.merge(...stores);
  return {
    store,
    files: files.map((f) => f.name),
    anchors: store.anchors.length,
    providers: store.providers.length,
    rejected: store.rejected.length,
    crls: store.crls.length,
    subjects: store.anchors.slice(0, 3).map((a) => a.certificate.subject),
  };
}
