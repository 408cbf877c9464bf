/**
 * The sandbox configuration (`sandbox.json`): gestori, mailboxes and passwords, ports and
 * limits. {@link parseConfig} validates everything up front so that a bad file fails at
 * start-up with a message naming the field, never later inside an SMTP session.
 *
 * @module
 */
import { readFile } from "node:fs/promises";

/** A user mailbox of a gestore. */
export interface MailboxConfig {
  /** Full address, or a local part at the gestore's main domain. */
  address: string;
  /** IMAP/POP3/SMTP password. */
  password: string;
  /** Display name, shown in the start-up summary and the web view. */
  name?: string;
}

/** Names of the antivirus signatures a gestore knows. */
export type AntivirusSignature = "eicar" | "postacert-test";

/** One gestore (PEC provider) of the sandbox. */
export interface GestoreConfig {
  /** Descriptive name (daticert `gestore-emittente`). */
  name: string;
  /** Main PEC domain. */
  domain: string;
  /** User mailboxes. */
  mailboxes: MailboxConfig[];
  /** Password of its service mailbox (`posta-certificata@<domain>`), readable over IMAP/POP3. Default `sandbox`. */
  servicePassword?: string;
  /** Domains the IGPEC still lists for it but that it no longer serves (delivery fails with no-dominio). */
  retiredDomains?: string[];
  /** `online` (default), `unreachable` (timeout flow: 12 h preavviso, 24 h scadenza) or `stalled` (presa in carico, never delivered). */
  availability?: "online" | "unreachable" | "stalled";
  /** Hours its punto di ricezione does not answer before taking a busta (e.g. 15: preavviso, then late delivery). Default 0. */
  receptionDelayHours?: number;
  /** Signatures its antivirus knows. Default `["eicar"]`; `[]` for no antivirus. */
  antivirus?: AntivirusSignature[];
  /** Whether ordinary mail arriving on its inbound port is delivered inside a busta di anomalia (else discarded). Default true. */
  acceptsOrdinaryMail?: boolean;
  /** TCP port of its inbound SMTP (punto di ricezione for ordinary mail). 0: any free port. */
  inboundPort?: number;
}

/** The whole configuration. */
export interface SandboxConfig {
  /** Address every server listens on. Default `127.0.0.1`. */
  host: string;
  /** TCP ports; 0 picks a free one (printed at start-up). */
  ports: { submission: number; imap: number; pop3: number; web: number };
  /** Key type of the CA and gestori. Default `RSA-2048` (what real gestori use). */
  keyAlgorithm: "RSA-2048" | "ECDSA-P256";
  /** Limits of the SMTP servers. */
  limits: {
    /** Bytes per message (SMTP 552 above it) and per message × recipients (non accettazione above it). Default 30 MB. */
    maxMessageSize: number;
    /** Recipients per message (SMTP 452 for the extra ones). Default 100. */
    maxRecipients: number;
    /** Concurrent SMTP connections per server (421 above it). Default 100. */
    maxConnections: number;
  };
  /** Whether SMTP AUTH needs STARTTLS first. Default false (localhost tool). */
  requireTls: boolean;
  /** Password of the `internet` mailbox, where mail to esterno recipients lands. Default `sandbox`. */
  internetPassword: string;
  /** The gestori. */
  gestori: GestoreConfig[];
}

/** A configuration error: the message names the field. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** The default world: two gestori with two mailboxes each, password `sandbox` everywhere. */
export function defaultConfig(): SandboxConfig {
  return {
    host: "127.0.0.1",
    ports: { submission: 2587, imap: 2143, pop3: 2110, web: 8025 },
    keyAlgorithm: "RSA-2048",
    limits: { maxMessageSize: 30 * 1024 * 1024, maxRecipients: 100, maxConnections: 100 },
    requireTls: false,
    internetPassword: "sandbox",
    gestori: [
      {
        name: "Gestore Alfa S.p.A.",
        domain: "pec.alfa.test",
        inboundPort: 2525,
        mailboxes: [
          { address: "mario.rossi@pec.alfa.test", name: "Mario Rossi", password: "sandbox" },
          { address: "giulia.neri@pec.alfa.test", name: "Giulia Neri", password: "sandbox" },
        ],
      },
      {
        name: "Gestore Beta S.p.A.",
        domain: "pec.beta.test",
        inboundPort: 2526,
        mailboxes: [
          { address: "anna.bianchi@pec.beta.test", name: "Anna Bianchi", password: "sandbox" },
          { address: "luca.verdi@pec.beta.test", name: "Luca Verdi", password: "sandbox" },
        ],
      },
    ],
  };
}

const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i;
/**
 * A dot-atom local part without "/" and "%": the address names the mailbox's folder, and
 * Dovecot takes neither in a user name ("%" starts its variables).
 */
const LOCAL = /^[A-Za-z0-9!#$&'*+=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$&'*+=?^_`{|}~-]+)*$/;
/** Anything that could end a header line or a config line in Dovecot's passwd-file. */
const INJECTION = /[\r\n\0]/;

function fail(path: string, what: string): never {
  throw new ConfigError(`config ${path}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown, path: string, opts: { optional?: boolean; password?: boolean } = {}): string | undefined {
  if (v === undefined && opts.optional) return undefined;
  if (typeof v !== "string" || v.trim() === "") fail(path, "must be a non-empty string");
  // CR/LF would let a name inject header fields into every message the sandbox signs.
  if (INJECTION.test(v)) fail(path, "must not contain CR, LF or NUL (header injection)");
  // ':' separates passwd-file fields; control characters have no place in any of these.
  if (opts.password && /[:\x00-\x1f\x7f]/.test(v)) fail(path, "must not contain ':' or control characters");
  if (!opts.password && /[\x00-\x1f\x7f]/.test(v)) fail(path, "must not contain control characters");
  return v;
}

function port(v: unknown, path: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 65535) fail(path, "must be a port number 0–65535 (0: any free port)");
  return v;
}

function positive(v: unknown, path: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) fail(path, "must be a positive integer");
  return v;
}

function domain(v: unknown, path: string): string {
  const d = str(v, path)!;
  if (!DOMAIN.test(d)) fail(path, `must be a domain name like pec.example.test, got ${JSON.stringify(d)}`);
  return d.toLowerCase();
}

function address(v: unknown, path: string, mainDomain: string): string {
  const a = str(v, path)!;
  const full = a.includes("@") ? a : `${a}@${mainDomain}`;
  const at = full.lastIndexOf("@");
  if (/[/%]/.test(full.slice(0, at))) fail(path, `must not contain "/" or "%" (the sandbox names a folder and a Dovecot user after it), got ${JSON.stringify(a)}`);
  if (!LOCAL.test(full.slice(0, at)) || !DOMAIN.test(full.slice(at + 1))) fail(path, `must be an e-mail address or a local part, got ${JSON.stringify(a)}`);
  return full.toLowerCase();
}

/**
 * Validates a parsed configuration object, filling in defaults. Missing top-level fields
 * take the defaults of {@link defaultConfig}; `gestori`, when given, replaces the default
 * world.
 *
 * @throws ConfigError naming the first bad field (CR/LF in any name is refused)
 */
export function parseConfig(input: unknown): SandboxConfig {
  if (!isObject(input)) fail("(root)", "must be a JSON object");
  const d = defaultConfig();
  const ports = input.ports === undefined ? {} : input.ports;
  if (!isObject(ports)) fail("ports", "must be an object");
  const limits = input.limits === undefined ? {} : input.limits;
  if (!isObject(limits)) fail("limits", "must be an object");
  const keyAlgorithm = input.keyAlgorithm ?? d.keyAlgorithm;
  if (keyAlgorithm !== "RSA-2048" && keyAlgorithm !== "ECDSA-P256") fail("keyAlgorithm", 'must be "RSA-2048" or "ECDSA-P256"');
  if (input.requireTls !== undefined && typeof input.requireTls !== "boolean") fail("requireTls", "must be true or false");
  const host = str(input.host ?? d.host, "host")!;
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) fail("host", "must be an IP address or host name");

  const gestoriIn = input.gestori ?? d.gestori;
  if (!Array.isArray(gestoriIn) || gestoriIn.length === 0) fail("gestori", "must be a non-empty array");
  const seenDomains = new Set<string>();
  const seenBoxes = new Set<string>();
  const gestori = gestoriIn.map((g: unknown, i): GestoreConfig => {
    const p = `gestori[${i}]`;
    if (!isObject(g)) fail(p, "must be an object");
    const name = str(g.name, `${p}.name`)!;
    const main = domain(g.domain, `${p}.domain`);
    const retired = g.retiredDomains === undefined ? [] : g.retiredDomains;
    if (!Array.isArray(retired)) fail(`${p}.retiredDomains`, "must be an array of domains");
    const retiredDomains = retired.map((r: unknown, j) => domain(r, `${p}.retiredDomains[${j}]`));
    for (const dom of [main, ...retiredDomains]) {
      if (seenDomains.has(dom)) fail(`${p}`, `domain ${dom} is listed twice`);
      seenDomains.add(dom);
    }
    if (!Array.isArray(g.mailboxes)) fail(`${p}.mailboxes`, "must be an array");
    const mailboxes = g.mailboxes.map((m: unknown, j): MailboxConfig => {
      const mp = `${p}.mailboxes[${j}]`;
      if (!isObject(m)) fail(mp, "must be an object with address and password");
      const addr = address(m.address, `${mp}.address`, main);
      if (!addr.endsWith(`@${main}`)) fail(`${mp}.address`, `must be at ${main}`);
      if (addr === `posta-certificata@${main}`) fail(`${mp}.address`, "is the gestore's service mailbox");
      if (seenBoxes.has(addr)) fail(`${mp}.address`, `${addr} is listed twice`);
      seenBoxes.add(addr);
      const nm = str(m.name, `${mp}.name`, { optional: true });
      return { address: addr, password: str(m.password, `${mp}.password`, { password: true })!, ...(nm !== undefined && { name: nm }) };
    });
    const availability = g.availability ?? "online";
    if (availability !== "online" && availability !== "unreachable" && availability !== "stalled") fail(`${p}.availability`, 'must be "online", "unreachable" or "stalled"');
    const delay = g.receptionDelayHours ?? 0;
    if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0) fail(`${p}.receptionDelayHours`, "must be a non-negative number");
    const av = g.antivirus ?? ["eicar"];
    if (!Array.isArray(av) || av.some((s) => s !== "eicar" && s !== "postacert-test")) fail(`${p}.antivirus`, 'must be an array of "eicar", "postacert-test"');
    if (g.acceptsOrdinaryMail !== undefined && typeof g.acceptsOrdinaryMail !== "boolean") fail(`${p}.acceptsOrdinaryMail`, "must be true or false");
    const servicePassword = str(g.servicePassword, `${p}.servicePassword`, { optional: true, password: true });
    return {
      name,
      domain: main,
      mailboxes,
      retiredDomains,
      availability,
      receptionDelayHours: delay,
      antivirus: av as AntivirusSignature[],
      acceptsOrdinaryMail: g.acceptsOrdinaryMail ?? true,
      inboundPort: port(g.inboundPort, `${p}.inboundPort`, 0),
      ...(servicePassword !== undefined && { servicePassword }),
    };
  });

  return {
    host,
    ports: {
      submission: port(ports.submission, "ports.submission", d.ports.submission),
      imap: port(ports.imap, "ports.imap", d.ports.imap),
      pop3: port(ports.pop3, "ports.pop3", d.ports.pop3),
      web: port(ports.web, "ports.web", d.ports.web),
    },
    keyAlgorithm,
    limits: {
      maxMessageSize: positive(limits.maxMessageSize, "limits.maxMessageSize", d.limits.maxMessageSize),
      maxRecipients: positive(limits.maxRecipients, "limits.maxRecipients", d.limits.maxRecipients),
      maxConnections: positive(limits.maxConnections, "limits.maxConnections", d.limits.maxConnections),
    },
    requireTls: input.requireTls === true,
    internetPassword: str(input.internetPassword ?? d.internetPassword, "internetPassword", { password: true })!,
    gestori,
  };
}

/**
 * Reads and validates a configuration file.
 *
 * @throws ConfigError for unreadable JSON or a bad field
 */
export async function loadConfig(path: string): Promise<SandboxConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read the configuration ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`the configuration ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseConfig(json);
}
