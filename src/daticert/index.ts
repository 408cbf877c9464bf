/**
 * `daticert.xml`, the certification data of every PEC receipt and envelope: the typed
 * model of its DTD, a tolerant parser, a DTD-valid builder and date helpers.
 *
 * Entry point of the `postacert/daticert` subpath. Knows nothing of MIME: give it the
 * part's decoded bytes.
 *
 * @example
 * ```ts
 * import { parseDaticert, daticertDate } from "postacert/daticert";
 * const d = parseDaticert(bytes);
 * console.log(d.tipo, d.errore, d.dati.identificativo, daticertDate(d.dati.data));
 * ```
 *
 * @module postacert/daticert
 */
export {
  DATICERT_FILENAME,
  DATICERT_TIPO,
  DATICERT_ERRORE,
  DESTINATARI_TIPO,
  RICEVUTA_TIPO,
  isDaticertErrore,
  isDaticertTipo,
} from "./model.js";
export type {
  Daticert,
  DaticertTipo,
  DaticertErrore,
  DaticertErroreValue,
  DestinatarioTipo,
  RicevutaTipo,
  Destinatario,
  Intestazione,
  Dati,
  DatiData,
  ParsedDaticert,
  DaticertWarning,
  DaticertWarningCode,
} from "./model.js";
export { parseDaticert, DATICERT_DEFAULT_MAX_SIZE, DATICERT_DEFAULT_MAX_DEPTH } from "./parse.js";
export type { DaticertParseOptions } from "./parse.js";
export { buildDaticert, buildDaticertBytes } from "./build.js";
export type { DaticertBuildOptions } from "./build.js";
export { daticertDate, toDatiData } from "./date.js";
