/**
 * The gestore simulator as a library: a network of two test gestori plays the whole PEC
 * flow of one message, including a recipient that does not exist; then one of the named
 * scenarios `postacert simulate` writes. Prints every message of each flow and checks its
 * signature against the network's IGPEC list.
 *
 * Run (Node >= 22.6): `node --experimental-strip-types examples/simulate.ts`
 * (the examples import `postacert`, so `npm run build` first).
 */
import { pathToFileURL } from "node:url";
import { TrustStore, verifyPec } from "postacert";
import { PecNetwork, createScenarioPki, destinationLabel, runScenario } from "postacert/simulator";

/** Plays two flows and prints them; returns 0 when every message verifies. */
export async function main(): Promise<number> {
  // #region network
  // A network issues its gestori from its own test CA and plays the IGPEC role.
  const network = await PecNetwork.create({ keyAlgorithm: "ECDSA-P256" });
  const alfa = await network.addGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: ["mario.rossi"] });
  await network.addGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: ["anna.bianchi"] });
  // #endregion network

  // #region send
  // Mario writes to Anna and to a mailbox Beta does not have.
  const flow = await alfa.send({
    from: "mario.rossi@pec.alfa.test",
    to: ["anna.bianchi@pec.beta.test", "nessuno@pec.beta.test"],
    subject: "Convocazione",
    text: "La riunione è fissata per lunedì alle 10.",
  });
  for (const m of flow.messages) {
    console.log(`${m.step}. ${m.type}${m.variant ? ` (${m.variant})` : ""}: ${m.from} -> ${destinationLabel(m)}`);
  }
  // #endregion send

  // #region verify
  // Every message is signed by its gestore; the network publishes them as IGPEC does.
  const trust = await TrustStore.fromLdif(await network.igpecLdif());
  let failed = 0;
  for (const m of flow.messages) {
    const res = await verifyPec(m.message.bytes, { trust });
    if (!res.trusted) failed++;
  }
  console.log(`${flow.messages.length - failed} of ${flow.messages.length} messages verified`);
  // #endregion verify

  // #region scenario
  // The named scenarios of `postacert simulate`: here the recipient gestore never answers.
  const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256" });
  const run = await runScenario("timeout", { pki });
  console.log(`${run.info.name}: ${run.flow.messages.map((m) => m.type).join(", ")}`);
  // #endregion scenario

  return failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
