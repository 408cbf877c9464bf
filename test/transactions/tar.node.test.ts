// tar archives (`.tar`, `.tar.gz`, `.tgz`: Google Takeout's other format, preservation
// packages): readTar, readSource and readFolder stream their files, name each by its path in
// the archive, read the mbox files in them message by message, and report damage.
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFolder, readSource, readTar, type SourceMessage } from "../../src/node/index.js";
import type { PecError } from "../../src/errors.js";
import { main } from "../../src/cli/main.js";
import { capture, parseSummary } from "../cli/scan-fixtures.js";
import { makeZip } from "../support/zip.js";
import { makeTar, type TarFileSpec } from "../support/tar.js";
import { collect } from "../support/collect.js";

let dir: string;
const mail = (n: number): string => `Subject: ${n}\r\nFrom: a@b.test\r\n\r\nbody ${n}\r\n`;
const text = (m: SourceMessage): string => Buffer.from(m.bytes).toString("latin1");
/** A folder path longer than a tar header's 100-byte name, each part of it shorter. */
const LONG = "Takeout/Posta certificata/Ricevute di avvenuta consegna/Anno 2024/Ufficio protocollo generale";

const EXPORT: TarFileSpec[] = [
  { name: "export/", type: "5" },
  { name: "export/2024/1.eml", data: mail(1) },
  { name: "export/2.txt", data: mail(2) },
  { name: "export/notes.txt", data: "not a message\n" },
  { name: "export/ricevuta.pdf", data: "%PDF-1.4" },
  { name: "export/.DS_Store", data: "Bud1" },
  { name: "export/link.eml", type: "2" },
  { name: "export/Inbox", data: `From a Mon\n${mail(3)}\nFrom b Tue\n${mail(4)}\n` },
  { name: "export/5.eml.gz", data: gzipSync(mail(5)) },
  { name: "export/città.eml", data: mail(6), longName: "pax" },
  { name: `${LONG}/7.eml`, data: mail(7) },
  { name: `${"x".repeat(120)}.eml`, data: mail(8) },
  { name: "export/nested.zip", data: makeZip([{ name: "x.eml", data: mail(9) }]) },
];
const ids = (tar: string): string[] => [
  `${tar}#export/2024/1.eml`,
  `${tar}#export/2.txt`,
  `${tar}#export/Inbox#0`,
  `${tar}#export/Inbox#${`From a Mon\n${mail(3)}\n`.length}`,
  `${tar}#export/5.eml.gz`,
  `${tar}#export/città.eml`,
  `${tar}#${LONG}/7.eml`,
  `${tar}#${"x".repeat(120)}.eml`,
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postacert-tar-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readTar", () => {
  it.each([
    ["export.tar", false],
    ["export.tar.gz", true],
    ["export.tgz", true],
  ])("%s: its messages, in the archive's order, named path#name; folders, links and other files skipped", async (file, gzip) => {
    const tar = join(dir, file);
    await writeFile(tar, makeTar(EXPORT, { gzip }));
    const errors: [string, string][] = [];
    const read = await collect(readTar(tar, { onError: (e: PecError, path) => errors.push([e.code, path]) }));
    expect(read.map((m) => m.id)).toEqual(ids(tar));
    expect(read.map(text)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map(mail));
    expect(new Set(read.map((m) => m.source))).toEqual(new Set([tar]));
    expect(errors).toEqual([["ERR_UNSUPPORTED", `${tar}#export/nested.zip`]]);
    // readSource knows it by its content, whatever its name.
    const unnamed = join(dir, `${file}.bin`);
    await writeFile(unnamed, makeTar(EXPORT, { gzip }));
    expect((await collect(readSource(unnamed, { onError: () => undefined }))).map((m) => m.id)).toEqual(ids(unnamed));
  });

  it.skipIf(spawnSync("tar", ["--version"]).status !== 0)("reads what GNU tar writes, in its gnu, pax and ustar formats", async () => {
    const src = join(dir, "tool-src");
    // More than the header's 100 bytes: GNU writes a long name, pax a path record, ustar a prefix.
    const deep = join(src, LONG);
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, "città.eml"), mail(1));
    await writeFile(join(src, "Inbox"), `From a Mon\n${mail(2)}\nFrom b Tue\n${mail(3)}\n`);
    for (const format of ["gnu", "pax", "ustar"]) {
      const tar = join(dir, `tool-${format}.tar.gz`);
      expect(spawnSync("tar", [`--format=${format}`, "-czf", tar, "-C", src, "."]).status).toBe(0);
      const read = await collect(readTar(tar));
      expect(read.map((m) => m.id).sort()).toEqual([`${tar}#${LONG}/città.eml`, `${tar}#Inbox#0`, `${tar}#Inbox#${`From a Mon\n${mail(2)}\n`.length}`].sort());
      expect(read.map(text).sort()).toEqual([mail(1), mail(2), mail(3)].sort());
    }
  });

  it("an mbox in it is read message by message across many chunks", async () => {
    const messages = Array.from({ length: 3000 }, (_, i) => `${mail(i)}${"line of body text\r\n".repeat(40)}`);
    const mbox = messages.map((m, i) => `From m${i} Mon Jun 16 10:00:00 2025\r\n${m}\r\n`).join("");
    const tar = join(dir, "big.tgz");
    await writeFile(tar, makeTar([{ name: "Takeout/Mail/All mail.mbox", data: mbox }, { name: "after.eml", data: mail(1) }], { gzip: true }));
    const read = await collect(readTar(tar));
    expect(read).toHaveLength(3001);
    expect(read.slice(0, 3000).map(text)).toEqual(messages);
    expect(text(read[3000]!)).toBe(mail(1));
  });

  it("a header summed as signed bytes (old tars) is read, and a name that is not UTF-8 is read as Latin-1", async () => {
    const bytes = makeTar([{ name: "citta.eml", data: mail(1) }]);
    bytes[4] = 0xe0; // "citt\xe0.eml": Latin-1, no UTF-8
    bytes.fill(0x20, 148, 156);
    let signed = 0;
    for (let i = 0; i < 512; i++) signed += bytes[i]! < 128 ? bytes[i]! : bytes[i]! - 256;
    bytes.write(`${signed.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    const tar = join(dir, "signed.tar");
    await writeFile(tar, bytes);
    expect((await collect(readTar(tar))).map((m) => [m.id, text(m)])).toEqual([[`${tar}#città.eml`, mail(1)]]);
  });

  it("a damaged archive is ERR_SOURCE after the messages before the damage, or one report to onError", async () => {
    const files: TarFileSpec[] = [
      { name: "1.eml", data: mail(1) },
      { name: "2.eml", data: mail(2), badChecksum: true },
      { name: "3.eml", data: mail(3) },
    ];
    const bad = join(dir, "bad-checksum.tar");
    await writeFile(bad, makeTar(files));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const m of readTar(bad)) seen.push(text(m));
      })(),
    ).rejects.toMatchObject({ code: "ERR_SOURCE", message: `${bad}: not a readable tar archive: a header's checksum does not match` });
    expect(seen).toEqual([mail(1)]);
    const errors: string[] = [];
    expect((await collect(readTar(bad, { onError: (e) => errors.push(e.message) }))).map(text)).toEqual([mail(1)]);
    expect(errors).toEqual([`${bad}: not a readable tar archive: a header's checksum does not match`]);
    // Cut inside the second file's content.
    const whole = makeTar([{ name: "1.eml", data: mail(1) }, { name: "big.eml", data: "x".repeat(5000) }]);
    const cut = join(dir, "cut.tar");
    await writeFile(cut, whole.subarray(0, 512 * 4));
    const cutErrors: string[] = [];
    expect((await collect(readTar(cut, { onError: (e, path) => cutErrors.push(path) }))).map(text)).toEqual([mail(1)]);
    // Named once, as that file's failure: the archive cannot go on past it.
    expect(cutErrors).toEqual([`${cut}#big.eml`]);
    // No end-of-archive blocks: tolerated.
    const open = join(dir, "no-end.tar");
    await writeFile(open, makeTar([{ name: "1.eml", data: mail(1) }], { end: false }));
    expect((await collect(readTar(open))).map(text)).toEqual([mail(1)]);
    await expect(collect(readTar(join(dir, "missing.tar")))).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });

  it("readFolder and the CLI read a tar archive among the files; scan counts its messages", async () => {
    const folder = join(dir, "folder");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "a.eml"), mail(0));
    await writeFile(join(folder, "export.tgz"), makeTar(EXPORT, { gzip: true }));
    const read = await collect(readFolder(folder, { onError: () => undefined }));
    expect(read.map((m) => m.id)).toEqual([join(folder, "a.eml"), ...ids(join(folder, "export.tgz"))]);
    const io = capture();
    expect(await main(["inspect", folder], io)).toBe(2);
    expect(io.stdout).toContain(`${join(folder, "export.tgz")}#export/Inbox#0: not-pec`);
    expect(io.stdout).toContain("0 inspected, 0 failed, 9 not PEC, 1 unreadable");
    const scanned = capture();
    await main(["scan", folder], scanned);
    expect(parseSummary(scanned.stdout)).toMatchObject({ "not PEC": 9, unreadable: 1 });
    expect(scanned.stderr).not.toContain("not scanned");
  });
});

describe("readTar on damaged archives (property)", () => {
  it("any flipped, cut or overwritten bytes: messages or PecErrors, never another error or a hang", async () => {
    const { default: fc } = await import("fast-check");
    const { PecError } = await import("../../src/errors.js");
    const bases = [makeTar(EXPORT), makeTar(EXPORT, { gzip: true })];
    const path = join(dir, "fuzz.tar");
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat()),
        async (which, flips, cutAt) => {
          const bytes = Buffer.from(bases[which]!);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          await writeFile(path, cutAt === null ? bytes : bytes.subarray(0, cutAt % bytes.length));
          try {
            for await (const m of readTar(path, { onError: (e) => expect(e).toBeInstanceOf(PecError) })) expect(m.bytes).toBeInstanceOf(Uint8Array);
          } catch (err) {
            expect(err).toBeInstanceOf(PecError);
          }
        },
      ),
      { numRuns: Number(process.env["FUZZ_RUNS"] ?? 300) },
    );
  });
});
