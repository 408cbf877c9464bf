import { describe, expect, it } from "vitest";
import { findAllEntities, findEntity, parseEmbedded, parseMime, walkEntities } from "../../src/mime/index.js";
import type { MimeEntity } from "../../src/mime/index.js";
import { equalBytes } from "../../src/util/bytes.js";
import { bin, checkInvariants, crlf, dec, enc, reconstruct } from "./helpers.js";

function parse(text: string): MimeEntity {
  const bytes = enc(text);
  const root = parseMime(bytes);
  checkInvariants(root);
  expect(equalBytes(reconstruct(root), bytes)).toBe(true);
  return root;
}

const SIGNED = `From: a@example.it
Subject: test
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;
 boundary="----SIG"

This is an S/MIME signed message

------SIG
Content-Type: multipart/mixed; boundary="MIX"

preamble text
--MIX
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Citt=E0
--MIX
Content-Type: application/xml; name="daticert.xml"
Content-Disposition: inline; filename="daticert.xml"
Content-Transfer-Encoding: base64

PHBvc3RhY2VydC8+
--MIX--
epilogue
------SIG
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64

AAEC
------SIG--
`;

describe("multipart structure", () => {
  for (const [label, eol] of [
    ["CRLF", "\r\n"],
    ["LF", "\n"],
  ] as const) {
    it(`splits a PEC-like tree with ${label} line ends, byte-exact`, () => {
      const text = SIGNED.replace(/\n/g, eol);
      const root = parse(text);
      expect(root.contentType.mimeType).toBe("multipart/signed");
      expect(root.contentType.params["boundary"]).toBe("----SIG");
      expect(root.children).toHaveLength(2);
      const mixed = root.children[0]!;
      expect(mixed.contentType.mimeType).toBe("multipart/mixed");
      // The signed part runs from the line after the delimiter to just before the line
      // break that precedes the next delimiter.
      const raw = dec(mixed.raw());
      expect(raw.startsWith("Content-Type: multipart/mixed")).toBe(true);
      expect(raw.endsWith("epilogue")).toBe(true);
      expect(text.slice(text.indexOf(raw) + raw.length).startsWith(eol + "------SIG" + eol)).toBe(true);
      expect(mixed.multipart!.preamble).toEqual({ start: mixed.bodyStart, end: mixed.bodyStart + "preamble text".length });
      expect(dec(mixed.source.subarray(mixed.multipart!.epilogue.start, mixed.multipart!.epilogue.end))).toBe("epilogue");
      expect(mixed.multipart!.closed).toBe(true);
      expect(mixed.children.map((c) => c.contentType.mimeType)).toEqual(["text/plain", "application/xml"]);
      expect(mixed.children[0]!.text()).toBe("Città");
      expect(dec(mixed.children[1]!.decodedBody())).toBe("<postacert/>");
      expect(mixed.children[1]!.filename).toBe("daticert.xml");
      expect(mixed.children[1]!.disposition).toEqual({ type: "inline", params: expect.objectContaining({ filename: "daticert.xml" }) });
      expect(root.children[1]!.decodedBody()).toEqual(new Uint8Array([0, 1, 2]));
      expect(mixed.children[1]!.path).toEqual([0, 1]);
      expect(mixed.children[1]!.depth).toBe(2);
      expect(mixed.children[1]!.parent).toBe(mixed);
    });
  }

  it("handles mixed CRLF and LF line endings", () => {
    const text = "Content-Type: multipart/mixed; boundary=b\r\n\n--b\r\nA: 1\n\r\none\n--b\nA: 2\r\n\r\ntwo\r\n--b--\n";
    const root = parse(text);
    expect(root.children.map((c) => dec(c.bodyBytes()))).toEqual(["one", "two"]);
    expect(root.children.map((c) => c.header("a"))).toEqual(["1", "2"]);
    expect(root.multipart!.delimiters.map((d) => dec(root.source.subarray(d.start, d.end)))).toEqual([
      "--b\r\n",
      "\n--b\n",
      "\r\n--b--\n",
    ]);
  });

  it("accepts transport padding after a boundary and rejects other trailing text", () => {
    const text = crlf("Content-Type: multipart/mixed; boundary=b\n\n--b \t\nX: 1\n\none\n--bX\nstill one\n--b--  \n");
    const root = parse(text);
    expect(root.children).toHaveLength(1);
    expect(dec(root.children[0]!.bodyBytes())).toBe("one\r\n--bX\r\nstill one");
    expect(root.multipart!.closed).toBe(true);
  });

  it("does not take a boundary for the prefix of a longer one", () => {
    const text = crlf(`Content-Type: multipart/mixed; boundary="abc"

--abc
Content-Type: multipart/alternative; boundary="abc-1"

--abc-1
Content-Type: text/plain

inner
--abc-1--
--abc
Content-Type: text/plain

second
--abc--
`);
    const root = parse(text);
    expect(root.children).toHaveLength(2);
    const alt = root.children[0]!;
    expect(alt.children).toHaveLength(1);
    expect(dec(alt.children[0]!.bodyBytes())).toBe("inner");
    expect(dec(root.children[1]!.bodyBytes())).toBe("second");
  });

  it.each([
    ['"weird =?:() boundary"', "weird =?:() boundary"],
    ["'=_?:x'", "'=_?:x'"],
    ['"a\\"b"', 'a"b'],
    ["==_Part_1_2.3", "==_Part_1_2.3"],
    ['"----=_NextPart_000_0001_01D2.ABC"', "----=_NextPart_000_0001_01D2.ABC"],
  ])("accepts the boundary %s", (param, boundary) => {
    const text = crlf(`Content-Type: multipart/mixed; boundary=${param}\n\n--${boundary}\n\none\n--${boundary}\n\ntwo\n--${boundary}--\n`);
    const root = parse(text);
    expect(root.multipart!.boundary).toBe(boundary);
    expect(root.children.map((c) => dec(c.bodyBytes()))).toEqual(["one", "two"]);
  });

  it("handles a missing close delimiter", () => {
    const text = crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n");
    const root = parse(text);
    expect(root.multipart!.closed).toBe(false);
    expect(root.children.map((c) => dec(c.bodyBytes()))).toEqual(["one", "two\r\n"]);
    expect(root.multipart!.epilogue).toEqual({ start: text.length, end: text.length });
  });

  it("handles a boundary that never occurs, and empty parts", () => {
    const none = parse(crlf("Content-Type: multipart/mixed; boundary=b\n\njust text\n"));
    expect(none.children).toHaveLength(0);
    expect(dec(none.source.subarray(none.multipart!.preamble.start, none.multipart!.preamble.end))).toBe("just text\r\n");
    const empty = parse(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\n--b--"));
    expect(empty.children).toHaveLength(2);
    expect(empty.children[0]!.raw()).toHaveLength(0);
    expect(empty.children[1]!.headers).toHaveLength(0);
    expect(empty.multipart!.closed).toBe(true);
  });

  it("treats a multipart without a boundary as a leaf", () => {
    const root = parse(crlf("Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n"));
    expect(root.children).toHaveLength(0);
    expect(root.multipart).toBeUndefined();
  });

  it("keeps a close delimiter before any part and text after it as epilogue", () => {
    const root = parse(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b--\n--b\n\nnot a part\n"));
    expect(root.children).toHaveLength(0);
    expect(root.multipart!.closed).toBe(true);
    expect(dec(root.source.subarray(root.multipart!.epilogue.start, root.multipart!.epilogue.end))).toBe("--b\r\n\r\nnot a part\r\n");
  });

  it("uses message/rfc822 as the default type inside multipart/digest", () => {
    const root = parse(crlf("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: inner\n\nhi\n--d--\n"));
    const part = root.children[0]!;
    expect(part.contentType.mimeType).toBe("message/rfc822");
    expect(part.children[0]!.header("subject")).toBe("inner");
  });
});

describe("message/rfc822", () => {
  const inner = crlf("Subject: inner\nContent-Type: multipart/mixed; boundary=i\n\n--i\n\nhello\n--i--\n");

  it("parses a 7bit embedded message in place", () => {
    const text = crlf(`Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822; name="postacert.eml"\n\n`) + inner + crlf("\n--o--\n");
    const root = parse(text);
    const part = root.children[0]!;
    expect(part.filename).toBe("postacert.eml");
    const msg = part.children[0]!;
    expect(msg.source).toBe(root.source);
    expect(msg.path).toEqual([0, 0]);
    expect(msg.header("subject")).toBe("inner");
    expect(dec(msg.raw())).toBe(inner);
    expect(msg.children[0]!.text()).toBe("hello");
  });

  it("parses a base64 embedded message from its decoded bytes", () => {
    const b64 = btoa(inner).replace(/.{76}/g, "$&\r\n");
    const text = crlf(`Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n`) + b64 + "\r\n";
    const root = parse(text);
    const msg = root.children[0]!;
    expect(msg.source).not.toBe(root.source);
    expect(dec(msg.source)).toBe(inner);
    expect(msg.children[0]!.text()).toBe("hello");
    expect(equalBytes(reconstruct(msg), msg.source)).toBe(true);
  });

  it("does not open application/octet-stream, but parseEmbedded does", () => {
    const b64 = btoa(inner);
    const text = crlf(`Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: application/octet-stream; name=postacert.eml\nContent-Transfer-Encoding: base64\n\n${b64}\n--o\nContent-Type: application/octet-stream\n\n`) + inner + crlf("\n--o--\n");
    const root = parse(text);
    const [att, plain] = root.children as [MimeEntity, MimeEntity];
    expect(att.children).toHaveLength(0);
    const msg = parseEmbedded(att);
    expect(msg.parent).toBe(att);
    expect(msg.depth).toBe(2);
    expect(msg.path).toEqual([0, 0]);
    expect(msg.header("subject")).toBe("inner");
    expect(att.children).toHaveLength(0);
    const inPlace = parseEmbedded(plain);
    expect(inPlace.source).toBe(root.source);
    expect(dec(inPlace.raw())).toBe(inner);
    // An already opened message part gives its child back.
    const rfc = parse(crlf("Content-Type: message/rfc822\n\n") + inner);
    expect(parseEmbedded(rfc)).toBe(rfc.children[0]);
  });
});

describe("headers", () => {
  it("unfolds folded lines and keeps the raw bytes", () => {
    const text = "Subject: a long\r\n\tsubject\r\n  here\r\nX-Empty:\r\nto: x@y\r\n\r\nbody";
    const root = parse(text);
    const subj = root.headers[0]!;
    expect(subj.name).toBe("Subject");
    expect(subj.value).toBe("a long\tsubject  here");
    expect(dec(subj.raw)).toBe("Subject: a long\r\n\tsubject\r\n  here\r\n");
    expect(root.header("x-empty")).toBe("");
    expect(root.header("TO")).toBe("x@y");
    expect(root.headers[2]!.name).toBe("to");
    expect(root.headers[2]!.lname).toBe("to");
    expect(dec(root.headerBytes())).toBe(text.slice(0, text.indexOf("body")));
    expect(dec(root.bodyBytes())).toBe("body");
    expect(root.headerEnd).toBe(root.bodyStart);
  });

  it("keeps duplicates in order", () => {
    const root = parse("Received: one\nReceived: two\nX: 1\nReceived: three\n\n");
    expect(root.headerAll("received")).toEqual(["one", "two", "three"]);
    expect(root.header("Received")).toBe("one");
    expect(root.headerAll("nope")).toEqual([]);
  });

  it("reads 8-bit header bytes as UTF-8 when valid, else Latin-1", () => {
    const utf = parseMime(bin("Subject: Citt\xc3\xa0\r\n\r\n"));
    expect(utf.header("subject")).toBe("Città");
    const lat = parseMime(bin("Subject: Citt\xe0\r\n\r\n"));
    expect(lat.header("subject")).toBe("Città");
  });

  it("tolerates lines without a colon, names with spaces before the colon and odd first lines", () => {
    const root = parse("From sender Tue Jan 1 00:00:00 2019\nSubject : hi\nbroken line\n continued\nX-A: 1\n\nbody");
    expect(root.headers.map((h) => h.name)).toEqual(["", "Subject", "", "X-A"]);
    expect(root.headers[0]!.value).toBe("From sender Tue Jan 1 00:00:00 2019");
    expect(root.header("subject")).toBe("hi");
    expect(root.headers[2]!.value).toBe("broken line continued");
    expect(dec(root.bodyBytes())).toBe("body");
  });

  it("handles no blank line, no body, no headers and empty input", () => {
    const noBlank = parse("Subject: x\r\nX-B: y");
    expect(noBlank.headers).toHaveLength(2);
    expect(noBlank.bodyStart).toBe(noBlank.end);
    const noBody = parse("Subject: x\r\n\r\n");
    expect(noBody.bodyBytes()).toHaveLength(0);
    const noHeaders = parse("\r\nbody only");
    expect(noHeaders.headers).toHaveLength(0);
    expect(dec(noHeaders.bodyBytes())).toBe("body only");
    const empty = parse("");
    expect(empty.headers).toHaveLength(0);
    expect(empty.contentType.mimeType).toBe("text/plain");
    expect(empty.transferEncoding).toBe("7bit");
  });

  it("does not trim Unicode spaces from values", () => {
    expect(parseMime(enc("X: \u00a0a\u3000\r\n\r\n")).header("x")).toBe("\u00a0a\u3000");
  });

  it("parses content types leniently", () => {
    const ct = (v: string) => parseMime(enc(`Content-Type: ${v}\r\n\r\n`)).contentType;
    expect(ct("TEXT/HTML; CHARSET=UTF-8")).toMatchObject({ type: "text", subtype: "html", mimeType: "text/html", params: { charset: "UTF-8" } });
    expect(ct("text/plain (comment); format=flowed").mimeType).toBe("text/plain");
    expect(ct("garbage").mimeType).toBe("text/plain");
    expect(ct("application/pdf;name=\"a;b.pdf\";;x").params["name"]).toBe("a;b.pdf");
    expect(Object.getPrototypeOf(ct("a/b; __proto__=x").params)).toBe(null);
    expect(ct("a/b; __proto__=x").params["__proto__"]).toBe("x");
    const e = parseMime(enc("Content-Transfer-Encoding:  BASE64 \r\n\r\naGk="));
    expect(e.transferEncoding).toBe("base64");
    expect(dec(e.decodedBody())).toBe("hi");
  });

  it("decodes file names from RFC 2231 and RFC 2047", () => {
    const fn = (h: string) => parseMime(enc(h + "\r\n\r\n")).filename;
    expect(fn("Content-Disposition: attachment; filename*=UTF-8''caf%C3%A8.pdf")).toBe("cafè.pdf");
    expect(fn("Content-Disposition: attachment; filename*0*=iso-8859-1'it'caf%E8; filename*1=\" bis.pdf\"")).toBe("cafè bis.pdf");
    expect(fn("Content-Disposition: attachment; filename*1=\"b.pdf\"; filename*0=\"a\"")).toBe("ab.pdf");
    expect(fn('Content-Type: application/pdf; name="=?UTF-8?B?Y2Fmw6gucGRm?="')).toBe("cafè.pdf");
    expect(fn('Content-Disposition: attachment; filename="plain.pdf"; filename*=utf-8\'\'ext%C3%A8.pdf')).toBe("extè.pdf");
    expect(fn('Content-Type: text/plain; name="n.txt"\r\nContent-Disposition: attachment; filename="d.txt"')).toBe("d.txt");
    expect(fn("Content-Type: text/plain")).toBeUndefined();
    // An RFC 2231 value is decoded once: "=?…?=" in it is the name's own text.
    expect(fn("Content-Disposition: attachment; filename*=utf-8''%3D%3Futf-8%3FQ%3Fx%3F%3D.txt")).toBe("=?utf-8?Q?x?=.txt");
    expect(fn("Content-Type: text/plain; name*=utf-8''%3D%3Futf-8%3FQ%3Fx%3F%3D.txt")).toBe("=?utf-8?Q?x?=.txt");
    expect(fn('Content-Type: text/plain; name*="=?utf-8?Q?x?=.txt"\r\nContent-Disposition: attachment; filename="=?utf-8?Q?y?=.txt"')).toBe("y.txt");
    // Plain continuations (no "*" after the index) are not RFC 2231-decoded: an encoded word split across them is.
    expect(fn('Content-Disposition: attachment; filename*0="=?UTF-8?Q?fattura_n=C2=B0"; filename*1="1.pdf?="')).toBe("fattura n°1.pdf");
    expect(fn("Content-Disposition: attachment; filename*0*=utf-8''%3D%3Fx; filename*1=\"?=.txt\"")).toBe("=?x?=.txt");
  });
});

describe("bodies", () => {
  it("decodes text in its charset, and sniffs when there is none", () => {
    const t = (h: string, body: string) => parseMime(bin(h + "\r\n\r\n" + body)).text();
    expect(t("Content-Type: text/plain; charset=ISO-8859-1", "Citt\xe0")).toBe("Città");
    expect(t("Content-Type: text/plain; charset=utf8", "Citt\xc3\xa0")).toBe("Città");
    expect(t("Content-Type: text/plain", "Citt\xc3\xa0")).toBe("Città");
    expect(t("Content-Type: text/plain", "Citt\xe0")).toBe("Città");
    expect(t("Content-Type: text/plain; charset=utf-7", "Citt+AOA-")).toBe("Città");
    expect(t("Content-Type: text/plain; charset=x-nonsense", "ok")).toBe("ok");
  });

  it("gives zero-copy views for 7bit/8bit/binary bodies", () => {
    const bytes = enc("Content-Transfer-Encoding: binary\r\n\r\nabc");
    const root = parseMime(bytes);
    const body = root.decodedBody();
    expect(body.buffer).toBe(bytes.buffer);
    expect(root.raw().buffer).toBe(bytes.buffer);
  });
});

describe("walking", () => {
  const text = crlf(`Content-Type: multipart/mixed; boundary=o

--o
Content-Type: text/plain

a
--o
Content-Type: message/rfc822

Content-Type: multipart/mixed; boundary=i

--i
Content-Type: application/xml; name=daticert.xml

<x/>
--i--
--o
Content-Type: application/xml; name=daticert.xml

<y/>
--o--
`);

  it("visits in document order, optionally without entering messages", () => {
    const root = parse(text);
    expect([...walkEntities(root)].map((e) => e.path.join("."))).toEqual(["", "0", "1", "1.0", "1.0.0", "2"]);
    expect([...walkEntities(root, { intoMessages: false })].map((e) => e.path.join("."))).toEqual(["", "0", "1", "2"]);
    const dati = (e: MimeEntity) => e.filename === "daticert.xml";
    expect(findEntity(root, dati)!.path).toEqual([1, 0, 0]);
    expect(findEntity(root, dati, { intoMessages: false })!.path).toEqual([2]);
    expect(findAllEntities(root, dati)).toHaveLength(2);
    expect(findEntity(root, () => false)).toBeUndefined();
    // Starting at a message part still enters it.
    expect([...walkEntities(root.children[1]!, { intoMessages: false })]).toHaveLength(3);
  });
});
