// The counting tracker (what `postacert scan` counts with when it writes no report) gives exactly
// the outcomes each() gives, as many overdue transactions as overdue() lists, and the same stats
// and record() results as TransactionTracker: on every simulator scenario,
// shuffled and with duplicates, alone and all in one tracker; and on random summaries made to
// hit the corners (undated messages, several accettazioni, a recipient listed certificato by one
// message and esterno by another, receipts before the busta, msgid-only groups that merge).
import { beforeAll, describe, expect, it } from "vitest";
import { type PecType, X_RICEVUTA } from "../../src/pec/constants.js";
import { readPec } from "../../src/pec/read.js";
import { SCENARIO_NAMES, type ScenarioName, createScenarioPki, runScenario } from "../../src/simulator/index.js";
import { type PecSummary, type TrackerOptions, TransactionTracker, summarizePec } from "../../src/transactions/index.js";
import type { Tally } from "../../src/transactions/progress.js";
import { TransactionTally } from "../../src/transactions/tally.js";
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
  const counter = new TransactionTally(options);
  for (const m of messages) expect(counter.record(m), label).toBe(tracker.record(m));
  expect(counter.stats, label).toEqual(tracker.stats);
  for (const now of CLOCKS) {
    expect(counter.tally(now), `${label} at ${now.toISOString()}`).toEqual(reference(tracker, now));
  }
}

describe("the counting tracker counts what each() and overdue() give", () => {
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
    const transactionsOf = (messages: readonly PecSummary[]) => {
      const tracker = new TransactionTracker();
      for (const m of messages) tracker.record(m);
      return tracker.transactions();
    };
    for (let round = 0; round < 200; round++) {
      const ms = Array.from({ length: 1 + Math.floor(rnd() * 30) }, summary);
      for (const options of OPTIONS) expectSame(shuffled([...ms, ...ms.slice(0, 5)], rnd), options, `round ${round}`);
      // The transactions themselves, down to which message proves what, whatever the order,
      // where each msgid belongs to one sending (a msgid two sendings share leaves a receipt
      // without identificativo to the first that claimed it).
      const own = ms.map((m) => (m.identificativo !== undefined && m.msgid !== undefined ? { ...m, msgid: m.identificativo.replace("id-", "msg-") } : m));
      expect(transactionsOf(shuffled(own, rnd)), `round ${round}`).toEqual(transactionsOf(own));
    }
  });

  it("counts ≈ 11,000 messages of 3,000 sendings, every one given twice, as the tracker does", () => {
    const rnd = random(11);
    const ms: PecSummary[] = [];
    for (let i = 0; i < 3000; i++) {
      const base = { virus: false, ricezione: [], identificativo: `opec.${i}@gen`, msgid: `m${i}@gen`, date: new Date(START.getTime() + (i % 50) * HOUR) };
      const recipients = [{ address: `r${i % 97}@pec.test`, tipo: "certificato" as const }, { address: `s${i % 89}@pec.test`, tipo: "certificato" as const }];
      ms.push({ ...base, key: `m:posta-certificata:${i}@gen:`, type: "posta-certificata", recipients });
      ms.push({ ...base, key: `m:accettazione:${i}@gen:`, type: "accettazione", recipients });
      for (const r of recipients) if (rnd() < 0.8) ms.push({ ...base, key: `m:avvenuta-consegna:${i}.${r.address}@gen:${r.address}`, type: "avvenuta-consegna", recipients, consegna: r.address });
    }
    expectSame(shuffled([...ms, ...ms], rnd), {}, "many");
    const counter = new TransactionTally();
    for (const m of [...ms, ...ms]) counter.record(m);
    expect(counter.stats.duplicates).toBe(ms.length);
    expect(counter.tally(START).transactions).toBe(3000);
  });

  it("a sending to 40 recipients (looked up by map past the first few)", () => {
    const rnd = random(5);
    const recipients = Array.from({ length: 40 }, (_, i) => ({ address: `R${i}@PEC.test`, tipo: i % 7 === 3 ? ("esterno" as const) : ("certificato" as const) }));
    const base = { virus: false, ricezione: [], identificativo: "opec.many@gen", date: START };
    const later = new Date(START.getTime() + HOUR);
    // Every certificato recipient delivered; then one of them failed instead; then some left waiting.
    for (const mode of ["delivered", "one error", "some waiting"] as const) {
      const ms: PecSummary[] = [
        { ...base, key: "m:posta-certificata:many@gen:", type: "posta-certificata", recipients },
        { ...base, key: "m:accettazione:many@gen:", type: "accettazione", recipients },
      ];
      recipients.forEach((r, i) => {
        if (r.tipo === "esterno" || (mode === "some waiting" && i % 5 === 0)) return;
        const type = mode === "one error" && i === 33 ? "errore-consegna" : "avvenuta-consegna";
        // The receipt names the recipient in other case and with spaces.
        ms.push({ ...base, key: `m:${type}:${i}@gen:${r.address}`, type, recipients, consegna: ` ${r.address.toLowerCase()}`, date: later });
      });
      const counter = new TransactionTally();
      for (const m of ms) counter.record(m);
      const outcome = mode === "delivered" ? "consegnato" : mode === "one error" ? "errore" : "in-corso";
      expect(counter.tally(START).outcomes[outcome], mode).toBe(1);
      for (let round = 0; round < 5; round++) for (const options of OPTIONS) expectSame(shuffled([...ms, ...ms.slice(0, 10)], rnd), options, `${mode}, round ${round}`);
    }
  });

  it("a msgid-only group that joins later brings its earlier dates", () => {
    const at = (h: number): Date => new Date(START.getTime() + h * HOUR);
    const messages: PecSummary[] = [
      // Receipts only (no busta, no accettazione): the earliest message is the clock.
      { key: "m:avvenuta-consegna:a@gen:x", type: "avvenuta-consegna", virus: false, recipients: [], ricezione: [], msgid: "m@gen", consegna: "x@pec.test", date: at(0) },
      { key: "m:presa-in-carico:b@gen:", type: "presa-in-carico", virus: false, recipients: [{ address: "y@pec.test", tipo: "certificato" }], ricezione: [], identificativo: "id1@gen", date: at(20) },
      // Names both ids: the msgid-only group joins the identificativo group.
      { key: "m:preavviso-errore-consegna:c@gen:y", type: "preavviso-errore-consegna", virus: false, recipients: [], ricezione: [], identificativo: "id1@gen", msgid: "m@gen", consegna: "y@pec.test", timeout: "preavviso", date: at(21) },
    ];
    const counter = new TransactionTally();
    for (const m of messages) counter.record(m);
    expect(counter.tally(at(25))).toEqual({ transactions: 1, outcomes: { "non-accettato": 0, consegnato: 0, errore: 0, "in-corso": 1 }, overdue: 1 });
    expectSame(messages, {}, "merge");
  });

  it("refuses an invalid clock, as overdue() does", () => {
    expect(() => new TransactionTally().tally(new Date(Number.NaN))).toThrow(/valid Date/);
    expect(() => new TransactionTracker().overdue(new Date(Number.NaN))).toThrow(/valid Date/);
  });
});
