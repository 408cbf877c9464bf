// A tracker keeps copies, never slices: readPec's strings are slices of the texts it decoded
// (V8 sliced strings point into their parent), so a tracker keeping one would keep that text
// alive for the whole run. `postacert scan --jobs 1` relies on this: it hands the tracker
// readPec's summaries as they are, without cloning them. Checked on a heap snapshot: the text
// the summaries were cut from holds a random marker that nothing else holds.
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { describe, expect, it } from "vitest";
import { type PecSummary, TransactionTracker } from "../../src/transactions/index.js";
import { TransactionTally } from "../../src/transactions/tally.js";

/** 32 random hex digits, as bytes only: no string in the heap holds them unless a test builds one. */
function marker(): Buffer {
  return Buffer.from(randomBytes(16).toString("hex"), "latin1");
}

/** Summaries whose every string is a slice (≥ 13 characters: V8 then points into the parent) of one text holding `mark`. */
function slicedSummaries(mark: Buffer, tag: string, n: number): { summaries: PecSummary[]; meta: { id: string; source: string }[] } {
  const summaries: PecSummary[] = [];
  const meta: { id: string; source: string }[] = [];
  for (let k = 0; k < n; k++) {
    const i = `${tag}${k}`;
    const parts = [
      `opec-retention.${i}.1.1@pec.alfa.test`,
      `client-${i}-retention@client.alfa.test`,
      `postacert.20260316${i}.retention@pec.beta.test`,
      `mario.rossi.${i}@pec.alfa.test`,
      `Fattura n. ${i}/2026 (retention)`,
      `anna.bianchi.${i}@pec.beta.test`,
      `Gestore Retention ${i} S.p.A.`,
      `/archive/retention/cur/${i}.M${i}.host:2,S`,
    ];
    // One flat text: the marker, then the parts (built from bytes, so no string but the text holds the marker).
    const text = Buffer.concat([Buffer.from("X-Marker: "), mark, ...parts.map((p) => Buffer.from(`\n${p}`, "latin1"))]).toString("latin1");
    let at = 10 + mark.length;
    const cut = parts.map((p) => text.slice((at += 1), (at += p.length)));
    const [identificativo, msgid, messageId, sender, subject, address, gestore, id] = cut as [string, string, string, string, string, string, string, string];
    summaries.push({
      key: `m:avvenuta-consegna:${messageId}:${address}`,
      type: "avvenuta-consegna",
      virus: false,
      recipients: [{ address, tipo: "certificato" }],
      ricezione: [address],
      identificativo,
      msgid,
      messageId,
      sender,
      subject,
      consegna: address,
      errore: "nessuno",
      gestoreEmittente: gestore,
      date: new Date(Date.UTC(2026, 2, 16, 9, 0, k)),
    });
    meta.push({ id, source: "/archive/retention" });
  }
  return { summaries, meta };
}

function heapHolds(...marks: Buffer[]): boolean[] {
  const file = writeHeapSnapshot(join(tmpdir(), `postacert-retention-${process.pid}.heapsnapshot`));
  try {
    const snapshot = readFileSync(file);
    return marks.map((m) => snapshot.includes(m));
  } finally {
    rmSync(file, { force: true });
  }
}

describe("TransactionTracker keeps no slice of its input", () => {
  it("record(), add() and the counting tracker copy what they keep; a kept slice is found (the check works)", { timeout: 120_000 }, () => {
    const recorded = marker();
    const added = marker();
    const counted = marker();
    const control = marker();
    const tracker = new TransactionTracker();
    // The scan's counting tracker, too: it keeps the ids and the recipients' addresses.
    const counter = new TransactionTally();
    const feed = (mark: Buffer, how: "record" | "add" | "count"): void => {
      const { summaries, meta } = slicedSummaries(mark, how[0]!, 20);
      summaries.forEach((s, i) => (how === "add" ? tracker.add(s, meta[i]) : how === "record" ? tracker.record(s, meta[i]) : counter.record(s, meta[i])));
    };
    feed(recorded, "record");
    feed(added, "add");
    feed(counted, "count");
    const kept = slicedSummaries(control, "c", 1).summaries[0]!.messageId;
    expect(heapHolds(recorded, added, counted, control)).toEqual([false, false, false, true]);
    // The trackers (and the slice) are still alive here.
    expect(tracker.stats.messages).toBe(40);
    expect(tracker.transactions()).toHaveLength(40);
    expect(counter.tally(new Date()).transactions).toBe(20);
    expect(kept).toMatch(/^postacert\./);
  });
});
