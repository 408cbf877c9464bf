// Another WebCrypto implementation, @peculiar/webcrypto, passed as the `crypto` option
// everywhere: the test PKI, the builders, the IGPEC LDIF, the trust stores, verifyPec,
// the ricevuta breve check and the simulator. While these tests run, the global
// `crypto.subtle` is replaced by one that records and refuses every call, so any place
// that ignores the option shows up (random bytes still come from the global crypto).
// Messages signed by one implementation verify with the other.
import { Crypto } from "@peculiar/webcrypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  TrustStore,
  buildAccettazione,
  buildAvvenutaConsegna,
  buildBusta,
  buildIgpecLdif,
  checkBreveHashes,
  composeMessage,
  createCrl,
  createGestore,
  createTestCa,
  newIdentificativo,
  readPec,
  transactionFromBusta,
  transactionFromOriginal,
  verifyPec,
  PecNetwork,
  type KeyAlgorithm,
  type TestCa,
  type TestGestore,
} from "../../src/index.js";

/** The WebCrypto interface (the DOM type; `Crypto` here is @peculiar/webcrypto's class). */
type WebCrypto = globalThis.Crypto;
const native: WebCrypto = globalThis.crypto;
const peculiar = new Crypto();
/** Calls that reached the global `crypto.subtle`. */
const globalSubtleCalls: string[] = [];
/** Calls that reached @peculiar/webcrypto's `subtle`, by method. */
const peculiarCalls = new Map<string, number>();

beforeAll(() => {
  for (const method of ["digest", "sign", "verify", "generateKey", "importKey", "exportKey"] as const) {
    const original = peculiar.subtle[method].bind(peculiar.subtle) as (...args: unknown[]) => unknown;
    vi.spyOn(peculiar.subtle, method).mockImplementation(((...args: unknown[]) => {
      peculiarCalls.set(method, (peculiarCalls.get(method) ?? 0) + 1);
      return original(...args);
    }) as never);
  }
  const refusing = new Proxy({} as SubtleCrypto, {
    get: (_target, name) => () => {
      globalSubtleCalls.push(String(name));
      return Promise.reject(new Error(`the global crypto.subtle.${String(name)} was used`));
    },
  });
  vi.stubGlobal("crypto", {
    subtle: refusing,
    getRandomValues: native.getRandomValues.bind(native),
    randomUUID: () => native.randomUUID(),
  });
});

afterAll(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const ANNA = "anna.bianchi@pec.beta.test";
const MARIO = "mario.rossi@pec.alfa.test";

interface Pki {
  ca: TestCa;
  alfa: TestGestore;
  beta: TestGestore;
}

async function makePki(keyAlgorithm: KeyAlgorithm, crypto: WebCrypto): Promise<Pki> {
  const ca = await createTestCa({ keyAlgorithm, crypto });
  const alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm, crypto });
  const beta = await createGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", ca, keyAlgorithm, crypto });
  return { ca, alfa, beta };
}

/** Accettazione, busta and avvenuta consegna (breve) of one message, all built with `crypto`. */
async function buildFlow(pki: Pki, crypto: WebCrypto) {
  const original = composeMessage({
    from: MARIO,
    to: ANNA,
    subject: "Offerta con @peculiar/webcrypto",
    text: "In allegato.",
    attachments: [{ filename: "offerta.pdf", contentType: "application/pdf", content: new Uint8Array(3000).map((_, i) => i % 251) }],
    tipoRicevuta: "breve",
    crypto,
  });
  const tx = transactionFromOriginal(original, { identificativo: newIdentificativo(pki.alfa.domain, { crypto }) });
  const accettazione = await buildAccettazione(pki.alfa, tx, { crypto });
  const busta = await buildBusta(pki.alfa, tx, { original, crypto });
  const consegna = await buildAvvenutaConsegna(pki.beta, transactionFromBusta(busta.bytes), { consegna: ANNA, original: busta.bytes, crypto });
  return { original, messages: [accettazione, busta, consegna] };
}

describe.each(["ECDSA-P256", "RSA-2048"] as const)("@peculiar/webcrypto as the crypto option (%s)", (keyAlgorithm) => {
  let pki: Pki;

  beforeAll(async () => {
    pki = await makePki(keyAlgorithm, peculiar);
  }, 60_000);

  it("creates the test PKI, builds and signs every message, and verifies them", async () => {
    const before = peculiarCalls.get("sign") ?? 0;
    const { original, messages } = await buildFlow(pki, peculiar);
    expect(peculiarCalls.get("sign")! - before).toBeGreaterThanOrEqual(3);

    const ldif = await buildIgpecLdif(
      [pki.alfa, pki.beta].map((g) => ({ name: g.name, certificates: [g.certificate], mailReceipt: g.email, domains: [g.domain] })),
      { crypto: peculiar },
    );
    for (const trust of [await TrustStore.fromLdif(ldif, { crypto: peculiar }), await TrustStore.fromPem(pki.ca.pem(), { crypto: peculiar })]) {
      for (const m of messages) {
        const res = await verifyPec(m.bytes, { trust, crypto: peculiar });
        expect(res.issues.filter((i) => i.severity === "error")).toEqual([]);
        expect([res.pec.type, res.valid, res.trusted]).toEqual([m.type, true, true]);
        expect(res.signer).toBe(m.type === "avvenuta-consegna" ? pki.beta.subject : pki.alfa.subject);
      }
    }

    const consegna = readPec(messages[2]!.bytes);
    expect(consegna.ricevuta).toBe("breve");
    const checks = await checkBreveHashes(consegna, original, { crypto: peculiar });
    expect(checks.map((c) => [c.originalFilename, c.matches])).toEqual([["offerta.pdf", true]]);

    expect(peculiarCalls.get("verify")).toBeGreaterThan(0);
    expect(peculiarCalls.get("digest")).toBeGreaterThan(0);
    expect(globalSubtleCalls).toEqual([]);
  });

  it("checks CRLs signed with it", async () => {
    const trust = await TrustStore.fromPem(pki.ca.pem(), { crypto: peculiar });
    const { messages } = await buildFlow(pki, peculiar);
    const revoked = await createCrl(pki.ca, { revoked: [{ serialNumber: pki.alfa.serialNumber, revocationDate: new Date(Date.now() - 60_000) }], crypto: peculiar });
    const res = await verifyPec(messages[0]!.bytes, { trust, crls: [revoked], crypto: peculiar });
    expect(res.valid).toBe(true);
    expect(res.trusted).toBe(false);
    expect(res.issues.map((i) => i.code)).toContain("CERT_REVOKED");
    const clean = await createCrl(pki.ca, { revoked: [], crypto: peculiar });
    expect((await verifyPec(messages[0]!.bytes, { trust, crls: [clean], crypto: peculiar })).trusted).toBe(true);
    expect(globalSubtleCalls).toEqual([]);
  });

  it("verifies what Node's WebCrypto signed, and the other way round", async () => {
    const nativePki = await makePki(keyAlgorithm, native);
    const byNative = await buildFlow(nativePki, native);
    const byPeculiar = await buildFlow(pki, peculiar);
    const nativeTrust = await TrustStore.fromPem(nativePki.ca.pem(), { crypto: peculiar });
    const peculiarTrust = await TrustStore.fromPem(pki.ca.pem(), { crypto: native });
    for (const m of byNative.messages) {
      const res = await verifyPec(m.bytes, { trust: nativeTrust, crypto: peculiar });
      expect([res.valid, res.trusted]).toEqual([true, true]);
    }
    for (const m of byPeculiar.messages) {
      const res = await verifyPec(m.bytes, { trust: peculiarTrust, crypto: native });
      expect([res.valid, res.trusted]).toEqual([true, true]);
    }
    expect(globalSubtleCalls).toEqual([]);
  }, 60_000);

  it("detects tampering", async () => {
    const trust = await TrustStore.fromPem(pki.ca.pem(), { crypto: peculiar });
    const { messages } = await buildFlow(pki, peculiar);
    const bytes = messages[1]!.bytes.slice();
    const signed = readPec(bytes).signature!.signedBytes!;
    let at = signed.byteOffset - bytes.byteOffset + Math.floor(signed.length / 2);
    while (!/[a-z]/i.test(String.fromCharCode(bytes[at]!))) at++;
    bytes[at] = bytes[at]! ^ 0x20;
    const res = await verifyPec(bytes, { trust, crypto: peculiar });
    expect(res.valid).toBe(false);
    expect(res.issues.map((i) => i.code)).toContain("SIGNATURE_MISMATCH");
    expect(globalSubtleCalls).toEqual([]);
  });
});

describe("the simulator with @peculiar/webcrypto", () => {
  it("plays a whole flow whose every message verifies", async () => {
    const network = await PecNetwork.create({ keyAlgorithm: "ECDSA-P256", crypto: peculiar });
    const alfa = await network.addGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: ["mario.rossi"] });
    await network.addGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: ["anna.bianchi"] });
    const flow = await alfa.send({ from: MARIO, to: [ANNA, "nessuno@pec.beta.test"], subject: "Simulazione", text: "Ciao" });
    expect(flow.messages.map((m) => m.type)).toEqual(
      expect.arrayContaining(["accettazione", "posta-certificata", "presa-in-carico", "avvenuta-consegna", "errore-consegna"]),
    );
    const trust = await TrustStore.fromLdif(await network.igpecLdif(), { crypto: peculiar });
    for (const m of flow.messages) {
      const res = await verifyPec(m.message.bytes, { trust, crypto: peculiar });
      expect([m.type, res.valid, res.trusted]).toEqual([m.type, true, true]);
    }
    expect(globalSubtleCalls).toEqual([]);
  }, 60_000);
});

it("the refusing global crypto.subtle would catch a missing option", async () => {
  const pki = await makePki("ECDSA-P256", peculiar);
  const { messages } = await buildFlow(pki, peculiar);
  const trust = await TrustStore.fromPem(pki.ca.pem(), { crypto: peculiar });
  const seen = globalSubtleCalls.length;
  const res = await verifyPec(messages[0]!.bytes, { trust }); // no crypto: the global one
  expect(res.valid).toBe(false);
  expect(globalSubtleCalls.length).toBeGreaterThan(seen);
  globalSubtleCalls.length = seen;
});
