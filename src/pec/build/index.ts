/**
 * Builders for every PEC message type: busta di trasporto and di anomalia, every
 * ricevuta and avviso, each signed by the emitting gestore, plus the helpers a gestore
 * (or a test) needs around them: composing an original, the punto di accesso's edit,
 * transaction facts, the ricevuta breve's hashing.
 *
 * Everything is isomorphic (WebCrypto, no Node APIs) and follows the spec tables
 * (`shared/spec/pec-format.md` §3–§5): headers, subject prefixes, From/To/Reply-To,
 * Message-ID rules, Italian + English bodies (ISO-8859-1, quoted-printable, HTML without
 * images, styles or scripts), `daticert.xml` (DTD-valid, UTF-8, base64) and
 * `postacert.eml` where the type carries it. One instant per event goes into `Date:`,
 * the body, daticert and the CMS signingTime. CR, LF or NUL in any input string throws
 * `PecError("ERR_HEADER_INJECTION")`; other bad input `ERR_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * const ca = await createTestCa({ keyAlgorithm: "ECDSA-P256" });
 * const alfa = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm: "ECDSA-P256" });
 * const beta = await createGestore({ name: "Gestore Beta S.p.A.", domain: "pec.beta.test", ca, keyAlgorithm: "ECDSA-P256" });
 * const original = composeMessage({ from: "mario@pec.alfa.test", to: "anna@pec.beta.test", subject: "Offerta", text: "Ciao" });
 * const tx = transactionFromOriginal(original, { identificativo: newIdentificativo(alfa.domain) });
 * const accettazione = await buildAccettazione(alfa, tx);
 * const busta = await buildBusta(alfa, tx, { original });
 * const consegna = await buildAvvenutaConsegna(beta, transactionFromBusta(busta.bytes), { consegna: "anna@pec.beta.test", original: busta.bytes });
 * ```
 *
 * @module
 */
export { newIdentificativo } from "./common.js";
export type {
  BreveHash,
  BuiltPec,
  MailboxInput,
  PecBuildOptions,
  PecSigner,
  PecTransaction,
  PecTransactionRecipient,
} from "./common.js";
export { composeMessage, prepareOriginal, transactionFromBusta, transactionFromOriginal } from "./original.js";
export type { ComposeAttachment, ComposeMessageInput, PrepareOriginalOptions, TransactionFromOriginalOptions } from "./original.js";
export { brevify } from "./breve.js";
export type { BrevifiedOriginal } from "./breve.js";
export { buildAnomalia, buildBusta } from "./envelopes.js";
export type { AnomaliaOptions, BustaOptions } from "./envelopes.js";
export {
  buildAccettazione,
  buildAvvenutaConsegna,
  buildErroreConsegna,
  buildNonAccettazione,
  buildPreavvisoErroreConsegna,
  buildPresaInCarico,
  buildRilevazioneVirus,
  deliveryReceiptType,
} from "./receipts.js";
export type {
  AvvenutaConsegnaOptions,
  ErroreConsegnaOptions,
  NonAccettazioneOptions,
  PreavvisoErroreConsegnaOptions,
  PresaInCaricoOptions,
  RilevazioneVirusOptions,
} from "./receipts.js";
