// The shortcuts readPec takes for the common case (src/pec/read.ts, src/pec/address.ts)
// must give exactly what the general code gives. Each is compared with the general code
// (or with the code it replaced) on generated input, and the lazy properties keep their
// observable shape: own enumerable accessors in a fixed key order, computed on first read
// and kept, a throwing computation tried again on the next read.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeMsgId, parseAddressList, parseAddressListGeneral } from "../../src/pec/address.js";
import { SUBJECT_PREFIXES } from "../../src/pec/constants.js";
import { attachFields, parseDate, readDaticert, readPec, subjectPrefix } from "../../src/pec/read.js";
import { buildDaticert, parseDaticert } from "../../src/daticert/index.js";
import { outcome } from "../support/outcome.js";
import type { PecRecipient, ReadPec } from "../../src/pec/types.js";
import { parseMime, type MimeEntity } from "../../src/mime/index.js";
import { SCENARIO_NAMES, createScenarioPki, runScenario } from "../../src/simulator/index.js";

const RUNS = 1000;

/** Strings over `units`: the characters each shortcut looks at, plus some that only the general code handles. */
const textOf = (units: string[], maxLength = 40): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...units), maxLength });

describe("parseAddressList: the one-bare-address shortcut", () => {
  const units = ["a", "Z", "0", ".", "@", "-", "_", " ", "\t", "\r\n ", "\u00a0", "\ufeff", "\u2003", '"', "(", ")", "<", ">", ",", ";", ":", "\\", "m", "mailto:", "è"];
  it("gives what the general reader gives", () => {
    fc.assert(
      fc.property(textOf(units), (v) => {
        expect(parseAddressList(v)).toEqual(parseAddressListGeneral(v));
      }),
      { seed: 1, numRuns: RUNS * 4 },
    );
    for (const v of ["", " ", "a@b", " a@b ", "pct@pec. agenziariscossione.gov.it", "a\u00a0@b", "\u2028"]) expect(parseAddressList(v)).toEqual(parseAddressListGeneral(v));
  });
});

/** normalizeMsgId as it was written with regular expressions. */
function normalizeMsgIdReference(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const t = id.trim().replace(/^<+/, "").replace(/>+$/, "").trim();
  if (!t) return undefined;
  const at = t.lastIndexOf("@");
  return at < 0 ? t : t.slice(0, at) + "@" + t.slice(at + 1).toLowerCase();
}

describe("parseAddressList: groups", () => {
  it("a colon starts a group only where a semicolon ends one", () => {
    expect(parseAddressList("undisclosed-recipients:;")).toEqual([]);
    expect(parseAddressList("list: a@b.test, c@d.test;")).toEqual([{ address: "a@b.test" }, { address: "c@d.test" }]);
    // A display name decoded from an encoded word keeps its colon unquoted.
    expect(parseAddressList("Per conto di: josé@x.it <posta-certificata@pec.beta.test>")).toEqual([
      { name: "Per conto di: josé@x.it", address: "posta-certificata@pec.beta.test" },
    ]);
  });
});

describe("normalizeMsgId", () => {
  it("gives what the regular expressions gave", () => {
    const units = ["<", ">", " ", "\t", "\u00a0", "@", "a", "B", "É", "ß", "İ", ".", "x"];
    fc.assert(
      fc.property(textOf(units, 20), (v) => {
        expect(normalizeMsgId(v)).toBe(normalizeMsgIdReference(v));
      }),
      { seed: 2, numRuns: RUNS * 4 },
    );
    expect(normalizeMsgId(undefined)).toBeUndefined();
  });
});

/** parseDate as it was, cleaning every value. */
function parseDateReference(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const cleaned = value.replace(/\([^)]*\)/g, " ").replace(/\s+/g, " ").trim();
  const t = Date.parse(cleaned);
  return Number.isNaN(t) ? undefined : new Date(t);
}

describe("parseDate: the already-clean shortcut", () => {
  const date = fc
    .record({
      day: fc.constantFrom("", "Mon, ", "Tue,", "Xyz, "),
      d: fc.integer({ min: 0, max: 32 }),
      mon: fc.constantFrom("Jan", "Feb", "Nov", "nov", "Foo"),
      y: fc.constantFrom(1999, 2026, 49, 9999),
      time: fc.constantFrom("10:00:00", "23:59:59", "24:00", "1:2:3", "10:00"),
      zone: fc.constantFrom("+0100", "-0000", "GMT", "CET", "+01:00", "", "(CET)", "+0100 (CET)"),
      sep: fc.constantFrom(" ", "  ", "\t", " \u00a0"),
      pad: fc.constantFrom("", " ", "\r\n "),
    })
    .map(({ day, d, mon, y, time, zone, sep, pad }) => pad + [day + d, mon, y, time, zone].join(sep) + pad);
  it("gives what cleaning every value gave", () => {
    fc.assert(
      fc.property(fc.oneof(date, textOf(["1", "2", " ", "(", ")", "J", "a", "n", ":", "+", "\t"], 30)), (v) => {
        expect(parseDate(v)?.getTime()).toBe(parseDateReference(v)?.getTime());
      }),
      { seed: 3, numRuns: RUNS * 4 },
    );
    expect(parseDate(undefined)).toBeUndefined();
    expect(parseDate("")).toBeUndefined();
  });
});

describe("parseDate: the arithmetic for the usual layout", () => {
  const two = (n: number): string => String(n).padStart(2, "0");
  // Every field of `[Ddd, ]D[D] Mon YYYY HH:MM:SS ±HHMM` over its range and just past it.
  const date = fc
    .record({
      day: fc.constantFrom("", "Mon, ", "sun, ", "SAT, ", "Xyz, ", "Mon,", "Monday, "),
      d: fc.integer({ min: 0, max: 32 }),
      padDay: fc.boolean(),
      mon: fc.constantFrom("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "fEB", "Foo"),
      y: fc.oneof(fc.integer({ min: 1890, max: 2110 }), fc.constantFrom(1600, 2000, 2100, 2400, 9999, 99, 26)),
      h: fc.integer({ min: 0, max: 25 }),
      m: fc.integer({ min: 0, max: 61 }),
      s: fc.integer({ min: 0, max: 61 }),
      sign: fc.constantFrom("+", "-", "±"),
      zh: fc.integer({ min: 0, max: 25 }),
      zm: fc.integer({ min: 0, max: 61 }),
      tail: fc.constantFrom("", "", "", " ", " (CET)", "0"),
    })
    .map(
      ({ day, d, padDay, mon, y, h, m, s, sign, zh, zm, tail }) =>
        `${day}${padDay ? two(d) : d} ${mon} ${y} ${two(h)}:${two(m)}:${two(s)} ${sign}${two(zh)}${two(zm)}${tail}`,
    );
  it("gives what Date.parse gives, in range or not", () => {
    fc.assert(
      fc.property(date, (v) => {
        expect(parseDate(v)?.getTime()).toBe(parseDateReference(v)?.getTime());
      }),
      { seed: 11, numRuns: RUNS * 10 },
    );
    for (const v of ["29 Feb 2024 23:59:59 -2359", "29 Feb 2100 10:00:00 +0000", "29 Feb 2000 10:00:00 +0000", "31 Dec 9999 23:59:59 -2359", "1 Jan 1970 00:00:00 +0000"]) {
      expect(parseDate(v)?.getTime()).toBe(parseDateReference(v)?.getTime());
    }
    expect(parseDate("Mon, 23 Nov 2026 11:00:00 +0100")?.toISOString()).toBe("2026-11-23T10:00:00.000Z");
  });
});

/** subjectPrefix as it was: one expression per prefix, tried in turn. */
function subjectPrefixReference(subject: string | undefined): { type: string; virus: boolean; rest: string } | undefined {
  if (subject === undefined) return undefined;
  const s = subject.trimStart().replace(/^(?:\[[^\]]*\]\s*)+/, "");
  for (const [prefix, type, virus] of SUBJECT_PREFIXES) {
    const re = new RegExp("^" + prefix.split(" ").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+") + "\\s*:\\s?", "i");
    const hit = re.exec(s);
    if (hit) return { type, virus, rest: s.slice(hit[0].length) };
  }
  return undefined;
}

describe("subjectPrefix: one expression for every prefix", () => {
  const prefix = fc
    .record({
      p: fc.constantFrom(...SUBJECT_PREFIXES.map(([p]) => p), "AVVISO DI", "POSTA", "CONSEGNA MANCATA"),
      spaces: fc.constantFrom(" ", "  ", "\t", "\u00a0"),
      lower: fc.boolean(),
      colon: fc.constantFrom(":", " :", ": ", ":  ", ""),
      tags: fc.constantFrom("", "[list] ", " [a][b]  ", "[x", "]"),
      rest: textOf(["a", " ", ":", "È"], 8),
    })
    .map(({ p, spaces, lower, colon, tags, rest }) => tags + (lower ? p.toLowerCase() : p).split(" ").join(spaces) + colon + rest);
  it("finds the prefix trying each in turn found", () => {
    fc.assert(
      fc.property(prefix, (s) => {
        expect(subjectPrefix(s)).toEqual(subjectPrefixReference(s));
      }),
      { seed: 4, numRuns: RUNS * 4 },
    );
    expect(subjectPrefix(undefined)).toBeUndefined();
  });
});

describe("attachFields: the short-list scan and the map", () => {
  const address = fc.constantFrom("a@b.it", "A@B.IT", "c@d.it", "e@f.it", "É@x.it", "é@x.it");
  it("mark the same recipients", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ address, field: fc.constantFrom(undefined, "to" as const, "cc" as const) }), { maxLength: 5 }),
        fc.array(address, { maxLength: 4 }),
        fc.array(address, { maxLength: 4 }),
        (rs, to, cc) => {
          const make = (): PecRecipient[] => rs.map((r) => (r.field === undefined ? { address: r.address } : { address: r.address, field: r.field }));
          const scanned = make();
          attachFields(scanned, to, cc);
          // Nine addresses no recipient has: the same answer, by the map.
          const filler = Array.from({ length: 9 }, (_, i) => `filler${i}@nowhere.test`);
          const mapped = make();
          attachFields(mapped, [...to, ...filler], cc);
          expect(mapped).toEqual(scanned);
        },
      ),
      { seed: 5, numRuns: RUNS },
    );
  });
});


describe("readDaticert: base64 by atob", () => {
  const b64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
  const part = (encoding: string, body: string): MimeEntity =>
    parseMime(Uint8Array.from(`Content-Type: application/xml\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${body}`, (c) => c.charCodeAt(0) & 0xff));
  // A real daticert.xml (its subject in UTF-8 or Latin-1, so ASCII or not), or any bytes.
  const xml = (oggetto: string, latin1: boolean): Uint8Array => {
    const x = buildDaticert(
      {
        tipo: "accettazione",
        errore: "nessuno",
        intestazione: { mittente: "a@pec.alfa.test", destinatari: [{ address: "b@pec.beta.test", tipo: "certificato" }], risposte: "a@pec.alfa.test", oggetto },
        dati: { gestoreEmittente: "G", data: { zona: "+0100", giorno: "15/03/2024", ora: "10:30:00" }, identificativo: "id@x", msgid: "<m@x>", ricezione: [] },
      },
      { invalidCharacters: "drop" },
    );
    return latin1 ? Uint8Array.from(x.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), (c) => c.charCodeAt(0) & 0xff) : new TextEncoder().encode(x);
  };
  const body = fc.oneof(
    fc.tuple(textOf(["a", " ", "è", "€", "&", "<", "\u0001"], 10), fc.boolean()).map(([o, l]) => xml(o, l)),
    fc.uint8Array({ max: 0x7f, maxLength: 60 }),
    fc.uint8Array({ maxLength: 60 }),
  );
  it("gives what parsing decodedBody() gives, whatever the body", () => {
    const noise = fc.constantFrom("", "\r\n", " ", "\t", "=", "==", "-", "_", "!", "\u00e8", "\u00ff", "\f", "\v", "A", "QQ", "QUI");
    fc.assert(
      fc.property(body, fc.array(fc.tuple(fc.nat(), noise), { maxLength: 2 }), fc.constantFrom("base64", "BASE64", "quoted-printable", "7bit"), (bytes, edits, encoding) => {
        let text = b64(bytes).replace(/.{76}/g, "$&\r\n");
        for (const [at, insert] of edits) {
          const i = text.length ? at % (text.length + 1) : 0;
          text = text.slice(0, i) + insert + text.slice(i);
        }
        const e = part(encoding, text);
        expect(outcome(() => readDaticert(e))).toEqual(outcome(() => parseDaticert(e.decodedBody())));
      }),
      { seed: 6, numRuns: RUNS * 4 },
    );
    // Larger than the reused buffer.
    const big = part("base64", b64(xml("x".repeat(20_000), false)));
    expect(outcome(() => readDaticert(big))).toEqual(outcome(() => parseDaticert(big.decodedBody())));
  });
});

describe("lazy properties", () => {
  const messages: Uint8Array[] = [];
  const byType = new Map<string, Uint8Array>();

  it("are own enumerable accessors, in their key order, on every kind of message", async () => {
    const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256" });
    for (const name of SCENARIO_NAMES) for (const m of (await runScenario(name, { pki })).flow.messages) messages.push(m.message.bytes);
    for (const bytes of messages) {
      const pec = readPec(bytes);
      if (!byType.has(pec.type)) byType.set(pec.type, bytes);
      const accessors = (o: object): string[] =>
        Object.keys(o).filter((k) => {
          const d = Object.getOwnPropertyDescriptor(o, k)!;
          expect(d.enumerable).toBe(true);
          return d.get !== undefined;
        });
      const keys = Object.keys(pec);
      const lazy = pec.type === "preavviso-errore-consegna" ? ["text", "html", "timeout"] : pec.type === "anomalia" ? ["text", "html", "anomaliaReason"] : ["text", "html"];
      expect(accessors(pec)).toEqual(lazy);
      // The accessors come after every data property, and issues is the last of those.
      expect(keys.slice(keys.indexOf("issues") + 1)).toEqual(lazy);
      if (pec.original) {
        expect(accessors(pec.original)).toEqual(["attachments", "hashes", "text", "html", "inner"]);
        expect(Object.keys(pec.original).slice(-5)).toEqual(["attachments", "hashes", "text", "html", "inner"]);
      }
      if (pec.signature?.form === "detached") {
        expect(accessors(pec.signature)).toEqual(["cms"]);
        expect(Object.keys(pec.signature).at(-1)).toBe("cms");
      }
      // Hidden state stays hidden: nothing else is enumerable, spreads copy values.
      expect(Object.getOwnPropertySymbols(pec).every((s) => !Object.getOwnPropertyDescriptor(pec, s)!.enumerable)).toBe(true);
      const copy = { ...pec };
      expect(Object.keys(copy)).toEqual(keys);
      expect(Object.getOwnPropertyDescriptor(copy, "text")!.get).toBeUndefined();
      expect(copy.text).toBe(pec.text);
    }
    expect([...byType.keys()].sort()).toEqual(expect.arrayContaining(["accettazione", "avvenuta-consegna", "posta-certificata", "anomalia", "preavviso-errore-consegna"]));
  }, 60_000);

  it("are computed once and kept, also through an inheriting object or a proxy", () => {
    const pec = readPec(byType.get("avvenuta-consegna")!);
    const original = pec.original!;
    expect(original.attachments).toBe(original.attachments);
    expect(original.hashes).toBe(original.hashes);
    expect(pec.signature!.cms).toBe(pec.signature!.cms);
    expect(pec.text).toBe(pec.text);
    const child = Object.create(pec) as ReadPec;
    expect(child.html).toBe(pec.html);
    const proxy = new Proxy(original, {});
    expect(proxy.attachments).toBe(original.attachments);
    // A receiver without the hidden state cannot read them (a TypeError, as before).
    expect(() => Reflect.get(pec, "text", {})).toThrow(TypeError);
  });

  it("are computed again on the next read after a throw", () => {
    const root = parseMime(byType.get("avvenuta-consegna")!);
    // The text/plain part of the receipt's body: make its decoding fail once.
    const stack: MimeEntity[] = [root];
    let plain: MimeEntity | undefined;
    while (stack.length && !plain) {
      const e = stack.shift()!;
      if (e.contentType.mimeType === "text/plain") plain = e;
      else stack.push(...e.children);
    }
    expect(plain).toBeDefined();
    const text = plain!.text.bind(plain);
    let calls = 0;
    (plain as { text: () => string }).text = () => {
      if (calls++ === 0) throw new Error("once");
      return text();
    };
    const pec = readPec(root);
    expect(() => pec.text).toThrow("once");
    expect(pec.text).toBe(text());
    expect(pec.text).toBe(text());
    expect(calls).toBe(2);
  });

  it("maxDepth 0 (or not a number) finds no PEC in a parsed message, as before", () => {
    const root = parseMime(byType.get("accettazione")!);
    expect(readPec(root, { maxDepth: 0 }).type).toBe("not-pec");
    expect(readPec(root, { maxDepth: Number.NaN }).type).toBe("not-pec");
    expect(readPec(root, { maxDepth: 1 }).type).toBe("accettazione");
  });
});
