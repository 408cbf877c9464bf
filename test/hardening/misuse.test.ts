// Misuse (hardening probe, findings 1 and 2): options of the wrong shape are
// ERR_INVALID_ARGUMENT up front, whatever the message; a WebCrypto that is incomplete is
// refused at the start, and one that throws or rejects at run time never leaves an
// unhandled rejection and is reported as the crypto's failure, not the message's.
// Node and Chromium (no node:* import: unhandled rejections are watched through
// `process` when there is one, through the `unhandledrejection` event otherwise).
import { beforeAll, describe, expect, it } from "vitest";
import { PecError } from "../../src/errors.js";
import { buildAccettazione, composeMessage } from "../../src/pec/build/index.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec } from "../../src/pec/verify.js";
import type { PecVerification } from "../../src/pec/verify.js";
import { createCrl, createGestore, createTestCa, toPem } from "../../src/simulator/index.js";
import type { TestCa, TestGestore } from "../../src/simulator/index.js";
import { parseCertificate } from "../../src/smime/certificate.js";
import { parseCrl } from "../../src/smime/crl.js";
import { parseMime } from "../../src/mime/index.js";
import { parseDaticert } from "../../src/daticert/index.js";
import { validatePath } from "../../src/smime/path.js";
import { verifyCms, verifySignedData } from "../../src/smime/verify.js";
import { TrustStore } from "../../src/trust/index.js";
import { TransactionTracker } from "../../src/transactions/index.js";
import { codeAsync } from "../support/outcome.js";
import { SAMPLE_DATE, sampleTx } from "../support/transaction.js";


const codes = (r: { issues: readonly { code: string }[] }): string[] => r.issues.map((i) => i.code);
const messages = (r: { issues: readonly { message: string }[] }): string => r.issues.map((i) => i.message).join(" | ");

type Method = "digest" | "importKey" | "verify";
type Fault = "missing" | "throw" | "reject";

/** The platform's WebCrypto with some `subtle` methods missing, throwing or rejecting. A new `subtle` each time: keys are imported afresh. */
function faulty(faults: Partial<Record<Method, Fault>>): Crypto {
  const s = globalThis.crypto.subtle;
  const subtle: Record<string, unknown> = { digest: s.digest.bind(s), importKey: s.importKey.bind(s), verify: s.verify.bind(s) };
  for (const [m, fault] of Object.entries(faults)) {
    if (fault === "missing") delete subtle[m];
    else if (fault === "throw")
      subtle[m] = () => {
        throw new Error(`${m} boom`);
      };
    else subtle[m] = () => Promise.reject(new Error(`${m} boom`));
  }
  return { subtle } as unknown as Crypto;
}

/** Runs `f` and returns it with the rejections nobody handled meanwhile (and a little after). */
async function watchUnhandled<T>(f: () => Promise<T>): Promise<{ value: T; unhandled: unknown[] }> {
  const unhandled: unknown[] = [];
  const proc = (globalThis as { process?: { on?: unknown; off?: unknown } }).process;
  const nodeLike = typeof proc?.on === "function" && typeof proc.off === "function";
  const onNode = (reason: unknown): void => void unhandled.push(reason);
  const onWeb = (ev: Event): void => {
    unhandled.push((ev as PromiseRejectionEvent).reason);
    ev.preventDefault();
  };
  if (nodeLike) (proc.on as (e: string, l: (r: unknown) => void) => void).call(proc, "unhandledRejection", onNode);
  else globalThis.addEventListener?.("unhandledrejection", onWeb);
  try {
    const value = await f();
    await new Promise((r) => setTimeout(r, 50));
    return { value, unhandled };
  } finally {
    if (nodeLike) (proc.off as (e: string, l: (r: unknown) => void) => void).call(proc, "unhandledRejection", onNode);
    else globalThis.removeEventListener?.("unhandledrejection", onWeb);
  }
}

const validity = { notBefore: new Date("2024-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z") };
const date = SAMPLE_DATE;
const tx = sampleTx();

/** A CA, a gestore under it and an accettazione it signed: fresh, so that no cache of another test holds their checks. */
async function pki(
  keyAlgorithm: "RSA-2048" | "ECDSA-P256",
  caKeyAlgorithm = keyAlgorithm,
): Promise<{ ca: TestCa; gestore: TestGestore; trust: TrustStore; bytes: Uint8Array }> {
  const ca = await createTestCa({ ...validity, keyAlgorithm: caKeyAlgorithm });
  const gestore = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, ...validity, keyAlgorithm });
  const trust = await TrustStore.fromPem(ca.pem());
  const bytes = (await buildAccettazione(gestore, tx, { date })).bytes;
  return { ca, gestore, trust, bytes };
}

describe("a crypto that is incomplete or fails at run time", () => {
  let rsa: Awaited<ReturnType<typeof pki>>;
  let unsigned: Uint8Array;

  beforeAll(async () => {
    rsa = await pki("RSA-2048");
    unsigned = composeMessage({ from: "a@b.it", to: ["c@d.it"], subject: "x", text: "x", date });
  });

  it("an incomplete crypto is ERR_INVALID_ARGUMENT at the start, for every entry point", async () => {
    const pec = readPec(rsa.bytes);
    const sig = pec.signature!;
    const incomplete: unknown[] = [
      faulty({ digest: "missing" }),
      faulty({ importKey: "missing" }),
      faulty({ verify: "missing" }),
      { subtle: null },
      {},
      "crypto",
    ];
    for (const c of incomplete) {
      const crypto = c as Crypto;
      expect(await codeAsync(() => verifyPec(pec, { trust: rsa.trust, crypto }))).toBe("ERR_INVALID_ARGUMENT");
      // Misuse whatever the message: an unsigned one too.
      expect(await codeAsync(() => verifyPec(unsigned, { crypto }))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => verifyCms({ cms: sig.cms, content: sig.signedBytes!, crypto }))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => verifySignedData({ cms: sig.cms, content: sig.signedBytes!, trust: rsa.trust, crypto }))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => validatePath({ certificate: rsa.gestore.certificate, trust: rsa.trust, at: date, crypto }))).toBe("ERR_INVALID_ARGUMENT");
    }
  });

  for (const fault of ["throw", "reject"] as const) {
    it(`a subtle.digest that ${fault}s: a verdict that names the crypto, no unhandled rejection`, async () => {
      const crypto = faulty({ digest: fault });
      const { value: res, unhandled } = await watchUnhandled(() => verifyPec(rsa.bytes, { trust: rsa.trust, crypto }));
      expect(unhandled).toEqual([]);
      expect(res.present).toBe(true);
      expect(res.valid).toBe(false);
      expect(res.trusted).toBe(false);
      expect(codes(res)).toContain("UNSUPPORTED_ALGORITHM");
      // The message is not blamed.
      expect(codes(res)).not.toContain("CMS_MALFORMED");
      expect(codes(res)).not.toContain("SIGNATURE_MISMATCH");
      expect(messages(res)).toMatch(/WebCrypto implementation failed \(subtle\.digest\): digest boom/);

      const sig = readPec(rsa.bytes).signature!;
      const { value: cms, unhandled: unhandledCms } = await watchUnhandled(() => verifyCms({ cms: sig.cms, content: sig.signedBytes!, crypto }));
      expect(unhandledCms).toEqual([]);
      expect(cms.valid).toBe(false);
      expect(codes(cms)).toEqual(["UNSUPPORTED_ALGORITHM"]);
      // The same message still verifies with a working crypto: nothing of the failure was remembered.
      const good = await verifyPec(rsa.bytes, { trust: rsa.trust });
      expect(good.valid && good.trusted).toBe(true);
    });

    it(`a subtle.importKey that ${fault}s: the built-in arithmetic takes over`, async () => {
      const { value: res, unhandled } = await watchUnhandled(() => verifyPec(rsa.bytes, { trust: rsa.trust, crypto: faulty({ importKey: fault }) }));
      expect(unhandled).toEqual([]);
      expect(codes(res)).toEqual([]);
      expect(res.valid && res.trusted).toBe(true);
    });

    it(`a subtle.verify that ${fault}s: not valid, the failure named, no unhandled rejection`, async () => {
      // Fresh identities: the issuer check on this pair must not be remembered for the other tests.
      const own = await pki("ECDSA-P256");
      const { value: res, unhandled } = await watchUnhandled(() => verifyPec(own.bytes, { trust: own.trust, crypto: faulty({ verify: fault }) }));
      expect(unhandled).toEqual([]);
      expect(res.valid).toBe(false);
      expect(codes(res)).toContain("SIGNATURE_INVALID");
      expect(codes(res)).not.toContain("CMS_MALFORMED");
      expect(messages(res)).toMatch(/subtle\.verify failed: verify boom/);
      // What was thrown may be the crypto's fault: the CA's signature on the gestore is asked again.
      const path = await validatePath({ certificate: own.gestore.certificate, trust: own.trust, at: date });
      expect(path.issues).toEqual([]);
      expect(path.trusted).toBe(true);
      const good = await verifyPec(own.bytes, { trust: own.trust });
      expect(good.valid && good.trusted).toBe(true);
    });
  }

  it("a crypto failing during path validation: a result naming the crypto, not remembered", async () => {
    // importKey refused and digest failing: neither WebCrypto nor the built-in fallback can check a signature.
    const own = await pki("ECDSA-P256");
    const broken = faulty({ importKey: "throw", digest: "reject" });
    const { value: path, unhandled } = await watchUnhandled(() => validatePath({ certificate: own.gestore.certificate, trust: own.trust, at: date, crypto: broken }));
    expect(unhandled).toEqual([]);
    expect(path.trusted).toBe(false);
    expect(codes(path)).toEqual(["UNSUPPORTED_ALGORITHM"]);
    expect(messages(path)).toMatch(/WebCrypto implementation failed/);

    const { value: res, unhandled: again } = await watchUnhandled(() => verifyPec(own.bytes, { trust: own.trust, crypto: broken }));
    expect(again).toEqual([]);
    expect(res.valid).toBe(false);
    expect(codes(res)).toEqual(["UNSUPPORTED_ALGORITHM"]);
    expect(messages(res)).toMatch(/WebCrypto implementation failed/);

    // A working crypto afterwards: the failure was not cached.
    expect((await validatePath({ certificate: own.gestore.certificate, trust: own.trust, at: date })).trusted).toBe(true);
    const good = await verifyPec(own.bytes, { trust: own.trust });
    expect(good.valid && good.trusted).toBe(true);
  });

  it("verifyPec: the signature checks out, the crypto fails on the path: valid, not trusted, the crypto named", async () => {
    // An ECDSA gestore under an RSA CA; the crypto refuses RSA keys and cannot hash anything
    // but the signed content: the signer's signature verifies, the CA's cannot be checked.
    const own = await pki("ECDSA-P256", "RSA-2048");
    const content = readPec(own.bytes).signature!.signedBytes!;
    const s = globalThis.crypto.subtle;
    const crypto = {
      subtle: {
        digest: (name: AlgorithmIdentifier, data: Uint8Array) => (data.byteLength === content.byteLength ? s.digest(name, data as BufferSource) : Promise.reject(new Error("digest boom"))),
        importKey: (...args: Parameters<SubtleCrypto["importKey"]>) => {
          if ((args[2] as { name?: string }).name === "RSASSA-PKCS1-v1_5") throw new Error("importKey boom");
          return s.importKey(...args);
        },
        verify: s.verify.bind(s),
      },
    } as unknown as Crypto;
    const { value: res, unhandled } = await watchUnhandled(() => verifyPec(own.bytes, { trust: own.trust, crypto }));
    expect(unhandled).toEqual([]);
    expect(res.valid).toBe(true);
    expect(res.trusted).toBe(false);
    expect(codes(res)).toEqual(["UNSUPPORTED_ALGORITHM"]);
    expect(messages(res)).toMatch(/cannot validate the certification path: the WebCrypto implementation failed \(subtle\.digest\): digest boom/);
    const good = await verifyPec(own.bytes, { trust: own.trust });
    expect(good.valid && good.trusted).toBe(true);
  });
});

describe("options of the wrong shape are ERR_INVALID_ARGUMENT", () => {
  let own: Awaited<ReturnType<typeof pki>>;
  let crl: Uint8Array;
  let unsigned: Uint8Array;

  beforeAll(async () => {
    own = await pki("ECDSA-P256");
    crl = await createCrl(own.ca, { revoked: [] });
    unsigned = composeMessage({ from: "a@b.it", to: ["c@d.it"], subject: "x", text: "x", date });
  });

  const verify = (input: Uint8Array, options: unknown): Promise<PecVerification> => verifyPec(input, options as never);

  it("verifyPec: options that are not an object", async () => {
    for (const options of [null, "x", 5, true]) {
      expect(await codeAsync(() => verify(own.bytes, options))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => verify(unsigned, options))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => verifyPec(readPec(own.bytes), options as never))).toBe("ERR_INVALID_ARGUMENT");
    }
    // Absent options are fine.
    expect((await verifyPec(own.bytes)).valid).toBe(true);
    expect((await verifyPec(own.bytes, undefined)).valid).toBe(true);
  });

  it("verifyPec: `crls` must be an array of DER CRLs", async () => {
    for (const crls of ["x", ["x"], [null], [{}], new Uint8Array(3), 5]) {
      expect(await codeAsync(() => verify(own.bytes, { trust: own.trust, crls }))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => verify(unsigned, { crls }))).toBe("ERR_INVALID_ARGUMENT");
    }
    // Bytes that are not a CRL: malformed, as before.
    expect(await codeAsync(() => verifyPec(own.bytes, { trust: own.trust, crls: [new Uint8Array([1, 2, 3])] }))).toBe("ERR_CERT_MALFORMED");
    const res = await verifyPec(own.bytes, { trust: own.trust, crls: [crl] });
    expect(res.valid && res.trusted).toBe(true);
    expect(res.cms!.signers[0]!.issues).toEqual([]);
  });

  it("verifyPec: any `at` that is not a valid Date, a number included", async () => {
    for (const at of [0, 1893456000000, "2030-01-01", null, {}, new Date(Number.NaN)]) {
      expect(await codeAsync(() => verify(own.bytes, { trust: own.trust, at }))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => verify(unsigned, { at }))).toBe("ERR_INVALID_ARGUMENT");
    }
    const later = await verifyPec(own.bytes, { trust: own.trust, at: new Date("2040-01-01T00:00:00Z") });
    expect(later.validatedAt?.toISOString()).toBe("2040-01-01T00:00:00.000Z");
    expect(later.trusted).toBe(false);
    expect(codes(later)).toContain("CERT_EXPIRED_AT_SIGNING");
  });

  it("verifyPec: `trust`, `crypto` and `read` of the wrong type", async () => {
    for (const options of [{ trust: null }, { trust: {} }, { crypto: null }, { read: null }, { read: "x" }]) {
      expect(await codeAsync(() => verify(own.bytes, options))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => verify(unsigned, options))).toBe("ERR_INVALID_ARGUMENT");
    }
  });

  it("verifySignedData, verifyCms and validatePath: the same checks", async () => {
    const sig = readPec(own.bytes).signature!;
    const base = { cms: sig.cms, content: sig.signedBytes!, trust: own.trust };
    const signed = (extra: Record<string, unknown>): Promise<unknown> => verifySignedData({ ...base, ...extra } as never);
    for (const extra of [{ crls: "x" }, { crls: [null] }, { crls: ["x"] }, { at: 0 }, { fallbackTime: "2025-01-01" }, { expectedSigner: 5 }, { certificates: "x" }]) {
      expect(await codeAsync(() => signed(extra))).toBe("ERR_INVALID_ARGUMENT");
    }
    expect(await codeAsync(() => verifySignedData(null as never))).toBe("ERR_INVALID_ARGUMENT");
    expect(await codeAsync(() => verifyCms({ cms: sig.cms, certificates: "x" } as never))).toBe("ERR_INVALID_ARGUMENT");
    expect(await codeAsync(() => signed({ crls: [new Uint8Array([1, 2, 3])] }))).toBe("ERR_CERT_MALFORMED");
    const path = (extra: Record<string, unknown>): Promise<unknown> => validatePath({ certificate: own.gestore.certificate, trust: own.trust, at: date, ...extra } as never);
    for (const extra of [{ crls: "x" }, { crls: [null] }, { intermediates: "x" }, { intermediates: [null] }]) {
      expect(await codeAsync(() => path(extra))).toBe("ERR_INVALID_ARGUMENT");
    }
    expect(await codeAsync(() => path({ crls: [crl] }))).toBeUndefined();
  });

  it("TrustStore: merge, withCrls, fromCertificates and the factories' options", async () => {
    const junk = [{}, null, "x"] as unknown as TrustStore[];
    expect(await codeAsync(async () => TrustStore.merge({} as TrustStore, null as unknown as TrustStore))).toBe("ERR_INVALID_ARGUMENT");
    for (const j of junk) {
      expect(await codeAsync(async () => TrustStore.merge(own.trust, j))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(async () => own.trust.merge(j))).toBe("ERR_INVALID_ARGUMENT");
    }
    expect(TrustStore.merge(own.trust, TrustStore.empty()).size).toBe(1);
    for (const crls of ["x", [null], ["x"]]) expect(await codeAsync(async () => own.trust.withCrls(crls as never))).toBe("ERR_INVALID_ARGUMENT");
    expect(await codeAsync(async () => own.trust.withCrls([new Uint8Array([1, 2, 3])]))).toBe("ERR_CERT_MALFORMED");
    expect(own.trust.withCrls([crl]).crls).toHaveLength(1);
    expect(await codeAsync(() => TrustStore.fromCertificates([null] as never))).toBe("ERR_INVALID_ARGUMENT");
    expect(await codeAsync(() => TrustStore.fromSystemRoots("x" as never))).toBe("ERR_INVALID_ARGUMENT");
    const pem = own.ca.pem();
    for (const options of [null, "x", { crypto: {} }, { crypto: faulty({ digest: "missing" }) }]) {
      expect(await codeAsync(() => TrustStore.fromPem(pem, options as never))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => TrustStore.fromDer(own.ca.certificate, options as never))).toBe("ERR_INVALID_ARGUMENT");
      expect(await codeAsync(() => TrustStore.fromCertificates([parseCertificate(own.ca.certificate)], options as never))).toBe("ERR_INVALID_ARGUMENT");
    }
  });

  it("TrustStore: a crypto that fails to hash is named, and nothing of it is remembered", async () => {
    // A fresh CA: its fingerprints are not cached yet.
    const ca = await createTestCa({ ...validity, keyAlgorithm: "ECDSA-P256" });
    for (const fault of ["throw", "reject"] as const) {
      const crypto = faulty({ digest: fault });
      const { value: failure, unhandled } = await watchUnhandled(() => TrustStore.fromPem(ca.pem(), { crypto }).then(() => undefined, (e: unknown) => e));
      expect(unhandled).toEqual([]);
      expect(failure).toBeInstanceOf(PecError);
      expect((failure as PecError).code).toBe("ERR_INVALID_ARGUMENT");
      expect((failure as PecError).message).toMatch(/WebCrypto implementation failed \(subtle\.digest\): digest boom/);
    }
    expect((await TrustStore.fromPem(ca.pem())).size).toBe(1);
  });

  it("TrustStore.fromPem: a PEM with only CRLs is a store of CRLs, as documented; one with neither is malformed", async () => {
    // Documented: ERR_TRUST_MALFORMED "when a block does not decode or the text holds no
    // certificate and no CRL". A CRL-only PEM gives a store without anchors whose CRLs
    // serve revocation once merged with anchors.
    const crlOnly = await TrustStore.fromPem(toPem(crl, "X509 CRL"));
    expect(crlOnly.size).toBe(0);
    expect(crlOnly.crls).toHaveLength(1);
    expect(TrustStore.merge(own.trust, crlOnly).crls).toHaveLength(1);
    expect(await codeAsync(() => TrustStore.fromPem("no PEM block at all"))).toBe("ERR_TRUST_MALFORMED");
    expect(await codeAsync(() => TrustStore.fromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))).toBe("ERR_TRUST_MALFORMED");
  });

  it("arrays with holes are refused as an undefined element is, not met later as a TypeError", async () => {
    // every, some, map and forEach skip holes: [, , x] passed the checks (found by fuzzing).
    const hole = <T>(v: T): T[] => {
      const a: T[] = [];
      a[2] = v;
      return a;
    };
    const { ca, gestore, trust } = own;
    const der = parseCertificate(gestore.certificate);
    const calls: Record<string, () => unknown> = {
      "TrustStore.fromDer": () => TrustStore.fromDer(hole(gestore.certificate)),
      "TrustStore.fromCertificates": () => TrustStore.fromCertificates(hole(der)),
      "validatePath intermediates": () => validatePath({ certificate: gestore.certificate, trust, at: date, intermediates: hole(gestore.certificate) }),
      "a signer's chain": () => buildAccettazione({ ...gestore, chain: hole(gestore.certificate) }, tx, { date }),
      "createCrl revoked": () => createCrl(ca, { revoked: hole({ serialNumber: "01", revocationDate: date }) }),
      "createGestore policies": () => createGestore({ name: "X", domain: "x.test", ca, keyAlgorithm: "ECDSA-P256", policies: hole("1.2.3") }),
      "createGestore extKeyUsage": () => createGestore({ name: "X", domain: "x.test", ca, keyAlgorithm: "ECDSA-P256", extKeyUsage: hole("1.2.3") }),
      "composeMessage to": () => composeMessage({ from: "a@b.it", to: hole("c@d.it"), subject: "x", text: "x" }),
      "composeMessage attachments": () => composeMessage({ from: "a@b.it", to: "c@d.it", subject: "x", attachments: hole({ filename: "a.txt", content: new Uint8Array(1) }) }),
      "a summary's ricezione": () => new TransactionTracker().add({ key: "k", type: "accettazione", virus: false, recipients: [], ricezione: hole("c@d.it"), identificativo: "a@b" }),
    };
    for (const [name, call] of Object.entries(calls)) expect(await codeAsync(async () => call()), name).toBe("ERR_INVALID_ARGUMENT");
  });

  it("a BigInt where a string belongs is named in the message, not a TypeError from JSON.stringify", async () => {
    const { ca } = own;
    const big = 10n as unknown as string;
    const calls: Record<string, () => unknown> = {
      "createCrl reason": () => createCrl(ca, { revoked: [{ serialNumber: "01", revocationDate: date, reason: big as "keyCompromise" }] }),
      "createGestore keyUsage": () => createGestore({ name: "X", domain: "x.test", ca, keyAlgorithm: "ECDSA-P256", keyUsage: [big as "digitalSignature"] }),
      "createGestore email": () => createGestore({ name: "X", domain: "x.test", ca, keyAlgorithm: "ECDSA-P256", email: big }),
    };
    for (const [name, call] of Object.entries(calls)) {
      const e = await Promise.resolve().then(call).then(() => undefined, (x: unknown) => x);
      expect(e, name).toBeInstanceOf(PecError);
      expect((e as PecError).code, name).toBe("ERR_INVALID_ARGUMENT");
      expect((e as PecError).message, name).toContain("10n");
    }
  });
});

describe("bytes in the wrong wrapping", () => {
  const bytes = new TextEncoder().encode("Subject: x\r\n\r\nbody\r\n");
  const near: [string, unknown, RegExp][] = [
    ["an ArrayBuffer", bytes.buffer, /got an ArrayBuffer: wrap it, new Uint8Array\(buffer\)/],
    ["a DataView", new DataView(bytes.buffer), /got a DataView: pass new Uint8Array\(view\.buffer, view\.byteOffset, view\.byteLength\)/],
    ["a Blob", new Blob([bytes]), /got a Blob: read it first, new Uint8Array\(await blob\.arrayBuffer\(\)\)/],
    ["a Promise", Promise.resolve(bytes), /got a Promise: await it first/],
    ["a string", "Subject: x\r\n\r\nbody\r\n", /got a string: a signature covers bytes/],
    ["null", null, /got null$/],
    ["a number", 42, /got a number$/],
  ];
  /** The message of the PecError `f` throws or rejects with. */
  const refusal = async (f: () => unknown): Promise<string> => {
    try {
      await f();
    } catch (e) {
      expect(e).toBeInstanceOf(PecError);
      expect((e as PecError).code).toBe("ERR_INVALID_ARGUMENT");
      return (e as PecError).message;
    }
    throw new Error("accepted");
  };
  const entries: [string, (x: unknown) => unknown, boolean][] = [
    ["readPec", (x) => readPec(x as Uint8Array), true],
    ["verifyPec", (x) => verifyPec(x as Uint8Array), true],
    ["parseMime", (x) => parseMime(x as Uint8Array), true],
    ["parseCertificate", (x) => parseCertificate(x as Uint8Array), true],
    ["parseCrl", (x) => parseCrl(x as Uint8Array), true],
    ["verifyCms (cms)", (x) => verifyCms({ cms: x as Uint8Array }), true],
    ["verifyCms (content)", (x) => verifyCms({ cms: bytes, content: x as Uint8Array }), true],
    // Text is daticert's other accepted form.
    ["parseDaticert", (x) => parseDaticert(x as Uint8Array), false],
  ];
  for (const [name, call, textRefused] of entries) {
    it(`${name}: ERR_INVALID_ARGUMENT that names what it got and how to pass bytes`, async () => {
      for (const [what, value, says] of near) {
        if (what === "a string" && !textRefused) continue;
        expect(await refusal(() => call(value)), what).toMatch(says);
      }
    });
  }
});
