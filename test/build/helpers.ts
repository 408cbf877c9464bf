// Shared fixtures of the builder tests: a test PKI, one original message, and every
// message type and variant built from it, with what each must read back as.
import { expect } from "vitest";
import type { RicevutaTipo } from "../../src/daticert/index.js";
import { parseMime } from "../../src/mime/index.js";
import type { MimeEntity } from "../../src/mime/index.js";
import {
  type BuiltPec,
  type PecTransaction,
  buildAccettazione,
  buildAnomalia,
  buildAvvenutaConsegna,
  buildBusta,
  buildErroreConsegna,
  buildNonAccettazione,
  buildPreavvisoErroreConsegna,
  buildPresaInCarico,
  buildRilevazioneVirus,
  composeMessage,
  prepareOriginal,
  transactionFromOriginal,
} from "../../src/pec/build/index.js";
import type { PecType } from "../../src/pec/constants.js";
import { type TestCa, type TestGestore, createGestore, createTestCa } from "../../src/simulator/index.js";

export interface Pki {
  ca: TestCa;
  alfa: TestGestore;
  beta: TestGestore;
}

/** A root CA and two gestori (ECDSA P-256: fast to generate). */
export async function makePki(): Promise<Pki> {
  const ca = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
  const alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm: "ECDSA-P256" });
  const beta = await createGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", ca, keyAlgorithm: "ECDSA-P256" });
  return { ca, alfa, beta };
}

export const SENDER = "mario.rossi@pec.alfa.test";
export const ANNA = "anna.bianchi@pec.beta.test";
export const ESTERNO = "info@azienda.example";
export const LUCA = "luca.verdi@pec.beta.test";
export const MSGID = "<20240315.abc123@client.example>";
export const IDENTIFICATIVO = "opec001.20240315103000.12345.01.1.1@pec.alfa.test";
export const SUBJECT = "Offerta n. 12/2024 per la città";
/** 15/03/2024 10:30:00 +0100 (CET). */
export const DATE = new Date("2024-03-15T09:30:00Z");

/** Deterministic pseudo-random bytes. */
export function bytesOf(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export const PDF = bytesOf(5000);
export const NOTE = "Nota con accenti: è à ù\n";
export const FORWARDED = composeMessage({
  from: "ufficio@azienda.example",
  to: SENDER,
  subject: "Richiesta di offerta",
  text: "Buongiorno, vorremmo un'offerta.",
  date: new Date("2024-03-10T08:00:00Z"),
  messageId: "<richiesta.1@azienda.example>",
});

/** The user's original message: text + HTML, a PDF, a text file with a non-ASCII name, an attached e-mail. */
export function makeOriginal(tipoRicevuta?: RicevutaTipo): Uint8Array {
  return composeMessage({
    from: { name: "Mario Rossi", address: SENDER },
    to: [{ name: "Anna Bianchi", address: ANNA }, ESTERNO],
    cc: LUCA,
    subject: SUBJECT,
    text: "Buongiorno,\nin allegato l'offerta.\n",
    html: "<p>Buongiorno,<br>in allegato l'offerta.</p>",
    attachments: [
      { filename: "offerta.pdf", contentType: "application/pdf", content: PDF },
      { filename: "nota è.txt", contentType: "text/plain", content: NOTE },
      { filename: "richiesta.eml", contentType: "message/rfc822", content: FORWARDED },
    ],
    messageId: MSGID,
    date: DATE,
    ...(tipoRicevuta && { tipoRicevuta }),
  });
}

export function txOf(original: Uint8Array): PecTransaction {
  return transactionFromOriginal(original, { identificativo: IDENTIFICATIVO, isCertificato: (a) => a.includes("@pec.") });
}

/** What a built message must read back as. */
export interface Expect {
  type: PecType;
  virus: boolean;
  ricevuta?: RicevutaTipo;
  timeout?: "preavviso" | "scadenza";
  errore?: string;
  prefix: string;
  /** From header, exactly. */
  from: string;
  /** To header addresses. */
  to: string[];
  /** PEC headers that must be present with these values, and the PEC headers that must be absent. */
  headers: Record<string, string | undefined>;
  consegna?: string;
  ricezione?: string[];
  erroreEsteso?: string;
  /** completa: attachments; breve: hashes; none: no original. */
  original: "completa" | "breve" | "anomalia" | "none";
  gestore: TestGestore;
}

export interface Variant {
  name: string;
  built: BuiltPec;
  expect: Expect;
  /** The original as the busta carries it (for breve hash checks). */
  prepared: Uint8Array;
  tx: PecTransaction;
}

const PEC_HEADER_NAMES = ["X-Trasporto", "X-Ricevuta", "X-TipoRicevuta", "X-VerificaSicurezza", "X-Mittente", "X-Riferimento-Message-ID"];

/** Every PEC header absent except those given. */
export function pecHeaders(present: Record<string, string>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const n of PEC_HEADER_NAMES) out[n] = present[n];
  return out;
}

export const ORDINARY = composeMessage({
  from: { name: "Ufficio Acquisti", address: ESTERNO },
  to: ANNA,
  subject: "Messaggio ordinario",
  text: "Questo non è un messaggio PEC.\n",
  messageId: "<ordinario.42@azienda.example>",
  date: DATE,
});

/** Builds every type and variant once. */
export async function buildVariants(pki: Pki): Promise<Variant[]> {
  const { alfa, beta } = pki;
  const date = DATE;
  const out: Variant[] = [];
  const recv = (g: TestGestore): string => `posta-certificata@${g.domain}`;
  for (const requested of [undefined, "breve", "sintetica"] as const) {
    const original = makeOriginal(requested);
    const tx = txOf(original);
    const prepared = prepareOriginal(original, { identificativo: IDENTIFICATIVO });
    const add = (name: string, built: BuiltPec, expect: Omit<Expect, "from" | "gestore"> & { from?: string; gestore?: TestGestore }): void => {
      out.push({
        name,
        built,
        prepared,
        tx,
        expect: { from: expect.from ?? alfa.email, gestore: expect.gestore ?? alfa, ...expect } as Expect,
      });
    };
    const riferimento = { "X-Riferimento-Message-ID": MSGID };
    const r = requested ?? "completa";
    add(`busta (${requested ?? "no X-TipoRicevuta"})`, await buildBusta(alfa, tx, { original, date }), {
      type: "posta-certificata",
      virus: false,
      ricevuta: r,
      errore: "nessuno",
      prefix: "POSTA CERTIFICATA",
      from: `"Per conto di: ${SENDER}" <${alfa.email}>`,
      to: [ANNA, ESTERNO],
      headers: pecHeaders({ "X-Trasporto": "posta-certificata", "X-TipoRicevuta": r, ...riferimento }),
      original: "completa",
    });
    // Delivery receipts: the primary recipient gets the requested type, the Cc one a sintetica.
    add(`avvenuta consegna ${r} (To)`, await buildAvvenutaConsegna(beta, tx, { consegna: ANNA, original: prepared, date }), {
      type: "avvenuta-consegna",
      virus: false,
      ricevuta: r,
      errore: "nessuno",
      prefix: "CONSEGNA",
      from: beta.email,
      gestore: beta,
      to: [SENDER],
      headers: pecHeaders({ "X-Ricevuta": "avvenuta-consegna", ...riferimento }),
      consegna: ANNA,
      original: r === "completa" ? "completa" : r === "breve" ? "breve" : "none",
    });
    if (requested === undefined) {
      add("avvenuta consegna sintetica (Cc)", await buildAvvenutaConsegna(beta, tx, { consegna: LUCA, original: prepared, date }), {
        type: "avvenuta-consegna",
        virus: false,
        ricevuta: "sintetica",
        errore: "nessuno",
        prefix: "CONSEGNA",
        from: beta.email,
        gestore: beta,
        to: [SENDER],
        headers: pecHeaders({ "X-Ricevuta": "avvenuta-consegna", ...riferimento }),
        consegna: LUCA,
        original: "none",
      });
      add("accettazione", await buildAccettazione(alfa, tx, { date }), {
        type: "accettazione",
        virus: false,
        errore: "nessuno",
        prefix: "ACCETTAZIONE",
        to: [SENDER],
        headers: pecHeaders({ "X-Ricevuta": "accettazione", ...riferimento }),
        original: "none",
      });
      add("non accettazione (formal)", await buildNonAccettazione(alfa, tx, { erroreEsteso: "Il campo Bcc non deve contenere valori", date }), {
        type: "non-accettazione",
        virus: false,
        errore: "altro",
        prefix: "AVVISO DI NON ACCETTAZIONE",
        to: [SENDER],
        headers: pecHeaders({ "X-Ricevuta": "non-accettazione", ...riferimento }),
        erroreEsteso: "Il campo Bcc non deve contenere valori",
        original: "none",
      });
      add("non accettazione (virus)", await buildNonAccettazione(alfa, tx, { errore: "virus", erroreEsteso: "Eicar-Test-Signature", date }), {
        type: "non-accettazione",
        virus: true,
        errore: "virus",
        prefix: "AVVISO DI NON ACCETTAZIONE PER VIRUS",
        to: [SENDER],
        headers: pecHeaders({ "X-Ricevuta": "non-accettazione", "X-VerificaSicurezza": "errore", ...riferimento }),
        erroreEsteso: "Eicar-Test-Signature",
        original: "none",
      });
      add("presa in carico", await buildPresaInCarico(beta, tx, { ricezione: [ANNA, LUCA], to: recv(alfa), date }), {
        type: "presa-in-carico",
        virus: false,
        errore: "nessuno",
        prefix: "PRESA IN CARICO",
        from: beta.email,
        gestore: beta,
        to: [alfa.email],
        headers: pecHeaders({ "X-Ricevuta": "presa-in-carico", ...riferimento }),
        ricezione: [ANNA, LUCA],
        original: "none",
      });
      for (const [errore, esteso] of [
        ["no-dest", "5.1.1 - Gestore Beta S.p.A. - indirizzo non valido"],
        ["no-dominio", "5.1.2 - Gestore Beta S.p.A. - dominio non valido"],
        ["altro", "5.0.0 - Gestore Beta S.p.A. - errore nella consegna"],
      ] as const) {
        add(`mancata consegna ${errore}`, await buildErroreConsegna(beta, tx, { consegna: ANNA, errore, date }), {
          type: "errore-consegna",
          virus: false,
          errore,
          prefix: "AVVISO DI MANCATA CONSEGNA",
          from: beta.email,
          gestore: beta,
          to: [SENDER],
          headers: pecHeaders({ "X-Ricevuta": "errore-consegna", ...riferimento }),
          consegna: ANNA,
          erroreEsteso: esteso,
          original: "none",
        });
      }
      add("mancata consegna per virus", await buildErroreConsegna(alfa, tx, { consegna: ANNA, errore: "virus", erroreEsteso: "Eicar-Test-Signature", date }), {
        type: "errore-consegna",
        virus: true,
        errore: "virus",
        prefix: "AVVISO DI MANCATA CONSEGNA PER VIRUS",
        to: [SENDER],
        headers: pecHeaders({ "X-Ricevuta": "errore-consegna", "X-VerificaSicurezza": "errore", ...riferimento }),
        consegna: ANNA,
        erroreEsteso: "Eicar-Test-Signature",
        original: "none",
      });
      add(
        "rilevazione virus",
        await buildRilevazioneVirus(beta, tx, { consegna: ANNA, erroreEsteso: "Eicar-Test-Signature", to: recv(alfa), date }),
        {
          type: "rilevazione-virus",
          virus: true,
          errore: "virus",
          prefix: "PROBLEMA DI SICUREZZA",
          from: beta.email,
          gestore: beta,
          to: [alfa.email],
          headers: pecHeaders({ "X-Ricevuta": "rilevazione-virus", "X-Mittente": SENDER, ...riferimento }),
          consegna: ANNA,
          erroreEsteso: "Eicar-Test-Signature",
          original: "none",
        },
      );
      for (const kind of ["preavviso", "scadenza"] as const) {
        const at = new Date(DATE.getTime() + (kind === "preavviso" ? 12 : 24) * 3600_000);
        add(`preavviso errore consegna (${kind === "preavviso" ? "12 h" : "24 h"})`, await buildPreavvisoErroreConsegna(alfa, tx, { consegna: ANNA, kind, date: at }), {
          type: "preavviso-errore-consegna",
          virus: false,
          timeout: kind,
          errore: "nessuno",
          prefix: "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO",
          to: [SENDER],
          headers: pecHeaders({ "X-Ricevuta": "preavviso-errore-consegna", ...riferimento }),
          consegna: ANNA,
          original: "none",
        });
      }
      add("anomalia", await buildAnomalia(beta, { received: ORDINARY, reason: "messaggio di posta ordinaria", date }), {
        type: "anomalia",
        virus: false,
        prefix: "ANOMALIA MESSAGGIO",
        from: `"Per conto di: ${ESTERNO}" <${beta.email}>`,
        gestore: beta,
        to: [ANNA],
        headers: pecHeaders({ "X-Trasporto": "errore" }),
        original: "anomalia",
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Structure checks

export function hasBareLineBreaks(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i - 1] !== 13) return true;
    if (bytes[i] === 13 && bytes[i + 1] !== 10) return true;
  }
  return false;
}

function lines(bytes: Uint8Array): string[] {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s.split("\r\n");
}

export function walk(e: MimeEntity, f: (e: MimeEntity) => void): void {
  f(e);
  for (const c of e.children) walk(c, f);
}

/** The MIME skeleton every built message must have (spec §3.4). */
export function checkStructure(v: Variant): void {
  const { bytes } = v.built;
  expect(hasBareLineBreaks(bytes), `${v.name}: CRLF only`).toBe(false);
  const root = parseMime(bytes);
  expect(root.contentType.mimeType).toBe("multipart/signed");
  expect(root.contentType.params.protocol).toBe("application/pkcs7-signature");
  expect(root.contentType.params.micalg).toBe("sha-256");
  expect(root.header("mime-version")).toBe("1.0");
  const [mixed, sig] = root.children;
  expect(root.children).toHaveLength(2);
  expect(sig!.contentType.mimeType).toBe("application/pkcs7-signature");
  expect(sig!.filename).toBe("smime.p7s");
  expect(mixed!.contentType.mimeType).toBe("multipart/mixed");
  const parts = mixed!.children;
  const alt = parts[0]!;
  expect(alt.contentType.mimeType).toBe("multipart/alternative");
  expect(alt.children.map((c) => c.contentType.mimeType)).toEqual(["text/plain", "text/html"]);
  for (const t of alt.children) {
    expect(t.contentType.params.charset).toBe("iso-8859-1");
    expect(t.transferEncoding).toBe("quoted-printable");
    for (const l of lines(t.bodyBytes())) expect(l.length).toBeLessThanOrEqual(76);
  }
  const html = alt.children[1]!.text();
  expect(html).not.toMatch(/<img|<script|<style|<link|style=|src=|href=|<iframe|<object|on\w+=/i);
  const expected: string[] = ["multipart/alternative"];
  if (v.expect.type !== "anomalia") expected.push("application/xml");
  if (v.expect.original !== "none") expected.push("message/rfc822");
  expect(parts.map((p) => p.contentType.mimeType), v.name).toEqual(expected);
  if (v.expect.type !== "anomalia") {
    const d = parts[1]!;
    expect(d.filename).toBe("daticert.xml");
    expect(d.contentType.params.name).toBe("daticert.xml");
    expect(d.contentType.params.charset?.toLowerCase()).toBe("utf-8");
    expect(d.disposition?.type).toBe("inline");
    expect(d.transferEncoding).toBe("base64");
  }
  if (v.expect.original !== "none") {
    const p = parts[parts.length - 1]!;
    expect(p.filename).toBe("postacert.eml");
  }
  // base64 at 76 columns everywhere.
  walk(root, (e) => {
    if (e.children.length === 0 && e.transferEncoding === "base64") {
      for (const l of lines(e.bodyBytes())) expect(l.length).toBeLessThanOrEqual(76);
    }
  });
}
