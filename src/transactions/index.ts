/**
 * Transactions: every message of one PEC sending (busta, accettazione, presa in carico,
 * receipts) correlated, with the state of each recipient and what is overdue. Isomorphic.
 *
 * @example
 * ```ts
 * import { correlate, readPec } from "postacert";
 * declare const files: Uint8Array[]; // the messages of an archive
 * const { transactions, tracker } = correlate(files.map((b) => readPec(b)));
 * for (const t of transactions) console.log(t.subject, t.outcome);
 * console.log(tracker.overdue(new Date()));
 * ```
 *
 * @module
 */
export { TransactionTracker, correlate } from "./tracker.js";
export { summarizePec } from "./summary.js";
export type { PecSummary } from "./summary.js";
export type {
  CorrelateResult,
  MessageMeta,
  OverdueReason,
  OverdueTransaction,
  RecipientEvent,
  RecipientState,
  RecipientStateName,
  RecordResult,
  TrackerOptions,
  TrackerStats,
  Transaction,
  TransactionMessage,
  TransactionOutcome,
} from "./tracker.js";
