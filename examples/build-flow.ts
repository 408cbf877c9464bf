/**
 * Builds one PEC flow with the builders alone (no simulator): a test CA, two gestori, an
 * original message with an attachment, then the accettazione, the busta di trasporto,
 * the presa in carico and the avvenuta consegna. Verifies each message against the test
 * CA and, given a folder, writes them there as `.eml` files with the CA as `ca.pem`.
 *
 * Run (Node >= 22.6): `node --experimental-strip-types examples/build-flow.ts [out-dir]`
 * (the examples import `postacert`, so `npm run build` first).
 *
 * The test keys and certificates are for tests only: real messages are signed by a gestore.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type BuiltPec,
  TrustStore,
  buildAccettazione,
  buildAvvenutaConsegna,
  buildBusta,
  buildPresaInCarico,
  composeMessage,
  createGestore,
  createTestCa,
  newIdentificativo,
  readPec,
  transactionFromBusta,
  transactionFromOriginal,
  verifyPec,
} from "postacert";

/** Builds the flow; prints one line per message; returns 0 when every signature is valid and trusted. */
export async function main(args: string[] = []): Promise<number> {
  const [out] = args;

  // #region pki
  // A test CA standing in for AgID's, and two gestori (ECDSA keys: quick to generate;
  // the default, RSA-2048, is what real gestori use).
  const ca = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
  const alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm: "ECDSA-P256" });
  const beta = await createGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", ca, keyAlgorithm: "ECDSA-P256" });
  // #endregion pki

  // #region original
  // The message as the sender's mail client submits it.
  const original = composeMessage({
    from: { name: "Mario Rossi", address: "mario.rossi@pec.alfa.test" },
    to: "anna.bianchi@pec.beta.test",
    subject: "Offerta n. 12/2026",
    text: "Buongiorno,\nin allegato l'offerta.\n",
    attachments: [{ filename: "offerta.txt", contentType: "text/plain", content: "Totale: 100 EUR\n" }],
  });
  // #endregion original

  // #region flow
  // Punto di accesso (Alfa): the transaction facts, the accettazione to the sender and
  // the busta di trasporto to the recipient.
  const tx = transactionFromOriginal(original, { identificativo: newIdentificativo(alfa.domain) });
  const accettazione = await buildAccettazione(alfa, tx);
  const busta = await buildBusta(alfa, tx, { original });

  // Punto di ricezione and punto di consegna (Beta): the same facts, read from the busta.
  const received = transactionFromBusta(busta.bytes);
  const presaInCarico = await buildPresaInCarico(beta, received, { ricezione: ["anna.bianchi@pec.beta.test"], to: alfa.email });
  const consegna = await buildAvvenutaConsegna(beta, received, { consegna: "anna.bianchi@pec.beta.test", original: busta.bytes });
  // #endregion flow

  // #region check
  // Every built message reads back as its type and verifies against the test CA.
  const trust = await TrustStore.fromPem(ca.pem());
  const messages: BuiltPec[] = [accettazione, busta, presaInCarico, consegna];
  let failed = 0;
  for (const m of messages) {
    const pec = readPec(m.bytes);
    const res = await verifyPec(pec, { trust });
    if (!(res.valid && res.trusted) || pec.type !== m.type) failed++;
    console.log(`${pec.type}: ${m.from} -> ${m.to.join(", ")}, ${res.valid && res.trusted ? "valid and trusted" : "NOT verified"}`);
  }
  // #endregion check

  if (out) {
    await mkdir(out, { recursive: true });
    await writeFile(join(out, "ca.pem"), ca.pem());
    for (const [i, m] of messages.entries()) await writeFile(join(out, `${String(i + 1).padStart(2, "0")}-${m.type}.eml`), m.bytes);
    console.log(`wrote ${messages.length} messages and ca.pem to ${out}`);
  }
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
