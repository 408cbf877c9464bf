// What the differential test against OpenSSL (differential.node.test.ts) found postacert
// accepting and OpenSSL refusing, where OpenSSL was right: one regression test each.
// Runs in Node and Chromium alike.
import { beforeAll, describe, expect, it } from "vitest";
import { BerReader, parseTime } from "../../src/smime/ber.js";
import { parseCertificate } from "../../src/smime/certificate.js";
import { signCms } from "../../src/smime/sign.js";
import { verifyCms, verifySignedData } from "../../src/smime/verify.js";
import { TrustStore } from "../../src/trust/store.js";
import { PecError } from "../../src/errors.js";
import { T, encode, parse, type Node } from "./support/asn1-tree.js";
import { bytesOf, makeBase, mutate, signerInfo, siFields } from "./support/diff-cms.js";
import { buildWorld, makeKeys, type Keys, type World } from "./support/diff-pki.js";

const CONTENT = new TextEncoder().encode("Content-Type: text/plain\r\n\r\nRicevuta di consegna.\r\n");

let keys: Keys;
let t0: number;

beforeAll(async () => {
  keys = await makeKeys();
  t0 = Math.floor(Date.now() / 1000) * 1000;
}, 60_000);

async function verdict(world: World, cms?: Uint8Array) {
  const trust = await TrustStore.fromDer([...world.anchors]);
  const signed = cms ?? (await signCms({ content: CONTENT, signer: { certificate: world.signerCert, privateKey: world.signerKey.pair.privateKey, chain: world.bag.filter((c) => c !== world.signerCert) } }));
  return verifySignedData({ cms: signed, content: CONTENT, trust });
}

const errorCodes = (r: { issues: readonly { code: string; severity: string }[] }): string[] => r.issues.filter((i) => i.severity === "error").map((i) => i.code);

describe("times that name no instant are malformed (they were rolled over into another date)", () => {
  it("refuses month 13, 31 April, 29 February of a common year, hour 24, minute or second 60, a zone offset of 24 hours", () => {
    for (const [text, utc] of [
      ["251301000000Z", true],
      ["250431120000Z", true],
      ["250229120000Z", true],
      ["250101240000Z", true],
      ["250101126000Z", true],
      ["250101120060Z", true],
      ["20251301000000Z", false],
      ["20250132000000Z", false],
      ["2501011200+2400", true],
      ["2501011200+0160", true],
    ] as const) {
      expect(parseTime(text, utc), text).toBeUndefined();
      // The reader's own fast path for the DER forms too.
      const tlv = encode(T.timeText(text, !utc));
      const r = new BerReader(tlv);
      expect(() => r.time(r.root()), text).toThrow(/bad time value/);
    }
    expect(parseTime("240229235959Z", true)?.toISOString()).toBe("2024-02-29T23:59:59.000Z");
    expect(parseTime("20000229000000Z", false)?.toISOString()).toBe("2000-02-29T00:00:00.000Z");
    expect(parseTime("19000229000000Z", false)).toBeUndefined();
  });

  it("GeneralizedTime years 0000–0099 are those years, not 1900–1999 (Date.UTC's reading), and their 29 February is not rolled over", () => {
    for (const [text, iso] of [
      ["00000229000000Z", "0000-02-29T00:00:00.000Z"],
      ["00500101000000Z", "0050-01-01T00:00:00.000Z"],
      ["00991231235959Z", "0099-12-31T23:59:59.000Z"],
      ["0004022912+0100", "0004-02-29T11:00:00.000Z"],
      ["01000101000000Z", "0100-01-01T00:00:00.000Z"],
    ] as const) {
      expect(parseTime(text, false)?.toISOString(), text).toBe(iso);
      const r = new BerReader(encode(T.timeText(text, true)));
      expect(r.time(r.root()).toISOString(), text).toBe(iso);
    }
    // Year 1 is a common year: no 29 February to roll over into 1 March.
    expect(parseTime("00010229000000Z", false)).toBeUndefined();
  });

  it("a certificate whose notAfter is month 13 does not parse (OpenSSL: format error in certificate's notAfter field)", async () => {
    const w = await buildWorld("leaf-notafter-month-13", keys, t0);
    expect(() => parseCertificate(w.signerCert)).toThrow(PecError);
    // Without the signer's certificate there is no key to trust: never a trusted signature.
    const res = await verdict(w);
    expect(res.trusted).toBe(false);
    expect(errorCodes(res)).toContain("SIGNER_CERT_MISSING");
  });

  it("a signingTime of month 13 is CMS_MALFORMED, not a signing time in the next January", async () => {
    const w = await buildWorld("ok", keys, t0);
    const ctx = await makeBase(w, CONTENT, { kind: "postacert", digest: "SHA-256", rsa: "rsaEncryption" }, t0, () => Promise.reject(new Error("no openssl here")));
    await mutate(ctx, ["st-month-13"]);
    const res = await verifyCms({ cms: bytesOf(ctx), content: ctx.content });
    expect(res.valid).toBe(false);
    expect(res.signers[0]!.signingTime).toBeUndefined();
    expect(errorCodes(res)).toContain("CMS_MALFORMED");
  });
});

describe("certificates whose two signature algorithm fields differ are not links of a path (RFC 5280 §4.1.1.2)", () => {
  for (const id of ["leaf-inner-alg-differs", "int-inner-alg-differs"]) {
    it(id.startsWith("leaf") ? "the signer's" : "the intermediate's", async () => {
      const res = await verdict(await buildWorld(id, keys, t0));
      expect(res.valid).toBe(true);
      expect(res.trusted).toBe(false);
      expect(res.issues.map((i) => i.message).join("\n")).toMatch(/is not the one its signed tbsCertificate names/);
      expect(errorCodes(res)).toEqual(["CERT_CHAIN_INVALID"]);
    });
  }
});

describe("a certificate with an extension twice is not a link of a path (RFC 5280 §4.2)", () => {
  for (const [id, what] of [
    ["int-dup-bc", "an intermediate with basicConstraints cA FALSE, then cA TRUE"],
    ["leaf-dup-san", "a signer with subjectAltName twice"],
    ["root-dup-ku", "an anchor with keyUsage twice"],
  ] as const) {
    it(what, async () => {
      const res = await verdict(await buildWorld(id, keys, t0));
      expect(res.valid).toBe(true);
      expect(res.trusted).toBe(false);
      expect(res.issues.map((i) => i.message).join("\n")).toMatch(/more than once/);
    });
  }
});

describe("ECDSA signatures must be DER (CVE-2014-8275: no re-encoding a valid signature)", () => {
  /** The ECDSA-Sig-Value of a signature OCTET STRING or certificate BIT STRING, re-encoded by `f`. */
  const variants: [string, (sig: Node) => void][] = [
    ["a long-form length", (sig) => (sig.len = "long")],
    ["an indefinite length", (sig) => (sig.len = "indef")],
    ["r with a superfluous 0x00", (sig) => (sig.children![0]!.value = Uint8Array.of(0, ...sig.children![0]!.value!))],
  ];

  it("in a CMS SignerInfo", async () => {
    const w = await buildWorld("ok-ec", keys, t0);
    const cms = await signCms({ content: CONTENT, signer: { certificate: w.signerCert, privateKey: w.signerKey.pair.privateKey } });
    expect((await verifyCms({ cms, content: CONTENT })).valid).toBe(true);
    for (const [what, f] of variants) {
      const ci = parse(cms);
      const s = siFields(signerInfo(ci)).signature;
      const sig = parse(s.value!);
      f(sig);
      s.value = encode(sig);
      const res = await verifyCms({ cms: encode(ci), content: CONTENT });
      expect(res.valid, what).toBe(false);
      expect(errorCodes(res), what).toContain("SIGNATURE_INVALID");
    }
    // A negative r (its sign octet dropped): try signatures until one has an r or s with the high bit set.
    for (let i = 0; i < 20; i++) {
      const fresh = await signCms({ content: CONTENT, signer: { certificate: w.signerCert, privateKey: w.signerKey.pair.privateKey } });
      const ci = parse(fresh);
      const s = siFields(signerInfo(ci)).signature;
      const sig = parse(s.value!);
      const n = sig.children!.find((x) => x.value!.length > 1 && x.value![0] === 0 && x.value![1]! & 0x80);
      if (!n) continue;
      n.value = n.value!.slice(1);
      s.value = encode(sig);
      expect((await verifyCms({ cms: encode(ci), content: CONTENT })).valid, "a negative integer").toBe(false);
      break;
    }
  });

  it("on a certificate of the path", async () => {
    const w = await buildWorld("ok-ec", keys, t0);
    expect((await verdict(w)).trusted).toBe(true);
    for (const [what, f] of variants) {
      // The leaf's signature by the EC intermediate, re-encoded: same r and s, another fingerprint.
      const cert = parse(w.signerCert);
      const bits = cert.children![2]!;
      const sig = parse(bits.value!.subarray(1));
      f(sig);
      bits.value = Uint8Array.of(0, ...encode(sig));
      const leaf = encode(cert);
      const res = await verdict({ ...w, signerCert: leaf, bag: [leaf, ...w.bag.slice(1)] });
      expect(res.trusted, what).toBe(false);
      expect(res.issues.map((i) => i.message).join("\n"), what).toMatch(/does not verify with the key of/);
    }
  });
});

describe("without signed attributes, an algorithm that does not fit the key is no 'altered content'", () => {
  it("an RSA signature algorithm over an EC key's signature is SIGNATURE_INVALID, naming the misfit", async () => {
    const w = await buildWorld("ok-ec", keys, t0);
    const cms = await signCms({ content: CONTENT, signer: { certificate: w.signerCert, privateKey: w.signerKey.pair.privateKey }, signedAttributes: false });
    expect((await verifyCms({ cms, content: CONTENT })).valid).toBe(true);
    const ci = parse(cms);
    const si = signerInfo(ci);
    si.children![si.children!.indexOf(siFields(si).sigAlg)] = T.seq(T.oid("1.2.840.113549.1.1.11"), T.null());
    const res = await verifyCms({ cms: encode(ci), content: CONTENT });
    expect(res.valid).toBe(false);
    // It said SIGNATURE_MISMATCH, "the content or the signature was altered".
    expect(res.issues).toEqual([expect.objectContaining({ code: "SIGNATURE_INVALID", message: "RSA signature with a non-RSA key" })]);
  });
});

describe("the ESS signingCertificateV2 attribute", () => {
  it("hashing the certificate with an algorithm postacert cannot compute leaves it unproven: UNSUPPORTED_ALGORITHM, as OpenSSL -cades refuses it", async () => {
    const w = await buildWorld("ok", keys, t0);
    const none = (): Promise<Uint8Array> => Promise.reject(new Error("no openssl base here"));
    for (const [mutation, valid, code] of [
      ["ess-v2-right", true, undefined],
      ["ess-v2-unknown-hash", false, "UNSUPPORTED_ALGORITHM"],
      ["ess-v2-wrong", false, "SIGNATURE_INVALID"],
      ["ess-v2-empty", false, "CMS_MALFORMED"],
    ] as const) {
      const ctx = await makeBase(w, CONTENT, { kind: "postacert", digest: "SHA-256", rsa: "sha-with-rsa" }, t0, none);
      await mutate(ctx, [mutation]);
      const res = await verifyCms({ cms: bytesOf(ctx), content: CONTENT });
      expect(res.valid, mutation).toBe(valid);
      expect(errorCodes(res), mutation).toEqual(code ? [code] : []);
      // An unreadable ESS attribute spoils only itself: the signing time is still read (the path is checked at it).
      expect(res.signers[0]!.signingTime?.getTime(), mutation).toBe(t0);
    }
  });
});
