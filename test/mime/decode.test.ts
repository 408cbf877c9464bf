import { describe, expect, it } from "vitest";
import {
  decodeCharset,
  decodeHeaderValue,
  decodeQuotedPrintable,
  encodeQuotedPrintable,
  formatParams,
  parseMime,
  parseParams,
} from "../../src/mime/index.js";
import { bin, dec, enc } from "./helpers.js";

describe("decodeHeaderValue (RFC 2047)", () => {
  it.each([
    ["plain text", "plain text"],
    ["=?ISO-8859-1?Q?POSTA_CERTIFICATA:_Citt=E0?=", "POSTA CERTIFICATA: Città"],
    ["=?iso-8859-1?q?caf=e8?=", "cafè"],
    ["=?utf-8?B?w6g=?=", "è"],
    ["=?utf8?B?w6g=?=", "è"],
    ["=?UTF8?Q?=C3=A8?=", "è"],
    ["=?utf-7?Q?Citt+AOA-?=", "Città"],
    ["=?windows-1252?Q?=80?=", "€"],
    ["=?utf-8*it?Q?=C3=A8?=", "è"],
    // Adjacent words: the white space between them goes, even across folds.
    ["=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"],
    ["=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=", "ab"],
    ["=?utf-8?Q?a?=  x  =?utf-8?Q?b?=", "a  x  b"],
    // A character split across two words is joined at the byte level.
    ["=?utf-8?B?ww==?= =?utf-8?B?qA==?=", "è"],
    ["=?utf-8?Q?=C3?= =?utf-8?Q?=A8?=", "è"],
    // Different charsets side by side.
    ["=?iso-8859-1?Q?=E8?= =?utf-8?Q?=C3=A8?=", "èè"],
    // Words glued to text, and spaces inside Q text.
    ["Re:=?utf-8?Q?=C3=A8?=!", "Re:è!"],
    ["=?utf-8?Q?hello world?=", "hello world"],
    ["=?utf-8?B?w6g?=", "è"],
    ["=?utf-8?Q?=zz_ok?=", "=zz ok"],
    ["=?utf-8?q??=", ""],
  ])("%j → %j", (input, out) => {
    expect(decodeHeaderValue(input)).toBe(out);
  });

  it.each(["=?utf-8?X?abc?=", "=?utf-8?Q?abc", "=??Q?abc?=", "=?utf 8?Q?abc?=", "=?utf-8?Qabc?=", "a =? b ?= c", "=?"])(
    "leaves the malformed word %j as it is",
    (input) => {
      expect(decodeHeaderValue(input)).toBe(input);
    },
  );

  it("recovers after a malformed word", () => {
    expect(decodeHeaderValue("=?x?q?abc =?utf-8?q?d?=")).toBe("=?x?q?abc d");
  });

  it("falls back sensibly for unknown charsets", () => {
    expect(decodeHeaderValue("=?x-unknown?Q?caf=C3=A8?=")).toBe("cafè");
    expect(decodeHeaderValue("=?x-unknown?Q?caf=E8?=")).toBe("cafè");
  });

  it("runs in linear time on long hostile values", () => {
    const t0 = performance.now();
    decodeHeaderValue("=?a?q?".repeat(200_000));
    decodeHeaderValue("=?".repeat(500_000));
    decodeHeaderValue("=?utf-8?q?" + "x".repeat(2_000_000));
    decodeHeaderValue("=?utf-8?q?a?= ".repeat(100_000));
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe("decodeCharset", () => {
  it.each([
    [[0x63, 0xe8], "ISO-8859-1", "cè"],
    [[0x63, 0xe8], "iso-8859-1", "cè"],
    [[0x63, 0xe8], " 'Latin1' ", "cè"],
    [[0xc3, 0xa8], "utf8", "è"],
    [[0xc3, 0xa8], "UTF-8", "è"],
    [[0xa4], "iso-8859-15", "€"],
    [[0x80], "windows-1252", "€"],
    [[0xc3, 0xa8], "us-ascii", "è"],
    [[0xe8], "us-ascii", "è"],
    [[0xe8], "", "è"],
    [[0xe8], "no-such-charset", "è"],
    [[0x61], "iso-2022-kr", "a"],
  ] as const)("%j in %j", (bytes, label, out) => {
    expect(decodeCharset(Uint8Array.from(bytes), label)).toBe(out);
  });

  it("decodes UTF-7 (RFC 2152)", () => {
    const u7 = (s: string) => decodeCharset(enc(s), "UTF-7");
    expect(u7("Hi Mom -+Jjo--!")).toBe("Hi Mom -☺-!");
    expect(u7("+ZeVnLIqe-")).toBe("日本語");
    expect(u7("A+ImIDkQ.")).toBe("A≢Α.");
    expect(u7("1 +- 1")).toBe("1 + 1");
    expect(u7("+2D3eAQ-")).toBe("\u{1f601}");
    expect(u7("Citt+AOA")).toBe("Città");
    expect(u7("+AOAA6ADs-")).toBe("àèì");
    expect(u7("+")).toBe("");
    expect(u7("")).toBe("");
    expect(decodeCharset(enc("x"), "unicode-1-1-utf-7")).toBe("x");
    const long = "+" + "AOA".repeat(40000) + "-";
    expect(u7(long).length).toBeGreaterThan(20000);
  });

  it("decodes one UTF-7 shifted run of hundreds of thousands of characters (it overflowed the stack)", () => {
    // "AGEAYQBh" is UTF-16 "aaa": 225,000 characters in one run, in a body and in a header's encoded word.
    const run = "AGEAYQBh".repeat(75_000);
    expect(decodeCharset(enc(`+${run}-!`), "utf-7")).toBe("a".repeat(225_000) + "!");
    const m = parseMime(enc(`Subject: =?utf-7?Q?+${run.slice(0, 400_000)}?=\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+${run}-\r\n`));
    expect(m.headers.find((h) => h.lname === "subject")!.decoded).toBe("a".repeat(150_000));
    expect(m.text()).toBe("a".repeat(225_000) + "\r\n");
  });
});

describe("quoted-printable", () => {
  const qp = (s: string) => dec(decodeQuotedPrintable(bin(s)));

  it("decodes soft breaks, either hex case, and keeps bad escapes", () => {
    expect(qp("Citt=E0=\r\n continua")).toBe(dec(bin("Citt\xe0 continua")));
    expect(qp("a=3d=3Db")).toBe("a==b");
    expect(qp("soft=\nbreak")).toBe("softbreak");
    expect(qp("soft=  \r\nbreak")).toBe("softbreak");
    expect(qp("bad=zz=4")).toBe("bad=zz=4");
    expect(qp("end=")).toBe("end");
    expect(qp("=C3=A8")).toBe("è");
    expect(qp("trailing  \r\nspace\t\nx ")).toBe("trailing\r\nspace\nx");
    expect(qp("in  side")).toBe("in  side");
  });

  it("encodes with 76-column lines and round-trips any bytes", () => {
    const data = new Uint8Array(3000).map((_, i) => (i * 7919) & 255);
    const encoded = encodeQuotedPrintable(data);
    const text = dec(encoded);
    for (const line of text.split("\r\n")) expect(line.length).toBeLessThanOrEqual(76);
    expect(/[^\t\x20-\x7e\r\n]/.test(text)).toBe(false);
    expect(decodeQuotedPrintable(encoded)).toEqual(data);
  });

  it("encodes trailing white space, '=', and bare CR/LF; keeps CRLF as hard breaks", () => {
    expect(dec(encodeQuotedPrintable(enc("a \r\nb\t")))).toBe("a=20\r\nb=09");
    expect(dec(encodeQuotedPrintable(enc("x=y\nz\r")))).toBe("x=3Dy=0Az=0D");
    expect(dec(encodeQuotedPrintable(enc("è")))).toBe("=C3=A8");
    const long = dec(encodeQuotedPrintable(enc("a".repeat(200))));
    expect(long.split("\r\n").map((l) => l.length)).toEqual([76, 76, 50]);
    expect(long.split("\r\n").slice(0, -1).every((l) => l.endsWith("="))).toBe(true);
  });

  it("decodes a quoted-printable body of a parsed part", () => {
    const root = parseMime(enc("Content-Transfer-Encoding: Quoted-Printable\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCitt=C3=A0 =\r\nok"));
    expect(root.text()).toBe("Città ok");
  });
});

describe("base64 bodies", () => {
  it("tolerates white space, junk and bad padding", () => {
    const body = (b: string) => dec(parseMime(enc("Content-Transfer-Encoding: base64\r\n\r\n" + b)).decodedBody());
    expect(body("aGVs\r\nbG8=\r\n")).toBe("hello");
    expect(body("aGVs bG8")).toBe("hello");
    expect(body("aGVs*bG8==\r\n==")).toBe("hello");
    expect(body("")).toBe("");
  });
});

describe("parameters (RFC 2231)", () => {
  it("joins continuations and decodes charsets", () => {
    expect(parseParams("attachment; filename*0*=utf-8''caf%C3%A8; filename*1=\".pdf\"")).toEqual({
      value: "attachment",
      params: expect.objectContaining({ filename: "cafè.pdf" }),
    });
    expect(parseParams("a/b; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A").params["title"]).toBe("This is ***fun***");
    expect(parseParams("a/b; n*2=c; n*0=a; n*1=b").params["n"]).toBe("abc");
    expect(parseParams("a/b; n*=%E8").params["n"]).toBe("è");
    expect(parseParams("a/b; n*=iso-8859-1''%E8%zz").params["n"]).toBe("è%zz");
    expect(parseParams('a/b; q="x\\"y\\\\z"; u = v ; =novalue; novalue; last="unterminated').params).toEqual(
      expect.objectContaining({ q: 'x"y\\z', u: "v", last: "unterminated" }),
    );
  });

  it("drops a comment that ends an unquoted value after white space, and keeps parentheses inside a name", () => {
    expect(parseParams("application/pdf; name=fattura.pdf (scansione)").params["name"]).toBe("fattura.pdf");
    expect(parseParams("attachment; filename=my file (1).pdf").params["filename"]).toBe("my file (1).pdf");
    expect(parseParams("attachment; filename=copia(2)").params["filename"]).toBe("copia(2)");
    expect(parseParams('attachment; filename="quoted (kept).pdf"').params["filename"]).toBe("quoted (kept).pdf");
    expect(parseMime(new TextEncoder().encode("Content-Type: application/pdf; name=fattura.pdf (scansione)\r\n\r\nx")).filename).toBe("fattura.pdf");
  });

  it("formats parameters, with RFC 2231 for non-ASCII values", () => {
    expect(formatParams("attachment", { filename: "daticert.xml" })).toBe("attachment; filename=daticert.xml");
    expect(formatParams("a/b", { name: "a b;c" })).toBe('a/b; name="a b;c"');
    expect(formatParams("a/b", { name: 'q"\\' })).toBe('a/b; name="q\\"\\\\"');
    const f = formatParams("attachment", { filename: "fattura è.pdf" });
    expect(f).toBe("attachment; filename*=utf-8''fattura%20%C3%A8.pdf");
    expect(parseParams(f).params["filename"]).toBe("fattura è.pdf");
    const long = "è".repeat(100);
    const fl = formatParams("attachment", { filename: long });
    expect(fl).toContain("filename*0*=utf-8''");
    expect(fl).toContain("filename*1*=");
    expect(parseParams(fl).params["filename"]).toBe(long);
  });
});

describe("parameters with unescaped inner quotes", () => {
  it("keeps quotes that do not close the value (seen in a real Outlook forward)", () => {
    const p = parseParams('message/rfc822; name="Richiesta L.C.A. "Istituto S.p.A.".msg"; x=1');
    expect(p.params.name).toBe('Richiesta L.C.A. "Istituto S.p.A.".msg');
    expect(p.params.x).toBe("1");
    // Junk after a properly closed value is still skipped.
    expect(parseParams('a/b; name="a.pdf"junk; y=2').params).toEqual({ name: "a.pdf", y: "2" });
    expect(parseParams('a/b; name="a"junk; other="b"').params).toEqual({ name: "a", other: "b" });
    expect(parseParams('a/b; name="a;b.pdf"').params.name).toBe("a;b.pdf");
  });
});
