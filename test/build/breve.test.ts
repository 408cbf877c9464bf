// brevify: the ricevuta breve's original, edited in place.
import { describe, expect, it } from "vitest";
import { parseMime } from "../../src/mime/index.js";
import { brevify, composeMessage } from "../../src/pec/build/index.js";
import { ANNA, FORWARDED, PDF, SENDER, makeOriginal } from "./helpers.js";

const enc = new TextEncoder();
const latin1 = (b: Uint8Array): string => {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return s;
};

async function sha1(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-1", b as Uint8Array<ArrayBuffer>));
  return [...d].map((x) => x.toString(16).padStart(2, "0")).join("");
}

describe("brevify", () => {
  it("replaces each named part and each attached message by <name>.hash, keeping every other byte", async () => {
    const original = makeOriginal();
    const root = parseMime(original);
    const { bytes, hashes } = await brevify(original);
    expect(hashes.map((h) => h.filename)).toEqual(["offerta.pdf", "nota è.txt", "richiesta.eml"]);
    expect(hashes.map((h) => h.hashFilename)).toEqual(["offerta.pdf.hash", "nota è.txt.hash", "richiesta.eml.hash"]);
    for (const [i, part] of root.children.slice(1).entries()) {
      expect(hashes[i]!.hash).toBe(await sha1(part.bodyBytes()));
    }
    // Everything before the first attachment is unchanged: headers, body text, boundaries.
    const firstAttachment = root.children[1]!.start;
    expect(bytes.subarray(0, firstAttachment)).toEqual(original.subarray(0, firstAttachment));
    const out = parseMime(bytes);
    expect(out.children).toHaveLength(4);
    expect(out.children[0]!.raw()).toEqual(root.children[0]!.raw());
    for (const [i, part] of out.children.slice(1).entries()) {
      expect(part.contentType.mimeType).toBe("text/plain");
      expect(part.filename).toBe(hashes[i]!.hashFilename);
      expect(part.contentType.params.name).toBe(hashes[i]!.hashFilename);
      expect(part.disposition?.type).toBe("attachment");
      expect(latin1(part.decodedBody())).toBe(hashes[i]!.hash);
    }
    // The tail after the last part (close delimiter) is unchanged.
    const tail = original.subarray(root.children[3]!.end);
    expect(bytes.subarray(bytes.length - tail.length)).toEqual(tail);
  });

  it("keeps a message without attachments as it is", async () => {
    const m = composeMessage({ from: SENDER, to: ANNA, subject: "s", text: "t", html: "<p>t</p>" });
    const r = await brevify(m);
    expect(r.bytes).toBe(m);
    expect(r.hashes).toEqual([]);
  });

  it("keeps the disposition type of an inline part", async () => {
    const m = composeMessage({ from: SENDER, to: ANNA, subject: "s", text: "t", attachments: [{ filename: "logo.png", contentType: "image/png", content: PDF, disposition: "inline" }] });
    const out = parseMime((await brevify(m)).bytes);
    expect(out.children[1]!.disposition?.type).toBe("inline");
    expect(out.children[1]!.filename).toBe("logo.png.hash");
  });

  it("multipart/signed originals keep their structure and signature part; attachments inside are replaced", async () => {
    const inner = "Content-Type: multipart/mixed; boundary=in\r\n\r\n--in\r\nContent-Type: text/plain\r\n\r\nciao\r\n--in\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--in--\r\n";
    const m = enc.encode(
      `From: ${SENDER}\r\nTo: ${ANNA}\r\nSubject: firmato\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=out\r\n\r\n--out\r\n${inner}\r\n--out\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=smime.p7s\r\n\r\nMIIB\r\n--out--\r\n`,
    );
    const { bytes, hashes } = await brevify(m);
    expect(hashes.map((h) => h.filename)).toEqual(["a.pdf"]);
    expect(hashes[0]!.hash).toBe(await sha1(enc.encode("QUJD")));
    const out = parseMime(bytes);
    expect(out.contentType.mimeType).toBe("multipart/signed");
    expect(out.children[1]!.raw()).toEqual(parseMime(m).children[1]!.raw());
    expect(out.children[0]!.children[1]!.filename).toBe("a.pdf.hash");
  });

  it("opaque application/pkcs7-mime originals stay whole (the breve equals the completa)", async () => {
    const m = enc.encode(`From: ${SENDER}\r\nTo: ${ANNA}\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=smime.p7m\r\n\r\nMIIB\r\n`);
    const r = await brevify(m);
    expect(r.bytes).toBe(m);
    expect(r.hashes).toEqual([]);
  });

  it("a signed document attached as .p7m is an attachment like any other", async () => {
    const m = composeMessage({ from: SENDER, to: ANNA, subject: "fattura", text: "t", attachments: [{ filename: "IT01234567890_1.xml.p7m", contentType: "application/pkcs7-mime", content: PDF }] });
    const r = await brevify(m);
    expect(r.hashes.map((h) => h.hashFilename)).toEqual(["IT01234567890_1.xml.p7m.hash"]);
  });

  it("a message whose whole body is a named leaf keeps its other fields", async () => {
    const m = enc.encode(`From: ${SENDER}\r\nTo: ${ANNA}\r\nSubject: solo allegato\r\nMIME-Version: 1.0\r\nContent-Type: application/pdf; name=doc.pdf\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=doc.pdf\r\n\r\nQUJD\r\n`);
    const { bytes, hashes } = await brevify(m);
    expect(hashes).toEqual([{ filename: "doc.pdf", hashFilename: "doc.pdf.hash", hash: await sha1(enc.encode("QUJD\r\n")) }]);
    const out = parseMime(bytes);
    expect(out.header("subject")).toBe("solo allegato");
    expect(out.header("mime-version")).toBe("1.0");
    expect(out.contentType.mimeType).toBe("text/plain");
    expect(out.filename).toBe("doc.pdf.hash");
    expect(out.headerAll("content-type")).toHaveLength(1);
    expect(latin1(out.decodedBody())).toBe(hashes[0]!.hash);
  });

  it("names an unnamed attached message messaggio.eml.hash (UNCONFIRMED choice)", async () => {
    const m = enc.encode(
      `From: ${SENDER}\r\nTo: ${ANNA}\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nt\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n${latin1(FORWARDED)}\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n${latin1(FORWARDED)}\r\n--b--\r\n`,
    );
    const { hashes } = await brevify(m);
    expect(hashes.map((h) => h.hashFilename)).toEqual(["messaggio.eml.hash", "messaggio-2.eml.hash"]);
  });

  it("writes replacement headers in the line-ending style of an LF original", async () => {
    const m = enc.encode(`From: ${SENDER}\nTo: ${ANNA}\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nt\n--b\nContent-Type: application/pdf; name=a.pdf\n\nxyz\n--b--\n`);
    const out = latin1((await brevify(m)).bytes);
    expect(out).not.toContain("\r");
    expect(out).toContain('Content-Disposition: attachment; filename=a.pdf.hash\n\n');
  });
});
