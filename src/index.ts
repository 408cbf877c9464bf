/**
 * postacert: Italian PEC (Posta Elettronica Certificata) in TypeScript, for Node and
 * browsers. Read every PEC message type, verify the gestore signature, build and sign
 * every message, and simulate whole flows.
 *
 * @example
 * ```ts
 * import { readPec, verifyPec, TrustStore } from "postacert";
 * const pec = readPec(bytes);
 * const res = await verifyPec(pec, { trust: await TrustStore.fromLdif(ldif) });
 * console.log(pec.type, pec.daticert?.dati.identificativo, res.valid, res.trusted);
 * ```
 *
 * @module postacert
 */
export { PecError, isPecError } from "./errors.js";
export type { PecErrorCode, PecErrorDetails } from "./errors.js";
export * from "./mime/index.js";
export * from "./daticert/index.js";
export * from "./smime/index.js";
export * from "./pec/index.js";
export * from "./simulator/index.js";
export { TransactionTracker, correlate, summarizePec } from "./transactions/index.js";
export type {
  CorrelateResult,
  MessageMeta,
  OverdueReason,
  OverdueTransaction,
  PecSummary,
  RecipientEvent,
  RecipientState,
  RecipientStateName,
  RecordResult,
  TrackerOptions,
  TrackerStats,
  Transaction,
  TransactionMessage,
  TransactionOutcome,
} from "./transactions/index.js";
