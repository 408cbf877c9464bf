/**
 * A transaction's outcome and overdue verdict, folded one message at a time: what
 * `TransactionTracker`'s transactions say, kept as a few flags, dates and one small record per
 * recipient instead of the messages (for the scan's counting tracker), and the rules both share.
 *
 * Isomorphic: no `node:*`.
 *
 * @module
 */
import type { PecType } from "../pec/constants.js";
import type { PecRecipient } from "../pec/types.js";
import type { RecipientEvent, TransactionOutcome } from "./tracker.js";

/** How strong an event is: the strongest gives a recipient's state, whatever the arrival order. */
export const RANK: Readonly<Record<RecipientEvent["state"], number>> = {
  preavviso: 1,
  scaduto: 2,
  virus: 3,
  "mancata-consegna": 3,
  consegnato: 5,
};

/** The state an event gives a recipient (see {@link RecipientEvent}); undefined for a message that is not about one. */
export function eventState(type: PecType, virus: unknown, errore: unknown, timeout: unknown): RecipientEvent["state"] | undefined {
  switch (type) {
    case "avvenuta-consegna":
      return "consegnato";
    case "errore-consegna":
      return virus || errore === "virus" ? "virus" : "mancata-consegna";
    case "rilevazione-virus":
      return "virus";
    case "preavviso-errore-consegna":
      return timeout === "scadenza" ? "scaduto" : "preavviso";
    default:
      return undefined;
  }
}

/** Whose recipient list counts first: the busta's, then the accettazione's, then the receipts'. */
export function listRank(type: PecType): number {
  return type === "posta-certificata" ? 0 : type === "accettazione" || type === "non-accettazione" ? 1 : 2;
}

/** An address as a recipient shows it: trimmed, without the angle brackets some receipts keep. */
export function bare(s: string): string {
  const t = s.trim();
  return t.charCodeAt(0) === 0x3c && t.charCodeAt(t.length - 1) === 0x3e ? t.slice(1, -1).trim() : t;
}

/** A recipient's key: addresses compare trimmed, without angle brackets and case-insensitively. */
export function lower(s: string): string {
  return bare(s).toLowerCase();
}

/**
 * A transaction's outcome from its recipients' states, the one rule of `TransactionTracker` and
 * {@link Progress}. With every certificato recipient settled and none failed, an accepted sending
 * is `consegnato`, also when all its recipients are esterno: no receipt will ever come for them,
 * and nothing is left to wait for.
 */
export function outcomeOf(nonAccettazione: boolean, accettazione: boolean, waiting: boolean, failed: boolean, delivered: number, esterni: number): TransactionOutcome {
  if (nonAccettazione) return "non-accettato";
  if (waiting) return "in-corso";
  if (failed) return "errore";
  return delivered > 0 || (accettazione && esterni > 0) ? "consegnato" : "in-corso";
}

/** The recipient an event is about: the consegna, or the one recipient a rilevazione virus lists. */
export function eventTarget(type: PecType, consegna: string | undefined, recipients: readonly PecRecipient[]): string | undefined {
  return consegna ?? (type === "rilevazione-virus" && recipients.length === 1 ? recipients[0]!.address : undefined);
}

/** What the scan's counting tracker counts. @internal */
export interface Tally {
  /** Transactions. */
  transactions: number;
  /** Transactions by outcome. */
  outcomes: Record<TransactionOutcome, number>;
  /** Transactions that `TransactionTracker.overdue` would list. */
  overdue: number;
}

/** A transaction's outcome, and whether it is overdue (see {@link Progress.verdict}). */
export interface Verdict {
  /** As `Transaction.outcome`. */
  outcome: TransactionOutcome;
  /** Whether `TransactionTracker.overdue` lists the transaction. */
  overdue: boolean;
}

// What Progress keeps of a recipient: its key, its strongest event's RANK (0: none), the listing
// that gave its tipo (its listing rank, UNLISTED for none, and its date, +∞ when undated) and
// whether that tipo is esterno. The rank, the listing rank and esterno share one byte.
const RANK_MASK = 7;
const LIST_SHIFT = 3;
const LIST_MASK = 3 << LIST_SHIFT;
const ESTERNO = 1 << 5;
/** A listing rank no message has: a recipient no listing gave a tipo. */
const UNLISTED = 3;
const FRESH = UNLISTED << LIST_SHIFT;

/** A group's recipients are looked up along its list up to this many; by a map beyond (a sending to hundreds). */
const LINEAR = 8;

const NON_ACCETTAZIONE = 1;
const ACCETTAZIONE = 2;

/** A column of numbers that grows by doubling (a typed array's length is fixed). */
function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, need: number, fill?: number): T {
  if (need <= a.length) return a;
  let n = a.length * 2;
  while (n < need) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  if (fill !== undefined) b.fill(fill, a.length);
  return b;
}

/**
 * The facts that decide the outcome of many transactions and whether each is overdue, one
 * transaction per group number, folded one message at a time.
 *
 * The transaction's own rules order its messages by date (undated last): the first listing of
 * a recipient with a tipo gives its tipo (certificato, when two as early disagree), and the
 * first accettazione or busta its clock. Folded one message at a time, the same choices are a
 * minimum (listing rank, then date, then certificato) and the earliest date: neither depends on
 * the order the messages came in, so two groups fold into one by {@link Progress.absorb}.
 *
 * Kept in columns, not objects: a group costs 29 bytes and a recipient 17 (plus the recipient's
 * address, pooled by the caller), with no object header and no boxed number, where one object per
 * group and per recipient cost ≈ 300 bytes a sending.
 */
export class Progress {
  // Per group.
  private flags = new Uint8Array(1024);
  /** Earliest valid date of an accettazione, of a busta, of any message (NaN: none). */
  private accettazioneDate = new Float64Array(1024).fill(Number.NaN);
  private bustaDate = new Float64Array(1024).fill(Number.NaN);
  private firstDate = new Float64Array(1024).fill(Number.NaN);
  /** The group's first recipient, 1-based (0: none); its others follow through {@link Progress.next}. */
  private first = new Int32Array(1024);
  /** Recipient numbers by key, for groups with more than {@link LINEAR} recipients. */
  private readonly index = new Map<number, Map<string, number>>();
  // Per recipient, 1-based (slot 0 unused).
  private readonly keys: string[] = [""];
  private packed = new Uint8Array(1024);
  private tipoTime = new Float64Array(1024);
  private next = new Int32Array(1024);

  /**
   * Folds one message into group `g`: its type, date (epoch ms, NaN when none), the recipient it
   * is about, the recipients it lists, and what makes an event of it.
   *
   * @param keep - the copy of a new recipient's key (from {@link lower}) to keep: the table
   *   outlives the caller's strings and must not keep slices of them
   */
  fold(
    g: number,
    type: PecType,
    date: number,
    consegna: string | undefined,
    recipients: readonly PecRecipient[],
    virus: unknown,
    errore: unknown,
    timeout: unknown,
    keep: (key: string) => string,
  ): void {
    this.reserve(g);
    if (type === "non-accettazione") this.flags[g] = this.flags[g]! | NON_ACCETTAZIONE;
    else if (type === "accettazione") {
      this.flags[g] = this.flags[g]! | ACCETTAZIONE;
      this.accettazioneDate[g] = earlier(this.accettazioneDate[g]!, date);
    } else if (type === "posta-certificata") this.bustaDate[g] = earlier(this.bustaDate[g]!, date);
    this.firstDate[g] = earlier(this.firstDate[g]!, date);
    if (recipients.length > 0) {
      const list = listRank(type);
      const time = Number.isNaN(date) ? Number.POSITIVE_INFINITY : date;
      for (let i = 0; i < recipients.length; i++) {
        const r = recipients[i]!;
        const at = this.follow(g, lower(r.address), keep);
        // Any tipo but esterno counts as certificato (a summary may come from a hand-made state file).
        if (r.tipo !== undefined) this.giveTipo(at, r.tipo === "esterno", list, time);
      }
    }
    const ev = eventState(type, virus, errore, timeout);
    if (ev === undefined) return;
    const target = eventTarget(type, consegna, recipients);
    if (target === undefined) return;
    this.raise(this.follow(g, lower(target), keep), RANK[ev]);
  }

  /** Folds group `from` into group `into`, whose messages `from`'s are listed after. */
  absorb(into: number, from: number): void {
    this.reserve(Math.max(into, from));
    this.flags[into] = this.flags[into]! | this.flags[from]!;
    this.accettazioneDate[into] = earlier(this.accettazioneDate[into]!, this.accettazioneDate[from]!);
    this.bustaDate[into] = earlier(this.bustaDate[into]!, this.bustaDate[from]!);
    this.firstDate[into] = earlier(this.firstDate[into]!, this.firstDate[from]!);
    for (let r = this.first[from]!; r !== 0; r = this.next[r]!) {
      const p = this.packed[r]!;
      const at = this.follow(into, this.keys[r]!, same);
      const list = (p & LIST_MASK) >> LIST_SHIFT;
      if (list !== UNLISTED) this.giveTipo(at, (p & ESTERNO) !== 0, list, this.tipoTime[r]!);
      this.raise(at, p & RANK_MASK);
    }
    // from's recipients stay in the columns, unreachable (merges are rare).
    this.first[from] = 0;
    this.index.delete(from);
  }

  /**
   * Group `g`'s outcome, and whether `TransactionTracker.overdue` lists it at `now`.
   */
  verdict(g: number, now: number, acceptanceMs: number, deliveryMs: number): Verdict {
    this.reserve(g);
    let waiting = false;
    let failed = false;
    let delivered = 0;
    let esterni = 0;
    for (let r = this.first[g]!; r !== 0; r = this.next[r]!) {
      const p = this.packed[r]!;
      if ((p & ESTERNO) !== 0) {
        esterni++;
        continue;
      }
      // The strongest event gives the state: consegnato 5, mancata-consegna/virus 3, scaduto 2, preavviso 1.
      const rank = p & RANK_MASK;
      if (rank <= RANK.preavviso) waiting = true;
      else if (rank === RANK.consegnato) delivered++;
      else failed = true;
    }
    const flags = this.flags[g]!;
    const nonAccettazione = (flags & NON_ACCETTAZIONE) !== 0;
    const outcome = outcomeOf(nonAccettazione, (flags & ACCETTAZIONE) !== 0, waiting, failed, delivered, esterni);
    if (nonAccettazione) return { outcome, overdue: false };
    const busta = this.bustaDate[g]!;
    if ((flags & ACCETTAZIONE) === 0 && !Number.isNaN(busta) && now - busta > acceptanceMs) return { outcome, overdue: true };
    const accettazione = this.accettazioneDate[g]!;
    const since = !Number.isNaN(accettazione) ? accettazione : !Number.isNaN(busta) ? busta : this.firstDate[g]!;
    return { outcome, overdue: waiting && !Number.isNaN(since) && now - since > deliveryMs };
  }

  /** Makes room for group `g`. */
  private reserve(g: number): void {
    if (g < this.flags.length) return;
    this.flags = grown(this.flags, g + 1);
    this.accettazioneDate = grown(this.accettazioneDate, g + 1, Number.NaN);
    this.bustaDate = grown(this.bustaDate, g + 1, Number.NaN);
    this.firstDate = grown(this.firstDate, g + 1, Number.NaN);
    this.first = grown(this.first, g + 1);
  }

  /** The number of group `g`'s recipient with key `k`, added when new. */
  private follow(g: number, k: string, keep: (key: string) => string): number {
    const index = this.index.get(g);
    let count = 0;
    let last = 0;
    if (index !== undefined) {
      const r = index.get(k);
      if (r !== undefined) return r;
    } else {
      for (let r = this.first[g]!; r !== 0; r = this.next[r]!) {
        if (this.keys[r] === k) return r;
        last = r;
        count++;
      }
    }
    const r = this.keys.length;
    const key = keep(k);
    this.keys.push(key);
    this.packed = grown(this.packed, r + 1);
    this.tipoTime = grown(this.tipoTime, r + 1);
    this.next = grown(this.next, r + 1);
    this.packed[r] = FRESH;
    this.tipoTime[r] = Number.POSITIVE_INFINITY;
    this.next[r] = 0;
    if (index !== undefined) {
      // Put first: the order of a group's recipients decides nothing.
      this.next[r] = this.first[g]!;
      this.first[g] = r;
      index.set(key, r);
      return r;
    }
    if (last === 0) this.first[g] = r;
    else this.next[last] = r;
    if (count + 1 > LINEAR) {
      const m = new Map<string, number>();
      for (let x = this.first[g]!; x !== 0; x = this.next[x]!) m.set(this.keys[x]!, x);
      this.index.set(g, m);
    }
    return r;
  }

  /**
   * Takes a listing's tipo when it comes before the one that gave the current tipo; on a tie,
   * certificato wins, whichever came first (as in `TransactionTracker`).
   */
  private giveTipo(r: number, esterno: boolean, list: number, time: number): void {
    const p = this.packed[r]!;
    const current = (p & LIST_MASK) >> LIST_SHIFT;
    const at = this.tipoTime[r]!;
    if (list < current || (list === current && (time < at || (time === at && !esterno && (p & ESTERNO) !== 0)))) {
      this.packed[r] = (p & RANK_MASK) | (list << LIST_SHIFT) | (esterno ? ESTERNO : 0);
      this.tipoTime[r] = time;
    }
  }

  /** Raises recipient `r`'s strongest event to `rank`. */
  private raise(r: number, rank: number): void {
    const p = this.packed[r]!;
    if (rank > (p & RANK_MASK)) this.packed[r] = (p & ~RANK_MASK) | rank;
  }
}

function same(s: string): string {
  return s;
}

/** The earlier of two dates, either NaN (none). */
function earlier(a: number, b: number): number {
  return Number.isNaN(a) || b < a ? b : a;
}
