// Bad input gives ERR_DATICERT_MALFORMED with a position, and nothing but PecError.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readBytes } from "#files";
import { parseDaticert } from "../../src/daticert/index.js";
import { PecError } from "../../src/errors.js";
import { catchPec, doc, enc } from "./helpers.js";

const BODY = doc(undefined, "");

function malformed(input: string | Uint8Array): PecError {
  const e = catchPec(() => parseDaticert(input));
  expect(e.code).toBe("ERR_DATICERT_MALFORMED");
  expect(e.details.line).toBeGreaterThanOrEqual(1);
  expect(e.details.column).toBeGreaterThanOrEqual(1);
  expect(e.details.offset).toBeGreaterThanOrEqual(0);
  return e;
}

describe("malformed documents", () => {
  it("refuses what is not XML", () => {
    for (const s of ["", "   ", "hello", "<", "<postacert", "{\"tipo\":1}", "\x00\x01\x02"]) malformed(s);
    malformed(new Uint8Array(0));
    malformed(new Uint8Array([0xff, 0x00, 0x12]));
  });

  it("refuses a root other than <postacert>", () => {
    const e = malformed('<?xml version="1.0"?>\n<ricevuta tipo="x"/>');
    expect(e.message).toContain("<ricevuta>");
    expect(e.details).toMatchObject({ line: 2 });
  });

  it("refuses a missing or unknown tipo", () => {
    expect(malformed(BODY.replace(' tipo="accettazione"', "")).message).toMatch(/no tipo/);
    expect(malformed(BODY.replace('tipo="accettazione"', 'tipo="consegna"')).message).toMatch(/unknown tipo/);
    expect(malformed(BODY.replace('tipo="accettazione"', 'tipo=""')).message).toMatch(/unknown tipo/);
  });

  const drop: [string, string, RegExp, number][] = [
    ["mittente", "<mittente>a@pec.example</mittente>", /no <mittente>/, 7],
    ["destinatari", '<destinatari tipo="certificato">b@pec.example</destinatari>', /no <destinatari>/, 7],
    ["gestore-emittente", "<gestore-emittente>Gestore S.p.A.</gestore-emittente>", /no <gestore-emittente>/, 13],
    ["data", '<data zona="+0100"><giorno>15/03/2024</giorno><ora>10:30:00</ora></data>', /no <data>/, 13],
    ["zona", ' zona="+0100"', /no zona/, 10],
    ["giorno", "<giorno>15/03/2024</giorno>", /no <giorno>/, 10],
    ["ora", "<ora>10:30:00</ora>", /no <ora>/, 10],
    ["identificativo", "<identificativo>id1@pec.example</identificativo>", /no <identificativo>/, 13],
  ];
  for (const [name, text, re, line] of drop) {
    it(`refuses a document without ${name}, at the end of its parent`, () => {
      const e = malformed(BODY.replace(text, ""));
      expect(e.message).toMatch(re);
      expect(e.details.line).toBe(line);
    });
  }

  it("refuses a document without intestazione or dati", () => {
    const noInt = BODY.replace(/<intestazione>[^]*<\/intestazione>/, "");
    expect(malformed(noInt).message).toMatch(/no <intestazione>/);
    const noDati = BODY.replace(/<dati>[^]*<\/dati>/, "");
    expect(malformed(noDati).message).toMatch(/no <dati>/);
  });

  it("gives the line and column of a syntax error", () => {
    const e = malformed(BODY.replace("</mittente>", "</mittentX>"));
    expect(e.details).toMatchObject({ line: 3, column: 38 });
    const u = malformed(BODY.replace("</postacert>\n", ""));
    expect(u.message).toMatch(/not well-formed/);
    expect(u.details.line).toBe(13);
  });

  it("reports byte offsets in the input, after multi-byte characters and BOM", () => {
    const text = BODY.replace("Prova", "Perché € 😀").replace("</risposte>", "</risposteX>");
    const e = malformed(new Uint8Array([0xef, 0xbb, 0xbf, ...enc(text)]));
    const idx = text.indexOf("</risposteX>") + "</risposteX".length;
    expect(e.details.offset).toBe(3 + enc(text.slice(0, idx)).length);
    expect(e.details.line).toBe(5);
  });

  it("reports positions in the original text when characters were removed before the error", () => {
    const text = BODY.replace("<oggetto>Prova</oggetto>", "<oggetto>\x01\x02&#1;Prova</oggetX>");
    const e = malformed(text);
    // Saxes stops on the ">" of the mismatched end tag.
    expect(e.details).toMatchObject({ line: 6, column: text.split("\n")[5]!.indexOf("</oggetX>") + 9, offset: text.indexOf("</oggetX>") + 8 });
  });

  it("refuses text or a second element after the root", () => {
    malformed(BODY + "trailing");
    malformed(BODY + BODY);
  });
});

describe("properties", () => {
  const onlyPecError = (input: string | Uint8Array): void => {
    try {
      parseDaticert(input);
    } catch (e) {
      if (!(e instanceof PecError)) throw e;
      expect(["ERR_DATICERT_MALFORMED", "ERR_TOO_LARGE", "ERR_TOO_DEEP"]).toContain(e.code);
    }
  };

  it("throws nothing but PecError on random strings and bytes", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 400 }), onlyPecError), { seed: 0x0dc1, numRuns: 300 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), onlyPecError), { seed: 0x0dc2, numRuns: 300 });
    const xmlish = fc.string({ unit: fc.constantFrom(..."<>/=\"'&#;![]-?x postacertipo".split(""), "<postacert", "</", "&#x1;", "<!DOCTYPE"), maxLength: 80 });
    fc.assert(fc.property(xmlish, onlyPecError), { seed: 0x0dc3, numRuns: 300 });
  });

  it("throws nothing but PecError on mutated valid documents", async () => {
    const base = await readBytes("fixtures/daticert/examples/f-avvenuta-consegna-completa.xml");
    const mutation = fc.record({
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      len: fc.integer({ min: 0, max: 40 }),
      kind: fc.constantFrom("delete", "insert", "replace", "duplicate", "flip"),
      payload: fc.uint8Array({ minLength: 1, maxLength: 12 }),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        let b = base;
        for (const m of ms) {
          const at = Math.floor(m.at * b.length);
          const end = Math.min(b.length, at + m.len);
          switch (m.kind) {
            case "delete":
              b = new Uint8Array([...b.subarray(0, at), ...b.subarray(end)]);
              break;
            case "insert":
              b = new Uint8Array([...b.subarray(0, at), ...m.payload, ...b.subarray(at)]);
              break;
            case "replace":
              b = new Uint8Array([...b.subarray(0, at), ...m.payload, ...b.subarray(end)]);
              break;
            case "duplicate":
              b = new Uint8Array([...b.subarray(0, end), ...b.subarray(at, end), ...b.subarray(end)]);
              break;
            case "flip":
              b = b.slice();
              if (at < b.length) b[at] = b[at]! ^ m.payload[0]!;
              break;
          }
        }
        onlyPecError(b);
      }),
      { seed: 0x0dc4, numRuns: 300 },
    );
  });
});

describe("hard-wrapped XML", () => {
  it("repairs a line break right after '<' or '</' and says so", () => {
    const wrapped = `<?xml version="1.0"?><postacert tipo="accettazione" errore="nessuno"><intestazione><mittente>a@b.it</mittente><destinatari tipo="certificato">c@d.it<\r\n/destinatari><risposte>a@b.it</risposte></intestazione><dati><gestore-emittente>G</gestore-emittente><data zona="+0100"><giorno>01/01/2025</giorno><ora>10:00:00</ora></data><\n  identificativo>id@g</identificativo></dati></postacert>`;
    for (const input of [wrapped, new TextEncoder().encode(wrapped)]) {
      const d = parseDaticert(input);
      expect(d.intestazione.destinatari[0]!.address).toBe("c@d.it");
      expect(d.dati.identificativo).toBe("id@g");
      expect(d.warnings.map((w) => w.code)).toContain("MARKUP_REPAIRED");
    }
  });

  it("still refuses XML the repair cannot save, with the original position", () => {
    const e = (() => {
      try {
        parseDaticert(`<postacert tipo="accettazione"><\n/intestazione>`);
      } catch (err) {
        return err as PecError;
      }
      throw new Error("no error");
    })();
    expect(e.code).toBe("ERR_DATICERT_MALFORMED");
    expect(e.details.line).toBe(1);
  });
});
