/**
 * Signature verification in plain BigInt arithmetic, for what WebCrypto cannot do.
 * Internal: not part of the public API.
 *
 * WebCrypto binds every RSA/ECDSA verification to SHA-1/256/384/512 and to RSA-PSS
 * with MGF1 over the same hash. CMS also allows SHA-224 (RFC 5754) and PSS with a
 * different MGF1 hash (RFC 4055). Those rare cases are verified here. Only public data
 * is involved, so the arithmetic need not be constant-time; it is ≈10× slower than
 * WebCrypto and never used on the common path.
 *
 * @module
 */

import { digest, DIGEST_SIZE, type CryptoLike } from "./digest.js";
import { DIGEST_OID, type DigestName } from "./oids.js";
import { encodeTlv } from "./ber.js";
import { concatBytes, equalBytes } from "../util/bytes.js";

function os2ip(b: Uint8Array): bigint {
  let hex = "";
  for (const x of b) hex += (x < 16 ? "0" : "") + x.toString(16);
  return hex ? BigInt("0x" + hex) : 0n;
}

function i2osp(v: bigint, len: number): Uint8Array | undefined {
  const hex = v.toString(16);
  if (hex.length > len * 2) return undefined;
  const padded = hex.padStart(len * 2, "0");
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(padded.substr(i * 2, 2), 16);
  return out;
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** RSA public operation: the encoded message, or undefined when the signature is out of range. */
function rsaOpen(n: Uint8Array, e: Uint8Array, sig: Uint8Array): { em: Uint8Array; modBits: number } | undefined {
  const N = os2ip(n);
  const k = Math.ceil(bitLength(N) / 8);
  if (sig.length !== k) return undefined;
  const s = os2ip(sig);
  if (s >= N) return undefined;
  const em = i2osp(modPow(s, os2ip(e), N), k);
  return em ? { em, modBits: bitLength(N) } : undefined;
}

function digestInfo(hash: DigestName, h: Uint8Array, withNull: boolean): Uint8Array {
  const oid = DIGEST_OID[hash].split(".").map(Number);
  const arcs: number[] = [oid[0]! * 40 + oid[1]!];
  for (const a of oid.slice(2)) {
    const tmp: number[] = [a & 0x7f];
    for (let v = a >>> 7; v > 0; v >>>= 7) tmp.unshift(0x80 | (v & 0x7f));
    arcs.push(...tmp);
  }
  const algParts = [encodeTlv(0x06, new Uint8Array(arcs)), ...(withNull ? [new Uint8Array([5, 0])] : [])];
  const alg = encodeTlv(0x30, concatBytes(algParts));
  return encodeTlv(0x30, concatBytes([alg, encodeTlv(0x04, h)]));
}


/** RSASSA-PKCS1-v1_5 verification of a message digest (RFC 8017 §8.2.2). */
export function rsaPkcs1Verify(n: Uint8Array, e: Uint8Array, hash: DigestName, h: Uint8Array, sig: Uint8Array): boolean {
  const open = rsaOpen(n, e, sig);
  if (!open) return false;
  const { em } = open;
  // Both DigestInfo forms occur: parameters NULL (standard) and absent (RFC 8017 note 2).
  for (const withNull of [true, false]) {
    const t = digestInfo(hash, h, withNull);
    if (em.length < t.length + 11) continue;
    const expected = new Uint8Array(em.length).fill(0xff);
    expected[0] = 0;
    expected[1] = 1;
    expected[em.length - t.length - 1] = 0;
    expected.set(t, em.length - t.length);
    if (equalBytes(em, expected)) return true;
  }
  return false;
}

async function mgf1(crypto: CryptoLike, hash: DigestName, seed: Uint8Array, len: number): Promise<Uint8Array> {
  const out = new Uint8Array(len);
  const buf = new Uint8Array(seed.length + 4);
  buf.set(seed);
  for (let counter = 0, o = 0; o < len; counter++) {
    buf[seed.length] = counter >>> 24;
    buf[seed.length + 1] = (counter >>> 16) & 0xff;
    buf[seed.length + 2] = (counter >>> 8) & 0xff;
    buf[seed.length + 3] = counter & 0xff;
    const d = await digest(crypto, hash, buf);
    out.set(d.subarray(0, Math.min(d.length, len - o)), o);
    o += d.length;
  }
  return out;
}

/** RSASSA-PSS verification of a message digest (RFC 8017 §9.1.2), any MGF1 hash. */
export async function rsaPssVerify(
  crypto: CryptoLike,
  n: Uint8Array,
  e: Uint8Array,
  hash: DigestName,
  mgfHash: DigestName,
  saltLength: number,
  mHash: Uint8Array,
  sig: Uint8Array,
): Promise<boolean> {
  const open = rsaOpen(n, e, sig);
  if (!open) return false;
  const emBits = open.modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  let em = open.em;
  if (em.length > emLen) {
    if (em[0] !== 0) return false;
    em = em.subarray(1);
  }
  const hLen = DIGEST_SIZE[hash];
  if (emLen < hLen + saltLength + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDB = em.subarray(0, emLen - hLen - 1);
  const H = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 8 * emLen - emBits;
  if (maskedDB[0]! & (0xff << (8 - topBits)) & 0xff) return false;
  const mask = await mgf1(crypto, mgfHash, H, maskedDB.length);
  const db = new Uint8Array(maskedDB.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDB[i]! ^ mask[i]!;
  db[0]! &= 0xff >>> topBits;
  const psLen = emLen - hLen - saltLength - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 1) return false;
  const salt = db.subarray(db.length - saltLength);
  const mPrime = new Uint8Array(8 + hLen + saltLength);
  mPrime.set(mHash, 8);
  mPrime.set(salt, 8 + hLen);
  return equalBytes(await digest(crypto, hash, mPrime), H);
}

// --- ECDSA over the NIST prime curves (a = -3), Jacobian coordinates ---

interface Curve {
  p: bigint;
  b: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  size: number;
}

const CURVE_PARAMS: Readonly<Record<string, Curve>> = {
  "P-256": {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    size: 32,
  },
  "P-384": {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    size: 48,
  },
};

type Jac = [bigint, bigint, bigint];

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inv(a: bigint, m: bigint): bigint {
  return modPow(mod(a, m), m - 2n, m);
}

function dbl(P: Jac, c: Curve): Jac {
  const [X, Y, Z] = P;
  if (Z === 0n || Y === 0n) return [0n, 1n, 0n];
  const p = c.p;
  const delta = (Z * Z) % p;
  const gamma = (Y * Y) % p;
  const beta = (X * gamma) % p;
  const alpha = mod(3n * (X - delta) * (X + delta), p);
  const X3 = mod(alpha * alpha - 8n * beta, p);
  const Z3 = mod((Y + Z) * (Y + Z) - gamma - delta, p);
  const Y3 = mod(alpha * (4n * beta - X3) - 8n * gamma * gamma, p);
  return [X3, Y3, Z3];
}

function add(P: Jac, Q: Jac, c: Curve): Jac {
  if (P[2] === 0n) return Q;
  if (Q[2] === 0n) return P;
  const p = c.p;
  const Z1Z1 = (P[2] * P[2]) % p;
  const Z2Z2 = (Q[2] * Q[2]) % p;
  const U1 = (P[0] * Z2Z2) % p;
  const U2 = (Q[0] * Z1Z1) % p;
  const S1 = (P[1] * Q[2] * Z2Z2) % p;
  const S2 = (Q[1] * P[2] * Z1Z1) % p;
  const H = mod(U2 - U1, p);
  const r = mod(S2 - S1, p);
  if (H === 0n) return r === 0n ? dbl(P, c) : [0n, 1n, 0n];
  const HH = (H * H) % p;
  const HHH = (H * HH) % p;
  const V = (U1 * HH) % p;
  const X3 = mod(r * r - HHH - 2n * V, p);
  const Y3 = mod(r * (V - X3) - S1 * HHH, p);
  const Z3 = (P[2] * Q[2] * H) % p;
  return [X3, Y3, Z3];
}

function decodePoint(point: Uint8Array, c: Curve): Jac | undefined {
  const p = c.p;
  let x: bigint;
  let y: bigint;
  if (point[0] === 4 && point.length === 1 + 2 * c.size) {
    x = os2ip(point.subarray(1, 1 + c.size));
    y = os2ip(point.subarray(1 + c.size));
  } else if ((point[0] === 2 || point[0] === 3) && point.length === 1 + c.size) {
    x = os2ip(point.subarray(1));
    const rhs = mod(x * x * x - 3n * x + c.b, p);
    y = modPow(rhs, (p + 1n) / 4n, p); // p ≡ 3 (mod 4) for these curves
    if ((y & 1n) !== BigInt(point[0]! & 1)) y = p - y;
  } else return undefined;
  if (x >= p || y >= p || mod(y * y - (x * x * x - 3n * x + c.b), p) !== 0n) return undefined;
  return [x, y, 1n];
}

/** Whether the curve is supported by {@link ecdsaVerify}. */
export function hasCurve(curve: string): boolean {
  return curve in CURVE_PARAMS;
}

/** ECDSA verification of a message digest (SEC 1 §4.1.4) with (r, s) already decoded. */
export function ecdsaVerify(curve: string, point: Uint8Array, h: Uint8Array, r: bigint, s: bigint): boolean {
  const c = CURVE_PARAMS[curve];
  if (!c) return false;
  const Q = decodePoint(point, c);
  if (!Q) return false;
  if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) return false;
  let e = os2ip(h);
  const nBits = bitLength(c.n);
  if (h.length * 8 > nBits) e >>= BigInt(h.length * 8 - nBits);
  const w = inv(s, c.n);
  const u1 = (e * w) % c.n;
  const u2 = (r * w) % c.n;
  // Shamir's trick: one double-and-add pass for u1·G + u2·Q.
  const G: Jac = [c.gx, c.gy, 1n];
  const GQ = add(G, Q, c);
  let R: Jac = [0n, 1n, 0n];
  for (let i = Math.max(bitLength(u1), bitLength(u2)) - 1; i >= 0; i--) {
    R = dbl(R, c);
    const b1 = (u1 >> BigInt(i)) & 1n;
    const b2 = (u2 >> BigInt(i)) & 1n;
    if (b1 && b2) R = add(R, GQ, c);
    else if (b1) R = add(R, G, c);
    else if (b2) R = add(R, Q, c);
  }
  if (R[2] === 0n) return false;
  const zi = inv(R[2], c.p);
  const x = (R[0] * zi * zi) % c.p;
  return x % c.n === r;
}

/** Big-endian bytes to BigInt (for ECDSA r and s). */
export const bytesToBigInt = os2ip;
