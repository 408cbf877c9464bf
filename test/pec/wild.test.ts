// Conformance of readPec on the real samples in ../shared/wild: every file classified as
// SOURCES.md describes it. Skips when the folder is absent.
import { describe, expect, it } from "vitest";
import { pecToJson } from "../../src/pec/json.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec } from "../../src/pec/verify.js";
import type { ReadPec } from "../../src/pec/types.js";
import { readWild, wildFiles } from "../support/wild.js";

interface Expect {
  type: ReadPec["type"];
  ricevuta?: ReadPec["ricevuta"];
  errore?: string;
  wrapped?: boolean;
  /** Path to the PEC message when found inside another message. */
  path?: number[];
  signed?: boolean;
  /** A PEC inside the original (forwarded protocol messages). */
  inner?: ReadPec["type"];
  /** Codes that must be reported with severity error. */
  errors?: string[];
  check?: (p: ReadPec) => void;
}

const D = "3dinformatica__docway-msa/";
const O = "OCA__l10n-italy/";
const P = "SimoneP91__PMM-PecMassiveMailer/";
const busta = (ricevuta: ReadPec["ricevuta"] = "completa", extra: Partial<Expect> = {}): Expect => ({ type: "posta-certificata", ricevuta, ...extra });
const forwarded: Expect = { type: "posta-certificata", ricevuta: "completa", wrapped: true, path: [1, 0] };

const EXPECTED: Record<string, Expect> = {
  [D + "NoReply01.eml"]: forwarded,
  [D + "NoReply02.eml"]: forwarded,
  [D + "NoReply03.eml"]: forwarded,
  [D + "NoReply04.eml"]: forwarded,
  [D + "NoReply05.eml"]: forwarded,
  [D + "address_exception.eml"]: busta(),
  [D + "daticertEncoding.eml"]: busta("completa", {
    check: (p) => expect(p.issues.map((i) => i.code)).toContain("DATICERT_SANITIZED"),
  }),
  [D + "daticertEncoding2.eml"]: busta("completa", {
    check: (p) => expect(p.issues.map((i) => i.code)).toContain("DATICERT_SANITIZED"),
  }),
  [D + "domain_contains_control_or_whitespace.eml"]: busta(),
  [D + "erroreParsingEccezioneXML.eml"]: busta("breve"),
  [D + "fattura_passiva_privati_1.eml"]: busta("breve"),
  [D + "fattura_passiva_privati_2.eml"]: busta("breve"),
  [D + "java.lang.ClassCastException.eml"]: busta("completa", {
    // name="… L.C.A. "Istituto Fiduciario Lombardo S.p.A.".msg": quotes left unescaped.
    check: (p) => expect(p.original?.attachments.map((a) => a.filename)).toContain('Richiesta Carichi Pendenti L.C.A. "Istituto Fiduciario Lombardo S.p.A.".msg'),
  }),
  [D + "notWellFormed.eml"]: busta("completa", { inner: "posta-certificata" }),
  [D + "notWellFormed_2.eml"]: busta("completa", {
    // The inner subject uses the charset label "utf8".
    check: (p) => expect(p.original?.subject).toBeTruthy(),
  }),
  [D + "partNull.eml"]: busta("completa", { check: (p) => expect(p.recipients).toHaveLength(18) }),
  [D + "segnatura-tags.eml"]: busta(),
  [D + "segnatura_allegati_non_validi.eml"]: busta(),
  [D + "segnatura_solo_testo.eml"]: busta(),
  [D + "utf7.eml"]: busta("completa", {
    // The original's text and HTML parts are declared charset="utf-7" (and nearly empty).
    check: (p) => {
      expect(p.original?.text).toBe("");
      expect(p.original?.html).toMatch(/^<HTML><HEAD><\/HEAD>/);
      // The client wrote the file name in raw UTF-7 without any marker: kept as written.
      expect(p.original?.attachments.map((a) => a.filename)).toEqual(["TE4I srl -2018-ADESIONE-ROTTAMAZIONE+AF8-con+AF8-allegati .pdf"]);
    },
  }),
  [O + "ACCETTAZIONE_ IT03339130126_00009.xml.txt"]: { type: "accettazione", errore: "nessuno" },
  [O + "CONSEGNA_ IT03339130126_00009.xml.txt"]: {
    type: "avvenuta-consegna",
    ricevuta: "completa",
    check: (p) => {
      expect(p.consegna).toBe("l.battistini@pec.it");
      expect(p.recipients).toEqual([{ address: "l.battistini@pec.it", tipo: "certificato", field: "to" }]);
      expect(p.original?.subject).toBeTruthy();
    },
  },
  [O + "POSTA CERTIFICATA_ Invio File 7339338 (base64).txt"]: busta("breve"),
  [O + "POSTA CERTIFICATA_ Invio File 7339338 (broken XML).txt"]: busta("breve"),
  [O + "POSTA CERTIFICATA_ Invio File 7339338.txt"]: busta("breve"),
  [O + "POSTA CERTIFICATA_ Ricevuta di consegna 6782414.txt"]: busta("breve"),
  // daticert.xml was removed from this copy.
  [O + "POSTA CERTIFICATA_mancata_consegna.txt"]: busta("breve", { errors: ["DATICERT_MISSING"] }),
  [O + "message1"]: busta("completa"),
  [O + "message2"]: busta("completa"),
  [O + "message2_accettazione"]: { type: "accettazione" },
  [O + "message2_consegna"]: { type: "avvenuta-consegna", ricevuta: "completa" },
  [P + "accettazione-inesistente.eml"]: { type: "accettazione" },
  [P + "accettazione.eml"]: {
    type: "accettazione",
    check: (p) => expect(p.daticert?.intestazione.risposte).toBe(""),
  },
  [P + "avvenuta-consegna.eml"]: { type: "avvenuta-consegna", ricevuta: "completa" },
  [P + "busta-trasporto.eml"]: busta("completa"),
  [P + "errore-consegna.eml"]: {
    type: "errore-consegna",
    errore: "altro",
    check: (p) => expect(p.erroreEsteso).toBe("5.1.1 - ARUBA PEC S.p.A. - indirizzo non valido"),
  },
  // The smime.p7s part was removed from these copies.
  "biagioT__java-pec-parser/accettazione.eml": { type: "accettazione", signed: false, errors: ["NOT_SIGNED"] },
  "biagioT__java-pec-parser/consegna.eml": { type: "errore-consegna", errore: "no-dest", signed: false, errors: ["NOT_SIGNED"] },
  "danzipie__go-pec/accettazione.eml": { type: "accettazione" },
  "danzipie__go-pec/consegna.eml": { type: "errore-consegna", errore: "no-dest" },
  "danzipie__go-pec/email_2.eml": { type: "avvenuta-consegna", ricevuta: "completa" },
  "danzipie__go-pec/email_3.eml": busta("completa"),
  "linux-mailinglist-archives__osst-users.lists.sourceforge.net.0/m": busta("completa", {
    wrapped: true,
    path: [],
    check: (p) => {
      // The mailing list re-packed the busta: the signature sits one level down.
      expect(p.signature?.entity).not.toBe(p.message);
      expect(p.recipients.every((r) => r.tipo === "esterno")).toBe(true);
      expect(p.recipients).toHaveLength(7);
    },
  }),
  // Original messages taken out of a busta: ordinary mail.
  "toniorusso__pec-parser/postacert.eml": { type: "not-pec", signed: false },
  "toniorusso__pec-parser/postacertnoattach.eml": { type: "not-pec", signed: false },
};

describe.skipIf(wildFiles === null)("readPec on the real samples", () => {
  it("has an expectation for every sample, and every expectation has a sample", () => {
    expect([...(wildFiles ?? [])].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, exp] of Object.entries(EXPECTED)) {
    it(file, async () => {
      const pec = readPec(await readWild(file));
      expect(pec.type).toBe(exp.type);
      if (exp.ricevuta !== undefined) expect(pec.ricevuta).toBe(exp.ricevuta);
      if (exp.errore !== undefined) expect(pec.errore).toBe(exp.errore);
      expect(pec.wrapped).toBe(exp.wrapped ?? false);
      if (exp.path) expect(pec.path).toEqual(exp.path);
      if (exp.type === "not-pec") return;
      expect(pec.signature !== undefined).toBe(exp.signed ?? true);
      expect(pec.original?.inner?.type).toBe(exp.inner);
      const errors = pec.issues.filter((i) => i.severity === "error").map((i) => i.code);
      expect(errors.sort()).toEqual([...(exp.errors ?? [])].sort());
      // What every PEC exposes.
      if (pec.daticert) {
        expect(pec.date).toBeInstanceOf(Date);
        expect(Number.isNaN(pec.date!.getTime())).toBe(false);
        expect(pec.identificativo).toBeTruthy();
        expect(pec.sender).toBeTruthy();
        expect(pec.recipients.length).toBeGreaterThan(0);
        expect(pec.gestoreEmittente).toBeTruthy();
      }
      if (pec.type === "posta-certificata" && pec.daticert) {
        expect(pec.original).toBeDefined();
        expect(pec.original!.bytes.length).toBeGreaterThan(0);
      }
      expect(pec.text ?? pec.html).toBeTruthy();
      exp.check?.(pec);
    });
  }
});

describe.skipIf(wildFiles === null)("daticert.xml at every depth of the real samples", () => {
  it("parses wherever readPec finds one, nested PECs included", async () => {
    let count = 0;
    for (const file of wildFiles ?? []) {
      let p: ReadPec | undefined = readPec(await readWild(file));
      while (p) {
        if (p.daticertEntity) {
          // Every daticert part readPec meets must have become the typed model.
          expect(p.daticert, file).toBeDefined();
          count++;
        }
        p = p.original?.inner;
      }
    }
    // 45 samples: 2 are not PEC, 1 lost its daticert; notWellFormed.eml adds a nested one.
    expect(count).toBe(43);
  });
});

describe.skipIf(wildFiles === null)("pecToJson without verification (inspect) on the real samples", () => {
  it("names the signer, signingTime and digest verifyPec finds, for every signed sample", async () => {
    let named = 0;
    for (const file of wildFiles ?? []) {
      const pec = readPec(await readWild(file));
      const json = pecToJson(pec).signature;
      expect("valid" in json, file).toBe(false);
      if (!pec.signature) {
        expect(json, file).toMatchObject({ present: false, signer: null, signedAt: null, digestAlgorithm: null });
        continue;
      }
      const v = await verifyPec(pec);
      const verified = pecToJson(pec, { verification: v }).signature;
      // Where verification finds a signer, the unchecked read names the same one.
      if (verified.signer !== null) {
        expect({ signer: json.signer, signedAt: json.signedAt, digestAlgorithm: json.digestAlgorithm }, file).toEqual({
          signer: verified.signer,
          signedAt: verified.signedAt,
          digestAlgorithm: verified.digestAlgorithm,
        });
        named++;
      }
    }
    expect(named).toBeGreaterThan(20);
  });
});
