// Another parser reads what postacert builds: postal-mime (the MIME parser of Cloudflare
// Email Workers and many webmail tools) parses every message of every simulator scenario
// and finds the same subject, sender, Message-ID, and parts: daticert.xml, smime.p7s and
// postacert.eml (as an attachment when asked, else read inline with its own attachments).
import PostalMime from "postal-mime";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDaticert } from "../../src/daticert/index.js";
import { readPec } from "../../src/pec/index.js";
import { SCENARIO_NAMES, createScenarioPki, runScenario, type FlowMessage } from "../../src/simulator/index.js";

const bytesOf = (content: ArrayBuffer | string | Uint8Array): Uint8Array =>
  typeof content === "string" ? new TextEncoder().encode(content) : content instanceof Uint8Array ? content : new Uint8Array(content);

/**
 * postal-mime returns the content of parts that are not base64 line by line, with LF line
 * ends and the line break before the next delimiter; compare those modulo line ends.
 */
const lines = (b: Uint8Array): string => new TextDecoder("latin1").decode(b).replace(/\r\n/g, "\n").replace(/\n+$/, "");

let messages: { scenario: string; m: FlowMessage }[];

beforeAll(async () => {
  const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256" });
  messages = [];
  for (const scenario of SCENARIO_NAMES) {
    const run = await runScenario(scenario, { pki });
    // A busta appears twice in a flow (in transit, delivered): the same bytes.
    const seen = new Set<Uint8Array>();
    for (const m of run.flow.messages) {
      if (seen.has(m.message.bytes)) continue;
      seen.add(m.message.bytes);
      messages.push({ scenario, m });
    }
  }
}, 60_000);

describe("postal-mime reads the messages postacert builds", () => {
  it("covers every PEC type", () => {
    expect(new Set(messages.map(({ m }) => m.type))).toEqual(
      new Set([
        "posta-certificata",
        "anomalia",
        "accettazione",
        "non-accettazione",
        "presa-in-carico",
        "avvenuta-consegna",
        "errore-consegna",
        "preavviso-errore-consegna",
        "rilevazione-virus",
      ]),
    );
  });

  it("finds the subject, sender, recipients, Message-ID and text", async () => {
    for (const { scenario, m } of messages) {
      const where = `${scenario} step ${m.step} ${m.type}`;
      const email = await PostalMime.parse(m.message.bytes);
      expect(email.subject, where).toBe(m.message.subject);
      expect(email.from?.address, where).toBe(m.message.from);
      expect(email.messageId, where).toBe(m.message.messageId);
      expect(new Date(email.date!).getTime(), where).toBe(m.message.date.getTime());
      expect(email.text?.length, where).toBeGreaterThan(20);
      const to = (email.to ?? []).map((a) => a.address);
      if (m.type !== "posta-certificata" && m.type !== "anomalia") expect(to, where).toEqual(m.message.to);
    }
  });

  it("finds daticert.xml, smime.p7s and postacert.eml with the bytes postacert reads", async () => {
    for (const { scenario, m } of messages) {
      const where = `${scenario} step ${m.step} ${m.type}`;
      const pec = readPec(m.message.bytes);
      const email = await PostalMime.parse(m.message.bytes, { forceRfc822Attachments: true });
      const byName = new Map(email.attachments.map((a) => [a.filename, a]));
      const expected = ["smime.p7s", ...(m.message.daticert ? ["daticert.xml"] : []), ...(pec.original ? ["postacert.eml"] : [])];
      expect([...byName.keys()].sort(), where).toEqual(expected.sort());

      expect(byName.get("smime.p7s")!.mimeType, where).toBe("application/pkcs7-signature");
      expect(bytesOf(byName.get("smime.p7s")!.content), where).toEqual(pec.signature!.cms);
      if (m.message.daticert) {
        const d = parseDaticert(bytesOf(byName.get("daticert.xml")!.content));
        expect(byName.get("daticert.xml")!.mimeType, where).toBe("application/xml");
        expect([d.tipo, d.errore, d.dati.identificativo], where).toEqual([m.message.daticert.tipo, m.message.daticert.errore, m.message.daticert.dati.identificativo]);
      }
      if (pec.original) {
        const eml = byName.get("postacert.eml")!;
        expect(eml.mimeType, where).toBe("message/rfc822");
        expect(lines(bytesOf(eml.content)), where).toBe(lines(pec.original.bytes));
        const inner = await PostalMime.parse(bytesOf(eml.content));
        expect(inner.subject, where).toBe(pec.original.subject);
        expect(inner.messageId, where).toBe(pec.original.messageId);
      }
    }
  });

  it("reads postacert.eml inline by default, with the original's attachments", async () => {
    let withAttachments = 0;
    for (const { scenario, m } of messages) {
      const where = `${scenario} step ${m.step} ${m.type}`;
      const pec = readPec(m.message.bytes);
      const email = await PostalMime.parse(m.message.bytes);
      const names = email.attachments.map((a) => a.filename);
      expect(names, where).not.toContain("postacert.eml");
      const originals = [...(pec.original?.attachments ?? []), ...(pec.original?.hashes ?? [])].map((a) => a.filename);
      for (const name of originals) expect(names, where).toContain(name);
      if (originals.length) withAttachments++;
      for (const a of pec.original?.attachments ?? []) {
        const content = bytesOf(email.attachments.find((x) => x.filename === a.filename)!.content);
        if (a.entity.transferEncoding === "base64") expect(content, where).toEqual(a.content());
        else expect(lines(content), where).toBe(lines(a.content()));
      }
    }
    expect(withAttachments).toBeGreaterThan(5);
  });
});
