// Shared by the scan tests: a corpus of simulator flows (every scenario, several rounds), the
// three local archive formats written from it, a capturing Io and the summary parser.
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Io } from "../../src/cli/io.js";
import { buildAccettazione, buildBusta, composeMessage } from "../../src/pec/build/index.js";
import { SCENARIO_NAMES, createScenarioPki, runScenario, type ScenarioPki } from "../../src/simulator/index.js";
import { NOT_BEFORE, START } from "../simulator/helpers.js";
import { readWild, wildFiles } from "../support/wild.js";

/** A message of the corpus and a file name for it. */
export interface CorpusMessage {
  name: string;
  bytes: Uint8Array;
}

const DAY = 86_400_000;

/** Every scenario, `rounds` times (distinct identificativi and dates): ≈ 70 messages a round. */
export async function simulatorCorpus(rounds: number, pki?: ScenarioPki): Promise<{ messages: CorpusMessage[]; caPem: string; pki: ScenarioPki }> {
  pki ??= await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
  const messages: CorpusMessage[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = new Date(START.getTime() + r * DAY);
    const runs = await Promise.all(SCENARIO_NAMES.map((name) => runScenario(name, { pki, start })));
    runs.forEach((run, i) =>
      run.flow.messages.forEach((m, k) => messages.push({ name: `r${r}-${SCENARIO_NAMES[i]}-${String(k).padStart(2, "0")}-${m.type}.eml`, bytes: m.message.bytes })),
    );
  }
  return { messages, caPem: pki.ca.pem(), pki };
}

/**
 * The wild samples that are single messages (first line a header field), with CRLF line ends
 * and a final line break: IMAP serves CRLF and mbox cannot keep a missing final newline, so
 * every source gets exactly these bytes. Empty when ../shared/wild is absent.
 */
export async function wildCorpus(): Promise<CorpusMessage[]> {
  const out: CorpusMessage[] = [];
  for (const f of wildFiles ?? []) {
    const b = Buffer.from(await readWild(f));
    if (!/^[\x21-\x39\x3b-\x7e]+:/.test(b.subarray(0, 200).toString("latin1"))) continue;
    let text = b.toString("latin1").replace(/\r?\n/g, "\r\n");
    if (!text.endsWith("\r\n")) text += "\r\n";
    out.push({ name: `wild-${out.length.toString().padStart(2, "0")}-${f.replace(/[^A-Za-z0-9.-]+/g, "_")}.eml`, bytes: Buffer.from(text, "latin1") });
  }
  return out;
}

/**
 * Runs `body` with a folder under `parent` that no walk can read: a chain of sub-folders whose
 * path is longer than PATH_MAX gives ENAMETOOLONG, as a folder without permission would give
 * EACCES (root may read anything). Made with bash's relative `cd`, removed with `rm -rf`, which
 * Node's own calls cannot do at that depth. Linux only.
 */
export async function withUnreadableFolder(parent: string, body: () => Promise<void>): Promise<void> {
  const d = "d".repeat(250);
  execFileSync("bash", ["-ec", 'cd "$1"; for i in $(seq 18); do mkdir "$2"; cd "$2"; done; echo "Subject: lost" > lost.eml', "bash", parent, d]);
  try {
    await body();
  } finally {
    execFileSync("rm", ["-rf", join(parent, d)]);
  }
}

/** A folder of .eml files (in two sub-folders, to exercise recursion). */
export async function writeFolder(dir: string, messages: CorpusMessage[]): Promise<void> {
  await mkdir(join(dir, "a"), { recursive: true });
  await mkdir(join(dir, "b"), { recursive: true });
  await Promise.all(messages.map((m, i) => writeFile(join(dir, i % 2 ? "a" : "b", m.name), m.bytes)));
}

/** An mboxrd file: `From ` line, `>`-quoted `>*From ` lines, a blank line after each message. */
export async function writeMbox(path: string, messages: CorpusMessage[]): Promise<void> {
  const parts: Buffer[] = [];
  for (const m of messages) {
    parts.push(Buffer.from("From MAILER-DAEMON Mon Mar 16 10:30:00 2026\n"));
    parts.push(Buffer.from(Buffer.from(m.bytes).toString("latin1").replace(/^(>*From )/gm, ">$1"), "latin1"));
    parts.push(Buffer.from("\n"));
  }
  await writeFile(path, Buffer.concat(parts));
}

let serial = 0;
/** A Maildir: half the messages in cur/ (with flags), half in new/. */
export async function writeMaildir(dir: string, messages: CorpusMessage[]): Promise<void> {
  for (const sub of ["cur", "new", "tmp"]) await mkdir(join(dir, sub), { recursive: true });
  await Promise.all(
    messages.map((m) => {
      const n = serial++;
      const base = `${1773653400 + n}.M${n}P${process.pid}.postacert`;
      return writeFile(n % 2 ? join(dir, "new", base) : join(dir, "cur", `${base}:2,S`), m.bytes);
    }),
  );
}

/** An Io that keeps what the CLI writes, reading `stdin` as standard input. */
export function capture(stdin: Uint8Array = new Uint8Array()): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    color: false,
    progress: false,
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
    // In chunks of 64 KiB, as a pipe gives them: the readers must join what a chunk splits.
    async *stdin() {
      for (let at = 0; at < stdin.length; at += 65_536) yield stdin.subarray(at, at + 65_536);
    },
  };
  return io;
}

/** The end-of-scan summary as numbers (`messages`, `PEC`, …, `overdue`). */
export function parseSummary(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^\s*([A-Za-z][A-Za-z ]*): (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** JSON lines of a scan's stdout. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A JSON line without where it came from (id, source), as a comparable string. */
export function withoutOrigin(line: Record<string, unknown>): string {
  const { id: _id, source: _source, ...rest } = line;
  return JSON.stringify(rest);
}

/** A sending with an attacker-chosen subject: its busta and accettazione, signed by a gestore of `pki`. */
export async function hostileMessages(pki: ScenarioPki, subject: string): Promise<CorpusMessage[]> {
  const date = new Date(START.getTime() + 3_600_000);
  const tx = {
    sender: "mario.rossi@pec.alfa.test",
    recipients: [{ address: "anna.bianchi@pec.beta.test", tipo: "certificato" as const, field: "to" as const }],
    subject,
    identificativo: "opec-hostile.20260316113000.1.1@pec.alfa.test",
    msgid: "<hostile@client.alfa.test>",
  };
  const original = composeMessage({ from: tx.sender, to: ["anna.bianchi@pec.beta.test"], subject, text: "x", messageId: tx.msgid, date });
  const acc = await buildAccettazione(pki.alfa, tx, { date });
  const busta = await buildBusta(pki.alfa, tx, { original, date });
  return [
    { name: "hostile-accettazione.eml", bytes: acc.bytes },
    { name: "hostile-busta.eml", bytes: busta.bytes },
  ];
}
