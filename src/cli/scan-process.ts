/**
 * The per-message work of `postacert scan`: read, hash, parse, summarize, verify. Runs in the
 * pool's workers (scan-worker.ts) and, for `--jobs 1`, in the main thread; what it returns is
 * plain structured-cloneable data so a worker sends back a few hundred bytes per message.
 *
 * @module
 */
import { hash as oneShotHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { PecError } from "../errors.js";
import { looksLikeMessage } from "../node/sources.js";
import { readPec } from "../pec/read.js";
import { verifyPec } from "../pec/verify.js";
import { type PecSummary, summarizePec } from "../transactions/index.js";
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
    }
  | {
      /** Message id in its source (`path#offset`, IMAP URL). */
      id: string;
      /** The source as given on the command line. */
      source: string;
      /** The message. */
      bytes: Uint8Array;
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

/** The result of one {@link ScanItem}. */
export type ItemResult =
  | {
      /** Checked now. */
      kind: "record";
      /** What was found. */
      record: ScanRecord;
    }
  | {
      /** Its content hash is in the state file: not verified again. */
      kind: "known";
      /** Message id. */
      id: string;
      /** Source. */
      source: string;
      /** SHA-256, hex. */
      hash: string;
    }
  | {
      /** A folder file that is not a message (its first line is not a header field). */
      kind: "ignored";
      /** Message id. */
      id: string;
    };

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
}

function issueOf(err: unknown): ScanIssue {
  if (err instanceof PecError) return { code: err.code, severity: "error", message: err.message };
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === "string" && e.syscall !== undefined) return { code: e.code, severity: "error", message: e.message };
  return { code: "ERR_INTERNAL", severity: "error", message: err instanceof Error ? err.message : String(err) };
}

/** Checks a batch of messages, one after the other (a worker runs one batch at a time). */
export async function processItems(items: readonly ScanItem[], ctx: ProcessContext): Promise<ItemResult[]> {
  const out: ItemResult[] = [];
  for (const item of items) out.push(await processItem(item, ctx));
  return out;
}

async function processItem(item: ScanItem, ctx: ProcessContext): Promise<ItemResult> {
  const { id, source } = item;
  let bytes: Uint8Array;
  if ("path" in item) {
    try {
      const b = readFileSync(item.path);
      bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (err) {
      return { kind: "record", record: { id, source, hash: "", status: "unreadable", issues: [issueOf(err)] } };
    }
    if (item.sniff && !looksLikeMessage(bytes)) return { kind: "ignored", id };
  } else bytes = item.bytes;
  const digest = oneShotHash("sha256", bytes, "buffer") as unknown as Buffer;
  const hash = digest.toString("hex");
  if (!ctx.force && ctx.isKnown?.(digest)) return { kind: "known", id, source, hash };
  let pec;
  let summary: PecSummary;
  let res;
  try {
    pec = readPec(bytes);
    summary = summarizePec(pec);
    res = await verifyPec(pec, { trust: ctx.trust, ...(ctx.crypto && { crypto: ctx.crypto }) });
  } catch (err) {
    // One message must not stop a scan of millions: even a bug is reported as that message's result.
    return { kind: "record", record: { id, source, hash, status: "unreadable", issues: [issueOf(err)] } };
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
  const status: ScanStatus = pec.type === "not-pec" ? "not-pec" : res.valid && res.trusted ? "ok" : "failed";
  const issues = pec.issues.map((i) => ({ code: i.code, severity: i.severity, message: i.message }));
  return { kind: "record", record: { id, source, hash, status, summary, signature, issues } };
}
