// Options and edge cases of the builders: opaque form, digests, summer time, subjects
// outside ISO-8859-1, extra headers, LF originals, inherited fields, anomalia cases.
import { beforeAll, describe, expect, it } from "vitest";
import { toDatiData } from "../../src/daticert/index.js";
import { parseMime } from "../../src/mime/index.js";
import {
  type PecTransaction,
  buildAccettazione,
  buildAnomalia,
  buildAvvenutaConsegna,
  buildBusta,
  buildErroreConsegna,
  buildNonAccettazione,
  buildPreavvisoErroreConsegna,
  composeMessage,
  prepareOriginal,
  transactionFromOriginal,
} from "../../src/pec/build/index.js";
import { checkBreveHashes } from "../../src/pec/breve.js";
import { readPec } from "../../src/pec/read.js";
import { verifyCms } from "../../src/smime/verify.js";
import { ANNA, DATE, ESTERNO, IDENTIFICATIVO, LUCA, MSGID, ORDINARY, type Pki, SENDER, SUBJECT, hasBareLineBreaks, makeOriginal, makePki, txOf } from "./helpers.js";

let pki: Pki;
let original: Uint8Array;
let tx: PecTransaction;
const enc = new TextEncoder();
const latin1 = (b: Uint8Array): string => {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return s;
};

beforeAll(async () => {
  pki = await makePki();
  original = makeOriginal();
  tx = txOf(original);
}, 60_000);

function errorIssues(bytes: Uint8Array): string[] {
  return readPec(bytes)
    .issues.filter((i) => i.severity === "error")
    .map((i) => i.code);
}

describe("signature options", () => {
  it("opaque form: application/pkcs7-mime, read back and verified", async () => {
    const b = await buildAccettazione(pki.alfa, tx, { date: DATE, form: "opaque" });
    const root = parseMime(b.bytes);
    expect(root.contentType.mimeType).toBe("application/pkcs7-mime");
    expect(root.header("x-ricevuta")).toBe("accettazione");
    const pec = readPec(b.bytes);
    expect(pec.type).toBe("accettazione");
    expect(pec.signature?.form).toBe("opaque");
    expect(pec.daticert?.dati.identificativo).toBe(IDENTIFICATIVO);
    expect(pec.issues).toEqual([]);
    const v = await verifyCms({ cms: pec.signature!.cms });
    expect(v.valid).toBe(true);
  });

  it("digest SHA-384 gives micalg=sha-384", async () => {
    const b = await buildAccettazione(pki.alfa, tx, { date: DATE, digest: "SHA-384" });
    expect(parseMime(b.bytes).contentType.params.micalg).toBe("sha-384");
    const pec = readPec(b.bytes);
    const v = await verifyCms({ cms: pec.signature!.cms, content: pec.signature!.signedBytes! });
    expect(v.valid).toBe(true);
    expect(v.signers[0]?.digestAlgorithm).toBe("SHA-256".replace("256", "384"));
  });
});

describe("dates", () => {
  it("summer time: +0200 in Date, body and daticert; one instant everywhere (milliseconds dropped)", async () => {
    const at = new Date("2024-07-01T08:00:00.789Z");
    const b = await buildAccettazione(pki.alfa, tx, { date: at });
    expect(b.date.toISOString()).toBe("2024-07-01T08:00:00.000Z");
    const root = parseMime(b.bytes);
    expect(root.header("date")).toBe("Mon, 1 Jul 2024 10:00:00 +0200");
    const pec = readPec(b.bytes);
    expect(pec.daticert?.dati.data).toEqual({ zona: "+0200", giorno: "01/07/2024", ora: "10:00:00" });
    expect(pec.text).toContain("Il giorno 01/07/2024 alle ore 10:00:00 (+0200)");
    const v = await verifyCms({ cms: pec.signature!.cms, content: pec.signature!.signedBytes! });
    expect(v.signers[0]?.signingTime?.toISOString()).toBe("2024-07-01T08:00:00.000Z");
  });

  it("another time zone can be asked for", async () => {
    const b = await buildAccettazione(pki.alfa, tx, { date: DATE, timeZone: "UTC" });
    expect(readPec(b.bytes).daticert?.dati.data).toEqual({ zona: "+0000", giorno: "15/03/2024", ora: "09:30:00" });
  });

  it("defaults to now", async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const b = await buildAccettazione(pki.alfa, tx);
    expect(b.date.getTime()).toBeGreaterThanOrEqual(before);
    expect(b.date.getTime()).toBeLessThanOrEqual(Date.now());
    expect(readPec(b.bytes).daticert?.dati.data).toEqual(toDatiData(b.date));
  });
});

describe("texts and subjects", () => {
  it("a subject outside ISO-8859-1 switches the text parts to UTF-8 and HTML to character references", async () => {
    const subject = "Preventivo € 100 – 🚀";
    const b = await buildAccettazione(pki.alfa, { ...tx, subject }, { date: DATE });
    const pec = readPec(b.bytes);
    expect(pec.issues).toEqual([]);
    expect(pec.subject).toBe(`ACCETTAZIONE: ${subject}`);
    expect(pec.originalSubject).toBe(subject);
    expect(pec.text).toContain(`"${subject}"`);
    const alt = parseMime(b.bytes).children[0]!.children[0]!;
    expect(alt.children[0]!.contentType.params.charset).toBe("utf-8");
    expect(alt.children[1]!.contentType.params.charset).toBe("iso-8859-1");
    expect(pec.html).toContain("&#8364; 100 &#8211; &#128640;");
  });

  it("escapes HTML in subjects and drops XML-illegal controls from daticert", async () => {
    const subject = 'A <b>"x"</b> & \u0016y';
    const b = await buildAccettazione(pki.alfa, { ...tx, subject }, { date: DATE });
    const pec = readPec(b.bytes);
    expect(errorIssues(b.bytes)).toEqual([]);
    expect(pec.daticert?.intestazione.oggetto).toBe('A <b>"x"</b> & y');
    // What the builder reports is what it wrote.
    expect(b.daticert?.intestazione.oggetto).toBe('A <b>"x"</b> & y');
    expect(pec.html).toContain("A &lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; y");
    expect(pec.html).not.toContain("<b>");
  });

  it("reports the daticert it wrote when a busta's subject or an errore esteso carries controls", async () => {
    const busta = await buildBusta(pki.alfa, { ...tx, subject: "Fattura\u0007 n. 1" }, { original, date: DATE });
    expect(busta.daticert?.intestazione.oggetto).toBe("Fattura n. 1");
    expect(readPec(busta.bytes).daticert?.intestazione.oggetto).toBe("Fattura n. 1");
    const refused = await buildNonAccettazione(pki.alfa, tx, { erroreEsteso: "Bcc\u0001 non ammesso", date: DATE });
    expect(refused.daticert?.dati.erroreEsteso).toBe("Bcc non ammesso");
    expect(readPec(refused.bytes).daticert?.dati.erroreEsteso).toBe("Bcc non ammesso");
  });

  it("an empty subject", async () => {
    const b = await buildAccettazione(pki.alfa, { ...tx, subject: "" }, { date: DATE });
    const pec = readPec(b.bytes);
    expect(pec.type).toBe("accettazione");
    expect(pec.originalSubject).toBe("");
    expect(errorIssues(b.bytes)).toEqual([]);
  });

  it("a long subject is folded and read back whole", async () => {
    const subject = "Trasmissione fattura elettronica ".repeat(8).trim();
    const b = await buildErroreConsegna(pki.beta, { ...tx, subject }, { consegna: ANNA, errore: "no-dest", date: DATE });
    // The fields the builder writes (the signer writes MIME-Version and Content-Type after them).
    const head = latin1(b.bytes.subarray(0, parseMime(b.bytes).headerEnd));
    const own = head.slice(0, head.indexOf("MIME-Version:"));
    expect(own).toContain("Subject:");
    for (const l of own.split("\r\n")) expect(l.length).toBeLessThanOrEqual(78);
    expect(readPec(b.bytes).originalSubject).toBe(subject);
  });
});

describe("headers", () => {
  it("extra headers are written after the PEC headers; a given Message-ID is used", async () => {
    const b = await buildAccettazione(pki.alfa, tx, { date: DATE, headers: [["X-Attachment", "yes"], ["X-Note", "città"]], messageId: "ricevuta.1@pec.alfa.test" });
    const root = parseMime(b.bytes);
    expect(root.header("x-attachment")).toBe("yes");
    expect(root.headers.find((h) => h.lname === "x-note")?.decoded).toBe("città");
    expect(root.header("message-id")).toBe("<ricevuta.1@pec.alfa.test>");
    expect(b.messageId).toBe("<ricevuta.1@pec.alfa.test>");
    const names = root.headers.map((h) => h.lname);
    expect(names.indexOf("x-attachment")).toBeGreaterThan(names.indexOf("x-ricevuta"));
  });

  it("receipts for an original without Message-ID carry neither X-Riferimento-Message-ID nor msgid", async () => {
    const { msgid: _m, ...noMsgid } = tx;
    const b = await buildAccettazione(pki.alfa, noMsgid, { date: DATE });
    const root = parseMime(b.bytes);
    expect(root.header("x-riferimento-message-id")).toBeUndefined();
    const pec = readPec(b.bytes);
    expect(pec.daticert?.dati.msgid).toBeUndefined();
    expect(pec.issues).toEqual([]);
  });

  it("a msgid given without angle brackets gets them", async () => {
    const b = await buildAccettazione(pki.alfa, { ...tx, msgid: "20240315.abc123@client.example" }, { date: DATE });
    expect(parseMime(b.bytes).header("x-riferimento-message-id")).toBe(MSGID);
    expect(readPec(b.bytes).daticert?.dati.msgid).toBe(MSGID);
  });

  it("replyTo: given, or empty risposte", async () => {
    const a = await buildAccettazione(pki.alfa, { ...tx, replyTo: "segreteria@pec.alfa.test" }, { date: DATE });
    expect(readPec(a.bytes).daticert?.intestazione.risposte).toBe("segreteria@pec.alfa.test");
    const b = await buildAccettazione(pki.alfa, { ...tx, replyTo: "" }, { date: DATE });
    expect(readPec(b.bytes).daticert?.intestazione.risposte).toBe("");
  });
});

describe("busta di trasporto", () => {
  it("prepares an unprepared original itself; a prepared one is carried as is", async () => {
    const prepared = prepareOriginal(original, { identificativo: IDENTIFICATIVO });
    const a = await buildBusta(pki.alfa, tx, { original, date: DATE });
    const b = await buildBusta(pki.alfa, tx, { original: prepared, date: DATE });
    expect(readPec(a.bytes).original?.bytes).toEqual(prepared);
    expect(readPec(b.bytes).original?.bytes).toEqual(prepared);
  });

  it("converts bare LF to CRLF (as SMTP would) so the signed content is canonical", async () => {
    const lf = enc.encode(`From: ${SENDER}\nTo: ${ANNA}\nSubject: lf\nMessage-ID: <lf@client>\n\nriga 1\nriga 2\n`);
    const t = transactionFromOriginal(lf, { identificativo: IDENTIFICATIVO });
    const b = await buildBusta(pki.alfa, t, { original: lf, date: DATE });
    expect(hasBareLineBreaks(b.bytes)).toBe(false);
    const pec = readPec(b.bytes);
    expect(latin1(pec.original!.bytes)).toBe(
      `From: ${SENDER}\r\nTo: ${ANNA}\r\nSubject: lf\r\nMessage-ID: <${IDENTIFICATIVO}>\r\nX-Riferimento-Message-ID: <lf@client>\r\n\r\nriga 1\r\nriga 2\r\n`,
    );
    expect(pec.issues).toEqual([]);
  });

  it("inherits Received, Return-Path, To, Cc and Reply-To byte for byte", async () => {
    const m = enc.encode(
      `Return-Path: <${SENDER}>\r\nReceived: from client (client [192.0.2.1])\r\n\tby smtp.pec.alfa.test; Fri, 15 Mar 2024 10:29:59 +0100\r\nFrom: "Mario" <${SENDER}>\r\nTo: "Anna Bianchi" <${ANNA}>,\r\n  ${ESTERNO}\r\nCc: =?UTF-8?Q?Luca_Verd=C3=AC?= <${LUCA}>\r\nReply-To: "Segreteria" <segreteria@pec.alfa.test>\r\nSubject: ${SUBJECT}\r\nMessage-ID: ${MSGID}\r\n\r\ncorpo\r\n`,
    );
    const t = transactionFromOriginal(m, { identificativo: IDENTIFICATIVO });
    expect(t.replyTo).toBe("segreteria@pec.alfa.test");
    const b = await buildBusta(pki.alfa, t, { original: m, date: DATE });
    const head = latin1(b.bytes.subarray(0, parseMime(b.bytes).headerEnd));
    expect(head).toContain("Return-Path: <mario.rossi@pec.alfa.test>\r\nReceived: from client (client [192.0.2.1])\r\n\tby smtp.pec.alfa.test; Fri, 15 Mar 2024 10:29:59 +0100\r\n");
    expect(head).toContain(`To: "Anna Bianchi" <${ANNA}>,\r\n  ${ESTERNO}\r\nCc: =?UTF-8?Q?Luca_Verd=C3=AC?= <${LUCA}>\r\n`);
    expect(head).toContain(`Reply-To: "Segreteria" <segreteria@pec.alfa.test>\r\n`);
    expect(head.indexOf("Return-Path")).toBe(0);
    const pec = readPec(b.bytes);
    expect(pec.daticert?.intestazione.risposte).toBe("segreteria@pec.alfa.test");
    expect(pec.issues).toEqual([]);
  });

  it("writes To/Cc from the transaction when the original has neither", async () => {
    const m = enc.encode(`From: ${SENDER}\r\nSubject: ${tx.subject}\r\n\r\nx\r\n`);
    const b = await buildBusta(pki.alfa, { ...tx, msgid: undefined }, { original: m, date: DATE });
    const root = parseMime(b.bytes);
    expect(root.header("to")).toBe(`${ANNA}, ${ESTERNO}`);
    expect(root.header("cc")).toBe(LUCA);
  });
});

describe("avvenuta consegna", () => {
  it("takes the postacert.eml of a busta given as original", async () => {
    const busta = await buildBusta(pki.alfa, tx, { original, date: DATE });
    const c = await buildAvvenutaConsegna(pki.beta, tx, { consegna: ANNA, original: busta.bytes, date: DATE });
    expect(readPec(c.bytes).original?.bytes).toEqual(readPec(busta.bytes).original?.bytes);
  });

  it("an explicit variant wins over the Cc rule", async () => {
    const c = await buildAvvenutaConsegna(pki.beta, tx, { consegna: LUCA, ricevuta: "completa", original, date: DATE });
    const pec = readPec(c.bytes);
    expect(pec.ricevuta).toBe("completa");
    expect(pec.original).toBeDefined();
  });

  it("a sintetica needs no original", async () => {
    const c = await buildAvvenutaConsegna(pki.beta, { ...tx, ricevuta: "sintetica" }, { consegna: ANNA, date: DATE });
    expect(readPec(c.bytes).ricevuta).toBe("sintetica");
  });
});

describe("busta di anomalia", () => {
  it("generates a Message-ID at the gestore's domain when the received message has none", async () => {
    const m = enc.encode(`From: ${ESTERNO}\nTo: ${ANNA}\nSubject: senza id\n\nciao\n`);
    const b = await buildAnomalia(pki.beta, { received: m, reason: "messaggio di posta ordinaria", date: DATE });
    expect(b.messageId).toMatch(/@pec\.beta\.test>$/);
    const pec = readPec(b.bytes);
    expect(pec.type).toBe("anomalia");
    expect(pec.original?.bytes).toEqual(enc.encode(`From: ${ESTERNO}\r\nTo: ${ANNA}\r\nSubject: senza id\r\n\r\nciao\r\n`));
    expect(pec.issues).toEqual([]);
  });

  it("wraps a PEC that failed the checks; the inner PEC stays readable; sender and recipients can be given", async () => {
    const busta = await buildBusta(pki.alfa, tx, { original, date: DATE });
    const b = await buildAnomalia(pki.beta, {
      received: busta.bytes,
      reason: "la firma digitale del messaggio non risulta attendibile",
      sender: SENDER,
      recipients: [ANNA, LUCA],
      date: DATE,
    });
    expect(b.to).toEqual([ANNA, LUCA]);
    const pec = readPec(b.bytes);
    expect(pec.type).toBe("anomalia");
    expect(pec.sender).toBe(SENDER);
    expect(pec.anomaliaReason).toBe("la firma digitale del messaggio non risulta attendibile");
    expect(pec.original?.inner?.type).toBe("posta-certificata");
    expect(pec.daticert).toBeUndefined();
    // The busta's own Message-ID is inherited.
    expect(b.messageId).toBe(`<${IDENTIFICATIVO}>`);
    expect(parseMime(b.bytes).header("subject")).toBe(`ANOMALIA MESSAGGIO: POSTA CERTIFICATA: ${SUBJECT}`.replace("città", "=?UTF-8?Q?citt=C3=A0?="));
  });

  it("C1 characters in a text body read back as themselves (UTF-8, not ISO-8859-1 read as windows-1252)", async () => {
    const reason = "errore\u0085 dell\u0092utente, città";
    const b = await buildAnomalia(pki.beta, { received: ORDINARY, reason, date: DATE });
    expect(readPec(b.bytes).anomaliaReason).toBe(reason);
    const r = await buildAccettazione(pki.alfa, { ...tx, subject: "l\u0092offerta" }, { date: DATE });
    expect(readPec(r.bytes).text).toContain("l\u0092offerta");
    // Without C1, ISO-8859-1 as the rules ask.
    const plain = await buildAnomalia(pki.beta, { received: ORDINARY, reason: "città", date: DATE });
    expect(latin1(plain.bytes)).toContain('text/plain; charset="iso-8859-1"');
    expect(latin1(b.bytes)).not.toContain('text/plain; charset="iso-8859-1"');
  });

  it("keeps an existing Reply-To", async () => {
    const m = enc.encode(`From: ${ESTERNO}\r\nReply-To: <risposte@azienda.example>\r\nTo: ${ANNA}\r\nSubject: s\r\nMessage-ID: <a@b>\r\n\r\nx\r\n`);
    const b = await buildAnomalia(pki.beta, { received: m, reason: "r", date: DATE });
    expect(parseMime(b.bytes).headerAll("reply-to")).toEqual(["<risposte@azienda.example>"]);
    expect(latin1(readPec(ORDINARY).root.raw()).length).toBeGreaterThan(0);
  });
});

describe("checkBreveHashes", () => {
  it("pairs attachments that share a name with their own .hash files", async () => {
    const enc = new TextEncoder();
    const original = composeMessage({
      from: SENDER,
      to: ANNA,
      subject: SUBJECT,
      text: "Due scansioni.",
      messageId: MSGID,
      tipoRicevuta: "breve",
      attachments: [
        { filename: "scan.pdf", contentType: "application/pdf", content: enc.encode("prima pagina") },
        { filename: "scan.pdf", contentType: "application/pdf", content: enc.encode("seconda pagina") },
      ],
    });
    const t = transactionFromOriginal(original, { identificativo: IDENTIFICATIVO });
    const breve = await buildAvvenutaConsegna(pki.beta, t, { consegna: ANNA, original: prepareOriginal(original, { identificativo: IDENTIFICATIVO }), date: DATE });
    const pec = readPec(breve.bytes);
    expect(pec.original?.hashes).toHaveLength(2);
    const checks = await checkBreveHashes(pec, original);
    expect(checks.map((c) => [c.originalFilename, c.found, c.matches])).toEqual([
      ["scan.pdf", true, true],
      ["scan.pdf", true, true],
    ]);
    // A sender's copy with one of the two changed: exactly one check fails.
    const changed = composeMessage({
      from: SENDER,
      to: ANNA,
      subject: SUBJECT,
      text: "Due scansioni.",
      messageId: MSGID,
      attachments: [
        { filename: "scan.pdf", contentType: "application/pdf", content: enc.encode("prima pagina") },
        { filename: "scan.pdf", contentType: "application/pdf", content: enc.encode("pagina cambiata") },
      ],
    });
    expect((await checkBreveHashes(pec, changed)).map((c) => c.matches).sort()).toEqual([false, true]);
  });
});

describe("readPec and the timeout notices", () => {
  // readPec tells 12 h from 24 h by the sentence ("12 ore"/"24 ore"), never by the
  // quoted subject, which may mention either.
  it("a 24 h notice whose subject mentions 12 ore still reads as scadenza", async () => {
    const b = await buildPreavvisoErroreConsegna(pki.alfa, { ...tx, subject: "Consegna entro 12 ore" }, { consegna: ANNA, kind: "scadenza", date: DATE });
    expect(readPec(b.bytes).timeout).toBe("scadenza");
  });

  it("an HTML-only 24 h notice whose subject names 12 ore between entities or tags is still scadenza", () => {
    const notice = (html: string): Uint8Array =>
      new TextEncoder().encode(
        `From: posta-certificata@pec.alfa.test\r\nTo: ${SENDER}\r\nX-Ricevuta: preavviso-errore-consegna\r\nSubject: AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: Consegna entro 12 ore\r\nContent-Type: text/html\r\n\r\n${html}\r\n`,
      );
    const sentence = "non risulta consegnato entro le 24 ore dal suo invio.";
    for (const html of [`<p>Il messaggio &quot;Consegna entro 12 ore&quot; ${sentence}</p>`, `<p>Il messaggio <b>Consegna entro 12 ore</b> ${sentence}</p>`, `<p>Il messaggio "Consegna entro 12 ore" ${sentence}</p>`]) {
      expect(readPec(notice(html)).timeout, html).toBe("scadenza");
    }
  });

  it("a short subject that is part of a word or number, or an errore esteso naming the other delay, changes nothing", async () => {
    for (const kind of ["preavviso", "scadenza"] as const) {
      for (const subject of ["r", "2", "o", "1", "ore", "12", "24"]) {
        const b = await buildPreavvisoErroreConsegna(pki.alfa, { ...tx, subject }, { consegna: ANNA, kind, date: DATE });
        expect(readPec(b.bytes).timeout, `${kind} ${subject}`).toBe(kind);
      }
      const other = kind === "preavviso" ? "24 ore" : "12 ore";
      const b = await buildPreavvisoErroreConsegna(pki.alfa, tx, { consegna: ANNA, kind, erroreEsteso: `nessuna risposta dopo ${other}`, date: DATE });
      expect(readPec(b.bytes).timeout, `${kind} errore esteso`).toBe(kind);
    }
  });
});
