/**
 * Reading PEC messages: locate the PEC entity (also inside forwards and list wrappers),
 * classify it (headers, then daticert, subject only as a last hint), extract daticert,
 * the original message and the signature, and check their consistency.
 *
 * @module
 */
// The modules themselves, not the barrels: those also load the builders, which reading never needs.
import { daticertDate, daysFromCivil, daysInMonth, digits } from "../daticert/date.js";
import { parseDaticert, parseDaticertAscii } from "../daticert/parse.js";
import type { Daticert, DatiData, ParsedDaticert } from "../daticert/index.js";
import { PecError } from "../errors.js";
import { checkLimit, parseEmbedded, parseMime } from "../mime/parse.js";
import { unflow } from "../mime/flowed.js";
import { decodeHeaderValue } from "../mime/words.js";
import type { MimeEntity, ParseMimeOptions } from "../mime/index.js";
import { extractEncapsulatedContent } from "../smime/cms.js";
import { RepeatingBase64 } from "../util/base64.js";
import { firstMailboxOf, mailboxesOf, normalizeMsgId, perContoDi } from "./address.js";
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
import { got } from "../util/got.js";
import { fromUtf16, leadingBytes, startsWithField, startsWithFrom } from "../util/message-start.js";
import { replaceSpans, squash } from "../util/text.js";

/** Options of {@link readPec}. */
export interface ReadPecOptions extends ParseMimeOptions {
  /** How many PECs nested inside originals to read (a forwarded PEC inside a busta, …). Default 8. */
  maxNesting?: number;
}

const DEFAULT_MAX_NESTING = 8;

/** The hidden (non-enumerable symbol) record of an object's lazy properties. */
const STATE = Symbol("postacert.lazy");

/** What an object's lazy properties are computed from, and what they gave so far. */
interface LazyState {
  /** One bit per property (its slot) once computed. */
  done: number;
  readonly values: unknown[];
}

/**
 * An enumerable property computed on first read and then kept. Decoding bodies, the
 * original's parts and the signature is most of a read's cost, and many callers
 * (classification, correlation, verification) never look at them.
 *
 * The descriptor, and so its getter, is made once per property and shared by every
 * object; the per-object inputs and results sit in a hidden record (see {@link defineLazy}).
 * A fresh getter closure per object made V8 build new hidden classes for every message;
 * those live in the old generation and kept each message's closures (and through them
 * its whole parse) alive until the next full GC: ≈30 KB promoted per message, and
 * scavenges took a quarter of readPec's time.
 */
function lazyProperty<S extends LazyState>(slot: number, compute: (state: S) => unknown): PropertyDescriptor {
  const bit = 1 << slot;
  return {
    enumerable: true,
    configurable: true,
    get(this: { readonly [STATE]: S }): unknown {
      const state = this[STATE];
      if ((state.done & bit) === 0) {
        state.values[slot] = compute(state);
        state.done |= bit; // after the call: a compute that throws runs again on the next read
      }
      return state.values[slot];
    },
  };
}

/** `Object.prototype.__defineGetter__` (ECMAScript Annex B, in every browser and server runtime), taken once. */
const defineGetter = (Object.prototype as { __defineGetter__?: (this: object, key: string, getter: () => unknown) => void }).__defineGetter__;

/**
 * Gives `target` its hidden record and its lazy properties, in the order listed, with
 * descriptors made once: a closure, a slot object and a descriptor literal per property
 * and object cost ≈0.5 µs more per PecOriginal. Each definition is still a runtime call
 * (≈0.3 µs): that, not the computing, is what the lazy properties cost a read.
 * `__defineGetter__` makes the very same property (enumerable, configurable, no setter)
 * as `Object.defineProperty` with these descriptors, skipping the reading of a
 * descriptor: ≈0.7 µs less per read for the eight properties.
 */
function defineLazy(target: object, state: LazyState, properties: readonly (readonly [string, PropertyDescriptor])[]): void {
  Object.defineProperty(target, STATE, { value: state });
  for (let i = 0; i < properties.length; i++) {
    const [key, descriptor] = properties[i]!;
    if (defineGetter !== undefined) defineGetter.call(target, key, descriptor.get!);
    else Object.defineProperty(target, key, descriptor);
  }
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
  if (!(input instanceof Uint8Array)) {
    if (typeof input !== "object" || input === null || !("children" in input)) {
      throw new PecError("ERR_INVALID_ARGUMENT", `readPec expects the message bytes (a Uint8Array) or a parsed MimeEntity; ${got(input)}`);
    }
    return withTrailing(readFrom(input, options, checkLimit(options.maxNesting, DEFAULT_MAX_NESTING, "maxNesting")));
  }
  const maxNesting = checkLimit(options.maxNesting, DEFAULT_MAX_NESTING, "maxNesting");
  // Storage damage, undone before parsing (never seen in what a gestore sends).
  let bytes = input;
  const repairs: PecIssue[] = [];
  const utf16 = fromUtf16(bytes);
  if (utf16) {
    bytes = utf16;
    repairs.push({
      code: "UTF16_DECODED",
      severity: "warning",
      message: "the file holds the message as UTF-16 text (as Windows PowerShell's > and Out-File save it); each character was read back as the byte it stood for",
    });
  }
  const skip = strayPrefix(bytes);
  if (skip) {
    bytes = bytes.subarray(skip.length);
    repairs.push({ code: "LEADING_BYTES_SKIPPED", severity: "info", message: `skipped ${skip.what} (${skip.length} bytes) before the first header line` });
  }
  if (doubledCr(bytes)) {
    const undone = undoubleCr(bytes);
    bytes = undone.bytes;
    repairs.push({
      code: "LINE_ENDINGS_REPAIRED",
      severity: "warning",
      message: `${undone.count} lines ended in CR CR LF (a CRLF file converted to CRLF once more, as text-mode writes on Windows do); they were read as CRLF`,
    });
  }
  const pec = withTrailing(readFrom(parseMime(bytes, options), options, maxNesting));
  if (repairs.length > 0) pec.issues.unshift(...repairs);
  return pec;
}

/**
 * Says when another message follows the one read: an mbox given whole, whose later
 * messages sit in the first one's epilogue (after its close delimiter), where nothing would
 * show they were never read. Only a multipart root can tell (a PEC's always is).
 */
function withTrailing(pec: ReadPec): ReadPec {
  const e = pec.root.multipart?.epilogue;
  if (!e || e.end - e.start < 8) return pec;
  const b = pec.root.source;
  for (let i = e.start; i < e.end; ) {
    const n = fromLine(b, i);
    if (n > 0 && i + n < e.end && startsWithField(b, i + n)) {
      pec.issues.push({
        code: "TRAILING_MESSAGE",
        severity: "warning",
        message: `another message begins after this one's close delimiter (an mbox "From " line and headers): only the first was read; splitMbox (postacert/mime), readMbox (postacert/node) and postacert inspect and verify read every message of an mbox`,
      });
      break;
    }
    const nl = b.indexOf(0x0a, i);
    if (nl < 0 || nl >= e.end) break;
    i = nl + 1;
  }
  return pec;
}

/**
 * Whether the first line ends in CR CR LF. A CRLF message that passes once more through
 * an LF → CRLF conversion (a text-mode write on Windows, FTP in ASCII mode) has every
 * line so: the blank line after the headers is no longer blank, and nothing parses.
 * Canonical MIME text has no bare CR, so undoing it restores the bytes the gestore signed.
 */
function doubledCr(bytes: Uint8Array): boolean {
  const nl = bytes.indexOf(0x0a);
  return nl >= 2 && bytes[nl - 1] === 0x0d && bytes[nl - 2] === 0x0d;
}

/** A copy with every CR CR LF as CR LF, and how many there were. */
function undoubleCr(bytes: Uint8Array): { bytes: Uint8Array; count: number } {
  const out = new Uint8Array(bytes.length);
  let o = 0;
  let from = 0;
  let count = 0;
  for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, nl + 1)) {
    if (nl < 2 || bytes[nl - 1] !== 0x0d || bytes[nl - 2] !== 0x0d) continue;
    out.set(bytes.subarray(from, nl - 1), o);
    o += nl - 1 - from;
    from = nl;
    count++;
  }
  out.set(bytes.subarray(from), o);
  o += bytes.length - from;
  return { bytes: out.subarray(0, o), count };
}

/**
 * What a file may carry before a message's first header line without being part of it (see
 * {@link leadingBytes}). Read as they are, a BOM hides the first header line's name and a blank
 * line leaves the message without any header, so a PEC becomes unreadable. Skipped only when
 * a header line (`Name:`) follows: otherwise the bytes are left for parseMime to read as
 * they are.
 */
function strayPrefix(bytes: Uint8Array): { length: number; what: string } | undefined {
  const b0 = bytes[0];
  if (b0 !== 0xef && b0 !== 0x0a && b0 !== 0x0d && b0 !== 0x46) return undefined;
  const { length, bom, blank } = leadingBytes(bytes);
  // An mbox's "From " line (a message saved by mutt, or cut from an mbox) is no header field.
  const from = fromLine(bytes, length);
  const end = length + from;
  if (end === 0 || !startsWithField(bytes, end)) return undefined;
  const parts = [bom && "a UTF-8 byte order mark", blank === 1 ? "a blank line" : blank > 1 && `${blank} blank lines`, from > 0 && 'an mbox "From " line'].filter((p) => p !== false);
  const what = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)!}` : parts[0]!;
  return { length: end, what };
}

/** The length of an mbox `From ` line (its line break included) at `i`, else 0. */
function fromLine(bytes: Uint8Array, i: number): number {
  if (!startsWithFrom(bytes, i)) return 0;
  const nl = bytes.indexOf(0x0a, i);
  return nl < 0 ? 0 : nl + 1 - i;
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
  const maxDepth = options.maxDepth ?? 32;
  if (!(0 < maxDepth)) return undefined; // as the loop's test below would say
  // The root itself, the usual case, before any list of candidates is built.
  const hit = asPec(root, []);
  if (hit) return hit;
  let level: { message: MimeEntity; path: number[] }[] = embeddedMessages(root, [], options);
  for (let depth = 1; level.length > 0 && depth < maxDepth; depth++) {
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
  for (const p of parts) if (p.filename?.toLowerCase() === DATICERT_FILENAME) return p;
  return parts.find((p) => isXmlPart(p) && /<postacert[\s>]/.test(asciiHead(p.decodedBody())));
}

function asciiHead(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < Math.min(bytes.length, 512); i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** The original message part: message/rfc822 preferring the one named postacert.eml. */
function findOriginalPart(content: MimeEntity): MimeEntity | undefined {
  if (content.contentType.type !== "multipart") return undefined;
  const parts = content.children;
  let first: MimeEntity | undefined;
  let several = false;
  for (const p of parts) {
    if (p.contentType.mimeType !== "message/rfc822") continue;
    if (first !== undefined) {
      several = true;
      break;
    }
    first = p;
  }
  // The name only chooses among several messages: a lone one is the original whatever
  // its name, which is then not decoded (≈0.4 µs per receipt).
  if (first !== undefined && !several) return first;
  for (const p of parts) if (p.contentType.mimeType === "message/rfc822" && p.filename?.toLowerCase() === POSTACERT_FILENAME) return p;
  return first ?? parts.find((p) => p.filename?.toLowerCase() === POSTACERT_FILENAME);
}

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();
/** Where the bytes of an ASCII daticert.xml are put for parseDaticert, which keeps nothing of them. */
const scratch = new Uint8Array(16 * 1024);

/**
 * Parses the daticert part. Gestori send it in base64, which the platform's `atob`
 * decodes ≈2.5 µs faster per receipt than `decodedBody()`'s decoder written in
 * JavaScript (as much as parsing the XML now costs). `atob` (forgiving-base64) either
 * refuses the text, which then takes `decodedBody()`, or gives the bytes the tolerant
 * decoder gives, as a string of bytes. When all are ASCII, as in nearly every
 * daticert.xml, `encodeInto` writes them into a reused buffer (a new array for each was
 * ≈0.9 µs more), cleared afterwards so that no personal data stays behind, and the
 * string is their text (not decoded again); otherwise they are copied one by one.
 *
 * @internal exported for the tests
 */
export function readDaticert(part: MimeEntity): ParsedDaticert {
  if (part.transferEncoding !== "base64" || typeof atob !== "function") return parseDaticert(part.decodedBody());
  let binary: string;
  try {
    // Any byte outside ASCII decodes to a character atob refuses.
    binary = atob(utf8Decoder.decode(part.bodyBytes()));
  } catch {
    return parseDaticert(part.decodedBody());
  }
  const n = binary.length;
  if (n <= scratch.length) {
    const { read, written } = utf8Encoder.encodeInto(binary, scratch);
    try {
      if (read === n && written === n) return parseDaticertAscii(scratch.subarray(0, n), binary);
    } finally {
      scratch.fill(0, 0, written);
    }
  }
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = binary.charCodeAt(i);
  return parseDaticert(bytes);
}

/** A text/plain leaf as mail clients show it: `format=flowed` (RFC 3676) unwrapped. */
function plainText(e: MimeEntity): string {
  const text = e.text();
  const params = e.contentType.params;
  return params["format"]?.toLowerCase() === "flowed" ? unflow(text, params["delsp"]?.toLowerCase() === "yes") : text;
}

/** text/plain and text/html of the human-readable first part. */
function bodyTexts(content: MimeEntity): { text?: string; html?: string } {
  const first = content.contentType.type === "multipart" ? content.children[0] : content;
  const out: { text?: string; html?: string } = {};
  if (!first) return out;
  const leaves = first.contentType.mimeType === "multipart/alternative" ? first.children : [first];
  for (const leaf of leaves) {
    const t = leaf.contentType.mimeType;
    if (t === "text/plain" && out.text === undefined) out.text = plainText(leaf);
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
  /** The type the headers named when the signed daticert.xml said another (which is `type`). */
  overruled?: PecType;
}

// Every prefix as one alternative (one capture group each), in the list's order: the
// first that matches is the one trying them in turn would find (≈140 ns instead of ≈350).
// Gestori and the RFC disagree on spaces ("SUP.  TEMPO"): any run matches one space.
const PREFIXES = new RegExp(
  "^(?:" + SUBJECT_PREFIXES.map(([prefix]) => "(" + prefix.split(" ").map(escapeRe).join("\\s+") + "\\s*:\\s?)").join("|") + ")",
  "i",
);

/**
 * The PEC prefix of a subject: its type, whether it names the virus variant, and the
 * subject after it.
 *
 * @internal exported for the tests
 */
export function subjectPrefix(subject: string | undefined): { type: PecType; virus: boolean; rest: string } | undefined {
  if (subject === undefined) return undefined;
  let s = subject.trimStart();
  // Mailing lists prepend tags ("[Osst-users] [SPAM] POSTA CERTIFICATA: …").
  if (s.charCodeAt(0) === 0x5b /* [ */) s = s.replace(/^(?:\[[^\]]*\]\s*)+/, "");
  const hit = PREFIXES.exec(s);
  if (hit === null) return undefined;
  let i = 1;
  while (hit[i] === undefined) i++;
  const [, type, virus] = SUBJECT_PREFIXES[i - 1]!;
  return { type, virus, rest: s.slice(hit[0].length) };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function classify(message: MimeEntity, daticert: Daticert | undefined, subject: string | undefined): Classification | undefined {
  const byHeaders = headerType(message, daticert);
  // The headers sit outside the signature and daticert.xml inside it: where they disagree, the
  // type is daticert's (spec §12.2, step 3), or editing one unsigned header would turn a signed
  // non-delivery notice into a delivery receipt that verifies. (A busta di anomalia has no
  // daticert of its own, so one beside its X-Trasporto: errore disagrees too.)
  if (daticert && (!byHeaders || byHeaders.type !== daticert.tipo)) {
    const c: Classification = { type: daticert.tipo, virus: daticert.tipo === "rilevazione-virus" || daticert.errore === "virus", by: "daticert" };
    if (byHeaders) c.overruled = byHeaders.type;
    return c;
  }
  if (byHeaders) return byHeaders;
  const hint = subjectPrefix(subject);
  if (hint) return { type: hint.type, virus: hint.virus, by: "subject" };
  return undefined;
}

/** The type X-Trasporto or X-Ricevuta names, if any. */
function headerType(message: MimeEntity, daticert: Daticert | undefined): Classification | undefined {
  const trasporto = message.header("x-trasporto")?.trim().toLowerCase();
  if (trasporto === "posta-certificata") return { type: "posta-certificata", virus: false, by: "headers" };
  if (trasporto === "errore") return { type: "anomalia", virus: false, by: "headers" };
  const ricevuta = message.header("x-ricevuta")?.trim().toLowerCase();
  if (ricevuta && (X_RICEVUTA as readonly string[]).includes(ricevuta)) {
    const type = ricevuta as XRicevuta;
    const securityError = message.header("x-verificasicurezza")?.trim().toLowerCase() === "errore";
    return { type, virus: type === "rilevazione-virus" || securityError || daticert?.errore === "virus", by: "headers" };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading a located PEC

function notPec(root: MimeEntity): ReadPec {
  const subject = decodedHeader(root, "subject");
  const from = firstMailboxOf(root.header("from"))?.address;
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
  return recipientsFrom(addressesOf(e, "to"), addressesOf(e, "cc"));
}

function recipientsFrom(to: readonly string[], cc: readonly string[]): PecRecipient[] {
  const out: PecRecipient[] = [];
  for (const address of to) out.push({ address, field: "to" });
  for (const address of cc) out.push({ address, field: "cc" });
  return out;
}

/**
 * RFC 5322 date, tolerant of the usual deviations; undefined when unreadable.
 *
 * @internal exported for the tests
 */
export function parseDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const fast = rfc5322Time(value);
  if (fast !== undefined) return new Date(fast);
  // The two replacements cost twice Date.parse itself; most dates have nothing to clean.
  const cleaned = isCleanDate(value) ? value : squash(replaceSpans(value, "(", ")", " "));
  const t = Date.parse(cleaned);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Three ASCII letters at `i`, lower-cased, as one number (see {@link MONTHS}). */
function letters3(s: string, i: number): number {
  return ((s.charCodeAt(i) | 0x20) << 16) | ((s.charCodeAt(i + 1) | 0x20) << 8) | (s.charCodeAt(i + 2) | 0x20);
}

/** Month numbers (1–12) by their three letters of RFC 5322 as {@link letters3} gives them. */
const MONTHS: ReadonlyMap<number, number> = new Map(
  ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map((m, i) => [letters3(m, 0), i + 1]),
);
const WEEKDAYS: ReadonlySet<number> = new Set(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => letters3(d, 0)));

/**
 * The time of a date in exactly the layout every mailer writes, `[Ddd, ]D[D] Mon YYYY
 * HH:MM:SS ±HHMM` (RFC 5322 §3.3), with every field in range and a year from 1970 on;
 * undefined for anything else, which `Date.parse` then reads as before. The engine's
 * parser runs in its runtime (a receipt carries a date in its original message, ≈1 µs
 * when it alternates with the RSA verification); this is the same value in arithmetic.
 * Equivalence with `Date.parse` is property-tested.
 */
function rfc5322Time(s: string): number | undefined {
  let i = 0;
  // Optional day of the week: a real name, then ", ".
  if (s.charCodeAt(3) === 0x2c /* , */) {
    if (!WEEKDAYS.has(letters3(s, 0)) || s.charCodeAt(4) !== 0x20) return undefined;
    i = 5;
  }
  let day = digits(s, i);
  if (day >= 0 && s.charCodeAt(i + 2) === 0x20) i += 3;
  else {
    day = s.charCodeAt(i) - 0x30;
    if (day < 1 || day > 9 || s.charCodeAt(i + 1) !== 0x20) return undefined;
    i += 2;
  }
  const month = MONTHS.get(letters3(s, i));
  if (month === undefined || s.charCodeAt(i + 3) !== 0x20) return undefined;
  i += 4;
  const century = digits(s, i);
  const yy = digits(s, i + 2);
  if (century < 19 || yy < 0 || s.charCodeAt(i + 4) !== 0x20) return undefined;
  const year = century * 100 + yy;
  i += 5;
  const hour = digits(s, i);
  const minute = digits(s, i + 3);
  const second = digits(s, i + 6);
  if (s.charCodeAt(i + 2) !== 0x3a || s.charCodeAt(i + 5) !== 0x3a || s.charCodeAt(i + 8) !== 0x20) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  i += 9;
  const sign = s.charCodeAt(i);
  const zh = digits(s, i + 1);
  const zm = digits(s, i + 3);
  if ((sign !== 0x2b && sign !== 0x2d) || zh < 0 || zh > 23 || zm < 0 || zm > 59 || s.length !== i + 5) return undefined;
  if (year < 1970 || day < 1 || day > daysInMonth(year, month)) return undefined;
  const offset = (sign === 0x2b ? 1 : -1) * (zh * 60 + zm);
  return (daysFromCivil(year, month, day) * 86_400 + hour * 3600 + (minute - offset) * 60 + second) * 1000;
}

/** Whether the clean-up of {@link parseDate} would leave `value` as it is: no comment, single spaces between words. */
function isCleanDate(value: string): boolean {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x20) {
      if (i === 0 || i === n - 1 || value.charCodeAt(i - 1) === 0x20) return false;
    } else if (c === 0x28 /* ( */ || c < 0x20 || c >= 0x7f) {
      // Other white space (tabs, NBSP, …) might need the replacement.
      return false;
    }
  }
  return true;
}

/** How far the Date header may be from the daticert time before DATE_MISMATCH (a real busta: 6 s). */
const DATE_TOLERANCE_MS = 5 * 60_000;

const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * The Date header is outside the signature, the daticert time inside it; gestori write the
 * same instant in both (a few seconds apart in the wild). Mail clients show and sort by the
 * header, so an edited one must at least show: what to say when it is off, or undefined.
 */
function dateMismatch(message: MimeEntity, data: DatiData, signed: Date): string | undefined {
  const field = message.headers.find((h) => h.lname === "date");
  if (field === undefined || spellsDatiData(message.source, field.start, field.end, data)) return undefined;
  const header = field.value;
  const shown = parseDate(header);
  if (!shown || Math.abs(shown.getTime() - signed.getTime()) <= DATE_TOLERANCE_MS) return undefined;
  return `the Date header says ${header} but daticert says ${signed.toISOString()}: the time is daticert's`;
}

/**
 * Whether the Date field at `src[start, end)` holds the daticert time as gestori write it
 * (`15 Mar 2024 10:30:00 +0100` for 15/03/2024, 10:30:00, +0100): the same instant, found
 * in the bytes. Decoding the header value (its first read) and parsing it cost ≈ 1.5 µs.
 */
function spellsDatiData(src: Uint8Array, start: number, end: number, data: DatiData): boolean {
  const g = data.giorno;
  if (g.length !== 10 || g[2] !== "/" || g[5] !== "/") return false;
  const month = MONTH_NAMES[Number(g.slice(3, 5)) - 1];
  if (month === undefined) return false;
  const text = `${g[0] === "0" ? g[1] : g.slice(0, 2)} ${month} ${g.slice(6)} ${data.ora} ${data.zona}`;
  const n = text.length;
  next: for (let i = start + 1; i + n <= end; i++) {
    for (let k = 0; k < n; k++) if (src[i + k] !== text.charCodeAt(k)) continue next;
    // "2 May" inside "12 May" is another day.
    const before = src[i - 1]!;
    return before < 48 || before > 57;
  }
  return false;
}

function readLocated(root: MimeEntity, found: Located, options: ReadPecOptions, nesting: number): ReadPec {
  const pec = readFields(root, found, options, nesting);
  // Checked here, not inside readFields: there, the same calls cost a receipt ≈ 2 % of its
  // read and verification in interleaved runs (V8 inlining less of the big function, by
  // all appearances), here ≈ 0.4 %, within the noise.
  const mismatch = pec.daticert && pec.date ? dateMismatch(pec.message, pec.daticert.dati.data, pec.date) : undefined;
  if (mismatch) pec.issues.push({ code: "DATE_MISMATCH", severity: "warning", message: mismatch });
  return pec;
}

function readFields(root: MimeEntity, found: Located, options: ReadPecOptions, nesting: number): ReadPec {
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
    const extra = signed.contentType.mimeType === "multipart/signed" ? signed.children.slice(2) : [];
    if (extra.length > 0) {
      const types = extra.map((p) => p.contentType.mimeType).join(", ");
      issue("UNSIGNED_PART", "warning", `the multipart/signed carries ${extra.length} part(s) after the signature (${types}): outside the signature, ignored here, but a mail client may show them`);
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
      daticert = readDaticert(daticertEntity);
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
  if (cls.overruled) issue("TYPE_MISMATCH", "error", `the headers say ${cls.overruled} but the signed daticert.xml says ${type}: the type is daticert.xml's`);
  else if (cls.by === "daticert") issue("CLASSIFIED_BY_DATICERT", "warning", "no X-Trasporto/X-Ricevuta header; the type comes from daticert.xml");
  if (cls.by === "subject") issue("CLASSIFIED_BY_SUBJECT", "warning", "no PEC header and no daticert.xml; the type comes from the subject prefix only");
  const listWrapped = signed !== undefined && signed !== message;
  if (path.length > 0) issue("WRAPPED", "info", `the PEC message was found inside another message (at part ${path.join(".")})`);
  else if (listWrapped) issue("WRAPPED", "info", "the signed PEC entity sits inside a wrapper (a mailing list re-packed the message)");
  pecHeaderIssues(message, issue);

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

  const from = firstMailboxOf(message.header("from"));
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

  // The Subject header is outside the signature, daticert oggetto inside it (originalSubject is
  // the oggetto): an edited subject must at least show. Whitespace may differ (folding).
  const headerSubject = prefix ? prefix.rest : subject;
  const oggetto = daticert?.intestazione.oggetto;
  if (oggetto !== undefined && headerSubject !== undefined && oggetto !== headerSubject && squash(oggetto) !== squash(headerSubject)) {
    issue("SUBJECT_MISMATCH", "warning", `the Subject header says "${headerSubject}" but daticert oggetto is "${oggetto}"`);
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

  const date = (daticert && daticertDate(daticert.dati.data)) ?? parseDate(message.header("date"));
  // The original's To and Cc were just read into `original`: not parsed again.
  const recipients: PecRecipient[] = daticert
    ? daticert.intestazione.destinatari.map((d) => ({ address: d.address, tipo: d.tipo }))
    : original
      ? recipientsFrom(original.to, original.cc)
      : recipientsFromHeaders(message);
  if (original) attachFields(recipients, original.to, original.cc);
  else if (type === "posta-certificata") attachFields(recipients, addressesOf(message, "to"), addressesOf(message, "cc"));

  const xMittente = message.header("x-mittente")?.trim();
  const sender = daticert?.intestazione.mittente ?? onBehalf ?? xMittente ?? (type === "posta-certificata" ? undefined : from?.address);
  const msgid = daticert?.dati.msgid ?? riferimento;
  const identificativo =
    daticert?.dati.identificativo ?? (type === "posta-certificata" ? stripAngles(message.header("message-id")) : undefined);
  const originalSubject = oggetto ?? headerSubject;

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
  defineLazy(
    out,
    new PecState(content, daticert, prefix?.rest),
    type === "preavviso-errore-consegna" ? PEC_LAZY_TIMEOUT : type === "anomalia" ? PEC_LAZY_ANOMALIA : PEC_LAZY,
  );
  return out;
}

/** Inputs and results of a ReadPec's lazy properties. */
class PecState implements LazyState {
  done = 0;
  readonly values: unknown[] = [];
  private bodies: { text?: string; html?: string } | undefined = undefined;

  constructor(
    private readonly content: MimeEntity,
    readonly daticert: Daticert | undefined,
    readonly prefixRest: string | undefined,
  ) {}

  texts(): { text?: string; html?: string } {
    return (this.bodies ??= bodyTexts(this.content));
  }

  plain(): string | undefined {
    return this.texts().text ?? stripTags(this.texts().html);
  }
}

const PEC_LAZY: readonly (readonly [string, PropertyDescriptor])[] = [
  ["text", lazyProperty<PecState>(0, (s) => s.texts().text)],
  ["html", lazyProperty<PecState>(1, (s) => s.texts().html)],
];
const PEC_LAZY_TIMEOUT = [...PEC_LAZY, ["timeout", lazyProperty<PecState>(2, (s) => timeoutKind(s.plain(), s.daticert?.intestazione.oggetto ?? s.prefixRest, s.daticert?.dati.erroreEsteso))] as const];
const PEC_LAZY_ANOMALIA = [...PEC_LAZY, ["anomaliaReason", lazyProperty<PecState>(2, (s) => anomalyReason(s.plain()))] as const];

function stripAngles(id: string | undefined): string | undefined {
  const t = id?.trim().replace(/^<|>$/g, "").trim();
  return t || undefined;
}

const CANONICAL_PEC_HEADERS: ReadonlyMap<string, string> = new Map(
  ["X-Trasporto", "X-Ricevuta", "X-Riferimento-Message-ID", "X-TipoRicevuta", "X-VerificaSicurezza", "X-Mittente"].map((n) => [n.toLowerCase(), n]),
);

/** PEC headers in unusual case, or given more than once (only the first is read). */
function pecHeaderIssues(message: MimeEntity, issue: (c: PecIssue["code"], s: PecIssue["severity"], m: string) => void): void {
  let seen: string[] | undefined;
  let repeated: string[] | undefined;
  for (const h of message.headers) {
    // Every PEC header starts with "x-": the map is not asked about the others.
    if (h.lname.charCodeAt(0) !== 0x78 || h.lname.charCodeAt(1) !== 0x2d) continue;
    const c = CANONICAL_PEC_HEADERS.get(h.lname);
    if (c === undefined) continue;
    if (c !== h.name) issue("HEADER_CASE", "info", `header ${h.name} is usually written ${c}`);
    if (!seen?.includes(h.lname)) (seen ??= []).push(h.lname);
    else if (!repeated?.includes(h.lname)) (repeated ??= []).push(h.lname);
  }
  // These headers are outside the signature: a second one may be a relay's copy, or one added
  // to make the message read as another type (daticert still decides the type when present).
  for (const l of repeated ?? []) {
    const values = message.headerAll(l).map((v) => JSON.stringify(v.trim()));
    issue("HEADER_REPEATED", "warning", `${CANONICAL_PEC_HEADERS.get(l)} is given ${values.length} times (${values.join(", ")}); only the first is read`);
  }
}

function receiptType(type: PecType, daticert: Daticert | undefined, message: MimeEntity): ReadPec["ricevuta"] {
  if (type !== "avvenuta-consegna" && type !== "posta-certificata") return undefined;
  if (daticert?.dati.ricevuta) return daticert.dati.ricevuta;
  const h = message.header("x-tiporicevuta")?.trim().toLowerCase();
  if (h === "breve" || h === "sintetica" || h === "completa") return h;
  return "completa";
}

function hasLowerCase(list: readonly string[], key: string): boolean {
  for (let i = 0; i < list.length; i++) if (list[i]!.toLowerCase() === key) return true;
  return false;
}

/**
 * Marks each recipient as To or Cc from the original's To and Cc (To first).
 *
 * @internal exported for the tests
 */
export function attachFields(recipients: PecRecipient[], to: readonly string[], cc: readonly string[]): void {
  if (to.length + cc.length <= 8) {
    // The usual one or two addresses: a scan costs less than building a map.
    for (const r of recipients) {
      if (r.field !== undefined) continue;
      const key = r.address.toLowerCase();
      if (hasLowerCase(to, key)) r.field = "to";
      else if (hasLowerCase(cc, key)) r.field = "cc";
    }
    return;
  }
  const fields = new Map<string, "to" | "cc">();
  for (const a of to) {
    const key = a.toLowerCase();
    if (!fields.has(key)) fields.set(key, "to");
  }
  for (const a of cc) {
    const key = a.toLowerCase();
    if (!fields.has(key)) fields.set(key, "cc");
  }
  for (const r of recipients) {
    const f = fields.get(r.address.toLowerCase());
    if (f && r.field === undefined) r.field = f;
  }
}

/**
 * The 12 h and 24 h timeout notices differ only in their text (spec §4.11). What the sender
 * wrote is removed first: the quoted subject ("Consegna entro 12 ore" must not make a 24 h
 * notice a 12 h one) and the errore esteso the text repeats after a label. Each only where
 * it stands as a value (see {@link asValue}): a subject "12" or "ore" must not eat the
 * "12 ore" of the notice's own sentence.
 */
function timeoutKind(text: string | undefined, subject: string | undefined, erroreEsteso: string | undefined): ReadPec["timeout"] {
  if (!text) return undefined;
  const said = [subject, erroreEsteso].filter((v): v is string => v !== undefined && v.trim() !== "").map((v) => v.trim());
  const kindOf = (stands: Stands): { h12: boolean; h24: boolean } => {
    let t = text;
    for (const v of said) t = without(t, v, stands);
    t = t.replace(/"[^"\r\n]*"/g, " ").toLowerCase();
    return { h12: /\b12\s*(?:ore|h|hours)\b/.test(t), h24: /\b24\s*(?:ore|h|hours)\b/.test(t) };
  };
  let { h12, h24 } = kindOf(asValue);
  // Both delays still named: the sender's text may stand unquoted, or between HTML entities or
  // tags (&quot;…&quot;, <b>…</b>). Removed then wherever no letter or digit touches it.
  if (h12 && h24) ({ h12, h24 } = kindOf(apart));
  if (h24 && !h12) return "scadenza";
  if (h12) return "preavviso";
  return undefined;
}

/** Where `text[at, end)` is a value set apart from the notice's own words (see {@link timeoutKind}). */
type Stands = (text: string, at: number, end: number) => boolean;

/**
 * `text` with each occurrence of `value` that `stands` accepts replaced by a space.
 * Occurrences do not overlap (as split() finds them): linear in the text.
 */
function without(text: string, value: string, stands: Stands): string {
  if (value === "") return text;
  let out = "";
  let from = 0;
  for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + value.length)) {
    const end = at + value.length;
    if (!stands(text, at, end)) continue;
    out += text.slice(from, at) + " ";
    from = end;
  }
  return out + text.slice(from);
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** No letter or digit touches it. */
const apart: Stands = (text, at, end) => !(at > 0 && WORD_CHAR.test(text[at - 1]!)) && !(end < text.length && WORD_CHAR.test(text[end]!));

const QUOTE_MARKS = "\"'«»“”‘’";

/**
 * A quoted or labelled value: after a quote mark, a line start, or a colon and spaces; and
 * before a quote mark or the end of its line.
 */
const asValue: Stands = (text, at, end) => opensValue(text, at) && (end === text.length || QUOTE_MARKS.includes(text[end]!) || text[end] === "\r" || text[end] === "\n");

/** Whether a value may start at `at`: after a quote mark, a line start, or a colon and spaces. */
function opensValue(text: string, at: number): boolean {
  let i = at - 1;
  if (i < 0 || QUOTE_MARKS.includes(text[i]!) || text[i] === "\n") return true;
  while (i >= 0 && (text[i] === " " || text[i] === "\t")) i--;
  return i < 0 || text[i] === ":" || text[i] === "\n";
}

function stripTags(html: string | undefined): string | undefined {
  return html === undefined ? undefined : replaceSpans(html, "<", ">", " ");
}

function anomalyReason(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /per il seguente errore:\s*([^\r\n]+)/i.exec(text) ?? /due to the following error:\s*([^\r\n]+)/i.exec(text);
  return m?.[1]?.trim() || undefined;
}

function readSignature(signed: MimeEntity, options: ReadPecOptions): { signature?: PecSignatureInfo; content?: MimeEntity } {
  const ct = signed.contentType;
  if (ct.mimeType === "multipart/signed") {
    const content = signed.children[0];
    const sig = signed.children[1];
    if (!content) return {};
    if (!sig) return { content };
    // Property by property, in the key order of the spreads this replaced.
    const signature = { form: "detached", entity: signed, signedBytes: content.raw() } as PecSignatureInfo;
    const { protocol, micalg } = ct.params;
    if (protocol !== undefined) signature.protocol = protocol;
    if (micalg !== undefined) signature.micalg = micalg;
    defineLazy(signature, new SignatureState(sig), SIGNATURE_LAZY);
    return { signature, content };
  }
  // Opaque: the content is inside the CMS.
  const cms = signatureBytes(signed);
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
  const from = firstMailboxOf(message.header("from"));
  const subject = decodedHeader(message, "subject");
  const date = parseDate(message.header("date"));
  const messageId = message.header("message-id")?.trim();
  const riferimentoMessageId = message.header("x-riferimento-message-id")?.trim();
  // Built property by property (no spreads), and the lazy properties are defined in
  // their final key order (attachments, hashes, text, html, inner): turning data
  // properties into accessors afterwards put every PecOriginal in dictionary mode.
  const out = { entity: part, message, bytes: message.raw() } as { -readonly [K in keyof PecOriginal]: PecOriginal[K] };
  if (from) out.from = from.address;
  out.to = addressesOf(message, "to");
  out.cc = addressesOf(message, "cc");
  if (subject !== undefined) out.subject = subject;
  if (date) out.date = date;
  if (messageId !== undefined) out.messageId = messageId;
  if (riferimentoMessageId !== undefined) out.riferimentoMessageId = riferimentoMessageId;
  defineLazy(out, new OriginalState(message, options, nesting), ORIGINAL_LAZY);
  return out;
}

/** Inputs and results of a PecOriginal's lazy properties. */
class OriginalState implements LazyState {
  done = 0;
  readonly values: unknown[] = [];
  private leaves: ReturnType<typeof decodeLeaves> | undefined = undefined;

  constructor(
    private readonly message: MimeEntity,
    private readonly options: ReadPecOptions,
    private readonly nesting: number,
  ) {}

  decoded(): ReturnType<typeof decodeLeaves> {
    return (this.leaves ??= decodeLeaves(this.message));
  }

  inner(): ReadPec | undefined {
    if (this.nesting <= 0) return undefined;
    const found = locate(this.message, this.options);
    return found ? readLocated(this.message, found, this.options, this.nesting - 1) : undefined;
  }
}

const ORIGINAL_LAZY: readonly (readonly [string, PropertyDescriptor])[] = [
  ["attachments", lazyProperty<OriginalState>(0, (s) => s.decoded().attachments)],
  ["hashes", lazyProperty<OriginalState>(1, (s) => breveHashes(s.decoded().attachments))],
  ["text", lazyProperty<OriginalState>(2, (s) => s.decoded().text)],
  ["html", lazyProperty<OriginalState>(3, (s) => s.decoded().html)],
  ["inner", lazyProperty<OriginalState>(4, (s) => s.inner())],
];

/** Input of a detached signature's lazy `cms`. */
class SignatureState implements LazyState {
  done = 0;
  readonly values: unknown[] = [];

  constructor(readonly part: MimeEntity) {}
}

const SIGNATURE_LAZY: readonly (readonly [string, PropertyDescriptor])[] = [["cms", lazyProperty<SignatureState>(0, (s) => signatureBytes(s.part))]];

/** A gestore's p7s repeats its certificates on every message: see {@link RepeatingBase64}. */
const p7s = new RepeatingBase64();

/** The decoded body of a signature part (`decodedBody()`, faster for a p7s like an earlier one). */
function signatureBytes(part: MimeEntity): Uint8Array {
  return part.transferEncoding === "base64" ? p7s.decode(part.bodyBytes()) : part.decodedBody();
}

/** The addresses of every `field` header, in order. */
function addressesOf(message: MimeEntity, field: "to" | "cc"): string[] {
  const out: string[] = [];
  for (const v of message.headerAll(field)) {
    const list = mailboxesOf(v);
    for (let i = 0; i < list.length; i++) out.push(list[i]!.address);
  }
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
        text = plainText(e);
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
