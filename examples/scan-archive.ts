/**
 * Follows the transactions of an archive (a folder of `.eml` files, an mbox or a Maildir)
 * with the library alone, in one thread: what `postacert scan` does on every core. Prints
 * one line per sending (outcome, subject, each recipient's state) and what is overdue.
 *
 * Run (Node >= 22.6): `node --experimental-strip-types examples/scan-archive.ts <source> --trust <ldif|pem>`
 * (the examples import `postacert`, so `npm run build` first).
 */
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { TransactionTracker, TrustStore, readPec, summarizePec, verifyPec } from "postacert";
import { nodeCrypto, readSource } from "postacert/node";

/** Scans `args[0]` with the anchors of `--trust`; returns 0 when every message verified, 1 otherwise, 2 on usage errors. */
export async function main(args: string[] = []): Promise<number> {
  const [source, flag, trustFile] = args;
  if (source === undefined || flag !== "--trust" || trustFile === undefined) {
    console.log("usage: scan-archive.ts <source> --trust <ldif|pem>");
    return 2;
  }
  const anchors = await readFile(trustFile);
  const trust = await (/\.ldif$/i.test(trustFile) ? TrustStore.fromLdif(anchors) : TrustStore.fromPem(new TextDecoder().decode(anchors)));
  let failed = 0;
  // #region scan
  const tracker = new TransactionTracker();
  // A file that cannot be read is named and counted, and the reading goes on.
  const onError = (e: Error, path: string): void => {
    failed++;
    console.error(`${path}: ${e.message}`);
  };
  for await (const m of readSource(source, { onError })) {
    const pec = readPec(m.bytes);
    if (pec.type === "not-pec") continue;
    const v = await verifyPec(pec, { trust, crypto: nodeCrypto() });
    if (!(v.valid && v.trusted)) failed++;
    tracker.record(summarizePec(pec), m); // in a worker: post summarizePec(pec), record it here
  }
  // #endregion scan
  for (const t of tracker.transactions()) {
    console.log(`${t.outcome}  ${t.subject ?? ""}  ${t.recipients.map((r) => `${r.address}=${r.state}`).join(" ")}`);
  }
  console.log(`${tracker.transactions().length} transactions, ${tracker.overdue(new Date()).length} overdue, ${failed} unreadable or not verified`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
