/**
 * The engine: the simulator's {@link PecNetwork} built from the configuration, the spool,
 * the Maildirs, and the scheduler that delivers each message of a flow at its time on
 * the sandbox clock.
 *
 * Time: a flow starts at the real time its message was taken; the simulator dates its
 * steps from there (a second for the accettazione, 12 h for a preavviso, …), and step n
 * is delivered at `start + (date - start) / clockSpeed` of real time. With clock speed
 * 3600 the 12 h preavviso comes 12 s after the submission, dated 12 h later.
 *
 * @module
 */
import { join } from "node:path";
import { isPecError } from "postacert";
import {
  EICAR_SIGNATURE_NAME,
  type Gestore,
  PecNetwork,
  type PecFlow,
  POSTACERT_TEST_SIGNATURE_NAME,
  POSTACERT_TEST_VIRUS,
  eicarTestFile,
  signatureAntivirus,
} from "postacert/simulator";
import type { SandboxConfig } from "./config.js";
import { deliver, deliveryName, ensureMaildir } from "./maildir.js";
import { loadOrCreatePki } from "./pki.js";
import { type Envelope, type FlowManifest, Spool, type StoredStep } from "./spool.js";

/** A mailbox of the sandbox: a user's, a gestore's service mailbox, or the Internet catch-all. */
export interface SandboxMailbox {
  /** Login name (IMAP, POP3, SMTP AUTH): the address, or `internet`. */
  address: string;
  /** Password. */
  password: string;
  /** Display name of a user mailbox. */
  name?: string;
  /** `user`, `service` (a gestore's `mailReceipt`) or `internet` (mail to esterno recipients). */
  kind: "user" | "service" | "internet";
  /** Main domain of its gestore (absent for `internet`). */
  gestore?: string;
  /** Maildir root. */
  maildir: string;
}

/** Outcome of a message taken over SMTP. */
export type TakeResult =
  | {
      /** Accepted: the flow is stored and will be delivered. */
      ok: true;
      /** Spool id. */
      id: string;
      /** The flow. */
      manifest: FlowManifest;
    }
  | {
      /** Refused: nothing was stored. */
      ok: false;
      /** SMTP reply code. */
      code: number;
      /** Reply text. */
      message: string;
    };

/** Something happened (a delivery): the web view's live updates listen to this. */
export type EngineListener = (event: { kind: "delivered" | "flow"; id: string }) => void;

const MAX_TIMER = 2 ** 31 - 1;

/** The engine. Create with {@link Engine.create}; call {@link Engine.resume} once the servers listen. */
export class Engine {
  readonly network: PecNetwork;
  readonly config: SandboxConfig;
  readonly stateDir: string;
  readonly clockSpeed: number;
  readonly spool: Spool;
  /** Mailboxes by lower-case login name. */
  readonly mailboxes: ReadonlyMap<string, SandboxMailbox>;
  readonly #gestori = new Map<string, Gestore>();
  readonly #listeners = new Set<EngineListener>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();
  readonly #active = new Map<string, FlowManifest>();
  readonly #idleWaiters: (() => void)[] = [];
  readonly #wakers = new Set<() => void>();
  #stopped = false;
  #log: (line: string) => void;

  private constructor(init: {
    network: PecNetwork;
    config: SandboxConfig;
    stateDir: string;
    clockSpeed: number;
    spool: Spool;
    mailboxes: Map<string, SandboxMailbox>;
    log: (line: string) => void;
  }) {
    this.network = init.network;
    this.config = init.config;
    this.stateDir = init.stateDir;
    this.clockSpeed = init.clockSpeed;
    this.spool = init.spool;
    this.mailboxes = init.mailboxes;
    this.#log = init.log;
    for (const g of init.network.gestori) this.#gestori.set(g.domain, g);
  }

  /** Builds the PKI, the network, the Maildirs and the spool from the configuration. */
  static async create(config: SandboxConfig, stateDir: string, options: { clockSpeed: number; log: (line: string) => void }): Promise<Engine> {
    const pki = await loadOrCreatePki(stateDir, config.gestori, config.keyAlgorithm);
    const network = new PecNetwork({ ca: pki.ca });
    const mailboxes = new Map<string, SandboxMailbox>();
    const maildir = (login: string): string => join(stateDir, "mail", login.toLowerCase(), "Maildir");
    for (const g of config.gestori) {
      const signatures: Record<string, Uint8Array | string> = {};
      for (const s of g.antivirus ?? ["eicar"]) {
        if (s === "eicar") signatures[EICAR_SIGNATURE_NAME] = eicarTestFile();
        else signatures[POSTACERT_TEST_SIGNATURE_NAME] = POSTACERT_TEST_VIRUS;
      }
      const gestore = await network.addGestore({
        identity: pki.gestori.get(g.domain)!,
        name: g.name,
        mailboxes: g.mailboxes.map((m) => m.address),
        retiredDomains: g.retiredDomains ?? [],
        antivirus: Object.keys(signatures).length > 0 ? signatureAntivirus(signatures) : false,
        availability: g.availability ?? "online",
        receptionDelay: (g.receptionDelayHours ?? 0) * 3600_000,
        acceptsOrdinaryMail: g.acceptsOrdinaryMail ?? true,
        maxMessageSize: config.limits.maxMessageSize,
      });
      for (const m of g.mailboxes) {
        mailboxes.set(m.address, { address: m.address, password: m.password, kind: "user", gestore: g.domain, maildir: maildir(m.address), ...(m.name !== undefined && { name: m.name }) });
      }
      const service = gestore.mailReceipt.toLowerCase();
      mailboxes.set(service, { address: service, password: g.servicePassword ?? "sandbox", kind: "service", gestore: g.domain, maildir: maildir(service) });
    }
    mailboxes.set("internet", { address: "internet", password: config.internetPassword, kind: "internet", maildir: maildir("internet") });
    for (const m of mailboxes.values()) await ensureMaildir(m.maildir);
    const spool = await Spool.open(join(stateDir, "spool"));
    return new Engine({ network, config, stateDir, clockSpeed: options.clockSpeed, spool, mailboxes, log: options.log });
  }

  /** The gestore of a main domain. */
  gestore(domain: string): Gestore | undefined {
    return this.#gestori.get(domain.toLowerCase());
  }

  /** Subscribes to deliveries; returns the unsubscribe function. */
  subscribe(listener: EngineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Flows not fully delivered yet. */
  get activeFlows(): readonly FlowManifest[] {
    return [...this.#active.values()];
  }

  /** Resolves when no flow has a delivery left (tests; a flow with a 24 h notice keeps it busy). */
  idle(): Promise<void> {
    if (this.#active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Takes a message over SMTP: spools it durably, computes its flow with the simulator,
   * stores the flow, and schedules its deliveries. Only when this resolves with `ok` may
   * the SMTP server answer 250.
   */
  async take(envelope: Envelope, bytes: Uint8Array): Promise<TakeResult> {
    if (this.#stopped) return { ok: false, code: 421, message: "4.3.2 Service shutting down, try again later" };
    const id = this.spool.newId();
    await this.spool.take(id, envelope, bytes);
    let manifest: FlowManifest;
    try {
      manifest = await this.#compute(id, envelope, bytes);
    } catch (e) {
      await this.spool.drop(id);
      if (isPecError(e)) return { ok: false, code: 554, message: `5.6.0 Message refused: ${e.message.replace(/[\r\n]+/g, " ")}` };
      this.#log(`error computing the flow of ${id}: ${(e as Error)?.stack ?? String(e)}`);
      return { ok: false, code: 451, message: "4.3.0 Internal error, try again later" };
    }
    this.#schedule(manifest, new Set(), false);
    return { ok: true, id, manifest };
  }

  async #compute(id: string, envelope: Envelope, bytes: Uint8Array): Promise<FlowManifest> {
    const gestore = this.gestore(envelope.gestore);
    if (!gestore) throw new Error(`unknown gestore ${envelope.gestore}`);
    const at = new Date(envelope.receivedAt);
    const flow: PecFlow =
      envelope.kind === "submission"
        ? await gestore.send(bytes, { mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo, start: at })
        : // "" is the null reverse path of a bounce: the anomalia then shows the From, or MAILER-DAEMON without one.
          await gestore.receive(bytes, { mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo, at });
    const files = new Map<string, Uint8Array>();
    const byMessage = new Map<object, string>();
    const steps: StoredStep[] = flow.messages.map((m) => {
      let file = byMessage.get(m.message);
      if (file === undefined) {
        file = `m${byMessage.size + 1}.eml`;
        byMessage.set(m.message, file);
        files.set(file, m.message.bytes);
      }
      const d = m.destination;
      const targets =
        d.kind === "mailbox" || d.kind === "service-mailbox"
          ? m.to.map((a) => a.toLowerCase()).filter((a) => this.mailboxes.has(a))
          : d.kind === "internet"
            ? ["internet"]
            : [];
      return {
        step: m.step,
        type: m.type,
        ...(m.variant !== undefined && { variant: m.variant }),
        date: m.date.getTime(),
        description: m.description,
        from: m.from,
        to: [...m.to],
        file,
        targets,
      };
    });
    const manifest: FlowManifest = {
      version: 1,
      id,
      envelope,
      ...(flow.identificativo !== undefined && { identificativo: flow.identificativo }),
      steps,
      notes: flow.notes.map((n) => ({ date: n.date.getTime(), text: n.text })),
    };
    await this.spool.saveFlow(manifest, files);
    return manifest;
  }

  /** Resumes the spool after a restart: computes what was taken but not computed, delivers what is due. */
  async resume(): Promise<{ recomputed: number; resumed: number }> {
    const work = await this.spool.pending();
    for (const f of work.flows) this.#schedule(f.manifest, f.done, true);
    let recomputed = 0;
    for (const inc of work.incoming) {
      try {
        const manifest = await this.#compute(inc.id, inc.envelope, inc.bytes);
        this.#schedule(manifest, new Set(), false);
        recomputed++;
      } catch (e) {
        // It was refused the first time too (the client got no 250): nothing to deliver.
        this.#log(`spooled message ${inc.id} cannot be processed, dropped: ${(e as Error).message}`);
        await this.spool.drop(inc.id);
      }
    }
    return { recomputed, resumed: work.flows.length };
  }

  /** The real time (ms) a step is due. */
  dueAt(manifest: FlowManifest, date: number): number {
    const start = manifest.envelope.receivedAt;
    return start + Math.max(0, date - start) / this.clockSpeed;
  }

  #schedule(manifest: FlowManifest, done: Set<string>, replay: boolean): void {
    this.#active.set(manifest.id, manifest);
    this.#emit({ kind: "flow", id: manifest.id });
    const run = this.#run(manifest, done, replay)
      .catch((e: unknown) => {
        // The flow stays in the spool; a restart retries it.
        if (!this.#stopped) this.#log(`delivery of flow ${manifest.id} failed, kept in the spool: ${(e as Error)?.stack ?? String(e)}`);
      })
      .finally(() => {
        this.#running.delete(run);
        this.#active.delete(manifest.id);
        if (this.#active.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
      });
    this.#running.add(run);
  }

  async #run(manifest: FlowManifest, done: Set<string>, replay: boolean): Promise<void> {
    const cache = new Map<string, Uint8Array>();
    for (const step of manifest.steps) {
      const pending = step.targets.filter((t) => !done.has(`${step.step}:${t}`));
      if (pending.length === 0) continue;
      await this.#sleepUntil(this.dueAt(manifest, step.date));
      if (this.#stopped) return;
      let bytes = cache.get(step.file);
      if (!bytes) {
        bytes = await this.spool.message(manifest.id, step.file);
        cache.set(step.file, bytes);
      }
      for (const t of pending) {
        const box = this.mailboxes.get(t);
        if (!box) continue; // mailbox removed from the configuration since: nothing to deliver into
        if (this.#stopped) return;
        await deliver(box.maildir, deliveryName(manifest.id, step.step, t, step.date), bytes, replay);
        await this.spool.markDone(manifest.id, `${step.step}:${t}`);
        this.#emit({ kind: "delivered", id: manifest.id });
      }
    }
    if (!this.#stopped) await this.spool.finish(manifest);
  }

  #sleepUntil(when: number): Promise<void> {
    const wait = when - Date.now();
    if (wait <= 0 || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      // Stopping calls wake(), so that the flow loops see #stopped and return.
      const wake = (): void => {
        clearTimeout(t);
        this.#timers.delete(t);
        this.#wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(
        () => {
          this.#timers.delete(t);
          this.#wakers.delete(wake);
          // setTimeout caps at ~24.8 days: sleep again for the rest.
          if (wait > MAX_TIMER) void this.#sleepUntil(when).then(resolve);
          else resolve();
        },
        Math.min(wait, MAX_TIMER),
      );
      this.#timers.add(t);
      this.#wakers.add(wake);
    });
  }

  #emit(event: Parameters<EngineListener>[0]): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Stops scheduling; waits for the deliveries in progress (the spool keeps the rest). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const w of [...this.#wakers]) w();
    await Promise.allSettled([...this.#running]);
    for (const w of this.#idleWaiters.splice(0)) w();
  }
}
