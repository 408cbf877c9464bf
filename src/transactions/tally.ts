/**
 * The scan's tracker when nothing asks for the transactions themselves: it counts them.
 *
 * Isomorphic: no `node:*`.
 *
 * @module
 */
import { PecError } from "../errors.js";
import type { ReadPec } from "../pec/types.js";
import { Linker, StringPool, admit, isDate, linkIds, newStats, timeouts } from "./link.js";
import { Progress, type Tally } from "./progress.js";
import type { PecSummary } from "./summary.js";
import type { MessageMeta, RecordResult, TrackerOptions, TrackerStats } from "./tracker.js";

/**
 * Counts transactions as `TransactionTracker` would correlate them (the same grouping, outcomes
 * and overdue rules, checked against it by test/transactions/tally.test.ts), keeping per sending
 * only its ids and its {@link Progress} (about 200 bytes with the ids), and per message nothing
 * but a 64-bit hash of its duplicate key (16 bytes at most): memory grows with the number of
 * sendings, not with their messages, where the tracker keeps every message (≈ 0.6 KB each) for
 * `Transaction.messages`.
 *
 * Duplicates are told by that hash: two different keys taken for one has a probability of about
 * n² / 2⁶⁵ for n messages (3 in a million for ten million); `TransactionTracker` compares keys
 * exactly.
 *
 * @internal Used by `postacert scan` without `--report`.
 */
export class TransactionTally {
  private readonly progress = new Progress();
  private readonly linker = new Linker((into, from) => this.progress.absorb(into, from));
  private readonly seen = new KeySet();
  private readonly addresses = new StringPool();
  private readonly keep = (key: string): string => this.addresses.keep(key);
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

  /** Counters, as `TransactionTracker.stats`. */
  get stats(): Readonly<TrackerStats> {
    return { ...this.counters };
  }

  /**
   * Adds one message, as `TransactionTracker.record`.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` when `input` is neither a `ReadPec` nor a `PecSummary`
   */
  record(input: ReadPec | PecSummary, meta: MessageMeta = {}): RecordResult {
    const pec = admit(input, meta, this.counters);
    if (typeof pec === "string") return pec;
    // As the tracker does: a message is remembered once grouped, so an unlinked one is never a duplicate.
    if (this.seen.probe(pec.key)) {
      this.counters.duplicates++;
      return "duplicate";
    }
    const ids = linkIds(pec, this.counters);
    if (ids === undefined) return "unlinked";
    const g = this.linker.link(ids[0], ids[1]);
    this.seen.insert();
    const date = isDate(pec.date) ? pec.date.getTime() : Number.NaN;
    this.progress.fold(g, pec.type, date, pec.consegna, pec.recipients, pec.virus, pec.errore, pec.timeout, this.keep);
    return "added";
  }

  /**
   * How many transactions there are, by outcome, and how many are overdue at `now`: what `tally()`
   * gives for a `TransactionTracker` fed the same messages.
   *
   * @throws PecError `ERR_INVALID_ARGUMENT` when `now` is not a valid Date
   */
  tally(now: Date): Tally {
    if (!isDate(now)) throw new PecError("ERR_INVALID_ARGUMENT", "tally(now) expects a valid Date");
    const t = now.getTime();
    const c: Tally = { transactions: 0, outcomes: { "non-accettato": 0, consegnato: 0, errore: 0, "in-corso": 0 }, overdue: 0 };
    for (const g of this.linker.groups()) {
      const v = this.progress.verdict(g, t, this.acceptanceTimeoutMs, this.deliveryTimeoutMs);
      c.transactions++;
      c.outcomes[v.outcome]++;
      if (v.overdue) c.overdue++;
    }
    return c;
  }
}

/**
 * A set of strings kept as 64-bit hashes (cyrb53's two 32-bit lanes), open addressing in one
 * Int32Array: 16 bytes per string at most, nothing on the JS heap per entry.
 */
class KeySet {
  /** Pairs of lanes; (0, 0) marks a free slot (a string hashing to it is stored as (0, 1)). */
  private table = new Int32Array(2 * 1024);
  private size = 0;
  /** The last probe: its lanes and the free slot it ended on (-1 when found). */
  private h1 = 0;
  private h2 = 0;
  private slot = -1;

  /** Whether `key` is in the set; remembers where {@link KeySet.insert} would put it. */
  probe(key: string): boolean {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    if (h1 === 0 && h2 === 0) h2 = 1;
    this.h1 = h1;
    this.h2 = h2;
    const t = this.table;
    const mask = (t.length >> 1) - 1;
    for (let s = h1 & mask; ; s = (s + 1) & mask) {
      const a = t[2 * s]!;
      const b = t[2 * s + 1]!;
      if (a === h1 && b === h2) {
        this.slot = -1;
        return true;
      }
      if (a === 0 && b === 0) {
        this.slot = s;
        return false;
      }
    }
  }

  /** Adds the string of the last {@link KeySet.probe}, which did not find it. */
  insert(): void {
    const t = this.table;
    t[2 * this.slot] = this.h1;
    t[2 * this.slot + 1] = this.h2;
    this.slot = -1;
    // At most half full, so probes stay short and always end.
    if (++this.size * 4 > t.length) this.grow();
  }

  private grow(): void {
    const old = this.table;
    const t = (this.table = new Int32Array(old.length * 2));
    const mask = (t.length >> 1) - 1;
    for (let i = 0; i < old.length; i += 2) {
      const a = old[i]!;
      const b = old[i + 1]!;
      if (a === 0 && b === 0) continue;
      let s = a & mask;
      while (t[2 * s] !== 0 || t[2 * s + 1] !== 0) s = (s + 1) & mask;
      t[2 * s] = a;
      t[2 * s + 1] = b;
    }
  }
}
