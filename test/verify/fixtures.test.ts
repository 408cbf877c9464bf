// The pre-generated fixtures of scripts/make-fixtures.ts (fixtures/pki, fixtures/smime):
// the same verdicts in Node and in Chromium, on files rather than keys made on the spot.
import { describe, expect, it } from "vitest";
import { listFiles, readBytes } from "#files";
import { verifySignedData, type SignedDataVerification } from "../../src/smime/verify.js";
import { TrustStore } from "../../src/trust/store.js";
import { latin1 } from "../../src/util/bytes.js";
import { opaqueCms } from "./support/opaque.js";
import { splitSigned, toCrlf } from "./support/split.js";

interface Sample {
  file: string;
  type: "smime" | "cms";
  form: "detached" | "opaque";
  encoding: "der" | "ber";
  digest: string;
  signer: string;
  signingTime: string | null;
  signedAttributes: boolean;
  content: string | null;
  case: string;
}

const present = (await listFiles("fixtures/smime"))?.includes("index.json") ?? false;

/** The error code each case must give (undefined: trusted). */
const EXPECTED: Readonly<Record<string, string | undefined>> = {
  valid: undefined,
  "valid-via-intermediate": undefined,
  "revoked-after-signing": undefined,
  expired: "CERT_EXPIRED_AT_SIGNING",
  "not-yet-valid": "CERT_NOT_YET_VALID_AT_SIGNING",
  "wrong-key-usage": "CERT_PROFILE",
  "wrong-extended-key-usage": "CERT_PROFILE",
  "missing-pec-policy": "PEC_POLICY_MISSING",
  "signer-from-another-ca": "CERT_UNTRUSTED",
  "ca-without-basic-constraints": "CERT_CHAIN_INVALID",
  revoked: "CERT_REVOKED",
};

describe.skipIf(!present)("pre-generated fixtures", async () => {
  const index = JSON.parse(new TextDecoder().decode(await readBytes("fixtures/smime/index.json"))) as { samples: Sample[] };
  const caPem = latin1(await readBytes("fixtures/pki/ca.pem"));
  const crl = await readBytes("fixtures/pki/ca.crl");
  const trust = await TrustStore.fromPem(caPem);
  const content = await readBytes("fixtures/smime/content.eml");

  async function verify(s: Sample, opts: { trust?: TrustStore; requirePecPolicy?: boolean } = {}): Promise<SignedDataVerification> {
    const bytes = await readBytes(`fixtures/smime/${s.file}`);
    // Without signed attributes there is no signingTime: the caller's time (the daticert date for a PEC) takes over.
    const base = {
      trust: opts.trust ?? trust,
      crls: [crl],
      requirePecPolicy: opts.requirePecPolicy ?? s.case === "missing-pec-policy",
      fallbackTime: new Date("2025-06-15T10:00:00Z"),
    };
    if (s.type === "cms") return verifySignedData({ cms: bytes, ...(s.form === "detached" ? { content } : {}), ...base });
    if (s.form === "opaque") return verifySignedData({ cms: opaqueCms(bytes)!, ...base });
    const parts = splitSigned(bytes)!;
    const res = await verifySignedData({ cms: parts.p7s, content: parts.signed, ...base });
    return res.valid ? res : verifySignedData({ cms: parts.p7s, content: toCrlf(parts.signed), ...base });
  }

  it("has samples for every case", () => {
    expect(new Set(index.samples.map((s) => s.case))).toEqual(new Set(Object.keys(EXPECTED)));
  });

  for (const s of index.samples) {
    const expected = EXPECTED[s.case];
    it(`${s.file}: ${expected ?? "valid and trusted"}`, async () => {
      const res = await verify(s);
      expect(res.valid).toBe(true);
      expect(res.signers[0]!.digestAlgorithm).toBe(s.digest);
      expect(res.signedAt?.toISOString()).toBe(s.signedAttributes ? s.signingTime : undefined);
      expect(res.ber).toBe(s.encoding === "ber");
      const errors = [...new Set(res.issues.filter((i) => i.severity === "error").map((i) => i.code))];
      expect(errors).toEqual(expected ? [expected] : []);
      expect(res.trusted).toBe(expected === undefined);
      if (s.type === "smime" && s.form === "detached") {
        // One changed byte in the signed part.
        const parts = splitSigned(await readBytes(`fixtures/smime/${s.file}`))!;
        const tampered = parts.signed.slice();
        tampered[tampered.length - 3]! ^= 0x01;
        const bad = await verifySignedData({ cms: parts.p7s, content: tampered, trust });
        expect(bad.valid).toBe(false);
        expect(bad.issues.map((i) => i.code)).toContain("SIGNATURE_MISMATCH");
      }
    });
  }

  it("IGPEC LDIF: listed gestori are trusted as themselves; the wrong-hash LDIF trusts nobody", async () => {
    const good = await TrustStore.fromLdif(latin1(await readBytes("fixtures/pki/igpec.ldif")));
    const bad = await TrustStore.fromLdif(await readBytes("fixtures/pki/igpec-wrong-hash.ldif"));
    expect(good.providers.length).toBeGreaterThan(0);
    expect(good.rejected).toEqual([]);
    expect(bad.providers).toEqual([]);
    expect(bad.rejected.length).toBeGreaterThan(0);
    const sample = index.samples.find((s) => s.case === "valid" && s.type === "cms" && s.signer === "gestore-valid")!;
    const ok = await verify(sample, { trust: good });
    expect(ok.trusted).toBe(true);
    expect(ok.signers[0]!.provider?.domains.length).toBeGreaterThan(0);
    const refused = await verify(sample, { trust: bad });
    expect(refused.valid).toBe(true);
    expect(refused.issues.filter((i) => i.severity === "error").map((i) => i.code)).toEqual(["CERT_UNTRUSTED"]);
  });
});
