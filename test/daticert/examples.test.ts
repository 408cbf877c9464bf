// Spec §5.3: every example parses into the expected model.
import { describe, expect, it } from "vitest";
import { readBytes } from "#files";
import { parseDaticert, type Daticert } from "../../src/daticert/index.js";
import { ANNA, G_DEST, INFO, LUCA, MARIO, ONE, THREE, model } from "./helpers.js";

const EICAR = "Eicar-Test-Signature";

const EXPECTED: Record<string, Daticert> = {
  "a-posta-certificata": model("posta-certificata", "nessuno", THREE, { ricevuta: "completa" }),
  "b-accettazione": model("accettazione", "nessuno", THREE, {}),
  "c-non-accettazione": model("non-accettazione", "altro", ONE, { erroreEsteso: "Il campo Bcc non deve contenere valori" }),
  "d-non-accettazione-virus": model("non-accettazione", "virus", ONE, { erroreEsteso: EICAR }),
  "e-presa-in-carico": model("presa-in-carico", "nessuno", THREE, { gestoreEmittente: G_DEST, ora: "10:30:02", ricezione: [ANNA, LUCA] }),
  "f-avvenuta-consegna-completa": model("avvenuta-consegna", "nessuno", THREE, {
    gestoreEmittente: G_DEST,
    ora: "10:30:03",
    ricevuta: "completa",
    consegna: ANNA,
  }),
  "f2-avvenuta-consegna-sintetica": model("avvenuta-consegna", "nessuno", THREE, {
    gestoreEmittente: G_DEST,
    ora: "10:30:03",
    ricevuta: "sintetica",
    consegna: LUCA,
  }),
  "g-errore-consegna": model("errore-consegna", "no-dest", ONE, {
    gestoreEmittente: G_DEST,
    ora: "10:30:03",
    consegna: ANNA,
    erroreEsteso: "5.1.1 - Gestore Destinatario S.p.A. - indirizzo non valido",
  }),
  "h-rilevazione-virus": model("rilevazione-virus", "virus", ONE, { gestoreEmittente: G_DEST, ora: "10:30:02", consegna: ANNA, erroreEsteso: EICAR }),
  "i-errore-consegna-virus": model("errore-consegna", "virus", ONE, { ora: "10:30:05", consegna: ANNA, erroreEsteso: EICAR }),
  "j-preavviso-errore-consegna": model("preavviso-errore-consegna", "nessuno", ONE, { ora: "22:30:00", consegna: ANNA }),
};

describe("spec §5.3 examples", () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`parses ${name}`, async () => {
      const bytes = await readBytes(`fixtures/daticert/examples/${name}.xml`);
      const d = parseDaticert(bytes);
      expect(d).toStrictEqual({ ...expected, warnings: [], encoding: "utf-8" });
    });
  }

  it("keeps the destinatari order and tipo of example (a)", async () => {
    const d = parseDaticert(await readBytes("fixtures/daticert/examples/a-posta-certificata.xml"));
    expect(d.intestazione.destinatari.map((x) => `${x.tipo}:${x.address}`)).toEqual([
      `certificato:${ANNA}`,
      `esterno:${INFO}`,
      `certificato:${LUCA}`,
    ]);
    expect(d.intestazione.mittente).toBe(MARIO);
    expect(d.dati.msgid).toBe("<20240315.abc123@client.example>");
  });
});
