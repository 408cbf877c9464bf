/**
 * The README's library example: read a PEC message and verify its gestore signature
 * against the IGPEC list of gestori (or any PEM/LDIF trust file).
 *
 * Run (Node >= 22.6): `node --experimental-strip-types examples/quick-start.ts <file.eml> <igpec.ldif>`
 * (the examples import `postacert`, so `npm run build` first).
 */
import { pathToFileURL } from "node:url";
// #region readme
import { readFile } from "node:fs/promises";
import { TrustStore, readPec, verifyPec } from "postacert";

export async function main([file = "ricevuta.eml", ldif = "igpec.ldif"]: string[] = []): Promise<number> {
  const pec = readPec(await readFile(file)); // sync, no crypto: type, daticert, original
  console.log(pec.type, pec.daticert?.dati.identificativo, pec.original?.subject);

  const trust = await TrustStore.fromLdif(await readFile(ldif)); // or fromPem(), systemTrust()
  const res = await verifyPec(pec, { trust });
  console.log(res.valid && res.trusted ? `signed by ${res.gestore?.name} at ${res.signedAt?.toISOString()}` : res.issues);
  return res.valid && res.trusted ? 0 : 1;
}
// #endregion readme

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
