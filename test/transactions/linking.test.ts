// Grouping rules: the msgid fallback, merging, and never merging two identificativi.
import { beforeAll, expect, it } from "vitest";
import { readPec } from "../../src/pec/read.js";
import type { ReadPec } from "../../src/pec/types.js";
import { createScenarioPki, runScenario } from "../../src/simulator/index.js";
import { TransactionTracker, summarizePec } from "../../src/transactions/index.js";
import { NOT_BEFORE, START, anna, nessuno } from "../simulator/helpers.js";

let msgs: ReadPec[];
let other: ReadPec[];
beforeAll(async () => {
  const pki = await createScenarioPki({ keyAlgorithm: "ECDSA-P256", notBefore: NOT_BEFORE });
  msgs = (await runScenario("unknown-recipient", { pki, start: START })).flow.messages.map((m) => readPec(m.message.bytes));
  other = (await runScenario("unknown-recipient", { pki, start: new Date(START.getTime() + 60_000) })).flow.messages.map((m) => readPec(m.message.bytes));
}, 60_000);

const withoutId = (p: ReadPec): ReadPec => {
  const { identificativo: _drop, ...rest } = p;
  return rest;
};

it("a receipt without identificativo joins through its msgid, before or after the accettazione", () => {
  const consegna = msgs.find((p) => p.type === "avvenuta-consegna")!;
  const errore = msgs.find((p) => p.type === "errore-consegna")!;
  const acc = msgs.find((p) => p.type === "accettazione")!;
  const tracker = new TransactionTracker();
  tracker.add(withoutId(consegna));
  expect(tracker.transactions()[0]!.key).toMatch(/^msgid:/);
  tracker.add(withoutId(errore));
  expect(tracker.transactions()).toHaveLength(1);
  const [t] = tracker.add(acc);
  expect(tracker.transactions()).toHaveLength(1);
  expect(t!.key).toBe(`id:${acc.identificativo}`);
  expect(t!.messages).toHaveLength(3);
  expect(Object.fromEntries(t!.recipients.map((r) => [r.address, r.state]))).toEqual({ [anna]: "consegnato", [nessuno]: "mancata-consegna" });
});

it("a msgid-only group merges into the identificativo group that names the msgid later", () => {
  const consegna = msgs.find((p) => p.type === "avvenuta-consegna")!;
  const tracker = new TransactionTracker();
  tracker.add(msgs.find((p) => p.type === "presa-in-carico")!); // id group
  tracker.add(withoutId(consegna)); // joins via msgid already claimed by the id group
  expect(tracker.transactions()).toHaveLength(1);
});

it("two sendings with the same msgid but different identificativi stay apart", () => {
  const a = msgs.find((p) => p.type === "accettazione")!;
  const b = { ...other.find((p) => p.type === "accettazione")!, msgid: a.msgid! };
  expect(b.identificativo).not.toBe(a.identificativo);
  const tracker = new TransactionTracker();
  tracker.add(a);
  tracker.add(b);
  expect(tracker.transactions()).toHaveLength(2);
});

it("unrelated sendings with the same subject stay apart", () => {
  const tracker = new TransactionTracker();
  for (const p of [...msgs, ...other]) tracker.add(p);
  const ts = tracker.transactions();
  expect(ts).toHaveLength(2);
  expect(ts[0]!.subject).toBe(ts[1]!.subject);
  expect(ts.map((t) => t.messages.length)).toEqual([msgs.length - 1, other.length - 1]); // busta copies collapse
});

it("a PEC message with neither identificativo nor msgid is counted as unlinked", () => {
  const { msgid: _m, ...rest } = withoutId(msgs[0]!);
  const tracker = new TransactionTracker();
  expect(tracker.add(rest)).toEqual([]);
  expect(tracker.stats.unlinked).toBe(1);
});

it("record() is O(1): a sending to 10,000 recipients with one consegna each", () => {
  const tracker = new TransactionTracker();
  const consegna = summarizePec(msgs.find((p) => p.type === "avvenuta-consegna")!);
  const t0 = performance.now();
  for (let i = 0; i < 10_000; i++) {
    const r = tracker.record({ ...consegna, key: `k${i}`, consegna: `r${i}@pec.test`, recipients: [] });
    expect(r).toBe("added");
  }
  expect(tracker.record({ ...consegna, key: "k1" })).toBe("duplicate");
  const [t] = tracker.transactions();
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(t!.recipients.filter((r) => r.state === "consegnato")).toHaveLength(10_000);
});

it("add() stays cheap: 20,000 receipts of 2,000 sendings", () => {
  const tracker = new TransactionTracker();
  const base = msgs.filter((p) => p.type !== "posta-certificata");
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) {
    for (const p of base) {
      // Fake distinct sendings cheaply: same parse, other ids (dedup uses the own Message-ID).
      const root = { ...p.root, raw: p.root.raw };
      const message = { ...p.message, header: (n: string) => (n.toLowerCase() === "message-id" ? `<${i}.${p.type}.${p.consegna ?? ""}@x>` : p.message.header(n)) };
      tracker.add({ ...p, root, message, identificativo: `${i}.${p.identificativo}`, msgid: `${i}.${p.msgid}` } as ReadPec);
    }
  }
  const ms = performance.now() - t0;
  expect(tracker.transactions()).toHaveLength(2000);
  expect(tracker.stats.duplicates).toBe(0);
  expect(ms).toBeLessThan(5000);
});

it("messages of the same time give the same transaction whatever their arrival order", () => {
  // A gestore that sends its receipt again under a new Message-ID, within the same second:
  // which copy is the proof must not depend on which arrived first.
  const acc = summarizePec(msgs.find((p) => p.type === "accettazione")!);
  const consegna = summarizePec(msgs.find((p) => p.type === "avvenuta-consegna")!);
  const copies = [
    { ...consegna, key: "copy-b", messageId: "<b@gestore.test>" },
    { ...consegna, key: "copy-a", messageId: "<a@gestore.test>" },
    { ...acc, key: "acc-b", messageId: "<acc-b@gestore.test>" },
    { ...acc, key: "acc-a", messageId: "<acc-a@gestore.test>" },
  ];
  const transactionOf = (order: typeof copies) => {
    const tracker = new TransactionTracker();
    for (const s of order) expect(tracker.record(s)).toBe("added");
    const ts = tracker.transactions();
    expect(ts).toHaveLength(1);
    return ts[0]!;
  };
  const forward = transactionOf(copies);
  const backward = transactionOf([...copies].reverse());
  expect(forward.recipients.find((r) => r.address === anna)!.proof!.key).toBe("copy-a");
  expect(forward.accettazione!.key).toBe("acc-a");
  expect(backward).toEqual(forward);
});

it("a sending to thousands of recipients: every receipt repeats its list, a snapshot holds it once", () => {
  // Each receipt's own copy made a sending to 10,000 recipients, with its 10,000 receipts, a
  // snapshot of 10⁸ recipient objects: out of memory (4,000 took 4.7 s and 1.3 GB).
  const n = 3000;
  const acc = summarizePec(msgs.find((p) => p.type === "accettazione")!);
  const consegna = summarizePec(msgs.find((p) => p.type === "avvenuta-consegna")!);
  const recipients = Array.from({ length: n }, (_, i) => ({ address: `r${i}@pec.beta.test`, tipo: "certificato" as const, field: "to" as const }));
  const tracker = new TransactionTracker();
  tracker.record({ ...acc, recipients });
  for (let i = 0; i < n; i++) tracker.record({ ...consegna, key: `c${i}`, messageId: `c${i}@pec.beta.test`, consegna: `r${i}@pec.beta.test`, recipients: recipients.map((r) => ({ ...r })) });
  const [t] = tracker.transactions();
  expect(t!.outcome).toBe("consegnato");
  expect(t!.recipients).toHaveLength(n);
  expect(t!.recipients.every((r) => r.state === "consegnato" && r.tipo === "certificato" && r.field === "to")).toBe(true);
  expect(t!.messages).toHaveLength(n + 1);
  expect(new Set(t!.messages.map((m) => m.recipients)).size).toBe(1);
  expect(t!.messages[0]!.recipients).toEqual(recipients);
});
