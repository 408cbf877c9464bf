// The tamper matrix on the project's own test PKI (src/simulator): every way a PEC
// signature can be wrong gives its own code. Runs in Node and Chromium alike.
import { beforeAll, describe, expect, it } from "vitest";
import { createCrl, createGestore, createTestCa, type TestCa, type TestGestore } from "../../src/simulator/ca.js";
import { buildIgpecLdif } from "../../src/simulator/ldif.js";
import { signCms } from "../../src/smime/sign.js";
import { verifyCms, verifySignedData, type CmsVerification } from "../../src/smime/verify.js";
import { validatePath } from "../../src/smime/path.js";
import { parseCertificate } from "../../src/smime/certificate.js";
import { parseCrl } from "../../src/smime/crl.js";
import { checkGestoreProfile } from "../../src/smime/profile.js";
import { CMS, SIG } from "../../src/smime/oids.js";
import { seq, oid, setOf, cons } from "../../src/smime/asn1-der.js";
import { TrustStore } from "../../src/trust/store.js";
import { asBufferSource, equalBytes, utf8Bytes } from "../../src/util/bytes.js";
import { craftCms, signatureOffset } from "./support/craft.js";

const codes = (r: { issues: readonly { code: string }[] }): string[] => r.issues.map((i) => i.code);
/** Distinct error codes. */
const errors = (r: { issues: readonly { code: string; severity: string }[] }): string[] => [...new Set(r.issues.filter((i) => i.severity === "error").map((i) => i.code))];

const CONTENT = utf8Bytes(
  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nRicevuta di accettazione: il messaggio è stato accettato dal sistema.\r\n",
);
const DAY = 86_400_000;

let ca: TestCa;
let trust: TrustStore;
let gestore: TestGestore;
let gKeys: CryptoKeyPair;

async function rsaKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
}


beforeAll(async () => {
  const [caKeys, k] = await Promise.all([rsaKeys(), rsaKeys()]);
  gKeys = k;
  ca = await createTestCa({ keyPair: caKeys, commonName: "postacert Test CA", notBefore: new Date(Date.now() - 1000 * DAY) });
  trust = await TrustStore.fromPem(ca.pem());
  gestore = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyPair: gKeys });
});

async function full(cms: Uint8Array, opts: { content?: Uint8Array; trust?: TrustStore; at?: Date; crls?: Uint8Array[]; expectedSigner?: string; requirePecPolicy?: boolean } = {}) {
  const { content = CONTENT, trust: t = trust, ...rest } = opts;
  return verifySignedData({ cms, content, trust: t, ...rest });
}

describe("valid signatures", () => {
  for (const encoding of ["der", "ber"] as const) {
    for (const detached of [true, false]) {
      it(`${detached ? "detached" : "opaque"} ${encoding.toUpperCase()}`, async () => {
        const cms = await signCms({ content: CONTENT, signer: gestore, encoding, detached });
        const res = detached ? await full(cms) : await verifySignedData({ cms, trust });
        expect(errors(res)).toEqual([]);
        expect(res.valid).toBe(true);
        expect(res.trusted).toBe(true);
        expect(res.detached).toBe(detached);
        expect(res.ber).toBe(encoding === "ber");
        expect(res.content).toEqual(CONTENT);
        expect(res.signer?.subject).toBe("C=IT, O=Gestore Alfa S.p.A., CN=Posta Certificata Gestore Alfa S.p.A.");
        expect(res.signers[0]!.chain.map((c) => c.subject)).toEqual([res.signer!.subject, "C=IT, O=postacert test PKI, CN=postacert Test CA"]);
      });
    }
  }

  it("opaque BER with a large chunked eContent", async () => {
    const big = new Uint8Array(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const cms = await signCms({ content: big, signer: gestore, encoding: "ber", detached: false });
    const res = await verifyCms({ cms });
    expect(res.valid).toBe(true);
    expect(equalBytes(res.content!, big)).toBe(true);
  });

  for (const digest of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as const) {
    for (const rsaSignatureAlgorithm of ["rsaEncryption", "sha-with-rsa"] as const) {
      it(`RSA PKCS#1 v1.5, ${digest}, signatureAlgorithm ${rsaSignatureAlgorithm}`, async () => {
        const cms = await signCms({ content: CONTENT, signer: gestore, digest, rsaSignatureAlgorithm });
        const res = await full(cms);
        expect(errors(res)).toEqual([]);
        expect(res.signers[0]!.digestAlgorithm).toBe(digest);
        expect(codes(res).includes("WEAK_ALGORITHM")).toBe(digest === "SHA-1");
      });
    }
  }

  it("RSA PKCS#1 v1.5 with SHA-224 (no WebCrypto: BigInt fallback and built-in SHA-224)", async () => {
    const cms = await craftCms({ content: CONTENT, signer: gestore, digest: "SHA-224" });
    const res = await full(cms);
    expect(errors(res)).toEqual([]);
    expect(res.signers[0]!.digestAlgorithm).toBe("SHA-224");
    expect(res.signers[0]!.signatureAlgorithm).toBe("sha224WithRSAEncryption");
    const tampered = CONTENT.slice();
    tampered[5]! ^= 1;
    expect(codes(await verifyCms({ cms, content: tampered }))).toContain("SIGNATURE_MISMATCH");
  });

  for (const digest of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as const) {
    it(`RSA-PSS with ${digest}`, async () => {
      const cms = await signCms({ content: CONTENT, signer: gestore, digest, rsaPss: true });
      const res = await full(cms);
      expect(errors(res)).toEqual([]);
      expect(res.signers[0]!.signatureAlgorithm).toBe("RSASSA-PSS");
    });
  }

  for (const curve of ["P256", "P384"] as const) {
    it(`ECDSA ${curve} (gestore and CA)`, async () => {
      const ecCa = await createTestCa({ keyAlgorithm: `ECDSA-${curve}`, commonName: `EC ${curve} CA` });
      const g = await createGestore({ name: "Gestore EC", domain: "pec.ec.test", ca: ecCa, keyAlgorithm: `ECDSA-${curve}` });
      const ecTrust = await TrustStore.fromDer(ecCa.certificate);
      for (const digest of ["SHA-256", "SHA-384", "SHA-512", "SHA-1"] as const) {
        const cms = await signCms({ content: CONTENT, signer: g, digest });
        const res = await full(cms, { trust: ecTrust });
        expect(errors(res)).toEqual([]);
        expect(res.trusted).toBe(true);
      }
      const tampered = CONTENT.slice();
      tampered[0]! ^= 1;
      expect(codes(await verifyCms({ cms: await signCms({ content: CONTENT, signer: g }), content: tampered }))).toContain("SIGNATURE_MISMATCH");
    });
  }

  it("no signed attributes: the signature covers the content", async () => {
    const cms = await signCms({ content: CONTENT, signer: gestore, signedAttributes: false });
    const res = await full(cms);
    expect(errors(res)).toEqual([]);
    expect(res.signers[0]!.signingTime).toBeUndefined();
    const tampered = CONTENT.slice();
    tampered[10]! ^= 1;
    expect(codes(await verifyCms({ cms, content: tampered }))).toEqual(["SIGNATURE_MISMATCH"]);
  });

  it("two signers: both must verify", async () => {
    const beta = await createGestore({ name: "Gestore Beta", domain: "pec.beta.test", ca, keyPair: gKeys });
    const cms = await signCms({ content: CONTENT, signer: [gestore, beta] });
    const res = await full(cms);
    expect(res.signers).toHaveLength(2);
    expect(res.valid && res.trusted).toBe(true);
  });

  it("a signer identified by subjectKeyIdentifier", async () => {
    const cms = await craftCms({ content: CONTENT, signer: gestore, sidSki: true });
    const res = await full(cms);
    expect(errors(res)).toEqual([]);
  });

  it("CMSAlgorithmProtection (as Aruba 2026 sends) is checked", async () => {
    const prot = (sigOid: string) =>
      seq(oid(CMS.cmsAlgorithmProtection), setOf([seq(seq(oid("2.16.840.1.101.3.4.2.1")), cons(0xa1, [oid(sigOid)]))]));
    const good = await craftCms({ content: CONTENT, signer: gestore, extraAttributes: [prot(SIG.sha256WithRSA)] });
    expect(errors(await full(good))).toEqual([]);
    const bad = await craftCms({ content: CONTENT, signer: gestore, extraAttributes: [prot(SIG.sha512WithRSA)] });
    expect(codes(await full(bad))).toContain("SIGNATURE_INVALID");
  });

  it("the signing time comes from the signed attribute; `at` overrides it", async () => {
    const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    const cms = await signCms({ content: CONTENT, signer: gestore, signingTime });
    const res = await full(cms);
    expect(res.signedAt).toEqual(signingTime);
    expect(res.signers[0]!.validatedAt).toEqual(signingTime);
    const later = new Date(Date.now() + 10 * 365 * DAY);
    const res2 = await full(cms, { at: later });
    expect(res2.signers[0]!.validatedAt).toEqual(later);
    expect(codes(res2)).toContain("CERT_EXPIRED_AT_SIGNING");
  });
});

describe("tampering", () => {
  it("one byte changed in the content → SIGNATURE_MISMATCH", async () => {
    const cms = await signCms({ content: CONTENT, signer: gestore });
    const tampered = CONTENT.slice();
    tampered[CONTENT.length - 5]! ^= 0x20;
    const res = await full(cms, { content: tampered });
    expect(res.valid).toBe(false);
    expect(res.trusted).toBe(false);
    expect(errors(res)).toEqual(["SIGNATURE_MISMATCH"]);
  });

  it("a header inside the signed part changed → SIGNATURE_MISMATCH", async () => {
    const cms = await signCms({ content: CONTENT, signer: gestore });
    const tampered = utf8Bytes(new TextDecoder().decode(CONTENT).replace("charset=utf-8", "charset=UTF-8"));
    expect(errors(await verifyCms({ cms, content: tampered }))).toEqual(["SIGNATURE_MISMATCH"]);
  });

  for (const encoding of ["der", "ber"] as const) {
    it(`signature bytes altered (${encoding}) → SIGNATURE_INVALID`, async () => {
      const cms = (await signCms({ content: CONTENT, signer: gestore, encoding })).slice();
      cms[signatureOffset(cms) + 40]! ^= 0x01;
      const res = await verifyCms({ cms, content: CONTENT });
      expect(res.valid).toBe(false);
      expect(errors(res)).toEqual(["SIGNATURE_INVALID"]);
    });
  }

  it("messageDigest of another content → SIGNATURE_MISMATCH", async () => {
    const other = utf8Bytes("another content\r\n");
    const cms = await craftCms({ content: CONTENT, signer: gestore, messageDigest: new Uint8Array(await crypto.subtle.digest("SHA-256", asBufferSource(other))) });
    expect(errors(await verifyCms({ cms, content: CONTENT }))).toEqual(["SIGNATURE_MISMATCH"]);
    expect(errors(await verifyCms({ cms, content: other }))).toEqual([]);
  });

  it("contentType attribute differing from eContentType → SIGNATURE_MISMATCH", async () => {
    const cms = await craftCms({ content: CONTENT, signer: gestore, contentTypeAttr: CMS.signedData });
    expect(errors(await verifyCms({ cms, content: CONTENT }))).toEqual(["SIGNATURE_MISMATCH"]);
  });

  it("algorithm confusion: sha1WithRSA with a SHA-256 digestAlgorithm → SIGNATURE_INVALID", async () => {
    const cms = await craftCms({ content: CONTENT, signer: gestore, digest: "SHA-256", signatureAlgorithm: SIG.sha1WithRSA, signHash: "SHA-1" });
    const res = await verifyCms({ cms, content: CONTENT });
    expect(res.valid).toBe(false);
    expect(errors(res)).toEqual(["SIGNATURE_INVALID"]);
  });

  it("zero signers → NO_SIGNER", async () => {
    const cms = await craftCms({ content: CONTENT, signer: gestore, noSigners: true });
    const res = await verifyCms({ cms, content: CONTENT });
    expect(res.valid).toBe(false);
    expect(errors(res)).toEqual(["NO_SIGNER"]);
    expect((await full(cms)).trusted).toBe(false);
  });

  it("signer certificate not in the CMS → SIGNER_CERT_MISSING (unless the caller supplies it)", async () => {
    const cms = await craftCms({ content: CONTENT, signer: gestore, certificates: [] });
    const res = await verifyCms({ cms, content: CONTENT });
    expect(res.valid).toBe(false);
    expect(errors(res)).toEqual(["SIGNER_CERT_MISSING"]);
    expect((await verifyCms({ cms, content: CONTENT, certificates: [gestore.certificate] })).valid).toBe(true);
  });

  it("detached signature without content → CONTENT_MISSING", async () => {
    const cms = await signCms({ content: CONTENT, signer: gestore });
    const res = await verifyCms({ cms });
    expect(res.valid).toBe(false);
    expect(res.signers[0]!.valid).toBe(false);
    expect(errors(res)).toEqual(["CONTENT_MISSING"]);
  });

  it("opaque CMS with a different detached content given → SIGNATURE_MISMATCH", async () => {
    const cms = await signCms({ content: CONTENT, signer: gestore, detached: false });
    expect(errors(await verifyCms({ cms, content: utf8Bytes("x") }))).toEqual(["SIGNATURE_MISMATCH"]);
  });

  it("garbage, truncation and bit flips never throw", async () => {
    const cms = await signCms({ content: CONTENT, signer: gestore, encoding: "ber" });
    const inputs = [new Uint8Array(0), utf8Bytes("MII…njA=="), cms.subarray(0, cms.length - 3), cms.subarray(0, 100), new Uint8Array([0x30, 0x80])];
    for (let i = 0; i < cms.length; i += 37) {
      const x = cms.slice();
      x[i]! ^= 0xff;
      inputs.push(x);
    }
    for (const bad of inputs) {
      const res = await verifySignedData({ cms: bad, content: CONTENT, trust });
      expect(typeof res.valid).toBe("boolean");
      if (bad.length < 200) expect(codes(res)).toContain("CMS_MALFORMED");
    }
  });
});

describe("certificate path and profile", () => {
  it("signer from another CA → CERT_UNTRUSTED", async () => {
    const other = await createTestCa({ commonName: "Another CA", keyPair: await rsaKeys() });
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca: other, keyPair: gKeys });
    const res = await full(await signCms({ content: CONTENT, signer: g }));
    expect(res.valid).toBe(true);
    expect(res.trusted).toBe(false);
    expect(errors(res)).toEqual(["CERT_UNTRUSTED"]);
  });

  it("an impostor CA with the trusted CA's name → CERT_CHAIN_INVALID", async () => {
    const impostor = await createTestCa({ commonName: "postacert Test CA", keyPair: await rsaKeys() });
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca: impostor, keyPair: gKeys });
    const res = await full(await signCms({ content: CONTENT, signer: { ...g, chain: [] } }));
    expect(res.trusted).toBe(false);
    expect(errors(res)).toEqual(["CERT_CHAIN_INVALID"]);
  });

  it("signer expired at signing time → CERT_EXPIRED_AT_SIGNING", async () => {
    const g = await createGestore({ name: "Gestore Old", domain: "pec.old.test", ca, keyPair: gKeys, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 10 * DAY) });
    const res = await full(await signCms({ content: CONTENT, signer: g, signingTime: new Date(Date.now() - 5 * DAY) }));
    expect(res.valid).toBe(true);
    expect(errors(res)).toEqual(["CERT_EXPIRED_AT_SIGNING"]);
    // …and trusted when it was signed while valid, though expired now.
    const ok = await full(await signCms({ content: CONTENT, signer: g, signingTime: new Date(Date.now() - 20 * DAY) }));
    expect(errors(ok)).toEqual([]);
    expect(ok.trusted).toBe(true);
  });

  it("signer not yet valid at signing time → CERT_NOT_YET_VALID_AT_SIGNING", async () => {
    const g = await createGestore({ name: "Gestore New", domain: "pec.new.test", ca, keyPair: gKeys, notBefore: new Date(Date.now() + 10 * DAY) });
    const res = await full(await signCms({ content: CONTENT, signer: g }));
    expect(errors(res)).toEqual(["CERT_NOT_YET_VALID_AT_SIGNING"]);
  });

  it("CA without basicConstraints cA → CERT_CHAIN_INVALID", async () => {
    const noBc = await createTestCa({ issuer: ca, basicConstraints: false, commonName: "No BC CA", keyPair: await rsaKeys() });
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca: noBc, keyPair: gKeys });
    const res = await full(await signCms({ content: CONTENT, signer: g }));
    expect(res.trusted).toBe(false);
    expect(errors(res)).toEqual(["CERT_CHAIN_INVALID"]);
    expect(res.issues.find((i) => i.code === "CERT_CHAIN_INVALID")!.message).toMatch(/not a CA/);
  });

  it("an intermediate CA with cA is fine; pathLenConstraint 0 on the root refuses it", async () => {
    const mid = await createTestCa({ issuer: ca, commonName: "Good Intermediate", keyPair: await rsaKeys() });
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca: mid, keyPair: gKeys });
    const cms = await signCms({ content: CONTENT, signer: g });
    const res = await full(cms);
    expect(errors(res)).toEqual([]);
    expect(res.signers[0]!.chain).toHaveLength(3);

    const strictRoot = await createTestCa({ commonName: "Strict Root", pathLength: 0, keyPair: await rsaKeys() });
    const mid2 = await createTestCa({ issuer: strictRoot, commonName: "Mid under strict", keyPair: await rsaKeys() });
    const g2 = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca: mid2, keyPair: gKeys });
    const res2 = await full(await signCms({ content: CONTENT, signer: g2 }), { trust: await TrustStore.fromDer(strictRoot.certificate) });
    expect(errors(res2)).toEqual(["CERT_CHAIN_INVALID"]);
    expect(res2.issues.find((i) => i.code === "CERT_CHAIN_INVALID")!.message).toMatch(/pathLenConstraint/);
  });

  it("issuer keyUsage without keyCertSign → CERT_CHAIN_INVALID", async () => {
    const mid = await createTestCa({ issuer: ca, commonName: "No keyCertSign", keyUsage: ["cRLSign"], keyPair: await rsaKeys() });
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca: mid, keyPair: gKeys });
    expect(errors(await full(await signCms({ content: CONTENT, signer: g })))).toEqual(["CERT_CHAIN_INVALID"]);
  });

  it("name constraints (rfc822Name) → CERT_CHAIN_INVALID outside the permitted subtree", async () => {
    const nc = await createTestCa({ issuer: ca, commonName: "Constrained CA", nameConstraints: { permittedEmail: ["pec.alfa.test", ".gamma.test"] }, keyPair: await rsaKeys() });
    const inside = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca: nc, keyPair: gKeys });
    const sub = await createGestore({ name: "Gestore Gamma", domain: "pec.gamma.test", ca: nc, keyPair: gKeys });
    const outside = await createGestore({ name: "Gestore Beta", domain: "pec.beta.test", ca: nc, keyPair: gKeys });
    expect(errors(await full(await signCms({ content: CONTENT, signer: inside })))).toEqual([]);
    expect(errors(await full(await signCms({ content: CONTENT, signer: sub })))).toEqual([]);
    const res = await full(await signCms({ content: CONTENT, signer: outside }));
    expect(errors(res)).toEqual(["CERT_CHAIN_INVALID"]);
    expect(res.issues[0]!.message).toMatch(/name constraints/);
    const ex = await createTestCa({ issuer: ca, commonName: "Excluding CA", nameConstraints: { excludedEmail: ["pec.beta.test"] }, keyPair: await rsaKeys() });
    const banned = await createGestore({ name: "Gestore Beta", domain: "pec.beta.test", ca: ex, keyPair: gKeys });
    expect(errors(await full(await signCms({ content: CONTENT, signer: banned })))).toEqual(["CERT_CHAIN_INVALID"]);
  });

  it("wrong keyUsage → CERT_PROFILE", async () => {
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyPair: gKeys, keyUsage: ["keyEncipherment"] });
    const res = await full(await signCms({ content: CONTENT, signer: g }));
    expect(res.valid).toBe(true);
    expect(errors(res)).toEqual(["CERT_PROFILE"]);
    // nonRepudiation alone is acceptable.
    const nr = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyPair: gKeys, keyUsage: ["nonRepudiation"] });
    expect(errors(await full(await signCms({ content: CONTENT, signer: nr })))).toEqual([]);
  });

  it("wrong extendedKeyUsage → CERT_PROFILE; absent or anyExtendedKeyUsage is fine", async () => {
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyPair: gKeys, extKeyUsage: ["serverAuth"] });
    expect(errors(await full(await signCms({ content: CONTENT, signer: g })))).toEqual(["CERT_PROFILE"]);
    for (const extKeyUsage of [null, ["anyExtendedKeyUsage"]]) {
      const ok = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyPair: gKeys, extKeyUsage });
      expect(errors(await full(await signCms({ content: CONTENT, signer: ok })))).toEqual([]);
    }
  });

  it("the 2014 profile deviations (keyUsage not critical, basicConstraints CA:FALSE) are no errors", async () => {
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyPair: gKeys, basicConstraints: "leaf" });
    expect(errors(await full(await signCms({ content: CONTENT, signer: g })))).toEqual([]);
  });

  it("expected gestore address or domain → SIGNER_MISMATCH when it differs", async () => {
    const cms = await signCms({ content: CONTENT, signer: gestore });
    expect(errors(await full(cms, { expectedSigner: "posta-certificata@PEC.ALFA.TEST" }))).toEqual([]);
    expect(errors(await full(cms, { expectedSigner: "pec.alfa.test" }))).toEqual([]);
    expect(errors(await full(cms, { expectedSigner: "posta-certificata@pec.beta.test" }))).toEqual(["SIGNER_MISMATCH"]);
    expect(errors(await full(cms, { expectedSigner: "pec.beta.test" }))).toEqual(["SIGNER_MISMATCH"]);
  });

  it("revoked serial with a CRL → CERT_REVOKED; not when revoked after the signing time", async () => {
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyPair: gKeys, notBefore: new Date(Date.now() - 30 * DAY) });
    const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000 - 2 * DAY);
    const cms = await signCms({ content: CONTENT, signer: g, signingTime });
    const before = await createCrl(ca, { revoked: [{ serialNumber: g.serialNumber, revocationDate: new Date(signingTime.getTime() - 3600_000), reason: "keyCompromise" }] });
    const res = await full(cms, { crls: [before] });
    expect(res.valid).toBe(true);
    expect(errors(res)).toEqual(["CERT_REVOKED"]);
    expect(res.issues[0]!.message).toMatch(/keyCompromise/);
    const after = await createCrl(ca, { revoked: [{ serialNumber: g.serialNumber, revocationDate: new Date(signingTime.getTime() + 3600_000) }] });
    const res2 = await full(cms, { crls: [after] });
    expect(errors(res2)).toEqual([]);
    expect(res2.trusted).toBe(true);
    expect(res2.signers[0]!.revocationChecked).toEqual([true, false]);
    // A key compromise counts whatever the signing time: the compromised key could have written it.
    for (const reason of ["keyCompromise", "cACompromise"] as const) {
      const compromised = await createCrl(ca, { revoked: [{ serialNumber: g.serialNumber, revocationDate: new Date(signingTime.getTime() + 3600_000), reason }] });
      const res4 = await full(cms, { crls: [compromised] });
      expect(errors(res4)).toEqual(["CERT_REVOKED"]);
      expect(res4.issues[0]!.message).toMatch(new RegExp(`\\(${reason}\\), after .*, but a compromised key can sign with any signing time$`));
    }
    const superseded = await createCrl(ca, { revoked: [{ serialNumber: g.serialNumber, revocationDate: new Date(signingTime.getTime() + 3600_000), reason: "superseded" }] });
    expect(errors(await full(cms, { crls: [superseded] }))).toEqual([]);
    expect((await full(cms)).signers[0]!.revocationChecked).toEqual([false, false]);
    // A CRL carried by the trust store works the same.
    const withCrl = await TrustStore.fromPem(ca.pem() + "-----BEGIN X509 CRL-----\n" + btoa(String.fromCharCode(...before)) + "\n-----END X509 CRL-----\n");
    expect(errors(await full(cms, { trust: withCrl }))).toEqual(["CERT_REVOKED"]);
    // A CRL signed by someone else is ignored with a warning.
    const other = await createTestCa({ commonName: "postacert Test CA", keyPair: await rsaKeys() });
    const forged = await createCrl(other, { revoked: [{ serialNumber: g.serialNumber, revocationDate: new Date(signingTime.getTime() - 3600_000) }] });
    const res3 = await full(cms, { crls: [forged] });
    expect(errors(res3)).toEqual([]);
    expect(codes(res3)).toContain("CRL_INVALID");
    expect(res3.signers[0]!.revocationChecked).toEqual([false, false]);
  });

  it("validatePath reports which certificates a CRL covered", async () => {
    const crl = await createCrl(ca, { revoked: [] });
    const res = await validatePath({ certificate: gestore.certificate, trust, at: new Date(), crls: [crl] });
    expect(res.trusted).toBe(true);
    expect(res.revocationChecked).toEqual([true, false]);
    expect(parseCrl(crl).issuer).toBe(ca.subject);
  });

  it("missing PEC policy with a store that requires it → PEC_POLICY_MISSING", async () => {
    const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyPair: gKeys, policies: [] });
    const cms = await signCms({ content: CONTENT, signer: g });
    const publicRoots = await TrustStore.fromSystemRoots([ca.pem()]);
    expect(publicRoots.requirePecPolicy).toBe(true);
    expect(errors(await full(cms, { trust: publicRoots }))).toEqual(["PEC_POLICY_MISSING"]);
    expect(errors(await full(cms, { requirePecPolicy: true }))).toEqual(["PEC_POLICY_MISSING"]);
    expect(errors(await full(cms))).toEqual([]);
    // With the policy, the public-root store accepts it.
    expect(errors(await full(await signCms({ content: CONTENT, signer: gestore }), { trust: publicRoots }))).toEqual([]);
    // An explicit anchor merged with the system one lifts the requirement.
    expect(errors(await full(cms, { trust: publicRoots.merge(trust) }))).toEqual([]);
    expect(checkGestoreProfile(parseCertificate(g.certificate), { requirePecPolicy: true }).map((i) => i.code)).toEqual(["PEC_POLICY_MISSING"]);
  });

  it("a leaf acting as CA is refused (CERT_CHAIN_INVALID)", async () => {
    // The gestore certificate (no basicConstraints) issues another "gestore" certificate.
    const asCa = { ...gestore, kind: "ca" as const } as unknown as TestCa;
    const child = await createGestore({ name: "Gestore Figlio", domain: "pec.figlio.test", ca: asCa, keyPair: await rsaKeys() });
    const res = await full(await signCms({ content: CONTENT, signer: child }));
    expect(res.trusted).toBe(false);
    expect(errors(res)).toEqual(["CERT_CHAIN_INVALID"]);
    // Also when the leaf is itself an anchor (IGPEC style).
    const leafTrust = await TrustStore.fromDer(gestore.certificate);
    expect(errors(await full(await signCms({ content: CONTENT, signer: child }), { trust: leafTrust }))).toEqual(["CERT_CHAIN_INVALID"]);
  });

  it("a leaf in the store is trusted as itself (no CA needed)", async () => {
    const leafTrust = await TrustStore.fromDer(gestore.certificate);
    const res = await full(await signCms({ content: CONTENT, signer: { ...gestore, chain: [] } }), { trust: leafTrust });
    expect(errors(res)).toEqual([]);
    expect(res.trusted).toBe(true);
    expect(res.signers[0]!.chain).toHaveLength(1);
  });
});

describe("IGPEC LDIF trust", () => {
  it("trusts listed gestori, names them, and refuses entries whose hash does not match", async () => {
    const beta = await createGestore({ name: "Gestore Beta S.r.l.", domain: "pec.beta.test", ca, keyPair: gKeys });
    const good = await buildIgpecLdif([
      { name: gestore.name, certificates: [gestore.certificate], mailReceipt: "ricevute@pec.alfa.test", domains: ["pec.alfa.test", "PEC.Alfa2.test"] },
    ]);
    const bad = await buildIgpecLdif([{ name: beta.name, certificates: [beta.certificate], mailReceipt: "ricevute@pec.beta.test", domains: ["pec.beta.test"] }], { corruptHash: true });
    const store = (await TrustStore.fromLdif(good)).merge(await TrustStore.fromLdif(bad));
    expect(store.providers.map((p) => p.name)).toEqual([gestore.name]);
    expect(store.providerForDomain("pec.alfa2.test")?.mailReceipt).toBe("ricevute@pec.alfa.test");
    expect(store.providerForDomain("posta-certificata@PEC.ALFA.TEST")?.name).toBe(gestore.name);
    expect(store.rejected).toHaveLength(1);
    expect(store.rejected[0]!.name).toBe(beta.name);
    expect(store.rejected[0]!.reason).toMatch(/does not match/);

    const res = await full(await signCms({ content: CONTENT, signer: gestore }), { trust: store });
    expect(errors(res)).toEqual([]);
    expect(res.signers[0]!.provider?.name).toBe(gestore.name);
    const refused = await full(await signCms({ content: CONTENT, signer: { ...beta, chain: [] } }), { trust: store });
    expect(refused.valid).toBe(true);
    expect(errors(refused)).toEqual(["CERT_UNTRUSTED"]);
    expect(store.providerForCertificate(parseCertificate(gestore.certificate))?.name).toBe(gestore.name);
    expect(store.providerForCertificate(parseCertificate(beta.certificate))).toBeUndefined();
  });
});

describe("verifyCms result shape", () => {
  it("returns certificates, crls and per-signer details", async () => {
    const cms = await signCms({ content: CONTENT, signer: gestore, signingTime: new Date("2026-01-02T03:04:05Z") });
    const res: CmsVerification = await verifyCms({ cms, content: CONTENT });
    expect(res.certificates.map((c) => c.subject)).toContain(gestore.subject);
    expect(res.crls).toEqual([]);
    expect(res.contentType).toBe(CMS.data);
    const s = res.signers[0]!;
    expect(s.signingTime?.toISOString()).toBe("2026-01-02T03:04:05.000Z");
    expect(s.signatureAlgorithm).toBe("rsaEncryption");
    expect(s.certificate?.emails).toEqual(["posta-certificata@pec.alfa.test"]);
  });
});
