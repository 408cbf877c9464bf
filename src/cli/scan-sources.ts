/**
 * Sources of `postacert scan`, as streams of work for the pool. Folders and Maildirs yield file
 * paths (the workers read the files: no message bytes cross threads); mbox files and IMAP
 * mailboxes yield bytes. Ids are the same as postacert/node's readers give (`readSource`), so a
 * state file and `--shard` agree whichever API read the archive.
 *
 * @module
 */
import { resolve } from "node:path";
import { type ImapOptions, readImap } from "../node/imap.js";
import { type EntryOrError, type FolderFile, type MaildirListing, type SourceKind, countMaildirFiles, folderFiles, heldMessages, holdsMessages, listMaildir, maildirFolders, mboxEntries, sourceKind as localKind, maildirFiles, archiveEntries, chunkedMessages, streamMessages } from "../node/sources.js";
import type { PecError } from "../errors.js";
import { UsageError } from "./io.js";
import type { ScanItem } from "./scan-process.js";

/** A source entry: work for the pool, or an IMAP message the state file already holds (not fetched). */
export type SourceEntry =
  | ScanItem
  | {
      /** IMAP id found in the state file. */
      knownId: string;
      /** The source. */
      source: string;
    };

/** What {@link enumerateSource} needs to know. */
export interface EnumerateOptions {
  /** Whether an id belongs to this `--shard` (always true without it). */
  inShard: (id: string) => boolean;
  /** Whether an IMAP id is already in the state file. */
  knownImapId?: (id: string) => boolean;
  /** IMAP settings (password resolved by the caller). */
  imap?: Omit<ImapOptions, "skip" | "onError">;
  /** The listing {@link countSource} kept of this source (walked instead of listing it again). */
  listing?: SourceListing;
  /** A folder under a folder source that cannot be read: reported here, and the walk goes on (without it, the walk ends with the error). */
  skipped?: (path: string, err: Error) => void;
  /** Standard input, for the source `-`. */
  stdin?: () => AsyncIterable<Uint8Array>;
}

/** Whether a source argument is an IMAP URL. */
export function isImap(source: string): boolean {
  return /^imaps?:\/\//i.test(source);
}

/** Whether a source argument is standard input. */
export function isStdin(source: string): boolean {
  return source === "-";
}

type Kind = SourceKind | "imap" | "stdin";

/**
 * Tells what a source is, as readSource does (Maildir: a folder with cur/ or new/; mbox: a file
 * whose first bytes are `From `); `-` is standard input.
 *
 * @throws UsageError when a local source does not exist or cannot be read
 */
export async function sourceKind(source: string): Promise<Kind> {
  if (isImap(source)) return "imap";
  if (isStdin(source)) return "stdin";
  const kind = await localKind(source).catch(() => undefined);
  if (!kind) throw new UsageError(`cannot read "${source}"`);
  return kind;
}

/**
 * The Maildir++ folders (`.Sent`, `.Archivio`…) of the Maildir sources that are not sources
 * themselves: a Maildir source is its own `cur/` and `new/` only, so scan says which folders it
 * leaves out rather than leave them out silently.
 */
export async function unscannedMaildirFolders(sources: readonly string[]): Promise<{ source: string; folders: string[] }[]> {
  const given = new Set(sources.filter((s) => !isImap(s)).map((s) => resolve(s)));
  const out: { source: string; folders: string[] }[] = [];
  for (const source of sources) {
    if (isImap(source) || (await sourceKind(source)) !== "maildir") continue;
    const folders = (await maildirFolders(source)).filter((f) => !given.has(resolve(source, f)));
    if (folders.length) out.push({ source, folders });
  }
  return out;
}

/** The most files of a folder source {@link countSource} keeps for its walk. */
const KEEP_FILES = 200_000;

/** A folder source's candidate files as {@link countSource} found them, and the folders under it it could not read. */
export interface FolderListing {
  /** In walk order; emptied as {@link enumerateSource} walks it. */
  files: FolderFile[];
  /** Reported by the walk, as a walk of the folder would have. */
  skipped: [path: string, err: Error][];
}

/** What {@link countSource} keeps of a folder or a Maildir for its walk. */
export type SourceListing = MaildirListing | FolderListing;

/** What {@link countSource} found. */
export interface SourceCount {
  /**
   * Candidate messages; undefined for mbox, ZIP, tar, IMAP and standard input, and for a folder holding an
   * mbox or an archive, whose count is known only by reading them.
   */
  count: number | undefined;
  /** A folder's or a Maildir's listing, when asked to keep it: give it to {@link enumerateSource}. */
  listing?: SourceListing;
  /** The archives (`.7z`, `.rar`…) a folder holds, which are not scanned. */
  archives?: string[];
}


/**
 * Counts a local source's candidate messages cheaply (names only), for the batch size and the
 * progress line's ETA. With `keep`, a folder's or Maildir's names are kept for its walk, so that it is listed
 * once: scan keeps the first source's, which it walks next, and no more, since holding every
 * source's names would make memory grow with the archive. `found` is called once per candidate
 * as it is counted, so a caller can act before a long count ends.
 */
export async function countSource(source: string, keep = false, found?: () => void): Promise<SourceCount> {
  const kind = await sourceKind(source);
  if (kind === "folder") {
    // Listing 100,000 files takes ≈ 0.3 s: the walk that follows takes them from here, up to
    // KEEP_FILES (≈ 250 bytes each), beyond which the folder is listed again rather than held.
    let listing: FolderListing | undefined = keep ? { files: [], skipped: [] } : undefined;
    let n = 0;
    // One file that holds many messages makes the count of files no count of messages: a
    // folder holding a 5 GB Inbox would pass for a small scan and run on one core.
    let containers = false;
    const archives: string[] = [];
    // A folder that cannot be read is left out of the count; the walk reports it.
    for await (const f of folderFiles(source, (path, err) => void listing?.skipped.push([path, err]), (path) => archives.push(path))) {
      n++;
      // Looked at once: the walk of a kept listing takes the answer from here.
      if (!containers && (await holdsMessages(f))) containers = true;
      if (listing && listing.files.push(f) > KEEP_FILES) listing = undefined;
      found?.();
    }
    return { count: containers ? undefined : n, ...(listing && { listing }), ...(archives.length > 0 && { archives }) };
  }
  if (kind === "maildir") {
    if (!keep) return { count: await countMaildirFiles(source, found) };
    const listing = await listMaildir(source, found);
    return { count: listing.cur.length + listing.new.length, listing };
  }
  if (kind !== "file") return { count: undefined };
  found?.();
  return { count: 1 };
}

/**
 * A kept folder listing, as its walk would give it: the unreadable folders first (to `skipped`,
 * or the first one's error without it), then the files, each let go once yielded.
 */
function* keptFiles(listing: FolderListing, skipped: ((path: string, err: Error) => void) | undefined): Generator<FolderFile> {
  for (const [path, err] of listing.skipped.splice(0)) {
    if (!skipped) throw err;
    skipped(path, err);
  }
  const files = listing.files;
  listing.files = [];
  for (let i = 0; i < files.length; i++) {
    yield files[i]!;
    files[i] = GONE;
  }
}

const GONE = { path: "", sniff: false };

/**
 * Buffers that belong to one mbox message alone (the reader's copy): they may be moved to a
 * worker instead of copied. IMAP bytes may share a pooled buffer, which must not be moved.
 */
export const ownBuffers = new WeakSet<ArrayBufferLike>();

/** A message of an mbox or a ZIP archive as work: its bytes, or why it was left out (an unreadable record). */
function entryItem(m: EntryOrError, source: string): ScanItem {
  if ("bytes" in m) {
    ownBuffers.add(m.bytes.buffer);
    return { id: m.id, source, bytes: m.bytes };
  }
  return { id: m.id, source, unreadable: { code: m.error.code, severity: "error", message: m.error.message } };
}

/**
 * Streams one source as work: files as paths (folder, Maildir, a single file), messages as
 * bytes (mbox, IMAP). Messages outside the shard are never yielded (for IMAP, never fetched).
 *
 * @throws UsageError for a missing source
 */
export async function* enumerateSource(source: string, opts: EnumerateOptions): AsyncGenerator<SourceEntry> {
  const kind = await sourceKind(source);
  switch (kind) {
    case "folder":
      for await (const f of opts.listing && "files" in opts.listing ? keptFiles(opts.listing, opts.skipped) : folderFiles(source, opts.skipped)) {
        // An mbox (Thunderbird's Inbox, an archive.mbox) or a ZIP archive among the files: its
        // messages, sharded by their own ids as an mbox source's are. Only files not named
        // .eml are looked at.
        if (await holdsMessages(f)) {
          try {
            for await (const m of heldMessages(f)) if (opts.inShard(m.id)) yield entryItem(m, source);
          } catch (err) {
            if (!opts.skipped) throw err;
            opts.skipped(f.path, err as Error);
          }
          continue;
        }
        if (opts.inShard(f.path)) yield f.sniff ? { id: f.path, source, path: f.path, sniff: true } : { id: f.path, source, path: f.path };
      }
      return;
    case "maildir":
      for await (const path of maildirFiles(source, opts.listing && "cur" in opts.listing ? opts.listing : undefined)) if (opts.inShard(path)) yield { id: path, source, path, maildir: true };
      return;
    case "file":
      if (opts.inShard(source)) yield { id: source, source, path: source };
      return;
    case "mbox":
      for await (const m of mboxEntries(source)) if (opts.inShard(m.id)) yield entryItem(m, source);
      return;
    case "zip":
    case "tar":
      for await (const m of archiveEntries(source, kind)) if (opts.inShard(m.id)) yield entryItem(m, source);
      return;
    case "stdin":
    case "stream": {
      // As inspect reads it: an mbox of any size message by message (-#offset), gzip-compressed
      // or not; otherwise one message (-). A pipe or a device given by path is read the same way.
      if (kind === "stdin" && !opts.stdin) throw new UsageError("standard input as a source without standard input");
      const messages = kind === "stdin" && opts.stdin ? chunkedMessages(opts.stdin(), source, { what: "standard input" }) : streamMessages(source);
      for await (const m of messages) {
        // The stream failing (damaged gzip data) ends the source, as it ends an mbox file:
        // a source error, after the messages read before it.
        if ("error" in m && m.error.code === "ERR_SOURCE") throw m.error;
        if (opts.inShard(m.id)) yield entryItem(m, source);
      }
      return;
    }
    case "imap": {
      if (!opts.imap) throw new UsageError("IMAP source without IMAP settings");
      // skip() runs before each fetch: messages of other shards and UIDs the state file holds
      // are never downloaded; the latter are reported from the state file.
      // Both come out in order with the messages read: ids the state file holds, and messages
      // refused unread (listed larger than a message read) as unreadable records.
      const aside: SourceEntry[] = [];
      const skip = (id: string): boolean => {
        if (!opts.inShard(id)) return true;
        if (opts.knownImapId?.(id)) {
          aside.push({ knownId: id, source });
          return true;
        }
        return false;
      };
      const onError = (error: PecError, id: string): void => {
        if (opts.inShard(id)) aside.push({ id, source, unreadable: { code: error.code, severity: "error", message: error.message } });
      };
      for await (const m of readImap(source, { ...opts.imap, skip, onError })) {
        yield* aside.splice(0);
        // Also filtered here, in case a reader fetches without asking skip().
        if (opts.inShard(m.id)) yield { id: m.id, source, bytes: m.bytes };
      }
      yield* aside.splice(0);
      return;
    }
  }
}
