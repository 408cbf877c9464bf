// Real gestore certificates chain through AgID CA1 to "Actalis Authentication Root CA",
// which Node's bundled roots include: with TrustStore.system() (public roots, PEC
// policy required) the intact samples from 2018 onwards are trusted at their signing time.
import { rootCertificates } from "node:tls";
import { describe, expect, it } from "vitest";
import { systemTrustStore } from "../../src/node/system-trust.js";
import { verifySignedData } from "../../src/smime/verify.js";
import { TrustStore } from "../../src/trust/store.js";
import { wildFiles } from "../support/wild.js";
import { verifyWild, WILD_OK } from "./support/samples.js";

const trust = await TrustStore.system();

describe.skipIf(!wildFiles)("real signatures against the system roots", () => {
  it("Node's bundled roots include Actalis Authentication Root CA", () => {
    expect(trust.findBySubject("C=IT, L=Milan, O=Actalis S.p.A./03358520967, CN=Actalis Authentication Root CA")).toHaveLength(1);
    expect(trust.requirePecPolicy).toBe(true);
    expect(trust.size).toBe(rootCertificates.length);
  });

  it("systemTrustStore() (static node:tls import) gives the same anchors", async () => {
    const s = await systemTrustStore();
    expect(s.anchors.map((a) => a.sha256)).toEqual(trust.anchors.map((a) => a.sha256));
    expect(s.requirePecPolicy).toBe(true);
  });

  for (const name of Object.keys(WILD_OK)) {
    it(`trusts ${name} at its signing time when it is from 2018 onwards`, async () => {
      const { p7s, signed } = await verifyWild(name);
      const res = await verifySignedData({ cms: p7s, content: signed, trust });
      expect(res.valid).toBe(true);
      const year = res.signedAt!.getUTCFullYear();
      if (year < 2018) {
        // DigitPA CA1 chains to Baltimore CyberTrust Root, no longer in Node's bundle.
        expect(res.trusted).toBe(false);
        expect(res.issues.map((i) => i.code)).toContain("CERT_UNTRUSTED");
        return;
      }
      expect(res.issues.filter((i) => i.severity === "error")).toEqual([]);
      expect(res.trusted).toBe(true);
      const chain = res.signers[0]!.chain;
      expect(chain).toHaveLength(3);
      expect(chain[1]!.subject).toContain("CN=AgID CA1");
      expect(chain[2]!.subject).toContain("CN=Actalis Authentication Root CA");
      expect(res.signers[0]!.validatedAt).toEqual(res.signedAt);
    });
  }

  it("a gestore signature validated today (not at its signing time) is expired", async () => {
    const { p7s, signed } = await verifyWild("3dinformatica__docway-msa/fattura_passiva_privati_1.eml");
    const res = await verifySignedData({ cms: p7s, content: signed, trust, at: new Date("2030-01-01T00:00:00Z") });
    expect(res.valid).toBe(true);
    expect(res.trusted).toBe(false);
    expect(res.issues.map((i) => i.code)).toContain("CERT_EXPIRED_AT_SIGNING");
  });
});
