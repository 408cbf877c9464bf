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
