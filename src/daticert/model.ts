/**
 * The typed model of `daticert.xml` (the DTD of the PEC technical rules, RFC 6109 §4.4)
 * and its vocabularies.
 *
 * @module
 */

/** File name of the certification data part of every PEC receipt and envelope. */
export const DATICERT_FILENAME = "daticert.xml";

/**
 * Values of `/postacert/@tipo`: the kind of PEC message the certification data describe.
 * `posta-certificata` is the busta di trasporto; the others equal the `X-Ricevuta` value.
 */
export const DATICERT_TIPO = [
  "accettazione",
  "non-accettazione",
  "presa-in-carico",
  "avvenuta-consegna",
  "posta-certificata",
  "errore-consegna",
  "preavviso-errore-consegna",
  "rilevazione-virus",
] as const;

/** One of {@link DATICERT_TIPO}. */
export type DaticertTipo = (typeof DATICERT_TIPO)[number];

/** Values of `/postacert/@errore` allowed by the DTD; `nessuno` is the default. */
export const DATICERT_ERRORE = ["nessuno", "no-dest", "no-dominio", "virus", "altro"] as const;

/** One of {@link DATICERT_ERRORE}. */
export type DaticertErrore = (typeof DATICERT_ERRORE)[number];

/**
 * The `errore` of a parsed document: one of the five DTD values, or, when a gestore
 * wrote something else, that raw (trimmed) token, so that no information is lost.
 * Use {@link isDaticertErrore} to tell the two apart.
 *
 * The `string & {}` member keeps editor completion for the known values while
 * admitting any string.
 */
export type DaticertErroreValue = DaticertErrore | (string & {});

/** Values of `destinatari/@tipo`: `certificato` (a PEC mailbox, the default) or `esterno`. */
export const DESTINATARI_TIPO = ["certificato", "esterno"] as const;

/** One of {@link DESTINATARI_TIPO}. */
export type DestinatarioTipo = (typeof DESTINATARI_TIPO)[number];

/** Values of `ricevuta/@tipo`: the delivery-receipt kind requested (default `completa`). */
export const RICEVUTA_TIPO = ["completa", "breve", "sintetica"] as const;

/** One of {@link RICEVUTA_TIPO}. */
export type RicevutaTipo = (typeof RICEVUTA_TIPO)[number];

/** One recipient of the original message (`<destinatari>`). */
export interface Destinatario {
  /** The address, as the gestore wrote it (trimmed). */
  address: string;
  /** `certificato` when the domain is a PEC domain, `esterno` otherwise. */
  tipo: DestinatarioTipo;
}

/** `<intestazione>`: header data of the original message. */
export interface Intestazione {
  /** Original sender (`<mittente>`). */
  mittente: string;
  /** Every To and Cc recipient, in document order (at least one). */
  destinatari: Destinatario[];
  /** Original Reply-To (`<risposte>`); may be the empty string. */
  risposte: string;
  /** Original subject (`<oggetto>`), when present. */
  oggetto?: string;
}

/** `<data>`: the local (legal) date and time of the event, as written. */
export interface DatiData {
  /** Difference between local time and UTC, `[+|-]hhmm` (e.g. `+0100`, `+0200`). */
  zona: string;
  /** `dd/mm/yyyy`. */
  giorno: string;
  /** `hh:mm:ss`, local time. */
  ora: string;
}

/** `<dati>`: data of this PEC event. */
export interface Dati {
  /** Descriptive name of the certifying gestore (`<gestore-emittente>`). */
  gestoreEmittente: string;
  /** When the event happened; see {@link daticertDate} for a `Date`. */
  data: DatiData;
  /** The PEC msgid (`<identificativo>`), without angle brackets. */
  identificativo: string;
  /** The original client Message-ID, raw, normally with its angle brackets: `<…>`. */
  msgid?: string;
  /** Receipt kind requested (`<ricevuta tipo="…"/>`), when present. */
  ricevuta?: RicevutaTipo;
  /** The recipient a delivery / non-delivery / virus / timeout notice is about. */
  consegna?: string;
  /** Recipients covered by a presa in carico (`<ricezione>`), possibly none. */
  ricezione: string[];
  /** Short description of the error (`<errore-esteso>`), when present. */
  erroreEsteso?: string;
}

/** The whole `daticert.xml` document. */
export interface Daticert {
  /** `/postacert/@tipo`. */
  tipo: DaticertTipo;
  /** `/postacert/@errore` (`nessuno` when absent). */
  errore: DaticertErroreValue;
  /** `<intestazione>`. */
  intestazione: Intestazione;
  /** `<dati>`. */
  dati: Dati;
}

/**
 * Codes of the {@link DaticertWarning}s the tolerant parser records.
 *
 * - `ILLEGAL_CHARACTER`: a raw character XML 1.0 forbids (C0 control other than TAB,
 *   LF, CR; U+FFFE; U+FFFF; a lone surrogate) was removed or replaced.
 * - `ILLEGAL_CHARACTER_REFERENCE`: a character reference to such a character
 *   (e.g. `&#18;`, `&#x12;`) was removed or replaced.
 * - `ENCODING_FALLBACK`: the bytes are not valid UTF-8 although the document is (or
 *   is presumed) UTF-8; they were decoded as windows-1252 (ISO-8859-1).
 * - `ENCODING_UNKNOWN`: the declared encoding is unknown or impossible for these
 *   bytes; the UTF-8 / windows-1252 detection was used instead.
 * - `DOCTYPE_IGNORED`: a `<!DOCTYPE>` without internal subset was skipped (never loaded).
 * - `MISSING_ELEMENT`: a DTD-required element the model can do without (`risposte`)
 *   is missing; an empty value was used.
 * - `DUPLICATE_ELEMENT`: an element that may occur once occurred again; the first was kept.
 * - `UNKNOWN_ELEMENT`: an element the DTD does not define at that place was ignored.
 * - `UNKNOWN_VALUE`: an attribute held a value outside the DTD's list (kept raw for
 *   `errore`, replaced by the default or dropped elsewhere), or a required one was empty.
 * - `MARKUP_REPAIRED`: the XML had been hard-wrapped by a mail client (a line break
 *   right after `<` or `</`); the breaks were removed and the document read again.
 */
export type DaticertWarningCode =
  | "ILLEGAL_CHARACTER"
  | "ILLEGAL_CHARACTER_REFERENCE"
  | "ENCODING_FALLBACK"
  | "ENCODING_UNKNOWN"
  | "DOCTYPE_IGNORED"
  | "MISSING_ELEMENT"
  | "DUPLICATE_ELEMENT"
  | "UNKNOWN_ELEMENT"
  | "UNKNOWN_VALUE"
  | "MARKUP_REPAIRED";

/**
 * Something the parser repaired or ignored. Occurrences of one kind are grouped: one
 * warning per code and subject, with a count and the position of the first one.
 */
export interface DaticertWarning {
  /** What happened. */
  code: DaticertWarningCode;
  /** Human-readable explanation. */
  message: string;
  /** How many times it happened. */
  count: number;
  /** Line (1-based) of the first occurrence in the decoded text. */
  line: number;
  /** Column (1-based, in UTF-16 code units) of the first occurrence. */
  column: number;
}

/** The result of {@link parseDaticert}: the model plus what the parser had to repair. */
export interface ParsedDaticert extends Daticert {
  /**
   * Repairs and oddities, empty for a clean document. A non-empty list means the
   * model differs from a strict reading of the bytes (keep the raw bytes as evidence).
   */
  warnings: DaticertWarning[];
  /**
   * The encoding used to decode the bytes (WHATWG name: `utf-8`, `windows-1252`,
   * `utf-16le`, …), or `undefined` when the input was a string.
   */
  encoding: string | undefined;
}

const ERRORE_SET: ReadonlySet<string> = new Set(DATICERT_ERRORE);
const TIPO_SET: ReadonlySet<string> = new Set(DATICERT_TIPO);

/**
 * Whether an `errore` value is one of the five the DTD defines.
 *
 * @example
 * ```ts
 * const d = parseDaticert(bytes);
 * if (!isDaticertErrore(d.errore)) console.warn("unknown errore", d.errore);
 * ```
 */
export function isDaticertErrore(value: unknown): value is DaticertErrore {
  return typeof value === "string" && ERRORE_SET.has(value);
}

/**
 * Whether a value is one of the eight {@link DATICERT_TIPO} values.
 *
 * @example
 * ```ts
 * isDaticertTipo("avvenuta-consegna"); // true
 * isDaticertTipo("anomalia"); // false: a busta di anomalia has no daticert.xml
 * ```
 */
export function isDaticertTipo(value: unknown): value is DaticertTipo {
  return typeof value === "string" && TIPO_SET.has(value);
}
