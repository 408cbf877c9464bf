/**
 * An IMAP mailbox as a message source, through imapflow (loaded only when used). Messages are
 * fetched by UID in bounded batches, so a scan never holds a whole mailbox; ids are RFC 5092
 * IMAP URLs, stable across runs, so that `skip` lets a re-run fetch only what it has not seen.
 *
 * @module
 */
import type { ImapFlow, ImapFlowError } from "imapflow";
import { PecError } from "../errors.js";
import { DEFAULT_MAX_SIZE } from "../mime/parse.js";
import type { SourceMessage } from "./sources.js";
import { isDenseArray } from "../util/arrays.js";

/** Options of {@link readImap}. */
export interface ImapOptions {
  /** The account password (never logged, never part of an error message). */
  password: string;
  /** Read only these mailboxes (IMAP names such as `INBOX`, `Archivio`); default: every selectable one. */
  mailboxes?: string[];
  /**
   * Called with each message's id before its body is fetched; `true` leaves the message out
   * without downloading it (e.g. ids already processed by an earlier run).
   */
  skip?: (id: string) => boolean;
  /**
   * How long, in milliseconds, a batch of messages may take beyond the time its bytes need at
   * 16 KiB/s (default 120,000). A server that stalls, or sends a byte now and then, ends the
   * read with `ERR_SOURCE` instead of holding it forever.
   */
  timeout?: number;
  /**
   * Called with a message the server lists as larger than a message read (readPec's 256 MiB,
   * `DEFAULT_MAX_SIZE`): `ERR_TOO_LARGE`, and the message is left out without being downloaded.
   * Without it, such a message ends the read with that error (after the messages before it).
   */
  onError?: (error: PecError, id: string) => void;
  /** TLS settings for `imaps://` and STARTTLS. */
  tls?: {
    /** Verify the server certificate (default `true`); `false` accepts self-signed test servers. */
    rejectUnauthorized?: boolean;
    /**
     * Let `imap://` log in without TLS when the server offers no STARTTLS (default `false`:
     * the password would cross the network in clear, and whoever is on the path can strip the
     * offer). A loopback host (127.0.0.0/8, ::1, localhost) never needs it.
     */
    allowCleartext?: boolean;
  };
}

/**
 * Batch bounds: one FETCH command per batch. Its messages are yielded as they arrive (imapflow
 * reads the next response only when the consumer asks), so memory holds one message, whatever
 * sizes the server claimed.
 */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 8 * 1024 * 1024;
/**
 * The largest literal (one message) taken from the server. A message listed larger than
 * readPec reads is not fetched at all; one listed smaller but sent larger still arrives up to
 * this, twice readPec's limit, and readPec names it ERR_TOO_LARGE. Past it, imapflow closes the
 * connection.
 */
const MAX_LITERAL = 2 * DEFAULT_MAX_SIZE;
/** The slowest transfer a batch is allowed, after its fixed allowance (ImapOptions.timeout). */
const MIN_BYTES_PER_SECOND = 16 * 1024;
const DEFAULT_TIMEOUT = 120_000;
/** The longest delay a Node timer takes as given. */
const MAX_TIMER = 2 ** 31 - 1;
/** The largest UID (RFC 3501: a 32-bit unsigned number, never 0). */
const MAX_UID = 0xffffffff;

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

interface Target {
  secure: boolean;
  host: string;
  port: number;
  /** The user as written in the URL (percent-encoded), for ids and messages. */
  userInUrl: string;
  user: string;
  mailbox: string | undefined;
}

/**
 * The URL with any password masked: error messages may quote it. Works on text that is no
 * URL too: the user information is everything before the last "@" of the authority, so
 * `imap://u:pa#ss@host` shows as `imap://u:***@host`. Shared with the CLI's messages.
 *
 * @internal
 */
export function redactUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)/i.exec(url);
  if (!m) return url;
  const at = m[2]!.lastIndexOf("@");
  const colon = at < 0 ? -1 : m[2]!.indexOf(":");
  if (colon < 0 || colon > at) return url;
  return m[1] + m[2]!.slice(0, colon) + ":***" + url.slice(m[1]!.length + at);
}

function badUrl(url: string, why: string): PecError {
  return new PecError("ERR_INVALID_ARGUMENT", `invalid IMAP URL ${redactUrl(url)}: ${why} (expected imap[s]://user@host[:port][/mailbox])`);
}

function decode(url: string, s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw badUrl(url, `the ${what} is not valid percent-encoding`);
  }
}

function parseUrl(url: string): Target {
  if (typeof url !== "string" || url === "") throw new PecError("ERR_INVALID_ARGUMENT", "the IMAP URL must be a non-empty string");
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl(url, "not a URL");
  }
  if (u.protocol !== "imap:" && u.protocol !== "imaps:") throw badUrl(url, `unsupported scheme ${u.protocol}`);
  if (u.password !== "") throw badUrl(url, "the password belongs in options.password, not in the URL");
  if (u.hostname === "") throw badUrl(url, "no host");
  if (u.search !== "" || u.hash !== "") throw badUrl(url, "queries and fragments are not supported");
  // RFC 5092 allows `user;AUTH=mech`: the mechanism is imapflow's choice here.
  const userInUrl = u.username.split(";")[0]!;
  if (userInUrl === "") throw badUrl(url, "no user");
  const secure = u.protocol === "imaps:";
  const path = u.pathname.replace(/^\/+|\/+$/g, "");
  // RFC 5092 parameters (`;UIDVALIDITY=`, `;UID=`) name single messages; a source reads whole mailboxes.
  if (path.includes(";")) throw badUrl(url, "message-level parts (;UID=…) are not supported");
  return {
    secure,
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? (secure ? 993 : 143) : Number(u.port),
    userInUrl,
    user: decode(url, userInUrl, "user"),
    mailbox: path === "" ? undefined : decode(url, path, "mailbox"),
  };
}

/** RFC 5092 `enc-mailbox`: UTF-8, percent-encoded, hierarchy separators kept. */
function encodeMailbox(name: string): string {
  return encodeURIComponent(name).replace(/%2F/gi, "/").replace(/%3A/gi, ":").replace(/%40/gi, "@");
}

/**
 * The UIDs and sizes of a mailbox (`range` is `1:*`, or a UID set), 8 bytes
 * each (uid << 32 | size), sorted by UID, each once; a UID outside 1..2^32-1 cannot be asked
 * for and is left out.
 */
async function listUids(client: ImapFlow, range: string): Promise<BigUint64Array> {
  let listed = new BigUint64Array(1024);
  let n = 0;
  for await (const m of client.fetch(range, { uid: true, size: true }, range === "1:*" ? undefined : { uid: true })) {
    if (!Number.isInteger(m.uid) || m.uid < 1 || m.uid > MAX_UID) continue;
    if (n === listed.length) {
      const grown = new BigUint64Array(n * 2);
      grown.set(listed);
      listed = grown;
    }
    // RFC 3501 sizes are 32-bit numbers; a larger claim is refused as too large all the same (see readImap).
    const size = Number.isInteger(m.size) && m.size! > 0 ? Math.min(m.size!, MAX_UID) : 0;
    listed[n++] = (BigInt(m.uid) << 32n) | BigInt(size);
  }
  const sorted = listed.subarray(0, n).sort();
  let unique = 0;
  for (let k = 0; k < n; k++) if (unique === 0 || sorted[k]! >> 32n !== sorted[unique - 1]! >> 32n) sorted[unique++] = sorted[k]!;
  return sorted.subarray(0, unique);
}

/** `promise`'s value, or "late" after `ms` (a rejection after that is ignored). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | "late"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), Math.min(Math.max(0, ms), MAX_TIMER))));
  try {
    const result = await Promise.race([promise, late]);
    if (result === "late") promise.catch(() => undefined);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** `1:5,7,9:12` for sorted UIDs. */
function uidSet(uids: number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < uids.length) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    out.push(i === j ? `${uids[i]}` : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

/**
 * Reads the messages of an IMAP account, mailbox by mailbox, oldest UID first.
 *
 * The URL names the account (`imap://user@host:port`, `imaps://…` for implicit TLS; the user
 * may be percent-encoded: `mario%40pec.alfa.test`) and optionally one mailbox (`…/INBOX`).
 * Without a mailbox in the URL or in `options.mailboxes`, every selectable mailbox is read.
 * Mailboxes are opened read-only and bodies fetched with `BODY.PEEK`, so nothing is marked seen.
 *
 * Each id is an RFC 5092 URL, `imap://user@host:port/INBOX;UIDVALIDITY=123/;UID=45`, stable as
 * long as the server keeps the mailbox's UIDVALIDITY. The server sends messages with CRLF line
 * ends whatever the stored form (IMAP requires it; Dovecot converts bare LF).
 *
 * @param url - `imap[s]://user@host[:port][/mailbox]`, without a password
 * @param options - password, mailboxes, skip, onError, timeout, TLS
 * @returns an async iterable of messages (`source` is `url`)
 * @throws PecError `ERR_INVALID_ARGUMENT` for a bad URL or an unknown mailbox; `ERR_SOURCE` when the server
 *   cannot be reached or refuses the login (the message names host and user, never the password);
 *   `ERR_TOO_LARGE` for a message listed larger than readPec reads, unless `options.onError` takes it
 * @example
 * ```ts
 * import { readPec } from "postacert";
 * import { readImap } from "postacert/node";
 * const seen = new Set<string>();
 * for await (const m of readImap("imaps://mario%40pec.alfa.test@imap.example:993", { password: process.env.IMAP_PASSWORD!, skip: (id) => seen.has(id) })) {
 *   seen.add(m.id);
 *   console.log(m.id, readPec(m.bytes).type);
 * }
 * ```
 */
export async function* readImap(url: string, options: ImapOptions): AsyncGenerator<SourceMessage> {
  const target = parseUrl(url);
  if (typeof options?.password !== "string") throw new PecError("ERR_INVALID_ARGUMENT", "options.password must be a string");
  const { password, skip, onError } = options;
  if (skip !== undefined && typeof skip !== "function") throw new PecError("ERR_INVALID_ARGUMENT", "options.skip must be a function");
  if (onError !== undefined && typeof onError !== "function") throw new PecError("ERR_INVALID_ARGUMENT", "options.onError must be a function");
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  // Node turns a timer delay past 2^31 - 1 ms into 1 ms.
  if (typeof timeout !== "number" || !(timeout > 0) || timeout > MAX_TIMER) {
    throw new PecError("ERR_INVALID_ARGUMENT", `options.timeout must be a number of milliseconds from 1 to ${MAX_TIMER}`);
  }
  const wanted = options.mailboxes;
  if (wanted !== undefined && (!isDenseArray(wanted) || wanted.some((m) => typeof m !== "string" || m === ""))) {
    throw new PecError("ERR_INVALID_ARGUMENT", "options.mailboxes must be an array of mailbox names");
  }
  const who = `${target.user} at ${target.host}:${target.port}`;
  const idBase = `imap://${target.userInUrl}@${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}/`;

  /**
   * The server's text with the password removed, as sent (exact), as an IMAP quoted string
   * quotes it (backslashes before quotes and backslashes), and as its UTF-8 bytes read as
   * ISO-8859-1 or windows-1252 (a server echoing it in another charset).
   */
  const forms = [password, password.replace(/["\\]/g, "\\$&"), Buffer.from(password, "utf8").toString("latin1"), new TextDecoder("windows-1252").decode(Buffer.from(password, "utf8"))].filter((f, i, all) => f.length >= 3 && all.indexOf(f) === i);
  const scrub = (text: string): string => {
    for (const f of forms) text = text.split(f).join("***");
    return text;
  };
  let lastError: Error | undefined;

  /** A PecError from an imapflow failure, scrubbed of the password (imapflow never puts it in, but be sure). */
  const failure = (e: unknown, doing: string): PecError => {
    if (e instanceof PecError) return e;
    const err = e as ImapFlowError | undefined;
    const parts = [err?.responseText, err?.code, err?.message].filter((s): s is string => typeof s === "string" && s !== "");
    let detail = [...new Set(parts)].join(", ") || String(e);
    // The connection's own failure (a BYE, a timeout, a literal too large) says more than
    // imapflow's "Connection not available" for the command it broke.
    if (lastError !== undefined && lastError !== e && /NoConnection|not available/i.test(detail)) detail += ` (${lastError.message})`;
    detail = scrub(detail);
    const hint = err?.authenticationFailed ? " (wrong user or password?)" : "";
    return new PecError("ERR_SOURCE", `IMAP ${doing} failed for ${who}: ${detail}${hint}`);
  };

  // Loaded here, not at module load: postacert/node must not need imapflow until IMAP is used.
  let ImapFlowClass: typeof ImapFlow;
  try {
    ({ ImapFlow: ImapFlowClass } = await import("imapflow"));
  } catch {
    throw new PecError("ERR_UNSUPPORTED", "reading IMAP needs the imapflow package (npm install imapflow)");
  }
  const client = new ImapFlowClass({
    host: target.host,
    port: target.port,
    secure: target.secure,
    auth: { user: target.user, pass: password },
    logger: false,
    tls: { rejectUnauthorized: options.tls?.rejectUnauthorized ?? true },
    // Without TLS the password crosses the network in clear: imap:// must upgrade, but on loopback.
    ...(!target.secure && options.tls?.allowCleartext !== true && !isLoopback(target.host) && { doSTARTTLS: true }),
    maxLiteralSize: MAX_LITERAL,
    // A server silent this long is gone (imapflow's default is 5 minutes).
    socketTimeout: Math.max(timeout, 1000),
    maxResponseSize: MAX_LITERAL + 1024 * 1024,
    clientInfo: { name: "postacert" },
  });
  // imapflow also reports failures as 'error' events; without a listener Node would crash.
  client.on("error", (e: Error) => {
    lastError = e;
  });

  try {
    try {
      await client.connect();
    } catch (e) {
      throw failure(e, "login");
    }

    let mailboxes: string[];
    try {
      const listed = (await client.list()).filter((m) => !m.flags.has("\\Noselect") && !m.flags.has("\\NonExistent"));
      const norm = (p: string): string => (p.toUpperCase() === "INBOX" ? "INBOX" : p);
      const requested = [target.mailbox, ...(wanted ?? [])].filter((m): m is string => m !== undefined).map(norm);
      const byPath = new Map(listed.map((m) => [norm(m.path), m.path]));
      for (const r of requested) if (!byPath.has(r)) throw new PecError("ERR_INVALID_ARGUMENT", `IMAP mailbox ${JSON.stringify(r)} does not exist for ${who}`);
      mailboxes = [...byPath.keys()];
      // A mailbox in the URL and options.mailboxes both restrict the set.
      if (target.mailbox !== undefined) mailboxes = mailboxes.filter((m) => m === norm(target.mailbox!));
      if (wanted !== undefined) mailboxes = mailboxes.filter((m) => wanted.map(norm).includes(m));
      mailboxes = mailboxes.map((m) => byPath.get(m)!);
    } catch (e) {
      throw failure(e, "LIST");
    }

    for (const mailbox of mailboxes) {
      let lock;
      try {
        lock = await client.getMailboxLock(mailbox, { readOnly: true });
      } catch (e) {
        throw failure(e, `EXAMINE ${mailbox}`);
      }
      try {
        const box = client.mailbox;
        if (!box) continue;
        // EXISTS 0 (or none) is checked with a search before the mailbox counts as empty: a server
        // that miscounts would otherwise have its messages skipped with nothing said.
        let listing = "1:*";
        if (!box.exists) {
          let any: number[] | false | undefined;
          try {
            any = await client.search({ all: true }, { uid: true });
          } catch (e) {
            throw failure(e, `SEARCH ${mailbox}`);
          }
          const found = (any || []).filter((u) => Number.isInteger(u) && u >= 1 && u <= MAX_UID).sort((a, b) => a - b);
          if (found.length === 0) continue;
          // imapflow sends no sequence set to a mailbox it believes empty: list by UID.
          listing = uidSet([...new Set(found)]);
        }
        // Without a valid UIDVALIDITY the UIDs may name other messages next time: such ids are
        // never skipped (a re-run fetches every message again, and a state file tells them by content).
        const validity = typeof box.uidValidity === "bigint" && box.uidValidity > 0n && box.uidValidity <= BigInt(MAX_UID) ? box.uidValidity : undefined;
        const prefix = `${idBase}${encodeMailbox(mailbox)};UIDVALIDITY=${validity ?? 0}/;UID=`;

        // UIDs and sizes first, so that skipped messages are never downloaded.
        let sorted: BigUint64Array;
        try {
          sorted = await listUids(client, listing);
        } catch (e) {
          throw failure(e, `FETCH ${mailbox}`);
        }
        // What is left to fetch, compacted in place.
        let left = 0;
        for (const v of sorted) if (validity === undefined || !skip?.(prefix + Number(v >> 32n))) sorted[left++] = v;
        const todo = sorted.subarray(0, left);
        const uidAt = (k: number): number => Number(todo[k]! >> 32n);
        const sizeAt = (k: number): number => Number(todo[k]! & 0xffffffffn);

        let i = 0;
        while (i < todo.length) {
          if (sizeAt(i) > DEFAULT_MAX_SIZE) {
            // Refused unread, as a file of that size is. Fetched, it cost its download only to be
            // refused by readPec, and past imapflow's literal cap it closed the connection: every
            // later message, on every re-run, was lost with it. A claimed size so only buys the
            // deadline time of a message readPec takes.
            const id = prefix + uidAt(i);
            const error = new PecError("ERR_TOO_LARGE", `${id} is ${sizeAt(i)} bytes as the server lists it, larger than a message read (${DEFAULT_MAX_SIZE} bytes)`, { limit: DEFAULT_MAX_SIZE });
            if (!onError) throw error;
            onError(error, id);
            i++;
            continue;
          }
          const batch: number[] = [];
          let bytes = 0;
          // At least one message per batch, however large.
          while (i < todo.length && sizeAt(i) <= DEFAULT_MAX_SIZE && batch.length < BATCH_MESSAGES && (batch.length === 0 || bytes + sizeAt(i) <= BATCH_BYTES)) {
            bytes += sizeAt(i);
            batch.push(uidAt(i));
            i++;
          }
          // Only what was asked for, once: a server may answer with other or repeated UIDs.
          const asked = new Set(batch);
          const fetch = client.fetch(uidSet(batch), { uid: true, source: true }, { uid: true });
          // The batch's deadline: the fixed allowance, plus 16 KiB/s for the bytes listed, or
          // received when a server sends more than it listed. A consumer's own time is not counted.
          const allowed = (): number => timeout + (Math.max(bytes, received) / MIN_BYTES_PER_SECOND) * 1000;
          let waited = 0;
          let received = 0;
          let abandoned = false;
          try {
            for (;;) {
              let next: IteratorResult<{ uid: number; source?: Buffer }> | "late";
              const started = Date.now();
              try {
                next = await within(fetch.next(), allowed() - waited);
              } catch (e) {
                throw failure(e, `FETCH ${mailbox}`);
              }
              if (next === "late") {
                // The FETCH is abandoned with the connection.
                abandoned = true;
                client.close();
                throw new PecError("ERR_SOURCE", `IMAP FETCH ${mailbox} failed for ${who}: no message from the server in ${Math.round((allowed() - waited) / 1000)} s`);
              }
              waited += Date.now() - started;
              if (next.done) break;
              const m = next.value;
              received += m.source?.length ?? 0;
              // A message expunged since the UID list simply has no source.
              if (!m.source || !asked.delete(m.uid)) continue;
              const b = m.source;
              yield { id: prefix + m.uid, source: url, bytes: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) };
            }
          } finally {
            // A consumer that stops early: imapflow lets the rest of the FETCH drain, so LOGOUT can follow.
            if (!abandoned) await fetch.return(undefined).catch(() => undefined);
          }
        }
      } finally {
        lock.release();
      }
    }
  } finally {
    // Also reached when the consumer stops early (break/return): always say goodbye.
    await client.logout().catch(() => client.close());
  }
}
