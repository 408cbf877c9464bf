/**
 * The SMTP side: the submission server (the punto di accesso of every gestore: AUTH,
 * then the authenticated mailbox is the sender) and one inbound server per gestore (its
 * punto di ricezione for mail from outside the PEC network, which becomes a busta di
 * anomalia).
 *
 * Nothing a client sends can stop a server: every callback answers with an SMTP code,
 * and unexpected failures become 451 (try again later) with the message kept out of the
 * spool.
 *
 * @module
 */
import { domainToASCII } from "node:url";
import { timingSafeEqual, createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from "smtp-server";
import type { Engine } from "./engine.js";

/** TLS material for STARTTLS. */
export interface TlsMaterial {
  /** Certificate chain, PEM. */
  certPem: string;
  /** Private key, PEM. */
  keyPem: string;
}

type SmtpError = Error & { responseCode: number };

function smtpError(code: number, message: string): SmtpError {
  return Object.assign(new Error(message), { responseCode: code });
}

const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/**
 * An address as the client wrote it. smtp-server turns a punycode domain into Unicode
 * (info@xn--caff-8oa.it becomes info@caffè.it), which no PEC address may hold; it goes
 * back to ASCII here.
 */
function written(a: SMTPServerAddress): string {
  const at = a.address.lastIndexOf("@");
  if (at < 0 || /^[\x00-\x7f]*$/.test(a.address)) return a.address;
  const ascii = domainToASCII(a.address.slice(at + 1));
  return ascii ? `${a.address.slice(0, at)}@${ascii}` : a.address;
}

function sameSecret(a: string, b: string): boolean {
  // Hash first: timingSafeEqual needs equal lengths, and the length must not leak either.
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/**
 * How many messages of the largest size the DATA of all connections together may hold at
 * once. Without a bound, `maxConnections` clients sending at once would make the sandbox
 * hold that many times `maxMessageSize` (3 GB with the defaults).
 */
const BUFFERED_MESSAGES = 4;

/** Bytes of DATA held, all servers of one engine together. */
const buffered = new WeakMap<Engine, { used: number }>();

/**
 * Reads the DATA stream. Past `limit` bytes, or past the engine's budget for all messages
 * being received, it keeps draining but stops buffering, answers 552 (too large) or 452
 * (try again later) through `callback`, and resolves to undefined.
 */
async function readLimited(engine: Engine, stream: SMTPServerDataStream, callback: (err?: Error | null) => void): Promise<Uint8Array | undefined> {
  const limit = engine.config.limits.maxMessageSize;
  let budget = buffered.get(engine);
  if (!budget) buffered.set(engine, (budget = { used: 0 }));
  const pool = budget;
  let chunks: Buffer[] = [];
  let held = 0;
  let size = 0;
  let full = false;
  const release = (): void => {
    pool.used -= held;
    held = 0;
    chunks = [];
  };
  const bytes = await new Promise<Uint8Array | undefined>((resolve, reject) => {
    stream.on("data", (c: Buffer) => {
      size += c.length;
      if (full || size > limit) return release();
      if (pool.used + c.length > BUFFERED_MESSAGES * limit) {
        full = true;
        return release();
      }
      chunks.push(c);
      held += c.length;
      pool.used += c.length;
    });
    stream.on("error", (e: Error) => {
      release();
      reject(e);
    });
    stream.on("end", () => {
      const whole = stream.sizeExceeded || size > limit || full ? undefined : new Uint8Array(Buffer.concat(chunks));
      release();
      resolve(whole);
    });
  });
  if (!bytes) {
    callback(full && size <= limit ? smtpError(452, "4.3.1 Insufficient system storage: too many messages arriving at once, try again later") : smtpError(552, `5.3.4 Message exceeds the maximum size of ${limit} bytes`));
  }
  return bytes;
}

function common(engine: Engine, tls: TlsMaterial | undefined): SMTPServerOptions {
  const { limits } = engine.config;
  return {
    logger: false,
    size: limits.maxMessageSize,
    maxClients: limits.maxConnections,
    maxRecipients: limits.maxRecipients,
    socketTimeout: 120_000,
    closeTimeout: 5_000,
    disableReverseLookup: true,
    ...(tls ? { key: tls.keyPem, cert: tls.certPem } : { disabledCommands: ["STARTTLS"] }),
  };
}

/** Runs `fn` and turns any throw into a 451 for the client (the server itself never sees it). */
function guarded(log: (line: string) => void, fn: () => Promise<void>, callback: (err?: Error | null) => void): void {
  fn().catch((e: unknown) => {
    // smtp-server's code for a client gone before the end of DATA: the client's doing, and
    // nothing was queued, so one line says it.
    if ((e as { code?: unknown })?.code === "ECONNECTION") {
      log(`SMTP: a client left during DATA (${(e as Error).message})`);
      return;
    }
    log(`SMTP handler error: ${(e as Error)?.stack ?? String(e)}`);
    callback(smtpError(451, "4.3.0 Internal error, try again later"));
  });
}

/** The submission server: punto di accesso of every gestore. */
export function createSubmissionServer(engine: Engine, tls: TlsMaterial | undefined, log: (line: string) => void): SMTPServer {
  const server: SMTPServer = new SMTPServer({
    ...common(engine, tls),
    name: "smtp.postacert-sandbox.test",
    banner: "postacert-sandbox punto di accesso",
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: false,
    allowInsecureAuth: !engine.config.requireTls,
    onAuth(auth, _session, callback) {
      const login = (auth.username ?? "").trim().toLowerCase();
      const box = engine.mailboxes.get(login);
      // Only user mailboxes submit: service mailboxes and the Internet box only read.
      if (!box || box.kind !== "user" || typeof auth.password !== "string" || !sameSecret(auth.password, box.password)) {
        callback(smtpError(535, "5.7.8 Authentication credentials invalid"));
        return;
      }
      callback(null, { user: box.address });
    },
    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback) {
      const user = String(session.user ?? "");
      if (written(address).toLowerCase() !== user) {
        callback(smtpError(553, `5.7.1 Sender address rejected: ${user} may only send as ${user}`));
        return;
      }
      answerLater(callback);
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      if (!ADDRESS.test(written(address))) {
        callback(smtpError(553, "5.1.3 Bad recipient address syntax"));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      guarded(
        log,
        async () => {
          const bytes = await readLimited(engine, stream, callback);
          if (!bytes) return;
          const user = String(session.user ?? "");
          const box = engine.mailboxes.get(user);
          if (!box?.gestore) {
            callback(smtpError(530, "5.7.0 Authentication required"));
            return;
          }
          const result = await engine.take(
            {
              kind: "submission",
              gestore: box.gestore,
              mailFrom: box.address,
              rcptTo: session.envelope.rcptTo.map(written),
              receivedAt: Math.floor(Date.now() / 1000) * 1000,
            },
            bytes,
          );
          if (!result.ok) callback(smtpError(result.code, result.message));
          else callback(null, `2.0.0 Ok: queued as ${result.id}${result.manifest.identificativo ? ` (${result.manifest.identificativo})` : ""}`);
        },
        callback,
      );
    },
  });
  server.on("error", (e: Error) => log(`submission server: ${e.message}`));
  return server;
}

/**
 * Accepts a MAIL FROM on the next turn of the event loop. smtp-server (3.x) stops answering a
 * client that sends several whole transactions in one write (pipelining MAIL, RCPT, DATA and the
 * message) when both onMailFrom and onRcptTo answer synchronously: the third MAIL FROM got no
 * reply until the idle timeout. Either handler answering later is enough.
 */
function answerLater(callback: () => void): void {
  setImmediate(callback);
}

/** The inbound server of one gestore: ordinary mail to its users becomes a busta di anomalia. */
export function createInboundServer(engine: Engine, domain: string, tls: TlsMaterial | undefined, log: (line: string) => void): SMTPServer {
  const gestore = engine.gestore(domain);
  if (!gestore) throw new Error(`unknown gestore ${domain}`);
  const server: SMTPServer = new SMTPServer({
    ...common(engine, tls),
    name: `mx.${domain}`,
    banner: `postacert-sandbox punto di ricezione of ${gestore.name}`,
    authOptional: true,
    disabledCommands: tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
    onMailFrom(_address, _session, callback) {
      answerLater(callback);
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const a = written(address).toLowerCase();
      const d = a.slice(a.lastIndexOf("@") + 1);
      if (!ADDRESS.test(a)) {
        callback(smtpError(553, "5.1.3 Bad recipient address syntax"));
        return;
      }
      if (!gestore.serves(d) && !gestore.retiredDomains.includes(d)) {
        callback(smtpError(550, `5.7.1 Relay access denied: ${gestore.name} does not serve ${d}`));
        return;
      }
      // The gestore's own address (posta-certificata@…) takes no mail: the simulator refuses it,
      // so a 250 here was mail accepted and then lost.
      if (!gestore.hasMailbox(a)) {
        callback(smtpError(550, `5.1.1 No such mailbox: ${a}`));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      guarded(
        log,
        async () => {
          const bytes = await readLimited(engine, stream, callback);
          if (!bytes) return;
          const mailFrom = session.envelope.mailFrom ? written(session.envelope.mailFrom) : "";
          const result = await engine.take(
            {
              kind: "inbound",
              gestore: gestore.domain,
              // The null reverse path (bounces) has no address; the anomalia then names none.
              mailFrom: ADDRESS.test(mailFrom) ? mailFrom : "",
              rcptTo: session.envelope.rcptTo.map(written),
              receivedAt: Math.floor(Date.now() / 1000) * 1000,
            },
            bytes,
          );
          if (!result.ok) callback(smtpError(result.code, result.message));
          else callback(null, `2.0.0 Ok: queued as ${result.id}`);
        },
        callback,
      );
    },
  });
  server.on("error", (e: Error) => log(`inbound server ${domain}: ${e.message}`));
  return server;
}

/** Starts listening; resolves with the bound port. */
export function listen(server: SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.server.once("error", onError);
    server.listen(port, host, () => {
      server.server.off("error", onError);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}

/** Stops a server (open sessions are closed after closeTimeout). */
export function close(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
