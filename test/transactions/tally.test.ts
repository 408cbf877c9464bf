// tally() (what `postacert scan` counts when it writes no report) gives exactly the outcomes
// each() gives and as many overdue transactions as overdue() lists: on every simulator scenario,
// shuffled and with duplicates, alone and all in one tracker; and on random summaries made to
// hit the corners (undated messages, several accettazioni, a recipient listed certificato by one
// message and esterno by another, receipts before the busta, msgid-only groups that merge).
import { beforeAll, describe, expect, it } from "vitest";
import { type PecType, X_RICEVUTA } from "../../src/pec/constants.js";
import { readPec } from "../../src/pec/read.js";
import { SCENARIO_NAMES, type ScenarioName, createScenarioPki, runScenario } from "../../src/simulator/index.js";
import { type PecSummary, type TrackerOptions, TransactionTracker, summarizePec } from "../../src/transactions/index.js";
import { type Tally, tally } from "../../src/transactions/tracker.js";
import { NOT_BEFORE, START } from "../simulator/helpers.js";

const HOUR = 3_600_000;
const summaries = new Map<ScenarioName, PecSummary[]>();

beforeAll(async () => {
  const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
  for (const name of SCENARIO_NAMES) {
    const run = await runScenario(name, { pki, start: START });
    summaries.set(name, run.flow.messages.map((m) => summarizePec(readPec(m.message.bytes))));
  }
}, 60_000);

/** Deterministic (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The counts the slow way: every Transaction built, then overdue() on them all. */
function reference(tracker: TransactionTracker, now: Date): Tally {
  const c: Tally = { transactions: 0, outcomes: { "non-accettato": 0, consegnato: 0, errore: 0, "in-corso": 0 }, overdue: 0 };
  for (const t of tracker.each()) {
    c.transactions++;
    c.outcomes[t.outcome]++;
  }
  c.overdue = tracker.overdue(now).length;
  return c;
}

/** From before the first message to long after the last, around both default timeouts. */
const CLOCKS = [-HOUR, 0, 0.5 * HOUR, 1.5 * HOUR, 3 * HOUR, 23 * HOUR, 25 * HOUR, 49 * HOUR, 1000 * HOUR].map((d) => new Date(START.getTime() + d));
const OPTIONS: TrackerOptions[] = [{}, { acceptanceTimeoutMs: 0, deliveryTimeoutMs: 0 }, { acceptanceTimeoutMs: 10 * HOUR, deliveryTimeoutMs: 2 * HOUR }];

function expectSame(messages: readonly PecSummary[], options: TrackerOptions, label: string): void {
  const tracker = new TransactionTracker(options);
  for (const m of messages) tracker.record(m);
  for (const now of CLOCKS) expect(tally(tracker, now), `${label} at ${now.toISOString()}`).toEqual(reference(tracker, now));
}

describe("tally() counts what each() and overdue() give", () => {
  it.each([1, 2, 3, 42])("every scenario, shuffled with duplicates (seed %i)", (seed) => {
    const rnd = random(seed);
    for (const options of OPTIONS) {
      for (const name of SCENARIO_NAMES) {
        const ms = summaries.get(name)!;
        expectSame(shuffled([...ms, ...ms], rnd), options, name);
        // Only some of the messages: sendings caught half-way (no accettazione, receipts only…).
        expectSame(shuffled(ms, rnd).slice(0, Math.max(1, Math.floor(rnd() * ms.length))), options, `${name} (part)`);
      }
      const all = SCENARIO_NAMES.flatMap((n) => summaries.get(n)!);
      expectSame(shuffled([...all, ...all], rnd), options, "all scenarios");
    }
  });

  it("random summaries that hit the corners", () => {
    const rnd = random(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const TYPES: PecType[] = ["posta-certificata", ...X_RICEVUTA];
    const ADDRESSES = ["a@pec.test", "A@PEC.TEST ", "b@pec.test", "c@mail.test"];
    let n = 0;
    const summary = (): PecSummary => {
      const type = pick(TYPES);
      const s: PecSummary = {
        key: `m:${type}:${n++}@gen:`,
        type,
        virus: rnd() < 0.2,
        recipients: rnd() < 0.6 ? ADDRESSES.filter(() => rnd() < 0.5).map((address) => ({ address, ...(rnd() < 0.8 && { tipo: pick(["certificato", "esterno"] as const) }) })) : [],
        ricezione: [],
      };
      if (rnd() < 0.8) s.identificativo = `id-${Math.floor(rnd() * 6)}@gen`;
      if (rnd() < 0.6) s.msgid = `msg-${Math.floor(rnd() * 6)}@gen`;
      // Some undated, some at the same instant.
      if (rnd() < 0.8) s.date = new Date(START.getTime() + Math.floor(rnd() * 8) * 6 * HOUR);
      if (rnd() < 0.7) s.consegna = pick(ADDRESSES);
      if (rnd() < 0.3) s.errore = pick(["virus", "no-dest", "altro"]);
      if (type === "preavviso-errore-consegna" && rnd() < 0.5) s.timeout = pick(["preavviso", "scadenza"] as const);
      return s;
    };
    for (let round = 0; round < 200; round++) {
      const ms = Array.from({ length: 1 + Math.floor(rnd() * 30) }, summary);
      for (const options of OPTIONS) expectSame(shuffled([...ms, ...ms.slice(0, 5)], rnd), options, `round ${round}`);
    }
  });

  it("refuses an invalid clock, as overdue() does", () => {
    const tracker = new TransactionTracker();
    expect(() => tally(tracker, new Date(Number.NaN))).toThrow(/valid Date/);
    expect(() => tracker.overdue(new Date(Number.NaN))).toThrow(/valid Date/);
  });
});
