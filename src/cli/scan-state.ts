/**
 * The `--state` file of `postacert scan`: JSON Lines, append-only. The first line is a header
 * naming the trust anchors the verdicts were computed with; then one {@link ScanRecord} per
 * checked message. Each batch is appended with a single `write`, so a kill loses at most the
 * batches in flight, and a torn last line (a kill inside a write) is dropped on load. While a
 * scan uses the file, `<file>.lock` names its process, so a second scan cannot append to it too.
 *
 * @module
 */
import { closeSync, createReadStream, ftruncateSync, fstatSync, openSync, readFileSync, readSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { createInterface } from "node:readline";
import { UsageError } from "./io.js";
import type { ScanRecord } from "./scan-process.js";
import { reviveDate } from "./scan-wire.js";
import { summaryProblem, type PecSummary } from "../transactions/summary.js";
import { isDenseArray } from "../util/arrays.js";

/** First line of a state file. */
interface StateHeader {
  /** Format version. */
  postacertScan: 1;
  /** Fingerprint of the trust anchors (see `trustFingerprint`). */
  trust: string;
}

/** A loaded state file. */
export interface LoadedState {
  /** Records by content hash (the last one wins). */
  byHash: Map<string, ScanRecord>;
  /** Content hash by message id, for IMAP ids (a re-run skips those UIDs without fetching them). */
  byImapId: Map<string, string>;
  /** Records read. */
  lines: number;
  /** Sorted 64-bit prefixes of every hash, in shared memory for the workers. */
  known: SharedArrayBuffer;
}

const STATUSES = new Set<unknown>(["ok", "failed", "not-pec", "unreadable"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const stringOrNull = (v: unknown): boolean => v === null || typeof v === "string";

function isIssues(v: unknown): boolean {
  return isDenseArray(v) && v.every((i) => isObject(i) && typeof i["code"] === "string" && typeof i["severity"] === "string" && typeof i["message"] === "string");
}

function isSignature(v: unknown): boolean {
  if (!isObject(v)) return false;
  return typeof v["present"] === "boolean" && typeof v["valid"] === "boolean" && typeof v["trusted"] === "boolean" && stringOrNull(v["signer"]) && stringOrNull(v["signedAt"]) && stringOrNull(v["digestAlgorithm"]) && isIssues(v["issues"]);
}

/**
 * A line of the state file as a record (its summary's date revived), or undefined when any field
 * a scan reads has another shape: such a line is damaged as an unreadable one is, and its message
 * is checked again. A summary of the wrong shape ended the scan ("add() expects…"), a subject
 * that is no string made the report fail inside its escaping.
 */
function recordOf(v: unknown): ScanRecord | undefined {
  if (!isObject(v)) return undefined;
  const { id, source, hash, status, issues, summary, signature } = v;
  if (typeof id !== "string" || typeof source !== "string" || typeof hash !== "string" || hash.length !== 64 || !STATUSES.has(status) || !isIssues(issues)) return undefined;
  if (signature !== undefined && !isSignature(signature)) return undefined;
  if (summary !== undefined) {
    if (!isObject(summary) || (summary["date"] !== undefined && typeof summary["date"] !== "string")) return undefined;
    reviveDate(summary as unknown as PecSummary);
    if (summaryProblem(summary) !== undefined) return undefined;
  }
  return v as unknown as ScanRecord;
}

/** Removes a torn last line (no final LF) so the next append starts on a line of its own. */
function dropTornTail(fd: number): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const buf = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - buf.length);
    const n = readSync(fd, buf, 0, end - start, start);
    const nl = buf.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) {
      const keep = start + nl + 1;
      if (keep !== size) ftruncateSync(fd, keep);
      return;
    }
    end = start;
  }
  ftruncateSync(fd, 0);
}

/** Whether process `pid` of this machine still runs (one of another user counts: EPERM). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Whether a file system error says the file is not there (any more). */
function gone(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

const RELEASE_ON = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Takes `<path>.lock` (created exclusively, holding `<pid> <host>`) for as long as this scan uses
 * the state file. Two scans appending to one file would not lose records, but the second one
 * truncates what it takes for a torn last line, which may be the first one's write in progress,
 * and on a new file each writes its own header, so the other's verdicts could end up under a
 * fingerprint of trust anchors they were not computed with.
 *
 * A lock left by a scan that was killed is taken over when its process is gone; that can be
 * told only on the same machine, so a lock of another host, or one whose process id has been
 * reused meanwhile, is an error that names the file to remove. (Two scans that find the same
 * stale lock at the same instant could both take it over; a lock file cannot rule that out.)
 * SIGINT, SIGTERM and SIGHUP remove the lock before the process ends as the signal would have it,
 * and so does an exit that skipped the release (an internal error).
 *
 * @returns the function that releases the lock (idempotent)
 * @throws UsageError when another scan holds it, or it cannot be created
 */
function takeLock(path: string): () => void {
  const lock = `${path}.lock`;
  const host = hostname();
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid} ${host}\n`, { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new UsageError(`--state: cannot create "${lock}": ${(err as Error).message}`);
    }
    let holder = "";
    try {
      holder = readFileSync(lock, "utf8").trim();
    } catch (err) {
      if (gone(err)) continue; // released meanwhile: try again
      throw new UsageError(`--state: cannot read "${lock}": ${(err as Error).message}`);
    }
    const [pid, on] = holder.split(" ");
    if (on === host && /^\d+$/.test(pid ?? "") && Number(pid) !== process.pid && !running(Number(pid))) {
      try {
        unlinkSync(lock);
      } catch (err) {
        // Removed by another scan meanwhile: try again. Any other failure would come back at
        // every turn: the loop must end.
        if (!gone(err)) throw new UsageError(`--state: cannot remove the stale "${lock}": ${(err as Error).message}`);
      }
      continue;
    }
    const who = holder ? `process ${pid}${on && on !== host ? ` on ${on}` : ""}` : "a scan that is starting";
    throw new UsageError(`--state: "${path}" is in use by another scan (${who}); if no scan is running, remove "${lock}"`);
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    release();
    process.kill(process.pid, signal);
  };
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    for (const s of RELEASE_ON) process.off(s, onSignal);
    process.off("exit", release);
    try {
      unlinkSync(lock);
    } catch {
      // already gone: nothing to release
    }
  };
  for (const s of RELEASE_ON) process.once(s, onSignal);
  process.once("exit", release);
  return release;
}

/** A state header is short: its first line, or a torn one, fits in this. */
const HEADER_BYTES = 4096;
/** How every header starts (JSON.stringify of a {@link StateHeader}). */
const HEADER_START = '{"postacertScan":1,"trust":"';

/** Whether a file is empty or starts with a state header (or a header torn by a kill, which is dropped). */
function startsAsState(fd: number): boolean {
  const buf = Buffer.alloc(HEADER_BYTES);
  const n = readSync(fd, buf, 0, HEADER_BYTES, 0);
  if (n === 0) return true;
  const nl = buf.subarray(0, n).indexOf(0x0a);
  const line = buf.toString("utf8", 0, nl < 0 ? n : nl);
  if (nl < 0) return n < HEADER_BYTES && (HEADER_START.startsWith(line) || line.startsWith(HEADER_START));
  try {
    return isHeader(JSON.parse(line));
  } catch {
    return false;
  }
}

function isHeader(v: unknown): v is StateHeader {
  const h = v as Partial<StateHeader> | null;
  return h?.postacertScan === 1 && typeof h.trust === "string";
}

/**
 * Opens (creating it when absent), locks and loads a state file. The writer's `close` releases
 * the lock.
 *
 * @param path - the file
 * @param trust - fingerprint of this run's trust anchors; a file written with others is refused,
 *   since its verdicts would not hold
 * @throws UsageError when the file cannot be opened, is in use by another scan, is not a scan
 *   state file, or has other trust
 */
export async function loadState(path: string, trust: string): Promise<{ state: LoadedState; writer: StateWriter }> {
  const release = takeLock(path);
  try {
    return await loadLocked(path, trust, release);
  } catch (err) {
    release();
    throw err;
  }
}

async function loadLocked(path: string, trust: string, release: () => void): Promise<{ state: LoadedState; writer: StateWriter }> {
  let fd: number;
  try {
    fd = openSync(path, "a+");
  } catch (err) {
    throw new UsageError(`--state: cannot open "${path}": ${(err as Error).message}`);
  }
  try {
    // Before anything is changed: a file that is not a state file (a mistyped path, a message)
    // would otherwise lose its last line as a torn one and be appended to.
    if (!startsAsState(fd)) {
      closeSync(fd);
      throw new UsageError(`--state: "${path}" is not a postacert scan state file`);
    }
    dropTornTail(fd);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    closeSync(fd);
    throw new UsageError(`--state: cannot read "${path}": ${(err as Error).message}`);
  }
  const byHash = new Map<string, ScanRecord>();
  const byImapId = new Map<string, string>();
  let header: StateHeader | undefined;
  let lines = 0;
  let first = true;
  const rl = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line === "") continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue; // a damaged line: its message is simply checked again
    }
    if (first) {
      first = false;
      if (!isHeader(v)) {
        closeSync(fd);
        throw new UsageError(`--state: "${path}" is not a postacert scan state file`);
      }
      header = v;
      continue;
    }
    const record = recordOf(v);
    if (!record) continue;
    byHash.set(record.hash, record);
    if (/^imaps?:\/\//i.test(record.id)) byImapId.set(record.id, record.hash);
    lines++;
  }
  if (header && header.trust !== trust) {
    closeSync(fd);
    throw new UsageError(`--state: "${path}" was written with other --trust anchors; its verdicts do not apply (use another state file)`);
  }
  const writer = new StateWriter(fd, release);
  if (!header) writer.writeLine(JSON.stringify({ postacertScan: 1, trust } satisfies StateHeader));
  return { state: { byHash, byImapId, lines, known: knownTable(byHash.keys()) }, writer };
}

function knownTable(hashes: Iterable<string>): SharedArrayBuffer {
  const list: bigint[] = [];
  for (const h of hashes) list.push(BigInt("0x" + h.slice(0, 16)));
  list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const sab = new SharedArrayBuffer(list.length * 8);
  new BigUint64Array(sab).set(list);
  return sab;
}

/** Appends to a state file, one `write` per call. */
export class StateWriter {
  /**
   * @param fd - a file descriptor opened for appending
   * @param release - called by {@link close} (the state file's lock)
   */
  constructor(
    private fd: number | undefined,
    private readonly release: () => void = () => {},
  ) {}

  /** Appends one line. */
  writeLine(line: string): void {
    this.write(line + "\n");
  }

  /** Appends the records of a batch in one write (a kill tears at most its last line). */
  append(records: readonly ScanRecord[]): void {
    if (records.length === 0) return;
    let text = "";
    for (const r of records) text += JSON.stringify(r) + "\n";
    this.write(text);
  }

  private write(text: string): void {
    if (this.fd === undefined) return;
    const buf = Buffer.from(text, "utf8");
    let off = 0;
    // writeSync may write less than asked (a full disk, a signal): finish, or fail loudly.
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
  }

  /** Closes the file and releases its lock. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.release();
  }
}
