/**
 * Message digests for the verifier. Internal: not part of the public API.
 *
 * WebCrypto has SHA-1/256/384/512 but not SHA-224, which RFC 5754 lists for CMS. The
 * SHA-224 here is a plain TypeScript SHA-256 core with the SHA-224 initial values
 * (FIPS 180-4 §5.3.2), about 40 lines: smaller and safer than importing
 * `@noble/hashes`, which is only a transitive dependency of pkijs (an undeclared import
 * would break under strict package managers). SHA-224 is rare in CMS, so its speed
 * (≈100 MB/s) does not matter.
 *
 * @module
 */

import { asBufferSource } from "../util/bytes.js";
import type { DigestName } from "./oids.js";

/** What the verifier needs from a WebCrypto implementation. */
export interface CryptoLike {
  /** The SubtleCrypto interface. */
  readonly subtle: SubtleCrypto;
}

/** Digest length in bytes. */
export const DIGEST_SIZE: Readonly<Record<DigestName, number>> = {
  "SHA-1": 20,
  "SHA-224": 28,
  "SHA-256": 32,
  "SHA-384": 48,
  "SHA-512": 64,
};

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const IV224 = [0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4];

/** SHA-224 of `data` (FIPS 180-4), synchronous. */
export function sha224(data: Uint8Array): Uint8Array {
  const h = Uint32Array.from(IV224);
  const w = new Uint32Array(64);
  const total = data.length;
  // Padded length: data, 0x80, zeros, 64-bit big-endian bit length.
  const padded = Math.ceil((total + 9) / 64) * 64;
  const tail = new Uint8Array(padded - (total - (total % 64)));
  tail.set(data.subarray(total - (total % 64)));
  tail[total % 64] = 0x80;
  const bits = total * 8;
  const tv = new DataView(tail.buffer);
  tv.setUint32(tail.length - 8, Math.floor(bits / 0x100000000));
  tv.setUint32(tail.length - 4, bits >>> 0);
  const full = total - (total % 64);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const block = (v: DataView, off: number): void => {
    for (let i = 0; i < 16; i++) w[i] = v.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
    h[5] = (h[5]! + f) | 0;
    h[6] = (h[6]! + g) | 0;
    h[7] = (h[7]! + hh) | 0;
  };
  for (let off = 0; off < full; off += 64) block(dv, off);
  for (let off = 0; off < tail.length; off += 64) block(tv, off);
  const out = new Uint8Array(28);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 7; i++) ov.setUint32(i * 4, h[i]!);
  return out;
}

const toBytes = (b: ArrayBuffer): Uint8Array => new Uint8Array(b);

/**
 * A failure of the WebCrypto implementation itself (a `subtle` method that throws or
 * rejects where it should not), as opposed to a fault of the input: verification reports
 * it as such instead of blaming the message.
 */
export class CryptoFailure extends Error {
  /**
   * @param operation - the `subtle` method that failed, e.g. `digest`
   * @param cause - what it threw or rejected with
   */
  constructor(operation: string, cause: unknown) {
    super(`the WebCrypto implementation failed (subtle.${operation}): ${errorText(cause)}`, { cause });
    this.name = "CryptoFailure";
  }
}

/** What was thrown, as text (never throws itself). */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  try {
    return String(e);
  } catch {
    return "unknown error";
  }
}

/** `c.subtle` when `c` is an object holding one, as a bag of members to check. */
function subtleOf(c: unknown): Record<string, unknown> | undefined {
  if (typeof c !== "object" || c === null) return undefined;
  const s = (c as { subtle?: unknown }).subtle;
  return typeof s === "object" && s !== null ? (s as Record<string, unknown>) : undefined;
}

/** Whether `c` can at least hash (what the trust stores need for fingerprints). */
export function canDigest(c: unknown): c is CryptoLike {
  return typeof subtleOf(c)?.digest === "function";
}

/** The methods of `subtle` the verifier calls: a crypto without them is misuse, refused up front. */
export function isCryptoLike(c: unknown): c is CryptoLike {
  const subtle = subtleOf(c);
  return typeof subtle?.digest === "function" && typeof subtle.verify === "function" && typeof subtle.importKey === "function";
}

const digestFailure = (e: unknown): CryptoFailure => new CryptoFailure("digest", e);
const digestFailed = (e: unknown): never => {
  throw digestFailure(e);
};

/**
 * Digest of `data` with WebCrypto, or the built-in SHA-224. A failure of the crypto
 * rejects with a {@link CryptoFailure}.
 */
export function digest(crypto: CryptoLike, name: DigestName, data: Uint8Array): Promise<Uint8Array> {
  // Not an async function: one promise and one tick fewer per receipt; a synchronous throw still becomes a rejection.
  if (name === "SHA-224") {
    try {
      return Promise.resolve(sha224(data));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  try {
    return Promise.resolve(crypto.subtle.digest(name, asBufferSource(data))).then(toBytes, digestFailed);
  } catch (e) {
    return Promise.reject(digestFailure(e));
  }
}

/**
 * {@link digest} for a job that may not be awaited at once (the content digest, posted
 * beside the signature check): it never rejects, a failure of the crypto is its value.
 * So no rejection can go unobserved, without an extra `.catch` promise per message.
 */
export function digestSettled(crypto: CryptoLike, name: DigestName, data: Uint8Array): Promise<Uint8Array | CryptoFailure> {
  // SHA-224 is computed here: a throw from it is not the crypto's, and stays synchronous.
  if (name === "SHA-224") return Promise.resolve(sha224(data));
  try {
    return Promise.resolve(crypto.subtle.digest(name, asBufferSource(data))).then(toBytes, digestFailure);
  } catch (e) {
    return Promise.resolve(digestFailure(e));
  }
}
