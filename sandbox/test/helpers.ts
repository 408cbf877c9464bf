// Shared helpers of the sandbox tests: a sandbox in a temporary folder, real clients
// (nodemailer for SMTP, imapflow for IMAP, a tiny POP3 client), and waiting with deadlines.
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import nodemailer, { type Transporter } from "nodemailer";
import { TrustStore, readPec, verifyPec } from "postacert";
import type { ReadPec } from "postacert";
import { readFile } from "node:fs/promises";
import { DOVECOT_PACKAGES, findDovecot, parseConfig, startSandbox, type Sandbox, type SandboxConfig } from "../src/index.js";

export const HAVE_DOVECOT = findDovecot() !== undefined;
export const NEEDS_DOVECOT = HAVE_DOVECOT ? "Dovecot" : `skipped: Dovecot missing, install ${DOVECOT_PACKAGES} (dovecot-imapd)`;
if (!HAVE_DOVECOT) console.warn(`postacert-sandbox tests: Dovecot not found, IMAP/POP3 tests skipped: install ${DOVECOT_PACKAGES} (dovecot-imapd)`);

/** Every port free (0). */
export function testConfig(input: Record<string, unknown>): SandboxConfig {
  return parseConfig({ ports: { submission: 0, imap: 0, pop3: 0, web: 0 }, ...input });
}

/** The scenario world: the simulator's Alfa and Beta, plus one gestore per timeout case. */
export function scenarioConfig(): SandboxConfig {
  const box = (address: string): { address: string; password: string } => ({ address, password: `pw-${address}` });
  return testConfig({
    gestori: [
      { name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: [box("mario.rossi"), box("giulia.neri")] },
      {
        name: "Gestore Beta S.p.A.",
        domain: "pec.beta.test",
        // "+" and "'": characters Dovecot's default auth_username_chars refused.
        mailboxes: [box("anna.bianchi"), box("luca.verdi"), box("protocollo+pec"), box("d'amico")],
        retiredDomains: ["pec.dismesso.test"],
        antivirus: ["eicar", "postacert-test"],
      },
      { name: "Gestore Gamma S.p.A.", domain: "pec.gamma.test", mailboxes: [box("ufficio")], availability: "unreachable" },
      { name: "Gestore Delta S.p.A.", domain: "pec.delta.test", mailboxes: [box("ufficio")], availability: "stalled" },
      { name: "Gestore Epsilon S.p.A.", domain: "pec.epsilon.test", mailboxes: [box("ufficio")], receptionDelayHours: 15 },
    ],
  });
}

export const pw = (address: string): string => `pw-${address.split("@")[0]}`;

export interface TestSandbox {
  sandbox: Sandbox;
  dir: string;
  trust: TrustStore;
  /** Every line the sandbox logged. */
  logs: string[];
  close(): Promise<void>;
}

export async function startTestSandbox(config: SandboxConfig, options: { clockSpeed?: number; dovecot?: boolean; web?: boolean } = {}): Promise<TestSandbox> {
  const dir = await mkdtemp(join(tmpdir(), "postacert-sandbox-test-"));
  const logs: string[] = [];
  const sandbox = await startSandbox({
    config,
    stateDir: dir,
    clockSpeed: options.clockSpeed ?? 1000,
    dovecot: options.dovecot ?? HAVE_DOVECOT,
    web: options.web ?? false,
    log: (l) => logs.push(l),
  });
  const trust = await TrustStore.fromLdif(await readFile(sandbox.info.files.ldif, "utf8"));
  return {
    sandbox,
    dir,
    trust,
    logs,
    async close() {
      await sandbox.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function transport(sandbox: Sandbox, user: string, password: string, options: { pool?: boolean } = {}): Transporter {
  return nodemailer.createTransport({
    host: sandbox.info.host,
    port: sandbox.info.submissionPort,
    secure: false,
    auth: { user, pass: password },
    tls: { rejectUnauthorized: false },
    ...(options.pool && { pool: true, maxConnections: 1 }),
  });
}

export interface Fetched {
  uid: number;
  bytes: Uint8Array;
  pec: ReadPec;
  subject: string;
}

/** Every message of a mailbox's INBOX over IMAP. */
export async function imapFetch(sandbox: Sandbox, user: string, password: string): Promise<Fetched[]> {
  const client = new ImapFlow({ host: sandbox.info.host, port: sandbox.info.imapPort!, secure: false, auth: { user, pass: password }, logger: false, tls: { rejectUnauthorized: false } });
  await client.connect();
  const out: Fetched[] = [];
  try {
    const lock = await client.getMailboxLock("INBOX");
    try {
      const status = await client.status("INBOX", { messages: true });
      if (status && (status.messages ?? 0) > 0) {
        for await (const m of client.fetch("1:*", { uid: true, source: true })) {
          const bytes = new Uint8Array(m.source!);
          const pec = readPec(bytes);
          out.push({ uid: m.uid, bytes, pec, subject: pec.subject ?? "" });
        }
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(everyMs);
  }
}

/** Messages of a mailbox whose subject contains `token`, once there are `count` of them. */
export async function waitForMessages(sandbox: Sandbox, user: string, token: string, count: number, timeoutMs = 30_000): Promise<Fetched[]> {
  return waitFor(`${count} message(s) with "${token}" in ${user}`, async () => {
    const all = (await imapFetch(sandbox, user, pw(user))).filter((m) => m.subject.includes(token));
    return all.length >= count ? all : undefined;
  }, timeoutMs);
}

/** Verifies a message against the sandbox's LDIF: valid and trusted. */
export async function trusted(bytes: Uint8Array, trust: TrustStore): Promise<boolean> {
  const v = await verifyPec(bytes, { trust });
  return v.valid && v.trusted;
}

/** A minimal POP3 client: every message of a mailbox. */
export async function pop3Fetch(host: string, port: number, user: string, password: string): Promise<Uint8Array[]> {
  const sock: Socket = connect({ host, port });
  let buf = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  sock.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    waiter?.();
  });
  const readUntil = async (end: string): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const s = buf.toString("latin1");
      const i = s.indexOf(end);
      if (i >= 0) {
        buf = buf.subarray(i + end.length);
        return s.slice(0, i);
      }
      if (Date.now() > deadline) throw new Error(`POP3 timeout waiting for ${JSON.stringify(end)}`);
      await new Promise<void>((r) => {
        waiter = r;
        setTimeout(r, 200);
      });
    }
  };
  const cmd = async (line: string): Promise<string> => {
    sock.write(line + "\r\n");
    const r = await readUntil("\r\n");
    if (!r.startsWith("+OK")) throw new Error(`POP3 ${line.split(" ")[0]}: ${r}`);
    return r;
  };
  await new Promise<void>((r, j) => {
    sock.once("connect", () => r());
    sock.once("error", j);
  });
  try {
    const hello = await readUntil("\r\n");
    if (!hello.startsWith("+OK")) throw new Error(`POP3 greeting: ${hello}`);
    await cmd(`USER ${user}`);
    await cmd(`PASS ${password}`);
    const stat = await cmd("STAT");
    const n = Number(stat.split(" ")[1]);
    const out: Uint8Array[] = [];
    for (let i = 1; i <= n; i++) {
      await cmd(`RETR ${i}`);
      const body = await readUntil("\r\n.\r\n");
      // Undo dot-stuffing.
      out.push(new Uint8Array(Buffer.from(body.replace(/^\.\./gm, ".") + "\r\n", "latin1")));
    }
    await cmd("QUIT").catch(() => undefined);
    return out;
  } finally {
    sock.destroy();
  }
}

/** One SMTP conversation over a raw socket: sends each line, collects every reply. */
export async function rawSmtp(host: string, port: number, lines: (string | Buffer)[], options: { waitMs?: number } = {}): Promise<string[]> {
  const sock = connect({ host, port });
  let text = "";
  sock.on("data", (d: Buffer) => (text += d.toString("latin1")));
  await new Promise<void>((r, j) => {
    sock.once("connect", () => r());
    sock.once("error", j);
  });
  const replies = (): number => text.split("\r\n").filter((l) => /^\d{3} /.test(l)).length;
  await waitFor("SMTP greeting", async () => (replies() >= 1 ? true : undefined), 10_000, 20);
  for (const line of lines) {
    const before = replies();
    sock.write(typeof line === "string" ? line + "\r\n" : line);
    await waitFor(`reply to ${String(line).slice(0, 40)}`, async () => (replies() > before || sock.destroyed ? true : undefined), options.waitMs ?? 10_000, 10).catch(() => undefined);
  }
  sock.destroy();
  return text.split("\r\n").filter((l) => /^\d{3} /.test(l));
}
