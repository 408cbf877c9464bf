/**
 * Reading PEC messages: locate the PEC entity (also inside forwards and list wrappers),
 * classify it (headers, then daticert, subject only as a last hint), extract daticert,
 * the original message and the signature, and check their consistency.
 *
 * @module
 */
import { daticertDate, parseDaticert } from "../daticert/index.js";
import type { Daticert, ParsedDaticert } from "../daticert/index.js";
import { PecError } from "../errors.js";
import { decodeHeaderValue, parseEmbedded, parseMime } from "../mime/index.js";
import type { MimeEntity, ParseMimeOptions } from "../mime/index.js";
import { extractEncapsulatedContent } from "../smime/cms.js";
import { firstMailbox, normalizeMsgId, parseAddressList, perContoDi } from "./address.js";
import { DATICERT_FILENAME, POSTACERT_FILENAME, SUBJECT_PREFIXES, X_RICEVUTA } from "./constants.js";
import type { PecType, XRicevuta } from "./constants.js";
import type {
  BreveHashEntry,
  PecAttachment,
  PecIssue,
  PecOriginal,
  PecRecipient,
  PecSignatureInfo,
  ReadPec,
} from "./types.js";

/** Options of {@link readPec}. */
export interface ReadPecOptions extends ParseMimeOptions {
  /** How many PECs nested inside originals to read (a forwarded PEC inside a busta, …). Default 8. */
  maxNesting?: number;
}

const DEFAULT_MAX_NESTING = 8;

/** Pending or computed lazy values of one object, by property name. */
type LazySlots = Record<string, { compute: (() => unknown) | undefined; value: unknown }>;
const SLOTS = Symbol("postacert.lazy");
const getters = new Map<string, (this: { [SLOTS]: LazySlots }) => unknown>();

/** One getter function per property name, shared by every object (see {@link lazy}). */
function getterFor(key: string): (this: { [SLOTS]: LazySlots }) => unknown {
  let g = getters.get(key);
  if (!g) {
    g = function (this: { [SLOTS]: LazySlots }): unknown {
      const slot = this[SLOTS][key]!;
      if (slot.compute) {
        slot.value = slot.compute();
        slot.compute = undefined; // after the call: a compute that throws runs again on the next read
      }
      return slot.value;
    };
    getters.set(key, g);
  }
  return g;
}

/**
 * Defines an enumerable property computed on first read and then kept. Decoding bodies,
 * the original's parts and the signature is most of a read's cost, and many callers
 * (classification, correlation, verification) never look at them.
 *
 * The getter is one shared function per property name and the per-object state sits in
 * a hidden (non-enumerable symbol) record. A fresh getter closure per object made V8
 * build new hidden classes for every message; those live in the old generation and kept
 * each message's closures (and through them its whole parse) alive until the next full
 * GC: ≈30 KB promoted per message, and scavenges took a quarter of readPec's time.
 */
function lazy<T extends object, K extends keyof T & string>(target: T, key: K, compute: () => T[K]): void {
  const holder = target as T & { [SLOTS]?: LazySlots };
  let slots = holder[SLOTS];
  if (!slots) {
    slots = Object.create(null) as LazySlots;
    Object.defineProperty(target, SLOTS, { value: slots });
  }
  slots[key] = { compute, value: undefined };
  Object.defineProperty(target, key, { enumerable: true, configurable: true, get: getterFor(key) });
}

/**
 * Reads a PEC message: type, daticert, original message, signature location and
 * consistency issues. Synchronous and without cryptography (see `verifyPec` for that).
 * Mail that is not PEC gives type `not-pec`; input that is not a readable message throws
 * {@link PecError}.
 *
 * @example
 * ```ts
 * const pec = readPec(bytes);
 * if (pec.type === "avvenuta-consegna") console.log(pec.consegna, pec.date, pec.ricevuta);
 * ```
 */
export function readPec(input: Uint8Array | MimeEntity, options: ReadPecOptions = {}): ReadPec {
  const root = input instanceof Uint8Array ? parseMime(input, options) : input;
  if (!(input instanceof Uint8Array) && (typeof input !== "object" || input === null || !("children" in input))) {
    throw new PecError("ERR_INVALID_ARGUMENT", "readPec expects the message bytes or a parsed MimeEntity");
  }
  return readFrom(root, options, options.maxNesting ?? DEFAULT_MAX_NESTING);
}

function readFrom(root: MimeEntity, options: ReadPecOptions, nesting: number): ReadPec {
  const found = locate(root, options);
  if (!found) return notPec(root);
  return readLocated(root, found, options, nesting);
}

// ---------------------------------------------------------------------------------------------
// Locating the PEC entity

interface Located {
  /** The message whose header block carries the PEC headers (or the signed entity itself). */
  message: MimeEntity;
  /** multipart/signed or pkcs7-mime entity (message itself, or one level down when list-wrapped). */
  signed?: MimeEntity;
  path: number[];
}

function isSignedEntity(e: MimeEntity): boolean {
  const t = e.contentType.mimeType;
  return t === "multipart/signed" || t === "application/pkcs7-mime" || t === "application/x-pkcs7-mime";
}

function hasPecHeaders(e: MimeEntity): boolean {
  return e.header("x-trasporto") !== undefined || e.header("x-ricevuta") !== undefined;
}

/** The signed entity of a message: itself, or (mailing lists) a direct child. */
function signedOf(message: MimeEntity): MimeEntity | undefined {
  if (isSignedEntity(message)) return message;
  if (message.contentType.type === "multipart") return message.children.find(isSignedEntity);
  return undefined;
}

function looksLikeEml(e: MimeEntity): boolean {
  const name = e.filename?.toLowerCase();
  return name !== undefined && name.endsWith(".eml");
}

/** Embedded messages directly below an entity's subtree (not descending into them). */
function embeddedMessages(entity: MimeEntity, path: number[], options: ReadPecOptions): { message: MimeEntity; path: number[] }[] {
  const out: { message: MimeEntity; path: number[] }[] = [];
  const stack: { e: MimeEntity; p: number[] }[] = [{ e: entity, p: path }];
  while (stack.length) {
    const { e, p } = stack.pop()!;
    const mt = e.contentType.mimeType;
    if (e !== entity && mt === "message/rfc822") {
      const child = e.children[0];
      if (child) out.push({ message: child, path: [...p, 0] });
      continue;
    }
    if (e !== entity && e.children.length === 0 && looksLikeEml(e) && mt !== "message/rfc822") {
      const inner = tryParseEmbedded(e, options);
      if (inner) out.push({ message: inner, path: [...p, 0] });
      continue;
    }
    for (let i = e.children.length - 1; i >= 0; i--) stack.push({ e: e.children[i]!, p: [...p, i] });
  }
  out.sort((a, b) => comparePaths(a.path, b.path));
  return out;
}

function comparePaths(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function tryParseEmbedded(e: MimeEntity, options: ReadPecOptions): MimeEntity | undefined {
  try {
    return parseEmbedded(e, options);
  } catch (err) {
    if (err instanceof PecError) return undefined;
    throw err;
  }
}

/** A PEC entity: PEC headers, or a signature over content holding daticert.xml. */
function asPec(message: MimeEntity, path: number[]): Located | undefined {
  const signed = signedOf(message);
  if (hasPecHeaders(message)) return signed ? { message, signed, path } : { message, path };
  if (signed) {
    const content = signed.contentType.mimeType === "multipart/signed" ? signed.children[0] : opaqueContent(signed);
    if (content && findDaticert(content)) return { message, signed, path };
  }
  return undefined;
}

/** The MIME entity inside an opaque signature, or undefined when it cannot be read. */
function opaqueContent(signed: MimeEntity): MimeEntity | undefined {
  const inner = extractEncapsulatedContent(signed.decodedBody());
  if (!inner) return undefined;
  try {
    return parseMime(inner);
  } catch (err) {
    if (err instanceof PecError) return undefined;
    throw err;
  }
}

/** Breadth-first over the root and the messages embedded in it, shallowest first. */
function locate(root: MimeEntity, options: ReadPecOptions): Located | undefined {
  let level: { message: MimeEntity; path: number[] }[] = [{ message: root, path: [] }];
  const maxDepth = options.maxDepth ?? 32;
  for (let depth = 0; level.length > 0 && depth < maxDepth; depth++) {
    for (const { message, path } of level) {
      const hit = asPec(message, path);
      if (hit) return hit;
    }
    level = level.flatMap(({ message, path }) => embeddedMessages(message, path, options));
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Parts of the PEC content

function isXmlPart(e: MimeEntity): boolean {
  const t = e.contentType.mimeType;
  return t === "application/xml" || t === "text/xml";
}

/** The daticert part: by file name, else an XML part whose root element is postacert. */
function findDaticert(content: MimeEntity): MimeEntity | undefined {
  const parts = content.contentType.type === "multipart" ? content.children : [content];
  const byName = parts.find((p) => p.filename?.toLowerCase() === DATICERT_FILENAME);
  if (byName) return byName;
  return parts.find((p) => isXmlPart(p) && /<postacert[\s>]/.test(asciiHead(p.decodedBody())));
}

function asciiHead(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < Math.min(bytes.length, 512); i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** The original message part: message/rfc822 preferring the one named postacert.eml. */
function findOriginalPart(content: MimeEntity): MimeEntity | undefined {
  const parts = content.contentType.type === "multipart" ? content.children : [];
  const rfc822 = parts.filter((p) => p.contentType.mimeType === "message/rfc822");
  return (
    rfc822.find((p) => p.filename?.toLowerCase() === POSTACERT_FILENAME) ??
    rfc822[0] ??
    parts.find((p) => p.filename?.toLowerCase() === POSTACERT_FILENAME)
  );
}

/** text/plain and text/html of the human-readable first part. */
function bodyTexts(content: MimeEntity): { text?: string; html?: string } {
  const first = content.contentType.type === "multipart" ? content.children[0] : content;
  const out: { text?: string; html?: string } = {};
  if (!first) return out;
  const leaves = first.contentType.mimeType === "multipart/alternative" ? first.children : [first];
  for (const leaf of leaves) {
    const t = leaf.contentType.mimeType;
    if (t === "text/plain" && out.text === undefined) out.text = leaf.text();
    else if (t === "text/html" && out.html === undefined) out.html = leaf.text();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Classification

interface Classification {
  type: PecType;
  virus: boolean;
  by: "headers" | "daticert" | "subject";
}

const PREFIX_MATCHERS = SUBJECT_PREFIXES.map(([prefix, type, virus]) => ({
  // Gestori and the RFC disagree on spaces ("SUP.  TEMPO"): any run matches one space.
  re: new RegExp("^" + prefix.split(" ").map(escapeRe).join("\\s+") + "\\s*:\\s?", "i"),
  type,
  virus,
}));

function subjectPrefix(subject: string | undefined): { type: PecType; virus: boolean; rest: string } | undefined {
  if (subject === undefined) return undefined;
  // Mailing lists prepend tags ("[Osst-users] [SPAM] POSTA CERTIFICATA: …").
  const s = subject.trimStart().replace(/^(?:\[[^\]]*\]\s*)+/, "");
  for (const m of PREFIX_MATCHERS) {
    const hit = m.re.exec(s);
    if (hit) return { type: m.type, virus: m.virus, rest: s.slice(hit[0].length) };
  }
  return undefined;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function classify(message: MimeEntity, daticert: Daticert | undefined, subject: string | undefined): Classification | undefined {
  const trasporto = message.header("x-trasporto")?.trim().toLowerCase();
  const ricevuta = message.header("x-ricevuta")?.trim().toLowerCase();
  const securityError = message.header("x-verificasicurezza")?.trim().toLowerCase() === "errore";
  const daticertVirus = daticert?.errore === "virus";
  if (trasporto === "posta-certificata") return { type: "posta-certificata", virus: false, by: "headers" };
  if (trasporto === "errore") return { type: "anomalia", virus: false, by: "headers" };
  if (ricevuta && (X_RICEVUTA as readonly string[]).includes(ricevuta)) {
    const type = ricevuta as XRicevuta;
    const virus = type === "rilevazione-virus" || securityError || daticertVirus;
    return { type, virus, by: "headers" };
  }
  if (daticert) {
    return { type: daticert.tipo, virus: daticert.tipo === "rilevazione-virus" || daticertVirus, by: "daticert" };
  }
  const hint = subjectPrefix(subject);
  if (hint) return { type: hint.type, virus: hint.virus, by: "subject" };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading a located PEC

function notPec(root: MimeEntity): ReadPec {
  const subject = decodedHeader(root, "subject");
  const from = firstMailbox(decodedHeader(root, "from"))?.address;
  const date = parseDate(root.header("date"));
  return {
    type: "not-pec",
    virus: false,
    root,
    message: root,
    path: [],
    wrapped: false,
    ...(subject !== undefined && { subject, originalSubject: subject }),
    ...(from !== undefined && { from, sender: from }),
    recipients: recipientsFromHeaders(root),
    ...(date && { date }),
    ricezione: [],
    issues: [],
  };
}

function decodedHeader(e: MimeEntity, name: string): string | undefined {
  const v = e.header(name);
  return v === undefined ? undefined : decodeHeaderValue(v).trim();
}

function recipientsFromHeaders(e: MimeEntity): PecRecipient[] {
  const out: PecRecipient[] = [];
  for (const field of ["to", "cc"] as const) {
    for (const v of e.headerAll(field)) {
      for (const m of parseAddressList(decodeHeaderValue(v))) out.push({ address: m.address, field });
    }
  }
  return out;
}

/** RFC 5322 date, tolerant of the usual deviations; undefined when unreadable. */
function parseDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const cleaned = value.replace(/\([^)]*\)/g, " ").replace(/\s+/g, " ").trim();
  const t = Date.parse(cleaned);
  return Number.isNaN(t) ? undefined : new Date(t);
}

function readLocated(root: MimeEntity, found: Located, options: ReadPecOptions, nesting: number): ReadPec {
  const { message, signed, path } = found;
  const issues: PecIssue[] = [];
  const issue = (code: PecIssue["code"], severity: PecIssue["severity"], text: string): void => {
    issues.push({ code, severity, message: text });
  };

  // Signature and signed content.
  let signature: PecSignatureInfo | undefined;
  let content: MimeEntity | undefined;
  if (signed) {
    const located = readSignature(signed, options);
    signature = located.signature;
    content = located.content;
    if (signature?.protocol?.toLowerCase() === "application/x-pkcs7-signature") {
      issue("LEGACY_SIGNATURE_TYPE", "info", "multipart/signed uses the legacy application/x-pkcs7-signature protocol");
    }
    const micalg = signature?.micalg?.toLowerCase();
    if (micalg !== undefined && /^sha\d/.test(micalg)) {
      issue("MICALG_NONSTANDARD", "info", `micalg "${signature!.micalg}" is not an RFC 5751 spelling (the CMS decides the digest)`);
    }
  }
  if (!signature) issue("NOT_SIGNED", "error", "the PEC message carries no gestore signature");
  // Without a signature the parts sit directly in the message (stripped copies, drafts).
  content ??= message;

  // daticert
  const daticertEntity = findDaticert(content);
  let daticert: ParsedDaticert | undefined;
  if (daticertEntity) {
    try {
      daticert = parseDaticert(daticertEntity.decodedBody());
      if (daticert.warnings.length > 0) {
        issue("DATICERT_SANITIZED", "warning", `daticert.xml: ${daticert.warnings.map((w) => w.message).join("; ")}`);
      }
    } catch (err) {
      if (!(err instanceof PecError)) throw err;
      issue("DATICERT_MALFORMED", "error", `daticert.xml cannot be read: ${err.message}`);
    }
  }

  const subject = decodedHeader(message, "subject");
  const cls = classify(message, daticert, subject);
  if (!cls) return notPec(root);
  const { type, virus } = cls;
  if (cls.by === "daticert") issue("CLASSIFIED_BY_DATICERT", "warning", "no X-Trasporto/X-Ricevuta header; the type comes from daticert.xml");
  if (cls.by === "subject") issue("CLASSIFIED_BY_SUBJECT", "warning", "no PEC header and no daticert.xml; the type comes from the subject prefix only");
  const listWrapped = signed !== undefined && signed !== message;
  if (path.length > 0) issue("WRAPPED", "info", `the PEC message was found inside another message (at part ${path.join(".")})`);
  else if (listWrapped) issue("WRAPPED", "info", "the signed PEC entity sits inside a wrapper (a mailing list re-packed the message)");
  headerCaseIssues(message, issue);

  // Consistency: header type vs daticert.
  if (daticert && cls.by === "headers") {
    const expected = type === "anomalia" ? undefined : type;
    if (expected !== undefined && daticert.tipo !== expected) {
      issue("TYPE_MISMATCH", "error", `the headers say ${expected} but daticert.xml says ${daticert.tipo}`);
    }
  }
  if (!daticert && !daticertEntity && type !== "anomalia") {
    issue("DATICERT_MISSING", "error", `a ${type} message must carry daticert.xml`);
  }

  // Subject prefix vs type.
  const prefix = subjectPrefix(subject);
  if (prefix && (prefix.type !== type || (type !== "rilevazione-virus" && prefix.virus !== virus))) {
    const named = `${prefix.type}${prefix.virus ? " (virus)" : ""}`;
    issue("SUBJECT_PREFIX_MISMATCH", "warning", `the subject prefix names ${named}, the message is ${type}${virus ? " (virus)" : ""}`);
  } else if (!prefix && subject !== undefined) {
    issue("SUBJECT_PREFIX_MISMATCH", "warning", "the subject carries no PEC prefix");
  }

  const from = firstMailbox(decodedHeader(message, "from"));
  const riferimento = message.header("x-riferimento-message-id")?.trim();
  if (daticert?.dati.msgid !== undefined && riferimento !== undefined) {
    if (normalizeMsgId(daticert.dati.msgid) !== normalizeMsgId(riferimento)) {
      issue("MSGID_MISMATCH", "warning", `X-Riferimento-Message-ID ${riferimento} differs from daticert msgid ${daticert.dati.msgid}`);
    }
  }
  const onBehalf = perContoDi(from);
  if ((type === "posta-certificata" || type === "anomalia") && onBehalf && daticert) {
    if (onBehalf.toLowerCase() !== daticert.intestazione.mittente.trim().toLowerCase()) {
      issue("SENDER_MISMATCH", "warning", `From says "Per conto di: ${onBehalf}" but daticert mittente is ${daticert.intestazione.mittente}`);
    }
  }

  // Original message.
  const originalPart = findOriginalPart(content);
  const original = originalPart ? readOriginal(originalPart, options, nesting) : undefined;
  const ricevuta = receiptType(type, daticert, message);
  const carriesOriginal =
    type === "posta-certificata" ||
    type === "anomalia" ||
    (type === "avvenuta-consegna" && ricevuta !== "sintetica");
  const mustNotCarry =
    type === "non-accettazione" ||
    type === "rilevazione-virus" ||
    type === "preavviso-errore-consegna" ||
    (type === "avvenuta-consegna" && ricevuta === "sintetica");
  if (carriesOriginal && !original) issue("ORIGINAL_MISSING", "error", `a ${type}${ricevuta ? ` (${ricevuta})` : ""} must carry the original message`);
  if (mustNotCarry && original) issue("ORIGINAL_UNEXPECTED", "warning", `a ${type}${ricevuta ? ` (${ricevuta})` : ""} should not carry the original message`);

  let bodies: { text?: string; html?: string } | undefined;
  const texts = (): { text?: string; html?: string } => (bodies ??= bodyTexts(content));
  const date = (daticert && daticertDate(daticert.dati.data)) ?? parseDate(message.header("date"));
  const recipients: PecRecipient[] = daticert
    ? daticert.intestazione.destinatari.map((d) => ({ address: d.address, tipo: d.tipo }))
    : recipientsFromHeaders(original?.message ?? message);
  attachFields(recipients, original?.message ?? (type === "posta-certificata" ? message : undefined));

  const sender =
    daticert?.intestazione.mittente ?? onBehalf ?? message.header("x-mittente")?.trim() ?? (type === "posta-certificata" ? undefined : from?.address);
  const xMittente = message.header("x-mittente")?.trim();
  const msgid = daticert?.dati.msgid ?? riferimento;
  const identificativo =
    daticert?.dati.identificativo ?? (type === "posta-certificata" ? stripAngles(message.header("message-id")) : undefined);
  const originalSubject = daticert?.intestazione.oggetto ?? (prefix ? prefix.rest : subject);

  // Property by property in the order the keys always had: object spreads of these
  // conditional shapes measured at several µs per message.
  const out = { type, virus } as { -readonly [K in keyof ReadPec]: ReadPec[K] };
  if (ricevuta) out.ricevuta = ricevuta;
  if (type !== "anomalia") out.errore = daticert?.errore ?? (virus ? "virus" : "nessuno");
  out.root = root;
  out.message = message;
  out.path = path;
  out.wrapped = path.length > 0 || listWrapped;
  if (signature) out.signature = signature;
  if (daticert) out.daticert = daticert;
  if (daticertEntity) out.daticertEntity = daticertEntity;
  if (subject !== undefined) out.subject = subject;
  if (originalSubject !== undefined) out.originalSubject = originalSubject;
  if (sender !== undefined) out.sender = sender;
  if (from) out.from = from.address;
  out.recipients = recipients;
  if (date) out.date = date;
  if (daticert) out.gestoreEmittente = daticert.dati.gestoreEmittente;
  if (identificativo !== undefined) out.identificativo = identificativo;
  if (msgid !== undefined) out.msgid = msgid;
  if (daticert?.dati.consegna !== undefined) out.consegna = daticert.dati.consegna;
  out.ricezione = daticert?.dati.ricezione ?? [];
  if (daticert?.dati.erroreEsteso !== undefined) out.erroreEsteso = daticert.dati.erroreEsteso;
  if (xMittente !== undefined) out.xMittente = xMittente;
  if (original) out.original = original;
  out.issues = issues;
  lazy(out, "text", () => texts().text);
  lazy(out, "html", () => texts().html);
  const plain = (): string | undefined => texts().text ?? stripTags(texts().html);
  if (type === "preavviso-errore-consegna") lazy(out, "timeout", () => timeoutKind(plain(), daticert?.intestazione.oggetto ?? prefix?.rest));
  if (type === "anomalia") lazy(out, "anomaliaReason", () => anomalyReason(plain()));
  return out;
}

function stripAngles(id: string | undefined): string | undefined {
  const t = id?.trim().replace(/^<|>$/g, "").trim();
  return t || undefined;
}

const CANONICAL_PEC_HEADERS: ReadonlyMap<string, string> = new Map(
  ["X-Trasporto", "X-Ricevuta", "X-Riferimento-Message-ID", "X-TipoRicevuta", "X-VerificaSicurezza", "X-Mittente"].map((n) => [n.toLowerCase(), n]),
);

function headerCaseIssues(message: MimeEntity, issue: (c: PecIssue["code"], s: PecIssue["severity"], m: string) => void): void {
  for (const h of message.headers) {
    const c = CANONICAL_PEC_HEADERS.get(h.lname);
    if (c !== undefined && c !== h.name) issue("HEADER_CASE", "info", `header ${h.name} is usually written ${c}`);
  }
}

function receiptType(type: PecType, daticert: Daticert | undefined, message: MimeEntity): ReadPec["ricevuta"] {
  if (type !== "avvenuta-consegna" && type !== "posta-certificata") return undefined;
  if (daticert?.dati.ricevuta) return daticert.dati.ricevuta;
  const h = message.header("x-tiporicevuta")?.trim().toLowerCase();
  if (h === "breve" || h === "sintetica" || h === "completa") return h;
  return "completa";
}

/** Marks each recipient as To or Cc from the original's headers. */
function attachFields(recipients: PecRecipient[], headersOf: MimeEntity | undefined): void {
  if (!headersOf) return;
  const fields = new Map<string, "to" | "cc">();
  for (const r of recipientsFromHeaders(headersOf)) {
    const key = r.address.toLowerCase();
    if (!fields.has(key)) fields.set(key, r.field!);
  }
  for (const r of recipients) {
    const f = fields.get(r.address.toLowerCase());
    if (f && r.field === undefined) r.field = f;
  }
}

/**
 * The 12 h and 24 h timeout notices differ only in their text (spec §4.11). The quoted
 * subject is removed first: "Consegna entro 12 ore" must not make a 24 h notice a 12 h one.
 */
function timeoutKind(text: string | undefined, subject: string | undefined): ReadPec["timeout"] {
  if (!text) return undefined;
  let t = subject ? text.split(subject).join(" ") : text;
  t = t.replace(/"[^"\r\n]*"/g, " ").toLowerCase();
  const h12 = /\b12\s*(?:ore|h|hours)\b/.test(t);
  const h24 = /\b24\s*(?:ore|h|hours)\b/.test(t);
  if (h24 && !h12) return "scadenza";
  if (h12) return "preavviso";
  return undefined;
}

function stripTags(html: string | undefined): string | undefined {
  return html?.replace(/<[^>]*>/g, " ");
}

function anomalyReason(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /per il seguente errore:\s*([^\r\n]+)/i.exec(text) ?? /due to the following error:\s*([^\r\n]+)/i.exec(text);
  return m?.[1]?.trim() || undefined;
}

function readSignature(signed: MimeEntity, options: ReadPecOptions): { signature?: PecSignatureInfo; content?: MimeEntity } {
  const ct = signed.contentType;
  if (ct.mimeType === "multipart/signed") {
    const [content, sig] = signed.children;
    if (!content) return {};
    if (!sig) return { content };
    const signature = {
      form: "detached",
      entity: signed,
      signedBytes: content.raw(),
      ...(ct.params.protocol !== undefined && { protocol: ct.params.protocol }),
      ...(ct.params.micalg !== undefined && { micalg: ct.params.micalg }),
    } as PecSignatureInfo;
    lazy(signature, "cms", () => sig.decodedBody());
    return { signature, content };
  }
  // Opaque: the content is inside the CMS.
  const cms = signed.decodedBody();
  const signature: PecSignatureInfo = { form: "opaque", entity: signed, cms };
  const inner = extractEncapsulatedContent(cms);
  if (!inner) return { signature };
  signature.signedBytes = inner;
  try {
    return { signature, content: parseMime(inner, options) };
  } catch (err) {
    if (err instanceof PecError) return { signature };
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The original message

function readOriginal(part: MimeEntity, options: ReadPecOptions, nesting: number): PecOriginal | undefined {
  const message = part.contentType.mimeType === "message/rfc822" ? part.children[0] : tryParseEmbedded(part, options);
  if (!message) return undefined;
  const from = firstMailbox(decodedHeader(message, "from"));
  const subject = decodedHeader(message, "subject");
  const date = parseDate(message.header("date"));
  const messageId = message.header("message-id")?.trim();
  const riferimentoMessageId = message.header("x-riferimento-message-id")?.trim();
  const addresses = (field: string): string[] =>
    message.headerAll(field).flatMap((v) => parseAddressList(decodeHeaderValue(v)).map((m) => m.address));
  // Built property by property (no spreads), and the lazy properties are defined in
  // their final key order (attachments, hashes, text, html, inner): turning data
  // properties into accessors afterwards put every PecOriginal in dictionary mode.
  const out = { entity: part, message, bytes: message.raw() } as { -readonly [K in keyof PecOriginal]: PecOriginal[K] };
  if (from) out.from = from.address;
  out.to = addresses("to");
  out.cc = addresses("cc");
  if (subject !== undefined) out.subject = subject;
  if (date) out.date = date;
  if (messageId !== undefined) out.messageId = messageId;
  if (riferimentoMessageId !== undefined) out.riferimentoMessageId = riferimentoMessageId;
  let leaves: ReturnType<typeof decodeLeaves> | undefined;
  const decoded = (): ReturnType<typeof decodeLeaves> => (leaves ??= decodeLeaves(message));
  lazy(out, "attachments", () => decoded().attachments);
  lazy(out, "hashes", () => breveHashes(decoded().attachments));
  lazy(out, "text", () => decoded().text);
  lazy(out, "html", () => decoded().html);
  lazy(out, "inner", () => {
    if (nesting <= 0) return undefined;
    const found = locate(message, options);
    return found ? readLocated(message, found, options, nesting - 1) : undefined;
  });
  return out;
}

function isAttachment(e: MimeEntity): boolean {
  const disposition = e.header("content-disposition")?.trim().toLowerCase() ?? "";
  return disposition.startsWith("attachment") || e.filename !== undefined;
}

/** Body texts and attachments of a message, without descending into attached messages. */
function decodeLeaves(message: MimeEntity): { text?: string; html?: string; attachments: PecAttachment[] } {
  let text: string | undefined;
  let html: string | undefined;
  const attachments: PecAttachment[] = [];
  const stack: MimeEntity[] = [message];
  while (stack.length) {
    const e = stack.pop()!;
    const t = e.contentType.mimeType;
    if (e.contentType.type === "multipart") {
      for (let i = e.children.length - 1; i >= 0; i--) stack.push(e.children[i]!);
      continue;
    }
    if (!isAttachment(e)) {
      if (t === "text/plain" && text === undefined) {
        text = e.text();
        continue;
      }
      if (t === "text/html" && html === undefined) {
        html = e.text();
        continue;
      }
    }
    const filename = e.filename;
    attachments.push({ ...(filename !== undefined && { filename }), mimeType: t, entity: e, content: () => e.decodedBody() });
  }
  return { ...(text !== undefined && { text }), ...(html !== undefined && { html }), attachments };
}

function breveHashes(attachments: PecAttachment[]): BreveHashEntry[] {
  const out: BreveHashEntry[] = [];
  for (const a of attachments) {
    const name = a.filename;
    if (!name || !name.toLowerCase().endsWith(".hash")) continue;
    const raw = new TextDecoder().decode(a.content()).trim();
    const hex = /[0-9a-fA-F]{40,128}/.exec(raw)?.[0]?.toLowerCase() ?? raw.toLowerCase();
    out.push({ filename: name, originalFilename: name.slice(0, -".hash".length), hash: hex, entity: a.entity });
  }
  return out;
}
