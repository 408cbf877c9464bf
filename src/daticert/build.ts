/**
 * The `daticert.xml` builder: DTD-valid XML from the model.
 *
 * @module
 */
import { PecError } from "../errors.js";
import { utf8Bytes } from "../util/bytes.js";
import { datiDataToEpochMs } from "./date.js";
import { ILLEGAL_CHAR, SUSPECT_CHAR, dropXmlIllegal } from "./sanitize.js";
import {
  DATICERT_ERRORE,
  DATICERT_TIPO,
  DESTINATARI_TIPO,
  RICEVUTA_TIPO,
  type Daticert,
  type DatiData,
} from "./model.js";

/** Options of {@link buildDaticert}. */
export interface DaticertBuildOptions {
  /** Indentation unit: spaces and tabs only. Default four spaces, as real gestori write. */
  indent?: string;
  /** Line ending. Default `"\n"` (the MIME layer's base64 keeps it as is). */
  newline?: "\n" | "\r\n";
  /**
   * What to do with characters XML 1.0 cannot carry (C0 controls other than TAB, LF,
   * CR; U+FFFE; U+FFFF; lone surrogates) in any value: `"error"` (default) throws
   * `ERR_INVALID_ARGUMENT`; `"drop"` leaves them out, as a gestore must when a subject
   * carries them.
   */
  invalidCharacters?: "error" | "drop";
}

const TIPO_SET: ReadonlySet<string> = new Set(DATICERT_TIPO);
const ERRORE_SET: ReadonlySet<string> = new Set(DATICERT_ERRORE);
const DEST_SET: ReadonlySet<string> = new Set(DESTINATARI_TIPO);
const RICEVUTA_SET: ReadonlySet<string> = new Set(RICEVUTA_TIPO);

const SPECIAL = /[&<>"\r]/;
const SPECIAL_G = /[&<>"\r]/g;
const ENTITY: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  // A raw CR would come back as LF (XML end-of-line handling).
  "\r": "&#13;",
};

function invalid(message: string): PecError {
  return new PecError("ERR_INVALID_ARGUMENT", `buildDaticert: ${message}`);
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

/** Writes the model; one instance per call. */
class Writer {
  out = "";
  constructor(
    readonly nl: string,
    readonly indent: string,
    readonly drop: boolean,
  ) {}

  /**
   * Checks a value and escapes it as element content. Attribute values need no
   * escaping: they are all checked against their vocabularies or shapes first.
   */
  value(v: unknown, what: string): string {
    if (typeof v !== "string") throw invalid(`${what} must be a string`);
    let s = v;
    if (SUSPECT_CHAR.test(s) && ILLEGAL_CHAR.test(s)) {
      if (!this.drop) throw invalid(`${what} contains a character XML 1.0 cannot carry`);
      s = dropXmlIllegal(s);
    }
    if (SPECIAL.test(s)) s = s.replace(SPECIAL_G, (c) => ENTITY[c]!);
    return s;
  }

  required(v: unknown, what: string): string {
    // Checked after escaping too: dropping forbidden characters may leave nothing.
    const s = typeof v === "string" && !isBlank(v) ? this.value(v, what) : "";
    if (isBlank(s)) throw invalid(`${what} must be a non-empty string`);
    return s;
  }

  leaf(level: number, name: string, text: string, attrs = ""): void {
    this.out += this.indent.repeat(level) + "<" + name + attrs + ">" + text + "</" + name + ">" + this.nl;
  }

  line(level: number, s: string): void {
    this.out += this.indent.repeat(level) + s + this.nl;
  }
}

function enumValue(set: ReadonlySet<string>, v: unknown, what: string): string {
  if (typeof v !== "string" || !set.has(v)) throw invalid(`${what} must be one of ${[...set].join(", ")} (got ${JSON.stringify(v)})`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/**
 * Writes a `daticert.xml` that validates against the DTD: XML declaration with
 * `encoding="UTF-8"`, no DOCTYPE, no namespace, elements in DTD order, every attribute
 * written (`errore="nessuno"`, `destinatari tipo="certificato"` when the model leaves
 * them out), four-space indentation, `<ricevuta tipo="…" />`, a final newline.
 *
 * Escaping: `&`, `<`, `>`, `"` in every value (so a msgid `<a@b>` is written
 * `&lt;a@b&gt;`) and CR as `&#13;`, so that {@link parseDaticert} gives back the same
 * strings (except leading and trailing white space, which the parser trims).
 * Characters XML 1.0 cannot carry are refused, or dropped with
 * `invalidCharacters: "drop"`.
 *
 * The model is checked first: `tipo`, `errore`, destinatari `tipo` and `ricevuta` in
 * their vocabularies (an unknown parsed `errore` cannot be written); `mittente`,
 * `gestoreEmittente`, `identificativo` and every destinatario address non-blank; at
 * least one destinatario; `risposte` a string (may be empty); `data` exactly
 * `±hhmm`, `dd/mm/yyyy`, `hh:mm:ss` and a real date and time; optional values strings
 * when present.
 *
 * @throws PecError `ERR_INVALID_ARGUMENT` when the model breaks one of these rules
 *
 * @example
 * ```ts
 * const xml = buildDaticert({
 *   tipo: "accettazione", errore: "nessuno",
 *   intestazione: { mittente: "a@pec.example", destinatari: [{ address: "b@pec.example", tipo: "certificato" }], risposte: "a@pec.example", oggetto: "Prova" },
 *   dati: { gestoreEmittente: "Gestore S.p.A.", data: toDatiData(new Date()), identificativo: "id1@pec.example", msgid: "<m1@client>", ricezione: [] },
 * });
 * ```
 */
export function buildDaticert(model: Daticert, options: DaticertBuildOptions = {}): string {
  const nl = options.newline ?? "\n";
  const indent = options.indent ?? "    ";
  if (nl !== "\n" && nl !== "\r\n") throw invalid('options.newline must be "\\n" or "\\r\\n"');
  if (typeof indent !== "string" || !/^[ \t]*$/.test(indent)) throw invalid("options.indent must contain only spaces and tabs");
  const mode = options.invalidCharacters ?? "error";
  if (mode !== "error" && mode !== "drop") throw invalid('options.invalidCharacters must be "error" or "drop"');
  if (!isObject(model)) throw invalid("the model must be an object");
  const w = new Writer(nl, indent, mode === "drop");

  const tipo = enumValue(TIPO_SET, model.tipo, "tipo");
  const errore = enumValue(ERRORE_SET, model.errore ?? "nessuno", "errore");
  const int = model.intestazione as unknown;
  const dati = model.dati as unknown;
  if (!isObject(int)) throw invalid("intestazione must be an object");
  if (!isObject(dati)) throw invalid("dati must be an object");

  w.line(0, '<?xml version="1.0" encoding="UTF-8"?>');
  w.line(0, `<postacert tipo="${tipo}" errore="${errore}">`);
  w.line(1, "<intestazione>");
  w.leaf(2, "mittente", w.required(int.mittente, "intestazione.mittente"));
  const dest = int.destinatari;
  if (!Array.isArray(dest) || dest.length === 0) throw invalid("intestazione.destinatari must hold at least one recipient");
  for (let i = 0; i < dest.length; i++) {
    const d: unknown = dest[i];
    if (!isObject(d)) throw invalid(`intestazione.destinatari[${i}] must be an object`);
    const dt = enumValue(DEST_SET, d.tipo ?? "certificato", `intestazione.destinatari[${i}].tipo`);
    w.leaf(2, "destinatari", w.required(d.address, `intestazione.destinatari[${i}].address`), ` tipo="${dt}"`);
  }
  w.leaf(2, "risposte", w.value(int.risposte, "intestazione.risposte"));
  if (int.oggetto !== undefined) w.leaf(2, "oggetto", w.value(int.oggetto, "intestazione.oggetto"));
  w.line(1, "</intestazione>");

  w.line(1, "<dati>");
  w.leaf(2, "gestore-emittente", w.required(dati.gestoreEmittente, "dati.gestoreEmittente"));
  const data = dati.data;
  if (!isObject(data) || datiDataToEpochMs(data as unknown as DatiData, true) === undefined) {
    throw invalid("dati.data must be { zona: ±hhmm, giorno: dd/mm/yyyy, ora: hh:mm:ss } with a real date and time");
  }
  // Validated shapes contain no character that needs escaping.
  w.line(2, `<data zona="${data.zona as string}">`);
  w.leaf(3, "giorno", data.giorno as string);
  w.leaf(3, "ora", data.ora as string);
  w.line(2, "</data>");
  w.leaf(2, "identificativo", w.required(dati.identificativo, "dati.identificativo"));
  if (dati.msgid !== undefined) w.leaf(2, "msgid", w.value(dati.msgid, "dati.msgid"));
  if (dati.ricevuta !== undefined) w.line(2, `<ricevuta tipo="${enumValue(RICEVUTA_SET, dati.ricevuta, "dati.ricevuta")}" />`);
  if (dati.consegna !== undefined) w.leaf(2, "consegna", w.value(dati.consegna, "dati.consegna"));
  const ric = dati.ricezione ?? [];
  if (!Array.isArray(ric)) throw invalid("dati.ricezione must be an array of strings");
  for (let i = 0; i < ric.length; i++) w.leaf(2, "ricezione", w.value(ric[i], `dati.ricezione[${i}]`));
  if (dati.erroreEsteso !== undefined) w.leaf(2, "errore-esteso", w.value(dati.erroreEsteso, "dati.erroreEsteso"));
  w.line(1, "</dati>");
  w.line(0, "</postacert>");
  return w.out;
}

/**
 * {@link buildDaticert} encoded as UTF-8, ready to be a MIME part body.
 *
 * @throws PecError `ERR_INVALID_ARGUMENT` as {@link buildDaticert}
 * @example
 * ```ts
 * declare const model: Daticert; // as for buildDaticert
 * const part: MimeNode = { headers: [["Content-Type", "application/xml; name=daticert.xml"]], body: buildDaticertBytes(model), transferEncoding: "base64" };
 * ```
 */
export function buildDaticertBytes(model: Daticert, options: DaticertBuildOptions = {}): Uint8Array {
  return utf8Bytes(buildDaticert(model, options));
}
