/**
 * A whole PEC world on one machine: {@link startSandbox} builds the gestori from the
 * configuration, writes their CA and IGPEC LDIF to the state folder, and starts the
 * SMTP submission server, one inbound SMTP server per gestore, Dovecot (IMAP, POP3) on
 * the Maildirs, and the web view.
 *
 * @module
 */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { SMTPServer } from "smtp-server";
import type { SandboxConfig } from "./config.js";
import { DOVECOT_PACKAGES, type DovecotServer, findDovecot, startDovecot } from "./dovecot.js";
import { Engine, type SandboxMailbox } from "./engine.js";
import { close, createInboundServer, createSubmissionServer, listen, type TlsMaterial } from "./smtp.js";
import { lockStateDir } from "./lock.js";
import { loadOrCreateTls } from "./tls.js";
import { type WebServer, startWeb } from "./web.js";

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** The validated configuration ({@link parseConfig}). */
  config: SandboxConfig;
  /** State folder: PKI, spool, Maildirs, Dovecot, TLS. Created when missing. */
  stateDir: string;
  /** Sandbox clock speed: 3600 plays an hour of the flow per second. Default 1. */
  clockSpeed?: number;
  /** Whether to start Dovecot (IMAP, POP3). Default true; false keeps the Maildirs only. */
  dovecot?: boolean;
  /** Whether to start the web view. Default true. */
  web?: boolean;
  /** Log lines (errors, resumed work). Default: stderr. */
  log?: (line: string) => void;
}

/** Where everything is, once started. */
export interface SandboxInfo {
  /** Address the servers listen on. */
  host: string;
  /** SMTP submission (AUTH PLAIN/LOGIN, STARTTLS when available). */
  submissionPort: number;
  /** Inbound SMTP port of each gestore, by main domain. */
  inboundPorts: Record<string, number>;
  /** IMAP and POP3 (absent without Dovecot). */
  imapPort?: number;
  pop3Port?: number;
  /** IMAPS and POP3S (implicit TLS), when TLS is available. */
  imapsPort?: number;
  pop3sPort?: number;
  /** Web view URL (absent without it). */
  webUrl?: string;
  /** Absolute state folder. */
  stateDir: string;
  /** Files for clients: the test CA (PEM), the IGPEC LDIF, the TLS certificate. */
  files: { caPem: string; ldif: string; tlsCert?: string };
  /** Whether STARTTLS is offered. */
  tls: boolean;
  /** The clock speed. */
  clockSpeed: number;
  /** Every mailbox with its password. */
  mailboxes: Omit<SandboxMailbox, "maildir">[];
  /** The gestori. */
  gestori: { name: string; domain: string; availability: string; serviceMailbox: string }[];
}

/** A running sandbox. */
export interface Sandbox {
  /** Ports, files, mailboxes. */
  readonly info: SandboxInfo;
  /** The engine (network, spool, Maildirs). */
  readonly engine: Engine;
  /** Resolves when every flow taken so far is fully delivered. */
  idle(): Promise<void>;
  /** Stops every server and Dovecot; pending work stays in the spool. Idempotent. */
  stop(): Promise<void>;
}

/** Dovecot is needed but missing. */
export class DovecotMissingError extends Error {
  override readonly name = "DovecotMissingError";
  constructor() {
    super(`Dovecot is not installed: install the packages ${DOVECOT_PACKAGES} (apt-get install ${DOVECOT_PACKAGES}), or start with --no-dovecot to keep the mail in Maildirs only`);
  }
}

/**
 * A sandbox killed with SIGKILL leaves its Dovecot running (holding the ports and the
 * folder). Only that one is stopped: the pid in our own run folder, and only if its
 * command line names our own dovecot.conf.
 */
async function stopStaleDovecot(dir: string, log: (line: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(join(dir, "run", "master.pid"), "utf8")).trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  let cmdline = "";
  try {
    cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).replace(/\0/g, " ");
  } catch {
    return; // not running (or no /proc: nothing we can check, so nothing we touch)
  }
  if (!cmdline.includes(join(dir, "dovecot.conf"))) return;
  log(`stopping the Dovecot (pid ${pid}) left running by a previous sandbox in ${dir}`);
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 200; i++) {
    // Gone, or a zombie nobody reaps (containers without an init): either way it has let go.
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // Its services exit right after the master; give them a moment to free the ports.
  await new Promise((r) => setTimeout(r, 300));
}

/**
 * Starts the sandbox.
 *
 * @throws DovecotMissingError when Dovecot is wanted but not installed; Error for ports in use,
 *   or for a state folder another running sandbox holds
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const log = options.log ?? ((line: string) => process.stderr.write(`postacert-sandbox: ${line}\n`));
  const config = options.config;
  const clockSpeed = options.clockSpeed ?? 1;
  if (!(clockSpeed > 0) || !Number.isFinite(clockSpeed)) throw new Error("clockSpeed must be a positive number");
  const wantDovecot = options.dovecot !== false;
  if (wantDovecot && !findDovecot()) throw new DovecotMissingError();
  const stateDir = resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true });
  // As root, Dovecot's auth and mail processes run as other users: they must traverse the
  // state folder (mkdtemp makes it 0700). Secrets inside keep their own 0600 modes.
  if (wantDovecot && process.getuid?.() === 0) await chmod(stateDir, 0o755);

  const lock = await lockStateDir(stateDir);
  const caPem = join(stateDir, "ca.pem");
  const ldif = join(stateDir, "gestori.ldif");
  let engine: Engine | undefined;
  let tls: TlsMaterial | undefined;
  try {
    engine = await Engine.create(config, stateDir, { clockSpeed, log });
    await writeFile(caPem, engine.network.caPem());
    await writeFile(ldif, await engine.network.igpecLdif());
    const tlsResult = await loadOrCreateTls(stateDir, config.host);
    if ("error" in tlsResult) log(tlsResult.error);
    else tls = tlsResult;
  } catch (e) {
    // Nothing listens yet: the engine (if made) stops, and the folder is given back.
    await engine?.stop().catch(() => undefined);
    await lock.release();
    throw e;
  }

  const smtpServers: SMTPServer[] = [];
  let dovecot: DovecotServer | undefined;
  let web: WebServer | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await Promise.allSettled(smtpServers.map(close));
      await engine.stop();
      await Promise.allSettled([dovecot?.stop(), web?.stop()]);
      await lock.release();
    })());

  try {
    const submission = createSubmissionServer(engine, tls, log);
    smtpServers.push(submission);
    const submissionPort = await listen(submission, config.ports.submission, config.host);
    const inboundPorts: Record<string, number> = {};
    for (const g of config.gestori) {
      const s = createInboundServer(engine, g.domain, tls, log);
      smtpServers.push(s);
      inboundPorts[g.domain] = await listen(s, g.inboundPort ?? 0, config.host);
    }
    if (wantDovecot) {
      await stopStaleDovecot(join(stateDir, "dovecot"), log);
      dovecot = await startDovecot({
        dir: join(stateDir, "dovecot"),
        host: config.host,
        ...(config.ports.imap !== 0 && { imapPort: config.ports.imap }),
        ...(config.ports.pop3 !== 0 && { pop3Port: config.ports.pop3 }),
        users: [...engine.mailboxes.values()].map((m) => ({ user: m.address, password: m.password, maildir: m.maildir })),
        ...(tls && { tls }),
      });
    }
    if (options.web !== false) web = await startWeb(engine, config.host, config.ports.web, log);
    // Deliveries resume only now: the Maildirs are served and chowned for Dovecot.
    const resumed = await engine.resume();
    if (resumed.resumed + resumed.recomputed > 0) log(`resumed ${resumed.resumed} flow(s) and recomputed ${resumed.recomputed} from the spool`);

    const info: SandboxInfo = {
      host: config.host,
      submissionPort,
      inboundPorts,
      ...(dovecot && { imapPort: dovecot.imapPort, pop3Port: dovecot.pop3Port }),
      ...(dovecot?.imapsPort !== undefined && { imapsPort: dovecot.imapsPort }),
      ...(dovecot?.pop3sPort !== undefined && { pop3sPort: dovecot.pop3sPort }),
      ...(web && { webUrl: web.url }),
      stateDir,
      files: { caPem, ldif, ...(tls && { tlsCert: join(stateDir, "tls-cert.pem") }) },
      tls: tls !== undefined,
      clockSpeed,
      mailboxes: [...engine.mailboxes.values()].map(({ maildir: _m, ...rest }) => rest),
      gestori: engine.network.gestori.map((g) => ({
        name: g.name,
        domain: g.domain,
        availability: g.availability + (g.receptionDelay > 0 ? ` (answers after ${g.receptionDelay / 3600_000} h)` : ""),
        serviceMailbox: g.mailReceipt,
      })),
    };
    await writeFile(join(stateDir, "sandbox-info.json"), JSON.stringify(info, null, 2));
    return { info, engine, idle: () => engine.idle(), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
