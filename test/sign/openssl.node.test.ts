// Interoperability with OpenSSL (and Python's email package): what we sign and issue is
// accepted by independent implementations. Node only (files and child processes).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestCa, type TestGestore, createCrl, createGestore, createTestCa } from "../../src/simulator/index.js";
import { type CmsDigest, signCms, signSmime } from "../../src/smime/sign.js";
import { enc } from "./helpers.js";

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;
const hasPython = spawnSync("python3", ["--version"]).status === 0;
if (!hasOpenssl) console.warn("openssl is not on PATH: skipping the OpenSSL interoperability tests");

const CONTENT = enc(
  "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nRicevuta di accettazione.\r\nIl messaggio =E8 stato accettato.\r\n",
);

let dir: string;
const file = (name: string, data: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

/** Runs openssl; returns { ok, out } with stderr and stdout joined, never throws. */
function openssl(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!hasOpenssl)("OpenSSL accepts what we sign", () => {
  let ca: TestCa;
  let caPem: string;
  const signers: Record<string, TestGestore> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "postacert-sign-"));
    ca = await createTestCa({ keyAlgorithm: "RSA-2048" });
    caPem = file("ca.pem", ca.pem());
    const mk = (keyAlgorithm: "RSA-2048" | "RSA-PSS-2048" | "ECDSA-P256" | "ECDSA-P384"): Promise<TestGestore> =>
      createGestore({ name: `Gestore ${keyAlgorithm}`, domain: `pec.${keyAlgorithm.toLowerCase()}.test`, ca, keyAlgorithm });
    for (const k of ["RSA-2048", "RSA-PSS-2048", "ECDSA-P256", "ECDSA-P384"] as const) signers[k] = await mk(k);
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("openssl verify accepts the gestori (also -x509_strict, purpose smimesign)", () => {
    for (const g of Object.values(signers)) {
      const r = openssl(["verify", "-x509_strict", "-purpose", "smimesign", "-CAfile", caPem, file("g.pem", g.pem())]);
      expect(r.out, g.keyAlgorithm).toContain(": OK");
    }
  });

  const content = (): string => file("content.bin", CONTENT);

  for (const key of ["RSA-2048", "RSA-PSS-2048", "ECDSA-P256", "ECDSA-P384"]) {
    for (const digest of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as CmsDigest[]) {
      it(`openssl cms -verify: ${key} ${digest}, detached/opaque, DER/BER`, async () => {
        const signer = signers[key]!;
        const c = content();
        for (const detached of [true, false]) {
          for (const encoding of ["der", "ber"] as const) {
            const cms = await signCms({ content: CONTENT, signer, digest, detached, encoding });
            const p = file(`s-${detached}-${encoding}.p7`, cms);
            const args = ["cms", "-verify", "-binary", "-CAfile", caPem, "-inform", "DER", "-in", p, "-out", join(dir, "out.bin")];
            if (detached) args.push("-content", c);
            const r = openssl(args);
            expect(r.out, `${detached ? "detached" : "opaque"} ${encoding}`).toContain("Verification successful");
          }
        }
      });
    }
  }

  it("openssl cms -verify: no signed attributes, sha-with-rsa, several signers", async () => {
    const c = content();
    const cases: [string, Uint8Array][] = [
      ["noattr-rsa", await signCms({ content: CONTENT, signer: signers["RSA-2048"]!, signedAttributes: false })],
      ["noattr-ec", await signCms({ content: CONTENT, signer: signers["ECDSA-P384"]!, signedAttributes: false })],
      ["noattr-pss", await signCms({ content: CONTENT, signer: signers["RSA-PSS-2048"]!, signedAttributes: false, digest: "SHA-512" })],
      ["sha-with-rsa", await signCms({ content: CONTENT, signer: signers["RSA-2048"]!, rsaSignatureAlgorithm: "sha-with-rsa" })],
      ["two", await signCms({ content: CONTENT, signer: [signers["RSA-2048"]!, signers["ECDSA-P256"]!] })],
    ];
    for (const [name, cms] of cases) {
      const r = openssl(["cms", "-verify", "-binary", "-CAfile", caPem, "-inform", "DER", "-in", file(`${name}.p7s`, cms), "-content", c, "-out", join(dir, "o")]);
      expect(r.out, name).toContain("Verification successful");
    }
  });

  it("openssl cms -verify rejects a changed content", async () => {
    const cms = await signCms({ content: CONTENT, signer: signers["ECDSA-P256"]! });
    const changed = CONTENT.slice();
    changed[changed.length - 3]! ^= 1;
    const r = openssl(["cms", "-verify", "-binary", "-CAfile", caPem, "-inform", "DER", "-in", file("x.p7s", cms), "-content", file("changed.bin", changed), "-out", join(dir, "o")]);
    expect(r.ok).toBe(false);
    expect(r.out).not.toContain("Verification successful");
  });

  for (const key of ["RSA-2048", "RSA-PSS-2048", "ECDSA-P256", "ECDSA-P384"]) {
    it(`openssl smime (cms for PSS) -verify accepts signSmime output (${key}, detached and opaque)`, async () => {
      for (const form of ["detached", "opaque"] as const) {
        for (const digest of ["SHA-256", "SHA-1"] as CmsDigest[]) {
          const eml = await signSmime(CONTENT, signers[key]!, {
            form,
            digest,
            headers: [
              ["From", "posta-certificata@pec.test"],
              ["Subject", "ACCETTAZIONE: prova"],
            ],
          });
          const out = join(dir, "smime-out.bin");
          // `openssl smime` is the PKCS#7 code, which predates RSA-PSS; `openssl cms`
          // reads the same S/MIME message and knows PSS.
          const command = key === "RSA-PSS-2048" ? "cms" : "smime";
          const r = openssl([command, "-verify", "-CAfile", caPem, "-in", file("m.eml", eml), "-out", out]);
          expect(r.out, `${form} ${digest}`).toContain("Verification successful");
          // What OpenSSL extracts is the signed entity.
          expect(execFileSync("cat", [out]).toString("latin1")).toBe(Buffer.from(CONTENT).toString("latin1"));
        }
      }
    });
  }

  it("openssl accepts BER opaque S/MIME too", async () => {
    const eml = await signSmime(CONTENT, signers["RSA-2048"]!, { form: "opaque", encoding: "ber" });
    expect(openssl(["smime", "-verify", "-CAfile", caPem, "-in", file("ber.eml", eml), "-out", join(dir, "o")]).out).toContain("Verification successful");
  });

  it.skipIf(!hasPython)("Python's email package parses signSmime output", async () => {
    const eml = file("py.eml", await signSmime(CONTENT, signers["ECDSA-P256"]!, { headers: [["Subject", "prova"]] }));
    const script = [
      "import email, email.policy, sys",
      "m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.compat32)",
      "assert m.get_content_type() == 'multipart/signed', m.get_content_type()",
      "assert m.get_param('protocol') == 'application/pkcs7-signature'",
      "assert m.get_param('micalg') == 'sha-256'",
      "parts = m.get_payload()",
      "assert len(parts) == 2",
      "assert parts[0].get_content_type() == 'text/plain'",
      "assert parts[1].get_content_type() == 'application/pkcs7-signature'",
      "assert parts[1].get_filename() == 'smime.p7s'",
      "assert parts[1].get_payload(decode=True)[0] == 0x30",
      "assert not m.defects and not parts[0].defects and not parts[1].defects, (m.defects, parts[0].defects, parts[1].defects)",
      "print('ok')",
    ].join("\n");
    const r = spawnSync("python3", ["-c", script, eml], { encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe("ok");
  });
});

describe.skipIf(!hasOpenssl)("OpenSSL reads the test PKI and sees each tamper case", () => {
  let root: TestCa;
  let rootPem: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "postacert-pki-"));
    root = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
    rootPem = file("root.pem", root.pem());
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const gestore = (over: Partial<Parameters<typeof createGestore>[0]> = {}): Promise<TestGestore> =>
    createGestore({ name: "Gestore Tamper", domain: "pec.tamper.test", ca: root, keyAlgorithm: "ECDSA-P256", ...over });

  const verify = (g: TestGestore, extra: string[] = [], untrusted?: Uint8Array[]): { ok: boolean; out: string } => {
    const args = ["verify", "-purpose", "smimesign", "-CAfile", rootPem, ...extra];
    if (untrusted) args.push("-untrusted", file("untrusted.pem", untrusted.map((c) => pemOf(c)).join("")));
    args.push(file("leaf.pem", g.pem()));
    return openssl(args);
  };

  it("a gestore under an intermediate CA verifies with -untrusted chain", async () => {
    const inter = await createTestCa({ issuer: root, keyAlgorithm: "ECDSA-P384" });
    const g = await gestore({ ca: inter });
    expect(verify(g, [], [inter.certificate]).out).toContain(": OK");
  });

  it("an intermediate without basicConstraints is refused", async () => {
    const inter = await createTestCa({ issuer: root, keyAlgorithm: "ECDSA-P256", basicConstraints: false });
    const r = verify(await gestore({ ca: inter }), [], [inter.certificate]);
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/invalid CA certificate/i);
  });

  it("expired / not yet valid, wrong keyUsage, wrong EKU are refused; CRL revokes", async () => {
    const expired = await gestore({ notBefore: new Date("2020-01-01Z"), notAfter: new Date("2022-01-01Z") });
    expect(verify(expired).out).toMatch(/expired/);
    const future = await gestore({ notBefore: new Date("2040-01-01Z"), notAfter: new Date("2045-01-01Z") });
    expect(verify(future).out).toMatch(/not yet valid/);
    expect(verify(await gestore({ keyUsage: ["keyEncipherment"] })).ok).toBe(false);
    expect(verify(await gestore({ extKeyUsage: ["serverAuth"] })).out).toMatch(/(unsupported|unsuitable) certificate purpose/);

    const revoked = await gestore();
    const crl = await createCrl(root, { revoked: [{ serialNumber: revoked.serialNumber, revocationDate: new Date("2025-01-01Z") }] });
    const crlFile = file("crl.der", crl);
    const text = openssl(["crl", "-inform", "DER", "-in", crlFile, "-noout", "-text", "-CAfile", rootPem]);
    expect(text.out).toContain("verify OK");
    expect(text.out).toContain(revoked.serialNumber.toUpperCase());
    const crlPem = file("crl.pem", openssl(["crl", "-inform", "DER", "-in", crlFile]).out);
    const r = verify(revoked, ["-crl_check", "-CRLfile", crlPem]);
    expect(r.out).toMatch(/certificate revoked/);
    expect(verify(await gestore(), ["-crl_check", "-CRLfile", crlPem]).out).toContain(": OK");
  });

  it("a gestore from another CA is not trusted", async () => {
    const other = await createTestCa({ keyAlgorithm: "ECDSA-P256", commonName: "Other CA" });
    const r = verify(await gestore({ ca: other }));
    expect(r.ok).toBe(false);
  });
});

function pemOf(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END CERTIFICATE-----\n`;
}

describe.skipIf(!hasOpenssl)("OpenSSL on the committed fixtures", () => {
  const fx = (p: string): string => join(process.cwd(), "fixtures", p);
  const present = spawnSync("test", ["-f", fx("smime/index.json")]).status === 0;

  it.skipIf(!present)("accepts every valid sample at its signing time and refuses each tamper case", async () => {
    const { samples } = JSON.parse(execFileSync("cat", [fx("smime/index.json")]).toString()) as {
      samples: { file: string; type: string; form: string; case: string; signingTime: string | null; key: string }[];
    };
    const caPem = fx("pki/ca.pem");
    const run = (s: (typeof samples)[number], extra: string[] = []): { ok: boolean; out: string } => {
      const at = String(Math.floor(new Date(s.signingTime ?? "2025-06-15T10:00:00Z").getTime() / 1000));
      const args = ["cms", "-verify", "-CAfile", caPem, "-attime", at, "-out", "/dev/null", ...extra];
      // S/MIME input is canonicalised by OpenSSL (our content is CRLF already); -binary
      // is for the bare CMS files, whose detached content is the exact bytes.
      if (s.type === "smime") args.push("-in", fx(`smime/${s.file}`));
      else args.push("-binary", "-inform", "DER", "-in", fx(`smime/${s.file}`), ...(s.form === "detached" ? ["-content", fx("smime/content.eml")] : []));
      return openssl(args);
    };
    for (const s of samples) {
      const r = run(s);
      // OpenSSL knows neither the PEC policy nor our CRL unless told: those two pass here.
      const shouldPass = s.case.startsWith("valid") || s.case === "missing-pec-policy" || s.case === "revoked" || s.case === "revoked-after-signing";
      expect(r.out.includes("Verification successful"), `${s.file}: ${r.out}`).toBe(shouldPass);
      // (revoked-after-signing cannot be checked this way: at its signing time the CRL
      // was not yet issued, and OpenSSL has no notion of "revoked after signing".)
      if (s.case === "revoked") {
        // `openssl cms` takes CRLs from the -CAfile bundle.
        const tmp = mkdtempSync(join(tmpdir(), "postacert-crl-"));
        const bundle = join(tmp, "ca+crl.pem");
        writeFileSync(bundle, execFileSync("cat", [caPem, fx("pki/ca.crl.pem")]));
        const withCrl = run(s, ["-crl_check", "-CAfile", bundle]);
        rmSync(tmp, { recursive: true, force: true });
        expect(withCrl.out, s.file).toMatch(/certificate revoked/);
      }
      if (s.case === "missing-pec-policy") {
        const strict = run(s, ["-policy", "1.3.76.16.3.1.1", "-explicit_policy"]);
        expect(strict.ok, s.file).toBe(false);
        const valid = samples.find((x) => x.case === "valid" && x.type === s.type && x.form === s.form)!;
        expect(run(valid, ["-policy", "1.3.76.16.3.1.1", "-explicit_policy"]).ok).toBe(true);
      }
    }
  });

  it.skipIf(!present)("openssl verify / crl / x509 read the PKI files", () => {
    expect(openssl(["verify", "-x509_strict", "-CAfile", fx("pki/ca.pem"), fx("pki/gestore-valid.pem")]).out).toContain(": OK");
    expect(openssl(["verify", "-x509_strict", "-CAfile", fx("pki/ca.pem"), "-untrusted", fx("pki/intermediate-ca.pem"), fx("pki/gestore-intermediate.pem")]).out).toContain(": OK");
    expect(openssl(["crl", "-inform", "DER", "-in", fx("pki/ca.crl"), "-CAfile", fx("pki/ca.pem"), "-noout"]).out).toContain("verify OK");
    expect(openssl(["pkey", "-in", fx("pki/gestore-valid.key.pem"), "-noout"]).ok).toBe(true);
  });
});
