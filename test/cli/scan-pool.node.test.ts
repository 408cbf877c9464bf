// postacert scan as a real process (the built CLI, dist/: tinypool needs the compiled worker):
// the worker pool prints exactly what the in-process scan prints, and a run killed with SIGKILL
// then resumed from its --state file ends as one uninterrupted run.
import { execFile, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { capture, parseSummary, simulatorCorpus, writeFolder } from "./scan-fixtures.js";

const root = resolve(import.meta.dirname, "../..");
const CLI = join(root, "dist/cli/main.js");
const AT = "2026-06-01T00:00:00Z";
const run = promisify(execFile);

let dir: string;
let ca: string;
let folder: string;
let total: number;
let full: { stdout: string; stderr: string };

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
  const { messages, caPem } = await simulatorCorpus(5);
  total = messages.length;
  ca = join(dir, "ca.pem");
  await writeFile(ca, caPem);
  folder = join(dir, "archive");
  await writeFolder(folder, messages);
  full = await cli(["scan", "--jobs", "2", "--trust", ca, "--json", "--at", AT, folder]);
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

  it("shards of the pool run together are the unsharded output", async () => {
    const parts = await Promise.all([1, 2].map((i) => cli(["scan", "--jobs", "2", "--trust", ca, "--json", "--shard", `${i}/2`, folder])));
    expect(parts.flatMap((p) => lines(p.stdout)).sort()).toEqual(lines(full.stdout).sort());
  });

  it.skipIf(process.platform !== "linux")("a run killed halfway and resumed from --state equals one uninterrupted run", async () => {
    const state = join(dir, "state.jsonl");
    // stdout is a FIFO nobody reads: once its 64 KiB buffer is full the child blocks in write(),
    // mid-scan, with the state of the batches before it on disk. Then SIGKILL.
    const fifo = join(dir, "out.fifo");
    execFileSync("mkfifo", [fifo]);
    const fd = openSync(fifo, "r+"); // O_RDWR: opening does not wait for a reader
    // The whole output is only a little over 64 KiB: most of the buffer is filled first, so the
    // child blocks after about a fifth of its lines, however fast it scans.
    writeSync(fd, new Uint8Array(52 * 1024));
    const child = spawn(process.execPath, [CLI, "scan", "--jobs", "2", "--trust", ca, "--json", "--at", AT, "--state", state, folder], {
      stdio: ["ignore", fd, "ignore"],
    });
    const exited = new Promise<NodeJS.Signals | null>((ok) => child.on("exit", (_code, signal) => ok(signal)));
    const records = async (): Promise<number> => (existsSync(state) ? lines(await readFile(state, "utf8")).length - 1 : 0);
    let before = -1;
    for (let i = 0; i < 400; i++) {
      await sleep(25);
      const n = await records();
      if (n > 0 && n === before) break; // blocked on the full pipe: stable
      before = n;
    }
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    closeSync(fd);
    const written = await records();
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(total);

    const resumed = await cli(["scan", "--jobs", "2", "--trust", ca, "--json", "--at", AT, "--state", state, folder]);
    expect(resumed.code).toBe(0);
    // Same messages, each once, same lines.
    expect(lines(resumed.stdout).sort()).toEqual(lines(full.stdout).sort());
    const a = parseSummary(full.stderr);
    const b = parseSummary(resumed.stderr);
    expect(b["from state"]).toBeGreaterThanOrEqual(written);
    expect({ ...b, "from state": 0 }).toEqual(a); // messages, duplicates, transactions: nothing twice
    // What the first run verified was not verified again: the state grew by the rest only.
    expect(await records()).toBe(written + (total - b["from state"]!));
  });
});
