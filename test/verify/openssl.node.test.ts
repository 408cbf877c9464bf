// Signatures made by the openssl binary (an independent implementation) verify.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGestore, createTestCa, exportPrivateKeyPem, type TestCa, type TestGestore } from "../../src/simulator/ca.js";
import { verifyCms, verifySignedData } from "../../src/smime/verify.js";
import { TrustStore } from "../../src/trust/store.js";
import { utf8Bytes } from "../../src/util/bytes.js";
import { signatureOffset } from "./support/craft.js";
import { splitSigned, toCrlf } from "./support/split.js";

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

const CONTENT = "Content-Type: text/plain\r\n\r\nPosta certificata firmata con openssl.\r\nSeconda riga.\r\n";

describe.skipIf(!hasOpenssl())("openssl-made signatures", () => {
  let dir: string;
  let ca: TestCa;
  let trust: TrustStore;
  const ids: Record<string, TestGestore> = {};
  const run = (args: string[]): Buffer => execFileSync("openssl", args, { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "postacert-openssl-"));
    ca = await createTestCa({ commonName: "openssl test CA" });
    trust = await TrustStore.fromPem(ca.pem());
    for (const [name, keyAlgorithm] of [["rsa", "RSA-2048"], ["p256", "ECDSA-P256"], ["p384", "ECDSA-P384"]] as const) {
      const g = await createGestore({ name: `Gestore ${name}`, domain: `pec.${name}.test`, ca, keyAlgorithm });
      ids[name] = g;
      writeFileSync(join(dir, `${name}.pem`), g.pem());
      writeFileSync(join(dir, `${name}.key`), await exportPrivateKeyPem(g.privateKey));
    }
    writeFileSync(join(dir, "ca.pem"), ca.pem());
    writeFileSync(join(dir, "content.txt"), CONTENT);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: { name: string; key: string; args: string[]; digest: string }[] = [
    { name: "cms -sign -binary -md sha256 (RSA)", key: "rsa", args: ["-md", "sha256"], digest: "SHA-256" },
    { name: "cms -sign -md sha1 (RSA)", key: "rsa", args: ["-md", "sha1"], digest: "SHA-1" },
    { name: "cms -sign -md sha224 (RSA, BigInt fallback)", key: "rsa", args: ["-md", "sha224"], digest: "SHA-224" },
    { name: "cms -sign -md sha512 RSA-PSS", key: "rsa", args: ["-md", "sha512", "-keyopt", "rsa_padding_mode:pss"], digest: "SHA-512" },
    { name: "cms -sign RSA-PSS, SHA-256 with MGF1-SHA-1 and maximal salt (BigInt fallback)", key: "rsa", args: ["-md", "sha256", "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_mgf1_md:sha1", "-keyopt", "rsa_pss_saltlen:max"], digest: "SHA-256" },
    { name: "cms -sign -noattr (RSA)", key: "rsa", args: ["-md", "sha256", "-noattr"], digest: "SHA-256" },
    { name: "cms -sign -md sha256 (ECDSA P-256)", key: "p256", args: ["-md", "sha256"], digest: "SHA-256" },
    { name: "cms -sign -md sha384 (ECDSA P-384)", key: "p384", args: ["-md", "sha384"], digest: "SHA-384" },
    { name: "cms -sign -md sha224 (ECDSA P-256, BigInt fallback)", key: "p256", args: ["-md", "sha224"], digest: "SHA-224" },
    { name: "cms -sign -md sha224 (ECDSA P-384, BigInt fallback)", key: "p384", args: ["-md", "sha224"], digest: "SHA-224" },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const der = run(["cms", "-sign", "-binary", "-in", "content.txt", "-signer", `${c.key}.pem`, "-inkey", `${c.key}.key`, "-outform", "DER", ...c.args]);
      const res = await verifySignedData({ cms: new Uint8Array(der), content: utf8Bytes(CONTENT), trust });
      expect(res.issues.filter((i) => i.severity === "error")).toEqual([]);
      expect(res.trusted).toBe(true);
      expect(res.signers[0]!.digestAlgorithm).toBe(c.digest);
      const tampered = utf8Bytes(CONTENT.replace("Seconda", "Terza"));
      const bad = await verifyCms({ cms: new Uint8Array(der), content: tampered });
      expect(bad.issues.map((i) => i.code)).toContain("SIGNATURE_MISMATCH");
      const flipped = new Uint8Array(der);
      flipped[signatureOffset(flipped) + 8]! ^= 0x04;
      const broken = await verifyCms({ cms: flipped, content: utf8Bytes(CONTENT) });
      expect(broken.valid).toBe(false);
      expect(broken.issues.map((i) => i.code)).toContain(c.args.includes("-noattr") ? "SIGNATURE_MISMATCH" : "SIGNATURE_INVALID");
    });
  }

  it("the BigInt ECDSA verifier refuses r or s out of range (P-256, SHA-224)", async () => {
    const der = new Uint8Array(run(["cms", "-sign", "-binary", "-in", "content.txt", "-signer", "p256.pem", "-inkey", "p256.key", "-outform", "DER", "-md", "sha224"]));
    const content = utf8Bytes(CONTENT);
    expect((await verifyCms({ cms: der, content })).valid).toBe(true);
    // ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, short lengths for P-256.
    const at = signatureOffset(der);
    expect(der[at]).toBe(0x30);
    const r = { start: at + 4, length: der[at + 3]! };
    const s = { start: r.start + r.length + 2, length: der[r.start + r.length + 1]! };
    const n = Uint8Array.from(Buffer.from("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", "hex"));
    /** The signature with one integer's content replaced, right-aligned, the length kept. */
    const patched = (slot: { start: number; length: number }, value: Uint8Array): Uint8Array => {
      const out = der.slice();
      out.fill(0, slot.start, slot.start + slot.length);
      out.set(value.subarray(Math.max(0, value.length - slot.length)), slot.start + Math.max(0, slot.length - value.length));
      return out;
    };
    const cases: [string, Uint8Array][] = [
      ["r = 0", patched(r, new Uint8Array(0))],
      ["s = 0", patched(s, new Uint8Array(0))],
      ["r = n", patched(r, n)],
      ["s = n", patched(s, n)],
    ];
    for (const [what, cms] of cases) {
      const res = await verifyCms({ cms, content });
      expect(res.valid, what).toBe(false);
      expect(res.issues.map((i) => i.code), what).toContain("SIGNATURE_INVALID");
    }
  });

  it("ECDSA public keys: a compressed point verifies on either path, a point off the curve or out of range never does", async () => {
    writeFileSync(join(dir, "ca.key"), await exportPrivateKeyPem(ca.privateKey));
    run(["ec", "-in", "p256.key", "-conv_form", "compressed", "-pubout", "-out", "p256c.pub"]);
    run(["req", "-new", "-key", "p256.key", "-subj", "/CN=Gestore compresso/emailAddress=posta-certificata@pec.p256.test", "-out", "p256c.csr"]);
    run(["x509", "-req", "-in", "p256c.csr", "-force_pubkey", "p256c.pub", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "30", "-out", "p256c.pem"]);
    const content = utf8Bytes(CONTENT);
    /** Where the signer's public key point starts in a CMS: after the BIT STRING header of the SPKI. */
    const pointAt = (der: Uint8Array, header: number[]): number => {
      const at = Buffer.from(der).indexOf(Buffer.from(header));
      expect(at, "the SPKI's BIT STRING").toBeGreaterThan(0);
      return at + header.length;
    };
    for (const md of ["sha256", "sha224"]) {
      // SHA-256: WebCrypto (or, where it refuses a compressed point, the fallback); SHA-224: the BigInt fallback.
      const compressed = new Uint8Array(run(["cms", "-sign", "-binary", "-in", "content.txt", "-signer", "p256c.pem", "-inkey", "p256.key", "-outform", "DER", "-md", md]));
      const ok = await verifySignedData({ cms: compressed, content, trust });
      expect(ok.issues.filter((i) => i.severity === "error"), md).toEqual([]);
      expect(ok.valid && ok.trusted, md).toBe(true);
      const x = pointAt(compressed, [0x03, 0x22, 0x00]);
      expect([2, 3], md).toContain(compressed[x]);
      // The other root's parity: a point on the curve, the wrong one.
      const otherY = compressed.slice();
      otherY[x]! ^= 1;
      // x past the field prime: no point at all.
      const tooLarge = compressed.slice();
      tooLarge.fill(0xff, x + 1, x + 33);
      const uncompressed = new Uint8Array(run(["cms", "-sign", "-binary", "-in", "content.txt", "-signer", "p256.pem", "-inkey", "p256.key", "-outform", "DER", "-md", md]));
      expect((await verifyCms({ cms: uncompressed, content })).valid, md).toBe(true);
      // y moved by one: off the curve.
      const offCurve = uncompressed.slice();
      offCurve[pointAt(offCurve, [0x03, 0x42, 0x00, 0x04]) + 63]! ^= 1;
      for (const [what, cms] of [["the other y", otherY], ["x ≥ p", tooLarge], ["off the curve", offCurve]] as const) {
        const res = await verifyCms({ cms, content });
        expect(res.valid, `${md}, ${what}`).toBe(false);
        expect(res.issues.map((i) => i.code), `${md}, ${what}`).toContain("SIGNATURE_INVALID");
      }
    }
  });

  it("cms -sign -nodetach -stream (opaque, BER indefinite lengths)", async () => {
    const ber = run(["cms", "-sign", "-binary", "-nodetach", "-stream", "-in", "content.txt", "-signer", "rsa.pem", "-inkey", "rsa.key", "-outform", "DER", "-md", "sha256"]);
    const res = await verifySignedData({ cms: new Uint8Array(ber), trust });
    expect(res.ber).toBe(true);
    expect(res.trusted).toBe(true);
    expect(new TextDecoder().decode(res.content)).toBe(CONTENT);
  });

  for (const [md, attribute] of [["sha256", "signingCertificateV2"], ["sha1", "signingCertificate"]] as const) {
    it(`cms -sign -cades -md ${md}: the ESS ${attribute} attribute binds the signer certificate, another with the same issuer, serial and key does not pass for it`, async () => {
      // No certificates in the CMS: the verifier is given the signer's, or a substitute.
      const der = new Uint8Array(run(["cms", "-sign", "-binary", "-cades", "-nocerts", "-in", "content.txt", "-signer", "rsa.pem", "-inkey", "rsa.key", "-outform", "DER", "-md", md]));
      const content = utf8Bytes(CONTENT);
      const real = ids.rsa!;
      const ok = await verifyCms({ cms: der, content, certificates: [real.certificate] });
      expect(ok.issues).toEqual(md === "sha1" ? [expect.objectContaining({ code: "WEAK_ALGORITHM" })] : []);
      expect(ok.valid).toBe(true);
      // Re-issued by the same CA for the same key and serial number, with other names: the
      // signature verifies with its key, yet the signer signed for the other certificate.
      const substitute = await createGestore({
        name: "Gestore sostituto",
        domain: "pec.rsa.test",
        ca,
        keyPair: { privateKey: real.privateKey, publicKey: real.publicKey },
        serialNumber: real.serialNumber,
      });
      const res = await verifyCms({ cms: der, content, certificates: [substitute.certificate] });
      expect(res.valid).toBe(false);
      expect(res.issues).toContainEqual(expect.objectContaining({ code: "SIGNATURE_INVALID", message: expect.stringContaining(`the signed ${attribute} attribute names another certificate`) }));
    });
  }

  it("cms -sign -outform PEM is accepted", async () => {
    const pem = run(["cms", "-sign", "-binary", "-in", "content.txt", "-signer", "rsa.pem", "-inkey", "rsa.key", "-outform", "PEM", "-md", "sha256"]);
    expect((await verifyCms({ cms: new Uint8Array(pem), content: utf8Bytes(CONTENT) })).valid).toBe(true);
  });

  for (const md of ["sha256", "sha1"]) {
    it(`smime -sign -md ${md} (multipart/signed, text canonicalised to CRLF)`, async () => {
      writeFileSync(join(dir, "lf.txt"), CONTENT.replace(/\r\n/g, "\n"));
      const mail = run(["smime", "-sign", "-in", "lf.txt", "-signer", "rsa.pem", "-inkey", "rsa.key", "-md", md]);
      const parts = splitSigned(new Uint8Array(mail))!;
      let res = await verifySignedData({ cms: parts.p7s, content: parts.signed, trust });
      if (!res.valid) res = await verifySignedData({ cms: parts.p7s, content: toCrlf(parts.signed), trust });
      expect(res.issues.filter((i) => i.severity === "error")).toEqual([]);
      expect(res.trusted).toBe(true);
    });
  }

  it("openssl verifies what it signed and agrees on a tampered file", () => {
    const der = run(["cms", "-sign", "-binary", "-in", "content.txt", "-signer", "rsa.pem", "-inkey", "rsa.key", "-outform", "DER"]);
    writeFileSync(join(dir, "sig.der"), der);
    expect(() => run(["cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der", "-content", "content.txt", "-CAfile", "ca.pem", "-purpose", "any", "-out", "/dev/null"])).not.toThrow();
    expect(readFileSync(join(dir, "content.txt"), "utf8")).toBe(CONTENT);
  });
});
