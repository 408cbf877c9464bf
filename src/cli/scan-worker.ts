/**
 * The tinypool worker of `postacert scan` (loaded from dist/ as `./scan-worker.js`). Each task
 * is a batch of messages; the trust store and the crypto are built once per worker, on the first
 * task, and reused. With `--jobs 1` the main thread calls {@link makeContext} and `processItems` itself.
 *
 * @module
 */
import { nodeCrypto } from "../node/fast-crypto.js";
import { systemTrust } from "../node/system-trust.js";
import type { TrustStore } from "../trust/index.js";
import { loadTrust } from "./trust-files.js";
import { type ProcessContext, type ScanItem, processItems } from "./scan-process.js";
import { packResults } from "./scan-wire.js";

/** What every task carries to set a worker up (small: a few paths and a shared buffer). */
export interface WorkerConfig {
  /** `--trust` files; empty: Node's roots with the PEC policy required. */
  trust: string[];
  /**
   * Sorted 64-bit prefixes of the content hashes already in the state file. Shared memory,
   * so sending it with every task costs nothing and no worker holds a copy.
   */
  known?: SharedArrayBuffer;
  /** See {@link ProcessContext.lean}. */
  lean?: boolean;
}

/** One pool task. */
export interface WorkerTask {
  /** Set-up (identical for every task of a run). */
  config: WorkerConfig;
  /** The batch. */
  items: ScanItem[];
  /** Verify even when the hash prefix is known (see {@link ProcessContext.force}). */
  force?: boolean;
}

let cached: { key: string; ctx: Promise<ProcessContext> } | undefined;

/** Binary search of a 64-bit prefix in the sorted shared table. */
export function prefixLookup(table: BigUint64Array): (digest: Buffer) => boolean {
  return (digest) => {
    const v = digest.readBigUInt64BE(0);
    let lo = 0;
    let hi = table.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = table[mid]!;
      if (x === v) return true;
      if (x < v) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  };
}

/** Builds a worker's context: the trust store (from the files, or Node's roots), node:crypto, the known hashes. */
export async function makeContext(config: WorkerConfig, trust?: TrustStore): Promise<ProcessContext> {
  trust ??= config.trust.length ? await loadTrust(config.trust) : await systemTrust();
  const ctx: ProcessContext = { trust, crypto: nodeCrypto(), ...(config.lean && { lean: true }) };
  if (config.known && config.known.byteLength > 0) ctx.isKnown = prefixLookup(new BigUint64Array(config.known));
  return ctx;
}

/**
 * Runs one batch (the pool's entry point) and gives its results as one JSON text (see
 * `packResults`), which the main thread reads when it consumes the batch (see `unpack` in
 * scan.ts). The context is built on the first call and kept: a pool serves one scan, so its
 * config never changes.
 */
export async function runTask(task: WorkerTask): Promise<string> {
  const key = JSON.stringify(task.config.trust) + ":" + (task.config.known?.byteLength ?? 0) + ":" + (task.config.lean === true);
  if (cached?.key !== key) cached = { key, ctx: makeContext(task.config) };
  const ctx = await cached.ctx;
  return packResults(await processItems(task.items, task.force ? { ...ctx, force: true } : ctx));
}

export default runTask;
