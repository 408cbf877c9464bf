/**
 * Envelopes: the busta di trasporto (sender's gestore) and the busta di anomalia
 * (recipient's gestore).
 *
 * @module
 */
import type { Daticert } from "../../daticert/index.js";
import { decodeHeaderValue, parseMime } from "../../mime/index.js";
import type { MimeEntity, MimeHeader } from "../../mime/index.js";
import { concatBytes, latin1Bytes } from "../../util/bytes.js";
import { firstMailboxOf, mailboxesOf } from "../address.js";
import { FROM_DISPLAY_PREFIX, PEC_HEADERS } from "../constants.js";
import {
  type BuiltPec,
  type HeaderSpec,
  type PecBuildOptions,
  type PecSigner,
  type PecTransaction,
  checkAddress,
  checkOptions,
  checkSigner,
  checkText,
  checkTransaction,
  daticertLeaf,
  intestazioneOf,
  invalid,
  postacertLeaf,
  receiptMessageId,
  refuseInjection,
  rfc5322Date,
  flattenText,
  signAndAssemble,
  subjectPrefix,
  toCrlf,
} from "./common.js";
import { preparedOriginal } from "./original.js";
import { isDenseArray } from "../../util/arrays.js";
import { anomaliaBody, bustaBody, renderBody } from "./texts.js";

/** The raw bytes of a header field, ending with CRLF (the message was canonicalised). */
function rawField(h: MimeHeader): HeaderSpec {
  const r = h.raw;
  return { kind: "raw", bytes: r[r.length - 1] === 10 ? r : concatBytes([r, latin1Bytes("\r\n")]) };
}

/** Trace fields (`Return-Path`, `Received`) of a message, inherited unchanged by envelopes. */
function traceFields(root: MimeEntity): HeaderSpec[] {
  return root.headers.filter((h) => h.lname === "return-path" || h.lname === "received").map(rawField);
}

function fields(root: MimeEntity, lname: string): HeaderSpec[] {
  return root.headers.filter((h) => h.lname === lname).map(rawField);
}

/** Options of {@link buildBusta}. */
export interface BustaOptions extends PecBuildOptions {
  /**
   * The original message: as submitted, or already edited by {@link prepareOriginal}
   * (it is prepared here when its Message-ID is not the identificativo). Bare LF line
   * breaks become CRLF, as SMTP transport would make them. Its Message-ID, when it has
   * one, must be the transaction's msgid or identificativo, and without one its Subject, when
   * it has one, the transaction's subject: the original of another sending is refused
   * (`ERR_INVALID_ARGUMENT`).
   */
  original: Uint8Array;
}

/**
 * Builds a busta di trasporto (spec §4.1): `X-Trasporto: posta-certificata`,
 * `Subject: POSTA CERTIFICATA: <subject>`, `From: "Per conto di: <sender>"
 * <posta-certificata@G>`, `Message-ID: <identificativo>`, `X-Riferimento-Message-ID`,
 * `X-TipoRicevuta` (always written: the requested type, default `completa`), the
 * original's `To`, `Cc`, `Reply-To`, `Received` and `Return-Path` fields copied byte for
 * byte (`Reply-To` created from the original `From` when absent; `To`/`Cc` written from
 * the transaction when the original has neither); body text, `daticert.xml`
 * (`posta-certificata`, with `<ricevuta>`) and `postacert.eml`; signed by the sender's
 * gestore.
 *
 * @throws PecError `ERR_HEADER_INJECTION` for CR/LF/NUL in any input string;
 * `ERR_INVALID_ARGUMENT` for invalid input
 * @example
 * ```ts
 * declare function send(to: string[], message: Uint8Array): Promise<void>; // an SMTP client
 * const tx = transactionFromOriginal(original, { identificativo: newIdentificativo(alfa.domain) });
 * const busta = await buildBusta(alfa, tx, { original });
 * await send(busta.to, busta.bytes);
 * ```
 */
export async function buildBusta(signer: PecSigner, tx: PecTransaction, options: BustaOptions): Promise<BuiltPec> {
  const info = checkSigner(signer);
  const t = checkTransaction(tx);
  const o = checkOptions(options);
  if (!(options?.original instanceof Uint8Array)) throw invalid("options.original must be the original message bytes");
  const original = preparedOriginal(options.original, t, "options.original");
  const root = parseMime(original);
  const ricevuta = t.ricevuta ?? "completa";
  const subject = `${subjectPrefix("posta-certificata", false)}: ${t.subject}`;
  const messageId = `<${t.identificativo}>`;

  let replyTo = fields(root, "reply-to");
  if (replyTo.length === 0) {
    const from = firstMailboxOf(root.header("from"))?.address;
    let address = t.sender;
    if (from !== undefined) {
      try {
        address = checkAddress(from, "the original's From");
      } catch {
        // An unwritable From: use the certified sender instead.
      }
    }
    replyTo = [{ kind: "address", name: "Reply-To", mailboxes: [{ address }] }];
  }
  let toCc = root.headers.filter((h) => h.lname === "to" || h.lname === "cc").map(rawField);
  if (toCc.length === 0) {
    const to = t.recipients.filter((r) => r.field !== "cc").map((r) => ({ address: r.address }));
    const cc = t.recipients.filter((r) => r.field === "cc").map((r) => ({ address: r.address }));
    toCc = [
      ...(to.length ? [{ kind: "address" as const, name: "To", mailboxes: to }] : []),
      ...(cc.length ? [{ kind: "address" as const, name: "Cc", mailboxes: cc }] : []),
    ];
  }
  const headers: HeaderSpec[] = [
    ...traceFields(root),
    { kind: "text", name: "Date", value: rfc5322Date(o.data) },
    { kind: "address", name: "From", mailboxes: [{ name: `${FROM_DISPLAY_PREFIX} ${t.sender}`, address: info.email }] },
    ...replyTo,
    ...toCc,
    { kind: "id", name: "Message-ID", value: messageId },
    { kind: "text", name: "Subject", value: subject },
    { kind: "text", name: PEC_HEADERS.TRASPORTO, value: "posta-certificata" },
    { kind: "text", name: PEC_HEADERS.TIPO_RICEVUTA, value: ricevuta },
    ...(t.msgid !== undefined ? [{ kind: "id" as const, name: PEC_HEADERS.RIFERIMENTO_MESSAGE_ID, value: t.msgid }] : []),
  ];
  const daticert: Daticert = {
    tipo: "posta-certificata",
    errore: "nessuno",
    intestazione: intestazioneOf(t),
    dati: {
      gestoreEmittente: info.name,
      data: o.data,
      identificativo: t.identificativo,
      ...(t.msgid !== undefined && { msgid: t.msgid }),
      ricevuta,
      ricezione: [],
    },
  };
  const body = renderBody(
    bustaBody({ data: o.data, subject: t.subject, sender: t.sender, identificativo: t.identificativo }, t.recipients.map((r) => r.address)),
  );
  const bytes = await signAndAssemble(info, o, headers, { ...body, parts: [daticertLeaf(daticert), postacertLeaf(original)] });
  return {
    bytes,
    type: "posta-certificata",
    virus: false,
    ricevuta,
    messageId,
    from: info.email,
    to: t.recipients.map((r) => r.address),
    subject,
    daticert,
    date: o.date,
  };
}

/**
 * How a busta di anomalia shows the null sender of a bounce (`MAIL FROM:<>`, `From: <>`):
 * `"Per conto di: MAILER-DAEMON"`. UNCONFIRMED: the spec (§4.2, §11 item 23) only says
 * Internet bounces from MAILER-DAEMON arrive as `ANOMALIA MESSAGGIO: …`, not how the
 * null sender is written; MAILER-DAEMON is the name bounces go by.
 */
const NULL_SENDER = "MAILER-DAEMON";

/** Options of {@link buildAnomalia}. */
export interface AnomaliaOptions extends PecBuildOptions {
  /** The message as received (ordinary mail, or a PEC that failed the checks). Bare LF becomes CRLF. */
  received: Uint8Array;
  /**
   * Why it is not certified, e.g. `la firma digitale del messaggio non risulta
   * attendibile` or `messaggio di posta ordinaria`. Written after "Tali dati non sono
   * stati certificati per il seguente errore:".
   */
  reason: string;
  /**
   * The SMTP `MAIL FROM`, shown as the original sender (it wins over the received
   * `From`). `""` is the null reverse-path of a bounce (`MAIL FROM:<>`): the sender is
   * then shown as `MAILER-DAEMON` and no `Reply-To` is created. Default: the received
   * `From`; a `From: <>` counts as the null sender, and a `From` postacert cannot write
   * as an address (non-ASCII, no domain) is shown as written, without a `Reply-To` made
   * from it. A received message without `From` needs this option.
   */
  sender?: string;
  /** The SMTP `RCPT TO` of the recipients in this gestore (returned as `to`). Default: the received `To` and `Cc`. */
  recipients?: readonly string[];
}

/**
 * Builds a busta di anomalia (spec §4.2), emitted by the recipient's gestore around a
 * message that is not a valid PEC: `X-Trasporto: errore`, `Subject: ANOMALIA MESSAGGIO:
 * <subject>`, `From: "Per conto di: <sender>" <posta-certificata@G>`, the received
 * `Message-ID`, `To`, `Cc`, `Reply-To`, `Received`, `Return-Path` inherited byte for byte
 * (`Reply-To` created from the sender when absent and the sender is a writable address;
 * a Message-ID generated at the gestore's domain only when the received message has
 * none); a bounce's null sender is shown as `MAILER-DAEMON`; body text and the received message
 * as `postacert.eml` (file name UNCONFIRMED); **no** daticert.xml.
 *
 * @throws PecError `ERR_HEADER_INJECTION` for CR/LF/NUL in any input string;
 * `ERR_INVALID_ARGUMENT` for invalid input (e.g. no `From` and no `options.sender`)
 * @example
 * ```ts
 * const ordinaryMail = composeMessage({ from: "info@azienda.example", to: "anna.bianchi@pec.beta.test", subject: "Preventivo", text: "Buongiorno" });
 * const anomalia = await buildAnomalia(beta, { received: ordinaryMail, reason: "messaggio di posta ordinaria" });
 * ```
 */
export async function buildAnomalia(signer: PecSigner, options: AnomaliaOptions): Promise<BuiltPec> {
  const info = checkSigner(signer);
  if (typeof options !== "object" || options === null) throw invalid("buildAnomalia needs { received, reason }");
  refuseInjection({ reason: options.reason, sender: options.sender, recipients: options.recipients }, "options");
  const o = checkOptions(options);
  if (!(options.received instanceof Uint8Array)) throw invalid("options.received must be the received message bytes");
  const reason = checkText(options.reason, "options.reason", { nonEmpty: true });
  const received = toCrlf(options.received);
  const root = parseMime(received);
  const dec = (name: string): string | undefined => {
    const v = root.header(name);
    return v === undefined ? undefined : decodeHeaderValue(v).trim();
  };
  // The sender as shown (From display name, body) and, when it is a writable address,
  // the Reply-To to create.
  let shown: string;
  let address: string | undefined;
  if (options.sender === "") shown = NULL_SENDER;
  else if (options.sender !== undefined) shown = address = checkAddress(options.sender, "options.sender");
  else {
    const fromValue = dec("from");
    if (fromValue === undefined || fromValue === "") {
      throw invalid('the received message has no From: pass options.sender (the SMTP MAIL FROM, "" for the null sender of a bounce)');
    }
    const from = firstMailboxOf(root.header("from"))?.address;
    if (from === undefined) shown = /<\s*>/.test(fromValue) ? NULL_SENDER : flattenText(fromValue);
    else {
      try {
        shown = address = checkAddress(from, "the received From");
      } catch {
        // Not an address postacert can write (non-ASCII, no domain): the gestore still
        // delivers the message (spec §4.2) and shows the sender as written.
        shown = flattenText(from);
      }
    }
  }
  const headerRecipients: string[] = [];
  for (const f of ["to", "cc"]) for (const v of root.headerAll(f)) for (const m of mailboxesOf(v)) headerRecipients.push(m.address);
  if (options.recipients !== undefined && !isDenseArray(options.recipients)) throw invalid("options.recipients must be an array of addresses");
  const to = options.recipients === undefined ? headerRecipients : options.recipients.map((r, i) => checkAddress(r, `options.recipients[${i}]`));
  // Refused here too: a received header could hide a NUL, and the subject is re-written.
  const subjectIn = flattenText(dec("subject") ?? "");
  const subject = `${subjectPrefix("anomalia", false)}: ${subjectIn}`;
  const ids = fields(root, "message-id");
  const ownId = root.header("message-id")?.trim();
  let messageId: string;
  let idSpec: HeaderSpec[];
  if (ids.length > 0 && ownId) {
    messageId = ownId;
    idSpec = ids.slice(0, 1);
  } else {
    messageId = o.messageId ?? receiptMessageId(info.domain, o.data, o.crypto);
    idSpec = [{ kind: "id", name: "Message-ID", value: messageId }];
  }
  let replyTo = fields(root, "reply-to");
  if (replyTo.length === 0 && address !== undefined) replyTo = [{ kind: "address", name: "Reply-To", mailboxes: [{ address }] }];
  const headers: HeaderSpec[] = [
    ...traceFields(root),
    { kind: "text", name: "Date", value: rfc5322Date(o.data) },
    { kind: "address", name: "From", mailboxes: [{ name: `${FROM_DISPLAY_PREFIX} ${shown}`, address: info.email }] },
    ...replyTo,
    ...root.headers.filter((h) => h.lname === "to" || h.lname === "cc").map(rawField),
    ...idSpec,
    { kind: "text", name: "Subject", value: subject },
    { kind: "text", name: PEC_HEADERS.TRASPORTO, value: "errore" },
  ];
  const body = renderBody(anomaliaBody(o.data, subjectIn, shown, headerRecipients, reason));
  const bytes = await signAndAssemble(info, o, headers, { ...body, parts: [postacertLeaf(received)] });
  return {
    bytes,
    type: "anomalia",
    virus: false,
    messageId: bracketMsgIdLenient(messageId),
    from: info.email,
    to,
    subject,
    date: o.date,
  };
}

/** The inherited Message-ID as written (angle brackets added when the received one lacks them). */
function bracketMsgIdLenient(id: string): string {
  const t = id.trim();
  return (t.startsWith("<") && t.endsWith(">")) || /[\s<>]/.test(t) ? t : `<${t}>`;
}
