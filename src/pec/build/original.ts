/**
 * The user's original message: composing one (tests, simulator), the punto di accesso's
 * edit (Message-ID → identificativo, `X-Riferimento-Message-ID`), and the transaction
 * facts read from it.
 *
 * @module
 */
import { toDatiData } from "../../daticert/index.js";
import type { RicevutaTipo } from "../../daticert/index.js";
import { PecError } from "../../errors.js";
import { buildMime, decodeHeaderValue, formatParams, parseMime, sanitizeFileName } from "../../mime/index.js";
import type { MimeEntity, MimeNode } from "../../mime/index.js";
import { concatBytes, latin1Bytes, toHex, utf8Bytes } from "../../util/bytes.js";
import { firstMailboxOf, mailboxesOf, normalizeMsgId } from "../address.js";
import { readPec } from "../read.js";
import type { ReadPec } from "../types.js";
import { isDenseArray } from "../../util/arrays.js";
import { squash } from "../../util/text.js";
import {
  type ByteEdit,
  type HeaderSpec,
  type MailboxInput,
  type PecTransaction,
  type PecTransactionRecipient,
  applyEdits,
  bracketMsgId,
  checkAddress,
  checkIdentificativo,
  checkText,
  flattenText,
  headerBytes,
  invalid,
  refuseInjection,
  rfc5322Date,
  toCrlf,
} from "./common.js";

// ---------------------------------------------------------------------------------------------
// prepareOriginal

/** Options of {@link prepareOriginal}. */
export interface PrepareOriginalOptions {
  /** The PEC identificativo (without angle brackets) that becomes the Message-ID. */
  identificativo: string;
}

function eolOf(field: Uint8Array | undefined): Uint8Array {
  if (field && field.length >= 2 && field[field.length - 2] === 13 && field[field.length - 1] === 10) return latin1Bytes("\r\n");
  if (field && field.length >= 1 && field[field.length - 1] === 10) return latin1Bytes("\n");
  return latin1Bytes("\r\n");
}

/**
 * The punto di accesso's edit of the original message (spec §3.3, §4.1): its
 * `Message-ID` is replaced by `<identificativo>` (in place; added at the end of the
 * header block when missing) and `X-Riferimento-Message-ID` carrying the old Message-ID
 * is added at the end of the header block, as Aruba does. Any earlier
 * `X-Riferimento-Message-ID` is removed. Only header bytes change: the body is kept byte
 * for byte, and the added lines use the header block's own line ending.
 *
 * A message whose Message-ID already is `<identificativo>` is returned unchanged.
 *
 * @throws PecError `ERR_HEADER_INJECTION` for CR/LF/NUL in the identificativo;
 * `ERR_INVALID_ARGUMENT` for a malformed identificativo; `ERR_MIME_MALFORMED` and the
 * parser's limits for unreadable input
 * @example
 * ```ts
 * const prepared = prepareOriginal(original, { identificativo: "opec1.20240315103000.1.1@pec.alfa.test" });
 * ```
 */
export function prepareOriginal(original: Uint8Array, options: PrepareOriginalOptions): Uint8Array {
  if (!(original instanceof Uint8Array)) throw invalid("original must be the message bytes (Uint8Array)");
  if (typeof options !== "object" || options === null) throw invalid("prepareOriginal needs { identificativo }");
  const identificativo = checkIdentificativo(options.identificativo);
  const root = parseMime(original);
  const fields = root.headers.filter((h) => h.name !== "");
  const ids = fields.filter((h) => h.lname === "message-id");
  const oldId = ids[0]?.value.trim();
  if (oldId !== undefined && normalizeMsgId(oldId) === normalizeMsgId(identificativo) && ids.length === 1) return original;

  const eol = eolOf(fields[0]?.raw);
  const enc = (s: string): Uint8Array => concatBytes([latin1Bytes(s), eol]);
  const edits: ByteEdit[] = [];
  ids.forEach((h, i) => edits.push({ start: h.start, end: h.end, bytes: i === 0 ? enc(`Message-ID: <${identificativo}>`) : new Uint8Array(0) }));
  for (const h of fields) if (h.lname === "x-riferimento-message-id") edits.push({ start: h.start, end: h.end, bytes: new Uint8Array(0) });

  const added: Uint8Array[] = [];
  if (ids.length === 0) added.push(enc(`Message-ID: <${identificativo}>`));
  if (oldId !== undefined && oldId !== "") {
    // The old id is copied byte for byte (folding included) from the Message-ID field.
    const raw = ids[0]!.raw;
    const colon = raw.indexOf(0x3a);
    let end = raw.length;
    if (raw[end - 1] === 10) end--;
    if (raw[end - 1] === 13) end--;
    const value = raw.subarray(colon + 1, end);
    const space = value[0] === 0x20 || value[0] === 0x09 || value[0] === 13 || value[0] === 10 ? "" : " ";
    added.push(concatBytes([latin1Bytes(`X-Riferimento-Message-ID:${space}`), value, eol]));
  }
  const last = root.headers[root.headers.length - 1];
  const insertAt = last ? last.end : root.headerStart;
  const lastEdited = last !== undefined && (last.lname === "message-id" || last.lname === "x-riferimento-message-id");
  if (last && !lastEdited && last.raw[last.raw.length - 1] !== 10) added.unshift(eol);
  edits.push({ start: insertAt, end: insertAt, bytes: concatBytes(added) });

  return applyEdits(original, edits);
}

/** Whether the message's Message-ID is `<identificativo>`. */
export function isPrepared(root: MimeEntity, identificativo: string): boolean {
  return normalizeMsgId(root.header("message-id")) === normalizeMsgId(identificativo);
}

/**
 * Refuses an original that belongs to another sending: its Message-ID must be the
 * transaction's identificativo (already prepared) or the client's msgid (as submitted). An
 * original without a Message-ID (a client may leave it to the gestore) is told by its subject,
 * when it has one: the transaction's subject is the original's.
 */
function checkOriginalOfSending(root: MimeEntity, t: { identificativo: string; msgid?: string | undefined; subject?: string }, what: string): void {
  const own = root.header("message-id")?.trim();
  if (own === undefined || own === "") {
    const subject = root.header("subject");
    if (subject === undefined || t.subject === undefined) return;
    // Flattened as transactionFromOriginal flattens it (a NUL or line break becomes a space).
    const decoded = squash(flattenText(decodeHeaderValue(subject)));
    if (decoded === squash(flattenText(t.subject))) return;
    throw invalid(`${what} belongs to another sending: it has no Message-ID, and its subject ${JSON.stringify(decoded)} is not the transaction's ${JSON.stringify(t.subject)}`);
  }
  const id = normalizeMsgId(own);
  if (id === normalizeMsgId(t.identificativo)) return;
  if (t.msgid !== undefined && id === normalizeMsgId(t.msgid)) return;
  throw invalid(
    `${what} belongs to another sending: its Message-ID ${own} is neither the transaction's identificativo <${t.identificativo}>` +
      (t.msgid !== undefined ? ` nor its msgid ${t.msgid}` : " (and the transaction has no msgid)"),
  );
}

/**
 * The original of this sending as it travels inside a busta: CRLF, prepared when it is not
 * yet. One of another sending is refused ({@link checkOriginalOfSending}), `what` naming it.
 */
export function preparedOriginal(original: Uint8Array, t: { identificativo: string; msgid?: string | undefined; subject?: string }, what: string): Uint8Array {
  const crlf = toCrlf(original);
  const root = parseMime(crlf);
  checkOriginalOfSending(root, t, what);
  return isPrepared(root, t.identificativo) ? crlf : prepareOriginal(crlf, { identificativo: t.identificativo });
}

// ---------------------------------------------------------------------------------------------
// composeMessage

/** An attachment of {@link composeMessage}. */
export interface ComposeAttachment {
  /** File name (Unicode; RFC 2231-encoded when not ASCII). */
  filename: string;
  /** MIME type. Default `application/octet-stream`. `message/rfc822` attaches an e-mail. */
  contentType?: string;
  /** The content (a string is UTF-8). */
  content: Uint8Array | string;
  /** `attachment` (default) or `inline`. */
  disposition?: "attachment" | "inline";
}

/** Input of {@link composeMessage}. */
export interface ComposeMessageInput {
  /** Sender: an address or `{ name, address }`. */
  from: string | MailboxInput;
  /** Primary recipients (at least one, or one Cc). */
  to: string | MailboxInput | readonly (string | MailboxInput)[];
  /** Carbon-copy recipients. */
  cc?: string | MailboxInput | readonly (string | MailboxInput)[];
  /** Reply-To. */
  replyTo?: string | MailboxInput;
  /** Subject (Unicode). */
  subject: string;
  /** Plain-text body. */
  text?: string;
  /** HTML body (with `text`: multipart/alternative). */
  html?: string;
  /** Attachments (make the message multipart/mixed). */
  attachments?: readonly ComposeAttachment[];
  /** Message-ID, with or without angle brackets. Default: a fresh one at the sender's domain. */
  messageId?: string;
  /** Date. Default now. */
  date?: Date;
  /** `X-TipoRicevuta`: the delivery receipt the sender asks for. Default: none (completa). */
  tipoRicevuta?: RicevutaTipo;
  /** More header fields, written after the standard ones (Unicode values). */
  headers?: readonly (readonly [string, string])[];
  /** WebCrypto (random Message-ID and boundaries). Default `globalThis.crypto`. */
  crypto?: Crypto;
}

function mailboxes(v: string | MailboxInput | readonly (string | MailboxInput)[] | undefined, what: string): MailboxInput[] {
  if (v === undefined) return [];
  if (Array.isArray(v) && !isDenseArray(v)) throw invalid(`${what} must be an address, { name, address } or an array of them`);
  const list = Array.isArray(v) ? (v as readonly (string | MailboxInput)[]) : [v as string | MailboxInput];
  return list.map((m, i) => {
    const w = `${what}[${i}]`;
    if (typeof m === "string") return { address: checkAddress(m, w) };
    if (typeof m !== "object" || m === null) throw invalid(`${w} must be an address or { name, address }`);
    const address = checkAddress(m.address, `${w}.address`);
    return m.name === undefined ? { address } : { name: checkText(m.name, `${w}.name`), address };
  });
}

/**
 * Composes a plain RFC 5322 message, as a user's client would submit it: text (and
 * HTML), attachments, `X-TipoRicevuta`. CRLF, base64 attachments, RFC 2047 / RFC 2231
 * for non-ASCII. For tests and the simulator; it is what {@link prepareOriginal} and
 * {@link transactionFromOriginal} take.
 *
 * @throws PecError `ERR_HEADER_INJECTION` for CR/LF/NUL in a header value;
 * `ERR_INVALID_ARGUMENT` for bad addresses or no recipient
 * @example
 * ```ts
 * const original = composeMessage({
 *   from: "mario.rossi@pec.alfa.test", to: ["anna.bianchi@pec.beta.test"], subject: "Offerta",
 *   text: "In allegato l'offerta.",
 *   attachments: [{ filename: "offerta.pdf", contentType: "application/pdf", content: await readFile("offerta.pdf") }],
 * });
 * ```
 */
export function composeMessage(input: ComposeMessageInput): Uint8Array {
  if (typeof input !== "object" || input === null) throw invalid("composeMessage needs an input object");
  refuseInjection({ ...input, attachments: undefined, text: undefined, html: undefined }, "message");
  const from = mailboxes(input.from, "from");
  if (from.length !== 1) throw invalid("from must be one mailbox");
  const to = mailboxes(input.to, "to");
  const cc = mailboxes(input.cc, "cc");
  if (to.length + cc.length === 0) throw invalid("the message needs at least one recipient");
  const replyTo = mailboxes(input.replyTo, "replyTo");
  const subject = checkText(input.subject, "subject");
  const crypto = input.crypto ?? globalThis.crypto;
  const date = input.date ?? new Date();
  if (!(date instanceof Date) || !Number.isFinite(date.getTime())) throw invalid("date must be a valid Date");
  const domain = from[0]!.address.slice(from[0]!.address.lastIndexOf("@") + 1);
  const messageId =
    input.messageId === undefined ? `<${toHex(crypto.getRandomValues(new Uint8Array(12)))}@${domain}>` : bracketMsgId(input.messageId, "messageId");
  if (input.tipoRicevuta !== undefined && !["completa", "breve", "sintetica"].includes(input.tipoRicevuta)) {
    throw invalid("tipoRicevuta must be completa, breve or sintetica");
  }

  const text = input.text === undefined ? undefined : checkBody(input.text, "text");
  const html = input.html === undefined ? undefined : checkBody(input.html, "html");
  const leaves: MimeNode[] = [];
  const textNode = (mime: string, body: string): MimeNode => ({ headers: [["Content-Type", `${mime}; charset=utf-8`]], body });
  if (text !== undefined && html !== undefined) {
    leaves.push({ headers: [["Content-Type", "multipart/alternative"]], children: [textNode("text/plain", text), textNode("text/html", html)] });
  } else if (html !== undefined) leaves.push(textNode("text/html", html));
  else if (text !== undefined || !input.attachments?.length) leaves.push(textNode("text/plain", text ?? ""));
  if (input.attachments !== undefined && !isDenseArray(input.attachments)) throw invalid("attachments must be an array");
  (input.attachments ?? []).forEach((a, i) => leaves.push(attachmentNode(a, i)));

  const head: HeaderSpec[] = [
    { kind: "address", name: "From", mailboxes: from },
    ...(to.length ? [{ kind: "address" as const, name: "To", mailboxes: to }] : []),
    ...(cc.length ? [{ kind: "address" as const, name: "Cc", mailboxes: cc }] : []),
    ...(replyTo.length ? [{ kind: "address" as const, name: "Reply-To", mailboxes: replyTo }] : []),
    { kind: "text", name: "Subject", value: subject },
    { kind: "text", name: "Date", value: rfc5322Date(toDatiData(date)) },
    { kind: "id", name: "Message-ID", value: messageId },
    { kind: "text", name: "MIME-Version", value: "1.0" },
    ...(input.tipoRicevuta !== undefined ? [{ kind: "text" as const, name: "X-TipoRicevuta", value: input.tipoRicevuta }] : []),
  ];
  for (const h of input.headers ?? []) {
    if (!Array.isArray(h) || h.length !== 2) throw invalid("headers must be [name, value] pairs");
    head.push({ kind: "text", name: h[0], value: h[1] });
  }
  const body = leaves.length === 1 ? leaves[0]! : { headers: [["Content-Type", "multipart/mixed"]] as const, children: leaves };
  return concatBytes([headerBytes(head), buildMime(body)]);
}

function checkBody(v: unknown, what: string): string {
  if (typeof v !== "string") throw invalid(`${what} must be a string`);
  return v;
}

function attachmentNode(a: ComposeAttachment, i: number): MimeNode {
  if (typeof a !== "object" || a === null) throw invalid(`attachments[${i}] must be an object`);
  // A receiver may store the attachment under this name: never a path (see sanitizeFileName).
  const filename = sanitizeFileName(checkText(a.filename, `attachments[${i}].filename`, { nonEmpty: true }));
  const type = checkText(a.contentType ?? "application/octet-stream", `attachments[${i}].contentType`, { nonEmpty: true });
  if (!/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/.test(type)) throw invalid(`attachments[${i}].contentType is not a MIME type`);
  const disposition = a.disposition ?? "attachment";
  if (disposition !== "attachment" && disposition !== "inline") throw invalid(`attachments[${i}].disposition must be attachment or inline`);
  const content = typeof a.content === "string" ? utf8Bytes(a.content) : a.content;
  if (!(content instanceof Uint8Array)) throw invalid(`attachments[${i}].content must be bytes or a string`);
  const headers: [string, string][] = [
    ["Content-Type", formatParams(type, { name: filename })],
    ["Content-Disposition", formatParams(disposition, { filename })],
  ];
  if (type.toLowerCase() === "message/rfc822") {
    const msg = toCrlf(content);
    // RFC 2046 §5.2.1: message/rfc822 is 7bit, 8bit or binary; never base64.
    let high = false;
    for (const b of msg) if (b >= 0x80 || b === 0) high = true;
    return { headers, transferEncoding: high ? "8bit" : "7bit", children: [{ raw: msg }] };
  }
  return { headers, body: content, transferEncoding: "base64" };
}

// ---------------------------------------------------------------------------------------------
// Transactions

/** Options of {@link transactionFromOriginal}. */
export interface TransactionFromOriginalOptions {
  /** The PEC identificativo assigned to this sending. */
  identificativo: string;
  /** Whether an address is a PEC mailbox (its domain is in some gestore's `managedDomains`). Default: all are. */
  isCertificato?: (address: string) => boolean;
  /** The SMTP `MAIL FROM`, when it should win over `From:`. */
  sender?: string;
}

/**
 * The transaction facts of an original message: sender (`From`), recipients (`To`, then
 * `Cc`, duplicates dropped, each `certificato` or `esterno` by `isCertificato`),
 * `Reply-To`, subject (decoded), the client's Message-ID (or, when the message was
 * already prepared, its `X-Riferimento-Message-ID`) and `X-TipoRicevuta`.
 *
 * @throws PecError `ERR_INVALID_ARGUMENT` when the message has no usable From or no recipient
 * @example
 * ```ts
 * const tx = transactionFromOriginal(original, {
 *   identificativo: newIdentificativo("pec.alfa.test"),
 *   isCertificato: (a) => a.endsWith("@pec.beta.test"),
 * });
 * ```
 */
export function transactionFromOriginal(original: Uint8Array, options: TransactionFromOriginalOptions): PecTransaction {
  if (!(original instanceof Uint8Array)) throw invalid("original must be the message bytes (Uint8Array)");
  if (typeof options !== "object" || options === null) throw invalid("transactionFromOriginal needs { identificativo }");
  const identificativo = checkIdentificativo(options.identificativo);
  const isCert = options.isCertificato ?? (() => true);
  if (typeof isCert !== "function") throw invalid("isCertificato must be a function");
  const root = parseMime(original);
  const dec = (name: string): string | undefined => {
    const v = root.header(name);
    return v === undefined ? undefined : decodeHeaderValue(v).trim();
  };
  const sender = options.sender !== undefined ? checkAddress(options.sender, "sender") : firstMailboxOf(root.header("from"))?.address;
  if (!sender) throw invalid("the original has no From address");
  checkAddress(sender, "the original's From");
  const recipients: PecTransactionRecipient[] = [];
  const seen = new Set<string>();
  for (const field of ["to", "cc"] as const) {
    for (const v of root.headerAll(field)) {
      for (const m of mailboxesOf(v)) {
        const key = m.address.toLowerCase();
        if (seen.has(key)) continue;
        seen.add(key);
        checkAddress(m.address, `the original's ${field === "to" ? "To" : "Cc"} address`);
        recipients.push({ address: m.address, tipo: isCert(m.address) ? "certificato" : "esterno", field });
      }
    }
  }
  if (recipients.length === 0) throw invalid("the original has no To or Cc recipient");
  const replyTo = firstMailboxOf(root.header("reply-to"))?.address;
  // A decoded subject may hide CR/LF (=0D=0A in an encoded word): flattened, not refused.
  const subject = flattenText(dec("subject") ?? "");
  const ownId = root.header("message-id")?.trim();
  const msgid = isPrepared(root, identificativo) ? root.header("x-riferimento-message-id")?.trim() : ownId;
  const tipo = root.header("x-tiporicevuta")?.trim().toLowerCase();
  const tx: PecTransaction = {
    sender,
    recipients,
    ...(replyTo !== undefined && { replyTo }),
    subject,
    identificativo,
    ...(msgid && { msgid: bracketMsgId(msgid, "the original's Message-ID") }),
    ...((tipo === "completa" || tipo === "breve" || tipo === "sintetica") && { ricevuta: tipo }),
  };
  refuseInjection(tx, "transaction");
  return tx;
}

/**
 * The transaction facts of a PEC message that carries them (a busta di trasporto or any
 * receipt): daticert `intestazione` and identifiers, plus To/Cc from its
 * `postacert.eml` when present. What a recipient's gestore uses to answer a busta.
 *
 * @throws PecError `ERR_NOT_PEC` when the message has no readable daticert
 * @example
 * ```ts
 * const tx = transactionFromBusta(bytes); // a busta di trasporto received
 * const receipt = await buildAvvenutaConsegna(beta, tx, { consegna: "anna@pec.beta.test", original: bytes });
 * ```
 */
export function transactionFromBusta(busta: Uint8Array | ReadPec): PecTransaction {
  const pec = busta instanceof Uint8Array ? readPec(busta) : busta;
  const d = pec.daticert;
  if (!d) throw new PecError("ERR_NOT_PEC", "the message carries no readable daticert.xml");
  const fields = new Map<string, "to" | "cc">();
  const orig = pec.original;
  if (orig) {
    for (const a of orig.to) if (!fields.has(a.toLowerCase())) fields.set(a.toLowerCase(), "to");
    for (const a of orig.cc) if (!fields.has(a.toLowerCase())) fields.set(a.toLowerCase(), "cc");
  }
  const ricevuta = pec.type === "posta-certificata" ? d.dati.ricevuta : undefined;
  return {
    sender: d.intestazione.mittente,
    recipients: d.intestazione.destinatari.map((r) => {
      const field = fields.get(r.address.toLowerCase());
      return { address: r.address, tipo: r.tipo, ...(field && { field }) };
    }),
    replyTo: d.intestazione.risposte,
    subject: flattenText(d.intestazione.oggetto ?? ""),
    identificativo: d.dati.identificativo,
    ...(d.dati.msgid !== undefined && { msgid: d.dati.msgid }),
    ...(ricevuta !== undefined && { ricevuta }),
  };
}
