/**
 * A private Dovecot (IMAP + POP3) serving local Maildirs: its own configuration, run and state
 * folders and log under one directory, loopback ports, users from a passwd-file. It never
 * touches the system Dovecot (`/etc/dovecot`, the system service, its sockets).
 *
 * Works as root (CI, containers) and as an ordinary user. Dovecot refuses mail processes with
 * uid 0 and login processes running as root, so as root the login and internal services run as
 * Dovecot's own users (`dovenull`, `dovecot`, else `nobody`) and the mail processes as the owner
 * of `dir`, or `nobody` when `dir` belongs to root: the Maildirs are then chowned to that user.
 * As an ordinary user everything runs as that user ("rootless" Dovecot).
 *
 * Self-contained on purpose (only `node:*` imports): postacert's tests start it too.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { chmod, chown, lstat, mkdir, open, readdir, rename, stat, utimes, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { userInfo } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** The Debian/Ubuntu packages that provide the servers this module runs. */
export const DOVECOT_PACKAGES = "dovecot-imapd dovecot-pop3d";

/** One mailbox account. */
export interface DovecotUser {
  /** Login name (any characters but whitespace, control characters, `:`, `/`, `\`, `%`, `"`). */
  user: string;
  /** Login password (stored hashed). */
  password: string;
  /** Absolute path of the user's Maildir (created when missing); folders are `.Name` Maildir++ sub-folders. */
  maildir: string;
}

/** Options of {@link startDovecot}. */
export interface DovecotOptions {
  /** Working directory for configuration, sockets, state, indexes and log (created when missing). */
  dir: string;
  /** The accounts. */
  users: DovecotUser[];
  /** Address to listen on (default `127.0.0.1`). */
  host?: string;
  /** IMAP port (default: a free port). */
  imapPort?: number;
  /** POP3 port (default: a free port). */
  pop3Port?: number;
  /**
   * Certificate and key (PEM) to offer STARTTLS on the IMAP and POP3 ports and to open the
   * implicit-TLS ports {@link DovecotServer.imapsPort} and {@link DovecotServer.pop3sPort}.
   * Plaintext logins stay allowed without TLS.
   */
  tls?: { certPem: string; keyPem: string };
}

/** A running Dovecot. */
export interface DovecotServer {
  /** Address it listens on. */
  host: string;
  /** IMAP port (cleartext, STARTTLS when `tls` was given). */
  imapPort: number;
  /** POP3 port (cleartext, STARTTLS when `tls` was given). */
  pop3Port: number;
  /** IMAPS port (implicit TLS), only when `tls` was given. */
  imapsPort?: number;
  /** POP3S port (implicit TLS), only when `tls` was given. */
  pop3sPort?: number;
  /** The working directory (holds `dovecot.conf` and `dovecot.log`). */
  dir: string;
  /** Replaces the accounts; Dovecot re-reads them at the next login. */
  setUsers(users: DovecotUser[]): Promise<void>;
  /** Stops Dovecot and waits until all its processes have exited. Idempotent. */
  stop(): Promise<void>;
}

/** The error this module throws; `code` matches postacert's `PecError` codes. */
export class DovecotError extends Error {
  /** `ERR_UNSUPPORTED` (Dovecot missing), `ERR_INVALID_ARGUMENT` (bad options) or `ERR_START` (it did not start). */
  readonly code: "ERR_UNSUPPORTED" | "ERR_INVALID_ARGUMENT" | "ERR_START";

  /**
   * @param code - error code
   * @param message - explanation
   */
  constructor(code: DovecotError["code"], message: string) {
    super(message);
    this.name = "DovecotError";
    this.code = code;
  }
}

const CANDIDATES = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot", "/opt/homebrew/sbin/dovecot", "/usr/local/opt/dovecot/sbin/dovecot"];
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Finds the Dovecot binary: `DOVECOT` in the environment (when set, only there), the usual
 * install paths, then `PATH`.
 *
 * @returns the path of `dovecot`, or `undefined` when it is not installed
 */
export function findDovecot(): string | undefined {
  const env = process.env["DOVECOT"];
  // An explicit choice wins, even a missing one (which is how to test the "not installed" path).
  if (env) return existsSync(env) ? env : undefined;
  for (const c of CANDIDATES) if (existsSync(c)) return c;
  for (const d of (process.env["PATH"] ?? "").split(":")) {
    // sbin is often missing from a non-root PATH, hence the fixed candidates above.
    if (d && existsSync(join(d, "dovecot"))) return join(d, "dovecot");
  }
  return undefined;
}

// --- accounts -----------------------------------------------------------------------------

const BAD_USER = /[\s\x00-\x1f\x7f:/\\%"]/;
// ':' ends a passwd-file field; '%' would be expanded by Dovecot; quotes and newlines break the config.
const BAD_PATH = /[\x00-\x1f\x7f:%"\\]/;

function invalid(message: string): DovecotError {
  return new DovecotError("ERR_INVALID_ARGUMENT", message);
}

function checkUsers(users: unknown): asserts users is DovecotUser[] {
  if (!Array.isArray(users)) throw invalid("users must be an array");
  const seen = new Set<string>();
  for (const u of users as unknown[]) {
    const { user, password, maildir } = (u ?? {}) as Partial<DovecotUser>;
    if (typeof user !== "string" || user === "" || user === "." || user === ".." || BAD_USER.test(user)) throw invalid(`invalid Dovecot user name ${JSON.stringify(user)}`);
    if (seen.has(user)) throw invalid(`duplicate Dovecot user ${user}`);
    seen.add(user);
    if (typeof password !== "string") throw invalid(`the password of ${user} must be a string`);
    if (typeof maildir !== "string" || !isAbsolute(maildir) || BAD_PATH.test(maildir)) {
      throw invalid(`the maildir of ${user} must be an absolute path without ':', '%', quotes or control characters`);
    }
  }
}

/** Dovecot's `{SHA256}` scheme: base64 of the SHA-256 of the password; keeps passwords out of the file. */
function passwdLine(u: DovecotUser): string {
  const hash = createHash("sha256").update(u.password, "utf8").digest("base64");
  // user:password:uid:gid:gecos:home:shell — uid/gid come from the userdb override. Dovecot
  // escapes an apostrophe in %u ("d'amico" is looked up as "d\'amico"), so the key is written
  // so; the other characters it escapes (quote, backslash) are refused in user names.
  return `${u.user.replaceAll("'", "\\'")}:{SHA256}${hash}::::${resolve(u.maildir)}::`;
}

// --- system users -------------------------------------------------------------------------

interface Account {
  name: string;
  uid: number;
  gid: number;
}

function readLines(path: string): string[][] {
  try {
    return readFileSync(path, "utf8").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
  } catch {
    return [];
  }
}

function passwdEntry(match: (f: string[]) => boolean): Account | undefined {
  const f = readLines("/etc/passwd").find(match);
  return f ? { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) } : undefined;
}

function groupName(gid: number): string | undefined {
  return readLines("/etc/group").find((f) => Number(f[2]) === gid)?.[0];
}

function systemAccount(...names: string[]): Account | undefined {
  for (const n of names) {
    const a = passwdEntry((f) => f[0] === n);
    if (a) return a;
  }
  return undefined;
}

/** Who runs what: login and internal services, and the mail processes. */
interface Identities {
  root: boolean;
  internal: Account;
  internalGroup: string;
  login: Account;
  mail: { uid: number; gid: number };
}

async function identities(dir: string): Promise<Identities> {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) {
    const me = userInfo();
    const gid = process.getgid?.() ?? me.gid;
    const self = { name: me.username, uid: me.uid, gid };
    return { root: false, internal: self, internalGroup: groupName(gid) ?? me.username, login: self, mail: { uid: me.uid, gid } };
  }
  const nobody = systemAccount("nobody") ?? { name: "nobody", uid: 65534, gid: 65534 };
  const internal = systemAccount("dovecot") ?? nobody;
  const login = systemAccount("dovenull") ?? nobody;
  const st = await stat(dir);
  // Dovecot never runs mail processes as uid 0: use the owner of dir, or nobody.
  const mail = st.uid !== 0 ? { uid: st.uid, gid: st.gid } : { uid: nobody.uid, gid: nobody.gid };
  return { root: true, internal, internalGroup: groupName(internal.gid) ?? internal.name, login, mail };
}

/**
 * Adds search permission for others (o+x, never read) to `path` and its ancestors: the
 * unprivileged Dovecot processes must reach the Maildirs and `dir`, and temporary folders
 * (mkdtemp) or /root are 0700. Only done as root, where the alternative is a Dovecot that fails.
 */
async function makeReachable(path: string): Promise<void> {
  for (let p = resolve(path); ; p = dirname(p)) {
    const st = await stat(p);
    if ((st.mode & 0o001) === 0) await chmod(p, (st.mode & 0o7777) | 0o001);
    if (dirname(p) === p) return;
  }
}

/** chown -R, skipping what already belongs to the mail user (a Maildir can hold many files). */
async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st || st.isSymbolicLink()) return;
  if (st.uid !== uid || st.gid !== gid) await chown(path, uid, gid);
  if (st.isDirectory()) for (const e of await readdir(path)) await chownTree(join(path, e), uid, gid);
}

// --- configuration ------------------------------------------------------------------------

interface Ports {
  imap: number;
  pop3: number;
  imaps: number;
  pop3s: number;
}

function configText(dir: string, host: string, ports: Ports, id: Identities, tls: boolean): string {
  const q = (s: string): string => `"${s}"`;
  const m = id.mail;
  return `# Written by postacert-sandbox: a private Dovecot, nothing shared with the system one.
base_dir = ${q(join(dir, "run"))}
state_dir = ${q(join(dir, "state"))}
instance_name = ${q(`postacert-${createHash("sha256").update(dir).digest("hex").slice(0, 12)}`)}
log_path = ${q(join(dir, "dovecot.log"))}
protocols = imap pop3
listen = ${host}
shutdown_clients = yes
default_internal_user = ${id.internal.name}
default_internal_group = ${id.internalGroup}
default_login_user = ${id.login.name}
first_valid_uid = ${m.uid}
last_valid_uid = ${m.uid}
first_valid_gid = ${m.gid}
last_valid_gid = ${m.gid}
mail_location = ${q(`maildir:~:INDEX=${join(dir, "index", "%u")}:CONTROL=${join(dir, "control", "%u")}`)}
disable_plaintext_auth = no
auth_mechanisms = plain login
# Every character an address may hold ("+", "'", "=", …): the default set (letters, digits,
# ".-_@") refused such users before their passwd-file line was read. The user names were
# checked when the file was written, and a passwd-file lookup takes any name safely.
auth_username_chars =
# A local test server: answer a wrong password at once instead of after 2 s.
auth_failure_delay = 0
ssl = ${tls ? "yes" : "no"}
${tls ? `ssl_cert = <${join(dir, "tls", "cert.pem")}\nssl_key = <${join(dir, "tls", "key.pem")}\n` : ""}
passdb {
  driver = passwd-file
  args = scheme=SHA256 username_format=%u ${join(dir, "passwd")}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${join(dir, "passwd")}
  override_fields = uid=${m.uid} gid=${m.gid}
}

service imap-login {
  chroot =
  inet_listener imap {
    port = ${ports.imap}
  }
  inet_listener imaps {
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  chroot =
  inet_listener pop3 {
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    port = ${ports.pop3s}
    ssl = yes
  }
}
service anvil {
  chroot =
  # No growing delays after failed logins (tests fail them on purpose): auth cannot reach the penalty socket.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
`;
}

// --- processes ----------------------------------------------------------------------------

async function freePort(host: string): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", rej);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** Resolves with the first line the server sends, or rejects when it does not answer. */
function greeting(host: string, port: number, timeoutMs = 1000): Promise<string> {
  return new Promise((res, rej) => {
    const sock = connect({ host, port });
    let buf = "";
    const done = (err: Error | undefined, line?: string): void => {
      sock.destroy();
      if (err) rej(err);
      else res(line ?? "");
    };
    sock.setTimeout(timeoutMs, () => done(new Error("timeout")));
    sock.on("error", (e) => done(e));
    sock.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      const nl = buf.indexOf("\n");
      if (nl >= 0) done(undefined, buf.slice(0, nl).trim());
    });
    sock.on("end", () => done(new Error("closed")));
  });
}

async function tail(path: string, bytes = 3000): Promise<string> {
  try {
    const fh = await open(path, "r");
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - bytes);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      return buf.toString("utf8");
    } finally {
      await fh.close();
    }
  } catch {
    return "";
  }
}

/** Descendants of `pid` (Linux /proc; empty elsewhere): Dovecot's service processes. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "latin1");
      // The command name is parenthesised and may hold spaces: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(e), ppid);
    } catch {
      // The process exited while we looked.
    }
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    for (const [c, pp] of parent) if (pp === p) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie has exited; in containers whose PID 1 does not reap, it would stay forever.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Masters still running, killed when Node exits so that no Dovecot outlives its tests. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    // Only synchronous work is possible here; the master kills its services on SIGTERM.
    for (const c of running) {
      const services = c.pid !== undefined ? descendants(c.pid) : [];
      c.kill("SIGTERM");
      for (const p of services) signal(p, "SIGTERM");
    }
  });
}

/**
 * Starts a private Dovecot serving the users' Maildirs over IMAP and POP3 and waits until the
 * IMAP port greets with `* OK`.
 *
 * @param options - working directory, users, address, ports, TLS
 * @returns the running server
 * @throws DovecotError `ERR_UNSUPPORTED` when Dovecot is not installed (names {@link DOVECOT_PACKAGES}),
 *   `ERR_INVALID_ARGUMENT` for bad options, `ERR_START` when it does not start (with the log tail)
 * @example
 * ```ts
 * import { startDovecot } from "./dovecot.js"; // internal: startSandbox runs it
 * const dovecot = await startDovecot({ dir: "/tmp/pec", users: [{ user: "mario", password: "x", maildir: "/tmp/pec/mario" }] });
 * console.log(`imap://mario@${dovecot.host}:${dovecot.imapPort}`);
 * await dovecot.stop();
 * ```
 */
export async function startDovecot(options: DovecotOptions): Promise<DovecotServer> {
  const binary = findDovecot();
  if (!binary) throw new DovecotError("ERR_UNSUPPORTED", `Dovecot is not installed: install the packages ${DOVECOT_PACKAGES} (apt-get install ${DOVECOT_PACKAGES}) or set DOVECOT to the dovecot binary`);
  if (typeof options?.dir !== "string" || options.dir === "") throw invalid("dir must be a non-empty path");
  const dir = resolve(options.dir);
  if (BAD_PATH.test(dir) || /\s/.test(dir)) throw invalid("dir must not contain whitespace, ':', '%', quotes or control characters");
  checkUsers(options.users);
  const host = options.host ?? "127.0.0.1";
  if (!/^[0-9A-Za-z.:_-]+$/.test(host)) throw invalid(`invalid host ${JSON.stringify(host)}`);
  for (const p of [options.imapPort, options.pop3Port]) {
    if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 65535)) throw invalid(`invalid port ${p}`);
  }

  await mkdir(dir, { recursive: true });
  const id = await identities(dir);
  // Login (dovenull) and auth (dovecot) processes must reach the sockets and the passwd-file.
  if (id.root) {
    await chmod(dir, 0o755);
    await makeReachable(dir);
  }
  for (const sub of ["run", "state", "index", "control"]) await mkdir(join(dir, sub), { recursive: true });
  if (id.root) for (const sub of ["index", "control"]) await chownTree(join(dir, sub), id.mail.uid, id.mail.gid);

  const tls = options.tls;
  if (tls) {
    await mkdir(join(dir, "tls"), { recursive: true, mode: 0o700 });
    await writeFile(join(dir, "tls", "cert.pem"), tls.certPem);
    await writeFile(join(dir, "tls", "key.pem"), tls.keyPem, { mode: 0o600 });
  }

  let passwdStamp = 0;
  const writeUsers = async (users: DovecotUser[], started = true): Promise<void> => {
    checkUsers(users);
    for (const u of users) {
      for (const sub of ["cur", "new", "tmp"]) await mkdir(join(u.maildir, sub), { recursive: true });
      if (id.root) {
        await chownTree(u.maildir, id.mail.uid, id.mail.gid);
        await makeReachable(u.maildir);
      }
    }
    const path = join(dir, "passwd");
    const tmp = `${path}.tmp`;
    await writeFile(tmp, users.map(passwdLine).join("\n") + "\n", { mode: 0o600 });
    if (id.root) await chown(tmp, id.internal.uid, id.internal.gid);
    // Dovecot reloads the file when its mtime (in seconds) changes: make sure it does.
    passwdStamp = Math.max(Math.floor(Date.now() / 1000), passwdStamp + 1);
    await utimes(tmp, passwdStamp, passwdStamp);
    await rename(tmp, path);
    // Dovecot stats the file at most once per wall-clock second: from the next second on, every
    // login sees the new accounts.
    if (started) await sleep(1000 - (Date.now() % 1000) + 20);
  };
  await writeUsers(options.users, false);

  const ports: Ports = {
    imap: options.imapPort ?? (await freePort(host)),
    pop3: options.pop3Port ?? (await freePort(host)),
    // Port 0 disables a listener in Dovecot.
    imaps: tls ? await freePort(host) : 0,
    pop3s: tls ? await freePort(host) : 0,
  };
  const conf = join(dir, "dovecot.conf");
  await writeFile(conf, configText(dir, host, ports, id, Boolean(tls)));
  const logPath = join(dir, "dovecot.log");

  const child = spawn(binary, ["-F", "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (d: Buffer): void => {
    output = (output + d.toString("utf8")).slice(-3000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited = false;
  const exit = new Promise<void>((res) => {
    child.once("exit", () => {
      exited = true;
      running.delete(child);
      res();
    });
    child.once("error", (e) => {
      keep(Buffer.from(String(e)));
      exited = true;
      running.delete(child);
      res();
    });
  });
  running.add(child);
  installExitHook();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const pid = child.pid;
      const services = pid !== undefined && !exited ? descendants(pid) : [];
      // Signalling the services together with the master: alone, the master takes seconds to wind them down.
      if (!exited) child.kill("SIGTERM");
      for (const p of services) signal(p, "SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exit;
      clearTimeout(killer);
      // The master exits before the last services do; wait for them too.
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      for (let left = services.filter(alive); left.length; left = left.filter(alive)) {
        if (Date.now() > deadline) {
          for (const p of left) signal(p, "SIGKILL");
          break;
        }
        await sleep(25);
      }
    })();
    return stopping;
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let ready = false;
  while (!ready && !exited && Date.now() < deadline) {
    ready = (await greeting(host, ports.imap).catch(() => "")).startsWith("* OK");
    if (!ready) await sleep(50);
  }
  if (!ready) {
    await stop();
    const log = (await tail(logPath)) || output;
    throw new DovecotError("ERR_START", `Dovecot did not start on ${host}:${ports.imap} (config ${conf}):\n${log.trim() || output.trim()}`);
  }

  const server: DovecotServer = {
    host,
    imapPort: ports.imap,
    pop3Port: ports.pop3,
    dir,
    setUsers: (users) => writeUsers(users),
    stop,
  };
  if (tls) {
    server.imapsPort = ports.imaps;
    server.pop3sPort = ports.pop3s;
  }
  return server;
}
