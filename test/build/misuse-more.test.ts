// More refused input: the original (or busta) of another sending, extra headers that
// the builders write themselves, Message-IDs that are not msg-ids; and the busta di
// anomalia around a bounce (null sender) or a From postacert cannot write.
import { beforeAll, describe, expect, it } from "vitest";
import { PecError } from "../../src/errors.js";
import { decodeHeaderValue, parseMime } from "../../src/mime/index.js";
import {
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
  transactionFromBusta,
  transactionFromOriginal,
} from "../../src/pec/build/index.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec } from "../../src/pec/verify.js";
import { TrustStore } from "../../src/trust/store.js";
import { code, codeAsync } from "../support/outcome.js";
import { ANNA, DATE, ESTERNO, IDENTIFICATIVO, MSGID, type Pki, SENDER, makeOriginal, makePki, txOf } from "./helpers.js";

const enc = new TextEncoder();
const OTHER_ID = "opec002.20240315103100.54321.01.1.1@pec.alfa.test";

let pki: Pki;
let trust: TrustStore;
let original: Uint8Array;
let tx: PecTransaction;
/** A second sending: another original, another identificativo. */
let other: Uint8Array;
let otherTx: PecTransaction;

beforeAll(async () => {
  pki = await makePki();
  trust = await TrustStore.fromPem(pki.ca.pem());
  original = makeOriginal();
  tx = txOf(original);
  other = composeMessage({ from: SENDER, to: ANNA, subject: "Fattura B", text: "testo B riservato", messageId: "<b.2@client.example>", date: DATE });
  otherTx = transactionFromOriginal(other, { identificativo: OTHER_ID });
}, 60_000);

describe("the original given to a builder must be of the transaction's sending", () => {
  it("buildAvvenutaConsegna refuses the busta of another sending", async () => {
    const otherBusta = await buildBusta(pki.alfa, otherTx, { original: other, date: DATE });
    const wrong = buildAvvenutaConsegna(pki.beta, tx, { consegna: ANNA, original: otherBusta.bytes, date: DATE });
    await expect(wrong).rejects.toThrow(PecError);
    await expect(wrong).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining(OTHER_ID) });
    // Also with the facts read from the busta of this sending (the simulator's way).
    const busta = await buildBusta(pki.alfa, tx, { original, date: DATE });
    const received = transactionFromBusta(busta.bytes);
    expect(await codeAsync(() => buildAvvenutaConsegna(pki.beta, received, { consegna: ANNA, original: otherBusta.bytes, date: DATE }))).toBe("ERR_INVALID_ARGUMENT");
    // Its own busta is taken.
    const ok = await buildAvvenutaConsegna(pki.beta, received, { consegna: ANNA, original: busta.bytes, date: DATE });
    const pec = readPec(ok.bytes);
    expect(pec.original?.messageId).toBe(`<${IDENTIFICATIVO}>`);
    expect(pec.original?.subject).toBe(tx.subject);
  });

  it("buildAvvenutaConsegna refuses another sending's original, prepared or as submitted", async () => {
    for (const o of [other, prepareOriginal(other, { identificativo: OTHER_ID })]) {
      for (const ricevuta of ["completa", "breve"] as const) {
        await expect(buildAvvenutaConsegna(pki.beta, tx, { consegna: ANNA, ricevuta, original: o, date: DATE })).rejects.toMatchObject({
          code: "ERR_INVALID_ARGUMENT",
          message: expect.stringMatching(/another sending/),
        });
      }
    }
    // This sending's original, prepared or not, is taken.
    for (const o of [original, prepareOriginal(original, { identificativo: IDENTIFICATIVO })]) {
      const c = await buildAvvenutaConsegna(pki.beta, tx, { consegna: ANNA, original: o, date: DATE });
      expect(readPec(c.bytes).original?.messageId).toBe(`<${IDENTIFICATIVO}>`);
    }
  });

  it("buildBusta refuses the original of another sending", async () => {
    for (const o of [other, prepareOriginal(other, { identificativo: OTHER_ID })]) {
      expect(await codeAsync(() => buildBusta(pki.alfa, tx, { original: o, date: DATE }))).toBe("ERR_INVALID_ARGUMENT");
    }
    // An original without Message-ID is told by its subject: the transaction's is taken (a
    // client may leave the Message-ID to the gestore), another is refused; without a subject
    // it cannot be told apart, and is taken.
    const bare = (subject: string): Uint8Array => enc.encode(`From: ${SENDER}\r\nTo: ${ANNA}\r\n${subject}\r\nx\r\n`);
    const b = await buildBusta(pki.alfa, { ...tx, msgid: undefined }, { original: bare(`Subject:  ${tx.subject.replace(/ /g, "\r\n ")}\r\n`), date: DATE });
    expect(readPec(b.bytes).issues).toEqual([]);
    await expect(buildBusta(pki.alfa, { ...tx, msgid: undefined }, { original: bare("Subject: Altro\r\n"), date: DATE })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
      message: `options.original belongs to another sending: it has no Message-ID, and its subject "Altro" is not the transaction's ${JSON.stringify(tx.subject)}`,
    });
    await expect(buildAvvenutaConsegna(pki.beta, { ...tx, msgid: undefined }, { consegna: ANNA, ricevuta: "completa", original: bare("Subject: Altro\r\n"), date: DATE })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    expect((await buildBusta(pki.alfa, { ...tx, msgid: undefined }, { original: bare(""), date: DATE })).bytes.length).toBeGreaterThan(0);
    // A NUL in the subject (raw or encoded) is a space in the transaction, and so in the check.
    for (const subject of ["Subject: a\0b\r\n", "Subject: =?utf-8?q?a=00b?=\r\n"]) {
      const o = bare(subject);
      const t = transactionFromOriginal(o, { identificativo: IDENTIFICATIVO });
      expect(t.subject, subject).toBe("a b");
      expect((await buildBusta(pki.alfa, t, { original: o, date: DATE })).type, subject).toBe("posta-certificata");
    }
  });
});

describe("options.headers cannot add a field the builder writes", () => {
  const written = [
    "From",
    "to",
    "CC",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "message-id",
    "X-Trasporto",
    "X-Ricevuta",
    "X-Riferimento-Message-ID",
    "x-tiporicevuta",
    "X-VerificaSicurezza",
    "X-Mittente",
    "MIME-Version",
    "Content-Type",
    "Content-Disposition",
    "Content-Transfer-Encoding",
  ];

  it("refuses each of them, on every builder, naming the field", async () => {
    const builders: [string, (headers: [string, string][]) => unknown][] = [
      ["accettazione", (headers) => buildAccettazione(pki.alfa, tx, { headers, date: DATE })],
      ["non accettazione", (headers) => buildNonAccettazione(pki.alfa, tx, { headers, date: DATE })],
      ["busta", (headers) => buildBusta(pki.alfa, tx, { original, headers, date: DATE })],
      ["anomalia", (headers) => buildAnomalia(pki.beta, { received: other, reason: "r", headers, date: DATE })],
      ["presa in carico", (headers) => buildPresaInCarico(pki.beta, tx, { ricezione: [ANNA], to: pki.alfa.email, headers, date: DATE })],
      ["consegna", (headers) => buildAvvenutaConsegna(pki.beta, tx, { consegna: ANNA, original, headers, date: DATE })],
      ["errore consegna", (headers) => buildErroreConsegna(pki.beta, tx, { consegna: ANNA, errore: "no-dest", headers, date: DATE })],
      ["rilevazione virus", (headers) => buildRilevazioneVirus(pki.beta, tx, { consegna: ANNA, to: pki.alfa.email, headers, date: DATE })],
      ["preavviso", (headers) => buildPreavvisoErroreConsegna(pki.alfa, tx, { consegna: ANNA, kind: "preavviso", headers, date: DATE })],
    ];
    for (const [what, build] of builders) {
      for (const name of written) {
        await expect(build([["X-Custom", "ok"], [name, "x"]]), `${what}: ${name}`).rejects.toMatchObject({
          code: "ERR_INVALID_ARGUMENT",
          message: expect.stringContaining(name),
        });
      }
    }
  });

  it("a receipt cannot be made to read as a busta, nor carry two From or Subject", async () => {
    for (const headers of [[["X-Trasporto", "posta-certificata"]], [["From", "evil@example.com"]], [["Subject", "altro"]]] as [string, string][][]) {
      expect(await codeAsync(() => buildAccettazione(pki.alfa, tx, { headers, date: DATE }))).toBe("ERR_INVALID_ARGUMENT");
    }
  });

  it("genuinely extra fields are still written, once, after the PEC headers", async () => {
    const headers: [string, string][] = [
      ["X-Custom", "uno"],
      ["Received", "from mx.pec.alfa.test by mx.pec.beta.test; Fri, 15 Mar 2024 10:30:00 +0100"],
      ["X-Attachment", "yes"],
      ["Sender-Note", "città"],
    ];
    const a = await buildAccettazione(pki.alfa, tx, { headers, date: DATE });
    const pec = readPec(a.bytes);
    expect(pec.type).toBe("accettazione");
    expect(pec.issues).toEqual([]);
    expect(pec.message.headerAll("x-custom")).toEqual(["uno"]);
    expect(pec.message.headerAll("received")).toHaveLength(1);
    expect(pec.message.headerAll("from")).toEqual([pki.alfa.email]);
    // DATE predates the test certificates: the signature is what counts here.
    expect((await verifyPec(pec, { trust })).valid).toBe(true);
  });
});

describe("Message-IDs must be msg-ids: printable ASCII left@right", () => {
  const BAD = ["no-at-sign", "<no-at-sign>", "è@x", "<città@client>", "@x", "<x@>", "a b@c", "<<a@b>>", "a@b>", "<a@b", "a@b\u00a0c", ""];

  it("refuses a bad options.messageId", async () => {
    for (const messageId of BAD) {
      expect(await codeAsync(() => buildAccettazione(pki.alfa, tx, { messageId, date: DATE })), JSON.stringify(messageId)).toBe("ERR_INVALID_ARGUMENT");
    }
    for (const messageId of BAD) {
      const received = enc.encode(`From: ${ESTERNO}\r\nTo: ${ANNA}\r\n\r\nx\r\n`);
      expect(await codeAsync(() => buildAnomalia(pki.beta, { received, reason: "r", messageId })), JSON.stringify(messageId)).toBe("ERR_INVALID_ARGUMENT");
    }
  });

  it("refuses a bad transaction msgid, on receipts and on the busta", async () => {
    for (const msgid of BAD) {
      expect(await codeAsync(() => buildAccettazione(pki.alfa, { ...tx, msgid }, { date: DATE })), JSON.stringify(msgid)).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => buildBusta(pki.alfa, { ...tx, msgid }, { original, date: DATE })), JSON.stringify(msgid)).toBe("ERR_INVALID_ARGUMENT");
    }
  });

  it("refuses a non-ASCII identificativo, and a Message-ID composeMessage or transactionFromOriginal would carry", async () => {
    expect(await codeAsync(() => buildAccettazione(pki.alfa, { ...tx, identificativo: "opeç.1@pec.alfa.test" }, { date: DATE }))).toBe("ERR_INVALID_ARGUMENT");
    expect(code(() => composeMessage({ from: SENDER, to: ANNA, subject: "s", messageId: "è@x" }))).toBe("ERR_INVALID_ARGUMENT");
    const noAt = enc.encode(`From: ${SENDER}\r\nTo: ${ANNA}\r\nSubject: s\r\nMessage-ID: <senza-chiocciola>\r\n\r\nx\r\n`);
    expect(code(() => transactionFromOriginal(noAt, { identificativo: IDENTIFICATIVO }))).toBe("ERR_INVALID_ARGUMENT");
  });

  it("writes good ones as given, with angle brackets, never as encoded words", async () => {
    const a = await buildAccettazione(pki.alfa, { ...tx, msgid: "abc.1@client.example" }, { messageId: "ricevuta.1@pec.alfa.test", date: DATE });
    const head = new TextDecoder("latin1").decode(a.bytes.subarray(0, parseMime(a.bytes).headerEnd));
    expect(head).toContain("\r\nMessage-ID: <ricevuta.1@pec.alfa.test>\r\n");
    expect(head).toContain("\r\nX-Riferimento-Message-ID: <abc.1@client.example>\r\n");
    expect(a.messageId).toBe("<ricevuta.1@pec.alfa.test>");
    const b = await buildAccettazione(pki.alfa, tx, { messageId: "<x.y!#$%&'*+/=?^_`{|}~-@[192.0.2.1]>", date: DATE });
    expect(b.messageId).toBe("<x.y!#$%&'*+/=?^_`{|}~-@[192.0.2.1]>");
    expect(parseMime(b.bytes).header("message-id")).toBe(b.messageId);
    expect(readPec(b.bytes).msgid).toBe(MSGID);
  });

  it("a msg-id that looks like an encoded word (legal atext) is written as it is, on every message", async () => {
    // formatHeader encodes a text holding "=?" lest it be decoded, and an encoded field is no msg-id.
    const id = "<=?utf-8?q?x?=@client.example>";
    const t = { ...tx, msgid: id };
    const receipt = await buildAccettazione(pki.alfa, t, { messageId: "<=?a?b?c?=@pec.alfa.test>", date: DATE });
    expect(parseMime(receipt.bytes).header("message-id")).toBe("<=?a?b?c?=@pec.alfa.test>");
    expect(parseMime(receipt.bytes).header("x-riferimento-message-id")).toBe(id);
    const read = readPec(receipt.bytes);
    expect(read.msgid).toBe(id);
    expect(read.issues.map((i) => i.code)).not.toContain("MSGID_MISMATCH");
    const original = composeMessage({ from: SENDER, to: ANNA, subject: tx.subject, text: "x", messageId: id });
    expect(parseMime(original).header("message-id")).toBe(id);
    expect(transactionFromOriginal(original, { identificativo: IDENTIFICATIVO }).msgid).toBe(id);
    const busta = await buildBusta(pki.alfa, t, { original, date: DATE });
    expect(parseMime(busta.bytes).header("x-riferimento-message-id")).toBe(id);
    expect(readPec(busta.bytes).issues.map((i) => i.code)).not.toContain("MSGID_MISMATCH");
  });
});

describe("the busta di anomalia around a bounce or an unwritable From", () => {
  const bounce = (from: string): Uint8Array =>
    enc.encode(
      `From: ${from}\r\nTo: ${ANNA}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce.1@mx.azienda.example>\r\n\r\nThis is the mail system at host mx.azienda.example.\r\n`,
    );

  it("shows a null sender (From: <>, or sender \"\") as MAILER-DAEMON, with no Reply-To made up", async () => {
    for (const [received, sender] of [
      [bounce("<>"), undefined],
      [bounce("Mail Delivery System <>"), undefined],
      [bounce("<>"), ""],
      [enc.encode(`To: ${ANNA}\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nx\r\n`), ""],
    ] as [Uint8Array, string | undefined][]) {
      const b = await buildAnomalia(pki.beta, { received, reason: "messaggio di posta ordinaria", date: DATE, ...(sender !== undefined && { sender }) });
      const pec = readPec(b.bytes);
      expect(pec.type).toBe("anomalia");
      expect(pec.issues).toEqual([]);
      expect(pec.message.header("from")).toBe(`"Per conto di: MAILER-DAEMON" <${pki.beta.email}>`);
      expect(pec.message.headerAll("reply-to")).toEqual([]);
      expect(pec.originalSubject).toBe("Undelivered Mail Returned to Sender");
      expect((await verifyPec(pec, { trust })).valid).toBe(true);
    }
  });

  it("shows a From it cannot write as an address as written", async () => {
    const b = await buildAnomalia(pki.beta, { received: bounce("ànna@esempio.example"), reason: "messaggio di posta ordinaria", date: DATE });
    const pec = readPec(b.bytes);
    expect(pec.type).toBe("anomalia");
    // The display name is written as RFC 2047 encoded words (non-ASCII).
    expect(decodeHeaderValue(pec.message.header("from")!)).toBe(`Per conto di: ànna@esempio.example <${pki.beta.email}>`);
    expect(pec.message.headerAll("reply-to")).toEqual([]);
    expect(pec.root.children[0]!.children[0]!.children[0]!.text()).toContain('proveniente da "ànna@esempio.example"');
    expect((await verifyPec(pec, { trust })).valid).toBe(true);
  });

  it("an explicit sender wins over From: <>; a message without From still needs one", async () => {
    const b = await buildAnomalia(pki.beta, { received: bounce("<>"), reason: "r", sender: "postmaster@azienda.example", date: DATE });
    expect(readPec(b.bytes).sender).toBe("postmaster@azienda.example");
    expect(parseMime(b.bytes).header("reply-to")).toBe("postmaster@azienda.example");
    await expect(buildAnomalia(pki.beta, { received: enc.encode(`To: ${ANNA}\r\n\r\nx\r\n`), reason: "r" })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
      message: expect.stringContaining("options.sender"),
    });
  });
});
