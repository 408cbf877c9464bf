import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { beforeAll, describe, expect, it } from "vitest";
import { isPecError } from "../../src/errors.js";
import {
  type KeyAlgorithm,
  type TestCa,
  type TestGestore,
  createCrl,
  createGestore,
  createTestCa,
  exportPrivateKeyPem,
} from "../../src/simulator/index.js";
import { OID, ab, engine, ext, extValue, nameOf, parseCert, toHex } from "./helpers.js";

const ALGORITHMS: KeyAlgorithm[] = ["RSA-2048", "RSA-3072", "RSA-PSS-2048", "ECDSA-P256", "ECDSA-P384"];
const NOT_BEFORE = new Date("2024-01-01T00:00:00Z");
const NOT_AFTER = new Date("2036-01-01T00:00:00Z");

async function expectPecError(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isPecError(e), String(e)).toBe(true);
  expect((e as { code: string }).code).toBe(code);
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1), computed with pkijs's view. */
async function keyId(cert: pkijs.Certificate): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView.slice())));
}

function kuBits(cert: pkijs.Certificate): string {
  const bs = extValue(cert, OID.keyUsage) as asn1js.BitString;
  const bytes = bs.valueBlock.valueHexView;
  const names = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"];
  return names.filter((_, i) => ((bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0).join(",");
}

function oids(seq: asn1js.AsnType | undefined): string[] {
  return (seq as asn1js.Sequence).valueBlock.value.map((v) => (v as asn1js.ObjectIdentifier).valueBlock.toString());
}

describe("createTestCa / createGestore for every key algorithm", () => {
  const made = new Map<KeyAlgorithm, { ca: TestCa; gestore: TestGestore }>();

  beforeAll(async () => {
    await Promise.all(
      ALGORITHMS.map(async (keyAlgorithm) => {
        const ca = await createTestCa({ keyAlgorithm, notBefore: NOT_BEFORE, notAfter: NOT_AFTER });
        const gestore = await createGestore({
          name: "Gestore Alfa S.p.A.",
          domain: "pec.alfa.test",
          ca,
          keyAlgorithm,
          notBefore: new Date("2025-01-01T00:00:00Z"),
          notAfter: new Date("2028-01-01T00:00:00Z"),
        });
        made.set(keyAlgorithm, { ca, gestore });
      }),
    );
  }, 120_000);

  for (const alg of ALGORITHMS) {
    describe(alg, () => {
      it("makes a self-signed root CA with the CA profile", async () => {
        const { ca } = made.get(alg)!;
        const c = parseCert(ca.certificate);
        expect(c.version).toBe(2);
        expect(nameOf(c.subject)).toBe("C=IT, O=postacert test PKI, CN=postacert Test CA");
        expect(ca.subject).toBe("C=IT, O=postacert test PKI, CN=postacert Test CA");
        expect(c.issuer.isEqual(c.subject)).toBe(true);
        expect(c.notBefore.value.toISOString()).toBe(NOT_BEFORE.toISOString());
        expect(c.notAfter.value.toISOString()).toBe(NOT_AFTER.toISOString());
        expect(ca.notAfter.toISOString()).toBe(NOT_AFTER.toISOString());
        expect(ca.chain).toEqual([]);
        expect(ca.kind).toBe("ca");
        expect(ca.keyAlgorithm).toBe(alg);
        const bc = ext(c, OID.basicConstraints)!;
        expect(bc.critical).toBe(true);
        expect(new pkijs.BasicConstraints({ schema: extValue(c, OID.basicConstraints) }).cA).toBe(true);
        expect(ext(c, OID.keyUsage)!.critical).toBe(true);
        expect(kuBits(c)).toBe("keyCertSign,cRLSign");
        const ski = ext(c, OID.subjectKeyIdentifier)!;
        expect(ski.critical).toBe(false);
        const skiBytes = new Uint8Array((extValue(c, OID.subjectKeyIdentifier) as asn1js.OctetString).valueBlock.valueHexView);
        expect(toHex(skiBytes)).toBe(await keyId(c));
        expect(toHex(ca.keyIdentifier)).toBe(toHex(skiBytes));
        expect(ext(c, OID.authorityKeyIdentifier)).toBeUndefined();
        expect(await c.verify(undefined, engine)).toBe(true);
      });

      it("makes a gestore certificate with the PEC profile (spec §6.2)", async () => {
        const { ca, gestore } = made.get(alg)!;
        const c = parseCert(gestore.certificate);
        const issuer = parseCert(ca.certificate);
        expect(c.version).toBe(2);
        expect(nameOf(c.subject)).toBe("C=IT, O=Gestore Alfa S.p.A., CN=Posta Certificata Gestore Alfa S.p.A.");
        expect(c.issuer.isEqual(issuer.subject)).toBe(true);
        expect(c.notBefore.value.toISOString()).toBe("2025-01-01T00:00:00.000Z");
        expect(c.notAfter.value.toISOString()).toBe("2028-01-01T00:00:00.000Z");
        // Serial: positive, 16 random bytes, reported in hex.
        const serial = new Uint8Array(c.serialNumber.valueBlock.valueHexView);
        expect(serial.length).toBe(16);
        expect(serial[0]! & 0x80).toBe(0);
        expect(toHex(serial)).toBe(gestore.serialNumber);
        // Extensions.
        expect(ext(c, OID.keyUsage)!.critical).toBe(true);
        expect(kuBits(c)).toBe("digitalSignature");
        expect(ext(c, OID.extKeyUsage)!.critical).toBe(false);
        expect(oids(extValue(c, OID.extKeyUsage))).toEqual([OID.emailProtection]);
        const policies = new pkijs.CertificatePolicies({ schema: extValue(c, OID.certificatePolicies) });
        expect(policies.certificatePolicies.map((p) => p.policyIdentifier)).toEqual([OID.pecPolicy]);
        const san = new pkijs.AltName({ schema: extValue(c, OID.subjectAltName) });
        expect(san.altNames.map((n) => [n.type, n.value])).toEqual([[1, "posta-certificata@pec.alfa.test"]]);
        expect(gestore.email).toBe("posta-certificata@pec.alfa.test");
        const skiBytes = new Uint8Array((extValue(c, OID.subjectKeyIdentifier) as asn1js.OctetString).valueBlock.valueHexView);
        expect(toHex(skiBytes)).toBe(await keyId(c));
        const aki = new pkijs.AuthorityKeyIdentifier({ schema: extValue(c, OID.authorityKeyIdentifier) });
        expect(toHex(new Uint8Array(aki.keyIdentifier!.valueBlock.valueHexView))).toBe(toHex(ca.keyIdentifier));
        expect(ext(c, OID.basicConstraints)).toBeUndefined();
        for (const e of c.extensions!) if (e.extnID !== OID.keyUsage) expect(e.critical, e.extnID).toBe(false);
        // Chain and signature.
        expect(gestore.chain.map(toHex)).toEqual([toHex(ca.certificate)]);
        expect(c.signature.algorithmId).toBe(c.signatureAlgorithm.algorithmId);
        const expectedSig: Record<KeyAlgorithm, string> = {
          "RSA-2048": OID.sha256WithRSA,
          "RSA-3072": OID.sha256WithRSA,
          "RSA-PSS-2048": OID.rsaPSS,
          "ECDSA-P256": OID.ecdsaWithSHA256,
          "ECDSA-P384": OID.ecdsaWithSHA384,
        };
        expect(c.signatureAlgorithm.algorithmId).toBe(expectedSig[alg]);
        expect(await c.verify(issuer, engine)).toBe(true);
        expect(gestore.pem()).toMatch(/^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n$/);
      });

      it("uses a key of the requested type", async () => {
        const { gestore } = made.get(alg)!;
        const a = gestore.privateKey.algorithm as RsaHashedKeyAlgorithm & EcKeyAlgorithm;
        const expected: Record<KeyAlgorithm, [string, number | string]> = {
          "RSA-2048": ["RSASSA-PKCS1-v1_5", 2048],
          "RSA-3072": ["RSASSA-PKCS1-v1_5", 3072],
          "RSA-PSS-2048": ["RSA-PSS", 2048],
          "ECDSA-P256": ["ECDSA", "P-256"],
          "ECDSA-P384": ["ECDSA", "P-384"],
        };
        expect([a.name, a.modulusLength ?? a.namedCurve]).toEqual(expected[alg]);
        const c = parseCert(gestore.certificate);
        // RSA-PSS keys are published as rsaEncryption, which every verifier reads.
        expect(c.subjectPublicKeyInfo.algorithm.algorithmId).toBe(alg.startsWith("ECDSA") ? "1.2.840.10045.2.1" : OID.rsaEncryption);
      });
    });
  }

  it("RSA and PSS signature algorithm identifiers are DER as RFC 4055 wants", () => {
    const rsa = parseCert(made.get("RSA-2048")!.gestore.certificate);
    expect(rsa.signatureAlgorithm.algorithmParams).toBeInstanceOf(asn1js.Null);
    const pss = parseCert(made.get("RSA-PSS-2048")!.gestore.certificate);
    const params = new pkijs.RSASSAPSSParams({ schema: pss.signatureAlgorithm.algorithmParams });
    expect(params.hashAlgorithm.algorithmId).toBe("2.16.840.1.101.3.4.2.1");
    expect(params.saltLength).toBe(32);
    const ec = parseCert(made.get("ECDSA-P256")!.gestore.certificate);
    expect(ec.signatureAlgorithm.algorithmParams).toBeUndefined();
  });
});

describe("certificate variants (the tamper cases of issue 5)", () => {
  let root: TestCa;
  let keys: CryptoKeyPair;

  beforeAll(async () => {
    root = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
    keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  });

  const gestore = (over: Partial<Parameters<typeof createGestore>[0]> = {}): Promise<TestGestore> =>
    createGestore({ name: "Gestore Beta", domain: "pec.beta.test", ca: root, keyAlgorithm: "ECDSA-P256", keyPair: keys, ...over });

  it("intermediate CA without basicConstraints, with a path length, with name constraints", async () => {
    const noBc = await createTestCa({ issuer: root, keyAlgorithm: "ECDSA-P256", keyPair: keys, basicConstraints: false, commonName: "No BC CA" });
    const c = parseCert(noBc.certificate);
    expect(ext(c, OID.basicConstraints)).toBeUndefined();
    expect(nameOf(c.subject)).toBe("C=IT, O=postacert test PKI, CN=No BC CA");
    expect(nameOf(c.issuer)).toBe("C=IT, O=postacert test PKI, CN=postacert Test CA");
    expect(noBc.chain.map(toHex)).toEqual([toHex(root.certificate)]);
    const aki = new pkijs.AuthorityKeyIdentifier({ schema: extValue(c, OID.authorityKeyIdentifier) });
    expect(toHex(new Uint8Array(aki.keyIdentifier!.valueBlock.valueHexView))).toBe(toHex(root.keyIdentifier));
    expect(await c.verify(parseCert(root.certificate), engine)).toBe(true);

    const under = await gestore({ ca: noBc });
    expect(under.chain.map(toHex)).toEqual([toHex(noBc.certificate), toHex(root.certificate)]);
    expect(await parseCert(under.certificate).verify(c, engine)).toBe(true);

    const constrained = await createTestCa({
      issuer: root,
      keyAlgorithm: "ECDSA-P256",
      keyPair: keys,
      pathLength: 0,
      nameConstraints: { permittedEmail: ["pec.beta.test"], excludedEmail: [".evil.test"] },
    });
    const cc = parseCert(constrained.certificate);
    const bc = new pkijs.BasicConstraints({ schema: extValue(cc, OID.basicConstraints) });
    expect(bc.cA).toBe(true);
    expect(bc.pathLenConstraint).toBe(0);
    expect(ext(cc, OID.nameConstraints)!.critical).toBe(true);
    const nc = new pkijs.NameConstraints({ schema: extValue(cc, OID.nameConstraints) });
    expect(nc.permittedSubtrees!.map((s) => s.base.value)).toEqual(["pec.beta.test"]);
    expect(nc.excludedSubtrees!.map((s) => s.base.value)).toEqual([".evil.test"]);
  });

  it("wrong keyUsage, no keyUsage, wrong EKU, no EKU, no policy, other policy", async () => {
    expect(kuBits(parseCert((await gestore({ keyUsage: ["keyEncipherment"] })).certificate))).toBe("keyEncipherment");
    expect(kuBits(parseCert((await gestore({ keyUsage: ["digitalSignature", "nonRepudiation", "decipherOnly"] })).certificate))).toBe(
      "digitalSignature,nonRepudiation,decipherOnly",
    );
    expect(ext(parseCert((await gestore({ keyUsage: null })).certificate), OID.keyUsage)).toBeUndefined();
    expect(oids(extValue(parseCert((await gestore({ extKeyUsage: ["serverAuth"] })).certificate), OID.extKeyUsage))).toEqual([
      "1.3.6.1.5.5.7.3.1",
    ]);
    expect(ext(parseCert((await gestore({ extKeyUsage: null })).certificate), OID.extKeyUsage)).toBeUndefined();
    expect(ext(parseCert((await gestore({ policies: [] })).certificate), OID.certificatePolicies)).toBeUndefined();
    const other = parseCert((await gestore({ policies: ["2.23.140.1.5.2.2", OID.pecPolicy] })).certificate);
    expect(new pkijs.CertificatePolicies({ schema: extValue(other, OID.certificatePolicies) }).certificatePolicies.map((p) => p.policyIdentifier)).toEqual([
      "2.23.140.1.5.2.2",
      OID.pecPolicy,
    ]);
  });

  it("basicConstraints leaf / ca, custom e-mail and serial, validity periods", async () => {
    const leaf = parseCert((await gestore({ basicConstraints: "leaf" })).certificate);
    expect(ext(leaf, OID.basicConstraints)!.critical).toBe(false);
    expect(new pkijs.BasicConstraints({ schema: extValue(leaf, OID.basicConstraints) }).cA).toBe(false);
    const asCa = parseCert((await gestore({ basicConstraints: "ca" })).certificate);
    expect(new pkijs.BasicConstraints({ schema: extValue(asCa, OID.basicConstraints) }).cA).toBe(true);

    const g = await gestore({ email: "notifiche@pec.beta.test", serialNumber: "00ff01" });
    expect(g.serialNumber).toBe("ff01");
    const c = parseCert(g.certificate);
    expect(toHex(new Uint8Array(c.serialNumber.valueBlock.valueHexView))).toBe("00ff01");
    expect(new pkijs.AltName({ schema: extValue(c, OID.subjectAltName) }).altNames[0]!.value).toBe("notifiche@pec.beta.test");

    const expired = await gestore({ notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2022-01-01T00:00:00Z") });
    expect(parseCert(expired.certificate).notAfter.value.toISOString()).toBe("2022-01-01T00:00:00.000Z");
    // After 2049 RFC 5280 requires GeneralizedTime.
    const far = parseCert((await gestore({ notBefore: new Date("2040-01-01T00:00:00Z"), notAfter: new Date("2055-06-01T12:00:00Z") })).certificate);
    expect(far.notBefore.type).toBe(pkijs.TimeType.UTCTime);
    expect(far.notAfter.type).toBe(pkijs.TimeType.GeneralizedTime);
    expect(far.notAfter.value.toISOString()).toBe("2055-06-01T12:00:00.000Z");
  });

  it("default validity: CA 10 years, gestore 3 years, from an hour ago", async () => {
    const g = await gestore();
    expect(g.notAfter.getUTCFullYear() - g.notBefore.getUTCFullYear()).toBe(3);
    expect(Date.now() - g.notBefore.getTime()).toBeGreaterThan(3_000_000);
    expect(root.notAfter.getUTCFullYear() - root.notBefore.getUTCFullYear()).toBe(10);
  });

  it("refuses bad input with PecError, never a crash", async () => {
    await expectPecError(gestore({ domain: "not a domain" }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ name: "" }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ keyUsage: ["bogus" as "digitalSignature"] }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ extKeyUsage: ["nope"] }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ extKeyUsage: "emailProtection" as unknown as string[] }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ notBefore: new Date("2030-01-01"), notAfter: new Date("2029-01-01") }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ notBefore: new Date("garbage") }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ serialNumber: "xyz" }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ serialNumber: "00" }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ email: "with space@x.test" }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ ca: {} as TestCa }), "ERR_INVALID_ARGUMENT");
    await expectPecError(gestore({ keyAlgorithm: "RSA-2048" }), "ERR_INVALID_ARGUMENT"); // keyPair is EC
    await expectPecError(gestore({ keyAlgorithm: "DSA" as KeyAlgorithm, keyPair: undefined }), "ERR_UNSUPPORTED");
    await expectPecError(createTestCa({ pathLength: -1, keyPair: keys, keyAlgorithm: "ECDSA-P256" }), "ERR_INVALID_ARGUMENT");
    await expectPecError(createCrl(root, { revoked: [{ serialNumber: "zz", revocationDate: new Date() }] }), "ERR_INVALID_ARGUMENT");
    await expectPecError(createCrl(undefined as unknown as TestCa, { revoked: [] }), "ERR_INVALID_ARGUMENT");
  });

  it("exports the private key as PKCS#8 PEM that imports back", async () => {
    const pem = await exportPrivateKeyPem(keys.privateKey);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const b64 = pem.replace(/-----[^-]+-----|\n/g, "");
    const der = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const k = await crypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    expect(k.type).toBe("private");
  });
});

describe("createCrl", () => {
  it("writes a v2 CRL signed by the CA, with AKI, number and reasons", async () => {
    const ca = await createTestCa({ keyAlgorithm: "ECDSA-P384" });
    const g = await createGestore({ name: "Gestore Revocato", domain: "pec.revocato.test", ca, keyAlgorithm: "ECDSA-P256" });
    const der = await createCrl(ca, {
      revoked: [
        { serialNumber: g.serialNumber, revocationDate: new Date("2025-01-01T00:00:00Z"), reason: "keyCompromise" },
        { serialNumber: "0a", revocationDate: new Date("2024-06-01T00:00:00Z") },
      ],
      thisUpdate: new Date("2025-01-02T00:00:00Z"),
      nextUpdate: new Date("2035-12-31T00:00:00Z"),
      crlNumber: 7,
    });
    const crl = pkijs.CertificateRevocationList.fromBER(ab(der));
    expect(crl.version).toBe(1);
    expect(crl.issuer.isEqual(parseCert(ca.certificate).subject)).toBe(true);
    expect(crl.thisUpdate.value.toISOString()).toBe("2025-01-02T00:00:00.000Z");
    expect(crl.nextUpdate!.value.toISOString()).toBe("2035-12-31T00:00:00.000Z");
    expect(crl.revokedCertificates!.length).toBe(2);
    expect(crl.revokedCertificates![0]!.revocationDate.value.toISOString()).toBe("2025-01-01T00:00:00.000Z");
    expect(crl.isCertificateRevoked(parseCert(g.certificate))).toBe(true);
    expect(await crl.verify({ issuerCertificate: parseCert(ca.certificate) }, engine)).toBe(true);
    const number = crl.crlExtensions!.extensions.find((e) => e.extnID === "2.5.29.20")!;
    expect((asn1js.fromBER(number.extnValue.valueBlock.valueHexView.slice()).result as asn1js.Integer).valueBlock.valueDec).toBe(7);
    expect(crl.crlExtensions!.extensions.some((e) => e.extnID === OID.authorityKeyIdentifier)).toBe(true);

    const empty = pkijs.CertificateRevocationList.fromBER(ab(await createCrl(ca, { revoked: [] })));
    expect(empty.revokedCertificates).toBeUndefined();
  });
});
