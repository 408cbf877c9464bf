/**
 * A bounded cache keyed by byte content. Internal.
 *
 * Certificates and CRLs of one gestore recur in thousands of receipts; parsing them
 * (and importing their keys, and checking their issuer's signature) once is what makes
 * verification fast. The key is the length plus the last 32 bytes (the tail of the
 * signature value, unique in practice), hashed; a hit is confirmed by comparing all bytes, so
 * a collision costs a comparison, never a wrong answer.
 *
 * @module
 */
import { equalBytes } from "../util/bytes.js";

/** FNV-1a of `bytes[start, end)` and the length. */
export function fnv(bytes: Uint8Array, start: number, end: number): number {
  let h = (0x811c9dc5 ^ (end - start)) >>> 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** Most entries under one key: a lookup compares at most these. */
const MAX_BUCKET = 4;

/** Cache of values derived from byte strings. */
export class ContentCache<T> {
  private readonly map = new Map<number, { bytes: Uint8Array; value: T }[]>();
  private count = 0;
  constructor(private readonly max: number) {}

  private static key(bytes: Uint8Array): number {
    // A number key is much cheaper than a string; the length is mixed in by fnv().
    return fnv(bytes, Math.max(0, bytes.length - 32), bytes.length) ^ bytes.length;
  }

  /** The value for these bytes, computing (and caching) it on a miss. `make` gets a private copy. */
  get(bytes: Uint8Array, make: (copy: Uint8Array) => T): T {
    const k = ContentCache.key(bytes);
    const bucket = this.map.get(k);
    if (bucket) {
      for (const e of bucket) if (equalBytes(e.bytes, bytes)) return e.value;
    }
    // Copy: the input is often a view into a whole message we must not keep alive.
    const copy = bytes.slice();
    const value = make(copy);
    if (this.count >= this.max) {
      // FIFO eviction: cheap, and the working set (a few gestori) is far below the bound.
      const first = this.map.keys().next();
      if (!first.done) {
        this.count -= this.map.get(first.value)!.length;
        this.map.delete(first.value);
      }
    }
    const live = this.map.get(k);
    if (!live) this.map.set(k, [{ bytes: copy, value }]);
    else {
      // Entries sharing a key (crafted alike tails) are compared on every lookup: keep the newest few.
      if (live.length >= MAX_BUCKET) {
        live.shift();
        this.count--;
      }
      live.push({ bytes: copy, value });
    }
    this.count++;
    return value;
  }

  /** Empties the cache. */
  clear(): void {
    this.map.clear();
    this.count = 0;
  }
}
