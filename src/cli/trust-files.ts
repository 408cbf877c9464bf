/**
 * The `--trust` files of `verify` and `scan`. A module of its own so that scan's workers load
 * it without the inspect and verify commands (their output, JSON and labels).
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { PecError } from "../errors.js";
import { TrustStore } from "../trust/store.js";
import { UsageError } from "./io.js";

/** Loads --trust files: PEM bundles, DER certificates, IGPEC LDIF. */
export async function loadTrust(paths: string[]): Promise<TrustStore> {
  const stores: TrustStore[] = [];
  for (const p of paths) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(p));
    } catch {
      throw new UsageError(`--trust: cannot read "${p}"`);
    }
    const text = new TextDecoder().decode(bytes);
    try {
      if (/^\s*dn\s*:/im.test(text) && /providerCertificate/i.test(text)) stores.push(await TrustStore.fromLdif(text));
      else if (text.includes("-----BEGIN")) stores.push(await TrustStore.fromPem(text));
      else stores.push(await TrustStore.fromDer(bytes));
    } catch (err) {
      if (err instanceof PecError) throw new UsageError(`--trust "${p}": ${err.message}`);
      throw err;
    }
  }
  return TrustStore.merge(...stores);
}
