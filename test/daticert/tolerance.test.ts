// The parser reads what real gestori write: encodings, BOMs, forbidden characters,
// empty or missing elements, odd white space, unknown elements.
import { describe, expect, it } from "vitest";
import { isDaticertErrore, parseDaticert } from "../../src/daticert/index.js";
import { doc, enc, latin1Bytes } from "./helpers.js";

const SUBJECT = "Perché è così caro? Più o meno, sì";

describe("encodings", () => {
  it("reads ISO-8859-1 bytes with a non-ASCII subject", () => {
    const bytes = latin1Bytes(doc(`<oggetto>${SUBJECT}</oggetto>`, '<?xml version="1.0" encoding="ISO-8859-1"?>\n'));
    const d = parseDaticert(bytes);
    expect(d.intestazione.oggetto).toBe(SUBJECT);
    expect(d.encoding).toBe("windows-1252");
    expect(d.warnings).toEqual([]);
  });

  it("accepts the label in any case and spelling", () => {
    for (const label of ["iso-8859-1", "Iso-8859-1", "latin1", "ISO_8859-1", "windows-1252", "US-ASCII"]) {
      const d = parseDaticert(latin1Bytes(doc(`<oggetto>${SUBJECT}</oggetto>`, `<?xml version="1.0" encoding="${label}"?>`)));
      expect(d.intestazione.oggetto, label).toBe(SUBJECT);
    }
    for (const label of ["utf-8", "UTF-8", "Utf8", " utf-8 "]) {
      const d = parseDaticert(enc(doc(`<oggetto>${SUBJECT}</oggetto>`, `<?xml version='1.0' encoding='${label}'?>`)));
      expect(d.intestazione.oggetto, label).toBe(SUBJECT);
      expect(d.warnings).toEqual([]);
    }
  });

  it("reads ISO-8859-1 as windows-1252 (0x80-0x9F), the same in every engine", () => {
    const bytes = latin1Bytes(doc("<oggetto>X</oggetto>", '<?xml version="1.0" encoding="iso-8859-1"?>'));
    const at = bytes.indexOf(0x58); // the X
    const patched = new Uint8Array([...bytes.subarray(0, at), 0x80, 0x20, 0x92, 0x96, ...bytes.subarray(at + 1)]);
    expect(parseDaticert(patched).intestazione.oggetto).toBe("\u20AC \u2019\u2013");
  });

  it("uses other encodings TextDecoder knows", () => {
    const bytes = latin1Bytes(doc("<oggetto>\xA4 10</oggetto>", '<?xml version="1.0" encoding="ISO-8859-15"?>'));
    const d = parseDaticert(bytes);
    expect(d.intestazione.oggetto).toBe("\u20AC 10");
    expect(d.encoding).toBe("iso-8859-15");
  });

  it("reads UTF-8 without declaration", () => {
    const d = parseDaticert(enc(doc(`<oggetto>${SUBJECT}</oggetto>`, "")));
    expect(d.intestazione.oggetto).toBe(SUBJECT);
    expect(d.encoding).toBe("utf-8");
    expect(d.warnings).toEqual([]);
  });

  it("falls back to windows-1252 when undeclared bytes are not UTF-8", () => {
    const d = parseDaticert(latin1Bytes(doc(`<oggetto>${SUBJECT}</oggetto>`, "")));
    expect(d.intestazione.oggetto).toBe(SUBJECT);
    expect(d.encoding).toBe("windows-1252");
    expect(d.warnings.map((w) => w.code)).toEqual(["ENCODING_FALLBACK"]);
  });

  it("falls back when the declaration says UTF-8 but the bytes are ISO-8859-1", () => {
    const d = parseDaticert(latin1Bytes(doc(`<oggetto>${SUBJECT}</oggetto>`)));
    expect(d.intestazione.oggetto).toBe(SUBJECT);
    expect(d.warnings.map((w) => w.code)).toEqual(["ENCODING_FALLBACK"]);
  });

  it("ignores an unknown or impossible declared encoding", () => {
    for (const label of ["klingon-1", "utf-16", ""]) {
      const d = parseDaticert(enc(doc(`<oggetto>${SUBJECT}</oggetto>`, `<?xml version="1.0" encoding="${label}"?>`)));
      expect(d.intestazione.oggetto, label).toBe(SUBJECT);
      expect(d.encoding).toBe("utf-8");
      expect(d.warnings.map((w) => w.code)).toEqual(["ENCODING_UNKNOWN"]);
    }
    const l = parseDaticert(latin1Bytes(doc(`<oggetto>${SUBJECT}</oggetto>`, '<?xml version="1.0" encoding="klingon-1"?>')));
    expect(l.intestazione.oggetto).toBe(SUBJECT);
    expect(l.encoding).toBe("windows-1252");
  });

  it("tolerates a declaration saxes would reject, and white space before it", () => {
    for (const decl of [
      '<?xml version="1.0" encoding=utf-8?>',
      '<?xml version="1.1" encoding="UTF-8" standalone="maybe"?>',
      '\n  <?xml version="1.0" encoding="UTF-8"?>',
      '<?xml encoding="UTF-8" version="1.0"?>',
    ]) {
      expect(parseDaticert(enc(doc(undefined, decl))).tipo, decl).toBe("accettazione");
    }
  });

  it("skips a UTF-8 BOM, and reads UTF-16 with or without BOM", () => {
    const text = doc(`<oggetto>${SUBJECT} €</oggetto>`, '<?xml version="1.0" encoding="UTF-8"?>');
    const d8 = parseDaticert(new Uint8Array([0xef, 0xbb, 0xbf, ...enc(text)]));
    expect(d8.intestazione.oggetto).toBe(`${SUBJECT} €`);
    expect(d8.warnings).toEqual([]);
    const u16 = doc(`<oggetto>${SUBJECT} €</oggetto>`, '<?xml version="1.0" encoding="UTF-16"?>');
    const le = new Uint8Array(u16.length * 2);
    const be = new Uint8Array(u16.length * 2);
    for (let i = 0; i < u16.length; i++) {
      const c = u16.charCodeAt(i);
      le[2 * i] = c & 255;
      le[2 * i + 1] = c >> 8;
      be[2 * i] = c >> 8;
      be[2 * i + 1] = c & 255;
    }
    for (const [bytes, name] of [
      [new Uint8Array([0xff, 0xfe, ...le]), "utf-16le"],
      [new Uint8Array([0xfe, 0xff, ...be]), "utf-16be"],
      [le, "utf-16le"],
      [be, "utf-16be"],
    ] as const) {
      const d = parseDaticert(bytes);
      expect(d.intestazione.oggetto).toBe(`${SUBJECT} €`);
      expect(d.encoding).toBe(name);
    }
  });

  it("takes a string as is, BOM included", () => {
    const d = parseDaticert("\uFEFF" + doc(`<oggetto>${SUBJECT}</oggetto>`));
    expect(d.intestazione.oggetto).toBe(SUBJECT);
    expect(d.encoding).toBeUndefined();
  });
});

describe("characters XML 1.0 forbids", () => {
  it("removes a raw 0x16 and says where it was", () => {
    const d = parseDaticert(enc(doc("<oggetto>29.06.2018 \x16 EASY</oggetto>")));
    expect(d.intestazione.oggetto).toBe("29.06.2018  EASY");
    expect(d.warnings).toEqual([
      { code: "ILLEGAL_CHARACTER", message: expect.stringContaining("removed"), count: 1, line: 7, column: 25 },
    ]);
  });

  it("removes every C0 control but TAB, LF and CR, and counts them", () => {
    let all = "";
    for (let c = 0; c < 32; c++) all += String.fromCharCode(c);
    const d = parseDaticert(doc(`<oggetto>a${all}b</oggetto>`));
    expect(d.intestazione.oggetto).toBe("a\t\n\nb");
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]!.count).toBe(29);
  });

  it("neutralises &#18; and &#x12; (and other forbidden references), keeps allowed ones", () => {
    const d = parseDaticert(enc(doc("<oggetto>dell&#18;art &#x12;&#X0; &#0; &#xFFFE; &#233;&#x20AC;&#9;x</oggetto>")));
    expect(d.intestazione.oggetto).toBe("dellart    é€\tx");
    const w = d.warnings.find((x) => x.code === "ILLEGAL_CHARACTER_REFERENCE")!;
    expect(w.count).toBe(5);
    expect([w.line, w.column]).toEqual([7, 18]);
  });

  it("replaces instead of removing with options.replacement", () => {
    const text = doc("<oggetto>dell&#18;art \x16 x</oggetto>");
    expect(parseDaticert(text, { replacement: " " }).intestazione.oggetto).toBe("dell art   x");
    expect(parseDaticert(text, { replacement: "\uFFFD" }).intestazione.oggetto).toBe("dell\uFFFDart \uFFFD x");
  });

  it("replaces lone surrogates, U+FFFE and U+FFFF of a string input, keeps pairs", () => {
    const d = parseDaticert(doc("<oggetto>a\uD800b\uDC00c\uFFFEd\uFFFFe😀</oggetto>"), { replacement: "?" });
    expect(d.intestazione.oggetto).toBe("a?b?c?d?e😀");
    expect(d.warnings[0]!.count).toBe(4);
  });

  it("accepts &#X…; (upper-case X) as &#x…;", () => {
    expect(parseDaticert(doc("<oggetto>&#X41;&#X1f;B</oggetto>")).intestazione.oggetto).toBe("AB");
  });

  it("sanitises attribute values too", () => {
    const d = parseDaticert(doc().replace('tipo="accettazione"', 'tipo="accettazione&#1;"'));
    expect(d.tipo).toBe("accettazione");
  });
});

describe("elements and white space", () => {
  it("reads empty <risposte></risposte> and <oggetto/> as empty strings", () => {
    const d = parseDaticert(doc("<oggetto/>").replace("<risposte>a@pec.example</risposte>", "<risposte></risposte>"));
    expect(d.intestazione.risposte).toBe("");
    expect(d.intestazione.oggetto).toBe("");
    expect(d.warnings).toEqual([]);
  });

  it("accepts missing optional elements (and a missing risposte, with a warning)", () => {
    const text = doc("").replace("<msgid>&lt;m1@client&gt;</msgid>", "").replace("<risposte>a@pec.example</risposte>", "");
    const d = parseDaticert(text);
    expect("oggetto" in d.intestazione).toBe(false);
    expect("msgid" in d.dati).toBe(false);
    expect("ricevuta" in d.dati).toBe(false);
    expect(d.dati.ricezione).toEqual([]);
    expect(d.intestazione.risposte).toBe("");
    expect(d.warnings.map((w) => w.code)).toEqual(["MISSING_ELEMENT"]);
  });

  it("reads <ricevuta .../> and <ricevuta ...></ricevuta>", () => {
    for (const r of ['<ricevuta tipo="completa"/>', '<ricevuta tipo="completa" />', '<ricevuta tipo="completa"></ricevuta>', "<ricevuta tipo=' COMPLETA '>\n</ricevuta>"]) {
      const d = parseDaticert(doc().replace("</dati>", r + "</dati>"));
      expect(d.dati.ricevuta, r).toBe("completa");
      expect(d.warnings).toEqual([]);
    }
    const d = parseDaticert(doc().replace("</dati>", '<ricevuta tipo="lunga"/></dati>'));
    expect("ricevuta" in d.dati).toBe(false);
    expect(d.warnings.map((w) => w.code)).toEqual(["UNKNOWN_VALUE"]);
  });

  it("trims XML white space but keeps other spaces", () => {
    const d = parseDaticert(doc("<oggetto>\n\t  \u00A0Prova\u00A0 \r\n </oggetto>").replace("<mittente>a@pec.example</mittente>", "<mittente>\n   a@pec.example   \n</mittente>"));
    expect(d.intestazione.mittente).toBe("a@pec.example");
    expect(d.intestazione.oggetto).toBe("\u00A0Prova\u00A0");
  });

  it("reads CRLF documents without CR in the values", () => {
    const d = parseDaticert(enc(doc("<oggetto>riga 1\nriga 2</oggetto>").replace(/\n/g, "\r\n")));
    expect(d.intestazione.oggetto).toBe("riga 1\nriga 2");
    expect(d.dati.msgid).toBe("<m1@client>");
    expect(d.warnings).toEqual([]);
  });

  it("compares tipo and errore case-insensitively after trimming", () => {
    const d = parseDaticert(doc().replace('tipo="accettazione" errore="nessuno"', 'tipo=" Accettazione " errore="NO-DEST"'));
    expect(d.tipo).toBe("accettazione");
    expect(d.errore).toBe("no-dest");
  });

  it("defaults errore to nessuno and destinatari tipo to certificato", () => {
    const d = parseDaticert(doc().replace(' errore="nessuno"', "").replace(' tipo="certificato"', ""));
    expect(d.errore).toBe("nessuno");
    expect(d.intestazione.destinatari).toEqual([{ address: "b@pec.example", tipo: "certificato" }]);
    expect(d.warnings).toEqual([]);
  });

  it("keeps an unknown errore raw, and reads an unknown destinatari tipo as certificato", () => {
    const d = parseDaticert(doc().replace('errore="nessuno"', 'errore=" Timeout "').replace('tipo="certificato"', 'tipo="pec"'));
    expect(d.errore).toBe("Timeout");
    expect(isDaticertErrore(d.errore)).toBe(false);
    expect(d.intestazione.destinatari[0]!.tipo).toBe("certificato");
    expect(d.warnings.map((w) => w.code)).toEqual(["UNKNOWN_VALUE", "UNKNOWN_VALUE"]);
  });

  it("ignores unknown elements and attributes anywhere, comments, PIs and CDATA wrappers", () => {
    const text = doc("<oggetto x='1'>A <![CDATA[<b> & c]]><!-- note --><i>ignored</i> d</oggetto>")
      .replace("<intestazione>", '<extra a="1"><mittente>evil@x</mittente></extra><intestazione foo="bar">')
      .replace("<dati>", "<dati><?pi x?><nota>x</nota>")
      .replace("</postacert>", "<firma/></postacert>");
    const d = parseDaticert(text);
    expect(d.intestazione.mittente).toBe("a@pec.example");
    expect(d.intestazione.oggetto).toBe("A <b> & c d");
    expect(d.warnings.map((w) => `${w.code}:${w.count}`).sort()).toEqual(
      ["UNKNOWN_ELEMENT:1", "UNKNOWN_ELEMENT:1", "UNKNOWN_ELEMENT:1", "UNKNOWN_ELEMENT:1"].sort(),
    );
  });

  it("keeps the first of duplicated single elements", () => {
    const d = parseDaticert(doc().replace("<mittente>a@pec.example</mittente>", "<mittente>a@pec.example</mittente><mittente>z@x</mittente>"));
    expect(d.intestazione.mittente).toBe("a@pec.example");
    expect(d.warnings.map((w) => w.code)).toEqual(["DUPLICATE_ELEMENT"]);
  });

  it("does not enforce the DTD element order", () => {
    const d = parseDaticert(
      '<postacert tipo="presa-in-carico"><dati><ricezione>r1</ricezione><identificativo>i</identificativo>' +
        '<data zona="+0200"><ora>01:02:03</ora><giorno>01/07/2024</giorno></data><ricezione>r2</ricezione>' +
        "<gestore-emittente>G</gestore-emittente></dati><intestazione><destinatari>d</destinatari><mittente>m</mittente>" +
        "<risposte/></intestazione></postacert>",
    );
    expect(d.dati.ricezione).toEqual(["r1", "r2"]);
    expect(d.dati.data).toEqual({ zona: "+0200", giorno: "01/07/2024", ora: "01:02:03" });
    expect(d.warnings).toEqual([]);
  });

  it("expands the predefined entities", () => {
    const d = parseDaticert(doc("<oggetto>&lt;&gt;&amp;&quot;&apos;</oggetto>"));
    expect(d.intestazione.oggetto).toBe("<>&\"'");
  });
});
