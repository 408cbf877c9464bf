// Every scenario: the exact message sequence, each message read back as its type with the
// flow's data, and verified (valid and trusted) with the CA PEM and with the IGPEC LDIF at
// its own time. Runs in Node and in Chromium.
import { beforeAll, describe, expect, it } from "vitest";
import { readPec } from "../../src/pec/read.js";
import type { ReadPec } from "../../src/pec/types.js";
import { verifyPec } from "../../src/pec/verify.js";
import {
  EICAR_SIGNATURE_NAME,
  POSTACERT_TEST_SIGNATURE_NAME,
  SCENARIOS,
  SCENARIO_NAMES,
  type FlowMessage,
  type ScenarioName,
  type ScenarioRun,
  createScenarioPki,
  runScenario,
  scenarioNetwork,
} from "../../src/simulator/index.js";
import { TrustStore } from "../../src/trust/store.js";
import { EXPECTED, NOT_BEFORE, START, anna, dismesso, esterno, giulia, luca, mario, nessuno, stepOf } from "./helpers.js";

const HOUR = 3600_000;
const runs = new Map<ScenarioName, ScenarioRun>();
let caTrust: TrustStore;
let ldifTrust: TrustStore;

beforeAll(async () => {
  const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
  for (const name of SCENARIO_NAMES) runs.set(name, await runScenario(name, { pki, start: START }));
  const { network } = await scenarioNetwork(pki);
  caTrust = await TrustStore.fromPem(network.caPem());
  ldifTrust = await TrustStore.fromLdif(await network.igpecLdif());
}, 60_000);

function run(name: ScenarioName): ScenarioRun {
  const r = runs.get(name);
  if (!r) throw new Error(`no run for ${name}`);
  return r;
}

const msgidOf = (name: ScenarioName): string => `<${name}.${START.getTime() / 1000}@client.alfa.test>`;

/** The recipients the busta carried to the punto di ricezione of `domain`, from the transport step. */
function transported(messages: readonly FlowMessage[], domain: string): string[] {
  const t = messages.find((m) => m.destination.kind === "punto-di-ricezione" && m.destination.gestore.domain === domain);
  return t ? [...t.to] : [];
}

it("lists every scenario once, with a description", () => {
  expect(SCENARIOS.map((s) => s.name)).toEqual([...SCENARIO_NAMES]);
  for (const s of SCENARIOS) expect(s.description.length).toBeGreaterThan(20);
});

describe.each(SCENARIO_NAMES)("%s", (name) => {
  it("has the exact message sequence, in time order", () => {
    const { flow } = run(name);
    expect(flow.messages.map(stepOf)).toEqual(EXPECTED[name]);
    flow.messages.forEach((m, i) => {
      expect(m.step).toBe(i + 1);
      expect(m.from).toBe(m.emitter.email);
      expect(m.message.from).toBe(m.emitter.email);
      expect(m.description).not.toBe("");
      if (i > 0) expect(m.date.getTime()).toBeGreaterThanOrEqual(flow.messages[i - 1]!.date.getTime());
      // Only a busta delivered into a mailbox happens after its own Date.
      const delivered = m.type === "posta-certificata" && m.destination.kind === "mailbox";
      if (delivered) expect(m.date.getTime()).toBeGreaterThan(m.message.date.getTime());
      else expect(m.date.getTime()).toBe(m.message.date.getTime());
    });
    expect(flow.start.getTime()).toBe(START.getTime());
  });

  it("every message reads back as its type, with the flow's daticert data", () => {
    const { flow } = run(name);
    const messages = flow.messages;
    let lastDelivered: string | undefined;
    for (const m of messages) {
      const pec: ReadPec = readPec(m.message.bytes);
      const where = `${name} step ${m.step} (${m.type})`;
      expect(pec.type, where).toBe(m.type);
      expect(pec.issues.filter((i) => i.severity === "error"), where).toEqual([]);
      expect(pec.from, where).toBe(m.emitter.email);
      expect(pec.date?.getTime(), where).toBe(m.message.date.getTime());
      if (m.type === "anomalia") {
        expect(pec.daticert).toBeUndefined();
        expect(pec.sender).toBe(esterno);
        expect(pec.original?.subject).toBe("Richiesta di preventivo");
        expect(pec.anomaliaReason).toMatch(/posta ordinaria/);
        continue;
      }
      const d = pec.daticert!;
      expect(d, where).toBeDefined();
      expect(d.tipo).toBe(m.type);
      expect(pec.identificativo, where).toBe(flow.identificativo);
      expect(pec.msgid, where).toBe(msgidOf(name));
      expect(pec.sender).toBe(mario);
      expect(d.dati.gestoreEmittente).toBe(m.emitter.name);
      expect(pec.virus).toBe(m.variant === "virus");
      const recipients = d.intestazione.destinatari.map((r) => `${r.address}:${r.tipo}`);
      if (name.startsWith("ok-")) expect(recipients).toEqual([`${anna}:certificato`, `${giulia}:certificato`, `${luca}:certificato`]);
      if (name === "esterno") expect(recipients).toEqual([`${anna}:certificato`, `${esterno}:esterno`]);
      if (name === "unknown-domain") expect(recipients).toEqual([`${dismesso}:certificato`]);

      switch (m.type) {
        case "accettazione":
          expect(pec.errore).toBe("nessuno");
          expect(pec.original).toBeUndefined();
          break;
        case "posta-certificata":
          expect(pec.ricevuta).toBe(m.variant);
          expect(pec.original?.attachments.map((a) => a.filename)).toEqual(name === "virus-recipient" ? ["documento.txt"] : ["offerta.pdf"]);
          if (m.destination.kind === "mailbox") lastDelivered = m.to[0];
          break;
        case "presa-in-carico":
          expect(pec.ricezione).toEqual(transported(messages, m.emitter.domain));
          break;
        case "avvenuta-consegna": {
          expect(pec.consegna).toBe(lastDelivered);
          expect(pec.ricevuta).toBe(m.variant);
          expect(d.dati.ricevuta).toBe(m.variant);
          if (m.variant === "completa") expect(pec.original?.attachments.map((a) => a.filename)).toEqual(["offerta.pdf"]);
          if (m.variant === "breve") {
            expect(pec.original?.hashes.map((h) => h.filename)).toEqual(["offerta.pdf.hash"]);
            expect(pec.original?.attachments.map((a) => a.filename)).not.toContain("offerta.pdf");
          }
          if (m.variant === "sintetica") expect(pec.original).toBeUndefined();
          break;
        }
        case "errore-consegna":
          expect(pec.errore).toBe(m.variant);
          expect(pec.erroreEsteso).toBeTruthy();
          expect(pec.consegna).toBe(m.variant === "no-dest" ? nessuno : m.variant === "no-dominio" ? dismesso : anna);
          if (m.variant === "virus") expect(pec.erroreEsteso).toBe(POSTACERT_TEST_SIGNATURE_NAME);
          expect(pec.original).toBeUndefined();
          break;
        case "non-accettazione":
          expect(pec.errore).toBe(m.variant);
          expect(pec.erroreEsteso).toMatch(m.variant === "virus" ? EICAR_SIGNATURE_NAME : /Bcc/);
          expect(pec.original).toBeUndefined();
          break;
        case "rilevazione-virus":
          expect(pec.xMittente).toBe(mario);
          expect(pec.consegna).toBe(anna);
          expect(pec.erroreEsteso).toBe(POSTACERT_TEST_SIGNATURE_NAME);
          break;
        case "preavviso-errore-consegna":
          expect(pec.timeout).toBe(m.variant);
          expect(pec.consegna).toBe(anna);
          break;
        default:
          throw new Error(`unexpected type ${m.type}`);
      }
    }
  });

  it("every message verifies, valid and trusted, with the CA PEM and with the LDIF, at its own time", async () => {
    for (const m of run(name).flow.messages) {
      const where = `${name} step ${m.step} (${m.type})`;
      for (const [label, trust] of [
        ["CA PEM", caTrust],
        ["LDIF", ldifTrust],
      ] as const) {
        const v = await verifyPec(m.message.bytes, { trust, at: m.message.date });
        expect({ valid: v.valid, trusted: v.trusted, errors: v.issues.filter((i) => i.severity === "error") }, `${where}, ${label}`).toEqual({
          valid: true,
          trusted: true,
          errors: [],
        });
        expect(v.signedAt?.getTime()).toBe(m.message.date.getTime());
        if (label === "LDIF") {
          expect(v.gestore?.name, where).toBe(m.emitter.name);
          // Each gestore signs only for its own users (RFC 6109 §7).
          expect(v.issues.filter((i) => i.code === "DOMAIN_NOT_MANAGED"), where).toEqual([]);
        }
      }
    }
  });
});

describe("timeouts follow the clock", () => {
  const offsets = (name: ScenarioName): [string | undefined, number][] => {
    const { flow } = run(name);
    const busta = flow.messages.find((m) => m.type === "posta-certificata")!.message.date.getTime();
    return flow.messages.filter((m) => m.type === "preavviso-errore-consegna").map((m) => [m.variant, m.date.getTime() - busta]);
  };

  it("unreachable gestore: preavviso at +12 h and the 24 h notice at +24 h from the busta", () => {
    expect(offsets("timeout")).toEqual([
      ["preavviso", 12 * HOUR],
      ["scadenza", 24 * HOUR],
    ]);
  });

  it("presa in carico but no consegna: only the 24 h notice", () => {
    expect(offsets("timeout-stalled")).toEqual([["scadenza", 24 * HOUR]]);
  });

  it("late delivery (after 12 h, before 24 h): only the preavviso, then the consegna", () => {
    expect(offsets("timeout-late")).toEqual([["preavviso", 12 * HOUR]]);
    const { flow } = run("timeout-late");
    const consegna = flow.messages.find((m) => m.type === "avvenuta-consegna")!;
    expect(consegna.date.getTime() - START.getTime()).toBeGreaterThan(15 * HOUR);
    expect(consegna.date.getTime() - START.getTime()).toBeLessThan(16 * HOUR);
  });

  it("the accettazione comes a second after submission, the busta at the same instant", () => {
    const { flow } = run("ok-completa");
    expect(flow.messages[0]!.date.getTime() - START.getTime()).toBe(1000);
    expect(flow.messages[1]!.message.date.getTime()).toBe(flow.messages[0]!.date.getTime());
  });
});
