// Real PEC signatures from ../shared/wild (see SOURCES.md there for provenance).
import { describe, expect, it } from "vitest";
import { verifyCms, type CmsVerification } from "../../src/smime/verify.js";
import { wildFiles } from "../support/wild.js";
import { verifyWild, WILD_OK } from "./support/samples.js";

/** Copies altered after signing: the CMS parses, the content no longer matches. */
const WILD_ALTERED = [
  "OCA__l10n-italy/POSTA CERTIFICATA_ Invio File 7339338 (broken XML).txt",
  "OCA__l10n-italy/POSTA CERTIFICATA_ Invio File 7339338 (base64).txt",
  "OCA__l10n-italy/POSTA CERTIFICATA_mancata_consegna.txt",
  "3dinformatica__docway-msa/daticertEncoding.eml",
  "3dinformatica__docway-msa/notWellFormed.eml",
  "3dinformatica__docway-msa/partNull.eml",
  "SimoneP91__PMM-PecMassiveMailer/accettazione.eml",
  "SimoneP91__PMM-PecMassiveMailer/accettazione-inesistente.eml",
  "SimoneP91__PMM-PecMassiveMailer/avvenuta-consegna.eml",
  "SimoneP91__PMM-PecMassiveMailer/errore-consegna.eml",
  "SimoneP91__PMM-PecMassiveMailer/busta-trasporto.eml",
];

/** Placeholder signatures (`MII…njA==`). */
const WILD_PLACEHOLDER = ["danzipie__go-pec/accettazione.eml", "danzipie__go-pec/consegna.eml", "danzipie__go-pec/email_2.eml", "danzipie__go-pec/email_3.eml"];

const codes = (r: CmsVerification): string[] => r.issues.map((i) => i.code);

describe.skipIf(!wildFiles)("real gestore signatures", () => {
  for (const [name, digest] of Object.entries(WILD_OK)) {
    it(`verifies ${name}`, async () => {
      const { res } = await verifyWild(name);
      expect(res.issues.filter((i) => i.severity === "error")).toEqual([]);
      expect(res.valid).toBe(true);
      expect(res.signers).toHaveLength(1);
      expect(res.signers[0]!.digestAlgorithm).toBe(digest);
      expect(res.signers[0]!.signingTime).toBeInstanceOf(Date);
      expect(res.signers[0]!.certificate?.emails.length).toBeGreaterThan(0);
      if (digest === "SHA-1") expect(codes(res)).toContain("WEAK_ALGORITHM");
    });
  }

  it("reports one changed byte in a real receipt as SIGNATURE_MISMATCH", async () => {
    const { signed, p7s } = await verifyWild("OCA__l10n-italy/message2_accettazione");
    const tampered = signed.slice();
    tampered[tampered.length - 10]! ^= 0x01;
    const res = await verifyCms({ cms: p7s, content: tampered });
    expect(res.valid).toBe(false);
    expect(codes(res)).toContain("SIGNATURE_MISMATCH");
  });

  it("Register.it's signingCertificateV2 names the signer certificate; one changed outside the key (its own signature) no longer passes for it", async () => {
    const name = "3dinformatica__docway-msa/daticertEncoding2.eml";
    const { res, p7s, signed } = await verifyWild(name);
    expect(res.valid).toBe(true);
    const der = res.signers[0]!.certificate!.der;
    const at = p7s.findIndex((_, i) => der.every((b, k) => p7s[i + k] === b));
    expect(at).toBeGreaterThan(0);
    // The certificates of a CMS are not signed: a last byte of the certificate's own signature
    // changed keeps its issuer, serial number and key, so the SignerInfo's signature still verifies.
    const swapped = p7s.slice();
    swapped[at + der.length - 1]! ^= 0x01;
    const again = await verifyCms({ cms: swapped, content: signed });
    expect(again.valid).toBe(false);
    expect(again.issues).toContainEqual(expect.objectContaining({ code: "SIGNATURE_INVALID", message: expect.stringContaining("the signed signingCertificateV2 attribute names another certificate") }));
  });

  it("reads the BER p7s of Irideos (indefinite lengths)", async () => {
    const { res } = await verifyWild("3dinformatica__docway-msa/java.lang.ClassCastException.eml");
    expect(res.ber).toBe(true);
    expect(res.valid).toBe(true);
    expect(res.signers[0]!.certificate?.subject).toContain("IRIDEOS");
  });

  for (const name of WILD_ALTERED) {
    it(`reports ${name} as altered`, async () => {
      const { res } = await verifyWild(name);
      expect(res.valid).toBe(false);
      expect(codes(res)).toContain("SIGNATURE_MISMATCH");
    });
  }

  for (const name of WILD_PLACEHOLDER) {
    it(`reports the placeholder signature of ${name} as CMS_MALFORMED`, async () => {
      const { res } = await verifyWild(name);
      expect(res.valid).toBe(false);
      expect(codes(res)).toEqual(["CMS_MALFORMED"]);
    });
  }

  it("never throws on mutated real CMS (seeded fuzz of a BER and a DER p7s)", async () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (const name of ["3dinformatica__docway-msa/java.lang.ClassCastException.eml", "OCA__l10n-italy/message2_accettazione"]) {
      const { p7s, signed } = await verifyWild(name);
      for (let k = 0; k < 150; k++) {
        const m = p7s.slice();
        const kind = rnd(3);
        if (kind === 0) for (let j = 0; j < 1 + rnd(4); j++) m[rnd(m.length)] = rnd(256);
        const input = kind === 1 ? m.subarray(0, rnd(m.length)) : kind === 2 ? new Uint8Array([...m.subarray(0, 200), ...m.subarray(200 + rnd(50))]) : m;
        const res = await verifyCms({ cms: input, content: signed });
        expect(typeof res.valid).toBe("boolean");
        if (res.valid) expect(res.signers.length).toBeGreaterThan(0);
      }
    }
  });
});
