/**
 * The gestore simulator and its test PKI.
 *
 * @module
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
