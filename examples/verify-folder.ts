/**
 * Verifies every `.eml` file in a folder (recursively): reads each message, checks the
 * gestore signature over the exact signed bytes, the certificate path at the signing
 * time and the gestore profile, prints one line per file and a summary.
 *
 * Trust: each `--trust <file>` adds anchors: an IGPEC LDIF (`.ldif`, or the signed
 * `.p7m`), a PEM bundle, or a DER certificate. Without `--trust`, Node's bundled roots
 * are used, and then the signer must carry the PEC gestore policy.
 *
 * Run (Node >= 22.6): `node --experimental-strip-types examples/verify-folder.ts <dir> [--trust <file>]...`
 * (the examples import `postacert`, so `npm run build` first). Try it on the simulator's
 * output: `npx postacert simulate --out out`, then `... verify-folder.ts out --trust out/gestori.ldif`.
 */
import { readFile, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { TrustStore, readPec, verifyPec } from "postacert";
import { systemTrust } from "postacert/node";

// #region load-trust
/** A trust store from one file: IGPEC LDIF (text or signed .p7m), PEM bundle or DER certificate. */
export async function loadTrust(path: string): Promise<TrustStore> {
  const bytes = await readFile(path);
  if (/\.(ldif|p7m)$/i.test(path)) return TrustStore.fromLdif(bytes);
  const text = new TextDecoder().decode(bytes);
  return text.includes("-----BEGIN") ? TrustStore.fromPem(text) : TrustStore.fromDer(bytes);
}
// #endregion load-trust

async function* emlFiles(dir: string): AsyncGenerator<string> {
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* emlFiles(path);
    else if (e.name.toLowerCase().endsWith(".eml")) yield path;
  }
}

/** Verifies the folder `args[0]`; returns 0 when every file is PEC and verified, 1 otherwise, 2 on usage errors. */
export async function main(args: string[] = []): Promise<number> {
  const dirs: string[] = [];
  const trustFiles: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--trust" && args[i + 1] !== undefined) trustFiles.push(args[++i]!);
    else dirs.push(args[i]!);
  }
  if (dirs.length !== 1) {
    console.log("usage: verify-folder.ts <dir> [--trust <ldif|pem|der>]...");
    return 2;
  }
  const dir = dirs[0]!;

  // #region trust
  // The given anchors only, or the system roots with the PEC policy required.
  const trust = trustFiles.length ? TrustStore.merge(...(await Promise.all(trustFiles.map(loadTrust)))) : await systemTrust();
  // #endregion trust

  let verified = 0;
  let failed = 0;
  let notPec = 0;
  for await (const path of emlFiles(dir)) {
    const name = relative(dir, path);
    // #region verify
    const pec = readPec(await readFile(path));
    if (pec.type === "not-pec") {
      notPec++;
      console.log(`NOT PEC ${name}`);
      continue;
    }
    const res = await verifyPec(pec, { trust });
    if (res.valid && res.trusted) {
      verified++;
      console.log(`OK      ${name}  ${pec.type}  signed by ${res.gestore?.name ?? res.signer} at ${res.signedAt?.toISOString()}`);
    } else {
      failed++;
      const errors = res.issues.filter((i) => i.severity === "error").map((i) => i.code);
      console.log(`FAILED  ${name}  ${pec.type}  ${errors.join(", ")}`);
    }
    // #endregion verify
  }
  console.log(`${verified} verified, ${failed} failed, ${notPec} not PEC`);
  return failed === 0 && notPec === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
