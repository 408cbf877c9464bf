// The scans by index that replaced regular expressions V8 runs in quadratic time (see
// linear.node.test.ts) give what the expressions gave, on text made of the characters that matter.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePem } from "../../src/smime/certificate.js";
import { decodeBase64, encodeBase64 } from "../../src/util/base64.js";
import { isJsSpace, replaceSpans, trimEndWhere } from "../../src/util/text.js";

/** Strings over a few characters, so that runs, nesting and unclosed spans are common. */
const textOf = (chars: string[], maxLength = 40): fc.Arbitrary<string> => fc.array(fc.constantFrom(...chars), { maxLength }).map((a) => a.join(""));

describe("the scans that replaced quadratic regular expressions", () => {
  it("isJsSpace is \\s", () => {
    for (let c = 0; c <= 0xffff; c++) expect(isJsSpace(c), c.toString(16)).toBe(/\s/.test(String.fromCharCode(c)));
  });

  it("trimEndWhere is /[…]+$/", () => {
    const spaces = [" ", "\t", "\n", "\u00a0", "\u2003", "\ufeff"];
    fc.assert(
      fc.property(textOf(["a", ".", '"', ...spaces]), (s) => {
        expect(trimEndWhere(s, (c) => c === 0x2e || isJsSpace(c))).toBe(s.replace(/[.\s]+$/, ""));
        expect(trimEndWhere(s, (c) => c === 0x22 || isJsSpace(c))).toBe(s.replace(/["\s]+$/g, ""));
        expect(trimEndWhere(s, (c) => c === 0x20)).toBe(s.replace(/ +$/, ""));
      }),
      { numRuns: 2000 },
    );
  });

  it("replaceSpans is /<[^>]*>/g and /\\([^)]*\\)/g", () => {
    fc.assert(
      fc.property(textOf(["a", "<", ">", "(", ")", " "]), (s) => {
        expect(replaceSpans(s, "<", ">", " ")).toBe(s.replace(/<[^>]*>/g, " "));
        expect(replaceSpans(s, "(", ")", "")).toBe(s.replace(/\([^)]*\)/g, ""));
      }),
      { numRuns: 2000 },
    );
  });

  it("parsePem finds the blocks, labels and lines the expression found", () => {
    /** The previous parsePem. */
    const byExpression = (text: string): { label: string; der: Uint8Array; line: number }[] => {
      const out = [];
      const re = /-----BEGIN ([A-Z0-9 #]+)-----([\s\S]*?)-----END \1-----/g;
      for (let m = re.exec(text); m; m = re.exec(text)) {
        let body = m[2]!;
        if (/^[\s]*[A-Za-z-]+:/.test(body)) body = body.replace(/^[\s\S]*?\r?\n\r?\n/, "");
        out.push({ label: m[1]!, der: decodeBase64(body), line: text.slice(0, m.index).split("\n").length });
      }
      return out;
    };
    const body = encodeBase64(Uint8Array.of(1, 2, 3, 4, 5, 6));
    const piece = fc.constantFrom("-----BEGIN A-----", "-----BEGIN B C-----", "-----END A-----", "-----END B C-----", "-----BEGIN a-----", "-----END -----", "------", "-----BEGIN A", "Proc-Type: 4\n\n", "\n", "\r\n", body, " ", "x");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (pieces) => {
        const text = pieces.join("");
        expect(parsePem(text).map((b) => ({ ...b }))).toEqual(byExpression(text));
      }),
      { numRuns: 3000 },
    );
  });
});
