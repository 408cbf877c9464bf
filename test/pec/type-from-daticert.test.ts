// The outer headers of a PEC message are outside the signature, daticert.xml is inside it: an
// edited X-Ricevuta / X-Trasporto must not change what a verified message is.
import { beforeAll, expect, it } from "vitest";
import { pecToJson } from "../../src/pec/json.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec } from "../../src/pec/verify.js";
import { createScenarioPki, runScenario } from "../../src/simulator/index.js";
import { correlate } from "../../src/transactions/index.js";
import { TrustStore } from "../../src/trust/store.js";
import { NOT_BEFORE, START, nessuno } from "../simulator/helpers.js";

let flow: Uint8Array[];
let trust: TrustStore;
beforeAll(async () => {
  const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
  flow = (await runScenario("unknown-recipient", { pki, start: START })).flow.messages.map((m) => m.message.bytes);
  trust = await TrustStore.fromCertificates([pki.ca.certificate]);
}, 60_000);

const text = (b: Uint8Array): string => new TextDecoder("latin1").decode(b);
const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The message with one outer header line replaced (the first match only: the outer headers come first). */
function edit(b: Uint8Array, from: RegExp, to: string): Uint8Array {
  const s = text(b);
  expect(s).toMatch(from);
  return bytes(s.replace(from, to));
}

it("an errore-consegna whose X-Ricevuta says avvenuta-consegna stays an errore-consegna, flagged", async () => {
  const errore = flow.find((b) => readPec(b).type === "errore-consegna")!;
  const forged = edit(errore, /^X-Ricevuta: errore-consegna\r?$/m, "X-Ricevuta: avvenuta-consegna");
  const pec = readPec(forged);
  expect(pec.type).toBe("errore-consegna");
  expect(pec.errore).toBe("no-dest");
  expect(pec.issues).toContainEqual(expect.objectContaining({ code: "TYPE_MISMATCH", severity: "error" }));
  expect(pec.issues.map((i) => i.code)).not.toContain("CLASSIFIED_BY_DATICERT");
  // The signature holds (the edit is outside it), and what it vouches for is the failure.
  const res = await verifyPec(forged, { trust });
  expect(res.valid && res.trusted).toBe(true);
  expect(res.pec.type).toBe("errore-consegna");
  // So correlation sees the failure, not a delivery.
  const { transactions } = correlate(flow.filter((b) => b !== errore).concat(forged).map((b) => readPec(b)));
  expect(transactions[0]!.recipients.find((r) => r.address === nessuno)?.state).toBe("mancata-consegna");
});

it("a receipt given X-Trasporto (busta, or busta di anomalia) keeps its signed type", () => {
  const consegna = flow.find((b) => readPec(b).type === "avvenuta-consegna")!;
  for (const trasporto of ["posta-certificata", "errore"]) {
    const forged = edit(consegna, /^X-Ricevuta: avvenuta-consegna\r?$/m, `X-Trasporto: ${trasporto}`);
    const pec = readPec(forged);
    expect(pec.type).toBe("avvenuta-consegna");
    expect(pec.issues).toContainEqual(expect.objectContaining({ code: "TYPE_MISMATCH" }));
  }
});

it("an edited Subject is flagged, and originalSubject stays the signed oggetto", () => {
  const busta = flow.find((b) => readPec(b).type === "posta-certificata")!;
  const signed = readPec(busta).originalSubject!;
  const forged = readPec(edit(busta, /^Subject: POSTA CERTIFICATA: .*$/m, "Subject: POSTA CERTIFICATA: Pagamento urgente"));
  expect(forged.subject).toBe("POSTA CERTIFICATA: Pagamento urgente");
  expect(forged.originalSubject).toBe(signed);
  expect(forged.issues).toContainEqual(expect.objectContaining({ code: "SUBJECT_MISMATCH", severity: "warning" }));
});

it("a part appended after the signature is flagged, never read, and leaves the signature intact", async () => {
  const busta = flow.find((b) => readPec(b).type === "posta-certificata")!;
  const boundary = /^Content-Type: multipart\/signed;[^]*?boundary="?([^";\r\n]+)/m.exec(text(busta))![1]!;
  const closing = `--${boundary}--`;
  const extra = `--${boundary}\r\nContent-Type: text/html\r\n\r\n<p>Pagare subito sul conto IT00X</p>\r\n${closing}`;
  const forged = edit(busta, new RegExp(closing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), extra);
  const pec = readPec(forged);
  expect(pec.issues).toContainEqual({
    code: "UNSIGNED_PART",
    severity: "warning",
    message: "the multipart/signed carries 1 part(s) after the signature (text/html): outside the signature, ignored here, but a mail client may show them",
  });
  // What readPec shows is the signed content: the gestore's text, the original inside.
  expect(pec.text).toBe(readPec(busta).text);
  expect(pec.html).toBe(readPec(busta).html);
  expect(pec.html).not.toContain("IT00X");
  expect(JSON.stringify(pecToJson(pec))).not.toContain("IT00X");
  const res = await verifyPec(forged, { trust });
  expect(res.valid && res.trusted).toBe(true);
  for (const b of flow) expect(readPec(b).issues.map((i) => i.code)).not.toContain("UNSIGNED_PART");
});

it("a Date header moved away from the daticert time is flagged; date stays the signed time", () => {
  const consegna = flow.find((b) => readPec(b).type === "avvenuta-consegna")!;
  const signed = readPec(consegna).date!;
  const header = (ms: number): string => new Date(signed.getTime() + ms).toUTCString().replace("GMT", "+0000");
  const moved = readPec(edit(consegna, /^Date: .*$/m, `Date: ${header(-3 * 86_400_000)}`));
  expect(moved.date).toEqual(signed);
  expect(moved.issues).toContainEqual({
    code: "DATE_MISMATCH",
    severity: "warning",
    message: `the Date header says ${header(-3 * 86_400_000)} but daticert says ${signed.toISOString()}: the time is daticert's`,
  });
  // Seconds apart, as real gestori write them, or gone: nothing to say.
  expect(readPec(edit(consegna, /^Date: .*$/m, `Date: ${header(-6_000)}`)).issues.map((i) => i.code)).not.toContain("DATE_MISMATCH");
  expect(readPec(edit(consegna, /^Date: .*\r?\n/m, "")).issues.map((i) => i.code)).not.toContain("DATE_MISMATCH");
});

it("a Date header ten days after a one-digit day, at the same clock time, is flagged too", async () => {
  const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
  const early = (await runScenario("ok-completa", { pki, start: new Date("2026-03-06T09:30:00Z") })).flow.messages.map((m) => m.message.bytes);
  const consegna = early.find((b) => readPec(b).type === "avvenuta-consegna")!;
  expect(text(consegna)).toMatch(/^Date: \w{3}, 6 Mar 2026 /m);
  expect(readPec(consegna).issues.map((i) => i.code)).not.toContain("DATE_MISMATCH");
  const moved = readPec(edit(consegna, /^Date: \w{3}, 6 Mar 2026 /m, "Date: Mon, 16 Mar 2026 "));
  expect(moved.issues.map((i) => i.code)).toContain("DATE_MISMATCH");
});

it("a PEC header given twice is flagged with both values; the first is read, and daticert still decides the type", async () => {
  const errore = flow.find((b) => readPec(b).type === "errore-consegna")!;
  // A second X-Ricevuta added above the real one: it is the one a header reader finds first.
  const added = readPec(edit(errore, /^X-Ricevuta: /m, "X-Ricevuta: avvenuta-consegna\r\nX-Ricevuta: "));
  expect(added.type).toBe("errore-consegna");
  expect(added.issues).toContainEqual({
    code: "HEADER_REPEATED",
    severity: "warning",
    message: 'X-Ricevuta is given 2 times ("avvenuta-consegna", "errore-consegna"); only the first is read',
  });
  expect(added.issues.map((i) => i.code)).toContain("TYPE_MISMATCH");
  // Reported once per header, however often it is repeated, and in any case.
  const thrice = readPec(edit(errore, /^X-Ricevuta: .*$/m, "X-Ricevuta: errore-consegna\r\nx-ricevuta: errore-consegna\r\nX-RICEVUTA: errore-consegna"));
  expect(thrice.issues.filter((i) => i.code === "HEADER_REPEATED").map((i) => i.message)).toEqual([
    'X-Ricevuta is given 3 times ("errore-consegna", "errore-consegna", "errore-consegna"); only the first is read',
  ]);
  for (const b of flow) expect(readPec(b).issues.map((i) => i.code)).not.toContain("HEADER_REPEATED");
});

it("headers that agree with daticert.xml raise nothing", () => {
  for (const b of flow) expect(readPec(b).issues.map((i) => i.code)).not.toContain("TYPE_MISMATCH");
  for (const b of flow) expect(readPec(b).issues.map((i) => i.code)).not.toContain("SUBJECT_MISMATCH");
  for (const b of flow) expect(readPec(b).issues.map((i) => i.code)).not.toContain("DATE_MISMATCH");
});
