// nodeCrypto() (postacert/node) against Node's WebCrypto: the same answers and the same
// error classes for every algorithm it short-cuts, on generated keys of every kind the
// test PKI makes, on tampered signatures, on built PEC messages and on the real samples.
import { webcrypto } from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { nodeCrypto } from "../../src/node/index.js";
import { buildAvvenutaConsegna, buildBusta, composeMessage } from "../../src/pec/build/index.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec, type PecVerification } from "../../src/pec/verify.js";
import { createGestore, createTestCa, type KeyAlgorithm } from "../../src/simulator/ca.js";
import { verifyCms } from "../../src/smime/verify.js";
import { TrustStore } from "../../src/trust/store.js";
import { utf8Bytes } from "../../src/util/bytes.js";
import { readWild, wildFiles } from "../support/wild.js";
import { WILD_OK } from "./support/samples.js";
import { splitSigned } from "./support/split.js";

const web = webcrypto.subtle as unknown as SubtleCrypto;
/** Text as bytes backed by a plain ArrayBuffer (what the WebCrypto types ask for). */
const bytesOf = (text: string): Uint8Array<ArrayBuffer> => new Uint8Array(utf8Bytes(text));
const fast = nodeCrypto().subtle;

type Outcome = { ok: true; value: unknown } | { ok: false; name: string };

async function outcome(p: () => Promise<unknown>): Promise<Outcome> {
  try {
    const v = await p();
    return { ok: true, value: v instanceof ArrayBuffer ? [...new Uint8Array(v)] : v };
  } catch (e) {
    return { ok: false, name: (e as Error).name };
  }
}

/** Runs the same call on both and expects the same result or the same error class. */
async function same(call: (s: SubtleCrypto) => Promise<unknown>): Promise<Outcome> {
  const a = await outcome(() => call(web));
  const b = await outcome(() => call(fast));
  expect(b).toEqual(a);
  return a;
}

describe("nodeCrypto(): the object", () => {
  it("is one shared Crypto whose other members delegate to WebCrypto", async () => {
    const c = nodeCrypto();
    expect(nodeCrypto()).toBe(c);
    expect(c.getRandomValues(new Uint8Array(16)).length).toBe(16);
    expect(c.randomUUID()).toMatch(/^[0-9a-f-]{36}$/);
    const kp = (await c.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    expect(kp.publicKey).toBeInstanceOf(globalThis.CryptoKey);
    const spki = await c.subtle.exportKey("spki", kp.publicKey);
    expect(new Uint8Array(spki).length).toBeGreaterThan(60);
  });
});

describe("nodeCrypto(): the fast path is taken", () => {
  it("a PKCS#1 v1.5 verification and a SHA-256 digest never reach WebCrypto", async () => {
    const kp = (await web.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const data = new Uint8Array(100);
    const sig = await web.sign("RSASSA-PKCS1-v1_5", kp.privateKey, data);
    const v = vi.spyOn(webcrypto.subtle, "verify");
    const d = vi.spyOn(webcrypto.subtle, "digest");
    try {
      expect(await fast.verify("RSASSA-PKCS1-v1_5", kp.publicKey, sig, data)).toBe(true);
      expect((await fast.digest("SHA-256", data)).byteLength).toBe(32);
      expect(v).not.toHaveBeenCalled();
      expect(d).not.toHaveBeenCalled();
      // …and what is not handled is delegated.
      await fast.digest("SHA-224", data).catch(() => undefined);
      expect(d).toHaveBeenCalledTimes(1);
    } finally {
      v.mockRestore();
      d.mockRestore();
    }
  });
});

describe("nodeCrypto(): digest", () => {
  const data = bytesOf("postacert ".repeat(1000));
  for (const name of ["SHA-1", "SHA-256", "SHA-384", "SHA-512", "sha-256", "Sha-512"]) {
    it(`${name} as WebCrypto, on every BufferSource shape`, async () => {
      const r = await same((s) => s.digest(name, data));
      expect(r.ok).toBe(true);
      await same((s) => s.digest({ name }, data));
      await same((s) => s.digest(name, data.subarray(7, 901)));
      await same((s) => s.digest(name, data.slice().buffer));
      await same((s) => s.digest(name, new DataView(data.buffer, 3, 500)));
      await same((s) => s.digest(name, new Uint8Array(0)));
      await same((s) => s.digest(name, Buffer.from("abc")));
    });
  }
  it("refuses what WebCrypto refuses, with its errors", async () => {
    for (const bad of ["SHA-224", "MD5", "", "SHA256"]) expect((await same((s) => s.digest(bad, data))).ok).toBe(false);
    expect((await same((s) => s.digest("SHA-256", "abc" as unknown as BufferSource))).ok).toBe(false);
    expect((await same((s) => s.digest("SHA-256", null as unknown as BufferSource))).ok).toBe(false);
    expect((await same((s) => s.digest({} as AlgorithmIdentifier, data))).ok).toBe(false);
  });
  it("returns a fresh ArrayBuffer of exactly the digest", async () => {
    const a = await fast.digest("SHA-256", data);
    const b = await fast.digest("SHA-256", data);
    expect(a).toBeInstanceOf(ArrayBuffer);
    expect(a.byteLength).toBe(32);
    expect(a).not.toBe(b);
  });
});

interface KeyCase {
  label: string;
  gen: RsaHashedKeyGenParams | EcKeyGenParams;
  sign: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  /** The same verification parameters, written differently. */
  variants: (AlgorithmIdentifier | RsaPssParams | EcdsaParams)[];
}

const e65537 = new Uint8Array([1, 0, 1]);
const CASES: KeyCase[] = [
  { label: "RSA-2048 PKCS#1 v1.5 SHA-256", gen: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: e65537, hash: "SHA-256" }, sign: "RSASSA-PKCS1-v1_5", variants: [{ name: "rsassa-pkcs1-v1_5" }] },
  { label: "RSA-2048 PKCS#1 v1.5 SHA-1", gen: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: e65537, hash: "SHA-1" }, sign: "RSASSA-PKCS1-v1_5", variants: [] },
  { label: "RSA-3072 PKCS#1 v1.5 SHA-384", gen: { name: "RSASSA-PKCS1-v1_5", modulusLength: 3072, publicExponent: e65537, hash: "SHA-384" }, sign: "RSASSA-PKCS1-v1_5", variants: [] },
  { label: "RSA-4096 PKCS#1 v1.5 SHA-512", gen: { name: "RSASSA-PKCS1-v1_5", modulusLength: 4096, publicExponent: e65537, hash: "SHA-512" }, sign: "RSASSA-PKCS1-v1_5", variants: [] },
  {
    label: "RSA-PSS-2048 SHA-256 salt 32",
    gen: { name: "RSA-PSS", modulusLength: 2048, publicExponent: e65537, hash: "SHA-256" },
    sign: { name: "RSA-PSS", saltLength: 32 },
    variants: [0, 20, 222, 223, 224, 4096].map((saltLength) => ({ name: "RSA-PSS", saltLength }) as RsaPssParams),
  },
  {
    label: "ECDSA P-256 SHA-256",
    gen: { name: "ECDSA", namedCurve: "P-256" },
    sign: { name: "ECDSA", hash: "SHA-256" },
    variants: [{ name: "ecdsa", hash: { name: "sha-256" } } as EcdsaParams, { name: "ECDSA", hash: "SHA-384" } as EcdsaParams, { name: "ECDSA", hash: "SHA-1" } as EcdsaParams],
  },
  { label: "ECDSA P-384 SHA-384", gen: { name: "ECDSA", namedCurve: "P-384" }, sign: { name: "ECDSA", hash: "SHA-384" }, variants: [{ name: "ECDSA", hash: "SHA-256" } as EcdsaParams] },
  { label: "ECDSA P-521 SHA-512", gen: { name: "ECDSA", namedCurve: "P-521" }, sign: { name: "ECDSA", hash: "SHA-512" }, variants: [] },
];

describe("nodeCrypto(): verify against WebCrypto", () => {
  const data = bytesOf("Ricevuta di avvenuta consegna\r\n".repeat(40));
  for (const c of CASES) {
    it(c.label, { timeout: 120_000 }, async () => {
      const kp = (await web.generateKey(c.gen, true, ["sign", "verify"])) as CryptoKeyPair;
      const sig = new Uint8Array(await web.sign(c.sign, kp.privateKey, data));
      // The key as postacert imports it (spki), and as jwk; EC keys also raw.
      const imp = c.gen as { name: string; hash?: string; namedCurve?: string };
      const importAlg = imp.namedCurve ? { name: imp.name, namedCurve: imp.namedCurve } : { name: imp.name, hash: imp.hash! };
      const spki = await web.importKey("spki", await web.exportKey("spki", kp.publicKey), importAlg, false, ["verify"]);
      const jwk = await fast.importKey("jwk", await web.exportKey("jwk", kp.publicKey), importAlg, true, ["verify"]);
      const keys = [kp.publicKey, spki, jwk];
      if (imp.namedCurve) keys.push(await fast.importKey("raw", await web.exportKey("raw", kp.publicKey), importAlg, true, ["verify"]));

      const flipped = sig.slice();
      flipped[flipped.length >> 1]! ^= 0x01;
      const otherData = data.slice();
      otherData[3]! ^= 0x20;
      const sigs: BufferSource[] = [
        sig,
        sig.slice().buffer,
        new DataView(sig.slice().buffer),
        flipped,
        sig.subarray(1),
        new Uint8Array(sig.length + 1).fill(1),
        new Uint8Array(0),
        new Uint8Array(sig.length),
        new Uint8Array(sig.length).fill(0xff),
      ];
      for (const key of keys) {
        for (const alg of [c.sign, ...c.variants]) {
          for (const s of sigs) await same((sub) => sub.verify(alg, key, s, data));
          await same((sub) => sub.verify(alg, key, sig, otherData));
          await same((sub) => sub.verify(alg, key, sig, data.subarray(1)));
        }
      }
      expect((await same((sub) => sub.verify(c.sign, kp.publicKey, sig, data))) as Outcome).toEqual({ ok: true, value: true });
      expect(await same((sub) => sub.verify(c.sign, kp.publicKey, flipped, data))).toEqual({ ok: true, value: false });

      // Misuse: WebCrypto's own errors.
      const misuse: [string, (s: SubtleCrypto) => Promise<unknown>][] = [
        ["private key", (s) => s.verify(c.sign, kp.privateKey, sig, data)],
        ["unknown algorithm", (s) => s.verify("RSA-OAEP", kp.publicKey, sig, data)],
        ["algorithm of another family", (s) => s.verify(imp.namedCurve ? "RSASSA-PKCS1-v1_5" : { name: "ECDSA", hash: "SHA-256" }, kp.publicKey, sig, data)],
        ["not an algorithm", (s) => s.verify(42 as unknown as AlgorithmIdentifier, kp.publicKey, sig, data)],
        ["not a key", (s) => s.verify(c.sign, {} as CryptoKey, sig, data)],
        ["string signature", (s) => s.verify(c.sign, kp.publicKey, "sig" as unknown as BufferSource, data)],
        ["string data", (s) => s.verify(c.sign, kp.publicKey, sig, "data" as unknown as BufferSource)],
      ];
      if (imp.name === "RSA-PSS") {
        misuse.push(["PSS without saltLength", (s) => s.verify({ name: "RSA-PSS" }, kp.publicKey, sig, data)]);
        misuse.push(["PSS with a negative saltLength", (s) => s.verify({ name: "RSA-PSS", saltLength: -1 } as RsaPssParams, kp.publicKey, sig, data)]);
      }
      if (imp.name === "ECDSA") {
        misuse.push(["ECDSA without hash", (s) => s.verify({ name: "ECDSA" } as EcdsaParams, kp.publicKey, sig, data)]);
        misuse.push(["ECDSA with SHA-224", (s) => s.verify({ name: "ECDSA", hash: "SHA-224" }, kp.publicKey, sig, data)]);
      }
      for (const [label, call] of misuse) {
        const r = await same(call);
        expect(r.ok, label).toBe(false);
      }
      // A key without the verify usage.
      const signOnly = await web.importKey("jwk", await web.exportKey("jwk", kp.publicKey), importAlg, true, []).catch(() => undefined);
      if (signOnly) expect((await same((s) => s.verify(c.sign, signOnly, sig, data))).ok).toBe(false);
    });
  }
});

describe("nodeCrypto(): PKCS#1 v1.5 accepts only the exact DigestInfo", () => {
  // The fast path recovers the encoded message with the RSA public operation and compares it
  // itself: every near miss of the encoding must be refused as WebCrypto (OpenSSL) refuses it.
  const HEX: Record<string, string> = {
    "SHA-1": "3021300906052b0e03021a05000414",
    "SHA-256": "3031300d060960864801650304020105000420",
    "SHA-384": "3041300d060960864801650304020205000430",
    "SHA-512": "3051300d060960864801650304020305000440",
  };
  for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    it(`${hash}: the right encoding verifies, its near misses do not, as with WebCrypto`, async () => {
      const { generateKeyPairSync, privateEncrypt, createHash, constants } = await import("node:crypto");
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const key = await web.importKey("spki", publicKey.export({ type: "spki", format: "der" }), { name: "RSASSA-PKCS1-v1_5", hash }, false, ["verify"]);
      const data = bytesOf("Ricevuta di avvenuta consegna");
      const digest = createHash(hash.replace("-", "").toLowerCase()).update(data).digest();
      const prefix = Buffer.from(HEX[hash]!, "hex");
      const other = Buffer.from(HEX[hash === "SHA-256" ? "SHA-384" : "SHA-256"]!, "hex");
      // Signatures over chosen encoded messages (type-1 padding added by OpenSSL).
      const sign = (em: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, em));
      const noNull = Buffer.concat([Buffer.from([0x30, prefix[1]! - 2, 0x30, prefix[3]! - 2]), prefix.subarray(4, prefix.length - 4), prefix.subarray(-2), digest]);
      const cases: [string, Uint8Array, boolean][] = [
        ["the DigestInfo", Buffer.concat([prefix, digest]), true],
        ["the bare digest", digest, false],
        ["another hash's DigestInfo prefix", Buffer.concat([other, digest]), false],
        ["the DigestInfo without NULL parameters", noNull, false],
        ["a byte after the DigestInfo", Buffer.concat([prefix, digest, Buffer.from([0])]), false],
        ["the DigestInfo of other data", Buffer.concat([prefix, createHash(hash.replace("-", "").toLowerCase()).update("x").digest()]), false],
        ["the DigestInfo one byte short", Buffer.concat([prefix, digest]).subarray(0, prefix.length + digest.length - 1), false],
      ];
      for (const [label, em, expected] of cases) {
        const r = await same((s) => s.verify("RSASSA-PKCS1-v1_5", key, sign(em), data));
        expect(r, label).toEqual({ ok: true, value: expected });
      }
      // A valid signature whose value starts with a zero byte, given without it: the same
      // number, but not k bytes long (RFC 8017 §8.2.2 step 1).
      for (let i = 0; ; i++) {
        const text = bytesOf(`message ${i}`);
        const sig = sign(Buffer.concat([prefix, createHash(hash.replace("-", "").toLowerCase()).update(text).digest()]));
        if (sig[0] !== 0) continue;
        expect(await same((s) => s.verify("RSASSA-PKCS1-v1_5", key, sig, text))).toEqual({ ok: true, value: true });
        expect(await same((s) => s.verify("RSASSA-PKCS1-v1_5", key, sig.subarray(1), text))).toEqual({ ok: true, value: false });
        break;
      }
    });
  }
});

const errorsOf = (r: PecVerification): string[] => r.issues.map((i) => `${i.severity}:${i.code}`).sort();

describe("nodeCrypto(): verifyPec on built messages, every key the test PKI makes", () => {
  const DATE = new Date("2026-11-23T10:00:00Z");
  const tx = {
    sender: "mario.rossi@pec.alfa.test",
    recipients: [{ address: "anna.bianchi@pec.beta.test", tipo: "certificato" as const, field: "to" as const }],
    subject: "Fattura n. 1",
    identificativo: "opec210.20261123100000.1.1.1@pec.alfa.test",
    msgid: "<m1@client.alfa.test>",
  };
  const original = composeMessage({
    from: "mario.rossi@pec.alfa.test",
    to: ["anna.bianchi@pec.beta.test"],
    subject: "Fattura n. 1",
    text: "in allegato\r\n",
    messageId: "<m1@client.alfa.test>",
    date: DATE,
    attachments: [{ filename: "f.pdf", contentType: "application/pdf", content: new Uint8Array(3000).fill(65) }],
  });
  const algs: KeyAlgorithm[] = ["RSA-2048", "RSA-3072", "RSA-PSS-2048", "ECDSA-P256", "ECDSA-P384"];
  const messages = new Map<KeyAlgorithm, { trust: TrustStore; bytes: Uint8Array[] }>();
  beforeAll(async () => {
    for (const keyAlgorithm of algs) {
      const notBefore = new Date(DATE.getTime() - 86_400_000);
      const ca = await createTestCa({ commonName: `CA ${keyAlgorithm}`, keyAlgorithm, notBefore });
      const g = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm, notBefore });
      const busta = (await buildBusta(g, tx, { original, date: DATE })).bytes;
      const receipt = (await buildAvvenutaConsegna(g, tx, { consegna: "anna.bianchi@pec.beta.test", ricevuta: "completa", original, date: DATE })).bytes;
      messages.set(keyAlgorithm, { trust: await TrustStore.fromPem(ca.pem()), bytes: [busta, receipt] });
    }
  }, 300_000);

  for (const keyAlgorithm of algs) {
    it(`${keyAlgorithm}: same verdicts as WebCrypto, intact and tampered`, async () => {
      const { trust, bytes } = messages.get(keyAlgorithm)!;
      for (const b of bytes) {
        const variants = [b];
        // Tamper with the signed text, and with the signature value (inside the base64 of smime.p7s).
        const text = b.slice();
        const at = new TextDecoder().decode(b).indexOf("Fattura n. 1");
        text[at] = 0x66;
        variants.push(text);
        const sigTamper = b.slice();
        const p7s = new TextDecoder().decode(b).lastIndexOf("smime.p7s");
        const end = new TextDecoder().decode(b).lastIndexOf("\r\n\r\n------");
        const pos = end - 40 > p7s ? end - 40 : -1;
        if (pos > 0) {
          sigTamper[pos] = sigTamper[pos] === 0x41 ? 0x42 : 0x41;
          variants.push(sigTamper);
        }
        for (const v of variants) {
          const a = await verifyPec(readPec(v), { trust });
          const f = await verifyPec(readPec(v), { trust, crypto: nodeCrypto() });
          expect(f.valid).toBe(a.valid);
          expect(f.trusted).toBe(a.trusted);
          expect(errorsOf(f)).toEqual(errorsOf(a));
        }
        const ok = await verifyPec(readPec(b), { trust, crypto: nodeCrypto() });
        expect(ok.trusted).toBe(true);
      }
    });
  }
});

describe.skipIf(wildFiles === null)("nodeCrypto(): the real samples", () => {
  it("every intact sample verifies as with WebCrypto", async () => {
    for (const name of Object.keys(WILD_OK)) {
      const parts = splitSigned(await readWild(name));
      if (!parts) continue;
      const a = await verifyCms({ cms: parts.p7s, content: parts.signed });
      const f = await verifyCms({ cms: parts.p7s, content: parts.signed, crypto: nodeCrypto() });
      expect(f.valid, name).toBe(a.valid);
      expect(f.issues.map((i) => i.code), name).toEqual(a.issues.map((i) => i.code));
      const r = await verifyPec(await readWild(name), { crypto: nodeCrypto() });
      expect(r.valid, name).toBe(true);
    }
  });
});
