/**
 * The PEC vocabulary: read any PEC message (`readPec`), verify its gestore signature
 * (`verifyPec`), check a ricevuta breve (`checkBreveHashes`), print the stable JSON
 * (`pecToJson`), and build every message type (`buildBusta`, `buildAccettazione`, …).
 *
 * @example
 * ```ts
 * import { readPec, verifyPec, pecToJson } from "postacert/pec";
 * const pec = readPec(bytes);
 * const res = await verifyPec(pec, { trust });
 * console.log(JSON.stringify(pecToJson(pec, { verification: res })));
 * ```
 *
 * @module postacert/pec
 */
export { readPec } from "./read.js";
export type { ReadPecOptions } from "./read.js";
export { verifyPec } from "./verify.js";
export type { PecVerification, PecVerificationIssue, PecVerificationIssueCode, VerifyPecOptions } from "./verify.js";
export { pecToJson } from "./json.js";
export type { DaticertJson, PecJson, SignatureFacts, SignatureJson } from "./json.js";
export { checkBreveHashes, breveHashInput } from "./breve.js";
export type { BreveHashCheck, BreveHashForm } from "./breve.js";
export {
  PEC_HEADERS,
  PEC_TYPES,
  PEC_TYPE_LABELS,
  POSTACERT_FILENAME,
  SIGNATURE_FILENAME,
  SUBJECT_PREFIXES,
  X_RICEVUTA,
  FROM_DISPLAY_PREFIX,
} from "./constants.js";
export type { PecType, XRicevuta } from "./constants.js";
export type {
  BreveHashEntry,
  IssueSeverity,
  PecAttachment,
  PecIssue,
  PecIssueCode,
  PecOriginal,
  PecRecipient,
  PecSignatureInfo,
  ReadPec,
} from "./types.js";
export * from "./build/index.js";
