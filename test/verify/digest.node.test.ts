// The built-in SHA-224 against Node's OpenSSL, on every length around the block edges.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha224 } from "../../src/smime/digest.js";
import { toHex } from "../../src/util/bytes.js";

describe("sha224 vs node:crypto", () => {
  it("matches for lengths 0..300 and a few large ones", () => {
    for (const n of [...Array.from({ length: 301 }, (_, i) => i), 4095, 65536, 1_000_003]) {
      const data = new Uint8Array(randomBytes(n));
      expect(toHex(sha224(data))).toBe(createHash("sha224").update(data).digest("hex"));
    }
  });
});
