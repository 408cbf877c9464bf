// Runs every script of examples/ (each exports `main`) against generated messages and
// checks what it prints, so the examples (and the README and guide samples copied from
// them, see guides.node.test.ts) never rot. The examples import "postacert" as users do;
// here those imports are redirected to the sources, so the test needs no build.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { format } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runScenario, createScenarioPki, type ScenarioPki, type ScenarioRun } from "../../src/simulator/index.js";
import { PecNetwork } from "../../src/simulator/index.js";
import { readPec } from "../../src/pec/index.js";

vi.mock("postacert", () => import("../../src/index.js"));
vi.mock("postacert/mime", () => import("../../src/mime/index.js"));
vi.mock("postacert/daticert", () => import("../../src/daticert/index.js"));
vi.mock("postacert/smime", () => import("../../src/smime/index.js"));
vi.mock("postacert/trust", () => import("../../src/trust/index.js"));
vi.mock("postacert/pec", () => import("../../src/pec/index.js"));
vi.mock("postacert/simulator", () => import("../../src/simulator/index.js"));
vi.mock("postacert/node", () => import("../../src/node/index.js"));

let dir: string;
let pki: ScenarioPki;
let completa: ScenarioRun;
let breve: ScenarioRun;
let ldif: string;

/** Captures console.log while `fn` runs; returns its result and the printed lines. */
async function capture<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const spy = vi.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    const result = await fn();
    return { result, lines: spy.mock.calls.map((args) => format(...args)) };
  } finally {
    spy.mockRestore();
  }
}

function fileOf(run: ScenarioRun, type: string, nth = 0): string {
  const names = readdirSync(join(dir, "flows", run.info.name)).filter((n) => n.endsWith(`-${type}.eml`));
  return join(dir, "flows", run.info.name, names[nth]!);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "postacert-examples-"));
  pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256" });
  completa = await runScenario("ok-completa", { pki });
  breve = await runScenario("ok-breve", { pki });
  for (const run of [completa, breve]) {
    mkdirSync(join(dir, "flows", run.info.name), { recursive: true });
    for (const m of run.flow.messages) {
      writeFileSync(join(dir, "flows", run.info.name, `${String(m.step).padStart(2, "0")}-${m.type}.eml`), m.message.bytes);
    }
  }
  ldif = join(dir, "gestori.ldif");
  writeFileSync(ldif, await completa.network.igpecLdif());
  writeFileSync(join(dir, "ca.pem"), completa.network.caPem());
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

it("runs the examples against the sources", async () => {
  const pkg = await import("postacert");
  const src = await import("../../src/index.js");
  expect(pkg.readPec).toBe(src.readPec);
  expect((await import("postacert/node")).systemTrust).toBe((await import("../../src/node/index.js")).systemTrust);
});

describe("examples/quick-start.ts (the README example)", () => {
  it("reads a receipt and verifies it against the IGPEC LDIF", async () => {
    const { main } = await import("../../examples/quick-start.js");
    const { result, lines } = await capture(() => main([fileOf(completa, "avvenuta-consegna"), ldif]));
    expect(result).toBe(0);
    expect(lines[0]).toMatch(/^avvenuta-consegna opec\S+@pec\.alfa\.test Offerta/);
    expect(lines[1]).toMatch(/^signed by Gestore (Alfa|Beta) S\.p\.A\. at \d{4}-\d\d-\d\dT/);
  });

  it("prints the issues when the signer is not trusted", async () => {
    const { main } = await import("../../examples/quick-start.js");
    const other = join(dir, "other.ldif");
    const network = await PecNetwork.create({ keyAlgorithm: "ECDSA-P256" });
    await network.addGestore({ name: "Gestore Gamma S.p.A.", domain: "pec.gamma.test" });
    writeFileSync(other, await network.igpecLdif());
    const { result, lines } = await capture(() => main([fileOf(completa, "accettazione"), other]));
    expect(result).toBe(1);
    expect(lines[1]).toContain("CERT_UNTRUSTED");
  });
});

describe("examples/read-receipt.ts", () => {
  it("prints the facts of an avvenuta consegna", async () => {
    const { main } = await import("../../examples/read-receipt.js");
    const { result, lines } = await capture(() => main([fileOf(completa, "avvenuta-consegna")]));
    expect(result).toBe(0);
    expect(lines[0]).toBe("avvenuta-consegna: Ricevuta di avvenuta consegna / Delivery receipt");
    expect(lines).toContainEqual(expect.stringMatching(/^identificativo: opec\S+@pec\.alfa\.test$/));
    expect(lines).toContainEqual("mittente: mario.rossi@pec.alfa.test");
    expect(lines).toContainEqual("destinatario: anna.bianchi@pec.beta.test (certificato)");
    expect(lines).toContainEqual(expect.stringMatching(/^consegnata a: \S+@pec\.(alfa|beta)\.test, ricevuta completa$/));
    expect(lines).toContainEqual(expect.stringMatching(/^originale: "Offerta[^"]*" da .*mario\.rossi@pec\.alfa\.test/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}allegato: \S+\.pdf, \d+ byte$/));
    expect(lines).toContainEqual(expect.stringMatching(/^daticert\.xml: tipo avvenuta-consegna, \d{4}-.*, 0 warnings$/));
    expect(lines.at(-1)).toBe("MIME: multipart/signed, 2 parts");
    expect(lines.some((l) => /^error /.test(l))).toBe(false);
  });

  it("lists the .hash files of a ricevuta breve", async () => {
    const { main } = await import("../../examples/read-receipt.js");
    const { lines } = await capture(() => main([fileOf(breve, "avvenuta-consegna")]));
    expect(lines).toContainEqual(expect.stringMatching(/^consegnata a: .*, ricevuta breve$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}hash \(ricevuta breve\): \S+\.pdf [0-9a-f]{40}$/));
  });

  it("says when a message is not PEC, and shows usage without a file", async () => {
    const { main } = await import("../../examples/read-receipt.js");
    const plain = join(dir, "plain.eml");
    writeFileSync(plain, "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nhello\r\n");
    const notPec = await capture(() => main([plain]));
    expect(notPec).toEqual({ result: 1, lines: ["not-pec: Messaggio non PEC / Not a PEC message"] });
    const usage = await capture(() => main([]));
    expect(usage.result).toBe(2);
  });
});

describe("examples/scan-archive.ts", () => {
  it("follows the transactions of a folder of simulated flows", async () => {
    const { main } = await import("../../examples/scan-archive.js");
    const { result, lines } = await capture(() => main([join(dir, "flows"), "--trust", ldif]));
    expect(result, lines.join("\n")).toBe(0);
    expect(lines.at(-1)).toBe("2 transactions, 0 overdue, 0 unreadable or not verified");
    expect(lines.filter((l) => l.startsWith("consegnato "))).toHaveLength(2);
    expect(await capture(() => main([join(dir, "flows")]))).toMatchObject({ result: 2 });
  });

  it("names a file it cannot read, counts it, and reads the rest", async () => {
    const { main } = await import("../../examples/scan-archive.js");
    const xz = join(dir, "flows", "zz-archived.eml");
    writeFileSync(xz, Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]));
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const { result, lines } = await capture(() => main([join(dir, "flows"), "--trust", ldif]));
      expect(result).toBe(1);
      expect(lines.at(-1)).toBe("2 transactions, 0 overdue, 1 unreadable or not verified");
      expect(errors.mock.calls).toEqual([[`${xz}: the file is xz-compressed; decompress it first (or store it gzip-compressed)`]]);
    } finally {
      errors.mockRestore();
      rmSync(xz);
    }
  });
});

describe("examples/verify-folder.ts", () => {
  it("verifies a folder of simulated messages with the IGPEC LDIF, and with the CA PEM", async () => {
    const { main } = await import("../../examples/verify-folder.js");
    const total = completa.flow.messages.length + breve.flow.messages.length;
    for (const trust of [ldif, join(dir, "ca.pem")]) {
      const { result, lines } = await capture(() => main([join(dir, "flows"), "--trust", trust]));
      expect(result, lines.join("\n")).toBe(0);
      expect(lines.at(-1)).toBe(`${total} verified, 0 failed, 0 not PEC`);
      expect(lines.filter((l) => l.startsWith("OK "))).toHaveLength(total);
    }
  });

  it("reports tampered, untrusted and non-PEC files", async () => {
    const { main } = await import("../../examples/verify-folder.js");
    const bad = join(dir, "bad");
    mkdirSync(bad);
    const bytes = completa.flow.messages[0]!.message.bytes.slice();
    // Flip the case of a letter in the middle of the signed bytes.
    const signed = readPec(bytes).signature!.signedBytes!;
    let at = signed.byteOffset - bytes.byteOffset + Math.floor(signed.length / 2);
    while (!/[a-z]/i.test(String.fromCharCode(bytes[at]!))) at++;
    bytes[at] = bytes[at]! ^ 0x20;
    writeFileSync(join(bad, "01-tampered.eml"), bytes);
    writeFileSync(join(bad, "02-plain.eml"), "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nhello\r\n");
    const { result, lines } = await capture(() => main([bad, "--trust", ldif]));
    expect(result).toBe(1);
    expect(lines[0]).toMatch(/^FAILED {2}01-tampered\.eml {2}accettazione {2}.*SIGNATURE_MISMATCH/);
    expect(lines[1]).toBe("NOT PEC 02-plain.eml");
    expect(lines.at(-1)).toBe("0 verified, 1 failed, 1 not PEC");
    // Without --trust: the system roots, and the test CA is not among them.
    const system = await capture(() => main([join(dir, "flows", "ok-completa")]));
    expect(system.result).toBe(1);
    expect(system.lines[0]).toMatch(/^FAILED .*CERT_UNTRUSTED/);
  });

  it("loads LDIF, PEM and DER trust files", async () => {
    const { loadTrust } = await import("../../examples/verify-folder.js");
    writeFileSync(join(dir, "ca.der"), pki.ca.certificate);
    expect((await loadTrust(ldif)).providers.map((p) => p.name)).toEqual(["Gestore Alfa S.p.A.", "Gestore Beta S.p.A."]);
    expect((await loadTrust(join(dir, "ca.pem"))).anchors).toHaveLength(1);
    expect((await loadTrust(join(dir, "ca.der"))).anchors).toHaveLength(1);
  });
});

describe("examples/build-flow.ts", () => {
  it("builds, reads back and verifies the four messages, and writes them", async () => {
    const { main } = await import("../../examples/build-flow.js");
    const out = join(dir, "built");
    const { result, lines } = await capture(() => main([out]));
    expect(result, lines.join("\n")).toBe(0);
    expect(lines).toEqual([
      "accettazione: posta-certificata@pec.alfa.test -> mario.rossi@pec.alfa.test, valid and trusted",
      "posta-certificata: posta-certificata@pec.alfa.test -> anna.bianchi@pec.beta.test, valid and trusted",
      "presa-in-carico: posta-certificata@pec.beta.test -> posta-certificata@pec.alfa.test, valid and trusted",
      "avvenuta-consegna: posta-certificata@pec.beta.test -> mario.rossi@pec.alfa.test, valid and trusted",
      `wrote 4 messages and ca.pem to ${out}`,
    ]);
    expect(readdirSync(out).sort()).toEqual([
      "01-accettazione.eml",
      "02-posta-certificata.eml",
      "03-presa-in-carico.eml",
      "04-avvenuta-consegna.eml",
      "ca.pem",
    ]);
  });
});

describe("examples/simulate.ts", () => {
  it("plays a flow with an unknown recipient and the timeout scenario", async () => {
    const { main } = await import("../../examples/simulate.js");
    const { result, lines } = await capture(() => main());
    expect(result, lines.join("\n")).toBe(0);
    expect(lines[0]).toMatch(/^1\. accettazione: posta-certificata@pec\.alfa\.test -> /);
    expect(lines).toContainEqual(expect.stringMatching(/^\d+\. errore-consegna \(no-dest\): posta-certificata@pec\.beta\.test -> /));
    expect(lines).toContainEqual(expect.stringMatching(/^\d+\. avvenuta-consegna \(completa\): posta-certificata@pec\.beta\.test -> /));
    expect(lines).toContainEqual(expect.stringMatching(/^(\d+) of \1 messages verified$/));
    expect(lines.at(-1)).toBe("timeout: accettazione, posta-certificata, preavviso-errore-consegna, preavviso-errore-consegna");
  });
});
