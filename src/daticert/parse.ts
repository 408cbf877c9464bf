/**
 * The tolerant `daticert.xml` parser.
 *
 * @module
 */
import { SaxesParser, type SaxesTagPlain } from "saxes";
import { PecError, type PecErrorCode, type PecErrorDetails } from "../errors.js";
import { decodeXmlBytes, isSingleByte } from "./decode.js";
import {
  DATICERT_ERRORE,
  DATICERT_TIPO,
  DESTINATARI_TIPO,
  RICEVUTA_TIPO,
  type DaticertErroreValue,
  type DaticertTipo,
  type DaticertWarning,
  type DaticertWarningCode,
  type Destinatario,
  type DestinatarioTipo,
  type ParsedDaticert,
  type RicevutaTipo,
} from "./model.js";
import { ILLEGAL_CHAR, isXmlChar, sanitizeXml, toSourceIndex, type Sanitized } from "./sanitize.js";
import { got } from "../util/got.js";

/** Options of {@link parseDaticert}. */
export interface DaticertParseOptions {
  /**
   * Largest accepted input, in bytes (in UTF-16 code units for a string). Real files
   * are 1-3 KiB; even 1,000 recipients stay far below the default, 1 MiB.
   */
  maxSize?: number;
  /** Deepest accepted element nesting (the DTD needs 3). Default 64. */
  maxDepth?: number;
  /**
   * What replaces each character, or character reference, that XML 1.0 forbids (see
   * {@link DaticertWarningCode} `ILLEGAL_CHARACTER`). Default `""` (removed). It must
   * itself be plain XML character data: no `<`, `&`, quotes or forbidden characters;
   * `" "` and `"\uFFFD"` are typical choices.
   */
  replacement?: string;
}

/** Default {@link DaticertParseOptions.maxSize}: 1 MiB. */
export const DATICERT_DEFAULT_MAX_SIZE = 1 << 20;
/** Default {@link DaticertParseOptions.maxDepth}. */
export const DATICERT_DEFAULT_MAX_DEPTH = 64;

type SaxOptions = { position: false; xmlns: false };

// Element contexts.
const C_DOC = 0;
const C_ROOT = 1;
const C_INT = 2;
const C_DATI = 3;
const C_DATA = 4;
const C_LEAF = 5;
const C_SKIP = 6;

// Leaf fields.
const F_MITTENTE = 1;
const F_DESTINATARI = 2;
const F_RISPOSTE = 3;
const F_OGGETTO = 4;
const F_GESTORE = 5;
const F_IDENTIFICATIVO = 6;
const F_MSGID = 7;
const F_RICEVUTA = 8;
const F_CONSEGNA = 9;
const F_RICEZIONE = 10;
const F_ERRORE_ESTESO = 11;
const F_GIORNO = 12;
const F_ORA = 13;

const INT_CHILDREN: ReadonlyMap<string, number> = new Map([
  ["mittente", F_MITTENTE],
  ["destinatari", F_DESTINATARI],
  ["risposte", F_RISPOSTE],
  ["oggetto", F_OGGETTO],
]);
const DATI_CHILDREN: ReadonlyMap<string, number> = new Map([
  ["gestore-emittente", F_GESTORE],
  ["identificativo", F_IDENTIFICATIVO],
  ["msgid", F_MSGID],
  ["ricevuta", F_RICEVUTA],
  ["consegna", F_CONSEGNA],
  ["ricezione", F_RICEZIONE],
  ["errore-esteso", F_ERRORE_ESTESO],
]);
const DATA_CHILDREN: ReadonlyMap<string, number> = new Map([
  ["giorno", F_GIORNO],
  ["ora", F_ORA],
]);
const FIELD_NAME = [
  "",
  "mittente",
  "destinatari",
  "risposte",
  "oggetto",
  "gestore-emittente",
  "identificativo",
  "msgid",
  "ricevuta",
  "consegna",
  "ricezione",
  "errore-esteso",
  "giorno",
  "ora",
];

const TIPO_SET: ReadonlySet<string> = new Set(DATICERT_TIPO);
const ERRORE_SET: ReadonlySet<string> = new Set(DATICERT_ERRORE);
const DEST_SET: ReadonlySet<string> = new Set(DESTINATARI_TIPO);
const RICEVUTA_SET: ReadonlySet<string> = new Set(RICEVUTA_TIPO);

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Trims XML white space only: NBSP and other Unicode spaces are content. */
function trimXml(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isXmlSpace(s.charCodeAt(a))) a++;
  while (b > a && isXmlSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Trimmed and lower-cased token (attribute values are compared case-insensitively). */
function token(s: string): string {
  const t = trimXml(s);
  // Fast path: real files are already lower case.
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return t.toLowerCase();
  }
  return t;
}

/** Thrown inside saxes handlers; converted to a PecError with a position outside. */
class Stop {
  constructor(
    readonly code: PecErrorCode,
    readonly message: string,
    readonly index: number,
    readonly limit?: number,
  ) {}
}

interface PendingWarning {
  code: DaticertWarningCode;
  message: string;
  count: number;
  /** Index in the decoded text. */
  index: number;
}

/** What a document says, filled by either reader (the saxes one or {@link fastRead}). */
class Fields {
  tipo: DaticertTipo | undefined;
  errore: DaticertErroreValue = "nessuno";
  sawInt = false;
  sawDati = false;
  sawData = false;
  mittente: string | undefined;
  readonly destinatari: Destinatario[] = [];
  risposte: string | undefined;
  oggetto: string | undefined;
  gestore: string | undefined;
  zona: string | undefined;
  giorno: string | undefined;
  ora: string | undefined;
  identificativo: string | undefined;
  msgid: string | undefined;
  ricevuta: RicevutaTipo | undefined;
  sawRicevuta = false;
  consegna: string | undefined;
  readonly ricezione: string[] = [];
  erroreEsteso: string | undefined;

  warnings: Map<string, PendingWarning> | null = null;

  warnAt(code: DaticertWarningCode, key: string, message: string, index: number): void {
    const map = (this.warnings ??= new Map());
    const w = map.get(key);
    if (w === undefined) map.set(key, { code, message, count: 1, index });
    else w.count++;
  }
}

/** Per-document state of the saxes handlers. */
class Reader extends Fields {
  ctx = C_DOC;
  readonly stack: number[] = [];
  field = 0;
  buf = "";
  destTipo: DestinatarioTipo = "certificato";

  constructor(
    readonly parser: SaxesParser<SaxOptions>,
    readonly maxDepth: number,
    /** Maps an index in the text saxes reads to the decoded text (for positions). */
    readonly toText: (i: number) => number,
  ) {
    super();
  }

  /** Index in the decoded text of the character saxes last read. */
  here(): number {
    return this.toText(Math.max(0, this.parser.position - 1));
  }

  warn(code: DaticertWarningCode, key: string, message: string): void {
    this.warnAt(code, key, message, this.here());
  }

  fail(message: string): never {
    throw new Stop("ERR_DATICERT_MALFORMED", message, this.here());
  }

  open(tag: SaxesTagPlain): void {
    const { name } = tag;
    const parent = this.ctx;
    this.stack.push(parent);
    if (this.stack.length > this.maxDepth) {
      throw new Stop("ERR_TOO_DEEP", `daticert.xml nests elements deeper than ${this.maxDepth}`, this.here(), this.maxDepth);
    }
    let f: number | undefined;
    switch (parent) {
      case C_DOC:
        if (name !== "postacert") this.fail(`the root element is <${name}>, not <postacert>`);
        this.openRoot(tag.attributes);
        this.ctx = C_ROOT;
        return;
      case C_ROOT:
        if (name === "intestazione") {
          this.sawInt = true;
          this.ctx = C_INT;
          return;
        }
        if (name === "dati") {
          this.sawDati = true;
          this.ctx = C_DATI;
          return;
        }
        break;
      case C_INT:
        f = INT_CHILDREN.get(name);
        if (f === F_DESTINATARI) this.destTipo = this.attrDestinatari(tag.attributes.tipo);
        break;
      case C_DATI:
        if (name === "data") {
          if (this.sawData) this.warn("DUPLICATE_ELEMENT", "dup:data", "a second <data> was ignored");
          else this.zona = tag.attributes.zona;
          this.sawData = true;
          this.ctx = C_DATA;
          return;
        }
        f = DATI_CHILDREN.get(name);
        if (f === F_RICEVUTA) this.attrRicevuta(tag.attributes.tipo);
        break;
      case C_DATA:
        f = DATA_CHILDREN.get(name);
        break;
      case C_LEAF:
        this.warn("UNKNOWN_ELEMENT", "el:" + name, `element <${name}> inside <${FIELD_NAME[this.field]}> was ignored`);
        this.ctx = C_SKIP;
        return;
      default:
        // Inside an ignored subtree.
        return;
    }
    if (f === undefined) {
      this.warn("UNKNOWN_ELEMENT", "el:" + name, `unknown element <${name}> was ignored`);
      this.ctx = C_SKIP;
      return;
    }
    this.field = f;
    this.buf = "";
    this.ctx = C_LEAF;
  }

  openRoot(attributes: Record<string, string>): void {
    const rawTipo = attributes.tipo;
    if (rawTipo === undefined) this.fail("<postacert> has no tipo attribute");
    const tipo = token(rawTipo);
    if (!TIPO_SET.has(tipo)) this.fail(`<postacert> has an unknown tipo ${JSON.stringify(rawTipo)}`);
    this.tipo = tipo as DaticertTipo;
    const rawErrore = attributes.errore;
    if (rawErrore !== undefined) {
      const e = token(rawErrore);
      if (ERRORE_SET.has(e)) {
        this.errore = e;
      } else if (e === "") {
        this.warn("UNKNOWN_VALUE", "errore", "empty errore attribute read as nessuno");
      } else {
        this.errore = trimXml(rawErrore);
        this.warn("UNKNOWN_VALUE", "errore", `unknown errore ${JSON.stringify(this.errore)} kept as is`);
      }
    }
  }

  attrDestinatari(raw: string | undefined): DestinatarioTipo {
    if (raw === undefined) return "certificato";
    const t = token(raw);
    if (DEST_SET.has(t)) return t as DestinatarioTipo;
    this.warn("UNKNOWN_VALUE", "destinatari", `unknown destinatari tipo ${JSON.stringify(raw)} read as certificato`);
    return "certificato";
  }

  attrRicevuta(raw: string | undefined): void {
    if (this.sawRicevuta) {
      this.warn("DUPLICATE_ELEMENT", "dup:ricevuta", "a second <ricevuta> was ignored");
      return;
    }
    this.sawRicevuta = true;
    const t = raw === undefined ? "" : token(raw);
    if (RICEVUTA_SET.has(t)) this.ricevuta = t as RicevutaTipo;
    else this.warn("UNKNOWN_VALUE", "ricevuta", `<ricevuta> without a valid tipo (${JSON.stringify(raw ?? null)}) was ignored`);
  }

  text(t: string): void {
    if (this.ctx === C_LEAF) this.buf += t;
  }

  close(): void {
    const ctx = this.ctx;
    this.ctx = this.stack.pop()!;
    switch (ctx) {
      case C_LEAF:
        this.closeLeaf(trimXml(this.buf));
        this.buf = "";
        return;
      case C_INT:
        if (this.mittente === undefined) this.fail("<intestazione> has no <mittente>");
        if (this.destinatari.length === 0) this.fail("<intestazione> has no <destinatari>");
        if (this.risposte === undefined) {
          this.risposte = "";
          this.warn("MISSING_ELEMENT", "risposte", "<intestazione> has no <risposte>: read as empty");
        }
        return;
      case C_DATA:
        if (this.zona === undefined) this.fail("<data> has no zona attribute");
        if (this.giorno === undefined) this.fail("<data> has no <giorno>");
        if (this.ora === undefined) this.fail("<data> has no <ora>");
        this.zona = trimXml(this.zona);
        return;
      case C_DATI:
        if (this.gestore === undefined) this.fail("<dati> has no <gestore-emittente>");
        if (!this.sawData) this.fail("<dati> has no <data>");
        if (this.identificativo === undefined) this.fail("<dati> has no <identificativo>");
        return;
      case C_ROOT:
        if (!this.sawInt) this.fail("<postacert> has no <intestazione>");
        if (!this.sawDati) this.fail("<postacert> has no <dati>");
        return;
    }
  }

  /** Keeps the first value of a once-only element. */
  once(current: string | undefined, value: string): string {
    if (current === undefined) return value;
    const name = FIELD_NAME[this.field]!;
    this.warn("DUPLICATE_ELEMENT", "dup:" + name, `a second <${name}> was ignored`);
    return current;
  }

  closeLeaf(v: string): void {
    switch (this.field) {
      case F_MITTENTE:
        this.mittente = this.once(this.mittente, v);
        break;
      case F_DESTINATARI:
        this.destinatari.push({ address: v, tipo: this.destTipo });
        break;
      case F_RISPOSTE:
        this.risposte = this.once(this.risposte, v);
        break;
      case F_OGGETTO:
        this.oggetto = this.once(this.oggetto, v);
        break;
      case F_GESTORE:
        this.gestore = this.once(this.gestore, v);
        break;
      case F_IDENTIFICATIVO:
        this.identificativo = this.once(this.identificativo, v);
        break;
      case F_MSGID:
        this.msgid = this.once(this.msgid, v);
        break;
      case F_CONSEGNA:
        this.consegna = this.once(this.consegna, v);
        break;
      case F_RICEZIONE:
        this.ricezione.push(v);
        break;
      case F_ERRORE_ESTESO:
        this.erroreEsteso = this.once(this.erroreEsteso, v);
        break;
      case F_GIORNO:
        this.giorno = this.once(this.giorno, v);
        break;
      case F_ORA:
        this.ora = this.once(this.ora, v);
        break;
      // F_RICEVUTA is EMPTY: its attributes were read when it opened.
    }
  }

  doctype(body: string): void {
    if (body.indexOf("[") !== -1) this.fail("a <!DOCTYPE> with an internal subset is refused");
    this.warn("DOCTYPE_IGNORED", "doctype", "<!DOCTYPE> ignored (never loaded)");
  }
}

/** Quote-aware scan of a `<!DOCTYPE` for the start of an internal subset; -1 if none. */
function internalSubsetAt(s: string, from: number): number {
  let q = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (q !== 0) {
      if (c === q) q = 0;
    } else if (c === 0x22 || c === 0x27) {
      q = c;
    } else if (c === 0x5b /* [ */) {
      return i;
    } else if (c === 0x3e /* > */) {
      return -1;
    }
  }
  return -1;
}

function lineColumn(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(index, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

function utf8Length(text: string, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    // A surrogate pair is 4 bytes: 2 per code unit.
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 2 : 3;
  }
  return n;
}

const REPLACEMENT_OK = /^[^<>&"'\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]*$/;

/**
 * Index after a leading `<?xml …?>` declaration (white space before it tolerated), or
 * `from` when there is none. We decode ourselves, so saxes never sees the declaration:
 * its syntax and version (e.g. a stray "1.1" that would change the character rules)
 * cannot fail an otherwise readable document.
 */
function declarationEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && isXmlSpace(text.charCodeAt(i))) i++;
  if (!text.startsWith("<?xml", i) || !isXmlSpace(text.charCodeAt(i + 5))) return from;
  const end = text.indexOf("?>", i + 5);
  return end === -1 ? from : end + 2;
}

/**
 * Parses a `daticert.xml` into the typed model, tolerating what real gestori write.
 *
 * Reading rules:
 * - Bytes: a BOM (UTF-8, UTF-16) wins; else the XML declaration's `encoding` in any
 *   case (`utf-8`, `ISO-8859-1`, …; ISO-8859-1 and ASCII are read as windows-1252,
 *   as the Encoding Standard says); no or an unknown declaration means UTF-8, and bytes
 *   that are not valid UTF-8 are read as windows-1252 instead. The declaration itself
 *   is not checked further. A string input is used as is.
 * - Characters XML 1.0 forbids, raw (e.g. 0x16) or as references (e.g. `&#18;`,
 *   `&#x12;`), are replaced by `options.replacement` (default: removed) and reported.
 * - Text is trimmed of XML white space; `tipo`/`errore` tokens are compared after
 *   trimming and lower-casing. Unknown elements and attributes are ignored, missing or
 *   empty optional elements accepted, element order not enforced.
 * - Refused with `ERR_DATICERT_MALFORMED` (with line, column and offset): text that is
 *   not well-formed XML once repaired; a root other than `<postacert>`; a missing or
 *   unknown `tipo`; a missing `intestazione`, `mittente`, `destinatari`, `dati`,
 *   `gestore-emittente`, `data` (with `zona`, `giorno`, `ora`) or `identificativo`; any
 *   `<!DOCTYPE>` with an internal subset (so no entity can be declared, hence no
 *   XXE or entity expansion); any entity reference other than the five predefined ones.
 *   Nothing is ever fetched. A `<!DOCTYPE>` without internal subset is ignored.
 * - `ERR_TOO_LARGE` (with `limit`) beyond `maxSize` bytes; `ERR_TOO_DEEP` beyond `maxDepth` nesting.
 *
 * @param input - the bytes of the part (after transfer decoding), or its text
 * @throws PecError and nothing else
 *
 * @example
 * ```ts
 * const d = parseDaticert(bytes);
 * if (d.tipo === "avvenuta-consegna") console.log(d.dati.consegna, daticertDate(d.dati.data));
 * if (d.warnings.length) console.warn(d.warnings.map((w) => w.message));
 * ```
 */
export function parseDaticert(input: Uint8Array | string, options: DaticertParseOptions = {}): ParsedDaticert {
  return parseWith(input, options, READ_ALL);
}

/**
 * {@link parseDaticert} with saxes only, never the fast reader: the reference the fast
 * reader is tested against. Internal (not exported by the package).
 *
 * @internal
 */
export function parseDaticertWithSaxes(input: Uint8Array | string, options: DaticertParseOptions = {}): ParsedDaticert {
  return parseWith(input, options, READ_SAXES);
}

/**
 * {@link parseDaticert} without the canonical-layout regular expression: the hand-written
 * fast reader, then saxes. Internal: lets the tests check each reader on its own.
 *
 * @internal
 */
export function parseDaticertWithoutCanonical(input: Uint8Array | string, options: DaticertParseOptions = {}): ParsedDaticert {
  return parseWith(input, options, READ_NO_CANONICAL);
}

/**
 * {@link parseDaticert} of bytes that are all ASCII, given with the string they spell
 * (one character per byte): that string is the decoded text whenever the bytes would be
 * read as UTF-8 or windows-1252, so they are not decoded again. readPec has it from atob.
 *
 * @internal
 */
export function parseDaticertAscii(bytes: Uint8Array, ascii: string): ParsedDaticert {
  return parseWith(bytes, {}, READ_ALL, ascii);
}

// Which readers parseWith may use: saxes always, then the fast reader, then the canonical layout.
const READ_SAXES = 0;
const READ_NO_CANONICAL = 1;
const READ_ALL = 2;

function parseWith(input: Uint8Array | string, options: DaticertParseOptions, readers: number, ascii?: string): ParsedDaticert {
  try {
    return parseOnce(input, options, readers, ascii);
  } catch (err) {
    // Mail clients that hard-wrap forwarded XML leave "<" or "</" at a line end
    // (docway-msa notWellFormed.eml). Whitespace right after them is never valid markup,
    // so removing it changes nothing else; retry once and say so.
    if (!(err instanceof PecError) || err.code !== "ERR_DATICERT_MALFORMED") throw err;
    const repaired = repairBrokenTags(input);
    if (repaired === undefined) throw err;
    let parsed: ParsedDaticert;
    try {
      parsed = parseOnce(repaired, options, readers);
    } catch {
      throw err;
    }
    parsed.warnings.push({
      code: "MARKUP_REPAIRED",
      message: "line breaks inside tags (after '<' or '</') were removed: the XML had been hard-wrapped",
      count: 1,
      line: err.details.line ?? 1,
      column: err.details.column ?? 1,
    });
    return parsed;
  }
}

/** Removes white space right after "<" and "</"; undefined when there is none. */
function repairBrokenTags(input: Uint8Array | string): Uint8Array | string | undefined {
  if (typeof input === "string") {
    const out = input.replace(/<\s+(?=[/A-Za-z_])/g, "<").replace(/<\/\s+/g, "</");
    return out === input ? undefined : out;
  }
  const isWs = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
  const out = new Uint8Array(input.length);
  let o = 0;
  let changed = false;
  for (let i = 0; i < input.length; i++) {
    const b = input[i]!;
    out[o++] = b;
    if (b !== 0x3c) continue;
    if (input[i + 1] === 0x2f) out[o++] = input[++i]!;
    while (i + 1 < input.length && isWs(input[i + 1]!)) {
      i++;
      changed = true;
    }
  }
  return changed ? out.subarray(0, o) : undefined;
}

// ---------------------------------------------------------------------------------------------
// The fast reader

/** Nesting the fast reader needs (postacert > dati > data > giorno): below it, saxes decides. */
const FAST_DEPTH = 4;

let fastReads = 0;
let canonicalReads = 0;

/**
 * How many documents the fast readers (the canonical layout included) have read so far
 * (tests check that they are used).
 *
 * @internal
 */
export function daticertFastReads(): number {
  return fastReads;
}

/**
 * How many of {@link daticertFastReads} the canonical-layout expression read.
 *
 * @internal
 */
export function daticertCanonicalReads(): number {
  return canonicalReads;
}

/** Raised inside {@link fastRead} when the document leaves the shape it handles. */
const BAIL = Symbol("bail");

/**
 * A strict reader for the shape gestori actually write: only the DTD's elements, each in
 * its place and at most once where the DTD says so, quoted attributes without line breaks
 * or character references, text with the five predefined entities and numeric character
 * references, no comments, CDATA, processing instructions or DOCTYPE. It gives exactly
 * what the saxes reader gives for such a document and produces no warnings; undefined
 * means "not sure" (anything else, including every document the saxes reader would warn
 * about or refuse), and the caller then uses saxes. Equivalence is property-tested
 * (test/daticert/fast-path.test.ts).
 */
function fastRead(s: string): Fields | undefined {
  // "]]>" may not appear in character data; rather than track where it sits, let saxes judge.
  if (s.indexOf("]]>") !== -1) return undefined;
  const f = new FastReader(s);
  try {
    const r = f.read();
    fastReads++;
    return r;
  } catch (e) {
    if (e === BAIL) return undefined;
    throw e;
  }
}

const ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

// The layout nearly every gestore writes, as one regular expression: the DTD's order,
// double-quoted attributes without references or line breaks, no white space inside
// tags but before "/>" and ">" after attributes, <ricevuta> empty in either spelling.
// One match (native code) reads a receipt's daticert in ≈1 µs where the hand-written
// reader below takes ≈7 µs; it accepts a subset of what that reader accepts, and gives
// the same values.
//
// Text and attribute values hold neither "<", ">" nor a character sanitizeXml would
// touch (SUSPECT_CHAR), so a match also says that the document needs no sanitizing and
// holds no "<!DOCTYPE" and no "]]>": it is read in place, with none of those scans
// (≈1 µs). Character references may remain: sanitizeXml leaves the allowed ones as they
// are, and a forbidden one (or "&#X…;") fails expandReferences, which hands the
// document on.
const WS = "[ \\t\\r\\n]*";
const UNSAFE = "\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\uD800-\\uDFFF\\uFFFE\\uFFFF>";
const TEXT = `([^<${UNSAFE}]*)`;
const attribute = (name: string): string => `[ \\t\\r\\n]+${name}${WS}=${WS}"([^"<&\\t\\n\\r${UNSAFE}]*)"`;
const leafElement = (name: string): string => `<${name}>${TEXT}</${name}>${WS}`;
const optional = (name: string): string => `(?:${leafElement(name)})?`;
const destinatario = `<destinatari(?:${attribute("tipo")})?${WS}>${TEXT}</destinatari>${WS}`;
const ricezione = `<ricezione>${TEXT}</ricezione>${WS}`;
const CANONICAL = new RegExp(
  `${WS}<postacert${attribute("tipo")}(?:${attribute("errore")})?${WS}>${WS}` + // 1 tipo, 2 errore
    `<intestazione>${WS}${leafElement("mittente")}` + // 3
    `${destinatario}((?:${destinatario})*)` + // 4 tipo, 5 address, 6 the other destinatari (7, 8 unused)
    `${leafElement("risposte")}${optional("oggetto")}</intestazione>${WS}` + // 9, 10
    `<dati>${WS}${leafElement("gestore-emittente")}` + // 11
    `<data${attribute("zona")}${WS}>${WS}${leafElement("giorno")}${leafElement("ora")}</data>${WS}` + // 12, 13, 14
    `${leafElement("identificativo")}${optional("msgid")}` + // 15, 16
    `(?:<ricevuta${attribute("tipo")}${WS}(?:/>|></ricevuta>)${WS})?${optional("consegna")}` + // 17, 18
    `((?:${ricezione})*)${optional("errore-esteso")}</dati>${WS}</postacert>${WS}$`, // 19 (20 unused), 21
  "y",
);
const DESTINATARIO = new RegExp(destinatario, "y");
const RICEZIONE = new RegExp(ricezione, "y");

/** The document read with {@link CANONICAL}; undefined when it is laid out otherwise or a value needs a closer look. */
function canonicalRead(s: string, start: number): Fields | undefined {
  CANONICAL.lastIndex = start;
  const m = CANONICAL.exec(s);
  if (m === null) return undefined;
  const r = canonicalFields(m);
  if (r === undefined) return undefined;
  fastReads++;
  canonicalReads++;
  return r;
}

function canonicalFields(m: RegExpExecArray): Fields | undefined {
  const r = new Fields();
  const tipo = token(m[1]!);
  if (!TIPO_SET.has(tipo)) return undefined;
  r.tipo = tipo as DaticertTipo;
  if (m[2] !== undefined) {
    const e = token(m[2]);
    if (!ERRORE_SET.has(e)) return undefined;
    r.errore = e;
  }
  r.sawInt = r.sawDati = r.sawData = true;
  if ((r.mittente = leafText(m[3]!)) === undefined) return undefined;
  if (!addDestinatario(r, m[4], m[5]!)) return undefined;
  const more = m[6]!;
  for (DESTINATARIO.lastIndex = 0; DESTINATARIO.lastIndex < more.length; ) {
    const d = DESTINATARIO.exec(more)!;
    if (!addDestinatario(r, d[1], d[2]!)) return undefined;
  }
  if ((r.risposte = leafText(m[9]!)) === undefined) return undefined;
  if (m[10] !== undefined && (r.oggetto = leafText(m[10])) === undefined) return undefined;
  if ((r.gestore = leafText(m[11]!)) === undefined) return undefined;
  r.zona = trimXml(m[12]!);
  if ((r.giorno = leafText(m[13]!)) === undefined) return undefined;
  if ((r.ora = leafText(m[14]!)) === undefined) return undefined;
  if ((r.identificativo = leafText(m[15]!)) === undefined) return undefined;
  if (m[16] !== undefined && (r.msgid = leafText(m[16])) === undefined) return undefined;
  if (m[17] !== undefined) {
    const t = token(m[17]);
    if (!RICEVUTA_SET.has(t)) return undefined;
    r.sawRicevuta = true;
    r.ricevuta = t as RicevutaTipo;
  }
  if (m[18] !== undefined && (r.consegna = leafText(m[18])) === undefined) return undefined;
  const ricezioni = m[19]!;
  for (RICEZIONE.lastIndex = 0; RICEZIONE.lastIndex < ricezioni.length; ) {
    const v = leafText(RICEZIONE.exec(ricezioni)![1]!);
    if (v === undefined) return undefined;
    r.ricezione.push(v);
  }
  if (m[21] !== undefined && (r.erroreEsteso = leafText(m[21])) === undefined) return undefined;
  return r;
}

function addDestinatario(r: Fields, rawTipo: string | undefined, text: string): boolean {
  let tipo: DestinatarioTipo = "certificato";
  if (rawTipo !== undefined) {
    const t = token(rawTipo);
    if (!DEST_SET.has(t)) return false;
    tipo = t as DestinatarioTipo;
  }
  const address = leafText(text);
  if (address === undefined) return false;
  r.destinatari.push({ address, tipo });
  return true;
}

/** Element text as {@link FastReader.leaf} reads it; undefined for a reference it does not take. */
function leafText(v: string): string | undefined {
  // XML end-of-line handling, as saxes does it: CR LF and a lone CR are LF.
  if (v.indexOf("\r") !== -1) v = v.replace(/\r\n?/g, "\n");
  if (v.indexOf("&") !== -1) {
    const x = expandReferences(v, false);
    if (x === undefined) return undefined;
    v = x;
  }
  return trimXml(v);
}

/** Expands references; in attribute values, only the five predefined entities. Undefined for any other. */
function expandReferences(v: string, attribute: boolean): string | undefined {
  let out = "";
  let from = 0;
  for (let amp = v.indexOf("&"); amp !== -1; amp = v.indexOf("&", from)) {
    const semi = v.indexOf(";", amp + 1);
    if (semi === -1) return undefined;
    out += v.slice(from, amp);
    const ref = v.slice(amp + 1, semi);
    const named = ENTITIES[ref];
    if (named !== undefined && Object.hasOwn(ENTITIES, ref)) out += named;
    else if (!attribute && ref.charCodeAt(0) === 0x23 /* # */) {
      const c = charRef(ref);
      if (c === undefined) return undefined;
      out += c;
    } else return undefined;
    from = semi + 1;
  }
  return out + v.slice(from);
}

function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2e;
}

/** Attributes of one element checked for duplicates by a scan; past them, by a set. */
const SCAN_ATTRIBUTES = 8;

class FastReader {
  pos = 0;
  /** The last start tag: its name, whether it closed itself, its attributes (name, value pairs). */
  name = "";
  empty = false;
  readonly attrs: string[] = [];
  /**
   * The attribute names of the last start tag, built only past {@link SCAN_ATTRIBUTES}: a
   * scan of the list per attribute is the fastest check for the one to three attributes real
   * elements have, and quadratic for the tens of thousands a hostile one can hold.
   */
  names: Set<string> | undefined = undefined;
  readonly r = new Fields();

  constructor(readonly s: string) {}

  bail(): never {
    throw BAIL;
  }

  read(): Fields {
    const r = this.r;
    this.space();
    this.startTag();
    if (this.name !== "postacert" || this.empty) this.bail();
    const rawTipo = this.attr("tipo");
    if (rawTipo === undefined) this.bail();
    const tipo = token(rawTipo);
    if (!TIPO_SET.has(tipo)) this.bail();
    r.tipo = tipo as DaticertTipo;
    const rawErrore = this.attr("errore");
    if (rawErrore !== undefined) {
      const e = token(rawErrore);
      if (!ERRORE_SET.has(e)) this.bail();
      r.errore = e;
    }
    let sawInt = false;
    while (this.child("postacert")) {
      const name: string = this.name;
      if (name === "intestazione" && !sawInt && !this.empty) {
        sawInt = true;
        this.intestazione();
      } else if (name === "dati" && !r.sawDati && !this.empty) {
        r.sawDati = true;
        this.dati();
      } else this.bail();
    }
    if (!sawInt || !r.sawDati) this.bail();
    r.sawInt = true;
    this.space();
    if (this.pos !== this.s.length) this.bail();
    return r;
  }

  intestazione(): void {
    const r = this.r;
    while (this.child("intestazione")) {
      switch (this.name) {
        case "mittente":
          if (r.mittente !== undefined) this.bail();
          r.mittente = this.leaf("mittente");
          break;
        case "destinatari": {
          const raw = this.attr("tipo");
          let tipo: DestinatarioTipo = "certificato";
          if (raw !== undefined) {
            const t = token(raw);
            if (!DEST_SET.has(t)) this.bail();
            tipo = t as DestinatarioTipo;
          }
          r.destinatari.push({ address: this.leaf("destinatari"), tipo });
          break;
        }
        case "risposte":
          if (r.risposte !== undefined) this.bail();
          r.risposte = this.leaf("risposte");
          break;
        case "oggetto":
          if (r.oggetto !== undefined) this.bail();
          r.oggetto = this.leaf("oggetto");
          break;
        default:
          this.bail();
      }
    }
    if (r.mittente === undefined || r.destinatari.length === 0 || r.risposte === undefined) this.bail();
  }

  dati(): void {
    const r = this.r;
    while (this.child("dati")) {
      switch (this.name) {
        case "gestore-emittente":
          if (r.gestore !== undefined) this.bail();
          r.gestore = this.leaf("gestore-emittente");
          break;
        case "data": {
          if (r.sawData) this.bail();
          r.sawData = true;
          const zona = this.attr("zona");
          if (zona === undefined || this.empty) this.bail();
          this.data();
          r.zona = trimXml(zona);
          break;
        }
        case "identificativo":
          if (r.identificativo !== undefined) this.bail();
          r.identificativo = this.leaf("identificativo");
          break;
        case "msgid":
          if (r.msgid !== undefined) this.bail();
          r.msgid = this.leaf("msgid");
          break;
        case "ricevuta": {
          if (r.sawRicevuta) this.bail();
          r.sawRicevuta = true;
          const raw = this.attr("tipo");
          const t = raw === undefined ? "" : token(raw);
          if (!RICEVUTA_SET.has(t)) this.bail();
          r.ricevuta = t as RicevutaTipo;
          this.leaf("ricevuta"); // EMPTY in the DTD; any text is ignored, as saxes's reader does
          break;
        }
        case "consegna":
          if (r.consegna !== undefined) this.bail();
          r.consegna = this.leaf("consegna");
          break;
        case "ricezione":
          r.ricezione.push(this.leaf("ricezione"));
          break;
        case "errore-esteso":
          if (r.erroreEsteso !== undefined) this.bail();
          r.erroreEsteso = this.leaf("errore-esteso");
          break;
        default:
          this.bail();
      }
    }
    if (r.gestore === undefined || !r.sawData || r.identificativo === undefined) this.bail();
  }

  data(): void {
    const r = this.r;
    while (this.child("data")) {
      if (this.name === "giorno" && r.giorno === undefined) r.giorno = this.leaf("giorno");
      else if (this.name === "ora" && r.ora === undefined) r.ora = this.leaf("ora");
      else this.bail();
    }
    if (r.giorno === undefined || r.ora === undefined) this.bail();
  }

  /**
   * Inside `parent`, after white space: true with the next child's start tag read, or
   * false with `parent`'s end tag consumed.
   */
  child(parent: string): boolean {
    this.space();
    const s = this.s;
    if (s.charCodeAt(this.pos) !== 0x3c) this.bail();
    if (s.charCodeAt(this.pos + 1) === 0x2f) {
      this.endTag(parent);
      return false;
    }
    this.startTag();
    return true;
  }

  /** The trimmed text of the element whose start tag was just read, through its end tag. */
  leaf(name: string): string {
    if (this.empty) return "";
    const s = this.s;
    const lt = s.indexOf("<", this.pos);
    if (lt === -1 || s.charCodeAt(lt + 1) !== 0x2f) this.bail();
    let v = s.slice(this.pos, lt);
    this.pos = lt;
    this.endTag(name);
    // XML end-of-line handling, as saxes does it: CR LF and a lone CR are LF.
    if (v.indexOf("\r") !== -1) v = v.replace(/\r\n?/g, "\n");
    if (v.indexOf("&") !== -1) v = this.entities(v, false);
    return trimXml(v);
  }

  /** Expands references; in attribute values, only the five predefined entities. */
  entities(v: string, attribute: boolean): string {
    return expandReferences(v, attribute) ?? this.bail();
  }

  space(): void {
    const s = this.s;
    let i = this.pos;
    while (i < s.length && isXmlSpace(s.charCodeAt(i))) i++;
    this.pos = i;
  }

  /** A name at `pos`, ASCII letters, digits, `-`, `_`, `.`, starting with a letter or `_`. */
  nameAt(): string {
    const s = this.s;
    const start = this.pos;
    const c0 = s.charCodeAt(start);
    if (!((c0 >= 0x61 && c0 <= 0x7a) || (c0 >= 0x41 && c0 <= 0x5a) || c0 === 0x5f)) this.bail();
    let i = start + 1;
    while (i < s.length && isNameChar(s.charCodeAt(i))) i++;
    this.pos = i;
    return s.slice(start, i);
  }

  startTag(): void {
    const s = this.s;
    if (s.charCodeAt(this.pos) !== 0x3c) this.bail();
    this.pos++;
    this.name = this.nameAt();
    this.attrs.length = 0;
    this.names = undefined;
    for (;;) {
      let c = s.charCodeAt(this.pos);
      if (c === 0x3e) {
        this.pos++;
        this.empty = false;
        return;
      }
      if (c === 0x2f) {
        if (s.charCodeAt(this.pos + 1) !== 0x3e) this.bail();
        this.pos += 2;
        this.empty = true;
        return;
      }
      // Attributes are separated from the name and from each other by white space.
      if (!isXmlSpace(c)) this.bail();
      this.space();
      c = s.charCodeAt(this.pos);
      if (c === 0x3e || c === 0x2f) continue;
      const name = this.nameAt();
      this.space();
      if (s.charCodeAt(this.pos) !== 0x3d /* = */) this.bail();
      this.pos++;
      this.space();
      const q = s.charCodeAt(this.pos);
      if (q !== 0x22 && q !== 0x27) this.bail();
      const end = s.indexOf(q === 0x22 ? '"' : "'", this.pos + 1);
      if (end === -1) this.bail();
      let value = s.slice(this.pos + 1, end);
      this.pos = end + 1;
      // Attribute-value normalisation (white space → space, and how it combines with
      // references) is left to saxes: real attributes hold a bare token.
      for (let k = 0; k < value.length; k++) {
        const vc = value.charCodeAt(k);
        if (vc === 0x3c || vc === 0x09 || vc === 0x0a || vc === 0x0d) this.bail();
      }
      if (value.indexOf("&") !== -1) value = this.entities(value, true);
      const a = this.attrs;
      if (a.length < 2 * SCAN_ATTRIBUTES) {
        for (let k = 0; k < a.length; k += 2) if (a[k] === name) this.bail();
      } else {
        let names = this.names;
        if (names === undefined) {
          names = this.names = new Set();
          for (let k = 0; k < a.length; k += 2) names.add(a[k]!);
        }
        if (names.has(name)) this.bail();
        names.add(name);
      }
      a.push(name, value);
    }
  }

  attr(name: string): string | undefined {
    const a = this.attrs;
    for (let k = 0; k < a.length; k += 2) if (a[k] === name) return a[k + 1];
    return undefined;
  }

  endTag(name: string): void {
    const s = this.s;
    // "</" + name, then optional white space and ">".
    if (!s.startsWith(name, this.pos + 2)) this.bail();
    this.pos += 2 + name.length;
    if (isNameChar(s.charCodeAt(this.pos))) this.bail();
    this.space();
    if (s.charCodeAt(this.pos) !== 0x3e) this.bail();
    this.pos++;
  }
}

/** `#65` or `#x41` → the character; undefined when not a well-formed reference to an XML character. */
function charRef(ref: string): string | undefined {
  const hex = ref.charCodeAt(1) === 0x78; /* x */
  const digits = ref.slice(hex ? 2 : 1);
  if (digits.length === 0 || digits.length > 8 || !(hex ? /^[0-9A-Fa-f]+$/ : /^[0-9]+$/).test(digits)) return undefined;
  const cp = parseInt(digits, hex ? 16 : 10);
  return isXmlChar(cp) ? String.fromCodePoint(cp) : undefined;
}

/** Reads the document with saxes: every shape the tolerant rules accept. */
function saxesRead(
  text: string,
  maxDepth: number,
  toText: (i: number) => number,
  fail: (code: PecErrorCode, message: string, index: number, limit?: number) => PecError,
): Fields {
  const parser = new SaxesParser<SaxOptions>({ position: false, xmlns: false });
  const r = new Reader(parser, maxDepth, toText);
  parser.on("opentag", (t) => r.open(t));
  parser.on("closetag", () => r.close());
  parser.on("text", (t) => r.text(t));
  parser.on("cdata", (t) => r.text(t));
  parser.on("doctype", (t) => r.doctype(t));
  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof Stop) throw fail(e.code, e.message, e.index, e.limit);
    let msg = e instanceof Error ? e.message : String(e);
    let at = Math.max(0, Math.min(parser.position - 1, text.length));
    if (msg.startsWith("undefined entity")) {
      const amp = text.lastIndexOf("&", at);
      const name = amp === -1 ? "" : " " + text.slice(amp, at + 1);
      if (amp !== -1) at = amp;
      msg = `entity reference${name} refused: only the five predefined entities and character references are allowed`;
    } else {
      msg = "not well-formed XML: " + msg;
    }
    throw fail("ERR_DATICERT_MALFORMED", msg, toText(at));
  }
  return r;
}

function parseOnce(input: Uint8Array | string, options: DaticertParseOptions, readers: number, ascii?: string): ParsedDaticert {
  const maxSize = options.maxSize ?? DATICERT_DEFAULT_MAX_SIZE;
  const maxDepth = options.maxDepth ?? DATICERT_DEFAULT_MAX_DEPTH;
  const replacement = options.replacement ?? "";
  if (!(maxSize >= 0) || !(maxDepth >= 1)) {
    throw new PecError("ERR_INVALID_ARGUMENT", "parseDaticert: maxSize must be >= 0 and maxDepth >= 1");
  }
  // The default "" passes both tests: skip them.
  if (typeof replacement !== "string" || (replacement !== "" && (!REPLACEMENT_OK.test(replacement) || ILLEGAL_CHAR.test(replacement)))) {
    throw new PecError("ERR_INVALID_ARGUMENT", "parseDaticert: options.replacement must be plain XML character data");
  }
  const isString = typeof input === "string";
  if (!isString && !(input instanceof Uint8Array)) {
    throw new PecError("ERR_INVALID_ARGUMENT", `parseDaticert: input must be a Uint8Array or a string; ${got(input)}`);
  }
  if (input.length > maxSize) {
    throw new PecError("ERR_TOO_LARGE", `daticert.xml is ${input.length} bytes, more than ${maxSize}`, { limit: maxSize });
  }

  let text: string;
  let encoding: string | undefined;
  let bomLength = 0;
  let warnings: Map<string, PendingWarning> | null = null;
  if (isString) {
    text = input;
  } else {
    const d = decodeXmlBytes(input, ascii);
    text = d.text;
    encoding = d.encoding;
    bomLength = d.bomLength;
    if (d.warning !== undefined) {
      warnings = new Map([["enc", { code: d.warning.code, message: d.warning.message, count: 1, index: 0 }]]);
    }
  }
  // A string may still begin with U+FEFF (decoded elsewhere with ignoreBOM).
  const start = declarationEnd(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
  const fastOk = readers !== READ_SAXES && maxDepth >= FAST_DEPTH;
  // The canonical layout, read in place: a match needs no sanitizing and holds no "<!"
  // (see CANONICAL), so none of what follows is needed for it.
  let r: Fields | undefined = fastOk && readers === READ_ALL ? canonicalRead(text, start) : undefined;
  let clean: Sanitized | undefined;
  if (r === undefined) {
    const body = start === 0 ? text : text.slice(start);
    clean = sanitizeXml(body, replacement);
    const edits = clean.edits;
    const toText = (i: number): number => start + toSourceIndex(i, edits);
    const fail = failAt(text, isString, encoding, bomLength);

    // Refuse a DTD internal subset before saxes walks it: no entity can then be declared.
    const dt = clean.text.indexOf("<!DOCTYPE");
    if (dt !== -1) {
      const sub = internalSubsetAt(clean.text, dt + 9);
      if (sub !== -1) throw fail("ERR_DATICERT_MALFORMED", "a <!DOCTYPE> with an internal subset is refused", toText(sub));
    }

    // The common, well-formed shape is read without saxes (saxes was most of the time of
    // parseDaticert); whatever the fast reader is not sure about goes to saxes.
    const fast = fastOk && dt === -1 ? fastRead(clean.text) : undefined;
    r = fast ?? saxesRead(clean.text, maxDepth, toText, fail);
    if (r.tipo === undefined) throw fail("ERR_DATICERT_MALFORMED", "no <postacert> element", text.length);
  }
  if (warnings !== null) mergeWarnings(r, warnings);

  if (clean !== undefined && clean.chars > 0) {
    r.warnAt("ILLEGAL_CHARACTER", "char", "characters XML 1.0 forbids were " + (replacement === "" ? "removed" : "replaced"), start + clean.firstChar);
    r.warnings!.get("char")!.count = clean.chars;
  }
  if (clean !== undefined && clean.refs > 0) {
    r.warnAt("ILLEGAL_CHARACTER_REFERENCE", "ref", "references to characters XML 1.0 forbids were " + (replacement === "" ? "removed" : "replaced"), start + clean.firstRef);
    r.warnings!.get("ref")!.count = clean.refs;
  }

  const out: DaticertWarning[] = [];
  if (r.warnings !== null) {
    for (const w of r.warnings.values()) {
      const { line, column } = lineColumn(text, w.index);
      out.push({ code: w.code, message: w.message, count: w.count, line, column });
    }
  }

  const intestazione: ParsedDaticert["intestazione"] = {
    mittente: r.mittente!,
    destinatari: r.destinatari,
    risposte: r.risposte!,
  };
  if (r.oggetto !== undefined) intestazione.oggetto = r.oggetto;
  const dati: ParsedDaticert["dati"] = {
    gestoreEmittente: r.gestore!,
    data: { zona: r.zona!, giorno: r.giorno!, ora: r.ora! },
    identificativo: r.identificativo!,
    ricezione: r.ricezione,
  };
  if (r.msgid !== undefined) dati.msgid = r.msgid;
  if (r.ricevuta !== undefined) dati.ricevuta = r.ricevuta;
  if (r.consegna !== undefined) dati.consegna = r.consegna;
  if (r.erroreEsteso !== undefined) dati.erroreEsteso = r.erroreEsteso;
  return { tipo: r.tipo!, errore: r.errore, intestazione, dati, warnings: out, encoding };
}

/** Puts the encoding warning first, as it was when it seeded the saxes reader. */
function mergeWarnings(r: Fields, warnings: Map<string, PendingWarning>): void {
  if (r.warnings !== null) for (const [k, w] of r.warnings) warnings.set(k, w);
  r.warnings = warnings;
}

/** The error factory of one document: positions in its decoded text become line, column and byte offset. */
function failAt(
  text: string,
  isString: boolean,
  encoding: string | undefined,
  bomLength: number,
): (code: PecErrorCode, message: string, index: number, limit?: number) => PecError {
  return (code, message, index, limit) => {
    const { line, column } = lineColumn(text, index);
    let offset: number | undefined;
    if (isString) offset = index;
    else if (encoding === "utf-8") offset = bomLength + utf8Length(text, index);
    else if (encoding!.startsWith("utf-16")) offset = bomLength + 2 * index;
    else if (isSingleByte(encoding!)) offset = bomLength + index;
    const details: PecErrorDetails = { line, column };
    if (offset !== undefined) details.offset = offset;
    if (limit !== undefined) details.limit = limit;
    return new PecError(code, `daticert.xml ${line}:${column}: ${message}`, details);
  };
}
