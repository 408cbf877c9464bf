/**
 * The gestore simulator and its test PKI: a {@link PecNetwork} of {@link Gestore}s
 * plays whole PEC flows; {@link createTestCa}, {@link createGestore}, {@link createCrl}
 * and {@link buildIgpecLdif} make the certificates and the IGPEC list they are checked
 * against; {@link runScenario} plays the named scenarios of `postacert simulate`. For
 * tests only.
 *
 * @example
 * ```ts
 * import { PecNetwork } from "postacert/simulator";
 * const network = await PecNetwork.create();
 * const alfa = await network.addGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", mailboxes: ["mario.rossi"] });
 * await network.addGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", mailboxes: ["anna.bianchi"] });
 * const flow = await alfa.send({ from: "mario.rossi@pec.alfa.test", to: "anna.bianchi@pec.beta.test", subject: "Prova", text: "Ciao" });
 * ```
 *
 * @module postacert/simulator
 */
export { createCrl, createGestore, createTestCa, exportPrivateKeyPem, toPem } from "./ca.js";
export type {
  CrlEntry,
  CrlOptions,
  CrlReason,
  GestoreOptions,
  IdentityOptions,
  KeyAlgorithm,
  KeyUsageName,
  TestCa,
  TestCaOptions,
  TestGestore,
  TestIdentity,
} from "./ca.js";
export { buildIgpecLdif } from "./ldif.js";
export type { IgpecLdifOptions, IgpecProvider } from "./ldif.js";
export { Gestore, PecNetwork, destinationLabel } from "./gestore.js";
export type {
  FlowDestination,
  FlowMessage,
  FlowNote,
  FlowVariant,
  GestoreAvailability,
  GestoreInit,
  PecFlow,
  PecNetworkOptions,
  ReceiveOptions,
  SendOptions,
} from "./gestore.js";
export {
  EICAR_SIGNATURE_NAME,
  POSTACERT_TEST_SIGNATURE_NAME,
  POSTACERT_TEST_VIRUS,
  defaultAntivirus,
  eicarTestFile,
  signatureAntivirus,
} from "./antivirus.js";
export type { Antivirus } from "./antivirus.js";
export {
  SCENARIOS,
  SCENARIO_ADDRESSES,
  SCENARIO_NAMES,
  createScenarioPki,
  isScenarioName,
  runScenario,
  samplePdf,
  scenarioNetwork,
} from "./scenarios.js";
export type {
  RunScenarioOptions,
  ScenarioInfo,
  ScenarioName,
  ScenarioNetwork,
  ScenarioNetworkOptions,
  ScenarioPki,
  ScenarioPkiOptions,
  ScenarioRun,
} from "./scenarios.js";
