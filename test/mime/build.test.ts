import { describe, expect, it } from "vitest";
import { buildMime, decodeHeaderValue, formatHeader, formatParams, parseMime } from "../../src/mime/index.js";
import type { MimeNode } from "../../src/mime/index.js";
import { isPecError } from "../../src/errors.js";
import { equalBytes } from "../../src/util/bytes.js";
import { dec, enc, reconstruct } from "./helpers.js";

function lines(bytes: Uint8Array): string[] {
  return dec(bytes).split("\r\n");
}

function expectCrlfOnly(bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10) expect(bytes[i - 1]).toBe(13);
    if (bytes[i] === 13) expect(bytes[i + 1]).toBe(10);
  }
}

function expectCode(f: () => unknown, code: string): void {
  try {
    f();
  } catch (e) {
    expect(isPecError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    return;
  }
  throw new Error("did not throw");
}

describe("formatHeader", () => {
  it("writes short ASCII values as they are", () => {
    expect(formatHeader("Subject", "hello")).toBe("Subject: hello\r\n");
    expect(formatHeader("X-Empty", "")).toBe("X-Empty:\r\n");
    expect(formatHeader("X", "  trimmed \t")).toBe("X: trimmed\r\n");
  });

  it("folds long ASCII values at white space within 78 columns", () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const out = formatHeader("Subject", words);
    for (const l of out.split("\r\n").slice(0, -1)) expect(l.length).toBeLessThanOrEqual(78);
    expect(out.split("\r\n").length).toBeGreaterThan(3);
    expect(out.replace(/\r\n(?=[ \t])/g, "")).toBe("Subject: " + words + "\r\n");
  });

  it("keeps a long unbreakable token whole", () => {
    const tok = "x".repeat(200);
    expect(formatHeader("X", tok)).toBe("X: " + tok + "\r\n");
  });

  it("encodes non-ASCII words as RFC 2047 UTF-8 words only where needed", () => {
    expect(formatHeader("Subject", "Città")).toBe("Subject: =?UTF-8?Q?Citt=C3=A0?=\r\n");
    const from = formatHeader("From", "Mario Rossì <m@x.it>");
    expect(from).toBe("From: Mario =?UTF-8?Q?Ross=C3=AC?= <m@x.it>\r\n");
    const cjk = formatHeader("Subject", "日本語のテキスト");
    expect(cjk).toMatch(/^Subject: =\?UTF-8\?B\?/);
    expect(decodeHeaderValue(cjk.slice(9, -2).replace(/\r\n/g, ""))).toBe("日本語のテキスト");
    // "=?" in a literal word would be read back as a word start: encoded too.
    expect(decodeHeaderValue(formatHeader("X", "a =?x?q?y?= b").slice(3, -2))).toBe("a =?x?q?y?= b");
  });

  it("folds encoded words at 78 columns, words ≤ 75, never splitting characters", () => {
    for (const value of ["è".repeat(300), "😀".repeat(120), "a è ".repeat(60) + "fine", "日本".repeat(100)]) {
      const out = formatHeader("Subject", value);
      const ls = out.split("\r\n").slice(0, -1);
      for (const l of ls) expect(l.length).toBeLessThanOrEqual(78);
      for (const w of out.match(/=\?[^?]+\?[BQ]\?[^?]*\?=/g) ?? []) {
        expect(w.length).toBeLessThanOrEqual(75);
        // Each word decodes on its own to valid text (no split character).
        expect(decodeHeaderValue(w)).not.toContain("\ufffd");
      }
      const unfolded = out.slice("Subject:".length, -2).replace(/\r\n/g, "");
      expect(decodeHeaderValue(unfolded.trim())).toBe(value.trim());
    }
  });

  it("refuses CR, LF and NUL anywhere, and invalid names", () => {
    for (const [n, v] of [
      ["Subject", "a\r\nBcc: x@y"],
      ["Subject", "a\nb"],
      ["Subject", "a\rb"],
      ["Subject", "a\0b"],
      ["X\r\nBcc", "v"],
      ["X\0", "v"],
    ]) {
      expectCode(() => formatHeader(n!, v!), "ERR_HEADER_INJECTION");
      expectCode(() => buildMime({ headers: [[n!, v!]], body: "x" }), "ERR_HEADER_INJECTION");
    }
    for (const n of ["", "Bad Name", "Bad:Name", "Città", "X\t"]) expectCode(() => formatHeader(n, "v"), "ERR_INVALID_ARGUMENT");
  });

  it("rewrites non-ASCII Content-Type/Disposition parameters with RFC 2231", () => {
    const out = formatHeader("Content-Disposition", 'attachment; filename="fàttura.pdf"');
    expect(out).toBe("Content-Disposition: attachment; filename*=utf-8''f%C3%A0ttura.pdf\r\n");
  });
});

describe("buildMime", () => {
  const pdf = new Uint8Array(1000).map((_, i) => (i * 31 + 7) & 255);
  const tree: MimeNode = {
    headers: [
      ["MIME-Version", "1.0"],
      ["Subject", "Fattura n° 12 — città"],
      ["Content-Type", "multipart/mixed"],
    ],
    preamble: "This is a multi-part message in MIME format.",
    children: [
      { headers: [["Content-Type", "text/plain; charset=utf-8"]], body: "Buongiorno,\nin allegato la fattura.\n" },
      {
        headers: [
          ["Content-Type", "application/pdf"],
          ["Content-Disposition", formatParams("attachment", { filename: "fàttura 12.pdf" })],
        ],
        body: pdf,
      },
      {
        headers: [["Content-Type", "message/rfc822"]],
        children: [{ headers: [["Subject", "inner"]], body: "ciao" }],
      },
    ],
  };

  it("writes CRLF only, base64 at 76 columns, and parses back", () => {
    const bytes = buildMime(tree);
    expectCrlfOnly(bytes);
    const root = parseMime(bytes);
    expect(equalBytes(reconstruct(root), bytes)).toBe(true);
    expect(root.headers[1]!.decoded).toBe("Fattura n° 12 — città");
    expect(root.contentType.mimeType).toBe("multipart/mixed");
    const [text, att, msg] = root.children as [typeof root, typeof root, typeof root];
    expect(text.text()).toBe("Buongiorno,\r\nin allegato la fattura.\r\n");
    expect(text.transferEncoding).toBe("7bit");
    expect(att.transferEncoding).toBe("base64");
    expect(att.decodedBody()).toEqual(pdf);
    expect(att.filename).toBe("fàttura 12.pdf");
    const b64 = lines(att.bodyBytes()).filter((l) => l !== "");
    expect(b64.slice(0, -1).every((l) => l.length === 76)).toBe(true);
    expect(b64.at(-1)!.length).toBeLessThanOrEqual(76);
    expect(msg.children[0]!.header("subject")).toBe("inner");
    expect(msg.children[0]!.text()).toBe("ciao");
    const mp = root.multipart!;
    expect(dec(root.source.subarray(mp.preamble.start, mp.preamble.end))).toBe("This is a multi-part message in MIME format.");
    expect(mp.closed).toBe(true);
  });

  it("uses fresh random boundaries that do not occur in the content", () => {
    const a = parseMime(buildMime(tree)).multipart!.boundary;
    const b = parseMime(buildMime(tree)).multipart!.boundary;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^=_pc_[0-9a-f]{32}$/);
    const bytes = buildMime(tree);
    const text = dec(bytes);
    const boundary = parseMime(bytes).multipart!.boundary;
    // Exactly the four delimiter lines (3 parts + close).
    expect(text.split("--" + boundary).length - 1).toBe(4);
  });

  it("refuses a given boundary that occurs as a delimiter in the content", () => {
    const child: MimeNode = { headers: [["Content-Type", "text/plain"]], body: "x\r\n--abc\r\ny", transferEncoding: "8bit" };
    expectCode(() => buildMime({ headers: [["Content-Type", "multipart/mixed"]], boundary: "abc", children: [child] }), "ERR_INVALID_ARGUMENT");
    expectCode(() => buildMime({ headers: [["Content-Type", 'multipart/mixed; boundary="abc"']], children: [child] }), "ERR_INVALID_ARGUMENT");
    expectCode(() => buildMime({ boundary: "bad\u00e8", children: [] }), "ERR_INVALID_ARGUMENT");
    expectCode(() => buildMime({ boundary: "x".repeat(71), children: [] }), "ERR_INVALID_ARGUMENT");
    // A boundary that only occurs inside a line is fine.
    const ok = buildMime({ boundary: "abc", children: [{ body: "x --abc y" }] });
    expect(parseMime(ok).children[0]!.text()).toBe("x --abc y");
  });

  it("keeps given boundaries, preamble and epilogue", () => {
    const bytes = buildMime({
      headers: [["Content-Type", "multipart/alternative"]],
      boundary: "b (1)",
      preamble: "pre",
      epilogue: "epi\r\n",
      children: [{ body: "one" }, { body: "two" }],
    });
    expect(dec(bytes)).toBe(
      'Content-Type: multipart/alternative; boundary="b (1)"\r\n\r\npre\r\n--b (1)\r\nContent-Type: text/plain; charset=utf-8\r\n\r\none\r\n' +
        "--b (1)\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ntwo\r\n--b (1)--\r\nepi\r\n",
    );
  });

  it("chooses transfer encodings, and honours explicit ones", () => {
    const enc1 = (node: MimeNode) => parseMime(buildMime(node));
    expect(enc1({ body: "ascii only" }).transferEncoding).toBe("7bit");
    expect(enc1({ body: "città" }).transferEncoding).toBe("quoted-printable");
    expect(enc1({ body: "città" }).text()).toBe("città");
    expect(enc1({ body: "日本語" }).transferEncoding).toBe("base64");
    expect(enc1({ body: new Uint8Array([0, 1, 2]) }).transferEncoding).toBe("base64");
    expect(enc1({ body: enc("a\nb") }).transferEncoding).toBe("base64");
    expect(enc1({ body: "x".repeat(2000) }).transferEncoding).toBe("quoted-printable");
    expect(enc1({ headers: [["Content-Type", "text/plain"]], body: "città", transferEncoding: "base64" }).transferEncoding).toBe("base64");
    const qp = enc1({ headers: [["Content-Transfer-Encoding", "Quoted-Printable"]], body: new Uint8Array([0xff]) });
    expect(qp.header("content-transfer-encoding")).toBe("quoted-printable");
    expect(qp.decodedBody()).toEqual(new Uint8Array([0xff]));
    const eight = enc1({ headers: [["Content-Type", "text/plain; charset=utf-8"]], body: "città", transferEncoding: "8bit" });
    expect(eight.text()).toBe("città");
    expect(eight.headerAll("content-transfer-encoding")).toEqual(["8bit"]);
  });

  it("adds charset=utf-8 to text types whose string body is not ASCII", () => {
    expect(parseMime(buildMime({ headers: [["Content-Type", "text/html"]], body: "è" })).contentType.params["charset"]).toBe("utf-8");
    expect(parseMime(buildMime({ headers: [["Content-Type", "text/html"]], body: "e" })).contentType.params["charset"]).toBeUndefined();
    expect(parseMime(buildMime({ headers: [["Content-Type", "text/plain; charset=iso-8859-1"]], body: "è" })).contentType.params["charset"]).toBe("iso-8859-1");
  });

  it("writes pre-encoded bodies and raw children verbatim", () => {
    const signedPart = enc("Content-Type: text/plain\n\nbare LF kept\n");
    const bytes = buildMime({
      headers: [["Content-Type", 'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256']],
      children: [
        { raw: signedPart },
        { headers: [["Content-Type", "application/pkcs7-signature"]], transferEncoding: "base64", bodyEncoded: true, body: enc("AAEC\r\n") },
      ],
    });
    const root = parseMime(bytes);
    expect(root.children[0]!.raw()).toEqual(signedPart);
    expect(root.children[1]!.decodedBody()).toEqual(new Uint8Array([0, 1, 2]));
    expect(root.children[1]!.bodyBytes()).toEqual(enc("AAEC\r\n"));
  });

  it("embeds a raw message in message/rfc822, and can base64 it", () => {
    const original = enc("Subject: orig\nMessage-ID: <x@y>\n\nbody with LF\n");
    const plain = parseMime(buildMime({ headers: [["Content-Type", "message/rfc822"]], children: [{ raw: original }] }));
    expect(plain.children[0]!.raw()).toEqual(original);
    const b64 = parseMime(buildMime({ headers: [["Content-Type", "message/rfc822"]], transferEncoding: "base64", children: [{ raw: original }] }));
    expect(b64.transferEncoding).toBe("base64");
    expect(b64.children[0]!.source).toEqual(original);
    expect(b64.children[0]!.header("subject")).toBe("orig");
  });

  it("refuses malformed nodes", () => {
    const bad: unknown[] = [
      null,
      { body: 5 },
      { body: "x", children: [] },
      { raw: enc("x"), body: "y" },
      { raw: "x" },
      { headers: [["X"]] },
      { headers: "X: y" },
      { headers: [["Content-Type", "text/plain"]], children: [] },
      { headers: [["Content-Type", "message/rfc822"]], children: [] },
      { transferEncoding: "uuencode", body: "x" },
      { headers: [["Content-Type", "multipart/mixed"]], transferEncoding: "base64", children: [] },
      { children: [null] },
    ];
    for (const b of bad) expectCode(() => buildMime(b as MimeNode), "ERR_INVALID_ARGUMENT");
  });

  it("stops cyclic or absurdly deep trees", () => {
    const cyc: { children: MimeNode[] } = { children: [] };
    cyc.children.push(cyc);
    expectCode(() => buildMime(cyc), "ERR_TOO_DEEP");
    let deep: MimeNode = { body: "leaf" };
    for (let i = 0; i < 200; i++) deep = { children: [deep] };
    const root = parseMime(buildMime(deep), { maxDepth: 300 });
    let e = root;
    while (e.children.length > 0) e = e.children[0]!;
    expect(e.depth).toBe(200);
    expect(e.text()).toBe("leaf");
  });
});
