/**
 * Receipts (ricevute) and notices (avvisi): every message with `X-Ricevuta`.
 *
 * @module
 */
import type { Daticert, DaticertErrore, RicevutaTipo } from "../../daticert/index.js";
import { dropXmlIllegal } from "../../daticert/sanitize.js";
import type { MimeNode } from "../../mime/index.js";
import { parseMime } from "../../mime/index.js";
import { normalizeMsgId } from "../address.js";
import { PEC_HEADERS } from "../constants.js";
import type { XRicevuta } from "../constants.js";
import { readPec } from "../read.js";
import { brevify } from "./breve.js";
import {
  type BreveHash,
  type BuiltPec,
  type CheckedOptions,
  type CheckedTransaction,
  type HeaderSpec,
  type PecBuildOptions,
  type PecSigner,
  type PecTransaction,
  type SignerInfo,
  checkAddress,
  checkErrore,
  checkOptions,
  checkRecipientOf,
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
  signAndAssemble,
  subjectPrefix,
} from "./common.js";
import { preparedOriginal } from "./original.js";
import {
  type BodyFacts,
  type BodyModel,
  accettazioneBody,
  consegnaBody,
  erroreConsegnaBody,
  nonAccettazioneBody,
  presaInCaricoBody,
  renderBody,
  rilevazioneVirusBody,
  timeoutBody,
} from "./texts.js";
import { isDenseArray } from "../../util/arrays.js";

interface ReceiptSpec {
  info: SignerInfo;
  o: CheckedOptions;
  t: CheckedTransaction;
  type: XRicevuta;
  virus: boolean;
  prefix: string;
  /** Addressee: the sender, or a gestore's service mailbox. */
  to: string;
  errore: DaticertErrore;
  dati: { ricevuta?: RicevutaTipo; consegna?: string; ricezione?: string[]; erroreEsteso?: string };
  body: BodyModel;
  /** PEC headers after X-Ricevuta / X-Riferimento-Message-ID. */
  extra?: HeaderSpec[];
  parts?: MimeNode[];
  timeout?: "preavviso" | "scadenza";
  hashes?: BreveHash[];
}

function facts(s: { o: CheckedOptions; t: CheckedTransaction }): BodyFacts {
  return { data: s.o.data, subject: s.t.subject, sender: s.t.sender, identificativo: s.t.identificativo };
}

/** Common skeleton: headers, daticert, body, signature. */
async function buildReceipt(s: ReceiptSpec): Promise<BuiltPec> {
  const { info, o, t } = s;
  const messageId = o.messageId ?? receiptMessageId(info.domain, o.data, o.crypto, t.identificativo);
  if (normalizeMsgId(messageId) === normalizeMsgId(t.identificativo)) {
    throw invalid("a receipt's Message-ID must differ from the identificativo (spec §3.3)");
  }
  const subject = `${s.prefix}: ${t.subject}`;
  const headers: HeaderSpec[] = [
    { kind: "text", name: "Date", value: rfc5322Date(o.data) },
    { kind: "address", name: "From", mailboxes: [{ address: info.email }] },
    { kind: "address", name: "To", mailboxes: [{ address: s.to }] },
    { kind: "id", name: "Message-ID", value: messageId },
    { kind: "text", name: "Subject", value: subject },
    { kind: "text", name: PEC_HEADERS.RICEVUTA, value: s.type },
    ...(t.msgid !== undefined ? [{ kind: "id" as const, name: PEC_HEADERS.RIFERIMENTO_MESSAGE_ID, value: t.msgid }] : []),
    ...(s.extra ?? []),
  ];
  const daticert: Daticert = {
    tipo: s.type,
    errore: s.errore,
    intestazione: intestazioneOf(t),
    dati: {
      gestoreEmittente: info.name,
      data: o.data,
      identificativo: t.identificativo,
      ...(t.msgid !== undefined && { msgid: t.msgid }),
      ...(s.dati.ricevuta !== undefined && { ricevuta: s.dati.ricevuta }),
      ...(s.dati.consegna !== undefined && { consegna: s.dati.consegna }),
      ricezione: s.dati.ricezione ?? [],
      ...(s.dati.erroreEsteso !== undefined && { erroreEsteso: dropXmlIllegal(s.dati.erroreEsteso) }),
    },
  };
  const body = renderBody(s.body);
  const bytes = await signAndAssemble(info, o, headers, { ...body, parts: [daticertLeaf(daticert), ...(s.parts ?? [])] });
  return {
    bytes,
    type: s.type,
    virus: s.virus,
    ...(s.dati.ricevuta !== undefined && { ricevuta: s.dati.ricevuta }),
    ...(s.timeout !== undefined && { timeout: s.timeout }),
    messageId,
    from: info.email,
    to: [s.to],
    subject,
    daticert,
    date: o.date,
    ...(s.hashes !== undefined && { hashes: s.hashes }),
  };
}

function setup(signer: PecSigner, tx: PecTransaction, options: unknown, required = true): { info: SignerInfo; t: CheckedTransaction; o: CheckedOptions } {
  const info = checkSigner(signer);
  const t = checkTransaction(tx);
  if ((required || options !== undefined) && (typeof options !== "object" || options === null)) throw invalid("options must be an object");
  const o = checkOptions(options as PecBuildOptions | undefined);
  return { info, t, o };
}

function optionalText(v: unknown, what: string): string | undefined {
  return v === undefined ? undefined : checkText(v, what, { nonEmpty: true });
}

// ---------------------------------------------------------------------------------------------

/**
 * Builds a ricevuta di accettazione (spec §4.3): `X-Ricevuta: accettazione`,
 * `Subject: ACCETTAZIONE: <subject>`, from `posta-certificata@G1` to the sender; body
 * listing each recipient as "posta certificata" or "posta ordinaria"; `daticert.xml`
 * (`accettazione`, no `<ricevuta>`, as real ones). Signed by the sender's gestore.
 *
 * @example
 * ```ts
 * const ricevuta = await buildAccettazione(alfa, tx, { date: new Date("2026-03-16T09:30:00Z") });
 * ```
 */
export async function buildAccettazione(signer: PecSigner, tx: PecTransaction, options?: PecBuildOptions): Promise<BuiltPec> {
  const { info, t, o } = setup(signer, tx, options, false);
  return buildReceipt({
    info,
    o,
    t,
    type: "accettazione",
    virus: false,
    prefix: subjectPrefix("accettazione", false),
    to: t.sender,
    errore: "nessuno",
    dati: {},
    body: accettazioneBody(facts({ o, t }), t.recipients),
  });
}

/** Options of {@link buildNonAccettazione}. */
export interface NonAccettazioneOptions extends PecBuildOptions {
  /**
   * `altro` (formal error, default: UNCONFIRMED, the rules fix no value) or `virus`
   * (avviso di non accettazione per virus: `X-VerificaSicurezza: errore`).
   */
  errore?: "altro" | "virus";
  /**
   * The error description (daticert `errore-esteso` and body), e.g. `Il campo Bcc non
   * deve contenere valori` or the virus name. Default: a generic Italian description.
   */
  erroreEsteso?: string;
}

/**
 * Builds an avviso di non accettazione (spec §4.4, §4.5): `X-Ricevuta:
 * non-accettazione`, `Subject: AVVISO DI NON ACCETTAZIONE: <subject>` (or `… PER
 * VIRUS: …` with `X-VerificaSicurezza: errore`), to the sender; `daticert.xml` with
 * `errore` `altro` / `virus` and `errore-esteso`; never the original message.
 *
 * @example
 * ```ts
 * await buildNonAccettazione(alfa, tx, { erroreEsteso: "Il campo Bcc non deve contenere valori" });
 * await buildNonAccettazione(alfa, tx, { errore: "virus", erroreEsteso: "Eicar-Test-Signature" });
 * ```
 */
export async function buildNonAccettazione(signer: PecSigner, tx: PecTransaction, options?: NonAccettazioneOptions): Promise<BuiltPec> {
  const { info, t, o } = setup(signer, tx, options, false);
  refuseInjection({ errore: options?.errore, erroreEsteso: options?.erroreEsteso }, "options");
  const errore = checkErrore(options?.errore ?? "altro", ["altro", "virus"] as const, "options.errore");
  const virus = errore === "virus";
  const erroreEsteso =
    optionalText(options?.erroreEsteso, "options.erroreEsteso") ?? (virus ? "Virus rilevato nel messaggio" : "Il messaggio non ha superato i controlli formali");
  return buildReceipt({
    info,
    o,
    t,
    type: "non-accettazione",
    virus,
    prefix: subjectPrefix("non-accettazione", virus),
    to: t.sender,
    errore,
    dati: { erroreEsteso },
    body: nonAccettazioneBody(facts({ o, t }), t.recipients.map((r) => r.address), virus, erroreEsteso),
    ...(virus && { extra: [{ kind: "text" as const, name: PEC_HEADERS.VERIFICA_SICUREZZA, value: "errore" }] }),
  });
}

/** Options of {@link buildPresaInCarico}. */
export interface PresaInCaricoOptions extends PecBuildOptions {
  /** The recipients of this gestore the notice covers (daticert `<ricezione>`), at least one. */
  ricezione: readonly string[];
  /** The sender gestore's service mailbox (IGPEC `mailReceipt`), e.g. `posta-certificata@pec.alfa.test`. */
  to: string;
}

/**
 * Builds a ricevuta di presa in carico (spec §4.6), from the recipient's gestore to the
 * sender gestore's service mailbox (never to a user): `X-Ricevuta: presa-in-carico`,
 * `Subject: PRESA IN CARICO: <subject>`; `daticert.xml` with one `<ricezione>` per
 * covered recipient.
 *
 * @example
 * ```ts
 * await buildPresaInCarico(beta, tx, { ricezione: ["anna@pec.beta.test"], to: alfa.email });
 * ```
 */
export async function buildPresaInCarico(signer: PecSigner, tx: PecTransaction, options: PresaInCaricoOptions): Promise<BuiltPec> {
  const { info, t, o } = setup(signer, tx, options);
  refuseInjection({ ricezione: options?.ricezione, to: options?.to }, "options");
  if (!isDenseArray(options.ricezione) || options.ricezione.length === 0) throw invalid("options.ricezione must list at least one recipient");
  const ricezione = options.ricezione.map((r, i) => checkRecipientOf(t, r, `options.ricezione[${i}]`));
  const to = checkAddress(options.to, "options.to");
  return buildReceipt({
    info,
    o,
    t,
    type: "presa-in-carico",
    virus: false,
    prefix: subjectPrefix("presa-in-carico", false),
    to,
    errore: "nessuno",
    dati: { ricezione },
    body: presaInCaricoBody(facts({ o, t }), ricezione),
  });
}

/**
 * The delivery receipt a recipient gets (spec §4.7): the type the sender asked for
 * (default `completa`) when the recipient is primary (To, or unknown), `sintetica` when
 * it is only in Cc.
 *
 * @example
 * ```ts
 * deliveryReceiptType({ ...tx, ricevuta: "breve" }, "luca@pec.beta.test"); // "sintetica" if luca is in Cc
 * ```
 */
export function deliveryReceiptType(tx: PecTransaction, consegna: string): RicevutaTipo {
  const requested = tx.ricevuta ?? "completa";
  const key = typeof consegna === "string" ? consegna.toLowerCase() : "";
  const matches = (tx.recipients ?? []).filter((r) => r.address.toLowerCase() === key);
  // Ambiguous (To and Cc) or unknown: primary, with the full original (RFC 6109 §3.3.2).
  const onlyCc = matches.length > 0 && matches.every((r) => r.field === "cc");
  return onlyCc ? "sintetica" : requested;
}

/** Options of {@link buildAvvenutaConsegna}. */
export interface AvvenutaConsegnaOptions extends PecBuildOptions {
  /** The recipient whose mailbox received the busta (daticert `<consegna>`). */
  consegna: string;
  /**
   * The variant to build. Default {@link deliveryReceiptType}: the requested type for a
   * primary recipient, `sintetica` for a Cc recipient. A sintetica issued because of Cc
   * status carries `<ricevuta tipo="sintetica"/>` (UNCONFIRMED choice: the variant
   * built, not the one requested).
   */
  ricevuta?: RicevutaTipo;
  /**
   * The original message as the busta carried it (its `postacert.eml`), or the busta
   * itself (its `postacert.eml` is taken), or the original as submitted (prepared here).
   * Required for completa and breve. It must be of this sending: a busta whose
   * identificativo or Message-ID is not the transaction's identificativo, an original
   * whose Message-ID is neither the identificativo nor the transaction's msgid, or one
   * without a Message-ID whose Subject is not the transaction's subject, is refused
   * (`ERR_INVALID_ARGUMENT`).
   */
  original?: Uint8Array;
}

/**
 * The busta's postacert.eml when `bytes` is a busta; else `bytes`, prepared. Either must
 * be of this sending (identificativo, Message-ID): the receipt would otherwise certify
 * the delivery of another message.
 */
function originalOf(bytes: Uint8Array, t: CheckedTransaction): Uint8Array {
  const root = parseMime(bytes);
  if (root.header("x-trasporto") !== undefined) {
    const pec = readPec(root);
    // The signed daticert identificativo; the Message-ID (outside the signature) only when
    // there is none. The postacert.eml (signed) is checked below too.
    const id = pec.daticert?.dati.identificativo ?? root.header("message-id");
    if (id !== undefined && normalizeMsgId(id) !== normalizeMsgId(t.identificativo)) {
      throw invalid(`options.original is the busta of another sending: its identificativo is ${id.trim()}, the transaction's ${t.identificativo}`);
    }
    const inner = pec.original;
    if (!inner) throw invalid("options.original is an envelope without postacert.eml");
    return preparedOriginal(inner.bytes, t, "the postacert.eml of options.original");
  }
  return preparedOriginal(bytes, t, "options.original");
}

/**
 * Builds a ricevuta di avvenuta consegna (spec §4.7), from the recipient's gestore to
 * the sender, one per recipient: `X-Ricevuta: avvenuta-consegna`, `Subject: CONSEGNA:
 * <subject>`; `daticert.xml` with `<ricevuta tipo>` and `<consegna>`; `postacert.eml` =
 * the original (completa), the original with attachments replaced by `.hash` files
 * (breve, see {@link brevify}), or nothing (sintetica).
 *
 * @example
 * ```ts
 * const tx = transactionFromBusta(bytes); // the busta di trasporto delivered
 * const receipt = await buildAvvenutaConsegna(beta, tx, { consegna: "anna@pec.beta.test", original: bytes });
 * ```
 */
export async function buildAvvenutaConsegna(signer: PecSigner, tx: PecTransaction, options: AvvenutaConsegnaOptions): Promise<BuiltPec> {
  const { info, t, o } = setup(signer, tx, options);
  refuseInjection({ consegna: options?.consegna, ricevuta: options?.ricevuta }, "options");
  const consegna = checkRecipientOf(t, options.consegna, "options.consegna");
  const ricevuta = options.ricevuta ?? deliveryReceiptType(t, consegna);
  if (ricevuta !== "completa" && ricevuta !== "breve" && ricevuta !== "sintetica") throw invalid("options.ricevuta must be completa, breve or sintetica");
  let parts: MimeNode[] = [];
  let hashes: BreveHash[] | undefined;
  if (ricevuta !== "sintetica") {
    if (!(options.original instanceof Uint8Array)) throw invalid(`a ${ricevuta} delivery receipt needs options.original`);
    const original = originalOf(options.original, t);
    if (ricevuta === "breve") {
      const b = await brevify(original, { crypto: o.crypto });
      hashes = b.hashes;
      parts = [postacertLeaf(b.bytes)];
    } else parts = [postacertLeaf(original)];
  }
  return buildReceipt({
    info,
    o,
    t,
    type: "avvenuta-consegna",
    virus: false,
    prefix: subjectPrefix("avvenuta-consegna", false),
    to: t.sender,
    errore: "nessuno",
    dati: { ricevuta, consegna },
    body: consegnaBody(facts({ o, t }), consegna, ricevuta),
    parts,
    ...(hashes !== undefined && { hashes }),
  });
}

/** Options of {@link buildErroreConsegna}. */
export interface ErroreConsegnaOptions extends PecBuildOptions {
  /** The recipient the delivery failed for (daticert `<consegna>`). */
  consegna: string;
  /**
   * `no-dest` (no such mailbox), `no-dominio` (unknown domain), `altro` (other), or
   * `virus` (avviso di mancata consegna per virus, emitted by the **sender's** gestore
   * after an avviso di rilevazione virus: `X-VerificaSicurezza: errore`).
   */
  errore: "no-dest" | "no-dominio" | "altro" | "virus";
  /**
   * Description (daticert `errore-esteso` and body). Default, as Aruba writes it:
   * `5.1.1 - <gestore> - indirizzo non valido` (no-dest), `5.1.2 - <gestore> - dominio
   * non valido` (no-dominio), `5.0.0 - <gestore> - errore nella consegna` (altro),
   * `Virus rilevato nel messaggio` (virus).
   */
  erroreEsteso?: string;
}

/**
 * Builds an avviso di mancata consegna (spec §4.8, §4.10): `X-Ricevuta:
 * errore-consegna`, `Subject: AVVISO DI MANCATA CONSEGNA: <subject>` (or `… PER VIRUS:
 * …` with `X-VerificaSicurezza: errore`), to the sender; `daticert.xml` with `errore`,
 * `<consegna>` and `<errore-esteso>`; no original.
 *
 * @example
 * ```ts
 * await buildErroreConsegna(beta, tx, { consegna: "nessuno@pec.beta.test", errore: "no-dest" });
 * ```
 */
export async function buildErroreConsegna(signer: PecSigner, tx: PecTransaction, options: ErroreConsegnaOptions): Promise<BuiltPec> {
  const { info, t, o } = setup(signer, tx, options);
  refuseInjection({ consegna: options?.consegna, errore: options?.errore, erroreEsteso: options?.erroreEsteso }, "options");
  const consegna = checkRecipientOf(t, options.consegna, "options.consegna");
  const errore = checkErrore(options.errore, ["no-dest", "no-dominio", "altro", "virus"] as const, "options.errore");
  const virus = errore === "virus";
  const defaults = {
    "no-dest": `5.1.1 - ${info.name} - indirizzo non valido`,
    "no-dominio": `5.1.2 - ${info.name} - dominio non valido`,
    altro: `5.0.0 - ${info.name} - errore nella consegna`,
    virus: "Virus rilevato nel messaggio",
  };
  const erroreEsteso = optionalText(options.erroreEsteso, "options.erroreEsteso") ?? defaults[errore];
  return buildReceipt({
    info,
    o,
    t,
    type: "errore-consegna",
    virus,
    prefix: subjectPrefix("errore-consegna", virus),
    to: t.sender,
    errore,
    dati: { consegna, erroreEsteso },
    body: erroreConsegnaBody(facts({ o, t }), consegna, virus, erroreEsteso),
    ...(virus && { extra: [{ kind: "text" as const, name: PEC_HEADERS.VERIFICA_SICUREZZA, value: "errore" }] }),
  });
}

/** Options of {@link buildRilevazioneVirus}. */
export interface RilevazioneVirusOptions extends PecBuildOptions {
  /** The recipient the infected busta was addressed to (one notice per recipient). */
  consegna: string;
  /** What the antivirus found (daticert `errore-esteso` and body). Default `Virus rilevato nel messaggio`. */
  erroreEsteso?: string;
  /** The sender gestore's service mailbox (IGPEC `mailReceipt`). */
  to: string;
}

/**
 * Builds an avviso di rilevazione virus (spec §4.9), from the recipient's gestore to the
 * sender gestore's service mailbox: `X-Ricevuta: rilevazione-virus`, `X-Mittente:
 * <sender>`, `Subject: PROBLEMA DI SICUREZZA: <subject>` (no `X-VerificaSicurezza`: it
 * is not for users); `daticert.xml` with `errore="virus"` (UNCONFIRMED: the rules fix no
 * value), `<consegna>` and `<errore-esteso>`; never the original.
 *
 * @example
 * ```ts
 * await buildRilevazioneVirus(beta, tx, { consegna: "anna@pec.beta.test", erroreEsteso: "Eicar-Test-Signature", to: alfa.email });
 * ```
 */
export async function buildRilevazioneVirus(signer: PecSigner, tx: PecTransaction, options: RilevazioneVirusOptions): Promise<BuiltPec> {
  const { info, t, o } = setup(signer, tx, options);
  refuseInjection({ consegna: options?.consegna, erroreEsteso: options?.erroreEsteso, to: options?.to }, "options");
  const consegna = checkRecipientOf(t, options.consegna, "options.consegna");
  const to = checkAddress(options.to, "options.to");
  const erroreEsteso = optionalText(options.erroreEsteso, "options.erroreEsteso") ?? "Virus rilevato nel messaggio";
  return buildReceipt({
    info,
    o,
    t,
    type: "rilevazione-virus",
    virus: true,
    prefix: subjectPrefix("rilevazione-virus", true),
    to,
    errore: "virus",
    dati: { consegna, erroreEsteso },
    body: rilevazioneVirusBody(facts({ o, t }), consegna, erroreEsteso),
    extra: [{ kind: "address", name: PEC_HEADERS.MITTENTE, mailboxes: [{ address: t.sender }] }],
  });
}

/** Options of {@link buildPreavvisoErroreConsegna}. */
export interface PreavvisoErroreConsegnaOptions extends PecBuildOptions {
  /** The recipient not delivered in time (one notice per recipient). */
  consegna: string;
  /** `preavviso`: the 12 h warning; `scadenza`: the 24 h notice that ends the transaction. */
  kind: "preavviso" | "scadenza";
  /** An optional detail (daticert `errore-esteso`, also shown in the body). Default none. */
  erroreEsteso?: string;
}

/**
 * Builds an avviso di mancata consegna per superamento tempo massimo (spec §4.11), from
 * the sender's gestore to the sender: `X-Ricevuta: preavviso-errore-consegna`, `Subject:
 * AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: <subject>`; `daticert.xml` with
 * `errore="nessuno"` (UNCONFIRMED: the rules fix no value) and `<consegna>`. The 12 h
 * and 24 h notices differ only in their text ("12 ore" vs "24 ore"), as the rules say.
 *
 * @example
 * ```ts
 * await buildPreavvisoErroreConsegna(alfa, tx, { consegna: "anna@pec.beta.test", kind: "preavviso", date: new Date(Date.now() + 12 * 60 * 60 * 1000) });
 * ```
 */
export async function buildPreavvisoErroreConsegna(signer: PecSigner, tx: PecTransaction, options: PreavvisoErroreConsegnaOptions): Promise<BuiltPec> {
  const { info, t, o } = setup(signer, tx, options);
  refuseInjection({ consegna: options?.consegna, kind: options?.kind, erroreEsteso: options?.erroreEsteso }, "options");
  const consegna = checkRecipientOf(t, options.consegna, "options.consegna");
  const kind = options.kind;
  if (kind !== "preavviso" && kind !== "scadenza") throw invalid('options.kind must be "preavviso" (12 h) or "scadenza" (24 h)');
  const erroreEsteso = optionalText(options.erroreEsteso, "options.erroreEsteso");
  return buildReceipt({
    info,
    o,
    t,
    type: "preavviso-errore-consegna",
    virus: false,
    prefix: subjectPrefix("preavviso-errore-consegna", false),
    to: t.sender,
    errore: "nessuno",
    dati: { consegna, ...(erroreEsteso !== undefined && { erroreEsteso }) },
    body: timeoutBody(facts({ o, t }), consegna, kind, erroreEsteso),
    timeout: kind,
  });
}
