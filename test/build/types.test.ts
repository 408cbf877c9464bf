// Every PEC message type and variant, built and read back by readPec: same type and
// data, the headers and subject prefixes of the spec tables, the MIME skeleton, and a
// signature that verifies over exactly the signed bytes.
import { beforeAll, describe, expect, it } from "vitest";
import { daticertDate, parseDaticert, toDatiData } from "../../src/daticert/index.js";
import { decodeHeaderValue, parseMime } from "../../src/mime/index.js";
import { parseAddressList } from "../../src/pec/address.js";
import { checkBreveHashes } from "../../src/pec/breve.js";
import { readPec } from "../../src/pec/read.js";
import { verifyCms } from "../../src/smime/verify.js";
import {
  ANNA,
  DATE,
  ESTERNO,
  FORWARDED,
  IDENTIFICATIVO,
  LUCA,
  MSGID,
  NOTE,
  PDF,
  type Pki,
  SENDER,
  SUBJECT,
  type Variant,
  buildVariants,
  checkStructure,
  makeOriginal,
  makePki,
} from "./helpers.js";

let pki: Pki;
let variants: Variant[];

beforeAll(async () => {
  pki = await makePki();
  variants = await buildVariants(pki);
}, 60_000);

const NAMES = [
  "busta (no X-TipoRicevuta)",
  "busta (breve)",
  "busta (sintetica)",
  "anomalia",
  "accettazione",
  "non accettazione (formal)",
  "non accettazione (virus)",
  "presa in carico",
  "avvenuta consegna completa (To)",
  "avvenuta consegna breve (To)",
  "avvenuta consegna sintetica (To)",
  "avvenuta consegna sintetica (Cc)",
  "mancata consegna no-dest",
  "mancata consegna no-dominio",
  "mancata consegna altro",
  "mancata consegna per virus",
  "rilevazione virus",
  "preavviso errore consegna (12 h)",
  "preavviso errore consegna (24 h)",
];

function variant(name: string): Variant {
  const v = variants.find((x) => x.name === name);
  if (!v) throw new Error(`no variant ${name}; have ${variants.map((x) => x.name).join(", ")}`);
  return v;
}

const enc = new TextEncoder();

describe("every type and variant reads back as itself", () => {
  it("builds all the variants", () => {
    expect(variants.map((v) => v.name).sort()).toEqual([...NAMES].sort());
  });

  for (const name of NAMES) {
    describe(name, () => {
      it("readPec gives back type, flags, daticert, parties and identifiers, without issues", async () => {
        const v = variant(name);
        const e = v.expect;
        const pec = readPec(v.built.bytes);
        expect(pec.type).toBe(e.type);
        expect(v.built.type).toBe(e.type);
        expect(pec.virus).toBe(e.virus);
        expect(v.built.virus).toBe(e.virus);
        expect(pec.ricevuta).toBe(e.ricevuta);
        expect(v.built.ricevuta).toBe(e.ricevuta);
        expect(pec.timeout).toBe(e.timeout);
        expect(v.built.timeout).toBe(e.timeout);
        expect(pec.errore).toBe(e.errore);
        expect(pec.issues).toEqual([]);
        expect(pec.wrapped).toBe(false);
        expect(pec.signature?.form).toBe("detached");
        expect(pec.originalSubject).toBe(e.type === "anomalia" ? "Messaggio ordinario" : SUBJECT);
        expect(pec.subject).toBe(`${e.prefix}: ${pec.originalSubject}`);
        expect(v.built.subject).toBe(pec.subject);
        expect(pec.from).toBe(e.gestore.email);
        expect(v.built.from).toBe(e.gestore.email);
        expect(pec.date?.getTime()).toBe(v.built.date.getTime());

        if (e.type === "anomalia") {
          expect(pec.daticert).toBeUndefined();
          expect(pec.sender).toBe(ESTERNO);
          expect(pec.recipients.map((r) => r.address)).toEqual([ANNA]);
          expect(pec.anomaliaReason).toBe("messaggio di posta ordinaria");
          expect(v.built.messageId).toBe("<ordinario.42@azienda.example>");
          return;
        }
        // daticert, field by field.
        const d = pec.daticert!;
        expect(v.built.daticert).toBeDefined();
        expect(d.tipo).toBe(e.type);
        expect(d.errore).toBe(e.errore);
        expect(d.intestazione).toEqual({
          mittente: SENDER,
          destinatari: [
            { address: ANNA, tipo: "certificato" },
            { address: ESTERNO, tipo: "esterno" },
            { address: LUCA, tipo: "certificato" },
          ],
          risposte: SENDER,
          oggetto: SUBJECT,
        });
        expect(d.dati.gestoreEmittente).toBe(e.gestore.name);
        expect(d.dati.data).toEqual(toDatiData(v.built.date));
        expect(daticertDate(d.dati.data)?.getTime()).toBe(v.built.date.getTime());
        expect(d.dati.identificativo).toBe(IDENTIFICATIVO);
        expect(d.dati.msgid).toBe(MSGID);
        expect(d.dati.ricevuta).toBe(e.ricevuta);
        expect(d.dati.consegna).toBe(e.consegna);
        expect(d.dati.ricezione).toEqual(e.ricezione ?? []);
        expect(d.dati.erroreEsteso).toBe(e.erroreEsteso);
        expect({ ...d, warnings: undefined, encoding: undefined }).toEqual({ ...v.built.daticert, warnings: undefined, encoding: undefined });
        // What readPec derives from it.
        expect(pec.sender).toBe(SENDER);
        expect(pec.recipients.map((r) => [r.address, r.tipo])).toEqual([
          [ANNA, "certificato"],
          [ESTERNO, "esterno"],
          [LUCA, "certificato"],
        ]);
        expect(pec.identificativo).toBe(IDENTIFICATIVO);
        expect(pec.msgid).toBe(MSGID);
        expect(pec.gestoreEmittente).toBe(e.gestore.name);
        expect(pec.consegna).toBe(e.consegna);
        expect(pec.ricezione).toEqual(e.ricezione ?? []);
        expect(pec.erroreEsteso).toBe(e.erroreEsteso);
        if (e.type === "rilevazione-virus") expect(pec.xMittente).toBe(SENDER);
      });

      it("headers, subject prefix, From/To and Message-ID follow the spec tables", () => {
        const v = variant(name);
        const e = v.expect;
        const root = parseMime(v.built.bytes);
        for (const [h, value] of Object.entries(e.headers)) {
          expect(root.headerAll(h), `${h}`).toEqual(value === undefined ? [] : [value]);
        }
        expect(decodeHeaderValue(root.header("subject")!)).toBe(v.built.subject);
        expect(v.built.subject.startsWith(`${e.prefix}: `)).toBe(true);
        expect(root.header("from")).toBe(e.from);
        const to = parseAddressList(root.header("to") ?? "").map((m) => m.address);
        expect(to).toEqual(e.to);
        expect(new Date(root.header("date")!).getTime()).toBe(DATE.getTime() + (e.timeout === "preavviso" ? 12 : e.timeout === "scadenza" ? 24 : 0) * 3600_000);
        // "Date: Fri, 15 Mar 2024 10:30:00 +0100": legal Italian time.
        if (!e.timeout) expect(root.header("date")).toBe("Fri, 15 Mar 2024 10:30:00 +0100");
        expect(root.header("message-id")).toBe(v.built.messageId);
        expect(root.headerAll("message-id")).toHaveLength(1);
        if (e.type === "posta-certificata") {
          expect(v.built.messageId).toBe(`<${IDENTIFICATIVO}>`);
          expect(root.header("reply-to")).toBe(SENDER);
          expect(root.header("cc")).toBe(LUCA);
          expect(v.built.to).toEqual([ANNA, ESTERNO, LUCA]);
        } else if (e.type === "anomalia") {
          expect(root.header("reply-to")).toBe(ESTERNO);
          expect(v.built.messageId).toBe("<ordinario.42@azienda.example>");
        } else {
          // Receipts: a fresh id at the emitting gestore's domain, distinct from the identificativo; no Reply-To, no Cc.
          expect(v.built.messageId).not.toBe(`<${IDENTIFICATIVO}>`);
          expect(v.built.messageId.endsWith(`@${e.gestore.domain}>`)).toBe(true);
          expect(root.header("reply-to")).toBeUndefined();
          expect(root.header("cc")).toBeUndefined();
          expect(v.built.to).toEqual(e.to);
        }
      });

      it("has the MIME structure of the spec (CRLF, parts, encodings, plain HTML)", () => {
        checkStructure(variant(name));
      });

      it("the signature verifies over exactly the signed bytes, signingTime = Date", async () => {
        const v = variant(name);
        const pec = readPec(v.built.bytes);
        const res = await verifyCms({ cms: pec.signature!.cms, content: pec.signature!.signedBytes! });
        expect(res.valid).toBe(true);
        expect(res.signers[0]?.signingTime?.getTime()).toBe(v.built.date.getTime());
        expect(res.signers).toHaveLength(1);
        expect(res.signers[0]?.certificate).toBeDefined();
      });

      it("the body states the event in Italian legal time, then in English", () => {
        const v = variant(name);
        const pec = readPec(v.built.bytes);
        const d = toDatiData(v.built.date);
        const it = `Il giorno ${d.giorno} alle ore ${d.ora} (${d.zona})`;
        expect(pec.text).toContain(it);
        expect(pec.text).toContain(`On ${d.giorno} at ${d.ora} (${d.zona})`);
        expect(pec.text!.indexOf(it)).toBeLessThan(pec.text!.indexOf("On "));
        expect(pec.html).toContain(it);
        if (v.expect.type !== "anomalia") {
          expect(pec.text).toContain(`Identificativo messaggio: ${IDENTIFICATIVO}`);
          expect(pec.text).toContain(`"${SUBJECT}"`);
        }
        if (v.expect.erroreEsteso) expect(pec.text).toContain(v.expect.erroreEsteso);
      });

      it("carries the original as the type requires", async () => {
        const v = variant(name);
        const pec = readPec(v.built.bytes);
        switch (v.expect.original) {
          case "none":
            expect(pec.original).toBeUndefined();
            break;
          case "anomalia":
            expect(pec.original?.subject).toBe("Messaggio ordinario");
            expect(pec.original?.messageId).toBe("<ordinario.42@azienda.example>");
            break;
          case "completa": {
            const o = pec.original!;
            expect(o.bytes).toEqual(v.prepared);
            expect(o.messageId).toBe(`<${IDENTIFICATIVO}>`);
            expect(o.riferimentoMessageId).toBe(MSGID);
            expect(o.subject).toBe(SUBJECT);
            expect(o.from).toBe(SENDER);
            expect(o.to).toEqual([ANNA, ESTERNO]);
            expect(o.cc).toEqual([LUCA]);
            expect(o.text).toBe("Buongiorno,\r\nin allegato l'offerta.\r\n");
            expect(o.hashes).toEqual([]);
            const byName = new Map(o.attachments.map((a) => [a.filename, a]));
            expect([...byName.keys()].sort()).toEqual(["nota è.txt", "offerta.pdf", "richiesta.eml"]);
            expect(byName.get("offerta.pdf")!.content()).toEqual(PDF);
            expect(byName.get("nota è.txt")!.content()).toEqual(enc.encode(NOTE));
            expect(byName.get("richiesta.eml")!.entity.children[0]!.raw()).toEqual(FORWARDED);
            break;
          }
          case "breve": {
            const o = pec.original!;
            expect(o.messageId).toBe(`<${IDENTIFICATIVO}>`);
            expect(o.text).toBe("Buongiorno,\r\nin allegato l'offerta.\r\n");
            expect(o.hashes.map((h) => h.filename).sort()).toEqual(["nota è.txt.hash", "offerta.pdf.hash", "richiesta.eml.hash"]);
            expect(o.attachments.every((a) => a.filename?.endsWith(".hash"))).toBe(true);
            expect(v.built.hashes?.map((h) => h.hash).sort()).toEqual(o.hashes.map((h) => h.hash).sort());
            const checks = await checkBreveHashes(pec, v.prepared);
            expect(checks).toHaveLength(3);
            for (const c of checks) {
              expect(c, c.filename).toMatchObject({ matches: true, found: true, form: "encoded", algorithm: "SHA-1" });
              expect(c.expected).toMatch(/^[0-9a-f]{40}$/);
            }
            // The sender's copy (never prepared) hashes the same: only headers differ.
            const fromSender = await checkBreveHashes(pec, makeOriginal(v.tx.ricevuta));
            expect(fromSender.every((c) => c.matches)).toBe(true);
            break;
          }
        }
      });
    });
  }
});

describe("daticert of every variant", () => {
  it("parses without warnings and round-trips through the model", () => {
    for (const v of variants) {
      if (v.expect.type === "anomalia") continue;
      const pec = readPec(v.built.bytes);
      const d = parseDaticert(pec.daticertEntity!.decodedBody());
      expect(d.warnings, v.name).toEqual([]);
      expect(d.encoding).toBe("utf-8");
    }
  });
});

describe("the 12 h and 24 h timeout notices", () => {
  it("differ in their text only: 12 ore vs 24 ore", () => {
    const a = readPec(variant("preavviso errore consegna (12 h)").built.bytes);
    const b = readPec(variant("preavviso errore consegna (24 h)").built.bytes);
    expect(a.text).toMatch(/12 ore/);
    expect(b.text).toMatch(/24 ore/);
    expect(b.text).not.toMatch(/\b12\s*(?:ore|h|hours)\b/i);
    expect(b.html).not.toMatch(/\b12\s*(?:ore|h|hours)\b/i);
    expect(a.subject).toBe(b.subject);
    expect(parseMime(a.root.raw()).header("x-ricevuta")).toBe(parseMime(b.root.raw()).header("x-ricevuta"));
  });
});
