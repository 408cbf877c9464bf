// The messages the inspector page test loads: a real busta and delivery receipt built
// with the PEC builders and signed by the fixture gestori (fixtures/pki, under ca.pem), a
// tampered copy of the receipt, ordinary mail, garbage, and a message too deep to read.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  type PecSigner,
  buildAvvenutaConsegna,
  buildBusta,
  buildNonAccettazione,
  buildPreavvisoErroreConsegna,
  composeMessage,
  transactionFromOriginal,
} from "../../src/pec/build/index.js";

const root = resolve(import.meta.dirname, "../..");

function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const b64 = pem.replace(/-----(BEGIN|END) [^-]+-----/g, "").replace(/^#.*$/gm, "").replace(/\s+/g, "");
  return new Uint8Array(Buffer.from(b64, "base64"));
}

async function fixtureSigner(name: string, key: RsaHashedImportParams | EcKeyImportParams, gestore: { name: string; domain: string }): Promise<PecSigner> {
  const pki = (f: string): Promise<string> => readFile(resolve(root, "fixtures/pki", f), "utf8");
  const [cert, keyPem, ca] = await Promise.all([pki(`${name}.pem`), pki(`${name}.key.pem`), pki("ca.pem")]);
  const privateKey = await crypto.subtle.importKey("pkcs8", pemToDer(keyPem), key, true, ["sign"]);
  return { ...gestore, certificate: pemToDer(cert), privateKey, chain: [pemToDer(ca)] };
}

/** The marker the tampered copy changes (it occurs once, inside the signed postacert.eml). */
export const AMOUNT = "12.500,00";
export const TAMPERED_AMOUNT = "92.500,00";

export const ORIGINAL_SUBJECT = "Offerta n. 42 - fornitura arredi 2025";
export const IDENTIFICATIVO = "opec2a41c7.20250615120000.5b9e01d3.1.1@pec.alfa.test";

export interface Samples {
  /** Path of the trust anchor to load. */
  caPem: string;
  busta: Uint8Array;
  consegna: Uint8Array;
  tampered: Uint8Array;
  notPec: Uint8Array;
  garbage: Uint8Array;
  deep: Uint8Array;
  /** Avviso di non accettazione per virus. */
  virus: Uint8Array;
  /** Avviso di mancata consegna per superamento tempo massimo, 12 h warning. */
  preavviso: Uint8Array;
  /** Bytes of the PDF attachment, to compare with the download. */
  pdf: Uint8Array;
  /** A busta whose original's subject and attachment name hold a right-to-left override. */
  bidi: Uint8Array;
}

export async function makeSamples(): Promise<Samples> {
  const alfa = await fixtureSigner("gestore-valid", { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test" });
  const gamma = await fixtureSigner("gestore-valid-p256", { name: "ECDSA", namedCurve: "P-256" }, { name: "Gestore Gamma S.p.A.", domain: "pec.gamma.test" });

  const pdf = new TextEncoder().encode("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
  const original = composeMessage({
    from: { name: "Mario Rossi", address: "mario.rossi@pec.alfa.test" },
    to: [{ name: "Anna Bianchi", address: "anna.bianchi@pec.gamma.test" }],
    cc: ["ufficio.acquisti@esempio.test"],
    subject: ORIGINAL_SUBJECT,
    text: `Gentile Anna,\r\n\r\nin allegato l'offerta n. 42 per la fornitura degli arredi.\r\nImporto complessivo: ${AMOUNT} EUR, IVA esclusa.\r\n\r\nCordiali saluti,\r\nMario Rossi\r\n`,
    // Script, remote image and a link: the page must neither run nor fetch any of them.
    html:
      `<p>Gentile Anna,</p><p>in allegato l'<b>offerta n. 42</b> per la fornitura degli arredi.</p>` +
      `<img src="http://tracker.invalid/pixel.gif" alt="pixel">` +
      `<script>document.body.setAttribute("data-pwned", "1"); parent.document.title = "pwned";</script>` +
      `<p><a href="http://phishing.invalid/">conferma qui</a></p>`,
    attachments: [
      { filename: "offerta-42.pdf", contentType: "application/pdf", content: pdf },
      { filename: "condizioni generali.txt", contentType: "text/plain", content: "Validità dell'offerta: 30 giorni.\r\n" },
    ],
    messageId: "<20250615.offerta42@pec.alfa.test>",
    date: new Date("2025-06-15T09:59:30Z"),
  });
  const tx = transactionFromOriginal(original, { identificativo: IDENTIFICATIVO, isCertificato: (a) => a.includes("@pec.") });
  const busta = await buildBusta(alfa, tx, { original, date: new Date("2025-06-15T10:00:00Z") });
  const consegna = await buildAvvenutaConsegna(gamma, tx, {
    consegna: "anna.bianchi@pec.gamma.test",
    original: busta.bytes,
    date: new Date("2025-06-15T10:00:07Z"),
    messageId: "<consegna.20250615120007.7f3a@pec.gamma.test>",
  });

  const virus = await buildNonAccettazione(alfa, tx, { errore: "virus", erroreEsteso: "Eicar-Test-Signature", date: new Date("2025-06-15T10:00:01Z") });
  const preavviso = await buildPreavvisoErroreConsegna(alfa, tx, { consegna: "anna.bianchi@pec.gamma.test", kind: "preavviso", date: new Date("2025-06-15T22:00:00Z") });

  const spoof = composeMessage({
    from: "mario.rossi@pec.alfa.test",
    to: "anna.bianchi@pec.gamma.test",
    subject: "Fattura \u202Efdp.exe",
    text: "In allegato.",
    attachments: [{ filename: "fattura_2025\u202Efdp.exe", contentType: "application/pdf", content: pdf }],
    messageId: "<20250615.bidi@pec.alfa.test>",
    date: new Date("2025-06-15T10:01:00Z"),
  });
  const spoofTx = transactionFromOriginal(spoof, { identificativo: "opec2a41c7.20250615120100.5b9e01d3.1.2@pec.alfa.test", isCertificato: (a) => a.includes("@pec.") });
  const bidi = await buildBusta(alfa, spoofTx, { original: spoof, date: new Date("2025-06-15T10:01:00Z") });

  // One byte changed inside the signed part: the amount in the original's text.
  const tampered = Uint8Array.from(consegna.bytes);
  const text = Buffer.from(tampered).toString("latin1");
  const at = text.indexOf(AMOUNT);
  if (at < 0 || text.indexOf(AMOUNT, at + 1) >= 0) throw new Error("the amount must occur exactly once in the receipt");
  tampered[at] = TAMPERED_AMOUNT.charCodeAt(0);

  const notPec = new TextEncoder().encode(
    "From: Newsletter <news@esempio.test>\r\nTo: anna.bianchi@esempio.test\r\nSubject: Novità di giugno\r\nDate: Sun, 15 Jun 2025 08:00:00 +0000\r\n" +
      "Message-ID: <giugno@esempio.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCiao! Ecco le novità del mese.\r\n",
  );

  // Deterministic noise: no header field, binary.
  const garbage = new Uint8Array(4096);
  let x = 0x2545f491;
  for (let i = 0; i < garbage.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    garbage[i] = x & 0xff;
  }

  // Multipart nesting beyond the parser's depth limit: readPec throws ERR_TOO_DEEP.
  let head = "";
  let tail = "";
  for (let i = 0; i < 40; i++) {
    head += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    tail = `\r\n--b${i}--\r\n` + tail;
  }
  const deep = new TextEncoder().encode("From: a@esempio.test\r\nSubject: nested\r\n" + head + "Content-Type: text/plain\r\n\r\nx" + tail);

  return { caPem: resolve(root, "fixtures/pki/ca.pem"), busta: busta.bytes, consegna: consegna.bytes, tampered, notPec, garbage, deep, virus: virus.bytes, preavviso: preavviso.bytes, pdf, bidi: bidi.bytes };
}
