// Linear time on pathological input (issue 8): no catastrophic regex, no quadratic loop.
// Each case runs at size n and 10 n and requires time(10 n) / time(n) < 45. Linear code
// gives 10–30 here: 1 MB strings stay in V8's young generation and caches while 10 MB ones
// do not (the unclosed-quote case measures 23 ms vs 580 ms, and once 21 vs 631 ms, 30.3×,
// which failed the earlier limit of 30; yet 1/2/4/8/16 MB cold runs take
// 65/128/264/477/973 ms: linear). Quadratic code gives ≥ 100. This is a hang guard, not a benchmark: both sizes are timed as the
// best of several runs, and a large run under 250 ms passes whatever the ratio (timer noise on a
// shared machine). Node only (timing in a browser tab is too noisy).
import { describe, expect, it } from "vitest";
import { isPecError } from "../../src/errors.js";
import { parseMime, walkEntities } from "../../src/mime/index.js";
import { parseDaticert } from "../../src/daticert/index.js";
import { daticertFastReads, parseDaticertWithSaxes } from "../../src/daticert/parse.js";
import { parseParams, sanitizeFileName } from "../../src/mime/params.js";
import { safeFileName } from "../../src/cli/extract.js";
import { parsePem } from "../../src/smime/certificate.js";
import { readPec } from "../../src/pec/read.js";
import { latin1Bytes } from "../../src/util/bytes.js";
import { daticertWithAttributes, manyAttributes, rfc2231Segments } from "../support/adversarial.js";
import { code } from "../support/outcome.js";

const MB = 1024 * 1024;
const RATIO = 45;
const FLOOR_MS = 250;

/**
 * Best CPU time of this process in ms (user + system): linearity is about the work done, and
 * wall-clock ratios broke when other test files ran on the same cores during one size only.
 */
function time(f: () => void, repeat: number): number {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.cpuUsage();
    f();
    const d = process.cpuUsage(t0);
    best = Math.min(best, (d.user + d.system) / 1000);
  }
  return best;
}

/** Times `run(make(n))` and `run(make(10 n))` and checks the ratio. */
function linear(make: (n: number) => Uint8Array | string, run: (input: Uint8Array | string) => void, n: number): { small: number; big: number } {
  const a = make(n);
  const b = make(10 * n);
  run(a); // warm-up (JIT)
  // The same number of runs for both sizes: the best of 3 against the best of 2 favoured the
  // small size, and a CI run under load saw 30 → 1,110 ms (37×) for a case that measures 18–27×.
  const small = time(() => run(a), 3);
  const big = time(() => run(b), 3);
  if (big > FLOOR_MS) expect(big / Math.max(small, 1), `time(10n)=${big.toFixed(0)} ms, time(n)=${small.toFixed(0)} ms`).toBeLessThan(RATIO);
  return { small, big };
}

/** A message with one header whose value is `fill` repeated to `size` bytes. */
function headerMessage(name: string, fill: string, size: number, prefix = ""): Uint8Array {
  const v = fill.repeat(Math.ceil(size / fill.length)).slice(0, size);
  return latin1Bytes(`${name}: ${prefix}${v}\r\nSubject: x\r\n\r\nbody\r\n`);
}

/** Parses with a header limit above 10 MB and reads every computed header facet. */
function parseAll(input: Uint8Array | string): void {
  const root = parseMime(input as Uint8Array, { maxHeaderBytes: 32 * MB, maxParts: 1_000_000 });
  for (const e of walkEntities(root)) {
    for (const h of e.headers) void (h.value.length + h.decoded.length);
    void e.contentType.params;
    void e.disposition?.params;
    void e.filename;
  }
  void readPec(root).type;
}

describe("10 MB pathological headers parse in linear time", () => {
  const cases: [string, string, string, string?][] = [
    ["one line of 'a'", "X-Long", "a"],
    ["'=?utf-8?q?' repeated (unterminated encoded words)", "Subject", "=?utf-8?q?"],
    ["complete encoded words back to back", "Subject", "=?utf-8?q?=C3=A8?="],
    ["encoded words with bogus charsets", "Subject", "=?x-bogus-1?b?QUJD?= "],
    ["quotes and semicolons in Content-Type parameters", "Content-Type", '; a="\\";";', "text/plain"],
    ["unclosed quoted string in Content-Type", "Content-Type", '\\"a;', 'text/plain; name="'],
    ["RFC 2231 continuations in Content-Disposition", "Content-Disposition", "; filename*0*=utf-8''%C3%A8", "attachment"],
    ["tab folding", "X-Folded", "a\r\n\t"],
    ["space folding of empty lines", "X-Folded", "\r\n "],
    ["comments and angle brackets in From", "From", "(((<a@b>"],
    ["boundary parameter of 'a'", "Content-Type", "a", "multipart/mixed; boundary="],
  ];
  for (const [name, header, fill, prefix] of cases) {
    it(name, () => {
      linear((n) => headerMessage(header, fill, n, prefix ?? ""), parseAll, MB);
    }, 120_000);
  }

  it("default maxHeaderBytes refuses a 10 MB header with ERR_TOO_LARGE, fast", () => {
    const big = headerMessage("X-Long", "a", 10 * MB);
    const t0 = performance.now();
    try {
      parseMime(big);
      expect.unreachable();
    } catch (e) {
      expect(isPecError(e, "ERR_TOO_LARGE")).toBe(true);
    }
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("structure in linear time", () => {
  it("deep multipart nesting, up to the (raised) depth limit", () => {
    const nested = (depth: number): Uint8Array => {
      let head = "";
      let tail = "";
      for (let i = 0; i < depth; i++) {
        head += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
        tail += `\r\n--b${depth - 1 - i}--\r\n`;
      }
      return latin1Bytes(head + "Content-Type: text/plain\r\n\r\nx" + tail);
    };
    // Each level's delimiter search covers all deeper levels: O(depth × size) by nature,
    // so no ratio here: 3,000 levels (100 times the default limit) must stay well under
    // 10 s, and 100,000 levels with the default limit (32) must stop early with ERR_TOO_DEEP.
    const run = (depth: number) => () => parseMime(nested(depth), { maxDepth: depth });
    const t = time(run(3000), 1);
    expect(t).toBeLessThan(10_000);
    const t0 = performance.now();
    try {
      parseMime(nested(100_000));
    } catch (e) {
      expect(isPecError(e, "ERR_TOO_DEEP")).toBe(true);
    }
    expect(performance.now() - t0).toBeLessThan(2000);
  }, 60_000);

  it("many sibling parts, up to the (raised) parts limit", () => {
    const many = (n: number): Uint8Array => latin1Bytes("Content-Type: multipart/mixed; boundary=p\r\n\r\n" + "--p\r\nContent-Type: text/plain\r\n\r\nx\r\n".repeat(n) + "--p--\r\n");
    linear((n) => many(n), (b) => parseAll(b), 20_000);
  }, 60_000);

  it("a daticert with 100k elements", () => {
    const daticert = (n: number): string =>
      '<?xml version="1.0" encoding="UTF-8"?><postacert tipo="posta-certificata" errore="nessuno"><intestazione><mittente>a@pec.alfa.test</mittente>' +
      '<destinatari tipo="certificato">b@pec.beta.test</destinatari>'.repeat(n) +
      "<risposte>a@pec.alfa.test</risposte><oggetto>x</oggetto></intestazione><dati><gestore-emittente>G</gestore-emittente>" +
      '<data zona="+0200"><giorno>02/05/2025</giorno><ora>10:00:00</ora></data><identificativo>id@x</identificativo><msgid>&lt;m@x&gt;</msgid></dati></postacert>';
    const { big } = linear(daticert, (s) => void parseDaticert(s, { maxSize: 64 * MB }), 10_000);
    expect(big).toBeLessThan(30_000);
  }, 120_000);
});

// Loops that were quadratic in a count under the default size limits (80,000 of each took
// 5–17 s): the fast daticert reader's duplicate-attribute check, and RFC 2231 segments of one
// parameter looked up one by one. 8,000 and 80,000 items, both under the 1 MiB limits; the
// results themselves are checked in quadratic.test.ts (Node and Chromium).
describe("many items of one element or parameter, at the default limits", () => {
  const N = 8_000;
  /** At 10 N linear code takes well under 1 s here, quadratic code 5–17 s. */
  const BOUND_MS = 4_000;
  const distinct = (n: number): Uint8Array => daticertWithAttributes(manyAttributes(n));
  const segments = rfc2231Segments;
  const ascending = (n: number): string => segments(Array.from({ length: n }, (_, i) => i));
  const bounded = (r: { big: number }): void => expect(r.big).toBeLessThan(BOUND_MS);

  it("distinct attributes, read by the fast reader", () => {
    const before = daticertFastReads();
    bounded(linear(distinct, (xml) => void parseDaticert(xml), N));
    // What is timed is the fast reader's own check: saxes did not read them.
    expect(daticertFastReads() - before).toBeGreaterThan(0);
  }, 120_000);

  it("a duplicate after them, handed over to saxes; and saxes alone", () => {
    const dup = (n: number): Uint8Array => daticertWithAttributes(manyAttributes(n) + ' a0="x"');
    bounded(linear(dup, (xml) => void code(() => parseDaticert(xml as Uint8Array)), N));
    bounded(linear(distinct, (xml) => void parseDaticertWithSaxes(xml as Uint8Array), N));
  }, 120_000);

  it("RFC 2231 segments in order, in reverse order, or all one index", () => {
    const descending = (n: number): string => segments(Array.from({ length: n }, (_, i) => n - 1 - i));
    const same = (n: number): string => segments(Array.from({ length: n }, () => 0));
    for (const make of [ascending, descending, same]) bounded(linear(make, (h) => void parseParams(h as string), N));
    const message = (n: number): Uint8Array => latin1Bytes(`From: a@b.it\r\nContent-Type: ${ascending(n)}\r\n\r\nbody\r\n`);
    bounded(linear(message, (m) => void parseMime(m as Uint8Array).contentType.params, N));
  }, 120_000);
});

// Regular expressions that V8 runs in quadratic time on one long run (found by fuzzing: 80,000
// characters took 4–17 s, a 1 MiB header would take minutes): /\([^)]*\)/g on a Date of "(",
// /<[^>]*>/g on an HTML body of "<", /["\s]+$/ on a "Per conto di" name with a run of spaces
// inside, / +$/ and /[.\s]+$/ on file names, the PEM expression on BEGIN lines without END.
// Replaced by scans by index; what they give is checked here and in text.test.ts.
describe("text clean-ups in linear time", () => {
  const N = 20_000;
  const message = (head: string, body = "x"): Uint8Array => latin1Bytes(`${head}\r\n\r\n${body}\r\n`);

  it("a Date of unclosed comments", () => {
    const make = (n: number): Uint8Array => message(`From: a@b.it\r\nDate: ${"(".repeat(n)}`);
    linear(make, (b) => expect(readPec(b as Uint8Array).date).toBeUndefined(), N);
    expect(readPec(message("From: a@b.it\r\nDate: (lun) Mon, 2 Jun 2025 (x) 10:00:00 +0200 (CEST)")).date?.toISOString()).toBe("2025-06-02T08:00:00.000Z");
  }, 60_000);

  it("an HTML-only timeout notice or anomalia of unclosed tags", () => {
    const notice = (n: number): Uint8Array =>
      message("From: posta-certificata@pec.x.it\r\nTo: a@b.it\r\nX-Ricevuta: preavviso-errore-consegna\r\nSubject: AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: x\r\nContent-Type: text/html", `<p>entro 12 ore</p>${"<".repeat(n)}`);
    linear(notice, (b) => expect(readPec(b as Uint8Array).timeout).toBe("preavviso"), N);
    const anomalia = (n: number): Uint8Array =>
      message("From: posta-certificata@pec.x.it\r\nTo: a@b.it\r\nX-Trasporto: errore\r\nSubject: ANOMALIA MESSAGGIO: x\r\nContent-Type: text/html", `<b>per il seguente errore: firma</b>\r\n${"<".repeat(n)}`);
    linear(anomalia, (b) => expect(readPec(b as Uint8Array).anomaliaReason).toBe("firma"), N);
  }, 60_000);

  it("a \"Per conto di\" name with a long run of spaces inside", () => {
    const make = (n: number): Uint8Array => message(`From: "Per conto di: a@b.it${" ".repeat(n)}x" <posta-certificata@pec.x.it>\r\nX-Trasporto: posta-certificata\r\nSubject: POSTA CERTIFICATA: x`);
    linear(make, (b) => expect(readPec(b as Uint8Array).type).toBe("posta-certificata"), N);
  }, 60_000);

  it("an address without angle brackets, of words ending in dots", () => {
    // Words next to "." or "@" are one address: joined once, not as the group grows.
    const make = (n: number): Uint8Array => message(`From: ${"a. ".repeat(n)}x@y.it\r\nTo: b@c.it`);
    linear(make, (b) => expect(readPec(b as Uint8Array).from).toMatch(/^(a\.)+x@y\.it$/), N);
  }, 60_000);

  it("file names with a long run of spaces or dots inside", () => {
    linear((n) => `a${" ".repeat(n)}b `, (s) => expect(sanitizeFileName(s as string)).toMatch(/^a +b$/), N);
    linear((n) => `a${". ".repeat(n)}b.pdf. `, (s) => expect(safeFileName(s as string, "x")).toMatch(/^a[. ]+b\.pdf$|^a[. ]*\.pdf$/), N);
  }, 60_000);

  it("PEM text with BEGIN lines and no END, or many blocks on one line", () => {
    linear((n) => "-----BEGIN CERTIFICATE-----\n".repeat(n / 10), (s) => expect(parsePem(s as string)).toEqual([]), N);
    linear((n) => "-----BEGIN X-----AAAA-----END X-----".repeat(n / 10), (s) => expect(parsePem(s as string)).toHaveLength((s as string).length / 36), N);
  }, 60_000);
});
