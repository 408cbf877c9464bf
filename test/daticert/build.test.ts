// The builder: exact output, escaping, validation, and build -> parse round trips.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readBytes } from "#files";
import {
  DATICERT_ERRORE,
  DATICERT_TIPO,
  RICEVUTA_TIPO,
  buildDaticert,
  buildDaticertBytes,
  parseDaticert,
  type Daticert,
} from "../../src/daticert/index.js";
import { ANNA, G_DEST, ONE, THREE, catchPec, model } from "./helpers.js";

const A = model("posta-certificata", "nessuno", THREE, { ricevuta: "completa" });

describe("buildDaticert output", () => {
  // The S-derived examples of spec §5.3 have the exact layout of real gestori.
  const exact: [string, Daticert][] = [
    ["a-posta-certificata", A],
    ["b-accettazione", model("accettazione", "nessuno", THREE, {})],
    ["f-avvenuta-consegna-completa", model("avvenuta-consegna", "nessuno", THREE, { gestoreEmittente: G_DEST, ora: "10:30:03", ricevuta: "completa", consegna: ANNA })],
    [
      "g-errore-consegna",
      model("errore-consegna", "no-dest", ONE, {
        gestoreEmittente: G_DEST,
        ora: "10:30:03",
        consegna: ANNA,
        erroreEsteso: "5.1.1 - Gestore Destinatario S.p.A. - indirizzo non valido",
      }),
    ],
  ];
  for (const [name, m] of exact) {
    it(`writes example ${name} byte for byte`, async () => {
      const expected = await readBytes(`fixtures/daticert/examples/${name}.xml`);
      expect(buildDaticertBytes(m)).toEqual(expected);
    });
  }

  it("escapes markup characters and writes msgid as &lt;…&gt;", () => {
    const m = model("accettazione", "nessuno", [{ address: `a&b<c>"d'@x`, tipo: "esterno" }], { msgid: "<x&y@z>" });
    m.intestazione.oggetto = `R&D <test> "quoted" 'single' ]]> fine`;
    const xml = buildDaticert(m);
    expect(xml).toContain("<msgid>&lt;x&amp;y@z&gt;</msgid>");
    expect(xml).toContain(`<oggetto>R&amp;D &lt;test&gt; &quot;quoted&quot; 'single' ]]&gt; fine</oggetto>`);
    expect(xml).toContain(`<destinatari tipo="esterno">a&amp;b&lt;c&gt;&quot;d'@x</destinatari>`);
    expect(parseDaticert(xml)).toMatchObject(m);
  });

  it("keeps CR, TAB and LF inside values", () => {
    const m = model("accettazione", "nessuno", ONE, {});
    m.intestazione.oggetto = "a\r\nb\tc\rd";
    const xml = buildDaticert(m);
    expect(xml).toContain("<oggetto>a&#13;\nb\tc&#13;d</oggetto>");
    expect(parseDaticert(xml).intestazione.oggetto).toBe("a\r\nb\tc\rd");
  });

  it("writes the default attributes when the model leaves them out", () => {
    const m = model("accettazione", "nessuno", ONE, {}) as unknown as Record<string, unknown>;
    delete m.errore;
    const int = m.intestazione as { destinatari: unknown[] };
    int.destinatari = [{ address: ANNA }];
    delete (m.dati as Record<string, unknown>).ricezione;
    const xml = buildDaticert(m as unknown as Daticert);
    expect(xml).toContain('<postacert tipo="accettazione" errore="nessuno">');
    expect(xml).toContain(`<destinatari tipo="certificato">${ANNA}</destinatari>`);
  });

  it("writes empty risposte and present-but-empty optional values", () => {
    const m = model("presa-in-carico", "nessuno", ONE, { msgid: "", consegna: "", erroreEsteso: "", ricezione: ["", "r@x"] });
    m.intestazione.risposte = "";
    m.intestazione.oggetto = "";
    const xml = buildDaticert(m);
    expect(xml).toContain("<risposte></risposte>");
    expect(parseDaticert(xml)).toStrictEqual({ ...m, warnings: [], encoding: undefined });
  });

  it("honours indent and newline options", () => {
    const xml = buildDaticert(A, { indent: "\t", newline: "\r\n" });
    expect(xml.split("\r\n")[2]).toBe("\t<intestazione>");
    expect(xml.replace(/\r\n/g, "").includes("\n")).toBe(false);
    expect(xml.endsWith("</postacert>\r\n")).toBe(true);
    expect(parseDaticert(xml)).toMatchObject(A);
    expect(buildDaticert(A, { indent: "" }).split("\n")[2]).toBe("<intestazione>");
  });

  it("writes UTF-8 bytes", () => {
    const m = model("accettazione", "nessuno", ONE, {});
    m.intestazione.oggetto = "Perché € 😀";
    expect(new TextDecoder().decode(buildDaticertBytes(m))).toBe(buildDaticert(m));
    expect(parseDaticert(buildDaticertBytes(m)).intestazione.oggetto).toBe("Perché € 😀");
  });
});

describe("buildDaticert validation", () => {
  const bad = (what: string, mutate: (m: Record<string, any>) => void, options?: Parameters<typeof buildDaticert>[1]): void => {
    it(`refuses ${what}`, () => {
      const m = structuredClone(A) as unknown as Record<string, any>;
      mutate(m);
      const e = catchPec(() => buildDaticert(m as Daticert, options));
      expect(e.code).toBe("ERR_INVALID_ARGUMENT");
    });
  };
  bad("a model that is not an object", (m) => Object.keys(m).forEach((k) => delete m[k]));
  bad("an unknown tipo", (m) => (m.tipo = "consegna"));
  bad("an unknown errore (as parsed raw)", (m) => (m.errore = "Timeout"));
  bad("a missing intestazione", (m) => delete m.intestazione);
  bad("a missing dati", (m) => (m.dati = null));
  bad("an empty mittente", (m) => (m.intestazione.mittente = ""));
  bad("a blank mittente", (m) => (m.intestazione.mittente = " \t\n"));
  bad("a non-string mittente", (m) => (m.intestazione.mittente = 42));
  bad("no destinatari", (m) => (m.intestazione.destinatari = []));
  bad("a destinatario without address", (m) => (m.intestazione.destinatari = [{ tipo: "esterno" }]));
  bad("a destinatario with an unknown tipo", (m) => (m.intestazione.destinatari[0].tipo = "pec"));
  bad("a missing risposte", (m) => delete m.intestazione.risposte);
  bad("a non-string oggetto", (m) => (m.intestazione.oggetto = 1));
  bad("an empty gestoreEmittente", (m) => (m.dati.gestoreEmittente = ""));
  bad("an empty identificativo", (m) => (m.dati.identificativo = ""));
  bad("a zona with a colon", (m) => (m.dati.data.zona = "+01:00"));
  bad("a zona out of range", (m) => (m.dati.data.zona = "+2500"));
  bad("an impossible giorno", (m) => (m.dati.data.giorno = "30/02/2024"));
  bad("a one-digit giorno", (m) => (m.dati.data.giorno = "1/03/2024"));
  bad("an impossible ora", (m) => (m.dati.data.ora = "24:00:00"));
  bad("an ora without seconds", (m) => (m.dati.data.ora = "10:30"));
  bad("a missing data", (m) => delete m.dati.data);
  bad("an unknown ricevuta", (m) => (m.dati.ricevuta = "lunga"));
  bad("a ricezione that is not an array", (m) => (m.dati.ricezione = "x"));
  bad("a non-string ricezione entry", (m) => (m.dati.ricezione = [1]));
  bad("a control character in oggetto", (m) => (m.intestazione.oggetto = "a\x16b"));
  bad("a lone surrogate in msgid", (m) => (m.dati.msgid = "<\uD800@x>"));
  bad("U+FFFF in erroreEsteso", (m) => (m.dati.erroreEsteso = "\uFFFF"));
  bad("a bad newline option", () => {}, { newline: "\r" as "\n" });
  bad("a bad indent option", () => {}, { indent: "--" });
  bad("a bad invalidCharacters option", () => {}, { invalidCharacters: "keep" as "drop" });

  it("drops characters XML cannot carry with invalidCharacters: drop", () => {
    const m = structuredClone(A);
    m.intestazione.oggetto = "dell\x12art \x16 \uD800x😀";
    const xml = buildDaticert(m, { invalidCharacters: "drop" });
    expect(parseDaticert(xml).intestazione.oggetto).toBe("dellart  x😀");
  });

  it("refuses a required field made only of forbidden characters, also when dropping them", () => {
    const m = structuredClone(A);
    m.intestazione.mittente = "\x01";
    expect(catchPec(() => buildDaticert(m)).code).toBe("ERR_INVALID_ARGUMENT");
    expect(catchPec(() => buildDaticert(m, { invalidCharacters: "drop" })).code).toBe("ERR_INVALID_ARGUMENT");
  });
});

describe("build -> parse round trip", () => {
  const XML_SPACE = /^[ \t\r\n]+|[ \t\r\n]+$/g;
  const chars = fc.constantFrom(
    ..."abcXYZ019 .,;:@-_/\\()[]{}!?+*=%$#~^|`".split(""),
    ..."&<>\"'".split(""),
    ..."àèéìòùÀÈ€£§°ñß".split(""),
    "\u00A0", "\u2019", "\u201C", "😀", "𝄞", "中", "\t", "\n", "\r", "]]>", "&amp;", "<!--", "?>",
  );
  // The parser trims XML white space, so values are generated trimmed.
  const text = fc.string({ unit: chars, maxLength: 30 }).map((s) => s.replace(XML_SPACE, ""));
  const nonBlank = text.filter((s) => s.length > 0);
  const two = (n: number): fc.Arbitrary<string> => fc.integer({ min: 0, max: n }).map((v) => String(v).padStart(2, "0"));
  const data = fc.record({
    zona: fc.tuple(fc.constantFrom("+", "-"), two(14), fc.constantFrom("00", "30", "45")).map(([s, h, m]) => s + h + m),
    giorno: fc.tuple(fc.integer({ min: 1, max: 28 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1900, max: 2100 })).map(
      ([d, m, y]) => `${String(d).padStart(2, "0")}/${String(m).padStart(2, "0")}/${y}`,
    ),
    ora: fc.tuple(two(23), two(59), two(59)).map((p) => p.join(":")),
  });
  const daticert: fc.Arbitrary<Daticert> = fc.record({
    tipo: fc.constantFrom(...DATICERT_TIPO),
    errore: fc.constantFrom(...DATICERT_ERRORE),
    intestazione: fc.record(
      {
        mittente: nonBlank,
        destinatari: fc.array(fc.record({ address: nonBlank, tipo: fc.constantFrom("certificato" as const, "esterno" as const) }), { minLength: 1, maxLength: 4 }),
        risposte: text,
        oggetto: text,
      },
      { requiredKeys: ["mittente", "destinatari", "risposte"], noNullPrototype: true },
    ),
    dati: fc.record(
      {
        gestoreEmittente: nonBlank,
        data,
        identificativo: nonBlank,
        msgid: text.map((s) => `<${s}>`),
        ricevuta: fc.constantFrom(...RICEVUTA_TIPO),
        consegna: text,
        ricezione: fc.array(text, { maxLength: 3 }),
        erroreEsteso: text,
      },
      { requiredKeys: ["gestoreEmittente", "data", "identificativo", "ricezione"], noNullPrototype: true },
    ),
  }).map((m) => JSON.parse(JSON.stringify(m)) as Daticert); // plain prototypes, for toStrictEqual

  it("parse(build(m)) gives m back, from the string and from the bytes", () => {
    fc.assert(
      fc.property(daticert, fc.constantFrom("\n" as const, "\r\n" as const), (m, newline) => {
        expect(parseDaticert(buildDaticert(m, { newline }))).toStrictEqual({ ...m, warnings: [], encoding: undefined });
        expect(parseDaticert(buildDaticertBytes(m))).toStrictEqual({ ...m, warnings: [], encoding: "utf-8" });
      }),
      { seed: 0x0dc5, numRuns: 300 },
    );
  });
});
