// `postacert simulate` and `postacert demo` in-process: the design.md layout, files that
// `postacert verify --trust` accepts, the scenario list, usage errors, the demo's output.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/io.js";
import { UsageError } from "../../src/cli/io.js";
import { runVerify } from "../../src/cli/inspect.js";
import { main } from "../../src/cli/main.js";
import { runDemo, runSimulate, stepFileName } from "../../src/cli/simulate.js";
import { readPec } from "../../src/pec/read.js";
import { SCENARIO_NAMES } from "../../src/simulator/index.js";
import { EXPECTED } from "./helpers.js";

function captureIo(): { io: Io; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (t) => void out.push(t), err: (t) => void err.push(t), color: false, progress: false, stdin: async function* () {} },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

let tmp: string;
let out: string;
let simulateOutput: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "postacert-simulate-"));
  out = join(tmp, "out");
  const c = captureIo();
  expect(await runSimulate({ scenario: "all", out, list: false }, c.io)).toBe(0);
  simulateOutput = c.out();
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("postacert simulate --scenario all", () => {
  it("writes <out>/<scenario>/<nn>-<type>.eml for every message, plus ca.pem and gestori.ldif", async () => {
    const top = (await readdir(out)).sort();
    expect(top).toEqual(["ca.pem", "gestori.ldif", ...SCENARIO_NAMES].sort());
    expect(await readFile(join(out, "ca.pem"), "utf8")).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(await readFile(join(out, "gestori.ldif"), "utf8")).toContain("mailReceipt: posta-certificata@pec.alfa.test");
    for (const name of SCENARIO_NAMES) {
      const files = (await readdir(join(out, name))).sort();
      const expected = EXPECTED[name].map(([type], i) => stepFileName({ step: i + 1, type: type as never }, EXPECTED[name].length));
      expect(files, name).toEqual(expected);
      for (const [i, f] of files.entries()) {
        const pec = readPec(new Uint8Array(await readFile(join(out, name, f))));
        expect(pec.type, `${name}/${f}`).toBe(EXPECTED[name][i]![0]);
      }
    }
  });

  it("prints a line per written file and a summary", () => {
    const lines = simulateOutput.split("\n").filter((l) => l.includes(".eml"));
    const total = SCENARIO_NAMES.reduce((n, s) => n + EXPECTED[s].length, 0);
    expect(lines).toHaveLength(total);
    expect(simulateOutput).toContain(`${join(out, "ok-completa", "01-accettazione.eml")}  Ricevuta di accettazione`);
    expect(simulateOutput).toContain(`Wrote ${total} messages of ${SCENARIO_NAMES.length} scenarios`);
    expect(simulateOutput).not.toMatch(/\x1b\[/);
  });

  it("postacert verify --trust <out>/ca.pem (and --trust gestori.ldif) accepts every message", async () => {
    const dirs = SCENARIO_NAMES.map((n) => join(out, n));
    for (const trust of ["ca.pem", "gestori.ldif"]) {
      const c = captureIo();
      const status = await runVerify(dirs, { json: true, trust: [join(out, trust)], crl: [] }, c.io);
      const rows = c
        .out()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; signature: { valid: boolean; trusted: boolean } });
      expect(rows.length).toBe(SCENARIO_NAMES.reduce((n, s) => n + EXPECTED[s].length, 0));
      for (const r of rows) expect(r.signature).toMatchObject({ valid: true, trusted: true });
      expect(status, `${trust}: ${c.err()}`).toBe(0);
    }
  });

  it.skipIf(spawnSync("openssl", ["version"]).status !== 0)("openssl smime -verify -CAfile ca.pem accepts every message", async () => {
    for (const name of SCENARIO_NAMES) {
      for (const f of await readdir(join(out, name))) {
        const r = spawnSync("openssl", ["smime", "-verify", "-CAfile", join(out, "ca.pem"), "-in", join(out, name, f), "-out", join(tmp, "content.out")], {
          encoding: "utf8",
        });
        expect(r.status, `${name}/${f}: ${r.stderr}`).toBe(0);
      }
    }
  });

  it("a second run replaces the step files it wrote before, and keeps other files", async () => {
    const dir = join(out, "virus-sender");
    await writeFile(join(dir, "07-old-leftover.eml"), "stale");
    await writeFile(join(dir, "notes.txt"), "mine");
    const c = captureIo();
    expect(await runSimulate({ scenario: "virus-sender", out, list: false }, c.io)).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(["01-non-accettazione.eml", "notes.txt"]);
    expect(c.out()).toContain("Wrote 1 messages of 1 scenario");
    await rm(join(dir, "notes.txt"));
  });

  it("a run into an earlier run's folder leaves only messages its ca.pem verifies, never writing through links", async () => {
    const mixed = join(tmp, "mixed");
    expect(await runSimulate({ scenario: "timeout", out: mixed, list: false }, captureIo().io)).toBe(0);
    await writeFile(join(mixed, "timeout", "notes.txt"), "mine");
    const victim = join(tmp, "victim.pem");
    await writeFile(victim, "precious");
    await rm(join(mixed, "ca.pem"));
    await symlink(victim, join(mixed, "ca.pem"));
    const c = captureIo();
    expect(await runSimulate({ scenario: "ok-completa", out: mixed, list: false }, c.io)).toBe(0);
    expect(c.err()).toMatch(/removed \d+ messages of an earlier run from .*timeout/);
    expect(await readdir(join(mixed, "timeout"))).toEqual(["notes.txt"]);
    expect(await readFile(victim, "utf8")).toBe("precious");
    const v = captureIo();
    expect(await runVerify([mixed], { trust: [join(mixed, "ca.pem")], crl: [], json: false }, v.io)).toBe(0);
  });
});

describe("postacert simulate, other options", () => {
  it("--list prints every scenario with its description", async () => {
    const c = captureIo();
    expect(await runSimulate({ scenario: "all", out, list: true }, c.io)).toBe(0);
    const lines = c.out().trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual([...SCENARIO_NAMES]);
    expect(c.out()).toContain("busta di anomalia");
  });

  it("an unknown scenario is a usage error (exit 2)", async () => {
    await expect(runSimulate({ scenario: "nope", out, list: false }, captureIo().io)).rejects.toBeInstanceOf(UsageError);
    const c = captureIo();
    expect(await main(["simulate", "--scenario", "nope", "--out", out], c.io)).toBe(2);
    expect(c.err()).toMatch(/unknown scenario "nope"/);
  });

  it("an unwritable --out is a usage error (exit 2)", async () => {
    const file = join(tmp, "a-file");
    await writeFile(file, "x");
    const c = captureIo();
    expect(await main(["simulate", "--scenario", "anomalia", "--out", join(file, "sub")], c.io)).toBe(2);
    expect(c.err()).toMatch(/cannot/);
  });
});

describe("postacert demo (npm start)", () => {
  it("prints every step with its type and verification, and writes the files", async () => {
    const c = captureIo();
    const started = Date.now();
    const demoOut = join(tmp, "demo-out");
    expect(await main(["demo", "--out", demoOut], c.io)).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    const text = c.out();
    const dir = join(demoOut, "demo");
    const files = (await readdir(dir)).sort();
    expect(files).toEqual([
      "01-accettazione.eml",
      "02-posta-certificata.eml",
      "03-presa-in-carico.eml",
      "04-posta-certificata.eml",
      "05-avvenuta-consegna.eml",
      "06-posta-certificata.eml",
      "07-avvenuta-consegna.eml",
      "ca.pem",
      "gestori.ldif",
    ]);
    for (const [i, label] of [
      "Ricevuta di accettazione / Acceptance receipt",
      "Busta di trasporto / Transport envelope",
      "Ricevuta di presa in carico / Take-charge receipt",
      "Busta di trasporto / Transport envelope",
      "Ricevuta di avvenuta consegna (completa) / Delivery receipt",
      "Busta di trasporto / Transport envelope",
      "Ricevuta di avvenuta consegna (sintetica) / Delivery receipt",
    ].entries()) {
      expect(text).toContain(`${String(i + 1).padStart(2)}. ${label}`);
    }
    expect(text.match(/signature: valid, trusted/g)).toHaveLength(7);
    expect(text).toContain(join(dir, "07-avvenuta-consegna.eml"));
    expect(text).toContain("mario.rossi@pec.alfa.test sends \"Offerta n. 12/2026\" with offerta.pdf");
    expect(text).toContain("posta-certificata@pec.beta.test → mario.rossi@pec.alfa.test");
    expect(text).not.toMatch(/\x1b\[/);
    // The attachment is a real PDF inside the original.
    const busta = readPec(new Uint8Array(await readFile(join(dir, "02-posta-certificata.eml"))));
    const pdf = busta.original?.attachments.find((a) => a.filename === "offerta.pdf");
    expect(new TextDecoder().decode(pdf?.content().subarray(0, 8))).toBe("%PDF-1.4");
    // And the files verify with the demo's own CA.
    const v = captureIo();
    expect(await runVerify(files.filter((f) => f.endsWith(".eml")).map((f) => join(dir, f)), { json: false, trust: [join(dir, "ca.pem")], crl: [] }, v.io)).toBe(0);
  });

  it("colors only when the Io says so", async () => {
    const c = captureIo();
    await runDemo({ out: join(tmp, "demo-color") }, { ...c.io, color: true });
    expect(c.out()).toMatch(/\x1b\[32mvalid, trusted\x1b\[0m/);
  });
});

describe("the sources never hold the EICAR string in one piece", () => {
  it("src/simulator/*.ts", async () => {
    const dir = resolve(import.meta.dirname, "../../src/simulator");
    const marker = ["EICAR-STANDARD", "ANTIVIRUS-TEST-FILE"].join("-");
    for (const f of await readdir(dir)) {
      if ((await stat(join(dir, f))).isFile()) expect(await readFile(join(dir, f), "utf8"), f).not.toContain(marker);
    }
  });
});
