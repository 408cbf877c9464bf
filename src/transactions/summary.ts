/**
 * The few facts of a read PEC message that correlation needs, as plain data.
 *
 * @module
 */
import { PecError } from "../errors.js";
import { normalizeMsgId } from "../pec/address.js";
import { PEC_TYPES, type PecType } from "../pec/constants.js";
import type { PecRecipient, ReadPec } from "../pec/types.js";
import { isDenseArray } from "../util/arrays.js";

/**
 * What a `TransactionTracker` keeps of a message: plain data (structured-cloneable, so a
 * worker can parse and send only this to the thread that correlates; a tracker of millions of
 * messages then holds no parse trees). Make it with {@link summarizePec}.
 */
export interface PecSummary {
  /** Duplicate key: the message's own Message-ID with its type and recipient, else a hash of its bytes. */
  key: string;
  /** The PEC type. */
  type: PecType;
  /** Virus variant (non accettazione, mancata consegna, rilevazione virus). */
  virus: boolean;
  /** For preavviso-errore-consegna: 12 h `preavviso` or 24 h `scadenza`. */
  timeout?: "preavviso" | "scadenza";
  /** Receipt kind (busta, avvenuta consegna). */
  ricevuta?: "completa" | "breve" | "sintetica";
  /** daticert errore. */
  errore?: string;
  /** daticert errore-esteso. */
  erroreEsteso?: string;
  /** PEC identificativo, without angle brackets. */
  identificativo?: string;
  /** Client msgid, without angle brackets. */
  msgid?: string;
  /** The message's own Message-ID, without angle brackets. */
  messageId?: string;
  /** Original sender. */
  sender?: string;
  /** Original subject (without the PEC prefix; daticert oggetto when the header has none). */
  subject?: string;
  /**
   * Recipients of the sending as the message lists them with authority (a busta, or a receipt
   * with daticert); empty otherwise, since a receipt's own To is the sender.
   */
  recipients: PecRecipient[];
  /** The recipient a consegna, errore, virus or timeout notice is about. */
  consegna?: string;
  /** Recipients covered by a presa in carico. */
  ricezione: string[];
  /** Time of the event (daticert data, else Date). */
  date?: Date;
  /** daticert gestore-emittente. */
  gestoreEmittente?: string;
}

/** FNV-1a 32-bit with two multipliers: cheap, and enough to tell duplicate files apart. */
function contentKey(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995);
  }
  return `h:${bytes.length}:${(h1 >>> 0).toString(36)}:${(h2 >>> 0).toString(36)}`;
}

/**
 * Extracts the {@link PecSummary} of a read message.
 *
 * @param pec - a message read with `readPec`
 * @throws PecError `ERR_INVALID_ARGUMENT` when `pec` is not a `ReadPec`
 * @example
 * ```ts
 * // In a worker: parse, then post only the summary.
 * postMessage(summarizePec(readPec(bytes)));
 * ```
 */
export function summarizePec(pec: ReadPec): PecSummary {
  if (!isReadPec(pec)) throw new PecError("ERR_INVALID_ARGUMENT", "summarizePec() expects a message read with readPec");
  const messageId = normalizeMsgId(pec.message.header("message-id"));
  // A gestore gives each receipt its own Message-ID; a busta's Message-ID is the identificativo,
  // so every copy of one busta (in transit, delivered, one per destination) is one message.
  const key = messageId !== undefined ? `m:${pec.type}:${messageId}:${pec.consegna ?? ""}` : contentKey(pec.root.raw());
  const s: PecSummary = {
    key,
    type: pec.type,
    virus: pec.virus,
    recipients: pec.type === "posta-certificata" || pec.daticert !== undefined ? pec.recipients.map((r) => ({ ...r })) : [],
    ricezione: [...pec.ricezione],
  };
  const identificativo = normalizeMsgId(pec.identificativo);
  const msgid = normalizeMsgId(pec.msgid);
  const subject = pec.originalSubject ?? pec.daticert?.intestazione.oggetto;
  if (pec.timeout !== undefined) s.timeout = pec.timeout;
  if (pec.ricevuta !== undefined) s.ricevuta = pec.ricevuta;
  if (pec.errore !== undefined) s.errore = pec.errore;
  if (pec.erroreEsteso !== undefined) s.erroreEsteso = pec.erroreEsteso;
  if (identificativo !== undefined) s.identificativo = identificativo;
  if (msgid !== undefined) s.msgid = msgid;
  if (messageId !== undefined) s.messageId = messageId;
  if (pec.sender !== undefined) s.sender = pec.sender;
  if (subject !== undefined) s.subject = subject;
  if (pec.consegna !== undefined) s.consegna = pec.consegna;
  if (pec.date instanceof Date && Number.isFinite(pec.date.getTime())) s.date = pec.date;
  if (pec.gestoreEmittente !== undefined) s.gestoreEmittente = pec.gestoreEmittente;
  return s;
}

/** Whether `v` looks like a `ReadPec` (the fields correlation reads). */
export function isReadPec(v: unknown): v is ReadPec {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Partial<ReadPec>;
  return typeof p.type === "string" && typeof p.root === "object" && p.root !== null && typeof p.message?.header === "function" && Array.isArray(p.recipients);
}

const TYPES: ReadonlySet<string> = new Set(PEC_TYPES);
const OPTIONAL_STRINGS = ["errore", "erroreEsteso", "identificativo", "msgid", "messageId", "sender", "subject", "consegna", "gestoreEmittente"] as const;

const TIMEOUTS: ReadonlySet<unknown> = new Set(["preavviso", "scadenza"]);
const RICEVUTE: ReadonlySet<unknown> = new Set(["completa", "breve", "sintetica"]);
const TIPI: ReadonlySet<unknown> = new Set(["certificato", "esterno"]);
const FIELDS: ReadonlySet<unknown> = new Set(["to", "cc"]);

/** Absent, or one of `allowed` (sets made once: this runs for every message a scan tracks). */
function oneOf(v: unknown, allowed: ReadonlySet<unknown>): boolean {
  return v === undefined || allowed.has(v);
}

/**
 * What is wrong with a value given as a {@link PecSummary}, or undefined when it is one. A
 * summary may come from a worker, a state file or a caller's own code: one that a tracker took
 * in and could not read later would break every transaction it builds afterwards, so each field
 * a tracker reads is checked here, before anything is kept (a few type checks per message).
 */
export function summaryProblem(v: unknown): string | undefined {
  if (typeof v !== "object" || v === null) return "not an object";
  const s = v as Record<keyof PecSummary, unknown>;
  if (typeof s.key !== "string") return "key must be a string";
  if (typeof s.type !== "string" || !TYPES.has(s.type)) return `type must be a PecType, not ${JSON.stringify(s.type)}`;
  if (s.virus !== undefined && typeof s.virus !== "boolean") return "virus must be a boolean";
  if (!oneOf(s.timeout, TIMEOUTS)) return "timeout must be preavviso or scadenza";
  if (!oneOf(s.ricevuta, RICEVUTE)) return "ricevuta must be completa, breve or sintetica";
  for (const f of OPTIONAL_STRINGS) if (s[f] !== undefined && typeof s[f] !== "string") return `${f} must be a string`;
  if (!isDenseArray(s.recipients)) return "recipients must be an array";
  for (const r of s.recipients as unknown[]) {
    const x = r as Partial<Record<keyof PecRecipient, unknown>> | null;
    if (typeof x !== "object" || x === null || typeof x.address !== "string") return "recipients must be { address, tipo?, field? } objects";
    if (!oneOf(x.tipo, TIPI) || !oneOf(x.field, FIELDS)) return "a recipient's tipo must be certificato or esterno, its field to or cc";
  }
  if (!isDenseArray(s.ricezione) || !(s.ricezione as unknown[]).every((a) => typeof a === "string")) return "ricezione must be an array of strings";
  // JSON keeps a Date as its ISO string: taken as no date, the message would silently leave
  // every clock (start, overdue) of its transaction.
  if (s.date !== undefined && !(s.date instanceof Date)) return "date must be a Date (one read back from JSON is a string: revive it with new Date(...))";
  return undefined;
}
