/**
 * Node-only: a WebCrypto `Crypto` whose signature verification and hashing run as
 * synchronous node:crypto one-shot calls.
 *
 * Why: Node's `crypto.subtle` runs every call as a job on the libuv thread pool and
 * settles a promise from there. For a receipt (one 10 KB digest, one RSA-2048 verify)
 * that dispatch costs more than the cryptography: profiles showed the main thread idle
 * or in Node's `jobPromise` for half of the time, and sequential `subtle.verify` reaches
 * ≈40 % of the rate of node:crypto's synchronous `verify`. The same OpenSSL calls made
 * synchronously remove that overhead, and hashing a `Uint8Array` view in place removes
 * the copy WebCrypto makes of everything it hashes.
 *
 * @module
 */
import { hash as oneShotHash, KeyObject, publicDecrypt, verify as oneShotVerify, constants, webcrypto } from "node:crypto";
import { latin1Bytes } from "../util/bytes.js";

/** WebCrypto digest names handled here → OpenSSL names. SHA-224 is not WebCrypto: delegated (and refused there). */
const HASHES: Readonly<Record<string, string>> = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

const HASH_BYTES: Readonly<Record<string, number>> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/** The DER DigestInfo of each hash up to its digest (RFC 8017 §9.2 note 1): the NULL parameters included, as OpenSSL and WebCrypto require. */
const DIGEST_INFO: Readonly<Record<string, Buffer>> = {
  sha1: Buffer.from("3021300906052b0e03021a05000414", "hex"),
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

/** WebCrypto signature algorithm names handled here, by upper-case spelling (names are case-insensitive). */
const SIG_NAMES: Readonly<Record<string, "RSASSA-PKCS1-v1_5" | "RSA-PSS" | "ECDSA">> = {
  "RSASSA-PKCS1-V1_5": "RSASSA-PKCS1-v1_5",
  "RSA-PSS": "RSA-PSS",
  ECDSA: "ECDSA",
};

/** What a verification needs from a key, read once: a CryptoKey's algorithm and usages never change. */
interface KeyFacts {
  /** The key can take the fast path: a public key with the `verify` usage, of a handled algorithm. */
  readonly usable: boolean;
  readonly name: string;
  /** OpenSSL hash name bound to an RSA key. */
  readonly hash?: string;
  /** RSA-PSS: the largest salt length the key allows (emLen − hLen − 2); WebCrypto refuses larger ones with an error. */
  readonly maxSalt?: number;
  /** RSA: the modulus in bytes, the only valid signature length (RFC 8017 §8.2.2). */
  readonly size?: number;
  readonly keyObject?: KeyObject;
}

const facts = new WeakMap<object, KeyFacts>();
const NOT_USABLE: KeyFacts = { usable: false, name: "" };

function keyFacts(key: unknown): KeyFacts {
  if (typeof key !== "object" || key === null) return NOT_USABLE;
  let f = facts.get(key);
  if (f) return f;
  f = NOT_USABLE;
  try {
    // KeyObject.from accepts only Node's own CryptoKeys (other implementations' keys are delegated, and refused there).
    const keyObject = KeyObject.from(key as webcrypto.CryptoKey);
    const k = key as webcrypto.CryptoKey;
    const alg = k.algorithm as { name: string; hash?: { name: string }; modulusLength?: number };
    const name = SIG_NAMES[alg.name.toUpperCase()];
    if (name && k.type === "public" && k.usages.includes("verify")) {
      const hash = alg.hash ? HASHES[alg.hash.name] : undefined;
      if (name === "ECDSA") f = { usable: true, name, keyObject };
      else if (hash && name === "RSA-PSS") {
        const emLen = Math.ceil(((alg.modulusLength ?? 0) - 1) / 8);
        f = { usable: true, name, hash, keyObject, maxSalt: emLen - HASH_BYTES[hash]! - 2 };
      } else if (hash) f = { usable: true, name, hash, keyObject, size: Math.ceil((alg.modulusLength ?? 0) / 8) };
      // An RSA key without a handled hash stays on the WebCrypto path.
    }
  } catch {
    f = NOT_USABLE;
  }
  facts.set(key, f);
  return f;
}

/** The bytes of a BufferSource as a view without copying, or undefined for anything else (delegated to WebCrypto, which raises the right error). */
function view(b: unknown): Uint8Array | undefined {
  if (b instanceof Uint8Array) return b.buffer instanceof ArrayBuffer ? b : undefined;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b) && b.buffer instanceof ArrayBuffer) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return undefined;
}

/** Upper-case spellings of the names seen (a handful): no new string per call. */
const UPPER = new Map<string, string>();

function upper(name: string): string {
  let u = UPPER.get(name);
  if (u === undefined) {
    u = name.toUpperCase();
    if (UPPER.size < 64) UPPER.set(name, u);
  }
  return u;
}

/** Algorithm name (upper case), or undefined when the identifier is not a plain string or `{ name: string }` (then the identifier is its dictionary). */
function algName(a: unknown): string | undefined {
  if (typeof a === "string") return upper(a);
  if (typeof a === "object" && a !== null && typeof (a as { name?: unknown }).name === "string") return upper((a as { name: string }).name);
  return undefined;
}

/** OpenSSL name of a HashAlgorithmIdentifier handled here (a name, or a dictionary with one). */
function hashOf(h: unknown): string | undefined {
  const n = algName(h);
  return n ? HASHES[n] : undefined;
}

type Subtle = webcrypto.SubtleCrypto;

/**
 * The synchronous verification, or undefined when the call is not one handled here
 * (the caller then delegates to WebCrypto, so any error is WebCrypto's own).
 */
function fastVerify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): boolean | undefined {
  const a = algName(algorithm);
  if (!a) return undefined;
  const name = SIG_NAMES[a];
  const dict = typeof algorithm === "object" ? (algorithm as Record<string, unknown>) : undefined;
  if (!name) return undefined;
  const f = keyFacts(key);
  if (!f.usable || f.name !== name) return undefined;
  const sig = view(signature);
  const bytes = view(data);
  if (!sig || !bytes) return undefined;
  if (name === "RSASSA-PKCS1-v1_5") return pkcs1Verify(f, bytes, sig);
  if (name === "RSA-PSS") {
    const saltLength = dict?.["saltLength"];
    // WebCrypto's [EnforceRange] unsigned long: anything else is its TypeError.
    // Beyond the key's maximum WebCrypto fails the operation where OpenSSL answers false: delegated.
    if (typeof saltLength !== "number" || !Number.isInteger(saltLength) || saltLength < 0 || saltLength > f.maxSalt!) return undefined;
    return oneShotVerify(f.hash!, bytes, { key: f.keyObject!, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, sig);
  }
  const hash = hashOf(dict?.["hash"]);
  if (!hash) return undefined;
  // WebCrypto's ECDSA signatures are r‖s (IEEE P1363), not DER.
  return oneShotVerify(hash, bytes, { key: f.keyObject!, dsaEncoding: "ieee-p1363" }, sig);
}

/**
 * RSASSA-PKCS1-v1_5 verification (RFC 8017 §8.2.2) as the RSA public operation, which checks
 * the type-1 padding, and a comparison of what it recovers with the DER DigestInfo of the
 * data's digest: what OpenSSL's own verification does, without its per-call digest set-up.
 * ≈ 4 µs less per call than `crypto.verify`, and a receipt's parse that follows runs faster
 * too (fewer of OpenSSL's structures through the caches). A signature the public operation
 * refuses (padding, a value past the modulus) throws: the caller then lets WebCrypto answer.
 */
function pkcs1Verify(f: KeyFacts, data: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== f.size) return false;
  const recovered = publicDecrypt({ key: f.keyObject!, padding: constants.RSA_PKCS1_PADDING }, sig);
  const prefix = DIGEST_INFO[f.hash!]!;
  const n = prefix.length;
  if (recovered.length !== n + HASH_BYTES[f.hash!]!) return false;
  // Byte loops: these 35–83 bytes compare faster here than through Buffer.compare's native call.
  let diff = 0;
  for (let i = 0; i < n; i++) diff |= recovered[i]! ^ prefix[i]!;
  if (diff !== 0) return false;
  const digest = digestLatin1(f.hash!, data);
  for (let i = 0; i < digest.length; i++) diff |= recovered[n + i]! ^ digest.charCodeAt(i);
  return diff === 0;
}

/**
 * A digest as a string of bytes (one char per byte): a Buffer out of OpenSSL is a new
 * backing store outside V8's heap, which cost ≈ 0.55 µs of the ≈ 1.1 µs a small digest
 * takes; a string of 32 chars is an ordinary heap object.
 */
function digestLatin1(hash: string, data: Uint8Array): string {
  return oneShotHash(hash, data, "binary");
}

let instance: Crypto | undefined;

/**
 * A WebCrypto `Crypto` for Node that makes `subtle.digest` and `subtle.verify` (RSASSA-PKCS1-v1_5,
 * RSA-PSS, ECDSA with SHA-1/256/384/512) synchronous node:crypto one-shot calls, wrapped in
 * resolved promises, and delegates everything else (`importKey`, `sign`, `generateKey`,
 * `exportKey`, `getRandomValues`, `randomUUID`, …) to Node's WebCrypto. Pass it as the
 * `crypto` option of `verifyPec` / `verifyCms` / `verifySignedData` / `validatePath`.
 *
 * - Results and errors are WebCrypto's: keys are Node's own `CryptoKey`s (imported by
 *   WebCrypto), and any call outside the cases above — another algorithm, a key of another
 *   implementation, a key without the `verify` usage, a `SharedArrayBuffer`, a malformed
 *   algorithm identifier — goes to `crypto.subtle` unchanged, so it fails (or succeeds)
 *   exactly as there.
 * - Hashing reads the caller's bytes in place (WebCrypto copies them first): no extra memory
 *   for a 100 MB busta.
 * - The work runs on the calling thread: a receipt verifies in tens of microseconds instead
 *   of waiting for the thread pool, but hashing 100 MB holds the event loop for ≈ 0.2 s (as
 *   `readPec`'s parse of it does). For parallelism across cores, use worker threads.
 * - The same object is returned on every call, so keys imported for a certificate are
 *   cached once (postacert caches imported keys per `subtle` object).
 *
 * @example
 * ```ts
 * import { readPec, verifyPec } from "postacert";
 * import { nodeCrypto } from "postacert/node";
 * const res = await verifyPec(readPec(bytes), { trust, crypto: nodeCrypto() }); // ≈5× the receipts per second
 * ```
 */
export function nodeCrypto(): Crypto {
  if (instance) return instance;
  const subtle = webcrypto.subtle;
  // Delegates keep `this` = Node's SubtleCrypto: its methods check their receiver.
  const fast = {
    digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
      const a = algName(algorithm);
      const h = a ? HASHES[a] : undefined;
      const bytes = h ? view(data) : undefined;
      if (!h || !bytes) return (subtle.digest as (a: unknown, d: unknown) => Promise<ArrayBuffer>).call(subtle, algorithm, data);
      try {
        // A fresh array of exactly the digest: its buffer is what WebCrypto resolves with.
        return Promise.resolve(latin1Bytes(digestLatin1(h, bytes)).buffer as ArrayBuffer);
      } catch {
        return (subtle.digest as (a: unknown, d: unknown) => Promise<ArrayBuffer>).call(subtle, algorithm, data);
      }
    },
    verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<boolean> {
      let ok: boolean | undefined;
      try {
        ok = fastVerify(algorithm, key, signature, data);
      } catch {
        // An OpenSSL error (e.g. an unusable PSS salt length): WebCrypto decides, with its own result or error.
        ok = undefined;
      }
      if (ok !== undefined) return Promise.resolve(ok);
      return (subtle.verify as (a: unknown, k: unknown, s: unknown, d: unknown) => Promise<boolean>).call(subtle, algorithm, key, signature, data);
    },
  };
  const proxy: Subtle = Object.create(null) as Subtle;
  for (const m of ["decrypt", "deriveBits", "deriveKey", "encrypt", "exportKey", "generateKey", "importKey", "sign", "unwrapKey", "wrapKey"] as const) {
    const fn = subtle[m] as (...args: unknown[]) => unknown;
    Object.defineProperty(proxy, m, { value: (...args: unknown[]) => fn.apply(subtle, args), enumerable: true });
  }
  Object.defineProperty(proxy, "digest", { value: fast.digest, enumerable: true });
  Object.defineProperty(proxy, "verify", { value: fast.verify, enumerable: true });
  Object.freeze(proxy);
  const c = {
    subtle: proxy,
    getRandomValues: <T extends ArrayBufferView | null>(array: T): T => webcrypto.getRandomValues(array as never) as T,
    randomUUID: () => webcrypto.randomUUID(),
  };
  instance = Object.freeze(c) as unknown as Crypto;
  return instance;
}
