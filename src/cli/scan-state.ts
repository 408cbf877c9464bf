/**
 * The `--state` file of `postacert scan`: JSON Lines, append-only. The first line is a header
 * naming the trust anchors the verdicts were computed with; then one {@link ScanRecord} per
 * checked message. Each batch is appended with a single `write`, so a kill loses at most the
 * batches in flight, and a torn last line (a kill inside a write) is dropped on load.
 *
 * @module
 */
import { closeSync, ftruncateSync, openSync, readSync, fstatSync, writeSync } from "node:fs";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { UsageError } from "./io.js";
import type { ScanRecord } from "./scan-process.js";
import { reviveDate } from "./scan-wire.js";

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

function isRecord(v: unknown): v is ScanRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Partial<ScanRecord>;
  return typeof r.id === "string" && typeof r.source === "string" && typeof r.hash === "string" && r.hash.length === 64 && typeof r.status === "string" && Array.isArray(r.issues);
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

/**
 * Opens (creating it when absent) and loads a state file.
 *
 * @param path - the file
 * @param trust - fingerprint of this run's trust anchors; a file written with others is refused,
 *   since its verdicts would not hold
 * @throws UsageError when the file cannot be opened, is not a scan state file, or has other trust
 */
export async function loadState(path: string, trust: string): Promise<{ state: LoadedState; writer: StateWriter }> {
  let fd: number;
  try {
    fd = openSync(path, "a+");
  } catch (err) {
    throw new UsageError(`--state: cannot open "${path}": ${(err as Error).message}`);
  }
  try {
    dropTornTail(fd);
  } catch (err) {
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
      const h = v as Partial<StateHeader>;
      if (h?.postacertScan !== 1 || typeof h.trust !== "string") {
        closeSync(fd);
        throw new UsageError(`--state: "${path}" is not a postacert scan state file`);
      }
      header = h as StateHeader;
      continue;
    }
    if (!isRecord(v)) continue;
    reviveDate(v.summary);
    byHash.set(v.hash, v);
    if (/^imaps?:\/\//i.test(v.id)) byImapId.set(v.id, v.hash);
    lines++;
  }
  if (header && header.trust !== trust) {
    closeSync(fd);
    throw new UsageError(`--state: "${path}" was written with other --trust anchors; its verdicts do not apply (use another state file)`);
  }
  const writer = new StateWriter(fd);
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
  /** @param fd - a file descriptor opened for appending */
  constructor(private fd: number | undefined) {}

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

  /** Closes the file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
