// ZIP archives of messages (webmail exports, preservation packages): readZip, readSource and
// readFolder read their entries one by one, name each by its path in the archive, and report
// what they cannot read.
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFolder, readSource, readZip, type SourceMessage } from "../../src/node/index.js";
import type { PecError } from "../../src/errors.js";
import { makeZip, type ZipFile } from "../support/zip.js";
import { collect } from "../support/collect.js";

let dir: string;
const mail = (n: number): string => `Subject: ${n}\r\nFrom: a@b.test\r\n\r\nbody ${n}\r\n`;
const text = (m: SourceMessage): string => Buffer.from(m.bytes).toString("latin1");

/** An export as webmail and macOS make them, with every kind of entry the reader must tell apart. */
const EXPORT: ZipFile[] = [
  { name: "export/2024/1.eml", data: mail(1) },
  { name: "export/2024/", data: "", method: 0 },
  { name: "export/2.txt", data: mail(2), method: 0 },
  { name: "export/notes.txt", data: "not a message\n" },
  { name: "export/ricevuta.pdf", data: "%PDF-1.4" },
  { name: "__MACOSX/export/2024/._1.eml", data: "\x00\x05\x16\x07AppleDouble" },
  { name: "export/.DS_Store", data: "Bud1" },
  { name: "export/Inbox", data: `From a Mon\n${mail(3)}\nFrom b Tue\n${mail(4)}\n` },
  { name: "export/5.eml.gz", data: gzipSync(mail(5)) },
  { name: Buffer.from("export/citt\xe0.eml", "latin1"), data: mail(6), utf8: false },
];
const ids = (zip: string): string[] => [
  `${zip}#export/2024/1.eml`,
  `${zip}#export/2.txt`,
  `${zip}#export/Inbox#0`,
  `${zip}#export/Inbox#${`From a Mon\n${mail(3)}\n`.length}`,
  `${zip}#export/5.eml.gz`,
  `${zip}#export/città.eml`,
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postacert-zip-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readZip", () => {
  it.each([
    ["a ZIP archive", false],
    ["a ZIP64 archive", true],
  ])("%s: its messages, in the archive's order, named path#entry", async (_name, zip64) => {
    const zip = join(dir, zip64 ? "export64.zip" : "export.zip");
    await writeFile(zip, makeZip(EXPORT, { zip64 }));
    const read = await collect(readZip(zip));
    expect(read.map((m) => m.id)).toEqual(ids(zip));
    expect(read.map(text)).toEqual([1, 2, 3, 4, 5, 6].map(mail));
    expect(new Set(read.map((m) => m.source))).toEqual(new Set([zip]));
    expect((await collect(readSource(zip))).map((m) => m.id)).toEqual(ids(zip));
    // The writer makes archives other tools read.
    if (spawnSync("unzip", ["-v"]).status === 0) expect(spawnSync("unzip", ["-tq", zip]).status).toBe(0);
  });

  it("names each entry it cannot read and reads the others; without onError the first one ends the reading", async () => {
    const zip = join(dir, "damaged.zip");
    await writeFile(
      zip,
      makeZip([
        { name: "1.eml", data: mail(1) },
        { name: "crc.eml", data: mail(2), badCrc: true },
        { name: "secret.eml", data: mail(3), encrypted: true, method: 0 },
        { name: "bzip2.eml", data: mail(4), method: 12 },
        { name: "nested.zip", data: makeZip([{ name: "x.eml", data: mail(5) }]) },
        // A zstd-compressed message whose name says nothing: named, as in a folder.
        { name: "Maildir/cur/6.M6.host:2,SZ", data: Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0]) },
        { name: "7.eml", data: mail(7) },
      ]),
    );
    const errors: [string, string][] = [];
    const read = await collect(readZip(zip, { onError: (e: PecError, path) => errors.push([e.code, path]) }));
    expect(read.map(text)).toEqual([mail(1), mail(7)]);
    expect(errors).toEqual([
      ["ERR_SOURCE", `${zip}#crc.eml`],
      ["ERR_UNSUPPORTED", `${zip}#secret.eml`],
      ["ERR_UNSUPPORTED", `${zip}#bzip2.eml`],
      ["ERR_UNSUPPORTED", `${zip}#nested.zip`],
      ["ERR_UNSUPPORTED", `${zip}#Maildir/cur/6.M6.host:2,SZ`],
    ]);
    await expect(collect(readZip(zip))).rejects.toMatchObject({ code: "ERR_SOURCE", message: `${zip}#crc.eml is damaged: its size or CRC-32 does not match the archive's` });
  });

  it("an archive cut short or that is no archive is ERR_SOURCE, or one report to onError", async () => {
    const whole = makeZip([{ name: "1.eml", data: mail(1) }]);
    const cut = join(dir, "cut.zip");
    await writeFile(cut, whole.subarray(0, whole.length - 10));
    await expect(collect(readZip(cut))).rejects.toMatchObject({ code: "ERR_SOURCE", message: `${cut}: not a readable ZIP archive: no end of central directory record` });
    const errors: string[] = [];
    expect(await collect(readZip(cut, { onError: (e) => errors.push(e.code) }))).toEqual([]);
    expect(errors).toEqual(["ERR_SOURCE"]);
    // A central directory that points past the end of the file.
    const lying = Buffer.from(whole);
    lying.writeUInt32LE(0x7fffffff, lying.length - 6);
    const liar = join(dir, "liar.zip");
    await writeFile(liar, lying);
    await expect(collect(readZip(liar))).rejects.toMatchObject({ code: "ERR_SOURCE", message: expect.stringContaining("the central directory lies outside the file") });
    await expect(collect(readZip(join(dir, "missing.zip")))).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });

  it("an entry that inflates beyond its declared size is damaged, not read whole (a zip bomb)", async () => {
    const bomb = makeZip([{ name: "bomb.eml", data: Buffer.alloc(5_000_000, 0x41) }]);
    // Declare 100 bytes: the central directory's size field of the one entry (offset 24 in it).
    const central = bomb.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bomb.writeUInt32LE(100, central + 24);
    const zip = join(dir, "bomb.zip");
    await writeFile(zip, bomb);
    await expect(collect(readZip(zip))).rejects.toMatchObject({ code: "ERR_SOURCE", message: expect.stringMatching(/bomb\.eml is damaged/) });
  });

  it("an mbox entry larger than readPec reads (a Google Takeout export) is streamed: every message of it is read", async () => {
    // Two messages of 135 MB: together more than the 256 MiB an entry read whole may be.
    const body = Buffer.alloc(135_000_000, 0x61);
    for (let i = 76; i < body.length; i += 78) body[i] = 0x0a;
    const header = (n: number): string => `From takeout@example Mon Jun 16 10:00:00 2025\n${mail(n).replace(/\r\n$/, "")}`;
    const mbox = Buffer.concat([Buffer.from(header(1)), body, Buffer.from(`\n\n${header(2)}`), body, Buffer.from("\n")]);
    const zip = join(dir, "takeout.zip");
    await writeFile(zip, makeZip([{ name: "Takeout/Mail/All mail Including Spam and Trash.mbox", data: mbox }, { name: "Takeout/archive_browser.html", data: "<html></html>" }]));
    const seen: [string, number][] = [];
    for await (const m of readZip(zip)) seen.push([m.id, m.bytes.length]);
    const name = `${zip}#Takeout/Mail/All mail Including Spam and Trash.mbox`;
    const first = header(1).length - header(1).indexOf("\n") - 1 + body.length + 1;
    expect(seen).toEqual([
      [`${name}#0`, first],
      [`${name}#${header(1).length + body.length + 2}`, first],
    ]);
  }, 60_000);

  it("a streamed entry (over 16 MiB) is checked as it comes: one inflating past its declared size is damaged, and a wrong CRC-32 is named after its messages", async () => {
    const filler = `${"x".repeat(76)}\n`.repeat(250_000); // 19 MB of body lines
    const mbox = `From a Mon\n${mail(1)}\nFrom b Tue\n${mail(2)}${filler}\n`;
    const zip = join(dir, "streamed-crc.zip");
    await writeFile(zip, makeZip([{ name: "Inbox", data: mbox, badCrc: true }, { name: "3.eml", data: mail(3) }]));
    const errors: [string, string][] = [];
    const read = await collect(readZip(zip, { onError: (e: PecError, path) => errors.push([e.code, path]) }));
    // The CRC-32 is known at the entry's end: the messages before are given, the last one,
    // which only that end completes, is left out with the failure, as from a damaged .mbox.gz.
    expect(read.map(text)).toEqual([mail(1), mail(3)]);
    expect(errors).toEqual([["ERR_SOURCE", `${zip}#Inbox`]]);
    // Read whole, a smaller entry with a wrong CRC-32 gives nothing.
    const small = join(dir, "small-crc.zip");
    await writeFile(small, makeZip([{ name: "Inbox", data: `From a Mon\n${mail(1)}\n`, badCrc: true }]));
    const smallErrors: string[] = [];
    expect(await collect(readZip(small, { onError: (_e, path) => smallErrors.push(path) }))).toEqual([]);
    expect(smallErrors).toEqual([`${small}#Inbox`]);
    // Declared 17 MiB, inflating to 40 MB: stopped as damaged.
    const bomb = makeZip([{ name: "bomb", data: Buffer.concat([Buffer.from(`From a Mon\n${mail(1)}`), Buffer.alloc(40_000_000, 0x41)]) }]);
    const central = bomb.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bomb.writeUInt32LE(17 * 1024 * 1024, central + 24);
    const bombZip = join(dir, "streamed-bomb.zip");
    await writeFile(bombZip, bomb);
    await expect(collect(readZip(bombZip))).rejects.toMatchObject({ code: "ERR_SOURCE", message: `${bombZip}#bomb is damaged: its size or CRC-32 does not match the archive's` });
  });

  it("readFolder reads a ZIP archive among the files", async () => {
    const folder = join(dir, "folder");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "a.eml"), mail(0));
    await writeFile(join(folder, "export.zip"), makeZip(EXPORT));
    const read = await collect(readFolder(folder));
    expect(read.map((m) => m.id)).toEqual([join(folder, "a.eml"), ...ids(join(folder, "export.zip"))]);
    expect(new Set(read.map((m) => m.source))).toEqual(new Set([folder]));
  });
});

describe("readZip on damaged archives (property)", () => {
  it("any flipped, cut or overwritten bytes: messages or PecErrors, never another error or a hang", async () => {
    const { default: fc } = await import("fast-check");
    const base = makeZip(EXPORT, { zip64: false });
    const base64 = makeZip(EXPORT, { zip64: true });
    const path = join(dir, "fuzz.zip");
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        async (zip64, edits, cut) => {
          const bytes = Buffer.from(zip64 ? base64 : base);
          // Bias half the edits to the directory and end records, where lengths and offsets are.
          for (const [i, e] of edits.entries()) bytes[i % 2 ? bytes.length - 1 - (e.at % 200) : e.at % bytes.length] = e.value;
          await writeFile(path, cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1)));
          const errors: string[] = [];
          try {
            for await (const m of readZip(path, { onError: (e) => errors.push(e.code) })) expect(m.bytes).toBeInstanceOf(Uint8Array);
          } catch (e) {
            throw new Error(`readZip threw with onError: ${String(e)}`);
          }
          for (const code of errors) expect(["ERR_SOURCE", "ERR_UNSUPPORTED", "ERR_TOO_LARGE"]).toContain(code);
        },
      ),
      { numRuns: Number(process.env["FUZZ_RUNS"] ?? 300) },
    );
  }, 120_000);
});
