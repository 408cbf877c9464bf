// The guides (docs/*.md) and the README stay true:
// - every TypeScript sample in them appears, line for line, in a file that is type-checked
//   and run: an example script (examples/*.ts, run by examples.node.test.ts) or this test,
//   which runs the samples that are not part of an example;
// - every relative link points to an existing file.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { format } from "node:util";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  TrustStore,
  buildAnomalia,
  buildErroreConsegna,
  buildIgpecLdif,
  buildNonAccettazione,
  buildPreavvisoErroreConsegna,
  checkBreveHashes,
  composeMessage,
  createCrl,
  createScenarioPki,
  newIdentificativo,
  pecToJson,
  readPec,
  runScenario,
  transactionFromOriginal,
  verifyPec,
  PecNetwork,
  type ScenarioPki,
  type ScenarioRun,
} from "../../src/index.js";
import { systemTrust } from "../../src/node/index.js";

const root = resolve(import.meta.dirname, "../..");
const docs = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** Lines trimmed, blank lines dropped: samples may be indented differently from their source. */
const normalize = (code: string): string =>
  code
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .join("\n");

function samples(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:ts|typescript)\s*\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
}

/** Every file a sample may come from: the examples and the tests of this folder. */
const sources = [
  ...readdirSync(join(root, "examples"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(root, "examples", f)),
  ...readdirSync(import.meta.dirname)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(import.meta.dirname, f)),
].map((path) => ({ path, code: normalize(readFileSync(path, "utf8")) }));

describe("the documentation", () => {
  it("has the guides the README links to", () => {
    for (const f of ["reading-a-receipt", "verifying-with-igpec", "building-messages", "simulator", "architecture"]) {
      expect(docs).toContain(`docs/${f}.md`);
    }
  });

  it("has TypeScript samples to check", () => {
    const count = docs.reduce((n, doc) => n + samples(readFileSync(join(root, doc), "utf8")).length, 0);
    expect(count).toBeGreaterThanOrEqual(20);
  });

  it.each(docs)("%s: every TypeScript sample is in an example or a test", (doc) => {
    const text = readFileSync(join(root, doc), "utf8");
    for (const sample of samples(text)) {
      const where = sources.filter((s) => s.code.includes(normalize(sample)));
      expect(where.length, `${doc}: this sample is in no example or test:\n${sample}`).toBeGreaterThan(0);
    }
  });

  it.each(docs)("%s: relative links point to existing files", (doc) => {
    const text = readFileSync(join(root, doc), "utf8").replace(/^```[\s\S]*?^```/gm, "");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(?:[a-z]+:|#)/i.test(target!)) continue;
      const path = resolve(dirname(join(root, doc)), target!.replace(/#.*$/, ""));
      expect(existsSync(path), `${doc} links to ${target}, which does not exist`).toBe(true);
    }
  });

  it("the README's library sample is examples/quick-start.ts", () => {
    const readme = samples(readFileSync(join(root, "README.md"), "utf8"));
    const quickStart = normalize(readFileSync(join(root, "examples/quick-start.ts"), "utf8"));
    expect(readme.some((s) => quickStart.includes(normalize(s)) && s.includes('from "postacert"'))).toBe(true);
  });
});

/** Captures console.log while `fn` runs. */
async function logged(fn: () => Promise<void>): Promise<string[]> {
  const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    await fn();
    return spy.mock.calls.map((args) => format(...args));
  } finally {
    spy.mockRestore();
  }
}

// The samples below are copied into the guides; each runs here.
describe("guide samples", () => {
  let pki: ScenarioPki;
  let breve: ScenarioRun;

  beforeAll(async () => {
    pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256" });
    breve = await runScenario("ok-breve", { pki });
  });

  it("reading-a-receipt: checkBreveHashes, pecToJson, limits", async () => {
    const consegna = breve.flow.messages.find((m) => m.type === "avvenuta-consegna" && m.variant === "breve")!;
    const pec = readPec(consegna.message.bytes);
    const sentBytes = breve.flow.original;
    const bytes = consegna.message.bytes;
    const lines = await logged(async () => {
      // #region breve
      const checks = await checkBreveHashes(pec, sentBytes);
      for (const c of checks) console.log(c.originalFilename, c.matches ? "matches" : "DIFFERS");
      // #endregion breve
      // #region json
      const json = pecToJson(pec, { file: "consegna.eml" });
      console.log(JSON.stringify(json));
      // #endregion json
      // #region limits
      const big = readPec(bytes, { maxSize: 512 * 1024 * 1024, maxParts: 50_000 });
      // #endregion limits
      expect(big.type).toBe("avvenuta-consegna");
    });
    expect(lines[0]).toMatch(/^\S+\.pdf matches$/);
    expect(JSON.parse(lines[1]!)).toMatchObject({ file: "consegna.eml", type: "avvenuta-consegna", ricevuta: "breve" });
  });

  it("verifying-with-igpec: at and crls, merging IGPEC with the system roots", async () => {
    const bytes = breve.flow.messages[0]!.message.bytes;
    const trust = await TrustStore.fromPem(pki.ca.pem());
    const crlDer = await createCrl(pki.ca, { revoked: [] });
    const igpecLdif = await breve.network.igpecLdif();
    const lines = await logged(async () => {
      // #region at
      const later = await verifyPec(bytes, { trust, at: new Date("2030-01-01T00:00:00Z"), crls: [crlDer] });
      console.log(later.trusted, later.validatedAt?.toISOString(), later.issues.map((i) => i.code));
      // #endregion at
      // #region merge
      const both = TrustStore.merge(await TrustStore.fromLdif(igpecLdif), await systemTrust());
      console.log(both.providers.length, both.anchors.length > 100);
      // #endregion merge
    });
    // The test certificates are valid for three years: in 2030 they have expired.
    expect(lines[0]).toMatch(/^false 2030-01-01T00:00:00\.000Z \[.*CERT_EXPIRED_AT_SIGNING/);
    expect(lines[1]).toBe("2 true");
  });

  it("building-messages: IGPEC LDIF, failure notices, anomalia", async () => {
    const { alfa, beta } = pki;
    // #region ldif
    const ldif = await buildIgpecLdif([
      { name: alfa.name, certificates: [alfa.certificate], mailReceipt: alfa.email, domains: [alfa.domain] },
      { name: beta.name, certificates: [beta.certificate], mailReceipt: beta.email, domains: [beta.domain] },
    ]);
    const trust = await TrustStore.fromLdif(ldif);
    // #endregion ldif
    const original = composeMessage({ from: "mario.rossi@pec.alfa.test", to: "anna.bianchi@pec.beta.test", subject: "Offerta", text: "Ciao" });
    const tx = transactionFromOriginal(original, { identificativo: newIdentificativo(alfa.domain) });
    const ordinaryMail = composeMessage({ from: "info@azienda.example", to: "anna.bianchi@pec.beta.test", subject: "Preventivo", text: "Buongiorno" });
    // #region failures
    const noDest = await buildErroreConsegna(beta, tx, { consegna: "anna.bianchi@pec.beta.test", errore: "no-dest" });
    const timeout = await buildPreavvisoErroreConsegna(alfa, tx, { consegna: "anna.bianchi@pec.beta.test", kind: "scadenza" });
    const refused = await buildNonAccettazione(alfa, tx, { erroreEsteso: "Il campo Bcc non deve contenere valori" });
    const anomalia = await buildAnomalia(beta, { received: ordinaryMail, reason: "messaggio di posta ordinaria" });
    // #endregion failures
    const read = [noDest, timeout, refused, anomalia].map((m) => readPec(m.bytes));
    expect(read.map((p) => [p.type, p.errore ?? null, p.timeout ?? null])).toEqual([
      ["errore-consegna", "no-dest", null],
      ["preavviso-errore-consegna", "nessuno", "scadenza"],
      ["non-accettazione", "altro", null],
      ["anomalia", null, null], // no daticert.xml in a busta di anomalia
    ]);
    for (const p of read) expect((await verifyPec(p, { trust })).trusted).toBe(true);
  });

  it("simulator: a deterministic clock and an unreachable gestore", async () => {
    const lines = await logged(async () => {
      // #region clock
      const net = await PecNetwork.create({ keyAlgorithm: "ECDSA-P256", notBefore: new Date("2026-01-01T00:00:00Z"), now: () => new Date("2026-03-16T09:30:00Z") });
      const sender = await net.addGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: ["mario.rossi"] });
      await net.addGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: ["anna.bianchi"], availability: "unreachable" });
      const late = await sender.send({ from: "mario.rossi@pec.alfa.test", to: "anna.bianchi@pec.beta.test", subject: "Sollecito", text: "..." });
      console.log(late.messages.map((m) => `${m.date.toISOString()} ${m.type} ${m.variant ?? ""}`));
      // #endregion clock
    });
    expect(lines[0]).toContain("2026-03-16T09:30:01.000Z accettazione");
    expect(lines[0]).toMatch(/2026-03-16T21:3\d:\d\d\.000Z preavviso-errore-consegna preavviso/);
    expect(lines[0]).toMatch(/2026-03-17T09:3\d:\d\d\.000Z preavviso-errore-consegna scadenza/);
  });
});
