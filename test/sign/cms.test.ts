import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { beforeAll, describe, expect, it } from "vitest";
import { isPecError } from "../../src/errors.js";
import { type TestCa, type TestGestore, createGestore, createTestCa } from "../../src/simulator/index.js";
import { type CmsDigest, signCms, signSmime } from "../../src/smime/sign.js";
import { OID, berToDer, compareDer, dec, enc, parseCert, parseCms, toHex, verifyCms } from "./helpers.js";

const DIGESTS: CmsDigest[] = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const DIGEST_OIDS: Record<CmsDigest, string> = {
  "SHA-1": "1.3.14.3.2.26",
  "SHA-256": "2.16.840.1.101.3.4.2.1",
  "SHA-384": "2.16.840.1.101.3.4.2.2",
  "SHA-512": "2.16.840.1.101.3.4.2.3",
};
const CONTENT = enc("Content-Type: text/plain; charset=utf-8\r\n\r\nMessaggio di prova.\r\n");
const AT = new Date("2026-03-15T10:20:30.456Z");

async function expectPecError(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isPecError(e), String(e)).toBe(true);
  expect((e as { code: string }).code).toBe(code);
}

let ca: TestCa;
let rsa: TestGestore;
let pss: TestGestore;
let p256: TestGestore;
let p384: TestGestore;

beforeAll(async () => {
  ca = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
  const mk = (keyAlgorithm: "RSA-2048" | "RSA-PSS-2048" | "ECDSA-P256" | "ECDSA-P384", n: string): Promise<TestGestore> =>
    createGestore({ name: `Gestore ${n}`, domain: `pec.${n.toLowerCase()}.test`, ca, keyAlgorithm });
  [rsa, pss, p256, p384] = await Promise.all([mk("RSA-2048", "Rsa"), mk("RSA-PSS-2048", "Pss"), mk("ECDSA-P256", "Ec"), mk("ECDSA-P384", "Ecx")]);
}, 60_000);

describe("signCms: structure", () => {
  it("writes a detached DER SignedData with sorted signed attributes (defaults)", async () => {
    const cms = await signCms({ content: CONTENT, signer: rsa, signingTime: AT });
    expect(cms[1]).not.toBe(0x80);
    const { contentInfo, signedData: sd } = parseCms(cms);
    expect(contentInfo.contentType).toBe(OID.signedData);
    expect(sd.version).toBe(1);
    expect(sd.digestAlgorithms.map((a) => a.algorithmId)).toEqual([DIGEST_OIDS["SHA-256"]]);
    expect(sd.digestAlgorithms[0]!.algorithmParams).toBeUndefined();
    expect(sd.encapContentInfo.eContentType).toBe(OID.data);
    expect(sd.encapContentInfo.eContent).toBeUndefined();
    // Signer certificate and its chain (the CA).
    const certs = (sd.certificates ?? []).map((c) => toHex(new Uint8Array((c as pkijs.Certificate).toSchema().toBER())));
    expect(certs.sort()).toEqual([toHex(rsa.certificate), toHex(ca.certificate)].sort());
    expect(sd.signerInfos.length).toBe(1);
    const si = sd.signerInfos[0]!;
    expect(si.version).toBe(1);
    const sid = si.sid as pkijs.IssuerAndSerialNumber;
    expect(sid).toBeInstanceOf(pkijs.IssuerAndSerialNumber);
    const cert = parseCert(rsa.certificate);
    expect(sid.issuer.isEqual(cert.issuer)).toBe(true);
    expect(toHex(new Uint8Array(sid.serialNumber.valueBlock.valueHexView))).toBe(rsa.serialNumber);
    expect(si.digestAlgorithm.algorithmId).toBe(DIGEST_OIDS["SHA-256"]);
    // rsaEncryption with NULL, as gestori write it.
    expect(si.signatureAlgorithm.algorithmId).toBe(OID.rsaEncryption);
    expect(si.signatureAlgorithm.algorithmParams).toBeInstanceOf(asn1js.Null);
    // Signed attributes: the four, DER-sorted.
    const attrs = si.signedAttrs!.attributes;
    expect(attrs.map((a) => a.type).sort()).toEqual([OID.contentType, OID.messageDigest, OID.signingTime, OID.smimeCapabilities].sort());
    const encoded = attrs.map((a) => new Uint8Array(a.toSchema().toBER()));
    for (let i = 1; i < encoded.length; i++) expect(compareDer(encoded[i - 1]!, encoded[i]!)).toBeLessThan(0);
    const ct = attrs.find((a) => a.type === OID.contentType)!;
    expect((ct.values[0] as asn1js.ObjectIdentifier).valueBlock.toString()).toBe(OID.data);
    const st = attrs.find((a) => a.type === OID.signingTime)!;
    expect(st.values[0]).toBeInstanceOf(asn1js.UTCTime);
    expect((st.values[0] as asn1js.UTCTime).toDate().toISOString()).toBe("2026-03-15T10:20:30.000Z");
    const caps = attrs.find((a) => a.type === OID.smimeCapabilities)!;
    expect((caps.values[0] as asn1js.Sequence).valueBlock.value.length).toBeGreaterThan(0);
    // messageDigest = SHA-256(content), and the signature verifies over the DER SET.
    const md = attrs.find((a) => a.type === OID.messageDigest)!;
    expect(toHex(new Uint8Array((md.values[0] as asn1js.OctetString).valueBlock.valueHexView))).toBe(
      toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", CONTENT.slice()))),
    );
    expect(await verifyCms(cms, CONTENT)).toEqual([{ digest: "SHA-256", signed: true }]);
    // The signed bytes are the SignerInfo's [0] with the SET tag: exactly DER re-encodable.
    const setBytes = new Uint8Array(si.signedAttrs!.encodedValue);
    expect(setBytes[0]).toBe(0x31);
    expect(toHex(berToDer(setBytes))).toBe(toHex(setBytes));
    // A change to the content breaks it, and so does a change to the signature.
    await expect(verifyCms(cms, enc("altro"))).rejects.toThrow(/messageDigest/);
    const tampered = cms.slice();
    tampered[tampered.length - 5]! ^= 1;
    expect(await verifyCms(tampered, CONTENT)).toEqual([{ digest: "SHA-256", signed: false }]);
  });

  for (const digest of DIGESTS) {
    it(`signs with ${digest} for RSA, RSA-PSS, ECDSA P-256 and P-384`, async () => {
      for (const [signer, sigOid] of [
        [rsa, OID.rsaEncryption],
        [pss, OID.rsaPSS],
        [p256, { "SHA-1": "1.2.840.10045.4.1", "SHA-256": "1.2.840.10045.4.3.2", "SHA-384": "1.2.840.10045.4.3.3", "SHA-512": "1.2.840.10045.4.3.4" }[digest]],
        [p384, { "SHA-1": "1.2.840.10045.4.1", "SHA-256": "1.2.840.10045.4.3.2", "SHA-384": "1.2.840.10045.4.3.3", "SHA-512": "1.2.840.10045.4.3.4" }[digest]],
      ] as const) {
        const cms = await signCms({ content: CONTENT, signer, digest });
        const si = parseCms(cms).signedData.signerInfos[0]!;
        expect(si.digestAlgorithm.algorithmId).toBe(DIGEST_OIDS[digest]);
        expect(si.signatureAlgorithm.algorithmId).toBe(sigOid);
        expect(await verifyCms(cms, CONTENT), `${signer.keyAlgorithm} ${digest}`).toEqual([{ digest, signed: true }]);
      }
    });
  }

  it("writes RSASSA-PSS-params with hash, MGF1 and salt = digest length", async () => {
    const si = parseCms(await signCms({ content: CONTENT, signer: pss, digest: "SHA-384" })).signedData.signerInfos[0]!;
    const params = new pkijs.RSASSAPSSParams({ schema: si.signatureAlgorithm.algorithmParams });
    expect(params.hashAlgorithm.algorithmId).toBe(DIGEST_OIDS["SHA-384"]);
    expect(params.maskGenAlgorithm.algorithmId).toBe("1.2.840.113549.1.1.8");
    expect(params.saltLength).toBe(48);
    // PSS on a PKCS#1 key (re-imported), and PKCS#1 on a PSS key.
    expect(await verifyCms(await signCms({ content: CONTENT, signer: rsa, rsaPss: true }), CONTENT)).toEqual([{ digest: "SHA-256", signed: true }]);
    const plain = await signCms({ content: CONTENT, signer: pss, rsaPss: false });
    expect(parseCms(plain).signedData.signerInfos[0]!.signatureAlgorithm.algorithmId).toBe(OID.rsaEncryption);
    expect(await verifyCms(plain, CONTENT)).toEqual([{ digest: "SHA-256", signed: true }]);
  });

  it("can write sha256WithRSAEncryption instead of rsaEncryption", async () => {
    const cms = await signCms({ content: CONTENT, signer: rsa, rsaSignatureAlgorithm: "sha-with-rsa", digest: "SHA-512" });
    expect(parseCms(cms).signedData.signerInfos[0]!.signatureAlgorithm.algorithmId).toBe("1.2.840.113549.1.1.13");
    expect(await verifyCms(cms, CONTENT)).toEqual([{ digest: "SHA-512", signed: true }]);
  });

  it("encapsulates the content when detached is false", async () => {
    const cms = await signCms({ content: CONTENT, signer: p256, detached: false });
    const sd = parseCms(cms).signedData;
    expect(dec(new Uint8Array(sd.encapContentInfo.eContent!.getValue()))).toBe(dec(CONTENT));
    expect(await verifyCms(cms)).toEqual([{ digest: "SHA-256", signed: true }]);
  });

  it("signs without signed attributes (signature over the content)", async () => {
    for (const signer of [rsa, p384]) {
      const cms = await signCms({ content: CONTENT, signer, signedAttributes: false });
      const si = parseCms(cms).signedData.signerInfos[0]!;
      expect(si.signedAttrs).toBeUndefined();
      expect(await verifyCms(cms, CONTENT)).toEqual([{ digest: "SHA-256", signed: true }]);
    }
  });

  it("uses UTCTime until 2049 and GeneralizedTime from 2050", async () => {
    const time = async (d: Date): Promise<asn1js.AsnType> => {
      const si = parseCms(await signCms({ content: CONTENT, signer: p256, signingTime: d })).signedData.signerInfos[0]!;
      return si.signedAttrs!.attributes.find((a) => a.type === OID.signingTime)!.values[0]!;
    };
    expect(await time(new Date("2049-12-31T23:59:59Z"))).toBeInstanceOf(asn1js.UTCTime);
    const g = (await time(new Date("2050-01-01T00:00:00Z"))) as asn1js.GeneralizedTime;
    expect(g).toBeInstanceOf(asn1js.GeneralizedTime);
    expect(g.toString()).toContain("20500101000000Z");
  });

  it("supports several signers (one SignerInfo each, certificates deduplicated)", async () => {
    const cms = await signCms({ content: CONTENT, signer: [rsa, p256], digest: "SHA-384" });
    const sd = parseCms(cms).signedData;
    expect(sd.signerInfos.length).toBe(2);
    expect(sd.digestAlgorithms.length).toBe(1);
    expect(sd.certificates!.length).toBe(3); // two gestori + one CA
    expect(await verifyCms(cms, CONTENT)).toEqual([
      { digest: "SHA-384", signed: true },
      { digest: "SHA-384", signed: true },
    ]);
  });

  it("sorts the certificates SET as DER requires", async () => {
    const sd = parseCms(await signCms({ content: CONTENT, signer: { ...p384, chain: [ca.certificate, p256.certificate] } })).signedData;
    const enc = sd.certificates!.map((c) => new Uint8Array((c as pkijs.Certificate).toSchema().toBER()));
    expect(enc.length).toBe(3);
    for (let i = 1; i < enc.length; i++) expect(compareDer(enc[i - 1]!, enc[i]!)).toBeLessThanOrEqual(0);
  });

  it("uses the WebCrypto implementation it is given", async () => {
    let signs = 0;
    let digests = 0;
    const subtle = globalThis.crypto.subtle;
    const wrapped = {
      getRandomValues: (a: Uint8Array<ArrayBuffer>) => globalThis.crypto.getRandomValues(a),
      subtle: new Proxy(subtle, {
        get(target, prop) {
          if (prop === "sign") signs++;
          if (prop === "digest") digests++;
          const v = Reflect.get(target, prop) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      }),
    } as unknown as Crypto;
    await signCms({ content: CONTENT, signer: p256, crypto: wrapped });
    expect(signs).toBe(1);
    expect(digests).toBe(1);
    const g = await createGestore({ name: "Gestore Gamma", domain: "pec.gamma.test", ca, keyAlgorithm: "ECDSA-P256", crypto: wrapped });
    expect(signs).toBe(2);
    expect(g.kind).toBe("gestore");
  });
});

describe("signCms: DER and BER", () => {
  const big = enc("Content-Type: text/plain\r\n\r\n" + "riga di testo lunga abbastanza\r\n".repeat(100));

  for (const detached of [true, false]) {
    it(`BER (${detached ? "detached" : "encapsulated"}) uses indefinite lengths and is the same SignedData as DER`, async () => {
      // RSA PKCS#1 v1.5 is deterministic: same time, same key, same bytes to sign.
      const der = await signCms({ content: big, signer: rsa, signingTime: AT, detached });
      const ber = await signCms({ content: big, signer: rsa, signingTime: AT, detached, encoding: "ber" });
      expect(ber[1]).toBe(0x80);
      expect(der[1]).not.toBe(0x80);
      expect(ber.length).toBeGreaterThan(der.length);
      expect(toHex(berToDer(ber))).toBe(toHex(der));
      // pkijs reads it; the eContent is a constructed OCTET STRING in 1024-byte pieces.
      const sd = parseCms(ber).signedData;
      expect(await verifyCms(ber, detached ? big : undefined)).toEqual([{ digest: "SHA-256", signed: true }]);
      if (!detached) {
        const e = sd.encapContentInfo.eContent!;
        expect(e.idBlock.isConstructed).toBe(true);
        expect(e.valueBlock.value.length).toBe(Math.ceil(big.length / 1024));
        expect(dec(new Uint8Array(e.getValue()))).toBe(dec(big));
      }
    });
  }

  it("keeps signed attributes DER inside BER", async () => {
    const ber = await signCms({ content: CONTENT, signer: p256, encoding: "ber", digest: "SHA-1" });
    const si = parseCms(ber).signedData.signerInfos[0]!;
    const set = new Uint8Array(si.signedAttrs!.encodedValue);
    expect(toHex(berToDer(set))).toBe(toHex(set));
    expect(await verifyCms(ber, CONTENT)).toEqual([{ digest: "SHA-1", signed: true }]);
  });
});

describe("signCms: bad input", () => {
  it("throws PecError for misuse", async () => {
    await expectPecError(signCms({ content: "text" as unknown as Uint8Array, signer: rsa }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: rsa, digest: "MD5" as CmsDigest }), "ERR_UNSUPPORTED");
    await expectPecError(signCms({ content: CONTENT, signer: { certificate: rsa.certificate, privateKey: p256.privateKey } }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: { certificate: p384.certificate, privateKey: p256.privateKey } }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: { certificate: rsa.certificate, privateKey: rsa.publicKey } }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: { certificate: enc("not a cert"), privateKey: rsa.privateKey } }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: { certificate: new Uint8Array([0x30, 0x03, 0x02, 0x01]), privateKey: rsa.privateKey } }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: [] }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: rsa, signedAttributes: false, signingTime: AT }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: rsa, signingTime: new Date(NaN) }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: rsa, encoding: "cer" as "der" }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: p256, rsaPss: true }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signCms({ content: CONTENT, signer: { ...rsa, chain: ["x" as unknown as Uint8Array] } }), "ERR_INVALID_ARGUMENT");
  });

  it("explains when a non-extractable RSA key cannot change digest", async () => {
    const pkcs8 = await crypto.subtle.exportKey("pkcs8", rsa.privateKey);
    const locked = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    const signer = { certificate: rsa.certificate, privateKey: locked };
    expect(await verifyCms(await signCms({ content: CONTENT, signer }), CONTENT)).toEqual([{ digest: "SHA-256", signed: true }]);
    await expectPecError(signCms({ content: CONTENT, signer, digest: "SHA-1" }), "ERR_UNSUPPORTED");
  });
});

/** Minimal MIME split for the tests: headers and body of an entity. */
function splitEntity(bytes: Uint8Array): { headers: string; body: Uint8Array } {
  const text = dec(bytes);
  const i = text.indexOf("\r\n\r\n");
  return { headers: text.slice(0, i), body: bytes.subarray(enc(text.slice(0, i + 4)).length) };
}

function b64decode(s: string): Uint8Array {
  return Uint8Array.from(atob(s.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}

describe("signSmime", () => {
  it("writes multipart/signed with the content as first part, byte for byte", async () => {
    const eml = await signSmime(CONTENT, rsa, {
      headers: [
        ["From", "posta-certificata@pec.rsa.test"],
        ["To", "mario@pec.example.test"],
        ["Subject", "ACCETTAZIONE: prova"],
      ],
      signingTime: AT,
    });
    const { headers, body } = splitEntity(eml);
    expect(headers.startsWith("From: posta-certificata@pec.rsa.test\r\nTo: mario@pec.example.test\r\nSubject: ACCETTAZIONE: prova\r\nMIME-Version: 1.0\r\n")).toBe(true);
    const unfolded = headers.replace(/\r\n[ \t]/g, " ");
    expect(unfolded).toMatch(/Content-Type: multipart\/signed; protocol="application\/pkcs7-signature"; micalg=sha-256; +boundary="([^"]+)"/);
    const boundary = /boundary="([^"]+)"/.exec(unfolded)![1]!;
    expect(dec(CONTENT)).not.toContain(boundary);
    const text = dec(body);
    const first = text.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
    const second = text.indexOf(`\r\n--${boundary}\r\n`, first);
    expect(dec(body.subarray(enc(text.slice(0, first)).length, enc(text.slice(0, second)).length))).toBe(dec(CONTENT));
    const sigPart = text.slice(second + boundary.length + 6, text.indexOf(`--${boundary}--`));
    const { headers: sh, body: sb } = splitEntity(enc(sigPart));
    expect(sh).toContain('Content-Type: application/pkcs7-signature; name="smime.p7s"');
    expect(sh).toContain("Content-Transfer-Encoding: base64");
    expect(sh).toContain('Content-Disposition: attachment; filename="smime.p7s"');
    const lines = dec(sb).split("\r\n").filter((l) => l);
    expect(lines.slice(0, -1).every((l) => l.length === 76)).toBe(true);
    expect(text.endsWith(`--${boundary}--\r\n`)).toBe(true);
    expect(await verifyCms(b64decode(dec(sb)), CONTENT)).toEqual([{ digest: "SHA-256", signed: true }]);
  });

  it("names the digest in micalg", async () => {
    for (const [digest, micalg] of [
      ["SHA-1", "sha-1"],
      ["SHA-384", "sha-384"],
      ["SHA-512", "sha-512"],
    ] as const) {
      const eml = dec(await signSmime(CONTENT, p256, { digest }));
      expect(eml).toContain(`micalg=${micalg};`);
    }
  });

  it("writes the opaque form with the content inside", async () => {
    const eml = await signSmime(CONTENT, pss, { form: "opaque", encoding: "ber" });
    const { headers, body } = splitEntity(eml);
    expect(headers).toContain('Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"');
    expect(headers).toContain('Content-Disposition: attachment; filename="smime.p7m"');
    const cms = b64decode(dec(body));
    expect(cms[1]).toBe(0x80);
    expect(await verifyCms(cms)).toEqual([{ digest: "SHA-256", signed: true }]);
    expect(dec(new Uint8Array(parseCms(cms).signedData.encapContentInfo.eContent!.getValue()))).toBe(dec(CONTENT));
  });

  it("refuses header injection and headers it writes itself", async () => {
    await expectPecError(signSmime(CONTENT, p256, { headers: [["Subject", "x\r\nBcc: y@z"]] }), "ERR_HEADER_INJECTION");
    await expectPecError(signSmime(CONTENT, p256, { headers: [["Content-Type", "text/plain"]] }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signSmime(CONTENT, p256, { headers: [["Bad Name", "x"]] }), "ERR_INVALID_ARGUMENT");
    await expectPecError(signSmime(CONTENT, p256, { form: "clear" as "opaque" }), "ERR_INVALID_ARGUMENT");
    const own = dec(await signSmime(CONTENT, p256, { headers: [["MIME-Version", "1.0"]] }));
    expect(own.match(/MIME-Version/g)!.length).toBe(1);
  });

  it("picks a boundary that does not occur in the content", async () => {
    const tricky = enc("Content-Type: text/plain\r\n\r\n------=_postacert_\r\n");
    const eml = dec(await signSmime(tricky, p256));
    const boundary = /boundary="([^"]+)"/.exec(eml)![1]!;
    expect(dec(tricky)).not.toContain(`--${boundary}`);
  });
});

