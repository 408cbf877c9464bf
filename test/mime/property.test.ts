// Property tests: parsing never throws anything but PecError, and build → parse round-trips.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { buildMime, parseMime, walkEntities } from "../../src/mime/index.js";
import type { MimeEntity, MimeHeaderField, MimeNode } from "../../src/mime/index.js";
import { isPecError } from "../../src/errors.js";
import { equalBytes } from "../../src/util/bytes.js";
import { checkInvariants, crlf, enc, reconstruct } from "./helpers.js";

const SEED = 20_260_101;

/** Parses and touches everything lazily computed; any non-PecError fails the property. */
function exercise(bytes: Uint8Array): void {
  let root: MimeEntity;
  try {
    root = parseMime(bytes, { maxDepth: 8, maxParts: 200 });
  } catch (e) {
    if (isPecError(e)) return;
    throw e;
  }
  checkInvariants(root);
  expect(equalBytes(reconstruct(root), bytes)).toBe(true);
  for (const e of walkEntities(root)) {
    for (const h of e.headers) void (h.value + h.decoded + h.raw.length);
    void e.filename;
    void e.disposition;
    void e.decodedBody();
    void e.text();
    void e.path;
  }
}

const SAMPLE = enc(
  crlf(`From: =?utf-8?Q?Mario_Ross=C3=AC?= <a@b.it>
Subject: =?ISO-8859-1?Q?Citt=E0?= =?utf8?B?w6g=?=
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary="=_S"

--=_S
Content-Type: multipart/mixed; boundary="M"

--M
Content-Type: text/plain; charset=utf-7
Content-Transfer-Encoding: quoted-printable

Citt+AOA- =3D=
 ok
--M
Content-Type: message/rfc822
Content-Transfer-Encoding: base64

U3ViamVjdDogaW5uZXINCkNvbnRlbnQtVHlwZTogbXVsdGlwYXJ0L21peGVkOyBib3VuZGFyeT1pDQoNCi0taQ0KDQpoaQ0KLS1pLS0NCg==
--M
Content-Type: message/rfc822

Subject: inner2
Content-Type: multipart/digest; boundary=d

--d

Subject: x

y
--d--
--M
Content-Disposition: attachment; filename*0*=utf-8''%C3%A8; filename*1=".pdf"
Content-Type: application/octet-stream

data
--M--
--=_S
Content-Type: application/pkcs7-signature
Content-Transfer-Encoding: base64

AAEC
--=_S--
`),
);

describe("parseMime robustness", () => {
  it("starts the mutations from a valid tree", () => {
    const root = parseMime(SAMPLE);
    const mixed = root.children[0]!;
    expect(mixed.children.map((c) => c.contentType.mimeType)).toEqual(["text/plain", "message/rfc822", "message/rfc822", "application/octet-stream"]);
    expect(mixed.children[0]!.text()).toBe("Città = ok\r\n".slice(0, -2));
    expect(mixed.children[1]!.children[0]!.children[0]!.text()).toBe("hi");
    expect(mixed.children[2]!.children[0]!.children[0]!.children[0]!.header("subject")).toBe("x");
    expect(mixed.children[3]!.filename).toBe("è.pdf");
    expect(root.headers[1]!.decoded).toBe("Cittàè");
  });

  it("throws nothing but PecError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => exercise(bytes)),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("throws nothing but PecError on random MIME-ish text", () => {
    const atoms = fc.constantFrom(
      "\r\n", "\n", "\r", " ", "\t", ":", "--", "--M", "--M--", "--=_S", "=?", "?=", "=?utf-8?q?", "=?x?b?", "=", "=E8", "\"", ";",
      "Content-Type: multipart/mixed; boundary=M\r\n", "Content-Type: message/rfc822\r\n", "Content-Transfer-Encoding: base64\r\n",
      "Content-Transfer-Encoding: quoted-printable\r\n", "Content-Disposition: attachment; filename*0*=x'y'%E8; filename*1=a\r\n",
      "Content-Type: text/plain; charset=utf-7\r\n", "+AOA-", "\u00e8", "\xff", "a", "Subject: ",
    );
    fc.assert(
      fc.property(fc.array(atoms, { maxLength: 120 }), (parts) => exercise(enc(parts.join("")))),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("throws nothing but PecError on mutated valid messages", () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("del" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant("dup" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 80 }) }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 8 }), (muts) => {
        let b = Array.from(SAMPLE);
        for (const m of muts) {
          const at = m.at % (b.length + 1);
          if (m.kind === "set") b[at] = m.byte;
          else if (m.kind === "del") b.splice(at, m.len);
          else if (m.kind === "dup") b.splice(at, 0, ...b.slice(at, at + m.len));
          else b = b.slice(0, at);
        }
        exercise(Uint8Array.from(b));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

// Trees for the round trip. Header values: any text without CR/LF/NUL, compared trimmed of SP/HT.
const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).map((n) => "X-" + n);
const valueUnit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(" ", "\t", "  ", "=?", "?=", "=?utf-8?q?x?=", "è", "😀", "日本", "\u00a0", "\ufeff") },
);
const headerValue = fc.array(valueUnit, { maxLength: 60 }).map((a) => a.join("").replace(/[\r\n\0]/g, " "));
const headers = fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 });

const leaf: fc.Arbitrary<MimeNode> = fc.oneof(
  fc.record({ headers, body: fc.string({ unit: "binary", maxLength: 300 }) }),
  fc.record({
    headers: headers.map((h): MimeHeaderField[] => [...h, ["Content-Type", "application/octet-stream"]]),
    body: fc.uint8Array({ maxLength: 600 }),
  }),
  fc.record({
    headers: headers.map((h): MimeHeaderField[] => [["Content-Type", "text/plain; charset=utf-8"], ...h]),
    body: fc.uint8Array({ maxLength: 300 }),
    transferEncoding: fc.constantFrom("base64" as const, "quoted-printable" as const),
  }),
);

const tree: fc.Arbitrary<MimeNode> = fc.letrec<{ node: MimeNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.record({
      headers: headers.map((h): MimeHeaderField[] => [["Content-Type", "multipart/mixed"], ...h]),
      children: fc.array(tie("node"), { maxLength: 4 }),
    }),
    fc.record({
      headers: headers.map((h): MimeHeaderField[] => [...h, ["Content-Type", "message/rfc822"]]),
      children: tie("node").map((n) => [n]),
      transferEncoding: fc.constantFrom(undefined, "base64" as const),
    }).map((r) => (r.transferEncoding === undefined ? { headers: r.headers, children: r.children } : r)),
  ),
})).node;

const trimWs = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, "");

function expectSame(node: MimeNode, e: MimeEntity): void {
  // Every given header comes back in order, with its decoded value.
  const given = node.headers ?? [];
  let k = 0;
  for (const [name, value] of given) {
    while (k < e.headers.length && e.headers[k]!.name !== name) k++;
    const h = e.headers[k];
    expect(h, name).toBeDefined();
    if (name.toLowerCase() !== "content-type") expect(h!.decoded).toBe(trimWs(value));
    k++;
  }
  if (node.children !== undefined) {
    expect(e.children.length).toBe(node.children.length);
    node.children.forEach((c, i) => expectSame(c, e.children[i]!));
  } else {
    const want = typeof node.body === "string" ? enc(node.body.replace(/\r\n|\r|\n/g, "\r\n")) : (node.body ?? new Uint8Array(0));
    expect(e.decodedBody()).toEqual(want);
    if (typeof node.body === "string") expect(e.text()).toBe(node.body.replace(/\r\n|\r|\n/g, "\r\n"));
  }
}

describe("buildMime → parseMime", () => {
  it("round-trips random trees", () => {
    fc.assert(
      fc.property(tree, (node) => {
        const bytes = buildMime(node);
        const root = parseMime(bytes, { maxDepth: 64 });
        checkInvariants(root);
        expect(equalBytes(reconstruct(root), bytes)).toBe(true);
        expectSame(node, root);
        // Everything the builder writes is CRLF-terminated.
        for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10 && bytes[i - 1] !== 13) throw new Error("bare LF");
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("round-trips random header values exactly (after trimming)", () => {
    fc.assert(
      fc.property(headerValue, fc.string({ unit: "binary", maxLength: 200 }).map((s) => s.replace(/[\r\n\0]/g, "")), (a, b) => {
        const bytes = buildMime({ headers: [["Subject", a], ["X-Bin", b]], body: "" });
        const root = parseMime(bytes);
        expect(root.headers[0]!.decoded).toBe(trimWs(a));
        expect(root.headers[1]!.decoded).toBe(trimWs(b));
        // A line may pass 78 columns only when it holds a single unbreakable token.
        for (const line of new TextDecoder().decode(root.headerBytes()).split("\r\n")) {
          if (line.length > 78) expect(line.replace(/^([A-Za-z-]+:)?[ \t]*/, "")).not.toMatch(/[ \t]/);
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});
