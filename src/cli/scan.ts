/**
 * `postacert scan`: every message of folders, mbox files, Maildirs and IMAP mailboxes parsed and
 * verified on every core (a tinypool of scan-worker.js), correlated into transactions, with a
 * resumable state file, deterministic shards and an HTML report. See docs/scanning.md.
 *
 * Threads: the main thread enumerates sources, sends batches of file paths (or mbox/IMAP bytes)
 * to the workers, and consumes the results in source order: tracker, output, state file. The
 * workers read, hash, parse and verify, and send back plain records.
 *
 * @module
 */
import { hash as oneShotHash } from "node:crypto";
import { constants, existsSync } from "node:fs";
import { access, readFile, stat, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { systemTrust } from "../node/system-trust.js";
import { type OverdueTransaction, type PecSummary, type Transaction, TransactionTracker } from "../transactions/index.js";
import { TransactionTally } from "../transactions/tally.js";
import type { TrustStore } from "../trust/index.js";
import type { Tinypool } from "tinypool";
import { loadTrust } from "./trust-files.js";
import { type Io, UsageError, jsonLine, archivesNote, paint } from "./io.js";
import { csvHeader, toCsv, toJson } from "./scan-output.js";
import type { ItemResult, ScanItem, ScanRecord, ScanStatus, Verdict } from "./scan-process.js";
import { type SourceCount, type SourceEntry, type SourceListing, countSource, enumerateSource, isImap, isStdin, ownBuffers, sourceKind, unscannedMaildirFolders } from "./scan-sources.js";
import { type LoadedState, type StateWriter, loadState } from "./scan-state.js";
import type { WorkerConfig, WorkerTask, runTask } from "./scan-worker.js";
import { unpackResults } from "./scan-wire.js";
import { printable } from "../util/text.js";
import { redactUrl } from "../node/imap.js";

/** Options of {@link runScan} (the parsed command line). */
export interface ScanOptions {
  /** Folders, mbox files, Maildirs, single files, `imap://` / `imaps://` URLs. */
  sources: string[];
  /** `--trust` files (none: Node's roots, PEC policy required). */
  trust: string[];
  /** One JSON line per message on stdout. */
  json: boolean;
  /** One CSV row per message on stdout, after a header row. */
  csv: boolean;
  /** Write an HTML report here. */
  report?: string;
  /** Resumable state file (JSON Lines). */
  state?: string;
  /** Worker threads; 1 runs in-process. Absent: every core, in-process for a scan under {@link smallScan}. */
  jobs?: number;
  /** Batch size (messages per worker task); default adapts to the source size, at most 64. */
  batch?: number;
  /** This run's share: `index` of `count`, 1-based. */
  shard?: { index: number; count: number };
  /** The clock for overdue transactions (default: now). */
  at?: Date;
  /** IMAP mailboxes to read (default: all). */
  mailboxes: string[];
  /** Accept an IMAP server certificate that does not verify (a test server's own). */
  insecure: boolean;
}

/** The counters scan prints at the end (and the report shows). */
export interface ScanCounts {
  /** Messages seen (including those taken from the state file). */
  messages: number;
  /** PEC messages (verified or not). */
  pec: number;
  /** PEC messages whose signature is valid and trusted. */
  ok: number;
  /** PEC messages that failed verification. */
  failed: number;
  /** Ordinary mail. */
  notPec: number;
  /** Messages that could not be read or parsed. */
  unreadable: number;
  /** Messages already seen in this scan (same PEC message again, or same bytes). */
  duplicates: number;
  /** Messages whose verdict came from the state file (not verified again). */
  fromState: number;
  /** Transactions. */
  transactions: number;
  /** Transactions with every certificato recipient delivered. */
  delivered: number;
  /** Transactions refused (non accettazione) or with a failed recipient and none waiting. */
  failedTransactions: number;
  /** Transactions with a recipient still waiting. */
  inProgress: number;
  /** Transactions overdue at the `--at` clock. */
  overdue: number;
}

/** Most failures the report lists one by one (the counts always cover all). */
const REPORT_FAILURES = 1000;
const DEFAULT_BATCH = 64;

/**
 * The shard (0-based) of a message id: FNV-1a of its UTF-16 code units, modulo `count`. Depends
 * on the id only, never on order, so every run splits an archive the same way.
 */
export function shardOf(id: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % count;
}

/** What the verdicts depend on: the trust files' contents (or Node's roots). */
async function trustFingerprint(paths: string[]): Promise<string> {
  if (paths.length === 0) return "system";
  const parts: string[] = [];
  for (const p of paths) parts.push(oneShotHash("sha256", await readFile(p), "hex"));
  // A file given twice adds no anchor: the same state file serves (and no earlier one changes).
  return "sha256:" + oneShotHash("sha256", [...new Set(parts)].sort().join(","), "hex");
}

async function imapPassword(sources: string[], io: Io): Promise<string | undefined> {
  const imap = sources.filter(isImap);
  if (imap.length === 0) return undefined;
  for (const s of imap) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      // Not parsed, so not known to hold no password.
      throw new UsageError(`"${redactUrl(s)}" is not a valid IMAP URL`);
    }
    // A password in the URL would end up in ids, output and the state file.
    if (url.password) throw new UsageError("put the IMAP password in POSTACERT_IMAP_PASSWORD (or type it when asked), not in the URL");
  }
  const env = process.env["POSTACERT_IMAP_PASSWORD"];
  if (env) return env;
  const first = new URL(imap[0]!);
  const asked = await io.promptSecret?.(`IMAP password for ${decodeURIComponent(first.username) || "(no user)"}@${first.host}: `);
  if (asked) return asked;
  throw new UsageError("IMAP source: set POSTACERT_IMAP_PASSWORD, or run on a terminal to be asked for the password");
}

/** Oldest first, as TransactionTracker.transactions() orders them. */
function byStart(a: Transaction, b: Transaction): number {
  const d = (a.start?.getTime() ?? Number.POSITIVE_INFINITY) - (b.start?.getTime() ?? Number.POSITIVE_INFINITY);
  return (Number.isNaN(d) ? 0 : d) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/**
 * The first `max` transactions by start time among all those offered, holding at most about
 * twice `max` at any time (sorted and cut whenever it overflows).
 */
class ReportRows {
  private rows: Transaction[] = [];
  constructor(private readonly max: number) {}

  offer(t: Transaction): void {
    this.rows.push(t);
    if (this.rows.length >= this.max * 2) this.rows = this.sorted();
  }

  sorted(): Transaction[] {
    return this.rows.sort(byStart).slice(0, this.max);
  }
}

/**
 * Checks a batch: its results in order, or (from a worker) those results as one JSON text, read
 * only when the batch is consumed (see {@link unpack}).
 */
type Exec = (items: ScanItem[], force?: boolean) => Promise<ItemResult[] | string>;

/**
 * The results of a batch. A worker's come as one JSON text and are parsed here, when they are
 * used, rather than as cloned objects on arrival: the pool's promise for a task is made when the
 * batch is sent and often reaches the old generation before the batch is done, and whatever it
 * resolves to then survives every scavenge until the next full GC, although it is used at once.
 * As cloned objects, results made the main thread promote ≈ 90 MB over 100,000 messages and spend
 * ≈ 0.3 s in scavenges (more on V8's helper threads); as text, one string per batch
 * (bench/scan-results.md). `v8.serialize` bytes did the same for the main thread but made each
 * worker promote as much.
 */
function unpack(results: ItemResult[] | string): ItemResult[] {
  return typeof results === "string" ? unpackResults(results) : results;
}

/** An IMAP message whose id the state file holds: its result is known without fetching it. */
interface KnownSlot {
  kind: "known";
  id: string;
  source: string;
  hash: string;
}

/** An entry of a batch, in source order: work for a worker, or already known. */
type Slot = ScanItem | KnownSlot;

/** A batch in flight: what was sent (entries in source order) and the results of its items (see {@link unpack}). */
interface Pending {
  slots: Slot[];
  results: Promise<ItemResult[] | string>;
}

function isItem(s: Slot): s is ScanItem {
  return !("kind" in s);
}

function submit(slots: Slot[], exec: Exec): Pending {
  const items = slots.filter(isItem);
  const results = items.length ? exec(items) : Promise.resolve([]);
  // Consumed in order later; until then a rejection must not count as unhandled.
  results.catch(() => undefined);
  return { slots, results };
}

/** The record of a checked message: its verdict with the id and source it was sent with, keys in the state file's order. */
function recordOf(slot: Slot, v: Verdict): ScanRecord {
  return { id: slot.id, source: slot.source, hash: v.hash, status: v.status, ...(v.summary && { summary: v.summary }), ...(v.signature && { signature: v.signature }), issues: v.issues };
}

function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** The end-of-scan summary, one `name: value` per line (stable: scripts may read it). */
export function formatSummary(c: ScanCounts, at: Date): string {
  return [
    `messages: ${c.messages}`,
    `  PEC: ${c.pec}`,
    `  verified: ${c.ok}`,
    `  failed verification: ${c.failed}`,
    `  not PEC: ${c.notPec}`,
    `  unreadable: ${c.unreadable}`,
    `  duplicates: ${c.duplicates}`,
    `  from state: ${c.fromState}`,
    `transactions: ${c.transactions}`,
    `  delivered: ${c.delivered}`,
    `  failed: ${c.failedTransactions}`,
    `  in progress: ${c.inProgress}`,
    `  overdue: ${c.overdue} (at ${at.toISOString()})`,
    "",
  ].join("\n");
}

function humanLine(r: ScanRecord, io: Io): string {
  const s = r.summary;
  const codes = [...(r.signature?.issues ?? []), ...r.issues].filter((i) => i.severity === "error").map((i) => i.code);
  const what = r.status === "not-pec" ? paint(io, "yellow", "not PEC") : r.status === "unreadable" ? paint(io, "red", "unreadable") : paint(io, "red", "failed");
  const about = s && s.type !== "not-pec" ? ` ${s.type}${s.subject ? ` "${printable(s.subject)}"` : ""}` : "";
  // The id is a file name or an IMAP URL: an archive's names can hold controls too.
  return `${printable(r.id)}: ${what}${about}${codes.length ? ` - ${[...new Set(codes)].join(", ")}` : ""}\n`;
}

/**
 * `postacert scan`: see {@link ScanOptions}. Resolves to the exit status (0 every message PEC
 * and verified, 1 some message failed, is not PEC or is unreadable, 2 a source could not be read).
 *
 * @throws UsageError for bad options or sources that do not exist
 */
export async function runScan(opts: ScanOptions, io: Io): Promise<number> {
  limitHeapGrowth();
  if (opts.sources.length === 0) throw new UsageError("scan needs at least one source (folder, mbox, Maildir, archive, imap:// URL, or - for standard input)");
  // Read once, it cannot be scanned twice, as a folder given twice is.
  if (opts.sources.filter(isStdin).length > 1) throw new UsageError("standard input (-) can be a source once only");
  if (opts.json && opts.csv) throw new UsageError("choose one of --json and --csv");
  if ((opts.mailboxes.length > 0 || opts.insecure) && !opts.sources.some(isImap)) {
    // Said rather than ignored: the user expects these to narrow or loosen something.
    throw new UsageError(`${opts.mailboxes.length > 0 ? "--mailbox" : "--insecure"} applies to imap:// and imaps:// sources only`);
  }
  if (opts.jobs !== undefined && (!Number.isInteger(opts.jobs) || opts.jobs < 1)) throw new UsageError("--jobs must be a positive integer");
  for (const s of opts.sources) if (!isImap(s)) await sourceKind(s);
  if (opts.report) await checkWritable(opts.report, "--report");
  for (const { source, folders } of await unscannedMaildirFolders(opts.sources)) {
    io.err(`postacert: ${printable(`${source}: not scanned: ${folders.join(", ")}`)} (Maildir++ folders are Maildirs of their own: give them as sources too)\n`);
  }
  const password = await imapPassword(opts.sources, io);

  let trust: TrustStore;
  try {
    trust = opts.trust.length ? await loadTrust(opts.trust) : await systemTrust();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--trust: ${(err as Error).message}`);
  }
  const worker = new URL("./scan-worker.js", import.meta.url);
  // The workers run the built CLI's scan-worker.js: without it (the sources run as they are),
  // --jobs > 1 is an error and the default runs in-process.
  const built = existsSync(fileURLToPath(worker));
  if (!built && opts.jobs !== undefined && opts.jobs > 1) {
    throw new Error(`${fileURLToPath(worker)} is missing: --jobs > 1 needs the built CLI (npm run build), or use --jobs 1`);
  }
  let state: LoadedState | undefined;
  let writer: StateWriter | undefined;
  if (opts.state) ({ state, writer } = await loadState(opts.state, await trustFingerprint(opts.trust)));

  const config: WorkerConfig = {
    trust: opts.trust,
    ...(state && state.known.byteLength > 0 && { known: state.known }),
    // Nothing prints or stores a verified message: the workers send its summary only.
    ...(!opts.json && !opts.csv && !opts.state && { lean: true }),
  };
  const cores = built ? (opts.jobs ?? defaultJobs()) : 1;
  // Without --jobs, a scan too small to repay its workers' start runs in-process: the pool is
  // started only once the count reaches that size (the workers start while the rest is counted).
  const small = opts.jobs === undefined ? smallScan(cores) : 0;
  let pool: Tinypool | undefined;
  // Every exit after this point ends the pool, or its idle workers would keep the process alive,
  // and closes the state file, which releases its lock.
  const close = async (): Promise<void> => {
    writer?.close();
    const p = pool;
    pool = undefined;
    await p?.destroy();
  };
  let startPool = (): Tinypool => {
    throw new Error("unreachable: no pool with one core");
  };
  if (cores > 1) {
    const { Tinypool } = await import("tinypool");
    // A worker holds one stage of a batch at a time (up to 4 MB of messages and what their parse
    // made, see processItems), and every scavenge copies the stage alive at that moment: a young
    // generation of 32 MB leaves room for a few stages between scavenges (≈ 145 per worker over
    // 100,000 receipts against ≈ 275 with 16 MB), ≈ 5 % faster with --jobs 2 for ≈ 25 MB more peak
    // RSS; 48 MB gained little more (bench/scan-results.md).
    // Two tasks per worker: a worker then has its next batch at hand while the main thread takes
    // in the last one's results, instead of waiting for it (≈ 3 % of a worker's profile in
    // Atomics.wait; ≈ 4 % more of the two cores busy over 100,000 receipts).
    startPool = () =>
      (pool ??= new Tinypool({
        filename: worker.href,
        minThreads: cores,
        maxThreads: cores,
        idleTimeout: 30_000,
        concurrentTasksPerWorker: 2,
        resourceLimits: { maxYoungGenerationSizeMb: 32 },
      }));
    if (!small) startPool();
  }

  let total: number | undefined = 0;
  // The first source is walked right after the counting: a folder's or Maildir's listing is kept for it.
  let firstListing: SourceListing | undefined;
  let found = 0;
  const startAt = small * (opts.shard?.count ?? 1);
  const onFound = small ? () => void (++found === startAt && startPool()) : undefined;
  for (const [i, s] of opts.sources.entries()) {
    let counted: SourceCount | undefined;
    try {
      counted = isImap(s) ? undefined : await countSource(s, i === 0, onFound);
    } catch (err) {
      // A source that fails while counted (a Maildir's cur/ unreadable, the source gone) has no
      // count; its walk reports the error. The pool ends here if the error is the caller's.
      if (err instanceof UsageError) {
        await close();
        throw err;
      }
    }
    if (counted?.listing) firstListing = counted.listing;
    if (counted?.archives) io.err(`postacert: ${printable(archivesNote(s, counted.archives, "scanned"))}\n`);
    const n = counted?.count;
    total = n === undefined || total === undefined ? undefined : total + n;
  }
  if (opts.shard && total !== undefined) total = Math.ceil(total / opts.shard.count);

  let exec: Exec;
  const jobs = scanThreads(opts.jobs, cores, total);
  if (jobs === 1) {
    // Loaded here: with workers, the main thread never runs the per-message work, and the pool
    // starts sooner without loading it.
    const [{ makeContext }, { processItems }] = await Promise.all([import("./scan-worker.js"), import("./scan-process.js")]);
    const ctx = await makeContext(config, trust);
    // Not cloned, although readPec's strings are slices of the whole message text: what
    // outlives a batch is what the tracker keeps, which it copies (see flat() in transactions/link.ts),
    // and the failures, cloned below. Cloning every batch cost ≈ 21 µs per message.
    exec = (items, force) => processItems(items, force ? { ...ctx, force: true } : ctx);
  } else {
    const p = startPool();
    // An mbox message's buffer is moved to the worker, not copied (≈ 0.6 CPU-s of the main
    // thread per 100,000 receipts), unless a state file may send it again (a hash to check).
    const move = (items: ScanItem[]): ArrayBuffer[] =>
      state ? [] : items.flatMap((i) => ("bytes" in i && ownBuffers.has(i.bytes.buffer) ? [i.bytes.buffer as ArrayBuffer] : []));
    exec = (items, force) => p.run({ config, items, ...(force && { force }) } satisfies WorkerTask, { transferList: move(items) }) as ReturnType<typeof runTask>;
  }
  // Small scans get small batches, so every worker gets a share.
  const batchSize = opts.batch ?? (total !== undefined ? Math.max(1, Math.min(DEFAULT_BATCH, Math.ceil(total / (jobs * 8)))) : DEFAULT_BATCH);
  const window = jobs === 1 ? 1 : jobs * 4;

  // Without a report nothing needs the transactions themselves, only their counts: the counting
  // tracker keeps a few hundred bytes per sending and nothing per message, where the tracker
  // keeps every message (≈ 0.6 KB each), so a scan's memory does not grow with the messages.
  const tracker = opts.report ? new TransactionTracker() : new TransactionTally();
  const c: ScanCounts = {
    messages: 0, pec: 0, ok: 0, failed: 0, notPec: 0, unreadable: 0, duplicates: 0, fromState: 0,
    transactions: 0, delivered: 0, failedTransactions: 0, inProgress: 0, overdue: 0,
  };
  const failures: ScanRecord[] = [];
  let failuresTotal = 0;
  let sourceErrors = 0;
  const started = Date.now();
  let lastProgress = 0;
  const progress = (final = false): void => {
    if (!io.progress) return;
    const now = Date.now();
    if (!final && now - lastProgress < 250) return;
    lastProgress = now;
    const secs = Math.max(0.001, (now - started) / 1000);
    const rate = c.messages / secs;
    // The count is of names listed before the walk: files added meanwhile can outnumber it.
    const known = total !== undefined && c.messages <= total ? total : undefined;
    const eta = known !== undefined && rate > 0 && !final ? `, ETA ${fmtDuration((known - c.messages) / rate)}` : "";
    const bad = c.failed + c.unreadable + c.notPec;
    io.err(`\r\x1b[2K${c.messages}${known !== undefined ? `/${known}` : ""} messages, ${rate.toFixed(0)}/s${eta}, ${bad} not verified`);
    if (final) io.err("\n");
  };

  // The tracker keeps every message compactly (see TransactionTracker): it shares what repeats
  // and rebuilds the duplicate key from messageId. gestoreEmittente is for output only.
  const compact = (s: PecSummary): PecSummary => {
    const { gestoreEmittente: _g, ...rest } = s;
    return rest;
  };

  if (opts.csv) io.out(csvHeader());
  const count = (status: ScanStatus): void => {
    c.messages++;
    if (status === "ok") c.ok++;
    else if (status === "failed") c.failed++;
    else if (status === "not-pec") c.notPec++;
    else c.unreadable++;
    if (status === "ok" || status === "failed") c.pec++;
  };
  const account = (r: ScanRecord): string => {
    count(r.status);
    // Only a verified message proves anything: a receipt whose signature fails, or that no
    // trusted gestore signed, must not mark a recipient delivered (nor stand in for a good copy
    // as its duplicate). It is counted as failed and listed with its reasons.
    if (r.summary && r.status === "ok") tracker.record(compact(r.summary), { id: r.id, source: r.source });
    if (r.status === "failed" || r.status === "unreadable") {
      failuresTotal++;
      // A copy: with --jobs 1 its strings may point into the message text (see exec).
      if (failures.length < REPORT_FAILURES) failures.push(structuredClone(r));
    }
    if (opts.json) return jsonLine(toJson(r));
    if (opts.csv) return toCsv(r);
    return r.status === "ok" ? "" : humanLine(r, io);
  };

  const consume = async (p: Pending): Promise<void> => {
    const results = unpack(await p.results);
    const fresh: ScanRecord[] = [];
    let out = "";
    let k = 0;
    for (const slot of p.slots) {
      // An IMAP message known by its id was not sent: the slot is its result.
      let res: ItemResult | KnownSlot = isItem(slot) ? results[k++]! : slot;
      if (res.kind === "known") {
        const stored = state?.byHash.get(res.hash);
        if (stored) {
          c.fromState++;
          out += account({ ...stored, id: slot.id, source: slot.source });
          continue;
        }
        // The workers' 64-bit prefix matched another hash: check this message after all.
        if (!isItem(slot)) continue;
        res = unpack(await exec([slot], true))[0]!;
      }
      if (res.kind === "ok") {
        // Verified, and nothing prints or stores it (lean): only the tracker keeps it.
        count("ok");
        tracker.record(res.summary, { id: slot.id, source: slot.source });
      } else if (res.kind === "record") {
        const rec = recordOf(slot, res);
        // A file that could not be read has no hash: it is tried again next time.
        if (rec.hash) fresh.push(rec);
        out += account(rec);
      }
    }
    // State first: a kill between the two writes then re-prints, never re-verifies.
    writer?.append(fresh);
    if (out) io.out(out);
    progress();
  };

  const inflight: Pending[] = [];
  let slots: Slot[] = [];
  const flush = async (): Promise<void> => {
    if (slots.length === 0) return;
    inflight.push(submit(slots, exec));
    slots = [];
    while (inflight.length >= window) await consume(inflight.shift()!);
  };
  const inShard = opts.shard ? (id: string) => shardOf(id, opts.shard!.count) === opts.shard!.index - 1 : () => true;
  const sourceError = (source: string, err: Error): void => {
    sourceErrors++;
    io.err(`${io.progress ? "\r\x1b[2K" : ""}postacert: ${printable(`${source}: ${err.message}`)}\n`);
  };
  try {
    for (const [i, source] of opts.sources.entries()) {
      const entries: AsyncGenerator<SourceEntry> = enumerateSource(source, {
        inShard,
        // A folder under it that cannot be read is reported, and the rest of the source is scanned.
        skipped: (_path, err) => sourceError(source, err),
        ...(i === 0 && firstListing && { listing: firstListing }),
        stdin: () => io.stdin(),
        ...(state && { knownImapId: (id: string) => state.byImapId.has(id) }),
        ...(password !== undefined && {
          imap: { password, ...(opts.mailboxes.length && { mailboxes: opts.mailboxes }), ...(opts.insecure && { tls: { rejectUnauthorized: false, allowCleartext: true } }) },
        }),
      });
      try {
        for await (const e of entries) {
          if ("knownId" in e) slots.push({ kind: "known", id: e.knownId, source: e.source, hash: state!.byImapId.get(e.knownId)! });
          else slots.push(e);
          if (slots.length >= batchSize) await flush();
        }
      } catch (err) {
        if (err instanceof UsageError) throw err;
        // A source that breaks half-way (a dropped IMAP connection, an unreadable Maildir):
        // keep what was read, report, and exit 2.
        sourceError(source, err as Error);
      }
    }
    await flush();
    while (inflight.length) await consume(inflight.shift()!);
  } finally {
    await close();
  }
  if (c.messages > 0 || io.progress) progress(true);

  const at = opts.at ?? new Date();
  c.duplicates = tracker.stats.duplicates;
  // One transaction at a time (each(), not transactions()): a scan of millions must not hold
  // every transaction with every message at once. The report keeps the first REPORT_ROWS only.
  // report.js is loaded only for a report (≈ 25 ms).
  let shown: ReportRows | undefined;
  const delays: number[] = [];
  let overdue: OverdueTransaction[] = [];
  if (tracker instanceof TransactionTracker) {
    const { REPORT_ROWS, deliveryDelays } = await import("./report.js");
    shown = new ReportRows(REPORT_ROWS);
    for (const t of tracker.each()) {
      c.transactions++;
      if (t.outcome === "consegnato") c.delivered++;
      else if (t.outcome === "in-corso") c.inProgress++;
      else c.failedTransactions++;
      shown.offer(t);
      for (const d of deliveryDelays([t])) delays.push(d);
    }
    overdue = tracker.overdue(at);
    c.overdue = overdue.length;
  } else {
    const t = tracker.tally(at);
    c.transactions = t.transactions;
    c.delivered = t.outcomes.consegnato;
    c.inProgress = t.outcomes["in-corso"];
    c.failedTransactions = t.outcomes.errore + t.outcomes["non-accettato"];
    c.overdue = t.overdue;
  }
  // With --json/--csv stdout is data only: the summary goes to stderr.
  (opts.json || opts.csv ? io.err : io.out)(formatSummary(c, at));

  let status = sourceErrors > 0 || (c.messages > 0 && c.unreadable === c.messages) ? 2 : c.failed + c.notPec + c.unreadable > 0 ? 1 : 0;
  if (opts.report) {
    const { renderReport } = await import("./report.js");
    const html = renderReport({ generatedAt: new Date(), at, sources: opts.sources, counts: c, transactions: shown?.sorted() ?? [], transactionsTotal: c.transactions, delays, overdue, failures, failuresTotal });
    try {
      await writeFile(opts.report, html);
      (opts.json || opts.csv ? io.err : io.out)(`report: ${opts.report}\n`);
    } catch (err) {
      io.err(`postacert: --report: cannot write "${opts.report}": ${(err as Error).message}\n`);
      status = 2;
    }
  }
  return status;
}

/**
 * Fails at the start, not after the whole scan, when the report could not be written: the path
 * is a folder, or its folder is missing or read-only. (It is written only at the end: a scan that
 * breaks off leaves no half report.)
 *
 * @throws UsageError naming the option
 */
async function checkWritable(path: string, option: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (st?.isDirectory()) throw new UsageError(`${option}: "${path}" is a folder`);
  try {
    await access(st ? path : dirname(resolve(path)), constants.W_OK);
  } catch (err) {
    throw new UsageError(`${option}: cannot write "${path}": ${(err as Error).message}`);
  }
}

/** See {@link limitHeapGrowth}. */
const HEAP_GROWING_PERCENT = 20;

/**
 * With --report the main thread keeps every message of the scan (compactly, ≈0.6 KB each; without
 * it, ≈ 200 bytes per sending), and V8's default heap growth let its heap reach ≈2.7× that: 179 MB
 * reserved for 66 MB live at 100,000 receipts, most of the scan's peak RSS then
 * (bench/scan-results.md). Growing by 20 % per full GC keeps the
 * reserve close to the live set for a few percent of speed. V8 reads the flag each time it sizes
 * the heap after a full GC and nothing else depends on it, which is why setting it while running
 * is safe (Node warns about flags in general). Process-wide: the workers, whose heaps hold
 * little, follow it too.
 */
function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** The threads of a scan without `--jobs`: every core (but see {@link smallScan}). */
function defaultJobs(): number {
  return availableParallelism();
}

/**
 * Fewer messages than this, known from the count, and a scan without `--jobs` runs in-process
 * on a machine of `cores` cores: starting the workers would cost more than they save. Each
 * worker isolate loads the code and warms V8 up again, ≈ 1 CPU-s over its first ≈ 5,000
 * receipts, much of it on the cores the workers need. Measured on two cores (bench/scan-results.md):
 * `--jobs 2` took 0.97 s against 0.72 in-process for 3,000 receipts, 1.70 against 1.53 s for
 * 12,000, the same for 16,000 (with 1.2 CPU-s more and twice the memory), 4 % less for 20,000.
 * For more cores this is an estimate, not a measurement: the extra start is taken as fixed and
 * each worker as 80 % as fast as one in-process thread, so the break-even falls from 16,000 on
 * two cores towards 6,000.
 */
export function smallScan(cores: number): number {
  return cores < 2 ? 0 : Math.round((6_000 * cores) / (cores - 1.25));
}

/**
 * The threads a scan runs on (1: in-process): `--jobs` when given, else every one of `cores`
 * unless the sources counted `total` messages, fewer than {@link smallScan}. An mbox or IMAP
 * source has no count (`total` undefined).
 */
export function scanThreads(jobs: number | undefined, cores: number, total: number | undefined): number {
  if (jobs !== undefined) return jobs;
  return total !== undefined && total < smallScan(cores) ? 1 : cores;
}
