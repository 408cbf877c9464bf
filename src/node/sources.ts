/**
 * Message sources for Node: a folder of `.eml` files, an mbox file (streamed), a Maildir.
 * Each yields {@link SourceMessage}s one at a time, so a scan never holds a whole archive.
 *
 * @module
 */
import { type Dirent, closeSync, createReadStream, fstatSync, openSync, readFileSync, readdirSync, statSync } from "node:fs";
import { Readable, pipeline } from "node:stream";
import { open, opendir, readdir, stat } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
import { constants as zlibConstants, createGunzip, gunzipSync } from "node:zlib";
import { PecError, isPecError } from "../errors.js";
import { MboxReader, isMbox, mboxEntry } from "../mime/mbox.js";
import { DEFAULT_MAX_SIZE } from "../mime/parse.js";
import { isGzip } from "../util/bytes.js";
import { once, peek, readAll } from "../util/chunks.js";
import { fileKind, nestedArchive, zipEntryKind } from "../util/file-kind.js";
import { compressionOf, looksLikeMessage, mayBeMessage, unsupportedCompression } from "../util/message-start.js";
import { fsPath, nameFromBytes } from "./fs-names.js";
import { isZipStart, openZip } from "./zip.js";
import { isTarStart, tarFiles } from "../util/tar.js";

export { compressionOf, looksLikeMessage, mayBeMessage };

/** One message read from a source. */
export interface SourceMessage {
  /**
   * Stable identifier: the file path (folder, Maildir) or `path#offset` (mbox, byte offset of
   * its `From ` line). In a file name that is not UTF-8, each byte outside a valid sequence is
   * the lone surrogate U+DC00 + byte (Python's surrogateescape): ids stay distinct and lossless.
   */
  id: string;
  /** The source it came from (the folder, mbox or Maildir path as given). */
  source: string;
  /** The message bytes (for mbox: `>From` unescaped, without the `From ` line and the separating blank line). */
  bytes: Uint8Array;
}

/**
 * One message of an mbox or a ZIP archive as the CLI takes it: its bytes, or the error that
 * kept it out while the others are read. Not part of the public API.
 *
 * @internal
 */
export type EntryOrError = { id: string; bytes: Uint8Array } | { id: string; error: PecError };

/**
 * A message as a file stores it. Dovecot's zlib plugin, and administrators by hand (Maildir's
 * `Z` flag), keep messages gzip-compressed: read as they are they are no message at all, and a
 * scan would count them as not PEC. A gzip file is decompressed (at most
 * {@link DEFAULT_MAX_SIZE}, as parseMime reads); anything else is returned as it is. Not part
 * of the public API.
 *
 * @throws PecError `ERR_UNSUPPORTED` for bzip2, xz or zstd (Dovecot's other formats);
 * `ERR_TOO_LARGE` past the size limit; `ERR_SOURCE` for damaged gzip data
 * @internal
 */
export function storedMessage(bytes: Uint8Array): Uint8Array {
  const compression = compressionOf(bytes);
  if (compression === undefined) return bytes;
  if (compression !== "gzip") throw unsupportedCompression(compression);
  try {
    const out = gunzipSync(bytes, { maxOutputLength: DEFAULT_MAX_SIZE });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new PecError("ERR_TOO_LARGE", `the gzip-compressed message is larger than ${DEFAULT_MAX_SIZE} bytes`, { limit: DEFAULT_MAX_SIZE });
    }
    throw new PecError("ERR_SOURCE", `the gzip-compressed message is damaged: ${(err as Error).message}`, {}, { cause: err });
  }
}

/**
 * The largest file read as one message: what readPec reads, and a little more for a
 * gzip-compressed one, which may be larger than what it holds (deflate stores what does not
 * compress with 5 bytes per 64 KiB block). A larger file is refused before it is read, so a
 * disk image or a video among the messages costs no memory. Not part of the public API.
 *
 * @internal
 */
export const MAX_MESSAGE_FILE = DEFAULT_MAX_SIZE + (DEFAULT_MAX_SIZE >> 10) + 1024;

/**
 * The error of a file larger than {@link MAX_MESSAGE_FILE}. Not part of the public API.
 *
 * @internal
 */
export function fileTooLarge(path: string, size: number): PecError {
  return new PecError("ERR_TOO_LARGE", `${path} is ${size} bytes, larger than a message read (${DEFAULT_MAX_SIZE} bytes)`, { limit: DEFAULT_MAX_SIZE });
}


/**
 * A whole message file, up to {@link MAX_MESSAGE_FILE} bytes. Not part of the public API.
 *
 * @param sniff - undefined, without reading further, when the file's first bytes show it is no
 *   message ({@link mayBeMessage}): a folder's large file of another kind is not read
 * @throws PecError `ERR_TOO_LARGE` for a larger file, before reading it; the file system's error
 * @internal
 */
export async function readMessageFile(path: string): Promise<Uint8Array>;
export async function readMessageFile(path: string, sniff: boolean): Promise<Uint8Array | undefined>;
export async function readMessageFile(path: string, sniff = false): Promise<Uint8Array | undefined> {
  const fh = await open(fsPath(path), "r");
  try {
    const st = await fh.stat();
    // A pipe or a device has no size to check and cannot be read twice (/dev/zero never ends).
    if (!st.isFile()) {
      const [head, chunks] = await peek(fh.createReadStream({ autoClose: false, highWaterMark: 256 * 1024 }), HEAD_BYTES);
      if (sniff && !mayBeMessage(head)) return undefined;
      try {
        return await readAll(chunks, path, MAX_MESSAGE_FILE);
      } catch (err) {
        if (!isPecError(err, "ERR_TOO_LARGE")) throw err;
        throw new PecError("ERR_TOO_LARGE", `${path} holds more than ${MAX_MESSAGE_FILE} bytes, larger than a message read (${DEFAULT_MAX_SIZE} bytes)`, { limit: DEFAULT_MAX_SIZE });
      }
    }
    if (sniff) {
      const head = new Uint8Array(HEAD_BYTES);
      const { bytesRead } = await fh.read(head, 0, HEAD_BYTES, 0);
      if (!mayBeMessage(head.subarray(0, bytesRead))) return undefined;
    }
    const { size } = st;
    if (size > MAX_MESSAGE_FILE) throw fileTooLarge(path, size);
    const b = await fh.readFile();
    // Grown since its size was taken.
    if (b.length > MAX_MESSAGE_FILE) throw fileTooLarge(path, b.length);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } finally {
    await fh.close();
  }
}

/** {@link readMessageFile}, synchronously. */
function readMessageFileSync(path: string): Uint8Array {
  const fd = openSync(fsPath(path), "r");
  try {
    const { size } = fstatSync(fd);
    if (size > MAX_MESSAGE_FILE) throw fileTooLarge(path, size);
    const b = readFileSync(fd);
    if (b.length > MAX_MESSAGE_FILE) throw fileTooLarge(path, b.length);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } finally {
    closeSync(fd);
  }
}

function checkPath(path: unknown, what: string): asserts path is string {
  if (typeof path !== "string" || path === "") throw new PecError("ERR_INVALID_ARGUMENT", `${what} must be a non-empty path`);
}

/**
 * The files under `dir`, recursively, in name order, without hidden files and folders. A
 * symbolic link to a file counts as the file; links to folders are not followed (a link to a
 * parent would never end), and broken links are no messages. With `skipped`, a folder that
 * cannot be read is passed to it and left out; without, its error ends the walk.
 */
async function* walk(dir: string, skipped?: (path: string, err: Error) => void): AsyncGenerator<string> {
  let entries;
  try {
    entries = await entriesOf(dir);
  } catch (err) {
    if (!skipped) throw err;
    skipped(dir, err as Error);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    // Hidden folders (.git, .cache) and Maildir tmp/ hold no finished messages.
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p, skipped);
    else if (isFileEntry(dir, e)) yield p;
  }
}

/**
 * The candidate message files under a folder, recursively, in name order, without the
 * extensions that are never messages; `sniff` says whether the file must still pass
 * {@link looksLikeMessage} (anything but `.eml`). Shared with the CLI: scan reads the files in its
 * workers, inspect and verify read every one. Not part of the public API.
 *
 * @param skipped - when given, a folder that cannot be read (the top one included) is passed
 * to it and left out, instead of ending the walk with its error
 * @param archive - when given, called with each archive left out (`.7z`, `.rar`…; a ZIP or
 * tar archive is read, and yielded with `archive` set)
 * @internal
 */
export async function* folderFiles(
  dir: string,
  skipped?: (path: string, err: Error) => void,
  archive?: (path: string) => void,
): AsyncGenerator<FolderFile> {
  for await (const path of walk(dir, skipped)) {
    const kind = fileKind(path);
    if (kind === "archive") archive?.(path);
    else if (kind === "zip" || kind === "tar") yield { path, sniff: false, archive: kind };
    else if (kind !== "skip") yield { path, sniff: kind === "sniff" };
  }
}

/**
 * A candidate message file of a folder: `sniff` when its first bytes must show a header field
 * (not named `.eml`), `archive` for a ZIP or tar archive, read for its messages. Not part of the public API.
 *
 * @internal
 */
export interface FolderFile {
  path: string;
  sniff: boolean;
  archive?: "zip" | "tar";
  /** Whether the file is an mbox, once {@link isMboxFile} was asked (a sniffed file only). */
  mbox?: boolean;
}

/**
 * Whether a folder file holds several messages: a ZIP or tar archive, or, among the files not
 * named `.eml`, an mbox (looked at once: the answer is kept in `f.mbox`). Not part of the
 * public API.
 *
 * @internal
 */
export async function holdsMessages(f: FolderFile): Promise<boolean> {
  return f.archive !== undefined || (f.sniff && (f.mbox ??= await isMboxFile(f.path)));
}

/**
 * The messages of a folder file that {@link holdsMessages}, as the CLI takes them. Not part
 * of the public API.
 *
 * @internal
 */
export function heldMessages(f: FolderFile): AsyncGenerator<EntryOrError> {
  return f.archive ? archiveEntries(f.path, f.archive) : mboxEntries(f.path);
}

/**
 * Whether a file is an mbox (its first line, gzip-decompressed when compressed, starts with
 * `From `): a folder's files that are not named `.eml` are looked at, so that an mbox among
 * them (Thunderbird's `Inbox`, an `archive.mbox`) gives its messages instead of none. False
 * when the file cannot be read (its reading then says why).
 */
async function isMboxFile(path: string): Promise<boolean> {
  const head = await headOf(path).catch(() => undefined);
  return head !== undefined && isMbox(head.head);
}

/**
 * The names of a Maildir's message files, `cur/` and `new/` each in name order (see
 * {@link maildirFiles}). Not part of the public API.
 *
 * @internal
 */
export interface MaildirListing {
  /** File names in `cur/`, sorted. */
  cur: string[];
  /** File names in `new/`, sorted. */
  new: string[];
}

/**
 * Lists a Maildir's message files once, for a caller that needs their number before it walks
 * them (`postacert scan` counts its sources first): pass the listing to {@link maildirFiles}
 * instead of listing the folder again (≈ 90 ms per 100,000 files, all before the first message).
 * Not part of the public API.
 *
 * @param found - called once per file as it is listed
 * @internal
 */
export async function listMaildir(dir: string, found?: () => void): Promise<MaildirListing> {
  // new/ first: a message moved to cur/ between the two listings is then in both, never in
  // neither; it is kept where it went, under its unique name, so it is read once.
  let fresh = await sortedNames(join(dir, "new"), found);
  const cur = await sortedNames(join(dir, "cur"), found);
  if (fresh.length > 0 && cur.length > 0) {
    const inNew = new Set(fresh.map(uniqueOf));
    const moved = new Set<string>();
    for (const name of cur) {
      const unique = uniqueOf(name);
      if (inNew.has(unique)) moved.add(unique);
    }
    if (moved.size > 0) fresh = fresh.filter((name) => !moved.has(uniqueOf(name)));
  }
  return { cur, new: fresh };
}

/**
 * The message files of a Maildir: `cur/` then `new/`, name order, never `tmp/` (files being
 * written) nor hidden files; from `listing` when given (it is emptied as it is walked). Not part
 * of the public API.
 *
 * @internal
 */
export async function* maildirFiles(dir: string, listing?: MaildirListing): AsyncGenerator<string> {
  // Both folders listed before the first file: listing new/ only after reading all of cur/
  // would miss every message a client moved from new/ to cur/ meanwhile.
  const both = listing ?? (await listMaildir(dir));
  for (const sub of ["cur", "new"] as const) {
    const d = join(dir, sub);
    const names = both[sub];
    // What join() gives (d is normalised and ends with no separator, a name holds none),
    // without normalising the whole path again for each of a million files. Each name is let go
    // once yielded: what a long scan keeps grows meanwhile.
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      names[i] = "";
      yield d + sep + name;
    }
  }
}

/** A Maildir's message files by unique name (`cur/<name>` or `new/<name>`), as last listed. */
const maildirIndex = new Map<string, Map<string, string>>();

/** A Maildir file name's unique part: what precedes the info (`:2,S`; `!` or `;` where `:` is not allowed). */
function uniqueOf(name: string): string {
  const i = name.search(/[:!;]/);
  return i < 0 ? name : name.slice(0, i);
}

/**
 * Where a Maildir message is now, when `path` (as listed in `new/` or `cur/`) is gone: a mail
 * client or server that sees it moves it from `new/` to `cur/`, and every change of its flags
 * renames it in `cur/`, keeping its unique name. The folder is listed again only when the last
 * listing knows no other name for it, or with `relist` (that name turned out to be gone too):
 * marking a thousand messages read during a scan costs one listing, not a thousand. Undefined
 * when nothing of that unique name is left (the message was deleted) or `path` is not in a
 * Maildir's `new/` or `cur/`.
 */
function movedMaildirFile(path: string, relist: boolean): string | undefined {
  const name = basename(path);
  const sub = dirname(path);
  const where = basename(sub);
  if (where !== "new" && where !== "cur") return undefined;
  const root = dirname(sub);
  const unique = uniqueOf(name);
  const listed = `${where}/${name}`;
  let found = relist ? undefined : maildirIndex.get(root)?.get(unique);
  if (found === undefined || found === listed) {
    const index = new Map<string, string>();
    for (const d of ["cur", "new"]) {
      let names: string[];
      try {
        names = readdirSync(fsPath(join(root, d)));
      } catch {
        continue;
      }
      for (const n of names) if (!n.startsWith(".") && !n.includes("\ufffd")) index.set(uniqueOf(n), `${d}/${n}`);
    }
    // One Maildir at a time in practice: keep a few, never grow without bound.
    if (maildirIndex.size >= 8) maildirIndex.clear();
    maildirIndex.set(root, index);
    found = index.get(unique);
  }
  return found === undefined || found === listed ? undefined : join(root, found);
}

/**
 * Reads, with `read`, a Maildir message that is no longer at `path`, where it was listed: at
 * the name it was moved or renamed to since (see {@link movedMaildirFile}). Undefined when it
 * was deleted. Shared with the CLI's scan workers; not part of the public API.
 *
 * @internal
 */
export function readMovedMaildirFile<T>(path: string, read: (path: string) => T): T | undefined {
  for (const relist of [false, true]) {
    const now = movedMaildirFile(path, relist);
    if (now === undefined) return undefined;
    try {
      return read(now);
    } catch (err) {
      if (!gone(err)) throw err;
    }
  }
  return undefined;
}

/** The message files of one Maildir folder, in name order (see {@link maildirNames}). */
async function sortedNames(d: string, found?: () => void): Promise<string[]> {
  const names: string[] = [];
  await maildirNames(d, found ? (name) => (names.push(name), found()) : (name) => names.push(name));
  return names.sort();
}

/** Entries of a Maildir folder read between two turns of the event loop. */
const LIST_CHUNK = 8192;

/**
 * The message files of one Maildir folder (`cur/`, `new/`), unsorted; none when it is not a folder.
 * Read one entry at a time (opendir), not as one array of entries (readdir): a folder of 100,000
 * messages then costs its names only, ≈ 6 MB, where the array of entries took ≈ 13 MB more at its
 * peak, most of a scan's growth in memory with the number of messages. `readSync` takes the
 * entries from the Dir's buffer (one system call per 1,024): 100,000 entries in ≈ 60 ms where the
 * async iterator, a promise per entry, took ≈ 140 ms and made ≈ 1.5 KB of garbage per entry. The
 * event loop gets a turn every {@link LIST_CHUNK} entries, so a huge folder does not hold up a signal.
 * Names that are not UTF-8 are kept as {@link nameFromBytes} gives them.
 */
async function maildirNames(d: string, keep: (name: string) => void): Promise<void> {
  if (!(await isDirectory(d))) return;
  const dir = await opendir(fsPath(d), { bufferSize: 1024 });
  let lossy = false;
  try {
    for (let n = 1, e = dir.readSync(); e !== null; e = dir.readSync(), n++) {
      if (!e.name.startsWith(".")) {
        // Node decoded this name with U+FFFD, which opens nothing: see below.
        if (e.name.includes("\ufffd")) lossy = true;
        else if (isFileEntry(d, e)) keep(e.name);
      }
      if (n % LIST_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    await dir.close();
  }
  // Rare (names from old Windows archives): the folder is listed again as bytes, once, for
  // the real names of those it left out.
  if (lossy) {
    for (const e of await rawEntries(d)) if (LOSSY.test(e.name) && !e.name.startsWith(".") && isFileEntry(d, e)) keep(e.name);
  }
}

/** What Node shows as U+FFFD: an escaped byte, or a U+FFFD the name really holds. */
const LOSSY = /[\ufffd\udc80-\udcff]/u;

/**
 * The entries of a folder. Node decodes a name that is not UTF-8 with U+FFFD, which opens
 * nothing: when one does, the folder is listed again as bytes, so that every name is the
 * lossless {@link nameFromBytes} of what the folder holds.
 */
async function entriesOf(dir: string): Promise<Dirent[]> {
  const entries = await readdir(fsPath(dir), { withFileTypes: true });
  return entries.some((e) => e.name.includes("\ufffd")) ? rawEntries(dir) : entries;
}

/** The entries of a folder, read as bytes, their names decoded by {@link nameFromBytes}. */
async function rawEntries(dir: string): Promise<Dirent[]> {
  const raw = await readdir(fsPath(dir), { withFileTypes: true, encoding: "buffer" });
  // The Dirent keeps its type; only its name changes.
  return raw.map((e) => Object.assign(e as unknown as Dirent, { name: nameFromBytes(e.name) }));
}

/**
 * How many files {@link maildirFiles} yields, without keeping their names. Not part of the
 * public API.
 *
 * @param found - called once per file as it is counted
 * @internal
 */
export async function countMaildirFiles(dir: string, found?: () => void): Promise<number> {
  let n = 0;
  for (const sub of ["cur", "new"]) await maildirNames(join(dir, sub), found ? () => (n++, found()) : () => n++);
  return n;
}

/** What a local source is; `stream` is a pipe, a device or a socket, which can be read once, from its start. */
export type SourceKind = "maildir" | "folder" | "mbox" | "zip" | "tar" | "file" | "stream";

/**
 * Tells what a local source is: a Maildir (a folder with `cur/` or `new/`), a folder, an
 * mbox (a file starting with `From `) or a single message file; undefined when it does not
 * exist. Not part of the public API.
 *
 * @internal
 */
export async function sourceKind(path: string): Promise<SourceKind | undefined> {
  const st = await stat(fsPath(path)).catch(() => undefined);
  if (!st) return undefined;
  if (st.isDirectory()) return (await isDirectory(join(path, "cur"))) || (await isDirectory(join(path, "new"))) ? "maildir" : "folder";
  // Its first bytes cannot be looked at and then read again.
  if (!st.isFile()) return "stream";
  const { head, gzip } = await headOf(path);
  return isMbox(head) ? "mbox" : !gzip && isZipStart(head) ? "zip" : isTarStart(head) ? "tar" : "file";
}

/** How much of a file {@link headOf} reads: enough compressed bytes for the first line. */
const HEAD_BYTES = 4096;

/**
 * The first bytes of a file, decompressed when it is gzip-compressed (as far as its first
 * {@link HEAD_BYTES} go: an archived `.mbox.gz` is an mbox too).
 */
async function headOf(path: string): Promise<{ head: Uint8Array; gzip: boolean }> {
  const fh = await open(fsPath(path), "r");
  try {
    const buf = new Uint8Array(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    const head = buf.subarray(0, bytesRead);
    if (!isGzip(head)) return { head, gzip: false };
    try {
      // Z_SYNC_FLUSH: what the truncated stream gives so far, not an "unexpected end" error.
      return { head: gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH }), gzip: true };
    } catch {
      return { head, gzip: false };
    }
  } finally {
    await fh.close();
  }
}

/**
 * The Maildir++ folders of a Maildir (`.Sent`, `.Archivio`…: hidden sub-folders with `cur/` or
 * `new/`), by name. Each is a Maildir of its own, which {@link readMaildir} does not read. Not
 * part of the public API.
 *
 * @internal
 */
export async function maildirFolders(dir: string): Promise<string[]> {
  const entries = await entriesOf(dir).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith(".") && e.isDirectory() && (await sourceKind(join(dir, e.name))) === "maildir") out.push(e.name);
  }
  return out.sort();
}

/**
 * Reads every message under a folder, recursively, in name order: `.eml` files and any other
 * file whose first line is a header field, and the messages of the mbox files, ZIP and tar
 * archives among them (ids `path#offset`, `path#entry`); `.eml.gz`, `.mbox.gz` and
 * `.tar.gz` are read decompressed; certificates, LDIF, PDF, XML, other archives (`.7z`,
 * `.rar`…) are skipped. A symbolic link to a file is read as the file; links to folders are not followed.
 *
 * @param dir - the folder
 * @param options - `onError` to leave out, and be told about, files that cannot be read
 * @returns an async iterable of messages (`id` is the file path)
 * @throws PecError `ERR_INVALID_ARGUMENT` when `dir` is not a folder; `ERR_SOURCE` when a file or folder cannot be read (the file system's error is its `cause`); `ERR_UNSUPPORTED` for a message stored bzip2-, xz- or zstd-compressed; `ERR_TOO_LARGE` for a message file larger than readPec reads (refused before it is read), unless `options.onError` takes these
 * @example
 * ```ts
 * import { readPec, TransactionTracker } from "postacert";
 * import { readFolder } from "postacert/node";
 * const tracker = new TransactionTracker();
 * for await (const m of readFolder("archive/")) tracker.add(readPec(m.bytes), m);
 * ```
 */
export async function* readFolder(dir: string, options: SourceOptions = {}): AsyncGenerator<SourceMessage> {
  checkPath(dir, "dir");
  const { onError } = checkSourceOptions(options);
  if (!(await isDirectory(dir))) throw new PecError("ERR_INVALID_ARGUMENT", `${dir} is not a folder`);
  const skipFolder = onError && ((path: string, err: Error) => onError(sourceError(path, err), path));
  try {
    for await (const { path, sniff: unsure, archive } of folderFiles(dir, skipFolder)) {
      let bytes: Uint8Array;
      try {
        if (archive) {
          // A ZIP or tar archive among the files: its messages (its failures are its own).
          for await (const m of (archive === "zip" ? readZip : readTar)(path, onError ? { onError } : {})) yield { ...m, source: dir };
          continue;
        }
        if (unsure) {
          const { head } = await headOf(path);
          if (isMbox(head)) {
            // An mbox among the files: its messages (its failure is this file's).
            for await (const m of readMbox(path, onError ? { onError } : {})) yield { ...m, source: dir };
            continue;
          }
          // As the CLI reads a folder: a gzip head that did not decompress, or another
          // compression, is read whole, and storedMessage says it is damaged or unsupported.
          if (!mayBeMessage(head)) continue;
        }
        bytes = storedMessage(await readMessageFile(path));
      } catch (err) {
        // Deleted since the listing: no longer in the folder.
        if (gone(err)) continue;
        failed(onError, path, err);
        continue;
      }
      yield { id: path, source: dir, bytes };
    }
  } catch (err) {
    // With onError, the walk's failures went to it: this is the caller's own error.
    throw onError ? err : sourceError(dir, err);
  }
}

/**
 * Reads a Maildir: the messages of `cur/` and `new/` (name order), never `tmp/` (files being
 * written). Sub-folders (`.Sent` …) are separate Maildirs: pass them separately. A live
 * Maildir may change meanwhile: a message moved or renamed since the listing (a client marked
 * it seen) is read where it went, under the id it was listed with; one deleted is left out.
 * A message stored gzip-compressed (Dovecot's zlib plugin, the `Z` flag) is read decompressed.
 *
 * @param dir - the Maildir (the folder holding `cur/`, `new/`, `tmp/`)
 * @param options - `onError` to leave out, and be told about, files that cannot be read
 * @returns an async iterable of messages (`id` is the file path)
 * @throws PecError `ERR_INVALID_ARGUMENT` when `dir` has neither `cur/` nor `new/`; `ERR_SOURCE` when a file or folder cannot be read (the file system's error is its `cause`); `ERR_UNSUPPORTED` for a message stored bzip2-, xz- or zstd-compressed; `ERR_TOO_LARGE` for a message file larger than readPec reads (refused before it is read), unless `options.onError` takes these
 * @example
 * ```ts
 * for await (const m of readMaildir("/home/me/Maildir")) console.log(m.id, m.bytes.length);
 * ```
 */
export async function* readMaildir(dir: string, options: SourceOptions = {}): AsyncGenerator<SourceMessage> {
  checkPath(dir, "dir");
  const { onError } = checkSourceOptions(options);
  if ((await sourceKind(dir)) !== "maildir") throw new PecError("ERR_INVALID_ARGUMENT", `${dir} is not a Maildir (no cur/ or new/)`);
  for await (const path of maildirFiles(dir)) {
    let bytes: Uint8Array | undefined;
    try {
      try {
        bytes = await readMessageFile(path);
      } catch (err) {
        if (!gone(err)) throw err;
        // Moved or renamed since the listing (rare: read at once); deleted, it is no longer in the Maildir.
        bytes = readMovedMaildirFile(path, readMessageFileSync);
      }
      if (bytes) bytes = storedMessage(bytes);
    } catch (err) {
      failed(onError, path, err);
      continue;
    }
    if (bytes) yield { id: path, source: dir, bytes };
  }
}

/** Options of {@link readFolder}, {@link readMaildir}, {@link readMbox} and {@link readSource}. */
export interface SourceOptions {
  /**
   * Called with a message file (or a folder) that cannot be read: permissions, a damaged gzip
   * file, a compression postacert does not read. It is left out and the reading goes on (an
   * mbox whose reading fails ends there: what follows cannot be found). Without it, the first
   * such failure ends the iteration with its error. A source that does not exist, or is not
   * what the reader expects, is thrown in either case.
   *
   * @param error - PecError `ERR_SOURCE` (the file system's or zlib's error is its `cause`),
   * `ERR_UNSUPPORTED` or `ERR_TOO_LARGE`
   * @param path - the file or folder that was left out
   */
  onError?: (error: PecError, path: string) => void;
}

/** Options of {@link readMbox} (and {@link readSource}, which passes them on). */
export interface MboxOptions extends SourceOptions {
  /** Read-stream chunk size in bytes (default 256 KiB). */
  highWaterMark?: number;
  /**
   * Largest message read, in bytes (default `DEFAULT_MAX_SIZE`, what readPec reads): a larger
   * one is an `ERR_TOO_LARGE` failure (to `onError`, named `path#offset`, and the reading
   * goes on), so that memory stays bounded whatever the mbox holds.
   */
  maxMessageSize?: number;
}

/**
 * Streams an mbox file (or an archived `.mbox.gz`, read through gunzip; or a pipe such as
 * `/dev/stdin`, read once as it comes), one message at a time, by the rules of `MboxReader` (`postacert/mime`): a `From ` line begins a message,
 * `>From ` lines lose one `>` (mboxrd), line ends are kept as they are. Memory holds one
 * message (at most `maxMessageSize`) plus one read chunk.
 *
 * @param path - the mbox file
 * @param options - read chunk size, largest message; `onError` to be told of a failure instead of an error thrown
 * @returns an async iterable of messages (`id` is `path#offset`, the byte offset of the `From ` line)
 * @throws PecError `ERR_INVALID_ARGUMENT` when `path` does not exist or is a folder; `ERR_SOURCE` when the file cannot be read (the file system's or zlib's error is its `cause`), unless `options.onError` takes it
 * @example
 * ```ts
 * for await (const m of readMbox("archive.mbox")) console.log(m.id);
 * ```
 */
export async function* readMbox(path: string, options: MboxOptions = {}): AsyncGenerator<SourceMessage> {
  checkPath(path, "path");
  const { onError } = checkSourceOptions(options);
  const hwm = options.highWaterMark ?? 256 * 1024;
  if (!Number.isInteger(hwm) || hwm < 16) throw new PecError("ERR_INVALID_ARGUMENT", "highWaterMark must be an integer ≥ 16");
  // Read once, front to back: a pipe (`/dev/stdin`, a shell's `<(zcat old.mbox.gz)`) does as well as a file.
  await checkFile(path, true);
  // A failure of the reading leaves out the partial message before it, with the rest.
  yield* sourceMessages(mboxStream(archiveFile(path, hwm), path, options.maxMessageSize), path, onError);
}

/** @param stream - whether a pipe, a device or a socket will do (a source read once, in order) */
async function checkFile(path: string, stream = false): Promise<void> {
  const st = await stat(fsPath(path)).catch(() => undefined);
  if (!st || st.isDirectory() || (!stream && !st.isFile())) throw new PecError("ERR_INVALID_ARGUMENT", `${path} is not a file`);
}

/**
 * The messages of one file's entries, as a public reader gives them: a message left out goes
 * to `onError` and the next are read; a failure of the file itself ends it (to `onError`, or
 * thrown).
 */
async function* sourceMessages(entries: AsyncIterable<EntryOrError>, path: string, onError: SourceOptions["onError"]): AsyncGenerator<SourceMessage> {
  const it = entries[Symbol.asyncIterator]();
  try {
    for (;;) {
      // Only the reading fails in here: what the caller does with a message does not come back
      // into this generator, and a call of onError is never repeated.
      let next: IteratorResult<EntryOrError>;
      try {
        next = await it.next();
      } catch (err) {
        failed(onError, path, err);
        return;
      }
      if (next.done) return;
      const e = next.value;
      if ("bytes" in e) yield { id: e.id, source: path, bytes: e.bytes };
      else failed(onError, e.id, e.error);
    }
  } finally {
    // A caller that stops early (break) closes the file, as a for-await over it would.
    await it.return?.();
  }
}

/**
 * A file's bytes as they are read; a gzip-compressed one (an .mbox.gz, a .tar.gz) through
 * gunzip (offsets are then in what it holds). Gzip is told by its magic alone, not by a
 * head that decompresses: a file damaged in its first bytes is then zlib's error, where read
 * as it is it would give no message and no word of why.
 */
async function* archiveFile(path: string, highWaterMark = 256 * 1024): AsyncGenerator<Uint8Array> {
  const [head, chunks] = await peek(createReadStream(fsPath(path), { highWaterMark }), 2);
  yield* isGzip(head) ? gunzipped(chunks, highWaterMark) : chunks;
}

/** Bytes that come gzip-compressed, decompressed as they come. A damaged stream ends with zlib's error, after what it gave before the damage. */
function gunzipped(chunks: AsyncIterable<Uint8Array>, chunkSize = 256 * 1024): AsyncIterable<Uint8Array> {
  const source = chunks instanceof Readable ? chunks : Readable.from(chunks, { objectMode: false });
  return pipeline(source, createGunzip({ chunkSize }), () => undefined);
}

/**
 * The messages of an mbox that comes as chunks (a file, gunzip's output, standard input, a
 * ZIP entry), by the rules of `MboxReader`, named `name#offset`: each one's bytes, or the
 * `ERR_TOO_LARGE` error that kept it out. A failure of the chunks ends it with that failure.
 *
 * @param chunks - the mbox's bytes (each chunk is kept by reference until its message ends)
 * @param name - what ids begin with
 * @param maxMessageSize - the largest message kept (default: readPec's limit)
 */
async function* mboxStream(chunks: AsyncIterable<Uint8Array>, name: string, maxMessageSize?: number): AsyncGenerator<EntryOrError> {
  const reader = new MboxReader(maxMessageSize !== undefined ? { maxMessageSize } : {});
  for await (const chunk of chunks) for (const m of reader.push(chunk)) yield mboxEntry(m, `${name}#${m.offset}`, maxMessageSize);
  for (const m of reader.end()) yield mboxEntry(m, `${name}#${m.offset}`, maxMessageSize);
}

/**
 * Reads the messages of a ZIP archive (a webmail export, a preservation package), one entry
 * at a time, in the archive's order: `.eml` entries (also gzip-compressed), other entries
 * whose first line is a header field, and the messages of the mbox files in it, streamed
 * whatever their size (a Google Takeout export); folders, hidden entries (`.x`,
 * `__MACOSX/`) and files that are never messages are skipped. Stored and deflated entries
 * are read, ZIP64 too, each checked against its size and CRC-32 (a streamed mbox at its
 * end: its last message is then left out with the failure).
 *
 * @param path - the `.zip` file
 * @param options - `onError` to leave out, and be told about, entries that cannot be read
 * @returns an async iterable of messages (`id` is `path#name` in the archive; `path#name#offset` in an mbox in it)
 * @throws PecError `ERR_INVALID_ARGUMENT` when `path` is not a file; `ERR_SOURCE` for a damaged archive or entry;
 * `ERR_UNSUPPORTED` for an encrypted entry, another compression method, an archive inside the archive or an archive split
 * over several files; `ERR_TOO_LARGE` for an entry larger than readPec reads; unless `options.onError` takes these
 * @example
 * ```ts
 * for await (const m of readZip("export.zip")) console.log(m.id);
 * ```
 */
export async function* readZip(path: string, options: SourceOptions = {}): AsyncGenerator<SourceMessage> {
  checkPath(path, "path");
  const { onError } = checkSourceOptions(options);
  await checkFile(path);
  yield* sourceMessages(zipEntries(path), path, onError);
}

/**
 * The messages of a ZIP archive as the CLI takes them: each one's bytes, or the error that
 * kept it out; the other entries are read. An archive whose directory cannot be read
 * throws. Not part of the public API.
 *
 * @internal
 */
export async function* zipEntries(path: string): AsyncGenerator<EntryOrError> {
  let zip;
  try {
    zip = await openZip(path);
  } catch (err) {
    throw sourceError(path, err);
  }
  try {
    for (const entry of zip.entries) {
      const id = `${path}#${entry.name}`;
      const kind = zipEntryKind(entry.name);
      if (kind === "skip") continue;
      if (kind === "archive") {
        yield { id, error: nestedArchive(id) };
        continue;
      }
      if (kind === "sniff" && entry.size > STREAM_ENTRIES_ABOVE) {
        // Streamed: the mbox of a mail export (Google Takeout's is one entry) holds gigabytes.
        yield* chunkedMessages(zip.stream(entry), id, { sniff: true });
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = await zip.read(entry, DEFAULT_MAX_SIZE);
        if (kind === "eml") bytes = storedMessage(bytes);
      } catch (err) {
        yield { id, error: sourceError(id, err) };
        continue;
      }
      // An entry of another name may be an mbox, gzip-compressed, or no message at all.
      if (kind === "sniff") yield* chunkedMessages(once(bytes), id, { sniff: true });
      else yield { id, bytes };
    }
  } finally {
    await zip.close();
  }
}

/**
 * ZIP entries not named `.eml` larger than this are streamed rather than read whole: reading
 * whole costs one read, a stream a read stream and an inflate stream, ≈ 0.5 ms more an entry.
 */
const STREAM_ENTRIES_ABOVE = 16 * 1024 * 1024;

/**
 * Reads the messages of a tar archive (`.tar`, or gzip-compressed: `.tar.gz`, `.tgz`, as
 * Google Takeout and preservation packages make them), streamed, one file at a time in the
 * archive's order, chosen as in a ZIP archive: `.eml` files, other files whose first line is
 * a header field, and the messages of the mbox files in it, whatever their size; folders,
 * links, hidden files and files that are never messages are skipped.
 *
 * @param path - the archive
 * @param options - `onError` to leave out, and be told about, files that cannot be read
 * @returns an async iterable of messages (`id` is `path#name` in the archive; `path#name#offset` in an mbox in it)
 * @throws PecError `ERR_INVALID_ARGUMENT` when `path` is not a file; `ERR_SOURCE` for a damaged archive (after the messages before the damage), unless `options.onError` takes it
 * @example
 * ```ts
 * for await (const m of readTar("takeout.tgz")) console.log(m.id);
 * ```
 */
export async function* readTar(path: string, options: SourceOptions = {}): AsyncGenerator<SourceMessage> {
  checkPath(path, "path");
  const { onError } = checkSourceOptions(options);
  await checkFile(path);
  yield* sourceMessages(tarEntries(path), path, onError);
}

/**
 * The messages of a ZIP or tar archive as the CLI takes them ({@link zipEntries},
 * {@link tarEntries}). Not part of the public API.
 *
 * @internal
 */
export function archiveEntries(path: string, kind: "zip" | "tar"): AsyncGenerator<EntryOrError> {
  return kind === "zip" ? zipEntries(path) : tarEntries(path);
}

/**
 * The messages of a tar archive as the CLI takes them: each one's bytes, or the error that
 * kept it out; a damaged archive throws, after the messages before the damage. Not part of
 * the public API.
 *
 * @internal
 */
export async function* tarEntries(path: string): AsyncGenerator<EntryOrError> {
  try {
    for await (const file of tarFiles(archiveFile(path), path)) {
      const id = `${path}#${file.name}`;
      const kind = zipEntryKind(file.name);
      if (kind === "skip") continue;
      if (kind === "archive") yield { id, error: nestedArchive(id) };
      else yield* chunkedMessages(file.content, id, { sniff: kind === "sniff" });
    }
  } catch (err) {
    throw sourceError(path, err);
  }
}

/**
 * The messages in bytes that come as chunks (standard input, a ZIP entry), read as they
 * come: the messages of an mbox, of any size, named `id#offset`; else one message named
 * `id`, up to readPec's limit; decompressed first when gzip-compressed. A failure ends them
 * with an entry naming it, after the messages read before it. Not part of the public API.
 *
 * @param sniff - give nothing for bytes that are neither an mbox nor start as a message
 * @internal
 */
export async function* chunkedMessages(source: AsyncIterable<Uint8Array>, id: string, options: { sniff?: boolean; what?: string } = {}): AsyncGenerator<EntryOrError> {
  let gzip = false;
  try {
    // Enough to tell gzip, an mbox and the first header line (looksLikeMessage reads 1 KiB).
    let [head, chunks, failed] = await peek(source, HEAD_BYTES);
    gzip = isGzip(head);
    if (gzip) [head, chunks, failed] = await peek(gunzipped(chunks), HEAD_BYTES);
    if (isMbox(head)) {
      yield* mboxStream(chunks, id);
      return;
    }
    if (options.sniff && !mayBeMessage(head)) {
      // Not read further: a file that is no message (a PDF, a picture) may be large. One that
      // could not be read is named all the same, as when it is read whole.
      if (failed) for await (const _ of chunks);
      // Started, then left: a generator never started would not close its source (a ZIP entry's stream).
      else for await (const _ of chunks) break;
      return;
    }
    const bytes = await readAll(chunks, options.what ?? id);
    yield { id, bytes: gzip ? bytes : storedMessage(bytes) };
  } catch (err) {
    const error = err instanceof PecError ? err : gzip ? new PecError("ERR_SOURCE", `the gzip-compressed data is damaged: ${(err as Error).message}`, {}, { cause: err }) : sourceError(id, err);
    yield { id, error };
  }
}

/**
 * The messages of an mbox as the CLI takes them: each one's bytes, or the error that kept it
 * out (larger than readPec reads); the rest of the mbox is read. A failure to read the file
 * still ends it. Not part of the public API.
 *
 * @internal
 */
export async function* mboxEntries(path: string): AsyncGenerator<EntryOrError> {
  try {
    yield* mboxStream(archiveFile(path), path);
  } catch (err) {
    throw sourceError(path, err);
  }
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(fsPath(p)).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Whether an entry of `dir` is a file, or a symbolic link to one (read as the file). A link to
 * a folder, a broken link or a loop of links is none; a link costs a stat, which the rare
 * links in a mail store can afford even in a Maildir's synchronous listing.
 */
function isFileEntry(dir: string, e: Dirent): boolean {
  if (e.isFile()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(fsPath(join(dir, e.name))).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads any local source: a Maildir (a folder with `cur/` or `new/`), a folder of messages,
 * an mbox (a file whose first line starts with `From `, also gzip-compressed) or a single
 * message file (also gzip-compressed). A pipe or a device (`/dev/stdin`, a shell's
 * `<(zcat archive.mbox.gz)`) is read once, as it comes: each message of an mbox (`path#offset`),
 * else one message.
 *
 * @param path - folder or file
 * @param options - `onError` to leave out, and be told about, files that cannot be read; the mbox read chunk size
 * @returns an async iterable of messages
 * @throws PecError `ERR_INVALID_ARGUMENT` when `path` does not exist; `ERR_SOURCE` when a file or folder cannot be read (the file system's error is its `cause`); `ERR_UNSUPPORTED` for a message stored bzip2-, xz- or zstd-compressed; `ERR_TOO_LARGE` for a message file larger than readPec reads (refused before it is read), unless `options.onError` takes these
 * @example
 * ```ts
 * for await (const m of readSource(process.argv[2]!)) console.log(m.id);
 * ```
 */
export async function* readSource(path: string, options: MboxOptions = {}): AsyncGenerator<SourceMessage> {
  checkPath(path, "path");
  const { onError } = checkSourceOptions(options);
  switch (await sourceKind(path)) {
    case undefined:
      throw new PecError("ERR_INVALID_ARGUMENT", `${path} does not exist`);
    case "maildir":
      yield* readMaildir(path, options);
      return;
    case "folder":
      yield* readFolder(path, options);
      return;
    case "mbox":
      yield* readMbox(path, options);
      return;
    case "zip":
      yield* readZip(path, options);
      return;
    case "tar":
      yield* readTar(path, options);
      return;
    case "file": {
      let bytes: Uint8Array;
      try {
        bytes = storedMessage(await readMessageFile(path));
      } catch (err) {
        failed(onError, path, err);
        return;
      }
      yield { id: path, source: path, bytes };
      return;
    }
    case "stream":
      yield* sourceMessages(streamMessages(path), path, onError);
  }
}

/**
 * The messages of a pipe, a device or a socket (`/dev/stdin`, a shell's `<(zcat x.mbox.gz)`), as
 * standard input is read ({@link chunkedMessages}): each message of an mbox, else one message, up
 * to readPec's limit. Not part of the public API.
 *
 * @internal
 */
export function streamMessages(path: string): AsyncGenerator<EntryOrError> {
  return chunkedMessages(createReadStream(fsPath(path), { highWaterMark: 256 * 1024 }), path);
}

function checkSourceOptions(options: SourceOptions): SourceOptions {
  if (typeof options !== "object" || options === null) throw new PecError("ERR_INVALID_ARGUMENT", `options must be an object, got ${options === null ? "null" : typeof options}`);
  if (options.onError !== undefined && typeof options.onError !== "function") throw new PecError("ERR_INVALID_ARGUMENT", `onError must be a function, got ${typeof options.onError}`);
  return options;
}

/** A message file that cannot be read: passed to `onError` and left out, or thrown without it. */
function failed(onError: SourceOptions["onError"], path: string, err: unknown): void {
  const error = sourceError(path, err);
  if (!onError) throw error;
  onError(error, path);
}

/** Whether a file system error says the file is not there (any more). */
function gone(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

/** A source's failure to read as the one error class, with the file system's error as its cause. */
function sourceError(path: string, err: unknown): PecError {
  if (err instanceof PecError) return err;
  return new PecError("ERR_SOURCE", `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
}

