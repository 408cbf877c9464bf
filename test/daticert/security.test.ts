// No DTD processing: internal subsets and custom entities are refused, never expanded;
// nothing is fetched; sizes and depths are bounded.
import { describe, expect, it } from "vitest";
import { DATICERT_DEFAULT_MAX_SIZE, parseDaticert } from "../../src/daticert/index.js";
import { catchPec, doc, enc } from "./helpers.js";

const BODY = doc(undefined, "");
const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

describe("DTDs and entities", () => {
  it("refuses an internal subset declaring an entity", () => {
    const text = DECL + '<!DOCTYPE postacert [\n  <!ENTITY x "boom">\n]>\n' + BODY.replace("<oggetto>Prova", "<oggetto>&x;");
    const e = catchPec(() => parseDaticert(enc(text)));
    expect(e.code).toBe("ERR_DATICERT_MALFORMED");
    expect(e.message).toMatch(/internal subset/);
    expect(e.details).toMatchObject({ line: 2, column: 21, offset: 59 });
  });

  it("refuses external entities (XXE) and parameter entities", () => {
    for (const subset of [
      '<!ENTITY xxe SYSTEM "file:///etc/passwd">',
      '<!ENTITY xxe PUBLIC "-//x//y" "http://127.0.0.1:1/evil">',
      '<!ENTITY % pe SYSTEM "http://127.0.0.1:1/evil.dtd"> %pe;',
    ]) {
      const text = DECL + `<!DOCTYPE postacert [${subset}]>\n` + BODY.replace("<oggetto>Prova", "<oggetto>&xxe;");
      expect(catchPec(() => parseDaticert(text)).code, subset).toBe("ERR_DATICERT_MALFORMED");
    }
  });

  it("refuses an internal subset behind a quoted external id", () => {
    const text = DECL + `<!DOCTYPE postacert SYSTEM "a>b'" [<!ENTITY x "y">]>` + BODY;
    expect(catchPec(() => parseDaticert(text)).message).toMatch(/internal subset/);
  });

  it("refuses billion laughs fast, without expanding anything", () => {
    let subset = '<!ENTITY lol0 "lol">';
    for (let i = 1; i < 10; i++) subset += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const text = DECL + `<!DOCTYPE postacert [${subset}]>` + BODY.replace("<oggetto>Prova", "<oggetto>&lol9;");
    const t0 = performance.now();
    const e = catchPec(() => parseDaticert(text));
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(e.code).toBe("ERR_DATICERT_MALFORMED");
  });

  it("refuses a reference to an undeclared entity, naming it", () => {
    const e = catchPec(() => parseDaticert(BODY.replace("<oggetto>Prova", "<oggetto>Pro&foo;va")));
    expect(e.code).toBe("ERR_DATICERT_MALFORMED");
    expect(e.message).toContain("&foo;");
    expect(e.details).toMatchObject({ line: 6, column: 17, offset: 224 });
    // HTML entities are not XML's.
    expect(catchPec(() => parseDaticert(BODY.replace("Prova", "&egrave;"))).code).toBe("ERR_DATICERT_MALFORMED");
  });

  it("tolerates a <!DOCTYPE> without internal subset, and never loads it", () => {
    for (const dt of ["<!DOCTYPE postacert>", '<!DOCTYPE postacert SYSTEM "http://127.0.0.1:1/daticert.dtd">']) {
      const d = parseDaticert(DECL + dt + "\n" + BODY);
      expect(d.tipo).toBe("accettazione");
      expect(d.warnings.map((w) => `${w.code}@${w.line}`)).toEqual(["DOCTYPE_IGNORED@2"]);
    }
  });
});

describe("limits", () => {
  it("refuses input above maxSize (default 1 MiB) before reading it", () => {
    expect(DATICERT_DEFAULT_MAX_SIZE).toBe(1048576);
    const big = new Uint8Array(DATICERT_DEFAULT_MAX_SIZE + 1);
    const e = catchPec(() => parseDaticert(big));
    expect(e.code).toBe("ERR_TOO_LARGE");
    expect(e.details.limit).toBe(DATICERT_DEFAULT_MAX_SIZE);
    const s = catchPec(() => parseDaticert(BODY, { maxSize: 100 }));
    expect([s.code, s.details.limit]).toEqual(["ERR_TOO_LARGE", 100]);
    expect(parseDaticert(BODY, { maxSize: BODY.length }).tipo).toBe("accettazione");
  });

  it("admits a large legitimate document", () => {
    const many = Array.from({ length: 2000 }, (_, i) => `<destinatari tipo="esterno">u${i}@example.it</destinatari>`).join("\n");
    const d = parseDaticert(BODY.replace("<risposte>", many + "<risposte>"));
    expect(d.intestazione.destinatari).toHaveLength(2001);
  });

  it("refuses nesting deeper than maxDepth (default 64)", () => {
    const nest = (n: number): string => "<x>".repeat(n) + "</x>".repeat(n);
    // postacert > dati > 62 levels = 64: admitted; one more is not.
    expect(parseDaticert(BODY.replace("</dati>", nest(62) + "</dati>")).tipo).toBe("accettazione");
    const e = catchPec(() => parseDaticert(BODY.replace("</dati>", nest(63) + "</dati>")));
    expect([e.code, e.details.limit]).toEqual(["ERR_TOO_DEEP", 64]);
    expect(e.details.line).toBe(13);
    const f = catchPec(() => parseDaticert(BODY, { maxDepth: 2 }));
    expect([f.code, f.details.limit]).toEqual(["ERR_TOO_DEEP", 2]);
  });

  it("stops a 300,000-level nesting bomb quickly, without stack overflow", () => {
    const text = "<postacert tipo='accettazione'>" + "<a>".repeat(300_000);
    const t0 = performance.now();
    expect(catchPec(() => parseDaticert(text)).code).toBe("ERR_TOO_DEEP");
    // A hang guard, not a benchmark: linear work finishes in milliseconds.
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe("arguments", () => {
  it("refuses a bad input or replacement with ERR_INVALID_ARGUMENT", () => {
    expect(catchPec(() => parseDaticert(42 as unknown as string)).code).toBe("ERR_INVALID_ARGUMENT");
    expect(catchPec(() => parseDaticert(null as unknown as string)).code).toBe("ERR_INVALID_ARGUMENT");
    expect(catchPec(() => parseDaticert(BODY, { maxSize: NaN })).code).toBe("ERR_INVALID_ARGUMENT");
    expect(catchPec(() => parseDaticert(BODY, { maxDepth: 0 })).code).toBe("ERR_INVALID_ARGUMENT");
    for (const r of ["<", "&amp;", '"', "\x01"]) {
      expect(catchPec(() => parseDaticert(BODY, { replacement: r })).code, r).toBe("ERR_INVALID_ARGUMENT");
    }
  });
});
