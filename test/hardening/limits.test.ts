// Limits (issue 8, docs/limits.md): every documented limit gives its typed error, the
// defaults admit the largest real PEC (~100 MB), signature edge cases that must not pass
// (at the verifyPec level, on a whole message), and builder safety. Node and Chromium.
import { beforeAll, describe, expect, it } from "vitest";
import { PecError, isPecError } from "../../src/errors.js";
import type { PecErrorCode } from "../../src/errors.js";
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_PARTS, DEFAULT_MAX_SIZE, buildMime, decodeHeaderValue, parseMime, sanitizeFileName, walkEntities } from "../../src/mime/index.js";
import { DATICERT_DEFAULT_MAX_DEPTH, DATICERT_DEFAULT_MAX_SIZE, parseDaticert } from "../../src/daticert/index.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec } from "../../src/pec/verify.js";
import { buildAccettazione, buildBusta, composeMessage } from "../../src/pec/build/index.js";
import { createGestore, createTestCa } from "../../src/simulator/index.js";
import type { TestCa, TestGestore } from "../../src/simulator/index.js";
import { signCms } from "../../src/smime/sign.js";
import { DEFAULT_MAX_CMS_CERTIFICATES, verifyCms } from "../../src/smime/verify.js";
import { SIG } from "../../src/smime/oids.js";
import { TrustStore } from "../../src/trust/index.js";
import { asBufferSource, latin1, latin1Bytes } from "../../src/util/bytes.js";
import { craftCms } from "../verify/support/craft.js";
import { code, codeAsync } from "../support/outcome.js";
import { SAMPLE_DATE, sampleTx } from "../support/transaction.js";

function limitOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof PecError) return e.details.limit;
    throw e;
  }
  return undefined;
}

const enc = (s: string): Uint8Array => latin1Bytes(s.replace(/\r?\n/g, "\r\n"));

function nested(depth: number): string {
  let head = "";
  let tail = "";
  for (let i = 0; i < depth; i++) {
    head += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    tail = `\r\n--b${i}--\r\n` + tail;
  }
  return head + "Content-Type: text/plain\r\n\r\nx" + tail;
}

function manyParts(n: number): Uint8Array {
  return enc("Content-Type: multipart/mixed; boundary=p\n\n" + "--p\n\nx\n".repeat(n) + "--p--\n");
}

const DAY = 86_400_000;

describe("documented defaults", () => {
  it("have the values docs/limits.md gives", () => {
    expect(DEFAULT_MAX_SIZE).toBe(256 * 1024 * 1024);
    expect(DEFAULT_MAX_DEPTH).toBe(32);
    expect(DEFAULT_MAX_PARTS).toBe(10_000);
    expect(DEFAULT_MAX_HEADER_BYTES).toBe(1024 * 1024);
    expect(DATICERT_DEFAULT_MAX_SIZE).toBe(1 << 20);
    expect(DATICERT_DEFAULT_MAX_DEPTH).toBe(64);
    expect(DEFAULT_MAX_CMS_CERTIFICATES).toBe(64);
  });
});

describe("every limit gives its typed error, through parseMime and readPec alike", () => {
  const both = (bytes: Uint8Array, opts: Parameters<typeof parseMime>[1]): [PecErrorCode | undefined, PecErrorCode | undefined] => [
    code(() => parseMime(bytes, opts)),
    code(() => readPec(bytes, opts)),
  ];

  it("maxSize → ERR_TOO_LARGE with details.limit", () => {
    const b = enc("Subject: x\n\nbody\n");
    expect(both(b, { maxSize: b.length - 1 })).toEqual(["ERR_TOO_LARGE", "ERR_TOO_LARGE"]);
    expect(both(b, { maxSize: b.length })).toEqual([undefined, undefined]);
    expect(limitOf(() => readPec(b, { maxSize: 5 }))).toBe(5);
  });

  it("maxDepth → ERR_TOO_DEEP (default 32 levels admitted, 33 refused)", () => {
    expect(both(enc(nested(DEFAULT_MAX_DEPTH)), undefined)).toEqual([undefined, undefined]);
    expect(both(enc(nested(DEFAULT_MAX_DEPTH + 1)), undefined)).toEqual(["ERR_TOO_DEEP", "ERR_TOO_DEEP"]);
    expect(both(enc(nested(4)), { maxDepth: 3 })).toEqual(["ERR_TOO_DEEP", "ERR_TOO_DEEP"]);
    expect(limitOf(() => readPec(enc(nested(4)), { maxDepth: 3 }))).toBe(3);
  });

  it("maxDepth counts message/rfc822 levels too", () => {
    let m = "Subject: in\r\n\r\nx";
    for (let i = 0; i < 40; i++) m = `Content-Type: message/rfc822\r\n\r\n${m}`;
    expect(code(() => parseMime(latin1Bytes(m)))).toBe("ERR_TOO_DEEP");
  });

  it("maxParts → ERR_TOO_MANY_PARTS", () => {
    expect(both(manyParts(DEFAULT_MAX_PARTS - 1), undefined)).toEqual([undefined, undefined]);
    expect(both(manyParts(DEFAULT_MAX_PARTS + 1), undefined)).toEqual(["ERR_TOO_MANY_PARTS", "ERR_TOO_MANY_PARTS"]);
    expect(limitOf(() => readPec(manyParts(20), { maxParts: 10 }))).toBe(10);
  });

  it("maxHeaderBytes → ERR_TOO_LARGE (default 1 MiB per header block)", () => {
    const big = latin1Bytes("X-Big: " + "a".repeat(DEFAULT_MAX_HEADER_BYTES) + "\r\n\r\nbody");
    expect(both(big, undefined)).toEqual(["ERR_TOO_LARGE", "ERR_TOO_LARGE"]);
    expect(both(big, { maxHeaderBytes: 2 * DEFAULT_MAX_HEADER_BYTES })).toEqual([undefined, undefined]);
    // An inner header block is limited as well.
    const inner = latin1Bytes("Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nX-Big: " + "a".repeat(2000) + "\r\n\r\nx\r\n--q--\r\n");
    expect(code(() => parseMime(inner, { maxHeaderBytes: 1000 }))).toBe("ERR_TOO_LARGE");
  });

  it("invalid limits are ERR_INVALID_ARGUMENT", () => {
    for (const bad of [-1, 0.5, Number.NaN, "1" as unknown as number]) {
      expect(code(() => readPec(new Uint8Array(1), { maxSize: bad }))).toBe("ERR_INVALID_ARGUMENT");
      expect(code(() => readPec(new TextEncoder().encode("From: a@b.test\r\n\r\nx"), { maxNesting: bad }))).toBe("ERR_INVALID_ARGUMENT");
    }
  });

  it("daticert maxSize → ERR_TOO_LARGE, maxDepth → ERR_TOO_DEEP", () => {
    const deep = (n: number): string => `<?xml version="1.0"?><postacert tipo="accettazione" errore="nessuno">${"<x>".repeat(n)}${"</x>".repeat(n)}</postacert>`;
    expect(code(() => parseDaticert(deep(DATICERT_DEFAULT_MAX_DEPTH + 5)))).toBe("ERR_TOO_DEEP");
    expect(code(() => parseDaticert(deep(10), { maxDepth: 5 }))).toBe("ERR_TOO_DEEP");
    expect(code(() => parseDaticert(deep(1) + " ".repeat(DATICERT_DEFAULT_MAX_SIZE)))).toBe("ERR_TOO_LARGE");
    expect(code(() => parseDaticert(deep(1), { maxSize: 10 }))).toBe("ERR_TOO_LARGE");
    expect(limitOf(() => parseDaticert(deep(1), { maxSize: 10 }))).toBe(10);
  });

  it("daticert: no DTD entity expansion, no external entity", () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE postacert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">' +
      '<!ENTITY x SYSTEM "file:///etc/passwd">]><postacert tipo="accettazione" errore="nessuno"><intestazione><oggetto>&c;&x;</oggetto></intestazione></postacert>';
    let out: string | undefined;
    try {
      out = JSON.stringify(parseDaticert(bomb));
    } catch (e) {
      expect(isPecError(e)).toBe(true);
    }
    if (out !== undefined) {
      expect(out).not.toContain("aaaaaaaaaaaaaaaaaaaa");
      expect(out).not.toContain("root:");
    }
  });

  it("ASN.1 nesting beyond 64 levels is CMS_MALFORMED (an issue, not a throw)", async () => {
    const depth = 100;
    const cms = new Uint8Array(depth * 2);
    for (let i = 0; i < depth; i++) cms.set([0x30, 0x80], 2 * i);
    const res = await verifyCms({ cms });
    expect(res.valid).toBe(false);
    expect(res.issues.map((i) => i.code)).toContain("CMS_MALFORMED");
  });
});

describe("the defaults admit the largest real PEC (~100 MB)", () => {
  // A busta-shaped message with one ~100 MB base64 attachment (about 74 MB decoded),
  // written directly into one buffer (no big strings).
  it("a 100 MB message parses with the default limits, and maxSize refuses it when lowered", () => {
    const SIZE = 100 * 1024 * 1024;
    const head = latin1Bytes(
      'From: "Per conto di: mario@pec.alfa.test" <posta-certificata@pec.alfa.test>\r\nX-Trasporto: posta-certificata\r\nSubject: POSTA CERTIFICATA: grande\r\n' +
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="big"\r\n\r\n--big\r\nContent-Type: text/plain\r\n\r\nciao\r\n--big\r\n' +
        'Content-Type: application/pdf; name="grande.pdf"\r\nContent-Disposition: attachment; filename="grande.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
    );
    const tail = latin1Bytes("--big--\r\n");
    const line = latin1Bytes("QUJD".repeat(19) + "\r\n");
    const lines = Math.floor((SIZE - head.length - tail.length) / line.length);
    const bytes = new Uint8Array(head.length + lines * line.length + tail.length);
    bytes.set(head, 0);
    let o = head.length;
    for (let i = 0; i < lines; i++, o += line.length) bytes.set(line, o);
    bytes.set(tail, o);
    expect(bytes.length).toBeGreaterThan(99 * 1024 * 1024);

    const root = parseMime(bytes);
    const parts = [...walkEntities(root)];
    expect(parts.length).toBe(3);
    expect(parts[2]!.filename).toBe("grande.pdf");
    // The CRLF before the close delimiter belongs to the delimiter (RFC 2046).
    expect(parts[2]!.bodyEnd - parts[2]!.bodyStart).toBe(lines * line.length - 2);
    const pec = readPec(bytes);
    expect(pec.type).not.toBe("not-pec");
    expect(code(() => readPec(bytes, { maxSize: 50 * 1024 * 1024 }))).toBe("ERR_TOO_LARGE");
  }, 120_000);
});

// ---------------------------------------------------------------------------------------
// Signature edge cases, on whole PEC messages (verifyPec); the CMS-level ones are in
// test/verify/matrix.test.ts and are repeated here only where the PEC level adds something.

describe("signature edge cases that must not pass (verifyPec)", () => {
  let ca: TestCa;
  let gestore: TestGestore;
  let trust: TrustStore;
  let acc: Uint8Array;
  let busta: Uint8Array;
  let content: Uint8Array;
  const date = SAMPLE_DATE;
  const tx = sampleTx();

  /** The message with its CMS replaced (base64 at 76 columns). */
  function withCms(message: Uint8Array, cms: Uint8Array): Uint8Array {
    const pec = readPec(message);
    const sigPart = pec.signature!.entity.children[1]!;
    let b64 = "";
    for (let i = 0; i < cms.length; i += 3 * 4096) b64 += btoa(latin1(cms.subarray(i, i + 3 * 4096)));
    const lines = b64.match(/.{1,76}/g)!.join("\r\n") + "\r\n";
    const text = latin1(message);
    const start = sigPart.bodyStart - (sigPart.source.byteOffset - message.byteOffset);
    const end = sigPart.bodyEnd - (sigPart.source.byteOffset - message.byteOffset);
    return latin1Bytes(text.slice(0, start) + lines + text.slice(end));
  }

  const errs = (r: { issues: readonly { code: string; severity: string }[] }): string[] => [...new Set(r.issues.filter((i) => i.severity === "error").map((i) => i.code))];

  beforeAll(async () => {
    const validity = { notBefore: new Date(date.getTime() - 100 * DAY), notAfter: new Date(date.getTime() + 1000 * DAY) };
    ca = await createTestCa(validity);
    gestore = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, ...validity });
    trust = await TrustStore.fromPem(ca.pem());
    acc = (await buildAccettazione(gestore, tx, { date })).bytes;
    const original = composeMessage({ from: tx.sender, to: ["anna@pec.beta.test"], subject: "Prova", text: "Ciao", messageId: "<m1@client>", date });
    busta = (await buildBusta(gestore, tx, { original, date })).bytes;
    content = readPec(acc).signature!.signedBytes!;
    const ok = await verifyPec(acc, { trust });
    expect(ok.valid && ok.trusted).toBe(true);
    // withCms itself keeps a good signature good.
    const again = await verifyPec(withCms(acc, readPec(acc).signature!.cms), { trust });
    expect(again.valid && again.trusted).toBe(true);
  }, 60_000);

  const cases: [string, () => Promise<Uint8Array>, string[] | undefined][] = [
    ["a signature over empty content", async () => withCms(acc, await signCms({ content: new Uint8Array(0), signer: gestore, signingTime: date })), ["SIGNATURE_MISMATCH"]],
    ["the signature of another message (the busta's on the receipt)", async () => withCms(acc, readPec(busta).signature!.cms), ["SIGNATURE_MISMATCH"]],
    ["a CMS with zero signers", async () => withCms(acc, await craftCms({ content, signer: gestore, noSigners: true })), ["NO_SIGNER"]],
    ["the signer certificate not in the CMS", async () => withCms(acc, await craftCms({ content, signer: gestore, certificates: [] })), ["SIGNER_CERT_MISSING"]],
    [
      "messageDigest of another message",
      async () => withCms(acc, await craftCms({ content, signer: gestore, messageDigest: new Uint8Array(await crypto.subtle.digest("SHA-256", asBufferSource(readPec(busta).signature!.signedBytes!)))})),
      ["SIGNATURE_MISMATCH"],
    ],
    ["a content-type attribute that is not id-data", async () => withCms(acc, await craftCms({ content, signer: gestore, contentTypeAttr: "1.2.840.113549.1.7.2" })), ["SIGNATURE_MISMATCH"]],
    ["digest OID SHA-256 but sha512WithRSA signed with SHA-512", async () => withCms(acc, await craftCms({ content, signer: gestore, digest: "SHA-256", signatureAlgorithm: SIG.sha512WithRSA, signHash: "SHA-512" })), undefined],
    ["digest OID SHA-512 but sha256WithRSA", async () => withCms(acc, await craftCms({ content, signer: gestore, digest: "SHA-512", signatureAlgorithm: SIG.sha256WithRSA, signHash: "SHA-256" })), undefined],
    ["an ECDSA signature OID on an RSA key", async () => withCms(acc, await craftCms({ content, signer: gestore, signatureAlgorithm: SIG.ecdsaWithSHA256 })), undefined],
    ["the CMS cut in half", async () => withCms(acc, readPec(acc).signature!.cms.subarray(0, 600)), ["CMS_MALFORMED"]],
  ];
  for (const [name, make, expected] of cases) {
    it(`${name}: not valid, not trusted`, async () => {
      const res = await verifyPec(await make(), { trust });
      expect(res.valid).toBe(false);
      expect(res.trusted).toBe(false);
      if (expected) expect(errs(res)).toEqual(expected);
      else expect(errs(res).length).toBeGreaterThan(0);
    });
  }

  it("more than 64 certificates in one CMS: CMS_MALFORMED before any is parsed; the cap is an option", async () => {
    const certs = (n: number): Uint8Array[] => [gestore.certificate, ...Array.from({ length: n - 1 }, () => ca.certificate)];
    const at64 = await craftCms({ content, signer: gestore, certificates: certs(DEFAULT_MAX_CMS_CERTIFICATES) });
    const at65 = await craftCms({ content, signer: gestore, certificates: certs(DEFAULT_MAX_CMS_CERTIFICATES + 1) });
    expect(DEFAULT_MAX_CMS_CERTIFICATES).toBe(64);
    const ok = await verifyPec(withCms(acc, at64), { trust });
    expect(ok.valid && ok.trusted).toBe(true);
    const bad = await verifyPec(withCms(acc, at65), { trust });
    expect(bad.valid).toBe(false);
    expect(bad.trusted).toBe(false);
    expect(errs(bad)).toEqual(["CMS_MALFORMED"]);
    expect(bad.issues[0]!.message).toMatch(/65 certificates, more than the limit of 64/);
    // verifyCms / verifySignedData take the cap as an option.
    expect((await verifyCms({ cms: at65, content, maxCertificates: 65 })).valid).toBe(true);
    expect((await verifyCms({ cms: at64, content, maxCertificates: 1 })).issues.map((i) => i.code)).toEqual(["CMS_MALFORMED"]);
    for (const v of [-1, 1.5, Number.NaN, "64" as unknown as number]) expect(await codeAsync(() => verifyCms({ cms: at64, content, maxCertificates: v }))).toBe("ERR_INVALID_ARGUMENT");
  });

  it("more than 16 SignerInfos or 64 CRLs in one CMS: CMS_MALFORMED before any is verified or parsed", async () => {
    const at16 = await craftCms({ content, signer: gestore, signerCopies: 16 });
    const at17 = await craftCms({ content, signer: gestore, signerCopies: 17 });
    expect((await verifyCms({ cms: at16, content })).valid).toBe(true);
    const many = await verifyPec(withCms(acc, at17), { trust });
    expect(many.valid || many.trusted).toBe(false);
    expect(errs(many)).toEqual(["CMS_MALFORMED"]);
    expect(many.issues[0]!.message).toMatch(/17 SignerInfos, more than the limit of 16/);
    // Unreadable CRLs are warnings (CRL_INVALID); past the count nothing is read.
    const junk = Uint8Array.of(0x30, 0x00);
    const crls64 = await verifyCms({ cms: await craftCms({ content, signer: gestore, crls: Array(64).fill(junk) }), content });
    expect(crls64.valid).toBe(true);
    expect(crls64.issues.map((i) => i.code)).toContain("CRL_INVALID");
    const crls65 = await verifyCms({ cms: await craftCms({ content, signer: gestore, crls: Array(65).fill(junk) }), content });
    expect(crls65.valid).toBe(false);
    expect(crls65.issues.map((i) => [i.code, i.message])).toEqual([["CMS_MALFORMED", "the CMS carries 65 CRLs, more than the limit of 64"]]);
  });

  it("a leaf acting as CA: valid signature, never trusted (CERT_CHAIN_INVALID)", async () => {
    const asCa = { ...gestore, kind: "ca" as const } as unknown as TestCa;
    const child = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca: asCa, notBefore: new Date(date.getTime() - DAY) });
    const msg = (await buildAccettazione(child, tx, { date })).bytes;
    const res = await verifyPec(msg, { trust });
    expect(res.trusted).toBe(false);
    expect(errs(res)).toContain("CERT_CHAIN_INVALID");
    // Also when the leaf itself is a trust anchor (IGPEC style).
    const leafTrust = await TrustStore.fromDer(gestore.certificate);
    const viaLeaf = await verifyPec(msg, { trust: leafTrust });
    expect(viaLeaf.trusted).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------

describe("builders", () => {
  const base = { from: "mario@pec.alfa.test", to: ["anna@pec.beta.test"], subject: "Prova", text: "Ciao", date: new Date("2025-05-02T08:00:00Z") };

  it("refuse header injection (CR, LF, NUL) everywhere a header value is taken", () => {
    for (const bad of ["a\r\nBcc: x@y.it", "a\nBcc: x@y.it", "a\rb", "a\0b"]) {
      expect(code(() => composeMessage({ ...base, subject: bad }))).toBe("ERR_HEADER_INJECTION");
      expect(code(() => composeMessage({ ...base, headers: [["X-Custom", bad]] }))).toBe("ERR_HEADER_INJECTION");
      expect(code(() => composeMessage({ ...base, attachments: [{ filename: `f${bad}.pdf`, content: "x" }] }))).toBe("ERR_HEADER_INJECTION");
      expect(code(() => buildMime({ headers: [["Subject", bad]], body: "x" }))).toBe("ERR_HEADER_INJECTION");
    }
    expect(code(() => buildMime({ headers: [["Bad Name", "x"]], body: "x" }))).toBe("ERR_INVALID_ARGUMENT");
  });

  it("boundaries never collide with content", () => {
    // A given boundary that occurs as a delimiter line in the content is refused…
    expect(code(() => buildMime({ headers: [["Content-Type", "multipart/mixed"]], boundary: "b", children: [{ body: "x\r\n--b\r\ny" }] }))).toBe("ERR_INVALID_ARGUMENT");
    // …and a generated one never matches content full of would-be delimiters.
    const evil = Array.from({ length: 50 }, (_, i) => `--=_pc_${i.toString(16).padStart(32, "0")}\r\n--=_pc_\r\n--\r\n`).join("");
    for (let round = 0; round < 20; round++) {
      const bytes = composeMessage({ ...base, text: evil, attachments: [{ filename: "a.txt", contentType: "text/plain", content: evil }] });
      const root = parseMime(bytes);
      expect(root.children.length).toBe(2);
      expect(root.children[0]!.text()).toContain(evil.slice(0, 200));
      expect(latin1(root.children[1]!.decodedBody())).toBe(evil);
    }
  });

  it("file names: quotes, semicolons, non-ASCII and parameter syntax round-trip as one name", () => {
    for (const name of ['a"; filename="evil.exe', "x;y=z.pdf", "fattura è €.pdf", "'quoted'.pdf", "a".repeat(300) + ".pdf"]) {
      const bytes = composeMessage({ ...base, attachments: [{ filename: name, content: "x" }] });
      const att = parseMime(bytes).children[1]!;
      expect(att.filename).toBe(name);
      expect(att.disposition!.params["filename"]).toBe(name);
      expect(att.contentType.params["name"]).toBe(name);
    }
  });

  // Was a bug (src/mime/build.ts formatHeader): a file name containing an RFC 2047
  // encoded-word opener ("=?") made the builder encode the whole Content-Disposition /
  // Content-Type value, parameter syntax included, and the filename parameter was lost.
  // Readers (ours, postal-mime) decode encoded words in parameter values, so the name is
  // now written as encoded words inside a quoted string and comes back exactly.
  it("file names containing encoded-word syntax round-trip exactly (postacert and postal-mime)", async () => {
    const { default: PostalMime } = (await import("postal-mime")) as unknown as { default: { parse(b: Uint8Array): Promise<{ attachments: { filename: string | null }[] }> } };
    const names = ["=?utf-8?q?x?=.pdf", "=?UTF-8?B?ZXZpbC5leGU=?=", "a =?iso-8859-1?q?=E8?= b.pdf", "è =?x?= €.pdf", "=?" + "é".repeat(120) + "?=.pdf", "=?", "?=.pdf"];
    for (const name of names) {
      const bytes = composeMessage({ ...base, attachments: [{ filename: name, content: "x" }] });
      const att = parseMime(bytes).children[1]!;
      expect(att.filename, name).toBe(name);
      expect(decodeHeaderValue(att.contentType.params["name"]!), name).toBe(name);
      expect((await PostalMime.parse(bytes)).attachments[0]!.filename, name).toBe(name);
      // Every line stays within the RFC 5322 limit.
      for (const line of latin1(bytes).split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
    }
  });

  // Was a finding (issue 8): file names were written as given, path components included,
  // so a careless receiver that joins the name to a folder wrote outside it. The builder
  // now writes the base name without control characters (sanitizeFileName, docs/limits.md).
  it("file names with path components or control characters are reduced to a safe base name", async () => {
    const { default: PostalMime } = (await import("postal-mime")) as unknown as { default: { parse(b: Uint8Array): Promise<{ attachments: { filename: string | null }[] }> } };
    const cases: [string, string][] = [
      ["../../etc/passwd", "passwd"],
      ["a/b\\c.pdf", "c.pdf"],
      ["back\\slash.pdf", "slash.pdf"],
      ["C:\\x\\y.pdf", "y.pdf"],
      ["C:y.pdf", "y.pdf"],
      ["/abs/path/z.txt", "z.txt"],
      ["..\\..\\windows\\system32\\evil.dll", "evil.dll"],
      ["tab\there\x01\x1f\x7f\u0085.pdf", "tabhere.pdf"],
      ["  spaced.pdf  ", "spaced.pdf"],
      ["dir/", "attachment"],
      ["..", "attachment"],
      ["../..", "attachment"],
      ["\x01\x02", "attachment"],
      ["città/fattura è.pdf", "fattura è.pdf"],
    ];
    for (const [name, want] of cases) {
      const bytes = composeMessage({ ...base, attachments: [{ filename: name, content: "x" }] });
      const att = parseMime(bytes).children[1]!;
      expect(att.filename, JSON.stringify(name)).toBe(want);
      expect(att.disposition!.params["filename"], JSON.stringify(name)).toBe(want);
      expect((await PostalMime.parse(bytes)).attachments[0]!.filename, JSON.stringify(name)).toBe(want);
    }
    expect(sanitizeFileName("../../etc/passwd")).toBe("passwd");
    // CR, LF and NUL stay a header injection for the message builders (refused before formatting)…
    expect(code(() => composeMessage({ ...base, attachments: [{ filename: "a\r\nb.pdf", content: "x" }] }))).toBe("ERR_HEADER_INJECTION");
    // …and sanitizeFileName alone removes them.
    expect(sanitizeFileName("a\r\n/b\0.pdf")).toBe("b.pdf");
  });

  // Readers that take the Content-Type `name` over the Content-Disposition `filename` must
  // not see the path either.
  it("the Content-Type name parameter of an attachment is sanitized too", () => {
    const att = parseMime(composeMessage({ ...base, attachments: [{ filename: "../../etc/passwd", content: "x" }] })).children[1]!;
    expect(att.contentType.params["name"]).toBe("passwd");
  });
});
