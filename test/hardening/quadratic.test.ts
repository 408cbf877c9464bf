// Inputs under the default size limits that made a loop quadratic: a daticert.xml element with
// tens of thousands of attributes (the fast reader's duplicate check scanned the list per
// attribute: 80,000 took ~16 s) and a header with tens of thousands of RFC 2231 segments of
// one parameter (a lookup per segment: 80,000 took ~5 s). Node and Chromium.
//
// Each case runs at n and 4 n. Linear code takes 4–9 times longer at 4 n (the small input
// stays in caches and the young generation), quadratic code 15–23 times (hence RATIO 12). Both sizes are timed as the best of the same number of runs (performance.now: this
// file runs in a browser too, where there is no CPU clock), and the check is a hang guard,
// not a benchmark: the 4 n run must stay under an absolute bound far above what linear code
// takes on a slow machine yet below what quadratic code takes, and when it is long enough for
// the timer to be trusted (FLOOR_MS), under RATIO times the n run.
import { describe, expect, it } from "vitest";
import {
  daticertFastReads,
  parseDaticert,
  parseDaticertWithoutCanonical,
  parseDaticertWithSaxes,
} from "../../src/daticert/parse.js";
import type { ParsedDaticert } from "../../src/daticert/index.js";
import { parseMime } from "../../src/mime/index.js";
import { parseParams } from "../../src/mime/params.js";
import { latin1Bytes } from "../../src/util/bytes.js";
import { code } from "../support/outcome.js";

const N = 20_000;
const RATIO = 12;
const FLOOR_MS = 250;
/** At 4 N linear code takes 20–100 ms here (350 ms in a slow run), quadratic code 3–20 s. */
const BOUND_MS = 4_000;

/** Best wall-clock time of `repeat` runs in ms; stops early once a run is over the bound (it fails anyway). */
function time(f: () => void, repeat: number): number {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    f();
    const t = performance.now() - t0;
    best = Math.min(best, t);
    if (t > BOUND_MS) break;
  }
  return best;
}

/** Times `run` on `make(N)` and `make(4 N)` and checks that the growth is linear. */
function linear<T>(make: (n: number) => T, run: (input: T) => void): void {
  const a = make(N);
  const b = make(4 * N);
  run(a); // warm-up (JIT)
  const small = time(() => run(a), 5);
  const big = time(() => run(b), 5);
  const what = `time(4n)=${big.toFixed(0)} ms, time(n)=${small.toFixed(0)} ms`;
  expect(big, what).toBeLessThan(BOUND_MS);
  if (big > FLOOR_MS) expect(big / Math.max(small, 1), what).toBeLessThan(RATIO);
}

/** The PecError code `f` throws, or undefined when it returns. */

describe("daticert.xml: many attributes on one element", () => {
  const daticert = (attributes: string): Uint8Array =>
    latin1Bytes(
      `<?xml version="1.0"?><postacert ${attributes} tipo="accettazione" errore="nessuno"><intestazione><mittente>a@b.it</mittente>` +
        '<destinatari tipo="certificato">c@d.it</destinatari><risposte>a@b.it</risposte><oggetto>x</oggetto></intestazione>' +
        '<dati><gestore-emittente>G</gestore-emittente><data zona="+0100"><giorno>01/01/2026</giorno><ora>10:00:00</ora></data>' +
        "<identificativo>x</identificativo><msgid>&lt;m@x&gt;</msgid></dati></postacert>",
    );
  /** `a0="" a1="" …`: about 10 bytes an attribute, so 4 N of them stay under the 1 MiB default limit. */
  const distinct = (n: number): string => Array.from({ length: n }, (_, i) => `a${i}=""`).join(" ");
  const check = (d: ParsedDaticert): void => {
    expect(d.tipo).toBe("accettazione");
    expect(d.errore).toBe("nessuno");
    expect(d.intestazione.destinatari).toEqual([{ address: "c@d.it", tipo: "certificato" }]);
    expect(d.dati.msgid).toBe("<m@x>");
    expect(d.warnings).toEqual([]);
  };

  it("distinct attributes are read, by the fast reader, in linear time", () => {
    for (const n of [N, 4 * N]) {
      const xml = daticert(distinct(n));
      const before = daticertFastReads();
      const d = parseDaticert(xml);
      // The fast reader's own duplicate check is what is measured: saxes must not have read it.
      expect(daticertFastReads() - before).toBe(1);
      check(d);
      expect(d).toEqual(parseDaticertWithSaxes(xml));
    }
    linear((n) => daticert(distinct(n)), (xml) => void parseDaticert(xml));
  }, 120_000);

  it("a duplicate after them is refused, and the hand-over to saxes stays linear", () => {
    const dup = (n: number): Uint8Array => daticert(distinct(n) + ' a0="x"');
    for (const n of [N, 4 * N]) expect(code(() => parseDaticert(dup(n)))).toBe("ERR_DATICERT_MALFORMED");
    linear(dup, (xml) => void code(() => parseDaticert(xml)));
  }, 120_000);

  it("the saxes reader alone is linear too", () => {
    linear((n) => daticert(distinct(n)), (xml) => void parseDaticertWithSaxes(xml));
  }, 120_000);

  it("a duplicate is found whatever the number of attributes before it", () => {
    // Around the switch from scanning the list to a set of names, and on a child element.
    for (let n = 1; n <= 24; n++) {
      for (const k of [0, n - 1, n >> 1]) {
        const xml = daticert(distinct(n) + ` a${k}="x"`);
        expect(code(() => parseDaticertWithoutCanonical(xml))).toBe("ERR_DATICERT_MALFORMED");
        expect(code(() => parseDaticert(xml))).toBe("ERR_DATICERT_MALFORMED");
      }
      const ok = daticert(distinct(n));
      check(parseDaticertWithoutCanonical(ok));
      const child = latin1Bytes(new TextDecoder().decode(ok).replace("<intestazione>", `<intestazione ${distinct(n)} a${n >> 1}="x">`));
      expect(code(() => parseDaticertWithoutCanonical(child))).toBe("ERR_DATICERT_MALFORMED");
    }
  });
});

describe("RFC 2231: many segments of one parameter", () => {
  /** `a*0=A;a*1=A;…`, in the given order of indices: about 10 bytes a segment (4 N stay under the 1 MiB header limit). */
  const segments = (indices: number[]): string => "text/plain; " + indices.map((i) => `a*${i}=A`).join(";");
  const ascending = (n: number): string => segments(Array.from({ length: n }, (_, i) => i));
  const message = (value: string): Uint8Array => latin1Bytes(`From: a@b.it\r\nContent-Type: ${value}\r\n\r\nbody\r\n`);

  it("in order: joined, in linear time", () => {
    for (const n of [N, 4 * N]) {
      const p = parseParams(ascending(n));
      expect(p.value).toBe("text/plain");
      expect(p.params["a"]).toBe("A".repeat(n));
      expect(parseMime(message(ascending(n))).contentType.params["a"]).toBe("A".repeat(n));
    }
    linear(ascending, (h) => void parseParams(h));
    linear((n) => message(ascending(n)), (m) => void parseMime(m).contentType.params);
  }, 120_000);

  it("in reverse order, or all the same index: linear too", () => {
    const descending = (n: number): string => segments(Array.from({ length: n }, (_, i) => n - 1 - i));
    const same = (n: number): string => segments(Array.from({ length: n }, () => 0));
    for (const n of [N, 4 * N]) {
      expect(parseParams(descending(n)).params["a"]).toBe("A".repeat(n));
      expect(parseParams(same(n)).params["a"]).toBe("A");
    }
    linear(descending, (h) => void parseParams(h));
    linear(same, (h) => void parseParams(h));
  }, 120_000);

  it("keeps its semantics: first of a repeated index wins, gaps close up, header order does not matter", () => {
    const a = (h: string): string | undefined => parseParams("x/y; " + h).params["a"];
    expect(a("a*1=B; a*0=A; a*1=C; a*0=D")).toBe("AB");
    expect(a("a*0=A; a*2=C; a*5=F")).toBe("ACF");
    expect(a("a*2=C; a*1=B; a*0=A")).toBe("ABC");
    // `a*` is segment 0 too; the charset is read from the first segment kept.
    expect(a("a*=x; a*0=y")).toBe("x");
    expect(a("a*0=y; a*=x")).toBe("y");
    expect(a("a*0*=utf-8''caf%C3%A8; a*0*=iso-8859-1''%E8; a*1=.pdf")).toBe("cafè.pdf");
    expect(a("a*1*=%C3%A8; a*0*=utf-8''caf")).toBe("cafè");
    // The RFC 2231 value replaces a plain one of the same name.
    expect(parseParams("x/y; b=1; b*0=2; b*1=3").params["b"]).toBe("23");
  });
});
