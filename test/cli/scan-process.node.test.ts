// The worker's batch processing reads, parses and verifies in stages: the results must be
// those of the messages processed one at a time, in the batch's order, whatever mix of
// outcomes the batch holds and wherever a stage ends (a stage holds ≈ 4 MB of messages).
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ItemResult, type ProcessContext, type ScanItem, processItems } from "../../src/cli/scan-process.js";
import { packResults, unpackResults } from "../../src/cli/scan-wire.js";
import { nodeCrypto } from "../../src/node/fast-crypto.js";
import { PEC_TYPES } from "../../src/pec/constants.js";
import { composeMessage } from "../../src/pec/build/index.js";
import type { PecSummary } from "../../src/transactions/index.js";
import { TrustStore } from "../../src/trust/index.js";
import { simulatorCorpus } from "./scan-fixtures.js";

let dir: string;
let items: ScanItem[];
let ctx: ProcessContext;
let knownHash: string;
let corpus: { bytes: Uint8Array }[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postacert-scan-process-"));
  const { messages, caPem } = await simulatorCorpus(1);
  corpus = messages;
  ctx = { trust: await TrustStore.fromPem(caPem), crypto: nodeCrypto() };
  const big = (n: number): Uint8Array =>
    composeMessage({ from: "a@example.test", to: ["b@example.test"], subject: `big ${n}`, text: "x".repeat(1024 * 1024 * n), date: new Date(0) });
  const tampered = Uint8Array.from(messages[0]!.bytes);
  // A byte of the signed text body.
  const at = Buffer.from(tampered).indexOf("Content-Type: text/plain") + 120;
  expect(at).toBeGreaterThan(120);
  tampered[at]! ^= 1;
  const files: { name: string; bytes: Uint8Array }[] = [
    ...messages.slice(0, 20),
    { name: "big-3.eml", bytes: big(3) },
    { name: "tampered.eml", bytes: tampered },
    { name: "notes", bytes: new TextEncoder().encode("not a message\n") },
    { name: "garbage.eml", bytes: new Uint8Array(300).fill(0) },
    ...messages.slice(20, 30),
    { name: "big-2.eml", bytes: big(2) },
    ...messages.slice(30),
  ];
  items = [];
  for (const [i, f] of files.entries()) {
    const path = join(dir, `${String(i).padStart(3, "0")}-${f.name}`);
    await writeFile(path, f.bytes);
    // Every third message comes as bytes (mbox, IMAP), the others as files the worker reads.
    if (i % 3 === 2) items.push({ id: path, source: dir, bytes: f.bytes });
    else items.push({ id: path, source: dir, path, ...(f.name === "notes" && { sniff: true }) });
  }
  items.splice(5, 0, { id: "missing", source: dir, path: join(dir, "missing.eml") });
  knownHash = createHash("sha256").update(messages[3]!.bytes).digest("hex");
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const oneByOne = async (c: ProcessContext): Promise<ItemResult[]> => {
  const out: ItemResult[] = [];
  for (const item of items) out.push(...(await processItems([item], c)));
  return out;
};

describe("processItems in stages", () => {
  it("gives every message's result, in order, as processing them one at a time does", async () => {
    const staged = await processItems(items, ctx);
    expect(staged).toHaveLength(items.length);
    expect(staged).toEqual(await oneByOne(ctx));
    const kinds = staged.map((r) => (r.kind === "record" ? r.status : r.kind));
    expect(kinds[5]).toBe("unreadable"); // the missing file
    expect(new Set(kinds)).toEqual(new Set(["ok", "failed", "not-pec", "unreadable", "ignored"]));
    // More than one stage: 5 MB of large messages in one batch.
    expect(items.length).toBeGreaterThan(60);
  });

  it("follows a Maildir message moved or renamed after the listing; one deleted is the file that disappeared", async () => {
    const messages = corpus;
    const maildir = join(dir, "live");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    const listed = ["new/1700000001.M1P1.host", "cur/1700000002.M2P1.host:2,", "cur/1700000003.M3P1.host:2,S", "new/1700000004.M4P1.host"];
    for (const [i, n] of listed.entries()) await writeFile(join(maildir, n), messages[i]!.bytes);
    const batch: ScanItem[] = listed.map((n) => ({ id: join(maildir, n), source: maildir, path: join(maildir, n), maildir: true }));
    // After the listing, before the worker reads: seen (new → cur), flagged (renamed in cur), deleted.
    await rename(join(maildir, listed[0]!), join(maildir, "cur/1700000001.M1P1.host:2,S"));
    await rename(join(maildir, listed[1]!), join(maildir, "cur/1700000002.M2P1.host:2,RS"));
    await unlink(join(maildir, listed[2]!));
    const got = await processItems(batch, ctx);
    // Status "ok": valid and trusted.
    expect(got.map((r) => (r.kind === "record" ? r.status : r.kind))).toEqual(["ok", "ok", "unreadable", "ok"]);
    expect(got[2]).toMatchObject({ issues: [{ code: "ENOENT" }] });
    // The same result as each message read where it is now.
    expect(got[1]).toEqual((await processItems([{ ...batch[1]!, path: join(maildir, "cur/1700000002.M2P1.host:2,RS") }], ctx))[0]);
    // A file that is not in a Maildir is not looked for elsewhere.
    await writeFile(join(maildir, "cur/1700000005.M5P1.host:2,S"), messages[4]!.bytes);
    const plain = await processItems([{ id: "x", source: maildir, path: join(maildir, "new/1700000005.M5P1.host") }], ctx);
    expect(plain[0]).toMatchObject({ kind: "record", status: "unreadable", issues: [{ code: "ENOENT" }] });
  });

  it("reads a gzip-compressed Maildir message decompressed, and names a compression it cannot read", async () => {
    const maildir = join(dir, "compressed");
    for (const d of ["cur", "new", "tmp"]) await mkdir(join(maildir, d), { recursive: true });
    const gz = join(maildir, "cur/1700000001.M1P1.host:2,SZ");
    const xz = join(maildir, "cur/1700000002.M2P1.host:2,SZ");
    await writeFile(gz, gzipSync(corpus[0]!.bytes));
    await writeFile(xz, Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]));
    const [a, b] = await processItems([gz, xz].map((path) => ({ id: path, source: maildir, path, maildir: true as const })), ctx);
    // The same result, hash included, as the message stored uncompressed.
    expect(a).toEqual((await processItems([{ id: "plain", source: maildir, bytes: corpus[0]!.bytes }], ctx))[0]);
    expect(b).toMatchObject({ kind: "record", status: "unreadable", issues: [{ code: "ERR_UNSUPPORTED", message: "the file is xz-compressed; decompress it first (or store it gzip-compressed)" }] });
  });

  it("answers known hashes and lean results in their places", async () => {
    const known = Buffer.from(knownHash, "hex").readBigUInt64BE(0);
    const lean: ProcessContext = { ...ctx, lean: true, isKnown: (d) => d.readBigUInt64BE(0) === known };
    const staged = await processItems(items, lean);
    expect(staged).toEqual(await oneByOne(lean));
    expect(staged.filter((r) => r.kind === "known")).toEqual([{ kind: "known", hash: knownHash }]);
    expect(staged.filter((r) => r.kind === "ok").length).toBeGreaterThan(40);
  });
});

describe("a batch's results as a worker sends them", () => {
  it("reads back every kind of result as it was, lean summaries and records alike", async () => {
    for (const c of [ctx, { ...ctx, lean: true }]) {
      const results = await processItems(items, c);
      const back = unpackResults(packResults(results));
      expect(back).toEqual(results);
      const dated = back.filter((r) => (r.kind === "ok" || r.kind === "record") && r.summary?.date !== undefined);
      expect(dated.length).toBeGreaterThan(40);
      for (const r of dated) expect((r as { summary: PecSummary }).summary.date).toBeInstanceOf(Date);
    }
  });

  it("keeps any lean summary exactly, present and absent fields alike (property)", () => {
    const text = fc.string({ unit: "binary", maxLength: 40 });
    const summary: fc.Arbitrary<PecSummary> = fc.record(
      {
        key: text,
        type: fc.constantFrom(...PEC_TYPES),
        virus: fc.boolean(),
        timeout: fc.constantFrom("preavviso" as const, "scadenza" as const),
        ricevuta: fc.constantFrom("completa" as const, "breve" as const, "sintetica" as const),
        errore: text,
        erroreEsteso: text,
        identificativo: text,
        msgid: text,
        messageId: text,
        sender: text,
        subject: text,
        recipients: fc.array(
          fc.record(
            { address: text, tipo: fc.constantFrom("certificato" as const, "esterno" as const), field: fc.constantFrom("to" as const, "cc" as const) },
            { requiredKeys: ["address"] },
          ),
          { maxLength: 4 },
        ),
        consegna: text,
        ricezione: fc.array(text, { maxLength: 3 }),
        date: fc.date({ noInvalidDate: true }),
      },
      { requiredKeys: ["key", "type", "virus", "recipients", "ricezione"] },
    );
    fc.assert(
      fc.property(fc.array(summary, { maxLength: 5 }), (summaries) => {
        const results: ItemResult[] = summaries.map((s) => ({ kind: "ok", summary: s }));
        expect(unpackResults(packResults(results))).toEqual(results);
      }),
      { numRuns: 300 },
    );
  });
});
