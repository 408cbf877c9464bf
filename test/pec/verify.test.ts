// verifyPec: the PEC-level verification (locating the signature in the message, the CRLF
// retry, the gestore check, the daticert time) on real samples and on built messages.
import { beforeAll, describe, expect, it } from "vitest";
import { buildAccettazione, buildAvvenutaConsegna, buildBusta, buildErroreConsegna, buildPresaInCarico, buildRilevazioneVirus, composeMessage, prepareOriginal } from "../../src/pec/build/index.js";
import { readPec } from "../../src/pec/read.js";
import { verifyPec } from "../../src/pec/verify.js";
import type { PecVerification } from "../../src/pec/verify.js";
import { buildIgpecLdif, createGestore, createTestCa } from "../../src/simulator/index.js";
import type { TestCa, TestGestore } from "../../src/simulator/index.js";
import { TrustStore } from "../../src/trust/index.js";
import { concatBytes, equalBytes, latin1, latin1Bytes } from "../../src/util/bytes.js";
import { WILD_OK } from "../verify/support/samples.js";
import { readWild, wildFiles } from "../support/wild.js";
import { SAMPLE_DATE, sampleTx } from "../support/transaction.js";

const codes = (r: PecVerification): string[] => r.issues.map((i) => i.code);
const errors = (r: PecVerification): string[] => r.issues.filter((i) => i.severity === "error").map((i) => i.code);

/** Samples stored with bare LF: the gestore signed CRLF. */
const LF_FILES = new Set([
  "OCA__l10n-italy/ACCETTAZIONE_ IT03339130126_00009.xml.txt",
  "OCA__l10n-italy/CONSEGNA_ IT03339130126_00009.xml.txt",
  "OCA__l10n-italy/POSTA CERTIFICATA_ Ricevuta di consegna 6782414.txt",
  "OCA__l10n-italy/POSTA CERTIFICATA_ Invio File 7339338.txt",
  "OCA__l10n-italy/message1",
  "OCA__l10n-italy/message2",
  "linux-mailinglist-archives__osst-users.lists.sourceforge.net.0/m",
]);

describe.skipIf(wildFiles === null)("verifyPec on the real samples", () => {
  for (const file of Object.keys(WILD_OK)) {
    it(`${file}: valid`, async () => {
      const res = await verifyPec(await readWild(file));
      expect(res.present).toBe(true);
      expect(errors(res).filter((c) => c !== "CERT_UNTRUSTED")).toEqual([]);
      expect(res.valid).toBe(true);
      // No trust given: nothing is trusted.
      expect(res.trusted).toBe(false);
      expect(res.signer).toMatch(/O=/);
      expect(res.signedAt).toBeInstanceOf(Date);
      expect(res.canonicalized).toBe(LF_FILES.has(file));
      if (res.canonicalized) expect(codes(res)).toContain("LINE_ENDINGS_CANONICALIZED");
      // The signer is the gestore the message names (its From address).
      expect(codes(res)).not.toContain("SIGNER_MISMATCH");
    });
  }

  it("the forwarded NoReply messages verify the inner busta, and the outer mail is not the PEC", async () => {
    const res = await verifyPec(await readWild("3dinformatica__docway-msa/NoReply01.eml"));
    expect(res.pec.wrapped).toBe(true);
    expect(res.valid).toBe(true);
  });

  const altered = [
    "OCA__l10n-italy/POSTA CERTIFICATA_ Invio File 7339338 (broken XML).txt",
    "OCA__l10n-italy/POSTA CERTIFICATA_ Invio File 7339338 (base64).txt",
    "3dinformatica__docway-msa/notWellFormed.eml",
    "3dinformatica__docway-msa/partNull.eml",
    "SimoneP91__PMM-PecMassiveMailer/errore-consegna.eml",
  ];
  for (const file of altered) {
    it(`${file}: altered after signing, not valid`, async () => {
      const res = await verifyPec(await readWild(file));
      expect(res.valid).toBe(false);
      expect(codes(res)).toContain("SIGNATURE_MISMATCH");
    });
  }

  it("placeholder signatures are CMS_MALFORMED, removed ones NO_SIGNATURE", async () => {
    const placeholder = await verifyPec(await readWild("danzipie__go-pec/email_2.eml"));
    expect(placeholder.valid).toBe(false);
    expect(codes(placeholder)).toContain("CMS_MALFORMED");
    const removed = await verifyPec(await readWild("biagioT__java-pec-parser/accettazione.eml"));
    expect(removed.present).toBe(false);
    expect(codes(removed)).toEqual(["NO_SIGNATURE"]);
    const notPec = await verifyPec(await readWild("toniorusso__pec-parser/postacert.eml"));
    expect(notPec.present).toBe(false);
  });

  it("a micalg that disagrees with the CMS is a warning, not a failure", async () => {
    // erroreParsingEccezioneXML.eml says micalg=sha-1 and the CMS is SHA-1: no warning.
    const ok = await verifyPec(await readWild("3dinformatica__docway-msa/erroreParsingEccezioneXML.eml"));
    expect(codes(ok)).not.toContain("MICALG_MISMATCH");
    const bytes = latin1(await readWild("3dinformatica__docway-msa/erroreParsingEccezioneXML.eml")).replace("micalg=sha-1", "micalg=sha-512");
    const res = await verifyPec(latin1Bytes(bytes));
    expect(res.valid).toBe(true);
    expect(res.issues.find((i) => i.code === "MICALG_MISMATCH")?.severity).toBe("warning");
    // A micalg naming no digest we know (md5) is a mismatch too, not silence.
    const md5 = await verifyPec(latin1Bytes(bytes.replace("micalg=sha-512", "micalg=md5")));
    expect(md5.valid).toBe(true);
    expect(codes(md5)).toContain("MICALG_MISMATCH");
  });
});

describe("verifyPec on built messages", () => {
  let ca: TestCa;
  let alfa: TestGestore;
  let stranger: TestGestore;
  let trust: TrustStore;
  let ldifTrust: TrustStore;
  let busta: Uint8Array;
  let accettazione: Uint8Array;
  const date = SAMPLE_DATE;
  const tx = sampleTx();

  beforeAll(async () => {
    const validity = { notBefore: new Date("2024-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z"), keyAlgorithm: "ECDSA-P256" as const };
    ca = await createTestCa(validity);
    alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, ...validity });
    const otherCa = await createTestCa({ ...validity, commonName: "Other CA" });
    stranger = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca: otherCa, ...validity });
    trust = await TrustStore.fromPem(ca.pem());
    ldifTrust = await TrustStore.fromLdif(
      await buildIgpecLdif([{ name: alfa.name, certificates: [alfa.certificate], mailReceipt: alfa.email, domains: [alfa.domain] }]),
    );
    const original = composeMessage({ from: tx.sender, to: ["anna@pec.beta.test"], subject: "Prova", text: "Ciao", messageId: "<m1@client>", date });
    busta = (await buildBusta(alfa, tx, { original, date })).bytes;
    accettazione = (await buildAccettazione(alfa, tx, { date })).bytes;
  });

  it("trusts a busta and a receipt with the CA, and with the IGPEC LDIF naming the gestore", async () => {
    for (const bytes of [busta, accettazione]) {
      const res = await verifyPec(bytes, { trust });
      expect(errors(res)).toEqual([]);
      expect(res.valid && res.trusted).toBe(true);
      expect(res.signedAt?.getTime()).toBe(date.getTime());
      expect(res.chain.length).toBe(2);
      const viaLdif = await verifyPec(bytes, { trust: ldifTrust });
      expect(viaLdif.trusted).toBe(true);
      expect(viaLdif.gestore?.name).toBe("Gestore Alfa S.p.A.");
    }
  });

  it("one changed byte in the body is SIGNATURE_MISMATCH", async () => {
    const text = latin1(busta);
    const at = text.indexOf("Ciao");
    const tampered = busta.slice();
    tampered[at] = "K".charCodeAt(0);
    const res = await verifyPec(tampered, { trust });
    expect(res.valid).toBe(false);
    expect(codes(res)).toContain("SIGNATURE_MISMATCH");
  });

  it("a header changed inside the signed part is SIGNATURE_MISMATCH; outside it, nothing", async () => {
    const text = latin1(accettazione);
    const inner = text.indexOf("Content-Type: multipart/alternative");
    const tampered = latin1Bytes(text.slice(0, inner) + "Content-Type: multipart/alternative".replace("alternative", "Alternative") + text.slice(inner + 35));
    expect(codes(await verifyPec(tampered, { trust }))).toContain("SIGNATURE_MISMATCH");
    // The outer Subject is not signed (as the segnatura-tags sample shows).
    const outer = latin1Bytes(text.replace("Subject: ACCETTAZIONE: Prova", "Subject: ACCETTAZIONE: Prova #tag"));
    expect((await verifyPec(outer, { trust })).valid).toBe(true);
  });

  it("a daticert.xml swapped in from another message is SIGNATURE_MISMATCH", async () => {
    const other = await buildAccettazione(alfa, { ...tx, subject: "Altro" }, { date });
    const mine = readPec(accettazione).daticertEntity!;
    const theirs = readPec(other.bytes).daticertEntity!;
    const swapped = latin1Bytes(latin1(accettazione).replace(latin1(mine.bodyBytes()), latin1(theirs.bodyBytes())));
    const res = await verifyPec(swapped, { trust });
    expect(readPec(swapped).originalSubject).toBe("Altro");
    expect(res.valid).toBe(false);
    expect(codes(res)).toContain("SIGNATURE_MISMATCH");
  });

  it("a signer from another CA is valid but CERT_UNTRUSTED", async () => {
    const forged = (await buildAccettazione(stranger, tx, { date })).bytes;
    const res = await verifyPec(forged, { trust });
    expect(res.valid).toBe(true);
    expect(res.trusted).toBe(false);
    expect(codes(res)).toContain("CERT_UNTRUSTED");
  });

  it("a gestore signing for another gestore's domain is SIGNER_MISMATCH", async () => {
    const beta = await createGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", ca, keyAlgorithm: "ECDSA-P256", notBefore: new Date("2024-01-01T00:00:00Z") });
    // Beta's key, but the message claims to come from posta-certificata@pec.alfa.test.
    const lie = (await buildAccettazione({ ...beta, domain: "pec.alfa.test", email: "posta-certificata@pec.alfa.test" }, tx, { date })).bytes;
    const res = await verifyPec(lie, { trust });
    expect(res.valid).toBe(true);
    expect(res.trusted).toBe(false);
    expect(codes(res)).toContain("SIGNER_MISMATCH");
  });

  it("an IGPEC gestore signing for a user at a domain it does not manage is DOMAIN_NOT_MANAGED (a warning)", async () => {
    // Its own messages: nothing to say.
    for (const bytes of [busta, accettazione]) expect(codes(await verifyPec(bytes, { trust: ldifTrust }))).not.toContain("DOMAIN_NOT_MANAGED");
    // Alfa's own key and address, for a sender at Beta's domain.
    const theirs = { ...tx, sender: "ceo@pec.beta.test" };
    const original = composeMessage({ from: theirs.sender, to: ["anna@pec.beta.test"], subject: "Prova", text: "Ciao", messageId: "<m1@client>", date });
    for (const lie of [(await buildBusta(alfa, theirs, { original, date })).bytes, (await buildAccettazione(alfa, theirs, { date })).bytes]) {
      const res = await verifyPec(lie, { trust: ldifTrust });
      expect(res.valid && res.trusted).toBe(true);
      expect(res.issues.filter((i) => i.code === "DOMAIN_NOT_MANAGED")).toEqual([
        {
          code: "DOMAIN_NOT_MANAGED",
          severity: "warning",
          message: "the sender (daticert mittente) ceo@pec.beta.test is at pec.beta.test, which IGPEC does not list among the managedDomains of the signer, Gestore Alfa S.p.A.",
        },
      ]);
      // Without IGPEC there are no managedDomains to compare with.
      expect(codes(await verifyPec(lie, { trust }))).not.toContain("DOMAIN_NOT_MANAGED");
    }
    // An avvenuta consegna is the recipient's gestore's: Alfa cannot sign one for anna@pec.beta.test.
    const consegna = (await buildAvvenutaConsegna(alfa, tx, { consegna: "anna@pec.beta.test", original: prepareOriginal(original, { identificativo: tx.identificativo }), date })).bytes;
    const notManaged = "anna@pec.beta.test is at pec.beta.test, which IGPEC does not list among the managedDomains of the signer, Gestore Alfa S.p.A.";
    expect((await verifyPec(consegna, { trust: ldifTrust })).issues.map((i) => i.message)).toEqual([`the recipient (daticert consegna) ${notManaged}`]);
    // So are a presa in carico and a virus notice, for the recipients they cover.
    const presa = (await buildPresaInCarico(alfa, tx, { ricezione: ["anna@pec.beta.test"], to: "posta-certificata@pec.alfa.test", date })).bytes;
    expect((await verifyPec(presa, { trust: ldifTrust })).issues.map((i) => i.message)).toEqual([`a recipient (daticert ricezione) ${notManaged}`]);
    const virus = (await buildRilevazioneVirus(alfa, tx, { consegna: "anna@pec.beta.test", to: "posta-certificata@pec.alfa.test", date })).bytes;
    expect((await verifyPec(virus, { trust: ldifTrust })).issues.map((i) => i.message)).toEqual([`the recipient (daticert consegna) ${notManaged}`]);
    // A mancata consegna is signed by the recipient's gestore, or by the sender's for a virus:
    // one of its two ends must be Alfa's, and neither is here.
    const theirsToo = { ...theirs, recipients: [{ address: "anna@pec.beta.test" }] };
    const mancata = (await buildErroreConsegna(alfa, theirsToo, { consegna: "anna@pec.beta.test", errore: "no-dest", date })).bytes;
    expect((await verifyPec(mancata, { trust: ldifTrust })).issues.map((i) => i.message)).toEqual([
      "neither end of the mancata consegna is the signer's: the sender (daticert mittente) ceo@pec.beta.test and the recipient (daticert consegna) anna@pec.beta.test are both at pec.beta.test, which IGPEC does not list among the managedDomains of the signer, Gestore Alfa S.p.A.",
    ]);
    for (const [who, t, consegna, errore] of [
      ["the recipient's gestore", theirs, "ugo@pec.alfa.test", "no-dest"],
      ["the sender's gestore (a virus)", tx, "anna@pec.beta.test", "virus"],
    ] as const) {
      const own = { ...t, recipients: [{ address: consegna }] };
      const fine = (await buildErroreConsegna(alfa, own, { consegna, errore, date })).bytes;
      expect(codes(await verifyPec(fine, { trust: ldifTrust })), who).not.toContain("DOMAIN_NOT_MANAGED");
    }
  });

  it("skips a byte order mark and blank lines before the first header line, and says so", async () => {
    const first = readPec(accettazione).root.headers[0]!.name;
    const join = (...parts: (string | Uint8Array)[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...(typeof p === "string" ? latin1Bytes(p) : p)]));
    const bom = "\xef\xbb\xbf";
    for (const [prefix, what] of [
      [bom, "a UTF-8 byte order mark (3 bytes)"],
      ["\r\n", "a blank line (2 bytes)"],
      ["\n\n", "2 blank lines (2 bytes)"],
      [bom + "\r\n", "a UTF-8 byte order mark and a blank line (5 bytes)"],
    ] as const) {
      const pec = readPec(join(prefix, accettazione));
      expect(pec.type, what).toBe("accettazione");
      // Read as it is, a BOM would hide the first field's name.
      expect(pec.root.headers[0]!.name, what).toBe(first);
      expect(pec.issues[0], what).toEqual({ code: "LEADING_BYTES_SKIPPED", severity: "info", message: `skipped ${what} before the first header line` });
      const res = await verifyPec(pec, { trust });
      expect(res.valid && res.trusted, what).toBe(true);
    }
    // Without a header line after them, the bytes are what they are.
    for (const other of ["\n\nJust text, no header.\n", "\r\nFrom mario@pec.alfa.test Mon Jun 16 10:00:00 2025\r\n"]) {
      const pec = readPec(latin1Bytes(other));
      expect(pec.type).toBe("not-pec");
      expect(pec.issues).toEqual([]);
    }
  });

  it("reads lines ending in CR CR LF (a CRLF file written again in text mode) as CRLF, and says so", async () => {
    for (const signed of [busta, accettazione]) {
      const lines = latin1(signed).split("\r\n").length - 1;
      const damaged = latin1Bytes(latin1(signed).replace(/\r\n/g, "\r\r\n"));
      const pec = readPec(damaged);
      expect(pec.type).toBe(readPec(signed).type);
      expect(pec.issues[0]).toEqual({
        code: "LINE_ENDINGS_REPAIRED",
        severity: "warning",
        message: `${lines} lines ended in CR CR LF (a CRLF file converted to CRLF once more, as text-mode writes on Windows do); they were read as CRLF`,
      });
      const res = await verifyPec(damaged, { trust });
      expect(res.valid && res.trusted && !res.canonicalized).toBe(true);
    }
    // Only when the first line says so: one CR CR LF further down is the message's own.
    const once = latin1Bytes(latin1(accettazione).replace(/\r\n\r\n/, "\r\n\r\r\n\r\n"));
    expect(readPec(once).issues.map((i) => i.code)).not.toContain("LINE_ENDINGS_REPAIRED");
  });

  it("reads a message saved as UTF-16 text (Windows PowerShell's > and Out-File) back to its bytes, which verify", async () => {
    // What PowerShell 5 does: the file read as Windows-1252, written as UTF-16 (LE with a BOM by default).
    const asUtf16 = (bytes: Uint8Array, le: boolean, bom: boolean): Uint8Array => {
      const text = new TextDecoder("windows-1252").decode(bytes);
      const out = new Uint8Array((text.length + (bom ? 1 : 0)) * 2);
      const put = (o: number, unit: number) => {
        out[o] = le ? unit & 0xff : unit >> 8;
        out[o + 1] = le ? unit >> 8 : unit & 0xff;
      };
      if (bom) put(0, 0xfeff);
      for (let i = 0; i < text.length; i++) put((i + (bom ? 1 : 0)) * 2, text.charCodeAt(i));
      return out;
    };
    for (const [le, bom] of [[true, true], [false, true], [true, false], [false, false]] as const) {
      const pec = readPec(asUtf16(busta, le, bom));
      expect(pec.type).toBe("posta-certificata");
      expect(equalBytes(pec.root.raw(), busta)).toBe(true);
      expect(pec.issues[0]).toMatchObject({ code: "UTF16_DECODED", severity: "warning" });
      const res = await verifyPec(asUtf16(busta, le, bom), { trust });
      expect(res.valid && res.trusted).toBe(true);
    }
    // Every byte comes back, the Windows-1252 ones (€, smart quotes) too; CR CR LF as well.
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const eight = concatBytes([latin1Bytes("Subject: otto bit\r\n\r\n"), all, latin1Bytes("\r\n")]);
    expect(equalBytes(readPec(asUtf16(eight, true, true)).root.raw(), eight)).toBe(true);
    const doubled = readPec(asUtf16(latin1Bytes(latin1(accettazione).replace(/\r\n/g, "\r\r\n")), true, true));
    expect(doubled.issues.slice(0, 2).map((i) => i.code)).toEqual(["UTF16_DECODED", "LINE_ENDINGS_REPAIRED"]);
    expect(equalBytes(doubled.root.raw(), accettazione)).toBe(true);
    // A character no byte gives: not such a file, left as it is.
    const other = asUtf16(latin1Bytes("Subject: x\r\n\r\n"), true, true);
    const withCjk = concatBytes([other, Uint8Array.from([0xe5, 0x65])]);
    expect(readPec(withCjk).issues.map((i) => i.code)).not.toContain("UTF16_DECODED");
  });

  it("an mbox given whole: its first message is read, and the one after it is named (TRAILING_MESSAGE)", async () => {
    const from = "From MAILER-DAEMON Mon Jun 16 10:00:00 2025\r\n";
    const mbox = latin1Bytes(from + latin1(accettazione) + "\r\n" + from + latin1(busta) + "\r\n");
    const pec = readPec(mbox);
    expect(pec.type).toBe("accettazione");
    expect(pec.issues.map((i) => i.code)).toEqual(["LEADING_BYTES_SKIPPED", ...readPec(accettazione).issues.map((i) => i.code), "TRAILING_MESSAGE"]);
    expect(pec.issues.at(-1)).toMatchObject({ severity: "warning", message: expect.stringMatching(/^another message begins after this one's close delimiter/) });
    expect((await verifyPec(mbox, { trust })).valid).toBe(true);
    // One message with its "From " line: that line is skipped, and nothing follows.
    const single = readPec(latin1Bytes(from + latin1(accettazione)));
    expect(single.issues[0]).toEqual({ code: "LEADING_BYTES_SKIPPED", severity: "info", message: `skipped an mbox "From " line (${from.length} bytes) before the first header line` });
    expect(single.issues.map((i) => i.code)).not.toContain("TRAILING_MESSAGE");
    // Text after the close delimiter that is no message (a "From " line, no header after it).
    const epilogue = readPec(latin1Bytes(latin1(accettazione) + "From the archive of 2025\r\nnot a header line\r\n"));
    expect(epilogue.issues.map((i) => i.code)).not.toContain("TRAILING_MESSAGE");
  });

  it("verifies the opaque (application/pkcs7-mime) form, with or without PEC headers", async () => {
    const opaque = (await buildAccettazione(alfa, tx, { date, form: "opaque" })).bytes;
    const pec = readPec(opaque);
    expect(pec.type).toBe("accettazione");
    expect(pec.signature?.form).toBe("opaque");
    const res = await verifyPec(pec, { trust });
    expect(res.valid && res.trusted).toBe(true);
    // Headers stripped (e.g. by an archive): the daticert inside still makes it PEC.
    const stripped = latin1Bytes(latin1(opaque).replace(/^X-Ricevuta:[^\r\n]*\r\n/im, ""));
    const again = readPec(stripped);
    expect(again.type).toBe("accettazione");
    expect(again.issues.map((i) => i.code)).toContain("CLASSIFIED_BY_DATICERT");
  });

  it("`at` overrides the signing time", async () => {
    const later = await verifyPec(busta, { trust, at: new Date("2040-01-01T00:00:00Z") });
    expect(later.trusted).toBe(false);
    expect(codes(later)).toContain("CERT_EXPIRED_AT_SIGNING");
    expect(later.validatedAt?.toISOString()).toBe("2040-01-01T00:00:00.000Z");
  });

  it("a PGP/MIME signature is named as such, not only as bytes that are no CMS", async () => {
    const pgp = [
      "From: posta-certificata@pec.alfa.test",
      "X-Ricevuta: accettazione",
      "Subject: ACCETTAZIONE: Prova",
      'Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "Ciao",
      "--b",
      "Content-Type: application/pgp-signature; name=signature.asc",
      "",
      "-----BEGIN PGP SIGNATURE-----",
      "",
      "iQEzBAEBCAAdFiEE",
      "-----END PGP SIGNATURE-----",
      "--b--",
      "",
    ].join("\r\n");
    const res = await verifyPec(latin1Bytes(pgp), { trust });
    expect(res.valid).toBe(false);
    expect(res.issues).toHaveLength(1);
    expect(res.issues[0]).toMatchObject({ code: "CMS_MALFORMED", severity: "error" });
    expect(res.issues[0]!.message).toMatch(/^the signature is OpenPGP \(protocol application\/pgp-signature\), not the CMS \(S\/MIME\) signature of a PEC gestore: /);
  });

  it("throws only for misuse", async () => {
    await expect(verifyPec(busta, { trust: {} as TrustStore })).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
    await expect(verifyPec({} as never)).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
  });
});

