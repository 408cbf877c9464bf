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
import type { PecType } from "../pec/constants.js";
import type { PecRecipient, ReadPec } from "../pec/types.js";
import { Linker, StringPool, admit, flat, isDate, linkIds, newStats, timeouts } from "./link.js";
import { RANK, bare, eventState, eventTarget, listRank, lower, outcomeOf } from "./progress.js";
import type { PecSummary } from "./summary.js";

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
 * - `in-attesa`: nothing yet. After a non accettazione the recipients stay so: nothing was
 *   sent to them, the transaction's `outcome` (`non-accettato`) says it, and `overdue` leaves them out;
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
 * delivered; for an accepted sending whose recipients are all esterno, nothing is left to come),
 * `errore` (at least one recipient failed, none waiting), `in-corso` (some wait, or nothing is
 * known of any recipient yet).
 */
export type TransactionOutcome = "non-accettato" | "consegnato" | "errore" | "in-corso";

/** One PEC sending and everything known about it. */
export interface Transaction {
  /**
   * Key within a tracker: `id:<identificativo>` once a message of the sending names its
   * identificativo, else `msgid:<msgid>`. It can change as messages arrive: a sending first
   * known by a receipt's msgid takes the `id:` key when its accettazione comes, and a msgid-only
   * sending may join the identificativo sending that names the same msgid (add() then returns
   * the joined one). Keep the tracker, not a map of keys, as the source of truth.
   */
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
  /** Every distinct message, by date. Messages that list the same recipients share one `recipients` array. */
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
  /** Messages of a transaction already seen (same Message-ID and type, or same bytes). Buste di anomalia and ordinary mail are counted each time they come. */
  duplicates: number;
  /** Ordinary mail, ignored. */
  notPec: number;
  /** Buste di anomalia: not transactions (they wrap ordinary mail); a copy seen again is counted again. */
  anomalie: number;
  /** PEC messages with neither identificativo nor msgid, which cannot be correlated. */
  unlinked: number;
}

/**
 * A message as a tracker keeps it. A scan feeds a tracker millions of messages and it must keep
 * each one (Transaction.messages lists them all), so this is the cheap form: a fixed shape, the
 * date as a number, no duplicate key (rebuilt from type, messageId and consegna when it has the
 * usual form), repeated strings and recipient lists shared. {@link expand} rebuilds the public
 * {@link TransactionMessage} only when a snapshot is built.
 */
class Stored {
  constructor(
    readonly type: PecType,
    /** Epoch ms; NaN when the message had no valid date. */
    readonly date: number,
    readonly messageId: string | undefined,
    /** The duplicate key, only when it is not the one {@link keyOf} derives. */
    readonly key: string | undefined,
    readonly identificativo: string | undefined,
    readonly msgid: string | undefined,
    readonly sender: string | undefined,
    readonly subject: string | undefined,
    readonly consegna: string | undefined,
    readonly ricevuta: PecSummary["ricevuta"],
    readonly recipients: readonly PecRecipient[],
    readonly ricezione: readonly string[],
    /** The id, as {@link encodeId} wrote it. */
    readonly id: string | undefined,
    readonly source: string | undefined,
    /** Rare fields (virus when true, timeout, errore, erroreEsteso, gestoreEmittente, anything else a caller put in). */
    readonly extra: Record<string, unknown> | undefined,
  ) {}

  /** The next message of the group: a list costs one field, an array 17 slots once it grows. */
  next: Stored | undefined = undefined;
}

/**
 * An id without its source's prefix when it has one (a Maildir file's path repeats the folder):
 * `\0` + the rest. An id that itself starts with `\0` or `\1` is kept whole behind `\1`.
 */
function encodeId(id: string, source: string | undefined): string {
  if (source !== undefined && id.length > source.length && id.startsWith(source) && id.charCodeAt(source.length) === 0x2f) return flat("\0" + id.slice(source.length + 1));
  const c = id.charCodeAt(0);
  return flat(c === 0 || c === 1 ? "\u0001" + id : id);
}

function decodeId(id: string, source: string | undefined): string {
  const c = id.charCodeAt(0);
  return c === 0 ? `${source!}/${id.slice(1)}` : c === 1 ? id.slice(1) : id;
}

/** Fields {@link Stored} has a slot for; any other own field of a summary goes to `extra`. */
const SLOTS = new Set(["key", "type", "date", "messageId", "identificativo", "msgid", "sender", "subject", "consegna", "ricevuta", "recipients", "ricezione", "id", "source"]);
const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_RECIPIENTS: readonly PecRecipient[] = Object.freeze([]);

function derivedKey(type: string, messageId: string, consegna: string | undefined): string {
  return `m:${type}:${messageId}:${consegna ?? ""}`;
}

function keyOf(m: Stored): string {
  return m.key ?? derivedKey(m.type, m.messageId!, m.consegna);
}

/**
 * FNV-1a of a duplicate key, cut to 30 bits so it stays a small integer (no heap number per
 * message in the map). Collisions are expected now and then and are resolved exactly.
 */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

/**
 * The lists of one snapshot's messages, one copy per stored list. The receipts of a sending
 * repeat its recipient list, and a copy each made a snapshot of a sending to 10,000 recipients
 * 10,000 × 10,000 recipients: out of memory.
 */
type ListCopies = Map<readonly unknown[], unknown[]>;

function copyOf<T>(list: readonly T[], copies: ListCopies, each: (x: T) => T): T[] {
  if (list.length === 0) return [];
  let c = copies.get(list) as T[] | undefined;
  if (c === undefined) copies.set(list, (c = list.map(each)));
  return c;
}

const same = <T>(x: T): T => x;

/**
 * The public form of a stored message: a fresh object, which callers may keep. Messages of one
 * snapshot that list the same recipients share that list.
 */
function expand(s: Stored, copies: ListCopies): TransactionMessage {
  const m: TransactionMessage = { key: keyOf(s), type: s.type, virus: false, recipients: copyOf(s.recipients, copies, (r) => ({ ...r })), ricezione: copyOf(s.ricezione, copies, same) };
  if (s.ricevuta !== undefined) m.ricevuta = s.ricevuta;
  if (s.identificativo !== undefined) m.identificativo = s.identificativo;
  if (s.msgid !== undefined) m.msgid = s.msgid;
  if (s.messageId !== undefined) m.messageId = s.messageId;
  if (s.sender !== undefined) m.sender = s.sender;
  if (s.subject !== undefined) m.subject = s.subject;
  if (s.consegna !== undefined) m.consegna = s.consegna;
  if (!Number.isNaN(s.date)) m.date = new Date(s.date);
  if (s.extra !== undefined) Object.assign(m, s.extra);
  if (s.id !== undefined) m.id = decodeId(s.id, s.source);
  if (s.source !== undefined) m.source = s.source;
  return m;
}

/** What the tracker keeps of a group (its ids are the {@link Linker}'s). */
interface Group {
  /** Its messages, in arrival order, as a list (see {@link Stored.next}). */
  head: Stored | undefined;
  tail: Stored | undefined;
  snapshot: Transaction | undefined;
}

function newGroup(): Group {
  // Every field set here, so all groups share one shape.
  return { head: undefined, tail: undefined, snapshot: undefined };
}

function* messagesOf(g: Group): Generator<Stored> {
  for (let m = g.head; m !== undefined; m = m.next) yield m;
}

function sameRecipients(a: readonly PecRecipient[], b: readonly PecRecipient[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.address !== y.address || x.tipo !== y.tipo || x.field !== y.field) return false;
  }
  return true;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function time(d: Date | undefined): number {
  return d === undefined ? Number.POSITIVE_INFINITY : d.getTime();
}

/** Oldest first, undated last; the key breaks ties, so the order does not depend on arrival. */
function byTime(a: { key: string }, ta: number, b: { key: string }, tb: number): number {
  // Infinity − Infinity (both undated) is NaN: a tie.
  return ta - tb || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

function byDate(a: TransactionMessage, b: TransactionMessage): number {
  return byTime(a, time(a.date), b, time(b.date));
}

function byStart(a: Transaction, b: Transaction): number {
  return byTime(a, time(a.start), b, time(b.start));
}

/**
 * Groups PEC messages into {@link Transaction}s incrementally, in any arrival order, counting
 * duplicates once. `record` is O(1) per message and `add` also rebuilds the one transaction it
 * touched, so a scan can feed it millions of messages; it keeps a compact copy of each {@link PecSummary} (a few hundred bytes), no parse tree.
 *
 * Grouping: by identificativo; a message without one (or whose identificativo is new) is linked
 * through its msgid; a msgid-only group joins the identificativo group that later names the same
 * msgid. Two different identificativi are never merged, even with the same msgid (a client may
 * reuse a Message-ID for a new sending).
 *
 * @example
 * ```ts
 * import { readPec, TransactionTracker } from "postacert";
 * declare const messages: { id: string; bytes: Uint8Array }[];
 * const tracker = new TransactionTracker();
 * for (const { id, bytes } of messages) tracker.add(readPec(bytes), { id });
 * for (const t of tracker.transactions()) console.log(t.subject, t.outcome, t.recipients.map((r) => r.state));
 * console.log(tracker.overdue(new Date()));
 * ```
 */
export class TransactionTracker {
  /** Each group's messages, by its number in {@link TransactionTracker.linker}. */
  private readonly groups: Group[] = [];
  private readonly linker = new Linker((i, f) => {
    const into = this.groups[i]!;
    const from = this.groups[f]!;
    // from's messages follow into's, as they did when groups held arrays.
    if (from.head !== undefined) {
      if (into.tail === undefined) into.head = from.head;
      else into.tail.next = from.head;
      into.tail = from.tail;
    }
    into.snapshot = undefined;
    from.head = from.tail = undefined;
  });
  /** Duplicate keys by {@link hashKey}: the first message with that hash (its key is rebuilt to compare). */
  private readonly seen = new Map<number, Stored>();
  /** The full keys of messages whose hash was already taken by another key. */
  private readonly collided = new Set<string>();
  /** One copy of the strings that repeat across sendings (senders, addresses, sources, codes). */
  private readonly shared = new StringPool();
  private readonly acceptanceTimeoutMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly counters = newStats();

  /**
   * @param options - overdue thresholds
   * @throws PecError `ERR_INVALID_ARGUMENT` for a negative or non-numeric timeout
   */
  constructor(options: TrackerOptions = {}) {
    [this.acceptanceTimeoutMs, this.deliveryTimeoutMs] = timeouts(options);
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

  /** The number of the message's group, or what became of it. */
  private ingest(input: ReadPec | PecSummary, meta: MessageMeta): number | Exclude<RecordResult, "added"> {
    const pec = admit(input, meta, this.counters);
    if (typeof pec === "string") return pec;
    const key = pec.key;
    const hash = hashKey(key);
    const first = this.seen.get(hash);
    if (this.collided.has(key) || (first !== undefined && keyOf(first) === key)) {
      this.counters.duplicates++;
      return "duplicate";
    }
    const ids = linkIds(pec, this.counters);
    if (ids === undefined) return "unlinked";
    const n = this.linker.link(ids[0], ids[1]);
    if (n === this.groups.length) this.groups.push(newGroup());
    const group = this.groups[n]!;
    const message = this.store(n, pec, meta);
    if (first === undefined) this.seen.set(hash, message);
    else this.collided.add(flat(key));
    if (group.tail === undefined) group.head = message;
    else group.tail.next = message;
    group.tail = message;
    group.snapshot = undefined;
    return n;
  }

  /** The compact form of a message (see {@link Stored}), sharing what repeats. */
  private store(n: number, pec: PecSummary, meta: MessageMeta): Stored {
    const g = this.groups[n]!;
    const id = this.linker.idOf(n);
    const msgid = this.linker.msgidOf(n);
    // Within a sending these repeat: share the group's copy, or the first (or last) message's.
    const local = (v: string | undefined, field: "identificativo" | "msgid" | "subject"): string | undefined => {
      if (v === undefined) return v;
      if (field === "identificativo" && v === id) return id;
      if (field === "msgid" && v === msgid) return msgid;
      if (g.head?.[field] === v) return g.head[field];
      if (g.tail?.[field] === v) return g.tail[field];
      return flat(v);
    };
    const common = <T extends string | undefined>(v: T): T => (v === undefined ? v : (this.shared.keep(v) as T));
    // Receipts of one sending repeat the busta's recipient list: keep one copy per group.
    let recipients: readonly PecRecipient[] = NO_RECIPIENTS;
    let ricezione: readonly string[] = NO_STRINGS;
    if (pec.recipients.length > 0 || pec.ricezione.length > 0) {
      // The first and last messages only: record() must stay O(1) in a sending with thousands of receipts.
      for (const m of [g.head, g.tail]) {
        if (m === undefined) continue;
        if (recipients === NO_RECIPIENTS && pec.recipients.length > 0 && sameRecipients(m.recipients, pec.recipients)) recipients = m.recipients;
        if (ricezione === NO_STRINGS && pec.ricezione.length > 0 && sameStrings(m.ricezione, pec.ricezione)) ricezione = m.ricezione;
      }
      if (recipients === NO_RECIPIENTS && pec.recipients.length > 0) {
        recipients = pec.recipients.map((r) => {
          const c: PecRecipient = { address: common(r.address) };
          if (r.tipo !== undefined) c.tipo = common(r.tipo);
          if (r.field !== undefined) c.field = common(r.field);
          return c;
        });
      }
      if (ricezione === NO_STRINGS && pec.ricezione.length > 0) ricezione = pec.ricezione.map(common);
    }
    let extra: Record<string, unknown> | undefined;
    for (const k of Object.keys(pec)) {
      if (SLOTS.has(k) || (k === "virus" && pec.virus === false)) continue;
      const v = (pec as unknown as Record<string, unknown>)[k];
      (extra ??= {})[k] = typeof v === "string" ? common(v) : v;
    }
    const consegna = common(pec.consegna);
    const key = pec.messageId !== undefined && pec.key === derivedKey(pec.type, pec.messageId, pec.consegna) ? undefined : pec.key;
    return new Stored(
      common(pec.type),
      isDate(pec.date) ? pec.date.getTime() : Number.NaN,
      pec.messageId === undefined ? undefined : flat(pec.messageId),
      key === undefined ? undefined : flat(key),
      local(pec.identificativo, "identificativo"),
      local(pec.msgid, "msgid"),
      common(pec.sender),
      local(pec.subject, "subject"),
      consegna,
      common(pec.ricevuta),
      recipients,
      ricezione,
      meta.id === undefined ? undefined : encodeId(meta.id, meta.source),
      common(meta.source),
      extra,
    );
  }

  /** Every transaction, oldest first (by start time). */
  transactions(): Transaction[] {
    return [...this.linker.groups()].map((n) => this.snapshot(n)).sort(byStart);
  }

  /**
   * Every transaction, one at a time and in no particular order, without keeping them: a
   * transaction not built yet is built for the caller and then forgotten. For a caller that
   * counts or picks a few among millions (`postacert scan`), where {@link TransactionTracker.transactions}
   * would hold all of them, with every message, at once.
   *
   * @example
   * ```ts
   * declare const tracker: TransactionTracker; // fed with tracker.add()
   * let delivered = 0;
   * for (const t of tracker.each()) if (t.outcome === "consegnato") delivered++;
   * ```
   */
  *each(): Generator<Transaction, void, undefined> {
    for (const n of this.linker.groups()) yield this.groups[n]!.snapshot ?? build(this.groups[n]!, this.linker.keyOf(n));
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
    // each(), not transactions(): only the overdue ones are kept.
    for (const t of this.each()) {
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
    return out.sort((a, b) => byStart(a.transaction, b.transaction));
  }

  private snapshot(n: number): Transaction {
    const g = this.groups[n]!;
    g.snapshot ??= build(g, this.linker.keyOf(n));
    return g.snapshot;
  }
}


function eventOf(m: TransactionMessage): RecipientEvent["state"] | undefined {
  return eventState(m.type, m.virus, m.errore, m.timeout);
}

/** Whether two messages list recipients with the same precedence: the same rank, at the same time. */
function tied(a: TransactionMessage, b: TransactionMessage): boolean {
  return listRank(a.type) === listRank(b.type) && time(a.date) === time(b.date);
}

/** Among equal ranks, the errore-consegna to the sender beats the avviso between gestori. */
function strength(e: RecipientEvent): number {
  return RANK[e.state] * 2 + (e.message.type === "rilevazione-virus" ? 0 : 1);
}

function build(g: Group, key: string): Transaction {
  const copies: ListCopies = new Map();
  const messages = [...messagesOf(g)].map((s) => expand(s, copies)).sort(byDate);
  const recipients = new Map<string, RecipientState>();
  /** The listing that gave each recipient its tipo. */
  const tipoFrom = new Map<RecipientState, TransactionMessage>();
  const addRecipient = (address: string, listing?: PecRecipient, from?: TransactionMessage): RecipientState => {
    const k = lower(address);
    let r = recipients.get(k);
    if (!r) {
      r = { address: bare(address), state: "in-attesa", history: [] };
      recipients.set(k, r);
    }
    if (listing === undefined || from === undefined) return r;
    const { tipo, field } = listing;
    if (tipo !== undefined && (r.tipo === undefined || (r.tipo === "esterno" && tipo !== "esterno" && tied(from, tipoFrom.get(r)!)))) {
      // Two listings as early as each other that disagree: certificato, whose receipts are
      // then awaited, rather than a choice made by the order the messages came in (Progress
      // makes the same one).
      r.tipo = tipo;
      tipoFrom.set(r, from);
    }
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
  const listed = [...messages].sort((a, b) => listRank(a.type) - listRank(b.type));
  const applied = new Set<readonly PecRecipient[]>();
  for (const m of listed) {
    // A list met again changes nothing: its recipients have their tipo and field, and a later
    // listing tied with the one that gave a tipo is tied with this one too, which came between
    // them in this order. Applied once, a sending to R recipients costs R, not R per receipt.
    if (applied.has(m.recipients)) continue;
    applied.add(m.recipients);
    for (const r of m.recipients) addRecipient(r.address, r, m);
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
      const target = eventTarget(m.type, p.consegna, p.recipients);
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
  let esterni = 0;
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
    else if (r.state === "esterno") esterni++;
    else failed = true;
  }
  const t: Transaction = {
    key,
    virus: nonAccettazione?.virus ?? false,
    presaInCarico,
    recipients: [...recipients.values()],
    messages,
    outcome: outcomeOf(nonAccettazione !== undefined, accettazione !== undefined, waiting, failed, delivered, esterni),
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
 * declare const files: Uint8Array[]; // the messages of an archive
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
