// Inputs under the default size limits that made a loop quadratic: a daticert.xml element with
// tens of thousands of attributes (the fast reader's duplicate check scanned the list per
// attribute: 80,000 took ~16 s) and a header with tens of thousands of RFC 2231 segments of
// one parameter (a lookup per segment: 80,000 took ~5 s). What they read as, in Node and
// Chromium; that they take linear time is checked with the process's CPU clock, in Node only,
// in linear.node.test.ts (a browser tab has no CPU clock, and wall-clock ratios break when
// other test files share the cores).
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
import { daticertWithAttributes, manyAttributes, rfc2231Segments } from "../support/adversarial.js";
import { code } from "../support/outcome.js";

/** 4 N items stay under the 1 MiB daticert and header limits (about 10 bytes each). */
const N = 20_000;

describe("daticert.xml: many attributes on one element", () => {
  const daticert = daticertWithAttributes;
  const distinct = manyAttributes;
  const check = (d: ParsedDaticert): void => {
    expect(d.tipo).toBe("accettazione");
    expect(d.errore).toBe("nessuno");
    expect(d.intestazione.destinatari).toEqual([{ address: "c@d.it", tipo: "certificato" }]);
    expect(d.dati.msgid).toBe("<m@x>");
    expect(d.warnings).toEqual([]);
  };

  it("distinct attributes are read, by the fast reader", () => {
    for (const n of [N, 4 * N]) {
      const xml = daticert(distinct(n));
      const before = daticertFastReads();
      const d = parseDaticert(xml);
      // The fast reader's own duplicate check is what is measured: saxes must not have read it.
      expect(daticertFastReads() - before).toBe(1);
      check(d);
      expect(d).toEqual(parseDaticertWithSaxes(xml));
    }
  }, 120_000);

  it("a duplicate after them is refused", () => {
    const dup = (n: number): Uint8Array => daticert(distinct(n) + ' a0="x"');
    for (const n of [N, 4 * N]) expect(code(() => parseDaticert(dup(n)))).toBe("ERR_DATICERT_MALFORMED");
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
  const segments = rfc2231Segments;
  const ascending = (n: number): string => segments(Array.from({ length: n }, (_, i) => i));
  const message = (value: string): Uint8Array => latin1Bytes(`From: a@b.it\r\nContent-Type: ${value}\r\n\r\nbody\r\n`);

  it("in order: joined", () => {
    for (const n of [N, 4 * N]) {
      const p = parseParams(ascending(n));
      expect(p.value).toBe("text/plain");
      expect(p.params["a"]).toBe("A".repeat(n));
      expect(parseMime(message(ascending(n))).contentType.params["a"]).toBe("A".repeat(n));
    }
  }, 120_000);

  it("in reverse order, or all the same index", () => {
    const descending = (n: number): string => segments(Array.from({ length: n }, (_, i) => n - 1 - i));
    const same = (n: number): string => segments(Array.from({ length: n }, () => 0));
    for (const n of [N, 4 * N]) {
      expect(parseParams(descending(n)).params["a"]).toBe("A".repeat(n));
      expect(parseParams(same(n)).params["a"]).toBe("A");
    }
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
