// Refused input: header injection (CR, LF, NUL in any string) and invalid arguments.
import { beforeAll, describe, expect, it } from "vitest";
import { PecError } from "../../src/errors.js";
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
  newIdentificativo,
  prepareOriginal,
  transactionFromOriginal,
} from "../../src/pec/build/index.js";
import { ANNA, IDENTIFICATIVO, LUCA, ORDINARY, type Pki, SENDER, makeOriginal, makePki, txOf } from "./helpers.js";

let pki: Pki;
let tx: PecTransaction;
let original: Uint8Array;

beforeAll(async () => {
  pki = await makePki();
  original = makeOriginal();
  tx = txOf(original);
}, 60_000);

async function code(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (e instanceof PecError) return e.code;
    throw e;
  }
  return "no error";
}

const BAD = ["a\r\nBcc: x@y", "a\nb", "a\rb", "a\0b"];

describe("header injection is refused with ERR_HEADER_INJECTION", () => {
  const cases: [string, (bad: string) => unknown][] = [
    ["tx.subject", (bad) => buildAccettazione(pki.alfa, { ...tx, subject: `Offerta${bad}` })],
    ["tx.sender", (bad) => buildAccettazione(pki.alfa, { ...tx, sender: `${SENDER}${bad}` })],
    ["tx.recipients[].address", (bad) => buildBusta(pki.alfa, { ...tx, recipients: [{ address: `${ANNA}${bad}` }] }, { original })],
    ["tx.replyTo", (bad) => buildAccettazione(pki.alfa, { ...tx, replyTo: `${SENDER}${bad}` })],
    ["tx.identificativo", (bad) => buildAccettazione(pki.alfa, { ...tx, identificativo: `${IDENTIFICATIVO}${bad}` })],
    ["tx.msgid", (bad) => buildAccettazione(pki.alfa, { ...tx, msgid: `<m${bad}@x>` })],
    ["signer.name", (bad) => buildAccettazione({ ...pki.alfa, name: `Alfa${bad}` }, tx)],
    ["signer.domain", (bad) => buildAccettazione({ ...pki.alfa, domain: `pec.alfa.test${bad}` }, tx)],
    ["options.messageId", (bad) => buildAccettazione(pki.alfa, tx, { messageId: `<r${bad}@x>` })],
    ["options.headers", (bad) => buildAccettazione(pki.alfa, tx, { headers: [["X-Extra", `v${bad}`]] })],
    ["options.headers name", (bad) => buildAccettazione(pki.alfa, tx, { headers: [[`X-Extra${bad}`, "v"]] })],
    ["non accettazione erroreEsteso", (bad) => buildNonAccettazione(pki.alfa, tx, { erroreEsteso: `Bcc${bad}` })],
    ["errore consegna erroreEsteso", (bad) => buildErroreConsegna(pki.beta, tx, { consegna: ANNA, errore: "no-dest", erroreEsteso: `x${bad}` })],
    ["errore consegna consegna", (bad) => buildErroreConsegna(pki.beta, tx, { consegna: `${ANNA}${bad}`, errore: "no-dest" })],
    ["presa in carico to", (bad) => buildPresaInCarico(pki.beta, tx, { ricezione: [ANNA], to: `${pki.alfa.email}${bad}` })],
    ["presa in carico ricezione", (bad) => buildPresaInCarico(pki.beta, tx, { ricezione: [`${ANNA}${bad}`], to: pki.alfa.email })],
    ["rilevazione virus erroreEsteso", (bad) => buildRilevazioneVirus(pki.beta, tx, { consegna: ANNA, to: pki.alfa.email, erroreEsteso: `v${bad}` })],
    ["preavviso erroreEsteso", (bad) => buildPreavvisoErroreConsegna(pki.alfa, tx, { consegna: ANNA, kind: "preavviso", erroreEsteso: `v${bad}` })],
    ["consegna", (bad) => buildAvvenutaConsegna(pki.beta, tx, { consegna: `${ANNA}${bad}`, original })],
    ["anomalia reason", (bad) => buildAnomalia(pki.beta, { received: ORDINARY, reason: `r${bad}` })],
    ["anomalia sender", (bad) => buildAnomalia(pki.beta, { received: ORDINARY, reason: "r", sender: `a@b${bad}` })],
    ["prepareOriginal identificativo", (bad) => prepareOriginal(original, { identificativo: `id${bad}@x` })],
    ["transactionFromOriginal identificativo", (bad) => transactionFromOriginal(original, { identificativo: `id${bad}@x` })],
    ["composeMessage subject", (bad) => composeMessage({ from: SENDER, to: ANNA, subject: `s${bad}` })],
    ["composeMessage display name", (bad) => composeMessage({ from: { name: `Mario${bad}`, address: SENDER }, to: ANNA, subject: "s" })],
    ["composeMessage header", (bad) => composeMessage({ from: SENDER, to: ANNA, subject: "s", headers: [["X-A", bad]] })],
    ["composeMessage filename", (bad) => composeMessage({ from: SENDER, to: ANNA, subject: "s", attachments: [{ filename: `a${bad}.pdf`, content: new Uint8Array(1) }] })],
    ["newIdentificativo domain", (bad) => newIdentificativo(`pec.alfa.test${bad}`)],
  ];
  for (const [what, f] of cases) {
    it(what, async () => {
      for (const bad of BAD) expect(await code(() => f(bad)), JSON.stringify(bad)).toBe("ERR_HEADER_INJECTION");
    });
  }
});

describe("invalid input is refused with ERR_INVALID_ARGUMENT", () => {
  const cases: [string, () => unknown][] = [
    ["no recipients", () => buildAccettazione(pki.alfa, { ...tx, recipients: [] })],
    ["empty sender", () => buildAccettazione(pki.alfa, { ...tx, sender: "" })],
    ["sender not an address", () => buildAccettazione(pki.alfa, { ...tx, sender: "Mario Rossi" })],
    ["sender with a quote", () => buildBusta(pki.alfa, { ...tx, sender: 'a"b@pec.alfa.test' }, { original })],
    ["recipient tipo", () => buildAccettazione(pki.alfa, { ...tx, recipients: [{ address: ANNA, tipo: "pec" as "esterno" }] })],
    ["recipient field", () => buildAccettazione(pki.alfa, { ...tx, recipients: [{ address: ANNA, field: "bcc" as "cc" }] })],
    ["identificativo with brackets", () => buildAccettazione(pki.alfa, { ...tx, identificativo: `<${IDENTIFICATIVO}>` })],
    ["identificativo without @", () => buildAccettazione(pki.alfa, { ...tx, identificativo: "abc" })],
    ["msgid with spaces", () => buildAccettazione(pki.alfa, { ...tx, msgid: "<a b@c>" })],
    // A msg-id cannot be folded: past 960 characters its line would pass RFC 5322's 998.
    ["msgid too long", () => buildAccettazione(pki.alfa, { ...tx, msgid: `<${"a".repeat(960)}@y>` })],
    ["identificativo too long", () => buildAccettazione(pki.alfa, { ...tx, identificativo: `${"a".repeat(960)}@y` })],
    ["composeMessage messageId too long", () => composeMessage({ from: SENDER, to: ANNA, subject: "s", messageId: `<${"a".repeat(960)}@y>` })],
    ["anomalia recipients not an array", () => buildAnomalia(pki.beta, { received: ORDINARY, reason: "r", recipients: ANNA as unknown as string[] })],
    ["anomalia recipients null", () => buildAnomalia(pki.beta, { received: ORDINARY, reason: "r", recipients: null as unknown as string[] })],
    ["errore a BigInt", () => buildErroreConsegna(pki.beta, tx, { consegna: ANNA, errore: 10n as unknown as "altro" })],
    ["non accettazione errore a BigInt", () => buildNonAccettazione(pki.alfa, tx, { errore: 10n as unknown as "altro" })],
    ["ricevuta", () => buildAccettazione(pki.alfa, { ...tx, ricevuta: "lunga" as "breve" })],
    ["subject not a string", () => buildAccettazione(pki.alfa, { ...tx, subject: 3 as unknown as string })],
    ["no transaction", () => buildAccettazione(pki.alfa, undefined as unknown as PecTransaction)],
    ["no signer", () => buildAccettazione(undefined as unknown as typeof pki.alfa, tx)],
    ["signer without key", () => buildAccettazione({ ...pki.alfa, privateKey: undefined as unknown as CryptoKey }, tx)],
    ["signer bad domain", () => buildAccettazione({ ...pki.alfa, domain: "not a domain" }, tx)],
    ["invalid date", () => buildAccettazione(pki.alfa, tx, { date: new Date(NaN) })],
    ["form", () => buildAccettazione(pki.alfa, tx, { form: "inline" as "opaque" })],
    ["Content-Type in extra headers", () => buildAccettazione(pki.alfa, tx, { headers: [["Content-Type", "text/plain"]] })],
    ["receipt Message-ID equal to the identificativo", () => buildAccettazione(pki.alfa, tx, { messageId: IDENTIFICATIVO })],
    ["busta without original", () => buildBusta(pki.alfa, tx, {} as { original: Uint8Array })],
    ["consegna not a recipient", () => buildAvvenutaConsegna(pki.beta, tx, { consegna: "x@pec.beta.test", original })],
    ["completa without original", () => buildAvvenutaConsegna(pki.beta, tx, { consegna: ANNA })],
    ["ricevuta override", () => buildAvvenutaConsegna(pki.beta, tx, { consegna: ANNA, ricevuta: "x" as "breve", original })],
    ["errore consegna errore", () => buildErroreConsegna(pki.beta, tx, { consegna: ANNA, errore: "nessuno" as "altro" })],
    ["errore consegna without options", () => buildErroreConsegna(pki.beta, tx, undefined as unknown as { consegna: string; errore: "altro" })],
    ["non accettazione errore", () => buildNonAccettazione(pki.alfa, tx, { errore: "no-dest" as "altro" })],
    ["empty erroreEsteso", () => buildNonAccettazione(pki.alfa, tx, { erroreEsteso: " " })],
    ["presa in carico without ricezione", () => buildPresaInCarico(pki.beta, tx, { ricezione: [], to: pki.alfa.email })],
    ["presa in carico ricezione not a recipient", () => buildPresaInCarico(pki.beta, tx, { ricezione: ["z@pec.beta.test"], to: pki.alfa.email })],
    ["presa in carico to", () => buildPresaInCarico(pki.beta, tx, { ricezione: [LUCA], to: "servizio" })],
    ["rilevazione virus without to", () => buildRilevazioneVirus(pki.beta, tx, { consegna: ANNA } as { consegna: string; to: string })],
    ["preavviso kind", () => buildPreavvisoErroreConsegna(pki.alfa, tx, { consegna: ANNA, kind: "6h" as "preavviso" })],
    ["anomalia without reason", () => buildAnomalia(pki.beta, { received: ORDINARY, reason: "" })],
    ["anomalia without From", () => buildAnomalia(pki.beta, { received: new TextEncoder().encode(`To: ${ANNA}\r\n\r\nx`), reason: "r" })],
    ["anomalia received not bytes", () => buildAnomalia(pki.beta, { received: "x" as unknown as Uint8Array, reason: "r" })],
    ["composeMessage without recipients", () => composeMessage({ from: SENDER, to: [], subject: "s" })],
    ["composeMessage bad address", () => composeMessage({ from: SENDER, to: "anna", subject: "s" })],
    ["composeMessage bad content type", () => composeMessage({ from: SENDER, to: ANNA, subject: "s", attachments: [{ filename: "a", contentType: "pdf", content: new Uint8Array(1) }] })],
    ["prepareOriginal not bytes", () => prepareOriginal("x" as unknown as Uint8Array, { identificativo: IDENTIFICATIVO })],
    ["transactionFromOriginal without recipients", () => transactionFromOriginal(new TextEncoder().encode(`From: ${SENDER}\r\n\r\n`), { identificativo: IDENTIFICATIVO })],
  ];
  for (const [what, f] of cases) {
    it(what, async () => {
      expect(await code(f)).toBe("ERR_INVALID_ARGUMENT");
    });
  }
});
