// Node only: validates the builder's output against fixtures/daticert/daticert.dtd with
// xmllint (apt package libxml2-utils). Skipped, with a message, when xmllint is absent.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DATICERT_ERRORE,
  DATICERT_TIPO,
  RICEVUTA_TIPO,
  buildDaticertBytes,
  type Daticert,
} from "../../src/daticert/index.js";
import { ANNA, LUCA, ONE, THREE, model } from "./helpers.js";

const root = resolve(import.meta.dirname, "../..");
const DTD = join(root, "fixtures/daticert/daticert.dtd");
const hasXmllint = spawnSync("xmllint", ["--version"]).status === 0;
if (!hasXmllint) console.warn("dtd.node.test.ts: xmllint not on PATH (apt-get install libxml2-utils): DTD validation skipped");

/** Runs xmllint on many files at once; returns its stderr, empty when all are valid. */
function xmllint(files: string[]): string {
  const r = spawnSync("xmllint", ["--noout", "--nonet", "--dtdvalid", DTD, ...files], { encoding: "utf8" });
  return r.status === 0 ? "" : r.stderr || `xmllint exited with ${r.status}`;
}

describe.skipIf(!hasXmllint)("DTD validation with xmllint", () => {
  const dir = mkdtempSync(join(tmpdir(), "postacert-daticert-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the DTD file itself is well-formed and rejects an invalid document", () => {
    const bad = join(dir, "bad.xml");
    writeFileSync(bad, '<?xml version="1.0"?><postacert tipo="consegna"><intestazione/></postacert>');
    expect(xmllint([bad])).toMatch(/tipo|intestazione/);
  });

  it("accepts every example of spec §5.3", () => {
    const ex = join(root, "fixtures/daticert/examples");
    const files = readdirSync(ex).map((f) => join(ex, f));
    expect(files.length).toBe(11);
    expect(xmllint(files)).toBe("");
  });

  it("accepts buildDaticert output for every tipo x errore x ricevuta", () => {
    const files: string[] = [];
    for (const tipo of DATICERT_TIPO) {
      for (const errore of DATICERT_ERRORE) {
        for (const ricevuta of [undefined, ...RICEVUTA_TIPO]) {
          const m = model(tipo, errore, THREE, { consegna: ANNA, erroreEsteso: "5.1.1 - errore", ricezione: [ANNA, LUCA] });
          if (ricevuta !== undefined) m.dati.ricevuta = ricevuta;
          const f = join(dir, `${tipo}-${errore}-${ricevuta ?? "none"}.xml`);
          writeFileSync(f, buildDaticertBytes(m));
          files.push(f);
        }
      }
    }
    expect(files).toHaveLength(8 * 5 * 4);
    expect(xmllint(files)).toBe("");
  });

  it("accepts minimal, maximal, escaped and non-ASCII documents", () => {
    const minimal: Daticert = {
      tipo: "accettazione",
      errore: "nessuno",
      intestazione: { mittente: "a@x", destinatari: [{ address: "b@x", tipo: "esterno" }], risposte: "" },
      dati: { gestoreEmittente: "G", data: { zona: "-0000", giorno: "01/01/2000", ora: "00:00:00" }, identificativo: "i", ricezione: [] },
    };
    const special = model("posta-certificata", "nessuno", ONE, { ricevuta: "breve", msgid: "<a&b\"c'd@x>" });
    special.intestazione.oggetto = "R&D <è> \"€\" ]]> 😀\tfine\r\nriga";
    const files = [
      [minimal, {}],
      [special, {}],
      [special, { newline: "\r\n", indent: "\t" }],
    ].map(([m, o], i) => {
      const f = join(dir, `case-${i}.xml`);
      writeFileSync(f, buildDaticertBytes(m as Daticert, o as object));
      return f;
    });
    expect(xmllint(files)).toBe("");
    // xmllint reads back the same subject.
    const out = execFileSync("xmllint", ["--xpath", "string(/postacert/intestazione/oggetto)", files[1]!], { encoding: "utf8" });
    expect(out.replace(/\n$/, "")).toBe(special.intestazione.oggetto);
  });
});
