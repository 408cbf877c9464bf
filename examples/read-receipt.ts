/**
 * Reads one PEC message (a receipt, a busta, any type) and prints what it is: its type in
 * Italian and English, the certification data of `daticert.xml`, the original message
 * and its attachments, and the consistency issues. No cryptography: see
 * `verify-folder.ts` for the signature.
 *
 * Run (Node >= 22.6): `node --experimental-strip-types examples/read-receipt.ts <file.eml>`
 * (the examples import `postacert`, so `npm run build` first). Messages to try:
 * `npx postacert simulate --out out` writes a few dozen.
 */
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { PEC_TYPE_LABELS, readPec } from "postacert";
import { parseDaticert, daticertDate } from "postacert/daticert";
import { parseMime } from "postacert/mime";

/** Prints the facts of the message in `args[0]`; returns 0 for PEC, 1 for other mail, 2 without a file. */
export async function main(args: string[] = []): Promise<number> {
  const [file] = args;
  if (!file) {
    console.log("usage: read-receipt.ts <file.eml>");
    return 2;
  }

  // #region read
  const pec = readPec(await readFile(file));
  const label = PEC_TYPE_LABELS[pec.type];
  console.log(`${pec.type}: ${label.it} / ${label.en}`);
  if (pec.type === "not-pec") return 1;
  // #endregion read

  // #region facts
  // The facts the gestore certified (from daticert.xml when present, else from the headers).
  console.log(`identificativo: ${pec.identificativo}`);
  console.log(`emesso da: ${pec.gestoreEmittente} il ${pec.date?.toISOString()}`);
  console.log(`mittente: ${pec.sender}`);
  for (const r of pec.recipients) console.log(`destinatario: ${r.address} (${r.tipo ?? "?"})`);
  if (pec.errore && pec.errore !== "nessuno") console.log(`errore: ${pec.errore} ${pec.erroreEsteso ?? ""}`);
  if (pec.type === "avvenuta-consegna") console.log(`consegnata a: ${pec.consegna}, ricevuta ${pec.ricevuta}`);
  // #endregion facts

  // #region original
  // The original message (postacert.eml) that a busta or a ricevuta completa carries.
  const original = pec.original;
  if (original) {
    console.log(`originale: "${original.subject}" da ${original.from} a ${original.to.join(", ")}`);
    for (const a of original.attachments) console.log(`  allegato: ${a.filename ?? a.mimeType}, ${a.content().length} byte`);
    for (const h of original.hashes) console.log(`  hash (ricevuta breve): ${h.originalFilename} ${h.hash}`);
  }
  // #endregion original

  // #region issues
  // Contradictions between headers, daticert and structure are errors; known
  // real-world deviations are warnings or info.
  for (const i of pec.issues) console.log(`${i.severity} ${i.code}: ${i.message}`);
  // #endregion issues

  // #region layers
  // The layers underneath, on their own: the MIME tree and daticert.xml.
  const root = parseMime(await readFile(file));
  const part = pec.daticertEntity;
  if (part) {
    const d = parseDaticert(part.decodedBody());
    console.log(`daticert.xml: tipo ${d.tipo}, ${daticertDate(d.dati.data)?.toISOString()}, ${d.warnings.length} warnings`);
  }
  console.log(`MIME: ${root.contentType.mimeType}, ${root.children.length} parts`);
  // #endregion layers
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
