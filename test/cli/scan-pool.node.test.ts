// postacert scan as a real process (the built CLI, dist/: tinypool needs the compiled worker):
// the worker pool prints exactly what the in-process scan prints, and a run killed with SIGKILL
// then resumed from its --state file ends as one uninterrupted run; on a folder of every kind of
// result, --json, --csv, --state, the human lines and the report are the same bytes either way,
// and the summary is the same with --report (TransactionTracker) and without (counting tracker);
// a stored hash that matches a message's in its first 64 bits only (what workers compare) is
// not taken for it.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { scanThreads, smallScan } from "../../src/cli/scan.js";
import { countSource } from "../../src/cli/scan-sources.js";
import { gzipSync } from "node:zlib";
import { makeZip } from "../support/zip.js";
import { composeMessage } from "../../src/pec/build/index.js";
import { type CorpusMessage, capture, hostileMessages, jsonLines, parseSummary, simulatorCorpus, wildCorpus, writeFolder, writeMbox } from "./scan-fixtures.js";

const root = resolve(import.meta.dirname, "../..");
const CLI = join(root, "dist/cli/main.js");
const AT = "2026-06-01T00:00:00Z";
const run = promisify(execFile);

let dir: string;
let ca: string;
let folder: string;
let total: number;
let corpus: CorpusMessage[];
let full: { stdout: string; stderr: string };
let mixed: string;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { maxBuffer: 256 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const lines = (text: string): string[] => text.split("\n").filter(Boolean);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (!existsSync(join(root, "dist/cli/scan-worker.js"))) throw new Error("dist/cli/scan-worker.js is missing: run `npm run build` first (npm test does)");
  dir = await mkdtemp(join(tmpdir(), "postacert-scan-pool-"));
  const { messages, caPem, pki } = await simulatorCorpus(5);
  corpus = messages;
  total = messages.length;
  ca = join(dir, "ca.pem");
  await writeFile(ca, caPem);
  folder = join(dir, "archive");
  await writeFolder(folder, messages);
  full = await cli(["scan", "--jobs", "2", "--trust", ca, "--json", "--at", AT, folder]);

  // Every kind of result: verified, failed (untrusted signer, altered bytes), not PEC,
  // unreadable, duplicates, a file that is not a message, the wild samples when present.
  const round = messages.slice(0, 70);
  const tampered = Buffer.from(round[0]!.bytes);
  tampered.writeUInt8(tampered[tampered.length - 40]! ^ 1, tampered.length - 40);
  const other = await simulatorCorpus(1);
  const extra: CorpusMessage[] = [
    ...round,
    { name: "again-0.eml", bytes: round[0]!.bytes },
    { name: "again-1", bytes: round[1]!.bytes },
    { name: "tampered.eml", bytes: tampered },
    ...other.messages.slice(0, 5).map((m) => ({ ...m, name: `other-${m.name}` })),
    { name: "plain.eml", bytes: composeMessage({ from: "a@example.test", to: ["b@example.test"], subject: "not PEC", text: "hello", date: new Date(AT) }) },
    { name: "huge.eml", bytes: Buffer.from(`Subject: x\r\nX-Long: ${"a".repeat(1.2 * 1024 * 1024)}\r\n\r\nbody\r\n`) },
    { name: "notes.txt", bytes: Buffer.from("not a message\n") },
    ...(await hostileMessages(pki, `=cmd|' "quoted", <b>bold</b>`)),
    ...(await wildCorpus()),
  ];
  mixed = join(dir, "mixed");
  await writeFolder(mixed, extra);
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("scan with a worker pool", () => {
  it("two workers print exactly what the in-process scan prints, in the same order", async () => {
    expect(lines(full.stdout)).toHaveLength(total);
    expect(parseSummary(full.stderr)["verified"]).toBe(total);
    const io = capture();
    const code = await main(["scan", "--jobs", "1", "--trust", ca, "--json", "--at", AT, folder], io);
    expect(code).toBe(0);
    expect(full.stdout).toBe(io.stdout);
    expect(full.stderr).toBe(io.stderr);
  });

  it("an mbox: two workers (its messages' buffers moved to them, not copied) print what the in-process scan prints", async () => {
    const mbox = join(dir, "archive.mbox");
    await writeMbox(mbox, corpus);
    const io = capture();
    await main(["scan", "--jobs", "1", "--trust", ca, "--json", "--at", AT, mbox], io);
    const two = await cli(["scan", "--jobs", "2", "--batch", "7", "--trust", ca, "--json", "--at", AT, mbox]);
    expect(lines(two.stdout)).toHaveLength(total);
    expect(parseSummary(two.stderr)["verified"]).toBe(total);
    expect(two.stdout).toBe(io.stdout);
    expect(two.stderr).toBe(io.stderr);
    // With --state the buffers stay (a message may be sent again): a second run takes all from the state.
    const state = join(dir, "mbox-state.jsonl");
    const first = await cli(["scan", "--jobs", "2", "--trust", ca, "--json", "--at", AT, "--state", state, mbox]);
    expect(first.stdout).toBe(io.stdout);
    const again = await cli(["scan", "--jobs", "2", "--trust", ca, "--json", "--at", AT, "--state", state, mbox]);
    expect(parseSummary(again.stderr)["from state"]).toBe(total);
  });

  it("standard input: an mbox.gz piped to two workers prints what the in-process scan of it prints", async () => {
    const mbox = join(dir, "piped.mbox");
    await writeMbox(mbox, corpus);
    const gz = gzipSync(await readFile(mbox));
    const io = capture(gz);
    await main(["scan", "--jobs", "1", "--trust", ca, "--json", "--at", AT, "-"], io);
    const child = spawn(process.execPath, [CLI, "scan", "--jobs", "2", "--batch", "7", "--trust", ca, "--json", "--at", AT, "-"], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((r) => child.on("close", r));
    // Written in pieces, as a pipe brings it.
    for (let at = 0; at < gz.length; at += 4096) child.stdin.write(gz.subarray(at, at + 4096));
    child.stdin.end();
    expect(await closed).toBe(0);
    expect(lines(stdout)).toHaveLength(total);
    expect(jsonLines(stdout).every((l) => String(l["id"]).startsWith("-#") && l["source"] === "-")).toBe(true);
    expect(parseSummary(stderr)["verified"]).toBe(total);
    expect(stdout).toBe(io.stdout);
    expect(stderr).toBe(io.stderr);
  });

  it("shards of the pool run together are the unsharded output", async () => {
    const parts = await Promise.all([1, 2].map((i) => cli(["scan", "--jobs", "2", "--trust", ca, "--json", "--shard", `${i}/2`, folder])));
    expect(parts.flatMap((p) => lines(p.stdout)).sort()).toEqual(lines(full.stdout).sort());
  });

  it.skipIf(process.platform !== "linux")("a run killed halfway and resumed from --state equals one uninterrupted run", async () => {
    const state = join(dir, "state.jsonl");
    // One message per task, so the state file grows a record at a time over the whole scan;
    // killed as soon as the first records are on disk, long before the last. (A FIFO nobody
    // reads does not stop the child: Node queues what it writes to a pipe and carries on.)
    const child = spawn(process.execPath, [CLI, "scan", "--jobs", "2", "--batch", "1", "--trust", ca, "--json", "--at", AT, "--state", state, folder], {
      stdio: "ignore",
    });
    const exited = new Promise<NodeJS.Signals | null>((ok) => child.on("exit", (_code, signal) => ok(signal)));
    const records = async (): Promise<number> => (existsSync(state) ? lines(await readFile(state, "utf8")).length - 1 : 0);
    for (let i = 0; i < 5000 && (await records()) < 1; i++) await sleep(2);
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const written = await records();
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(total);
    // SIGKILL leaves the lock behind; its process is gone, so the resumed run takes it over.
    expect(existsSync(`${state}.lock`)).toBe(true);

    const resumed = await cli(["scan", "--jobs", "2", "--trust", ca, "--json", "--at", AT, "--state", state, folder]);
    expect(resumed.code).toBe(0);
    expect(existsSync(`${state}.lock`)).toBe(false);
    // Same messages, each once, same lines.
    expect(lines(resumed.stdout).sort()).toEqual(lines(full.stdout).sort());
    const a = parseSummary(full.stderr);
    const b = parseSummary(resumed.stderr);
    expect(b["from state"]).toBeGreaterThanOrEqual(written);
    expect({ ...b, "from state": 0 }).toEqual(a); // messages, duplicates, transactions: nothing twice
    // What the first run verified was not verified again: the state grew by the rest only.
    expect(await records()).toBe(written + (total - b["from state"]!));
  });

  it.skipIf(process.platform !== "linux")("SIGINT and SIGTERM end a scan as signals do, and release its --state lock", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const state = join(dir, `state-${signal}.jsonl`);
      const child = spawn(process.execPath, [CLI, "scan", "--jobs", "2", "--batch", "1", "--trust", ca, "--at", AT, "--state", state, folder], { stdio: "ignore" });
      const exited = new Promise<NodeJS.Signals | null>((ok) => child.on("exit", (_code, sig) => ok(sig)));
      for (let i = 0; i < 5000 && !(existsSync(state) && lines(await readFile(state, "utf8")).length > 1); i++) await sleep(2);
      expect(existsSync(`${state}.lock`)).toBe(true);
      child.kill(signal);
      expect(await exited).toBe(signal);
      expect(existsSync(`${state}.lock`)).toBe(false);
    }
  });
});

describe("without --jobs", () => {
  it("a small scan (in-process) prints what two workers print, from the built CLI and from the sources", async () => {
    const built = await cli(["scan", "--trust", ca, "--json", "--at", AT, folder]);
    expect(built.code).toBe(0);
    expect(built.stdout).toBe(full.stdout);
    expect(built.stderr).toBe(full.stderr);
    // From src/ there is no compiled worker: the default runs in-process instead of failing.
    const io = capture();
    expect(await main(["scan", "--trust", ca, "--json", "--at", AT, folder], io)).toBe(0);
    expect(io.stdout).toBe(full.stdout);
  });

  it("a scan larger than the in-process threshold starts the pool while counting, and counts every message once", async () => {
    // More files than smallScan() for any number of cores; tiny messages that are not PEC, so
    // the scan itself is quick.
    const many = join(dir, "many");
    const n = smallScan(2) + 500;
    mkdirSync(many);
    for (let i = 0; i < n; i++) writeFileSync(join(many, `m${i}.eml`), `From: a@example.test\r\nSubject: ${i}\r\n\r\nhi\r\n`);
    const auto = await cli(["scan", "--at", AT, many]);
    const one = await cli(["scan", "--jobs", "1", "--at", AT, many]);
    expect(auto.code).toBe(1);
    expect(auto).toEqual(one);
    expect(parseSummary(auto.stdout)["not PEC"]).toBe(n);
  }, 120_000);

  it("a folder holding an mbox or a ZIP archive has no count of messages, so it is no small scan; its files are still counted without one", async () => {
    const box = join(dir, "with-mbox");
    mkdirSync(box);
    for (let i = 0; i < 3; i++) writeFileSync(join(box, `m${i}.eml`), `From: a@example.test\r\nSubject: ${i}\r\n\r\nhi\r\n`);
    expect(await countSource(box, true)).toMatchObject({ count: 3 });
    // A Thunderbird Inbox (no extension) of any size is one file among the others.
    writeFileSync(join(box, "Inbox"), "From MAILER-DAEMON Mon Jun 16 10:00:00 2025\r\nSubject: a\r\n\r\nhi\r\n");
    const counted = await countSource(box, true);
    expect(counted.count).toBeUndefined();
    expect(scanThreads(undefined, 2, counted.count)).toBe(2);
    // The walk takes the answer the count found: the Inbox is read as an mbox.
    const listed = counted.listing && "files" in counted.listing ? counted.listing.files : [];
    expect(listed.find((f) => f.path.endsWith("Inbox"))).toMatchObject({ sniff: true, mbox: true });
    const scanned = capture();
    await main(["scan", "--at", AT, box], scanned);
    expect(parseSummary(scanned.stdout)["not PEC"]).toBe(4);
    const zipped = join(dir, "with-zip");
    mkdirSync(zipped);
    writeFileSync(join(zipped, "m.eml"), "Subject: a\r\n\r\nhi\r\n");
    writeFileSync(join(zipped, "export.zip"), makeZip([{ name: "a.eml", data: "Subject: b\r\n\r\nhi\r\n" }]));
    expect((await countSource(zipped)).count).toBeUndefined();
  });

  it("the rule: --jobs when given, else every core unless the count is under smallScan", () => {
    expect(smallScan(1)).toBe(0);
    expect(smallScan(2)).toBe(16_000);
    expect(smallScan(4)).toBeLessThan(smallScan(3));
    for (let c = 3; c <= 256; c++) {
      expect(smallScan(c)).toBeLessThanOrEqual(smallScan(c - 1));
      expect(smallScan(c)).toBeGreaterThan(6_000);
    }
    expect(scanThreads(3, 8, 10)).toBe(3);
    expect(scanThreads(1, 8, 10_000_000)).toBe(1);
    expect(scanThreads(undefined, 2, 15_999)).toBe(1);
    expect(scanThreads(undefined, 2, 16_000)).toBe(2);
    expect(scanThreads(undefined, 8, smallScan(8))).toBe(8);
    expect(scanThreads(undefined, 8, smallScan(8) - 1)).toBe(1);
    expect(scanThreads(undefined, 4, undefined)).toBe(4); // mbox, IMAP: no count
    expect(scanThreads(undefined, 1, 1_000_000)).toBe(1);
  });
});

describe("--jobs 1 and --jobs 2 write the same bytes", () => {
  const both = async (args: (tag: string) => string[]): Promise<{ one: { code: number; stdout: string; stderr: string }; two: { code: number; stdout: string; stderr: string } }> => {
    const io = capture();
    const code = await main(["scan", "--jobs", "1", "--trust", ca, "--at", AT, ...args("1"), mixed], io);
    const two = await cli(["scan", "--jobs", "2", "--batch", "7", "--trust", ca, "--at", AT, ...args("2"), mixed]);
    return { one: { code, stdout: io.stdout, stderr: io.stderr }, two };
  };

  it.each([[[]], [["--json"]], [["--csv"]]])("%j: stdout, stderr and status", async (flags) => {
    const { one, two } = await both(() => flags);
    expect(one.code).toBe(1);
    expect(two).toEqual(one);
    const counts = parseSummary(flags.length ? one.stderr : one.stdout);
    expect(counts["unreadable"]).toBe(1);
    expect(counts["duplicates"]).toBeGreaterThanOrEqual(2);
    expect(counts["not PEC"]).toBeGreaterThanOrEqual(1);
    expect(counts["failed verification"]).toBeGreaterThanOrEqual(6);
  });

  it("--state: the same file, and a second run takes the same verdicts from it", async () => {
    const state = (tag: string): string => join(dir, `mixed-${tag}.jsonl`);
    const first = await both((tag) => ["--json", "--state", state(tag)]);
    expect(first.two).toEqual(first.one);
    const written = await readFile(state("1"), "utf8");
    expect(lines(written).length).toBeGreaterThan(70);
    expect(await readFile(state("2"), "utf8")).toBe(written);
    const again = await both((tag) => ["--csv", "--state", state(tag)]);
    expect(again.two).toEqual(again.one);
    expect(parseSummary(again.one.stderr)["from state"]).toBeGreaterThan(70);
    expect(await readFile(state("2"), "utf8")).toBe(written); // nothing checked again
  });

  it("--state: a stored hash that shares only its first 64 bits with a message's is not taken for it", async () => {
    const state = (tag: string): string => join(dir, `prefix-${tag}.jsonl`);
    await both((tag) => ["--json", "--state", state(tag)]);
    const written = await readFile(state("1"), "utf8");
    // The workers only see 64-bit prefixes of the stored hashes: change one stored hash after them.
    const rows = lines(written);
    const hashes = rows.map((l) => (JSON.parse(l) as { hash?: string }).hash);
    // A verified message whose content no other file repeats (a copy's record would answer for it).
    const k = rows.findIndex((l, i) => (JSON.parse(l) as { status?: string }).status === "ok" && hashes.indexOf(hashes[i]) === hashes.lastIndexOf(hashes[i]));
    expect(k).toBeGreaterThanOrEqual(0);
    const row = JSON.parse(rows[k]!) as { id: string; hash: string };
    const last = row.hash.at(-1) === "0" ? "1" : "0";
    rows[k] = rows[k]!.replace(`"${row.hash}"`, `"${row.hash.slice(0, -1)}${last}"`);
    for (const tag of ["1", "2"]) await writeFile(state(tag), rows.join("\n") + "\n");
    const again = await both((tag) => ["--json", "--state", state(tag)]);
    expect(again.two).toEqual(again.one);
    // That message alone was checked again, under its own hash, and stored.
    const out = jsonLines(again.one.stdout);
    const checked = out.find((r) => r["id"] === row.id)!;
    expect(checked["status"]).toBe("ok");
    const counts = parseSummary(again.one.stderr);
    expect(counts["from state"]).toBe(counts["messages"]! - 1);
    for (const tag of ["1", "2"]) {
      const added = lines(await readFile(state(tag), "utf8")).slice(rows.length);
      expect(added.map((l) => (JSON.parse(l) as { hash: string }).hash)).toEqual([row.hash]);
    }
  });

  it("--report: the same page (but for the time it was made)", async () => {
    const report = (tag: string): string => join(dir, `mixed-${tag}.html`);
    const { one, two } = await both((tag) => ["--report", report(tag)]);
    expect(two.stdout.replace(report("2"), "R")).toBe(one.stdout.replace(report("1"), "R"));
    // Without --report the scan only counts (a lighter tracker): the same lines and summary.
    const plain = await both(() => []);
    expect(one.stdout.replace(`report: ${report("1")}\n`, "")).toBe(plain.one.stdout);
    expect(plain.one.stdout).toMatch(/transactions: [1-9]/);
    const page = async (tag: string): Promise<string> => (await readFile(report(tag), "utf8")).replace(/(Generated on<\/span>)[^(]*/, "$1 … ");
    expect(await page("2")).toBe(await page("1"));
  });
});
