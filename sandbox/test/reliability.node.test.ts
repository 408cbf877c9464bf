// Load and crash tests: 500 messages from 20 concurrent SMTP clients, every receipt once;
// the built CLI killed with SIGKILL halfway through and restarted completes the rest,
// with nothing lost and nothing delivered twice.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, statSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { readPec } from "postacert";
import { parseConfig, startSandbox } from "../src/index.js";
import { HAVE_DOVECOT, imapFetch, startTestSandbox, testConfig, waitFor, type TestSandbox } from "./helpers.js";

const mario = "mario.rossi@pec.alfa.test";
const anna = "anna.bianchi@pec.beta.test";
const gestori = [
  { name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: [{ address: "mario.rossi", password: "pw-mario" }] },
  { name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: [{ address: "anna.bianchi", password: "pw-anna" }] },
];

/** Subject token → PEC types found, over every Maildir file of a mailbox (the ground truth of "delivered"). */
async function maildirCensus(stateDir: string, login: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const sub of ["new", "cur"]) {
    const dir = join(stateDir, "mail", login, "Maildir", sub);
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      const pec = readPec(new Uint8Array(await readFile(join(dir, f))));
      const token = /\[(m[\d-]+)\]/.exec(pec.subject ?? "")?.[1];
      if (!token) continue;
      out.set(token, [...(out.get(token) ?? []), pec.type]);
    }
  }
  return out;
}

/** Sends `total` messages over `clients` concurrent SMTP connections; returns the tokens answered 250. */
async function blast(host: string, port: number, total: number, clients: number, stopAfter?: { acked: number; then: () => void }): Promise<{ acked: Set<string>; failed: number }> {
  const acked = new Set<string>();
  let failed = 0;
  let next = 0;
  let fired = false;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const tr = nodemailer.createTransport({ host, port, secure: false, auth: { user: mario, pass: "pw-mario" }, tls: { rejectUnauthorized: false }, pool: true, maxConnections: 1, maxMessages: Infinity });
      try {
        while (next < total) {
          const token = `m${String(next++).padStart(4, "0")}`;
          try {
            const info = await tr.sendMail({ from: mario, to: anna, subject: `Prova [${token}]`, text: `Messaggio ${token}\n` });
            if (/^250 /.test(info.response)) acked.add(token);
          } catch {
            failed++;
            if (fired) return; // the server is gone
          }
          if (stopAfter && !fired && acked.size >= stopAfter.acked) {
            fired = true;
            stopAfter.then();
          }
        }
      } finally {
        tr.close();
      }
    }),
  );
  return { acked, failed };
}

function expectComplete(tokens: Iterable<string>, census: { mario: Map<string, string[]>; anna: Map<string, string[]>; service: Map<string, string[]> }): void {
  for (const t of tokens) {
    expect((census.mario.get(t) ?? []).sort(), `${t} at the sender`).toEqual(["accettazione", "avvenuta-consegna"]);
    expect(census.anna.get(t), `${t} at the recipient`).toEqual(["posta-certificata"]);
    expect(census.service.get(t), `${t} at the service mailbox`).toEqual(["presa-in-carico"]);
  }
}

async function censusOf(stateDir: string): Promise<{ mario: Map<string, string[]>; anna: Map<string, string[]>; service: Map<string, string[]> }> {
  return {
    mario: await maildirCensus(stateDir, mario),
    anna: await maildirCensus(stateDir, anna),
    service: await maildirCensus(stateDir, "posta-certificata@pec.alfa.test"),
  };
}

describe("load", () => {
  let t: TestSandbox | undefined;
  afterAll(async () => {
    await t?.close();
  }, 60_000);

  it("500 messages from 20 concurrent clients: every receipt once", async () => {
    t = await startTestSandbox(testConfig({ gestori, limits: { maxConnections: 50 } }), { clockSpeed: 1000 });
    const { acked, failed } = await blast(t.sandbox.info.host, t.sandbox.info.submissionPort, 500, 20);
    expect(failed).toBe(0);
    expect(acked.size).toBe(500);
    await t.sandbox.idle();
    const census = await censusOf(t.dir);
    expect(census.mario.size).toBe(500);
    expectComplete(acked, census);
    if (HAVE_DOVECOT) {
      // What IMAP clients see is the same: 2 messages per submission in the sender's INBOX.
      const seen = await imapFetch(t.sandbox, mario, "pw-mario");
      expect(seen.length).toBe(1000);
    }
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------

const sandboxDir = resolve(import.meta.dirname, "..");
const cli = join(sandboxDir, "dist", "cli.js");

/** Builds the CLI when dist is missing or older than a source file. */
function ensureBuilt(): void {
  const srcDir = join(sandboxDir, "src");
  const newest = Math.max(...readdirSync(srcDir).map((f) => statSync(join(srcDir, f)).mtimeMs));
  if (existsSync(cli) && statSync(cli).mtimeMs >= newest) return;
  execFileSync(process.execPath, [resolve(sandboxDir, "..", "node_modules", "typescript", "bin", "tsc"), "-p", join(sandboxDir, "tsconfig.json")], { stdio: "inherit" });
}

interface Child {
  proc: ChildProcess;
  info: { host: string; submissionPort: number };
  output: () => string;
}

async function startCli(stateDir: string, configPath: string, clockSpeed: number): Promise<Child> {
  const args = [cli, "--config", configPath, "--state", stateDir, "--clock-speed", String(clockSpeed), "--no-web", ...(HAVE_DOVECOT ? [] : ["--no-dovecot"])];
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  await waitFor("the sandbox to be ready", async () => {
    if (proc.exitCode !== null) throw new Error(`the CLI exited with ${proc.exitCode}: ${out}`);
    return out.includes("postacert-sandbox ready") ? true : undefined;
  }, 60_000, 100);
  const info = JSON.parse(await readFile(join(stateDir, "sandbox-info.json"), "utf8")) as Child["info"];
  return { proc, info, output: () => out };
}

async function pendingInSpool(stateDir: string): Promise<number> {
  const flows = await readdir(join(stateDir, "spool", "flows")).catch(() => []);
  const incoming = await readdir(join(stateDir, "spool", "incoming")).catch(() => []);
  return flows.length + incoming.length;
}

describe("crash and restart", () => {
  let dir: string | undefined;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("SIGKILL halfway, restart: the rest is delivered, nothing lost or twice", async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), "postacert-sandbox-crash-"));
    const state = join(dir, "state");
    const config = join(dir, "sandbox.json");
    await writeFile(config, JSON.stringify({ ports: { submission: 0, imap: 0, pop3: 0, web: 0 }, gestori }));

    // Clock ×2: a flow takes ~2.5 s, so at the kill many flows are half delivered.
    const first = await startCli(state, config, 2);
    children.push(first.proc);
    const { acked } = await blast(first.info.host, first.info.submissionPort, 200, 10, { acked: 100, then: () => first.proc.kill("SIGKILL") });
    await new Promise((r) => (first.proc.exitCode !== null || first.proc.signalCode !== null ? r(undefined) : first.proc.once("exit", r)));
    expect(first.proc.signalCode).toBe("SIGKILL");
    expect(acked.size).toBeGreaterThanOrEqual(100);
    const before = await censusOf(state);
    const incompleteAtKill = [...acked].filter((t) => (before.mario.get(t) ?? []).length < 2).length;
    expect(incompleteAtKill, "some flows were cut short by the kill").toBeGreaterThan(0);

    const second = await startCli(state, config, 50);
    children.push(second.proc);
    await waitFor("the spool to drain", async () => ((await pendingInSpool(state)) === 0 ? true : undefined), 90_000, 200);
    const census = await censusOf(state);
    expectComplete(acked, census);
    // Submissions cut off mid-transaction (no 250) are delivered at most once, whole or not at all.
    for (const [token, types] of census.mario) {
      if (acked.has(token)) continue;
      expect(types.filter((x) => x === "accettazione").length, token).toBeLessThanOrEqual(1);
      expect(types.filter((x) => x === "avvenuta-consegna").length, token).toBeLessThanOrEqual(1);
    }
    second.proc.kill("SIGTERM");
    await new Promise((r) => second.proc.once("exit", r));
    expect(second.proc.exitCode).toBe(0);
  }, 180_000);
});

describe("the state folder", () => {
  it("is held by one sandbox at a time; a lock or a half-written spool file left by a killed one is cleared", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postacert-sandbox-lock-"));
    try {
      const config = parseConfig({ ports: { submission: 0, imap: 0, pop3: 0, web: 0 }, gestori });
      const quiet = { config, stateDir: dir, dovecot: false, web: false, log: () => undefined };
      const first = await startSandbox(quiet);
      await expect(startSandbox(quiet)).rejects.toThrow(/in use by another sandbox \(process \d+\)/);
      // The refused start touched nothing: the first still takes mail.
      expect(first.engine.mailboxes.size).toBeGreaterThan(0);
      await first.stop();
      // What a SIGKILL leaves: the lock of a process that is gone, a temporary spool file.
      const gone = spawn(process.execPath, ["-e", ""]);
      await new Promise((r) => gone.on("exit", r));
      await writeFile(join(dir, "sandbox.lock"), `${gone.pid}\n`);
      await writeFile(join(dir, "spool", "tmp", ".x.sub.1.1.tmp"), "half a message");
      const second = await startSandbox(quiet);
      expect(await readdir(join(dir, "spool", "tmp"))).toEqual([]);
      expect((await readFile(join(dir, "sandbox.lock"), "utf8")).trim()).toBe(String(process.pid));
      await second.stop();
      expect(existsSync(join(dir, "sandbox.lock"))).toBe(false);
      // A start that fails after taking the folder (ca.pem cannot be written) gives it back.
      await rm(join(dir, "ca.pem"));
      await mkdir(join(dir, "ca.pem"));
      await expect(startSandbox(quiet)).rejects.toThrow(/EISDIR/);
      expect(existsSync(join(dir, "sandbox.lock"))).toBe(false);
      await rm(join(dir, "ca.pem"), { recursive: true });
      await (await startSandbox(quiet)).stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
