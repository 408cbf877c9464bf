/**
 * Shared machinery of the PEC builders: input checks, dates, identifiers, header
 * formatting, the `multipart/mixed` body and signing.
 *
 * @module
 */
import { daysFromCivil } from "../../daticert/date.js";
import { buildDaticertBytes, toDatiData } from "../../daticert/index.js";
import { dropXmlIllegal } from "../../daticert/sanitize.js";
import type { Daticert, DatiData, RicevutaTipo } from "../../daticert/index.js";
import { PecError } from "../../errors.js";
import { buildMime, formatHeader } from "../../mime/index.js";
import type { MimeNode } from "../../mime/index.js";
import { signSmime } from "../../smime/sign.js";
import type { CmsDigest, CmsSigner } from "../../smime/sign.js";
import { encodeBase64 } from "../../util/base64.js";
import { concatBytes, latin1Bytes, toHex, utf8Bytes } from "../../util/bytes.js";
import { DATICERT_FILENAME, PEC_HEADERS, POSTACERT_FILENAME, SUBJECT_PREFIXES } from "../constants.js";
import type { PecType } from "../constants.js";
import { isDenseArray } from "../../util/arrays.js";
import { quoted } from "../../util/text.js";

// ---------------------------------------------------------------------------------------------
// Public types

/**
 * The gestore that emits and signs a message. A `TestGestore` from
 * `createGestore()` satisfies it.
 */
export interface PecSigner extends CmsSigner {
  /** Descriptive name written as daticert `gestore-emittente`, e.g. `Gestore Alfa S.p.A.`. */
  name: string;
  /** The gestore's PEC domain, e.g. `pec.alfa.test`: receipts' Message-IDs are generated under it. */
  domain: string;
  /**
   * The service address used as `From:` (it must equal the e-mail address of the signing
   * certificate for clients to verify the signature). Default `posta-certificata@<domain>`.
   */
  email?: string;
}

/** One recipient of the original message, as the certification data list it. */
export interface PecTransactionRecipient {
  /** The address (bare addr-spec, e.g. `anna@pec.beta.test`). */
  address: string;
  /** `certificato` (a PEC mailbox, the default) or `esterno` (ordinary mail). */
  tipo?: "certificato" | "esterno";
  /**
   * Whether the original had it in `To` or `Cc`. Decides the receipt variant a Cc
   * recipient gets (sintetica, spec §4.7). Undefined counts as `to` (primary).
   */
  field?: "to" | "cc";
}

/**
 * What every message of one sending shares: the `<intestazione>` of daticert and the
 * identifiers. Build it with {@link transactionFromOriginal} or
 * {@link transactionFromBusta}, or by hand.
 */
export interface PecTransaction {
  /** Original sender (SMTP `MAIL FROM`, equal to the original `From`). */
  sender: string;
  /** Every To and Cc recipient, in order (at least one). */
  recipients: readonly PecTransactionRecipient[];
  /** The original `Reply-To` (daticert `risposte`). Default: the sender. May be `""`. */
  replyTo?: string;
  /** The original subject, decoded. */
  subject: string;
  /** The PEC msgid assigned by the sender's punto di accesso, without angle brackets. */
  identificativo: string;
  /**
   * The client's Message-ID of the original, with angle brackets (added when missing):
   * `left@right` in printable ASCII. Absent: none.
   */
  msgid?: string;
  /** The receipt type the sender asked for (`X-TipoRicevuta` of the original). Default `completa`. */
  ricevuta?: RicevutaTipo;
}

/** Options every builder accepts. */
export interface PecBuildOptions {
  /**
   * The event instant, used for `Date:`, the body text, daticert and the CMS
   * signingTime (one temporal reference per event, spec §3.5). Milliseconds are
   * dropped. Default: now.
   */
  date?: Date;
  /**
   * The Message-ID of the built message, with or without angle brackets: `left@right` in
   * printable ASCII, no spaces or angle brackets inside. Receipts:
   * default a fresh id `@<gestore domain>`, and it must differ from the identificativo.
   * Ignored by the busta (whose Message-ID is the identificativo) and by the anomalia
   * when the received message has one (it is inherited).
   */
  messageId?: string;
  /** IANA time zone of the legal time written in bodies and daticert. Default `Europe/Rome`. */
  timeZone?: string;
  /** CMS digest. Default `SHA-256`. */
  digest?: CmsDigest;
  /** `detached` (multipart/signed, default, the PEC norm) or `opaque` (application/pkcs7-mime). */
  form?: "detached" | "opaque";
  /**
   * Extra header fields (provider-specific, such as `X-Attachment: yes`, or trace
   * fields such as `Received`), written after the PEC headers. Values are Unicode. Fields
   * the builders write themselves are refused (`ERR_INVALID_ARGUMENT`, names compared
   * case-insensitively): `Date`, `From`, `To`, `Cc`, `Reply-To`, `Subject`,
   * `Message-ID`, the PEC headers (`X-Trasporto`, `X-Ricevuta`,
   * `X-Riferimento-Message-ID`, `X-TipoRicevuta`, `X-VerificaSicurezza`, `X-Mittente`),
   * `MIME-Version` and every `Content-*` field.
   */
  headers?: readonly (readonly [string, string])[];
  /** WebCrypto implementation. Default `globalThis.crypto`. */
  crypto?: Crypto;
}

/** A `.hash` file written into a ricevuta breve. */
export interface BreveHash {
  /** Name of the replaced part (`fattura.pdf`). */
  filename: string;
  /** Name of the replacement (`fattura.pdf.hash`). */
  hashFilename: string;
  /** Lower-case hex SHA-1 of the replaced part's body as transmitted. */
  hash: string;
}

/** A built, signed PEC message and the facts a caller (a simulator, a test) needs. */
export interface BuiltPec {
  /** The whole message, CRLF line breaks, ready to send or store as `.eml`. */
  bytes: Uint8Array;
  /** The message type, as `readPec` reports it. */
  type: PecType;
  /** True for the virus variants (non accettazione / mancata consegna per virus, rilevazione virus). */
  virus: boolean;
  /** Busta: the receipt type requested; avvenuta consegna: the variant built. */
  ricevuta?: RicevutaTipo;
  /** Timeout notices: `preavviso` (12 h) or `scadenza` (24 h). */
  timeout?: "preavviso" | "scadenza";
  /** Its `Message-ID`, with angle brackets. */
  messageId: string;
  /** The `From:` address (the gestore's service address). */
  from: string;
  /** Where it goes (SMTP `RCPT TO`): the sender, a gestore's service mailbox, or the recipients. */
  to: string[];
  /** The `Subject:` written (decoded form). */
  subject: string;
  /** The certification data written as `daticert.xml` (none for the busta di anomalia). */
  daticert?: Daticert;
  /** The event instant (whole seconds) written in `Date:`, body, daticert and signingTime. */
  date: Date;
  /** Ricevuta breve: the `.hash` files that replaced the original's attachments. */
  hashes?: BreveHash[];
}

// ---------------------------------------------------------------------------------------------
// Errors and input checks

/**
 * The daticert `<intestazione>` of a sending, as every builder writes it. What XML 1.0 cannot
 * carry is dropped from the subject here, so that BuiltPec.daticert is what is written.
 */
export function intestazioneOf(t: CheckedTransaction): Daticert["intestazione"] {
  return { mittente: t.sender, destinatari: t.recipients.map((r) => ({ address: r.address, tipo: r.tipo })), risposte: t.risposte, oggetto: dropXmlIllegal(t.subject) };
}

/** `ERR_INVALID_ARGUMENT` with a builder prefix. */
export function invalid(message: string): PecError {
  return new PecError("ERR_INVALID_ARGUMENT", message);
}

const CONTROL_INJECTION = /[\r\n\0]/;

/**
 * Refuses CR, LF and NUL in every string of a value (plain objects and arrays are
 * walked; bytes, keys and dates are not): they would let input inject header fields.
 */
export function refuseInjection(value: unknown, what: string, depth = 0): void {
  if (depth > 16) return;
  if (typeof value === "string") {
    if (CONTROL_INJECTION.test(value)) {
      throw new PecError("ERR_HEADER_INJECTION", `${what} contains CR, LF or NUL`);
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => refuseInjection(v, `${what}[${i}]`, depth + 1));
    return;
  }
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) refuseInjection(v, `${what}.${k}`, depth + 1);
  }
}

// A pragmatic addr-spec: dot-atom local part (plus the characters real mailboxes use)
// and a domain of labels, or a domain literal. Quoted local parts are not supported.
const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[^\][\\\s]+\])$/;

/** Checks an e-mail address (bare addr-spec, ASCII). Returns it unchanged. */
export function checkAddress(value: unknown, what: string): string {
  if (typeof value !== "string") throw invalid(`${what} must be a string`);
  refuseInjection(value, what);
  if (value.trim() === "") throw invalid(`${what} must not be empty`);
  if (!ADDRESS.test(value)) throw invalid(`${what} is not an e-mail address postacert can write: ${JSON.stringify(value)}`);
  return value;
}

/** Checks a free text (subject, error description): a string without CR/LF/NUL. */
export function checkText(value: unknown, what: string, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof value !== "string") throw invalid(`${what} must be a string`);
  refuseInjection(value, what);
  if (opts.nonEmpty && value.trim() === "") throw invalid(`${what} must not be empty`);
  return value;
}

const ID_PART = /^[^\s<>()\[\]\\,;:"@]+$/;
/** Printable ASCII: header values outside it would be written as RFC 2047 encoded words, never a msg-id. */
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** Checks a msg-id without angle brackets (`left@right`, printable ASCII). Returns it. */
export function checkIdentificativo(value: unknown, what = "identificativo"): string {
  if (typeof value !== "string") throw invalid(`${what} must be a string`);
  refuseInjection(value, what);
  const at = value.lastIndexOf("@");
  if (at <= 0 || !PRINTABLE_ASCII.test(value) || !ID_PART.test(value.slice(0, at)) || !ID_PART.test(value.slice(at + 1))) {
    throw invalid(`${what} must look like left@right (printable ASCII), without angle brackets or spaces: ${JSON.stringify(value)}`);
  }
  refuseLongId(value, what);
  return value;
}

/**
 * A msg-id to write (`Message-ID`, `X-Riferimento-Message-ID`), with angle brackets, from
 * a value given with or without them: printable ASCII, `left@right` with both sides
 * non-empty, no spaces or angle brackets inside (RFC 5322 §3.6.4). Anything else would
 * not be a msg-id once written (non-ASCII would even become an encoded word).
 */
export function bracketMsgId(value: unknown, what: string): string {
  if (typeof value !== "string") throw invalid(`${what} must be a string`);
  refuseInjection(value, what);
  const t = value.trim();
  const inner = t.startsWith("<") && t.endsWith(">") ? t.slice(1, -1) : t;
  const at = inner.lastIndexOf("@");
  if (!PRINTABLE_ASCII.test(inner) || /[<>]/.test(inner) || at <= 0 || at === inner.length - 1) {
    throw invalid(`${what} is not a Message-ID (left@right in printable ASCII, without spaces or angle brackets inside): ${JSON.stringify(value)}`);
  }
  refuseLongId(inner, what);
  return `<${inner}>`;
}

/**
 * The longest msg-id written (brackets aside): a msg-id cannot be folded, and its line
 * ("X-Riferimento-Message-ID: <…>") must stay within RFC 5322's 998 characters.
 */
const MAX_ID = 960;

function refuseLongId(id: string, what: string): void {
  if (id.length > MAX_ID) throw invalid(`${what} is longer than ${MAX_ID} characters: it would not fit on one header line`);
}

const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Checked signer facts. */
export interface SignerInfo {
  signer: PecSigner;
  name: string;
  domain: string;
  email: string;
}

/** Checks a {@link PecSigner}. */
export function checkSigner(signer: unknown): SignerInfo {
  if (typeof signer !== "object" || signer === null) throw invalid("signer must be a PecSigner (e.g. a TestGestore)");
  const s = signer as PecSigner;
  const name = checkText(s.name, "signer.name", { nonEmpty: true });
  if (typeof s.domain !== "string") throw invalid("signer.domain must be a string");
  refuseInjection(s.domain, "signer.domain");
  if (!DOMAIN.test(s.domain)) throw invalid(`signer.domain is not a domain name: ${JSON.stringify(s.domain)}`);
  const email = s.email === undefined ? `posta-certificata@${s.domain}` : checkAddress(s.email, "signer.email");
  if (!(s.certificate instanceof Uint8Array)) throw invalid("signer.certificate must be the DER certificate (Uint8Array)");
  if (typeof s.privateKey !== "object" || s.privateKey === null) throw invalid("signer.privateKey must be a CryptoKey");
  return { signer: s, name, domain: s.domain, email };
}

const TIPI = new Set(["certificato", "esterno"]);
const FIELDS = new Set(["to", "cc"]);
const RICEVUTE = new Set(["completa", "breve", "sintetica"]);

/** A checked transaction with defaults applied. */
export interface CheckedTransaction {
  sender: string;
  recipients: { address: string; tipo: "certificato" | "esterno"; field?: "to" | "cc" }[];
  risposte: string;
  subject: string;
  identificativo: string;
  msgid?: string;
  ricevuta?: RicevutaTipo;
}

/** Checks a {@link PecTransaction} and applies its defaults. */
export function checkTransaction(tx: unknown): CheckedTransaction {
  if (typeof tx !== "object" || tx === null) throw invalid("the transaction must be an object");
  refuseInjection(tx, "transaction");
  const t = tx as PecTransaction;
  const sender = checkAddress(t.sender, "transaction.sender");
  if (!isDenseArray(t.recipients) || t.recipients.length === 0) throw invalid("transaction.recipients must hold at least one recipient");
  const recipients = t.recipients.map((r: unknown, i) => {
    if (typeof r !== "object" || r === null) throw invalid(`transaction.recipients[${i}] must be an object`);
    const rr = r as PecTransactionRecipient;
    const address = checkAddress(rr.address, `transaction.recipients[${i}].address`);
    const tipo = rr.tipo ?? "certificato";
    if (!TIPI.has(tipo)) throw invalid(`transaction.recipients[${i}].tipo must be certificato or esterno`);
    if (rr.field !== undefined && !FIELDS.has(rr.field)) throw invalid(`transaction.recipients[${i}].field must be to or cc`);
    return { address, tipo, ...(rr.field !== undefined && { field: rr.field }) };
  });
  let risposte = sender;
  if (t.replyTo !== undefined) risposte = t.replyTo === "" ? "" : checkAddress(t.replyTo, "transaction.replyTo");
  const subject = checkText(t.subject, "transaction.subject");
  const identificativo = checkIdentificativo(t.identificativo, "transaction.identificativo");
  const msgid = t.msgid === undefined ? undefined : bracketMsgId(t.msgid, "transaction.msgid");
  if (t.ricevuta !== undefined && !RICEVUTE.has(t.ricevuta)) throw invalid("transaction.ricevuta must be completa, breve or sintetica");
  return {
    sender,
    recipients,
    risposte,
    subject,
    identificativo,
    ...(msgid !== undefined && { msgid }),
    ...(t.ricevuta !== undefined && { ricevuta: t.ricevuta }),
  };
}

/** Finds `address` among the transaction's recipients (case-insensitive); throws when absent. */
export function checkRecipientOf(tx: CheckedTransaction, address: unknown, what: string): string {
  const a = checkAddress(address, what);
  if (!tx.recipients.some((r) => r.address.toLowerCase() === a.toLowerCase())) {
    throw invalid(`${what} ${a} is not a recipient of the transaction`);
  }
  return a;
}

const ERRORE_VALUES = new Set(["nessuno", "no-dest", "no-dominio", "virus", "altro"]);

/** Checks one of the allowed `errore` values. */
export function checkErrore<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value !== "string" || !ERRORE_VALUES.has(value) || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${what} must be one of ${allowed.join(", ")} (got ${quoted(value)})`);
  }
  return value as T;
}

// ---------------------------------------------------------------------------------------------
// Dates and identifiers

/**
 * Header fields the builders write themselves (any message type: the address fields,
 * identifiers and every PEC header of spec §3.1). `options.headers` cannot add them: a
 * second From or Subject, or an `X-Trasporto` on a receipt, would change what the
 * message says or which type it reads as.
 */
const BUILDER_FIELDS = new Set([
  "date",
  "from",
  "to",
  "cc",
  "reply-to",
  "subject",
  "message-id",
  ...Object.values(PEC_HEADERS).map((h) => h.toLowerCase()),
]);

/** Checked common options. */
export interface CheckedOptions {
  date: Date;
  data: DatiData;
  timeZone: string;
  digest?: CmsDigest;
  form: "detached" | "opaque";
  headers: (readonly [string, string])[];
  crypto: Crypto;
  messageId?: string;
}

/** Checks {@link PecBuildOptions}, fixes the event instant (whole seconds) and its legal time. */
export function checkOptions(opts: PecBuildOptions | undefined): CheckedOptions {
  const o = opts ?? {};
  if (typeof o !== "object") throw invalid("options must be an object");
  let date: Date;
  if (o.date === undefined) date = new Date();
  else if (o.date instanceof Date && Number.isFinite(o.date.getTime())) date = o.date;
  else throw invalid("options.date must be a valid Date");
  date = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const timeZone = o.timeZone ?? "Europe/Rome";
  if (typeof timeZone !== "string") throw invalid("options.timeZone must be a string");
  refuseInjection(timeZone, "options.timeZone");
  const data = toDatiData(date, timeZone);
  const form = o.form ?? "detached";
  if (form !== "detached" && form !== "opaque") throw invalid('options.form must be "detached" or "opaque"');
  const headers: (readonly [string, string])[] = [];
  if (o.headers !== undefined) {
    if (!isDenseArray(o.headers)) throw invalid("options.headers must be an array of [name, value] pairs");
    for (const h of o.headers) {
      if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== "string" || typeof h[1] !== "string") {
        throw invalid("options.headers must be an array of [name, value] pairs");
      }
      refuseInjection(h, "options.headers");
      const l = h[0].trim().toLowerCase();
      if (l === "mime-version" || l.startsWith("content-")) {
        throw invalid(`options.headers cannot set ${h[0]}: the MIME and signature layer writes the top-level MIME fields`);
      }
      if (BUILDER_FIELDS.has(l)) throw invalid(`options.headers cannot set ${h[0]}: the builder writes it`);
      headers.push([h[0], h[1]]);
    }
  }
  const messageId = o.messageId === undefined ? undefined : bracketMsgId(o.messageId, "options.messageId");
  const crypto = o.crypto ?? globalThis.crypto;
  if (!crypto?.subtle) throw invalid("no WebCrypto available: pass options.crypto");
  return {
    date,
    data,
    timeZone,
    ...(o.digest !== undefined && { digest: o.digest }),
    form,
    headers,
    crypto,
    ...(messageId !== undefined && { messageId }),
  };
}

const DAYS = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * An RFC 5322 date in the legal time the daticert `data` denotes, e.g.
 * `Fri, 15 Mar 2024 10:30:00 +0100` (as gestori write it: local time and offset).
 */
export function rfc5322Date(data: DatiData): string {
  const [dd, mm, yyyy] = data.giorno.split("/").map(Number) as [number, number, number];
  const days = daysFromCivil(yyyy, mm, dd);
  const dow = DAYS[((days % 7) + 7) % 7]!;
  return `${dow}, ${dd} ${MONTHS[mm - 1]!} ${String(yyyy).padStart(4, "0")} ${data.ora} ${data.zona}`;
}

/** `yyyymmddhhmmss` of a daticert `data`. */
function stamp(data: DatiData): string {
  const [dd, mm, yyyy] = data.giorno.split("/") as [string, string, string];
  return yyyy + mm + dd + data.ora.replace(/:/g, "");
}

function randomHex(crypto: Crypto, bytes: number): string {
  return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A fresh Message-ID for a receipt, `@<domain>`, never equal to `identificativo`. */
export function receiptMessageId(domain: string, data: DatiData, crypto: Crypto, identificativo?: string): string {
  for (;;) {
    const id = `postacert.${stamp(data)}.${randomHex(crypto, 8)}@${domain}`;
    if (id !== identificativo) return `<${id}>`;
  }
}

/**
 * A fresh PEC identificativo (the Message-ID a punto di accesso gives the busta),
 * shaped like the OpenPEC-derived ones real gestori write:
 * `opec<random>.<yyyymmddhhmmss>.<random>.1.1@<domain>`. Without angle brackets.
 *
 * @param domain - the sender gestore's PEC domain
 * @param options.date - the acceptance instant (default now)
 * @param options.timeZone - legal time zone of the timestamp (default `Europe/Rome`)
 * @param options.crypto - WebCrypto for the random parts
 * @example
 * ```ts
 * newIdentificativo("pec.alfa.test"); // "opec4f2a9c.20240315103000.8d31e0a2.1.1@pec.alfa.test"
 * ```
 */
export function newIdentificativo(domain: string, options: { date?: Date; timeZone?: string; crypto?: Crypto } = {}): string {
  if (typeof domain !== "string") throw invalid("domain must be a string");
  refuseInjection(domain, "domain");
  if (!DOMAIN.test(domain)) throw invalid(`domain is not a domain name: ${JSON.stringify(domain)}`);
  const crypto = options.crypto ?? globalThis.crypto;
  const date = options.date ?? new Date();
  if (!(date instanceof Date) || !Number.isFinite(date.getTime())) throw invalid("options.date must be a valid Date");
  const data = toDatiData(date, options.timeZone ?? "Europe/Rome");
  return `opec${randomHex(crypto, 3)}.${stamp(data)}.${randomHex(crypto, 4)}.1.1@${domain}`;
}

/** The subject prefix of a type (spec §4.0, from {@link SUBJECT_PREFIXES}), without the ": ". */
export function subjectPrefix(type: PecType, virus: boolean): string {
  const hit = SUBJECT_PREFIXES.find(([, t, v]) => t === type && v === virus);
  if (!hit) throw invalid(`no subject prefix for ${type}${virus ? " (virus)" : ""}`);
  return hit[0];
}

/** Replaces CR, LF and NUL (decoded from a received header or daticert) by spaces. */
export function flattenText(s: string): string {
  return s.replace(/[\r\n\0]/g, " ");
}

// ---------------------------------------------------------------------------------------------
// Header formatting

/** A mailbox to write: an address and an optional display name. */
export interface MailboxInput {
  /** Display name (Unicode). */
  name?: string;
  /** The addr-spec. */
  address: string;
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** RFC 2047 B-words (UTF-8) for a display name, each at most 75 characters, split between code points. */
function encodedWords(text: string): string[] {
  const words: string[] = [];
  let chunk: number[] = [];
  const flush = (): void => {
    if (chunk.length) words.push(`=?UTF-8?B?${encodeBase64(Uint8Array.from(chunk))}?=`);
    chunk = [];
  };
  for (const cp of Array.from(text)) {
    const b = utf8Bytes(cp);
    // 12 characters of "=?UTF-8?B?" + "?=": 63 left, i.e. at most 45 bytes of payload.
    if (chunk.length + b.length > 45) flush();
    for (const x of b) chunk.push(x);
  }
  flush();
  return words;
}

/**
 * A mailbox as a header fragment: `"name" <addr>`, `=?UTF-8?B?…?= <addr>` or `addr`. A name
 * holding "=?" is encoded too, as readers (postacert's included) decode encoded words even
 * inside a quoted string: written plain, "Studio =?UTF-8?Q?x?=" would come back as "Studio x".
 */
export function formatMailbox(m: MailboxInput): string {
  if (m.name === undefined || m.name === "") return m.address;
  const display = isAscii(m.name) && !m.name.includes("=?") ? `"${m.name.replace(/[\\"]/g, "\\$&")}"` : encodedWords(m.name).join(" ");
  return `${display} <${m.address}>`;
}

/**
 * Folds an unfolded header line at spaces so that lines stay within 78 columns where
 * possible, ending with CRLF. Folding inserts CRLF before a space, which unfolding
 * removes again, so it is safe between mailboxes, between encoded words and inside
 * quoted strings (RFC 5322 FWS); addr-specs and encoded words hold no spaces.
 */
export function foldLine(line: string): string {
  const words = line.split(" ");
  let out = "";
  let cur = words[0]!;
  let content = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (content && cur.length + 1 + w.length > 78 && w !== "") {
      out += cur + "\r\n";
      cur = " " + w;
    } else cur += " " + w;
    if (w !== "") content = true;
  }
  return out + cur + "\r\n";
}

/** An address header (From, To, Cc, Reply-To), folded, ending with CRLF. Mailboxes must be checked first. */
export function formatAddressHeader(name: string, mailboxes: readonly MailboxInput[]): string {
  return foldLine(`${name}: ${mailboxes.map(formatMailbox).join(", ")}`);
}

/** A header field to write: formatted by {@link formatHeader}, by the address formatter, or raw bytes. */
export type HeaderSpec =
  | { kind: "text"; name: string; value: string }
  /**
   * A msg-id field (Message-ID, X-Riferimento-Message-ID), checked by bracketMsgId or
   * checkIdentificativo: written as it is. An encoded word is no msg-id, and formatHeader
   * would encode one holding "=?" (legal atext) lest it be read as an encoded word.
   */
  | { kind: "id"; name: string; value: string }
  | { kind: "address"; name: string; mailboxes: MailboxInput[] }
  | { kind: "raw"; bytes: Uint8Array };

/** Serializes header specs to a CRLF header block (without the blank line). */
export function headerBytes(specs: readonly HeaderSpec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of specs) {
    if (s.kind === "raw") parts.push(s.bytes);
    else if (s.kind === "text") parts.push(latin1Bytes(formatHeader(s.name, s.value)));
    else if (s.kind === "id") parts.push(latin1Bytes(`${s.name}: ${s.value}\r\n`));
    else parts.push(latin1Bytes(formatAddressHeader(s.name, s.mailboxes)));
  }
  return concatBytes(parts);
}

/** Bytes `[start, end)` of a message to replace with `bytes` (an insertion when start = end). */
export interface ByteEdit {
  start: number;
  end: number;
  bytes: Uint8Array;
}

/**
 * `original` with `edits` applied, every byte outside them kept as it is (edits must not
 * overlap; they may come in any order, and `edits` is sorted in place).
 */
export function applyEdits(original: Uint8Array, edits: ByteEdit[]): Uint8Array {
  edits.sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const e of edits) {
    out.push(original.subarray(at, e.start), e.bytes);
    at = e.end;
  }
  out.push(original.subarray(at));
  return concatBytes(out);
}

// ---------------------------------------------------------------------------------------------
// Bodies and signing

/**
 * True when every code point fits ISO-8859-1 and reads back as itself. The C1 range
 * (U+0080–U+009F) does not: readers decode a label of iso-8859-1 as windows-1252 (the
 * WHATWG Encoding Standard, postacert's own included), where 0x85 is "…" and 0x92 "’".
 */
function fitsLatin1(s: string): boolean {
  return /^[\x00-\x7f\xa0-\xff]*$/.test(s);
}

/**
 * A text leaf: ISO-8859-1 and quoted-printable as the rules ask (spec §3.4), or UTF-8
 * when the text holds characters ISO-8859-1 lacks (a subject with `€` or emoji), so
 * nothing is lost.
 */
export function textLeaf(mimeType: "text/plain" | "text/html", text: string): MimeNode {
  const crlf = text.replace(/\r\n|\r|\n/g, "\r\n");
  const latin = fitsLatin1(crlf);
  return {
    headers: [
      ["Content-Type", `${mimeType}; charset="${latin ? "iso-8859-1" : "utf-8"}"`],
      ["Content-Disposition", "inline"],
    ],
    body: latin ? latin1Bytes(crlf) : utf8Bytes(crlf),
    transferEncoding: "quoted-printable",
  };
}

/** The `daticert.xml` part: application/xml, UTF-8, base64, inline with file name (as Aruba writes it). */
export function daticertLeaf(model: Daticert): MimeNode {
  return {
    headers: [
      ["Content-Type", `application/xml; charset="UTF-8"; name="${DATICERT_FILENAME}"`],
      ["Content-Disposition", `inline; filename="${DATICERT_FILENAME}"`],
    ],
    // The builders already dropped what XML 1.0 cannot carry from the values they take out
    // of messages (subject, errore esteso), so that BuiltPec.daticert is what is written;
    // this is the last guard for the rest.
    body: buildDaticertBytes(model, { invalidCharacters: "drop" }),
    transferEncoding: "base64",
  };
}

/** The 7bit / 8bit / binary label a message/rfc822 body of these bytes needs. */
export function rfc822Encoding(bytes: Uint8Array): "7bit" | "8bit" | "binary" {
  let high = false;
  let lineStart = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0) return "binary";
    if (b >= 0x80) high = true;
    else if (b === 10) {
      if (i - lineStart > 999) return "binary";
      lineStart = i + 1;
    }
  }
  if (bytes.length - lineStart > 998) return "binary";
  return high ? "8bit" : "7bit";
}

/** The `postacert.eml` part: message/rfc822 holding `message` byte for byte. */
export function postacertLeaf(message: Uint8Array): MimeNode {
  return {
    headers: [
      ["Content-Type", `message/rfc822; name="${POSTACERT_FILENAME}"`],
      ["Content-Disposition", `inline; filename="${POSTACERT_FILENAME}"`],
    ],
    transferEncoding: rfc822Encoding(message),
    children: [{ raw: message }],
  };
}

/**
 * Converts bare LF and bare CR line breaks to CRLF, as SMTP transport does; returns the
 * input itself when it is already canonical. Signed content must be CRLF throughout.
 */
export function toCrlf(bytes: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 13) {
      if (bytes[i + 1] === 10) i++;
      else bare++;
    } else if (b === 10) bare++;
  }
  if (bare === 0) return bytes;
  const out = new Uint8Array(bytes.length + bare);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 13) {
      out[o++] = 13;
      out[o++] = 10;
      if (bytes[i + 1] === 10) i++;
    } else if (b === 10) {
      out[o++] = 13;
      out[o++] = 10;
    } else out[o++] = b;
  }
  return out;
}

/**
 * Builds the signed message: the `multipart/mixed` content (human-readable
 * `multipart/alternative` first, then the other parts), signed with the gestore's key
 * (signingTime = the event instant), preceded by the given header block.
 */
export async function signAndAssemble(
  info: SignerInfo,
  o: CheckedOptions,
  headers: readonly HeaderSpec[],
  body: { text: string; html: string; parts: MimeNode[] },
): Promise<Uint8Array> {
  const content = buildMime({
    headers: [["Content-Type", "multipart/mixed"]],
    children: [
      {
        headers: [["Content-Type", "multipart/alternative"]],
        children: [textLeaf("text/plain", body.text), textLeaf("text/html", body.html)],
      },
      ...body.parts,
    ],
  });
  const extra: HeaderSpec[] = o.headers.map(([name, value]) => ({ kind: "text", name, value }));
  const head = headerBytes([...headers, ...extra]);
  const signed = await signSmime(content, info.signer, {
    form: o.form,
    signingTime: o.date,
    crypto: o.crypto,
    ...(o.digest !== undefined && { digest: o.digest }),
  });
  return concatBytes([head, signed]);
}
