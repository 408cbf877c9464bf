// The network (IGPEC role), the gestore's checks and options, receive(), the antivirus,
// bad input, determinism, and one RSA-2048 flow end to end. Runs in Node and Chromium.
import { beforeAll, describe, expect, it } from "vitest";
import { PecError } from "../../src/errors.js";
import { parseMime } from "../../src/mime/index.js";
import { composeMessage } from "../../src/pec/build/index.js";
import { signSmime } from "../../src/smime/sign.js";
import { decodeBase64, encodeBase64 } from "../../src/util/base64.js";
import { concatBytes } from "../../src/util/bytes.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec } from "../../src/pec/verify.js";
import {
  EICAR_SIGNATURE_NAME,
  type Gestore,
  PecNetwork,
  type ScenarioPki,
  createScenarioPki,
  defaultAntivirus,
  destinationLabel,
  eicarTestFile,
  runScenario,
  samplePdf,
  scenarioNetwork,
  signatureAntivirus,
} from "../../src/simulator/index.js";
import { TrustStore } from "../../src/trust/store.js";
import { NOT_BEFORE, START, anna, dismesso, esterno, luca, mario } from "./helpers.js";

const enc = new TextEncoder();
let pki: ScenarioPki;
let network: PecNetwork;
let alfa: Gestore;
let beta: Gestore;

beforeAll(async () => {
  pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
  ({ network, alfa, beta } = await scenarioNetwork(pki, { now: () => START }));
}, 60_000);

const simple = (extra: Partial<Parameters<typeof composeMessage>[0]> = {}): Parameters<typeof composeMessage>[0] => ({
  from: mario,
  to: anna,
  subject: "Prova",
  text: "Ciao",
  messageId: "<prova@client.alfa.test>",
  date: START,
  ...extra,
});

function code(err: unknown): string | undefined {
  return err instanceof PecError ? err.code : undefined;
}

describe("the network answers the IGPEC questions", () => {
  it("certificato vs esterno, by the domains listed (served or retired)", () => {
    expect(network.isCertificato(anna)).toBe(true);
    expect(network.isCertificato("ANNA.BIANCHI@PEC.BETA.TEST")).toBe(true);
    expect(network.isCertificato(dismesso)).toBe(true);
    expect(network.isCertificato(esterno)).toBe(false);
    expect(network.isCertificato("not an address")).toBe(false);
    expect(network.gestoreFor(dismesso)).toBe(beta);
    expect(network.gestoreForDomain("pec.alfa.test")).toBe(alfa);
    expect(network.gestoreByEmail("posta-certificata@pec.beta.test")).toBe(beta);
    expect(beta.serves("pec.dismesso.test")).toBe(false);
    expect(beta.retiredDomains).toEqual(["pec.dismesso.test"]);
  });

  it("publishes the gestori as LDIF (mailReceipt, managedDomains) and the CA as PEM", async () => {
    const ldif = await network.igpecLdif();
    expect(ldif).toContain("providerName: Gestore Beta S.p.A.");
    expect(ldif).toContain("mailReceipt: posta-certificata@pec.beta.test");
    expect(ldif).toContain("managedDomains: pec.dismesso.test");
    const store = await TrustStore.fromLdif(ldif);
    expect(store.providers.map((p) => p.name)).toEqual(["Gestore Alfa S.p.A.", "Gestore Beta S.p.A."]);
    expect(store.rejected).toEqual([]);
    expect(network.caPem()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect((await TrustStore.fromPem(network.caPem())).anchors).toHaveLength(1);
  });

  it("serializes to JSON without cycles", async () => {
    const flow = await alfa.send(simple(), { start: START });
    const json = JSON.parse(JSON.stringify(flow)) as { messages: { emitter: { name: string } }[] };
    expect(json.messages[0]!.emitter.name).toBe("Gestore Alfa S.p.A.");
    expect(JSON.parse(JSON.stringify(network)).gestori).toHaveLength(2);
  });

  it("refuses a domain that belongs to another gestore, and bad gestori", async () => {
    await expect(network.addGestore({ identity: pki.beta })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    const other = new PecNetwork({ ca: pki.ca });
    await expect(other.addGestore({ identity: pki.alfa, retiredDomains: ["pec.alfa.test"] })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(other.addGestore({ identity: pki.alfa, mailboxes: ["anna@pec.beta.test"] })).rejects.toThrow(/not at a domain/);
    await expect(other.addGestore({ identity: pki.alfa, domain: ["other.test", "pec.alfa.test"] })).rejects.toThrow(/list pec.alfa.test first/);
    await expect(other.addGestore({ name: "X" })).rejects.toThrow(/needs a domain/);
    await expect(other.addGestore({ domain: "x.test" })).rejects.toThrow(/needs a name/);
    await expect(other.addGestore({ name: "X", domain: "not a domain" })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(other.addGestore(null as never)).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    expect(() => new PecNetwork({} as never)).toThrow(PecError);
  });
});

describe("the punto di accesso", () => {
  it("takes messages only from its own users", async () => {
    const err = await alfa.send(simple({ from: "sconosciuto@pec.alfa.test" }), { start: START }).catch((e: unknown) => e);
    expect(code(err)).toBe("ERR_INVALID_ARGUMENT");
    expect(String(err)).toMatch(/not a mailbox of Gestore Alfa/);
  });

  it("refuses MAIL FROM different from From (non accettazione)", async () => {
    expect(alfa.hasMailbox("giulia.neri@pec.alfa.test")).toBe(true);
    const flow = await alfa.send(simple(), { start: START, mailFrom: "giulia.neri@pec.alfa.test" });
    expect(flow.messages.map((m) => [m.type, m.variant, m.to[0]])).toEqual([["non-accettazione", "altro", "giulia.neri@pec.alfa.test"]]);
    const pec = readPec(flow.messages[0]!.message.bytes);
    expect(pec.erroreEsteso).toMatch(/MAIL FROM/);
    expect(pec.sender).toBe("giulia.neri@pec.alfa.test");
  });

  it("refuses an RCPT TO missing from To and Cc, and a message without To", async () => {
    const a = await alfa.send(simple(), { start: START, rcptTo: [anna, luca] });
    expect(a.messages.map((m) => m.type)).toEqual(["non-accettazione"]);
    expect(readPec(a.messages[0]!.message.bytes).erroreEsteso).toContain(`il destinatario ${luca} non è presente`);
    const b = await alfa.send(simple({ to: [], cc: anna }), { start: START });
    expect(b.messages.map((m) => m.type)).toEqual(["non-accettazione"]);
    expect(readPec(b.messages[0]!.message.bytes).erroreEsteso).toMatch(/campo To/);
  });

  it("refuses a From with two addresses, even from a raw message", async () => {
    const raw = enc.encode(
      `From: ${mario}, giulia.neri@pec.alfa.test\r\nTo: ${anna}\r\nSubject: Due mittenti\r\nMessage-ID: <due@client.alfa.test>\r\n\r\nCiao\r\n`,
    );
    const flow = await alfa.send(raw, { start: START });
    expect(flow.messages.map((m) => [m.type, m.variant])).toEqual([["non-accettazione", "altro"]]);
    const pec = readPec(flow.messages[0]!.message.bytes);
    expect(pec.erroreEsteso).toMatch(/un solo indirizzo/);
    expect(pec.originalSubject).toBe("Due mittenti");
    // Bare LF line breaks are canonicalised to CRLF, as SMTP would.
    const lf = await alfa.send(enc.encode(`From: ${mario}\nTo: ${anna}\nSubject: LF\n\nCiao\n`), { start: START });
    expect(lf.messages[0]!.type).toBe("accettazione");
  });

  it("refuses a message over the size limit (size × recipients)", async () => {
    const bytes = composeMessage(simple({ to: [anna, luca] }));
    const { alfa: small } = await scenarioNetwork(pki);
    small.maxMessageSize = bytes.length * 2 - 1;
    const flow = await small.send(bytes, { start: START });
    expect(flow.messages.map((m) => m.type)).toEqual(["non-accettazione"]);
    // Sizes the reader can compare, not "0.0 MB supera il limite di 0.0 MB".
    expect(readPec(flow.messages[0]!.message.bytes).erroreEsteso).toContain(`(${bytes.length * 2} byte) supera il limite di ${bytes.length * 2 - 1} byte`);
    small.maxMessageSize = bytes.length * 2;
    expect((await small.send(bytes, { start: START })).messages[0]!.type).toBe("accettazione");
    // Megabytes, the Italian way, when they tell the two sizes apart.
    small.maxMessageSize = 1024 * 1024;
    const big = composeMessage(simple({ to: [anna, luca], attachments: [{ filename: "a.bin", content: new Uint8Array(600_000) }] }));
    const refused = await small.send(big, { start: START });
    expect(readPec(refused.messages[0]!.message.bytes).erroreEsteso).toMatch(/\(1,\d MB\) supera il limite di 1,0 MB/);
  });

  it("lets EICAR through when it has no antivirus (then the recipient gestore catches it)", async () => {
    const { alfa: blind } = await scenarioNetwork(pki);
    blind.antivirus = undefined;
    const flow = await blind.send(simple({ attachments: [{ filename: "eicar.com", content: eicarTestFile() }] }), { start: START });
    expect(flow.messages.map((m) => `${m.type}${m.variant ? `/${m.variant}` : ""}`)).toEqual([
      "accettazione",
      "posta-certificata/completa",
      "rilevazione-virus/virus",
      "errore-consegna/virus",
    ]);
    expect(readPec(flow.messages[2]!.message.bytes).erroreEsteso).toBe(EICAR_SIGNATURE_NAME);
  });

  it("uses the identificativo, SMTP envelope and clock it is given; dates are deterministic", async () => {
    const flow = await alfa.send(simple({ to: anna, cc: luca }), { start: START, identificativo: "opec.test.1@pec.alfa.test" });
    expect(flow.identificativo).toBe("opec.test.1@pec.alfa.test");
    for (const m of flow.messages) expect(readPec(m.message.bytes).identificativo).toBe("opec.test.1@pec.alfa.test");
    const again = await alfa.send(simple({ to: anna, cc: luca }), { start: START });
    expect(again.messages.map((m) => m.date.toISOString())).toEqual(flow.messages.map((m) => m.date.toISOString()));
    // The network clock is the default start.
    const byClock = await alfa.send(simple());
    expect(byClock.start.getTime()).toBe(START.getTime());
  });

  it("delivers to mailboxes at a second domain and sends the presa in carico to a custom mailReceipt", async () => {
    const net = new PecNetwork({ ca: pki.ca, now: () => START });
    const a = await net.addGestore({ identity: pki.alfa, mailboxes: [mario], mailReceipt: "ricevute@pec.alfa.test" });
    await net.addGestore({ identity: pki.beta, domain: ["pec.beta.test", "beta-pec.test"], mailboxes: ["anna@beta-pec.test"] });
    const flow = await a.send(simple({ to: "anna@beta-pec.test" }));
    expect(flow.messages.map((m) => [m.type, destinationLabel(m)])).toEqual([
      ["accettazione", "mailbox mario.rossi@pec.alfa.test (Gestore Alfa S.p.A.)"],
      ["posta-certificata", "punto di ricezione of Gestore Beta S.p.A."],
      ["presa-in-carico", "service mailbox ricevute@pec.alfa.test (Gestore Alfa S.p.A.)"],
      ["posta-certificata", "mailbox anna@beta-pec.test (Gestore Beta S.p.A.)"],
      ["avvenuta-consegna", "mailbox mario.rossi@pec.alfa.test (Gestore Alfa S.p.A.)"],
    ]);
    const presa = readPec(flow.messages[2]!.message.bytes);
    expect(presa.message.header("to")).toBe("ricevute@pec.alfa.test");
    const trust = await TrustStore.fromLdif(await net.igpecLdif());
    expect(trust.providerForDomain("beta-pec.test")?.mailReceipt).toBe("posta-certificata@pec.beta.test");
  });

  it("refuses to sign outside the certificates' validity, with a clear error", async () => {
    const err = await alfa.send(simple(), { start: new Date("2025-01-01T00:00:00Z") }).catch((e: unknown) => e);
    expect(code(err)).toBe("ERR_INVALID_ARGUMENT");
    expect(String(err)).toMatch(/notBefore/);
  });

  it("refuses bad input with ERR_INVALID_ARGUMENT, never a crash", async () => {
    for (const bad of [
      () => alfa.send(42 as never),
      () => alfa.send(simple(), null as never),
      () => alfa.send(simple(), { start: new Date("nope") }),
      () => alfa.send(simple(), { rcptTo: "anna" as never }),
      () => alfa.send(simple(), { rcptTo: ["not an address"] }),
      () => alfa.send(simple(), { mailFrom: "x\r\nBcc: y@z.test" }),
      () => beta.receive(simple({ to: esterno })),
      () => alfa.send(simple(), { identificativo: "no brackets <>" }),
    ]) {
      const err = await bad().catch((e: unknown) => e);
      expect(err, String(bad)).toBeInstanceOf(PecError);
      expect(["ERR_INVALID_ARGUMENT", "ERR_HEADER_INJECTION"]).toContain(code(err));
    }
    expect(() => signatureAntivirus({ empty: "" })).toThrow(PecError);
  });
});

describe("the punto di ricezione for messages from outside", () => {
  it("wraps ordinary mail in a busta di anomalia, or discards it", async () => {
    const ordinary = composeMessage({ from: esterno, to: [anna, "nessuno@pec.beta.test"], subject: "Ciao", text: "posta ordinaria", date: START });
    const flow = await beta.receive(ordinary, { at: START });
    expect(flow.messages.map((m) => [m.type, m.to])).toEqual([["anomalia", [anna]]]);
    const { beta: strict } = await scenarioNetwork(pki);
    strict.acceptsOrdinaryMail = false;
    const none = await strict.receive(ordinary, { at: START });
    expect(none.messages).toEqual([]);
    expect(none.notes[0]?.text).toMatch(/discarded/);
    const infected = await beta.receive(composeMessage({ from: esterno, to: anna, subject: "x", attachments: [{ filename: "e.com", content: eicarTestFile() }] }), { at: START });
    expect(infected.messages).toEqual([]);
    expect(infected.notes[0]?.text).toMatch(EICAR_SIGNATURE_NAME);
  });

  it("takes a valid busta from a gestore of the network; a tampered one becomes an anomalia", async () => {
    const sent = await alfa.send(simple(), { start: START });
    const busta = sent.messages.find((m) => m.type === "posta-certificata")!.message.bytes;
    const { beta: fresh } = await scenarioNetwork(pki);
    const taken = await fresh.receive(busta, { at: new Date(START.getTime() + 60_000) });
    expect(taken.messages.map((m) => m.type)).toEqual(["presa-in-carico", "posta-certificata", "avvenuta-consegna"]);
    expect(taken.identificativo).toBe(sent.identificativo);

    const text = new TextDecoder("latin1").decode(busta);
    const tampered = Uint8Array.from(text.replace("Ciao", "Ciaa"), (c) => c.charCodeAt(0));
    expect((await verifyPec(tampered, { trust: await network.trustStore() })).valid).toBe(false);
    const wrapped = await fresh.receive(tampered, { at: START });
    expect(wrapped.messages.map((m) => m.type)).toEqual(["anomalia"]);
    expect(readPec(wrapped.messages[0]!.message.bytes).anomaliaReason).toMatch(/non risulta attendibile/);
  });

  it("a valid busta for an envelope recipient its daticert does not list: that one gets an anomalia, the listed ones the busta", async () => {
    const sent = await alfa.send(simple(), { start: START });
    const busta = sent.messages.find((m) => m.type === "posta-certificata")!.message.bytes;
    const { beta: fresh } = await scenarioNetwork(pki);
    const listed = readPec(busta).recipients.map((r) => r.address);
    const other = luca;
    expect(listed).not.toContain(other);
    const flow = await fresh.receive(busta, { at: new Date(START.getTime() + 60_000), rcptTo: [...listed, other] });
    expect(flow.messages.map((m) => [m.type, m.to.join()])).toEqual([
      ["anomalia", other],
      ["presa-in-carico", alfa.mailReceipt],
      ["posta-certificata", listed.join()],
      ["avvenuta-consegna", mario],
    ]);
    expect(readPec(flow.messages[0]!.message.bytes).anomaliaReason).toMatch(/non è tra quelli indicati/);
    // Only unlisted recipients: the anomalia alone, no receipt.
    const only = await fresh.receive(busta, { at: new Date(START.getTime() + 120_000), rcptTo: [other] });
    expect(only.messages.map((m) => m.type)).toEqual(["anomalia"]);
  });

  it("a validly signed busta whose daticert msgid cannot be written back becomes an anomalia (spec §8.5)", async () => {
    const sent = await alfa.send(simple(), { start: START });
    const busta = sent.messages.find((m) => m.type === "posta-certificata")!.message.bytes;
    // The same busta, its daticert msgid made non-ASCII, signed again by Alfa: what a foreign gestore could send.
    const root = parseMime(busta);
    const content = root.children[0]!;
    const daticert = content.children.find((c) => c.filename === "daticert.xml")!;
    const xml = new TextDecoder().decode(decodeBase64(new TextDecoder().decode(daticert.bodyBytes())));
    const odd = xml.replace(/<msgid>[^<]*<\/msgid>/, "<msgid>&lt;ància@client.alfa.test&gt;</msgid>");
    expect(odd).not.toBe(xml);
    const raw = content.raw();
    const at = (n: number): number => n - content.start;
    const edited = concatBytes([raw.subarray(0, at(daticert.bodyStart)), enc.encode(encodeBase64(enc.encode(odd)).replace(/.{76}/g, "$&\r\n") + "\r\n"), raw.subarray(at(daticert.bodyEnd))]);
    const firstMime = root.headers.find((h) => h.lname === "mime-version" || h.lname === "content-type")!;
    const forged = concatBytes([busta.subarray(0, firstMime.start), await signSmime(edited, alfa.identity, { signingTime: START })]);
    const read = readPec(forged);
    expect(read.daticert?.dati.msgid).toBe("<ància@client.alfa.test>");
    const v = await verifyPec(read, { trust: await network.trustStore() });
    expect(v.valid && v.trusted).toBe(true);

    const { beta: fresh } = await scenarioNetwork(pki);
    const flow = await fresh.receive(forged, { at: new Date(START.getTime() + 60_000) });
    expect(flow.messages.map((m) => m.type)).toEqual(["anomalia"]);
    expect(flow.messages[0]!.to).toEqual([anna]);
    expect(readPec(flow.messages[0]!.message.bytes).anomaliaReason).toMatch(/non sono conformi/);
  });

  it("delivers a valid receipt addressed to one of its users", async () => {
    const sent = await alfa.send(simple(), { start: START });
    const consegna = sent.messages.find((m) => m.type === "avvenuta-consegna")!.message.bytes;
    const { alfa: home } = await scenarioNetwork(pki);
    const flow = await home.receive(consegna, { at: START, rcptTo: [mario] });
    expect(flow.messages.map((m) => [m.type, m.variant, m.emitter.name, m.destination.kind, m.to])).toEqual([
      ["avvenuta-consegna", "completa", "Gestore Beta S.p.A.", "mailbox", [mario]],
    ]);
  });

  it("a receipt whose signature fails becomes an anomalia for the user; one for nobody is refused", async () => {
    const sent = await alfa.send(simple(), { start: START });
    const consegna = sent.messages.find((m) => m.type === "avvenuta-consegna")!.message.bytes;
    const text = new TextDecoder("latin1").decode(consegna);
    const tampered = Uint8Array.from(text.replace("Il giorno", "Il Giorno"), (c) => c.charCodeAt(0));
    expect(tampered).not.toEqual(consegna);
    expect((await verifyPec(tampered, { trust: await network.trustStore() })).valid).toBe(false);
    const { alfa: home } = await scenarioNetwork(pki);
    const flow = await home.receive(tampered, { at: START, rcptTo: [mario] });
    expect(flow.messages.map((m) => [m.type, m.emitter.name, m.to])).toEqual([["anomalia", "Gestore Alfa S.p.A.", [mario]]]);
    expect(readPec(flow.messages[0]!.message.bytes).anomaliaReason).toMatch(/firma digitale del messaggio non risulta attendibile/);

    const nobody = "nessuno@pec.alfa.test";
    for (const bytes of [consegna, tampered]) {
      const refused = await home.receive(bytes, { at: START, rcptTo: [nobody] });
      expect(refused.messages).toEqual([]);
      expect(refused.notes.map((n) => n.text)).toEqual([`Gestore Alfa S.p.A. has no mailbox ${nobody}: the ${bytes === consegna ? "receipt" : "message"} is refused at SMTP level`]);
    }
  });
});

describe("the antivirus", () => {
  it("finds EICAR in base64 attachments and nested messages, not in clean mail", () => {
    const av = defaultAntivirus();
    const inner = composeMessage({ from: esterno, to: anna, subject: "x", attachments: [{ filename: "e.com", content: eicarTestFile() }] });
    const outer = composeMessage({ from: mario, to: anna, subject: "fwd", attachments: [{ filename: "fwd.eml", contentType: "message/rfc822", content: inner }] });
    expect(av(inner)).toBe(EICAR_SIGNATURE_NAME);
    expect(av(outer)).toBe(EICAR_SIGNATURE_NAME);
    expect(av(composeMessage(simple({ attachments: [{ filename: "a.pdf", content: samplePdf("x") }] })))).toBeUndefined();
    expect(av(enc.encode("not a message at all"))).toBeUndefined();
    expect(eicarTestFile()).toHaveLength(68);
  });
});

describe("a sample attachment", () => {
  it("samplePdf makes a PDF whose xref offsets point at its objects", () => {
    const pdf = new TextDecoder().decode(samplePdf("Offerta (bozza)"));
    expect(pdf.startsWith("%PDF-1.4\n")).toBe(true);
    const startxref = Number(/startxref\n(\d+)/.exec(pdf)![1]);
    expect(pdf.slice(startxref, startxref + 4)).toBe("xref");
    const offsets = [...pdf.matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    offsets.forEach((o, i) => expect(pdf.slice(o, o + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`));
    expect(pdf).toContain("(Offerta \\(bozza\\))");
  });
});

describe("RSA-2048 gestori (the realistic default), end to end", () => {
  it("a network with default keys plays a flow that verifies with its CA and its LDIF", async () => {
    const net = await PecNetwork.create();
    const a = await net.addGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: [mario] });
    await net.addGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: [anna, luca] });
    expect(a.identity.keyAlgorithm).toBe("RSA-2048");
    const flow = await a.send(simple({ to: anna, cc: luca, attachments: [{ filename: "offerta.pdf", contentType: "application/pdf", content: samplePdf("Offerta") }] }));
    expect(flow.messages.map((m) => `${m.type}${m.variant ? `/${m.variant}` : ""}`)).toEqual([
      "accettazione",
      "posta-certificata/completa",
      "presa-in-carico",
      "posta-certificata/completa",
      "avvenuta-consegna/completa",
      "posta-certificata/completa",
      "avvenuta-consegna/sintetica",
    ]);
    const ca = await TrustStore.fromPem(net.caPem());
    const ldif = await TrustStore.fromLdif(await net.igpecLdif());
    for (const m of flow.messages) {
      for (const trust of [ca, ldif]) {
        const v = await verifyPec(m.message.bytes, { trust });
        expect([m.step, v.valid, v.trusted]).toEqual([m.step, true, true]);
      }
    }
  });

  it("runScenario makes its own PKI when none is given", async () => {
    const run = await runScenario("anomalia", { keyAlgorithm: "ECDSA-P256", start: START });
    expect(run.flow.messages.map((m) => m.type)).toEqual(["anomalia"]);
    await expect(runScenario("nope" as never)).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });
});
