import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64Bytes } from "../../src/util/base64.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** The tolerant decoder one character at a time: what the four-at-a-time loop must equal. */
function reference(input: Uint8Array): Uint8Array {
  const value = (c: number): number => {
    const ch = String.fromCharCode(c);
    if (ch === "-") return 62;
    if (ch === "_") return 63;
    return c < 128 ? ALPHABET.indexOf(ch) : -1;
  };
  const out: number[] = [];
  let acc = 0;
  let n = 0;
  for (const c of input) {
    const v = value(c);
    if (v < 0) {
      if (c === 61 && n >= 2) {
        out.push(n === 2 ? (acc >> 4) & 0xff : (acc >> 10) & 0xff);
        if (n === 3) out.push((acc >> 2) & 0xff);
        acc = 0;
        n = 0;
      }
      continue;
    }
    acc = (acc << 6) | v;
    if (++n === 4) {
      out.push((acc >> 16) & 0xff, (acc >> 8) & 0xff, acc & 0xff);
      acc = 0;
      n = 0;
    }
  }
  if (n === 2) out.push((acc >> 4) & 0xff);
  else if (n === 3) out.push((acc >> 10) & 0xff, (acc >> 2) & 0xff);
  return Uint8Array.from(out);
}

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("decodeBase64Bytes", () => {
  it("decodes MIME lines, padding, junk and truncation as the one-character reference does", () => {
    // Mostly alphabet characters, with the bytes that leave the fast loop: line breaks, "=", junk, 8-bit.
    const char = fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom(...ALPHABET) },
      { weight: 1, arbitrary: fc.constantFrom("\r\n", "\n", " ", "=", "==", "-", "_", "*", "\u00e9", "\u0000") },
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 300 }), fc.nat(8), fc.nat(8), (chars, cutStart, cutEnd) => {
        const input = bytes(chars.join(""));
        const start = Math.min(cutStart, input.length);
        const end = Math.max(start, input.length - cutEnd);
        expect(decodeBase64Bytes(input, start, end)).toEqual(reference(input.subarray(start, end)));
      }),
      { seed: 20261123, numRuns: 2000 },
    );
  });

  it("round-trips 76-character lines", () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff);
    let b64 = "";
    for (let i = 0; i < data.length; i += 3) {
      const chunk = data.subarray(i, i + 3);
      const v = (chunk[0]! << 16) | ((chunk[1] ?? 0) << 8) | (chunk[2] ?? 0);
      const four = [18, 12, 6, 0].map((s) => ALPHABET[(v >> s) & 63]).join("");
      b64 += chunk.length === 3 ? four : chunk.length === 2 ? four.slice(0, 3) + "=" : four.slice(0, 2) + "==";
    }
    const lines = b64.replace(/.{76}/g, "$&\r\n");
    expect(decodeBase64Bytes(bytes(lines))).toEqual(data);
    expect(decodeBase64Bytes(bytes(lines), 4, lines.length)).toEqual(data.subarray(3));
  });
});
