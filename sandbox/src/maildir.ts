/**
 * Maildir delivery (tmp → new rename), idempotent by file name: the sandbox names each
 * delivered file after its (flow, step, recipient) key, so a delivery redone after a
 * crash finds the file already there (in `new/`, or in `cur/` once a client has seen it)
 * and does nothing.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./files.js";

/** Creates `cur`, `new` and `tmp` under a Maildir root. */
export async function ensureMaildir(root: string): Promise<void> {
  for (const sub of ["cur", "new", "tmp"]) await mkdir(join(root, sub), { recursive: true });
}

/**
 * The deterministic base name of a delivery: `<seconds>.M<step>P<flow>Q<recipient hash>.postacert-sandbox`.
 * The leading time keeps Dovecot's UID order (it sorts new files by name) in flow order.
 */
export function deliveryName(flowId: string, step: number, target: string, date: number): string {
  const r = createHash("sha256").update(target.toLowerCase()).digest("hex").slice(0, 12);
  return `${Math.floor(date / 1000)}.M${String(step).padStart(3, "0")}P${flowId}Q${r}.postacert-sandbox`;
}

/** Whether a file with this base name (flags after `:` ignored) is in `new/` or `cur/`. */
export async function isDelivered(root: string, base: string): Promise<boolean> {
  try {
    await stat(join(root, "new", base));
    return true;
  } catch {
    // not in new/: a client may have moved it to cur/ with flags
  }
  try {
    return (await readdir(join(root, "cur"))).some((f) => f === base || f.startsWith(base + ":") || f.startsWith(base + ","));
  } catch {
    return false;
  }
}

/**
 * Delivers `bytes` under `base` unless it is already there. `check` looks first (needed
 * only when redoing work after a restart).
 *
 * @returns whether a file was written
 */
export async function deliver(root: string, base: string, bytes: Uint8Array, check: boolean): Promise<boolean> {
  if (check && (await isDelivered(root, base))) return false;
  const tmp = join(root, "tmp", base);
  await writeFileAtomic(tmp, bytes);
  await rename(tmp, join(root, "new", base));
  return true;
}
