// The parser's fast paths against its general ones: parseParamsAscii (parameters read from
// the raw bytes of a field) against parseParams of the unfolded, decoded value, and the
// string-based line and delimiter searches against the byte loops they replace.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseMime, parseParams } from "../../src/mime/index.js";
import type { MimeEntity } from "../../src/mime/index.js";
import { parseParamsAscii } from "../../src/mime/params.js";
import { DashLines, sourceText } from "../../src/mime/boundary.js";
import { latin1 } from "../../src/util/bytes.js";
import { bin, enc } from "./helpers.js";

const SEED = 20_260_102;
const text = (src: Uint8Array, start: number, end: number): string => latin1(src, start, end);

/** What the general path gives for a field value, and the fast path when it takes it. */
function bothWays(value: Uint8Array): { general: { value: string; params: Record<string, string> }; fast: ReturnType<typeof parseParamsAscii>; ct: MimeEntity["contentType"] } {
  const prefix = enc("Content-Type:");
  const msg = new Uint8Array(prefix.length + value.length + 4);
  msg.set(prefix);
  msg.set(value, prefix.length);
  msg.set(enc("\r\n\r\n"), prefix.length + value.length);
  const root = parseMime(msg);
  const field = root.headers[0]!;
  const raw = field.raw;
  return { general: parseParams(field.value), fast: parseParamsAscii(raw, prefix.length, raw.length, text), ct: root.contentType };
}

/** Params as [name, value] pairs in order, with the prototype checked. */
function entries(params: Readonly<Record<string, string>>): [string, string][] {
  expect(Object.getPrototypeOf(params)).toBe(null);
  return Object.keys(params).map((k) => [k, params[k]!]);
}

// Field values built from the pieces the byte-level parse treats specially, folding included.
const piece = fc.constantFrom(
  ";", "=", "\"", "(", ")", "\\", "*", " ", "\t", "\r\n ", "\n\t", "\r\n\t ", "\r", "\n", "\r\r\n ",
  "/", "a", "B", "multipart/mixed", "text/plain", "boundary", "BOUNDARY", "charset", "name", "__proto__",
  "=_pc_4b862e53", "----=_Part_1", "\"quoted value\"", "\"a;b\"", "utf-8", "sha-256", "=?utf-8?q?x?=",
  "\u00e8", "\u00c3\u00a8", "\u00ff", "%41", "x*0", "'", "=\r", "=\r\n ", "\r\"", "; x=\"y\"",
);
const flatValue = fc.array(piece, { maxLength: 24 }).map((parts) => " " + parts.join(""));
// And shaped like a parameter list, with white space, folds and lone line breaks between the tokens.
const ws = fc.constantFrom("", "", " ", "\t", "\r\n ", "\n\t", "\r", "\r\r\n ", "\n", "\r\n");
const token = fc.constantFrom(
  "a", "boundary", "BOUNDARY", "charset", "name", "__proto__", "x*0", "n*", "", "=_pc_4b86", "a b", "a(b)",
  "\u00e8", "\u00c3\u00a8", "\\", "'", "%41", "=?utf-8?q?x?=", "a\r\n b", "a\rb",
);
const quoted = fc.oneof(
  token.map((t) => `"${t}"`),
  fc.constantFrom('"a;b"', '"unterminated', '"a"junk', '"a\\"b"', '"a\r\n b"', '"a" "b"', '""'),
);
const param = fc
  .tuple(fc.constantFrom(";", ";;", "", "; "), ws, token, ws, fc.constantFrom("=", "=", "", "=="), ws, fc.oneof(token, quoted), ws)
  .map((p) => p.join(""));
const paramList = fc
  .tuple(ws, fc.constantFrom("multipart/mixed", "Text/Plain", "a/b", "x", "", 'a"b', "a(c)/b", "a\r\n /b"), ws, fc.array(param, { maxLength: 5 }))
  .map(([a, v, b, ps]) => a + v + b + ps.join(""));
const fieldValue = fc.oneof(flatValue, paramList).map(bin);

describe("parseParamsAscii", () => {
  it("gives what parseParams gives on the unfolded value, or leaves the value to it", () => {
    let taken = 0;
    let runs = 0;
    fc.assert(
      fc.property(fieldValue, (value) => {
        const { general, fast, ct } = bothWays(value);
        runs++;
        // Whichever path the parser took, the content type has the general path's parameters.
        expect(entries(ct.params)).toEqual(entries(general.params));
        if (fast === undefined) return;
        taken++;
        expect(fast.value).toBe(general.value);
        expect(entries(fast.params)).toEqual(entries(general.params));
      }),
      { seed: SEED, numRuns: 3000 },
    );
    // The generator must exercise the fast path, not only its refusals.
    expect(taken / runs).toBeGreaterThan(0.15);
  });

  it("takes the folded multipart types of a receipt", () => {
    const v = bin(' multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;\r\n boundary="----=_postacert_8e8e"\r\n');
    expect(parseParamsAscii(v, 0, v.length, text)).toEqual({
      value: "multipart/signed",
      params: Object.assign(Object.create(null) as object, { protocol: "application/pkcs7-signature", micalg: "sha-256", boundary: "----=_postacert_8e8e" }),
    });
    for (const fold of ["\r\n ", "\n ", "\r\n\t", "\n\t\t"]) {
      const w = bin(` multipart/mixed;${fold}BOUNDARY = x ;${fold}charset=${fold}"a b"\r\n`);
      const { general, fast } = bothWays(w.subarray(0, w.length - 2));
      expect(fast).toBeDefined();
      expect(entries(fast!.params)).toEqual([["boundary", "x"], ["charset", "a b"]]);
      expect(entries(general.params)).toEqual(entries(fast!.params));
    }
  });

  it("leaves 8-bit bytes, comments, escapes, RFC 2231 names and line breaks inside tokens to parseParams", () => {
    for (const v of [
      ' text/plain; name="caf\u00e8.pdf"', // Latin-1
      ' text/plain; name="caf\u00c3\u00a8.pdf"', // UTF-8
      " text/plain (c); a=b",
      ' a/b; q="x\\"y"',
      " a/b; n*0=x; n*1=y",
      " a/b; name=\"a\r\n b\"", // a fold inside a quoted value
      " a/b; name=ab\r\n cd", // a fold inside a token
      " mult\r\n ipart/mixed; boundary=x",
      ' a/b; name="a"junk',
      ' a/b; name="unterminated',
    ]) {
      const b = bin(v);
      expect(parseParamsAscii(b, 0, b.length, text), JSON.stringify(v)).toBeUndefined();
      const { general, ct } = bothWays(b);
      expect(entries(ct.params)).toEqual(entries(general.params));
    }
  });

  it("reads lone CRs the way unfolding keeps them", () => {
    for (const v of [" a/b;\r c=d", " a/b; c=d\r", " a/b; c\r=d", " a/b; c=\r\"d\"\r ;e=f", " a/b; c=\r\n \"d\"", " a/b; c=d\r\re=f"]) {
      const { general, fast, ct } = bothWays(bin(v));
      if (fast !== undefined) expect(entries(fast.params)).toEqual(entries(general.params));
      expect(entries(ct.params)).toEqual(entries(general.params));
    }
  });
});

describe("text-based searches", () => {
  /** Delimiter candidates found by the byte loop (no text given) and over the text. */
  function candidates(bytes: Uint8Array, start: number, end: number): { bytes: readonly number[] | undefined; text: readonly number[] | undefined } {
    const t = sourceText(bytes, 0, bytes.length);
    return { bytes: DashLines.collect(bytes, start, end)?.positions, text: t === undefined ? undefined : DashLines.collect(bytes, start, end, t)?.positions };
  }

  it("finds the same line-start dashes in a string as in the bytes", () => {
    const atom = fc.constantFrom("\n", "\r\n", "-", "--", "---", "a", " ", "\r", "--b", "\n--", "x-y");
    fc.assert(
      fc.property(fc.array(atom, { maxLength: 60 }), fc.nat(), fc.nat(), (parts, a, b) => {
        const bytes = enc(parts.join(""));
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (bytes.length === start ? 0 : b % (bytes.length - start + 1));
        const c = candidates(bytes, start, end);
        expect(c.text).toEqual(c.bytes);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it("finds every line-start dash of a large range, across its 64 KiB chunks, with or without UTF-8", () => {
    /** Every p with LF before, "--" at p, inside (start, end); undefined beyond the density cap. */
    const reference = (b: Uint8Array, start: number, end: number): number[] | undefined => {
      const out: number[] = [];
      for (let p = start + 1; p + 1 < end; p++) if (b[p - 1] === 10 && b[p] === 45 && b[p + 1] === 45) out.push(p);
      return out.length > 1024 + ((end - start) >> 6) ? undefined : out;
    };
    const CHUNK = 64 * 1024;
    const atom = fc.constantFrom("\n--", "\r\n--b", "-", "--", "\n-", "\n", "\n---x");
    fc.assert(
      fc.property(
        fc.nat(8),
        fc.array(fc.tuple(fc.nat(3), fc.integer({ min: -4, max: 4 }), atom), { maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.nat(20),
        (start, inserts, utf8, cut) => {
          // Filler without dashes, atoms written over it near the chunk edges (start + 1 + k × 64 KiB),
          // and a UTF-8 "è" in the middle of the chosen chunks (their text does not map byte to unit).
          const bytes = Uint8Array.from({ length: 3 * CHUNK + 200 }, (_, i) => (i % 70 === 69 ? 10 : 97));
          utf8.forEach((on, k) => {
            if (on && start + 1 + k * CHUNK + 30_000 < bytes.length) bytes.set([0xc3, 0xa8], start + 1 + k * CHUNK + 30_000);
          });
          for (const [k, d, a] of inserts) {
            const at = Math.max(0, Math.min(bytes.length - a.length, start + 1 + k * CHUNK + d));
            bytes.set(bin(a), at);
          }
          const end = bytes.length - cut;
          expect(DashLines.collect(bytes, start, end)?.positions).toEqual(reference(bytes, start, end));
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("makes a text only when it maps byte to unit, so the byte loops serve UTF-8", () => {
    expect(sourceText(bin("a\u00e8b"), 0, 3)?.text).toBe("a\ufffdb"); // an invalid byte on its own
    expect(sourceText(enc("aèb"), 0, 4)).toBeUndefined();
    expect(sourceText(bin("\u00ef\u00bb\u00bfab"), 0, 5)).toBeUndefined(); // a BOM
    expect(sourceText(bin("\u00e2\u0082-"), 0, 3)).toBeUndefined(); // a truncated sequence
    expect(sourceText(enc("a\n--b"), 1, 5)?.text).toBe("\n--b");
  });

  it("parses 8-bit and ASCII copies of a message the same way", () => {
    const body = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n\r\nY\r\n--b--\r\n";
    for (const eol of ["\r\n", "\n", "\r"]) {
      const ascii = parseMime(bin(`Subject: a\r\nContent-Type: multipart/mixed;\r\n boundary=b\r\n\r\n${body}`.replace(/\r\n/g, eol)));
      const eight = parseMime(bin(`Subject: \u00e8\r\nContent-Type: multipart/mixed;\r\n boundary=b\r\n\r\n${body}`.replace(/\r\n/g, eol)));
      const shape = (e: MimeEntity): unknown => [e.headers.map((h) => [h.name, h.end - h.start]), e.contentType.mimeType, e.children.map(shape)];
      expect(shape(eight)).toEqual(shape(ascii));
      if (eol === "\r") continue; // CR alone ends no line: one long field
      expect(ascii.headers[0]!.value).toBe("a");
      expect(eight.headers[0]!.value).toBe("\u00e8");
      expect(ascii.children.map((c) => c.text())).toEqual(["x", "Y"]);
    }
  });
});

describe("header blocks", () => {
  // A body with a UTF-8 sequence has no text (byte loops); an ASCII one has (string searches).
  const bodies = { text: "ascii body\r\n", bytes: "body \u00c3\u00a8\r\n" };

  it("refuses exactly the header blocks longer than maxHeaderBytes, in both scan modes", () => {
    for (const [mode, body] of Object.entries(bodies)) {
      for (const head of ["A: 1\r\nB: 2\r\n\r\n", "A: 1\nB:\n 2\n\n", "A: 1\r\nB: 2", "X\r\n\r\n", "\r\n"]) {
        const msg = bin(head + (head.endsWith("\n\n") ? body : ""));
        const blank = head.endsWith("\n\n") ? head.length : msg.length;
        for (let limit = 0; limit <= blank + 2; limit++) {
          let error: unknown;
          try {
            parseMime(msg, { maxHeaderBytes: limit });
          } catch (e) {
            error = e;
          }
          expect(error === undefined, `${mode} ${JSON.stringify(head)} limit ${limit}`).toBe(limit >= blank);
          if (error !== undefined) expect(error).toMatchObject({ code: "ERR_TOO_LARGE", details: { offset: 0, limit } });
        }
      }
    }
  });

  it("splits the same fields with and without a text, for every line ending", () => {
    for (const eol of ["\r\n", "\n", "\r", "\r\r\n"]) {
      const head = ["Subject: x", "Content-Type: multipart/mixed;", "\tboundary=b", "no colon", " folded", "Content-Transfer-Encoding : 7bit", ""].join(eol) + eol;
      const parts = `--b${eol}Content-Type: text/plain${eol}${eol}x${eol}--b--${eol}`;
      // Where no line is blank ("\r", "\r\r\n") the differing tail ends the last field's value.
      const fields = (e: MimeEntity): unknown => e.headers.map((h, i) => [h.name, h.start, h.end, i === e.headers.length - 1 ? "" : h.value]);
      const shape = (e: MimeEntity): unknown => [fields(e), e.headerEnd, e.contentType.mimeType, e.transferEncoding, e.children.map(shape)];
      expect(shape(parseMime(bin(head + parts + "\u00c3\u00a8"))), JSON.stringify(eol)).toEqual(shape(parseMime(bin(head + parts + "e!"))));
    }
  });
});

describe("shared content types", () => {
  it("are frozen, so no caller can change another entity's", () => {
    // A value is shared from its second sighting on (a value seen once, such as an
    // attachment's name, is parsed for its entity alone).
    const head = "Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: inline; filename=a.txt\r\n\r\n";
    expect(parseMime(enc(head + "x")).disposition?.type).toBe("inline");
    const a = parseMime(enc(head + "y"));
    const b = parseMime(enc(head + "z"));
    expect(b.contentType).toBe(a.contentType);
    expect(b.disposition).toBe(a.disposition);
    for (const o of [a.contentType, a.contentType.params, a.disposition!, a.disposition!.params]) expect(Object.isFrozen(o)).toBe(true);
    expect(() => {
      (a.contentType.params as Record<string, string>)["charset"] = "x";
    }).toThrow(TypeError);
    expect(b.contentType.params["charset"]).toBe("utf-8");
    expect(b.filename).toBe("a.txt");
  });

  it("are not shared on a first sighting, and read the same either way", () => {
    // A name no other test of this file uses (each test file has its own module tables).
    const unique = `Content-Type: application/pdf; name="first-sighting.pdf"\r\nContent-Disposition: attachment; filename=x.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
    const first = parseMime(enc(unique + "QQ=="));
    const second = parseMime(enc(unique + "Qg=="));
    expect(first.contentType).not.toBe(second.contentType);
    for (const e of [first, second]) {
      expect(e.contentType.mimeType).toBe("application/pdf");
      expect(e.contentType.params["name"]).toBe("first-sighting.pdf");
      expect(e.disposition).toEqual({ type: "attachment", params: { filename: "x.pdf" } });
      expect(e.transferEncoding).toBe("base64");
      expect(e.headers[0]!.value).toBe(unique.slice("Content-Type: ".length, unique.indexOf("\r\n")));
    }
    expect(first.contentType).toEqual(second.contentType);
    expect(new TextDecoder().decode(second.decodedBody())).toBe("B");
  });

  it("keep the digest default per entity", () => {
    const digest = parseMime(enc("Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\nContent-Type: bogus\r\n\r\nx\r\n--d--\r\n"));
    const mixed = parseMime(enc("Content-Type: multipart/mixed; boundary=d\r\n\r\n--d\r\nContent-Type: bogus\r\n\r\nx\r\n--d--\r\n"));
    expect(digest.children[0]!.contentType.mimeType).toBe("message/rfc822");
    expect(mixed.children[0]!.contentType.mimeType).toBe("text/plain");
  });
});
