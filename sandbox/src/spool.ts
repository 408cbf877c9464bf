/**
 * The spool: what the sandbox has promised to do, on disk, so that a crash loses nothing
 * and a restart does nothing twice.
 *
 * Layout under `<state>/spool/`:
 * - `incoming/<id>.sub`: a message taken over SMTP (one JSON line with the envelope, then
 *   the raw bytes), written atomically and fsynced before the flow is computed;
 * - `flows/<id>/`: the computed flow: `m<k>.eml` for each distinct message, then
 *   `manifest.json` (the commit point, written last), and `done.log`, one line per
 *   delivery made;
 * - `done/<id>.json`: the manifest of a finished flow (for the web view).
 *
 * A flow folder without a manifest is an interrupted computation: it is removed and the
 * flow recomputed from `incoming/`. The signatures of a recomputed flow may differ (fresh
 * Message-IDs and MIME boundaries), which is fine because nothing of it was delivered.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { appendFile, mkdir, readFile, readdir, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { syncDir, writeFileAtomic } from "./files.js";

/** How a message reached the sandbox. */
export interface Envelope {
  /** `submission`: a user's message at the punto di accesso; `inbound`: ordinary mail at a gestore's inbound port. */
  kind: "submission" | "inbound";
  /** Main domain of the gestore that took it. */
  gestore: string;
  /** SMTP MAIL FROM (for a submission: the authenticated mailbox). */
  mailFrom: string;
  /** SMTP RCPT TO. */
  rcptTo: string[];
  /** When it was taken (ms since the epoch, whole seconds): the flow's start. */
  receivedAt: number;
}

/** One message of a stored flow. */
export interface StoredStep {
  /** 1-based step of the flow. */
  step: number;
  /** PEC type. */
  type: string;
  /** Variant (receipt type, errore, timeout kind). */
  variant?: string;
  /** Simulated date of the step (ms since the epoch). */
  date: number;
  /** One line for people. */
  description: string;
  /** Its `From`. */
  from: string;
  /** SMTP recipients of the step. */
  to: string[];
  /** File (in the flow folder) holding the message. */
  file: string;
  /** Mailbox keys it is delivered into (address, or `internet`); empty for a busta in transit. */
  targets: string[];
}

/** A computed flow as stored. */
export interface FlowManifest {
  version: 1;
  /** Spool id. */
  id: string;
  /** The envelope it came with. */
  envelope: Envelope;
  /** PEC identificativo (absent for inbound ordinary mail). */
  identificativo?: string;
  /** The steps in order. */
  steps: StoredStep[];
  /** Events without a message. */
  notes: { date: number; text: string }[];
}

/** What a restart finds in the spool. */
export interface PendingWork {
  /** Taken but not yet computed. */
  incoming: { id: string; envelope: Envelope; bytes: Uint8Array }[];
  /** Computed, with the deliveries already made (keys of `done.log`). */
  flows: { manifest: FlowManifest; done: Set<string> }[];
}

/** The on-disk spool. Create with {@link Spool.open}. */
export class Spool {
  readonly #dir: string;
  #counter = 0;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Opens (creating) the spool folder. What `tmp/` holds was being written when a sandbox was
   * killed, never acknowledged: it goes (the state folder's lock says no one else writes here).
   */
  static async open(dir: string): Promise<Spool> {
    await rm(join(dir, "tmp"), { recursive: true, force: true });
    for (const sub of ["incoming", "flows", "done", "tmp"]) await mkdir(join(dir, sub), { recursive: true });
    return new Spool(dir);
  }

  /** A new id, sortable by time of arrival. */
  newId(): string {
    return `${Date.now().toString(36).padStart(9, "0")}-${(++this.#counter).toString(36).padStart(4, "0")}-${randomBytes(4).toString("hex")}`;
  }

  /** Stores a message durably (fsync) before it is acknowledged. */
  async take(id: string, envelope: Envelope, bytes: Uint8Array): Promise<void> {
    const head = Buffer.from(JSON.stringify(envelope) + "\n", "utf8");
    await writeFileAtomic(join(this.#dir, "incoming", `${id}.sub`), Buffer.concat([head, bytes]), { tmpDir: join(this.#dir, "tmp") });
    await syncDir(join(this.#dir, "incoming"));
  }

  /** Forgets a taken message (refused after all: the client got an error, not a 250). */
  async drop(id: string): Promise<void> {
    await unlink(join(this.#dir, "incoming", `${id}.sub`)).catch(() => undefined);
  }

  /** Stores a computed flow (messages first, manifest last), then drops the incoming copy. */
  async saveFlow(manifest: FlowManifest, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const dir = join(this.#dir, "flows", manifest.id);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await Promise.all([...files].map(([name, bytes]) => writeFileAtomic(join(dir, name), bytes)));
    await writeFileAtomic(join(dir, "manifest.json"), JSON.stringify(manifest));
    await syncDir(dir);
    await this.drop(manifest.id);
  }

  /** The bytes of a message of a stored flow. */
  async message(id: string, file: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(join(this.#dir, "flows", id, file)));
  }

  /**
   * Records a delivery as made. Not fsynced: after a crash a lost line is caught by the
   * Maildir check (the file is already there under its deterministic name).
   */
  async markDone(id: string, key: string): Promise<void> {
    await appendFile(join(this.#dir, "flows", id, "done.log"), key + "\n");
  }

  /** Archives a finished flow's manifest and removes its folder. */
  async finish(manifest: FlowManifest): Promise<void> {
    await writeFileAtomic(join(this.#dir, "done", `${manifest.id}.json`), JSON.stringify(manifest), { sync: false });
    await rm(join(this.#dir, "flows", manifest.id), { recursive: true, force: true });
  }

  /** Finished flows (newest last). */
  async finished(): Promise<FlowManifest[]> {
    const out: FlowManifest[] = [];
    for (const f of (await readdir(join(this.#dir, "done"))).sort()) {
      if (!f.endsWith(".json")) continue;
      try {
        out.push(JSON.parse(await readFile(join(this.#dir, "done", f), "utf8")) as FlowManifest);
      } catch {
        // A torn archive entry only costs the web view a line.
      }
    }
    return out;
  }

  /** Everything a restart must resume; removes interrupted computations. */
  async pending(): Promise<PendingWork> {
    const incoming: PendingWork["incoming"] = [];
    const flows: PendingWork["flows"] = [];
    const done = new Set((await readdir(join(this.#dir, "done"))).map((f) => f.replace(/\.json$/, "")));
    for (const id of (await readdir(join(this.#dir, "flows"))).sort()) {
      const dir = join(this.#dir, "flows", id);
      let manifest: FlowManifest | undefined;
      try {
        manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as FlowManifest;
      } catch {
        manifest = undefined;
      }
      if (!manifest || done.has(id)) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      let log = "";
      try {
        log = await readFile(join(dir, "done.log"), "utf8");
      } catch {
        // nothing delivered yet
      }
      // A torn last line (crash mid-append) is not a key: it is simply not counted.
      flows.push({ manifest, done: new Set(log.split("\n").filter((l) => /^\d+:/.test(l))) });
      await this.drop(id);
    }
    for (const f of (await readdir(join(this.#dir, "incoming"))).sort()) {
      if (!f.endsWith(".sub")) continue;
      const id = f.slice(0, -4);
      const raw = await readFile(join(this.#dir, "incoming", f));
      const nl = raw.indexOf(0x0a);
      try {
        const envelope = JSON.parse(raw.subarray(0, nl).toString("utf8")) as Envelope;
        incoming.push({ id, envelope, bytes: new Uint8Array(raw.subarray(nl + 1)) });
      } catch {
        // Written atomically, so never torn; anything else in here is not ours.
        await rename(join(this.#dir, "incoming", f), join(this.#dir, "tmp", `${f}.unreadable`)).catch(() => undefined);
      }
    }
    return { incoming, flows };
  }
}
