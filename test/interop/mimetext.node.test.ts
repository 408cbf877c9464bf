// An original written by another MIME library, mimetext (as a Node mail client would
// compose it: LF line ends from os.EOL, RFC 2047 base64 words, text + HTML + attachments),
// goes through the punto di accesso's edit (prepareOriginal), into a busta di trasporto
// and a ricevuta completa, and reads back the same: subject, sender, recipients, text,
// HTML and attachment bytes.
import { createMimeMessage } from "mimetext";
import { beforeAll, describe, expect, it } from "vitest";
import {
  TrustStore,
  buildAvvenutaConsegna,
  buildBusta,
  createGestore,
  createTestCa,
  newIdentificativo,
  parseMime,
  prepareOriginal,
  readPec,
  transactionFromBusta,
  transactionFromOriginal,
  verifyPec,
  type PecOriginal,
  type TestGestore,
} from "../../src/index.js";

const MARIO = "mario.rossi@pec.alfa.test";
const ANNA = "anna.bianchi@pec.beta.test";
const LUCA = "luca.verdi@pec.beta.test";
const SUBJECT = "Offerta n. 12/2026 — città di Forlì";
const TEXT = "Buongiorno,\nin allegato l'offerta e il capitolato.\n";
const HTML = "<p>Buongiorno,<br>in allegato l'offerta e il capitolato.</p>";
const PDF = new Uint8Array(700).map((_, i) => (i * 7) % 256);
const CSV = "voce;importo\ncapitolato;1000\n";

function mimetextOriginal(): { bytes: Uint8Array; messageId: string } {
  const msg = createMimeMessage();
  msg.setSender({ name: "Mario Rossi", addr: MARIO });
  msg.setTo({ name: "Anna Bianchi", addr: ANNA });
  msg.setCc(LUCA);
  msg.setSubject(SUBJECT);
  msg.addMessage({ contentType: "text/plain", data: TEXT });
  msg.addMessage({ contentType: "text/html", data: HTML });
  msg.addAttachment({ filename: "offerta.pdf", contentType: "application/pdf", data: Buffer.from(PDF).toString("base64") });
  msg.addAttachment({ filename: "capitolato.csv", contentType: "text/csv", data: Buffer.from(CSV).toString("base64") });
  const raw = msg.asRaw();
  return { bytes: new TextEncoder().encode(raw), messageId: String(msg.getHeader("Message-ID")) };
}

function expectSameOriginal(original: PecOriginal | undefined, messageId: string, identificativo: string): void {
  expect(original).toBeDefined();
  expect(original!.subject).toBe(SUBJECT);
  expect(original!.from).toContain(MARIO);
  expect(original!.to).toEqual([ANNA]);
  expect(original!.cc).toEqual([LUCA]);
  expect(original!.messageId).toBe(`<${identificativo}>`);
  expect(original!.riferimentoMessageId).toBe(messageId);
  // mimetext leaves a blank line between each part and the next delimiter: it belongs to the body.
  expect(original!.text?.replace(/\r\n/g, "\n").trimEnd()).toBe(TEXT.trimEnd());
  expect(original!.html?.replace(/\r\n/g, "\n").trim()).toBe(HTML);
  expect(original!.attachments.map((a) => [a.filename, a.mimeType])).toEqual([
    ["offerta.pdf", "application/pdf"],
    ["capitolato.csv", "text/csv"],
  ]);
  expect(original!.attachments[0]!.content()).toEqual(PDF);
  expect(new TextDecoder().decode(original!.attachments[1]!.content())).toBe(CSV);
}

describe("an original composed with mimetext", () => {
  let alfa: TestGestore;
  let beta: TestGestore;
  let trust: TrustStore;

  beforeAll(async () => {
    const ca = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
    alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm: "ECDSA-P256" });
    beta = await createGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", ca, keyAlgorithm: "ECDSA-P256" });
    trust = await TrustStore.fromPem(ca.pem());
  });

  it("is what mimetext writes: LF line ends, multipart/mixed, an RFC 2047 subject", () => {
    const { bytes } = mimetextOriginal();
    const text = new TextDecoder().decode(bytes);
    expect(text).not.toContain("\r\n");
    expect(text).toMatch(/^Subject: =\?utf-8\?B\?/m);
    const root = parseMime(bytes);
    expect(root.contentType.mimeType).toBe("multipart/mixed");
  });

  it("keeps its body byte for byte through prepareOriginal", () => {
    const { bytes, messageId } = mimetextOriginal();
    const identificativo = newIdentificativo("pec.alfa.test");
    const prepared = prepareOriginal(bytes, { identificativo });
    const before = parseMime(bytes);
    const after = parseMime(prepared);
    expect(after.bodyBytes()).toEqual(before.bodyBytes());
    expect(after.header("message-id")).toBe(`<${identificativo}>`);
    expect(after.header("x-riferimento-message-id")).toBe(messageId);
  });

  it("is wrapped in a busta di trasporto and read back with the same subject, parts and attachments", async () => {
    const { bytes, messageId } = mimetextOriginal();
    const tx = transactionFromOriginal(bytes, { identificativo: newIdentificativo(alfa.domain) });
    expect(tx.sender).toBe(MARIO);
    expect(tx.subject).toBe(SUBJECT);
    expect(tx.recipients).toEqual([
      { address: ANNA, tipo: "certificato", field: "to" },
      { address: LUCA, tipo: "certificato", field: "cc" },
    ]);
    const busta = await buildBusta(alfa, tx, { original: bytes });
    const pec = readPec(busta.bytes);
    expect(pec.type).toBe("posta-certificata");
    expect(pec.originalSubject).toBe(SUBJECT);
    expect(pec.sender).toBe(MARIO);
    expect(pec.daticert?.intestazione.oggetto).toBe(SUBJECT);
    expect(pec.daticert?.dati.msgid).toBe(messageId);
    expect(pec.issues.filter((i) => i.severity === "error")).toEqual([]);
    expectSameOriginal(pec.original, messageId, tx.identificativo);
    const res = await verifyPec(pec, { trust });
    expect([res.valid, res.trusted]).toEqual([true, true]);

    // The recipient's ricevuta completa carries the same original.
    const consegna = await buildAvvenutaConsegna(beta, transactionFromBusta(busta.bytes), { consegna: ANNA, original: busta.bytes });
    const receipt = readPec(consegna.bytes);
    expect([receipt.type, receipt.ricevuta]).toEqual(["avvenuta-consegna", "completa"]);
    expectSameOriginal(receipt.original, messageId, tx.identificativo);
    expect((await verifyPec(receipt, { trust })).trusted).toBe(true);
  });
});
