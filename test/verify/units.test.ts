// Building blocks of the verifier: BER reader, SHA-224, names, certificates, PEM, LDIF,
// TrustStore, argument checks.
import { describe, expect, it } from "vitest";
import { runtime } from "#files";
import { BerError, BerReader, parseTime, toDer } from "../../src/smime/ber.js";
import { parseCertificate, parsePem, parsePemCertificates } from "../../src/smime/certificate.js";
import { extractEncapsulatedContent } from "../../src/smime/cms.js";
import { sha224 } from "../../src/smime/digest.js";
import { formatName, nameKey, type DistinguishedName } from "../../src/smime/name.js";
import { validatePath } from "../../src/smime/path.js";
import { verifyCms, verifySignedData } from "../../src/smime/verify.js";
import { createGestore, createTestCa } from "../../src/simulator/ca.js";
import { signCms } from "../../src/smime/sign.js";
import { parseLdif } from "../../src/trust/ldif.js";
import { TrustStore } from "../../src/trust/store.js";
import { isPecError } from "../../src/errors.js";
import { encodeBase64 } from "../../src/util/base64.js";
import { fromHex, toHex, utf8Bytes } from "../../src/util/bytes.js";
import { wildFiles } from "../support/wild.js";
import { verifyWild } from "./support/samples.js";
import { craftCert, craftKeys } from "./support/craft-cert.js";

const hex = (s: string): Uint8Array => fromHex(s.replace(/\s+/g, ""))!;

describe("SHA-224 (built in: WebCrypto has none)", () => {
  const vectors: [string, string][] = [
    ["", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"],
    ["abc", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"],
    ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525"],
  ];
  for (const [input, digest] of vectors) it(`sha224(${JSON.stringify(input.slice(0, 10))}…)`, () => expect(toHex(sha224(utf8Bytes(input)))).toBe(digest));
  it("a million 'a' (multi-block, length > 2^16 bits)", () => {
    expect(toHex(sha224(new Uint8Array(1_000_000).fill(0x61)))).toBe("20794655980c91d8bbb4c1ea97618a4bf03f42581948b2ee4ee7ad67");
  });
  it("works on a view at an odd offset", () => {
    const buf = new Uint8Array(10);
    buf.set(utf8Bytes("abc"), 3);
    expect(toHex(sha224(buf.subarray(3, 6)))).toBe(vectors[1]![1]);
  });
});

describe("BER reader", () => {
  it("reads indefinite lengths and constructed OCTET STRINGs (nested chunks)", () => {
    // SEQUENCE(indef) { OCTET STRING(constructed, indef) { "ab", OCTET STRING(constructed) { "cd" }, "e" }, NULL }
    const ber = hex("30 80 24 80 04 02 61 62 24 04 04 02 63 64 04 01 65 00 00 05 00 00 00");
    const r = new BerReader(ber);
    const root = r.root();
    expect(root.indefinite).toBe(true);
    expect(root.end).toBe(ber.length);
    const [os, nul] = r.children(root);
    expect(new TextDecoder().decode(r.octets(os!))).toBe("abcde");
    expect(nul!.tag).toBe(0x05);
    expect(toHex(toDer(r, root, false))).toBe("300904056162636465" + "0500");
  });

  it("reads constructed BIT STRINGs, and refuses unused bits where X.690 allows none", () => {
    const bitsOf = (h: string): { bytes: Uint8Array; unused: number } => {
      const r = new BerReader(hex(h));
      return r.bits(r.root());
    };
    // BIT STRING(constructed, indef) { BIT STRING "ab cd", BIT STRING(constructed) { 4 unused bits of "e0" } }
    const nested = "23 80 03 03 00 ab cd 23 04 03 02 04 e0 00 00";
    expect(bitsOf(nested)).toEqual({ bytes: hex("ab cd e0"), unused: 4 });
    const r = new BerReader(hex(nested));
    expect(toHex(toDer(r, r.root(), false))).toBe("030404abcde0");
    expect(bitsOf("03 02 07 80")).toEqual({ bytes: hex("80"), unused: 7 });
    expect(bitsOf("23 00")).toEqual({ bytes: new Uint8Array(0), unused: 0 });
    for (const [bad, why] of [
      ["03 00", /without its unused-bits octet/],
      ["03 02 08 00", /8 unused bits of 8/],
      ["03 01 03", /3 unused bits of 0/],
      // 4 unused bits in the first segment would shift every bit after it.
      ["23 08 03 02 04 a0 03 02 00 ff", /not the last/],
      ["23 05 03 03 09 ab cd", /9 unused bits/],
    ] as const) {
      expect(() => bitsOf(bad), bad).toThrow(why);
    }
  });

  it("sorts SET OF members when re-encoding as DER", () => {
    const r = new BerReader(hex("31 80 04 01 02 04 01 01 00 00"));
    expect(toHex(toDer(r, r.root(), true))).toBe("3106040101040102");
    expect(toHex(toDer(r, r.root(), false))).toBe("3106040102040101");
  });

  it("refuses truncation, trailing data, primitive indefinite and absurd depth without overflowing the stack", () => {
    for (const bad of ["30 05 02 01", "30 03 02 01 01 ff", "04 80 00 00", "30 84 ff ff ff ff"]) {
      expect(() => new BerReader(hex(bad)).root()).toThrow(BerError);
    }
    const deep = new Uint8Array(20_000);
    for (let i = 0; i < deep.length; i += 2) {
      deep[i] = 0x30;
      deep[i + 1] = 0x80;
    }
    expect(() => new BerReader(deep).root()).toThrow(/nesting too deep/);
  });

  it("decodes OIDs, including large arcs", () => {
    const r = new BerReader(hex("06 0b 2b 06 01 04 01 81 81 3c 02 02 01"));
    expect(r.oid(r.root())).toBe("1.3.6.1.4.1.16572.2.2.1");
    const big = new BerReader(hex("06 0d 69 82 80 80 80 80 80 80 80 80 80 80 01"));
    expect(big.oid(big.root())).toBe("2.25.302231454903657293676545");
  });

  it("parses UTCTime and GeneralizedTime, DER and BER forms", () => {
    expect(parseTime("491231235959Z", true)?.toISOString()).toBe("2049-12-31T23:59:59.000Z");
    expect(parseTime("500101000000Z", true)?.toISOString()).toBe("1950-01-01T00:00:00.000Z");
    expect(parseTime("20261122100000Z", false)?.toISOString()).toBe("2026-11-22T10:00:00.000Z");
    expect(parseTime("20261122100000.25Z", false)?.toISOString()).toBe("2026-11-22T10:00:00.250Z");
    expect(parseTime("2611221100+0100", true)?.toISOString()).toBe("2026-11-22T10:00:00.000Z");
    expect(parseTime("26112210000x", true)).toBeUndefined();
    expect(parseTime("2026112210000aZ", false)).toBeUndefined();
  });
});

describe("distinguished names", () => {
  const name: DistinguishedName = [
    [{ type: "C", oid: "2.5.4.6", value: "IT" }],
    [{ type: "O", oid: "2.5.4.10", value: "Acme, S.p.A." }],
    [
      { type: "CN", oid: "2.5.4.3", value: "Posta Certificata" },
      { type: "serialNumber", oid: "2.5.4.5", value: " 01 " },
    ],
  ];
  it("formats forwards, RFC 4514 escapes, ' + ' in multi-valued RDNs", () => {
    expect(formatName(name)).toBe("C=IT, O=Acme\\, S.p.A., CN=Posta Certificata + serialNumber=\\ 01\\ ");
  });
  it("compares case- and space-insensitively", () => {
    const other: DistinguishedName = [
      [{ type: "C", oid: "2.5.4.6", value: "it" }],
      [{ type: "O", oid: "2.5.4.10", value: "ACME,  S.P.A." }],
      [
        { type: "serialNumber", oid: "2.5.4.5", value: "01" },
        { type: "CN", oid: "2.5.4.3", value: "posta certificata" },
      ],
    ];
    expect(nameKey(other)).toBe(nameKey(name));
  });

  it("decodes BMPString and UniversalString values; what is no character becomes U+FFFD", async () => {
    const { keys, spki } = await craftKeys();
    const subject = async (cn: Uint8Array, tag: number): Promise<string> =>
      parseCertificate(await craftCert({ subject: [["C", "IT"], ["CN", { tag, bytes: cn }]], spki, signWith: keys.privateKey })).subject;
    expect(await subject(hex("0050 006f 0073 0074 00e0 d83d dce7"), 0x1e)).toBe("C=IT, CN=Postà📧");
    expect(await subject(hex("00000050 000000e0 0001f4e7"), 0x1c)).toBe("C=IT, CN=Pà📧");
    // Past U+10FFFF, a surrogate, a short last group.
    expect(await subject(hex("00000041 ffffffff 0000d800 00000042 0000"), 0x1c)).toBe("C=IT, CN=A\ufffd\ufffdB\ufffd");
  });
});

describe.skipIf(!wildFiles)("real certificates", () => {
  it("parses AgID CA1, with its name constraints and the gestore profile of its leaf", async () => {
    const { res } = await verifyWild("3dinformatica__docway-msa/java.lang.ClassCastException.eml");
    const leaf = res.signers[0]!.certificate!;
    const agid = res.certificates.find((c) => c.subject.endsWith("CN=AgID CA1"))!;
    expect(agid.subject).toBe("C=IT, L=Roma, O=Agenzia per l'Italia Digitale, OU=Area Soluzioni per la Pubblica Amministrazione, CN=AgID CA1");
    expect(agid.issuer).toBe("C=IT, L=Milan, O=Actalis S.p.A./03358520967, CN=Actalis Authentication Root CA");
    expect(agid.basicConstraints).toEqual({ ca: true, pathLength: 0 });
    expect(agid.keyUsage).toEqual(["keyCertSign", "cRLSign"]);
    const nc = agid.nameConstraints!;
    expect(nc.permitted.filter((g) => g.type === "rfc822Name").map((g) => g.value)).toContain("certmail.irideos.it");
    expect(nc.permitted.some((g) => g.type === "directoryName" && g.value.includes("O=IRIDEOS S.p.A."))).toBe(true);
    expect(nc.excluded.map((g) => g.value)).toContain("0.0.0.0/0.0.0.0");
    expect(leaf.issuer).toBe(agid.subject);
    expect(leaf.emails).toEqual(["posta-certificata@certmail.irideos.it"]);
    expect(leaf.keyUsage).toContain("digitalSignature");
    expect(leaf.keyUsageCritical).toBe(true);
    expect(leaf.extendedKeyUsage).toContain("1.3.6.1.5.5.7.3.4");
    expect(leaf.policies).toContain("1.3.76.16.3.1.1");
    expect(leaf.basicConstraints).toBeUndefined();
    expect(leaf.authorityKeyIdentifier).toBe(agid.subjectKeyIdentifier);
    expect(leaf.crlDistributionPoints.some((u) => u.startsWith("http://"))).toBe(true);
    expect(leaf.publicKey).toEqual({ algorithm: "RSA", size: 2048 });
    expect(parseCertificate(leaf.der)).toBe(leaf); // cached by content
    expect(parseCertificate(leaf.der.slice())).toBe(leaf);
  });

  it("computes the providerCertificateHash values given in the spec (§6.2)", async () => {
    const cases: [string, string][] = [
      ["OCA__l10n-italy/message1", "AAA71BFD2DBC9FE67AA23C9F33AAF3316DF1AA66"],
      ["3dinformatica__docway-msa/NoReply03.eml", "600851949CFCA82838FFA415374FB2475763663B"],
      ["linux-mailinglist-archives__osst-users.lists.sourceforge.net.0/m", "61A9E2865EEEE6C42CB8756B86567337C64CDEC3"],
    ];
    for (const [file, sha1] of cases) {
      const { res } = await verifyWild(file);
      expect(await res.signers[0]!.certificate!.fingerprint("SHA-1")).toBe(sha1.toLowerCase());
    }
  });

  it("the 2014 Aruba certificate (RSA-1024, sha1WithRSA, DigitPA CA1): WEAK_ALGORITHM warnings, path to DigitPA CA1", async () => {
    const { res, p7s, signed } = await verifyWild("OCA__l10n-italy/message1");
    const leaf = res.signers[0]!.certificate!;
    expect(leaf.publicKey.size).toBe(1024);
    expect(leaf.basicConstraints).toEqual({ ca: false });
    expect(leaf.keyUsageCritical).toBe(false);
    const digitpa = res.certificates.find((c) => c.subject.includes("DigitPA CA1"))!;
    const trust = await TrustStore.fromCertificates([digitpa]);
    const full = await verifySignedData({ cms: p7s, content: signed, trust });
    expect(full.trusted).toBe(true);
    expect(full.issues.filter((i) => i.code === "WEAK_ALGORITHM").length).toBeGreaterThanOrEqual(2);
    expect(full.issues.every((i) => i.severity === "warning")).toBe(true);
  });

  it("IGPEC-style trust in a real gestore certificate, by its hash", async () => {
    const { res, p7s, signed } = await verifyWild("3dinformatica__docway-msa/fattura_passiva_privati_1.eml");
    const leaf = res.signers[0]!.certificate!;
    const sha1 = (await leaf.fingerprint("SHA-1")).toUpperCase();
    const b64 = encodeBase64(leaf.der);
    const fold = (line: string): string => line.match(/.{1,76}/g)!.join("\r\n ");
    const ldif = [
      "version: 1",
      "# IGPEC test",
      "dn: o=postacert",
      "objectclass: top",
      "o: postacert",
      "",
      "",
      `dn: providerName=Sogei S.p.A.,o=postacert`,
      "objectClass: provider",
      "providerName: Sogei S.p.A.",
      "providerCertificateHash:",
      ` ${sha1}`,
      fold(`providerCertificate;binary:: ${b64}`),
      "mailReceipt: ricevute@pec.sogei.it",
      "managedDomains: pec.fatturapa.it",
      "MANAGEDDOMAINS: PCERT.SOGEI.IT",
      "dn: providerUnit=Secondario,providerName=Sogei S.p.A.,o=postacert",
      "objectclass: provider",
      "providerName: Sogei S.p.A.",
      "providerUnit: Secondario",
      `providerCertificateHash: ${"0".repeat(40)}`,
      fold(`providerCertificate;binary:: ${b64}`),
      "mailReceipt: x@pec.sogei.it",
      "managedDomains: other.sogei.it",
      "",
    ].join("\r\n");
    const store = await TrustStore.fromLdif(ldif);
    expect(store.providers.map((p) => [p.name, p.unit, p.domains])).toEqual([["Sogei S.p.A.", undefined, ["pec.fatturapa.it", "pcert.sogei.it"]]]);
    expect(store.rejected).toHaveLength(1);
    expect(store.rejected[0]!.dn).toBe("providerUnit=Secondario,providerName=Sogei S.p.A.,o=postacert");
    expect(store.providerForDomain("PCERT.sogei.it")?.mailReceipt).toBe("ricevute@pec.sogei.it");
    expect(store.findByFingerprint(sha1.match(/../g)!.join(":"))).toBe(leaf);
    const v = await verifySignedData({ cms: p7s, content: signed, trust: store, expectedSigner: leaf.emails[0]! });
    expect(v.trusted).toBe(true);
    expect(v.signers[0]!.chain).toEqual([leaf]);
    expect(v.signers[0]!.provider?.name).toBe("Sogei S.p.A.");
  });
});

describe("LDIF reader", () => {
  it("unfolds, decodes base64, ignores comments and case, tolerates missing blank lines, skips change records", () => {
    const text = [
      "version: 1",
      "dn: cn=a,o=x",
      "# a comment",
      "CN: a",
      "description:: " + encodeBase64(utf8Bytes("Società di prova")),
      "longValue: abc",
      " def",
      "dn: cn=b,o=x",
      "changetype: delete",
      "",
      "dn:: " + encodeBase64(utf8Bytes("cn=ç,o=x")),
      "cn;lang-it: c",
    ].join("\n");
    const entries = parseLdif(text);
    expect(entries.map((e) => e.dn)).toEqual(["cn=a,o=x", "cn=ç,o=x"]);
    expect(entries[0]!.attributes.get("description")![0]!.text).toBe("Società di prova");
    expect(entries[0]!.attributes.get("longvalue")![0]!.text).toBe("abcdef");
    expect(entries[1]!.attributes.get("cn")![0]!.options).toEqual(["lang-it"]);
  });
  it("refuses a line that is not name: value, with its line number", () => {
    try {
      parseLdif("dn: o=x\nthis is not ldif\n");
      expect.unreachable();
    } catch (e) {
      expect(isPecError(e, "ERR_TRUST_MALFORMED")).toBe(true);
      expect((e as { details: { line: number } }).details.line).toBe(2);
    }
  });
});

describe("TrustStore and misuse", () => {
  it("fromPem: anchors, CRLs, lookups, errors", async () => {
    const ca = await createTestCa({ commonName: "Units CA" });
    const pem = `junk before\n${ca.pem()}junk after\n${ca.pem()}`;
    const store = await TrustStore.fromPem(pem);
    expect(store.size).toBe(1); // duplicates collapse
    const cert = store.anchors[0]!.certificate;
    expect(store.findBySubject(" c=it,  O=postacert test PKI, CN=units ca ")).toEqual([cert]);
    expect(store.findBySubjectKeyIdentifier(cert.subjectKeyIdentifier!.toUpperCase())).toEqual([cert]);
    expect(store.findByFingerprint(store.anchors[0]!.sha256)).toBe(cert);
    expect(store.has(cert)).toBe(true);
    expect(TrustStore.merge(store, TrustStore.empty()).size).toBe(1);
    expect(TrustStore.merge().size).toBe(0);
    await expect(TrustStore.fromPem("no certificates here")).rejects.toMatchObject({ code: "ERR_TRUST_MALFORMED" });
    await expect(TrustStore.fromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")).rejects.toMatchObject({ code: "ERR_TRUST_MALFORMED" });
    await expect(TrustStore.fromDer(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({ code: "ERR_TRUST_MALFORMED" });
    await expect(TrustStore.fromLdif("")).rejects.toMatchObject({ code: "ERR_TRUST_MALFORMED" });
    expect(parsePem(ca.pem())[0]!.label).toBe("CERTIFICATE");
    expect(parsePemCertificates(ca.pem().replace(/CERTIFICATE/g, "TRUSTED CERTIFICATE"))[0]!.der).toEqual(ca.certificate);
  });

  it("fromLdif accepts the signed .p7m form", async () => {
    const ca = await createTestCa({ commonName: "LDIF CA" });
    const g = await createGestore({ name: "Gestore P7M", domain: "pec.p7m.test", ca });
    const ldif = `dn: providerName=Gestore P7M,o=postacert\nproviderName: Gestore P7M\nproviderCertificateHash: ${await parseCertificate(g.certificate).fingerprint("SHA-1")}\nproviderCertificate;binary:: ${encodeBase64(g.certificate)}\nmailReceipt: r@pec.p7m.test\nmanagedDomains: pec.p7m.test\n`;
    const p7m = await signCms({ content: utf8Bytes(ldif), signer: g, detached: false, encoding: "ber" });
    expect(new TextDecoder().decode(extractEncapsulatedContent(p7m))).toBe(ldif);
    expect(extractEncapsulatedContent(utf8Bytes("nope"))).toBeUndefined();
    const store = await TrustStore.fromLdif(p7m);
    expect(store.providerForDomain("pec.p7m.test")?.name).toBe("Gestore P7M");
  });

  it("TrustStore.system() needs Node", async () => {
    if (runtime === "node") expect((await TrustStore.system()).requirePecPolicy).toBe(true);
    else await expect(TrustStore.system()).rejects.toMatchObject({ code: "ERR_UNSUPPORTED" });
  });

  it("throws ERR_INVALID_ARGUMENT for misuse only", async () => {
    const bad = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await bad(verifyCms({ cms: "MII" as unknown as Uint8Array }));
    await bad(verifyCms({ cms: new Uint8Array(1), content: "x" as unknown as Uint8Array }));
    await bad(verifyCms({ cms: new Uint8Array(1), crypto: {} as unknown as Crypto }));
    await bad(verifyCms(undefined as unknown as { cms: Uint8Array }));
    await bad(verifySignedData({ cms: new Uint8Array(1), trust: {} as unknown as TrustStore }));
    await bad(validatePath({ certificate: new Uint8Array(1), trust: TrustStore.empty(), at: new Date(NaN) }));
    expect(() => parseCertificate("x" as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(() => parseCertificate(new Uint8Array([0x30, 0x00]))).toThrow(expect.objectContaining({ code: "ERR_CERT_MALFORMED" }));
    // A bad CMS is a result, not an exception.
    const r = await verifySignedData({ cms: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), trust: TrustStore.empty() });
    expect(r.valid).toBe(false);
    expect(r.issues.map((i) => i.code)).toEqual(["CMS_MALFORMED"]);
  });
});
