// Fuzzing (issue 8): random bytes, mutated real and fixture messages, malformed ASN.1,
// malformed XML. Runs in Node and Chromium with a fixed seed and a bounded budget
// (the whole file stays well under 30 s in CI). `FUZZ_RUNS=n` (npm run fuzz) runs n cases
// per property (6 properties; the signed-mutation one gets n/10 because each case
// verifies a signature): FUZZ_RUNS=20000 gives > 100,000 cases. A fuzz run draws a new seed
// each time (printed, and in fast-check's report of a failure) so that runs explore new
// cases; `FUZZ_SEED=s` replays one. Without FUZZ_RUNS the seed is fixed, as CI needs.
//
// Invariants:
// - readPec / parseMime / parseDaticert throw nothing but PecError;
// - verifyCms never throws for bad bytes, and resolves with valid === false for garbage;
//   verifyPec on a readPec result never throws (on raw bytes it throws only the PecError
//   of readPec, for bytes that are not a message at all);
// - a mutation inside the signed part of a valid signed message is never `valid`, except
//   the one class of mutations the CRLF canonicalisation of verifyPec legitimately undoes:
//   verifyPec retries a SIGNATURE_MISMATCH with bare LF turned into CRLF (real gestori sign
//   CRLF and some stores keep LF). So deleting the CR of a CRLF pair (or, more generally,
//   any mutation after which toCrlf(mutated signed bytes) equals the signed bytes) gives
//   back exactly the signed bytes, verifies, and is reported with canonicalized === true
//   and LINE_ENDINGS_CANONICALIZED. The test computes that condition and, for those cases
//   only, expects valid && canonicalized instead of !valid. Turning LF into CR, CR into LF,
//   inserting a CR before a lone LF that was signed as LF, etc. are all not undone.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { listFiles, readBytes } from "#files";
import { isPecError } from "../../src/errors.js";
import { parseMime, walkEntities } from "../../src/mime/index.js";
import type { MimeEntity } from "../../src/mime/index.js";
import { parseDaticert } from "../../src/daticert/index.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec } from "../../src/pec/verify.js";
import { pecToJson } from "../../src/pec/json.js";
import { buildAccettazione, buildBusta, composeMessage } from "../../src/pec/build/index.js";
import { createGestore, createTestCa } from "../../src/simulator/index.js";
import { verifyCms } from "../../src/smime/verify.js";
import { equalBytes, latin1, latin1Bytes, utf8Bytes } from "../../src/util/bytes.js";
import { readWild, wildFiles } from "../support/wild.js";
import { SAMPLE_DATE, sampleTx } from "../support/transaction.js";

/** An integer from the environment (Vite's in the browser, the process's in Node), or undefined. */
function envInteger(name: string): number | undefined {
  const metaEnv = (import.meta as unknown as { env?: Record<string, string | undefined> }).env;
  const procEnv = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const raw = metaEnv?.[name] ?? procEnv?.[name];
  const n = raw === undefined || raw === "" ? NaN : Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}
const fuzzRuns = envInteger("FUZZ_RUNS");
const FUZZ = fuzzRuns !== undefined && fuzzRuns > 0 ? fuzzRuns : undefined;
const SEED = envInteger("FUZZ_SEED") ?? (FUZZ === undefined ? 20_261_123 : Math.floor(Math.random() * 2 ** 31));
if (FUZZ !== undefined) console.log(`fuzz: ${FUZZ} runs per property, FUZZ_SEED=${SEED}`);
/** Cases for one property: `ci` in CI, FUZZ_RUNS × share when fuzzing. */
const runs = (ci: number, share = 1): number => (FUZZ === undefined ? ci : Math.max(ci, Math.floor(FUZZ * share)));
const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns, endOnFailure: true });

// ---------------------------------------------------------------------------------------
// Helpers

/** Parses like a caller would and touches everything lazily computed. */
function exerciseMime(bytes: Uint8Array): void {
  let root: MimeEntity;
  try {
    root = parseMime(bytes, { maxParts: 2000 });
  } catch (e) {
    if (isPecError(e)) return;
    throw e;
  }
  for (const e of walkEntities(root)) {
    for (const h of e.headers) void (h.value + h.decoded);
    void e.filename;
    void e.disposition;
    void e.decodedBody();
    void e.text();
  }
}

/** readPec + every lazy field (through pecToJson and the accessors). Returns the result or undefined. */
function exercisePec(bytes: Uint8Array): ReturnType<typeof readPec> | undefined {
  try {
    const pec = readPec(bytes, { maxParts: 2000 });
    void JSON.stringify(pecToJson(pec));
    for (const k of Object.keys(pec)) void (pec as unknown as Record<string, unknown>)[k];
    for (const a of pec.original?.attachments ?? []) void a.content();
    return pec;
  } catch (e) {
    if (isPecError(e)) return undefined;
    throw e;
  }
}

function exerciseDaticert(input: Uint8Array | string): void {
  try {
    const d = parseDaticert(input);
    void JSON.stringify(d);
  } catch (e) {
    if (isPecError(e)) return;
    throw e;
  }
}

/** Same as verifyPec's retry: bare LF → CRLF. */
function toCrlf(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 10 && (i === 0 || bytes[i - 1] !== 13)) out.push(13);
    out.push(b);
  }
  return Uint8Array.from(out);
}

function splice(bytes: Uint8Array, at: number, del: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - del + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + del), at + insert.length);
  return out;
}

// ---------------------------------------------------------------------------------------
// Message mutations

type Mutation =
  | { kind: "flip"; flips: { at: number; xor: number }[] }
  | { kind: "truncate"; at: number }
  | { kind: "dupBoundary"; which: number }
  | { kind: "dropBoundary"; which: number }
  | { kind: "hugeHeader"; size: number; fill: number }
  | { kind: "deepNesting"; depth: number }
  | { kind: "giantBase64"; at: number; size: number }
  | { kind: "charset"; charset: string }
  | { kind: "splice"; at: number; del: number; insert: string };

const FILLS = ["a", "=?utf-8?q?", ';a="', '\\"', "\r\n\t", "=?x?B?", "; filename*0*=", " (", "<"];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), flips: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("dupBoundary" as const), which: fc.nat() }),
  fc.record({ kind: fc.constant("dropBoundary" as const), which: fc.nat() }),
  fc.record({ kind: fc.constant("hugeHeader" as const), size: fc.integer({ min: 1000, max: 200_000 }), fill: fc.nat(FILLS.length - 1) }),
  fc.record({ kind: fc.constant("deepNesting" as const), depth: fc.integer({ min: 1, max: 80 }) }),
  fc.record({ kind: fc.constant("giantBase64" as const), at: fc.nat(), size: fc.integer({ min: 1000, max: 300_000 }) }),
  fc.record({ kind: fc.constant("charset" as const), charset: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("utf-7", "x-unknown", "", "\"", "utf-16", "iso-2022-jp", "windows-1252", "ébc", "utf8''")) }),
  fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), del: fc.nat(64), insert: fc.constantFrom("\r\n", "\n", "\r", "--", "\r\n\r\n", "=\r\n", "=?", "?=", "\"", ";", "\0", "\r\n--\r\n", "Content-Type: multipart/mixed; boundary=\"\"\r\n") }),
);

function mutate(src: Uint8Array, m: Mutation): Uint8Array {
  const n = src.length;
  switch (m.kind) {
    case "flip": {
      const out = src.slice();
      for (const f of m.flips) if (n) out[f.at % n] = out[f.at % n]! ^ f.xor;
      return out;
    }
    case "truncate":
      return src.subarray(0, n ? m.at % n : 0);
    case "dupBoundary":
    case "dropBoundary": {
      const text = latin1(src);
      const lines: number[] = [];
      for (let i = text.indexOf("\n--"); i !== -1; i = text.indexOf("\n--", i + 1)) lines.push(i + 1);
      if (!lines.length) return src;
      const s = lines[m.which % lines.length]!;
      let e = text.indexOf("\n", s);
      e = e === -1 ? text.length : e + 1;
      const line = text.slice(s, e);
      return latin1Bytes(m.kind === "dupBoundary" ? text.slice(0, e) + line + text.slice(e) : text.slice(0, s) + text.slice(e));
    }
    case "hugeHeader": {
      const fill = FILLS[m.fill]!;
      const v = fill.repeat(Math.ceil(m.size / fill.length)).slice(0, m.size);
      const name = m.fill % 2 ? "Content-Type: multipart/mixed; boundary=" : "X-Huge: ";
      return splice(src, 0, 0, latin1Bytes(name + v + "\r\n"));
    }
    case "deepNesting": {
      let head = "";
      let tail = "";
      for (let i = 0; i < m.depth; i++) {
        head += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
        tail = `\r\n--b${i}--\r\n` + tail;
      }
      return latin1Bytes(head + latin1(src) + tail);
    }
    case "giantBase64": {
      const text = latin1(src);
      const at = n ? m.at % n : 0;
      const line = "QUJD".repeat(Math.ceil(m.size / 4)).slice(0, m.size);
      return latin1Bytes(text.slice(0, at) + line + text.slice(at));
    }
    case "charset": {
      const text = latin1(src);
      const cs = m.charset;
      return latin1Bytes(text.replace(/charset="?[^;"\r\n]*"?/gi, `charset="${cs.replace(/["\r\n\\]/g, "")}"`).replace(/=\?[^?\s]*\?/g, `=?${cs.replace(/[?\s]/g, "")}?`));
    }
    case "splice": {
      const at = n ? m.at % n : 0;
      return splice(src, at, Math.min(m.del, n - at), latin1Bytes(m.insert));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Samples

interface Signed {
  name: string;
  bytes: Uint8Array;
  start: number;
  end: number;
}

const samples: { name: string; bytes: Uint8Array }[] = [];
const signed: Signed[] = [];
const daticerts: Uint8Array[] = [];
const cmsSamples: { cms: Uint8Array; content?: Uint8Array }[] = [];

beforeAll(async () => {
  for (const f of ["valid-detached-der-sha256.eml", "valid-opaque-ber-sha256.eml", "valid-p256-detached-der-sha256-noattrs.eml", "content.eml"]) {
    samples.push({ name: f, bytes: await readBytes(`fixtures/smime/${f}`) });
  }
  const content = await readBytes("fixtures/smime/content.eml");
  cmsSamples.push({ cms: await readBytes("fixtures/smime/valid-detached-der-sha256.p7s"), content });
  cmsSamples.push({ cms: await readBytes("fixtures/smime/valid-detached-ber-sha256.p7s"), content });
  cmsSamples.push({ cms: await readBytes("fixtures/smime/valid-opaque-ber-sha256.p7m") });
  for (const f of (await listFiles("fixtures/daticert/examples")) ?? []) if (f.endsWith(".xml")) daticerts.push(await readBytes(`fixtures/daticert/examples/${f}`));

  // Built PEC messages (ECDSA P-256: fast to sign and verify).
  const validity = { notBefore: new Date("2024-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z"), keyAlgorithm: "ECDSA-P256" as const };
  const ca = await createTestCa(validity);
  const alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, ...validity });
  const date = SAMPLE_DATE;
  const tx = sampleTx("Prova àè");
  const original = composeMessage({
    from: tx.sender,
    to: ["anna@pec.beta.test"],
    subject: "Prova àè",
    text: "Ciao\r\nriga due\r\n",
    messageId: "<m1@client>",
    date,
    attachments: [{ filename: "fattura è.pdf", content: utf8Bytes("%PDF-1.4 test") }],
  });
  const busta = (await buildBusta(alfa, tx, { original, date })).bytes;
  const acc = (await buildAccettazione(alfa, tx, { date })).bytes;
  samples.push({ name: "busta", bytes: busta }, { name: "accettazione", bytes: acc });

  const candidates: { name: string; bytes: Uint8Array }[] = [
    { name: "busta", bytes: busta },
    { name: "accettazione", bytes: acc },
    { name: "valid-detached-der-sha256.eml", bytes: samples[0]!.bytes },
  ];
  if (wildFiles) {
    for (const f of wildFiles) {
      const b = await readWild(f);
      if (b.length > 400_000) continue;
      samples.push({ name: `wild/${f}`, bytes: b });
    }
  }
  for (const c of candidates) {
    const pec = readPec(c.bytes);
    const sb = pec.signature?.signedBytes;
    if (!sb || sb.buffer !== c.bytes.buffer) continue;
    const start = sb.byteOffset - c.bytes.byteOffset;
    const res = await verifyPec(pec);
    if (!res.valid) continue;
    signed.push({ name: c.name, bytes: c.bytes, start, end: start + sb.length });
  }
}, 60_000);

// ---------------------------------------------------------------------------------------

describe("fuzz: parsers throw only PecError", () => {
  it("random bytes → parseMime, readPec, parseDaticert", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      // Text-ish bytes hit the parsers' interesting paths more often.
      fc.array(fc.constantFrom(..."\r\n\t :;=?\"-abcB64+/<>&#xX;!DOCTYPE[]ENTITY%".split("")), { maxLength: 600 }).map((a) => latin1Bytes(a.join(""))),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        exerciseMime(b);
        exercisePec(b);
        exerciseDaticert(b);
      }),
      params(runs(300)),
    );
  });

  it("mutated fixture, built and real messages → parseMime and readPec", () => {
    expect(samples.length).toBeGreaterThan(4);
    fc.assert(
      fc.property(fc.nat(), mutationArb, (i, m) => {
        const src = samples[i % samples.length]!.bytes;
        const b = mutate(src, m);
        exerciseMime(b);
        const pec = exercisePec(b);
        if (pec) void pec.type;
      }),
      params(runs(250)),
    );
  });

  it("malformed XML → parseDaticert", () => {
    expect(daticerts.length).toBeGreaterThan(0);
    const xmlMutation = fc.oneof(
      fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        text: fc.constantFrom(
          "<!DOCTYPE a [<!ENTITY e SYSTEM \"http://127.0.0.1/x\">]>",
          "<!DOCTYPE a [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>",
          "&c;", "&#0;", "&#x110000;", "&#xD800;", "&amp", "<![CDATA[", "]]>", "<!--", "-->", "<?xml version=\"1.0\" encoding=\"x-bogus\"?>",
          "<a ", "</", "=\"", "'", "<" + "x>".repeat(200), "\u0000", "\uFFFE", "<?pi", "&lt;",
        ),
      }),
      fc.record({ kind: fc.constant("deep" as const), depth: fc.integer({ min: 1, max: 200 }) }),
    );
    fc.assert(
      fc.property(fc.nat(), fc.array(xmlMutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (i, ms, asString) => {
        let text = latin1(daticerts[i % daticerts.length]!);
        for (const m of ms) {
          const at = text.length ? (m.kind === "deep" ? 0 : m.at % text.length) : 0;
          if (m.kind === "flip") text = text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ m.xor) + text.slice(at + 1);
          else if (m.kind === "cut") text = text.slice(0, at);
          else if (m.kind === "insert") text = text.slice(0, at) + m.text + text.slice(at);
          else {
            const close = text.indexOf("</postacert>");
            const pos = close === -1 ? text.length : close;
            text = text.slice(0, pos) + "<x>".repeat(m.depth) + "</x>".repeat(m.depth) + text.slice(pos);
          }
        }
        exerciseDaticert(asString ? text : latin1Bytes(text));
      }),
      params(runs(300)),
    );
  });
});

describe("fuzz: verification never throws", () => {
  /** Malformed ASN.1: each generator aims at one weakness of a BER reader. */
  const asn1Arb: fc.Arbitrary<Uint8Array> = fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    // Lengths past the end (short and long forms, up to 0xffffffff and 8-byte lengths).
    fc.tuple(fc.constantFrom(0x30, 0x31, 0x02, 0x04, 0x06, 0xa0, 0x24), fc.constantFrom([0x7f], [0x81, 0xff], [0x84, 0xff, 0xff, 0xff, 0xff], [0x88, 1, 0, 0, 0, 0, 0, 0, 0], [0x89, 1, 2]), fc.uint8Array({ maxLength: 20 })).map(
      ([t, l, rest]) => Uint8Array.from([0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, t, ...l, ...rest]),
    ),
    // Deep nesting, definite or indefinite, never closed.
    fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.boolean()).map(([d, indef]) => {
      const out = new Uint8Array(d * 2);
      for (let i = 0; i < d; i++) {
        out[2 * i] = i % 2 ? 0xa0 : 0x30;
        out[2 * i + 1] = indef ? 0x80 : Math.max(0, (d - i - 1) * 2) & 0x7f;
      }
      return out;
    }),
    // Huge INTEGERs (a 64 KB version number).
    fc.integer({ min: 1, max: 65_535 }).map((n) => {
      const head = [0x30, 0x83, (n + 4 + 13) >> 16, ((n + 4 + 13) >> 8) & 0xff, (n + 4 + 13) & 0xff, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0x02, 0x82, n >> 8, n & 0xff];
      const out = new Uint8Array(head.length + n).fill(0xff);
      out.set(head);
      return out;
    }),
    // Huge tag numbers (high-tag-number form that never ends).
    fc.integer({ min: 1, max: 200 }).map((n) => Uint8Array.from([0x1f, ...new Array<number>(n).fill(0xff), 0x01, 0x00])),
  );

  it("malformed ASN.1 → verifyCms resolves, not valid", async () => {
    await fc.assert(
      fc.asyncProperty(asn1Arb, fc.boolean(), async (cms, withContent) => {
        const res = await verifyCms({ cms, ...(withContent && { content: utf8Bytes("x") }) });
        expect(res.valid).toBe(false);
      }),
      params(runs(300)),
    );
  });

  it("mutated real CMS (flips, truncation, cut lengths) → verifyCms resolves", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.oneof(
          fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
          fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
          fc.record({ kind: fc.constant("len" as const), at: fc.nat(), len: fc.constantFrom(0x80, 0x84, 0x7f, 0x00, 0xff) }),
        ),
        async (i, m) => {
          const s = cmsSamples[i % cmsSamples.length]!;
          const at = m.at % s.cms.length;
          const cms = m.kind === "cut" ? s.cms.subarray(0, at) : s.cms.slice();
          if (m.kind === "flip") cms[at] = cms[at]! ^ m.xor;
          if (m.kind === "len") cms[at] = m.len;
          const res = await verifyCms({ cms, ...(s.content && { content: s.content }) });
          expect(typeof res.valid).toBe("boolean");
        },
      ),
      params(runs(200, 0.5)),
    );
  });

  it("any mutation inside the signed bytes of a valid PEC is never valid (bar CRLF canonicalisation)", async () => {
    expect(signed.length).toBeGreaterThanOrEqual(2);
    const arb = fc.record({
      i: fc.nat(),
      at: fc.nat(),
      op: fc.oneof(
        fc.record({ kind: fc.constant("xor" as const), xor: fc.integer({ min: 1, max: 255 }) }),
        fc.record({ kind: fc.constant("delete" as const), n: fc.integer({ min: 1, max: 4 }) }),
        fc.record({ kind: fc.constant("insert" as const), b: fc.constantFrom(13, 10, 32, 9, 0x41, 0, 0xff) }),
        fc.record({ kind: fc.constant("dropCr" as const) }),
      ),
    });
    let canonicalised = 0;
    await fc.assert(
      fc.asyncProperty(arb, async ({ i, at, op }) => {
        const s = signed[i % signed.length]!;
        const len = s.end - s.start;
        let pos = s.start + (at % len);
        let mutated: Uint8Array;
        let delta: number;
        if (op.kind === "xor") {
          mutated = s.bytes.slice();
          mutated[pos] = mutated[pos]! ^ op.xor;
          delta = 0;
        } else if (op.kind === "delete") {
          const n = Math.min(op.n, s.end - pos);
          mutated = splice(s.bytes, pos, n, new Uint8Array(0));
          delta = -n;
        } else if (op.kind === "insert") {
          mutated = splice(s.bytes, pos, 0, Uint8Array.of(op.b));
          delta = 1;
        } else {
          // Delete the CR of a CRLF pair in the signed bytes: the canonicalisation undoes it.
          const cr = s.bytes.subarray(0, s.end).indexOf(13, pos);
          pos = cr === -1 || s.bytes[cr + 1] !== 10 ? s.bytes.subarray(0, s.end).indexOf(13, s.start) : cr;
          mutated = splice(s.bytes, pos, 1, new Uint8Array(0));
          delta = -1;
        }
        const original = s.bytes.subarray(s.start, s.end);
        const undone = equalBytes(toCrlf(mutated.subarray(s.start, s.end + delta)), original);
        let pec;
        try {
          pec = readPec(mutated);
        } catch (e) {
          if (isPecError(e)) return; // no longer a message: not valid either
          throw e;
        }
        const res = await verifyPec(pec);
        if (undone && res.valid) {
          canonicalised++;
          expect(res.canonicalized).toBe(true);
          expect(res.issues.map((x) => x.code)).toContain("LINE_ENDINGS_CANONICALIZED");
        } else {
          expect(res.valid, `${s.name}: ${op.kind} at ${pos - s.start}`).toBe(false);
        }
      }),
      params(runs(120, 0.1)),
    );
    // The exception is exercised, not just allowed.
    expect(canonicalised).toBeGreaterThan(0);
  }, 120_000);

  it("verifyPec on mutated messages: never throws on a readPec result", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutationArb, async (i, m) => {
        const b = mutate(samples[i % samples.length]!.bytes, m);
        let pec;
        try {
          pec = readPec(b);
        } catch (e) {
          if (isPecError(e)) {
            // verifyPec on the same bytes throws that same kind of error, nothing else.
            await verifyPec(b).then(
              () => undefined,
              (err: unknown) => expect(isPecError(err)).toBe(true),
            );
            return;
          }
          throw e;
        }
        const res = await verifyPec(pec);
        expect(typeof res.valid).toBe("boolean");
      }),
      params(runs(120, 0.5)),
    );
  }, 120_000);
});
