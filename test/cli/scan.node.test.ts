// postacert scan, in-process (--jobs 1): the same messages from a folder, an mbox, a Maildir
// (and IMAP through a private Dovecot) give the same lines and summary; shards partition;
// the state file skips what it holds; CSV quoting; exit statuses; the HTML report escapes.
import { appendFile, copyFile, mkdtemp, readFile, readdir, rm, truncate, writeFile, mkdir } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createGzip, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOVECOT_PACKAGES, findDovecot, startDovecot, type DovecotServer } from "../../sandbox/src/dovecot.js";
import { main } from "../../src/cli/main.js";
import { csvField, toCsv } from "../../src/cli/scan-output.js";
import { escapeHtml } from "../../src/cli/report.js";
import { shardOf } from "../../src/cli/scan.js";
import {
  type CorpusMessage,
  capture,
  hostileMessages,
  jsonLines,
  parseSummary,
  simulatorCorpus,
  wildCorpus,
  withUnreadableFolder,
  withoutOrigin,
  writeFolder,
  writeMaildir,
  writeMbox,
} from "./scan-fixtures.js";
import { makeZip } from "../support/zip.js";
import { latin1Id, latin1NamesUnsupported, latin1Title, writeLatin1 } from "../support/latin1-names.js";

const AT = "2026-06-01T00:00:00Z";
let dir: string;
let ca: string;
let corpus: CorpusMessage[];
let sim: CorpusMessage[];
let folder: string;
let mbox: string;
let mboxGz: string;
let thunderbird: string;
let zipped: string;
let maildir: string;
let hostileDir: string;
const HOSTILE = `=HYPERLINK("http://evil"), <img src=x onerror=alert(1)> & "quotes"`;

async function scan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = capture();
  const code = await main(["scan", "--jobs", "1", "--at", AT, ...args], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postacert-scan-"));
  const { messages, caPem, pki } = await simulatorCorpus(1);
  sim = messages;
  corpus = [...messages, ...(await wildCorpus())];
  ca = join(dir, "ca.pem");
  await writeFile(ca, caPem);
  folder = join(dir, "folder");
  mbox = join(dir, "archive.mbox");
  maildir = join(dir, "Maildir");
  await writeFolder(folder, corpus);
  await writeMbox(mbox, corpus);
  mboxGz = join(dir, "archive.mbox.gz");
  await writeFile(mboxGz, gzipSync(await readFile(mbox)));
  zipped = join(dir, "export.zip");
  await writeFile(zipped, makeZip(corpus.map((m, i) => ({ name: `export/${i}-${m.name}`, data: m.bytes }))));
  // A Thunderbird profile folder: the mbox "Inbox" and its Mork index, which is no message.
  thunderbird = join(dir, "Mail", "Local Folders");
  await mkdir(thunderbird, { recursive: true });
  await copyFile(mbox, join(thunderbird, "Inbox"));
  await writeFile(join(thunderbird, "Inbox.msf"), '// <!-- <mdb:mork:z v="1.4"/> -->\n< <(a=c)> // (f=iso-8859-1)\n');
  await writeMaildir(maildir, corpus);
  hostileDir = join(dir, "hostile");
  await writeFolder(hostileDir, [...sim, ...(await hostileMessages(pki, HOSTILE))]);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("sources give the same results", () => {
  let reference: { lines: string[]; summary: string };

  beforeAll(async () => {
    const r = await scan(["--trust", ca, "--json", folder]);
    reference = { lines: jsonLines(r.stdout).map(withoutOrigin).sort(), summary: r.stderr };
  });

  it("the folder scan sees every message, verifies the simulator's and correlates them", async () => {
    const s = parseSummary(reference.summary);
    expect(s["messages"]).toBe(corpus.length);
    expect(reference.lines).toHaveLength(corpus.length);
    expect(s["verified"]).toBeGreaterThanOrEqual(sim.length); // every simulator message
    // 13 scenarios: the anomalia is no transaction; every other is one.
    expect(s["transactions"]).toBeGreaterThanOrEqual(12);
    expect(s["duplicates"]).toBeGreaterThan(0); // a busta in transit and delivered is one message
    expect(reference.summary).toContain(`overdue: ${s["overdue"]} (at 2026-06-01T00:00:00.000Z)`);
  });

  it.each([
    ["mbox", () => mbox],
    ["mbox.gz", () => mboxGz],
    ["a folder holding the mbox", () => thunderbird],
    ["a ZIP archive", () => zipped],
    ["Maildir", () => maildir],
  ])("%s: same lines (but id/source) and same summary", async (_name, src) => {
    const r = await scan(["--trust", ca, "--json", src()]);
    expect(jsonLines(r.stdout).map(withoutOrigin).sort()).toEqual(reference.lines);
    expect(r.stderr).toBe(reference.summary);
    const ids = jsonLines(r.stdout).map((l) => l["id"] as string);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each([
    ["an mbox", () => mbox],
    ["an mbox.gz", () => mboxGz],
  ])("standard input, %s piped in: same lines (but id/source) and same summary", async (_name, src) => {
    const io = capture(await readFile(src()));
    const code = await main(["scan", "--jobs", "1", "--at", AT, "--trust", ca, "--json", "-"], io);
    const lines = jsonLines(io.stdout);
    expect(lines.map(withoutOrigin).sort()).toEqual(reference.lines);
    expect(io.stderr).toBe(reference.summary);
    expect(code).toBe((await scan(["--trust", ca, "--json", mbox])).code);
    // Ids as inspect gives them: the offset of each From line in what came in, decompressed.
    const offsets = jsonLines((await scan(["--trust", ca, "--json", mbox])).stdout).map((l) => String(l["id"]).slice(mbox.length));
    expect(lines.map((l) => String(l["id"]).slice(1))).toEqual(offsets);
    expect(new Set(lines.map((l) => l["source"]))).toEqual(new Set(["-"]));
  });

  it("a named pipe (a shell's <(zcat archive.mbox.gz), /dev/stdin) is read as standard input is: same lines and summary", async () => {
    // It was "cannot read" (status 2): the first bytes of a pipe cannot be looked at, then read again.
    const fifo = join(dir, "pipe");
    spawnSync("mkfifo", [fifo]);
    createWriteStream(fifo).end(await readFile(mboxGz));
    const r = await scan(["--trust", ca, "--json", fifo]);
    const lines = jsonLines(r.stdout);
    expect(lines.map(withoutOrigin).sort()).toEqual(reference.lines);
    expect(r.stderr).toBe(reference.summary);
    const offsets = jsonLines((await scan(["--trust", ca, "--json", mbox])).stdout).map((l) => String(l["id"]).slice(mbox.length));
    expect(lines.map((l) => String(l["id"]).slice(fifo.length))).toEqual(offsets);
  });

  it("standard input: damaged gzip data ends it as a damaged mbox file ends, status 2 after the messages before it", async () => {
    const whole = gzipSync(await readFile(mbox));
    const io = capture(whole.subarray(0, whole.length >> 1));
    expect(await main(["scan", "--jobs", "1", "--at", AT, "--trust", ca, "--json", "-"], io)).toBe(2);
    expect(io.stderr).toMatch(/^postacert: -: .*unexpected end of file$/m);
    const lines = jsonLines(io.stdout);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => String(l["id"]).startsWith("-#") && l["status"] !== "unreadable")).toBe(true);
  });

  it("standard input: a single message is one message, named -; given twice, a usage error", async () => {
    const message = sim.find((m) => m.name.includes("accettazione"))!;
    const io = capture(message.bytes);
    expect(await main(["scan", "--jobs", "1", "--at", AT, "--trust", ca, "--json", "-"], io)).toBe(0);
    const signature = (l: Record<string, unknown>) => l["signature"] as { valid: boolean; trusted: boolean };
    expect(jsonLines(io.stdout).map((l) => [l["id"], l["type"], signature(l).valid, signature(l).trusted])).toEqual([["-", "accettazione", true, true]]);
    const twice = capture(message.bytes);
    expect(await main(["scan", "--jobs", "1", "--at", AT, "-", folder, "-"], twice)).toBe(2);
    expect(twice.stderr).toContain("standard input (-) can be a source once only");
    expect(twice.stdout).toBe("");
  });

  it("several sources: each one's messages in its own order, a Maildir given twice walked twice", async () => {
    const ids = async (args: string[]): Promise<string[]> => jsonLines((await scan(["--trust", ca, "--json", ...args])).stdout).map((l) => l["id"] as string);
    const [alone, inMbox] = [await ids([maildir]), await ids([mbox])];
    expect(alone).toHaveLength(corpus.length);
    // The first source's listing is kept from the count for its walk; the third lists it again.
    expect(await ids([maildir, mbox, maildir])).toEqual([...alone, ...inMbox, ...alone]);
  });

  it("a Maildir's Maildir++ folders are named on stderr when they are not sources too", async () => {
    const root = join(dir, "MaildirPlus");
    await writeMaildir(root, sim.slice(0, 2));
    await writeMaildir(join(root, ".Sent"), sim.slice(2, 3));
    await writeMaildir(join(root, ".Archivio.2025"), sim.slice(3, 4));
    await mkdir(join(root, ".notes"), { recursive: true }); // hidden, but no Maildir
    const alone = await scan(["--trust", ca, "--json", root]);
    expect(alone.stderr).toMatch(new RegExp(`^postacert: ${root}: not scanned: \\.Archivio\\.2025, \\.Sent \\(`));
    expect(jsonLines(alone.stdout)).toHaveLength(2);
    expect(alone.code).toBe(0); // a note, not an error
    const both = await scan(["--trust", ca, "--json", root, join(root, ".Sent"), join(root, ".Archivio.2025")]);
    expect(both.stderr).not.toContain("not scanned");
    expect(jsonLines(both.stdout)).toHaveLength(4);
  });

  it("an mbox.gz that unpacks to a 300 MB message: that message is unreadable (too large), the next one is read", async () => {
    const bomb = join(dir, "bomb.mbox.gz");
    const gz = createGzip();
    const written = pipeline(gz, createWriteStream(bomb));
    const from = "From MAILER-DAEMON Mon Jun 16 10:00:00 2025\n";
    const chunk = Buffer.alloc(1 << 20, 0x41); // one line, never ended: no LF in 300 MB
    gz.write(from + "Subject: bomb\n\n");
    for (let i = 0; i < 300; i++) if (!gz.write(chunk)) await once(gz, "drain");
    gz.end(Buffer.concat([Buffer.from("\n\n" + from), Buffer.from(sim[0]!.bytes), Buffer.from("\n")]));
    await written;
    const r = await scan(["--trust", ca, "--json", bomb]);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => [l["id"], l["status"]])).toEqual([
      [`${bomb}#0`, "unreadable"],
      [`${bomb}#${from.length + "Subject: bomb\n\n".length + 300 * (1 << 20) + 2}`, "ok"],
    ]);
    expect((lines[0]!["issues"] as { code: string }[])[0]!.code).toBe("ERR_TOO_LARGE");
  }, 60_000);

  it("a folder's archives (.rar, .7z, .tar.bz2…) are named on stderr; .eml.gz and .mbox.gz are read", async () => {
    const root = join(dir, "withArchives");
    await writeFolder(root, sim.slice(0, 2));
    await mkdir(join(root, "2024"), { recursive: true });
    for (const name of ["export.rar", "2024/old.7z", "2024/logs.tar.bz2", "2024/notes.gz"]) await writeFile(join(root, name), "PK");
    await writeFile(join(root, "2024", "kept.eml.gz"), gzipSync(sim[2]!.bytes));
    const r = await scan(["--trust", ca, "--json", root]);
    expect(r.stderr).toContain(`postacert: ${root}: not scanned: 4 archives (2024/logs.tar.bz2, 2024/notes.gz, 2024/old.7z, and 1 more): extract them first`);
    expect(jsonLines(r.stdout)).toHaveLength(3);
    expect(r.code).toBe(0); // a note, not an error
    const verified = capture();
    expect(await main(["verify", "--trust", ca, root], verified)).toBe(0);
    expect(verified.stderr).toContain(`postacert: ${root}: not read: 4 archives (`);
    expect(verified.stdout).toContain("3 verified, 0 failed, 0 not PEC");
  });

  const HAVE_DOVECOT = findDovecot() !== undefined;
  if (!HAVE_DOVECOT) console.warn(`test/cli/scan.node.test.ts: IMAP case skipped: Dovecot is not installed (apt-get install ${DOVECOT_PACKAGES}; dovecot-imapd)`);

  describe.skipIf(!HAVE_DOVECOT)("IMAP (Dovecot serving a copy of the Maildir)", () => {
    let server: DovecotServer;
    const PASSWORD = "scan-Segreta:42";

    beforeAll(async () => {
      const served = join(dir, "served");
      for (const sub of ["cur", "new", "tmp"]) {
        await mkdir(join(served, sub), { recursive: true });
        for (const f of await readdir(join(maildir, sub))) await copyFile(join(maildir, sub, f), join(served, sub, f));
      }
      server = await startDovecot({ dir: join(dir, "dovecot"), users: [{ user: "mario", password: PASSWORD, maildir: served }] });
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
      delete process.env["POSTACERT_IMAP_PASSWORD"];
    });

    it("same lines and summary; the password never appears", async () => {
      process.env["POSTACERT_IMAP_PASSWORD"] = PASSWORD;
      const url = `imap://mario@${server.host}:${server.imapPort}/`;
      const state = join(dir, "imap-state.jsonl");
      const r = await scan(["--trust", ca, "--json", "--state", state, url]);
      expect(r.code).toBe(reference.summary.includes("failed verification: 0") ? 0 : 1);
      const lines = jsonLines(r.stdout);
      expect(lines.map(withoutOrigin).sort()).toEqual(reference.lines);
      expect(lines.every((l) => String(l["id"]).startsWith(`imap://mario@${server.host}:${server.imapPort}/INBOX;UIDVALIDITY=`))).toBe(true);
      expect(r.stderr).toBe(reference.summary);
      // A re-run takes every UID from the state file without fetching it.
      const again = await scan(["--trust", ca, "--json", "--state", state, url]);
      expect(parseSummary(again.stderr)["from state"]).toBe(corpus.length);
      expect(jsonLines(again.stdout).map(withoutOrigin).sort()).toEqual(reference.lines);
      const everything = r.stdout + r.stderr + again.stdout + again.stderr + (await readFile(state, "utf8"));
      expect(everything).not.toContain(PASSWORD);
    });

    it("without a password (no variable, no terminal) it is a usage error", async () => {
      delete process.env["POSTACERT_IMAP_PASSWORD"];
      const r = await scan([`imap://mario@${server.host}:${server.imapPort}/`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("POSTACERT_IMAP_PASSWORD");
    });
  });
});

describe("--shard", () => {
  it.each([
    ["a folder", () => folder],
    ["a folder holding an mbox (sharded by message, not by file)", () => thunderbird],
    ["a ZIP archive (sharded by entry)", () => zipped],
  ])("%s: n shards partition the messages; their lines together are the unsharded output", async (_name, source) => {
    const all = (await scan(["--trust", ca, "--json", source()])).stdout.split("\n").filter(Boolean);
    const parts: string[][] = [];
    for (let i = 1; i <= 3; i++) parts.push((await scan(["--trust", ca, "--json", "--shard", `${i}/3`, source()])).stdout.split("\n").filter(Boolean));
    expect(parts.flat().sort()).toEqual([...all].sort());
    for (const p of parts) expect(p.length).toBeGreaterThan(0);
    // Disjoint: no id in two shards.
    expect(new Set(parts.flat().map((l) => JSON.parse(l).id)).size).toBe(all.length);
  });

  it("depends on the id only", () => {
    expect(shardOf("a/b.eml", 4)).toBe(shardOf("a/b.eml", 4));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(`/archive/msg-${i}.eml`, 4)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
  });

  it.each(["0/3", "4/3", "1/0", "x", "1/2/3"])("rejects --shard %s", async (v) => {
    const r = await scan(["--shard", v, folder]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--shard");
  });
});

describe("file names that are not UTF-8", () => {
  it.skipIf(latin1NamesUnsupported !== undefined)(latin1Title("a folder and a Maildir are scanned, each file under its own id in --json, --state and --shard, in-process and in workers"), async () => {
    const folder = join(dir, "latin1");
    const maildir = join(dir, "Latin1Maildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    // Two names the same but for their Latin-1 byte (Node reads both as "Forl\ufffd.eml").
    const inFolder = ["Citt\xe0/verbale", "Forl\xe0.eml", "Forl\xec.eml"];
    const inMaildir = ["cur/1.M1.Forl\xe0:2,S", "cur/1.M1.Forl\xec:2,S", "new/2.M2.Forl\xec"];
    inFolder.forEach((n, i) => writeLatin1(folder, n, sim[i]!.bytes));
    inMaildir.forEach((n, i) => writeLatin1(maildir, n, sim[i]!.bytes));
    const ids = (text: string) => jsonLines(text).map((l) => l["id"]);
    for (const [source, names] of [[folder, inFolder], [maildir, inMaildir]] as const) {
      const r = await scan(["--trust", ca, "--json", source]);
      expect(r.code).toBeLessThan(2);
      expect(r.stdout).toContain("Forl\\udcec");
      expect(jsonLines(r.stdout).map((l) => l["status"])).toEqual(["ok", "ok", "ok"]);
      expect(ids(r.stdout)).toEqual(names.map((n) => latin1Id(source, n)));
    }
    const all = inFolder.map((n) => latin1Id(folder, n));

    const state = join(dir, "latin1-state.jsonl");
    await scan(["--trust", ca, "--state", state, folder]);
    const stored = (await readFile(state, "utf8")).split("\n").filter(Boolean).slice(1);
    expect(stored.map((l) => JSON.parse(l).id)).toEqual(all);
    expect(parseSummary((await scan(["--trust", ca, "--json", "--state", state, folder])).stderr)["from state"]).toBe(3);

    const shards = await Promise.all([1, 2].map(async (i) => ids((await scan(["--trust", ca, "--json", "--shard", `${i}/2`, folder])).stdout)));
    expect(shards.flat().sort()).toEqual([...all].sort());

    // The workers get the ids through structured clone and open them themselves.
    const cli = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
    const pooled = spawnSync(process.execPath, [cli, "scan", "--jobs", "2", "--trust", ca, "--json", "--at", AT, folder], { encoding: "utf8" });
    expect(pooled.status).toBeLessThan(2);
    expect(ids(pooled.stdout)).toEqual(all);
    expect(jsonLines(pooled.stdout).map((l) => l["status"])).toEqual(["ok", "ok", "ok"]);
  });
});

describe("--state", () => {
  it("a second run takes every verdict from the state file and prints the same", async () => {
    const state = join(dir, "state1.jsonl");
    const first = await scan(["--trust", ca, "--json", "--state", state, folder]);
    const lines = (await readFile(state, "utf8")).split("\n").filter(Boolean);
    expect(lines).toHaveLength(corpus.length + 1); // header + one per message
    expect(JSON.parse(lines[0]!)).toMatchObject({ postacertScan: 1 });
    const second = await scan(["--trust", ca, "--json", "--state", state, folder]);
    expect(second.stdout).toBe(first.stdout);
    const s1 = parseSummary(first.stderr);
    const s2 = parseSummary(second.stderr);
    expect(s2["from state"]).toBe(corpus.length);
    expect({ ...s2, "from state": 0 }).toEqual(s1);
    expect((await readFile(state, "utf8")).split("\n").filter(Boolean)).toHaveLength(lines.length); // nothing appended
  });

  it("content counts, not names: the Maildir reuses the folder's verdicts", async () => {
    const state = join(dir, "state2.jsonl");
    await scan(["--trust", ca, "--state", state, folder]);
    const r = await scan(["--trust", ca, "--json", "--state", state, maildir]);
    expect(parseSummary(r.stderr)["from state"]).toBe(corpus.length);
    expect(jsonLines(r.stdout).every((l) => String(l["id"]).startsWith(maildir))).toBe(true);
  });

  it("drops a torn last line and checks that message again", async () => {
    const state = join(dir, "state3.jsonl");
    await scan(["--trust", ca, "--state", state, folder]);
    const text = await readFile(state, "utf8");
    const rows = text.split("\n").filter(Boolean);
    // Cut the last record in half, as a kill inside write() would.
    await writeFile(state, rows.slice(0, -1).join("\n") + "\n" + rows.at(-1)!.slice(0, 40));
    const r = await scan(["--trust", ca, "--state", state, folder]);
    expect(r.code).toBeLessThan(2);
    expect(parseSummary(r.stdout)["from state"]).toBe(corpus.length - 1);
    const after = (await readFile(state, "utf8")).split("\n").filter(Boolean);
    expect(after).toHaveLength(rows.length);
    expect(after.every((l) => JSON.parse(l))).toBeTruthy();
  });

  it("a record of the wrong shape is a damaged line: its message is checked again, the report is written", async () => {
    // A subject that was a number ended the scan ("add() expects…"), or, with --report, made it
    // fail inside the HTML escaping with an internal error.
    const state = join(dir, "state-shapes.jsonl");
    const first = await scan(["--trust", ca, "--state", state, folder]);
    const [header, ...rows] = (await readFile(state, "utf8")).split("\n").filter(Boolean);
    const records = rows.map((l) => JSON.parse(l) as Record<string, unknown> & { summary?: Record<string, unknown>; signature?: Record<string, unknown> });
    // Messages stored once: a copy elsewhere in the folder would have a good record of its own.
    const once = (r: Record<string, unknown>): boolean => records.filter((x) => x["hash"] === r["hash"]).length === 1;
    const ok = records.filter((r) => r.status === "ok" && r.summary && once(r));
    const failed = records.filter((r) => r.status === "failed" && r.summary && once(r));
    expect(ok.length).toBeGreaterThan(3);
    expect(failed.length).toBeGreaterThan(1);
    ok[0]!.summary!["subject"] = 3.5;
    failed[0]!.summary!["subject"] = 3.5;
    ok[1]!.summary!["date"] = 5;
    ok[2]!.signature!["issues"] = "none";
    ok[3]!["status"] = "fine";
    failed[1]!["issues"] = [null];
    await writeFile(state, [header, ...records.map((r) => JSON.stringify(r))].join("\n") + "\n");
    const report = join(dir, "state-shapes.html");
    const r = await scan(["--trust", ca, "--state", state, "--report", report, folder]);
    expect(r.stderr).not.toMatch(/internal error|expects/);
    expect(r.code).toBe(first.code);
    expect(parseSummary(r.stdout)["from state"]).toBe(corpus.length - 6);
    expect(parseSummary(r.stdout)["messages"]).toBe(corpus.length);
    expect(await readFile(report, "utf8")).toContain("<html");
  });

  it("refuses a state file another scan holds; takes over the lock of a scan whose process is gone", async () => {
    const state = join(dir, "state5.jsonl");
    const lock = `${state}.lock`;
    // This test's parent process runs: as if it were scanning with this file.
    await writeFile(lock, `${process.ppid} ${hostname()}\n`);
    const held = await scan(["--trust", ca, "--state", state, folder]);
    expect(held.code).toBe(2);
    expect(held.stderr).toContain(`in use by another scan (process ${process.ppid})`);
    expect(held.stderr).toContain(lock);
    expect(existsSync(state)).toBe(false);
    expect(await readFile(lock, "utf8")).toBe(`${process.ppid} ${hostname()}\n`);
    // A lock of another machine cannot be checked: refused too.
    await writeFile(lock, `${process.ppid} elsewhere.example\n`);
    expect((await scan(["--trust", ca, "--state", state, folder])).stderr).toContain("on elsewhere.example");
    // A process that has ended (as a scan killed with SIGKILL would have left it).
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
    await writeFile(lock, `${gone} ${hostname()}\n`);
    const r = await scan(["--trust", ca, "--state", state, folder]);
    expect(r.code).toBeLessThan(2);
    expect(parseSummary(r.stdout)["messages"]).toBe(corpus.length);
    expect(existsSync(lock)).toBe(false);
    expect((await readFile(state, "utf8")).split("\n").filter(Boolean)).toHaveLength(corpus.length + 1);
  });

  it("a lock it can neither read nor remove is an error, not an endless retry", async () => {
    const state = join(dir, "state6.jsonl");
    await mkdir(`${state}.lock`);
    const r = await scan(["--trust", ca, "--state", state, folder]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot read "${state}.lock"`);
    expect(existsSync(state)).toBe(false);
  }, 10_000);

  it("refuses a state file written with other trust anchors, and a file that is not one", async () => {
    const state = join(dir, "state4.jsonl");
    await scan(["--trust", ca, "--state", state, folder]);
    const r = await scan(["--state", state, folder]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("other --trust");
    // The same file named twice is the same anchors.
    expect((await scan(["--trust", ca, "--trust", ca, "--state", state, folder])).code).toBeLessThan(2);
    const notState = join(dir, "not-state.jsonl");
    await writeFile(notState, '{"hello":1}\n');
    const r2 = await scan(["--state", notState, folder]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("not a postacert scan state file");
    // Any other file is refused untouched: its last line is not taken for a torn record.
    for (const content of ["keep line1\nprecious line2 without newline", "precious, one line", "From: a@b.test\r\nSubject: x\r\n\r\nbody"]) {
      await writeFile(notState, content);
      const r3 = await scan(["--trust", ca, "--state", notState, folder]);
      expect(r3.code).toBe(2);
      expect(r3.stderr).toContain("not a postacert scan state file");
      expect(await readFile(notState, "utf8")).toBe(content);
    }
    // A header torn by a kill as the file was made is no state yet: the scan starts it over.
    await writeFile(notState, '{"postacertScan":1,"tru');
    expect((await scan(["--trust", ca, "--state", notState, folder])).code).toBeLessThan(2);
    expect(JSON.parse((await readFile(notState, "utf8")).split("\n")[0]!)).toMatchObject({ postacertScan: 1 });
  });
});

describe("output and exit status", () => {
  it("human output: a line per problem, the summary on stdout; 0 when every message verifies", async () => {
    const only = join(dir, "only-sim");
    await writeFolder(only, sim);
    const ok = await scan(["--trust", ca, only]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^messages: \d+\n/);
    expect(parseSummary(ok.stdout)["failed verification"]).toBe(0);
    expect(ok.stderr).toBe("");
    // Without the test CA nothing is trusted: status 1 and one line per message.
    const bad = await scan([only]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("CERT_UNTRUSTED");
    expect(parseSummary(bad.stdout)["failed verification"]).toBe(sim.length);
  });

  it("a receipt that does not verify proves nothing: its recipient is not delivered", async () => {
    const flow = sim.filter((m) => m.name.includes("-ok-completa-"));
    const consegne = flow.filter((m) => m.name.endsWith("-avvenuta-consegna.eml"));
    expect(consegne.length).toBeGreaterThan(0);
    const good = join(dir, "proof-good");
    await writeFolder(good, flow);
    const ok = parseSummary((await scan(["--trust", ca, good])).stdout);
    expect(ok).toMatchObject({ delivered: 1, "failed verification": 0 });
    // The same flow with each avvenuta consegna's signed text altered, or its signature removed.
    const tamper = (m: CorpusMessage): CorpusMessage => {
      const s = new TextDecoder("latin1").decode(m.bytes).replace("Il giorno ", "Il GIORNO ");
      return { name: m.name, bytes: Uint8Array.from(s, (c) => c.charCodeAt(0)) };
    };
    const forged = join(dir, "proof-forged");
    await writeFolder(forged, flow.map((m) => (consegne.includes(m) ? tamper(m) : m)));
    const r = await scan(["--trust", ca, forged]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("SIGNATURE_MISMATCH");
    expect(parseSummary(r.stdout)).toMatchObject({ "failed verification": consegne.length, delivered: 0, "in progress": 1 });
    // A tampered copy beside the good one is not its duplicate: the good one still counts.
    const both = join(dir, "proof-both");
    await writeFolder(both, [...flow, ...consegne.map((m) => ({ ...tamper(m), name: `x-${m.name}` }))]);
    expect(parseSummary((await scan(["--trust", ca, both])).stdout)).toMatchObject({ delivered: 1, duplicates: ok["duplicates"], "failed verification": consegne.length });
  });

  it("a failed message's line shows its file name and subject without control characters", async () => {
    const evil = join(dir, "evil-names");
    await mkdir(evil, { recursive: true });
    // Untrusted without --trust: one "failed" line per message, naming the file.
    await writeFile(join(evil, "a\x1b]0;pwned\x07\u202e\x85b.eml"), sim[0]!.bytes);
    const r = await scan([evil]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("failed");
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  });

  it("an unreadable message among good ones is status 1, shown with its code", async () => {
    const mixed = join(dir, "mixed");
    // A header block over parseMime's 1 MiB limit: ERR_TOO_LARGE.
    const huge = Buffer.from(`Subject: x\r\nX-Long: ${"a".repeat(1.2 * 1024 * 1024)}\r\n\r\nbody\r\n`);
    await writeFolder(mixed, [...sim.slice(0, 3), { name: "garbage.eml", bytes: huge }]);
    const r = await scan(["--trust", ca, "--json", mixed]);
    expect(r.code).toBe(1);
    const bad = jsonLines(r.stdout).find((l) => String(l["id"]).endsWith("garbage.eml"))!;
    expect(bad["status"]).toBe("unreadable");
    expect((bad["issues"] as { code: string }[])[0]!.code).toBe("ERR_TOO_LARGE");
    expect(bad["hash"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a file larger than a message is unreadable before it is read; a large file that is no message is skipped unread (scan and inspect)", async () => {
    const large = join(dir, "large-files");
    await writeFolder(large, sim.slice(0, 3));
    // Sparse: 1.2 GB each on no disk, which read whole would be as much memory, twice.
    for (const name of ["huge.eml", "disk-image"]) {
      await writeFile(join(large, name), "");
      await truncate(join(large, name), 1.2e9);
    }
    const before = process.memoryUsage().rss;
    const r = await scan(["--trust", ca, "--json", large]);
    expect(r.code).toBe(1);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l["status"])).toEqual(["ok", "ok", "ok", "unreadable"]);
    expect(lines[3]!["issues"]).toEqual([expect.objectContaining({ code: "ERR_TOO_LARGE", message: `${join(large, "huge.eml")} is 1200000000 bytes, larger than a message read (268435456 bytes)` })]);
    const io = capture();
    expect(await main(["inspect", large], io)).toBe(2);
    expect(io.stderr).toContain(`${join(large, "huge.eml")}: cannot read: ${join(large, "huge.eml")} is 1200000000 bytes, larger than a message read`);
    expect(io.stderr + io.stdout).not.toContain("disk-image");
    const extract = capture();
    expect(await main(["extract", join(large, "huge.eml"), "--out", join(dir, "huge.parts")], extract)).toBe(2);
    expect(extract.stderr).toContain(`${join(large, "huge.eml")}: ERR_TOO_LARGE: `);
    expect(process.memoryUsage().rss - before).toBeLessThan(300e6);
  });

  it.skipIf(process.platform !== "linux")("a folder that cannot be read is reported and the rest of the source is scanned, status 2", async () => {
    const tree = join(dir, "deep");
    await writeFolder(tree, sim.slice(0, 4));
    await withUnreadableFolder(tree, async () => {
      const r = await scan(["--trust", ca, "--json", tree]);
      expect(r.code).toBe(2);
      // Reported once (by the walk, not by the count before it).
      expect(r.stderr.match(/ENAMETOOLONG/g)).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^postacert: ${tree}: ENAMETOOLONG`));
      expect(jsonLines(r.stdout).map((l) => l["status"])).toEqual(["ok", "ok", "ok", "ok"]);
      expect(parseSummary(r.stderr)["messages"]).toBe(4);
    });
  });

  it("on a terminal, a progress line on stderr with the total known for local sources", async () => {
    const io = capture();
    io.progress = true;
    const code = await main(["scan", "--jobs", "1", "--trust", ca, "--json", folder], io);
    expect(code).toBeLessThan(2);
    expect(io.stderr).toMatch(new RegExp(`\\r\\x1b\\[2K${corpus.length}/${corpus.length} messages, \\d+/s, \\d+ not verified\\n`));
    expect(jsonLines(io.stdout)).toHaveLength(corpus.length); // stdout stays data only
  });

  it("--help documents the command", async () => {
    const io = capture();
    expect(await main(["scan", "--help"], io)).toBe(0);
    for (const opt of ["--state", "--shard", "--report", "--jobs", "POSTACERT_IMAP_PASSWORD"]) expect(io.stdout).toContain(opt);
    const top = capture();
    await main(["--help"], top);
    expect(top.stdout).toContain("postacert scan");
  });

  it("usage errors are status 2", async () => {
    expect((await scan([])).code).toBe(2);
    expect((await scan([join(dir, "nope")])).code).toBe(2);
    expect((await scan(["--json", "--csv", folder])).code).toBe(2);
    expect((await scan(["--jobs", "0", folder])).code).toBe(2);
    for (const imapOnly of [["--mailbox", "INBOX"], ["--insecure"]]) {
      const r = await scan([...imapOnly, folder]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${imapOnly[0]} applies to imap:// and imaps:// sources only`);
    }
    const withPw = await scan(["imap://mario:hunter2@127.0.0.1:1/"]);
    expect(withPw.code).toBe(2);
    expect(withPw.stderr).not.toContain("hunter2");
    // A URL that does not parse may still hold a password before its "@".
    const unparsable = await scan(["imap://mario:hun#ter2@127.0.0.1:99999/"]);
    expect(unparsable.code).toBe(2);
    expect(unparsable.stderr).toContain("is not a valid IMAP URL");
    expect(unparsable.stderr).not.toMatch(/hun|ter2/);
  });

  it("a --report that could not be written is a usage error before anything is scanned", async () => {
    for (const [report, why] of [
      [join(dir, "no-such-folder", "r.html"), /--report: cannot write .*ENOENT/],
      [dir, /--report: ".*" is a folder/],
    ] as const) {
      const r = await scan(["--trust", ca, "--report", report, folder]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stdout).toBe(""); // no summary: nothing was scanned
    }
  });

  it("--csv: a header, one row per message, RFC 4180 quoting, formulas defused", async () => {
    const r = await scan(["--trust", ca, "--csv", hostileDir]);
    expect(r.stdout.startsWith("id,source,status,type,")).toBe(true);
    expect(r.stdout).toContain(`"'=HYPERLINK(""http://evil""), <img src=x onerror=alert(1)> & ""quotes"""`);
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("-1")).toBe("'-1");
    expect(csvField(-1)).toBe("-1"); // a number is not a formula
    // A reader splitting on ";" (Excel with Italian settings) starts a cell after each one.
    expect(csvField("Fattura 2024;=1+1;=HYPERLINK(A1)")).toBe("Fattura 2024;'=1+1;'=HYPERLINK(A1)");
    expect(csvField('a; "@SUM(A1)"')).toBe(`"a;' ""@SUM(A1)"""`);
    expect(csvField("a;b;1-2")).toBe("a;b;1-2");
    // Terminal escapes (clear screen, OSC 8 link), line breaks and bidi overrides become spaces.
    expect(csvField("Fattura\r\x1b[2J\x1b]8;;http://evil.test/\x07CLICCA\u202Efdp.exe")).toBe("Fattura  [2J ]8;;http://evil.test/ CLICCA fdp.exe");
    expect(csvField("line\nbreak")).toBe("line break");
    expect(csvField(null)).toBe("");
    const rows = r.stdout.split("\r\n").filter(Boolean);
    expect(rows).toHaveLength(sim.length + 2 + 1);
    expect(toCsv({ id: "x", source: "s", hash: "", status: "unreadable", issues: [{ code: "ENOENT", severity: "error", message: "gone" }] })).toBe("x,s,unreadable,,,,,,,,,,,,,,ENOENT,\r\n");
  });

  it("--report writes one page that escapes what senders wrote", async () => {
    const report = join(dir, "report.html");
    const r = await scan(["--trust", ca, "--report", report, hostileDir]);
    expect(r.code).toBe(0);
    const html = await readFile(report, "utf8");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;");
    // A bidi override left open in a subject would reorder the rest of its line.
    expect(escapeHtml("Fattura\u202Efdp.exe <b>")).toBe("Fattura\uFFFDfdp.exe &lt;b&gt;");
    expect(html).not.toContain("<img");
    expect(html).not.toMatch(/\b(?:src|href)=["']?(?:https?:)?\/\//i); // no external asset
    expect(html).toContain("Content-Security-Policy");
    expect(html).toContain("<svg");
    await appendFile(report, ""); // the file is complete and writable
  });
});
