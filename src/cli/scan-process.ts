/**
 * The per-message work of `postacert scan`: read, hash, parse, summarize, verify. Runs in the
 * pool's workers (scan-worker.ts) and, for `--jobs 1`, in the main thread; what it returns is
 * plain structured-cloneable data so a worker sends back a few hundred bytes per message.
 *
 * @module
 */
import { hash as oneShotHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { PecError } from "../errors.js";
import { fsPath } from "../node/fs-names.js";
import { MAX_MESSAGE_FILE, fileTooLarge, looksLikeMessage, mayBeMessage, readMovedMaildirFile, storedMessage } from "../node/sources.js";
import { readPec } from "../pec/read.js";
import type { ReadPec } from "../pec/types.js";
import { verifyPec } from "../pec/verify.js";
import { type PecSummary, summarizePec } from "../transactions/summary.js";
import type { TrustStore } from "../trust/index.js";

/** A message to scan: a file the worker reads itself, or bytes already read (mbox, IMAP). */
export type ScanItem =
  | {
      /** Message id in its source (the file path). */
      id: string;
      /** The source as given on the command line. */
      source: string;
      /** File to read. */
      path: string;
      /** Read it only when its first line is a header field (folder files not named .eml). */
      sniff?: boolean;
      /** A Maildir file: followed when it is moved or renamed before it is read. */
      maildir?: true;
    }
  | {
      /** Message id in its source (`path#offset`, IMAP URL). */
      id: string;
      /** The source as given on the command line. */
      source: string;
      /** The message. */
      bytes: Uint8Array;
    }
  | {
      /** Message id in its source (`path#offset`). */
      id: string;
      /** The source as given on the command line. */
      source: string;
      /** Why the source could not give the message (an mbox message over the size limit). */
      unreadable: ScanIssue;
    };

/** Outcome of one message: `ok` (PEC, valid and trusted), `failed`, `not-pec`, `unreadable`. */
export type ScanStatus = "ok" | "failed" | "not-pec" | "unreadable";

/** One issue, as `verify --json` prints it. */
export interface ScanIssue {
  /** Stable code (verification, read consistency, or a `PecError` code when unreadable). */
  code: string;
  /** `error`, `warning` or `info`. */
  severity: string;
  /** English explanation. */
  message: string;
}

/** The signature verdict of a message (see `verifyPec`). */
export interface ScanSignature {
  /** A signature is present. */
  present: boolean;
  /** It matches the signed bytes. */
  valid: boolean;
  /** Valid, and the signer chains to a trust anchor and fits the gestore profile. */
  trusted: boolean;
  /** Signer subject. */
  signer: string | null;
  /** CMS signingTime, ISO 8601. */
  signedAt: string | null;
  /** Digest algorithm. */
  digestAlgorithm: string | null;
  /** Verification issues. */
  issues: ScanIssue[];
}

/**
 * Everything scan keeps of a checked message; also one line of the `--state` file. Plain data:
 * the summary's `date` is a `Date` here and an ISO string in the state file.
 */
export interface ScanRecord {
  /** Message id in its source. */
  id: string;
  /** The source. */
  source: string;
  /** SHA-256 of the message bytes, lower-case hex; empty when the message could not be read. */
  hash: string;
  /** Outcome. */
  status: ScanStatus;
  /** What correlation needs (absent when unreadable). */
  summary?: PecSummary;
  /** Signature verdict (absent when unreadable). */
  signature?: ScanSignature;
  /** readPec's consistency issues, or the read error. */
  issues: ScanIssue[];
}

/**
 * The result of one {@link ScanItem}, as a worker sends it back: as little as the main thread
 * needs, since every object costs serializing in the worker and rebuilding and collecting in
 * the main thread, which correlates for all the workers. No id or source: the main thread has
 * them (it sent the item).
 */
export type ItemResult =
  | ({
      /** Checked now: the record without id and source (rebuilt in the same key order, see `recordOf` in scan.ts). */
      kind: "record";
    } & Verdict)
  | {
      /**
       * Checked now and verified, when the main thread prints and stores nothing per verified
       * message ({@link ProcessContext.lean}): the summary is all it keeps.
       */
      kind: "ok";
      /** The summary, without gestoreEmittente (for output only). */
      summary: PecSummary;
    }
  | {
      /** Its content hash is in the state file: not verified again. */
      kind: "known";
      /** SHA-256, hex. */
      hash: string;
    }
  | {
      /** A folder file that is not a message (its first line is not a header field). */
      kind: "ignored";
    };

/** A {@link ScanRecord} without what the main thread already knows (id, source). */
export type Verdict = Omit<ScanRecord, "id" | "source">;

/** What {@link processItems} needs, built once per worker. */
export interface ProcessContext {
  /** Trust anchors. */
  trust: TrustStore;
  /** WebCrypto for verification (node:crypto one-shot in the CLI). */
  crypto?: Crypto;
  /** Whether a content hash is already in the state file (a cheap prefilter, see scan-state.ts). */
  isKnown?: (hash: Buffer) => boolean;
  /** Verify even when known (a prefilter false positive, sent again by the main thread). */
  force?: boolean;
  /** A verified message is sent as its summary only (no --json, --csv or --state: nothing prints or stores it). */
  lean?: boolean;
}

function issueOf(err: unknown): ScanIssue {
  if (err instanceof PecError) return { code: err.code, severity: "error", message: err.message };
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === "string" && e.syscall !== undefined) return { code: e.code, severity: "error", message: e.message };
  return { code: "ERR_INTERNAL", severity: "error", message: err instanceof Error ? err.message : String(err) };
}

/** Most message bytes read ahead of their verification (see {@link processItems}). */
const STAGE_BYTES = 4 * 1024 * 1024;

/**
 * Checks a batch of messages (a worker runs one batch at a time) in stages: read the files,
 * then parse them all, then verify them all. One stage's code stays in the CPU's caches from
 * one message to the next: a parse right after OpenSSL's RSA verification ran ≈ 40 % slower
 * than parses in a row, and a worker took ≈ 160 µs per receipt one at a time against ≈ 123 µs
 * in stages. A stage holds {@link STAGE_BYTES} of messages at most, plus the one that crosses it.
 */
export async function processItems(items: readonly ScanItem[], ctx: ProcessContext): Promise<ItemResult[]> {
  const out: ItemResult[] = [];
  for (let start = 0; start < items.length; ) {
    const staged: (ItemResult | Pending)[] = [];
    for (let held = 0; start < items.length && held < STAGE_BYTES; start++) {
      const s = load(items[start]!, ctx);
      staged.push(s);
      if (!("kind" in s)) held += s.bytes.length;
    }
    const parsed = staged.map((s) => ("kind" in s ? s : parse(s)));
    for (const s of parsed) out.push("kind" in s ? s : await verify(s, ctx));
  }
  return out;
}

function sha256(bytes: Uint8Array): Buffer {
  return oneShotHash("sha256", bytes, "buffer") as unknown as Buffer;
}

/** The read buffer's usual size: a PEC receipt is 5–20 KB. */
const SCRATCH = 64 * 1024;
/** A buffer grown for a large message is dropped past this size rather than kept for the next. */
const SCRATCH_KEEP = 1024 * 1024;
/** Every file is read into this buffer first (a worker reads one at a time), grown when one is larger. */
let scratch = new Uint8Array(SCRATCH);

/**
 * A whole file, in a fresh buffer of its exact size: open, read to end of file, close, no
 * fstat for a file that fits the first read (≈ 11 µs for a receipt against ≈ 12 µs with
 * readFileSync: the syscalls are most of it). Reading to end of file reads a file that grows
 * or shrinks meanwhile as it ends up. The copy out of the shared buffer costs ≈ 2 µs and is
 * what makes it safe: the parse tree, the library's caches and the daticert decoder may keep
 * views of the bytes they were given, and a shared buffer would change under them with the
 * next message.
 *
 * @param sniff - undefined, without reading further, when the first read shows no message
 *   (a header field) and no compressed file: a folder's large file of another kind is not read
 * @throws PecError `ERR_TOO_LARGE` past {@link MAX_MESSAGE_FILE}, before reading the rest; the fs
 *   error (ENOENT, EISDIR, EACCES…), with its errno code
 */
function readWhole(path: string, sniff = false): Uint8Array | undefined {
  const fd = openSync(fsPath(path), "r");
  try {
    let n = readSync(fd, scratch, 0, scratch.length, null);
    if (sniff && !mayBeMessage(scratch.subarray(0, n))) return undefined;
    if (n === scratch.length) {
      // More than one read: a large file, whose size is worth a look before it is read.
      const { size } = fstatSync(fd);
      if (size > MAX_MESSAGE_FILE) throw fileTooLarge(path, size);
    }
    for (;;) {
      if (n === scratch.length) {
        const grown = new Uint8Array(scratch.length * 2);
        grown.set(scratch);
        scratch = grown;
      }
      const got = readSync(fd, scratch, n, scratch.length - n, null);
      if (got === 0) break;
      n += got;
      // Grown since its size was taken.
      if (n > MAX_MESSAGE_FILE) throw fileTooLarge(path, n);
    }
    return scratch.slice(0, n);
  } finally {
    if (scratch.length > SCRATCH_KEEP) scratch = new Uint8Array(SCRATCH);
    closeSync(fd);
  }
}

/**
 * A Maildir message as {@link readWhole} reads it, followed where a client moved or renamed
 * it since the listing (seen: `new/` to `cur/`; flags changed: a new name in `cur/`).
 *
 * @throws ENOENT when it was deleted
 */
function readMaildirFile(path: string): Uint8Array {
  try {
    return readWhole(path)!;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    const moved = readMovedMaildirFile(path, (p) => readWhole(p)!);
    if (moved === undefined) throw err;
    return moved;
  }
}

/** A message read and not answered yet. */
interface Pending {
  bytes: Uint8Array;
  /** SHA-256 of the bytes (absent when nothing needs it, see {@link load}). */
  digest: Buffer | undefined;
}

/** A message read by {@link parse}. */
interface Parsed extends Pending {
  pec: ReadPec;
  summary: PecSummary;
}

function load(item: ScanItem, ctx: ProcessContext): ItemResult | Pending {
  if ("unreadable" in item) return { kind: "record", hash: "", status: "unreadable", issues: [item.unreadable] };
  let bytes: Uint8Array;
  if ("path" in item) {
    try {
      const stored = item.maildir ? readMaildirFile(item.path) : readWhole(item.path, item.sniff);
      if (stored === undefined) return { kind: "ignored" };
      bytes = storedMessage(stored);
    } catch (err) {
      return { kind: "record", hash: "", status: "unreadable", issues: [issueOf(err)] };
    }
    // Decompressed, it may still be no message.
    if (item.sniff && !looksLikeMessage(bytes)) return { kind: "ignored" };
  } else bytes = item.bytes;
  // The hash is for the state file and the output: a verified message sent lean needs none,
  // and SHA-256 of a receipt cost ≈ 8 µs, 3 % of a worker's time.
  const digest = ctx.lean && !ctx.isKnown ? undefined : sha256(bytes);
  if (digest && !ctx.force && ctx.isKnown?.(digest)) return { kind: "known", hash: digest.toString("hex") };
  return { bytes, digest };
}

function hexHash(p: Pending): string {
  return (p.digest ?? sha256(p.bytes)).toString("hex");
}

/** One message must not stop a scan of millions: even a bug is reported as that message's result. */
function unreadable(p: Pending, err: unknown): ItemResult {
  return { kind: "record", hash: hexHash(p), status: "unreadable", issues: [issueOf(err)] };
}

function parse(p: Pending): ItemResult | Parsed {
  try {
    const pec = readPec(p.bytes);
    return { bytes: p.bytes, digest: p.digest, pec, summary: summarizePec(pec) };
  } catch (err) {
    return unreadable(p, err);
  }
}

async function verify(p: Parsed, ctx: ProcessContext): Promise<ItemResult> {
  const { pec, summary } = p;
  let res;
  try {
    res = await verifyPec(pec, { trust: ctx.trust, ...(ctx.crypto && { crypto: ctx.crypto }) });
  } catch (err) {
    return unreadable(p, err);
  }
  const status: ScanStatus = pec.type === "not-pec" ? "not-pec" : res.valid && res.trusted ? "ok" : "failed";
  if (status === "ok" && ctx.lean) {
    const { gestoreEmittente: _g, ...kept } = summary;
    return { kind: "ok", summary: kept };
  }
  const signature: ScanSignature = {
    present: res.present,
    valid: res.valid,
    trusted: res.trusted,
    signer: res.signer ?? null,
    signedAt: res.signedAt?.toISOString() ?? null,
    digestAlgorithm: res.digestAlgorithm ?? null,
    issues: res.issues.map((i) => ({ code: i.code, severity: i.severity, message: i.message })),
  };
  const issues = pec.issues.map((i) => ({ code: i.code, severity: i.severity, message: i.message }));
  return { kind: "record", hash: hexHash(p), status, summary, signature, issues };
}
