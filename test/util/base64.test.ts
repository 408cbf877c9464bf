import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseMime } from "../../src/mime/index.js";
import { RepeatingBase64, decodeBase64Bytes, encodeBase64Bytes } from "../../src/util/base64.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** The tolerant decoder one character at a time: what the four-at-a-time loop must equal. */
function reference(input: Uint8Array): Uint8Array {
  const value = (c: number): number => {
    // RFC 2045 §6.8: anything outside the alphabet ("-" and "_" of base64url included) is skipped.
    return c < 128 ? ALPHABET.indexOf(String.fromCharCode(c)) : -1;
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

  it("skips '-' and '_': a '-- ' signature or a '____' footer after a base64 body adds no bytes", () => {
    const message = bytes("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs--bG8g\r\nd29y__bGQ=\r\n-- \r\n____\r\n");
    expect(new TextDecoder().decode(parseMime(message).decodedBody())).toBe("hello world");
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

describe("RepeatingBase64", () => {
  const char = fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(...ALPHABET) },
    { weight: 1, arbitrary: fc.constantFrom("\r\n", "\n", " ", "=", "==", "-", "*", "\u00e9") },
  );
  const text = fc.array(char, { maxLength: 1500 }).map((c) => c.join(""));
  // Heads like real bodies: long runs of the alphabet between line breaks, rarely anything else.
  const headChar = fc.oneof(
    { weight: 300, arbitrary: fc.constantFrom(...ALPHABET) },
    { weight: 8, arbitrary: fc.constantFrom("\r\n", "\n") },
    { weight: 1, arbitrary: fc.constantFrom(" ", "=", "*", "\u00e9") },
  );
  const head = fc.array(headChar, { minLength: 300, maxLength: 1500 }).map((c) => c.join(""));

  it("gives what decodeBase64Bytes gives for inputs sharing beginnings with earlier ones", () => {
    // Inputs built from a few shared heads with new tails, so that the memos are hit at every
    // kind of divergence point (inside a quantum, on a line break, after "=", at the end).
    fc.assert(
      fc.property(fc.array(head, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(3), fc.nat(1600), text, fc.nat(3)), { maxLength: 12 }), (heads, uses) => {
        const r = new RepeatingBase64();
        for (const [h, cut, tail, margin] of uses) {
          const head = heads[h % heads.length]!;
          const input = bytes(head.slice(0, cut) + tail);
          const start = Math.min(margin, input.length);
          expect(r.decode(input, start, input.length)).toEqual(decodeBase64Bytes(input, start, input.length));
        }
      }),
      // Shrinking these inputs takes minutes: the seed reproduces a failure.
      { seed: 20261124, numRuns: 400, endOnFailure: true },
    );
  });

  it("reuses the decoded beginning of a p7s-like input and still decodes a changed tail", () => {
    const certs = Uint8Array.from({ length: 2400 }, (_, i) => (i * 131 + 7) & 0xff);
    const signed = (k: number): Uint8Array => {
      const der = new Uint8Array(2700);
      der.set(certs);
      for (let i = certs.length; i < der.length; i++) der[i] = (i * k) & 0xff;
      return der;
    };
    const r = new RepeatingBase64();
    for (let k = 1; k <= 20; k++) {
      const der = signed(k);
      // 64-character lines (a multiple of four) and 76-character ones: both resume on line starts.
      const b64 = encodeBase64Bytes(der, k % 2 ? 64 : 76);
      expect(r.decode(b64)).toEqual(der);
    }
    // A flipped character in the shared part is decoded, not taken from the memo.
    const b64 = encodeBase64Bytes(signed(3), 64);
    b64[100] = b64[100] === 65 ? 66 : 65;
    expect(r.decode(b64)).toEqual(decodeBase64Bytes(b64));
  });

  it("remembers a second signer whose p7s shares only its first certificate with the first one's", () => {
    const ca = Uint8Array.from({ length: 900 }, (_, i) => (i * 7) & 0xff);
    const p7s = (signer: number, k: number): Uint8Array => {
      const der = new Uint8Array(2700);
      der.set(ca);
      for (let i = ca.length; i < 2400; i++) der[i] = (i * signer) & 0xff; // the signer's certificate
      for (let i = 2400; i < der.length; i++) der[i] = (i * k) & 0xff; // signed attributes, signature
      return der;
    };
    const r = new RepeatingBase64();
    for (let k = 1; k <= 6; k++) for (const signer of [3, 5]) expect(r.decode(encodeBase64Bytes(p7s(signer, k), 64))).toEqual(p7s(signer, k));
    const memos = (r as unknown as { memos: { dec: Uint8Array }[] }).memos;
    // One memo per signer, each covering its certificate: not one per message, not one for both.
    expect(memos.length).toBe(2);
    for (const m of memos) expect(m.dec.length).toBeGreaterThan(2400);
  });

  it("stays bounded with many different inputs", () => {
    const r = new RepeatingBase64();
    for (let k = 0; k < 40; k++) {
      // Longer than a memo keeps (16 KiB of input).
      const der = Uint8Array.from({ length: 20_000 }, (_, i) => (i * (k + 3)) & 0xff);
      const b64 = encodeBase64Bytes(der, 76);
      const out = r.decode(b64);
      // toEqual walks typed arrays element by element, slowly.
      expect(out.length).toBe(der.length);
      expect(out.every((x, i) => x === der[i])).toBe(true);
    }
    // 16 memos of at most 16 KiB of input and its decoded bytes each.
    const memos = (r as unknown as { memos: { enc: Uint8Array; dec: Uint8Array }[] }).memos;
    expect(memos.length).toBeLessThanOrEqual(16);
    for (const m of memos) expect(m.enc.length + m.dec.length).toBeLessThanOrEqual(16 * 1024 * 2);
  });
});
