// Shortcuts of the daticert layer that the parser tests do not compare on their own:
// the exact-DTD-shape reading of <data> (src/daticert/date.ts) and the memo of the XML
// declaration's encoding (src/daticert/decode.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { datiDataToEpochMs } from "../../src/daticert/date.js";
import { decodeXmlBytes } from "../../src/daticert/decode.js";
import { parseDaticert, parseDaticertAscii } from "../../src/daticert/parse.js";
import { isPecError } from "../../src/errors.js";
import type { DatiData } from "../../src/daticert/index.js";

/** datiDataToEpochMs as it was, with the three expressions only. */
function reference(data: DatiData, strict: boolean): number | undefined {
  const trim = (s: string): string => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
  const days = (y: number, m: number): number => (m === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31);
  let offsetMin: number;
  const z = strict ? data.zona : trim(data.zona);
  if (!strict && (z === "Z" || z === "z")) offsetMin = 0;
  else {
    const zm = (strict ? /^([+-])(\d{2})(\d{2})$/ : /^([+-])(\d{2})(?::?(\d{2}))?$/).exec(z);
    if (zm === null) return undefined;
    const zh = +zm[2]!;
    const zmin = zm[3] === undefined ? 0 : +zm[3];
    if (zh > 23 || zmin > 59) return undefined;
    offsetMin = (zh * 60 + zmin) * (zm[1] === "-" ? -1 : 1);
  }
  const gm = (strict ? /^(\d{2})\/(\d{2})\/(\d{4})$/ : /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/).exec(strict ? data.giorno : trim(data.giorno));
  if (gm === null) return undefined;
  const [d, m, y] = [+gm[1]!, +gm[2]!, +gm[3]!];
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > days(y, m)) return undefined;
  const om = (strict ? /^(\d{2}):(\d{2}):(\d{2})$/ : /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/).exec(strict ? data.ora : trim(data.ora));
  if (om === null) return undefined;
  const [h, mi, s] = [+om[1]!, +om[2]!, om[3] === undefined ? 0 : +om[3]];
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const utc = new Date(0);
  utc.setUTCFullYear(y, m - 1, d);
  utc.setUTCHours(h, mi, s, 0);
  return utc.getTime() - offsetMin * 60_000;
}

describe("datiDataToEpochMs: the exact DTD shapes", () => {
  // Mostly in range, so that most cases reach the arithmetic; sometimes anything.
  const num = (lo: number, hi: number): fc.Arbitrary<string> =>
    fc.oneof({ arbitrary: fc.integer({ min: lo, max: hi }), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 99 }), weight: 1 }).map((n) => String(n).padStart(2, "0"));
  const odd = fc.constantFrom("0", "a", "/", ":", " ", "\u0663", "+", "-");
  const chars = (n: number): fc.Arbitrary<string> => fc.array(fc.oneof(fc.integer({ min: 0, max: 9 }).map(String), odd), { minLength: n, maxLength: n }).map((a) => a.join(""));
  const shaped = <T>(a: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | string> => fc.oneof({ arbitrary: a, weight: 6 }, { arbitrary: chars(n), weight: 1 });
  const year = fc.oneof(fc.integer({ min: 1900, max: 2100 }), fc.integer({ min: 0, max: 9999 })).map((y) => String(y).padStart(4, "0"));
  const data = fc.record({
    zona: shaped(fc.tuple(fc.constantFrom("+", "-", "+", "-", "x"), num(0, 23), num(0, 59)).map(([s, h, m]) => s + h + m), 5),
    giorno: shaped(fc.tuple(num(1, 31), num(1, 12), year).map(([d, m, y]) => `${d}/${m}/${y}`), 10),
    ora: shaped(fc.tuple(num(0, 23), num(0, 59), num(0, 59)).map(([h, m, s]) => `${h}:${m}:${s}`), 8),
  });
  it("are read as the expressions read them, strict and lax", () => {
    fc.assert(
      fc.property(data, (d) => {
        for (const strict of [true, false]) expect(datiDataToEpochMs(d, strict)).toBe(reference(d, strict));
        // Padding takes the lax reading off the shortcut: the same instant.
        expect(datiDataToEpochMs({ zona: ` ${d.zona}`, giorno: d.giorno, ora: `${d.ora}\n` }, false)).toBe(datiDataToEpochMs(d, false));
      }),
      { seed: 11, numRuns: 4000 },
    );
    expect(datiDataToEpochMs({ zona: "+0100", giorno: "29/02/2024", ora: "23:59:59" }, true)).toBe(Date.UTC(2024, 1, 29, 22, 59, 59));
    expect(datiDataToEpochMs({ zona: "+0100", giorno: "29/02/2023", ora: "23:59:59" }, true)).toBeUndefined();
    expect(datiDataToEpochMs({ zona: "+0100", giorno: "01/01/0000", ora: "00:00:00" }, false)).toBeUndefined();
  });
});

describe("decodeXmlBytes: the remembered declaration", () => {
  const doc = (label: string, body: string): Uint8Array => {
    const s = `<?xml version="1.0" encoding="${label}"?><postacert>${body}</postacert>`;
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  };
  it("never gives one declaration's encoding to another", () => {
    // Same length, different labels; alternating, so each read follows a different declaration.
    const labels = ["ISO-8859-1", "ISO-8859-2", "ISO-8859-1", "iso-8859-7", "utf-8", "UTF-8", "latin1"];
    const expected = ["windows-1252", "iso-8859-2", "windows-1252", "iso-8859-7", "utf-8", "utf-8", "windows-1252"];
    for (let round = 0; round < 3; round++) {
      labels.forEach((label, i) => {
        const d = decodeXmlBytes(doc(label, "x"));
        expect(d.encoding).toBe(expected[i]);
      });
    }
    // A declaration that does not end the usual way is read each time.
    const odd = Uint8Array.from('<?xml version="1.0" encoding="ISO-8859-2" ><a/>', (c) => c.charCodeAt(0));
    expect(decodeXmlBytes(odd).encoding).toBe("iso-8859-2");
    expect(decodeXmlBytes(doc("ISO-8859-2", "")).encoding).toBe("iso-8859-2");
  });
});

describe("parseDaticertAscii: ASCII bytes with their text", () => {
  const outcome = (f: () => unknown): unknown => {
    try {
      return { ok: JSON.stringify(f()) };
    } catch (e) {
      if (!isPecError(e)) throw e;
      return { code: e.code, message: e.message, details: JSON.stringify(e.details) };
    }
  };
  // Not ISO-2022-JP: Chromium's decoder (cached in decode.ts) keeps its state from one
  // document to the next, so two reads of the same bytes can differ there, with either reader.
  const label = fc.constantFrom("", "UTF-8", "utf8", "ISO-8859-1", "us-ascii", "windows-1252", "iso-8859-2", "koi8-r", "utf-16", "x-bogus", "shift_jis");
  const body = fc.constantFrom(
    '<postacert tipo="accettazione"><intestazione><mittente>a@b</mittente><destinatari>c@d</destinatari><risposte/></intestazione><dati><gestore-emittente>G</gestore-emittente><data zona="+0100"><giorno>01/02/2024</giorno><ora>10:00:00</ora></data><identificativo>i</identificativo></dati></postacert>',
    '<postacert tipo="accettazione">\x1b$B<\n</postacert>',
    "<\n/postacert>",
    "<postacert/>",
    "",
  );
  const ascii = fc.tuple(label, body, fc.constantFrom("", "\u0000", "<\u0000?\u0000", "\u0000<\u0000?", " \r\n")).map(([l, b, prefix]) => prefix + (l === "" ? "" : `<?xml version="1.0" encoding="${l}"?>`) + b);
  it("reads as parseDaticert reads the bytes", () => {
    fc.assert(
      fc.property(ascii, (text) => {
        const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
        expect(outcome(() => parseDaticertAscii(bytes, text))).toEqual(outcome(() => parseDaticert(bytes)));
      }),
      { seed: 12, numRuns: 1000 },
    );
  });
});
