// The committed fixtures (scripts/make-fixtures.ts) are what index.json says they are,
// byte-exact, in Node and in Chromium.
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { describe, expect, it } from "vitest";
import { listFiles, readBytes } from "#files";
import { OID, ab, dec, engine, ext, parseCert, parseCms, toHex, verifyCms } from "./helpers.js";

interface PkiEntry {
  name: string;
  role: string;
  case: string;
  certificate: string;
  der: string;
  key: string;
  issuer: string | null;
  serialNumber: string;
  keyAlgorithm: string;
  notBefore: string;
  notAfter: string;
  email?: string;
  domain?: string;
  providerName?: string;
  chain: string[];
}
interface Sample {
  file: string;
  type: "smime" | "cms";
  form: "detached" | "opaque";
  encoding: "der" | "ber";
  digest: string;
  key: string;
  signer: string;
  signingTime: string | null;
  signedAttributes: boolean;
  content: string | null;
  case: string;
}

const files = await listFiles("fixtures");
const present = files !== null && files.includes("smime/index.json") && files.includes("pki/index.json");
const pki = present ? (JSON.parse(dec(await readBytes("fixtures/pki/index.json"))) as { certificates: PkiEntry[] }) : { certificates: [] };
const smime = present ? (JSON.parse(dec(await readBytes("fixtures/smime/index.json"))) as { samples: Sample[] }) : { samples: [] };
const content = present ? await readBytes("fixtures/smime/content.eml") : new Uint8Array(0);
const byName = new Map(pki.certificates.map((c) => [c.name, c]));

function pemBody(pem: string): Uint8Array {
  const b64 = /-----BEGIN [^-]+-----([\s\S]*?)-----END/.exec(pem)![1]!.replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** The CMS and the signed bytes of a signSmime message. */
function fromEml(eml: Uint8Array, form: "detached" | "opaque"): { cms: Uint8Array; signed?: Uint8Array } {
  const text = dec(eml);
  if (form === "opaque") {
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    return { cms: pemBody(`-----BEGIN X-----${body}-----END`) };
  }
  const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
  const start = text.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
  const end = text.indexOf(`\r\n--${boundary}\r\n`, start);
  // The message is ASCII apart from the content, which is ASCII too here.
  const signed = eml.subarray(start, end);
  const sigPart = text.slice(end + boundary.length + 6, text.indexOf(`--${boundary}--`));
  const b64 = sigPart.slice(sigPart.indexOf("\r\n\r\n") + 4);
  return { cms: pemBody(`-----BEGIN X-----${b64}-----END`), signed };
}

describe.skipIf(!present)("fixtures/pki", () => {
  it("lists every certificate with its files, and they agree", async () => {
    expect(pki.certificates.length).toBeGreaterThanOrEqual(17);
    for (const c of pki.certificates) {
      const der = await readBytes(`fixtures/pki/${c.der}`);
      expect(toHex(pemBody(dec(await readBytes(`fixtures/pki/${c.certificate}`)))), c.name).toBe(toHex(der));
      const cert = parseCert(der);
      expect(toHex(new Uint8Array(cert.serialNumber.valueBlock.valueHexView)).replace(/^00/, ""), c.name).toBe(c.serialNumber);
      expect(cert.notBefore.value.toISOString()).toBe(c.notBefore);
      expect(cert.notAfter.value.toISOString()).toBe(c.notAfter);
      const issuer = c.issuer ? parseCert(await readBytes(`fixtures/pki/${byName.get(c.issuer)!.der}`)) : undefined;
      expect(await cert.verify(issuer, engine), c.name).toBe(true);
      // The private key is PKCS#8 behind a TEST ONLY banner and matches the certificate.
      const keyPem = dec(await readBytes(`fixtures/pki/${c.key}`));
      expect(keyPem.startsWith("# TEST ONLY")).toBe(true);
      const spki = cert.subjectPublicKeyInfo.toSchema().toBER();
      const ec = c.keyAlgorithm.startsWith("ECDSA");
      const alg = ec ? { name: "ECDSA", namedCurve: c.keyAlgorithm === "ECDSA-P384" ? "P-384" : "P-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
      const priv = await crypto.subtle.importKey("pkcs8", pemBody(keyPem).slice(), alg, false, ["sign"]);
      const pub = await crypto.subtle.importKey("spki", spki, alg, false, ["verify"]);
      const params = ec ? { name: "ECDSA", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5" };
      const sig = await crypto.subtle.sign(params, priv, new Uint8Array([1, 2, 3]));
      expect(await crypto.subtle.verify(params, pub, sig, new Uint8Array([1, 2, 3])), c.name).toBe(true);
    }
  });

  it("has one certificate per tamper case of issue 5", () => {
    const cases = new Set(pki.certificates.map((c) => c.case));
    for (const k of ["valid", "expired", "not-yet-valid", "wrong-key-usage", "wrong-extended-key-usage", "missing-pec-policy", "signer-from-another-ca", "ca-without-basic-constraints", "revoked"]) {
      expect(cases.has(k), k).toBe(true);
    }
  });

  it("profiles: the tamper certificates differ from the valid one exactly where they should", async () => {
    const cert = async (n: string): Promise<pkijs.Certificate> => parseCert(await readBytes(`fixtures/pki/${n}.der`));
    expect(ext(await cert("gestore-valid"), OID.certificatePolicies)).toBeDefined();
    expect(ext(await cert("gestore-no-policy"), OID.certificatePolicies)).toBeUndefined();
    expect(ext(await cert("intermediate-no-bc"), OID.basicConstraints)).toBeUndefined();
    expect(ext(await cert("intermediate-ca"), OID.basicConstraints)).toBeDefined();
    const eku = (c: pkijs.Certificate): string[] =>
      (asn1js.fromBER(ext(c, OID.extKeyUsage)!.extnValue.valueBlock.valueHexView.slice()).result as asn1js.Sequence).valueBlock.value.map((v) =>
        (v as asn1js.ObjectIdentifier).valueBlock.toString(),
      );
    expect(eku(await cert("gestore-wrong-eku"))).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(eku(await cert("gestore-valid"))).toEqual([OID.emailProtection]);
    const ku = (c: pkijs.Certificate): number =>
      (asn1js.fromBER(ext(c, OID.keyUsage)!.extnValue.valueBlock.valueHexView.slice()).result as asn1js.BitString).valueBlock.valueHexView[0]!;
    expect(ku(await cert("gestore-valid"))).toBe(0x80);
    expect(ku(await cert("gestore-wrong-ku"))).toBe(0x20);
  });

  it("the CRL revokes gestore-revoked, signed by ca", async () => {
    const crl = pkijs.CertificateRevocationList.fromBER(ab(await readBytes("fixtures/pki/ca.crl")));
    expect(toHex(pemBody(dec(await readBytes("fixtures/pki/ca.crl.pem"))))).toBe(toHex(await readBytes("fixtures/pki/ca.crl")));
    const ca = parseCert(await readBytes("fixtures/pki/ca.der"));
    expect(await crl.verify({ issuerCertificate: ca }, engine)).toBe(true);
    expect(crl.isCertificateRevoked(parseCert(await readBytes("fixtures/pki/gestore-revoked.der")))).toBe(true);
    expect(crl.isCertificateRevoked(parseCert(await readBytes("fixtures/pki/gestore-valid.der")))).toBe(false);
    expect(crl.revokedCertificates![0]!.revocationDate.value.toISOString()).toBe("2025-01-01T00:00:00.000Z");
  });

  it("the LDIFs carry the good gestori, with right and wrong hashes", async () => {
    const good = dec(await readBytes("fixtures/pki/igpec.ldif")).replace(/\n /g, "");
    const bad = dec(await readBytes("fixtures/pki/igpec-wrong-hash.ldif")).replace(/\n /g, "");
    for (const n of ["gestore-valid", "gestore-valid-pss", "gestore-valid-p256", "gestore-valid-p384", "gestore-intermediate"]) {
      const der = await readBytes(`fixtures/pki/${n}.der`);
      const hash = toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", der.slice()))).toUpperCase();
      expect(good, n).toContain(`providerCertificateHash: ${hash}\nproviderCertificate;binary:: `);
      expect(bad, n).not.toContain(hash);
      expect(good).toContain(`providerName: ${byName.get(n)!.providerName}`);
      expect(good).toContain(`managedDomains: ${byName.get(n)!.domain}`);
    }
    expect(good).not.toContain("Scaduto");
  });
});

describe.skipIf(!present)("fixtures/smime", () => {
  it("covers forms, encodings, digests and key types", () => {
    const valid = smime.samples.filter((s) => s.case === "valid");
    for (const form of ["detached", "opaque"]) {
      for (const encoding of ["der", "ber"]) {
        for (const digest of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
          expect(valid.some((s) => s.form === form && s.encoding === encoding && s.digest === digest && s.key === "RSA-2048"), `${form} ${encoding} ${digest}`).toBe(true);
        }
        for (const key of ["RSA-PSS-2048", "ECDSA-P256", "ECDSA-P384"]) {
          expect(valid.some((s) => s.form === form && s.encoding === encoding && s.key === key), `${form} ${encoding} ${key}`).toBe(true);
        }
      }
    }
    expect(valid.some((s) => !s.signedAttributes)).toBe(true);
  });

  it("every sample is what index.json says and verifies over the content", async () => {
    for (const s of smime.samples) {
      const bytes = await readBytes(`fixtures/smime/${s.file}`);
      let cms: Uint8Array;
      let signed: Uint8Array | undefined;
      if (s.type === "smime") {
        ({ cms, signed } = fromEml(bytes, s.form));
        if (s.form === "detached") expect(toHex(signed!), s.file).toBe(toHex(content));
        expect(dec(bytes)).toMatch(s.form === "detached" ? /multipart\/signed; protocol="application\/pkcs7-signature"/ : /application\/pkcs7-mime; smime-type=signed-data/);
      } else {
        cms = bytes;
        if (s.form === "detached") expect(s.content).toBe("content.eml");
      }
      expect(cms[1] === 0x80, s.file).toBe(s.encoding === "ber");
      const sd = parseCms(cms).signedData;
      expect(sd.encapContentInfo.eContent === undefined, s.file).toBe(s.form === "detached");
      if (s.form === "opaque") expect(toHex(new Uint8Array(sd.encapContentInfo.eContent!.getValue()))).toBe(toHex(content));
      expect(await verifyCms(cms, s.form === "detached" ? content : undefined), s.file).toEqual([{ digest: s.digest, signed: true }]);
      const si = sd.signerInfos[0]!;
      const signerDer = await readBytes(`fixtures/pki/${byName.get(s.signer)!.der}`);
      const sid = si.sid as pkijs.IssuerAndSerialNumber;
      expect(toHex(new Uint8Array(sid.serialNumber.valueBlock.valueHexView)).replace(/^00/, "")).toBe(byName.get(s.signer)!.serialNumber);
      expect(sd.certificates!.some((c) => toHex(new Uint8Array((c as pkijs.Certificate).toSchema().toBER())) === toHex(signerDer))).toBe(true);
      expect(si.signedAttrs !== undefined).toBe(s.signedAttributes);
      if (s.signingTime) {
        const t = si.signedAttrs!.attributes.find((a) => a.type === OID.signingTime)!.values[0] as asn1js.UTCTime;
        expect(t.toDate().toISOString(), s.file).toBe(s.signingTime);
      }
    }
  });
});
