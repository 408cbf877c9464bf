// The verifier's per-gestore caches and fast paths: the CMS template (bytes before the
// signed attributes, compared whole), the remembered path answer (no CRL, a time inside
// every certificate's validity), the gestore-profile facts, the slab copies of signed
// attributes. Every test checks that a cached answer is the uncached one, and that a
// different certificate, time or CRL can never get another's.
import { beforeAll, describe, expect, it } from "vitest";
import { createCrl, createGestore, createTestCa, type TestCa, type TestGestore } from "../../src/simulator/ca.js";
import { ContentCache } from "../../src/smime/cache.js";
import { equalBytes, sharedPrefix } from "../../src/util/bytes.js";
import { clearCmsTemplates, cmsTemplateCount, parseSignedData } from "../../src/smime/cms.js";
import { parseCertificate } from "../../src/smime/certificate.js";
import { validatePath } from "../../src/smime/path.js";
import { checkGestoreProfile } from "../../src/smime/profile.js";
import { signCms } from "../../src/smime/sign.js";
import { verifyCms, verifySignedData, type CmsVerification } from "../../src/smime/verify.js";
import { TrustStore } from "../../src/trust/store.js";
import { utf8Bytes } from "../../src/util/bytes.js";
import { cons, octets, oid, seq, setOf, type AsnNode } from "../../src/smime/asn1-der.js";
import { CMS, SIG } from "../../src/smime/oids.js";
import { certFields, craftCms, type CraftOptions } from "./support/craft.js";

const CONTENT = utf8Bytes("Content-Type: text/plain\r\n\r\nRicevuta di avvenuta consegna.\r\n");
const DAY = 86_400_000;
const FIXED = new Date(Date.now() - 3600_000);

let ca: TestCa;
let trust: TrustStore;
let alfa: TestGestore;
let beta: TestGestore;

/** What a verification says, with certificates by subject and bytes by length (comparable across runs). */
function plain(x: unknown): unknown {
  return JSON.parse(
    JSON.stringify(x, (_k, v: unknown) => {
      if (v && typeof v === "object" && "der" in v && "subject" in v) return { subject: (v as { subject: string }).subject, der: Array.from((v as { der: Uint8Array }).der) };
      if (v instanceof Uint8Array) return { bytes: Array.from(v) };
      return v;
    }),
  );
}

/** The same verification without any template (the full reader). */
async function uncached(f: () => Promise<unknown>): Promise<unknown> {
  clearCmsTemplates();
  return plain(await f());
}

beforeAll(async () => {
  ca = await createTestCa({ commonName: "postacert Cache CA", notBefore: new Date(Date.now() - 1000 * DAY) });
  trust = await TrustStore.fromPem(ca.pem());
  const keyPair = await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"]);
  // Same issuer, serial, key and lengths: two certificates only their names tell apart.
  alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyPair, serialNumber: "0a0b0c0d" });
  beta = await createGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", ca, keyPair, serialNumber: "0a0b0c0d" });
});

describe("equalBytes and sharedPrefix", () => {
  it("find a difference at every position, for lengths around the 16-byte step", () => {
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 100]) {
      const a = new Uint8Array(n + 3).map((_, i) => (i * 37 + 11) & 0xff).subarray(3);
      const b = new Uint8Array(n + 1);
      b.set(a, 1);
      expect(equalBytes(a, b.subarray(1))).toBe(true);
      expect(sharedPrefix(b, 1, a, n)).toBe(n);
      for (let i = 0; i < n; i++) {
        const c = b.slice(1);
        c[i]! ^= 0x80;
        expect(equalBytes(a, c)).toBe(false);
        expect(sharedPrefix(b, 1, c, n)).toBe(i);
      }
      expect(equalBytes(a, b)).toBe(n + 1 === n);
    }
  });
});

describe("ContentCache (certificates, CRLs)", () => {
  it("entries with the same key (same length and tail) never answer for each other; at most 4 per key", () => {
    const cache = new ContentCache<number>(100);
    const bytes = (k: number): Uint8Array => {
      const b = new Uint8Array(64).fill(7);
      b[0] = k; // the key reads the length and the last 32 bytes only
      return b;
    };
    let made = 0;
    const get = (k: number): number => cache.get(bytes(k), () => (made++, k));
    for (let k = 0; k < 10; k++) expect(get(k)).toBe(k);
    expect(made).toBe(10);
    for (let k = 6; k < 10; k++) expect(get(k)).toBe(k); // the newest 4 are kept
    expect(made).toBe(10);
    expect(get(0)).toBe(0); // evicted: made again, never another's value
    expect(made).toBe(11);
  });

  it("stays bounded under FIFO eviction", () => {
    const cache = new ContentCache<number>(16);
    for (let k = 0; k < 1000; k++) {
      const b = new Uint8Array(40);
      new DataView(b.buffer).setUint32(36, k);
      expect(cache.get(b, () => k)).toBe(k);
    }
    const sizes = (cache as unknown as { map: Map<number, unknown[]> }).map;
    expect([...sizes.values()].reduce((n, l) => n + l.length, 0)).toBeLessThanOrEqual(16);
  });
});

describe("CMS templates", () => {
  it("the two test certificates share issuer, serial and length: the SignerInfos name both alike", () => {
    const a = certFields(alfa.certificate);
    const b = certFields(beta.certificate);
    expect(a.issuer).toEqual(b.issuer);
    expect(a.serial).toEqual(b.serial);
    expect(alfa.certificate.length).toBe(beta.certificate.length);
  });

  for (const encoding of ["der", "ber"] as const) {
    it(`${encoding.toUpperCase()}: the second receipt of a gestore takes the template, with the full reader's answer`, async () => {
      clearCmsTemplates();
      const first = await signCms({ content: CONTENT, signer: alfa, encoding, signingTime: new Date(Date.now() - 60_000) });
      const second = await signCms({ content: CONTENT, signer: alfa, encoding, signingTime: new Date(Date.now() - 30_000) });
      expect(parseSignedData(first).template).toBeDefined();
      expect(cmsTemplateCount()).toBe(1);
      const hit = parseSignedData(second);
      expect(hit.template).toBe(parseSignedData(first).template);
      expect(hit.ber).toBe(encoding === "ber");
      const verify = () => verifySignedData({ cms: second, content: CONTENT, trust, expectedSigner: "pec.alfa.test" });
      const fast = plain(await verify());
      expect(fast).toEqual(await uncached(verify));
      expect((fast as { trusted: boolean }).trusted).toBe(true);
    });
  }

  it("a certificate differing from the template's only inside (same key bucket) never takes its answer", async () => {
    clearCmsTemplates();
    const a = await signCms({ content: CONTENT, signer: alfa });
    const b = await signCms({ content: CONTENT, signer: beta });
    expect(a.length).toBe(b.length);
    const check = async (cms: Uint8Array, signer: TestGestore, domain: string) => {
      const res = await verifySignedData({ cms, content: CONTENT, trust, expectedSigner: "pec.alfa.test" });
      expect(res.signer?.subject).toBe(signer.subject);
      expect(res.issues.map((i) => i.code)).toEqual(domain === "pec.alfa.test" ? [] : ["SIGNER_MISMATCH"]);
    };
    for (let round = 0; round < 2; round++) {
      await check(a, alfa, "pec.alfa.test");
      await check(b, beta, "pec.beta.test");
    }
    expect(cmsTemplateCount()).toBe(2);
  });

  it("a byte changed inside a certificate (same bucket) misses, and is read and judged on its own", async () => {
    clearCmsTemplates();
    const cms = await signCms({ content: CONTENT, signer: alfa });
    const at = indexOf(cms, alfa.certificate);
    expect(at).toBeGreaterThan(0);
    const intact = await verifySignedData({ cms, content: CONTENT, trust });
    expect(intact.trusted).toBe(true);
    // The last byte of the certificate's signature value: it still parses, the issuer's signature no longer verifies.
    const bad = cms.slice();
    bad[at + alfa.certificate.length - 1]! ^= 1;
    const verify = () => verifySignedData({ cms: bad, content: CONTENT, trust });
    const res = await verify();
    expect(res.trusted).toBe(false);
    expect(res.issues.map((i) => i.code)).toContain("CERT_CHAIN_INVALID");
    expect(plain(res)).toEqual(await uncached(verify));
    expect((await verifySignedData({ cms, content: CONTENT, trust })).trusted).toBe(true);
  });

  it("is bounded: 300 distinct leading byte strings keep at most 128 templates, at most 4 under one key", async () => {
    clearCmsTemplates();
    const cms = await signCms({ content: CONTENT, signer: alfa });
    const attrs = indexOf(cms, parseSignedData(cms).signerInfos[0]!.signedAttrs!.encodings(false)[0]!.subarray(1)) - 1;
    // The sid's serial number (02 04 0a 0b 0c 0d), among the bytes the key is made of.
    const serial = lastIndexOf(cms.subarray(0, attrs), new Uint8Array([2, 4, 0x0a, 0x0b, 0x0c, 0x0d]));
    expect(attrs - serial).toBeLessThan(24);
    for (let k = 0; k < 300; k++) {
      const m = cms.slice();
      m[serial + 4] = k >> 8;
      m[serial + 5] = k & 0xff;
      parseSignedData(m);
      expect(cmsTemplateCount()).toBeLessThanOrEqual(128);
    }
    expect(cmsTemplateCount()).toBeGreaterThan(100);
    // Same key (a byte inside the certificate changed): the bucket keeps the newest 4.
    clearCmsTemplates();
    const inCert = indexOf(cms, alfa.certificate) + alfa.certificate.length - 1;
    for (let k = 0; k < 20; k++) {
      const m = cms.slice();
      m[inCert] = k;
      parseSignedData(m);
    }
    expect(cmsTemplateCount()).toBe(4);
    expect((await verifySignedData({ cms, content: CONTENT, trust })).trusted).toBe(true);
    expect(cmsTemplateCount()).toBe(4);
  });

  it("maxCertificates is enforced on a template hit as on a full read", async () => {
    clearCmsTemplates();
    const cms = await signCms({ content: CONTENT, signer: alfa });
    await verifyCms({ cms, content: CONTENT });
    const n = parseSignedData(cms).certificates.length;
    expect(n).toBe(2);
    const res = await verifyCms({ cms, content: CONTENT, maxCertificates: n - 1 });
    expect(res.issues.map((i) => i.code)).toEqual(["CMS_MALFORMED"]);
    expect(plain(res)).toEqual(await uncached(() => verifyCms({ cms, content: CONTENT, maxCertificates: n - 1 })));
  });

  it("unusual SignerInfos (SKI sid, algorithm protection, repeated or odd attributes) read the same with a template as without", async () => {
    const attr = (type: string, ...values: AsnNode[]): AsnNode => seq(oid(type), setOf(values));
    const prot = attr(CMS.cmsAlgorithmProtection, seq(seq(oid("2.16.840.1.101.3.4.2.1")), cons(0xa1, [oid(SIG.sha256WithRSA)])));
    const ecCa = await createTestCa({ keyAlgorithm: "ECDSA-P256", commonName: "EC Cache CA" });
    const ec = await createGestore({ name: "Gestore EC", domain: "pec.ec.test", ca: ecCa, keyAlgorithm: "ECDSA-P256" });
    const ecTrust = await TrustStore.fromDer(ecCa.certificate);
    const variants: [string, Omit<CraftOptions, "content" | "signer">, TestGestore?][] = [
      ["SKI sid", { sidSki: true }],
      ["CMSAlgorithmProtection", { extraAttributes: [prot] }],
      ["contentType twice", { extraAttributes: [attr(CMS.contentType, oid(CMS.data))] }],
      ["messageDigest with two values", { extraAttributes: [attr(CMS.messageDigest, octets(new Uint8Array(32)), octets(new Uint8Array(32)))] }],
      ["signingTime as GeneralizedTime", { signingTime: new Date(Date.UTC(2051, 0, 2, 3, 4, 5)) }],
      ["signingTime not a time", { extraAttributes: [attr(CMS.signingTime, octets(new Uint8Array(3)))] }],
      ["an empty SMIMECapabilities value", { extraAttributes: [attr("1.2.840.113549.1.9.15", seq())] }],
      ["a contentType that is not an OID", { extraAttributes: [attr(CMS.contentType, octets(new Uint8Array(2)))] }],
      ["wrong contentType attribute", { contentTypeAttr: "1.2.840.113549.1.7.5" }],
      ["algorithm confusion", { signatureAlgorithm: SIG.sha512WithRSA }],
      ["SHA-1", { digest: "SHA-1" }],
      ["ECDSA", {}, ec],
    ];
    for (const [name, opts, signer = alfa] of variants) {
      const t = signer === ec ? ecTrust : trust;
      const make = (at: number) => craftCms({ content: CONTENT, signer, signingTime: new Date(Date.now() - at * 1000), ...opts });
      const [first, second] = [await make(2), await make(1)];
      const verify = () => verifySignedData({ cms: second, content: CONTENT, trust: t, fallbackTime: FIXED });
      const expected = await uncached(verify);
      await verifySignedData({ cms: first, content: CONTENT, trust: t, fallbackTime: FIXED });
      expect(plain(await verify()), name).toEqual(expected);
      expect(parseSignedData(second).template, name).toBeDefined();
    }
  });

  it("seeded fuzz: every mutation of a receipt reads the same with the template primed as with none", async () => {
    for (const encoding of ["der", "ber"] as const) {
      const cms = await signCms({ content: CONTENT, signer: alfa, encoding });
      let seed = encoding === "der" ? 7 : 11;
      const rnd = (m: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % m;
      };
      for (let k = 0; k < 120; k++) {
        // Mostly after the template (signed attributes, signature, end-of-contents), where a hit reads on its own.
        const m = cms.slice();
        const tail = Math.min(420, m.length);
        const kind = rnd(4);
        let mutated: Uint8Array = m;
        if (kind === 0) m[m.length - 1 - rnd(tail)]! ^= 1 << rnd(8);
        else if (kind === 1) m[m.length - 1 - rnd(tail)] = rnd(256);
        else if (kind === 2) mutated = m.subarray(0, m.length - 1 - rnd(tail));
        else m[rnd(m.length)] = rnd(256);
        const verify = () => verifySignedData({ cms: mutated, content: CONTENT, trust, fallbackTime: FIXED });
        const expected = await uncached(verify);
        await verifySignedData({ cms, content: CONTENT, trust }); // primes the template
        let got: unknown;
        try {
          got = plain(await verify());
        } catch (e) {
          got = String(e);
        }
        expect(got, `${encoding} mutation ${k}`).toEqual(expected);
      }
    }
  });
});

describe("remembered path answers", () => {
  it("a time outside a certificate's validity is validated, not remembered", async () => {
    const cms = await signCms({ content: CONTENT, signer: alfa });
    const at = (d: Date) => verifySignedData({ cms, content: CONTENT, trust, at: d });
    expect((await at(new Date())).trusted).toBe(true);
    expect((await at(new Date())).trusted).toBe(true);
    const late = await at(new Date(alfa.notAfter.getTime() + DAY));
    expect(late.issues.map((i) => i.code)).toContain("CERT_EXPIRED_AT_SIGNING");
    const early = await at(new Date(alfa.notBefore.getTime() - DAY));
    expect(early.issues.map((i) => i.code)).toContain("CERT_NOT_YET_VALID_AT_SIGNING");
    expect((await at(new Date())).trusted).toBe(true);
    // The bounds are inclusive, as in isValidAt.
    expect((await at(alfa.notAfter)).trusted).toBe(true);
    expect((await at(new Date(alfa.notAfter.getTime() + 1000))).trusted).toBe(false);
  });

  it("a CRL is always checked: a remembered answer never hides a revocation", async () => {
    const g = await createGestore({ name: "Gestore Gamma S.p.A.", domain: "pec.gamma.test", ca });
    const cms = await signCms({ content: CONTENT, signer: g, signingTime: new Date(Date.now() - 60_000) });
    expect((await verifySignedData({ cms, content: CONTENT, trust })).trusted).toBe(true);
    const crl = await createCrl(ca, { revoked: [{ serialNumber: g.serialNumber, revocationDate: new Date(Date.now() - 3600_000), reason: "keyCompromise" }] });
    const revoked = await verifySignedData({ cms, content: CONTENT, trust, crls: [crl] });
    expect(revoked.issues.map((i) => i.code)).toContain("CERT_REVOKED");
    const storeWithCrl = trust.withCrls([crl]);
    expect((await verifySignedData({ cms, content: CONTENT, trust: storeWithCrl })).issues.map((i) => i.code)).toContain("CERT_REVOKED");
    expect((await verifySignedData({ cms, content: CONTENT, trust })).trusted).toBe(true);
  });

  it("is kept per store and per policy requirement", async () => {
    const cms = await signCms({ content: CONTENT, signer: alfa });
    expect((await verifySignedData({ cms, content: CONTENT, trust })).trusted).toBe(true);
    const other = await TrustStore.fromPem((await createTestCa({ commonName: "Another CA" })).pem());
    expect((await verifySignedData({ cms, content: CONTENT, trust: other })).issues.map((i) => i.code)).toEqual(["CERT_UNTRUSTED"]);
    const strict = await verifySignedData({ cms, content: CONTENT, trust, requirePecPolicy: true });
    expect(plain(strict)).toEqual(plain(await verifySignedData({ cms, content: CONTENT, trust, requirePecPolicy: true })));
    expect((await verifySignedData({ cms, content: CONTENT, trust })).trusted).toBe(true);
  });

  it("validatePath hands out copies: changing one answer does not change the next", async () => {
    const leaf = parseCertificate(alfa.certificate);
    const first = await validatePath({ certificate: leaf, trust, at: new Date() });
    const second = await validatePath({ certificate: leaf, trust, at: new Date() });
    expect(plain(second)).toEqual(plain(first));
    (second.issues as unknown[]).push("x");
    (second.chain as unknown[]).length = 0;
    (second.revocationChecked as unknown[]).push(true);
    expect(plain(await validatePath({ certificate: leaf, trust, at: new Date() }))).toEqual(plain(first));
  });
});

describe("gestore profile facts", () => {
  it("the expected gestore is compared on every call", () => {
    const cert = parseCertificate(alfa.certificate);
    expect(checkGestoreProfile(cert, { expected: "pec.alfa.test" })).toEqual([]);
    expect(checkGestoreProfile(cert, { expected: "pec.beta.test" }).map((i) => i.code)).toEqual(["SIGNER_MISMATCH"]);
    expect(checkGestoreProfile(cert, { expected: "POSTA-CERTIFICATA@PEC.ALFA.TEST" })).toEqual([]);
    const issues = checkGestoreProfile(cert, { expected: "pec.beta.test" });
    issues.push(issues[0]!);
    expect(checkGestoreProfile(cert, { expected: "pec.beta.test" })).toHaveLength(1);
    expect(checkGestoreProfile(parseCertificate(beta.certificate), { expected: "pec.alfa.test" }).map((i) => i.code)).toEqual(["SIGNER_MISMATCH"]);
  });
});

describe("signed attribute copies", () => {
  it("each verification signs over its own copy; many receipts in a row stay independent", async () => {
    clearCmsTemplates();
    const all: CmsVerification[] = [];
    const times = Array.from({ length: 40 }, (_, i) => new Date(Date.now() - (i + 1) * 1000));
    for (const t of times) {
      const cms = await signCms({ content: CONTENT, signer: alfa, signingTime: t });
      all.push(await verifyCms({ cms, content: CONTENT }));
      const sa = parseSignedData(cms).signerInfos[0]!.signedAttrs!;
      const [x] = sa.encodings(false);
      expect(x![0]).toBe(0x31);
      expect(cms[indexOf(cms, x!.subarray(1)) - 1]).toBe(0xa0);
    }
    expect(all.every((r) => r.valid)).toBe(true);
    expect(all.map((r) => r.signers[0]!.signingTime!.getTime())).toEqual(times.map((t) => Math.floor(t.getTime() / 1000) * 1000));
  });
});

function lastIndexOf(hay: Uint8Array, needle: Uint8Array): number {
  for (let i = hay.length - needle.length; i >= 0; i--) if (needle.every((b, j) => hay[i + j] === b)) return i;
  return -1;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

// A receipt of the same gestore whose signature was made over other bytes: the template
// supplies the certificates, never the verdict.
describe("verdicts are never cached", () => {
  it("a template hit with a wrong signature or digest is refused", async () => {
    clearCmsTemplates();
    const good = await signCms({ content: CONTENT, signer: alfa });
    expect((await verifyCms({ cms: good, content: CONTENT })).valid).toBe(true);
    const other = utf8Bytes("Content-Type: text/plain\r\n\r\naltered\r\n");
    const res = await verifyCms({ cms: good, content: other });
    expect(res.issues.map((i) => i.code)).toEqual(["SIGNATURE_MISMATCH"]);
    const badSig = good.slice();
    badSig[badSig.length - 5]! ^= 1;
    expect((await verifyCms({ cms: badSig, content: CONTENT })).issues.map((i) => i.code)).toEqual(["SIGNATURE_INVALID"]);
    expect(parseSignedData(badSig).template).toBeDefined();
  });
});
