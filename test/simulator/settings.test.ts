// Gestore behaviour settings checked on every assignment, whole-second dates with a
// fractional reception delay, bounces and odd senders at the punto di ricezione, and a
// Message-ID that is not a msg-id at the punto di accesso. Runs in Node and Chromium.
import { beforeAll, describe, expect, it } from "vitest";
import { PecError } from "../../src/errors.js";
import { decodeHeaderValue } from "../../src/mime/index.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec } from "../../src/pec/verify.js";
import { type Gestore, type PecFlow, PecNetwork, type ScenarioPki, createScenarioPki, scenarioNetwork, signatureAntivirus } from "../../src/simulator/index.js";
import { code, codeAsync } from "../support/outcome.js";
import { NOT_BEFORE, START, anna, mario } from "./helpers.js";

const enc = new TextEncoder();
const HOUR = 3600_000;
let pki: ScenarioPki;

beforeAll(async () => {
  pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
}, 60_000);

const base = { from: mario, to: anna, subject: "Prova", text: "Ciao", messageId: "<prova@client.alfa.test>", date: START };
const labels = (flow: PecFlow): string[] => flow.messages.map((m) => `${m.type}${m.variant ? `/${m.variant}` : ""}`);

describe("behaviour settings are checked when assigned, as in addGestore", () => {
  const bad: [keyof Gestore & string, unknown][] = [
    ["receptionDelay", NaN],
    ["receptionDelay", -5 * HOUR],
    ["receptionDelay", Infinity],
    ["receptionDelay", "1h"],
    ["availability", "offline"],
    ["availability", undefined],
    ["antivirus", "yes"],
    ["antivirus", true],
    ["antivirus", null],
    ["maxMessageSize", -1],
    ["maxMessageSize", 0],
    ["maxMessageSize", NaN],
    ["maxMessageSize", "100MB"],
    ["acceptsOrdinaryMail", "no"],
    ["acceptsOrdinaryMail", undefined],
  ];

  it("a bad value throws ERR_INVALID_ARGUMENT at once, naming the setting, and changes nothing", async () => {
    const { alfa, beta } = await scenarioNetwork(pki, { now: () => START });
    const settings = (g: Gestore): unknown[] => [g.receptionDelay, g.availability, g.antivirus, g.maxMessageSize, g.acceptsOrdinaryMail];
    const before = settings(beta);
    for (const [name, value] of bad) {
      const assign = (): void => {
        (beta as unknown as Record<string, unknown>)[name] = value;
      };
      expect(code(assign), `${name} = ${String(value)}`).toBe("ERR_INVALID_ARGUMENT");
      expect(assign).toThrow(name);
    }
    expect(settings(beta)).toEqual(before);
    // The gestore still works as before.
    expect(labels(await alfa.send(base))).toEqual(["accettazione", "posta-certificata/completa", "presa-in-carico", "posta-certificata/completa", "avvenuta-consegna/completa"]);
  });

  it("addGestore refuses the same values", async () => {
    const network = new PecNetwork({ ca: pki.ca });
    for (const [name, value] of bad.filter(([, v]) => v !== undefined)) {
      expect(await codeAsync(() => network.addGestore({ identity: pki.alfa, [name]: value })), `${name} = ${String(value)}`).toBe("ERR_INVALID_ARGUMENT");
    }
    expect(network.gestori).toEqual([]);
  });

  it("good values are taken and act on the next flow", async () => {
    const { alfa, beta } = await scenarioNetwork(pki, { now: () => START });
    beta.availability = "unreachable";
    expect(labels(await alfa.send(base))).toEqual([
      "accettazione",
      "posta-certificata/completa",
      "preavviso-errore-consegna/preavviso",
      "preavviso-errore-consegna/scadenza",
    ]);
    beta.availability = "online";
    beta.antivirus = false as never;
    expect(beta.antivirus).toBeUndefined();
    beta.antivirus = signatureAntivirus({ "Test.Firma": "Ciao" });
    expect(labels(await alfa.send(base))).toContain("rilevazione-virus/virus");
    beta.antivirus = undefined;
    alfa.maxMessageSize = 10;
    expect(labels(await alfa.send(base))).toEqual(["non-accettazione/altro"]);
    alfa.maxMessageSize = Infinity;
    beta.receptionDelay = 15 * HOUR;
    expect(beta.receptionDelay).toBe(15 * HOUR);
    expect(labels(await alfa.send(base))).toContain("preavviso-errore-consegna/preavviso");
    beta.acceptsOrdinaryMail = false;
    expect((await beta.receive({ from: "info@azienda.example", to: anna, subject: "x", text: "x" })).messages).toEqual([]);
  });
});

describe("a fractional receptionDelay keeps step dates and message dates in agreement", () => {
  for (const delay of [24 * HOUR - 1, 24 * HOUR - 2500, 12 * HOUR - 1500.5, 0.4]) {
    it(`receptionDelay = ${delay} ms`, async () => {
      const { alfa, beta, network } = await scenarioNetwork(pki, { now: () => START });
      beta.receptionDelay = delay;
      const flow = await alfa.send(base);
      const trust = await network.trustStore();
      for (const m of flow.messages) {
        expect(m.date.getTime() % 1000, `${m.step} ${m.type}`).toBe(0);
        expect(m.message.date.getTime() % 1000).toBe(0);
        expect(m.date >= m.message.date).toBe(true);
        expect((await verifyPec(m.message.bytes, { trust })).trusted).toBe(true);
      }
      for (let i = 1; i < flow.messages.length; i++) expect(flow.messages[i - 1]!.date <= flow.messages[i]!.date).toBe(true);
      // The busta reaches the mailbox before (or when) its avvenuta consegna is issued.
      const delivered = flow.messages.findIndex((m) => m.type === "posta-certificata" && m.destination.kind === "mailbox");
      const consegna = flow.messages.findIndex((m) => m.type === "avvenuta-consegna");
      expect(delivered).toBeGreaterThan(0);
      expect(consegna).toBeGreaterThan(delivered);
      expect(flow.messages[delivered]!.date.getTime()).toBe(flow.messages[consegna]!.message.date.getTime());
      for (const n of flow.notes) expect(n.date.getTime() % 1000).toBe(0);
    });
  }
});

describe("the punto di ricezione wraps bounces and odd senders in a busta di anomalia", () => {
  let beta: Gestore;
  beforeAll(async () => {
    ({ beta } = await scenarioNetwork(pki, { now: () => START }));
  });

  const bounce = (from: string | undefined): Uint8Array =>
    enc.encode(
      (from === undefined ? "" : `From: ${from}\r\n`) +
        `To: ${anna}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b.1@mx.azienda.example>\r\n\r\nThis is the mail system at host mx.azienda.example.\r\n`,
    );

  async function anomalia(flow: PecFlow): Promise<ReturnType<typeof readPec>> {
    expect(flow.messages.map((m) => [m.type, m.to])).toEqual([["anomalia", [anna]]]);
    const pec = readPec(flow.messages[0]!.message.bytes);
    expect(pec.type).toBe("anomalia");
    expect(pec.subject).toBe("ANOMALIA MESSAGGIO: Undelivered Mail Returned to Sender");
    expect(pec.issues).toEqual([]);
    expect((await verifyPec(pec, { trust: await beta.network.trustStore() })).trusted).toBe(true);
    return pec;
  }

  it("From: <> (a bounce) is delivered, the sender shown as MAILER-DAEMON", async () => {
    for (const options of [{}, { mailFrom: "" }]) {
      const pec = await anomalia(await beta.receive(bounce("<>"), options));
      expect(pec.message.header("from")).toBe(`"Per conto di: MAILER-DAEMON" <${beta.email}>`);
      expect(pec.message.headerAll("reply-to")).toEqual([]);
    }
  });

  it("the SMTP MAIL FROM wins when given; with a null MAIL FROM the From is shown", async () => {
    const given = await anomalia(await beta.receive(bounce("<>"), { mailFrom: "postmaster@azienda.example" }));
    expect(given.sender).toBe("postmaster@azienda.example");
    const daemon = await anomalia(await beta.receive(bounce("MAILER-DAEMON@mx.azienda.example (Mail Delivery System)"), { mailFrom: "" }));
    expect(daemon.sender).toBe("MAILER-DAEMON@mx.azienda.example");
    const none = await anomalia(await beta.receive(bounce(undefined), { mailFrom: "" }));
    expect(none.message.header("from")).toBe(`"Per conto di: MAILER-DAEMON" <${beta.email}>`);
  });

  it("a From that is not an address postacert can write is shown as written", async () => {
    const pec = await anomalia(await beta.receive(bounce("ànna@esempio.example")));
    expect(decodeHeaderValue(pec.message.header("from")!)).toBe(`Per conto di: ànna@esempio.example <${beta.email}>`);
    // Read back: the colon of the decoded display name does not start a group.
    expect(pec.sender).toBe("ànna@esempio.example");
    expect(pec.from).toBe(beta.email);
    expect(pec.message.headerAll("reply-to")).toEqual([]);
  });

  it("a message without From and without MAIL FROM names the receive() option", async () => {
    const err = beta.receive(bounce(undefined));
    await expect(err).rejects.toThrow(PecError);
    await expect(err).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("options.mailFrom") });
    await expect(err).rejects.not.toThrow("options.sender");
  });
});

describe("the punto di accesso and the client's Message-ID", () => {
  it("a Message-ID that is not a msg-id is a formal error (non accettazione), not an exception", async () => {
    const { alfa } = await scenarioNetwork(pki, { now: () => START });
    for (const id of ["<senza-chiocciola>", "<città@client>"]) {
      const bytes = enc.encode(`From: ${mario}\r\nTo: ${anna}\r\nSubject: s\r\nMessage-ID: ${id}\r\n\r\nx\r\n`);
      const flow = await alfa.send(bytes);
      expect(labels(flow)).toEqual(["non-accettazione/altro"]);
      const pec = readPec(flow.messages[0]!.message.bytes);
      expect(pec.erroreEsteso).toMatch(/Message-ID/);
      expect(pec.issues).toEqual([]);
    }
  });
});
