/**
 * Correlation of PEC messages into transactions: one sending (one busta) with its
 * accettazione, presa in carico and per-recipient receipts.
 *
 * Isomorphic: no `node:*`.
 *
 * @module
 */
import { PecError } from "../errors.js";
import { normalizeMsgId } from "../pec/address.js";
import type { ReadPec } from "../pec/types.js";
import { type PecSummary, isPecSummary, isReadPec, summarizePec } from "./summary.js";

const HOUR = 3_600_000;

/** Where a message came from, as a source reported it (e.g. `readMbox` yields `id` and `source`). */
export interface MessageMeta {
  /** Stable identifier of the message in its source (a path, `path#offset`, an IMAP UID…). */
  id?: string;
  /** The source (folder, mbox file, mailbox URL). */
  source?: string;
}

/**
 * One message of a transaction: its {@link PecSummary} and where it came from. The tracker keeps
 * no parse tree, so open the message again from `id` to show or verify it.
 */
export interface TransactionMessage extends PecSummary {
  /** Source identifier, when {@link TransactionTracker.add} was given one. */
  id?: string;
  /** Source name, when given. */
  source?: string;
}

/**
 * State of one recipient:
 * - `consegnato`: an avvenuta consegna proves delivery;
 * - `mancata-consegna`: an errore-consegna (not virus);
 * - `virus`: delivery refused because of a virus (errore-consegna virus or rilevazione virus);
 * - `preavviso`: the 12 h notice of non-delivery came, nothing stronger yet;
 * - `scaduto`: the 24 h notice came: the gestore gave up;
 * - `in-attesa`: nothing yet;
 * - `esterno`: an ordinary (non-PEC) address: no receipt will ever come.
 */
export type RecipientStateName = "consegnato" | "mancata-consegna" | "virus" | "preavviso" | "scaduto" | "in-attesa" | "esterno";

/** An event that touched a recipient (its history, oldest first). */
export interface RecipientEvent {
  /** The state the event gives. */
  state: Exclude<RecipientStateName, "in-attesa" | "esterno">;
  /** When. */
  date?: Date;
  /** The message. */
  message: TransactionMessage;
}

/** One recipient of a transaction and what became of it. */
export interface RecipientState {
  /** The address (as daticert or the receipt wrote it). */
  address: string;
  /** `certificato` or `esterno`; undefined when no daticert listed the recipient. */
  tipo?: "certificato" | "esterno";
  /** To or Cc, when known. */
  field?: "to" | "cc";
  /** The current state (the strongest event, whatever the arrival order). */
  state: RecipientStateName;
  /** Time of the event that gave the state. */
  date?: Date;
  /** The message that proves the state (absent for `in-attesa` and `esterno`). */
  proof?: TransactionMessage;
  /** For `consegnato`: the receipt kind. */
  ricevuta?: "completa" | "breve" | "sintetica";
  /** For `mancata-consegna`/`virus`: daticert errore (`no-dest`, `no-dominio`, `virus`, `altro`). */
  errore?: string;
  /** For errors: daticert errore-esteso. */
  erroreEsteso?: string;
  /** Every event for this recipient, by date. */
  history: RecipientEvent[];
}

/**
 * Overall outcome of a transaction:
 * `non-accettato` (refused by the sender's gestore), `consegnato` (every certificato recipient
 * delivered), `errore` (at least one recipient failed, none waiting), `in-corso` (some wait).
 */
export type TransactionOutcome = "non-accettato" | "consegnato" | "errore" | "in-corso";

/** One PEC sending and everything known about it. */
export interface Transaction {
  /** Stable key within a tracker (`id:<identificativo>` or `msgid:<msgid>`). */
  key: string;
  /** The PEC identificativo (without angle brackets), when any message carried it. */
  identificativo?: string;
  /** The client's Message-ID (without angle brackets), when known. */
  msgid?: string;
  /** Original sender. */
  sender?: string;
  /** Original subject (without the PEC prefix). */
  subject?: string;
  /** The accettazione. */
  accettazione?: TransactionMessage;
  /** The non-accettazione (see {@link Transaction.virus} and {@link Transaction.errore}). */
  nonAccettazione?: TransactionMessage;
  /** For a non-accettazione: daticert errore. */
  errore?: string;
  /** For a non-accettazione: daticert errore-esteso. */
  erroreEsteso?: string;
  /** True when the non-accettazione is for a virus. */
  virus: boolean;
  /** The busta di trasporto, when present. */
  busta?: TransactionMessage;
  /** Every presa in carico (one per receiving gestore), by date. */
  presaInCarico: TransactionMessage[];
  /** Every recipient, in daticert order, then recipients only receipts named. */
  recipients: RecipientState[];
  /** Every distinct message, by date. */
  messages: TransactionMessage[];
  /** Summary. */
  outcome: TransactionOutcome;
  /** Time from which delivery is awaited (accettazione, else busta, else earliest message). */
  start?: Date;
}

/** Why a transaction is overdue. */
export type OverdueReason = "no-accettazione" | "no-consegna";

/** A transaction that waits too long, and why. */
export interface OverdueTransaction {
  /** The transaction. */
  transaction: Transaction;
  /** Every reason (several recipients may each be late). */
  reasons: {
    /** What is missing. */
    reason: OverdueReason;
    /** The late recipient, for `no-consegna`. */
    recipient?: string;
    /** Since when it has been awaited. */
    since: Date;
  }[];
}

/** Options of {@link TransactionTracker} and {@link correlate}. */
export interface TrackerOptions {
  /** A busta with no accettazione is overdue after this many ms (default 1 h). */
  acceptanceTimeoutMs?: number;
  /** A certificato recipient with no consegna or error is overdue after this many ms (default 24 h). */
  deliveryTimeoutMs?: number;
}

/** What {@link TransactionTracker.record} did with a message. */
export type RecordResult = "added" | "duplicate" | "not-pec" | "anomalia" | "unlinked";

/** Counters of a tracker. */
export interface TrackerStats {
  /** Messages given to {@link TransactionTracker.add}. */
  messages: number;
  /** Messages already seen (same Message-ID and type, or same bytes). */
  duplicates: number;
  /** Ordinary mail, ignored. */
  notPec: number;
  /** Buste di anomalia: not transactions (they wrap ordinary mail). */
  anomalie: number;
  /** PEC messages with neither identificativo nor msgid, which cannot be correlated. */
  unlinked: number;
}

interface Group {
  key: string;
  ids: Set<string>;
  msgids: Set<string>;
  messages: TransactionMessage[];
  snapshot?: Transaction;
}

const RANK: Record<RecipientEvent["state"], number> = {
  preavviso: 1,
  scaduto: 2,
  virus: 3,
  "mancata-consegna": 3,
  consegnato: 5,
};

function time(d: Date | undefined): number {
  return d === undefined ? Number.POSITIVE_INFINITY : d.getTime();
}

function byDate(a: TransactionMessage, b: TransactionMessage): number {
  const d = time(a.date) - time(b.date);
  return d !== 0 && !Number.isNaN(d) ? d : 0;
}

function lower(s: string): string {
  return s.trim().toLowerCase();
}

function isDate(d: unknown): d is Date {
  return d instanceof Date && Number.isFinite(d.getTime());
}

function checkTimeout(v: unknown, name: string): void {
  if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) {
    throw new PecError("ERR_INVALID_ARGUMENT", `${name} must be a non-negative number of milliseconds`);
  }
}

/**
 * Groups PEC messages into {@link Transaction}s incrementally, in any arrival order, counting
 * duplicates once. `record` is O(1) per message and `add` also rebuilds the one transaction it
 * touched, so a scan can feed it millions of messages; it keeps only {@link PecSummary} data.
 *
 * Grouping: by identificativo; a message without one (or whose identificativo is new) is linked
 * through its msgid; a msgid-only group joins the identificativo group that later names the same
 * msgid. Two different identificativi are never merged, even with the same msgid (a client may
 * reuse a Message-ID for a new sending).
 *
 * @example
 * ```ts
 * import { readPec, TransactionTracker } from "postacert";
 * const tracker = new TransactionTracker();
 * for (const { id, bytes } of messages) tracker.add(readPec(bytes), { id });
 * for (const t of tracker.transactions()) console.log(t.subject, t.outcome, t.recipients.map((r) => r.state));
 * console.log(tracker.overdue(new Date()));
 * ```
 */
export class TransactionTracker {
  private readonly byId = new Map<string, Group>();
  private readonly byMsgid = new Map<string, Group>();
  private readonly seen = new Set<string>();
  private readonly groups = new Set<Group>();
  private readonly acceptanceTimeoutMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly counters: TrackerStats = { messages: 0, duplicates: 0, notPec: 0, anomalie: 0, unlinked: 0 };

  /**
   * @param options - overdue thresholds
   * @throws PecError `ERR_INVALID_ARGUMENT` for a negative or non-numeric timeout
   */
  constructor(options: TrackerOptions = {}) {
    if (typeof options !== "object" || options === null) throw new PecError("ERR_INVALID_ARGUMENT", "options must be an object");
    checkTimeout(options.acceptanceTimeoutMs, "acceptanceTimeoutMs");
    checkTimeout(options.deliveryTimeoutMs, "deliveryTimeoutMs");
    this.acceptanceTimeoutMs = options.acceptanceTimeoutMs ?? HOUR;
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 24 * HOUR;
  }

  /** Counters: messages, duplicates, non-PEC, anomalie, unlinked. */
  get stats(): Readonly<TrackerStats> {
    return { ...this.counters };
  }

  /**
   * Adds one message and returns the transactions it changed. Costs a few map look-ups plus a
   * rebuild of the transaction it touched (proportional to that transaction's messages); to
   * feed a whole archive without building snapshots, use {@link TransactionTracker.record}.
   *
   * @param input - a message read with `readPec`, or its {@link summarizePec} summary (from a worker)
   * @param meta - where it came from (a `SourceMessage` of `postacert/node` fits as it is)
   * @returns the transactions this message changed (empty for a duplicate, non-PEC mail, an
   *   anomalia or a message without ids)
   * @throws PecError `ERR_INVALID_ARGUMENT` when `input` is neither a `ReadPec` nor a `PecSummary`
   */
  add(input: ReadPec | PecSummary, meta: MessageMeta = {}): Transaction[] {
    const group = this.ingest(input, meta);
    return typeof group === "string" ? [] : [this.snapshot(group)];
  }

  /**
   * Adds one message without building any transaction (O(1): snapshots are built on demand by
   * {@link TransactionTracker.transactions} and {@link TransactionTracker.overdue}).
   *
   * @param input - a message read with `readPec`, or its {@link summarizePec} summary
   * @param meta - where it came from
   * @returns what happened to it
   * @throws PecError `ERR_INVALID_ARGUMENT` when `input` is neither a `ReadPec` nor a `PecSummary`
   */
  record(input: ReadPec | PecSummary, meta: MessageMeta = {}): RecordResult {
    const group = this.ingest(input, meta);
    return typeof group === "string" ? group : "added";
  }

  private ingest(input: ReadPec | PecSummary, meta: MessageMeta): Group | Exclude<RecordResult, "added"> {
    if (typeof meta !== "object" || meta === null) throw new PecError("ERR_INVALID_ARGUMENT", "meta must be an object");
    let pec: PecSummary;
    if (isReadPec(input)) {
      if (input.type === "not-pec" || input.type === "anomalia") pec = { key: "", type: input.type, virus: false, recipients: [], ricezione: [] };
      else pec = summarizePec(input);
    } else if (isPecSummary(input)) pec = input;
    else throw new PecError("ERR_INVALID_ARGUMENT", "add() expects a message read with readPec or its summarizePec() summary");
    this.counters.messages++;
    if (pec.type === "not-pec") {
      this.counters.notPec++;
      return "not-pec";
    }
    if (pec.type === "anomalia") {
      this.counters.anomalie++;
      return "anomalia";
    }
    const key = pec.key;
    if (this.seen.has(key)) {
      this.counters.duplicates++;
      return "duplicate";
    }
    // Summaries may come from elsewhere (a state file): normalise again, it is cheap.
    const id = normalizeMsgId(pec.identificativo);
    const msgid = normalizeMsgId(pec.msgid);
    if (id === undefined && msgid === undefined) {
      this.counters.unlinked++;
      return "unlinked";
    }
    this.seen.add(key);

    let group = id !== undefined ? this.byId.get(id) : undefined;
    const viaMsgid = msgid !== undefined ? this.byMsgid.get(msgid) : undefined;
    if (group === undefined) {
      if (viaMsgid !== undefined && (id === undefined || viaMsgid.ids.size === 0)) group = viaMsgid;
      else group = this.newGroup(id !== undefined ? `id:${id}` : `msgid:${msgid!}`);
    } else if (viaMsgid !== undefined && viaMsgid !== group && viaMsgid.ids.size === 0) {
      this.merge(group, viaMsgid);
    }
    if (id !== undefined && !group.ids.has(id)) {
      group.ids.add(id);
      this.byId.set(id, group);
      if (group.key.startsWith("msgid:") && group.ids.size === 1) group.key = `id:${id}`;
    }
    if (msgid !== undefined && !group.msgids.has(msgid)) {
      group.msgids.add(msgid);
      // The first group to claim a msgid keeps it: a reused msgid must not steal receipts.
      if (!this.byMsgid.has(msgid)) this.byMsgid.set(msgid, group);
    }
    const message: TransactionMessage = { ...pec };
    if (!isDate(message.date)) delete message.date;
    if (meta.id !== undefined) message.id = meta.id;
    if (meta.source !== undefined) message.source = meta.source;
    group.messages.push(message);
    group.snapshot = undefined;
    return group;
  }

  /** Every transaction, oldest first (by start time). */
  transactions(): Transaction[] {
    const out = [...this.groups].map((g) => this.snapshot(g));
    return out.sort((a, b) => time(a.start) - time(b.start) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Transactions waiting too long at `now`: a busta without accettazione or non-accettazione
   * after `acceptanceTimeoutMs`; a certificato recipient still `in-attesa` or `preavviso`
   * `deliveryTimeoutMs` after the accettazione (else the busta, else the earliest message). `scaduto` is not overdue: the
   * gestore has already declared the failure.
   *
   * @param now - the clock
   * @throws PecError `ERR_INVALID_ARGUMENT` when `now` is not a valid Date
   */
  overdue(now: Date): OverdueTransaction[] {
    if (!isDate(now)) throw new PecError("ERR_INVALID_ARGUMENT", "overdue(now) expects a valid Date");
    const out: OverdueTransaction[] = [];
    for (const t of this.transactions()) {
      const reasons: OverdueTransaction["reasons"] = [];
      if (!t.accettazione && !t.nonAccettazione && t.busta?.date && now.getTime() - t.busta.date.getTime() > this.acceptanceTimeoutMs) {
        reasons.push({ reason: "no-accettazione", since: t.busta.date });
      }
      // Without accettazione or busta (receipts only), the earliest receipt is the best clock we have.
      const since = t.accettazione?.date ?? t.busta?.date ?? t.start;
      if (!t.nonAccettazione && since && now.getTime() - since.getTime() > this.deliveryTimeoutMs) {
        for (const r of t.recipients) {
          if (r.tipo !== "esterno" && (r.state === "in-attesa" || r.state === "preavviso")) {
            reasons.push({ reason: "no-consegna", recipient: r.address, since });
          }
        }
      }
      if (reasons.length > 0) out.push({ transaction: t, reasons });
    }
    return out;
  }

  private newGroup(key: string): Group {
    const g: Group = { key, ids: new Set(), msgids: new Set(), messages: [] };
    this.groups.add(g);
    return g;
  }

  private merge(into: Group, from: Group): void {
    for (const m of from.msgids) {
      into.msgids.add(m);
      if (this.byMsgid.get(m) === from) this.byMsgid.set(m, into);
    }
    for (const m of from.messages) into.messages.push(m);
    this.groups.delete(from);
    into.snapshot = undefined;
  }

  private snapshot(g: Group): Transaction {
    g.snapshot ??= build(g);
    return g.snapshot;
  }
}

function eventOf(m: TransactionMessage): RecipientEvent["state"] | undefined {
  switch (m.type) {
    case "avvenuta-consegna":
      return "consegnato";
    case "errore-consegna":
      return m.virus || m.errore === "virus" ? "virus" : "mancata-consegna";
    case "rilevazione-virus":
      return "virus";
    case "preavviso-errore-consegna":
      return m.timeout === "scadenza" ? "scaduto" : "preavviso";
    default:
      return undefined;
  }
}

/** Among equal ranks, the errore-consegna to the sender beats the avviso between gestori. */
function strength(e: RecipientEvent): number {
  return RANK[e.state] * 2 + (e.message.type === "rilevazione-virus" ? 0 : 1);
}

function build(g: Group): Transaction {
  const messages = [...g.messages].sort(byDate);
  const recipients = new Map<string, RecipientState>();
  const addRecipient = (address: string, tipo?: "certificato" | "esterno", field?: "to" | "cc"): RecipientState => {
    const k = lower(address);
    let r = recipients.get(k);
    if (!r) {
      r = { address: address.trim(), state: "in-attesa", history: [] };
      recipients.set(k, r);
    }
    if (tipo !== undefined && r.tipo === undefined) r.tipo = tipo;
    if (field !== undefined && r.field === undefined) r.field = field;
    return r;
  };
  let accettazione: TransactionMessage | undefined;
  let nonAccettazione: TransactionMessage | undefined;
  let busta: TransactionMessage | undefined;
  const presaInCarico: TransactionMessage[] = [];
  let sender: string | undefined;
  let subject: string | undefined;
  let identificativo: string | undefined;
  let msgid: string | undefined;
  // The busta lists the recipients first, then the accettazione, then other receipts' daticert.
  const listed = [...messages].sort((a, b) => listRank(a) - listRank(b));
  for (const m of listed) {
    for (const r of m.recipients) addRecipient(r.address, r.tipo, r.field);
  }
  for (const m of messages) {
    const p = m;
    if (m.type === "accettazione") accettazione ??= m;
    else if (m.type === "non-accettazione") nonAccettazione ??= m;
    else if (m.type === "posta-certificata") busta ??= m;
    else if (m.type === "presa-in-carico") presaInCarico.push(m);
    identificativo ??= normalizeMsgId(p.identificativo);
    msgid ??= normalizeMsgId(p.msgid);
    const ev = eventOf(m);
    if (ev !== undefined) {
      const target = p.consegna ?? (m.type === "rilevazione-virus" && p.recipients.length === 1 ? p.recipients[0]!.address : undefined);
      if (target !== undefined) {
        const r = addRecipient(target);
        const e: RecipientEvent = { state: ev, message: m };
        if (m.date) e.date = m.date;
        r.history.push(e);
      }
    }
  }
  const best = busta ?? accettazione ?? nonAccettazione ?? messages[0];
  for (const m of [best, ...messages]) {
    if (!m) continue;
    sender ??= m.sender;
    subject ??= m.subject;
  }
  let waiting = false;
  let failed = false;
  let delivered = 0;
  for (const r of recipients.values()) {
    let top: RecipientEvent | undefined;
    for (const e of r.history) {
      // history is in date order, so on a tie the earliest proof stays.
      if (!top || strength(e) > strength(top)) top = e;
    }
    if (r.tipo === "esterno") r.state = "esterno";
    else if (top) {
      r.state = top.state;
      r.proof = top.message;
      if (top.date) r.date = top.date;
      const p = top.message;
      if (top.state === "consegnato" && p.ricevuta) r.ricevuta = p.ricevuta;
      if (top.state === "mancata-consegna" || top.state === "virus") {
        if (p.errore !== undefined) r.errore = p.errore;
        if (p.erroreEsteso !== undefined) r.erroreEsteso = p.erroreEsteso;
      }
    }
    if (r.state === "in-attesa" || r.state === "preavviso") waiting = true;
    else if (r.state === "consegnato") delivered++;
    else if (r.state !== "esterno") failed = true;
  }
  const t: Transaction = {
    key: g.key,
    virus: nonAccettazione?.virus ?? false,
    presaInCarico,
    recipients: [...recipients.values()],
    messages,
    outcome: nonAccettazione ? "non-accettato" : waiting || (delivered === 0 && !failed) ? "in-corso" : failed ? "errore" : "consegnato",
  };
  if (identificativo !== undefined) t.identificativo = identificativo;
  if (msgid !== undefined) t.msgid = msgid;
  if (sender !== undefined) t.sender = sender;
  if (subject !== undefined) t.subject = subject;
  if (accettazione) t.accettazione = accettazione;
  if (busta) t.busta = busta;
  if (nonAccettazione) {
    t.nonAccettazione = nonAccettazione;
    if (nonAccettazione.errore !== undefined) t.errore = nonAccettazione.errore;
    if (nonAccettazione.erroreEsteso !== undefined) t.erroreEsteso = nonAccettazione.erroreEsteso;
  }
  const start = accettazione?.date ?? busta?.date ?? nonAccettazione?.date ?? messages[0]?.date;
  if (start) t.start = start;
  return t;
}

function listRank(m: TransactionMessage): number {
  return m.type === "posta-certificata" ? 0 : m.type === "accettazione" || m.type === "non-accettazione" ? 1 : 2;
}

/** Result of {@link correlate}. */
export interface CorrelateResult {
  /** Every transaction, oldest first. */
  transactions: Transaction[];
  /** The tracker that built them, to add more messages or ask what is overdue. */
  tracker: TransactionTracker;
}

/**
 * Correlates a set of messages in one go (a {@link TransactionTracker} fed with all of them).
 *
 * @param messages - messages read with `readPec` (or their summaries), in any order, duplicates allowed
 * @param options - overdue thresholds (used by the returned tracker)
 * @returns the transactions, oldest first, and the tracker (for `stats` and `overdue`)
 * @example
 * ```ts
 * const { transactions } = correlate(files.map((b) => readPec(b)));
 * ```
 */
export function correlate(messages: Iterable<ReadPec | PecSummary>, options: TrackerOptions = {}): CorrelateResult {
  if (messages === null || typeof messages !== "object" || typeof (messages as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new PecError("ERR_INVALID_ARGUMENT", "correlate() expects an iterable of ReadPec");
  }
  const tracker = new TransactionTracker(options);
  for (const m of messages) tracker.add(m);
  return { transactions: tracker.transactions(), tracker };
}
