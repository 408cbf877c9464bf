/**
 * The `--trust` files of `verify` and `scan`, and the `--crl` files of `verify`. A module of
 * its own so that scan's workers load it without the inspect and verify commands (their
 * output, JSON and labels).
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { PecError } from "../errors.js";
import { parsePem } from "../smime/certificate.js";
import { parseCrl } from "../smime/crl.js";
import { TrustStore } from "../trust/store.js";
import { UsageError } from "./io.js";

/** Loads --trust files: PEM bundles, DER certificates, IGPEC LDIF. */
export async function loadTrust(paths: string[]): Promise<TrustStore> {
  const stores: TrustStore[] = [];
  for (const p of paths) {
    const bytes = await readOptionFile("--trust", p);
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

/**
 * Loads --crl files: DER, or PEM with one or more CRLs. Each CRL is parsed here (parseCrl
 * caches it for the verifications): a file that holds none is a usage error naming --crl and
 * the file, as a bad --trust file is, not a malformed certificate blamed on every message.
 *
 * @throws UsageError when a file cannot be read or is not a CRL
 */
export async function loadCrls(paths: string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const p of paths) {
    const bytes = await readOptionFile("--crl", p);
    try {
      const text = new TextDecoder().decode(bytes);
      const pem = parsePem(text).filter((b) => b.label === "X509 CRL");
      if (!pem.length && text.includes("-----BEGIN")) throw new UsageError(`--crl "${p}": no X509 CRL block in this PEM file`);
      const ders = pem.length ? pem.map((b) => b.der) : [bytes];
      for (const der of ders) parseCrl(der);
      out.push(...ders);
    } catch (err) {
      if (err instanceof PecError) throw new UsageError(`--crl "${p}": ${bytes.length ? err.message : "empty file"}`);
      throw err;
    }
  }
  return out;
}

/** @throws UsageError naming the option when the file cannot be read */
async function readOptionFile(option: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    throw new UsageError(`${option}: cannot read "${path}"`);
  }
}
