// Node sources: folder, mbox (streamed, mboxrd escaping, CRLF/LF, bounded memory) and Maildir
// give the same messages and the same transactions.
import { mkdir, mkdtemp, rename, rm, symlink, truncate, unlink, writeFile } from "node:fs/promises";
import { createWriteStream, readdirSync, readlinkSync, renameSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFolder, readMaildir, readMbox, readSource, type SourceMessage } from "../../src/node/index.js";
import { readPec } from "../../src/pec/read.js";
import { SCENARIO_NAMES, createScenarioPki, runScenario } from "../../src/simulator/index.js";
import { TransactionTracker, type Transaction } from "../../src/transactions/index.js";
import { NOT_BEFORE, START } from "../simulator/helpers.js";
import { latin1Id, latin1NamesUnsupported, latin1Title, writeLatin1 } from "../support/latin1-names.js";
import { withUnreadableFolder } from "../cli/scan-fixtures.js";
import { PecError } from "../../src/errors.js";
import { listMaildir, maildirFiles } from "../../src/node/sources.js";
import { makeZip } from "../support/zip.js";
import { makeTar } from "../support/tar.js";
import { collect } from "../support/collect.js";

const enc = new TextEncoder();
let dir: string;
let flows: Uint8Array[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postacert-sources-"));
  const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
  for (const name of SCENARIO_NAMES) flows.push(...(await runScenario(name, { pki, start: START })).flow.messages.map((m) => m.message.bytes));
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  flows = [];
});

/** mboxrd writer: `From ` line, `>`-quote every `>*From ` line, a blank line after each message. */
function mbox(messages: Uint8Array[], eol = "\n"): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const m of messages) {
    parts.push(enc.encode(`From MAILER-DAEMON Mon Mar 16 10:30:00 2026${eol}`));
    const text = Buffer.from(m).toString("latin1");
    const quoted = text.replace(/^(>*From )/gm, ">$1");
    const body = Buffer.from(quoted, "latin1");
    parts.push(body);
    parts.push(enc.encode(body.at(-1) === 0x0a ? eol : eol + eol));
  }
  return Buffer.concat(parts);
}

function summary(ts: Transaction[]): string[] {
  return ts.map((t) => `${t.identificativo ?? t.msgid}|${t.outcome}|${t.recipients.map((r) => `${r.address}=${r.state}`).join(",")}`).sort();
}

async function transactionsOf(src: AsyncIterable<SourceMessage>): Promise<string[]> {
  const tracker = new TransactionTracker();
  for await (const m of src) tracker.add(readPec(m.bytes), m);
  return summary(tracker.transactions());
}

describe("readMbox", () => {
  const tricky = [
    "From: a@b.test\nSubject: one\n\nFrom the start of a line\n>From already quoted\n>>From twice\nFromage is not a separator\n",
    "From: c@d.test\r\nSubject: two\r\n\r\nbody\r\nFrom here too\r\n\r\n",
    "From: e@f.test\nSubject: three\n\nno final newline",
  ];

  it.each(["\n", "\r\n"])("reads back every message byte-exact (EOL %j)", async (eol) => {
    const msgs = tricky.slice(0, 2).map((s) => enc.encode(s));
    const path = join(dir, `tricky-${eol.length}.mbox`);
    await writeFile(path, mbox([...msgs, ...flows.slice(0, 5)], eol));
    const got = await collect(readMbox(path, { highWaterMark: 64 })); // tiny chunks: lines straddle them
    expect(got.map((m) => Buffer.from(m.bytes).toString("latin1"))).toEqual([...msgs, ...flows.slice(0, 5)].map((m) => Buffer.from(m).toString("latin1")));
    expect(got[0]!.id).toBe(`${path}#0`);
    expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
    expect(got.every((m) => m.source === path)).toBe(true);
  });

  it("a message without a final newline gets the line break its writer added (mbox cannot tell)", async () => {
    const path = join(dir, "nonl.mbox");
    await writeFile(path, mbox([enc.encode(tricky[2]!), enc.encode(tricky[0]!)]));
    const got = await collect(readMbox(path));
    expect(Buffer.from(got[0]!.bytes).toString()).toBe(`${tricky[2]}\n`);
    expect(Buffer.from(got[1]!.bytes).toString()).toBe(tricky[0]);
  });

  it("a line longer than many chunks is read whole", async () => {
    const long = `From: a@b.test\nSubject: long\n\n${"x".repeat(300_000)}\nFrom y\n`;
    const path = join(dir, "long.mbox");
    await writeFile(path, mbox([enc.encode(long), enc.encode(tricky[1]!)]));
    const got = await collect(readMbox(path, { highWaterMark: 1000 }));
    expect(got.map((m) => Buffer.from(m.bytes).toString())).toEqual([long, tricky[1]]);
  });

  it("a message over maxMessageSize is ERR_TOO_LARGE, named path#offset, and the next ones are read", async () => {
    const big = `From: a@b.test\nSubject: big\n\n${"x".repeat(300_000)}\n`;
    const path = join(dir, "big.mbox");
    await writeFile(path, mbox([enc.encode(tricky[1]!), enc.encode(big), enc.encode(tricky[1]!)]));
    const errors: [string, string][] = [];
    const got = await collect(readMbox(path, { highWaterMark: 1000, maxMessageSize: 100_000, onError: (e, id) => errors.push([e.code, id]) }));
    expect(got.map((m) => Buffer.from(m.bytes).toString())).toEqual([tricky[1], tricky[1]]);
    // The big one's From line comes after the first message: its line, the message, the blank line.
    const offset = "From MAILER-DAEMON Mon Mar 16 10:30:00 2026\n".length + Buffer.byteLength(tricky[1]!.replace(/^(>*From )/gm, ">$1")) + (tricky[1]!.endsWith("\n") ? 1 : 2);
    expect(errors).toEqual([["ERR_TOO_LARGE", `${path}#${offset}`]]);
    await expect(collect(readMbox(path, { maxMessageSize: 100_000 }))).rejects.toMatchObject({ code: "ERR_TOO_LARGE", details: { limit: 100_000 } });
  });

  it("ignores text before the first From line; an empty file has no messages", async () => {
    const p1 = join(dir, "empty.mbox");
    await writeFile(p1, "");
    expect(await collect(readMbox(p1))).toEqual([]);
    const p2 = join(dir, "junk.mbox");
    await writeFile(p2, Buffer.concat([enc.encode("junk\n"), mbox([enc.encode(tricky[0]!)])]));
    const got = await collect(readMbox(p2));
    expect(got).toHaveLength(1);
    expect(got[0]!.id).toBe(`${p2}#5`);
  });

  it.skipIf(process.platform !== "linux")("a reading stopped early (break) closes the file: mbox, plain or gzip-compressed, ZIP and tar", async () => {
    const openFiles = (): string[] => readdirSync("/proc/self/fd").map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    });
    const whole = mbox(flows.slice(0, 20));
    const plain = join(dir, "early.mbox");
    await writeFile(plain, whole);
    await writeFile(plain + ".gz", gzipSync(whole));
    const files = flows.slice(0, 20).map((bytes, i) => ({ name: `m${i}.eml`, data: bytes }));
    const zip = join(dir, "early.zip");
    await writeFile(zip, makeZip(files));
    const tgz = join(dir, "early.tgz");
    // Data that does not compress after the messages: the file is still being read (more than
    // one read chunk) when the loop stops at the first message.
    await writeFile(tgz, makeTar([...files, { name: "filler.bin", data: randomBytes(2_000_000) }], { gzip: true }));
    const readers: [string, AsyncIterable<SourceMessage>][] = [
      // Small chunks: the file is still being read when the loop stops.
      [plain, readMbox(plain, { highWaterMark: 1024 })],
      [plain + ".gz", readMbox(plain + ".gz", { highWaterMark: 1024 })],
      [zip, readSource(zip)],
      [tgz, readSource(tgz)],
    ];
    for (const [path, reader] of readers) {
      for await (const m of reader) {
        expect(m.id.startsWith(`${path}#`)).toBe(true);
        expect(openFiles()).toContain(path);
        break;
      }
      for (let i = 0; i < 300 && openFiles().includes(path); i++) await new Promise((r) => setTimeout(r, 10));
      expect(openFiles()).not.toContain(path);
    }
    // A large entry that is no message is not read past its start, and its stream is closed.
    const clip = join(dir, "clip.zip");
    await writeFile(clip, makeZip([{ name: "clip.mp4", data: Buffer.alloc(17 * 1024 * 1024, 7), method: 0 }, { name: "1.eml", data: flows[0]! }]));
    expect((await collect(readSource(clip))).map((m) => m.id)).toEqual([`${clip}#1.eml`]);
    for (let i = 0; i < 300 && openFiles().includes(clip); i++) await new Promise((r) => setTimeout(r, 10));
    expect(openFiles()).not.toContain(clip);
  });

  it("rejects misuse with PecError", async () => {
    await expect(collect(readMbox(join(dir, "missing.mbox")))).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(collect(readMbox(""))).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(collect(readMaildir(dir))).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(collect(readFolder(join(dir, "nope")))).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });

  it("streams a 100 MB mbox with bounded memory", async () => {
    const path = join(dir, "big.mbox");
    const one = mbox(flows.slice(0, 12));
    const target = 100 * 1024 * 1024;
    const ws = createWriteStream(path);
    let written = 0;
    while (written < target) {
      if (!ws.write(one)) await new Promise<void>((r) => ws.once("drain", () => r()));
      written += one.length;
    }
    await new Promise<void>((r, j) => ws.end((e?: Error | null) => (e ? j(e) : r())));
    global.gc?.();
    const before = process.memoryUsage().rss;
    let count = 0;
    let bytes = 0;
    let peak = before;
    for await (const m of readMbox(path)) {
      count++;
      bytes += m.bytes.length;
      if ((count & 255) === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(count).toBe((written / one.length) * 12);
    expect(bytes).toBe((written / one.length) * flows.slice(0, 12).reduce((s, m) => s + m.length, 0));
    // Growth is garbage awaiting collection (read chunks and message copies, which V8 collects
    // once some tens of MB of them pile up), not the file: well below its size (≈ 35–45 MB,
    // for 200 MB and 774 MB mboxes alike).
    expect(peak - before, `rss grew ${((peak - before) / 1048576).toFixed(1)} MB`).toBeLessThan(target * 0.6);
  }, 120_000);
});

describe("folder, Maildir and mbox", () => {
  it("give the same messages and the same transactions", async () => {
    const folder = join(dir, "folder");
    await mkdir(join(folder, "sub", "deeper"), { recursive: true });
    const maildir = join(dir, "Maildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    for (let i = 0; i < flows.length; i++) {
      const name = `m${String(i).padStart(3, "0")}`;
      // Mixed layouts: .eml, no extension, .txt, nested folders.
      const where = i % 3 === 0 ? join(folder, `${name}.eml`) : i % 3 === 1 ? join(folder, "sub", name) : join(folder, "sub", "deeper", `${name}.txt`);
      await writeFile(where, flows[i]!);
      await writeFile(join(maildir, i % 2 ? "cur" : "new", `${1700000000 + i}.${i}.host${i % 2 ? ":2,S" : ""}`), flows[i]!);
    }
    // Noise the folder reader must skip; tmp/ of the Maildir is never read.
    await writeFile(join(folder, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    await writeFile(join(folder, "igpec.ldif"), "dn: o=test\n");
    await writeFile(join(folder, "notes"), "just some text, no header\n");
    await mkdir(join(folder, ".git"));
    await writeFile(join(folder, ".git", "HEAD"), "Ref: refs/heads/main\n");
    await writeFile(join(maildir, "tmp", "partial"), flows[0]!.subarray(0, 100));
    const mboxPath = join(dir, "all.mbox");
    await writeFile(mboxPath, mbox(flows, "\r\n"));

    const sorted = (ms: SourceMessage[]) => ms.map((m) => Buffer.from(m.bytes).toString("base64")).sort();
    const expected = flows.map((m) => Buffer.from(m).toString("base64")).sort();
    const fromFolder = await collect(readFolder(folder));
    expect(sorted(fromFolder)).toEqual(expected);
    expect(sorted(await collect(readMaildir(maildir)))).toEqual(expected);
    expect(sorted(await collect(readMbox(mboxPath)))).toEqual(expected);
    // Archived as mbox.gz: streamed through gunzip, in chunks smaller than a message.
    const gz = join(dir, "all.mbox.gz");
    await writeFile(gz, gzipSync(mbox(flows, "\r\n")));
    expect(sorted(await collect(readMbox(gz, { highWaterMark: 1024 })))).toEqual(expected);
    expect(sorted(await collect(readSource(gz)))).toEqual(expected);
    const cut = join(dir, "cut.mbox.gz");
    await writeFile(cut, gzipSync(mbox(flows, "\r\n")).subarray(0, 5000));
    await expect(collect(readMbox(cut))).rejects.toMatchObject({ code: "ERR_SOURCE", cause: { code: "Z_BUF_ERROR" } });
    // Damaged where a look at its head already fails (its first bytes, or a small file's
    // checksum): read as it is, it was no mbox, and gave nothing without a word.
    const whole = gzipSync(mbox(flows, "\r\n"));
    const garbled = Buffer.from(whole);
    for (let i = 200; i < 260; i++) garbled[i] = garbled[i]! ^ 0x55;
    await writeFile(cut, garbled);
    await expect(collect(readMbox(cut))).rejects.toMatchObject({ code: "ERR_SOURCE", cause: { code: "Z_DATA_ERROR" } });
    const small = gzipSync(mbox(flows.slice(0, 1), "\r\n"));
    small[small.length - 6] = small[small.length - 6]! ^ 1; // its CRC-32
    await writeFile(cut, small);
    const reported: string[] = [];
    expect(await collect(readMbox(cut, { onError: (e, p) => reported.push(`${e.code} ${p}`) }))).toEqual([]);
    expect(reported).toEqual([`ERR_SOURCE ${cut}`]);
    expect(sorted(await collect(readSource(maildir)))).toEqual(expected);
    expect(sorted(await collect(readSource(mboxPath)))).toEqual(expected);
    expect(sorted(await collect(readSource(folder)))).toEqual(expected);
    expect((await collect(readSource(join(folder, "m000.eml"))))[0]!.bytes).toEqual(flows[0]);

    const t = await transactionsOf(readFolder(folder));
    expect(t).toHaveLength(SCENARIO_NAMES.length - 1); // anomalia is not a transaction
    expect(await transactionsOf(readMaildir(maildir))).toEqual(t);
    expect(await transactionsOf(readMbox(mboxPath))).toEqual(t);
  });

  it("a live Maildir: a message moved or renamed while it is read is read where it went, one deleted is left out", async () => {
    const maildir = join(dir, "LiveMaildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    const mail = (n: number) => `Subject: ${n}\r\n\r\nbody ${n}\r\n`;
    const listed = ["cur/1.M1.host:2,S", "cur/2.M2.host:2,", "cur/3.M3.host:2,S", "new/4.M4.host", "new/5.M5.host"];
    for (const [i, n] of listed.entries()) await writeFile(join(maildir, n), mail(i));
    const got: SourceMessage[] = [];
    for await (const m of readMaildir(maildir)) {
      got.push(m);
      if (got.length > 1) continue;
      // While the first message is in hand, a client flags one, deletes one and opens the rest.
      await rename(join(maildir, "cur/2.M2.host:2,"), join(maildir, "cur/2.M2.host:2,F"));
      await unlink(join(maildir, "cur/3.M3.host:2,S"));
      await rename(join(maildir, "new/4.M4.host"), join(maildir, "cur/4.M4.host:2,S"));
      await rename(join(maildir, "new/5.M5.host"), join(maildir, "cur/5.M5.host:2,S"));
    }
    expect(got.map((m) => m.id)).toEqual([0, 1, 3, 4].map((i) => join(maildir, listed[i]!)));
    expect(got.map((m) => new TextDecoder().decode(m.bytes))).toEqual([0, 1, 3, 4].map(mail));
  });

  it("a live Maildir: a message moved from new/ to cur/ between the two listings is listed once, where it went", async () => {
    const maildir = join(dir, "RacyMaildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    for (const n of ["cur/1.M1.host:2,S", "new/2.M2.host", "new/3.M3.host"]) await writeFile(join(maildir, n), `Subject: ${n}\r\n\r\nbody\r\n`);
    let moved = false;
    // new/ is listed first: once it is, a client opens message 2.
    const listing = await listMaildir(maildir, () => {
      if (moved) return;
      moved = true;
      renameSync(join(maildir, "new/2.M2.host"), join(maildir, "cur/2.M2.host:2,S"));
    });
    expect(listing).toEqual({ cur: ["1.M1.host:2,S", "2.M2.host:2,S"], new: ["3.M3.host"] });
    const files: string[] = [];
    for await (const f of maildirFiles(maildir, listing)) files.push(f);
    expect(files).toEqual(["cur/1.M1.host:2,S", "cur/2.M2.host:2,S", "new/3.M3.host"].map((n) => join(maildir, n)));
  });

  it.skipIf(process.platform !== "linux")("a folder: a file deleted while it is read is left out; one that cannot be read is ERR_SOURCE, with the cause", async () => {
    const folder = join(dir, "changing");
    await mkdir(folder, { recursive: true });
    const mail = (n: number) => `Subject: ${n}\r\n\r\nbody\r\n`;
    for (const n of [1, 2, 3]) await writeFile(join(folder, `${n}.eml`), mail(n));
    const got: string[] = [];
    for await (const m of readFolder(folder)) {
      got.push(m.id);
      if (got.length === 1) await unlink(join(folder, "2.eml"));
    }
    expect(got).toEqual([join(folder, "1.eml"), join(folder, "3.eml")]);
    await withUnreadableFolder(folder, async () => {
      const err = await collect(readFolder(folder)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PecError);
      expect(err).toMatchObject({ code: "ERR_SOURCE", cause: { code: "ENAMETOOLONG" } });
      expect((err as PecError).message).toMatch(/^cannot read .*changing: ENAMETOOLONG/);
    });
  });

  it("gzip-compressed messages (Dovecot's zlib plugin, the Maildir Z flag) are read decompressed; other compressions are named", async () => {
    const maildir = join(dir, "ZMaildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    const mail = (n: number) => `Subject: ${n}\r\n\r\nbody ${n}\r\n`;
    await writeFile(join(maildir, "cur/1.M1.host:2,S"), mail(1));
    await writeFile(join(maildir, "cur/2.M2.host:2,SZ"), gzipSync(mail(2)));
    await writeFile(join(maildir, "new/3.M3.host"), gzipSync(mail(3)));
    const got = await collect(readMaildir(maildir));
    expect(got.map((m) => new TextDecoder().decode(m.bytes))).toEqual([mail(1), mail(2), mail(3)]);
    const folder = join(dir, "gz-folder");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "a.eml"), gzipSync(mail(4)));
    expect((await collect(readFolder(folder))).map((m) => new TextDecoder().decode(m.bytes))).toEqual([mail(4)]);
    expect((await collect(readSource(join(folder, "a.eml")))).map((m) => new TextDecoder().decode(m.bytes))).toEqual([mail(4)]);

    // zstd (magic 28 b5 2f fd): no decoder in Node 20, said so rather than read as "not PEC".
    await writeFile(join(maildir, "cur/4.M4.host:2,SZ"), Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0]));
    await expect(collect(readMaildir(maildir))).rejects.toMatchObject({ code: "ERR_UNSUPPORTED", message: "the file is zstd-compressed; decompress it first (or store it gzip-compressed)" });
    // Damaged gzip data, and a "BZh" that begins a header name, not a bzip2 stream.
    await writeFile(join(maildir, "cur/4.M4.host:2,SZ"), gzipSync(mail(5)).subarray(0, 12));
    await expect(collect(readMaildir(maildir))).rejects.toMatchObject({ code: "ERR_SOURCE", message: expect.stringMatching(/^the gzip-compressed message is damaged/) });
    await writeFile(join(maildir, "cur/4.M4.host:2,SZ"), "BZh: odd but a header\r\n\r\nbody\r\n");
    expect(await collect(readMaildir(maildir))).toHaveLength(4);
    // The same zstd message in a plain folder, where its name says nothing: named, as scan and inspect name it.
    await writeFile(join(folder, "5.M5.host:2,SZ"), Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0]));
    const left: string[] = [];
    expect((await collect(readFolder(folder, { onError: (e, p) => left.push(`${e.code} ${p}`) }))).map((m) => m.id)).toEqual([join(folder, "a.eml")]);
    expect(left).toEqual([`ERR_UNSUPPORTED ${join(folder, "5.M5.host:2,SZ")}`]);
  });

  it("a file larger than a message is refused before it is read; a large file that is no message is skipped unread", async () => {
    const folder = join(dir, "large-files");
    await mkdir(join(folder, "Maildir", "cur"), { recursive: true });
    const mail = "Subject: small\r\n\r\nbody\r\n";
    await writeFile(join(folder, "small.eml"), mail);
    // Sparse: 1.2 GB on no disk, which read whole would be 1.2 GB of memory.
    const sparse = async (path: string, size: number): Promise<void> => {
      await writeFile(path, "");
      await truncate(path, size);
    };
    await sparse(join(folder, "huge.eml"), 1.2e9);
    await sparse(join(folder, "Maildir", "cur", "1.M1.host:2,S"), 1.2e9);
    await sparse(join(folder, "disk-image"), 1.2e9); // not .eml: its first bytes say what it is
    const tooLarge = (path: string) => ({ code: "ERR_TOO_LARGE", message: `${path} is 1200000000 bytes, larger than a message read (268435456 bytes)` });
    const before = process.memoryUsage().rss;
    const errors: PecError[] = [];
    const got = await collect(readFolder(folder, { onError: (e) => errors.push(e) }));
    expect(got.map((m) => m.id)).toEqual([join(folder, "small.eml")]);
    // The Maildir's file, in a folder walk, is sniffed as disk-image is: no message.
    expect(errors).toEqual([expect.objectContaining(tooLarge(join(folder, "huge.eml")))]);
    await expect(collect(readSource(join(folder, "huge.eml")))).rejects.toMatchObject(tooLarge(join(folder, "huge.eml")));
    await expect(collect(readMaildir(join(folder, "Maildir")))).rejects.toMatchObject(tooLarge(join(folder, "Maildir", "cur", "1.M1.host:2,S")));
    expect(process.memoryUsage().rss - before).toBeLessThan(300e6);
  });

  it("a pipe or a device is read as standard input is: an mbox by message, else one message, up to the limit", async () => {
    // A FIFO stands for /dev/stdin or a shell's <(zcat x.mbox.gz): a file that cannot be sought,
    // whose first bytes cannot be looked at and read again, and that has no size.
    const fifo = join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    const box = mbox(flows.slice(0, 5));
    const file = join(dir, "piped.mbox");
    await writeFile(file, box);
    const through = async (bytes: Uint8Array): Promise<SourceMessage[]> => {
      const writer = createWriteStream(fifo);
      writer.end(bytes);
      return collect(readSource(fifo));
    };
    const asFile = (await collect(readSource(file))).map((m) => ({ ...m, id: m.id.replace(file, fifo), source: fifo }));
    expect(asFile).toHaveLength(5);
    // It threw "ESPIPE: invalid seek" (no PecError).
    expect(await through(box)).toEqual(asFile);
    expect(await through(gzipSync(box))).toEqual(asFile);
    expect(await through(flows[0]!)).toEqual([{ id: fifo, source: fifo, bytes: flows[0] }]);
    // readMbox reads a pipe as it reads a file (it refused it as "not a file").
    const asMbox = async (bytes: Uint8Array): Promise<SourceMessage[]> => {
      createWriteStream(fifo).end(bytes);
      return collect(readMbox(fifo));
    };
    expect(await asMbox(box)).toEqual(asFile);
    expect(await asMbox(gzipSync(box))).toEqual(asFile);
    await expect(collect(readMbox(dir))).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT", message: `${dir} is not a file` });
    // /dev/zero has a size of 0 and no end: it was read until memory ran out.
    const before = process.memoryUsage().rss;
    await expect(collect(readSource("/dev/zero"))).rejects.toMatchObject({ code: "ERR_TOO_LARGE", message: "/dev/zero is larger than the 268435456 bytes of a message read" });
    const errors: string[] = [];
    expect(await collect(readSource("/dev/zero", { onError: (e, p) => errors.push(`${p}: ${e.code}`) }))).toEqual([]);
    expect(errors).toEqual(["/dev/zero: ERR_TOO_LARGE"]);
    expect(process.memoryUsage().rss - before).toBeLessThan(600e6);
  });

  it("a folder: the messages of the mbox files in it, .eml.gz and .mbox.gz decompressed, other archives skipped", async () => {
    const folder = join(dir, "mixed");
    await mkdir(join(folder, "Local Folders"), { recursive: true });
    const mail = (n: number) => `Subject: ${n}\r\n\r\nbody ${n}\r\n`;
    const two = enc.encode(`From a@b Mon Jun 16 10:00:00 2025\n${mail(2)}\nFrom a@b Mon Jun 16 10:00:01 2025\n${mail(3)}\n`);
    await writeFile(join(folder, "1.eml.gz"), gzipSync(mail(1)));
    await writeFile(join(folder, "Local Folders", "Inbox"), two); // Thunderbird: an mbox without extension
    await writeFile(join(folder, "Local Folders", "Inbox.msf"), "// <!-- <mdb:mork:z v=\"1.4\"/> -->\n");
    await writeFile(join(folder, "old.mbox.gz"), gzipSync(two));
    await writeFile(join(folder, "logs.tar.bz2"), gzipSync(mail(9))); // an archive postacert does not read: not looked into
    const read = await collect(readFolder(folder));
    const inbox = join(folder, "Local Folders", "Inbox");
    expect(read.map((m) => [m.id, m.source, new TextDecoder().decode(m.bytes)])).toEqual([
      [join(folder, "1.eml.gz"), folder, mail(1)],
      [`${inbox}#0`, folder, mail(2)],
      [`${inbox}#${two.indexOf(0x46, 10)}`, folder, mail(3)],
      [`${join(folder, "old.mbox.gz")}#0`, folder, mail(2)],
      [`${join(folder, "old.mbox.gz")}#${two.indexOf(0x46, 10)}`, folder, mail(3)],
    ]);
    // A .mbox.gz whose very start is damaged is no silent skip either.
    await writeFile(join(folder, "old.mbox.gz"), Buffer.concat([gzipSync(two).subarray(0, 10), Buffer.alloc(40, 0xff)]));
    const early: string[] = [];
    await collect(readFolder(folder, { onError: (e, path) => early.push(`${e.code} ${path}`) }));
    expect(early).toEqual([`ERR_SOURCE ${join(folder, "old.mbox.gz")}`]);
    // A damaged mbox.gz among them is that file's failure.
    await writeFile(join(folder, "old.mbox.gz"), gzipSync(two).subarray(0, 30));
    const errors: string[] = [];
    const kept = await collect(readFolder(folder, { onError: (_e, path) => errors.push(path) }));
    expect(kept.map((m) => m.id).filter((id) => id.includes("old.mbox.gz"))).toEqual([]);
    expect(errors).toEqual([join(folder, "old.mbox.gz")]);
    await expect(collect(readFolder(folder))).rejects.toMatchObject({ code: "ERR_SOURCE" });
  });

  it("onError: a file that cannot be read is named and left out, and the reading goes on", async () => {
    const mail = (n: number) => `Subject: ${n}\r\n\r\nbody ${n}\r\n`;
    const xz = Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]);
    const damaged = gzipSync(mail(9)).subarray(0, 12);
    const run = async (it: (onError: (e: PecError, path: string) => void) => AsyncIterable<SourceMessage>) => {
      const errors: [string, string][] = [];
      const texts: string[] = [];
      for await (const m of it((e, path) => errors.push([e.code, path]))) texts.push(new TextDecoder().decode(m.bytes));
      return { texts, errors };
    };

    const folder = join(dir, "onerror-folder");
    await mkdir(join(folder, "sub"), { recursive: true });
    await writeFile(join(folder, "1.eml"), mail(1));
    await writeFile(join(folder, "2.eml"), damaged);
    await writeFile(join(folder, "3.eml"), xz);
    await writeFile(join(folder, "sub/4.eml"), mail(4));
    expect(await run((onError) => readFolder(folder, { onError }))).toEqual({
      texts: [mail(1), mail(4)],
      errors: [
        ["ERR_SOURCE", join(folder, "2.eml")],
        ["ERR_UNSUPPORTED", join(folder, "3.eml")],
      ],
    });
    // readSource passes it on; without it, the first failure ends the reading.
    expect((await run((onError) => readSource(folder, { onError }))).errors).toHaveLength(2);
    await expect(collect(readFolder(folder))).rejects.toMatchObject({ code: "ERR_SOURCE" });
    expect(await run((onError) => readSource(join(folder, "3.eml"), { onError }))).toEqual({ texts: [], errors: [["ERR_UNSUPPORTED", join(folder, "3.eml")]] });

    const maildir = join(dir, "onerror-Maildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    await writeFile(join(maildir, "cur/1.M1.host:2,SZ"), damaged);
    await writeFile(join(maildir, "cur/2.M2.host:2,S"), mail(2));
    await writeFile(join(maildir, "new/3.M3.host"), xz);
    expect(await run((onError) => readMaildir(maildir, { onError }))).toEqual({
      texts: [mail(2)],
      errors: [
        ["ERR_SOURCE", join(maildir, "cur/1.M1.host:2,SZ")],
        ["ERR_UNSUPPORTED", join(maildir, "new/3.M3.host")],
      ],
    });

    // An mbox.gz cut short: the messages before the damage, then one report, and the end.
    const cut = join(dir, "onerror.mbox.gz");
    const whole = gzipSync(mbox(flows, "\r\n"));
    await writeFile(cut, whole.subarray(0, whole.length >> 1));
    const fromCut = await run((onError) => readMbox(cut, { onError, highWaterMark: 1024 }));
    expect(fromCut.errors).toEqual([["ERR_SOURCE", cut]]);
    expect(fromCut.texts.length).toBeGreaterThan(0);
    expect(fromCut.texts.length).toBeLessThan(flows.length);
    fromCut.texts.forEach((t, i) => expect(t).toBe(new TextDecoder().decode(flows[i])));

    // A folder that cannot be listed is one report; the caller's own error is not rewrapped.
    await withUnreadableFolder(folder, async () => {
      const r = await run((onError) => readFolder(folder, { onError }));
      expect(r.texts).toEqual([mail(1), mail(4)]);
      expect(r.errors.map(([code]) => code)).toEqual(["ERR_SOURCE", "ERR_UNSUPPORTED", "ERR_SOURCE"]);
      expect(r.errors[2]![1].startsWith(join(folder, "d"))).toBe(true);
    });
    const mine = new Error("stop here");
    await expect(
      collect(
        readFolder(folder, {
          onError: () => {
            throw mine;
          },
        }),
      ),
    ).rejects.toBe(mine);
    for (const bad of [null, 3, { onError: "log" }]) {
      // @ts-expect-error misuse on purpose
      await expect(collect(readSource(folder, bad))).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    }
  });

  it("a folder file with a byte order mark or blank lines before its headers is a message, as readPec reads it", async () => {
    const folder = join(dir, "prefixed");
    await mkdir(folder, { recursive: true });
    const mail = "Subject: x\r\n\r\nbody\r\n";
    await writeFile(join(folder, "a.txt"), "\ufeff" + mail);
    await writeFile(join(folder, "b.txt"), "\r\n\n" + mail);
    await writeFile(join(folder, "c.txt"), "\ufeff\r\nnot a header line\r\n");
    await writeFile(join(folder, "d.txt"), ("\r\n" + mail).replace(/\r\n/g, "\r\r\n")); // converted twice
    await writeFile(join(folder, "e.txt"), "\r\n" + "X".repeat(1100) + ": a name longer than what is sniffed\r\n");
    await writeFile(join(folder, "f.txt"), Buffer.from("\ufeff" + mail, "utf16le")); // PowerShell's >
    const read = await collect(readFolder(folder));
    expect(read.map((m) => m.id)).toEqual(["a.txt", "b.txt", "d.txt", "f.txt"].map((n) => join(folder, n)));
    for (const m of read) expect(readPec(m.bytes).subject).toBe("x");
  });

  it("a Maildir folder longer than one turn of its listing: every file, cur/ then new/, in name order", async () => {
    const maildir = join(dir, "BigMaildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    // More than the 8,192 entries read between two turns of the event loop, written out of name order.
    const names = Array.from({ length: 8_500 }, (_, i) => `${1700000000 + ((i * 7919) % 8500)}.M${i}P1.host:2,S`);
    for (const n of names) await writeFile(join(maildir, "cur", n), "x");
    await writeFile(join(maildir, "new", "1800000000.M1P1.host"), "y");
    await mkdir(join(maildir, "cur", "not-a-message"));
    await writeFile(join(maildir, "cur", ".hidden"), "z");
    const ids = (await collect(readMaildir(maildir))).map((m) => m.id);
    expect(ids).toEqual([...[...names].sort().map((n) => join(maildir, "cur", n)), join(maildir, "new", "1800000000.M1P1.host")]);
  }, 60_000);

  it.skipIf(latin1NamesUnsupported !== undefined)(latin1Title("names that are not UTF-8 are read, each with its own lossless id"), async () => {
    const mail = (n: number) => `Subject: ${n}\r\n\r\nbody\r\n`;
    const folder = join(dir, "latin1");
    // Two names the same but for their Latin-1 byte, a Latin-1 folder, a sniffed file in it.
    const names = ["Citt\xe0/verbale", "Forl\xe0.eml", "Forl\xec.eml"];
    names.forEach((n, i) => writeLatin1(folder, n, mail(i)));
    const got = await collect(readFolder(folder));
    expect(got.map((m) => m.id)).toEqual(names.map((n) => latin1Id(folder, n)));
    expect(got.map((m) => new TextDecoder().decode(m.bytes))).toEqual(names.map((_, i) => mail(i)));

    const maildir = join(dir, "Latin1Maildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    // With UTF-8 names beside them, one holding a U+FFFD of its own.
    const files = ["cur/1.M1.Forl\xe0:2,S", "cur/1.M1.Forl\xec:2,S", "cur/2.M2.host:2,S", "new/3.M3.Forl\xec", "new/4.M4.\ufffd"];
    for (const [i, n] of files.entries()) {
      if (n.includes("\ufffd")) await writeFile(join(maildir, n), mail(i));
      else writeLatin1(maildir, n, mail(i));
    }
    const inMaildir = await collect(readMaildir(maildir));
    expect(inMaildir.map((m) => m.id)).toEqual(files.map((n) => (n.includes("\ufffd") ? join(maildir, n) : latin1Id(maildir, n))));
    expect(inMaildir.map((m) => new TextDecoder().decode(m.bytes))).toEqual(files.map((_, i) => mail(i)));

    // An mbox under such a name, opened by the id a folder listing gives.
    writeLatin1(folder, "Citt\xe0.mbox", `From MAILER-DAEMON Mon Mar 16 10:30:00 2026\n${mail(9)}`);
    const box = await collect(readMbox(latin1Id(folder, "Citt\xe0.mbox")));
    expect(box.map((m) => new TextDecoder().decode(m.bytes))).toEqual([mail(9)]);
  });

  it.skipIf(process.platform === "win32")("a symbolic link to a file is read as the file; links to folders, broken links and loops are not", async () => {
    const mail = "Subject: linked\r\n\r\nbody\r\n";
    const store = join(dir, "link-store");
    await mkdir(store, { recursive: true });
    await writeFile(join(store, "real.eml"), mail);
    const folder = join(dir, "links");
    await mkdir(folder, { recursive: true });
    await symlink(join(store, "real.eml"), join(folder, "a.eml"));
    await symlink(join(store, "missing.eml"), join(folder, "b.eml"));
    await symlink(folder, join(folder, "loop")); // a link to a parent: never followed
    await symlink(join(folder, "c.eml"), join(folder, "c.eml")); // a link to itself: ELOOP
    const got = await collect(readFolder(folder));
    expect(got.map((m) => m.id)).toEqual([join(folder, "a.eml")]);
    expect(new TextDecoder().decode(got[0]!.bytes)).toBe(mail);

    const maildir = join(dir, "LinkMaildir");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    await symlink(join(store, "real.eml"), join(maildir, "cur", "1.M1.host:2,S"));
    await symlink(join(store, "missing.eml"), join(maildir, "cur", "2.M2.host:2,S"));
    await symlink(store, join(maildir, "cur", "3.M3.host:2,S"));
    await symlink(join(maildir, "cur", "4.M4.host:2,S"), join(maildir, "cur", "4.M4.host:2,S")); // a loop: ELOOP
    expect((await collect(readMaildir(maildir))).map((m) => m.id)).toEqual([join(maildir, "cur", "1.M1.host:2,S")]);
  });
});
