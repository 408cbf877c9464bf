// One end-to-end test per simulator scenario, through real clients: nodemailer submits
// over SMTP with AUTH (or to a gestore's inbound port), the sandbox plays the flow, and
// imapflow reads every mailbox from Dovecot. Each mailbox must hold exactly the expected
// messages, and each message must verify as trusted against the sandbox's IGPEC LDIF.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nodemailer, { type SendMailOptions } from "nodemailer";
import { POSTACERT_TEST_VIRUS, eicarTestFile, samplePdf } from "postacert/simulator";
import type { ReadPec } from "postacert";
import { HAVE_DOVECOT, NEEDS_DOVECOT, imapFetch, pop3Fetch, scenarioConfig, startTestSandbox, transport, trusted, type TestSandbox } from "./helpers.js";
import { readPec } from "postacert";

const mario = "mario.rossi@pec.alfa.test";
const giulia = "giulia.neri@pec.alfa.test";
const anna = "anna.bianchi@pec.beta.test";
const luca = "luca.verdi@pec.beta.test";
const alfaService = "posta-certificata@pec.alfa.test";

function passwordOf(login: string): string {
  if (login === "internet" || login.startsWith("posta-certificata@")) return "sandbox";
  return `pw-${login.split("@")[0]}`;
}

function label(pec: ReadPec): string {
  const variant = pec.ricevuta ?? pec.timeout ?? (pec.daticert && pec.daticert.errore !== "nessuno" ? pec.daticert.errore : undefined);
  return variant && pec.type !== "posta-certificata" ? `${pec.type}/${variant}` : pec.type;
}

describe.skipIf(!HAVE_DOVECOT)(`scenarios over SMTP and IMAP (${NEEDS_DOVECOT})`, () => {
  let t: TestSandbox;
  // 24 h of flow in ~4 s: the timeout scenarios stay quick.
  beforeAll(async () => {
    t = await startTestSandbox(scenarioConfig(), { clockSpeed: 20_000 });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  }, 60_000);

  async function submit(token: string, mail: SendMailOptions): Promise<string> {
    const tr = transport(t.sandbox, mario, passwordOf(mario));
    try {
      const info = await tr.sendMail({ from: { name: "Mario Rossi", address: mario }, subject: `Offerta n. 12/2026 [${token}]`, text: "Buongiorno,\nin allegato l'offerta.\n", ...mail });
      return String(info.response);
    } finally {
      tr.close();
    }
  }

  /** After every flow is delivered: each mailbox holds exactly `expected` (by token), all trusted. */
  async function expectFlow(token: string, expected: Record<string, string[]>): Promise<void> {
    await t.sandbox.idle();
    const got: Record<string, string[]> = {};
    for (const box of t.sandbox.info.mailboxes) {
      const msgs = (await imapFetch(t.sandbox, box.address, passwordOf(box.address))).filter((m) => m.subject.includes(`[${token}]`));
      if (msgs.length === 0) continue;
      got[box.address] = msgs.map((m) => label(m.pec)).sort();
      for (const m of msgs) expect(await trusted(m.bytes, t.trust), `${box.address}: ${m.subject}`).toBe(true);
    }
    const want = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, [...v].sort()]));
    expect(got).toEqual(want);
  }

  const offer = { filename: "offerta.pdf", contentType: "application/pdf", content: Buffer.from(samplePdf("Offerta")) };

  for (const [name, tipo] of [
    ["ok-completa", undefined],
    ["ok-breve", "breve"],
    ["ok-sintetica", "sintetica"],
  ] as const) {
    it(name, async () => {
      const response = await submit(name, {
        to: [anna, giulia],
        cc: luca,
        attachments: [offer],
        ...(tipo && { headers: { "X-TipoRicevuta": tipo } }),
      });
      expect(response).toMatch(/^250 .*queued as/);
      const to = tipo ?? "completa";
      await expectFlow(name, {
        [mario]: ["accettazione", `avvenuta-consegna/${to}`, `avvenuta-consegna/${to}`, "avvenuta-consegna/sintetica"],
        [anna]: ["posta-certificata"],
        [giulia]: ["posta-certificata"],
        [luca]: ["posta-certificata"],
        [alfaService]: ["presa-in-carico", "presa-in-carico"],
      });
    });
  }

  it("unknown-recipient", async () => {
    await submit("unknown-recipient", { to: [anna, "nessuno@pec.beta.test"] });
    await expectFlow("unknown-recipient", {
      [mario]: ["accettazione", "avvenuta-consegna/completa", "errore-consegna/no-dest"],
      [anna]: ["posta-certificata"],
      [alfaService]: ["presa-in-carico"],
    });
  });

  it("unknown-domain", async () => {
    await submit("unknown-domain", { to: "protocollo@pec.dismesso.test" });
    await expectFlow("unknown-domain", { [mario]: ["accettazione", "errore-consegna/no-dominio"], [alfaService]: ["presa-in-carico"] });
  });

  it("virus-sender", async () => {
    await submit("virus-sender", { to: anna, attachments: [{ filename: "eicar.com", content: Buffer.from(eicarTestFile()) }] });
    await expectFlow("virus-sender", { [mario]: ["non-accettazione/virus"] });
  });

  it("virus-recipient", async () => {
    await submit("virus-recipient", { to: anna, attachments: [{ filename: "documento.txt", contentType: "text/plain", content: `Documento.\n${POSTACERT_TEST_VIRUS}\n` }] });
    await expectFlow("virus-recipient", { [mario]: ["accettazione", "errore-consegna/virus"], [alfaService]: ["rilevazione-virus/virus"] });
  });

  it("formal-error (a Bcc recipient)", async () => {
    // nodemailer drops a Bcc header: submit the raw message with its own envelope.
    const raw =
      `From: Mario Rossi <${mario}>\r\nTo: <${anna}>\r\nBcc: <${luca}>\r\nSubject: Offerta [formal-error]\r\n` +
      `Date: ${new Date().toUTCString()}\r\nMessage-ID: <formal-error.${Date.now()}@client.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCiao\r\n`;
    const tr = transport(t.sandbox, mario, passwordOf(mario));
    try {
      await tr.sendMail({ envelope: { from: mario, to: [anna, luca] }, raw });
    } finally {
      tr.close();
    }
    await expectFlow("formal-error", { [mario]: ["non-accettazione/altro"] });
  });

  it("timeout (unreachable gestore: 12 h preavviso, 24 h scadenza)", async () => {
    await submit("timeout", { to: "ufficio@pec.gamma.test" });
    await expectFlow("timeout", { [mario]: ["accettazione", "preavviso-errore-consegna/preavviso", "preavviso-errore-consegna/scadenza"] });
  });

  it("timeout-stalled (presa in carico, never delivered)", async () => {
    await submit("timeout-stalled", { to: "ufficio@pec.delta.test" });
    await expectFlow("timeout-stalled", { [mario]: ["accettazione", "preavviso-errore-consegna/scadenza"], [alfaService]: ["presa-in-carico"] });
  });

  it("timeout-late (answers after 15 h: preavviso, then consegna)", async () => {
    await submit("timeout-late", { to: "ufficio@pec.epsilon.test" });
    await expectFlow("timeout-late", {
      [mario]: ["accettazione", "preavviso-errore-consegna/preavviso", "avvenuta-consegna/completa"],
      "ufficio@pec.epsilon.test": ["posta-certificata"],
      [alfaService]: ["presa-in-carico"],
    });
  });

  it("esterno (the busta also goes to the Internet mailbox)", async () => {
    await submit("esterno", { to: [anna, "info@azienda.example"] });
    await expectFlow("esterno", {
      [mario]: ["accettazione", "avvenuta-consegna/completa"],
      [anna]: ["posta-certificata"],
      internet: ["posta-certificata"],
      [alfaService]: ["presa-in-carico"],
    });
  });

  it("anomalia (ordinary mail on Beta's inbound port)", async () => {
    const tr = nodemailer.createTransport({ host: t.sandbox.info.host, port: t.sandbox.info.inboundPorts["pec.beta.test"], secure: false, tls: { rejectUnauthorized: false } });
    try {
      await tr.sendMail({ from: "Ufficio Acquisti <info@azienda.example>", to: anna, subject: "Richiesta di preventivo [anomalia]", text: "Posta ordinaria.\n" });
    } finally {
      tr.close();
    }
    await expectFlow("anomalia", { [anna]: ["anomalia"] });
  });

  it("a mailbox whose address holds '+' or an apostrophe logs in over IMAP and POP3", async () => {
    const plus = "protocollo+pec@pec.beta.test";
    const apostrophe = "d'amico@pec.beta.test";
    expect(await submit("plus-login", { to: [plus, apostrophe] })).toMatch(/^250 /);
    await expectFlow("plus-login", {
      [mario]: ["accettazione", "avvenuta-consegna/completa", "avvenuta-consegna/completa"],
      [alfaService]: ["presa-in-carico"],
      [plus]: ["posta-certificata"],
      [apostrophe]: ["posta-certificata"],
    });
    const { host, pop3Port } = t.sandbox.info;
    for (const box of [plus, apostrophe]) {
      const got = (await pop3Fetch(host, pop3Port!, box, passwordOf(box))).map((b) => readPec(b)).filter((p) => (p.subject ?? "").includes("[plus-login]"));
      expect(got.map((p) => p.type), box).toEqual(["posta-certificata"]);
    }
  });

  it("POP3 reads the same receipts (ok-completa, sender's mailbox)", async () => {
    const { host, pop3Port } = t.sandbox.info;
    const msgs = (await pop3Fetch(host, pop3Port!, mario, passwordOf(mario))).map((b) => ({ b, pec: readPec(b) })).filter((m) => (m.pec.subject ?? "").includes("[ok-completa]"));
    expect(msgs.map((m) => label(m.pec)).sort()).toEqual(["accettazione", "avvenuta-consegna/completa", "avvenuta-consegna/completa", "avvenuta-consegna/sintetica"]);
    for (const m of msgs) expect(await trusted(m.b, t.trust)).toBe(true);
  });
});
